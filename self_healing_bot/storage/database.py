"""The async engine and session factory for SQLite (embedded) and PostgreSQL (distributed).

database = Database.connect("sqlite+aiosqlite:///./shbot.db")
async with database.session() as session:
    ...
await database.close()
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run while the single writer commits; NORMAL is durable across process
    # crashes in WAL mode, and the busy timeout covers the worker's and the web's writers meeting.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@dataclass(frozen=True)
class Database:
    """One engine per process and event loop; sessions do not expire objects on commit."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    @classmethod
    def connect(cls, url: str, *, pool_size: int = 10) -> Database:
        options: dict[str, Any] = {"pool_pre_ping": True}
        if not url.startswith("sqlite"):
            options.update(pool_size=pool_size, max_overflow=pool_size)
        engine = create_async_engine(url, **options)
        if engine.dialect.name == "sqlite":
            event.listen(engine.sync_engine, "connect", _tune_sqlite)
        return cls(engine, async_sessionmaker(engine, expire_on_commit=False))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction, committed on success and rolled back on error."""
        async with self.sessions.begin() as session:
            yield session

    async def ping(self) -> None:
        """Raise when the database cannot answer a trivial query (used by `/readyz`)."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()


def dialect_insert(session: AsyncSession) -> Callable[..., postgresql.Insert | sqlite.Insert]:
    """The session's dialect's INSERT, whose `on_conflict_do_*` both engines understand.

    statement = dialect_insert(session)(Table).on_conflict_do_nothing(...)
    """
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
