"""The worker serves Prometheus metrics on SHBOT_WORKER_METRICS_PORT, or says why it cannot."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.servers import REDIS_URL, require_server

COMMAND = Path(sys.executable).parent / "self-healing-bot"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(tmp_path: Path, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "SHBOT_BROKER_URL": REDIS_URL,
        "SHBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "SHBOT_QUEUE_NAME": f"metrics_{port}",
        "SHBOT_WORKER_METRICS_PORT": str(port),
    }


def scrape_until(port: int, expected: str, worker: subprocess.Popen[bytes], log: Path) -> str:
    """/metrics once it shows `expected`; fails if the worker exits or 30 s pass."""
    deadline = time.monotonic() + 30
    while True:
        assert worker.poll() is None, log.read_text()
        assert time.monotonic() < deadline, f"no {expected!r} within 30 s\n" + log.read_text()
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)
        except httpx.TransportError:
            response = None
        if response is not None and response.status_code == 200 and expected in response.text:
            return response.text
        time.sleep(0.1)


def test_a_worker_serves_its_metrics(tmp_path: Path) -> None:
    require_server("Redis", "127.0.0.1", 6379)
    port = free_port()
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        worker = subprocess.Popen(
            [str(COMMAND), "worker", "--concurrency", "1"],
            env=environment(tmp_path, port),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        # The server starts before the pipeline's modules are imported: wait for them.
        text = scrape_until(port, "# TYPE shbot_executions", worker, log)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=20)
    assert "# TYPE shbot_stage_duration_seconds histogram" in text


def test_a_taken_port_stops_the_worker_with_the_setting_to_change(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        finished = subprocess.run(
            [str(COMMAND), "worker"],
            env=environment(tmp_path, port),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert finished.returncode == 1
    assert f"cannot serve /metrics on port {port}" in finished.stderr
    assert "SHBOT_WORKER_METRICS_PORT" in finished.stderr
