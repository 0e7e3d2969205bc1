"""The scheduler: the one loop in `serve` that runs the work no webhook starts.

Every `TICK_SECONDS` the leading process (see below) runs what is due:

- **missed-delivery recovery** every `SHBOT_REDELIVERY_INTERVAL` seconds (first run at start,
  after `STARTUP_GRACE_SECONDS`; lookback `SCHEDULED_LOOKBACK`), when the GitHub App's
  credentials are configured;
- **scheduled drift checks**: for each repository whose last valid config (the `repo_configs`
  row the detectors keep) sets `detectors.data_drift.schedule`, the latest cron slot of the
  past `DRIFT_LOOKBACK` becomes one synthetic `repository_dispatch` delivery per configured
  dataset, stored like a webhook and handed to the outbox, so it is processed by the same
  queue and pipeline as everything else. Its delivery id is derived from (repository,
  dataset, slot minute), so storing it twice, from two ticks or two processes, stores one;
- **repair reconcile** every `RECONCILE_INTERVAL_SECONDS`, when GitHub credentials are
  configured: repairs no webhook will move on any more (waiting for CI whose webhooks were
  lost, or stalled after their worker died) are resolved, escalated or resumed
  (`core/reconcile.py`).

One leader per deployment: `serve` may run several processes (`--workers`, replicas). On
PostgreSQL the leader holds a session-level advisory lock on a dedicated connection; when it
dies its connection closes, the lock is released and another process takes over at its next
tick. SQLite means embedded mode, where `serve` refuses a second process, so that process leads.
The lock matters for recovery (two runs could ask GitHub twice for the same delivery) and
the reconcile (two could comment twice); drift checks are idempotent by delivery id anyway.

    scheduler = Scheduler.for_process(settings, database, outbox.notify)
    task = asyncio.create_task(scheduler.run())     # until cancelled; then:
    await scheduler.close()
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import structlog
from pydantic import ValidationError
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from self_healing_bot import metrics
from self_healing_bot.core.bot import installed_remediation
from self_healing_bot.core.reconcile import reconcile_repairs
from self_healing_bot.core.remediation import PlaybookRemediation
from self_healing_bot.detectors.data_drift import DETECTOR_ID, configured_datasets
from self_healing_bot.github.clock import Clock, SystemClock
from self_healing_bot.github.connection import GitHub, process_github
from self_healing_bot.github.operations import AppClient
from self_healing_bot.github.redelivery import (
    SCHEDULED_LOOKBACK,
    MemoryLedger,
    recover_missed_deliveries,
    storage_known_guids,
)
from self_healing_bot.repo_config.cron import latest_slot
from self_healing_bot.repo_config.model import RepoConfig
from self_healing_bot.settings import Settings
from self_healing_bot.storage import deliveries
from self_healing_bot.storage.database import Database
from self_healing_bot.storage.deliveries import NewDelivery
from self_healing_bot.storage.models import WebhookDelivery
from self_healing_bot.storage.repo_configs import RepoConfigRecord

log = structlog.stdlib.get_logger(__name__)

TICK_SECONDS = 30.0
# uvicorn opens its socket only after the app's start-up has run, and the scheduler starts
# during start-up: the first tick waits this long so that GitHub's redeliveries, which the
# first recovery asks for, find the server listening instead of failing a second time.
STARTUP_GRACE_SECONDS = 3.0
JOB_TIMEOUT_SECONDS = 300.0  # one job's bound; the next tick tries again
DRIFT_LOOKBACK = timedelta(hours=1)  # a slot missed while no process led still runs
SCHEDULED_ACTION = "self-healing-bot/scheduled"
RECONCILE_INTERVAL_SECONDS = 300.0
ADVISORY_LOCK_KEY = 0x5348424F54  # "SHBOT"
# Fixed, so a (repository, dataset, slot) always maps to the same delivery id.
_SCHEDULED_DELIVERIES = uuid.UUID("6f0d3c52-58a3-4f5e-9d0b-2f8f4c1a7e21")


class Leadership(Protocol):
    """Whether this process runs the scheduled jobs of the deployment."""

    async def acquire(self) -> bool:
        """True while this process leads (called every tick: it may gain or lose the lead)."""
        ...

    async def release(self) -> None: ...


class SoleProcess:
    """SQLite (embedded mode): the one `serve` process leads."""

    async def acquire(self) -> bool:
        return True

    async def release(self) -> None:
        return None


class AdvisoryLock:
    """PostgreSQL: `pg_try_advisory_lock` held by one connection kept for as long as we lead."""

    def __init__(self, database: Database, key: int = ADVISORY_LOCK_KEY) -> None:
        self._database = database
        self._key = key
        self._connection: AsyncConnection | None = None

    async def acquire(self) -> bool:
        if self._connection is not None:
            try:
                await self._connection.execute(text("SELECT 1"))
                return True
            except SQLAlchemyError:
                # The server dropped our session, and with it the lock: another process may
                # lead now. Try again at the next tick.
                log.warning("scheduler lost its lock connection; no longer leading", exc_info=True)
                await self._connection.invalidate()
                self._connection = None
                return False
        connection = await self._database.engine.connect()
        try:
            # Autocommit: the connection holds the lock without sitting idle in a transaction.
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            held = await connection.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
            )
        except BaseException:
            await connection.close()
            raise
        if not held:
            await connection.close()
            return False
        self._connection = connection
        log.info("scheduler leads this deployment")
        return True

    async def release(self) -> None:
        if self._connection is None:
            return
        connection, self._connection = self._connection, None
        try:
            await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
        except SQLAlchemyError:
            log.warning("could not unlock; the lock ends with its connection", exc_info=True)
        finally:
            await connection.close()


def leadership_for(database: Database) -> Leadership:
    return AdvisoryLock(database) if database.dialect == "postgresql" else SoleProcess()


@dataclass(frozen=True)
class KnownRepository:
    """A repository the bot has seen: its last valid config and its latest webhook's body."""

    name: str
    config: RepoConfig
    last_payload: dict[str, Any]


@dataclass(frozen=True)
class ScheduledCheck:
    repository: str
    dataset: str
    slot: datetime


def due_drift_checks(
    known: KnownRepository, now: datetime, lookback: timedelta = DRIFT_LOOKBACK
) -> list[ScheduledCheck]:
    """One check per configured dataset when the latest slot of the schedule is recent.

    Raises `DatasetConfigError` when `paths.data` is not a list of pairs.
    """
    detector = known.config.detectors.get(DETECTOR_ID)
    if detector is None or not detector.enabled or detector.schedule is None:
        return []
    slot = latest_slot(detector.schedule, now)
    if slot <= now - lookback:
        return []
    datasets = configured_datasets(known.config.paths.data)
    return [ScheduledCheck(known.name, dataset.name, slot) for dataset in datasets]


def scheduled_delivery(known: KnownRepository, check: ScheduledCheck) -> NewDelivery:
    """The `repository_dispatch` the drift detector answers, as GitHub would shape it.

    Marked as ours by `action` and `client_payload.scheduled_for`; its id is derived from
    the repository, dataset and slot, so it is stored at most once.
    """
    repository = known.last_payload["repository"]
    installation = known.last_payload.get("installation")
    slot = check.slot.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
    body: dict[str, Any] = {
        "action": SCHEDULED_ACTION,
        "branch": repository.get("default_branch"),
        "client_payload": {"dataset": check.dataset, "scheduled_for": slot},
        "repository": repository,
    }
    installation_id = installation.get("id") if isinstance(installation, dict) else None
    if installation_id is not None:
        body["installation"] = {"id": installation_id}
    key = f"{check.repository.lower()}\n{check.dataset}\n{slot}"
    return NewDelivery(
        delivery_id=str(uuid.uuid5(_SCHEDULED_DELIVERIES, key)),
        event="repository_dispatch",
        action=SCHEDULED_ACTION,
        repository=check.repository,
        installation_id=installation_id,
        body=json.dumps(body).encode(),
    )


async def scheduled_repositories(session: AsyncSession) -> list[KnownRepository]:
    """Repositories whose last valid config sets a drift schedule, with their latest payload.

    A stored config that no longer validates, or a repository with no stored webhook to
    take its `repository` object from, is logged and left out.
    """
    known = []
    rows = await session.execute(select(RepoConfigRecord.repository, RepoConfigRecord.config))
    for name, stored in rows.all():
        try:
            config = RepoConfig.model_validate(stored)
        except ValidationError as error:
            log.warning(
                "stored config no longer validates; not scheduling",
                repository=name,
                error=str(error),
            )
            continue
        detector = config.detectors.get(DETECTOR_ID)
        if detector is None or detector.schedule is None:
            continue
        body = await session.scalar(
            select(WebhookDelivery.body)
            .where(WebhookDelivery.repository == name)
            .order_by(WebhookDelivery.received_at.desc(), WebhookDelivery.id.desc())
            .limit(1)
        )
        payload = json.loads(body) if body is not None else None
        if not isinstance(payload, dict) or not isinstance(payload.get("repository"), dict):
            log.warning("no stored webhook names this repository; not scheduling", repository=name)
            continue
        known.append(KnownRepository(name, config, payload))
    return known


class Scheduler:
    """Runs the due jobs every tick while this process leads; see the module docstring."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        notify: Callable[[list[str]], None],
        *,
        app: AppClient | None = None,
        github: GitHub | None = None,
        leadership: Leadership | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.notify = notify
        self.app = app
        self.github = github
        self.leadership = leadership or leadership_for(database)
        self.clock = clock or SystemClock()
        self._ledger = MemoryLedger()
        self._next_recovery = self.clock.time()
        self._next_reconcile = self.clock.time()

    @classmethod
    def for_process(
        cls, settings: Settings, database: Database, notify: Callable[[list[str]], None]
    ) -> Scheduler:
        """The scheduler of a `serve` process: the process-wide GitHub connection, if any
        credentials are configured (recovery needs the App's)."""
        has_credentials = settings.github_app_id is not None or bool(settings.github_token)
        github = process_github(settings) if has_credentials else None
        app = github.app if github is not None and settings.github_app_id is not None else None
        return cls(settings, database, notify, app=app, github=github)

    async def run(self) -> None:
        """Tick until cancelled; a failed tick is logged and the next one runs as usual."""
        await self.clock.sleep(STARTUP_GRACE_SECONDS)
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("scheduler tick failed; retrying at the next tick")
            await self.clock.sleep(TICK_SECONDS)

    async def tick(self) -> None:
        if not await self.leadership.acquire():
            return
        now = self.clock.time()
        moment = datetime.fromtimestamp(now, UTC)
        if self.app is not None and now >= self._next_recovery:
            self._next_recovery = now + self.settings.redelivery_interval
            await self._job("redelivery", self.recover(self.app, moment))
        await self._job("drift_schedule", self.schedule_drift_checks(moment))
        if self.github is not None and now >= self._next_reconcile:
            self._next_reconcile = now + RECONCILE_INTERVAL_SECONDS
            await self._job("reconcile", self.reconcile_repairs(self.github, moment))

    async def close(self) -> None:
        await self.leadership.release()

    async def recover(self, app: AppClient, now: datetime) -> str:
        """Ask GitHub to redeliver what we missed in the last `SCHEDULED_LOOKBACK`."""
        report = await recover_missed_deliveries(
            app,
            storage_known_guids(self.database),
            self._ledger,
            since=now - SCHEDULED_LOOKBACK,
            now=now,
        )
        log.info(
            "scheduler recovered missed deliveries",
            listed=report.listed,
            requested=len(report.requested),
            failed=len(report.failed),
        )
        return "failed" if report.failed else "succeeded"

    async def schedule_drift_checks(self, now: datetime) -> str | None:
        """Store the due synthetic deliveries and hand the new ones to the outbox."""
        async with self.database.session() as session:
            repositories = await scheduled_repositories(session)
        rows = []
        for known in repositories:
            try:
                checks = due_drift_checks(known, now)
            except ValueError as error:
                log.warning("cannot schedule drift checks", repository=known.name, error=str(error))
                continue
            rows += [scheduled_delivery(known, check) for check in checks]
        if not rows:
            return None
        async with self.database.session() as session:
            fresh = await deliveries.insert_new(session, rows)
        if not fresh:
            return None
        self.notify(sorted(fresh))
        log.info("scheduled drift checks stored", deliveries=sorted(fresh))
        return "succeeded"

    async def reconcile_repairs(self, github: GitHub, now: datetime) -> str | None:
        """Hand the repairs no webhook will move on back to the executor (see
        `core/reconcile.py`); None when there was none."""
        remediation = installed_remediation()
        if not isinstance(remediation, PlaybookRemediation):
            return None
        reconciled, failed = await reconcile_repairs(remediation, github, self.database, now)
        if not reconciled and not failed:
            return None
        return "failed" if failed else "succeeded"

    async def _job(self, job: str, work: Awaitable[str | None]) -> None:
        """Run one job, bounded in time; count its outcome (None: nothing was due)."""
        try:
            async with asyncio.timeout(JOB_TIMEOUT_SECONDS):
                outcome = await work
        except Exception:
            log.exception("scheduled job failed", job=job)
            outcome = "failed"
        if outcome is not None:
            metrics.SCHEDULED_JOBS.labels(job=job, outcome=outcome).inc()
