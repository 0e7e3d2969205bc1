"""Per-key limits: 429 with Retry-After, shared through Redis, and memory when Redis is down."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from self_healing_bot.storage.api_keys import Role
from self_healing_bot.web.api.rate_limit import (
    RateLimitConfigError,
    RateLimiter,
    parse_limit,
)
from tests.api.conftest import api_settings, seed
from tests.servers import REDIS_URL, require_server
from tests.webhooks import running_app


async def test_past_the_budget_a_key_gets_429_with_retry_after(tmp_path: Path) -> None:
    settings = api_settings(f"sqlite+aiosqlite:///{tmp_path / 'rl.db'}", api_rate_limit="3/minute")
    async with running_app(settings) as client:
        world = await seed(client)
        viewer, admin = world.as_role(Role.VIEWER), world.as_role(Role.ADMIN)
        statuses = [
            (await client.get("/api/v1/deliveries", headers=viewer)).status_code for _ in range(4)
        ]
        refused = await client.get("/api/v1/deliveries", headers=viewer)
        other_key = await client.get("/api/v1/deliveries", headers=admin)
    assert statuses == [200, 200, 200, 429]
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["error"]["code"] == "rate_limited"
    assert other_key.status_code == 200  # the budget is per key


def _redis_host_port() -> tuple[str, int]:
    host_port = REDIS_URL.split("://", 1)[1].split("/", 1)[0]
    host, _, port = host_port.partition(":")
    return host, int(port or 6379)


async def test_processes_share_one_budget_through_the_real_redis() -> None:
    require_server("Redis", *_redis_host_port())
    key = f"test-{secrets.token_hex(8)}"
    first, second = (RateLimiter(parse_limit("3/minute"), REDIS_URL) for _ in range(2))
    decisions = [await limiter.hit(key) for limiter in (first, second, first, second)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert first.backend == "redis" and decisions[-1].retry_after >= 1


async def test_a_redis_outage_falls_back_to_memory_and_still_limits() -> None:
    limiter = RateLimiter(parse_limit("2/minute"), "redis://127.0.0.1:1/0", outage_seconds=60)
    decisions = [await limiter.hit("key") for _ in range(3)]
    assert [d.allowed for d in decisions] == [True, True, False]
    assert limiter.backend == "memory"


@pytest.mark.parametrize(
    ("rate_limit_url", "broker_url", "expected"),
    [
        ("", "", None),
        ("", "amqp://guest:guest@127.0.0.1:5672/", None),
        ("", "redis://broker:6379/0", "redis://broker:6379/0"),
        ("redis://limits:6379/2", "amqp://guest:guest@127.0.0.1:5672/", "redis://limits:6379/2"),
    ],
)
def test_where_the_counters_live(
    rate_limit_url: str, broker_url: str, expected: str | None
) -> None:
    settings = api_settings(
        "sqlite+aiosqlite://", rate_limit_url=rate_limit_url, broker_url=broker_url
    )
    assert settings.counter_redis_url == expected


def test_a_bad_rate_says_what_is_expected() -> None:
    with pytest.raises(RateLimitConfigError, match="not a rate like '600/minute'"):
        parse_limit("lots")
