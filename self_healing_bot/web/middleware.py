"""ASGI middleware: a request id on every response and log line, and security headers.

Plain ASGI (not BaseHTTPMiddleware) so the webhook path pays almost nothing for it.
"""

from __future__ import annotations

import os
import re

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", b"default-src 'self'; frame-ancestors 'none'"),
]
REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"")
        request_id = incoming if REQUEST_ID.fullmatch(incoming) else os.urandom(16).hex().encode()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                # A route that sets a security header itself (a dashboard page policy) keeps it.
                own = {name.lower() for name, _ in headers}
                message["headers"] = [
                    *headers,
                    (b"x-request-id", request_id),
                    *(header for header in SECURITY_HEADERS if header[0] not in own),
                ]
            await send(message)

        # bind/reset rather than `bound_contextvars`, which copies the whole context per request.
        tokens = structlog.contextvars.bind_contextvars(request_id=request_id.decode())
        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            structlog.contextvars.reset_contextvars(**tokens)
