"""Stored drift reports: one row per comparison the data-drift detector ran.

The JSON is `DriftReport.to_dict()`; the HTML page is rendered when the report is made (it needs
the per-column distributions, which the JSON leaves out), so the API can serve it as stored.

    report_id = await store_report(session, "octo/ml", "data/current.csv", sha, data, html)
    latest = await latest_report(session, "octo/ml", "data/current.csv")
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from self_healing_bot.storage.models import Base, BigIdentity, utc_now


class DriftReportRecord(Base):
    __tablename__ = "drift_reports"

    id: Mapped[int] = mapped_column(BigIdentity, primary_key=True, autoincrement=True)
    repository: Mapped[str] = mapped_column(String(256))
    dataset: Mapped[str] = mapped_column(String(512))
    ref: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    report: Mapped[dict[str, Any]]
    html: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        Index("ix_drift_reports_repository_dataset_created", "repository", "dataset", "created_at"),
    )


async def store_report(
    session: AsyncSession,
    repository: str,
    dataset: str,
    ref: str,
    report: dict[str, Any],
    html: str,
) -> int:
    """Add a report; returns its id."""
    record = DriftReportRecord(
        repository=repository, dataset=dataset, ref=ref, report=report, html=html
    )
    session.add(record)
    await session.flush()
    return record.id


async def latest_report(
    session: AsyncSession, repository: str, dataset: str
) -> DriftReportRecord | None:
    """The newest report of a repository's dataset, or None when it was never compared."""
    result = await session.scalars(
        select(DriftReportRecord)
        .where(DriftReportRecord.repository == repository, DriftReportRecord.dataset == dataset)
        .order_by(DriftReportRecord.created_at.desc(), DriftReportRecord.id.desc())
        .limit(1)
    )
    return result.first()
