"""Schemathesis against our own OpenAPI, with an admin key: no input, valid or not, makes the
API answer 5xx."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core import NOT_SET
from schemathesis.generation import GenerationMode
from starlette.testclient import TestClient

from self_healing_bot.storage.api_keys import Role
from self_healing_bot.web.app import create_app
from tests.api.conftest import World, api_settings, seed


@pytest.fixture
def app_client(tmp_path: Path) -> Iterator[tuple[TestClient, World]]:
    app = create_app(
        api_settings(f"sqlite+aiosqlite:///{tmp_path / 'fuzz.db'}", api_rate_limit="100000/minute")
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        transport = httpx.ASGITransport(app=app)
        world = client.portal.call(_seed, app, transport)  # type: ignore[union-attr]
        yield client, world


async def _seed(app: object, transport: httpx.ASGITransport) -> World:
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        client.app = app  # type: ignore[attr-defined]
        return await seed(client)


def test_no_generated_request_gets_a_server_error(app_client: tuple[TestClient, World]) -> None:
    client, world = app_client
    schema = schemathesis.openapi.from_dict(client.app.openapi())  # type: ignore[attr-defined]
    admin = world.as_role(Role.ADMIN)
    lock = threading.Lock()
    failures: list[str] = []
    statuses: list[int] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation, mode in itertools.product(operations, GenerationMode):
        if not operation.path.startswith("/api/"):
            continue

        @settings(
            max_examples=10,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def check(case: schemathesis.Case) -> None:
            body: dict[str, object] = {}
            if isinstance(case.body, bytes):
                body["content"] = case.body
            elif case.body is not NOT_SET:
                body["json"] = case.body
            with lock:
                response = client.request(
                    case.method,
                    case.formatted_path,
                    params=case.query or None,
                    headers={**(case.headers or {}), **admin},
                    **body,  # type: ignore[arg-type]
                )
            statuses.append(response.status_code)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} {case.query}: {response.text}"
                )

        check()
    assert failures == []
    assert len(statuses) > 100 and {200, 404, 422} <= set(statuses)
