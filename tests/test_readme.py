"""The README's command and settings tables name only commands, options and variables that exist."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.core import TyperGroup

from self_healing_bot.cli import app
from self_healing_bot.settings import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def _table_cells(heading: str) -> list[str]:
    """The first cell of each row of the table under `## heading`."""
    section = README.read_text().split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [row.split(" | ")[0].removeprefix("| ") for row in rows]


def _command_lines() -> list[str]:
    """Each `self-healing-bot ...` or `keys ...` usage in the command table, one per command."""
    usages = []
    for cell in _table_cells("Command line"):
        usages += [code.replace("\\|", "|") for code in re.findall(r"`([^`]+)`", cell)]
    return usages


def _command(words: list[str]) -> Any:
    """The deepest command that `words` (after `self-healing-bot`) reach (Typer's own click)."""
    command: Any = typer.main.get_command(app)
    for word in words:
        if not isinstance(command, TyperGroup) or word not in command.commands:
            break
        command = command.commands[word]
    return command


def test_the_command_table_lists_commands() -> None:
    assert len(_command_lines()) >= 12


@pytest.mark.parametrize("usage", _command_lines())
def test_each_documented_command_and_option_exists(usage: str) -> None:
    words = usage.removeprefix("self-healing-bot ").split()
    names = [word for word in words if re.fullmatch(r"[a-z][a-z-]*", word)]
    assert names, f"{usage!r} names no command"
    command = _command(names)
    assert command.name == names[-1], f"no command {usage!r}"
    options = {option for param in command.params for option in getattr(param, "opts", [])}
    documented = set(re.findall(r"--[a-z][a-z-]*", usage))
    assert documented <= options, f"{usage!r}: {sorted(documented - options)} not options"


def test_each_documented_variable_is_a_setting() -> None:
    variables = [
        name
        for cell in _table_cells("Configuration")
        for name in re.findall(r"`SHBOT_([A-Z_]+)`", cell)
    ]
    assert len(variables) >= 10
    unknown = [name for name in variables if name.lower() not in Settings.model_fields]
    assert unknown == []
