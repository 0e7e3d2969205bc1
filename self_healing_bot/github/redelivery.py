"""Missed-delivery recovery: ask GitHub again for the webhooks that never reached us.

While the bot is down, GitHub's deliveries fail and are not retried. Every 10 minutes (and
on `self-healing-bot redeliver --since 1h`) we list the app's recent deliveries and request
a redelivery of each one that failed or whose GUID our database does not know, within
GitHub's 3-day window, and never twice: a GUID that GitHub already lists a redelivery for
is skipped (that record survives our restarts), and a ledger stops two runs racing.

    report = await recover_missed_deliveries(
        github.app, storage_known_guids(database), MemoryLedger(),
        since=now - timedelta(hours=1), now=now,
    )
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from self_healing_bot.github.errors import GitHubError
from self_healing_bot.github.models import HookDelivery
from self_healing_bot.github.operations import AppClient
from self_healing_bot.storage import deliveries as stored_deliveries
from self_healing_bot.storage.database import Database

log = structlog.get_logger(__name__)

REDELIVERY_WINDOW = timedelta(days=3)  # GitHub refuses to redeliver anything older
SCHEDULED_LOOKBACK = timedelta(hours=1)

KnownGuids = Callable[[Collection[str]], Awaitable[set[str]]]


class RedeliveryLedger(Protocol):
    """Which GUIDs a redelivery was requested for; claiming is atomic."""

    async def claim(self, guid: str) -> bool:
        """True when no one requested this GUID before: the caller may request it now."""
        ...

    async def release(self, guid: str) -> None:
        """The request failed: let a later run try again."""
        ...


class MemoryLedger:
    """The ledger of one process (the scheduler keeps one for its lifetime)."""

    def __init__(self) -> None:
        self._claimed: set[str] = set()

    async def claim(self, guid: str) -> bool:
        if guid in self._claimed:
            return False
        self._claimed.add(guid)
        return True

    async def release(self, guid: str) -> None:
        self._claimed.discard(guid)


def storage_known_guids(database: Database) -> KnownGuids:
    """`known_delivery_guids` backed by the deliveries table (a GUID is our delivery id)."""

    async def known(guids: Collection[str]) -> set[str]:
        async with database.session() as session:
            return set(await stored_deliveries.statuses(session, list(guids)))

    return known


def missed_deliveries(
    deliveries: Sequence[HookDelivery], known_guids: Collection[str], *, now: datetime
) -> list[HookDelivery]:
    """One attempt per GUID to redeliver, oldest first.

    A GUID is missed when our database does not know it or no attempt of it succeeded;
    it is left alone when GitHub already lists a redelivery of it, or when its first
    attempt is older than GitHub's 3-day window.
    """
    attempts: dict[str, list[HookDelivery]] = {}
    for delivery in deliveries:
        attempts.setdefault(delivery.guid, []).append(delivery)
    missed = []
    for guid, tries in attempts.items():
        first = min(tries, key=lambda attempt: attempt.delivered_at)
        if first.delivered_at <= now - REDELIVERY_WINDOW:
            continue
        if any(attempt.redelivery for attempt in tries):
            continue
        failed = not any(attempt.succeeded for attempt in tries)
        if failed or guid not in known_guids:
            missed.append(first)
    return sorted(missed, key=lambda delivery: delivery.delivered_at)


@dataclass(frozen=True)
class RedeliveryReport:
    listed: int
    requested: tuple[str, ...]  # GUIDs
    failed: tuple[tuple[str, str], ...]  # (GUID, reason): left for the next run


async def recover_missed_deliveries(
    app: AppClient,
    known_delivery_guids: KnownGuids,
    ledger: RedeliveryLedger,
    *,
    since: datetime,
    now: datetime,
) -> RedeliveryReport:
    """List deliveries back to `since` and request a redelivery of each missed one."""
    since = max(since, now - REDELIVERY_WINDOW)
    deliveries = await app.list_hook_deliveries(since=since)
    known = await known_delivery_guids({delivery.guid for delivery in deliveries})
    requested: list[str] = []
    failed: list[tuple[str, str]] = []
    for delivery in missed_deliveries(deliveries, known, now=now):
        if not await ledger.claim(delivery.guid):
            continue
        try:
            await app.redeliver(delivery.id)
        except GitHubError as error:
            await ledger.release(delivery.guid)
            log.warning("github.redelivery_failed", guid=delivery.guid, error=str(error))
            failed.append((delivery.guid, str(error)))
            continue
        log.info("github.redelivery_requested", guid=delivery.guid, webhook_event=delivery.event)
        requested.append(delivery.guid)
    return RedeliveryReport(len(deliveries), tuple(requested), tuple(failed))
