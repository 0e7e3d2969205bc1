"""The outbox: moves committed deliveries to the queue, and recovers the ones that got lost.

The web process never calls the broker on the request path. After the group-commit writer has
committed a batch it hands the new ids to `Outbox.notify`; `Outbox.run` sends them and marks
them queued. Every `sweep_interval_seconds` it also re-sends rows still `received` (broker was
down), `queued` for longer than a lease (message lost), or `processing` past their lease (worker
died). All of this is safe to repeat: processing is idempotent on the delivery id.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Protocol

import structlog

from self_healing_bot import metrics
from self_healing_bot.settings import Settings
from self_healing_bot.storage import deliveries
from self_healing_bot.storage.database import Database
from self_healing_bot.storage.models import utc_now

log = structlog.stdlib.get_logger(__name__)

BATCH = 500
# After the first fresh id, wait this long for more: each send costs a broker round trip and a
# database transaction whatever its size, and at full intake (thousands a second) sending every
# few milliseconds spent a sixth of a web process's CPU on them (bench/ingest). Workers take
# seconds per delivery, so 20 ms more in the queue is invisible.
LINGER_SECONDS = 0.02


class Sink(Protocol):
    """Where deliveries go to be processed: a broker, or the in-process queue."""

    async def send(self, delivery_ids: list[str]) -> None: ...


class Outbox:
    def __init__(self, database: Database, sink: Sink, settings: Settings) -> None:
        self.database = database
        self.sink = sink
        self.settings = settings
        self._fresh: asyncio.Queue[str] = asyncio.Queue()

    def notify(self, delivery_ids: list[str]) -> None:
        """Committed, new deliveries to send now (called by the intake writer)."""
        for delivery_id in delivery_ids:
            self._fresh.put_nowait(delivery_id)

    async def run(self) -> None:
        """Send fresh deliveries as they come, and sweep on a timer, until cancelled."""
        loop = asyncio.get_running_loop()
        next_sweep = loop.time()
        while True:
            if loop.time() >= next_sweep:
                await self._guarded(self.sweep())
                next_sweep = loop.time() + self.settings.sweep_interval_seconds
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
            # that lands as the item arrives, and shutdown then hangs on this loop.
            try:
                async with asyncio.timeout(max(0.0, next_sweep - loop.time())):
                    first = await self._fresh.get()
            except TimeoutError:
                continue
            await asyncio.sleep(LINGER_SECONDS)
            batch = [first]
            while len(batch) < BATCH and not self._fresh.empty():
                batch.append(self._fresh.get_nowait())
            await self._guarded(self._dispatch(batch))

    async def _dispatch(self, delivery_ids: list[str]) -> None:
        await self.sink.send(delivery_ids)
        async with self.database.session() as session:
            await deliveries.mark_queued(session, delivery_ids)

    async def sweep(self) -> int:
        """Re-send every stale delivery once; returns how many were re-sent."""
        now = utc_now()
        async with self.database.session() as session:
            stale = await deliveries.find_stale(
                session,
                received_before=now - timedelta(seconds=self.settings.sweep_interval_seconds),
                queued_before=now - timedelta(seconds=self.settings.lease_seconds),
                limit=BATCH,
            )
            figures = await deliveries.queue_figures(session)
        metrics.QUEUE_DEPTH.set(figures.depth)
        metrics.DEAD_LETTERS.set(figures.dead)
        metrics.OLDEST_QUEUED_AGE.set(figures.oldest_waiting_seconds)
        if not stale:
            return 0
        await self.sink.send([row.delivery_id for row in stale])
        async with self.database.session() as session:
            for row in stale:
                await deliveries.requeue(session, row)
        log.info("outbox re-sent stale deliveries", count=len(stale))
        return len(stale)

    async def _guarded(self, work: asyncio.Future[object] | object) -> None:
        # A broker or database outage must not end the loop: the rows stay in the database
        # and the next sweep sends them. The error is logged, not swallowed silently.
        try:
            await work  # type: ignore[misc]
        except Exception:
            log.exception("outbox could not hand deliveries to the queue; will retry on sweep")
