from pathlib import Path

import pytest

from self_healing_bot.settings import Settings


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("", []), ("one", ["one"]), ("new, old ,", ["new", "old"])],
)
def test_webhook_secrets_split_on_commas_for_rotation(raw: str, expected: list[str]) -> None:
    assert Settings(webhook_secret=raw).webhook_secrets == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("", []), ("acme.detectors", ["acme.detectors"]), ("a.one, b.two ,", ["a.one", "b.two"])],
)
def test_plugins_split_on_commas(raw: str, expected: list[str]) -> None:
    assert Settings(plugins=raw).plugin_modules == expected


def test_defaults_are_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SHBOT_DATABASE_URL", "SHBOT_BROKER_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert settings.embedded
    assert settings.database_url == "sqlite+aiosqlite:///./shbot.db"


def test_private_key_may_be_a_path(tmp_path: Path) -> None:
    pem = "-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----\n"
    key_file = tmp_path / "app.pem"
    key_file.write_text(pem)
    assert Settings(github_private_key=str(key_file)).github_private_key_pem() == pem
    assert Settings(github_private_key=pem).github_private_key_pem() == pem.strip()
