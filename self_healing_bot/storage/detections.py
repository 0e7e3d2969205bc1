"""Detections and the failure history behind them: what failed, where, how often, and if flaky.

The detect stage stores every detection (`record_detections`); each new one also updates the
history of its failure signature in the repository (first and last seen, count, the commits
it failed on). The same failure reported by several events (a job's `workflow_job`, then its
`workflow_run`) or a redelivered event is stored once: detections are unique per repository,
detector, signature and occurrence (the run attempt and job the detector names).

    async with database.session() as session:
        stored = await record_detections(session, "72d3162e-...", "octo/ml", detections)
        history = await signature_history(session, "octo/ml", "gpu_oom:4f1c2a9e")
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from self_healing_bot.detectors.registry import Detection
from self_healing_bot.storage.database import dialect_insert
from self_healing_bot.storage.deliveries import as_utc
from self_healing_bot.storage.models import Base, BigIdentity, utc_now

# A signature seen on hundreds of commits needs only its recent ones to be useful.
MAX_COMMITS_PER_SIGNATURE = 100


class DetectionRecord(Base):
    __tablename__ = "detections"
    __table_args__ = (
        UniqueConstraint("repository", "detector", "signature", "occurrence"),
        Index("ix_detections_repository_head_sha", "repository", "head_sha"),
        Index("ix_detections_repository_run_id", "repository", "run_id"),
    )

    id: Mapped[int] = mapped_column(BigIdentity, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(String(64))
    repository: Mapped[str] = mapped_column(String(256))
    detector: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32))
    confidence: Mapped[float] = mapped_column(Float)
    signature: Mapped[str] = mapped_column(String(128))
    summary: Mapped[str] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    job: Mapped[str | None] = mapped_column(String(256))
    step: Mapped[str | None] = mapped_column(String(256))
    head_sha: Mapped[str | None] = mapped_column(String(64))
    run_id: Mapped[int | None] = mapped_column(BigInteger)
    occurrence: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime]


class FailureSignature(Base):
    __tablename__ = "failure_signatures"
    __table_args__ = (UniqueConstraint("repository", "signature"),)

    id: Mapped[int] = mapped_column(BigIdentity, primary_key=True, autoincrement=True)
    repository: Mapped[str] = mapped_column(String(256))
    signature: Mapped[str] = mapped_column(String(128))
    category: Mapped[str] = mapped_column(String(32))
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    count: Mapped[int] = mapped_column(Integer)
    commits: Mapped[list[str]] = mapped_column(JSON)
    flaky: Mapped[bool] = mapped_column(Boolean, default=False)
    ignored: Mapped[bool] = mapped_column(Boolean, default=False)


@dataclass(frozen=True)
class SignatureHistory:
    """What the repository has seen of one failure signature."""

    repository: str
    signature: str
    category: str
    first_seen: datetime
    last_seen: datetime
    count: int
    commits: tuple[str, ...]
    flaky: bool
    ignored: bool


def occurrence_of(delivery_id: str, detection: Detection) -> str:
    """The failure this detection is one report of: the detector's `occurrence` parameter
    (e.g. "run 12 attempt 1 job train"), else the delivery that caused it."""
    occurrence = detection.params.get("occurrence")
    return str(occurrence) if occurrence else f"delivery {delivery_id}"


def _optional_str(params: dict[str, Any], key: str) -> str | None:
    value = params.get(key)
    return None if value is None else str(value)


def _optional_int(params: dict[str, Any], key: str) -> int | None:
    value = params.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


async def record_detections(
    session: AsyncSession, delivery_id: str, repository: str, detections: Sequence[Detection]
) -> list[Detection]:
    """Store the detections not stored before and update their signatures' history.

    Returns the new ones; a detection already stored for the same occurrence is left alone.
    """
    insert = dialect_insert(session)
    new: list[Detection] = []
    for detection in detections:
        params = detection.params
        now = utc_now()
        statement = (
            insert(DetectionRecord)
            .values(
                delivery_id=delivery_id,
                repository=repository,
                detector=detection.detector_id,
                category=detection.category,
                confidence=detection.confidence,
                signature=detection.signature,
                summary=detection.summary,
                params=params,
                evidence=list(detection.evidence),
                job=_optional_str(params, "job"),
                step=_optional_str(params, "step"),
                head_sha=detection.head_sha or _optional_str(params, "head_sha"),
                run_id=_optional_int(params, "run_id"),
                occurrence=occurrence_of(delivery_id, detection),
                created_at=now,
            )
            .on_conflict_do_nothing(
                index_elements=["repository", "detector", "signature", "occurrence"]
            )
            .returning(DetectionRecord.id)
        )
        if (await session.execute(statement)).scalar() is None:
            continue
        new.append(detection)
        head_sha = detection.head_sha or _optional_str(params, "head_sha")
        await _seen(session, insert, repository, detection, head_sha, now)
    return new


async def _seen(
    session: AsyncSession,
    insert: Any,
    repository: str,
    detection: Detection,
    head_sha: str | None,
    now: datetime,
) -> None:
    await session.execute(
        insert(FailureSignature)
        .values(
            repository=repository,
            signature=detection.signature,
            category=detection.category,
            first_seen=now,
            last_seen=now,
            count=0,
            commits=[],
            flaky=False,
            ignored=False,
        )
        .on_conflict_do_nothing(index_elements=["repository", "signature"])
    )
    # The row lock serialises workers updating the same signature (PostgreSQL; SQLite has
    # one writer anyway), so no count or commit is lost between the read and the write.
    count, stored_commits = (
        await session.execute(
            select(FailureSignature.count, FailureSignature.commits)
            .where(
                FailureSignature.repository == repository,
                FailureSignature.signature == detection.signature,
            )
            .with_for_update()
        )
    ).one()
    commits = list(stored_commits)
    if head_sha is not None and head_sha not in commits:
        commits = [*commits, head_sha][-MAX_COMMITS_PER_SIGNATURE:]
    await session.execute(
        update(FailureSignature)
        .where(
            FailureSignature.repository == repository,
            FailureSignature.signature == detection.signature,
        )
        .values(count=count + 1, last_seen=now, commits=commits, category=detection.category)
    )


async def mark_flaky(
    session: AsyncSession, repository: str, head_sha: str, run_id: int, job: str | None = None
) -> list[str]:
    """A job (or, with `job` None, every job of the run) passed on re-run at `head_sha`:
    the signatures it failed with there are flaky. Returns those signatures, sorted."""
    query = select(DetectionRecord.signature).where(
        DetectionRecord.repository == repository,
        DetectionRecord.head_sha == head_sha,
        DetectionRecord.run_id == run_id,
    )
    if job is not None:
        query = query.where(DetectionRecord.job == job)
    signatures = sorted(set((await session.execute(query)).scalars()))
    if signatures:
        await session.execute(
            update(FailureSignature)
            .where(
                FailureSignature.repository == repository,
                FailureSignature.signature.in_(signatures),
            )
            .values(flaky=True)
        )
    return signatures


async def mark_ignored(session: AsyncSession, repository: str, signature: str) -> bool:
    """Mark the repository's signature ignored; False when it never failed with it."""
    result = await session.execute(
        update(FailureSignature)
        .where(FailureSignature.repository == repository, FailureSignature.signature == signature)
        .values(ignored=True)
    )
    return bool(getattr(result, "rowcount", 0))


async def signature_history(
    session: AsyncSession, repository: str, signature: str
) -> SignatureHistory | None:
    """The repository's history of one signature, or None if it never failed with it."""
    row = await session.scalar(
        select(FailureSignature).where(
            FailureSignature.repository == repository, FailureSignature.signature == signature
        )
    )
    if row is None:
        return None
    return SignatureHistory(
        repository=row.repository,
        signature=row.signature,
        category=row.category,
        first_seen=as_utc(row.first_seen),
        last_seen=as_utc(row.last_seen),
        count=row.count,
        commits=tuple(row.commits),
        flaky=row.flaky,
        ignored=row.ignored,
    )


async def detections_for(session: AsyncSession, repository: str) -> list[DetectionRecord]:
    """The repository's stored detections, oldest first."""
    result = await session.scalars(
        select(DetectionRecord)
        .where(DetectionRecord.repository == repository)
        .order_by(DetectionRecord.id)
    )
    return list(result)
