"""`/api/v1/keys` (admin): list, create (the key is in the response once) and revoke API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from self_healing_bot.audit import record
from self_healing_bot.storage.api_keys import (
    Role,
    UnknownKeyError,
    create_key,
    list_keys,
    revoke_key,
)
from self_healing_bot.web.api.auth import Admin, Caller
from self_healing_bot.web.api.errors import ApiError
from self_healing_bot.web.api.parameters import Text

router = APIRouter(prefix="/keys", tags=["keys"])


class KeyView(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # built from a `KeyInfo`

    key_id: str
    name: str
    role: Role
    created_at: datetime
    revoked_at: datetime | None


class NewKey(BaseModel):
    role: Role
    name: str = Field(min_length=1, max_length=128, pattern=r"^[^\x00]*$")


class CreatedKey(KeyView):
    key: str = Field(description="the API key; shown only in this response, store it now")


@router.get("")
async def list_api_keys(
    request: Request, _caller: Annotated[Caller, Depends(Admin)]
) -> list[KeyView]:
    async with request.app.state.database.session() as session:
        return [KeyView.model_validate(info) for info in await list_keys(session)]


@router.post("", status_code=201)
async def create_api_key(
    request: Request, new: NewKey, caller: Annotated[Caller, Depends(Admin)]
) -> CreatedKey:
    """A new key with `role`; the response is the only place the key ever appears."""
    async with request.app.state.database.session() as session:
        issued = await create_key(session, role=new.role, name=new.name)
        record(
            session,
            caller.actor,
            "key.create",
            issued.info.key_id,
            {"role": new.role.value, "name": new.name},
        )
    return CreatedKey(**KeyView.model_validate(issued.info).model_dump(), key=issued.key)


@router.delete("/{key_id}")
async def revoke_api_key(
    request: Request, key_id: Text, caller: Annotated[Caller, Depends(Admin)]
) -> KeyView:
    """Revoke a key: from now on it gets 401. Revoking a revoked key changes nothing."""
    try:
        async with request.app.state.database.session() as session:
            info = await revoke_key(session, key_id)
            record(session, caller.actor, "key.revoke", key_id)
    except UnknownKeyError as error:
        raise ApiError(404, "not_found", str(error)) from error
    return KeyView.model_validate(info)
