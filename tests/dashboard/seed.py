"""A small, known history for the dashboard tests: incidents healed and not, a dead delivery,
a replayed one, hostile strings, and one key per role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from self_healing_bot.drift.compare import compare_tables
from self_healing_bot.drift.html_report import render_html
from self_healing_bot.drift.tables import table_from_bytes
from self_healing_bot.storage.api_keys import Role, create_key
from self_healing_bot.storage.database import Database
from self_healing_bot.storage.drift_reports import store_report
from self_healing_bot.storage.models import AuditEvent, Execution, WebhookDelivery, utc_now

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


def drift_report() -> tuple[dict[str, Any], str]:
    """A real report of a shifted numeric column, as JSON and as the renderer's HTML page."""
    reference = "\n".join(["loss", *(str(value / 10) for value in range(200))]).encode()
    current = "\n".join(["loss", *(str(value / 10 + 12) for value in range(200))]).encode()
    report = compare_tables(
        table_from_bytes("reference.csv", reference), table_from_bytes("current.csv", current)
    )
    return report.to_dict(), render_html(report)


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
                "sig-oom", act={"action": "open_fix_pull_request", "pull_request": PULL_REQUEST_URL}
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
        report, html = drift_report()
        report_id = await store_report(
            session, "octo/train", "data/current.csv", "a1b2c3", report, html
        )
        await session.flush()
        return Seeded(
            viewer_key=viewer.key,
            operator_key=operator.key,
            healed_execution=healed.id,
            escalated_execution=escalated.id,
            dead_delivery="d-dead",
            processing_delivery="d-processing",
            drift_report=report_id,
        )
