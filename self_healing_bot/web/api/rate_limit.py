"""Requests per API key in a moving window, through the `limits` library.

Distributed mode counts in Redis (`SHBOT_RATE_LIMIT_URL`, else a redis:// `SHBOT_BROKER_URL`) so
every web process shares one budget per key; embedded mode counts in memory. When Redis cannot
be reached the limiter counts in memory for `outage_seconds`, logs it, and then tries Redis again:
an outage of the counter must not take the API down with it.

    limiter = RateLimiter.from_settings(settings)
    decision = await limiter.hit("3f9a0c1b2d4e")
    if not decision.allowed: ...  # 429 with Retry-After: decision.retry_after
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import structlog
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from self_healing_bot.settings import Settings
from self_healing_bot.shared_counters import redis_moving_window

log = structlog.stdlib.get_logger(__name__)


class RateLimitConfigError(ValueError):
    """SHBOT_API_RATE_LIMIT is not in `limits` notation."""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # whole seconds until a request would be allowed again; 0 when allowed


def parse_limit(text: str) -> RateLimitItem:
    try:
        return parse(text)
    except ValueError as error:
        raise RateLimitConfigError(
            f"SHBOT_API_RATE_LIMIT={text!r} is not a rate like '600/minute' or '10/second'"
        ) from error


class RateLimiter:
    """One moving-window limiter per key, in Redis when configured, in memory as the fallback."""

    def __init__(
        self, limit: RateLimitItem, redis: str | None = None, outage_seconds: float = 30.0
    ) -> None:
        self.limit = limit
        self.outage_seconds = outage_seconds
        self._memory = MovingWindowRateLimiter(MemoryStorage())
        self._shared: MovingWindowRateLimiter | None = None
        if redis is not None:
            self._shared = redis_moving_window(redis)
        self._shared_down_until = 0.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter:
        return cls(parse_limit(settings.api_rate_limit), settings.counter_redis_url)

    @property
    def backend(self) -> str:
        """`redis` or `memory`: where the next hit will be counted."""
        if self._shared is not None and time.monotonic() >= self._shared_down_until:
            return "redis"
        return "memory"

    async def hit(self, key: str) -> Decision:
        """Count one request for `key` and say whether it may proceed."""
        if self.backend == "redis":
            assert self._shared is not None
            try:
                return await self._decide(self._shared, key)
            except StorageError as error:
                self._shared_down_until = time.monotonic() + self.outage_seconds
                log.warning(
                    "rate_limit_redis_unreachable",
                    error=repr(error.storage_error),
                    fallback="memory",
                    retry_in_seconds=self.outage_seconds,
                )
        return await self._decide(self._memory, key)

    async def _decide(self, limiter: MovingWindowRateLimiter, key: str) -> Decision:
        allowed = await limiter.hit(self.limit, "api-key", key)
        stats = await limiter.get_window_stats(self.limit, "api-key", key)
        retry_after = 0 if allowed else max(1, math.ceil(stats.reset_time - time.time()))
        return Decision(allowed, self.limit.amount, stats.remaining, retry_after)
