"""`/api/v1/audit` (admin): every write, newest first, filterable by action or actor key."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from sqlalchemy import select

from self_healing_bot.storage.models import AuditEvent
from self_healing_bot.web.api.auth import Admin, Caller
from self_healing_bot.web.api.pagination import Page, PageParams, page, page_params, paginate
from self_healing_bot.web.api.parameters import Text

router = APIRouter(prefix="/audit", tags=["audit"])


class AuditView(BaseModel):
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
    query = select(AuditEvent)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    if subject is not None:
        query = query.where(AuditEvent.subject == subject)
    async with request.app.state.database.session() as session:
        rows = (await session.scalars(paginate(query, AuditEvent.id, params))).all()
    views = [AuditView.model_validate(row, from_attributes=True) for row in rows]
    return page(request, views[: params.limit], rows, params)
