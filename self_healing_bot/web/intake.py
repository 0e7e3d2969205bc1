"""Group commit for the ingest path: many concurrent webhooks, one transaction.

Each request hands its row to `IntakeWriter.submit` and waits; one writer task takes everything
queued so far, inserts it in one transaction (ON CONFLICT (delivery_id) DO NOTHING), and only
after the commit answers each request with whether its row was new or the stored status of the
earlier copy. One writer also suits SQLite, which allows one writer at a time.

    writer = IntakeWriter(database, on_commit=outbox.notify)
    stored = await writer.submit(new_delivery)   # returns after the commit
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from self_healing_bot.storage import deliveries
from self_healing_bot.storage.database import Database
from self_healing_bot.storage.deliveries import NewDelivery
from self_healing_bot.storage.models import DeliveryStatus

log = structlog.stdlib.get_logger(__name__)

MAX_BATCH = 1000


@dataclass(frozen=True)
class Stored:
    """The outcome of one submission: `is_new`, and the status now stored for that id."""

    is_new: bool
    status: str


class IntakeWriter:
    def __init__(
        self,
        database: Database,
        on_commit: Callable[[list[str]], None],
        max_batch: int = MAX_BATCH,
        writers: int | None = None,
    ) -> None:
        self.database = database
        self.on_commit = on_commit
        self.max_batch = max_batch
        # SQLite takes one writer at a time; PostgreSQL commits several batches in parallel,
        # so the next batch is inserting while the previous one waits for its WAL flush.
        self.writers = writers or (1 if database.dialect == "sqlite" else 4)
        self._pending: asyncio.Queue[tuple[NewDelivery, asyncio.Future[Stored]]] = asyncio.Queue()

    async def submit(self, row: NewDelivery) -> Stored:
        """Store `row` (unless its delivery id is already stored); return after the commit."""
        future: asyncio.Future[Stored] = asyncio.get_running_loop().create_future()
        self._pending.put_nowait((row, future))
        return await future

    async def run(self) -> None:
        """Commit batches until cancelled; a failed batch fails its requests, not the writer."""
        async with asyncio.TaskGroup() as group:
            for _ in range(self.writers):
                group.create_task(self._write_batches())

    async def _write_batches(self) -> None:
        while True:
            batch = [await self._pending.get()]
            while len(batch) < self.max_batch and not self._pending.empty():
                batch.append(self._pending.get_nowait())
            try:
                outcomes = await self._commit([row for row, _ in batch])
            except Exception as error:
                log.exception("could not store a batch of deliveries", size=len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for (_row, future), stored in zip(batch, outcomes, strict=True):
                if not future.done():
                    future.set_result(stored)
            fresh = [
                row.delivery_id
                for (row, _), stored in zip(batch, outcomes, strict=True)
                if stored.is_new and stored.status == DeliveryStatus.RECEIVED
            ]
            if fresh:
                self.on_commit(fresh)

    async def _commit(self, rows: list[NewDelivery]) -> list[Stored]:
        first_of: dict[str, NewDelivery] = {}
        for row in rows:
            first_of.setdefault(row.delivery_id, row)
        async with self.database.session() as session:
            new_ids = await deliveries.insert_new(session, list(first_of.values()))
            known = [delivery_id for delivery_id in first_of if delivery_id not in new_ids]
            stored_status = await deliveries.statuses(session, known) if known else {}
        outcomes = []
        for row in rows:
            if row.delivery_id in new_ids and first_of[row.delivery_id] is row:
                outcomes.append(Stored(True, row.status.value))
            elif row.delivery_id in new_ids:  # a repeat within the same batch
                outcomes.append(Stored(False, first_of[row.delivery_id].status.value))
            else:
                outcomes.append(Stored(False, stored_status[row.delivery_id]))
        return outcomes
