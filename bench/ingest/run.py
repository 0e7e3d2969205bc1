"""Ingest benchmark: how many signed webhooks per second the bot commits, and how fast it answers.

Starts `self-healing-bot serve` on loopback in distributed mode (PostgreSQL + Redis, two web
processes) and in embedded mode (SQLite, one process with its in-process queue), drives each for
DURATION seconds with `wrk` (installed from Debian's packages if missing) posting a real
workflow_run payload with a valid signature and a unique X-GitHub-Delivery per request, then
counts the rows. Prints one line:

    rps=… p50_ms=… p99_ms=… errors=… lost=… embedded_rps=… embedded_p50_ms=… …

`lost` = deliveries answered 2xx that are not in the database. The bar (Probot, keeping
nothing): about 4,700 deliveries/s, p99 29 ms.

    python bench/ingest/run.py [--duration 10] [--connections 64]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from self_healing_bot.web.signature import sign  # noqa: E402
from tests.servers import POSTGRES_ADMIN_URL, REDIS_URL  # noqa: E402
from tests.webhooks import workflow_run_body  # noqa: E402

SECRET = "bench-secret"

WRK_SCRIPT = """
local counter = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init(args)
  prefix = args[1] .. "-" .. tid .. "-"
  body = io.open(args[2], "rb"):read("*a")
  signature = args[3]
end
function request()
  counter = counter + 1
  return wrk.format("POST", "/webhooks/github", {
    ["Content-Type"] = "application/json",
    ["X-GitHub-Event"] = "workflow_run",
    ["X-GitHub-Delivery"] = prefix .. counter,
    ["X-Hub-Signature-256"] = signature,
  }, body)
end
function done(summary, latency, requests)
  io.write(string.format(
    "RESULT {\\"requests\\": %d, \\"duration_us\\": %d, \\"status_errors\\": %d, " ..
    "\\"socket_errors\\": %d, \\"p50_us\\": %d, \\"p99_us\\": %d}\\n",
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is not installed and apt-get could not install it")
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _admin(statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(
        POSTGRES_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
    )
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _count(url: str, prefix: str) -> int:
    from sqlalchemy import func, select

    from self_healing_bot.storage.database import Database
    from self_healing_bot.storage.models import WebhookDelivery

    database = Database.connect(url)
    try:
        async with database.session() as session:
            count = await session.scalar(
                select(func.count()).where(WebhookDelivery.delivery_id.like(f"{prefix}-%"))
            )
    finally:
        await database.close()
    return int(count or 0)


def wait_healthy(port: int, server: subprocess.Popen[bytes], within: float = 60) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not become healthy")


def run_mode(
    name: str, env: dict[str, str], workers: int, args: argparse.Namespace, scratch: Path
) -> dict[str, float]:
    port = free_port()
    prefix = f"bench-{name}-{secrets.token_hex(4)}"
    body_file = scratch / "body.json"
    body = workflow_run_body()
    body_file.write_bytes(body)
    script = scratch / "ingest.lua"
    script.write_text(WRK_SCRIPT)
    server_env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SHBOT_WEBHOOK_SECRET": SECRET,
        "SHBOT_LOG_LEVEL": "WARNING",
        **env,
    }
    command = [str(Path(sys.executable).parent / "self-healing-bot"), "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    with (scratch / f"{name}.log").open("wb") as log:
        server = subprocess.Popen(command, env=server_env, stdout=log, stderr=log, cwd=scratch)
        try:
            wait_healthy(port, server)
            output = subprocess.run(
                [
                    ensure_wrk(),
                    "-t2",
                    f"-c{args.connections}",
                    f"-d{args.duration}s",
                    "--latency",
                    "-s",
                    str(script),
                    f"http://127.0.0.1:{port}",
                    "--",
                    prefix,
                    str(body_file),
                    sign(body, SECRET),
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                print(f"warning: {name} server ignored SIGTERM for 30 s; killed", file=sys.stderr)
                server.kill()
                server.wait()
    summary = next(line for line in output.splitlines() if line.startswith("RESULT "))
    result = json.loads(summary.removeprefix("RESULT "))
    answered_2xx = result["requests"] - result["status_errors"]
    stored = asyncio.run(_count(env["SHBOT_DATABASE_URL"], prefix))
    return {
        "rps": round(result["requests"] / (result["duration_us"] / 1e6)),
        "p50_ms": round(result["p50_us"] / 1000, 2),
        "p99_ms": round(result["p99_us"] / 1000, 2),
        "errors": result["status_errors"] + result["socket_errors"],
        "lost": max(0, answered_2xx - stored),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per mode (max 20)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--web-workers", type=int, default=2)
    args = parser.parse_args()
    args.duration = min(args.duration, 20)
    database = f"shbot_bench_{secrets.token_hex(4)}"
    postgres_url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}"
    queue = f"bench_{secrets.token_hex(4)}"
    asyncio.run(_admin(f'CREATE DATABASE "{database}"'))
    try:
        from self_healing_bot.storage.migrate import upgrade

        upgrade(postgres_url)
        with tempfile.TemporaryDirectory() as scratch_dir:
            scratch = Path(scratch_dir)
            distributed = run_mode(
                "distributed",
                {
                    "SHBOT_DATABASE_URL": postgres_url,
                    "SHBOT_BROKER_URL": REDIS_URL,
                    "SHBOT_QUEUE_NAME": queue,
                },
                args.web_workers,
                args,
                scratch,
            )
            embedded = run_mode(
                "embedded",
                {"SHBOT_DATABASE_URL": f"sqlite+aiosqlite:///{scratch / 'bench.db'}"},
                1,
                args,
                scratch,
            )
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        client.delete(f"shbot:{queue}", f"shbot:{queue}.msgs", f"shbot:{queue}.DQ")
    line = " ".join(f"{key}={value}" for key, value in distributed.items())
    line += " " + " ".join(f"embedded_{key}={value}" for key, value in embedded.items())
    print(line)


if __name__ == "__main__":
    main()
