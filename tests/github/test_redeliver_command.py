"""`self-healing-bot redeliver`: bad input exits 2 with a reason."""

from __future__ import annotations

from datetime import timedelta

import pytest
from typer.testing import CliRunner

from self_healing_bot.cli import app
from self_healing_bot.commands.redeliver import parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("10m", timedelta(minutes=10)),
        ("1h", timedelta(hours=1)),
        ("3d", timedelta(days=3)),
        (" 2H ", timedelta(hours=2)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "1", "h", "1.5h", "-1h", "1w"])
def test_unreadable_duration_exits_2(text: str) -> None:
    result = CliRunner().invoke(app, ["redeliver", "--since", text])
    assert result.exit_code == 2
    assert "cannot read duration" in result.output


def test_missing_app_credentials_exit_2(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from self_healing_bot.settings import load_settings

    monkeypatch.delenv("SHBOT_GITHUB_APP_ID", raising=False)
    monkeypatch.setenv("SHBOT_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/db.sqlite")
    load_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["redeliver", "--since", "1h"])
    finally:
        load_settings.cache_clear()
    assert result.exit_code == 2
    assert "SHBOT_GITHUB_APP_ID" in result.output
