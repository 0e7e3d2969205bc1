"""`POST /webhooks/github`: verify, store, answer; processing happens elsewhere.

The order of checks is the contract: headers (400) → size (413) → signature (401) → content
type (415) → JSON (400, stored as `failed` with the reason). A verified delivery is committed
before the 202; a repeat of a stored delivery id answers 200 with the stored status.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from self_healing_bot import metrics
from self_healing_bot.storage.deliveries import NewDelivery
from self_healing_bot.storage.models import DeliveryStatus
from self_healing_bot.web.intake import IntakeWriter
from self_healing_bot.web.signature import verify_signature

log = structlog.stdlib.get_logger(__name__)

MAX_BODY_BYTES = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB
DELIVERY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
EVENT_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")

router = APIRouter()


class BodyTooLargeError(Exception):
    pass


def _answer(code: int, event: str, outcome: str, **body: Any) -> JSONResponse:
    metrics.WEBHOOK_DELIVERIES.labels(event=event, status=outcome).inc()
    return JSONResponse(body, status_code=code)


async def _read_limited(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BodyTooLargeError
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BodyTooLargeError
        chunks.append(chunk)
    return b"".join(chunks)


def _payload_bytes(content_type: str, body: bytes) -> bytes | None:
    """The JSON text of the delivery, or None for a content type GitHub does not send."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "application/json":
        return body
    if media_type == "application/x-www-form-urlencoded":
        fields = parse_qs(body.decode("utf-8", errors="replace"), max_num_fields=10)
        return fields.get("payload", [""])[0].encode()
    return None


def _summary(payload: Any) -> tuple[str | None, str | None, int | None]:
    """action, repository full name and installation id, when the payload has them."""
    if not isinstance(payload, dict):
        return None, None, None
    action = payload.get("action")
    repository = payload.get("repository")
    installation = payload.get("installation")
    full_name = repository.get("full_name") if isinstance(repository, dict) else None
    installation_id = installation.get("id") if isinstance(installation, dict) else None
    return (
        action[:64] if isinstance(action, str) else None,
        full_name[:256] if isinstance(full_name, str) else None,
        installation_id if isinstance(installation_id, int) else None,
    )


@router.post("/webhooks/github", status_code=202)
async def receive_webhook(request: Request) -> JSONResponse:
    """Store a verified GitHub delivery and answer 202 (200 for a repeat)."""
    headers = request.headers
    event = headers.get("x-github-event", "")
    delivery_id = headers.get("x-github-delivery", "")
    if not EVENT_NAME.fullmatch(event) or not DELIVERY_ID.fullmatch(delivery_id):
        return _answer(
            400,
            "unverified",
            "bad_headers",
            error="X-GitHub-Event and X-GitHub-Delivery must be present and well-formed",
        )
    try:
        body = await _read_limited(request)
    except BodyTooLargeError:
        return _answer(413, "unverified", "too_large", error="body exceeds GitHub's 25 MB cap")
    settings = request.app.state.settings
    if not verify_signature(body, headers.get("x-hub-signature-256"), settings.webhook_secrets):
        log.info("webhook signature rejected", delivery_id=delivery_id)
        return _answer(401, "unverified", "bad_signature", error="invalid X-Hub-Signature-256")
    payload_text = _payload_bytes(headers.get("content-type", ""), body)
    if payload_text is None:
        return _answer(
            415,
            event,
            "bad_content_type",
            error="send application/json or application/x-www-form-urlencoded (payload=...)",
        )
    writer: IntakeWriter = request.app.state.writer
    try:
        payload = json.loads(payload_text)
    except ValueError as error:
        reason = f"body is not valid JSON: {error}"
        row = NewDelivery(
            delivery_id, event, None, None, None, payload_text, DeliveryStatus.FAILED, reason
        )
        await writer.submit(row)
        log.info("webhook body is not JSON", delivery_id=delivery_id, reason=reason)
        return _answer(400, event, "invalid_json", error=reason, delivery_id=delivery_id)
    action, repository, installation_id = _summary(payload)
    stored = await writer.submit(
        NewDelivery(delivery_id, event, action, repository, installation_id, payload_text)
    )
    if not stored.is_new:
        log.info("duplicate delivery", delivery_id=delivery_id, status=stored.status)
        return _answer(200, event, "duplicate", delivery_id=delivery_id, status=stored.status)
    return _answer(202, event, "accepted", delivery_id=delivery_id, status=stored.status)
