"""The tables: webhook deliveries, one execution per processing run, and the audit trail.

Durability lives here, not in the broker: a delivery row is committed before GitHub gets its 2xx,
and its `status` column is the state machine every worker consults (see `deliveries.py`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# BIGINT autoincrement is only INTEGER PRIMARY KEY (a rowid alias) on SQLite.
BigIdentity = BigInteger().with_variant(Integer(), "sqlite")


def utc_now() -> datetime:
    """Timezone-aware now; every timestamp we store is UTC."""
    return datetime.now(UTC)


class DeliveryStatus(StrEnum):
    """received → queued → processing → done | failed | dead."""

    RECEIVED = "received"
    QUEUED = "queued"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"
    DEAD = "dead"


TERMINAL_STATUSES = frozenset({DeliveryStatus.DONE, DeliveryStatus.FAILED, DeliveryStatus.DEAD})


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True), dict[str, Any]: JSON}


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(BigIdentity, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(String(64), unique=True)
    event: Mapped[str] = mapped_column(String(64))
    action: Mapped[str | None] = mapped_column(String(64))
    repository: Mapped[str | None] = mapped_column(String(256))
    installation_id: Mapped[int | None] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.RECEIVED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    lease_token: Mapped[str | None] = mapped_column(String(32))
    lease_expires_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_webhook_deliveries_status_updated", "status", "updated_at"),)


class Execution(Base):
    """One processing run of a delivery; `stages` maps stage name → status, timing, detail."""

    __tablename__ = "executions"

    id: Mapped[int] = mapped_column(BigIdentity, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("webhook_deliveries.delivery_id", ondelete="CASCADE"), index=True
    )
    repository: Mapped[str | None] = mapped_column(String(256))
    attempt: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(default=utc_now)
    finished_at: Mapped[datetime | None]
    end_state: Mapped[str | None] = mapped_column(String(32))
    stages: Mapped[dict[str, Any]] = mapped_column(default=dict)

    __table_args__ = (Index("ix_executions_repository_started", "repository", "started_at"),)


class AuditEvent(Base):
    """Who did what to which delivery or repository, for operators (replays, actions)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigIdentity, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utc_now)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(256))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
