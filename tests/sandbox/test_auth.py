"""Credentials are checked like GitHub's: app JWTs, installation tokens, personal tokens."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest

from self_healing_bot.sandbox import GitHubSandbox
from tests.github_sandbox_plugin import INSTALLATION_ID, SANDBOX_BASE_URL


def client(sandbox: GitHubSandbox, token: str | None) -> httpx.AsyncClient:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.asgi_app),
        base_url=SANDBOX_BASE_URL,
        headers=headers,
    )


async def test_app_jwt_gets_an_installation_token_that_reads_the_installed_repository(
    github_sandbox: GitHubSandbox, app_jwt: Callable[..., str]
) -> None:
    async with client(github_sandbox, app_jwt()) as app_client:
        assert (await app_client.get("/app")).json()["id"] == 1
        created = await app_client.post(f"/app/installations/{INSTALLATION_ID}/access_tokens")
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith("ghs_")
    async with client(github_sandbox, token) as installation_client:
        assert (await installation_client.get("/repos/org/ml")).status_code == 200


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"iat_offset": -700, "lifetime": 600}, "'exp'"),
        ({"lifetime": 1200}, "too far in the future"),
        ({"iat_offset": 300}, "'iat'"),
        ({"iss": 99}, "Integration not found"),
    ],
)
async def test_a_bad_app_jwt_is_refused(
    github_sandbox: GitHubSandbox, app_jwt: Callable[..., str], claims: dict[str, int], message: str
) -> None:
    async with client(github_sandbox, app_jwt(**claims)) as app_client:
        response = await app_client.get("/app")
    assert response.status_code == 401
    assert message in response.json()["message"]


async def test_a_jwt_signed_by_another_key_is_refused(github_sandbox: GitHubSandbox) -> None:
    import jwt

    forged = jwt.encode(
        {"iss": "1", "iat": 0, "exp": 1},
        "a-shared-secret-that-is-not-the-apps-key",
        algorithm="HS256",
    )
    async with client(github_sandbox, forged) as app_client:
        response = await app_client.get("/app")
    assert (response.status_code, response.json()["message"]) == (
        401,
        "A JSON web token could not be decoded",
    )


@pytest.mark.parametrize("token", ["ghs_unknown", None])
async def test_unknown_or_missing_tokens_get_401(
    github_sandbox: GitHubSandbox, token: str | None
) -> None:
    async with client(github_sandbox, token) as anonymous:
        response = await anonymous.get("/repos/org/ml")
    assert response.status_code == 401
    assert response.json()["message"] in {"Bad credentials", "Requires authentication"}


async def test_an_expired_installation_token_gets_bad_credentials(
    github_sandbox: GitHubSandbox,
) -> None:
    token = github_sandbox.installation_token(INSTALLATION_ID)
    github_sandbox.tokens[token].expires_at -= timedelta(hours=2)
    async with client(github_sandbox, token) as expired:
        response = await expired.get("/repos/org/ml")
    assert (response.status_code, response.json()["message"]) == (401, "Bad credentials")


async def test_a_token_is_scoped_to_its_installation(github_sandbox: GitHubSandbox) -> None:
    github_sandbox.add_repository("other/private", {"a.txt": b"x"})
    token = github_sandbox.installation_token(INSTALLATION_ID)
    async with client(github_sandbox, token) as scoped:
        assert (await scoped.get("/repos/other/private")).status_code == 404


async def test_a_personal_token_reads_any_repository(github_sandbox: GitHubSandbox) -> None:
    github_sandbox.add_repository("other/private", {"a.txt": b"x"})
    github_sandbox.add_personal_token("ghp_local", "alice")
    async with client(github_sandbox, "ghp_local") as personal:
        response = await personal.post("/repos/other/private/issues", json={"title": "hi"})
    assert response.status_code == 201
    assert response.json()["user"]["login"] == "alice"
