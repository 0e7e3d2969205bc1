"""The scheduler: recovery on its interval against the sandbox, scheduled drift checks stored
once per slot and processed by the outbox and queue into drift reports, one leader on
PostgreSQL. Time is a `FakeClock` moved by hand: nothing sleeps."""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from self_healing_bot.queue.embedded import EmbeddedQueue
from self_healing_bot.queue.outbox import Outbox
from self_healing_bot.queue.tasks import Runtime, process_delivery
from self_healing_bot.repo_config.model import RepoConfig
from self_healing_bot.scheduler import (
    SCHEDULED_ACTION,
    STARTUP_GRACE_SECONDS,
    TICK_SECONDS,
    AdvisoryLock,
    KnownRepository,
    Scheduler,
    SoleProcess,
    due_drift_checks,
)
from self_healing_bot.settings import Settings
from self_healing_bot.storage.database import Database
from self_healing_bot.storage.deliveries import NewDelivery, insert_new
from self_healing_bot.storage.drift_reports import DriftReportRecord
from self_healing_bot.storage.models import WebhookDelivery
from tests.detectors.drift_fixtures import (  # noqa: F401  (fixtures)
    Harness,
    harness,
    migrated_template,
    table_csv,
)
from tests.github.conftest import FakeClock, no_retry_waits  # noqa: F401  (autouse)
from tests.github.world import REPO, World, make_world, push
from tests.servers import POSTGRES_ADMIN_URL, require_server

ATTEMPTS_PATH = r"/app/hook/deliveries/\d+/attempts$"


def settings_for(database_url: str) -> Settings:
    return Settings(_env_file=None, database_url=database_url, broker_url="")  # type: ignore[call-arg]


def jobs_counted(job: str, outcome: str) -> float:
    labels = {"job": job, "outcome": outcome}
    return REGISTRY.get_sample_value("shbot_scheduled_jobs_total", labels) or 0.0


def at(moment: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=UTC)


def known(config: dict[str, object]) -> KnownRepository:
    return KnownRepository(REPO, RepoConfig.model_validate(config), {"repository": {}})


TWO_DATASETS = ["d/ref1.csv", "d/cur1.csv", "d/ref2.csv", "d/cur2.csv"]


@pytest.mark.parametrize(
    ("config", "now", "expected"),
    [
        ({}, "2026-03-02T12:20:00", []),
        ({"detectors": {"data_drift": {"schedule": "*/15 * * * *"}}}, "2026-03-02T12:20:00", []),
        (
            {
                "paths": {"data": TWO_DATASETS},
                "detectors": {"data_drift": {"schedule": "*/15 * * * *"}},
            },
            "2026-03-02T12:20:00",
            [("d/cur1.csv", "2026-03-02T12:15:00"), ("d/cur2.csv", "2026-03-02T12:15:00")],
        ),
        (  # the slot is the minute itself
            {
                "paths": {"data": TWO_DATASETS[:2]},
                "detectors": {"data_drift": {"schedule": "0 3 * * *"}},
            },
            "2026-03-02T03:00:00",
            [("d/cur1.csv", "2026-03-02T03:00:00")],
        ),
        (  # older than the one-hour lookback: not caught up
            {
                "paths": {"data": TWO_DATASETS[:2]},
                "detectors": {"data_drift": {"schedule": "0 3 * * *"}},
            },
            "2026-03-02T04:30:00",
            [],
        ),
        (
            {
                "paths": {"data": TWO_DATASETS[:2]},
                "detectors": {"data_drift": {"schedule": "* * * * *", "enabled": False}},
            },
            "2026-03-02T04:30:00",
            [],
        ),
    ],
    ids=["no schedule", "no datasets", "two datasets", "on the minute", "too old", "disabled"],
)
def test_due_drift_checks(
    config: dict[str, object], now: str, expected: list[tuple[str, str]]
) -> None:
    checks = due_drift_checks(known(config), at(now))
    assert [(check.dataset, check.slot) for check in checks] == [
        (dataset, at(slot)) for dataset, slot in expected
    ]


@pytest.fixture
def database_path(tmp_path: Path, migrated_template: Path) -> Path:  # noqa: F811
    path = tmp_path / "scheduler.db"
    shutil.copyfile(migrated_template, path)
    return path


@pytest.fixture
async def database(database_path: Path) -> AsyncIterator[Database]:
    database = Database.connect(f"sqlite+aiosqlite:///{database_path}")
    yield database
    await database.close()


@pytest.fixture
async def offline_world(tmp_path: Path) -> AsyncIterator[World]:
    # No webhook URL: every delivery fails, as while the bot is down. The sandbox checks a
    # JWT's `iat` against real time, so the clock starts an hour back and moves by hand.
    world = make_world(tmp_path, FakeClock(start=time.time() - 3600))
    yield world
    await world.close()


async def test_recovery_runs_at_start_and_then_every_interval(
    offline_world: World, database: Database
) -> None:
    world = offline_world
    settings = settings_for("sqlite://unused").model_copy(update={"redelivery_interval": 600.0})
    scheduler = Scheduler(
        settings, database, lambda ids: None, app=world.github.app, clock=world.clock
    )
    succeeded = jobs_counted("redelivery", "succeeded")
    await push(world, 3)

    await scheduler.tick()  # the first tick recovers at once: the bot may just have come back
    assert len(world.requests("POST", ATTEMPTS_PATH)) == 3
    await world.sandbox.drain()

    await push(world, 1)
    world.clock.now += 300
    await scheduler.tick()  # 5 minutes on: not due
    assert len(world.requests("POST", ATTEMPTS_PATH)) == 3
    assert len(world.requests("GET", r"/app/hook/deliveries$")) == 1

    world.clock.now += 300
    await scheduler.tick()  # 10 minutes: due; only the new miss is asked for
    assert len(world.requests("POST", ATTEMPTS_PATH)) == 4
    redelivered = [d.guid for d in world.sandbox.sender.deliveries if d.redelivery]
    assert len(redelivered) == len(set(redelivered)) == 4
    assert jobs_counted("redelivery", "succeeded") == succeeded + 2


async def test_a_failed_recovery_is_counted_and_retried_at_the_next_interval(
    offline_world: World, database: Database
) -> None:
    world = offline_world
    world.sandbox.faults.server_errors(100, status=502, path=r"/app/hook/deliveries$")
    scheduler = Scheduler(
        settings_for("sqlite://unused"),
        database,
        lambda ids: None,
        app=world.github.app,
        clock=world.clock,
    )
    failed = jobs_counted("redelivery", "failed")
    succeeded = jobs_counted("redelivery", "succeeded")
    await scheduler.tick()
    assert jobs_counted("redelivery", "failed") == failed + 1
    world.sandbox.faults.clear()
    world.clock.now += 600 + 60  # due again, and past the breaker's pause
    await scheduler.tick()
    assert jobs_counted("redelivery", "succeeded") == succeeded + 1


async def test_without_app_credentials_there_is_no_recovery(database: Database) -> None:
    clock = FakeClock()
    scheduler = Scheduler(settings_for("sqlite://unused"), database, lambda ids: None, clock=clock)
    before = jobs_counted("redelivery", "succeeded") + jobs_counted("redelivery", "failed")
    await scheduler.tick()
    assert jobs_counted("redelivery", "succeeded") + jobs_counted("redelivery", "failed") == before


class FlakyLeadership:
    """Leads, except that asking the database fails the first time."""

    def __init__(self) -> None:
        self.asked = 0

    async def acquire(self) -> bool:
        self.asked += 1
        if self.asked == 1:
            raise ConnectionError("database unreachable")
        return True

    async def release(self) -> None:
        return None


class StoppingClock:
    """Records each wait; the third one ends the loop, as cancelling the task would."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def time(self) -> float:
        return 0.0

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        if len(self.waits) == 3:
            raise asyncio.CancelledError


async def test_the_loop_outlives_a_failed_tick(database: Database) -> None:
    leadership, clock = FlakyLeadership(), StoppingClock()
    scheduler = Scheduler(
        settings_for("sqlite://unused"),
        database,
        lambda ids: None,
        leadership=leadership,
        clock=clock,
    )
    with pytest.raises(asyncio.CancelledError):
        await scheduler.run()
    assert leadership.asked == 2
    assert clock.waits == [STARTUP_GRACE_SECONDS, TICK_SECONDS, TICK_SECONDS]


SCHEDULED_CONFIG = b"""\
paths:
  data: [data/reference.csv, data/current.csv]
detectors:
  data_drift:
    schedule: "*/15 * * * *"
"""


async def seen_by_the_bot(harness: Harness, runtime: Runtime) -> None:  # noqa: F811
    """Process the last push as the bot does: the detectors store the repository's config."""
    payload = harness.last_push_payload()
    delivery = NewDelivery(
        "push-" + secrets.token_hex(4), "push", None, REPO, 77, json.dumps(payload).encode()
    )
    async with harness.database.session() as session:
        await insert_new(session, [delivery])
    assert (await process_delivery(runtime, delivery.delivery_id)).kind == "done"


async def scheduled_rows(database: Database) -> list[WebhookDelivery]:
    async with database.session() as session:
        query = select(WebhookDelivery).where(WebhookDelivery.action == SCHEDULED_ACTION)
        return list((await session.scalars(query.order_by(WebhookDelivery.id))).all())


async def wait_until_finished(database: Database, count: int) -> list[WebhookDelivery]:
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        rows = await scheduled_rows(database)
        if len(rows) == count and all(row.status == "done" for row in rows):
            return rows
        assert asyncio.get_running_loop().time() < deadline, [
            (row.status, row.last_error) for row in rows
        ]
        await asyncio.sleep(0.05)


async def test_a_due_schedule_is_processed_once_per_slot_into_a_drift_report(
    harness: Harness,  # noqa: F811
) -> None:
    world, database = harness.world, harness.database
    settings = settings_for("sqlite://unused")
    runtime = Runtime(settings, database, github=world.github)
    harness.push(
        {
            ".github/self-healing-bot.yml": SCHEDULED_CONFIG,
            "data/current.csv": table_csv(600, shift=1.5, seed=2),
        },
        "schedule drift checks; new data",
    )
    await seen_by_the_bot(harness, runtime)

    queue = EmbeddedQueue(runtime, concurrency=1)
    outbox = Outbox(database, queue, settings)
    tasks = [asyncio.create_task(outbox.run()), asyncio.create_task(queue.run())]
    slot = datetime(2026, 3, 2, 12, 15, tzinfo=UTC).timestamp()
    world.clock.now = slot + 120
    leaders = [
        Scheduler(settings, database, outbox.notify, leadership=SoleProcess(), clock=world.clock)
        for _ in range(2)  # as if two processes raced: still one delivery per slot
    ]
    try:
        for scheduler in (*leaders, *leaders):
            await scheduler.tick()
        first = await wait_until_finished(database, 1)
        world.clock.now = slot + 15 * 60  # the next slot, on the minute
        await leaders[0].tick()
        await leaders[1].tick()
        both = await wait_until_finished(database, 2)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    assert both[0].delivery_id == first[0].delivery_id
    bodies = [json.loads(row.body) for row in both]
    assert [body["client_payload"] for body in bodies] == [
        {"dataset": "data/current.csv", "scheduled_for": "2026-03-02T12:15Z"},
        {"dataset": "data/current.csv", "scheduled_for": "2026-03-02T12:30Z"},
    ]
    assert {row.event for row in both} == {"repository_dispatch"}
    async with database.session() as session:
        reports = (await session.scalars(select(DriftReportRecord))).all()
    # one from the push the bot saw, one per scheduled slot; the shifted table drifted
    assert len(reports) == 3
    assert all(report.report["dataset_drifted"] for report in reports)


async def test_one_process_leads_on_postgresql() -> None:
    require_server("PostgreSQL", "127.0.0.1", 5432)
    key = secrets.randbits(40)
    first_database = Database.connect(POSTGRES_ADMIN_URL)
    second_database = Database.connect(POSTGRES_ADMIN_URL)
    first, second = AdvisoryLock(first_database, key), AdvisoryLock(second_database, key)
    try:
        assert await first.acquire() is True
        assert await first.acquire() is True  # still leading at the next tick
        assert await second.acquire() is False
        await first.release()
        assert await second.acquire() is True
        assert await first.acquire() is False
    finally:
        await first.release()
        await second.release()
        await first_database.close()
        await second_database.close()
