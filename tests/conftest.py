"""Shared fixtures: throwaway PostgreSQL databases, migrated databases on both engines, and
signed webhook requests."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

from self_healing_bot.storage.database import Database
from self_healing_bot.storage.migrate import upgrade
from tests.mlflow_server import mlflow_url  # one MLflow server for the whole session
from tests.servers import POSTGRES_ADMIN_URL, require_server

__all__ = ["mlflow_url"]


def _admin(statement: str) -> None:
    import asyncpg

    async def run() -> None:
        dsn = POSTGRES_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run())


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A fresh, empty PostgreSQL database (`shbot_test_<random>`), dropped afterwards."""
    parts = urlsplit(POSTGRES_ADMIN_URL)
    require_server("PostgreSQL", parts.hostname or "127.0.0.1", parts.port or 5432)
    name = f"shbot_test_{secrets.token_hex(6)}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One migrated PostgreSQL database for the whole session."""
    with throwaway_postgres() as url:
        upgrade(url)
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database on each engine the bot supports."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'shbot.db'}"
        upgrade(url)
        return url
    url: str = request.getfixturevalue("postgres_url")

    async def empty() -> None:
        database = Database.connect(url)
        async with database.session() as session:
            # Every table the migrations made, so a test never sees another test's rows.
            tables = (
                await session.execute(
                    text(
                        "SELECT quote_ident(tablename) FROM pg_tables "
                        "WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                    )
                )
            ).scalars()
            await session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY"))
        await database.close()

    asyncio.run(empty())
    return url


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = Database.connect(database_url)
    yield database
    await database.close()
