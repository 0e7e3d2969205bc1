"""The one path every GitHub request takes: auth, pacing, breaker, retries, ETags, metrics.

Failures GitHub may recover from are retried with `stamina` in one layer: 5xx answers and
connection errors back off exponentially with jitter; rate-limit answers (403/429) wait as
GitHub's headers say. Both are bounded in attempts and total time and end in a typed error
(`GitHubUnavailableError`, `GitHubRateLimitError`). Everything else (4xx) fails at once.

    transport = GitHubTransport(httpx.AsyncClient(), "https://api.github.com", SystemClock())
    response = await transport.request(credentials, "GET", "/repos/octo/repo")
"""

from __future__ import annotations

import asyncio
import json as jsonlib
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import stamina
import structlog

from self_healing_bot.github.auth import Credentials
from self_healing_bot.github.breaker import CircuitBreakers
from self_healing_bot.github.clock import Clock
from self_healing_bot.github.correlation import DELIVERY_HEADER, current_delivery_id
from self_healing_bot.github.errors import (
    GitHubApiError,
    GitHubAuthenticationError,
    GitHubError,
    GitHubNotFoundError,
    GitHubRateLimitError,
    GitHubUnavailableError,
)
from self_healing_bot.github.etag_cache import CachedResponse, EtagCache, cache_key
from self_healing_bot.github.metrics import RATE_LIMIT_REMAINING, REQUESTS
from self_healing_bot.github.pacing import Pacer, WritePacer
from self_healing_bot.github.pagination import next_page_url

log = structlog.get_logger(__name__)

WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
SECONDARY_LIMIT_WAIT_SECONDS = 60.0
API_VERSION = "2022-11-28"


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds of the retry layer. A rate-limit wait longer than `max_rate_limit_wait` is not
    slept through: the caller gets `GitHubRateLimitError.retry_at` and can reschedule."""

    attempts: int = 5
    total_seconds: float = 300.0
    max_rate_limit_wait: float = 120.0
    wait_initial: float = 1.0
    wait_max: float = 30.0


@dataclass(frozen=True)
class ApiResponse:
    status: int
    headers: Mapping[str, str] = field(repr=False)
    body: bytes = field(repr=False)

    def json(self) -> Any:
        return jsonlib.loads(self.body) if self.body else None


class _ServerFailure(Exception):
    """One attempt met a 5xx or a connection error."""


class _RateLimited(Exception):
    """One attempt met a rate limit; GitHub asks us to wait `wait` seconds."""

    def __init__(self, wait: float, retry_at: float) -> None:
        self.wait = wait
        self.retry_at = retry_at
        super().__init__(f"rate limited for {wait:.0f} s")


def github_message(body: bytes) -> str:
    """The `message` of a GitHub error body, or the start of the raw body."""
    try:
        parsed = jsonlib.loads(body)
    except ValueError:
        return body[:200].decode(errors="replace")
    if isinstance(parsed, dict) and isinstance(message := parsed.get("message"), str):
        return message
    return body[:200].decode(errors="replace")


def rate_limit_wait(
    status: int, headers: Mapping[str, str], message: str, now: float
) -> float | None:
    """Seconds to wait before retrying, per GitHub's documented rules; None if not a rate limit.

    >>> rate_limit_wait(403, {"retry-after": "30"}, "secondary rate limit", now=0.0)
    30.0
    """
    if status not in (403, 429):
        return None
    if (retry_after := headers.get("retry-after")) is not None and retry_after.isdigit():
        return float(retry_after)
    reset = headers.get("x-ratelimit-reset", "")
    if headers.get("x-ratelimit-remaining") == "0" and reset.isdigit():
        return max(0.0, float(reset) - now)
    if status == 429 or "rate limit" in message.lower():
        return SECONDARY_LIMIT_WAIT_SECONDS
    return None


class GitHubTransport:
    """Sends requests to one GitHub API base URL over one pooled `httpx.AsyncClient`."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        clock: Clock,
        *,
        policy: RetryPolicy | None = None,
        breakers: CircuitBreakers | None = None,
        pacer: Pacer | None = None,
        etags: EtagCache | None = None,
        max_concurrency: int = 100,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.breakers = breakers or CircuitBreakers(clock)
        self._http = http
        self._clock = clock
        self._policy = policy or RetryPolicy()
        self._pacer = pacer or WritePacer(clock)
        self._etags = etags or EtagCache()
        self._concurrency = asyncio.Semaphore(max_concurrency)

    def url(self, path: str) -> str:
        """An absolute URL for an API path; absolute URLs (Link headers) must stay on our host."""
        if path.startswith(("http://", "https://")):
            if not path.startswith(self.base_url + "/"):
                raise GitHubError(
                    f"refusing to send credentials to {path}: not under {self.base_url}"
                )
            return path
        return self.base_url + path

    async def request(
        self,
        credentials: Credentials,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
    ) -> ApiResponse:
        """Send one API request, retried within the policy; 4xx answers raise at once."""
        return await self._with_retries(
            credentials,
            method,
            path,
            lambda: self._attempt(credentials, method, path, params, json),
        )

    async def download(self, credentials: Credentials, path: str) -> bytes:
        """GET an endpoint that answers 302 to a short-lived URL, and fetch that URL at once.

        The short-lived URL carries its own signature, so our token is not sent there.
        """
        return (
            await self._with_retries(
                credentials, "GET", path, lambda: self._attempt_download(credentials, path)
            )
        ).body

    async def paginate(
        self,
        credentials: Credentials,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        items_key: str | None = None,
    ) -> AsyncGenerator[Any, None]:
        """Every item of a listed resource, following `Link: rel="next"` page by page.

        `items_key` names the list inside an object page (`"jobs"` for a run's jobs).
        """
        next_path: str | None = path
        page_params: Mapping[str, str | int] | None = {"per_page": 100, **(params or {})}
        while next_path is not None:
            response = await self.request(credentials, "GET", next_path, params=page_params)
            page = response.json()
            for item in page[items_key] if items_key else page:
                yield item
            next_path = next_page_url(response.headers.get("link"))
            page_params = None  # the next link already carries them

    async def _with_retries(
        self,
        credentials: Credentials,
        method: str,
        path: str,
        attempt_once: Callable[[], Awaitable[ApiResponse]],
    ) -> ApiResponse:
        policy = self._policy
        attempts = 0

        def backoff(error: Exception) -> bool | float:
            if isinstance(error, _RateLimited):
                return error.wait if error.wait <= policy.max_rate_limit_wait else False
            return isinstance(error, _ServerFailure)

        try:
            async for attempt in stamina.retry_context(
                on=backoff,
                attempts=policy.attempts,
                timeout=policy.total_seconds,
                wait_initial=policy.wait_initial,
                wait_max=policy.wait_max,
            ):
                with attempt:
                    attempts += 1
                    return await attempt_once()
        except _ServerFailure as failure:
            raise GitHubUnavailableError(
                method, self.url(path), attempts, str(failure)
            ) from failure
        except _RateLimited as limited:
            raise GitHubRateLimitError(
                method, self.url(path), limited.retry_at, attempts
            ) from limited
        raise AssertionError("stamina ended without an outcome")  # pragma: no cover

    def _headers(self, authorization: str) -> dict[str, str]:
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": "self-healing-bot",
            "Authorization": authorization,
        }
        if (delivery_id := current_delivery_id()) is not None:
            headers[DELIVERY_HEADER] = delivery_id
        return headers

    async def _send(
        self,
        credentials: Credentials,
        method: str,
        url: str,
        headers: Mapping[str, str],
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        """One HTTP exchange, counted in metrics; connection errors become `_ServerFailure`."""
        try:
            async with self._concurrency:
                response = await self._http.request(
                    method, url, params=params, json=json, headers=headers
                )
        except httpx.TransportError as error:
            REQUESTS.labels(method=method, status="error").inc()
            log.warning("github.connection_error", method=method, url=url, error=repr(error))
            raise _ServerFailure(f"connection error: {error!r}") from error
        REQUESTS.labels(method=method, status=str(response.status_code)).inc()
        if (remaining := response.headers.get("x-ratelimit-remaining", "")).isdigit():
            RATE_LIMIT_REMAINING.labels(installation=credentials.key).set(int(remaining))
        log.debug("github.request", method=method, url=url, status=response.status_code)
        return response

    def _raise_for_status(
        self, credentials: Credentials, method: str, url: str, response: httpx.Response
    ) -> None:
        status = response.status_code
        if status < 400:
            return
        message = github_message(response.content)
        wait = rate_limit_wait(status, response.headers, message, self._clock.time())
        if wait is not None:
            log.warning("github.rate_limited", method=method, url=url, wait_seconds=wait)
            raise _RateLimited(wait, self._clock.time() + wait)
        if status in RETRYABLE_STATUSES:
            raise _ServerFailure(f"{status} {message}")
        if status == 401:
            credentials.refused()
            raise GitHubAuthenticationError(method, url, status, message)
        if status == 404:
            raise GitHubNotFoundError(method, url, status, message)
        raise GitHubApiError(method, url, status, message)

    async def _attempt(
        self,
        credentials: Credentials,
        method: str,
        path: str,
        params: Mapping[str, str | int] | None,
        json: Any,
    ) -> ApiResponse:
        if method in WRITE_METHODS:
            await self._pacer.wait_turn(credentials.key)
        authorization = await credentials.authorization()
        url = self.url(path)
        headers = self._headers(authorization)
        key = (
            cache_key(authorization, str(httpx.URL(url, params=params))) if method == "GET" else ""
        )
        cached = self._etags.get(key) if key else None
        if cached is not None:
            headers["If-None-Match"] = cached.etag
        with self.breakers.get(credentials.key).guard(failures=(_ServerFailure,)):
            response = await self._send(credentials, method, url, headers, params, json)
            if response.status_code == 304 and cached is not None:
                return ApiResponse(200, dict(cached.headers), cached.body)
            self._raise_for_status(credentials, method, url, response)
        if key and response.status_code == 200 and (etag := response.headers.get("etag")):
            self._etags.put(
                key, CachedResponse(etag, response.content, tuple(response.headers.items()))
            )
        return ApiResponse(response.status_code, response.headers, response.content)

    async def _attempt_download(self, credentials: Credentials, path: str) -> ApiResponse:
        url = self.url(path)
        headers = self._headers(await credentials.authorization())
        with self.breakers.get(credentials.key).guard(failures=(_ServerFailure,)):
            response = await self._send(credentials, "GET", url, headers)
            self._raise_for_status(credentials, "GET", url, response)
            if response.status_code in (301, 302, 303, 307, 308):
                location = response.headers["location"]
                plain = {"User-Agent": "self-healing-bot"}
                response = await self._send(credentials, "GET", location, plain)
                self._raise_for_status(credentials, "GET", location, response)
        return ApiResponse(response.status_code, response.headers, response.content)
