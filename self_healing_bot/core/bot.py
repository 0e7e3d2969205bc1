"""The pipeline's spine: ten named stages, each timed and recorded on the execution.

    validate → throttle → parse → context → scan → detect
             → select_playbook → act → verify → notify

`run_pipeline` is pure orchestration over a `Claim` (the delivery a worker owns); the queue
task (`queue/tasks.py`) owns the database state around it. Detectors come from
`detectors/registry.py`; the last four stages call the installed `Remediation` (the playbook
engine of another issue). Without one they record `skipped` and say why.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import structlog

from self_healing_bot import metrics
from self_healing_bot.core.context import ExecutionContext
from self_healing_bot.core.events import Event, parse_event
from self_healing_bot.detectors.registry import (
    Detection,
    DetectionSkipped,
    Detector,
    detectors_for,
)
from self_healing_bot.github.operations import InstallationClient
from self_healing_bot.storage.database import Database
from self_healing_bot.storage.deliveries import Claim
from self_healing_bot.storage.detections import record_detections
from self_healing_bot.storage.models import utc_now

StageStatus = Literal["ok", "skipped", "failed", "deferred"]
STAGES = (
    "validate",
    "throttle",
    "parse",
    "context",
    "scan",
    "detect",
    "select_playbook",
    "act",
    "verify",
    "notify",
)


@dataclass(frozen=True)
class StageOutcome:
    """What a stage reports: its status, a JSON-able detail, and a value for the next stage."""

    status: StageStatus
    detail: dict[str, Any] = field(default_factory=dict)
    value: Any = None


class Remediation(Protocol):
    """The playbook engine: chooses, applies, verifies and reports a fix for detections."""

    async def select_playbook(
        self, context: ExecutionContext, detections: list[Detection]
    ) -> StageOutcome: ...

    async def act(self, context: ExecutionContext, plan: Any) -> StageOutcome: ...

    async def verify(self, context: ExecutionContext, result: Any) -> StageOutcome: ...

    async def notify(self, context: ExecutionContext, verification: Any) -> StageOutcome: ...


_remediation: Remediation | None = None


def install_remediation(remediation: Remediation | None) -> None:
    """Set the engine the last four stages call (None removes it)."""
    global _remediation
    _remediation = remediation


def installed_remediation() -> Remediation | None:
    """The engine the last four stages call now (None: they record `skipped`)."""
    return _remediation


class InvalidPayloadError(ValueError):
    """The stored body is not a JSON object; retrying cannot help."""


class ThrottledError(Exception):
    """The repository used its processing budget; process this delivery after `retry_after`."""

    def __init__(self, repository: str, retry_after: float) -> None:
        super().__init__(f"{repository} is over its processing budget; retry in {retry_after:.0f}s")
        self.repository = repository
        self.retry_after = retry_after


RecentExecutions = Callable[[str], Awaitable[int]]
# The GitHub client for an installation id (None: app-level event); None when it cannot act.
ClientFor = Callable[[int | None], InstallationClient | None]


@dataclass
class PipelineRun:
    """The record of one run: stage name → {status, started_at, duration_ms, detail}."""

    stages: dict[str, dict[str, Any]] = field(default_factory=dict)
    end_state: str = "failed"
    detections: list[Detection] = field(default_factory=list)

    async def stage(self, name: str, work: Awaitable[StageOutcome]) -> StageOutcome:
        started_at = utc_now()
        clock = time.perf_counter()
        try:
            outcome = await work
        except ThrottledError as error:
            outcome = StageOutcome("deferred", {"retry_after_s": error.retry_after})
            self._record(name, started_at, clock, outcome)
            raise
        except Exception as error:
            self._record(name, started_at, clock, StageOutcome("failed", {"error": repr(error)}))
            raise
        self._record(name, started_at, clock, outcome)
        return outcome

    def skip_rest(self, reason: str) -> None:
        for name in STAGES:
            self.stages.setdefault(
                name,
                {
                    "status": "skipped",
                    "started_at": None,
                    "duration_ms": 0,
                    "detail": {"reason": reason},
                },
            )
        self.stages = {name: self.stages[name] for name in STAGES}  # in pipeline order

    def _record(self, name: str, started_at: Any, clock: float, outcome: StageOutcome) -> None:
        elapsed = time.perf_counter() - clock
        metrics.STAGE_DURATION.labels(stage=name).observe(elapsed)
        self.stages[name] = {
            "status": outcome.status,
            "started_at": started_at.isoformat(),
            "duration_ms": round(elapsed * 1000, 3),
            "detail": outcome.detail,
        }


async def validate(claim: Claim) -> StageOutcome:
    try:
        payload = json.loads(claim.body)
    except ValueError as error:
        raise InvalidPayloadError(f"stored body is not JSON: {error}") from error
    if not isinstance(payload, dict):
        raise InvalidPayloadError(f"stored body is a JSON {type(payload).__name__}, not an object")
    return StageOutcome("ok", {"bytes": len(claim.body)}, payload)


async def throttle(claim: Claim, recent_executions: RecentExecutions, limit: int) -> StageOutcome:
    if claim.repository is None:
        return StageOutcome("skipped", {"reason": "event has no repository"})
    count = await recent_executions(claim.repository)
    if count > limit:
        raise ThrottledError(claim.repository, retry_after=60.0)
    return StageOutcome("ok", {"executions_last_minute": count, "limit": limit})


async def parse(claim: Claim, payload: dict[str, Any]) -> StageOutcome:
    event = parse_event(claim.event, payload)
    if event is None:
        return StageOutcome("skipped", {"reason": f"the bot does not act on {claim.event} events"})
    return StageOutcome("ok", {"model": type(event).__name__}, event)


async def build_context(
    claim: Claim, event: Event, payload: dict[str, Any], database: Database, client_for: ClientFor
) -> StageOutcome:
    log = structlog.stdlib.get_logger("self_healing_bot.pipeline").bind(
        delivery_id=claim.delivery_id, repository=claim.repository, event=claim.event
    )
    installation_id = event.installation.id if event.installation else None
    context = ExecutionContext(
        claim.delivery_id,
        claim.event,
        event,
        payload,
        claim.attempt,
        log,
        database,
        client_for(installation_id),
    )
    detail = {
        "repository": context.repository,
        "installation": installation_id,
        "github": context.github is not None,
    }
    return StageOutcome("ok", detail, context)


async def scan(context: ExecutionContext) -> StageOutcome:
    detectors = detectors_for(context.event)
    if not detectors:
        return StageOutcome(
            "skipped", {"reason": f"no registered detector applies to {context.event_name}"}, []
        )
    return StageOutcome("ok", {"detectors": [detector.id for detector in detectors]}, detectors)


async def detect(context: ExecutionContext, detectors: list[Detector]) -> StageOutcome:
    if not detectors:
        return StageOutcome("skipped", {"reason": "no detector to run"}, [])
    results = await asyncio.gather(
        *(detector.detect(context) for detector in detectors), return_exceptions=True
    )
    detections: list[Detection] = []
    errors: dict[str, str] = {}
    skipped: dict[str, str] = {}
    for detector, result in zip(detectors, results, strict=True):
        if isinstance(result, DetectionSkipped):
            context.log.info("detector skipped", detector=detector.id, reason=str(result))
            skipped[detector.id] = str(result)
        elif isinstance(result, BaseException):
            if not isinstance(result, Exception):
                raise result
            context.log.error("detector failed", detector=detector.id, exc_info=result)
            errors[detector.id] = repr(result)
        else:
            detections.extend(result)
    new: list[Detection] = []
    if detections and context.repository is not None:
        async with context.database.session() as session:
            new = await record_detections(
                session, context.delivery_id, context.repository, detections
            )
    detail: dict[str, Any] = {
        "detections": [
            {
                "detector": d.detector_id,
                "category": d.category,
                "signature": d.signature,
                "new": d in new,
            }
            for d in detections
        ]
    }
    if skipped:
        detail["skipped"] = skipped
    if errors:
        detail["errors"] = errors
    return StageOutcome("failed" if errors else "ok", detail, detections)


async def run_pipeline(
    run: PipelineRun,
    claim: Claim,
    recent_executions: RecentExecutions,
    throttle_limit: int,
    database: Database,
    client_for: ClientFor,
) -> None:
    """Run the ten stages for one claimed delivery, recording each on `run`.

    Raises ThrottledError (defer, not a failure), InvalidPayloadError or MalformedEventError
    (fail for good), or any other exception (a failed attempt, to be retried); the stages that
    ran are on `run` either way.
    """
    payload = (await run.stage("validate", validate(claim))).value
    await run.stage("throttle", throttle(claim, recent_executions, throttle_limit))
    event = (await run.stage("parse", parse(claim, payload))).value
    if event is None:
        run.end_state = "ignored"
        run.skip_rest(f"{claim.event} events are stored and acknowledged, not acted on")
        return
    context: ExecutionContext = (
        await run.stage("context", build_context(claim, event, payload, database, client_for))
    ).value
    detectors = (await run.stage("scan", scan(context))).value
    run.detections = (await run.stage("detect", detect(context, detectors))).value
    if not run.detections and _remediation is not None:
        # A CI result or a `/heal` comment may still answer a pending repair.
        answered = (await run.stage("verify", _remediation.verify(context, None))).value
        if answered:
            notified = await run.stage("notify", _remediation.notify(context, answered))
            run.end_state = str(notified.detail.get("end_state", "remediated"))
            run.skip_rest("nothing was detected; the event answered a pending repair")
            return
    if not run.detections:
        run.end_state = "no_detection"
        run.skip_rest("nothing was detected")
        return
    remediation = _remediation
    if remediation is None:
        run.end_state = "detected"
        run.skip_rest("no playbook engine is installed")
        return
    plan = (
        await run.stage("select_playbook", remediation.select_playbook(context, run.detections))
    ).value
    result = (await run.stage("act", remediation.act(context, plan))).value
    verification = (await run.stage("verify", remediation.verify(context, result))).value
    notified = await run.stage("notify", remediation.notify(context, verification))
    run.end_state = str(notified.detail.get("end_state", "remediated"))
