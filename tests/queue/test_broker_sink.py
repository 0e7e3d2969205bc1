"""The outbox's sends to Redis go out as one pipeline per batch, and arrive as the messages the
broker itself would have sent: one per delivery id, for the processing actor."""

from __future__ import annotations

import asyncio
import json
import uuid
from urllib.parse import urlsplit

import pytest
import redis
from dramatiq.brokers.redis import RedisBroker

from self_healing_bot.queue.broker import ACTOR_NAME, BrokerSink, build_broker, declare_actor
from self_healing_bot.settings import Settings
from tests.servers import REDIS_URL, require_server


def test_a_batch_arrives_as_one_message_per_delivery(monkeypatch: pytest.MonkeyPatch) -> None:
    parts = urlsplit(REDIS_URL)
    require_server("Redis", parts.hostname or "127.0.0.1", parts.port or 6379)
    queue = f"test_{uuid.uuid4().hex[:12]}"
    settings = Settings(_env_file=None, broker_url=REDIS_URL, queue_name=queue)  # type: ignore[call-arg]
    broker = build_broker(settings)
    # As in a fresh process: dramatiq has not yet asked Redis for its Lua stack size.
    monkeypatch.setattr(RedisBroker, "_max_unpack_size_val", None)
    client = redis.Redis.from_url(REDIS_URL)
    try:
        sink = BrokerSink(declare_actor(broker, settings))
        ids = [f"delivery-{index}" for index in range(120)]
        asyncio.run(sink.send(ids[:100]))
        asyncio.run(sink.send(ids[100:]))
        queued = [raw.decode() for raw in client.lrange(f"shbot:{queue}", 0, -1)]
        messages = [json.loads(raw) for raw in client.hmget(f"shbot:{queue}.msgs", queued)]
        assert [message["args"] for message in messages] == [[delivery_id] for delivery_id in ids]
        assert {message["actor_name"] for message in messages} == {ACTOR_NAME}
    finally:
        client.delete(f"shbot:{queue}", f"shbot:{queue}.msgs")
        broker.close()
