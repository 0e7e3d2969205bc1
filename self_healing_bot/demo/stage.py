"""The demo's imperative shell: the sandbox in this process, the bot as a child process.

    async with DemoStage(load_demo_scenario()) as stage:
        print(stage.dashboard_url)
        for incident in stage.scenario.incidents:
            row = await stage.play(incident, time_limit=60.0)

The bot runs exactly as `self-healing-bot serve` on embedded defaults: a temporary SQLite
database, a random webhook secret, a fresh App key, loopback ports. Its log goes to
`bot.log` in the temporary folder, which is removed at the end.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import secrets
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from self_healing_bot.demo.outcome import (
    TIMEOUT,
    DeliveryRecord,
    Outcome,
    RepairRecord,
    incident_outcome,
    mentions_commit,
)
from self_healing_bot.demo.scenario import DemoScenario, Incident, apply_changes
from self_healing_bot.sandbox import GitHubSandbox
from self_healing_bot.sandbox.representations import html_root
from self_healing_bot.sandbox.scenario import apply_scenario
from self_healing_bot.storage.database import Database
from self_healing_bot.storage.models import Execution, WebhookDelivery
from self_healing_bot.storage.repairs import Repair

APP_ID = 1
READY_TIMEOUT_SECONDS = 60.0
POLL_SECONDS = 0.25
QUIET_TIMEOUT_SECONDS = 15.0
STOP_TIMEOUT_SECONDS = 10.0
# The sandbox's CI finishes a run in a fraction of a second, so the demo plays an afternoon of
# pushes, runs, re-runs and merges (about a dozen webhooks each) in a minute. The bot's default
# storm guard (120 executions per repository per minute) would defer the later incidents by
# a minute each; the demo lifts it to match its compressed clock.
DEMO_THROTTLE_PER_MINUTE = 5000

Progress = Callable[[str], None]
_CLI = (sys.executable, "-c", "from self_healing_bot.cli import main; main()")


class DemoError(RuntimeError):
    """The demo could not start or run its servers; the message says what to look at."""


class DemoStage:
    """The sandbox with the sample repository, and the bot pointed at it."""

    def __init__(self, scenario: DemoScenario) -> None:
        self.scenario = scenario
        self.folder = Path(tempfile.mkdtemp(prefix="shbot-demo-"))
        self.sandbox_url = ""
        self.dashboard_url = ""
        self.bot_environment: dict[str, str] = {}
        self._sandbox: GitHubSandbox | None = None
        self._sandbox_server: uvicorn.Server | None = None
        self._sandbox_task: asyncio.Task[None] | None = None
        self._bot: asyncio.subprocess.Process | None = None
        self._database: Database | None = None

    async def __aenter__(self) -> DemoStage:
        try:
            await self._start()
        except BaseException:
            await self._stop()
            raise
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._stop()

    @property
    def sandbox(self) -> GitHubSandbox:
        if self._sandbox is None:
            raise DemoError("the demo stage is not started")
        return self._sandbox

    async def play(
        self, incident: Incident, time_limit: float, progress: Progress = print
    ) -> dict[str, Any]:
        """Cause `incident`, wait (at most `time_limit` s) for the bot to finish with it, and
        return its summary row; a fix pull request it verified is then merged, as a maintainer
        would, so the next incident starts from a green main branch."""
        sandbox, name = self.sandbox, self.scenario.repository
        repository = sandbox.repository(name)
        workflow_id = next(iter(repository.workflows))
        workflow = repository.workflows[workflow_id]
        repository.workflows[workflow_id] = dataclasses.replace(
            workflow, jobs=self.scenario.jobs_during(incident)
        )
        try:
            head = repository.branch_sha(repository.default_branch)
            assert head is not None
            current = repository.git.files_at(head)
            changes = apply_changes(current, incident.replace, incident.copy, self.scenario.sample)
            started = time.monotonic()
            sha = sandbox.commit_files(name, repository.default_branch, changes, incident.message)
            progress(f"pushed {sha[:7]} {incident.message!r}")
            outcome = await self._wait_for_outcome(sha, started + time_limit, progress)
            seconds = round(time.monotonic() - started, 2)
        finally:
            repository.workflows[workflow_id] = dataclasses.replace(
                workflow, jobs=self.scenario.jobs_during(None)
            )
        if outcome.end_state == "verified":
            await self._merge_fix(outcome, progress)
        await self._settle()
        return {
            "name": incident.name,
            "diagnosis": outcome.diagnosis,
            "action": outcome.action,
            "url": outcome.url,
            "end_state": outcome.end_state,
            "expected_end_state": incident.expected_end_state,
            "seconds": seconds,
        }

    async def create_viewer_key(self) -> str:
        """A viewer API key for the dashboard, made by `self-healing-bot keys create`."""
        process = await asyncio.create_subprocess_exec(
            *_CLI,
            "keys",
            "create",
            "--role",
            "viewer",
            "--name",
            "demo",
            cwd=self.folder,
            env=self.bot_environment,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        output, errors = await asyncio.wait_for(process.communicate(), READY_TIMEOUT_SECONDS)
        if process.returncode != 0:
            raise DemoError(f"could not create a dashboard key: {errors.decode().strip()}")
        return output.decode().strip().splitlines()[-1]

    async def _wait_for_outcome(self, sha: str, deadline: float, progress: Progress) -> Outcome:
        root = f"{html_root(self.sandbox.base_url)}/{self.scenario.repository}"
        last_seen = ""
        while time.monotonic() < deadline:
            self._check_bot_alive()
            deliveries, repairs = await self._records()
            outcome = incident_outcome(sha, deliveries, repairs, root, self._quiet())
            if outcome is not None:
                return outcome
            seen = _progress_line(sha, deliveries, repairs)
            if seen != last_seen:
                progress(seen)
                last_seen = seen
            await asyncio.sleep(POLL_SECONDS)
        return Outcome(TIMEOUT, "", "none", "")

    async def _records(self) -> tuple[list[DeliveryRecord], list[RepairRecord]]:
        assert self._database is not None
        async with self._database.session() as session:
            rows = (
                await session.execute(
                    select(
                        WebhookDelivery.delivery_id, WebhookDelivery.status, WebhookDelivery.body
                    )
                )
            ).all()
            executions = (
                await session.execute(
                    select(Execution.delivery_id, Execution.end_state).order_by(Execution.id)
                )
            ).all()
            repairs = (await session.execute(select(Repair).order_by(Repair.id))).scalars().all()
        latest = {execution.delivery_id: execution.end_state for execution in executions}
        deliveries = [
            DeliveryRecord(
                row.delivery_id, row.status, _json(row.body), latest.get(row.delivery_id)
            )
            for row in rows
        ]
        return deliveries, [
            RepairRecord(
                repair.delivery_id,
                repair.state,
                repair.category,
                repair.playbook,
                repair.pull_request,
                repair.issue,
                repair.rerun_run_id,
            )
            for repair in repairs
        ]

    async def _merge_fix(self, outcome: Outcome, progress: Progress) -> None:
        if "/pull/" not in outcome.url:
            return
        repository = self.sandbox.repository(self.scenario.repository)
        pull = repository.pulls[int(outcome.url.rsplit("/", 1)[-1])]
        if repository.issues[pull.number].state == "open":
            self.sandbox.merge_pull_request(repository, pull, f"Merge pull request #{pull.number}")
            progress(f"maintainer merged pull request #{pull.number}")

    def _quiet(self) -> bool:
        """No CI run pending and no webhook unsent: a run's `completed` webhooks are queued
        after the run completes, and the bot must see them before the incident can end."""
        repository = self.sandbox.repository(self.scenario.repository)
        return all(run.status == "completed" for run in repository.runs.values()) and all(
            delivery.status != "pending" for delivery in self.sandbox.sender.deliveries
        )

    async def _settle(self) -> None:
        """Let CI and webhooks caused by the last incident finish before the next one."""
        try:
            await asyncio.wait_for(self.sandbox.drain(), QUIET_TIMEOUT_SECONDS)
        except TimeoutError as error:
            raise DemoError(
                f"the sandbox did not settle within {QUIET_TIMEOUT_SECONDS:.0f} s"
            ) from error

    # -- start and stop --------------------------------------------------------------------
    async def _start(self) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        webhook_secret = secrets.token_hex(20)
        sandbox_socket, bot_port = _bound_socket(), _free_port()
        self.sandbox_url = f"http://127.0.0.1:{sandbox_socket.getsockname()[1]}"
        self.dashboard_url = f"http://127.0.0.1:{bot_port}/"
        sandbox = GitHubSandbox(
            webhook_url=f"http://127.0.0.1:{bot_port}/webhooks/github", base_url=self.sandbox_url
        )
        app = {"id": APP_ID, "private_key": private_pem, "webhook_secret": webhook_secret}
        apply_scenario(sandbox, self.scenario.sandbox_scenario(app))
        self._sandbox = sandbox
        self._sandbox_server = uvicorn.Server(
            uvicorn.Config(sandbox.asgi_app, log_config=None, access_log=False, lifespan="off")
        )
        self._sandbox_task = asyncio.create_task(
            self._sandbox_server.serve(sockets=[sandbox_socket])
        )
        database_url = f"sqlite+aiosqlite:///{self.folder / 'shbot.db'}"
        self.bot_environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith("SHBOT_")},
            "SHBOT_DATABASE_URL": database_url,
            "SHBOT_WEBHOOK_SECRET": webhook_secret,
            "SHBOT_GITHUB_APP_ID": str(APP_ID),
            "SHBOT_GITHUB_PRIVATE_KEY": private_pem,
            "SHBOT_GITHUB_API_URL": self.sandbox_url,
            "SHBOT_LOG_JSON": "true",
            "SHBOT_THROTTLE_PER_REPOSITORY_PER_MINUTE": str(DEMO_THROTTLE_PER_MINUTE),
        }
        log = (self.folder / "bot.log").open("wb")
        self._bot = await asyncio.create_subprocess_exec(
            *_CLI,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(bot_port),
            cwd=self.folder,
            env=self.bot_environment,
            stdout=log,
            stderr=log,
        )
        log.close()
        await self._wait_until_ready()
        self._database = Database.connect(database_url)

    async def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        async with httpx.AsyncClient(timeout=2.0) as client:
            while time.monotonic() < deadline:
                self._check_bot_alive()
                try:
                    answer = await client.get(f"{self.dashboard_url}readyz")
                    if answer.status_code == 200:
                        return
                except httpx.TransportError:
                    pass  # not listening yet; the deadline bounds the wait
                await asyncio.sleep(0.2)
        raise DemoError(
            f"the bot was not ready within {READY_TIMEOUT_SECONDS:.0f} s:\n{self._bot_log_tail()}"
        )

    def _check_bot_alive(self) -> None:
        if self._bot is not None and self._bot.returncode is not None:
            raise DemoError(
                f"the bot exited with status {self._bot.returncode}:\n{self._bot_log_tail()}"
            )

    def _bot_log_tail(self, lines: int = 30) -> str:
        path = self.folder / "bot.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    async def _stop(self) -> None:
        if self._database is not None:
            await self._database.close()
        if self._bot is not None and self._bot.returncode is None:
            self._bot.terminate()
            try:
                await asyncio.wait_for(self._bot.wait(), STOP_TIMEOUT_SECONDS)
            except TimeoutError:
                self._bot.kill()
                await self._bot.wait()
        if self._sandbox_server is not None and self._sandbox_task is not None:
            self._sandbox_server.should_exit = True
            await asyncio.wait_for(self._sandbox_task, STOP_TIMEOUT_SECONDS)
        if self._sandbox is not None:
            await self._sandbox.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def _progress_line(sha: str, deliveries: list[DeliveryRecord], repairs: list[RepairRecord]) -> str:
    related = {d.delivery_id for d in deliveries if mentions_commit(d.payload, sha)}
    states = [f"{r.category} → {r.state}" for r in repairs if r.delivery_id in related]
    if states:
        return "repair " + ", ".join(states)
    return f"{len(related)} webhook deliveries about {sha[:7]} received"


def _json(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except ValueError:
        return {}  # not a JSON object, so it mentions no commit
    return payload if isinstance(payload, dict) else {}


def _bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def _free_port() -> int:
    with _bound_socket() as sock:
        return int(sock.getsockname()[1])
