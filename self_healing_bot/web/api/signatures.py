"""`/api/v1/signatures`: each repository's failure signatures (counts, commits, flaky, ignored),
and silencing one as `/heal ignore` does."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict

from self_healing_bot.audit import record
from self_healing_bot.core.chatops import ignore_signature
from self_healing_bot.storage.detections import FailureSignature
from self_healing_bot.storage.views import signatures_query
from self_healing_bot.web.api.auth import Caller, Operator, Viewer
from self_healing_bot.web.api.errors import ApiError
from self_healing_bot.web.api.pagination import Page, PageParams, fetch_page, page_params
from self_healing_bot.web.api.parameters import Name, Text

router = APIRouter(prefix="/signatures", tags=["signatures"])


class SignatureView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    repository: str
    signature: str
    category: str
    first_seen: datetime
    last_seen: datetime
    count: int
    commits: list[str]
    flaky: bool
    ignored: bool


@router.get("")
async def list_signatures(
    request: Request,
    _caller: Annotated[Caller, Depends(Viewer)],
    params: Annotated[PageParams, Depends(page_params)],
    repository: Text | None = None,
    flaky: bool | None = None,
    ignored: bool | None = None,
) -> Page[SignatureView]:
    """Failure signatures, most recently created first; filter by `owner/name`, flaky, ignored."""
    query = signatures_query(repository, flaky, ignored)
    return await fetch_page(
        request, query, FailureSignature.id, params, SignatureView.model_validate
    )


class Ignored(BaseModel):
    repository: str
    signature: str
    ignored: bool


@router.post("/{owner}/{name}/{signature}/ignore")
async def ignore(
    request: Request,
    owner: Name,
    name: Name,
    signature: Text,
    caller: Annotated[Caller, Depends(Operator)],
) -> Ignored:
    """Silence the signature in `owner/name`: its open repairs stop and the bot acts on it no
    more (what `/heal ignore` does). Ignoring an ignored signature changes nothing."""
    repository = f"{owner}/{name}"
    async with request.app.state.database.session() as session:
        known = await ignore_signature(
            session, repository, signature, f"ignored through the API by {caller.actor.label}"
        )
        if known:
            record(session, caller.actor, "signature.ignore", f"{repository} {signature}")
    if not known:
        raise ApiError(
            404,
            "not_found",
            f"{repository} never failed with signature {signature!r}; "
            "list them with GET /api/v1/signatures",
        )
    return Ignored(repository=repository, signature=signature, ignored=True)
