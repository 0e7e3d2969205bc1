"""The group-commit writer on both engines: every request learns its own outcome after the
commit, and a database restart between batches costs no delivery."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, text

from self_healing_bot.storage.database import Database
from self_healing_bot.storage.deliveries import NewDelivery
from self_healing_bot.storage.models import DeliveryStatus, WebhookDelivery
from self_healing_bot.web.intake import IntakeWriter, Stored


def _row(delivery_id: str, status: DeliveryStatus = DeliveryStatus.RECEIVED) -> NewDelivery:
    return NewDelivery(delivery_id, "push", "opened", "octo/repo", 7, b'{"n": 1}', status)


class Writer:
    def __init__(self, database: Database, writers: int) -> None:
        self.committed: list[str] = []
        self.writer = IntakeWriter(database, on_commit=self.committed.extend, writers=writers)


@pytest.fixture(params=[1, 4], ids=["one writer", "four writers"])
async def running(database: Database, request: pytest.FixtureRequest) -> AsyncIterator[Writer]:
    writer = Writer(database, request.param)
    task = asyncio.create_task(writer.writer.run())
    yield writer
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def _stored(database: Database) -> dict[str, str]:
    async with database.session() as session:
        rows = await session.execute(select(WebhookDelivery.delivery_id, WebhookDelivery.status))
    return {delivery_id: status for delivery_id, status in rows}


async def test_each_concurrent_request_learns_its_own_outcome(
    database: Database, running: Writer
) -> None:
    assert await running.writer.submit(_row("earlier")) == Stored(True, "received")
    rows = [_row(f"new-{index}") for index in range(40)]
    rows += [_row("earlier"), _row("new-3"), _row("broken", DeliveryStatus.FAILED)]
    outcomes = await asyncio.gather(*(running.writer.submit(row) for row in rows))
    assert outcomes[:40] == [Stored(True, "received")] * 40
    assert outcomes[40:] == [
        Stored(False, "received"),  # stored by an earlier batch
        Stored(False, "received"),  # a repeat within this batch
        Stored(True, "failed"),
    ]
    stored = await _stored(database)
    assert set(stored) == {"earlier", "broken", *(f"new-{index}" for index in range(40))}
    assert stored["broken"] == "failed"
    # Only received deliveries go to the queue, each once.
    assert sorted(running.committed) == sorted(["earlier", *(f"new-{i}" for i in range(40))])


async def test_a_database_restart_between_batches_loses_no_delivery(postgres_url: str) -> None:
    database = Database.connect(postgres_url)
    writer = IntakeWriter(database, on_commit=lambda ids: None, writers=1)
    task = asyncio.create_task(writer.run())
    before, after = f"before-{uuid.uuid4()}", f"after-{uuid.uuid4()}"
    try:
        assert await writer.submit(_row(before)) == Stored(True, "received")
        async with database.engine.connect() as admin:
            killed = await admin.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        assert killed  # the writer's kept connection is gone
        assert await writer.submit(_row(after)) == Stored(True, "received")
        assert {before, after} <= set(await _stored(database))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await database.close()
