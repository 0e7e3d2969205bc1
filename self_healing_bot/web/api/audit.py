"""`/api/v1/audit` (admin): every write, newest first, filterable by action or subject."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from self_healing_bot.storage.models import AuditEvent
from self_healing_bot.storage.views import where_given
from self_healing_bot.web.api.auth import Admin, Caller
from self_healing_bot.web.api.pagination import Page, PageParams, fetch_page, page_params
from self_healing_bot.web.api.parameters import Text

router = APIRouter(prefix="/audit", tags=["audit"])


class AuditView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    action: str
    subject: str
    detail: dict[str, Any]


@router.get("")
async def list_audit_events(
    request: Request,
    _caller: Annotated[Caller, Depends(Admin)],
    params: Annotated[PageParams, Depends(page_params)],
    action: Text | None = None,
    subject: Text | None = None,
) -> Page[AuditView]:
    """Who did what, when and from where (`detail.client`), newest first."""
    query = where_given(
        select(AuditEvent), (AuditEvent.action, action), (AuditEvent.subject, subject)
    )
    return await fetch_page(request, query, AuditEvent.id, params, AuditView.model_validate)
