"""Dramatiq brokers for distributed mode, chosen by `SHBOT_BROKER_URL`, and the task actor.

    broker = build_broker(settings)             # RedisBroker or RabbitmqBroker
    actor = declare_actor(broker, settings)     # the one actor: process_delivery(delivery_id)
    actor.send("72d3162e-...")                  # synchronous: never on the request path

Retries (exponential backoff with jitter, bounded) are Dramatiq's; whether an attempt was the
last one is decided by the delivery's attempt counter in the database (`queue/tasks.py`).
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import dramatiq
import structlog
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import AsyncIO, Retries, default_middleware
from redis.client import Pipeline

from self_healing_bot.queue.tasks import Runtime, process_delivery
from self_healing_bot.settings import Settings
from self_healing_bot.storage.database import Database

log = structlog.stdlib.get_logger(__name__)

ACTOR_NAME = "process_delivery"


class UnsupportedBrokerError(ValueError):
    """The broker URL names a scheme we have no broker for."""


class DeliveryRetryError(Exception):
    """Raised inside the actor so Dramatiq's Retries middleware backs off and runs it again."""


def build_broker(settings: Settings) -> dramatiq.Broker:
    """A RedisBroker (redis://, rediss://) or RabbitmqBroker (amqp://, amqps://), set as global."""
    url = settings.broker_url
    middleware = [factory() for factory in default_middleware if factory is not Retries]
    middleware += [
        Retries(
            max_retries=settings.max_delivery_attempts,
            min_backoff=settings.retry_min_backoff_ms,
            max_backoff=settings.retry_max_backoff_ms,
        ),
        AsyncIO(),
    ]
    broker: dramatiq.Broker
    if url.startswith(("redis://", "rediss://")):
        broker = RedisBroker(  # type: ignore[no-untyped-call]
            url=url,
            middleware=middleware,
            namespace="shbot",
            heartbeat_timeout=settings.redis_heartbeat_timeout_ms,
            maintenance_chance=settings.redis_maintenance_chance,
        )
    elif url.startswith(("amqp://", "amqps://")):
        broker = RabbitmqBroker(url=url, middleware=middleware)
    else:
        raise UnsupportedBrokerError(
            f"SHBOT_BROKER_URL={url!r} is not supported; use redis://host:6379/0, "
            "amqp://user:password@host:5672/, or leave it empty for the in-process queue"
        )
    dramatiq.set_broker(broker)
    return broker


class _WorkerRuntime:
    """The database engine of a worker process, created on the AsyncIO middleware's loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._runtime: Runtime | None = None
        self._lock = threading.Lock()

    def get(self) -> Runtime:
        with self._lock:
            if self._runtime is None:
                database = Database.connect(self.settings.database_url)
                self._runtime = Runtime(self.settings, database)
            return self._runtime


def declare_actor(broker: dramatiq.Broker, settings: Settings) -> dramatiq.Actor[Any, Any]:
    """Declare the processing actor on `broker` (sending needs it too, not only workers)."""
    runtime = _WorkerRuntime(settings)

    async def process(delivery_id: str) -> None:
        result = await process_delivery(runtime.get(), delivery_id)
        if result.kind == "retry":
            raise DeliveryRetryError(result.error)
        if result.kind in ("deferred", "busy"):
            delay_ms = int(result.delay_seconds * 1000)
            await asyncio.to_thread(actor.send_with_options, args=(delivery_id,), delay=delay_ms)

    declare = dramatiq.actor(
        actor_name=ACTOR_NAME,
        queue_name=settings.queue_name,
        broker=broker,
        time_limit=int(settings.lease_seconds * 1000),
    )
    actor: dramatiq.Actor[Any, Any] = declare(process)
    return actor


class BrokerSink:
    """The outbox's way into a broker: sends each id as one message, off the event loop.

    On Redis a batch goes out as one pipeline (one round trip instead of one per message,
    which cost a quarter of a web process's CPU at full intake): a second RedisBroker whose
    client is a pipeline of the first one's connection enqueues exactly as the first would.
    """

    def __init__(self, actor: dramatiq.Actor[Any, Any]) -> None:
        self.actor = actor
        self._batches: tuple[RedisBroker, RedisBroker, Pipeline] | None = None
        self._lock = threading.Lock()  # a pipeline is not thread-safe
        broker = actor.broker
        if isinstance(broker, RedisBroker):
            pipeline = broker.client.pipeline(transaction=False)
            batch_broker = RedisBroker(  # type: ignore[no-untyped-call]
                client=pipeline,
                middleware=broker.middleware,
                namespace=broker.namespace,
                heartbeat_timeout=broker.heartbeat_timeout,
                dead_message_ttl=broker.dead_message_ttl,
                maintenance_chance=broker.maintenance_chance,
            )
            self._batches = broker, batch_broker, pipeline

    async def send(self, delivery_ids: list[str]) -> None:
        await asyncio.to_thread(self._send_all, delivery_ids)

    def _send_all(self, delivery_ids: list[str]) -> None:
        if self._batches is None:
            for delivery_id in delivery_ids:
                self.actor.send(delivery_id)
            return
        broker, batch_broker, pipeline = self._batches
        with self._lock:
            # Dramatiq asks Redis for its Lua stack size on first use and caches the answer for
            # every RedisBroker; asked through the pipeline it would cache the pipeline itself.
            broker._max_unpack_size()  # type: ignore[no-untyped-call]
            try:
                for delivery_id in delivery_ids:
                    batch_broker.enqueue(self.actor.message(delivery_id))
                pipeline.execute()
            finally:
                pipeline.reset()  # nothing half-queued is left for the next batch


def probe(broker: dramatiq.Broker) -> None:
    """Raise when the broker cannot be reached (for `/readyz`)."""
    if isinstance(broker, RedisBroker):
        broker.client.ping()
    elif isinstance(broker, RabbitmqBroker) and not broker.connection.is_open:
        raise ConnectionError("RabbitMQ connection is closed")
