"""Read queries over what the bot stored, shared by the REST API and the dashboard.

One place per question, so the API's JSON and the dashboard's pages cannot disagree: the API
paginates the `*_query` selects, the pages call the loaders.

    async with database.session() as session:
        rows = (await session.scalars(detections_query(repository="octo/ml").limit(20))).all()
        found = await repair_detail(session, 7)   # the repair with its steps, or None
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, defer

from self_healing_bot.storage.deliveries import as_utc
from self_healing_bot.storage.detections import DetectionRecord, FailureSignature
from self_healing_bot.storage.drift_reports import DriftReportRecord
from self_healing_bot.storage.repairs import Repair, RepairStep
from self_healing_bot.storage.repo_configs import RepoConfigRecord

# Read-only queries: objects are expunged when the session closes, so reload stored state.
_FRESH = {"populate_existing": True}
Row = TypeVar("Row")


def where_given(
    query: Select[Row], *filters: tuple[InstrumentedAttribute[Any], object]
) -> Select[Row]:
    """`query` narrowed to rows whose column equals each given value; a None value is no filter.

    where_given(select(Repair), (Repair.repository, "octo/ml"), (Repair.state, None))
    """
    for column, value in filters:
        if value is not None:
            query = query.where(column == value)
    return query


def detections_query(
    repository: str | None = None,
    category: str | None = None,
    signature: str | None = None,
) -> Select[DetectionRecord]:
    """Stored detections, optionally of one repository, category or signature."""
    return where_given(
        select(DetectionRecord),
        (DetectionRecord.repository, repository),
        (DetectionRecord.category, category),
        (DetectionRecord.signature, signature),
    )


async def detections_of_execution(
    session: AsyncSession, repository: str, delivery_id: str, signatures: Collection[str]
) -> list[DetectionRecord]:
    """The stored detection behind each signature an execution found, in `signatures` order.

    A failure reported by two events (a job's, then its run's) is stored once, under the
    first delivery: for a signature this delivery did not store, its latest detection counts.
    """
    if not signatures:
        return []
    rows = await session.scalars(
        select(DetectionRecord)
        .where(
            DetectionRecord.repository == repository,
            DetectionRecord.signature.in_(list(signatures)),
        )
        .order_by(DetectionRecord.id.desc())
    )
    best: dict[str, DetectionRecord] = {}
    for row in rows:
        chosen = best.get(row.signature)
        if chosen is None or (row.delivery_id == delivery_id and chosen.delivery_id != delivery_id):
            best[row.signature] = row
    return [best[signature] for signature in signatures if signature in best]


def signatures_query(
    repository: str | None = None, flaky: bool | None = None, ignored: bool | None = None
) -> Select[FailureSignature]:
    """Each repository's failure signatures with their counts and flaky / ignored marks."""
    return where_given(
        select(FailureSignature),
        (FailureSignature.repository, repository),
        (FailureSignature.flaky, flaky),
        (FailureSignature.ignored, ignored),
    )


async def signature_marks(
    session: AsyncSession, signatures: Collection[str]
) -> dict[str, tuple[bool, bool]]:
    """(flaky, ignored) per signature, true when it is so in any repository."""
    marks: dict[str, tuple[bool, bool]] = {}
    if not signatures:
        return marks
    rows = await session.execute(
        select(FailureSignature.signature, FailureSignature.flaky, FailureSignature.ignored).where(
            FailureSignature.signature.in_(list(signatures))
        )
    )
    for signature, flaky, ignored in rows:
        was_flaky, was_ignored = marks.get(signature, (False, False))
        marks[signature] = (was_flaky or flaky, was_ignored or ignored)
    return marks


def repairs_query(
    repository: str | None = None, state: str | None = None, signature: str | None = None
) -> Select[Repair]:
    """Repairs, optionally of one repository, state or signature; the stored JSON the executor
    resumes from (config, playbook source, plan) is not loaded."""
    query = select(Repair).options(
        defer(Repair.config), defer(Repair.playbook_source), defer(Repair.plan)
    )
    return where_given(
        query, (Repair.repository, repository), (Repair.state, state), (Repair.signature, signature)
    ).execution_options(**_FRESH)


@dataclass(frozen=True)
class RepairDetail:
    repair: Repair
    steps: tuple[RepairStep, ...]


async def _with_steps(session: AsyncSession, repairs: list[Repair]) -> list[RepairDetail]:
    ids = [repair.id for repair in repairs]
    steps: dict[int, list[RepairStep]] = {repair_id: [] for repair_id in ids}
    if ids:
        rows = await session.scalars(
            select(RepairStep)
            .where(RepairStep.repair_id.in_(ids))
            .order_by(RepairStep.phase.desc(), RepairStep.position)
            .execution_options(**_FRESH)
        )
        for step in rows:
            steps[step.repair_id].append(step)
    return [RepairDetail(repair, tuple(steps[repair.id])) for repair in repairs]


async def repair_detail(session: AsyncSession, repair_id: int) -> RepairDetail | None:
    """One repair with its steps (`steps` phase first, then `on_failure`), or None."""
    repair = await session.scalar(repairs_query().where(Repair.id == repair_id))
    if repair is None:
        return None
    return (await _with_steps(session, [repair]))[0]


async def repairs_of_delivery(session: AsyncSession, delivery_id: str) -> list[RepairDetail]:
    """The repairs a delivery planned, oldest first, each with its steps."""
    rows = await session.scalars(
        repairs_query().where(Repair.delivery_id == delivery_id).order_by(Repair.id)
    )
    return await _with_steps(session, list(rows))


async def repairs_of_deliveries(
    session: AsyncSession, delivery_ids: Collection[str]
) -> dict[str, Repair]:
    """The latest repair each delivery planned (none for a delivery that planned none)."""
    if not delivery_ids:
        return {}
    rows = await session.scalars(
        repairs_query().where(Repair.delivery_id.in_(list(delivery_ids))).order_by(Repair.id)
    )
    return {repair.delivery_id: repair for repair in rows}


def github_web_root(api_url: str) -> str:
    """Where people open what the API names: github.com for api.github.com, the host for a
    GitHub Enterprise `/api/v3` URL.

    >>> github_web_root("https://ghe.example/api/v3")
    'https://ghe.example'
    """
    parts = urlsplit(api_url.rstrip("/"))
    if parts.netloc == "api.github.com":
        return f"{parts.scheme}://github.com"
    path = parts.path.removesuffix("/api/v3")
    return f"{parts.scheme}://{parts.netloc}{path}"


def repair_links(repair: Repair, web_root: str) -> dict[str, str]:
    """Web links to what the repair made or follows: its pull request, issue, re-run."""
    base = f"{web_root}/{repair.repository}"
    links: dict[str, str] = {}
    if repair.pull_request is not None:
        links["pull_request"] = f"{base}/pull/{repair.pull_request}"
    if repair.issue is not None:
        links["issue"] = f"{base}/issues/{repair.issue}"
    if repair.rerun_run_id is not None:
        links["rerun"] = f"{base}/actions/runs/{repair.rerun_run_id}"
    if repair.check_run is not None:
        links["check_run"] = f"{base}/runs/{repair.check_run}"
    return links


@dataclass(frozen=True)
class DriftSummary:
    """A stored drift report's verdict, from its JSON (`DriftReport.to_dict()`)."""

    report_id: int
    repository: str
    dataset: str
    ref: str
    created_at: datetime
    dataset_drifted: bool
    drifted_columns: tuple[str, ...]
    tested_columns: int
    drift_share: float | None


def drift_summary(record: DriftReportRecord) -> DriftSummary:
    report: dict[str, Any] = record.report or {}
    share = report.get("drift_share")
    return DriftSummary(
        report_id=record.id,
        repository=record.repository,
        dataset=record.dataset,
        ref=record.ref,
        created_at=as_utc(record.created_at),
        dataset_drifted=bool(report.get("dataset_drifted")),
        drifted_columns=tuple(str(name) for name in report.get("drifted_columns") or []),
        tested_columns=int(report.get("number_of_tested_columns") or 0),
        drift_share=float(share) if isinstance(share, int | float) else None,
    )


def drift_reports_query(
    repository: str | None = None, dataset: str | None = None
) -> Select[DriftReportRecord]:
    """Stored drift reports without their HTML pages, optionally of one repository or dataset."""
    return where_given(
        select(DriftReportRecord).options(defer(DriftReportRecord.html)),
        (DriftReportRecord.repository, repository),
        (DriftReportRecord.dataset, dataset),
    )


async def drift_reports(session: AsyncSession, limit: int) -> list[DriftSummary]:
    """The newest drift reports first; their HTML pages are not loaded."""
    records = await session.scalars(
        drift_reports_query()
        .order_by(DriftReportRecord.created_at.desc(), DriftReportRecord.id.desc())
        .limit(limit)
    )
    return [drift_summary(record) for record in records]


async def drift_report(
    session: AsyncSession, report_id: int
) -> tuple[DriftSummary, DriftReportRecord] | None:
    """One report's verdict and its stored record (JSON and HTML page), or None."""
    record = await session.get(DriftReportRecord, report_id)
    return None if record is None else (drift_summary(record), record)


async def effective_config(session: AsyncSession, repository: str) -> RepoConfigRecord | None:
    """The repository's last valid config as the detectors apply it (merged over the org's
    defaults), or None until a valid one was read."""
    return await session.get(RepoConfigRecord, repository, populate_existing=True)
