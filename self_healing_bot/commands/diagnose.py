"""`self-healing-bot diagnose PATH [--json]`: the root cause of a failed job's log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from self_healing_bot.command_errors import fail


def diagnose(
    path: Annotated[Path, typer.Argument(help="A log file or the zip of a run's logs.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the diagnosis contract as JSON.")
    ] = False,
) -> None:
    """Name the root cause of a failed CI job or training run from its log."""
    from self_healing_bot.diagnosis import DiagnosisInputError, diagnose_file

    try:
        diagnosis = diagnose_file(path)
    except DiagnosisInputError as error:
        fail(error, 2)
    if as_json:
        typer.echo(json.dumps(diagnosis.as_json(), ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    console.print(
        Text.assemble(
            (diagnosis.category, "bold red" if diagnosis.category != "unknown" else "bold"),
            f"  confidence {diagnosis.confidence:.2f}  ",
            (diagnosis.signature, "dim"),
        )
    )
    console.print(Text(diagnosis.summary))
    if diagnosis.params:
        params = Table(show_header=False, box=None)
        for key, value in diagnosis.params.items():
            params.add_row(Text(key, style="cyan"), Text(str(value)))
        console.print(params)
    if diagnosis.evidence:
        evidence = Table("line", "evidence", box=None)
        for item in diagnosis.evidence:
            evidence.add_row(str(item.line), Text(item.text))
        console.print(evidence)


def register(app: typer.Typer) -> None:
    """Add the `diagnose` command to the CLI."""
    app.command("diagnose")(diagnose)
