"""The delivery state machine: every transition is a compare-and-set UPDATE.

    received → queued → processing → done | failed | dead
                 ↑__________|  (a failed attempt with attempts left, or an expired lease)

A worker owns a `processing` row through its lease token; a re-delivered task that finds the row
done, or leased by a live worker, changes nothing. That is what makes every task idempotent on
the delivery id.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import Update, and_, func, or_, select, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from self_healing_bot.storage.models import (
    TERMINAL_STATUSES,
    AuditEvent,
    DeliveryStatus,
    WebhookDelivery,
    utc_now,
)


class UnknownDeliveryError(LookupError):
    """No delivery with this id was ever stored."""

    def __init__(self, delivery_id: str) -> None:
        super().__init__(
            f"no delivery {delivery_id!r} is stored; list them with GET /api/v1/deliveries"
        )
        self.delivery_id = delivery_id


class ReplayRefusedError(RuntimeError):
    """The delivery is still on its way; replaying it now would run it twice."""


@dataclass(frozen=True)
class NewDelivery:
    """A verified webhook, as the receiver hands it to the group-commit writer."""

    delivery_id: str
    event: str
    action: str | None
    repository: str | None
    installation_id: int | None
    body: bytes
    status: DeliveryStatus = DeliveryStatus.RECEIVED
    last_error: str | None = None


@dataclass(frozen=True)
class Claim:
    """A worker's ownership of one processing attempt."""

    delivery_id: str
    lease_token: str
    attempt: int
    event: str
    repository: str | None
    body: bytes
    received_at: datetime


def as_utc(moment: datetime) -> datetime:
    """SQLite hands timestamps back naive; we only ever store UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# PostgreSQL takes a whole batch as one statement of arrays: one prepared plan whatever the
# batch size, one round trip, and atomic on its own. Numbered parameters, so asyncpg runs it as
# is (the intake's connections) and so does SQLAlchemy's exec_driver_sql (sessions).
_INSERT_UNNEST = """
    INSERT INTO webhook_deliveries (
        delivery_id, event, action, repository, installation_id, body, status, last_error,
        finished_at, attempts, received_at, updated_at
    )
    SELECT *, 0, $10, $10 FROM unnest(
        $1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::bigint[], $6::bytea[],
        $7::varchar[], $8::text[], $9::timestamptz[]
    )
    ON CONFLICT (delivery_id) DO NOTHING
    RETURNING delivery_id
"""
_STATUSES = "SELECT delivery_id, status FROM webhook_deliveries WHERE delivery_id = ANY($1)"


def _unnest_arguments(rows: Sequence[NewDelivery]) -> tuple[object, ...]:
    now = utc_now()
    return (
        [row.delivery_id for row in rows],
        [row.event for row in rows],
        [row.action for row in rows],
        [row.repository for row in rows],
        [row.installation_id for row in rows],
        [row.body for row in rows],
        [row.status.value for row in rows],
        [row.last_error for row in rows],
        [now if row.status in TERMINAL_STATUSES else None for row in rows],
        now,
    )


async def insert_new_postgresql(
    connection: asyncpg.Connection[Any], rows: Sequence[NewDelivery]
) -> set[str]:
    """`insert_new` on a bare asyncpg connection in autocommit: the intake's hot path, at half
    the CPU of the same statement through SQLAlchemy."""
    records = await connection.fetch(_INSERT_UNNEST, *_unnest_arguments(rows))
    return {record[0] for record in records}


async def statuses_postgresql(
    connection: asyncpg.Connection[Any], delivery_ids: Sequence[str]
) -> dict[str, str]:
    """`statuses` on a bare asyncpg connection (the intake's duplicates)."""
    return dict(await connection.fetch(_STATUSES, list(delivery_ids)))


async def insert_new(
    connection: AsyncSession | AsyncConnection, rows: Sequence[NewDelivery]
) -> set[str]:
    """Insert the rows whose delivery id is not stored yet; return the ids that were new.

    One statement for the whole batch, in the caller's transaction (a session or connection).
    """
    if not rows:
        return set()
    if isinstance(connection, AsyncSession):
        connection = await connection.connection()
    if connection.dialect.name == "postgresql":
        result = await connection.exec_driver_sql(_INSERT_UNNEST, _unnest_arguments(rows))
        return set(result.scalars())
    now = utc_now()
    values = [
        {
            "delivery_id": row.delivery_id,
            "event": row.event,
            "action": row.action,
            "repository": row.repository,
            "installation_id": row.installation_id,
            "body": row.body,
            "status": row.status.value,
            "last_error": row.last_error,
            "attempts": 0,
            "received_at": now,
            "updated_at": now,
            "finished_at": now if row.status in TERMINAL_STATUSES else None,
        }
        for row in rows
    ]
    # SQLite: one executemany of a fixed statement, its compiled form cached whatever the size.
    statement = (
        sqlite.insert(WebhookDelivery)
        .on_conflict_do_nothing(index_elements=["delivery_id"])
        .returning(WebhookDelivery.delivery_id)
    )
    result = await connection.execute(statement, values)
    return set(result.scalars())


async def statuses(session: AsyncSession, delivery_ids: Sequence[str]) -> dict[str, str]:
    result = await session.execute(
        select(WebhookDelivery.delivery_id, WebhookDelivery.status).where(
            WebhookDelivery.delivery_id.in_(delivery_ids)
        )
    )
    return {delivery_id: status for delivery_id, status in result}


async def find(session: AsyncSession, delivery_id: str) -> WebhookDelivery | None:
    """The stored delivery with GitHub's id `delivery_id`, body included."""
    return await session.scalar(
        select(WebhookDelivery).where(WebhookDelivery.delivery_id == delivery_id)
    )


async def mark_queued(session: AsyncSession, delivery_ids: Sequence[str]) -> None:
    """received → queued, after the broker accepted the messages."""
    await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.delivery_id.in_(delivery_ids),
            WebhookDelivery.status == DeliveryStatus.RECEIVED,
        )
        .values(status=DeliveryStatus.QUEUED, updated_at=utc_now())
    )


async def claim(session: AsyncSession, delivery_id: str, lease_seconds: float) -> Claim | None:
    """received | queued | processing-with-expired-lease → processing, counting one attempt.

    None when there is nothing to do: the delivery is finished, unknown, or a live worker holds it.
    """
    now = utc_now()
    token = secrets.token_hex(16)
    result = await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.delivery_id == delivery_id,
            or_(
                WebhookDelivery.status.in_([DeliveryStatus.RECEIVED, DeliveryStatus.QUEUED]),
                and_(
                    WebhookDelivery.status == DeliveryStatus.PROCESSING,
                    WebhookDelivery.lease_expires_at < now,
                ),
            ),
        )
        .values(
            status=DeliveryStatus.PROCESSING,
            attempts=WebhookDelivery.attempts + 1,
            lease_token=token,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
            updated_at=now,
        )
        .returning(
            WebhookDelivery.attempts,
            WebhookDelivery.event,
            WebhookDelivery.repository,
            WebhookDelivery.body,
            WebhookDelivery.received_at,
        )
    )
    row = result.one_or_none()
    if row is None:
        return None
    attempts, event, repository, body, received_at = row
    return Claim(delivery_id, token, attempts, event, repository, body, as_utc(received_at))


async def lease_remaining(session: AsyncSession, delivery_id: str) -> float | None:
    """Seconds left on a live worker's lease, or None when the delivery is not processing."""
    expires = await session.scalar(
        select(WebhookDelivery.lease_expires_at).where(
            WebhookDelivery.delivery_id == delivery_id,
            WebhookDelivery.status == DeliveryStatus.PROCESSING,
        )
    )
    if expires is None:
        return None
    return max(0.0, (as_utc(expires) - utc_now()).total_seconds())


async def finish(
    session: AsyncSession, owned: Claim, status: DeliveryStatus, error: str | None = None
) -> bool:
    """processing → done | failed | dead, only while we still hold the lease."""
    now = utc_now()
    result = await session.execute(
        _owned(owned).values(
            status=status,
            last_error=error,
            lease_token=None,
            lease_expires_at=None,
            updated_at=now,
            finished_at=now,
        )
    )
    return _changed(result)


async def release(
    session: AsyncSession, owned: Claim, error: str | None, *, count_attempt: bool = True
) -> bool:
    """processing → queued: hand the delivery back for a later attempt.

    `count_attempt=False` for deferrals (throttling), which are not failures.
    """
    values: dict[str, object] = {
        "status": DeliveryStatus.QUEUED,
        "lease_token": None,
        "lease_expires_at": None,
        "updated_at": utc_now(),
    }
    if error is not None:
        values["last_error"] = error
    if not count_attempt:
        values["attempts"] = WebhookDelivery.attempts - 1
    return _changed(await session.execute(_owned(owned).values(**values)))


def _owned(owned: Claim) -> Update:
    return update(WebhookDelivery).where(
        WebhookDelivery.delivery_id == owned.delivery_id,
        WebhookDelivery.status == DeliveryStatus.PROCESSING,
        WebhookDelivery.lease_token == owned.lease_token,
    )


def _changed(result: object) -> bool:
    return bool(getattr(result, "rowcount", 0))


@dataclass(frozen=True)
class Stale:
    delivery_id: str
    status: str
    updated_at: datetime


async def find_stale(
    session: AsyncSession, *, received_before: datetime, queued_before: datetime, limit: int
) -> list[Stale]:
    """Rows the outbox must (re-)send: received but not yet queued, queued for too long with no
    worker picking them up, or processing with an expired lease (the worker died)."""
    now = utc_now()
    result = await session.execute(
        select(WebhookDelivery.delivery_id, WebhookDelivery.status, WebhookDelivery.updated_at)
        .where(
            or_(
                and_(
                    WebhookDelivery.status == DeliveryStatus.RECEIVED,
                    WebhookDelivery.updated_at < received_before,
                ),
                and_(
                    WebhookDelivery.status == DeliveryStatus.QUEUED,
                    WebhookDelivery.updated_at < queued_before,
                ),
                and_(
                    WebhookDelivery.status == DeliveryStatus.PROCESSING,
                    WebhookDelivery.lease_expires_at < now,
                ),
            )
        )
        .order_by(WebhookDelivery.updated_at)
        .limit(limit)
    )
    return [Stale(d, s, u) for d, s, u in result]


async def requeue(session: AsyncSession, stale: Stale) -> bool:
    """stale row → queued (fresh timestamp), unless someone moved it since we looked."""
    result = await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.delivery_id == stale.delivery_id,
            WebhookDelivery.status == stale.status,
            WebhookDelivery.updated_at == stale.updated_at,
        )
        .values(
            status=DeliveryStatus.QUEUED,
            lease_token=None,
            lease_expires_at=None,
            updated_at=utc_now(),
        )
    )
    return _changed(result)


async def replay(
    session: AsyncSession, delivery_id: str, actor: str, context: Mapping[str, Any] | None = None
) -> None:
    """done | failed | dead → received with a fresh attempt budget, audited (`context`: who and
    from where, added to the audit detail).

    Raises UnknownDeliveryError or ReplayRefusedError (the delivery is still in flight).
    """
    current = await session.scalar(
        select(WebhookDelivery.status).where(WebhookDelivery.delivery_id == delivery_id)
    )
    if current is None:
        raise UnknownDeliveryError(delivery_id)
    result = await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.delivery_id == delivery_id,
            WebhookDelivery.status.in_([status.value for status in TERMINAL_STATUSES]),
        )
        .values(
            status=DeliveryStatus.RECEIVED,
            attempts=0,
            finished_at=None,
            updated_at=utc_now(),
        )
    )
    if not _changed(result):
        raise ReplayRefusedError(
            f"delivery {delivery_id!r} is {current}; only done, failed or dead deliveries "
            "can be replayed, wait for it to finish"
        )
    session.add(
        AuditEvent(
            actor=actor,
            action="replay",
            subject=delivery_id,
            detail={"from": current, **(context or {})},
        )
    )


@dataclass(frozen=True)
class QueueFigures:
    depth: int
    dead: int
    oldest_waiting_seconds: float


async def queue_figures(session: AsyncSession) -> QueueFigures:
    """What the queue gauges show: waiting deliveries, dead letters, the oldest wait."""
    waiting = [DeliveryStatus.RECEIVED, DeliveryStatus.QUEUED]
    depth, oldest = (
        await session.execute(
            select(func.count(), func.min(WebhookDelivery.received_at)).where(
                WebhookDelivery.status.in_(waiting)
            )
        )
    ).one()
    dead = await session.scalar(
        select(func.count()).where(WebhookDelivery.status == DeliveryStatus.DEAD)
    )
    age = (utc_now() - as_utc(oldest)).total_seconds() if oldest is not None else 0.0
    return QueueFigures(depth=int(depth), dead=int(dead or 0), oldest_waiting_seconds=age)
