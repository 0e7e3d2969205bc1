"""The audit trail: who did what, to what, when and from where, for every write.

Call `record` inside the session that makes the change, so the entry commits with it or not at all.

    actor = Actor(key_id="3f9a0c1b2d4e", name="ci", client="10.0.0.7")
    async with database.session() as session:
        await revoke_key(session, key_id)
        record(session, actor, "key.revoke", key_id)
"""

from __future__ import annotations

import getpass
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from self_healing_bot.storage.models import AuditEvent


@dataclass(frozen=True)
class Actor:
    """An API key (by its public id and name) or a local command-line user, and their address."""

    key_id: str | None
    name: str
    client: str | None

    @classmethod
    def command_line(cls) -> Actor:
        return cls(key_id=None, name=f"cli:{getpass.getuser()}", client="local")

    @property
    def label(self) -> str:
        """`name (key <id>)` for keys, the bare name otherwise; what the `actor` column holds."""
        return f"{self.name} (key {self.key_id})" if self.key_id else self.name

    def detail(self) -> dict[str, Any]:
        return {"actor_key_id": self.key_id, "actor_name": self.name, "client": self.client}


def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    subject: str,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Add one audit event to `session`; it is written when the session commits."""
    session.add(
        AuditEvent(
            actor=actor.label[:128],
            action=action,
            subject=subject[:256],
            detail={**actor.detail(), **(detail or {})},
        )
    )
