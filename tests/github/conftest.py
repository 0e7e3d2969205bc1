from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import stamina

if TYPE_CHECKING:
    from tests.github.world import World


class FakeClock:
    """Time that moves only when every task waits in `sleep`, so a 60 s wait costs nothing.

    Sleepers wake in order of their wake-up time; before moving time on, the clock lets the
    woken tasks run, so what they do happens at the time they woke.
    """

    def __init__(self, start: float | None = None) -> None:
        # Near real time: the sandbox's rate-limit reset headers are real epoch seconds.
        self.now = float(int(time.time())) if start is None else start
        self.slept: list[float] = []
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._advancer: asyncio.Task[None] | None = None

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._order), future))
        if self._advancer is None or self._advancer.done():
            self._advancer = asyncio.create_task(self._advance())
        await future

    async def _advance(self) -> None:
        while self._sleepers:
            for _ in range(50):  # let every runnable task reach its next sleep or finish
                await asyncio.sleep(0)
            wake_at = self._sleepers[0][0]
            self.now = max(self.now, wake_at)
            while self._sleepers and self._sleepers[0][0] <= wake_at:
                heapq.heappop(self._sleepers)[2].set_result(None)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def world(tmp_path: Path, clock: FakeClock) -> AsyncIterator[World]:
    from tests.github.world import make_world  # world.py imports FakeClock from here

    world = make_world(tmp_path, clock)
    yield world
    await world.close()


@pytest.fixture(autouse=True)
def no_retry_waits() -> Iterator[None]:
    # Backoff waits are skipped; the client's own attempt bounds still apply (cap=True).
    stamina.set_testing(True, attempts=100, cap=True)
    yield
    stamina.set_testing(False)
