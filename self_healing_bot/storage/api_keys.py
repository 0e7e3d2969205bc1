"""API keys: created once, shown once, stored as a SHA-256 hash, looked up by their public id.

A key reads `shbot_<key id>_<secret>`. The key id is public (it names the key in lists, audit
entries and `keys revoke`); only the hash of the whole key is stored, and the presented key is
compared with `hmac.compare_digest`, so neither the database nor a timing side channel gives it
away.

    issued = await create_key(session, role=Role.OPERATOR, name="ci")
    print(issued.key)                       # the only time it is ever visible
    principal = await authenticate(session, issued.key)
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from self_healing_bot.storage.deliveries import as_utc
from self_healing_bot.storage.models import Base, BigIdentity, utc_now

KEY_PREFIX = "shbot"


class Role(StrEnum):
    """viewer reads; operator also replays, re-runs, approves; admin also keys, settings, audit."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, required: Role) -> bool:
        return self.rank >= required.rank


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigIdentity, primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    revoked_at: Mapped[datetime | None]


class UnknownKeyError(LookupError):
    """No key with this id exists."""

    def __init__(self, key_id: str) -> None:
        super().__init__(f"no API key {key_id!r}; list them with `self-healing-bot keys list`")
        self.key_id = key_id


@dataclass(frozen=True)
class KeyInfo:
    """What may be shown about a key: everything but the key itself."""

    key_id: str
    name: str
    role: Role
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: ApiKey) -> KeyInfo:
        revoked_at = as_utc(row.revoked_at) if row.revoked_at else None
        return cls(row.key_id, row.name, Role(row.role), as_utc(row.created_at), revoked_at)


@dataclass(frozen=True)
class IssuedKey:
    info: KeyInfo
    key: str


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def split_key(key: str) -> str | None:
    """The key id of a well-formed key, else None (the secret part may itself hold `_`)."""
    prefix, _, rest = key.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != KEY_PREFIX or not key_id or not secret:
        return None
    return key_id


async def create_key(session: AsyncSession, *, role: Role, name: str) -> IssuedKey:
    """A new key with 32 random bytes of secret; the returned `key` is never stored."""
    key_id = secrets.token_hex(6)
    key = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    row = ApiKey(key_id=key_id, name=name, role=role.value, secret_hash=_hash(key))
    session.add(row)
    await session.flush()
    return IssuedKey(KeyInfo.of(row), key)


async def authenticate(session: AsyncSession, key: str) -> KeyInfo | None:
    """The live key `key` names, or None when it is malformed, unknown, wrong or revoked."""
    key_id = split_key(key)
    if key_id is None:
        return None
    row = await session.scalar(select(ApiKey).where(ApiKey.key_id == key_id))
    # Hash even when the id is unknown, so a miss costs what a wrong secret costs.
    presented = _hash(key)
    if row is None or not hmac.compare_digest(presented, row.secret_hash):
        return None
    if row.revoked_at is not None:
        return None
    return KeyInfo.of(row)


async def list_keys(session: AsyncSession) -> list[KeyInfo]:
    rows = await session.scalars(select(ApiKey).order_by(ApiKey.id))
    return [KeyInfo.of(row) for row in rows]


async def revoke_key(session: AsyncSession, key_id: str) -> KeyInfo:
    """Revoke `key_id` (idempotent: a revoked key keeps its first revocation time)."""
    await session.execute(
        update(ApiKey)
        .where(ApiKey.key_id == key_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=utc_now())
    )
    row = await session.scalar(
        select(ApiKey).where(ApiKey.key_id == key_id).execution_options(populate_existing=True)
    )
    if row is None:
        raise UnknownKeyError(key_id)
    return KeyInfo.of(row)
