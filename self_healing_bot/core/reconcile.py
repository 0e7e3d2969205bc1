"""Repairs that no webhook will move on any more, looked at again by the scheduler.

Two kinds, each handed back to the executor (`PlaybookRemediation`):

- **waiting for CI** longer than `RECONCILE_AFTER`: resolved from GitHub's state (its CI
  webhooks may be lost for good), or escalated once it has waited longer than its
  repository's `budgets.verification_timeout_hours` (`PlaybookRemediation.reconcile`);
- **stalled**, planned or acting with no worker on it: its delivery has ended (done, failed or
  dead: nothing will process it again) and nothing has happened on it for longer than its
  longest step may take (each try of a step is bounded by the step's timeout), so the worker
  or web request that ran it died. It is resumed where it stopped (`execute`), as its own
  delivery, so its templates see the same event. A stalled repair would otherwise also block
  every later repair of its signature.

    reconciled, failed = await reconcile_repairs(remediation, github, database, now)
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import structlog

from self_healing_bot.core.context import ExecutionContext
from self_healing_bot.core.events import parse_event
from self_healing_bot.core.remediation import PlaybookRemediation
from self_healing_bot.github.connection import GitHub
from self_healing_bot.github.errors import GitHubError
from self_healing_bot.storage import deliveries
from self_healing_bot.storage import repairs as store
from self_healing_bot.storage.database import Database
from self_healing_bot.storage.deliveries import as_utc
from self_healing_bot.storage.models import TERMINAL_STATUSES, WebhookDelivery
from self_healing_bot.storage.repairs import Repair, RepairState, RepairStep

log = structlog.stdlib.get_logger(__name__)

# Younger repairs are left to their CI webhooks, which normally resolve them in time.
RECONCILE_AFTER = timedelta(minutes=10)
# Beyond a step's own bound: retry back-off, bookkeeping, a slow database.
STALL_MARGIN = timedelta(minutes=5)
_DEFAULT_STEP_BOUND = timedelta(seconds=300)


def longest_step(plan: dict[str, Any]) -> timedelta:
    """How long the slowest step of the plan may run: its timeout times its tries."""
    bounds = [
        timedelta(seconds=step["timeout_seconds"] * (step.get("retries", 0) + 1))
        for phase in ("steps", "on_failure")
        for step in plan.get(phase) or []
    ]
    return max(bounds, default=_DEFAULT_STEP_BOUND)


def is_stalled(
    repair: Repair, steps: Sequence[RepairStep], delivery_status: str | None, now: datetime
) -> bool:
    """Whether no worker can still be running the planned or acting `repair` (see above)."""
    if repair.state not in (RepairState.PLANNED, RepairState.ACTING):
        return False
    if delivery_status is not None and delivery_status not in TERMINAL_STATUSES:
        return False  # its delivery is still queued or processing: it resumes the repair
    moments = [repair.detected_at]
    for step in steps:
        moments.append(step.started_at)
        if step.finished_at is not None:
            moments.append(step.finished_at)
    last_activity = max(as_utc(moment) for moment in moments)
    return now - last_activity > longest_step(repair.plan) + STALL_MARGIN


async def reconcile_repairs(
    remediation: PlaybookRemediation, github: GitHub, database: Database, now: datetime
) -> tuple[int, int]:
    """Reconcile every waiting or stalled repair older than `RECONCILE_AFTER`; (reconciled,
    failed). One that fails (GitHub unreachable) is tried again at the next run."""
    async with database.session() as session:
        candidates = await store.unfinished_since(session, now - RECONCILE_AFTER)
    reconciled = failed = 0
    for repair, delivery_status in candidates:
        bound = log.bind(repair=repair.id, repository=repair.repository, state=repair.state)
        try:
            if repair.state == RepairState.AWAITING_VERIFICATION:
                context = _context(repair, None, github, database, bound)
                state = await remediation.reconcile(context, repair.id, now)
            else:
                async with database.session() as session:
                    steps = await store.steps_of(session, repair.id)
                if not is_stalled(repair, steps, delivery_status, now):
                    continue
                bound.warning("resuming a stalled repair")
                async with database.session() as session:
                    delivery = await deliveries.find(session, repair.delivery_id)
                context = _context(repair, delivery, github, database, bound)
                state = await remediation.execute(context, repair.id)
        except GitHubError as error:
            bound.warning("could not reconcile the repair", error=str(error))
            failed += 1
            continue
        bound.info("reconciled a repair", now_state=state)
        reconciled += 1
    return reconciled, failed


def _context(
    repair: Repair,
    delivery: WebhookDelivery | None,
    github: GitHub,
    database: Database,
    bound: structlog.stdlib.BoundLogger,
) -> ExecutionContext:
    """A context acting as the repair's installation; as its own delivery when that is
    given and readable (its event and payload, which the playbook's templates may read)."""
    client = github.installation(repair.installation_id)
    context = ExecutionContext.for_installation(
        f"reconcile-{repair.id}", "reconcile", repair.installation_id, bound, database, client
    )
    if delivery is None:
        return context
    try:
        payload = json.loads(delivery.body)
        event = parse_event(delivery.event, payload)
    except ValueError:  # not JSON, or not the event's shape (MalformedEventError)
        return context
    if event is None:  # an event the bot does not act on: no repair comes from one
        return context
    return dataclasses.replace(
        context,
        delivery_id=repair.delivery_id,
        event_name=delivery.event,
        event=event,
        payload=payload,
    )
