"""Pacing of content-creating requests under GitHub's secondary rate limits.

GitHub allows about 80 content-creating requests (POST, PATCH, PUT, DELETE) per minute and
500 per hour; going over earns a secondary-limit block. Each installation gets a moving
window: a request reserves the earliest slot that keeps every window under its limit, then
sleeps until it. Slots are handed out in order, so writes also go out serially in time.
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from self_healing_bot.github.clock import Clock


@dataclass(frozen=True)
class Window:
    limit: int
    seconds: float


GITHUB_CONTENT_WINDOWS = (Window(80, 60.0), Window(500, 3600.0))


def next_slot(history: Sequence[float], now: float, windows: Sequence[Window]) -> float:
    """The earliest time >= `now` and >= the last slot at which one more request fits.

    `history` holds earlier slots in ascending order. A request at `t` counts in a window
    when it lies in `(t - seconds, t]`.

    >>> next_slot([0.0, 1.0], now=2.0, windows=[Window(2, 60.0)])
    60.0
    """
    slot = max(now, history[-1]) if history else now
    moved = True
    while moved:
        moved = False
        for window in windows:
            first_inside = bisect.bisect_right(history, slot - window.seconds)
            inside = len(history) - first_inside
            if inside >= window.limit:
                # The slot must pass the oldest request whose leaving makes room.
                slot = history[len(history) - window.limit] + window.seconds
                moved = True
    return slot


class WritePacer:
    """Reserves and waits for content-creation slots, per key (installation)."""

    def __init__(self, clock: Clock, windows: Sequence[Window] = GITHUB_CONTENT_WINDOWS) -> None:
        self._clock = clock
        self._windows = tuple(windows)
        self._horizon = max(window.seconds for window in self._windows)
        self._history: dict[str, list[float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def wait_turn(self, key: str) -> None:
        """Return when a content-creating request for `key` may be sent."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            now = self._clock.time()
            history = self._history.setdefault(key, [])
            del history[: bisect.bisect_right(history, now - self._horizon)]
            slot = next_slot(history, now, self._windows)
            history.append(slot)
        if slot > now:
            await self._clock.sleep(slot - now)
