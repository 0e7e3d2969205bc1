"""The sandbox on a loopback port in the test's event loop, and a real `serve` subprocess.

The sandbox sends signed webhooks to the bot; the bot calls the sandbox with a personal token.
Tests seed a repository, push a commit whose CI fails, and wait for what a user would see.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from self_healing_bot.sandbox.github_sandbox import GitHubSandbox
from self_healing_bot.sandbox.scenario import apply_scenario
from tests.github.world import APP_ID, PUBLIC_PEM

TOKEN = "ghp_e2e_bot_token"
SECRET = "e2e-s3cret"
INSTALLATION = 10


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Stack:
    sandbox: GitHubSandbox
    database: Path
    request_log: Path
    bot_log: Path

    def repairs(self) -> list[dict[str, Any]]:
        if not self.database.exists():
            return []
        with sqlite3.connect(self.database) as connection:
            connection.row_factory = sqlite3.Row
            try:
                rows = connection.execute("SELECT * FROM repairs ORDER BY id").fetchall()
            except sqlite3.OperationalError:
                return []
        return [dict(row) for row in rows]

    async def wait_for(
        self, condition: Callable[[], bool], what: str, seconds: float = 40.0
    ) -> None:
        """Poll until `condition` holds; on timeout fail with the bot's log tail."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not condition():
            if loop.time() > deadline:
                tail = self.bot_log.read_text(errors="replace")[-4000:]
                pytest.fail(f"timed out waiting for {what}; repairs={self.repairs()}\n{tail}")
            await asyncio.sleep(0.2)


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    sandbox_port, bot_port = free_port(), free_port()
    request_log = tmp_path / "sandbox-requests.jsonl"
    sandbox = GitHubSandbox(base_url=f"http://127.0.0.1:{sandbox_port}", request_log=request_log)
    apply_scenario(
        sandbox,
        {
            "app": {"id": APP_ID, "public_key": PUBLIC_PEM, "webhook_secret": SECRET},
            "webhook_url": f"http://127.0.0.1:{bot_port}/webhooks/github",
            "run_delay": 0.2,
            "personal_tokens": [{"token": TOKEN, "login": "healer-bot"}],
        },
    )
    server = uvicorn.Server(
        uvicorn.Config(sandbox.asgi_app, host="127.0.0.1", port=sandbox_port, log_config=None)
    )
    serving = asyncio.create_task(server.serve())
    database = tmp_path / "bot.db"
    bot_log = tmp_path / "bot.log"
    environment = {
        **os.environ,
        "SHBOT_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "SHBOT_BROKER_URL": "",
        "SHBOT_WEBHOOK_SECRET": SECRET,
        "SHBOT_GITHUB_API_URL": f"http://127.0.0.1:{sandbox_port}",
        "SHBOT_GITHUB_TOKEN": TOKEN,
    }
    environment.pop("SHBOT_GITHUB_APP_ID", None)
    command = Path(sys.executable).parent / "self-healing-bot"
    with bot_log.open("wb") as log_file:
        bot = await asyncio.create_subprocess_exec(
            str(command),
            "serve",
            "--port",
            str(bot_port),
            env=environment,
            stdout=log_file,
            stderr=asyncio.subprocess.STDOUT,
        )
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(150):
                try:
                    health = await client.get(f"http://127.0.0.1:{bot_port}/healthz")
                    if health.status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                pytest.fail(f"serve did not start:\n{bot_log.read_text(errors='replace')}")
        yield Stack(sandbox, database, request_log, bot_log)
    finally:
        bot.terminate()
        await bot.wait()
        server.should_exit = True
        await serving
        await sandbox.close()
