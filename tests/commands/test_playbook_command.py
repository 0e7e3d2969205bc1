"""`self-healing-bot playbook validate FILE` as a user runs it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from self_healing_bot.cli import app
from self_healing_bot.core.playbook import BUILTIN_PLAYBOOKS


@pytest.mark.parametrize(
    ("content", "exit_code", "expected"),
    [
        ((BUILTIN_PLAYBOOKS / "gpu-oom.yml").read_text(), 0, ["{file}: valid playbook"]),
        ("automation: {default: pr}\n", 0, ["{file}: valid repository config"]),
        ("", 0, ["{file}: valid repository config"]),
        (
            "name: x\ntrigger: {}\nsteps:\n  - uses: comment\n    with: {bod: hi}\n",
            2,
            ["{file}:5: steps[0].with.body: Field required", "{file}:5: steps[0].with.bod"],
        ),
        ("budgets:\n  reruns_per_hour: many\n", 2, ["{file}:2: budgets.reruns_per_hour"]),
        ("steps: [\n", 2, ["{file}:2: invalid YAML"]),
    ],
)
def test_validate(tmp_path: Path, content: str, exit_code: int, expected: list[str]) -> None:
    file = tmp_path / "candidate.yml"
    file.write_text(content)
    result = CliRunner().invoke(app, ["playbook", "validate", str(file)])
    assert result.exit_code == exit_code
    lines = result.output.splitlines()
    assert len(lines) == len(expected)
    for line, start in zip(lines, expected, strict=True):
        assert line.startswith(start.format(file=file))


def test_missing_file_is_bad_input(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["playbook", "validate", str(tmp_path / "absent.yml")])
    assert result.exit_code == 2
    assert "cannot read" in result.output
