"""A GitHub sandbox with one app, one installation and one repository, and our client on it.

Every test talks to the sandbox through the real client over httpx's ASGI transport; the
sandbox validates each request against GitHub's OpenAPI description, and `World.close`
fails the test if any request was refused by it (unless declared in `expected_rejections`)
or any response broke its schema.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from self_healing_bot.github.connection import GitHub
from self_healing_bot.github.operations import InstallationClient
from self_healing_bot.github.transport import RetryPolicy
from self_healing_bot.sandbox.github_sandbox import GitHubSandbox
from tests.github.conftest import FakeClock
from tests.github_sandbox_plugin import assert_github_would_accept

APP_ID = 4242
INSTALLATION_ID = 77
REPO = "octo/ml"
BASE = "http://sandbox.test"

_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PRIVATE_PEM = _key.private_bytes(
    serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption(),
).decode()
PUBLIC_PEM = (
    _key.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)

FILES = {
    "train.py": b"print('train')\n",
    "configs/train.yaml": b"batch_size: 64\nlr: 0.001\n",
    "README.md": b"# ml\n",
}


@dataclass
class World:
    sandbox: GitHubSandbox
    github: GitHub
    client: InstallationClient
    clock: FakeClock
    request_log: Path
    sent_at: list[tuple[str, str, float]] = field(default_factory=list)
    answers: list[tuple[str, str, int]] = field(default_factory=list)
    expected_rejections: list[tuple[str, str, int]] = field(default_factory=list)

    def requests(self, method: str | None = None, path: str = "") -> list[dict[str, Any]]:
        """Requests the sandbox received, optionally filtered by method and a path regex."""
        if not self.request_log.exists():
            return []
        entries = [json.loads(line) for line in self.request_log.read_text().splitlines()]
        return [
            entry
            for entry in entries
            if (method is None or entry["method"] == method) and re.search(path, entry["path"])
        ]

    async def close(self) -> None:
        await self.github.aclose()
        await self.sandbox.close()
        assert_github_would_accept(self.sandbox, self.expected_rejections)


async def push(world: World, count: int) -> None:
    """Commit `count` files to main of REPO, one commit each, then drain the sandbox."""
    for number in range(count):
        world.sandbox.commit_files(REPO, "main", {f"f{number}.txt": b"x"}, f"push {number}")
    await world.sandbox.drain()


def make_world(
    tmp_path: Path,
    clock: FakeClock,
    *,
    base_path: str = "",
    policy: RetryPolicy | None = None,
    token: str = "",
) -> World:
    request_log = tmp_path / "requests.jsonl"
    sandbox = GitHubSandbox(
        base_url=BASE,
        validate_responses=True,
        request_log=request_log,
        clock=lambda: datetime.fromtimestamp(int(clock.time()), UTC),
    )
    sandbox.register_app(APP_ID, PUBLIC_PEM, webhook_secret="s3cret")
    sandbox.add_repository(REPO, FILES, collaborators={"alice": "write"})
    sandbox.add_installation(INSTALLATION_ID, "octo", [REPO])
    world_ref: list[World] = []

    async def on_request(request: httpx.Request) -> None:
        world_ref[0].sent_at.append((request.method, request.url.path, clock.time()))

    async def on_response(response: httpx.Response) -> None:
        request = response.request
        world_ref[0].answers.append((request.method, request.url.path, response.status_code))

    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.asgi_app),
        event_hooks={"request": [on_request], "response": [on_response]},
    )
    github = GitHub(
        BASE + base_path,
        app_id=APP_ID,
        private_key_pem=PRIVATE_PEM,
        token=token,
        http=http,
        clock=clock,
        policy=policy,
    )
    world = World(sandbox, github, github.installation(INSTALLATION_ID), clock, request_log)
    world_ref.append(world)
    return world
