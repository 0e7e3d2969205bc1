"""The process's one connection to GitHub: one pooled HTTP client, shared caches and breakers.

github = GitHub.from_settings(load_settings())
client = github.installation(event_installation_id)   # None in personal-token mode
await client.create_comment("octo/repo", 7, "Looking into it")
await github.aclose()
"""

from __future__ import annotations

import httpx

from self_healing_bot.github.auth import (
    AppJwt,
    Credentials,
    InstallationCredentials,
    InstallationTokenCache,
    PersonalToken,
)
from self_healing_bot.github.breaker import CircuitState
from self_healing_bot.github.clock import Clock, SystemClock
from self_healing_bot.github.errors import GitHubConfigurationError
from self_healing_bot.github.operations import AppClient, InstallationClient
from self_healing_bot.github.pacing import write_pacer
from self_healing_bot.github.transport import GitHubTransport, RetryPolicy
from self_healing_bot.settings import Settings

_process_github: GitHub | None = None


class GitHub:
    """Credentials plus transport; hands out per-installation clients that share them."""

    def __init__(
        self,
        base_url: str = "https://api.github.com",
        *,
        app_id: int | None = None,
        private_key_pem: str = "",
        token: str = "",
        http: httpx.AsyncClient | None = None,
        clock: Clock | None = None,
        policy: RetryPolicy | None = None,
        pacing_redis_url: str | None = None,
    ) -> None:
        self.clock = clock or SystemClock()
        self._http = http or httpx.AsyncClient(
            timeout=httpx.Timeout(30.0, connect=10.0),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        )
        self.transport = GitHubTransport(
            self._http,
            base_url,
            self.clock,
            policy=policy,
            pacer=write_pacer(pacing_redis_url, self.clock, scope=base_url),
        )
        self._token = token
        self._app: AppClient | None = None
        self._tokens: InstallationTokenCache | None = None
        if app_id is not None:
            self._app = AppClient(self.transport, AppJwt(app_id, private_key_pem, self.clock))
            self._tokens = InstallationTokenCache(self._app.create_installation_token, self.clock)

    @classmethod
    def from_settings(cls, settings: Settings) -> GitHub:
        return cls(
            settings.github_api_url,
            app_id=settings.github_app_id,
            private_key_pem=settings.github_private_key_pem() if settings.github_app_id else "",
            token=settings.github_token,
            pacing_redis_url=settings.counter_redis_url,
        )

    @property
    def app(self) -> AppClient:
        """The app-level client; needs SHBOT_GITHUB_APP_ID and SHBOT_GITHUB_PRIVATE_KEY."""
        if self._app is None:
            raise GitHubConfigurationError(
                "this needs the GitHub App: set SHBOT_GITHUB_APP_ID and SHBOT_GITHUB_PRIVATE_KEY"
            )
        return self._app

    def installation(self, installation_id: int | None) -> InstallationClient:
        """A client acting as `installation_id`, or as the personal token when it is None."""
        credentials: Credentials
        if installation_id is not None and self._tokens is not None:
            credentials = InstallationCredentials(self._tokens, installation_id)
        elif self._token:
            credentials = PersonalToken(self._token)
        else:
            raise GitHubConfigurationError(
                "no GitHub credentials: set SHBOT_GITHUB_APP_ID and SHBOT_GITHUB_PRIVATE_KEY "
                "(GitHub App) or SHBOT_GITHUB_TOKEN (personal token)"
            )
        return InstallationClient(self.transport, credentials)

    def circuit_states(self) -> dict[str, CircuitState]:
        return self.transport.breakers.states()

    async def aclose(self) -> None:
        await self._http.aclose()


def process_github(settings: Settings) -> GitHub:
    """The process-wide `GitHub`, created on first use from `settings`."""
    global _process_github
    if _process_github is None:
        _process_github = GitHub.from_settings(settings)
    return _process_github


def circuit_states() -> dict[str, str]:
    """Breaker state per installation of the process-wide client, for /readyz.

    >>> circuit_states()  # before any GitHub call
    {}
    """
    if _process_github is None:
        return {}
    return {key: state.name.lower() for key, state in _process_github.circuit_states().items()}
