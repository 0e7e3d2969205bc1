"""Pacing of content-creating requests under GitHub's secondary rate limits.

GitHub allows about 80 content-creating requests (POST, PATCH, PUT, DELETE) per minute and
500 per hour; going over earns a secondary-limit block. Each installation gets a moving
window: a request reserves the earliest slot that keeps every window under its limit, then
sleeps until it. Slots are handed out in order, so writes also go out serially in time.

`WritePacer` counts in this process. The limits are GitHub's per installation, however many
processes write for it, so a distributed deployment paces with `SharedWritePacer`: the same
windows counted in Redis (through the `limits` library's moving window), shared by `serve`
and every worker. When Redis cannot be reached it paces in this process for a while, logs
it, and then tries Redis again: pacing must not stop the writes it paces.

    pacer = write_pacer(settings.counter_redis_url, clock, scope=settings.github_api_url)
    await pacer.wait_turn("installation:41")
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import structlog
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.errors import StorageError

from self_healing_bot.github.clock import Clock
from self_healing_bot.shared_counters import redis_moving_window

log = structlog.stdlib.get_logger(__name__)


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


class Pacer(Protocol):
    async def wait_turn(self, key: str) -> None:
        """Return when a content-creating request for `key` may be sent."""


class WritePacer:
    """Reserves and waits for content-creation slots, per key (installation), in this process."""

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


# A moving window stores each hit: shorter sleeps than this would only spin against Redis.
_MIN_WAIT_SECONDS = 0.05
_NAMESPACE = "github-writes"


class SharedWritePacer:
    """The windows of `WritePacer`, counted in Redis for every process of the deployment;
    `scope` (the API's base URL) keeps two GitHub hosts' installations apart."""

    def __init__(
        self,
        redis_url: str,
        clock: Clock,
        windows: Sequence[Window] = GITHUB_CONTENT_WINDOWS,
        outage_seconds: float = 30.0,
        scope: str = "",
    ) -> None:
        self._limiter = redis_moving_window(redis_url)
        self._items: tuple[RateLimitItem, ...] = tuple(
            RateLimitItemPerSecond(window.limit, int(window.seconds)) for window in windows
        )
        self._clock = clock
        self._local = WritePacer(clock, windows)
        self._outage_seconds = outage_seconds
        self._redis_down_until = 0.0
        self._scope = scope

    async def wait_turn(self, key: str) -> None:
        """Return when a content-creating request for `key` may be sent."""
        while time.monotonic() >= self._redis_down_until:
            try:
                wait = await self._take(key)
            except StorageError as error:
                self._redis_down_until = time.monotonic() + self._outage_seconds
                log.warning(
                    "write pacing cannot reach Redis; pacing in this process",
                    error=repr(error.storage_error),
                    retry_in_seconds=self._outage_seconds,
                )
                break
            if wait <= 0:
                return
            await self._clock.sleep(wait)
        await self._local.wait_turn(key)

    async def _take(self, key: str) -> float:
        """0 when one request was counted in every window, else how long to wait first. A
        shorter window's hit is kept when a longer one is full: pacing errs on the slow side."""
        for item in self._items:
            if not await self._limiter.hit(item, _NAMESPACE, self._scope, key):
                stats = await self._limiter.get_window_stats(item, _NAMESPACE, self._scope, key)
                return max(stats.reset_time - time.time(), _MIN_WAIT_SECONDS)
        return 0.0


def write_pacer(redis_url: str | None, clock: Clock, scope: str = "") -> Pacer:
    """The pacer for this process: shared through Redis when there is one, else its own."""
    return SharedWritePacer(redis_url, clock, scope=scope) if redis_url else WritePacer(clock)
