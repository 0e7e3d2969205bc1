"""Who is calling: the API key check, the role each route requires, and the per-key rate limit.

Every `/api/v1` route declares its role by depending on one of `Viewer`, `Operator` or `Admin`;
the dependency answers 401 for a missing, malformed, unknown or revoked key, 403 for a role too
low, and 429 (with `Retry-After`) past the key's budget.

    @router.post("/{delivery_id}/replay")
    async def replay(caller: Annotated[Caller, Depends(Operator)]) -> ...:
        record(session, caller.actor, "replay", delivery_id)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from self_healing_bot.audit import Actor
from self_healing_bot.storage.api_keys import KeyInfo, Role, authenticate
from self_healing_bot.storage.database import Database
from self_healing_bot.web.api.errors import ApiError
from self_healing_bot.web.api.rate_limit import RateLimiter

bearer = HTTPBearer(auto_error=False, description="an API key from `self-healing-bot keys create`")
UNAUTHORIZED_HEADERS = {"WWW-Authenticate": "Bearer"}


@dataclass(frozen=True)
class Caller:
    """The authenticated key behind a request, and where the request came from."""

    key: KeyInfo
    client: str | None

    @property
    def actor(self) -> Actor:
        return Actor(key_id=self.key.key_id, name=self.key.name, client=self.client)


class RoleRequired:
    """A dependency admitting keys whose role is `role` or higher."""

    def __init__(self, role: Role) -> None:
        self.role = role

    async def __call__(
        self,
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Caller:
        if credentials is None:
            raise ApiError(
                401,
                "unauthorized",
                "send an API key as 'Authorization: Bearer <key>' "
                "(create one with `self-healing-bot keys create`)",
                UNAUTHORIZED_HEADERS,
            )
        database: Database = request.app.state.database
        async with database.session() as session:
            key = await authenticate(session, credentials.credentials)
        if key is None:
            raise ApiError(
                401, "unauthorized", "the API key is unknown or revoked", UNAUTHORIZED_HEADERS
            )
        limiter: RateLimiter = request.app.state.rate_limiter
        decision = await limiter.hit(key.key_id)
        if not decision.allowed:
            raise ApiError(
                429,
                "rate_limited",
                f"this key may make {decision.limit} requests per window; "
                f"retry in {decision.retry_after} s",
                {"Retry-After": str(decision.retry_after)},
            )
        if not key.role.allows(self.role):
            raise ApiError(
                403,
                "forbidden",
                f"this needs the {self.role} role; key {key.key_id!r} is a {key.role}",
            )
        client = request.client.host if request.client else None
        return Caller(key=key, client=client)


Viewer = RoleRequired(Role.VIEWER)
Operator = RoleRequired(Role.OPERATOR)
Admin = RoleRequired(Role.ADMIN)
