"""The bot survives its own downtime: in App mode, deliveries GitHub could not hand over are
asked for again (by `serve`'s scheduler at start, and by `self-healing-bot redeliver`) and each
is processed exactly once.

GitHub does not retry a failed delivery; it lists it in the app's delivery log, and the bot
asks for a redelivery (`POST /app/hook/deliveries/{id}/attempts`, same GUID). The sandbox
records every attempt, so the test counts what GitHub would show.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import jwt
import pytest
import uvicorn

from self_healing_bot.sandbox.github_sandbox import GitHubSandbox
from self_healing_bot.sandbox.scenario import apply_scenario
from tests.e2e.conftest import (
    COMMAND,
    INSTALLATION,
    ROOT,
    SECRET,
    Seeded,
    Stack,
    free_port,
    seed,
    wait_until_serving,
)
from tests.github.world import APP_ID, PRIVATE_PEM, PUBLIC_PEM
from tests.github_sandbox_plugin import assert_github_would_accept

ATTEMPTS_PATH = "/app/hook/deliveries/{}/attempts"
FAILING_TRAIN = {
    "train": [
        {
            "when": {"file": "train.py", "contains": "+"},
            "log": "TypeError: unsupported operand type(s) for +: 'int' and 'str'\n",
        }
    ]
}


class DowntimeStack:
    """The sandbox on a loopback port, and `serve` in App mode that the test starts later."""

    def __init__(self, tmp_path: Path) -> None:
        self.bot_port = free_port()
        sandbox_port = free_port()
        request_log = tmp_path / "sandbox-requests.jsonl"
        self.sandbox = GitHubSandbox(
            base_url=f"http://127.0.0.1:{sandbox_port}",
            request_log=request_log,
            validate_responses=True,
        )
        apply_scenario(
            self.sandbox,
            {
                "app": {"id": APP_ID, "public_key": PUBLIC_PEM, "webhook_secret": SECRET},
                "webhook_url": f"http://127.0.0.1:{self.bot_port}/webhooks/github",
                "run_delay": 0.2,
            },
        )
        self.server = uvicorn.Server(
            uvicorn.Config(
                self.sandbox.asgi_app,
                host="127.0.0.1",
                port=sandbox_port,
                log_config=None,
                access_log=False,
            )
        )
        database = tmp_path / "bot.db"
        environment = {
            key: value for key, value in os.environ.items() if not key.startswith("SHBOT_")
        }
        environment |= {
            "SHBOT_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
            "SHBOT_WEBHOOK_SECRET": SECRET,
            "SHBOT_GITHUB_API_URL": f"http://127.0.0.1:{sandbox_port}",
            "SHBOT_GITHUB_APP_ID": str(APP_ID),
            "SHBOT_GITHUB_PRIVATE_KEY": PRIVATE_PEM,
            # Only the run at start: later recoveries in this test are the command's.
            "SHBOT_REDELIVERY_INTERVAL": "3600",
            "SHBOT_SANDBOX_REQUEST_LOG": str(request_log),
            "PYTHONPATH": str(ROOT),
        }
        self.stack = Stack(self.sandbox, database, request_log, tmp_path / "bot.log", environment)
        self.bot: asyncio.subprocess.Process | None = None

    async def start_bot(self) -> None:
        """`serve` on the port the sandbox's webhooks have been failing to reach."""
        with self.stack.bot_log.open("wb") as output:
            self.bot = await asyncio.create_subprocess_exec(
                str(COMMAND),
                "serve",
                "--port",
                str(self.bot_port),
                cwd=ROOT,
                env=self.stack.environment,
                stdout=output,
                stderr=asyncio.subprocess.STDOUT,
            )
        await wait_until_serving(self.bot_port, self.stack.bot_log)

    async def wait_for_startup_recovery(self) -> None:
        """Until serve's scheduler has listed the app's deliveries once (its run at start, a
        few seconds in), so a later change to that list is the command's alone to act on."""
        await self.stack.wait_for(
            lambda: any(
                request["method"] == "GET" and request["path"] == "/app/hook/deliveries"
                for request in self.stack.requests()
            ),
            "the scheduler's recovery at start",
        )

    async def redeliver(self) -> str:
        """`self-healing-bot redeliver --since 1h` as an operator runs it; its summary line."""
        process = await asyncio.create_subprocess_exec(
            str(COMMAND),
            "redeliver",
            "--since",
            "1h",
            cwd=ROOT,
            env=self.stack.environment,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        output, errors = await process.communicate()
        assert process.returncode == 0, errors.decode()
        # stdout is the summary alone (logs go to stderr), so a script can read it.
        (summary,) = output.decode().strip().splitlines()
        return summary

    def attempts(self) -> Counter[str]:
        """How many times the sandbox tried to deliver each GUID."""
        return Counter(delivery.guid for delivery in self.sandbox.sender.deliveries)

    def redelivery_requests(self) -> list[str]:
        return [
            request["path"]
            for request in self.stack.requests()
            if request["method"] == "POST" and request["path"].endswith("/attempts")
        ]

    def executions(self) -> Counter[str]:
        return Counter(row["delivery_id"] for row in self.stack.rows("executions"))

    async def push_while_unreachable(self, repo: Seeded, changes: dict[str, bytes]) -> list[str]:
        """Push while the bot cannot be reached; the GUIDs of the deliveries that failed."""
        app = self.sandbox.apps[APP_ID]
        reachable, app.webhook_url = app.webhook_url, f"http://127.0.0.1:{free_port()}/hook"
        before = len(self.sandbox.sender.deliveries)
        repo.push(changes, "Change while the bot is unreachable")
        await self.sandbox.drain()
        app.webhook_url = reachable
        return self.failed_since(before)

    def failed_since(self, index: int) -> list[str]:
        missed = self.sandbox.sender.deliveries[index:]
        assert missed and all(delivery.status_code == 0 for delivery in missed)
        return [delivery.guid for delivery in missed]

    def assert_processed_once(self, guids: list[str]) -> None:
        """Each GUID: one stored row, done, one execution, and one redelivery asked for."""
        rows = Counter(row["delivery_id"] for row in self.stack.rows("webhook_deliveries"))
        statuses = {
            row["delivery_id"]: row["status"] for row in self.stack.rows("webhook_deliveries")
        }
        executions = self.executions()
        attempts = self.attempts()
        assert {guid: rows[guid] for guid in guids} == dict.fromkeys(guids, 1)
        assert {guid: statuses.get(guid) for guid in guids} == dict.fromkeys(guids, "done")
        assert {guid: executions[guid] for guid in guids} == dict.fromkeys(guids, 1)
        assert {guid: attempts[guid] for guid in guids} == dict.fromkeys(guids, 2)


@pytest.fixture
async def downtime(tmp_path: Path) -> AsyncIterator[DowntimeStack]:
    built = DowntimeStack(tmp_path)
    serving = asyncio.create_task(built.server.serve())
    try:
        yield built
    finally:
        if built.bot is not None and built.bot.returncode is None:
            built.bot.send_signal(signal.SIGTERM)
            await built.bot.wait()
        built.server.should_exit = True
        await serving
        await built.sandbox.close()
    assert_github_would_accept(built.sandbox)


async def test_deliveries_missed_while_down_are_redelivered_and_processed_once(
    downtime: DowntimeStack,
) -> None:
    sandbox, stack = downtime.sandbox, downtime.stack
    repo = seed(stack, "octo/down", {"train.py": b"print(1)\n"}, FAILING_TRAIN)

    # The bot is down: nothing listens on its port, so every delivery fails.
    repo.push({"train.py": b"print(1 + '1')\n"}, "Break training while the bot is down")
    await sandbox.drain()
    while_down = downtime.failed_since(0)
    assert {d.event for d in sandbox.sender.deliveries} >= {"push", "workflow_run", "workflow_job"}

    # It comes back: the scheduler's run at start asks once for each, with the app's JWT.
    await downtime.start_bot()
    await stack.wait_for(
        lambda: len(downtime.redelivery_requests()) == len(while_down),
        "the scheduler to ask for every missed delivery",
    )
    await stack.settle()
    downtime.assert_processed_once(while_down)
    # App mode: the delivery log is read with the app's JWT, repositories with tokens of the
    # installation that the sandbox issued.
    app_tokens = [
        request["headers"]["authorization"].split()[-1]
        for request in stack.requests()
        if request["path"].startswith("/app/")
    ]
    assert {jwt.decode(t, options={"verify_signature": False})["iss"] for t in app_tokens} == {
        str(APP_ID)
    }
    repository_tokens = {
        request["headers"]["authorization"].split()[-1]
        for request in stack.requests()
        if request["path"].startswith("/repos/")
    }
    assert repository_tokens and all(
        sandbox.tokens[token].installation_id == INSTALLATION for token in repository_tokens
    )
    # What a user sees: the failure was handled once, not once per attempt.
    assert len(repo.bot_check_runs()) == 1

    # Unreachable again; this time an operator runs the command once it is back.
    while_unreachable = await downtime.push_while_unreachable(
        repo, {"train.py": b"print(2 + '1')\n"}
    )
    requested_before = len(downtime.redelivery_requests())
    listed = len(sandbox.sender.deliveries)
    assert await downtime.redeliver() == (
        f"listed {listed} deliveries, requested {len(while_unreachable)} redeliveries"
    )
    await stack.settle()
    downtime.assert_processed_once(while_unreachable)
    assert len(downtime.redelivery_requests()) == requested_before + len(while_unreachable)

    # Running it again asks for nothing: GitHub lists every redelivery already made.
    attempts = downtime.attempts()
    assert (await downtime.redeliver()).endswith("requested 0 redeliveries")
    await sandbox.drain()
    assert downtime.attempts() == attempts


async def test_a_delivery_github_lists_as_failed_but_the_bot_has_is_not_processed_twice(
    downtime: DowntimeStack,
) -> None:
    sandbox, stack = downtime.sandbox, downtime.stack
    await downtime.start_bot()
    await downtime.wait_for_startup_recovery()
    repo = seed(stack, "octo/slow", {"train.py": b"print(1)\n"}, FAILING_TRAIN)
    repo.push({"README.md": b"# slow\n"}, "Docs")
    await stack.settle()
    (push,) = [d for d in sandbox.sender.deliveries if d.event == "push"]
    assert downtime.executions()[push.guid] == 1
    # The bot stored it but answered after GitHub's 10 s limit: GitHub lists it as failed.
    push.status, push.status_code = "timed out", 0

    assert (await downtime.redeliver()).endswith("requested 1 redeliveries")
    await stack.settle()
    assert downtime.attempts()[push.guid] == 2
    assert downtime.executions()[push.guid] == 1
    assert [row["delivery_id"] for row in stack.rows("webhook_deliveries")].count(push.guid) == 1
