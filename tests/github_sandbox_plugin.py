"""Pytest fixtures for a GitHub sandbox in-process; import them into a conftest:

    from tests.github_sandbox_plugin import *  # noqa: F403

`github_sandbox` holds app 1 (webhook secret `sandbox-secret`) installed as installation 10 on
`org/ml`; `sandbox_http` is an httpx client on it; `app_jwt()` signs a JWT for app 1. Every
response the sandbox sends during the test is checked against GitHub's response schema, and the
test fails if one breaks it, or if the sandbox refused a request the test did not declare in
`expected_rejections`.

Every harness that runs a sandbox ends with `assert_github_would_accept(sandbox)`: the one
check that the client made no request GitHub's API description refuses.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Collection

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from self_healing_bot.sandbox import GitHubSandbox

__all__ = [
    "APP_ID",
    "INSTALLATION_ID",
    "REPOSITORY",
    "WEBHOOK_SECRET",
    "app_jwt",
    "app_private_key_pem",
    "assert_github_would_accept",
    "expected_rejections",
    "github_sandbox",
    "sandbox_http",
]

APP_ID = 1
INSTALLATION_ID = 10
REPOSITORY = "org/ml"
WEBHOOK_SECRET = "sandbox-secret"
SANDBOX_BASE_URL = "http://sandbox.test"

ExpectedRejection = tuple[str, str, int]  # (method, path, status) a test sends on purpose


def assert_github_would_accept(
    sandbox: GitHubSandbox, expected: Collection[ExpectedRejection] = ()
) -> None:
    """Fail unless every request the sandbox refused by GitHub's API description (unknown
    route 404, broken JSON 400, schema 422) is in `expected`, and no response it sent broke
    its schema (checked when the sandbox validates responses).

        assert_github_would_accept(sandbox, [("POST", "/repos/org/ml/issues", 422)])
    """
    unexpected = [
        f"{rejection.method} {rejection.path} → {rejection.status}: {rejection.reason}"
        for rejection in sandbox.rejections
        if (rejection.method, rejection.path, rejection.status) not in expected
    ]
    assert not unexpected, "GitHub would refuse these requests:\n" + "\n".join(unexpected)
    assert not sandbox.response_errors, (
        "the sandbox sent responses GitHub's schema rejects:\n" + "\n".join(sandbox.response_errors)
    )


@pytest.fixture(scope="session")
def app_private_key_pem() -> str:
    """A fresh RSA key for the test app (PEM, PKCS#8)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture
def app_jwt(app_private_key_pem: str) -> Callable[..., str]:
    """`app_jwt(iat_offset=-60, lifetime=540, iss=APP_ID)` signs an app JWT."""

    def sign(iat_offset: int = -60, lifetime: int = 540, iss: int | str = APP_ID) -> str:
        now = int(time.time())
        claims = {"iat": now + iat_offset, "exp": now + iat_offset + lifetime, "iss": str(iss)}
        return jwt.encode(claims, app_private_key_pem, algorithm="RS256")

    return sign


@pytest.fixture
def expected_rejections() -> list[ExpectedRejection]:
    """Append `(method, path, status)` for each request a test sends GitHub would refuse."""
    return []


@pytest.fixture
async def github_sandbox(
    app_private_key_pem: str, expected_rejections: list[ExpectedRejection]
) -> AsyncIterator[GitHubSandbox]:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    public_pem = (
        load_pem_private_key(app_private_key_pem.encode(), password=None)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    sandbox = GitHubSandbox(base_url=SANDBOX_BASE_URL, run_delay=0.01, validate_responses=True)
    sandbox.register_app(APP_ID, public_pem, webhook_secret=WEBHOOK_SECRET)
    sandbox.add_repository(
        REPOSITORY,
        {"README.md": b"# ml\n", "configs/train.yaml": b"batch_size: 16\nlr: 0.001\n"},
        collaborators={"alice": "write", "mallory": "read"},
    )
    sandbox.add_installation(INSTALLATION_ID, "org", [REPOSITORY])
    yield sandbox
    await sandbox.close()
    assert_github_would_accept(sandbox, expected_rejections)


@pytest.fixture
async def sandbox_http(github_sandbox: GitHubSandbox) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on the sandbox, authenticated with an installation token."""
    token = github_sandbox.installation_token(INSTALLATION_ID)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=github_sandbox.asgi_app),
        base_url=SANDBOX_BASE_URL,
        headers={"authorization": f"Bearer {token}", "accept": "application/vnd.github+json"},
    ) as client:
        yield client
