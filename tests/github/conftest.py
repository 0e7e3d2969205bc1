from __future__ import annotations

import asyncio

import pytest
import stamina


class FakeClock:
    """Time that moves only when someone sleeps, so a 60 s wait costs nothing."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        target = self.now + seconds
        await asyncio.sleep(0)
        self.now = max(self.now, target)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(autouse=True)
def no_retry_waits() -> None:
    # Backoff waits are skipped; the client's own attempt bounds still apply (cap=True).
    stamina.set_testing(True, attempts=100, cap=True)
    yield
    stamina.set_testing(False)
