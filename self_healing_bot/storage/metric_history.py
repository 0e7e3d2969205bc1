"""The metrics of a repository's default branch, one row per metric and commit: the rolling
baseline the model-degradation detector compares a new metrics file with.

Recording is idempotent on (repository, metric, commit), so a re-delivered push adds nothing.

    await record_metrics(session, "octo/ml", sha, {"accuracy": 0.91})
    history = await metric_history(session, "octo/ml", ["accuracy"], limit=50, exclude_commit=sha)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import Float, Index, String, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from self_healing_bot.degradation.assessment import MetricPoint
from self_healing_bot.storage.database import dialect_insert
from self_healing_bot.storage.models import Base, BigIdentity, utc_now


class MetricRecord(Base):
    __tablename__ = "metric_history"

    id: Mapped[int] = mapped_column(BigIdentity, primary_key=True, autoincrement=True)
    repository: Mapped[str] = mapped_column(String(256))
    metric: Mapped[str] = mapped_column(String(256))
    value: Mapped[float] = mapped_column(Float)
    commit_sha: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(default=utc_now)

    __table_args__ = (
        UniqueConstraint("repository", "metric", "commit_sha", name="uq_metric_history_commit"),
        Index(
            "ix_metric_history_repository_metric_recorded", "repository", "metric", "recorded_at"
        ),
    )


async def record_metrics(
    session: AsyncSession,
    repository: str,
    commit_sha: str,
    metrics: Mapping[str, float],
    recorded_at: datetime | None = None,
) -> int:
    """Store each metric's value at a commit; returns how many were new."""
    if not metrics:
        return 0
    insert = dialect_insert(session)
    moment = recorded_at or utc_now()
    statement = (
        insert(MetricRecord)
        .on_conflict_do_nothing(index_elements=["repository", "metric", "commit_sha"])
        .returning(MetricRecord.id)
    )
    rows = [
        {
            "repository": repository,
            "metric": metric,
            "value": value,
            "commit_sha": commit_sha,
            "recorded_at": moment,
        }
        for metric, value in metrics.items()
    ]
    result = await session.execute(statement, rows)
    return len(result.scalars().all())


async def metric_history(
    session: AsyncSession,
    repository: str,
    metrics: Iterable[str],
    limit: int,
    exclude_commit: str | None = None,
) -> dict[str, list[MetricPoint]]:
    """The last `limit` values of each metric, oldest first, each sourced by its commit.

    `exclude_commit` leaves out the commit being judged, so a re-delivered push is not compared
    with itself.
    """
    history: dict[str, list[MetricPoint]] = {}
    for metric in metrics:
        query = select(MetricRecord.value, MetricRecord.commit_sha).where(
            MetricRecord.repository == repository, MetricRecord.metric == metric
        )
        if exclude_commit is not None:
            query = query.where(MetricRecord.commit_sha != exclude_commit)
        rows = (
            await session.execute(
                query.order_by(MetricRecord.recorded_at.desc(), MetricRecord.id.desc()).limit(limit)
            )
        ).all()
        history[metric] = [MetricPoint(value, source=sha) for value, sha in reversed(rows)]
    return history
