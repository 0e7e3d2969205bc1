"""`self-healing-bot demo [--once] [--json]`: the bot and the GitHub sandbox, playing incidents.

Each incident ends in the state the bot's database records for it, or `timeout`; the summary
table (or with `--json` the document of INTERFACES.md) follows. Without `--once` the dashboard
keeps running until Ctrl-C; with it, the exit status is 0 only when every incident reached its
expected end state.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from self_healing_bot.command_errors import fail

if TYPE_CHECKING:
    from rich.console import Console

    from self_healing_bot.demo.stage import DemoStage


def demo(
    once: Annotated[bool, typer.Option(help="Exit after the summary.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON on stdout.")
    ] = False,
    incident_timeout: Annotated[
        float, typer.Option(help="Seconds an incident may take before it ends as `timeout`.", min=1)
    ] = 60.0,
) -> None:
    """Play realistic incidents against a sample ML repository and show how the bot heals them."""
    from rich.console import Console

    from self_healing_bot.demo.scenario import load_demo_scenario
    from self_healing_bot.demo.stage import DemoError
    from self_healing_bot.sandbox.ci_rules import ScenarioError

    # Progress goes to stderr under --json, so stdout holds the document alone.
    console = Console(stderr=as_json)
    try:
        scenario = load_demo_scenario()
        document = asyncio.run(_run(scenario, console, once, as_json, incident_timeout))
    except (DemoError, ScenarioError) as error:
        fail(error, 1)
    except KeyboardInterrupt:
        console.print("stopped")
        return
    if once and not document["all_expected"]:
        raise typer.Exit(1)


async def _run(
    scenario: Any, console: Console, once: bool, as_json: bool, incident_timeout: float
) -> dict[str, Any]:
    from self_healing_bot.demo.outcome import summary
    from self_healing_bot.demo.stage import DemoStage

    async with DemoStage(scenario) as stage:
        console.print(f"GitHub sandbox at {stage.sandbox_url}, the bot at {stage.dashboard_url}")
        rows = []
        for number, incident in enumerate(scenario.incidents, start=1):
            console.rule(f"[bold]{number}/{len(scenario.incidents)} {incident.name}")

            def progress(line: str) -> None:
                console.print(f"  {line}")

            with console.status(f"waiting for the bot to handle: {incident.name}"):
                row = await stage.play(incident, incident_timeout, progress)
            mark = "[green]✓" if row["end_state"] == row["expected_end_state"] else "[red]✗"
            console.print(f"  {mark} {row['end_state']}[/] in {row['seconds']} s")
            rows.append(row)
        document = summary(rows)
        if as_json:
            typer.echo(json.dumps(document, indent=2))
        else:
            console.print(_table(document))
        _refuse_invalid_requests(stage)
        if not once:
            await _serve_dashboard(stage, console)
        return document


def _refuse_invalid_requests(stage: DemoStage) -> None:
    """A request the sandbox refused by GitHub's API description is a bug GitHub would refuse
    too, even when every incident ended well: the demo fails and names each one."""
    from self_healing_bot.demo.stage import DemoError

    refused = [
        f"{rejection.method} {rejection.path} → {rejection.status}: {rejection.reason}"
        for rejection in stage.sandbox.rejections
    ]
    if refused:
        raise DemoError("the bot sent requests GitHub would refuse:\n" + "\n".join(refused))


def _table(document: dict[str, Any]) -> Any:
    from rich.table import Table

    table = Table(title="Incidents")
    for column in ("incident", "diagnosis", "action", "PR / issue", "end state", "seconds"):
        # Fold, never truncate: a cut URL (`http://127.…`) cannot be followed.
        table.add_column(column, overflow="fold")
    for row in document["incidents"]:
        expected = row["end_state"] == row["expected_end_state"]
        state = (
            row["end_state"]
            if expected
            else f"{row['end_state']} (expected {row['expected_end_state']})"
        )
        table.add_row(
            row["name"],
            row["diagnosis"],
            row["action"],
            row["url"],
            f"[{'green' if expected else 'red'}]{state}",
            f"{row['seconds']:.1f}",
        )
    return table


async def _serve_dashboard(stage: DemoStage, console: Console) -> None:
    """Print the dashboard's address and a viewer key to log in with, then wait for Ctrl-C."""
    key = await stage.create_viewer_key()
    console.print(f"\nDashboard: {stage.dashboard_url}  (log in with the viewer key {key})")
    console.print("Press Ctrl-C to stop.")
    await asyncio.Event().wait()


def register(app: typer.Typer) -> None:
    app.command()(demo)
