"""`/api/v1/repositories`: every repository the bot has heard from, with its activity."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from sqlalchemy import case, func, select

from self_healing_bot.storage.models import DeliveryStatus, WebhookDelivery
from self_healing_bot.web.api.auth import Caller, Viewer

router = APIRouter(prefix="/repositories", tags=["repositories"])


class RepositoryView(BaseModel):
    repository: str
    deliveries: int
    dead_deliveries: int
    last_delivery_at: datetime


@router.get("")
async def list_repositories(
    request: Request, _caller: Annotated[Caller, Depends(Viewer)]
) -> list[RepositoryView]:
    """Repositories by most recent delivery, with delivery and dead-letter counts."""
    dead = func.sum(case((WebhookDelivery.status == DeliveryStatus.DEAD, 1), else_=0))
    query = (
        select(
            WebhookDelivery.repository,
            func.count(),
            dead,
            func.max(WebhookDelivery.received_at),
        )
        .where(WebhookDelivery.repository.is_not(None))
        .group_by(WebhookDelivery.repository)
        .order_by(func.max(WebhookDelivery.received_at).desc())
    )
    async with request.app.state.database.session() as session:
        rows = (await session.execute(query)).all()
    return [
        RepositoryView(
            repository=name,
            deliveries=total,
            dead_deliveries=int(dead_count or 0),
            last_delivery_at=last,
        )
        for name, total, dead_count, last in rows
    ]
