"""`self-healing-bot migrate`: bring the database schema up to date."""

from __future__ import annotations

import typer


def migrate() -> None:
    """Apply every pending migration to SHBOT_DATABASE_URL."""
    from self_healing_bot.settings import load_settings
    from self_healing_bot.storage.migrate import upgrade

    url = load_settings().database_url
    upgrade(url)
    typer.echo(f"database schema is up to date ({url.split('://', 1)[0]})")


def register(app: typer.Typer) -> None:
    app.command()(migrate)
