"""Webhook deliveries: payloads shaped by `@octokit/webhooks-schemas`, signed and sent in the
background, each attempt recorded for `GET /app/hook/deliveries` as GitHub records it.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import httpx

from self_healing_bot.sandbox.faults import Faults
from self_healing_bot.sandbox.shapes import Schema, complete
from self_healing_bot.sandbox.state import App, Delivery

WEBHOOK_SCHEMAS_RESOURCE = "webhooks.subset.json.gz"
DELIVERY_TIMEOUT_SECONDS = 10.0


@cache
def webhook_schemas() -> dict[str, Schema]:
    """Event schemas keyed `event$action` (`push$event` for push), parsed once."""
    data = resources.files("self_healing_bot.sandbox.openapi").joinpath(WEBHOOK_SCHEMAS_RESOURCE)
    events: dict[str, Schema] = json.loads(gzip.decompress(data.read_bytes()))["events"]
    return events


def webhook_payload(event: str, action: str | None, fields: dict[str, Any]) -> dict[str, Any]:
    """A complete payload for `event`/`action` built around the fields the sandbox models."""
    schema = webhook_schemas()[f"{event}${action or 'event'}"]
    body = {"action": action, **fields} if action else fields
    payload: dict[str, Any] = complete(schema, body)
    return payload


def signature(secret: str, body: bytes) -> str:
    """GitHub's `X-Hub-Signature-256` value for a body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookSender:
    """Records deliveries and sends them from a background task, so no handler waits."""

    def __init__(self, faults: Faults, clock: Callable[[], datetime]) -> None:
        self.deliveries: list[Delivery] = []
        self._faults = faults
        self._clock = clock
        self._queue: asyncio.Queue[tuple[App, Delivery]] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._next_id = 1

    def send(
        self,
        app: App,
        event: str,
        action: str | None,
        payload: dict[str, Any],
        installation_id: int | None,
        repository_id: int | None,
        guid: str | None = None,
    ) -> Delivery:
        """Record a delivery and queue it; a redelivery passes the original `guid`."""
        body = json.dumps(payload).encode()
        delivery = Delivery(
            id=self._next_id,
            guid=guid or str(uuid.uuid4()),
            event=event,
            action=action,
            installation_id=installation_id,
            repository_id=repository_id,
            payload=payload,
            request_headers={},
            delivered_at=self._clock(),
            redelivery=guid is not None,
        )
        self._next_id += 1
        delivery.request_headers = {
            "Accept": "*/*",
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/sandbox",
            "X-GitHub-Delivery": delivery.guid,
            "X-GitHub-Event": event,
            "X-GitHub-Hook-ID": str(app.hook_id),
            "X-GitHub-Hook-Installation-Target-ID": str(app.id),
            "X-GitHub-Hook-Installation-Target-Type": "integration",
            "X-Hub-Signature-256": signature(app.webhook_secret, body),
        }
        self.deliveries.append(delivery)
        self._ensure_worker().put_nowait((app, delivery))
        return delivery

    async def drain(self) -> None:
        """Wait until every queued delivery has been attempted."""
        if self._queue is not None:
            await self._queue.join()

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
            self._worker = None
            self._queue = None

    def _ensure_worker(self) -> asyncio.Queue[tuple[App, Delivery]]:
        loop = asyncio.get_running_loop()
        if self._queue is None or self._worker is None or self._worker.get_loop() is not loop:
            self._queue = asyncio.Queue()
            self._worker = loop.create_task(self._run(self._queue))
        return self._queue

    async def _run(self, queue: asyncio.Queue[tuple[App, Delivery]]) -> None:
        async with httpx.AsyncClient(timeout=DELIVERY_TIMEOUT_SECONDS) as client:
            while True:
                app, delivery = await queue.get()
                try:
                    await self._attempt(client, app, delivery)
                finally:
                    queue.task_done()

    async def _attempt(self, client: httpx.AsyncClient, app: App, delivery: Delivery) -> None:
        started = time.perf_counter()
        if app.webhook_url is None or self._faults.take_dropped_delivery():
            delivery.status, delivery.status_code = "failed to connect to host", 0
            return
        try:
            response = await client.post(
                app.webhook_url,
                content=json.dumps(delivery.payload).encode(),
                headers=delivery.request_headers,
            )
        except httpx.HTTPError as error:
            delivery.status = f"failed to connect to host ({type(error).__name__})"
            delivery.status_code = 0
        else:
            delivery.status = (
                "OK" if response.is_success else f"Invalid HTTP Response: {response.status_code}"
            )
            delivery.status_code = response.status_code
            delivery.response_headers = dict(response.headers)
            delivery.response_body = response.text
        finally:
            delivery.duration = round(time.perf_counter() - started, 3)
