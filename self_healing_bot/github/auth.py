"""Who we are to GitHub: the app's JWT, per-installation tokens, or a personal token.

Each credential knows the `Authorization` header to send and the key (installation id,
"app" or "token") under which the breaker, pacing and metrics count its requests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import jwt

from self_healing_bot.github.clock import Clock
from self_healing_bot.github.errors import GitHubConfigurationError

JWT_BACKDATE_SECONDS = 60  # GitHub's advice against clock skew
JWT_LIFETIME_SECONDS = 600  # GitHub's maximum, counted from the backdated `iat`
TOKEN_REFRESH_MARGIN_SECONDS = 300


class Credentials(Protocol):
    """A way to authenticate a request."""

    @property
    def key(self) -> str:
        """The label requests are counted under (breaker, pacing, metrics)."""
        ...

    async def authorization(self) -> str:
        """The `Authorization` header value for the next request."""
        ...

    def refused(self) -> None:
        """GitHub answered 401: drop whatever is cached so the next request re-authenticates."""
        ...


def app_jwt_claims(app_id: int, now: float) -> dict[str, int | str]:
    """The claims GitHub requires of an app JWT issued at `now`."""
    issued_at = int(now) - JWT_BACKDATE_SECONDS
    return {"iat": issued_at, "exp": issued_at + JWT_LIFETIME_SECONDS, "iss": str(app_id)}


@dataclass(frozen=True)
class InstallationToken:
    token: str
    expires_at: float  # epoch seconds


class PersonalToken:
    """Personal-token mode (`SHBOT_GITHUB_TOKEN`), for local use without an app."""

    key = "token"

    def __init__(self, token: str) -> None:
        self._token = token

    async def authorization(self) -> str:
        return f"token {self._token}"

    def refused(self) -> None:
        """Nothing cached: a refused personal token stays refused until the setting changes."""


class AppJwt:
    """The app itself (JWT): for installation tokens and the app's hook deliveries."""

    key = "app"

    def __init__(self, app_id: int, private_key_pem: str, clock: Clock) -> None:
        if not private_key_pem.strip():
            raise GitHubConfigurationError(
                "the GitHub App private key is empty: set SHBOT_GITHUB_PRIVATE_KEY to the PEM "
                "text or to the path of the .pem file GitHub gave you"
            )
        self._app_id = app_id
        self._private_key = private_key_pem
        self._clock = clock
        self._cached: tuple[str, int] | None = None

    async def authorization(self) -> str:
        now = self._clock.time()
        if self._cached is None or now >= self._cached[1] - 60:
            claims = app_jwt_claims(self._app_id, now)
            try:
                encoded = jwt.encode(claims, self._private_key, algorithm="RS256")
            except (ValueError, TypeError) as error:
                raise GitHubConfigurationError(
                    f"cannot sign the app JWT with SHBOT_GITHUB_PRIVATE_KEY: {error}"
                ) from error
            self._cached = (encoded, int(claims["exp"]))
        return f"Bearer {self._cached[0]}"

    def refused(self) -> None:
        self._cached = None


class InstallationTokenCache:
    """Installation tokens, fetched once per installation and reused until 5 min before expiry.

    Concurrent callers for the same installation wait on one fetch:

        cache = InstallationTokenCache(app_client.create_installation_token, clock)
        token = await cache.token(42)
    """

    def __init__(
        self,
        fetch: Callable[[int], Awaitable[InstallationToken]],
        clock: Clock,
        refresh_margin: float = TOKEN_REFRESH_MARGIN_SECONDS,
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._refresh_margin = refresh_margin
        self._tokens: dict[int, InstallationToken] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    def _fresh(self, installation_id: int) -> str | None:
        cached = self._tokens.get(installation_id)
        if cached and self._clock.time() < cached.expires_at - self._refresh_margin:
            return cached.token
        return None

    async def token(self, installation_id: int) -> str:
        """A token for `installation_id` valid for at least the refresh margin."""
        if (token := self._fresh(installation_id)) is not None:
            return token
        lock = self._locks.setdefault(installation_id, asyncio.Lock())
        async with lock:
            if (token := self._fresh(installation_id)) is not None:
                return token
            fetched = await self._fetch(installation_id)
            self._tokens[installation_id] = fetched
            return fetched.token

    def forget(self, installation_id: int) -> None:
        """Drop a token GitHub refused (revoked, app reinstalled), so the next call fetches."""
        self._tokens.pop(installation_id, None)


class InstallationCredentials:
    """Acting as one installation of the app."""

    def __init__(self, cache: InstallationTokenCache, installation_id: int) -> None:
        self._cache = cache
        self.installation_id = installation_id
        self.key = str(installation_id)

    async def authorization(self) -> str:
        return f"token {await self._cache.token(self.installation_id)}"

    def refused(self) -> None:
        self._cache.forget(self.installation_id)
