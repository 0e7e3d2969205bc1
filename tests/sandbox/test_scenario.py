"""Scenario files and the `sandbox` command: bad input is refused with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from self_healing_bot.cli import app
from self_healing_bot.sandbox import GitHubSandbox
from self_healing_bot.sandbox.ci_rules import ScenarioError
from self_healing_bot.sandbox.scenario import apply_scenario, read_scenario

SCENARIO = """
run_delay: 0.01
app: {id: 7, private_key: %s, webhook_secret: s3cret}
repositories:
  - name: org/ml
    files: {configs/train.yaml: "batch_size: 64\\n"}
    collaborators: {alice: write}
    workflows:
      - name: train
        jobs:
          - name: train
            failures:
              - when: {file: configs/train.yaml, key: batch_size, greater_than: 32}
                log: "RuntimeError: CUDA out of memory"
installations: [{id: 70, account: org, repositories: [org/ml]}]
faults: [{kind: server_error, count: 1}]
"""


async def test_a_scenario_builds_the_repository_and_its_ci(
    tmp_path: Path, app_private_key_pem: str
) -> None:
    key = tmp_path / "app.pem"
    key.write_text(app_private_key_pem)
    path = tmp_path / "scenario.yaml"
    path.write_text(SCENARIO % key)
    sandbox = GitHubSandbox()
    apply_scenario(sandbox, read_scenario(path))
    sandbox.commit_files("org/ml", "main", {"README.md": "x"}, "touch")
    await sandbox.drain()
    (run,) = sandbox.repository("org/ml").runs.values()
    assert run.conclusion == "failure"
    assert run.jobs[0].log == "RuntimeError: CUDA out of memory"
    assert sandbox.installations[70].app_id == 7
    assert sandbox.faults.request_faults[0].kind == "server_error"
    await sandbox.close()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a list", "a mapping at the top level"),
        ("app: {id: 1}", "needs 'id' and 'public_key'"),
        ("repositories: [{name: noslash}]", "owner/name"),
        ("faults: [{kind: meteor}]", "unknown fault kind"),
        ("installations: [{id: 1, account: org}]", "register one app first"),
        ("personal_tokens: [{token: ghp_x}]", "needs 'token' and 'login'"),
        ("key: [unclosed", "not valid YAML"),
    ],
)
def test_a_bad_scenario_is_refused_with_the_reason(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=message):
        apply_scenario(GitHubSandbox(), read_scenario(path))


def test_the_command_exits_2_on_a_missing_scenario(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["sandbox", "--scenario", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2
    assert "cannot read the scenario" in result.output
