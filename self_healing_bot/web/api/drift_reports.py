"""`/api/v1/drift-reports`: the data-drift detector's stored comparisons, as JSON (the verdict
and the full report) and as the HTML page with its plots."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from self_healing_bot.storage.drift_reports import DriftReportRecord
from self_healing_bot.storage.views import (
    DriftSummary,
    drift_report,
    drift_reports_query,
    drift_summary,
)
from self_healing_bot.web.api.auth import Caller, Viewer
from self_healing_bot.web.api.errors import not_found
from self_healing_bot.web.api.pagination import MAX_ID, Page, PageParams, fetch_page, page_params
from self_healing_bot.web.api.parameters import Text

router = APIRouter(prefix="/drift-reports", tags=["drift reports"])
ReportId = Annotated[int, Path(ge=1, le=MAX_ID)]
# The renderer's page is self-contained (inline CSS and SVG): nothing may load or run.
REPORT_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
}


class DriftReportView(BaseModel):
    id: int
    repository: str
    dataset: str
    ref: str
    created_at: datetime
    dataset_drifted: bool
    drifted_columns: list[str]
    tested_columns: int
    drift_share: float | None

    @classmethod
    def of(cls, summary: DriftSummary) -> DriftReportView:
        return cls(
            id=summary.report_id,
            repository=summary.repository,
            dataset=summary.dataset,
            ref=summary.ref,
            created_at=summary.created_at,
            dataset_drifted=summary.dataset_drifted,
            drifted_columns=list(summary.drifted_columns),
            tested_columns=summary.tested_columns,
            drift_share=summary.drift_share,
        )


class DriftReportDetail(DriftReportView):
    report: dict[str, Any]


@router.get("")
async def list_drift_reports(
    request: Request,
    _caller: Annotated[Caller, Depends(Viewer)],
    params: Annotated[PageParams, Depends(page_params)],
    repository: Text | None = None,
    dataset: Text | None = None,
) -> Page[DriftReportView]:
    """Drift reports, newest first, with their verdict; filter by `owner/name` or dataset path."""
    query = drift_reports_query(repository, dataset)
    return await fetch_page(
        request,
        query,
        DriftReportRecord.id,
        params,
        lambda row: DriftReportView.of(drift_summary(row)),
    )


async def _report(request: Request, report_id: int) -> tuple[DriftSummary, DriftReportRecord]:
    async with request.app.state.database.session() as session:
        found = await drift_report(session, report_id)
    if found is None:
        raise not_found(f"drift report {report_id}", "drift-reports")
    return found


@router.get("/{report_id}")
async def get_drift_report(
    request: Request, report_id: ReportId, _caller: Annotated[Caller, Depends(Viewer)]
) -> DriftReportDetail:
    """One report: the verdict and the full JSON the detector stored."""
    summary, record = await _report(request, report_id)
    return DriftReportDetail(**DriftReportView.of(summary).model_dump(), report=record.report)


@router.get(
    "/{report_id}/report.html",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {}}, "description": "the report page"}},
)
async def get_drift_report_page(
    request: Request, report_id: ReportId, _caller: Annotated[Caller, Depends(Viewer)]
) -> HTMLResponse:
    """The report as the HTML page rendered when it was made, with its per-column plots."""
    _, record = await _report(request, report_id)
    return HTMLResponse(record.html, headers=REPORT_PAGE_HEADERS)
