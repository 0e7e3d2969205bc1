"""`GET /api/v1/settings`: what is in force, with credentials never shown."""

from __future__ import annotations

from self_healing_bot.settings import Settings
from self_healing_bot.storage.api_keys import Role
from self_healing_bot.web.api.settings import HIDDEN, setting_views
from tests.api.conftest import GITHUB_TOKEN, World


async def test_admins_see_the_settings_in_force_without_credentials(world: World) -> None:
    response = await world.client.get("/api/v1/settings", headers=world.as_role(Role.ADMIN))
    assert response.status_code == 200
    shown = {item["variable"]: item["value"] for item in response.json()}
    assert shown["SHBOT_BROKER_URL"] == ""
    assert shown["SHBOT_DATABASE_URL"].startswith("sqlite+aiosqlite:///")
    assert shown["SHBOT_GITHUB_TOKEN"] == HIDDEN
    assert shown["SHBOT_WEBHOOK_SECRET"] == HIDDEN
    assert GITHUB_TOKEN not in response.text and "api-tests" not in response.text


def test_passwords_in_urls_are_redacted_and_unset_credentials_say_so() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url="postgresql+asyncpg://bot:hunter2@db/shbot",
        broker_url="amqp://guest:guest-pass@mq:5672/",
        github_token="",
    )
    shown = {view.variable: view.value for view in setting_views(settings)}
    assert "hunter2" not in str(shown["SHBOT_DATABASE_URL"])
    assert "guest-pass" not in str(shown["SHBOT_BROKER_URL"])
    assert shown["SHBOT_GITHUB_TOKEN"] == ""
    assert shown["SHBOT_MAX_DELIVERY_ATTEMPTS"] == settings.max_delivery_attempts
