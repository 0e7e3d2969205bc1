"""Missed-delivery recovery against the sandbox's delivery log, and its storage wiring."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Collection
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from self_healing_bot.github.redelivery import (
    MemoryLedger,
    recover_missed_deliveries,
    storage_known_guids,
)
from self_healing_bot.storage.database import Database
from self_healing_bot.storage.deliveries import NewDelivery, insert_new
from self_healing_bot.storage.models import Base
from tests.github.conftest import FakeClock
from tests.github.world import REPO, World, make_world, push

ATTEMPTS_PATH = r"/app/hook/deliveries/\d+/attempts$"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    # The sandbox checks JWT `iat` against real time too, so this clock starts in the past;
    # no webhook URL: every delivery fails, as while the bot is down.
    world = make_world(tmp_path, FakeClock(start=time.time() - 3 * 3600))
    yield world
    await world.close()


async def nothing_known(guids: Collection[str]) -> set[str]:
    return set()


def now_of(world: World) -> datetime:
    return datetime.fromtimestamp(world.clock.time(), UTC)


async def test_failed_deliveries_are_redelivered_once(world: World) -> None:
    await push(world, 2)
    world.clock.now += 2 * 3600
    await push(world, 120)  # more than one page of the cursor-paginated list
    ledger = MemoryLedger()
    now = now_of(world)
    report = await recover_missed_deliveries(
        world.github.app, nothing_known, ledger, since=now - timedelta(hours=1), now=now
    )
    assert report.listed == 120 and len(report.requested) == 120 and report.failed == ()
    assert len(world.requests("GET", r"/app/hook/deliveries$")) == 2
    redelivered = [d.guid for d in world.sandbox.sender.deliveries if d.redelivery]
    assert sorted(redelivered) == sorted(report.requested)

    same_process = await recover_missed_deliveries(
        world.github.app, nothing_known, ledger, since=now - timedelta(hours=1), now=now
    )
    assert same_process.requested == ()  # the ledger remembers what this process asked for
    await world.sandbox.drain()  # GitHub attempts the redeliveries within seconds
    after_restart = await recover_missed_deliveries(
        world.github.app, nothing_known, MemoryLedger(), since=now - timedelta(hours=1), now=now
    )
    assert after_restart.requested == ()  # GitHub's own list shows the redeliveries
    assert len(world.requests("POST", ATTEMPTS_PATH)) == 120


async def test_a_failed_request_is_left_for_the_next_run(world: World) -> None:
    await push(world, 1)
    world.sandbox.faults.server_errors(100, status=502, path=ATTEMPTS_PATH)
    ledger = MemoryLedger()
    now = now_of(world)
    report = await recover_missed_deliveries(
        world.github.app, nothing_known, ledger, since=now - timedelta(hours=1), now=now
    )
    assert report.requested == () and len(report.failed) == 1
    world.sandbox.faults.clear()
    world.clock.now += 60  # past the breaker's pause
    retried = await recover_missed_deliveries(
        world.github.app, nothing_known, ledger, since=now - timedelta(hours=1), now=now
    )
    assert retried.requested == (report.failed[0][0],)


async def test_known_guids_come_from_the_deliveries_table(tmp_path: Path) -> None:
    database = Database.connect(f"sqlite+aiosqlite:///{tmp_path}/shbot.db")
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        async with database.session() as session:
            await insert_new(session, [NewDelivery("guid-1", "push", None, REPO, 77, b"{}")])
        known = storage_known_guids(database)
        assert await known({"guid-1", "guid-2"}) == {"guid-1"}
    finally:
        await database.close()
