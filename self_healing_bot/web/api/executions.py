"""`/api/v1/executions`: processing runs with their ten stages and timings, and re-running one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from self_healing_bot.storage.database import Database
from self_healing_bot.storage.models import Execution
from self_healing_bot.storage.views import where_given
from self_healing_bot.web.api.auth import Caller, Operator, Viewer
from self_healing_bot.web.api.deliveries import ReplayAccepted, replay_delivery_as
from self_healing_bot.web.api.errors import not_found
from self_healing_bot.web.api.pagination import MAX_ID, Page, PageParams, fetch_page, page_params
from self_healing_bot.web.api.parameters import Text

router = APIRouter(prefix="/executions", tags=["executions"])
ExecutionId = Annotated[int, Path(ge=1, le=MAX_ID)]


class ExecutionView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    delivery_id: str
    repository: str | None
    attempt: int
    started_at: datetime
    finished_at: datetime | None
    end_state: str | None
    stages: dict[str, Any]


@router.get("")
async def list_executions(
    request: Request,
    _caller: Annotated[Caller, Depends(Viewer)],
    params: Annotated[PageParams, Depends(page_params)],
    repository: Text | None = None,
    delivery_id: Text | None = None,
    end_state: Text | None = None,
) -> Page[ExecutionView]:
    """The most recent executions, optionally of one repository, delivery or end state."""
    query = where_given(
        select(Execution),
        (Execution.repository, repository),
        (Execution.delivery_id, delivery_id),
        (Execution.end_state, end_state),
    )
    return await fetch_page(request, query, Execution.id, params, ExecutionView.model_validate)


async def _execution(request: Request, execution_id: int) -> Execution:
    database: Database = request.app.state.database
    async with database.session() as session:
        row = await session.get(Execution, execution_id)
    if row is None:
        raise not_found(f"execution {execution_id}", "executions")
    return row


@router.get("/{execution_id}")
async def get_execution(
    request: Request, execution_id: ExecutionId, _caller: Annotated[Caller, Depends(Viewer)]
) -> ExecutionView:
    """One execution: each stage's status, timing and detail, in pipeline order."""
    return ExecutionView.model_validate(await _execution(request, execution_id))


@router.post("/{execution_id}/rerun", status_code=202)
async def rerun_execution(
    request: Request, execution_id: ExecutionId, caller: Annotated[Caller, Depends(Operator)]
) -> ReplayAccepted:
    """Run the execution's delivery through the pipeline again (a new execution is recorded)."""
    execution = await _execution(request, execution_id)
    return await replay_delivery_as(
        request, caller, execution.delivery_id, execution_id=execution_id
    )
