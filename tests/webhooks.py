"""Test helpers for webhooks: GitHub's example payloads, signed requests, and waiting for a
delivery to reach a status."""

from __future__ import annotations

import asyncio
import gzip
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from self_healing_bot.settings import Settings
from self_healing_bot.storage.database import Database
from self_healing_bot.storage.models import Execution, WebhookDelivery
from self_healing_bot.web.app import create_app
from self_healing_bot.web.signature import sign

EXAMPLES = Path(__file__).parent / "data/webhook_examples/api.github.com.json.gz"
SECRET = "it's-a-secret-to-everybody"


@cache
def examples() -> dict[str, list[dict[str, Any]]]:
    """Event name → GitHub's example payloads (vendored by scripts/vendor_webhook_examples.py)."""
    with gzip.open(EXAMPLES, "rt", encoding="utf-8") as handle:
        events: dict[str, list[dict[str, Any]]] = json.load(handle)["events"]
    return events


def workflow_run_body() -> bytes:
    return json.dumps(examples()["workflow_run"][0]).encode()


def headers(
    event: str,
    body: bytes,
    *,
    secret: str | None = SECRET,
    delivery_id: str | None = None,
    content_type: str = "application/json",
) -> dict[str, str]:
    result = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
        "Content-Type": content_type,
    }
    if secret is not None:
        result["X-Hub-Signature-256"] = sign(body, secret)
    return result


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan (writer, outbox, queue) running, and a client talking to it."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


async def stored(database: Database) -> dict[str, WebhookDelivery]:
    async with database.session() as session:
        rows = (await session.scalars(select(WebhookDelivery))).all()
    return {row.delivery_id: row for row in rows}


async def executions(database: Database, delivery_id: str) -> list[Execution]:
    async with database.session() as session:
        query = select(Execution).where(Execution.delivery_id == delivery_id)
        return list((await session.scalars(query.order_by(Execution.id))).all())


async def wait_for_status(
    database: Database, delivery_id: str, wanted: set[str], within: float = 30.0
) -> WebhookDelivery:
    """Poll until the delivery reaches one of `wanted`; fail with what it is after `within`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        row = (await stored(database)).get(delivery_id)
        if row is not None and row.status in wanted:
            return row
        if loop.time() > deadline:
            status = row.status if row else "not stored"
            raise AssertionError(f"{delivery_id} is {status}, expected one of {sorted(wanted)}")
        await asyncio.sleep(0.05)
