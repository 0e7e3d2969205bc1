"""Embedded mode: failed attempts back off and retry, the last one leaves the delivery dead,
and `self-healing-bot replay` processes it again."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from self_healing_bot.cli import app as cli
from self_healing_bot.core.bot import StageOutcome, install_remediation
from self_healing_bot.core.context import ExecutionContext
from self_healing_bot.core.events import Event, WorkflowRunEvent
from self_healing_bot.detectors.registry import Detection, register, unregister
from self_healing_bot.settings import Settings, load_settings
from self_healing_bot.storage.database import Database
from tests.webhooks import (
    SECRET,
    executions,
    headers,
    running_app,
    wait_for_status,
    workflow_run_body,
)


class AlwaysDetects:
    id = "test_always_detects"

    def applies_to(self, event: Event) -> bool:
        return isinstance(event, WorkflowRunEvent)

    async def detect(self, context: ExecutionContext) -> list[Detection]:
        return [Detection(detector_id=self.id, category="timeout", signature="timeout:1")]


class BrokenRemediation:
    async def select_playbook(self, context: ExecutionContext, detections: Any) -> StageOutcome:
        raise RuntimeError("playbook store unreachable")

    async def act(self, context: ExecutionContext, plan: Any) -> StageOutcome:
        raise AssertionError("never reached")

    verify = notify = act


@pytest.fixture
def failing_pipeline() -> Iterator[None]:
    register(AlwaysDetects())
    install_remediation(BrokenRemediation())
    yield
    install_remediation(None)
    unregister(AlwaysDetects.id)


@pytest.mark.usefixtures("failing_pipeline")
async def test_the_last_failed_attempt_leaves_the_delivery_dead_and_replay_revives_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=url,
        broker_url="",
        webhook_secret=SECRET,
        max_delivery_attempts=3,
        retry_min_backoff_ms=1,
        retry_max_backoff_ms=5,
    )
    body = workflow_run_body()
    request_headers = headers("workflow_run", body)
    delivery_id = request_headers["X-GitHub-Delivery"]
    async with running_app(settings) as client:
        response = await client.post("/webhooks/github", content=body, headers=request_headers)
        assert response.status_code == 202
        database: Database = client.app.state.database  # type: ignore[attr-defined]
        dead = await wait_for_status(database, delivery_id, {"dead"})
        runs = await executions(database, delivery_id)
    assert dead.attempts == 3
    assert dead.last_error is not None and "playbook store unreachable" in dead.last_error
    assert [run.end_state for run in runs] == ["failed", "failed", "dead"]
    assert runs[-1].stages["select_playbook"]["status"] == "failed"

    install_remediation(None)  # the cause is fixed; an operator replays the delivery
    monkeypatch.setenv("SHBOT_DATABASE_URL", url)
    monkeypatch.setenv("SHBOT_BROKER_URL", "")
    load_settings.cache_clear()
    try:
        runner = CliRunner()
        replayed = await asyncio.to_thread(runner.invoke, cli, ["replay", delivery_id])
        unknown = await asyncio.to_thread(runner.invoke, cli, ["replay", "no-such-delivery"])
    finally:
        load_settings.cache_clear()
    assert replayed.exit_code == 0, replayed.output
    assert replayed.stdout.strip() == f"{delivery_id}: done"
    assert unknown.exit_code == 2
    assert "no delivery 'no-such-delivery'" in unknown.stderr
    database = Database.connect(url)
    try:
        runs = await executions(database, delivery_id)
    finally:
        await database.close()
    assert [run.end_state for run in runs] == ["failed", "failed", "dead", "detected"]
