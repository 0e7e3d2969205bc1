"""`/api/v1/repairs`: each repair's state, links to what it made, timings and steps, and
approving one that waits for approval, as `/heal approve` does.

Approving runs the repair's steps in this request, acting on GitHub as the repair's
installation; without GitHub credentials nothing is approved (409).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel

from self_healing_bot.audit import record
from self_healing_bot.core.bot import installed_remediation
from self_healing_bot.core.chatops import approve
from self_healing_bot.core.context import ExecutionContext
from self_healing_bot.core.remediation import PlaybookRemediation
from self_healing_bot.queue.tasks import Runtime
from self_healing_bot.settings import Settings
from self_healing_bot.storage.database import Database
from self_healing_bot.storage.repairs import Repair, RepairState, RepairStep
from self_healing_bot.storage.views import (
    RepairDetail,
    github_web_root,
    repair_detail,
    repair_links,
    repairs_query,
)
from self_healing_bot.web.api.auth import Caller, Operator, Viewer
from self_healing_bot.web.api.errors import ApiError, not_found
from self_healing_bot.web.api.pagination import MAX_ID, Page, PageParams, fetch_page, page_params
from self_healing_bot.web.api.parameters import Text

router = APIRouter(prefix="/repairs", tags=["repairs"])
RepairId = Annotated[int, Path(ge=1, le=MAX_ID)]


class RepairView(BaseModel):
    id: int
    repository: str
    signature: str
    attempt: int
    category: str
    playbook: str | None
    level: str
    state: RepairState
    delivery_id: str
    reason: str | None
    pull_request: int | None
    issue: int | None
    check_run: int | None
    rerun_run_id: int | None
    fix_branch: str | None
    links: dict[str, str]
    failed_at: datetime | None
    detected_at: datetime
    fix_pr_at: datetime | None
    verified_at: datetime | None
    finished_at: datetime | None
    timings: dict[str, float | None]

    @classmethod
    def of(cls, repair: Repair, web_root: str) -> RepairView:
        fields = {name: getattr(repair, name) for name in cls.model_fields if name != "links"}
        return cls.model_validate({**fields, "links": repair_links(repair, web_root)})


class StepView(BaseModel):
    phase: str
    position: int
    uses: str
    status: str
    tries: int
    started_at: datetime
    finished_at: datetime | None
    summary: str | None
    outputs: dict[str, Any]
    error: str | None

    @classmethod
    def of(cls, step: RepairStep) -> StepView:
        return cls.model_validate(step, from_attributes=True)


class RepairWithSteps(RepairView):
    steps: list[StepView]


def _web_root(request: Request) -> str:
    settings: Settings = request.app.state.settings
    return github_web_root(settings.github_api_url)


@router.get("")
async def list_repairs(
    request: Request,
    _caller: Annotated[Caller, Depends(Viewer)],
    params: Annotated[PageParams, Depends(page_params)],
    repository: Text | None = None,
    state: RepairState | None = None,
    signature: Text | None = None,
) -> Page[RepairView]:
    """Repairs, newest first; filter by `owner/name`, state or signature."""
    query = repairs_query(repository, state.value if state else None, signature)
    root = _web_root(request)
    return await fetch_page(request, query, Repair.id, params, lambda row: RepairView.of(row, root))


async def _detail(request: Request, repair_id: int) -> RepairDetail:
    database: Database = request.app.state.database
    async with database.session() as session:
        found = await repair_detail(session, repair_id)
    if found is None:
        raise not_found(f"repair {repair_id}", "repairs")
    return found


def _with_steps(request: Request, found: RepairDetail) -> RepairWithSteps:
    view = RepairView.of(found.repair, _web_root(request))
    return RepairWithSteps(**view.model_dump(), steps=[StepView.of(s) for s in found.steps])


@router.get("/{repair_id}")
async def get_repair(
    request: Request, repair_id: RepairId, _caller: Annotated[Caller, Depends(Viewer)]
) -> RepairWithSteps:
    """One repair with its links, timings and each step's start, result, outputs and error."""
    return _with_steps(request, await _detail(request, repair_id))


def _approval_context(
    request: Request, repair: Repair, caller: Caller
) -> tuple[PlaybookRemediation, ExecutionContext]:
    """The installed executor, and a context acting as the repair's installation."""
    settings: Settings = request.app.state.settings
    database: Database = request.app.state.database
    remediation = installed_remediation()
    github = Runtime(settings, database).installation_client(repair.installation_id)
    if not isinstance(remediation, PlaybookRemediation) or github is None:
        raise ApiError(
            409,
            "conflict",
            "this server cannot act on GitHub (set SHBOT_GITHUB_APP_ID and "
            "SHBOT_GITHUB_PRIVATE_KEY, or SHBOT_GITHUB_TOKEN); nothing was approved",
        )
    delivery_id = f"api-approve-{repair.id}"
    log = structlog.stdlib.get_logger("self_healing_bot.api").bind(
        delivery_id=delivery_id, repository=repair.repository, actor=caller.actor.label
    )
    context = ExecutionContext.for_installation(
        delivery_id, "api", repair.installation_id, log, database, github
    )
    return remediation, context


@router.post("/{repair_id}/approve")
async def approve_repair(
    request: Request, repair_id: RepairId, caller: Annotated[Caller, Depends(Operator)]
) -> RepairWithSteps:
    """Run a repair that waits for approval (what `/heal approve` does) and answer with where
    it got to; 409 when it is not waiting for approval."""
    found = await _detail(request, repair_id)
    if found.repair.state != RepairState.AWAITING_APPROVAL:
        raise ApiError(
            409,
            "conflict",
            f"repair {repair_id} is {found.repair.state}; only a repair awaiting_approval "
            "can be approved",
        )
    remediation, context = _approval_context(request, found.repair, caller)
    state = await approve(remediation, context, repair_id, caller.actor.label)
    if state is None:
        raise ApiError(409, "conflict", f"repair {repair_id} was approved by someone else first")
    async with context.database.session() as session:
        record(session, caller.actor, "repair.approve", str(repair_id), {"state": state})
    return _with_steps(request, await _detail(request, repair_id))
