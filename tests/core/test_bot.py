from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from self_healing_bot.core.bot import (
    STAGES,
    InvalidPayloadError,
    PipelineRun,
    StageOutcome,
    ThrottledError,
    install_remediation,
    run_pipeline,
)
from self_healing_bot.core.context import ExecutionContext
from self_healing_bot.core.events import Event, WorkflowRunEvent
from self_healing_bot.detectors.registry import Detection, register, unregister
from self_healing_bot.storage.database import Database
from self_healing_bot.storage.deliveries import Claim
from self_healing_bot.storage.migrate import upgrade
from tests.webhooks import examples


def claim(event: str = "workflow_run", body: bytes | None = None) -> Claim:
    payload = body if body is not None else json.dumps(examples()[event][0]).encode()
    return Claim("d-1", "token", 1, event, "octo/repo", payload, datetime.now(UTC))


async def no_recent(_repository: str) -> int:
    return 0


class FailureDetector:
    id = "test_failure_detector"

    def applies_to(self, event: Event) -> bool:
        return isinstance(event, WorkflowRunEvent)

    async def detect(self, context: ExecutionContext) -> list[Detection]:
        return [
            Detection(
                detector_id=self.id,
                category="gpu_oom",
                signature="sig-1",
                confidence=0.9,
                summary="CUDA out of memory",
            )
        ]


class RecordingRemediation:
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def select_playbook(
        self, context: ExecutionContext, detections: list[Detection]
    ) -> StageOutcome:
        self.calls.append("select_playbook")
        return StageOutcome("ok", {"playbook": "halve-batch"}, "plan")

    async def act(self, context: ExecutionContext, plan: Any) -> StageOutcome:
        self.calls.append(f"act:{plan}")
        return StageOutcome("ok", {}, "pr-1")

    async def verify(self, context: ExecutionContext, result: Any) -> StageOutcome:
        self.calls.append(f"verify:{result}")
        return StageOutcome("ok", {}, "green")

    async def notify(self, context: ExecutionContext, verification: Any) -> StageOutcome:
        self.calls.append(f"notify:{verification}")
        return StageOutcome("ok", {"end_state": "verified"})


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    await asyncio.to_thread(upgrade, url)
    database = Database.connect(url)
    yield database
    await database.close()


async def run_for(database: Database, delivery: Claim, recent: Any = None) -> PipelineRun:
    """Run the pipeline with no GitHub credentials, keeping the record even when it raises."""
    run = PipelineRun()
    try:
        await run_pipeline(run, delivery, recent or no_recent, 10, database, lambda _: None)
    finally:
        run_for.last = run  # type: ignore[attr-defined]
    return run


@pytest.fixture
def detector() -> Iterator[None]:
    register(FailureDetector())
    yield
    unregister(FailureDetector.id)


def statuses(run: PipelineRun) -> dict[str, str]:
    return {name: stage["status"] for name, stage in run.stages.items()}


async def test_with_no_detector_every_later_stage_is_skipped_with_a_reason(
    database: Database,
) -> None:
    run = await run_for(database, claim())
    assert run.end_state == "no_detection"
    assert list(run.stages) == list(STAGES)
    assert statuses(run)["scan"] == "skipped"
    assert "no registered detector" in run.stages["scan"]["detail"]["reason"]
    assert run.stages["act"]["detail"] == {"reason": "nothing was detected"}


@pytest.mark.usefixtures("detector")
async def test_detections_without_a_playbook_engine_end_as_detected(database: Database) -> None:
    run = await run_for(database, claim())
    assert run.end_state == "detected"
    (detection,) = run.stages["detect"]["detail"]["detections"]
    assert detection["detector"] == "test_failure_detector"
    assert (detection["category"], detection["signature"]) == ("gpu_oom", "sig-1")
    assert run.stages["select_playbook"]["detail"] == {"reason": "no playbook engine is installed"}


@pytest.mark.usefixtures("detector")
async def test_the_remediation_stages_run_in_order_and_name_the_end_state(
    database: Database,
) -> None:
    remediation = RecordingRemediation()
    install_remediation(remediation)
    try:
        run = await run_for(database, claim())
    finally:
        install_remediation(None)
    assert remediation.calls == ["select_playbook", "act:plan", "verify:pr-1", "notify:green"]
    assert run.end_state == "verified"
    assert set(statuses(run).values()) == {"ok"}
    assert all(stage["duration_ms"] >= 0 for stage in run.stages.values())


async def test_events_we_do_not_act_on_end_as_ignored(database: Database) -> None:
    run = await run_for(database, claim("star"))
    assert run.end_state == "ignored"
    assert statuses(run)["parse"] == "skipped"


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]"], ids=["truncated", "array"])
async def test_a_body_that_is_not_a_json_object_fails_validation(
    database: Database, body: bytes
) -> None:
    with pytest.raises(InvalidPayloadError):
        await run_for(database, claim(body=body))
    assert statuses(run_for.last) == {"validate": "failed"}  # type: ignore[attr-defined]


async def test_a_repository_over_its_budget_is_deferred(database: Database) -> None:
    async def busy(_repository: str) -> int:
        return 11

    with pytest.raises(ThrottledError) as raised:
        await run_for(database, claim(), busy)
    assert raised.value.retry_after > 0
    assert statuses(run_for.last) == {"validate": "ok", "throttle": "deferred"}  # type: ignore[attr-defined]
