"""A small, known history for the dashboard tests: incidents healed and not, a dead delivery,
a replayed one, hostile strings, one key per role, and the stored detection, repair and drift
report of the healed incident."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from self_healing_bot.storage.api_keys import Role, create_key
from self_healing_bot.storage.database import Database
from self_healing_bot.storage.models import AuditEvent, Execution, WebhookDelivery, utc_now
from tests.api.rows import OOM_SIGNATURE, store_rows

HOSTILE = "<script>alert('owned')</script>"
PULL_REQUEST_URL = "https://github.com/octo/train/pull/7"
ISSUE_URL = "https://github.com/octo/train/issues/9"


@dataclass(frozen=True)
class Seeded:
    viewer_key: str
    operator_key: str
    healed_execution: int
    escalated_execution: int
    dead_delivery: str
    processing_delivery: str
    drift_report: int
    verified_repair: int


def stages(
    signature: str | None, category: str = "cuda_oom", act: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A recorded ten-stage run; without a signature nothing was detected."""

    def stage(status: str, duration_ms: float, **detail: Any) -> dict[str, Any]:
        return {
            "status": status,
            "started_at": "2024-05-14T10:00:00+00:00",
            "duration_ms": duration_ms,
            "detail": detail,
        }

    detections = (
        [{"detector": "pipeline_failure", "category": category, "signature": signature}]
        if signature
        else []
    )
    record = {
        "validate": stage("ok", 0.2, bytes=2048),
        "throttle": stage("ok", 1.1, executions_last_minute=1, limit=120),
        "parse": stage("ok", 0.4, model="WorkflowRunEvent"),
        "context": stage("ok", 0.3, repository="octo/train"),
        "scan": stage("ok", 0.1, detectors=["pipeline_failure"]),
        "detect": stage("ok", 250.0, detections=detections),
    }
    if act is None:
        for name in ("select_playbook", "act", "verify", "notify"):
            record[name] = stage("skipped", 0, reason="no playbook engine is installed")
        return record
    record["select_playbook"] = stage("ok", 3.0, playbook="cuda-oom")
    record["act"] = stage("ok", 900.0, **act)
    record["verify"] = stage("ok", 4000.0, conclusion="success", run="rerun 2 passed")
    record["notify"] = stage("ok", 120.0, end_state="verified")
    return record


async def seed(database: Database) -> Seeded:
    now = utc_now()

    def delivery(
        delivery_id: str, received: datetime, status: str, **extra: Any
    ) -> WebhookDelivery:
        return WebhookDelivery(
            delivery_id=delivery_id,
            event="workflow_run",
            action="completed",
            repository=extra.pop("repository", "octo/train"),
            installation_id=1,
            body=b"{}",
            status=status,
            attempts=extra.pop("attempts", 1),
            received_at=received,
            updated_at=received,
            finished_at=None if status in ("received", "queued", "processing") else received,
            **extra,
        )

    healed_at = now - timedelta(days=1)
    escalated_at = now - timedelta(days=2)
    async with database.session() as session:
        viewer = await create_key(session, role=Role.VIEWER, name="reader")
        operator = await create_key(session, role=Role.OPERATOR, name="on-call")
        session.add_all(
            [
                delivery("d-healed", healed_at, "done"),
                delivery("d-escalated", escalated_at, "done", repository=HOSTILE),
                delivery("d-quiet", now - timedelta(hours=3), "done"),
                delivery(
                    "d-dead", now - timedelta(hours=2), "dead", attempts=5, last_error="Boom()"
                ),
                delivery("d-processing", now - timedelta(minutes=1), "processing"),
            ]
        )
        await session.flush()
        healed = Execution(
            delivery_id="d-healed",
            repository="octo/train",
            attempt=1,
            started_at=healed_at,
            finished_at=healed_at + timedelta(seconds=90),
            end_state="verified",
            stages=stages(
                OOM_SIGNATURE,
                category="gpu_oom",
                act={"action": "open_fix_pull_request", "pull_request": PULL_REQUEST_URL},
            ),
        )
        escalated = Execution(
            delivery_id="d-escalated",
            repository=HOSTILE,
            attempt=1,
            started_at=escalated_at,
            finished_at=escalated_at + timedelta(seconds=30),
            end_state="escalated",
            stages=stages(
                HOSTILE,
                category="dependency_conflict",
                act={"issue": ISSUE_URL, "link": "javascript:alert(1)"},
            ),
        )
        quiet = Execution(
            delivery_id="d-quiet",
            repository="octo/train",
            attempt=1,
            started_at=now - timedelta(hours=3),
            finished_at=now - timedelta(hours=3),
            end_state="no_detection",
            stages=stages(None),
        )
        session.add_all([healed, escalated, quiet])
        session.add(AuditEvent(actor="api", action="replay", subject="d-healed", detail={}))
        # The healed delivery's stored detection, its verified repair and a drift report.
        rows = await store_rows(session, "octo/train", "d-healed")
        await session.flush()
        return Seeded(
            viewer_key=viewer.key,
            operator_key=operator.key,
            healed_execution=healed.id,
            escalated_execution=escalated.id,
            dead_delivery="d-dead",
            processing_delivery="d-processing",
            drift_report=rows.drift_report,
            verified_repair=rows.verified_repair,
        )
