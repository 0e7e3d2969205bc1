"""`/readyz` shows the GitHub circuit breakers, and an open one does not fail readiness."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from self_healing_bot.github import connection
from self_healing_bot.github.clock import SystemClock
from self_healing_bot.github.connection import GitHub
from self_healing_bot.settings import Settings
from tests.webhooks import SECRET, running_app


class GitHubUnreachableError(Exception):
    pass


async def github_with_breakers(failures_by_installation: dict[str, int]) -> GitHub:
    """A process GitHub client whose breakers saw these consecutive failures (5 open one)."""
    github = GitHub("http://github.invalid", token="t", clock=SystemClock())
    for key, failures in failures_by_installation.items():
        breaker = github.transport.breakers.get(key)
        for _ in range(failures):
            with pytest.raises(GitHubUnreachableError), breaker.guard((GitHubUnreachableError,)):
                raise GitHubUnreachableError
    return github


CASES = [
    ("no GitHub client yet", None, {"ok": True, "circuits": {}, "open": []}),
    ("a failure, still closed", {"77": 1}, {"ok": True, "circuits": {"77": "closed"}, "open": []}),
    (
        "one breaker open",
        {"77": 5, "78": 0},
        {"ok": False, "circuits": {"77": "open", "78": "closed"}, "open": ["77"]},
    ),
]


async def test_readyz_shows_the_breakers_without_failing_on_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        broker_url="",
        webhook_secret=SECRET,
    )
    async with running_app(settings) as client:  # one app: starting it is the slow part
        for case, failures, github_check in CASES:
            github = None if failures is None else await github_with_breakers(failures)
            monkeypatch.setattr(connection, "_process_github", github)
            try:
                response: httpx.Response = await client.get("/readyz")
            finally:
                if github is not None:
                    await github.aclose()
            assert response.status_code == 200, case
            body = response.json()
            assert body["ready"] is True, case
            assert body["checks"]["github"] == github_check, case
