"""A running app on a fresh database, holding one key per role, a dead delivery and an execution."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from self_healing_bot.github import connection
from self_healing_bot.github.connection import GitHub
from self_healing_bot.sandbox.github_sandbox import GitHubSandbox
from self_healing_bot.settings import Settings
from self_healing_bot.storage import deliveries
from self_healing_bot.storage.api_keys import Role, create_key
from self_healing_bot.storage.database import Database
from self_healing_bot.storage.models import (
    TERMINAL_STATUSES,
    DeliveryStatus,
    Execution,
    WebhookDelivery,
)
from tests.api.rows import FLAKY_SIGNATURE, Rows, store_rows
from tests.github_sandbox_plugin import assert_github_would_accept
from tests.webhooks import running_app

SANDBOX_URL = "http://sandbox.test"


@dataclass(frozen=True)
class World:
    client: httpx.AsyncClient
    database: Database
    keys: dict[Role, str]
    victim_key: str  # a viewer key the tests may revoke
    victim_key_id: str
    dead_delivery_id: str
    execution_id: int
    rows: Rows

    def as_role(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def url(self, path: str) -> str:
        """`path` from the OpenAPI document with its parameters naming the seeded rows."""
        owner, name = self.rows.repository.split("/")
        return path.format(
            delivery_id=self.dead_delivery_id,
            execution_id=self.execution_id,
            key_id=self.victim_key_id,
            repair_id=self.rows.approval_repair,
            report_id=self.rows.drift_report,
            owner=owner,
            name=name,
            signature=FLAKY_SIGNATURE,
        )


GITHUB_TOKEN = "api-tests-token"


def api_settings(database_url: str, **overrides: object) -> Settings:
    # A token, so approving may act as an installation on the GitHub sandbox below.
    values: dict[str, object] = {
        "broker_url": "",
        "webhook_secret": "api-tests",
        "github_token": GITHUB_TOKEN,
        "github_api_url": SANDBOX_URL,
        **overrides,
    }
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        **values,  # type: ignore[arg-type]
    )


@pytest.fixture(autouse=True)
async def github_sandbox(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[GitHubSandbox]:
    """The GitHub an approved repair acts on: a sandbox holding the seeded repository.

    It stands in for the process-wide client, so each test has its own and drops it.
    """
    sandbox = GitHubSandbox(base_url=SANDBOX_URL, validate_responses=True)
    sandbox.add_personal_token(GITHUB_TOKEN, "api-tests")
    sandbox.add_repository("octo/ml", {"README.md": "# ml\n"})
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.asgi_app))
    github = GitHub(SANDBOX_URL, token=GITHUB_TOKEN, http=http)
    monkeypatch.setattr(connection, "_process_github", github)
    yield sandbox
    await github.aclose()
    await sandbox.close()
    assert_github_would_accept(sandbox)


@pytest.fixture
def settings_path(tmp_path: Path) -> Path:
    return tmp_path / "api.db"


@pytest.fixture
def settings(settings_path: Path) -> Settings:
    return api_settings(f"sqlite+aiosqlite:///{settings_path}")


async def seed(client: httpx.AsyncClient) -> World:
    database: Database = client.app.state.database  # type: ignore[attr-defined]
    async with database.session() as session:
        keys = {
            role: (await create_key(session, role=role, name=f"{role}-key")).key for role in Role
        }
        victim = await create_key(session, role=Role.VIEWER, name="victim")
        dead = deliveries.NewDelivery(
            delivery_id="dead-delivery-1",
            # A ping: replaying it runs the pipeline to `no_detection` without calling GitHub.
            event="ping",
            action=None,
            repository="octo/ml",
            installation_id=1,
            body=b'{"zen": "Keep it logically awesome.", "hook_id": 1}',
            status=DeliveryStatus.DEAD,
            last_error="gave up after 5 attempts",
        )
        await deliveries.insert_new(session, [dead])
        execution = Execution(
            delivery_id=dead.delivery_id,
            repository="octo/ml",
            attempt=5,
            end_state="failed",
            stages={"validate": {"status": "ok", "seconds": 0.001}},
        )
        session.add(execution)
        await session.flush()
        execution_id = execution.id
        rows = await store_rows(session, "octo/ml", "workflow-run-delivery")
    return World(
        client,
        database,
        keys,
        victim.key,
        victim.info.key_id,
        dead.delivery_id,
        execution_id,
        rows,
    )


async def settle(database: Database, within: float = 15.0) -> None:
    """Wait until no delivery is in flight.

    Shutting the app down while the outbox is handed a replayed delivery can hang on Python
    3.11 (`asyncio.wait_for` may swallow the cancellation), so tests let replays finish first.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    in_flight = WebhookDelivery.status.not_in([status.value for status in TERMINAL_STATUSES])
    while True:
        async with database.session() as session:
            pending = await session.scalar(select(func.count()).where(in_flight))
        if not pending:
            return
        assert loop.time() < deadline, f"{pending} deliveries still in flight after {within} s"
        await asyncio.sleep(0.05)


@pytest.fixture
async def world(settings: Settings) -> AsyncIterator[World]:
    async with running_app(settings) as client:
        world = await seed(client)
        yield world
        await settle(world.database)
