"""The last valid repository config, kept so an invalid push does not change the bot's behaviour.

await save_valid_config(session, "octo/ml", config)
config = await last_valid_config(session, "octo/ml")   # None if none was ever valid
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from self_healing_bot.repo_config.model import RepoConfig
from self_healing_bot.storage.database import dialect_insert
from self_healing_bot.storage.models import Base, utc_now


class RepoConfigRecord(Base):
    __tablename__ = "repo_configs"

    repository: Mapped[str] = mapped_column(String(256), primary_key=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime]


async def save_valid_config(session: AsyncSession, repository: str, config: RepoConfig) -> None:
    """Remember `config` as the repository's last valid one."""
    insert = dialect_insert(session)
    values = {"config": config.model_dump(mode="json"), "updated_at": utc_now()}
    await session.execute(
        insert(RepoConfigRecord)
        .values(repository=repository, **values)
        .on_conflict_do_update(index_elements=["repository"], set_=values)
    )


async def last_valid_config(session: AsyncSession, repository: str) -> RepoConfig | None:
    stored = await session.scalar(
        select(RepoConfigRecord.config).where(RepoConfigRecord.repository == repository)
    )
    return None if stored is None else RepoConfig.model_validate(stored)
