from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import inspect

from self_healing_bot.storage.database import Database
from self_healing_bot.storage.migrate import downgrade, upgrade
from tests.conftest import throwaway_postgres


def _tables(url: str) -> set[str]:
    async def read() -> set[str]:
        database = Database.connect(url)
        async with database.engine.connect() as connection:
            names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        await database.close()
        return set(names)

    return asyncio.run(read())


@contextmanager
def _empty_database(engine: str, tmp_path: Path) -> Iterator[str]:
    if engine == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    else:
        with throwaway_postgres() as url:
            yield url


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_migrations_upgrade_from_empty_and_downgrade_to_empty(engine: str, tmp_path: Path) -> None:
    with _empty_database(engine, tmp_path) as url:
        upgrade(url)
        assert {"webhook_deliveries", "executions", "audit_events"} <= _tables(url)
        downgrade(url, "base")
        assert _tables(url) <= {"alembic_version"}
        upgrade(url)  # and back up again from empty
        assert "webhook_deliveries" in _tables(url)
