"""The in-process queue of embedded mode: asyncio workers inside `serve`, no broker.

It runs the same `process_delivery` as the broker's actor, with the same backoff rules.
Durability is still the database's: on start-up the outbox sweep finds whatever a previous
process left received, queued or processing.
"""

from __future__ import annotations

import asyncio

import structlog

from self_healing_bot.queue.tasks import Runtime, process_delivery, retry_delay_seconds

log = structlog.stdlib.get_logger(__name__)


class EmbeddedQueue:
    def __init__(self, runtime: Runtime, concurrency: int = 4) -> None:
        self.runtime = runtime
        self.concurrency = concurrency
        self._queue: asyncio.Queue[tuple[str, int]] = asyncio.Queue()
        self._timers: set[asyncio.TimerHandle] = set()

    async def send(self, delivery_ids: list[str]) -> None:
        for delivery_id in delivery_ids:
            self._queue.put_nowait((delivery_id, 1))

    def _later(self, delay: float, delivery_id: str, attempt: int) -> None:
        def put() -> None:
            self._timers.discard(handle)
            self._queue.put_nowait((delivery_id, attempt))

        handle = asyncio.get_running_loop().call_later(delay, put)
        self._timers.add(handle)

    async def run(self) -> None:
        """Run `concurrency` workers until cancelled."""
        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(self.concurrency):
                    group.create_task(self._work())
        finally:
            for handle in self._timers:
                handle.cancel()

    async def _work(self) -> None:
        while True:
            delivery_id, attempt = await self._queue.get()
            try:
                result = await process_delivery(self.runtime, delivery_id)
            except Exception:
                # The database itself failed; the delivery is still stored and the sweep
                # will send it again.
                log.exception("embedded worker could not process", delivery_id=delivery_id)
                continue
            finally:
                self._queue.task_done()
            if result.kind == "retry":
                self._later(
                    retry_delay_seconds(attempt, self.runtime.settings), delivery_id, attempt + 1
                )
            elif result.kind in ("deferred", "busy"):
                self._later(result.delay_seconds, delivery_id, attempt)
