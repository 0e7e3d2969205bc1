"""`/api/v1/repositories`: every repository the bot has heard from, with its activity, and one
repository with its effective config."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import Select, case, func, select

from self_healing_bot.storage.models import DeliveryStatus, WebhookDelivery
from self_healing_bot.storage.views import effective_config
from self_healing_bot.web.api.auth import Caller, Viewer
from self_healing_bot.web.api.errors import ApiError
from self_healing_bot.web.api.parameters import Name

router = APIRouter(prefix="/repositories", tags=["repositories"])


class RepositoryView(BaseModel):
    repository: str
    deliveries: int
    dead_deliveries: int
    last_delivery_at: datetime


class RepositoryDetail(BaseModel):
    repository: str
    deliveries: int
    dead_deliveries: int
    last_delivery_at: datetime | None
    config: dict[str, Any] | None = Field(
        description="the last valid `.github/self-healing-bot.yml` over the org defaults, as the "
        "bot applies it; null until a valid one was read"
    )
    config_updated_at: datetime | None


def _activity() -> Select[str | None, int, Any, datetime]:
    dead = func.sum(case((WebhookDelivery.status == DeliveryStatus.DEAD, 1), else_=0))
    return (
        select(
            WebhookDelivery.repository,
            func.count(),
            dead,
            func.max(WebhookDelivery.received_at),
        )
        .where(WebhookDelivery.repository.is_not(None))
        .group_by(WebhookDelivery.repository)
    )


@router.get("")
async def list_repositories(
    request: Request, _caller: Annotated[Caller, Depends(Viewer)]
) -> list[RepositoryView]:
    """Repositories by most recent delivery, with delivery and dead-letter counts."""
    query = _activity().order_by(func.max(WebhookDelivery.received_at).desc())
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


@router.get("/{owner}/{name}")
async def get_repository(
    request: Request, owner: Name, name: Name, _caller: Annotated[Caller, Depends(Viewer)]
) -> RepositoryDetail:
    """One repository's activity and its effective (last valid) config."""
    repository = f"{owner}/{name}"
    async with request.app.state.database.session() as session:
        activity = (
            await session.execute(_activity().where(WebhookDelivery.repository == repository))
        ).one_or_none()
        stored = await effective_config(session, repository)
    if activity is None and stored is None:
        raise ApiError(
            404,
            "not_found",
            f"the bot has not heard from {repository}; list them with GET /api/v1/repositories",
        )
    _, total, dead_count, last = activity if activity is not None else (None, 0, 0, None)
    return RepositoryDetail(
        repository=repository,
        deliveries=total,
        dead_deliveries=int(dead_count or 0),
        last_delivery_at=last,
        config=stored.config if stored is not None else None,
        config_updated_at=stored.updated_at if stored is not None else None,
    )
