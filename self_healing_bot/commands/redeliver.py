"""`self-healing-bot redeliver [--since DURATION]`: recover webhooks missed while we were down."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING

import typer

from self_healing_bot.command_errors import fail

if TYPE_CHECKING:
    from self_healing_bot.github.redelivery import RedeliveryReport
    from self_healing_bot.settings import Settings

_DURATION = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    """`90s`, `10m`, `1h`, `3d` → timedelta.

    >>> parse_duration("1h")
    datetime.timedelta(seconds=3600)
    """
    match = _DURATION.match(text.strip().lower())
    if match is None:
        raise ValueError(f"cannot read duration {text!r}: use a number and s, m, h or d, e.g. 1h")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def redeliver(
    since: str = typer.Option(
        "1h", "--since", help="How far back to look: 30m, 1h, 3d (GitHub keeps 3 days)."
    ),
) -> None:
    """Ask GitHub to redeliver webhook deliveries that failed or never reached us."""
    import asyncio

    try:
        lookback = parse_duration(since)
    except ValueError as error:
        fail(error, 2)
    from self_healing_bot.github.errors import GitHubConfigurationError, GitHubError
    from self_healing_bot.logging_setup import configure_logging
    from self_healing_bot.settings import load_settings

    settings = load_settings()
    # Logs go to stderr, so stdout holds only the summary a script reads.
    configure_logging(settings.log_level, settings.log_json)
    try:
        report = asyncio.run(_recover(lookback, settings))
    except GitHubConfigurationError as error:
        fail(error, 2)
    except GitHubError as error:
        fail(error, 1)
    typer.echo(f"listed {report.listed} deliveries, requested {len(report.requested)} redeliveries")
    for guid, reason in report.failed:
        typer.echo(f"failed to request {guid}: {reason}", err=True)
    if report.failed:
        raise typer.Exit(1)


async def _recover(lookback: timedelta, settings: Settings) -> RedeliveryReport:
    from datetime import UTC, datetime

    from self_healing_bot.github.connection import GitHub
    from self_healing_bot.github.redelivery import (
        MemoryLedger,
        recover_missed_deliveries,
        storage_known_guids,
    )
    from self_healing_bot.storage.database import Database

    github = GitHub.from_settings(settings)
    database = Database.connect(settings.database_url)
    try:
        now = datetime.now(UTC)
        return await recover_missed_deliveries(
            github.app,
            storage_known_guids(database),
            MemoryLedger(),
            since=now - lookback,
            now=now,
        )
    finally:
        await github.aclose()
        await database.close()


def register(app: typer.Typer) -> None:
    app.command("redeliver")(redeliver)
