"""`POST /webhooks/github`: verify, store, answer; processing happens elsewhere.

The order of checks is the contract: headers (400) → size (413) → signature (401) → content
type (415) → JSON (400, stored as `failed` with the reason). A verified delivery is committed
before the 202; a repeat of a stored delivery id answers 200 with the stored status.

This is the one hot path of the web app, so it is served by a plain ASGI middleware ahead of
FastAPI's routing, dependency and exception layers, which cost more than the intake itself
(bench/ingest); every other request passes through untouched.

    app.add_middleware(WebhookIntake)   # reads app.state.settings and app.state.writer
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import msgspec
import structlog
from starlette.types import ASGIApp, Receive, Scope, Send

from self_healing_bot import metrics
from self_healing_bot.storage.deliveries import NewDelivery
from self_healing_bot.storage.models import DeliveryStatus
from self_healing_bot.web.intake import IntakeWriter
from self_healing_bot.web.signature import verify_signature

log = structlog.stdlib.get_logger(__name__)

PATH = "/webhooks/github"
MAX_BODY_BYTES = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB
DELIVERY_ID = re.compile(rb"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
EVENT_NAME = re.compile(rb"[a-z][a-z0-9_]{0,63}")
INSTALLATION_IDS = range(-(2**63), 2**63)  # the column is a BIGINT


class BodyTooLargeError(Exception):
    pass


class ClientGoneError(Exception):
    """The client disconnected before sending the whole body: nothing to store or answer."""


@dataclass(frozen=True)
class Answer:
    """What the receiver answers: HTTP status, the metric's event and outcome, the JSON body."""

    status: int
    event: str
    outcome: str
    body: dict[str, str]


@dataclass(frozen=True)
class Summary:
    """The few header-like fields stored beside the raw body."""

    action: str | None
    repository: str | None
    installation_id: int | None


class _Repository(msgspec.Struct):
    full_name: str | None = None


class _Installation(msgspec.Struct):
    id: int | None = None


class _Head(msgspec.Struct):
    action: str | None = None
    repository: _Repository | None = None
    installation: _Installation | None = None


# Decodes only the fields above and skips the rest of the payload (still checking its syntax):
# several times faster than building the whole document with json.loads.
_HEAD = msgspec.json.Decoder(_Head)


def summarize(text: bytes) -> Summary:
    """The payload's action, repository and installation id; ValueError when it is not JSON.

    `summarize(b'{"action": "completed", "repository": {"full_name": "o/r"}}')`
    → `Summary("completed", "o/r", None)`
    """
    try:
        if not text.isascii():
            text.decode()  # msgspec does not check the UTF-8 of the strings it skips
        head = _HEAD.decode(text)
    except (msgspec.DecodeError, UnicodeDecodeError):
        # Whatever msgspec refuses (another shape, NaN, a BOM, UTF-16, invalid text), json
        # judges: it accepts what it always accepted, and words the reason when it is not JSON.
        return _summary_of(json.loads(text))
    return _bounded(
        head.action,
        head.repository.full_name if head.repository else None,
        head.installation.id if head.installation else None,
    )


def _summary_of(payload: Any) -> Summary:
    if not isinstance(payload, dict):
        return Summary(None, None, None)
    repository = payload.get("repository")
    installation = payload.get("installation")
    return _bounded(
        payload.get("action"),
        repository.get("full_name") if isinstance(repository, dict) else None,
        installation.get("id") if isinstance(installation, dict) else None,
    )


def _bounded(action: object, full_name: object, installation_id: object) -> Summary:
    return Summary(
        action[:64] if isinstance(action, str) else None,
        full_name[:256] if isinstance(full_name, str) else None,
        installation_id
        if type(installation_id) is int and installation_id in INSTALLATION_IDS
        else None,
    )


def _payload_bytes(content_type: str, body: bytes) -> bytes | None:
    """The JSON text of the delivery, or None for a content type GitHub does not send."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "application/json":
        return body
    if media_type == "application/x-www-form-urlencoded":
        fields = parse_qs(body.decode("utf-8", errors="replace"), max_num_fields=10)
        return fields.get("payload", [""])[0].encode()
    return None


async def _read_limited(declared_length: bytes | None, receive: Receive) -> bytes:
    if declared_length and declared_length.isdigit() and int(declared_length) > MAX_BODY_BYTES:
        raise BodyTooLargeError
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGoneError
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BodyTooLargeError
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def receive_delivery(
    headers: dict[bytes, bytes], receive: Receive, secrets: Sequence[str], writer: IntakeWriter
) -> Answer:
    """Check, verify and store one delivery (returning after its commit); say what to answer."""
    event_bytes = headers.get(b"x-github-event", b"")
    delivery_bytes = headers.get(b"x-github-delivery", b"")
    if not EVENT_NAME.fullmatch(event_bytes) or not DELIVERY_ID.fullmatch(delivery_bytes):
        return Answer(
            400,
            "unverified",
            "bad_headers",
            {"error": "X-GitHub-Event and X-GitHub-Delivery must be present and well-formed"},
        )
    event, delivery_id = event_bytes.decode(), delivery_bytes.decode()
    try:
        body = await _read_limited(headers.get(b"content-length"), receive)
    except BodyTooLargeError:
        return Answer(413, "unverified", "too_large", {"error": "body exceeds GitHub's 25 MB cap"})
    signature = headers.get(b"x-hub-signature-256")
    if not verify_signature(body, signature.decode("latin-1") if signature else None, secrets):
        log.info("webhook signature rejected", delivery_id=delivery_id)
        return Answer(401, "unverified", "bad_signature", {"error": "invalid X-Hub-Signature-256"})
    payload_text = _payload_bytes(headers.get(b"content-type", b"").decode("latin-1"), body)
    if payload_text is None:
        return Answer(
            415,
            event,
            "bad_content_type",
            {"error": "send application/json or application/x-www-form-urlencoded (payload=...)"},
        )
    try:
        summary = summarize(payload_text)
    except ValueError as error:
        reason = f"body is not valid JSON: {error}"
        await writer.submit(
            NewDelivery(
                delivery_id, event, None, None, None, payload_text, DeliveryStatus.FAILED, reason
            )
        )
        log.info("webhook body is not JSON", delivery_id=delivery_id, reason=reason)
        return Answer(400, event, "invalid_json", {"error": reason, "delivery_id": delivery_id})
    stored = await writer.submit(
        NewDelivery(
            delivery_id,
            event,
            summary.action,
            summary.repository,
            summary.installation_id,
            payload_text,
        )
    )
    answer = {"delivery_id": delivery_id, "status": stored.status}
    if not stored.is_new:
        log.info("duplicate delivery", delivery_id=delivery_id, status=stored.status)
        return Answer(200, event, "duplicate", answer)
    return Answer(202, event, "accepted", answer)


class WebhookIntake:
    """Serves `POST /webhooks/github` (405 for other methods); passes every other path on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        if scope["method"] != "POST":
            answer = Answer(405, "unverified", "bad_method", {"error": "use POST"})
            await _respond(send, answer, [(b"allow", b"POST")])
            return
        state = scope["app"].state
        try:
            answer = await receive_delivery(
                dict(scope["headers"]), receive, state.settings.webhook_secrets, state.writer
            )
        except ClientGoneError:
            return
        await _respond(send, answer)


async def _respond(
    send: Send, answer: Answer, extra_headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    metrics.WEBHOOK_DELIVERIES.labels(event=answer.event, status=answer.outcome).inc()
    content = msgspec.json.encode(answer.body)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(content)).encode()),
        *(extra_headers or []),
    ]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": content})
