"""Repairs: one row per (repository, failure signature, attempt), moved through named states.

    planned → awaiting_approval → acting → awaiting_verification
            → verified | rolled_back | escalated | suggested | ignored | failed

Every transition is a compare-and-set (`UPDATE ... WHERE state IN (expected)`), so two workers
holding the same redelivered task cannot both move a repair, and each step's row
(`repair_steps`) records start, result and outputs, so a resumed repair skips what is done:

    async with database.session() as session:
        moved = await transition(session, repair.id, {RepairState.PLANNED}, RepairState.ACTING)
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from self_healing_bot.storage.models import Base, BigIdentity, WebhookDelivery, utc_now


class RepairState(StrEnum):
    PLANNED = "planned"
    AWAITING_APPROVAL = "awaiting_approval"
    ACTING = "acting"
    AWAITING_VERIFICATION = "awaiting_verification"
    VERIFIED = "verified"
    ROLLED_BACK = "rolled_back"
    ESCALATED = "escalated"
    SUGGESTED = "suggested"
    IGNORED = "ignored"
    FAILED = "failed"


OPEN_STATES = frozenset(
    {
        RepairState.PLANNED,
        RepairState.AWAITING_APPROVAL,
        RepairState.ACTING,
        RepairState.AWAITING_VERIFICATION,
    }
)
FINAL_STATES = frozenset(set(RepairState) - OPEN_STATES)


class Repair(Base):
    """One attempt at repairing one failure signature in one repository."""

    __tablename__ = "repairs"

    id: Mapped[int] = mapped_column(BigIdentity, primary_key=True, autoincrement=True)
    repository: Mapped[str] = mapped_column(String(256))
    signature: Mapped[str] = mapped_column(String(128))
    attempt: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(64))
    playbook: Mapped[str | None] = mapped_column(String(128))
    level: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(32), default=RepairState.PLANNED)
    delivery_id: Mapped[str] = mapped_column(String(64))
    installation_id: Mapped[int | None] = mapped_column(BigInteger)
    # What is needed to plan the steps again on resume: detection, config, template inputs.
    detection: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    playbook_source: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    plan: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    silenced: Mapped[bool] = mapped_column(Boolean, default=False)
    # Links to what the repair made or follows.
    pull_request: Mapped[int | None] = mapped_column(Integer)
    fix_branch: Mapped[str | None] = mapped_column(String(256))
    issue: Mapped[int | None] = mapped_column(Integer)
    check_run: Mapped[int | None] = mapped_column(BigInteger)
    rerun_run_id: Mapped[int | None] = mapped_column(BigInteger)
    rerun_attempt: Mapped[int | None] = mapped_column(Integer)
    # A run the repair dispatched (retraining): its completed event verifies the repair.
    dispatched_run_id: Mapped[int | None] = mapped_column(BigInteger)
    dispatched_run_url: Mapped[str | None] = mapped_column(String(512))
    verify_sha: Mapped[str | None] = mapped_column(String(64))
    # Timings: failure seen (run finished) → detected → fix PR opened → verified.
    failed_at: Mapped[datetime | None]
    detected_at: Mapped[datetime] = mapped_column(default=utc_now)
    fix_pr_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("repository", "signature", "attempt", name="uq_repairs_attempt"),
    )

    @property
    def timings(self) -> dict[str, float | None]:
        """Seconds: time-to-detect, time-to-fix-PR and time-to-verified (None until known)."""
        start = self.failed_at or self.detected_at

        def since(moment: datetime | None, origin: datetime) -> float | None:
            return None if moment is None else (moment - origin).total_seconds()

        return {
            "time_to_detect_s": since(self.detected_at, start),
            "time_to_fix_pr_s": since(self.fix_pr_at, self.detected_at),
            "time_to_verified_s": since(self.verified_at, self.detected_at),
        }


class RepairStep(Base):
    """One step of a repair's plan (`phase` steps or on_failure) and what came of it."""

    __tablename__ = "repair_steps"

    id: Mapped[int] = mapped_column(BigIdentity, primary_key=True, autoincrement=True)
    repair_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("repairs.id", ondelete="CASCADE"),
        index=True,
    )
    phase: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer)
    uses: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # started | succeeded | failed | skipped
    tries: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(default=utc_now)
    finished_at: Mapped[datetime | None]
    summary: Mapped[str | None] = mapped_column(Text)
    outputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("repair_id", "phase", "position", name="uq_repair_steps_position"),
    )


class UnknownRepairError(LookupError):
    """No repair has this id."""


async def create_repair(session: AsyncSession, repair: Repair) -> Repair | None:
    """Insert `repair`; None when its (repository, signature, attempt) already exists."""
    try:
        async with session.begin_nested():
            session.add(repair)
            await session.flush()
    except IntegrityError:
        return None
    return repair


async def get_repair(session: AsyncSession, repair_id: int) -> Repair:
    repair = await session.get(Repair, repair_id, populate_existing=True)
    if repair is None:
        raise UnknownRepairError(f"no repair has id {repair_id}")
    return repair


async def transition(
    session: AsyncSession,
    repair_id: int,
    expected: Collection[RepairState],
    to: RepairState,
    **values: Any,
) -> bool:
    """Move the repair to `to` only if its state is one of `expected`; True when it moved."""
    if to in FINAL_STATES:
        values.setdefault("finished_at", utc_now())
    result = await session.execute(
        update(Repair)
        .where(Repair.id == repair_id, Repair.state.in_([state.value for state in expected]))
        .values(state=to.value, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def record_links(session: AsyncSession, repair_id: int, **values: Any) -> None:
    """Store links (pull request, issue, check run, re-run) without changing the state."""
    await session.execute(
        update(Repair)
        .where(Repair.id == repair_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def repairs_for_signature(
    session: AsyncSession, repository: str, signature: str
) -> list[Repair]:
    """Every attempt for the signature, oldest first."""
    rows = await session.scalars(
        select(Repair)
        .where(Repair.repository == repository, Repair.signature == signature)
        .order_by(Repair.attempt)
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def unfinished_since(
    session: AsyncSession, before: datetime
) -> list[tuple[Repair, str | None]]:
    """Repairs planned, acting or waiting for CI that were detected before `before`, oldest
    first, each with its delivery's status (None once that delivery is gone)."""
    rows = await session.execute(
        select(Repair, WebhookDelivery.status)
        .outerjoin(WebhookDelivery, WebhookDelivery.delivery_id == Repair.delivery_id)
        .where(
            Repair.state.in_(
                [
                    RepairState.PLANNED.value,
                    RepairState.ACTING.value,
                    RepairState.AWAITING_VERIFICATION.value,
                ]
            ),
            Repair.detected_at < before,
        )
        .order_by(Repair.id)
    )
    return [(repair, status) for repair, status in rows.all()]


async def linked_to_ci(
    session: AsyncSession, repository: str, run_id: int, head_sha: str
) -> list[Repair]:
    """Repairs, waiting or done, that dispatched or re-ran run `run_id` or whose fix commit
    is `head_sha`: those a CI result on them may be about."""
    rows = await session.scalars(
        select(Repair)
        .where(
            Repair.repository == repository,
            or_(
                Repair.dispatched_run_id == run_id,
                Repair.rerun_run_id == run_id,
                Repair.verify_sha == head_sha,
            ),
        )
        .order_by(Repair.id)
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def repair_for_thread(session: AsyncSession, repository: str, number: int) -> Repair | None:
    """The latest repair whose pull request or issue is `number` (where a `/heal` was said)."""
    return await session.scalar(
        select(Repair)
        .where(
            Repair.repository == repository,
            (Repair.pull_request == number) | (Repair.issue == number),
        )
        .order_by(Repair.id.desc())
        .limit(1)
        .execution_options(populate_existing=True)
    )


async def reruns_since(session: AsyncSession, repository: str, since: timedelta) -> int:
    count = await session.scalar(
        select(func.count()).where(
            Repair.repository == repository,
            Repair.rerun_run_id.is_not(None),
            Repair.detected_at > utc_now() - since,
        )
    )
    return int(count or 0)


async def completed_steps(
    session: AsyncSession, repair_id: int
) -> dict[tuple[str, int], RepairStep]:
    """Steps that finished (succeeded or skipped), by (phase, position)."""
    rows = await session.scalars(
        select(RepairStep).where(
            RepairStep.repair_id == repair_id, RepairStep.status.in_(["succeeded", "skipped"])
        )
    )
    return {(row.phase, row.position): row for row in rows}


async def start_step(
    session: AsyncSession, repair_id: int, phase: str, position: int, uses: str
) -> None:
    """Record that a step starts (again): a new row, or one more try on the existing one."""
    step = await session.scalar(
        select(RepairStep).where(
            RepairStep.repair_id == repair_id,
            RepairStep.phase == phase,
            RepairStep.position == position,
        )
    )
    if step is None:
        session.add(
            RepairStep(
                repair_id=repair_id,
                phase=phase,
                position=position,
                uses=uses,
                status="started",
                tries=1,
                outputs={},
            )
        )
    else:
        step.status, step.tries, step.started_at, step.error = (
            "started",
            step.tries + 1,
            utc_now(),
            None,
        )


async def finish_step(
    session: AsyncSession,
    repair_id: int,
    phase: str,
    position: int,
    status: str,
    *,
    summary: str | None = None,
    outputs: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    await session.execute(
        update(RepairStep)
        .where(
            RepairStep.repair_id == repair_id,
            RepairStep.phase == phase,
            RepairStep.position == position,
        )
        .values(
            status=status,
            finished_at=utc_now(),
            summary=summary,
            outputs=outputs or {},
            error=error,
        )
        .execution_options(synchronize_session=False)
    )


async def steps_of(session: AsyncSession, repair_id: int) -> list[RepairStep]:
    rows = await session.scalars(
        select(RepairStep)
        .where(RepairStep.repair_id == repair_id)
        .order_by(RepairStep.phase.desc(), RepairStep.position)
    )
    return list(rows)
