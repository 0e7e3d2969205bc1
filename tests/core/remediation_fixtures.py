"""The executor installed over the in-process bot of `tests/detectors/pipeline_fixtures.py`.

from tests.core.remediation_fixtures import remediation, repairs, settle
__all__ = [..., "remediation"]   # the autouse fixture installs the executor
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from self_healing_bot.core.bot import install_remediation
from self_healing_bot.core.remediation import PlaybookRemediation
from self_healing_bot.github.clock import Clock
from self_healing_bot.scheduler import Scheduler
from self_healing_bot.storage.repairs import Repair
from tests.detectors.pipeline_fixtures import Bot


@pytest.fixture(autouse=True)
async def remediation() -> AsyncIterator[None]:
    executor = PlaybookRemediation()
    install_remediation(executor)
    yield
    install_remediation(None)
    await executor.aclose()


async def settle(bot: Bot) -> None:
    """Process webhooks until the bot's own actions cause no more."""
    for _ in range(10):
        if not await bot.process_webhooks():
            return
    pytest.fail("webhooks kept coming")


def scheduler_for(bot: Bot, clock: Clock | None = None) -> Scheduler:
    """The scheduler of a `serve` process over the bot's database and GitHub connection."""
    return Scheduler(
        bot.runtime.settings, bot.database, lambda ids: None, github=bot.github, clock=clock
    )


async def repairs(bot: Bot) -> list[Repair]:
    async with bot.database.session() as session:
        return list(await session.scalars(select(Repair).order_by(Repair.id)))
