"""`process_delivery`: the one coroutine both the broker actor and the embedded queue run.

It claims the delivery (compare-and-set), runs the ten stages, and commits the execution record
together with the delivery's next state in one transaction, so a task is acknowledged only after
its state change is committed. What the caller does next is in the returned `TaskResult`:

    result = await process_delivery(runtime, "72d3162e-cc78-11e3-81ab-4c9367dc0958")
    if result.kind == "retry": ...      # back off, then run it again
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import structlog
from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from self_healing_bot import metrics
from self_healing_bot.core.bot import (
    InvalidPayloadError,
    PipelineRun,
    ThrottledError,
    run_pipeline,
)
from self_healing_bot.core.events import MalformedEventError
from self_healing_bot.github.connection import GitHub, process_github
from self_healing_bot.github.correlation import delivery_context
from self_healing_bot.github.operations import InstallationClient
from self_healing_bot.settings import Settings
from self_healing_bot.storage import deliveries
from self_healing_bot.storage.database import Database
from self_healing_bot.storage.models import DeliveryStatus, Execution, utc_now

log = structlog.stdlib.get_logger(__name__)

ResultKind = Literal["done", "failed", "dead", "retry", "deferred", "busy", "nothing_to_do"]


@dataclass(frozen=True)
class TaskResult:
    """done/failed/dead/nothing_to_do: acknowledge. retry: back off and run again.
    deferred/busy: run again after `delay_seconds` (throttled, or another worker's live lease)."""

    kind: ResultKind
    delay_seconds: float = 0.0
    error: str | None = None


@dataclass(frozen=True)
class Runtime:
    """What processing needs in one process: the settings, the database and GitHub.

    `github` defaults to the process-wide client built from the settings (base URL
    `SHBOT_GITHUB_API_URL`; App credentials or a personal token), or None without credentials.
    """

    settings: Settings
    database: Database
    github: GitHub | None = None

    def __post_init__(self) -> None:
        if self.github is None and (self.settings.github_app_id or self.settings.github_token):
            object.__setattr__(self, "github", process_github(self.settings))

    def installation_client(self, installation_id: int | None) -> InstallationClient | None:
        """A client acting as the installation (or the personal token); None when neither
        applies, e.g. an app-level event in App mode, or no credentials at all."""
        if self.github is None:
            return None
        if installation_id is None and not self.settings.github_token:
            return None
        return self.github.installation(installation_id)


def retry_delay_seconds(attempt: int, settings: Settings) -> float:
    """Exponential backoff with full jitter, bounded by the configured maximum."""
    ceiling = min(settings.retry_max_backoff_ms, settings.retry_min_backoff_ms * 2 ** (attempt - 1))
    return (
        random.uniform(settings.retry_min_backoff_ms, max(ceiling, settings.retry_min_backoff_ms))
        / 1000
    )


async def process_delivery(runtime: Runtime, delivery_id: str) -> TaskResult:
    """Process one stored delivery at least once and at most once to completion."""
    settings, database = runtime.settings, runtime.database
    with delivery_context(delivery_id):
        async with database.session() as session:
            claim = await deliveries.claim(session, delivery_id, settings.lease_seconds)
            if claim is None:
                remaining = await deliveries.lease_remaining(session, delivery_id)
                if remaining is None:
                    return TaskResult("nothing_to_do")
                return TaskResult("busy", delay_seconds=remaining + 1.0)
            execution = Execution(
                delivery_id=delivery_id,
                repository=claim.repository,
                attempt=claim.attempt,
                started_at=utc_now(),
                stages={},
            )
            session.add(execution)
        with structlog.contextvars.bound_contextvars(repository=claim.repository):
            return await _run_claimed(runtime, claim, execution.id)


async def _run_claimed(runtime: Runtime, claim: deliveries.Claim, execution_id: int) -> TaskResult:
    settings, database = runtime.settings, runtime.database

    async def recent_executions(repository: str) -> int:
        async with database.session() as session:
            count = await session.scalar(
                select(func.count()).where(
                    Execution.repository == repository,
                    Execution.started_at > utc_now() - timedelta(minutes=1),
                    or_(Execution.end_state.is_(None), Execution.end_state != "throttled"),
                )
            )
        return int(count or 0)

    run = PipelineRun()
    limit = settings.throttle_per_repository_per_minute
    try:
        await run_pipeline(
            run, claim, recent_executions, limit, database, runtime.installation_client
        )
        end_state, result = run.end_state, TaskResult("done")
    except ThrottledError as error:
        end_state, result = "throttled", TaskResult("deferred", delay_seconds=error.retry_after)
    except (InvalidPayloadError, MalformedEventError) as error:
        end_state, result = "failed", TaskResult("failed", error=str(error))
    except Exception as error:
        log.exception("processing failed", attempt=claim.attempt)
        final = claim.attempt >= settings.max_delivery_attempts
        end_state = "dead" if final else "failed"
        result = TaskResult("dead" if final else "retry", error=repr(error))

    async with database.session() as session:
        await session.execute(
            update(Execution)
            .where(Execution.id == execution_id)
            .values(end_state=end_state, finished_at=utc_now(), stages=run.stages)
        )
        owned = await _commit_transition(session, claim, result)
    if not owned:
        log.warning("lease lost: another worker took this delivery over", attempt=claim.attempt)
        return TaskResult("nothing_to_do")
    metrics.EXECUTIONS.labels(end_state=end_state).inc()
    if result.kind in ("done", "failed", "dead"):
        metrics.DELIVERY_LATENCY.observe((utc_now() - claim.received_at).total_seconds())
    log.info("delivery processed", outcome=result.kind, end_state=end_state, attempt=claim.attempt)
    return result


async def _commit_transition(
    session: AsyncSession, claim: deliveries.Claim, result: TaskResult
) -> bool:
    if result.kind == "done":
        return await deliveries.finish(session, claim, DeliveryStatus.DONE)
    if result.kind == "failed":
        return await deliveries.finish(session, claim, DeliveryStatus.FAILED, result.error)
    if result.kind == "dead":
        return await deliveries.finish(session, claim, DeliveryStatus.DEAD, result.error)
    if result.kind == "deferred":
        return await deliveries.release(session, claim, None, count_attempt=False)
    return await deliveries.release(session, claim, result.error)
