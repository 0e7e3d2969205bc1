"""The sandbox's OpenAPI validation can fail: requests our client would never make, sent through
its own transport and credentials, are refused as GitHub refuses them, with the reason, and the
check every harness ends with names them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from self_healing_bot.github.auth import InstallationCredentials, InstallationTokenCache
from self_healing_bot.github.errors import GitHubApiError
from tests.github.conftest import FakeClock
from tests.github.world import INSTALLATION_ID, REPO, make_world
from tests.github_sandbox_plugin import assert_github_would_accept


@pytest.mark.parametrize(
    ("method", "path", "params", "body", "status", "reason"),
    [
        (
            "POST",
            f"/repos/{REPO}/issues",
            None,
            {"title": "t", "labels": "bug"},
            422,
            '"bug" is not of type "array" (at the request body[\'labels\'])',
        ),
        ("POST", f"/repos/{REPO}/pulls", None, {"title": "t"}, 422, "head"),
        ("GET", f"/repos/{REPO}/pulls", {"state": "merged"}, None, 422, "merged"),
        ("POST", f"/repos/{REPO}/git/blobs", None, None, 422, "A request body is required."),
        ("DELETE", f"/repos/{REPO}/issues/1", None, None, 404, "Not Found"),
    ],
    ids=["wrong-type", "missing-field", "bad-query", "no-body", "unknown-route"],
)
async def test_a_request_github_would_refuse_is_refused_with_the_reason(
    tmp_path: Path,
    clock: FakeClock,
    method: str,
    path: str,
    params: dict[str, str] | None,
    body: Any,
    status: int,
    reason: str,
) -> None:
    world = make_world(tmp_path, clock)
    tokens = InstallationTokenCache(world.github.app.create_installation_token, clock)
    credentials = InstallationCredentials(tokens, INSTALLATION_ID)

    with pytest.raises(GitHubApiError) as refused:
        await world.github.transport.request(credentials, method, path, params=params, json=body)

    assert refused.value.status == status
    assert reason in refused.value.github_message
    with pytest.raises(AssertionError, match=f"{method} {path} → {status}: "):
        assert_github_would_accept(world.sandbox)
    world.expected_rejections.append((method, path, status))
    await world.close()  # declared, the same check passes
