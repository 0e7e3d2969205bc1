"""Fixtures: the app on a seeded SQLite database behind httpx's ASGI transport, and a way to
sign in the way a browser does (read the login form's CSRF token, post the key)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from self_healing_bot.settings import Settings
from self_healing_bot.storage.database import Database
from self_healing_bot.storage.migrate import upgrade
from tests.dashboard.seed import Seeded, seed
from tests.webhooks import running_app

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def dashboard_settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'dashboard.db'}",
        broker_url="",
        webhook_secret="dashboard-tests",
        session_secret="dashboard-tests-session-secret",
    )


async def seed_database(settings: Settings) -> Seeded:
    await asyncio.to_thread(upgrade, settings.database_url)
    database = Database.connect(settings.database_url)
    try:
        return await seed(database)
    finally:
        await database.close()


def csrf_token(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, key: str, next_page: str = "/") -> httpx.Response:
    form = await client.get("/login")
    return await client.post(
        "/login", data={"key": key, "csrf_token": csrf_token(form.text), "next": next_page}
    )


@pytest.fixture
async def seeded_app(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Seeded]]:
    settings = dashboard_settings(tmp_path)
    seeded = await seed_database(settings)
    async with running_app(settings) as client:
        yield client, seeded


@pytest.fixture
async def client(seeded_app: tuple[httpx.AsyncClient, Seeded]) -> httpx.AsyncClient:
    return seeded_app[0]


@pytest.fixture
def seeded(seeded_app: tuple[httpx.AsyncClient, Seeded]) -> Seeded:
    return seeded_app[1]


@pytest.fixture
async def viewer(client: httpx.AsyncClient, seeded: Seeded) -> httpx.AsyncClient:
    response = await sign_in(client, seeded.viewer_key)
    assert response.status_code == 303
    return client


@pytest.fixture
async def operator(client: httpx.AsyncClient, seeded: Seeded) -> httpx.AsyncClient:
    response = await sign_in(client, seeded.operator_key)
    assert response.status_code == 303
    return client
