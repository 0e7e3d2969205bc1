"""The sandbox on a loopback port in the test's event loop, and real bot processes.

The sandbox sends signed webhooks to the bot; the bot calls the sandbox with a personal token.
On exit the stack fails the test if the sandbox refused one of the bot's requests (GitHub
would have too) or sent a response that breaks GitHub's schema.
Tests seed a repository, push a commit whose CI fails, and wait for what a user would see.
Embedded mode (`stack`): one `serve` process that also processes deliveries. Distributed mode
(`distributed_stack`): `serve` only stores and enqueues on the real Redis; the test starts
(and kills) `worker` processes itself with `stack.start_worker()`.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import signal
import socket
import sqlite3
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from self_healing_bot.sandbox.ci_rules import JobSpec
from self_healing_bot.sandbox.github_sandbox import GitHubSandbox
from self_healing_bot.sandbox.scenario import apply_scenario
from self_healing_bot.sandbox.state import CheckRun, Comment, Issue, PullRequest, Repository
from self_healing_bot.storage.migrate import upgrade
from tests.github.world import APP_ID, PUBLIC_PEM
from tests.github_sandbox_plugin import assert_github_would_accept
from tests.servers import REDIS_URL, require_server

TOKEN = "ghp_e2e_bot_token"
SECRET = "e2e-s3cret"
INSTALLATION = 10
BOT = "healer-bot"
ROOT = Path(__file__).resolve().parents[2]
COMMAND = Path(sys.executable).parent / "self-healing-bot"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_until_serving(port: int, log: Path) -> None:
    """Return once `serve` on `port` answers /healthz; fail with its log after 60 s.

    60 s, not 15: on a loaded 2-core machine `serve`'s imports alone took over 15 s.
    """
    async with httpx.AsyncClient() as client:
        for _ in range(600):
            try:
                if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    output = await asyncio.to_thread(log.read_text, errors="replace")
    pytest.fail(f"serve did not start:\n{output}")


@dataclass
class Stack:
    sandbox: GitHubSandbox
    database: Path
    request_log: Path
    bot_log: Path
    environment: dict[str, str] = field(default_factory=dict)
    workers: list[asyncio.subprocess.Process] = field(default_factory=list)

    def rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of one of the bot's tables (empty before the migration made it)."""
        if not self.database.exists():
            return []
        with sqlite3.connect(self.database, timeout=10) as connection:
            connection.row_factory = sqlite3.Row
            try:
                rows = connection.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
            except sqlite3.OperationalError:
                return []
        return [dict(row) for row in rows]

    def repairs(self) -> list[dict[str, Any]]:
        return self.rows("repairs")

    def requests(self) -> list[dict[str, Any]]:
        """Every request the bot made to the sandbox, as logged (method, path, body)."""
        if not self.request_log.exists():
            return []
        lines = self.request_log.read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    async def wait_for(
        self, condition: Callable[[], bool], what: str, seconds: float = 40.0
    ) -> None:
        """Poll until `condition` holds; on timeout fail with the bot's log tail."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not condition():
            if loop.time() > deadline:
                tail = self.bot_log.read_text(errors="replace")[-6000:]
                pytest.fail(f"timed out waiting for {what}; repairs={self.repairs()}\n{tail}")
            await asyncio.sleep(0.2)

    async def settle(self) -> None:
        """Wait until CI and webhooks are done and the bot processed every delivery, twice in
        a row with nothing new (the bot's own actions start CI runs that send webhooks)."""
        seen = -1
        while True:
            await self.sandbox.drain()
            # One per GUID: a redelivery is another attempt of the same delivery.
            sent = len({delivery.guid for delivery in self.sandbox.sender.deliveries})
            await self.wait_for(
                functools.partial(self._processed, sent), "every delivery to be processed"
            )
            if sent == seen:
                return
            seen = sent
            await asyncio.sleep(0.5)

    def _processed(self, sent: int) -> bool:
        rows = self.rows("webhook_deliveries")
        return len(rows) >= sent and all(
            row["status"] in ("done", "failed", "dead") for row in rows
        )

    async def start_worker(self, name: str) -> asyncio.subprocess.Process:
        """A `self-healing-bot worker` on this stack's broker (distributed mode only)."""
        log = self.bot_log.with_name(f"{name}.log")
        with log.open("wb") as output:
            process = await asyncio.create_subprocess_exec(
                str(COMMAND),
                "worker",
                "--concurrency",
                "2",
                cwd=ROOT,
                env=self.environment,
                stdout=output,
                stderr=asyncio.subprocess.STDOUT,
            )
        self.workers.append(process)
        return process


@dataclass(frozen=True)
class Seeded:
    """A seeded repository and what a user sees in it."""

    sandbox: GitHubSandbox
    name: str

    @property
    def repository(self) -> Repository:
        return self.sandbox.repository(self.name)

    def issues(self) -> list[Issue]:
        """Issues only (pull requests are issues too on GitHub)."""
        return [issue for issue in self.repository.issues.values() if not issue.is_pull_request]

    def pulls(self) -> list[PullRequest]:
        return list(self.repository.pulls.values())

    def comments(self, number: int | None = None) -> list[Comment]:
        comments = self.repository.comments.values()
        return [c for c in comments if number is None or c.issue_number == number]

    def bot_branches(self) -> list[str]:
        return [ref for ref in self.repository.refs if ref.startswith("refs/heads/self-healing")]

    def bot_check_runs(self) -> list[CheckRun]:
        checks = self.repository.check_runs.values()
        return [check for check in checks if check.name.startswith("self-healing-bot")]

    def file_at(self, sha: str, path: str) -> str:
        git = self.repository.git
        return git.blobs[git.trees[git.commits[sha].tree][path]].decode()

    def push(self, changes: dict[str, bytes | str | None], message: str = "Change") -> str:
        return self.sandbox.commit_files(self.name, "main", changes, message)


def seed(
    stack: Stack,
    name: str,
    files: dict[str, bytes | str],
    jobs: dict[str, list[dict[str, Any]]],
    *,
    collaborators: dict[str, str] | None = None,
    triggers: tuple[str, ...] = ("push", "pull_request"),
) -> Seeded:
    """A repository on the bot's installation with one workflow whose jobs fail by their
    rules (job name → failures, see `sandbox/ci_rules.py`)."""
    sandbox = stack.sandbox
    sandbox.add_repository(name, files, collaborators=collaborators or {"alice": "write"})
    installation = sandbox.installations.get(INSTALLATION)
    if installation is None:
        sandbox.add_installation(INSTALLATION, name.split("/")[0], [name])
    else:
        installation.repositories.add(name)
    specs = [JobSpec.parse({"name": job, "failures": rules}) for job, rules in jobs.items()]
    sandbox.add_workflow(name, "ci", specs, triggers=triggers)
    return Seeded(sandbox, name)


def _environment(database_url: str, sandbox_port: int, request_log: Path) -> dict[str, str]:
    environment = {
        **os.environ,
        "SHBOT_DATABASE_URL": database_url,
        "SHBOT_BROKER_URL": "",
        "SHBOT_WEBHOOK_SECRET": SECRET,
        "SHBOT_GITHUB_API_URL": f"http://127.0.0.1:{sandbox_port}",
        "SHBOT_GITHUB_TOKEN": TOKEN,
        "SHBOT_SANDBOX_REQUEST_LOG": str(request_log),
        "PYTHONPATH": str(ROOT),
    }
    environment.pop("SHBOT_GITHUB_APP_ID", None)
    return environment


@asynccontextmanager
async def running_stack(
    tmp_path: Path, extra_environment: dict[str, str] | None = None
) -> AsyncIterator[Stack]:
    """The sandbox and a `serve` process; workers the test started are stopped on exit."""
    sandbox_port, bot_port = free_port(), free_port()
    request_log = tmp_path / "sandbox-requests.jsonl"
    sandbox = GitHubSandbox(
        base_url=f"http://127.0.0.1:{sandbox_port}",
        request_log=request_log,
        validate_responses=True,
    )
    apply_scenario(
        sandbox,
        {
            "app": {"id": APP_ID, "public_key": PUBLIC_PEM, "webhook_secret": SECRET},
            "webhook_url": f"http://127.0.0.1:{bot_port}/webhooks/github",
            "run_delay": 0.2,
            "personal_tokens": [{"token": TOKEN, "login": BOT}],
        },
    )
    server = uvicorn.Server(
        uvicorn.Config(sandbox.asgi_app, host="127.0.0.1", port=sandbox_port, log_config=None)
    )
    serving = asyncio.create_task(server.serve())
    database = tmp_path / "bot.db"
    bot_log = tmp_path / "bot.log"
    environment = {
        **_environment(f"sqlite+aiosqlite:///{database}", sandbox_port, request_log),
        **(extra_environment or {}),
    }
    with bot_log.open("wb") as log_file:
        bot = await asyncio.create_subprocess_exec(
            str(COMMAND),
            "serve",
            "--port",
            str(bot_port),
            cwd=ROOT,
            env=environment,
            stdout=log_file,
            stderr=asyncio.subprocess.STDOUT,
        )
    stack = Stack(sandbox, database, request_log, bot_log, environment)
    try:
        await wait_until_serving(bot_port, bot_log)
        yield stack
    finally:
        for process in [*stack.workers, bot]:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            await process.wait()
        server.should_exit = True
        await serving
        await sandbox.close()
    assert_github_would_accept(sandbox)


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_stack(tmp_path) as running:
        yield running


@pytest.fixture
def migrated_sqlite(tmp_path: Path) -> Iterator[Path]:
    """A migrated SQLite file shared by the serve and worker processes."""
    database = tmp_path / "bot.db"
    upgrade(f"sqlite+aiosqlite:///{database}")
    yield database


@pytest.fixture
async def distributed_stack(migrated_sqlite: Path, tmp_path: Path) -> AsyncIterator[Stack]:
    """Distributed mode on the real Redis: an isolated queue, short leases, fast redelivery."""
    require_server("Redis", "127.0.0.1", int(REDIS_URL.rsplit(":", 1)[1].split("/")[0]))
    distributed = {
        "SHBOT_BROKER_URL": REDIS_URL,
        "SHBOT_QUEUE_NAME": f"e2e_{uuid.uuid4().hex[:12]}",
        "SHBOT_LEASE_SECONDS": "6",
        "SHBOT_SWEEP_INTERVAL_SECONDS": "1",
        "SHBOT_REDIS_HEARTBEAT_TIMEOUT_MS": "2000",
        "SHBOT_REDIS_MAINTENANCE_CHANCE": "1000000",
        "SHBOT_RETRY_MIN_BACKOFF_MS": "50",
        "SHBOT_RETRY_MAX_BACKOFF_MS": "500",
        # Another run's worker on the default metrics port would make these workers exit.
        "SHBOT_WORKER_METRICS_PORT": "0",
    }
    async with running_stack(tmp_path, distributed) as running:
        yield running
