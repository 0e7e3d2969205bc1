"""`/api/v1/deliveries`: list deliveries by status, replay one.

Open for now: API-key authentication arrives with the API issue.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel
from sqlalchemy import select

from self_healing_bot.storage import deliveries
from self_healing_bot.storage.models import DeliveryStatus, WebhookDelivery

router = APIRouter(prefix="/api/v1/deliveries", tags=["deliveries"])


class DeliveryView(BaseModel):
    delivery_id: str
    event: str
    action: str | None
    repository: str | None
    status: str
    attempts: int
    last_error: str | None
    received_at: datetime
    finished_at: datetime | None


@router.get("")
async def list_deliveries(
    request: Request,
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeliveryView]:
    """The most recent deliveries, optionally only those in one status (e.g. `dead`)."""
    query = select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    async with request.app.state.database.session() as session:
        rows = (await session.scalars(query)).all()
    return [DeliveryView.model_validate(row, from_attributes=True) for row in rows]


@router.post("/{delivery_id}/replay", status_code=202)
async def replay_delivery(request: Request, delivery_id: str) -> dict[str, str]:
    """Process a finished (done, failed or dead) delivery again."""
    try:
        async with request.app.state.database.session() as session:
            await deliveries.replay(session, delivery_id, actor="api")
    except deliveries.UnknownDeliveryError as error:
        raise HTTPException(404, str(error)) from error
    except deliveries.ReplayRefusedError as error:
        raise HTTPException(409, str(error)) from error
    request.app.state.outbox.notify([delivery_id])
    return {"delivery_id": delivery_id, "status": DeliveryStatus.RECEIVED.value}
