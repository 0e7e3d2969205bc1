"""The sandbox's HTTP shell: every request passes the same steps, as on GitHub.

request log → injected faults → route by the OpenAPI description (404) → parse and validate
(400/422) → authenticate (401) → rate limit → handler → complete and check the response body
→ ETag/304 → rate-limit headers. Handlers live in `handlers/`, one module per API area.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from self_healing_bot.sandbox.auth import Credential, bearer, verify_app_jwt
from self_healing_bot.sandbox.handlers import HANDLERS, Context
from self_healing_bot.sandbox.openapi_spec import (
    Rejection,
    RequestRejected,
    load_spec,
    validate_response,
)
from self_healing_bot.sandbox.shapes import complete

if TYPE_CHECKING:
    from self_healing_bot.sandbox.github_sandbox import GitHubSandbox

ENTERPRISE_PREFIX = "/api/v3"
CONTROL_PREFIX = "/_sandbox"
DOCUMENTATION_URL = "https://docs.github.com/rest"
RATE_LIMIT = 5000
RATE_WINDOW = timedelta(hours=1)
# Operations GitHub serves only to the app itself (JWT), as its docs state.
JWT_OPERATIONS = {
    "apps/get-authenticated",
    "apps/list-installations",
    "apps/create-installation-access-token",
    "apps/get-repo-installation",
    "apps/list-webhook-deliveries",
    "apps/get-webhook-delivery",
    "apps/redeliver-webhook-delivery",
}


@dataclass
class RateWindow:
    used: int = 0
    reset: float = field(default_factory=lambda: time.time() + RATE_WINDOW.total_seconds())


def build_asgi_app(sandbox: GitHubSandbox) -> Starlette:
    """A Starlette app serving `sandbox` at `/` and `/api/v3`, plus `/_sandbox` controls."""
    windows: dict[str, RateWindow] = {}
    download_links: dict[str, tuple[float, bytes, str]] = {}

    async def endpoint(request: Request) -> Response:
        raw_body = await request.body()
        _log_request(sandbox, request, raw_body)
        path = request.url.path
        prefix = ENTERPRISE_PREFIX if path.startswith(ENTERPRISE_PREFIX + "/") else ""
        path = path.removeprefix(prefix) or "/"
        if path.startswith(CONTROL_PREFIX + "/"):
            return await _control(sandbox, request, path, raw_body, download_links)
        base = f"{str(request.base_url).rstrip('/')}{prefix}"
        try:
            return await _serve(sandbox, request, path, raw_body, base, windows, download_links)
        except RequestRejected as rejection:
            return _error(rejection)

    methods = ["GET", "POST", "PATCH", "PUT", "DELETE"]
    return Starlette(routes=[Route("/{path:path}", endpoint, methods=methods)])


async def _serve(
    sandbox: GitHubSandbox,
    request: Request,
    path: str,
    raw_body: bytes,
    base: str,
    windows: dict[str, RateWindow],
    download_links: dict[str, tuple[float, bytes, str]],
) -> Response:
    fault = sandbox.faults.take_request_fault(path)
    if fault is not None and fault.kind == "slow":
        await asyncio.sleep(fault.seconds)
    elif fault is not None and fault.kind == "server_error":
        return _error(RequestRejected(fault.status, "Server Error"))
    elif fault is not None and fault.kind == "secondary_rate_limit":
        message = (
            "You have exceeded a secondary rate limit. Please wait a few minutes before you "
            "try again."
        )
        return _error(
            RequestRejected(fault.status, message), {"retry-after": str(fault.retry_after)}
        )

    spec = load_spec()
    with _recording_rejection(sandbox, request):
        operation, raw_params = spec.match(request.method, path)
    credential = _authenticate(sandbox, request, operation.operation_id)
    with _recording_rejection(sandbox, request):
        body = _parse_body(raw_body)
        params = spec.validate(operation, raw_params, dict(request.query_params), body)

    window = _window(windows, credential)
    if (fault is not None and fault.kind == "primary_rate_limit") or window.used >= RATE_LIMIT:
        subject = (
            f"installation ID {credential.installation_id}"
            if credential.installation_id
            else credential.kind
        )
        headers = _rate_headers(window, exhausted=True)
        return _error(RequestRejected(403, f"API rate limit exceeded for {subject}."), headers)

    context = Context(sandbox, operation, params, body, credential, base, download_links)
    reply = await HANDLERS[operation.operation_id](context)
    content = reply.body
    schema = operation.response_schema(reply.status)
    if content is not None and schema is not None:
        content = complete(schema, content)
    if sandbox.validate_responses:
        problems = validate_response(operation, reply.status, content)
        if problems:
            sandbox.response_errors += [f"{operation.operation_id}: {p}" for p in problems]
    encoded = b"" if content is None else json.dumps(content).encode()
    headers = dict(reply.headers)
    if request.method == "GET" and reply.status == 200:
        etag = f'"{hashlib.sha256(credential.token.encode() + encoded).hexdigest()}"'
        headers["etag"] = etag
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers={**headers, **_rate_headers(window)})
    window.used += 1
    headers |= _rate_headers(window)
    headers["x-github-request-id"] = secrets.token_hex(8).upper()
    media = "application/json; charset=utf-8" if content is not None else None
    return Response(encoded, status_code=reply.status, headers=headers, media_type=media)


@contextmanager
def _recording_rejection(sandbox: GitHubSandbox, request: Request) -> Iterator[None]:
    """Add a refusal by the API description to `sandbox.rejections`, then let it answer.

    Only these steps record: a handler's 404 or 422 (a missing file, an existing branch) is
    GitHub's answer to a well-formed request, which the client may expect and handle.
    """
    try:
        yield
    except RequestRejected as rejection:
        sandbox.rejections.append(
            Rejection(request.method, request.url.path, rejection.status, rejection.message)
        )
        raise


def _authenticate(sandbox: GitHubSandbox, request: Request, operation_id: str) -> Credential:
    token = bearer(request.headers.get("authorization"))
    if operation_id in JWT_OPERATIONS:
        public_keys = {app.id: app.public_key_pem for app in sandbox.apps.values()}
        return verify_app_jwt(token, public_keys, sandbox.clock())
    issued = sandbox.tokens.get(token)
    if issued is not None and issued.expires_at > sandbox.clock():
        return Credential("installation", installation_id=issued.installation_id, token=token)
    user = sandbox.personal_tokens.get(token)
    if user is not None:
        return Credential("user", login=user.login, token=token)
    raise RequestRejected(401, "Bad credentials")


def _window(windows: dict[str, RateWindow], credential: Credential) -> RateWindow:
    key = credential.token if credential.kind != "app" else f"app:{credential.app_id}"
    window = windows.setdefault(key, RateWindow())
    if window.reset <= time.time():
        windows[key] = window = RateWindow()
    return window


def _rate_headers(window: RateWindow, exhausted: bool = False) -> dict[str, str]:
    used = RATE_LIMIT if exhausted else window.used
    return {
        "x-ratelimit-limit": str(RATE_LIMIT),
        "x-ratelimit-remaining": str(RATE_LIMIT - used),
        "x-ratelimit-reset": str(int(window.reset)),
        "x-ratelimit-used": str(used),
        "x-ratelimit-resource": "core",
    }


def _parse_body(raw_body: bytes) -> Any:
    if not raw_body.strip():
        return None
    try:
        return json.loads(raw_body)
    except ValueError as error:
        raise RequestRejected(400, "Problems parsing JSON") from error


def _error(rejection: RequestRejected, headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {
        "message": rejection.message,
        "documentation_url": DOCUMENTATION_URL,
        "status": str(rejection.status),
    }
    if rejection.errors is not None:
        body["errors"] = rejection.errors
    return Response(
        json.dumps(body),
        status_code=rejection.status,
        headers=headers,
        media_type="application/json; charset=utf-8",
    )


def _log_request(sandbox: GitHubSandbox, request: Request, raw_body: bytes) -> None:
    if sandbox.request_log is None:
        return
    try:
        body = json.loads(raw_body) if raw_body.strip() else None
    except ValueError:
        body = None
    entry = {
        "method": request.method,
        "path": request.url.path,
        "query": dict(request.query_params),
        "headers": dict(request.headers),
        "body": body,
    }
    with sandbox.request_log.open("a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")


async def _control(
    sandbox: GitHubSandbox,
    request: Request,
    path: str,
    raw_body: bytes,
    download_links: dict[str, tuple[float, bytes, str]],
) -> Response:
    """Sandbox-only routes: short-lived log downloads and fault arming for standalone use."""
    if path.startswith(f"{CONTROL_PREFIX}/downloads/") and request.method == "GET":
        key = path.rsplit("/", 1)[-1]
        found = download_links.get(key)
        if found is None or found[0] < time.time():
            return _error(RequestRejected(404, "Not Found"))
        return Response(found[1], media_type=found[2])
    if path == f"{CONTROL_PREFIX}/faults" and request.method == "POST":
        try:
            sandbox.faults.arm(json.loads(raw_body or b"{}"))
        except ValueError as error:
            return _error(RequestRejected(422, str(error)))
        return Response(status_code=204)
    return _error(RequestRejected(404, "Not Found"))
