"""`self-healing-bot drift REFERENCE CURRENT [--json] [--html FILE]`: a data-drift report.

Exit status 0 whether or not drift is found (drift is a finding, not a failure), 2 when an input
file is missing, empty, corrupt or unreadable, or the options are invalid.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from self_healing_bot.drift.report import DriftReport

# Tables this large get a progress bar on stderr (stdout stays clean for --json).
PROGRESS_ROWS = 100_000


def drift(
    reference: Annotated[Path, typer.Argument(help="Reference table: CSV, Parquet or JSON Lines.")],
    current: Annotated[Path, typer.Argument(help="Current table to compare with the reference.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write a self-contained HTML report here.")
    ] = None,
    drift_share: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of drifted columns for dataset drift.")
    ] = 0.5,
    require_effect_size: Annotated[
        bool, typer.Option(help="A column drifts only if its effect size is also large enough.")
    ] = False,
    sample_limit: Annotated[
        int, typer.Option(min=100, help="Rows per side for p-value tests (seeded sample).")
    ] = 200_000,
    seed: Annotated[int, typer.Option(help="Seed of the sample.")] = 0,
) -> None:
    """Compare CURRENT with REFERENCE column by column (Evidently's tests and thresholds)."""
    from rich.console import Console
    from rich.progress import Progress

    from self_healing_bot.drift.compare import DriftConfigError, DriftOptions, compare_tables
    from self_healing_bot.drift.html_report import render_html
    from self_healing_bot.drift.tables import TableReadError, open_table

    errors = Console(stderr=True)
    options = DriftOptions(
        drift_share=drift_share,
        require_effect_size=require_effect_size,
        sample_limit=sample_limit,
        seed=seed,
    )
    try:
        reference_table = open_table(reference)
        current_table = open_table(current)
        if max(reference_table.rows, current_table.rows) >= PROGRESS_ROWS:
            with Progress(console=errors, transient=True) as progress:
                task = progress.add_task("Comparing columns", total=len(reference_table.schema))
                report = compare_tables(
                    reference_table,
                    current_table,
                    options,
                    on_column=lambda _name: progress.advance(task),
                )
        else:
            report = compare_tables(reference_table, current_table, options)
    except (TableReadError, DriftConfigError) as error:
        errors.print(f"[red]error:[/red] {error}", highlight=False)
        raise typer.Exit(2) from error
    if html is not None:
        html.write_text(render_html(report), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2, allow_nan=False))
        return
    _print_summary(report)


def _print_summary(report: DriftReport) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Data drift")
    for heading in ("column", "status", "test", "statistic", "p-value", "threshold", "drifted"):
        table.add_column(heading)
    for column in report.ordered_columns():
        result = column.result
        table.add_row(
            column.name,
            column.status.value,
            result.test.value if result else "-",
            f"{result.statistic:.4g}" if result else "-",
            f"{result.p_value:.4g}" if result and result.p_value is not None else "-",
            f"{result.threshold:.4g}" if result else "-",
            "[red]yes[/red]" if column.drifted else "no",
        )
    console = Console()
    console.print(table)
    verdict = "DRIFT" if report.dataset_drifted else "no drift"
    console.print(
        f"{verdict}: {len(report.drifted_columns)} of {len(report.tested_columns)} tested columns "
        f"drifted (share {report.drift_share:.2f})"
    )


def register(app: typer.Typer) -> None:
    """Add the `drift` command to the CLI."""
    app.command("drift")(drift)
