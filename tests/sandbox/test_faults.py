"""Faults injected on demand answer the way GitHub does when it is down or limiting."""

from __future__ import annotations

import time

import httpx
import pytest

from self_healing_bot.sandbox import GitHubSandbox

REPO = "/repos/org/ml"


async def test_a_burst_of_server_errors_ends_after_its_count(
    github_sandbox: GitHubSandbox, sandbox_http: httpx.AsyncClient
) -> None:
    github_sandbox.faults.server_errors(2, status=502)
    statuses = [(await sandbox_http.get(REPO)).status_code for _ in range(3)]
    assert statuses == [502, 502, 200]


@pytest.mark.parametrize("status", [403, 429])
async def test_secondary_rate_limit_says_when_to_retry(
    github_sandbox: GitHubSandbox, sandbox_http: httpx.AsyncClient, status: int
) -> None:
    github_sandbox.faults.secondary_rate_limit(1, retry_after=7, status=status, path="/issues")
    limited = await sandbox_http.post(f"{REPO}/issues", json={"title": "t"})
    assert (limited.status_code, limited.headers["retry-after"]) == (status, "7")
    assert "secondary rate limit" in limited.json()["message"]
    assert (await sandbox_http.get(REPO)).status_code == 200


async def test_primary_rate_limit_exhaustion_names_the_reset(
    github_sandbox: GitHubSandbox, sandbox_http: httpx.AsyncClient
) -> None:
    github_sandbox.faults.exhaust_rate_limit(1)
    limited = await sandbox_http.get(REPO)
    assert limited.status_code == 403
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert int(limited.headers["x-ratelimit-reset"]) > time.time()
    assert "API rate limit exceeded for installation ID 10" in limited.json()["message"]


async def test_a_slow_response_still_answers(
    github_sandbox: GitHubSandbox, sandbox_http: httpx.AsyncClient
) -> None:
    github_sandbox.faults.slow(1, seconds=0.01)
    assert (await sandbox_http.get(REPO)).status_code == 200
    assert github_sandbox.faults.request_faults == []


async def test_faults_can_be_armed_over_http(
    github_sandbox: GitHubSandbox, sandbox_http: httpx.AsyncClient
) -> None:
    armed = await sandbox_http.post("/_sandbox/faults", json={"kind": "server_error", "count": 1})
    assert armed.status_code == 204
    assert (await sandbox_http.get(REPO)).status_code == 502
    refused = await sandbox_http.post("/_sandbox/faults", json={"kind": "meteor"})
    assert refused.status_code == 422
    assert "unknown fault kind" in refused.json()["message"]
