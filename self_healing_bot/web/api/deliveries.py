"""`/api/v1/deliveries`: the delivery ledger (filter by status or repository), and replay."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from self_healing_bot.storage import deliveries
from self_healing_bot.storage.models import DeliveryStatus, WebhookDelivery
from self_healing_bot.storage.views import where_given
from self_healing_bot.web.api.auth import Caller, Operator, Viewer
from self_healing_bot.web.api.errors import ApiError
from self_healing_bot.web.api.pagination import Page, PageParams, fetch_page, page_params
from self_healing_bot.web.api.parameters import Text

router = APIRouter(prefix="/deliveries", tags=["deliveries"])


class DeliveryView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    delivery_id: str
    event: str
    action: str | None
    repository: str | None
    status: str
    attempts: int
    last_error: str | None
    received_at: datetime
    finished_at: datetime | None


class ReplayAccepted(BaseModel):
    delivery_id: str
    status: str


@router.get("")
async def list_deliveries(
    request: Request,
    _caller: Annotated[Caller, Depends(Viewer)],
    params: Annotated[PageParams, Depends(page_params)],
    status: DeliveryStatus | None = None,
    repository: Text | None = None,
) -> Page[DeliveryView]:
    """The most recent deliveries, optionally only one status (`dead`) or one `owner/name`."""
    query = where_given(
        select(WebhookDelivery),
        (WebhookDelivery.status, status),
        (WebhookDelivery.repository, repository),
    )
    return await fetch_page(request, query, WebhookDelivery.id, params, DeliveryView.model_validate)


@router.get("/{delivery_id}")
async def get_delivery(
    request: Request, delivery_id: Text, _caller: Annotated[Caller, Depends(Viewer)]
) -> DeliveryView:
    async with request.app.state.database.session() as session:
        row = await session.scalar(
            select(WebhookDelivery).where(WebhookDelivery.delivery_id == delivery_id)
        )
    if row is None:
        raise ApiError(404, "not_found", str(deliveries.UnknownDeliveryError(delivery_id)))
    return DeliveryView.model_validate(row)


async def replay_delivery_as(
    request: Request, caller: Caller, delivery_id: str, **detail: object
) -> ReplayAccepted:
    """Reset a finished delivery to `received`, audited, and wake the outbox to send it."""
    actor = caller.actor
    context = {**actor.detail(), **detail}
    try:
        async with request.app.state.database.session() as session:
            await deliveries.replay(session, delivery_id, actor.label, context=context)
    except deliveries.UnknownDeliveryError as error:
        raise ApiError(404, "not_found", str(error)) from error
    except deliveries.ReplayRefusedError as error:
        raise ApiError(409, "conflict", str(error)) from error
    request.app.state.outbox.notify([delivery_id])
    return ReplayAccepted(delivery_id=delivery_id, status=DeliveryStatus.RECEIVED.value)


@router.post("/{delivery_id}/replay", status_code=202)
async def replay_delivery(
    request: Request, delivery_id: Text, caller: Annotated[Caller, Depends(Operator)]
) -> ReplayAccepted:
    """Process a finished (done, failed or dead) delivery again; 409 while it is in flight."""
    return await replay_delivery_as(request, caller, delivery_id)
