"""Wall time and sleeping behind one small interface, so tests of waits need not wait."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    """What pacing, token expiry and the circuit breaker need from time."""

    def time(self) -> float:
        """Seconds since the epoch (GitHub's reset headers and token expiry use epoch time)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` (a fake clock advances instead)."""
        ...


class SystemClock:
    """The real clock."""

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
