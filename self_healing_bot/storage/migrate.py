"""Alembic, driven from code: `self-healing-bot migrate`, embedded start-up and the tests.

    upgrade("sqlite+aiosqlite:///./shbot.db")   # to every head (migrations branch from 0001)
    downgrade(url, "base")                      # to empty

Both are synchronous (Alembic runs its own event loop for the async drivers); from async code
call them through `asyncio.to_thread`.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)
