"""Every log line written while a delivery is processed names the delivery and its repository,
so one `grep` of the JSON logs follows one webhook through the pipeline."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from self_healing_bot.core.context import ExecutionContext
from self_healing_bot.core.events import Event, WorkflowRunEvent
from self_healing_bot.detectors.registry import Detection, register, unregister
from self_healing_bot.logging_setup import configure_logging
from self_healing_bot.settings import Settings
from self_healing_bot.storage.database import Database
from tests.webhooks import (
    SECRET,
    examples,
    headers,
    running_app,
    wait_for_status,
    workflow_run_body,
)


class LoggingDetector:
    id = "test_logging_detector"

    def applies_to(self, event: Event) -> bool:
        return isinstance(event, WorkflowRunEvent)

    async def detect(self, context: ExecutionContext) -> list[Detection]:
        structlog.stdlib.get_logger("tests.detector").info("detector looked at the run")
        return []


@pytest.fixture
def logging_detector() -> Iterator[None]:
    register(LoggingDetector())
    yield
    unregister(LoggingDetector.id)


@pytest.mark.usefixtures("logging_detector")
async def test_lines_logged_while_processing_carry_the_delivery_and_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        broker_url="",
        webhook_secret=SECRET,
    )
    configure_logging("INFO", json_output=True)
    body = workflow_run_body()
    request_headers = headers("workflow_run", body)
    delivery_id = request_headers["X-GitHub-Delivery"]
    async with running_app(settings) as client:
        response = await client.post("/webhooks/github", content=body, headers=request_headers)
        assert response.status_code == 202
        database: Database = client.app.state.database  # type: ignore[attr-defined]
        await wait_for_status(database, delivery_id, {"done"})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    by_event = {line["event"]: line for line in lines}
    repository = examples()["workflow_run"][0]["repository"]["full_name"]
    for event in ("detector looked at the run", "delivery processed"):
        assert by_event[event]["delivery_id"] == delivery_id, event
        assert by_event[event]["repository"] == repository, event
