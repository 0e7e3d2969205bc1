"""`/api/v1/detections`: what the detectors found, with their evidence lines, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict

from self_healing_bot.storage.detections import DetectionRecord
from self_healing_bot.storage.views import detections_query
from self_healing_bot.web.api.auth import Caller, Viewer
from self_healing_bot.web.api.pagination import Page, PageParams, fetch_page, page_params
from self_healing_bot.web.api.parameters import Text

router = APIRouter(prefix="/detections", tags=["detections"])


class DetectionView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    delivery_id: str
    repository: str
    detector: str
    category: str
    confidence: float
    signature: str
    summary: str
    params: dict[str, Any]
    evidence: list[dict[str, Any]]
    job: str | None
    step: str | None
    head_sha: str | None
    run_id: int | None
    created_at: datetime


@router.get("")
async def list_detections(
    request: Request,
    _caller: Annotated[Caller, Depends(Viewer)],
    params: Annotated[PageParams, Depends(page_params)],
    repository: Text | None = None,
    category: Text | None = None,
    signature: Text | None = None,
) -> Page[DetectionView]:
    """Stored detections, optionally of one `owner/name`, TAXONOMY.md category or signature."""
    query = detections_query(repository, category, signature)
    return await fetch_page(
        request, query, DetectionRecord.id, params, DetectionView.model_validate
    )
