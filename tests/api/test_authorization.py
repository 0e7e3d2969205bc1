"""The role-by-endpoint matrix over every operation in the app's OpenAPI.

One app serves the whole matrix (an app per case would cost the suite minutes): a write that
succeeded for one caller may answer 404 or 409 for the next, which the matrix allows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from self_healing_bot.github import connection
from self_healing_bot.storage.api_keys import Role
from tests.api.conftest import World, api_settings, seed, settle
from tests.api.operations import OPERATIONS, Operation
from tests.webhooks import running_app

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    database = tmp_path_factory.mktemp("matrix") / "api.db"
    settings = api_settings(f"sqlite+aiosqlite:///{database}", api_rate_limit="100000/minute")
    original = connection._process_github
    async with running_app(settings) as client:
        shared = await seed(client)
        yield shared
        await settle(shared.database)
    connection._process_github = original


CALLERS = ["no key", "malformed key", "wrong secret", "revoked key", *Role]


def _openapi_operations(world: World) -> set[tuple[str, str]]:
    paths = world.client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return {
        (method.upper(), path)
        for path, item in paths.items()
        if path.startswith("/api/")
        for method in item
    }


async def test_every_api_route_in_the_openapi_declares_its_role_here(world: World) -> None:
    assert _openapi_operations(world) == set(OPERATIONS)


async def _headers(world: World, caller: str | Role) -> dict[str, str]:
    if isinstance(caller, Role):
        return world.as_role(caller)
    if caller == "no key":
        return {}
    if caller == "malformed key":
        return {"Authorization": "Bearer not-a-key"}
    if caller == "wrong secret":
        key_id = world.keys[Role.ADMIN].split("_")[1]
        return {"Authorization": f"Bearer shbot_{key_id}_{'A' * 43}"}
    revoked = await world.client.delete(
        f"/api/v1/keys/{world.victim_key_id}", headers=world.as_role(Role.ADMIN)
    )
    assert revoked.status_code == 200
    return {"Authorization": f"Bearer {world.victim_key}"}


def _expected(operation: Operation, caller: str | Role) -> set[int]:
    if not isinstance(caller, Role):
        return {401}
    if not caller.allows(operation.role):
        return {403}
    return {operation.ok_status, 404, 409}  # allowed: what follows is the resource's answer


@pytest.mark.parametrize("caller", CALLERS, ids=str)
@pytest.mark.parametrize(
    ("method", "path"), [pytest.param(*key, id=" ".join(key)) for key in sorted(OPERATIONS)]
)
async def test_role_matrix(world: World, method: str, path: str, caller: str | Role) -> None:
    operation = OPERATIONS[(method, path)]
    headers = await _headers(world, caller)
    response = await world.client.request(
        method, world.url(path), json=operation.body, headers=headers
    )
    assert response.status_code in _expected(operation, caller), response.text
    if response.status_code >= 400:
        error = response.json()["error"]
        assert error["code"] and error["message"]
    if response.status_code == 401:
        assert response.headers["www-authenticate"] == "Bearer"
