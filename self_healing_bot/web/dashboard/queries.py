"""The dashboard's reads: one function per page, each returning plain data for its template;
what the API reads too comes from `storage/views.py`.

async with database.session() as session:
    incidents = await recent_incidents(session, since=utc_now() - timedelta(days=14))
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from self_healing_bot.core.bot import STAGES
from self_healing_bot.storage.api_keys import ApiKey, KeyInfo
from self_healing_bot.storage.deliveries import as_utc
from self_healing_bot.storage.detections import DetectionRecord
from self_healing_bot.storage.models import AuditEvent, DeliveryStatus, Execution, WebhookDelivery
from self_healing_bot.storage.repairs import Repair
from self_healing_bot.storage.views import (
    RepairDetail,
    detections_of_execution,
    repairs_of_deliveries,
    repairs_of_delivery,
)
from self_healing_bot.web.dashboard.incidents import Finding, Incident, findings_of

# End states that never hold an incident; filtering them in SQL keeps the scan small.
_NOT_INCIDENTS = ("ignored", "no_detection", "throttled")


async def recent_incidents(session: AsyncSession, since: datetime) -> list[Incident]:
    """Incidents whose webhook arrived at or after `since`, oldest first (one per delivery)."""
    rows = await session.execute(
        select(
            Execution.id,
            Execution.delivery_id,
            Execution.repository,
            Execution.stages,
            Execution.finished_at,
            Execution.end_state,
            WebhookDelivery.event,
            WebhookDelivery.received_at,
        )
        .join(WebhookDelivery, WebhookDelivery.delivery_id == Execution.delivery_id)
        .where(
            WebhookDelivery.received_at >= since,
            or_(Execution.end_state.is_(None), Execution.end_state.not_in(_NOT_INCIDENTS)),
        )
        .order_by(Execution.id)
    )
    found = rows.all()
    repairs = await repairs_of_deliveries(session, {row.delivery_id for row in found})
    latest: dict[str, Incident] = {}
    for row in found:
        repair = repairs.get(row.delivery_id)
        latest[row.delivery_id] = Incident(
            execution_id=row.id,
            delivery_id=row.delivery_id,
            repository=row.repository,
            event=row.event,
            received_at=as_utc(row.received_at),
            finished_at=as_utc(row.finished_at) if row.finished_at else None,
            end_state=row.end_state,
            findings=findings_of(row.stages or {}),
            repair_state=repair.state if repair is not None else None,
            repaired_in_seconds=_failure_to_verified(repair),
        )
    incidents = [incident for incident in latest.values() if incident.findings]
    return sorted(incidents, key=lambda incident: incident.received_at)


def _failure_to_verified(repair: Repair | None) -> float | None:
    if repair is None or repair.verified_at is None:
        return None
    return (repair.verified_at - (repair.failed_at or repair.detected_at)).total_seconds()


@dataclass(frozen=True)
class StageView:
    name: str
    status: str
    started_at: str | None
    duration_ms: float
    detail: dict[str, Any]


@dataclass(frozen=True)
class Attempt:
    execution_id: int
    attempt: int
    end_state: str | None


@dataclass(frozen=True)
class ExecutionView:
    execution_id: int
    delivery_id: str
    repository: str | None
    event: str
    action: str | None
    delivery_status: str
    attempt: int
    received_at: datetime
    started_at: datetime
    finished_at: datetime | None
    end_state: str | None
    stages: tuple[StageView, ...]
    findings: tuple[Finding, ...]
    attempts: tuple[Attempt, ...]
    detections: tuple[DetectionRecord, ...]
    repairs: tuple[RepairDetail, ...]

    def stage(self, name: str) -> StageView | None:
        return next((stage for stage in self.stages if stage.name == name), None)


def stage_views(stages: dict[str, Any]) -> tuple[StageView, ...]:
    """The recorded stages in pipeline order, then any stage the pipeline no longer names."""
    names = [name for name in STAGES if name in stages]
    names += sorted(name for name in stages if name not in STAGES)
    return tuple(
        StageView(
            name=name,
            status=str(stages[name].get("status", "unknown")),
            started_at=stages[name].get("started_at"),
            duration_ms=float(stages[name].get("duration_ms") or 0.0),
            detail=dict(stages[name].get("detail") or {}),
        )
        for name in names
    )


async def execution_view(session: AsyncSession, execution_id: int) -> ExecutionView | None:
    """One execution with its delivery and its sibling attempts; None when it does not exist."""
    found = (
        await session.execute(
            select(Execution, WebhookDelivery)
            .join(WebhookDelivery, WebhookDelivery.delivery_id == Execution.delivery_id)
            .where(Execution.id == execution_id)
        )
    ).one_or_none()
    if found is None:
        return None
    execution, delivery = found
    siblings = await session.execute(
        select(Execution.id, Execution.attempt, Execution.end_state)
        .where(Execution.delivery_id == execution.delivery_id)
        .order_by(Execution.id)
    )
    findings = findings_of(execution.stages or {})
    detections = (
        await detections_of_execution(
            session,
            execution.repository,
            execution.delivery_id,
            [finding.signature for finding in findings],
        )
        if execution.repository is not None
        else []
    )
    repairs = await repairs_of_delivery(session, execution.delivery_id)
    return ExecutionView(
        execution_id=execution.id,
        delivery_id=execution.delivery_id,
        repository=execution.repository,
        event=delivery.event,
        action=delivery.action,
        delivery_status=delivery.status,
        attempt=execution.attempt,
        received_at=as_utc(delivery.received_at),
        started_at=as_utc(execution.started_at),
        finished_at=as_utc(execution.finished_at) if execution.finished_at else None,
        end_state=execution.end_state,
        stages=stage_views(execution.stages or {}),
        findings=findings,
        attempts=tuple(Attempt(id_, attempt, end) for id_, attempt, end in siblings),
        detections=tuple(detections),
        repairs=tuple(repairs),
    )


@dataclass(frozen=True)
class LedgerRow:
    delivery_id: str
    event: str
    action: str | None
    repository: str | None
    status: str
    attempts: int
    replays: int
    last_error: str | None
    received_at: datetime
    finished_at: datetime | None
    latest_execution_id: int | None

    @property
    def replayable(self) -> bool:
        return self.status in {DeliveryStatus.DONE, DeliveryStatus.FAILED, DeliveryStatus.DEAD}


@dataclass(frozen=True)
class Ledger:
    """Counts per status over every stored delivery, and the latest rows of one status (or all)."""

    counts: dict[str, int]
    redelivered: int
    rows: tuple[LedgerRow, ...]

    @property
    def received(self) -> int:
        return sum(self.counts.values())

    @property
    def in_flight(self) -> int:
        waiting = (DeliveryStatus.RECEIVED, DeliveryStatus.QUEUED, DeliveryStatus.PROCESSING)
        return sum(self.counts.get(status, 0) for status in waiting)


async def ledger(session: AsyncSession, status: DeliveryStatus | None, limit: int) -> Ledger:
    """The delivery ledger; `redelivered` counts deliveries an operator replayed at least once."""
    counts = {
        str(name): int(count)
        for name, count in await session.execute(
            select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)
        )
    }
    query = select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    deliveries = (await session.scalars(query)).all()
    ids = [delivery.delivery_id for delivery in deliveries]
    replay_filter = AuditEvent.action == "replay"
    replays: dict[str, int] = {
        subject: count
        for subject, count in await session.execute(
            select(AuditEvent.subject, func.count())
            .where(replay_filter, AuditEvent.subject.in_(ids))
            .group_by(AuditEvent.subject)
        )
    }
    latest: dict[str, int] = {
        delivery_id: execution_id
        for delivery_id, execution_id in await session.execute(
            select(Execution.delivery_id, func.max(Execution.id))
            .where(Execution.delivery_id.in_(ids))
            .group_by(Execution.delivery_id)
        )
    }
    redelivered = await session.scalar(
        select(func.count(func.distinct(AuditEvent.subject))).where(replay_filter)
    )
    rows = tuple(
        LedgerRow(
            delivery_id=delivery.delivery_id,
            event=delivery.event,
            action=delivery.action,
            repository=delivery.repository,
            status=delivery.status,
            attempts=delivery.attempts,
            replays=replays.get(delivery.delivery_id, 0),
            last_error=delivery.last_error,
            received_at=as_utc(delivery.received_at),
            finished_at=as_utc(delivery.finished_at) if delivery.finished_at else None,
            latest_execution_id=latest.get(delivery.delivery_id),
        )
        for delivery in deliveries
    )
    return Ledger(counts=counts, redelivered=int(redelivered or 0), rows=rows)


async def live_key(session: AsyncSession, key_id: str) -> KeyInfo | None:
    """The key a dashboard session names, while it exists and is not revoked."""
    row = await session.scalar(
        select(ApiKey).where(ApiKey.key_id == key_id, ApiKey.revoked_at.is_(None))
    )
    return KeyInfo.of(row) if row is not None else None
