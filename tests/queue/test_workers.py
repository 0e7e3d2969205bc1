"""Distributed mode against the real brokers: worker subprocesses, SIGKILL, broker outages."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis

from self_healing_bot.settings import Settings
from self_healing_bot.storage.database import Database
from tests.servers import AMQP_URL, REDIS_URL, require_server
from tests.webhooks import (
    executions,
    headers,
    running_app,
    stored,
    wait_for_status,
    workflow_run_body,
)

ROOT = Path(__file__).resolve().parents[2]


def _require(url: str, name: str) -> None:
    parts = urlsplit(url)
    require_server(name, parts.hostname or "127.0.0.1", parts.port or 0)


@pytest.fixture
def distributed(postgres_url: str, tmp_path: Path) -> dict[str, str]:
    """Environment for a distributed worker: PostgreSQL, an isolated queue, short leases."""
    return {
        "SHBOT_DATABASE_URL": postgres_url,
        "SHBOT_QUEUE_NAME": f"test_{uuid.uuid4().hex[:12]}",
        "SHBOT_WEBHOOK_SECRET": "it's-a-secret-to-everybody",
        "SHBOT_LEASE_SECONDS": "3",
        "SHBOT_REDIS_HEARTBEAT_TIMEOUT_MS": "2000",
        "SHBOT_REDIS_MAINTENANCE_CHANCE": "1000000",
        "SHBOT_RETRY_MIN_BACKOFF_MS": "50",
        "SHBOT_PLUGINS": "tests.queue.slow_detector",
        "SHBOT_LOG_JSON": "true",
        # No metrics port: a worker of another test run holding the default one would make
        # this worker exit at start, and the test wait its whole time for nothing.
        "SHBOT_WORKER_METRICS_PORT": "0",
        "SLOW_DETECTOR_MARKER": str(tmp_path / "started"),
    }


@contextmanager
def worker(env: dict[str, str], log: Path, **extra: str) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "self-healing-bot"), "worker", "--concurrency", "2"],
            cwd=ROOT,
            # The plugin module lives in tests/, so the repository root must be importable.
            env={**os.environ, "PYTHONPATH": str(ROOT), **env, **extra},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _settings(env: dict[str, str], broker_url: str) -> Settings:
    values = {key.removeprefix("SHBOT_").lower(): value for key, value in env.items()}
    values = {key: value for key, value in values.items() if key in Settings.model_fields}
    # The slow detector is for the worker subprocesses only, not this test process.
    values = {**values, "broker_url": broker_url, "plugins": ""}
    return Settings(_env_file=None, **values)  # type: ignore[arg-type, call-arg]


async def _send_one(settings: Settings) -> str:
    body = workflow_run_body()
    request_headers = headers("workflow_run", body)
    async with running_app(settings) as client:
        response = await client.post("/webhooks/github", content=body, headers=request_headers)
        assert response.status_code == 202
        delivery_id = request_headers["X-GitHub-Delivery"]
        database: Database = client.app.state.database  # type: ignore[attr-defined]
        await wait_for_status(database, delivery_id, {"queued", "processing", "done"})
    return delivery_id


def _started(marker: Path) -> list[str]:
    """`pid delivery_id` pairs the slow detector wrote, flattened."""
    return marker.read_text().split() if marker.exists() else []


async def _wait_for_marker(marker: Path, within: float = 30.0) -> None:
    for _ in range(int(within / 0.05)):
        if _started(marker):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the worker never started the slow stage")


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.slow
async def test_a_worker_killed_mid_task_leaves_the_delivery_to_another_worker(
    distributed: dict[str, str], tmp_path: Path
) -> None:
    _require(REDIS_URL, "Redis")
    env = {**distributed, "SHBOT_BROKER_URL": REDIS_URL}
    marker = Path(env["SLOW_DETECTOR_MARKER"])
    with worker(env, tmp_path / "first.log", SLOW_DETECTOR_SECONDS="120") as first:
        delivery_id = await _send_one(_settings(env, REDIS_URL))
        await _wait_for_marker(marker)
        first.send_signal(signal.SIGKILL)
        first.wait()
    database = Database.connect(env["SHBOT_DATABASE_URL"])
    try:
        assert (await stored(database))[delivery_id].status == "processing"
        with worker(env, tmp_path / "second.log", SLOW_DETECTOR_SECONDS="0.2"):
            row = await wait_for_status(database, delivery_id, {"done"}, within=60)
        runs = await executions(database, delivery_id)
    finally:
        await database.close()
    started = _started(marker)
    assert len(set(started[0::2])) == 2, "two different worker processes ran the stage"
    finished = [run for run in runs if run.end_state is not None]
    assert [run.end_state for run in finished] == ["no_detection"]
    assert row.attempts == 2


@pytest.mark.rabbitmq
@pytest.mark.postgres
async def test_a_rabbitmq_worker_processes_a_delivery(
    distributed: dict[str, str], tmp_path: Path
) -> None:
    _require(AMQP_URL, "RabbitMQ")
    env = {**distributed, "SHBOT_BROKER_URL": AMQP_URL}
    with worker(env, tmp_path / "worker.log"):
        delivery_id = await _send_one(_settings(env, AMQP_URL))
        database = Database.connect(env["SHBOT_DATABASE_URL"])
        try:
            row = await wait_for_status(database, delivery_id, {"done"}, within=60)
            runs = await executions(database, delivery_id)
        finally:
            await database.close()
    assert row.attempts == 1 and [run.end_state for run in runs] == ["no_detection"]


@pytest.mark.redis
@pytest.mark.postgres
async def test_a_delivery_received_while_the_broker_is_down_is_processed_when_it_is_back(
    distributed: dict[str, str], tmp_path: Path
) -> None:
    _require(REDIS_URL, "Redis")
    closed_port = "redis://127.0.0.1:1/0"
    down = _settings(distributed, closed_port)
    body = workflow_run_body()
    request_headers = headers("workflow_run", body)
    delivery_id = request_headers["X-GitHub-Delivery"]
    async with running_app(down) as client:
        response = await client.post("/webhooks/github", content=body, headers=request_headers)
        assert response.status_code == 202
        sink = client.app.state.sink  # type: ignore[attr-defined]
        with pytest.raises(redis.exceptions.ConnectionError):
            await sink.send([delivery_id])  # the broker is down: nothing can be sent
        database: Database = client.app.state.database  # type: ignore[attr-defined]
        assert (await stored(database))[delivery_id].status == "received"
    env = {**distributed, "SHBOT_BROKER_URL": REDIS_URL, "SHBOT_SWEEP_INTERVAL_SECONDS": "0.2"}
    with worker(env, tmp_path / "worker.log"):
        async with running_app(_settings(env, REDIS_URL)) as client:
            database = client.app.state.database  # type: ignore[attr-defined]
            row = await wait_for_status(database, delivery_id, {"done"}, within=60)
            runs = await executions(database, delivery_id)
    assert row.attempts == 1 and [run.end_state for run in runs] == ["no_detection"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def _forwarder(port: int, target: str) -> AsyncIterator[None]:
    """While open, `127.0.0.1:port` pipes every connection to `target`: a broker coming back."""
    parts = urlsplit(target)
    writers: list[asyncio.StreamWriter] = []

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    async def connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(parts.hostname, parts.port)
        writers.extend((writer, upstream_writer))
        await asyncio.gather(
            pipe(reader, upstream_writer), pipe(upstream_reader, writer), return_exceptions=True
        )

    server = await asyncio.start_server(connect, "127.0.0.1", port)
    try:
        yield
    finally:
        server.close()
        for writer in writers:
            writer.close()
        await server.wait_closed()


@pytest.mark.redis
@pytest.mark.postgres
async def test_the_server_that_took_a_delivery_while_the_broker_was_down_sends_it_when_it_is_back(
    distributed: dict[str, str], tmp_path: Path
) -> None:
    _require(REDIS_URL, "Redis")
    port = _free_port()  # nothing listens here until the forwarder opens: the broker is down
    broker_url = urlsplit(REDIS_URL)._replace(netloc=f"127.0.0.1:{port}").geturl()
    env = {**distributed, "SHBOT_BROKER_URL": REDIS_URL, "SHBOT_SWEEP_INTERVAL_SECONDS": "0.2"}
    body = workflow_run_body()
    request_headers = headers("workflow_run", body)
    delivery_id = request_headers["X-GitHub-Delivery"]
    with worker(env, tmp_path / "worker.log"):
        async with running_app(_settings(env, broker_url)) as client:
            response = await client.post("/webhooks/github", content=body, headers=request_headers)
            assert response.status_code == 202
            database: Database = client.app.state.database  # type: ignore[attr-defined]
            await asyncio.sleep(1.0)  # the outbox tries, and sweeps a few times, in vain
            assert (await stored(database))[delivery_id].status == "received"
            async with _forwarder(port, REDIS_URL):
                row = await wait_for_status(database, delivery_id, {"done"}, within=60)
            runs = await executions(database, delivery_id)
    assert row.attempts == 1 and [run.end_state for run in runs] == ["no_detection"]
