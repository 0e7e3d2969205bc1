"""The Redis moving-window counters shared by every process (`Settings.counter_redis_url`):
the API's requests per key and GitHub's write windows per installation.

Short socket timeouts and wrapped errors (`limits.errors.StorageError`) let each user fall
back to counting in its own process while Redis is unreachable.

    limiter = redis_moving_window("redis://127.0.0.1:6379/0")
    allowed = await limiter.hit(item, "namespace", key)
"""

from __future__ import annotations

from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string


def redis_moving_window(redis_url: str) -> MovingWindowRateLimiter:
    storage = storage_from_string(
        "async+" + redis_url,
        implementation="redispy",
        wrap_exceptions=True,
        socket_connect_timeout=1,
        socket_timeout=1,
    )
    assert isinstance(storage, Storage), "an async+ URI gives an asyncio storage"
    return MovingWindowRateLimiter(storage)
