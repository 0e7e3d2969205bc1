"""Authentication, retries, rate limits, the breaker, pacing, ETags and pagination, against
the GitHub sandbox with injected faults."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import jwt
import pytest
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from self_healing_bot.github.connection import GitHub
from self_healing_bot.github.correlation import delivery_context
from self_healing_bot.github.errors import (
    CircuitOpenError,
    GitHubAuthenticationError,
    GitHubRateLimitError,
    GitHubUnavailableError,
)
from self_healing_bot.github.markers import with_marker
from self_healing_bot.github.transport import RetryPolicy
from tests.github.conftest import FakeClock
from tests.github.world import APP_ID, INSTALLATION_ID, PUBLIC_PEM, REPO, World, make_world

TOKEN_PATH = rf"/app/installations/{INSTALLATION_ID}/access_tokens$"
REPO_PATH = rf"/repos/{REPO}$"


async def test_app_jwt_claims_are_what_github_requires(world: World) -> None:
    await world.client.get_repository(REPO)
    [token_request] = world.requests("POST", TOKEN_PATH)
    encoded = token_request["headers"]["authorization"].removeprefix("Bearer ")
    assert jwt.get_unverified_header(encoded)["alg"] == "RS256"
    claims = jwt.decode(encoded, PUBLIC_PEM, algorithms=["RS256"], options={"verify_exp": False})
    now = int(world.clock.time())
    assert claims["iss"] == str(APP_ID)
    assert claims["iat"] == now - 60
    assert claims["exp"] <= now + 600


async def test_100_concurrent_calls_make_one_token_request(world: World) -> None:
    repositories = await asyncio.gather(*(world.client.get_repository(REPO) for _ in range(100)))
    assert {repository.full_name for repository in repositories} == {REPO}
    assert len(world.requests("POST", TOKEN_PATH)) == 1


async def test_token_is_refreshed_five_minutes_before_expiry(tmp_path: Path) -> None:
    # The sandbox checks JWT `iat` against real time too, so this clock starts in the past.
    world = make_world(tmp_path, FakeClock(start=time.time() - 56 * 60))
    try:
        await token_refresh_scenario(world)
    finally:
        await world.close()


async def token_refresh_scenario(world: World) -> None:
    await world.client.get_repository(REPO)
    world.clock.now += 54 * 60  # GitHub's tokens live 60 minutes
    await world.client.get_repository(REPO)
    assert len(world.requests("POST", TOKEN_PATH)) == 1
    world.clock.now += 60 + 1
    await world.client.get_repository(REPO)
    assert len(world.requests("POST", TOKEN_PATH)) == 2


async def test_a_5xx_burst_is_retried_with_backoff(world: World) -> None:
    world.sandbox.faults.server_errors(2, status=502, path=REPO_PATH)
    repository = await world.client.get_repository(REPO)
    assert repository.default_branch == "main"
    assert len(world.requests("GET", REPO_PATH)) == 3


async def test_a_long_5xx_burst_ends_in_a_typed_error_and_loses_nothing(world: World) -> None:
    comments_path = rf"/repos/{REPO}/issues/\d+/comments$"
    issue = await world.client.create_issue(REPO, "Training fails", "body", [])
    world.sandbox.faults.server_errors(50, status=503, path=comments_path)
    with pytest.raises(GitHubUnavailableError, match=r"after 5 attempt\(s\)") as caught:
        await world.client.create_comment(REPO, issue.number, "diagnosis")
    assert caught.value.attempts == 5
    assert len(world.requests("POST", comments_path)) == 5  # bounded
    world.sandbox.faults.clear()
    world.clock.now += 60  # the breaker lets a probe through again
    await world.client.create_comment(REPO, issue.number, "diagnosis")
    assert comment_bodies(world, issue.number) == ["diagnosis"]


async def test_retry_after_is_honoured(world: World) -> None:
    world.sandbox.faults.secondary_rate_limit(1, retry_after=7, path=REPO_PATH)
    with capture_logs() as logs:
        await world.client.get_repository(REPO)
    assert len(world.requests("GET", REPO_PATH)) == 2
    waits = [log["wait_seconds"] for log in logs if log["event"] == "github.rate_limited"]
    assert waits == [7.0]


async def test_rate_limit_retries_are_bounded(world: World) -> None:
    world.sandbox.faults.secondary_rate_limit(100, retry_after=1, path=REPO_PATH)
    with pytest.raises(GitHubRateLimitError, match=r"after 5 attempt\(s\)"):
        await world.client.get_repository(REPO)
    assert len(world.requests("GET", REPO_PATH)) == 5


async def test_exhausted_limit_waits_until_reset(tmp_path: Path, clock: FakeClock) -> None:
    world = make_world(tmp_path, clock, policy=RetryPolicy(max_rate_limit_wait=7200))
    try:
        world.sandbox.faults.exhaust_rate_limit(1, path=REPO_PATH)
        with capture_logs() as logs:
            await world.client.get_repository(REPO)
        [blocked, _] = [a for a in world.answers if a[1] == f"/repos/{REPO}"]
        assert blocked[2] == 403
        [wait] = [log["wait_seconds"] for log in logs if log["event"] == "github.rate_limited"]
        assert 3500 < wait <= 3600  # the sandbox's window resets an hour after first use
    finally:
        await world.close()


async def test_a_reset_too_far_away_raises_with_the_time_to_retry(world: World) -> None:
    world.sandbox.faults.exhaust_rate_limit(1, path=REPO_PATH)
    with pytest.raises(GitHubRateLimitError) as caught:
        await world.client.get_repository(REPO)
    assert caught.value.retry_at > world.clock.time() + 3000
    assert len(world.requests("GET", REPO_PATH)) == 1


def comment_bodies(world: World, issue_number: int) -> list[str]:
    comments = world.sandbox.repository(REPO).comments.values()
    return [comment.body for comment in comments if comment.issue_number == issue_number]


def circuit_gauge(installation: str) -> float | None:
    return REGISTRY.get_sample_value("shbot_github_circuit_state", {"installation": installation})


async def test_circuit_opens_fails_fast_and_closes_after_a_probe(world: World) -> None:
    await world.client.get_repository(REPO)  # token fetched before the outage
    world.sandbox.faults.server_errors(1000, status=500, path=REPO_PATH)
    with pytest.raises(GitHubUnavailableError):
        await world.client.get_repository(REPO)
    assert circuit_gauge(str(INSTALLATION_ID)) == 2
    sent = len(world.requests("GET", REPO_PATH))
    with pytest.raises(CircuitOpenError, match="open after repeated failures"):
        await world.client.get_repository(REPO)
    assert len(world.requests("GET", REPO_PATH)) == sent  # failing fast costs GitHub nothing
    assert world.github.circuit_states() == {"app": 0, str(INSTALLATION_ID): 2}
    world.sandbox.faults.clear()
    world.clock.now += 30
    assert (await world.client.get_repository(REPO)).full_name == REPO
    assert circuit_gauge(str(INSTALLATION_ID)) == 0


async def test_a_burst_of_200_comments_is_paced_under_githubs_limits(world: World) -> None:
    issue = await world.client.create_issue(REPO, "Flaky tests", "body", [])
    start = world.clock.time()
    await asyncio.gather(
        *(world.client.create_comment(REPO, issue.number, f"comment {n}") for n in range(200))
    )
    writes = sorted(  # the installation's writes; the app's token request is counted apart
        at for method, path, at in world.sent_at if method == "POST" and path.startswith("/repos/")
    )
    assert len(writes) == 201
    for index, at in enumerate(writes):
        assert sum(1 for other in writes[: index + 1] if other > at - 60) <= 80
    assert world.clock.time() - start >= 120  # 200 writes need at least three minutes' windows
    assert sorted(comment_bodies(world, issue.number)) == sorted(f"comment {n}" for n in range(200))


async def test_a_repeated_get_is_a_conditional_get_answered_from_cache(world: World) -> None:
    first = await world.client.get_repository(REPO)
    second = await world.client.get_repository(REPO)
    assert first == second
    statuses = [status for _, path, status in world.answers if path == f"/repos/{REPO}"]
    assert statuses == [200, 304]


async def test_etags_are_kept_per_token(tmp_path: Path, clock: FakeClock) -> None:
    world = make_world(tmp_path, clock, token="ghp_personal")
    world.sandbox.add_personal_token("ghp_personal", "alice")
    try:
        await world.client.get_repository(REPO)
        await world.github.installation(None).get_repository(REPO)
        statuses = [status for _, path, status in world.answers if path == f"/repos/{REPO}"]
        assert statuses == [200, 200]
        conditional = [
            r for r in world.requests("GET", REPO_PATH) if "if-none-match" in r["headers"]
        ]
        assert conditional == []
    finally:
        await world.close()


async def test_pagination_follows_link_headers_across_three_pages(world: World) -> None:
    repository = world.sandbox.repository(REPO)
    author = world.sandbox.user("alice")
    world.sandbox.create_issue(repository, "the oldest", with_marker("x", "needle"), author)
    for number in range(249):
        world.sandbox.create_issue(repository, f"issue {number}", "noise", author)
    found = await world.client.find_issue_by_marker(REPO, "needle")
    assert found is not None and found.title == "the oldest"
    assert len(world.requests("GET", rf"/repos/{REPO}/issues$")) == 3


async def test_every_request_carries_the_delivery_id(world: World) -> None:
    with delivery_context("72d3162e-cc78-11e3-81ab-4c9367dc0958"):
        await world.client.get_file(REPO, "train.py")
    sent = world.requests()
    assert len(sent) == 2  # the token, then the file
    assert all(
        entry["headers"].get("x-shbot-delivery") == "72d3162e-cc78-11e3-81ab-4c9367dc0958"
        for entry in sent
    )


async def test_enterprise_base_url(tmp_path: Path, clock: FakeClock) -> None:
    world = make_world(tmp_path, clock, base_path="/api/v3")
    try:
        assert (await world.client.get_repository(REPO)).full_name == REPO
        assert all(entry["path"].startswith("/api/v3/") for entry in world.requests())
    finally:
        await world.close()


async def test_a_wrong_key_is_a_typed_authentication_error(world: World) -> None:
    world.sandbox.apps[APP_ID].public_key_pem = _other_public_key()
    with pytest.raises(GitHubAuthenticationError, match="401"):
        await world.client.get_repository(REPO)
    assert len(world.requests("POST", TOKEN_PATH)) == 1  # a 401 is not retried


def _other_public_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def test_personal_token_mode_needs_a_token() -> None:
    from self_healing_bot.github.errors import GitHubConfigurationError

    with pytest.raises(GitHubConfigurationError, match="SHBOT_GITHUB_TOKEN"):
        GitHub("http://sandbox.test").installation(None)


class GatedTransport(httpx.AsyncBaseTransport):
    """Holds every request at a gate, counting how many are in flight at once."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.in_flight = 0
        self.peak = 0
        self.gate = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await self.gate.wait()
            return await self.inner.handle_async_request(request)
        finally:
            self.in_flight -= 1


async def test_at_most_100_requests_are_in_flight_at_once(world: World) -> None:
    world.sandbox.add_personal_token("ghp_gated", "alice")
    gated = GatedTransport(httpx.ASGITransport(app=world.sandbox.asgi_app))
    github = GitHub(
        "http://sandbox.test", token="ghp_gated", http=httpx.AsyncClient(transport=gated)
    )
    client = github.installation(None)
    try:
        calls = [asyncio.ensure_future(client.get_repository(REPO)) for _ in range(150)]
        for _ in range(200):  # every call runs until it waits at the gate or for a slot
            await asyncio.sleep(0)
        assert gated.peak == 100
        gated.gate.set()
        repositories = await asyncio.gather(*calls)
    finally:
        await github.aclose()
    assert len(repositories) == 150 and gated.peak == 100
