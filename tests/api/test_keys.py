"""Keys are shown once, stored and logged only as hashes, revocable, from the CLI and the API."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from typer.testing import CliRunner

from self_healing_bot.cli import app as cli
from self_healing_bot.logging_setup import configure_logging
from self_healing_bot.settings import load_settings
from self_healing_bot.storage.api_keys import Role
from tests.api.conftest import World, api_settings
from tests.webhooks import running_app


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Everything at DEBUG (SQLAlchemy's statements and parameters included) to stderr."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("DEBUG", json_output=True)
    caplog.set_level(logging.DEBUG)
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


@pytest.fixture
def cli_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "keys.db"
    monkeypatch.setenv("SHBOT_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.setenv("SHBOT_BROKER_URL", "")
    load_settings.cache_clear()
    yield path
    load_settings.cache_clear()


def _secret(key: str) -> str:
    """All of the key after `shbot_<key id>_`: the secret may itself hold `_`, and a short tail
    after its last one (`GI`) turns up in any log by chance."""
    secret = key.split("_", 2)[2]
    assert len(secret) >= 40
    return secret


def _database_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


async def test_a_cli_key_is_the_last_line_works_and_is_nowhere_in_clear(
    cli_database: Path,
    debug_logs: None,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    arguments = ["keys", "create", "--role", "admin", "--name", "ops"]
    created = await asyncio.to_thread(CliRunner().invoke, cli, arguments)
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("shbot_") and created.stdout.count(key) == 1
    secret = _secret(key)
    settings = api_settings(f"sqlite+aiosqlite:///{cli_database}")
    async with running_app(settings) as client:
        answer = await client.get("/api/v1/audit", headers={"Authorization": f"Bearer {key}"})
        wrong = await client.get("/api/v1/audit", headers={"Authorization": f"Bearer {key}x"})
    assert answer.status_code == 200
    assert [event["action"] for event in answer.json()["items"]] == ["key.create"]
    assert wrong.status_code == 401
    output = capfd.readouterr()
    logs = output.out + output.err + caplog.text
    assert "INSERT INTO api_keys" in logs  # statements and parameters were logged: this test sees
    assert secret not in logs
    assert secret.encode() not in _database_bytes(cli_database)


async def test_an_api_created_key_is_shown_once_and_stored_hashed(
    world: World,
    settings_path: Path,
    debug_logs: None,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    admin = world.as_role(Role.ADMIN)
    created = await world.client.post(
        "/api/v1/keys", json={"role": "operator", "name": "bot"}, headers=admin
    )
    assert created.status_code == 201
    key = created.json()["key"]
    listed = await world.client.get("/api/v1/keys", headers=admin)
    assert key not in listed.text and created.json()["key_id"] in listed.text
    works = await world.client.get("/api/v1/executions", headers={"Authorization": f"Bearer {key}"})
    assert works.status_code == 200
    output = capfd.readouterr()
    logs = output.out + output.err + caplog.text
    assert "INSERT INTO api_keys" in logs
    assert _secret(key) not in logs
    assert _secret(key).encode() not in _database_bytes(settings_path)


async def test_a_revoked_key_gets_401(world: World) -> None:
    victim = {"Authorization": f"Bearer {world.victim_key}"}
    assert (await world.client.get("/api/v1/deliveries", headers=victim)).status_code == 200
    revoked = await world.client.delete(
        f"/api/v1/keys/{world.victim_key_id}", headers=world.as_role(Role.ADMIN)
    )
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    after = await world.client.get("/api/v1/deliveries", headers=victim)
    assert after.status_code == 401
    assert after.json()["error"]["message"] == "the API key is unknown or revoked"


@pytest.mark.parametrize(
    ("arguments", "status", "message"),
    [
        (["keys", "create", "--role", "boss"], 2, "--role must be one of viewer, operator, admin"),
        (["keys", "create", "--role", "viewer", "--name", " "], 2, "--name must be 1 to 128"),
        (["keys", "revoke", "nope"], 2, "no API key 'nope'"),
    ],
)
def test_cli_bad_input_is_exit_2_with_the_reason(
    cli_database: Path, arguments: list[str], status: int, message: str
) -> None:
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == status
    assert message in result.stderr


def test_cli_list_and_revoke(cli_database: Path) -> None:
    runner = CliRunner()
    key = runner.invoke(cli, ["keys", "create", "--role", "viewer", "--name", "dash"]).stdout
    key_id = key.strip().splitlines()[-1].split("_")[1]
    revoked = runner.invoke(cli, ["keys", "revoke", key_id])
    assert revoked.exit_code == 0 and f"revoked key {key_id}" in revoked.stdout
    listed = runner.invoke(cli, ["keys", "list"])
    assert listed.exit_code == 0
    [line] = listed.stdout.splitlines()
    assert line.startswith(f"{key_id}\tviewer\tdash\t") and "revoked: -" not in line
