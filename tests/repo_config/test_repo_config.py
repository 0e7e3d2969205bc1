"""The repository config: layered merge, suggest-only without a file, errors with lines, schema."""

from __future__ import annotations

import json

import jsonschema_rs
import pytest

from self_healing_bot.core.automation import AutomationLevel
from self_healing_bot.repo_config import (
    ConfigError,
    RepoConfig,
    load_repo_config,
    merge_configs,
    parse_config_layer,
)
from self_healing_bot.repo_config.schema import SCHEMA_PATH, schema_text

ORG = """\
automation:
  default: auto
  categories: {timeout: pr}
budgets: {reruns_per_hour: 2, open_pull_requests: 1}
notifications:
  - {name: ops, kind: slack, url: "https://hooks.slack.com/services/T/B/x"}
"""
REPO = """\
automation:
  categories: {gpu_oom: pr, data_drift: off}
budgets: {open_pull_requests: 5}
"""


def test_repository_over_organisation_over_builtin() -> None:
    config = merge_configs(parse_config_layer(ORG, "org.yml"), parse_config_layer(REPO))
    assert config.automation.level_for("gpu_oom") is AutomationLevel.PR
    assert config.automation.level_for("timeout") is AutomationLevel.PR
    assert config.automation.level_for("data_drift") is AutomationLevel.OFF
    assert config.automation.level_for("nan_loss") is AutomationLevel.AUTO
    assert (config.budgets.reruns_per_hour, config.budgets.open_pull_requests) == (2, 5)
    assert config.budgets.max_changed_lines == RepoConfig().budgets.max_changed_lines
    assert [target.name for target in config.notifications] == ["ops"]


@pytest.mark.parametrize("organisation", [None, ORG])
def test_without_a_repository_file_the_bot_only_suggests(organisation: str | None) -> None:
    layer = parse_config_layer(organisation, "org.yml") if organisation else None
    config = merge_configs(layer, None)
    for category in ("gpu_oom", "timeout", "unknown", "model_degradation"):
        assert config.automation.level_for(category) is AutomationLevel.SUGGEST


def test_an_empty_file_is_the_builtin_defaults() -> None:
    assert load_repo_config("") == RepoConfig()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("automation:\n  default: sometimes\n", [(2, "automation.default: Input should be")]),
        ("budgets:\n  typo: 1\n", [(2, "budgets.typo: Extra inputs are not permitted")]),
        (
            "automation:\n  categories:\n    gpu-oom: pr\n",
            [(2, "unknown categories gpu-oom")],
        ),
        (
            "detectors:\n  data_drift: {enabled: yes-please}\n",
            [(2, "detectors.data_drift.enabled")],
        ),
        (
            "budgets:\n  cooldown_minutes: -5\n  reruns_per_hour: x\n",
            [(3, "budgets.reruns_per_hour"), (2, "budgets.cooldown_minutes")],
        ),
        (
            "diagnosis_rules:\n  - {category: gpu_oom, pattern: '(unclosed'}\n",
            [(2, "invalid regular expression")],
        ),
        (
            "detectors:\n  data_drift:\n    columns:\n      age: {kind: integer}\n",
            [(4, "detectors.data_drift.columns.age.kind: Input should be 'numeric'")],
        ),
        (
            "detectors:\n  data_drift:\n    columns:\n      age:\n        test: t-test\n",
            [(5, "detectors.data_drift.columns.age.test: Input should be 'ks'")],
        ),
        (
            "detectors:\n  data_drift:\n    columns:\n      age: {threshold: -1}\n",
            [(4, "detectors.data_drift.columns.age.threshold: Input should be greater than 0")],
        ),
        (
            "detectors:\n  data_drift:\n    columns:\n      age: {tset: ks}\n",
            [(4, "detectors.data_drift.columns.age.tset: Extra inputs are not permitted")],
        ),
        (
            "detectors:\n  model_degradation:\n    columns: {age: {test: ks}}\n",
            [(1, "columns is set for model_degradation; only data_drift compares columns")],
        ),
        ("automation: [\n", [(2, "invalid YAML")]),
        ("- just\n- a list\n", [(1, "must be a mapping")]),
    ],
)
def test_invalid_config_names_file_line_and_reason(
    text: str, expected: list[tuple[int, str]]
) -> None:
    with pytest.raises(ConfigError) as rejected:
        load_repo_config(text, ".github/self-healing-bot.yml")
    problems = rejected.value.problems
    assert len(problems) == len(expected)
    for problem, (line, reason) in zip(problems, expected, strict=True):
        assert problem.file == ".github/self-healing-bot.yml"
        assert problem.line == line
        assert reason in problem.reason


def test_published_schema_is_current() -> None:
    assert SCHEMA_PATH.read_text() == schema_text(), (
        "run: python -m self_healing_bot.repo_config.schema"
    )


@pytest.mark.parametrize(
    ("config", "valid"),
    [
        ({"automation": {"default": "pr"}, "budgets": {"max_changed_lines": 50}}, True),
        ({"automation": {"default": "always"}}, False),
        ({"budgets": {"typo": 1}}, False),
    ],
)
def test_schema_agrees_with_the_model(config: dict[str, object], valid: bool) -> None:
    validator = jsonschema_rs.validator_for(json.loads(SCHEMA_PATH.read_text()))
    assert validator.is_valid(config) is valid
