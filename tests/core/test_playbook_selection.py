"""Choosing the playbook for a detection, and the plan a dry run records."""

from __future__ import annotations

from typing import Any

import pytest

from self_healing_bot.core.automation import AutomationLevel
from self_healing_bot.core.playbook import (
    Detection,
    LoadedPlaybook,
    PlanError,
    PlaybookSelectionError,
    load_builtin_playbooks,
    load_playbook,
    plan_playbook,
    select_playbook,
)
from self_healing_bot.repo_config import RepoConfig, load_repo_config

REPOSITORY = {"full_name": "acme/model", "default_branch": "main"}
EVENT = {"workflow_run": {"id": 42, "path": ".github/workflows/train.yml"}}


def _detection(**fields: Any) -> Detection:
    values: dict[str, Any] = {
        "detector_id": "pipeline_failure",
        "category": "gpu_oom",
        "signature": "gpu_oom:4f1c2a9e",
        "branch": "main",
    }
    values.update(fields)
    return Detection(**values)


def _playbook(name: str, trigger: str, origin: str = "repository") -> LoadedPlaybook:
    text = f"name: {name}\ntrigger: {trigger}\nsteps:\n  - {{uses: comment, with: {{body: x}}}}\n"
    return load_playbook(text, f"{name}.yml", origin=origin)  # type: ignore[arg-type]


GENERIC = _playbook("generic", "{}", "builtin")
OOM_BUILTIN = _playbook("oom-builtin", "{categories: [gpu_oom]}", "builtin")
OOM_REPOSITORY = _playbook("oom-repository", "{categories: [gpu_oom]}")
OOM_ON_MAIN = _playbook("oom-main", "{categories: [gpu_oom], branches: [main]}", "builtin")
SEVERE = _playbook("severe", "{categories: [gpu_oom], severity: high}", "builtin")
TRAINING_PATHS = _playbook("training", "{categories: [gpu_oom], paths: ['train/*']}", "builtin")


@pytest.mark.parametrize(
    ("detection", "playbooks", "expected"),
    [
        (_detection(), [GENERIC, OOM_BUILTIN], "oom-builtin"),
        (_detection(), [OOM_BUILTIN, OOM_REPOSITORY], "oom-repository"),
        (_detection(), [OOM_REPOSITORY, OOM_ON_MAIN], "oom-main"),
        (_detection(branch="dev"), [OOM_BUILTIN, OOM_ON_MAIN], "oom-builtin"),
        (_detection(severity="low"), [OOM_BUILTIN, SEVERE], "oom-builtin"),
        (_detection(severity="critical"), [OOM_BUILTIN, SEVERE], "severe"),
        (_detection(changed_paths=["train/model.py"]), [OOM_BUILTIN, TRAINING_PATHS], "training"),
        (_detection(changed_paths=["docs/a.md"]), [OOM_BUILTIN, TRAINING_PATHS], "oom-builtin"),
        (_detection(category="nan_loss"), [OOM_BUILTIN], None),
        (_detection(category="nan_loss"), [OOM_BUILTIN, GENERIC], "generic"),
    ],
)
def test_most_specific_trigger_wins(
    detection: Detection, playbooks: list[LoadedPlaybook], expected: str | None
) -> None:
    chosen = select_playbook(detection, RepoConfig(), playbooks)
    assert (chosen.playbook.name if chosen else None) == expected


@pytest.mark.parametrize(
    "config",
    [
        "automation: {categories: {gpu_oom: off}}",
        "automation: {default: off}",
        "detectors: {pipeline_failure: {enabled: false}}",
    ],
)
def test_off_or_disabled_means_no_playbook(config: str) -> None:
    assert select_playbook(_detection(), load_repo_config(config), [OOM_BUILTIN]) is None


def test_config_override_names_the_playbook() -> None:
    config = load_repo_config("playbooks: {overrides: {gpu_oom: generic}}")
    chosen = select_playbook(_detection(), config, [GENERIC, OOM_BUILTIN])
    assert chosen is not None and chosen.playbook.name == "generic"
    missing = load_repo_config("playbooks: {overrides: {gpu_oom: nowhere}}")
    with pytest.raises(PlaybookSelectionError, match="'nowhere'"):
        select_playbook(_detection(), missing, [GENERIC])


def _builtin(name: str) -> LoadedPlaybook:
    return next(loaded for loaded in load_builtin_playbooks() if loaded.playbook.name == name)


def test_gpu_oom_plan_halves_the_batch_size_in_a_pull_request() -> None:
    config = load_repo_config("automation: {default: pr}\npaths: {training_config: conf/t.yaml}")
    plan = plan_playbook(
        _builtin("gpu-oom"), _detection(), config, repository=REPOSITORY, event=EVENT
    )
    (step,) = plan.steps
    assert (step.uses, step.status, plan.level) == ("open_fix_pull_request", "ready", "pr")
    assert step.parameters is not None
    assert step.parameters["branch"] == "self-healing-bot/gpu_oom/4f1c2a9e"
    assert [(edit["path"], edit["key"], edit["factor"]) for edit in step.parameters["edits"]] == [
        ("conf/t.yaml", "batch_size", 0.5),
        ("conf/t.yaml", "gradient_accumulation_steps", 2.0),
    ]
    assert [(step.uses, step.status) for step in plan.on_failure] == [
        ("create_or_update_issue", "ready")
    ]


@pytest.mark.parametrize(
    ("level", "from_fork", "status", "reason"),
    [
        ("suggest", False, "skipped", "needs automation level pr; the category is at suggest"),
        ("pr", True, "skipped", "write actions are never taken for events from forks"),
        ("auto", False, "ready", ""),
    ],
)
def test_level_and_forks_limit_what_runs(
    level: str, from_fork: bool, status: str, reason: str
) -> None:
    config = load_repo_config(f"automation: {{default: {level}}}")
    plan = plan_playbook(
        _builtin("gpu-oom"),
        _detection(),
        config,
        repository=REPOSITORY,
        event=EVENT,
        from_fork=from_fork,
    )
    assert (plan.steps[0].status, plan.steps[0].reason) == (status, reason)


def test_conditions_choose_between_rerun_and_issue() -> None:
    config = load_repo_config("automation: {default: auto}")
    playbook = _builtin("test-failure")
    first = plan_playbook(
        playbook, _detection(category="test_failure"), config, repository=REPOSITORY, event=EVENT
    )
    again = plan_playbook(
        playbook,
        _detection(category="test_failure", occurrences=2),
        config,
        repository=REPOSITORY,
        event=EVENT,
    )
    assert [(step.uses, step.status) for step in first.steps] == [
        ("rerun_failed_jobs", "ready"),
        ("create_or_update_issue", "skipped"),
    ]
    assert first.steps[0].parameters == {"run_id": 42, "max_attempts": 1}
    assert [step.status for step in again.steps] == ["skipped", "ready"]


def test_steps_reading_earlier_outputs_are_deferred_and_compensations_reversed() -> None:
    loaded = load_playbook(
        "name: chain\ntrigger: {}\nsteps:\n"
        "  - {id: issue, uses: create_or_update_issue,"
        " with: {key: k, title: t, body: '{{ report }}'}}\n"
        "  - {uses: add_labels, with: {issue_number: '{{ steps.issue.outputs.number }}',"
        " labels: [x]}}\n"
        "on_failure:\n"
        "  - {uses: comment, with: {body: first}}\n"
        "  - {uses: comment, with: {body: second}}\n",
        "chain.yml",
    )
    plan = plan_playbook(
        loaded,
        _detection(),
        load_repo_config("automation: {default: pr}"),
        repository=REPOSITORY,
        event=EVENT,
    )
    assert [step.status for step in plan.steps] == ["ready", "deferred"]
    assert [step.parameters["body"] for step in plan.on_failure if step.parameters] == [
        "second",
        "first",
    ]


def test_secrets_in_the_detection_never_reach_rendered_parameters() -> None:
    token = "ghp_" + "Z" * 36
    detection = _detection(
        category="unknown",
        summary=f"push failed with {token}",
        evidence=[{"line": 9, "text": f"remote: https://x:{token}@github.com"}],
    )
    config = load_repo_config("automation: {default: pr}")
    plan = plan_playbook(_builtin("unknown"), detection, config, repository=REPOSITORY, event=EVENT)
    assert plan.steps[0].parameters is not None
    assert token not in repr(plan.steps[0].parameters)
    assert "[REDACTED]" in plan.steps[0].parameters["body"]


def test_rendered_parameters_that_do_not_fit_fail_the_plan() -> None:
    loaded = load_playbook(
        "name: bad\ntrigger: {}\nsteps:\n"
        "  - {uses: rerun_failed_jobs, with: {run_id: '{{ detection.category }}'}}\n",
        "bad.yml",
    )
    config = load_repo_config("automation: {default: auto}")
    with pytest.raises(PlanError, match="run_id"):
        plan_playbook(loaded, _detection(), config, repository=REPOSITORY, event=EVENT)


@pytest.mark.parametrize(
    ("category", "detector", "params", "severity", "expected_ready"),
    [
        (
            "dependency_api_change",
            "pipeline_failure",
            {"package": "numpy", "installed_version": "2.0"},
            "medium",
            ["open_fix_pull_request"],
        ),
        ("dependency_api_change", "pipeline_failure", {}, "medium", ["create_or_update_issue"]),
        (
            "missing_dependency",
            "pipeline_failure",
            {"module": "yaml", "package": "PyYAML"},
            "medium",
            ["open_fix_pull_request"],
        ),
        (
            "model_degradation",
            "model_degradation",
            {"previous_version": "3"},
            "high",
            ["rollback_model", "create_or_update_issue"],
        ),
        ("model_degradation", "model_degradation", {}, "low", ["create_or_update_issue"]),
        ("data_drift", "data_drift", {}, "medium", ["create_or_update_issue", "dispatch_workflow"]),
        ("network_transient", "pipeline_failure", {}, "medium", ["rerun_failed_jobs"]),
    ],
)
def test_builtin_remedies(
    category: str, detector: str, params: dict[str, str], severity: str, expected_ready: list[str]
) -> None:
    config = load_repo_config(
        "automation: {default: auto}\nmodel: {name: churn}\nretraining: {workflow: retrain.yml}"
    )
    detection = _detection(
        category=category,
        detector_id=detector,
        params=params,
        severity=severity,
        signature=f"{category}:1",
    )
    chosen = select_playbook(detection, config, load_builtin_playbooks())
    assert chosen is not None
    plan = plan_playbook(chosen, detection, config, repository=REPOSITORY, event=EVENT)
    assert [step.uses for step in plan.steps if step.status == "ready"] == expected_ready
    assert plan.level is AutomationLevel.AUTO


@pytest.mark.parametrize(
    ("retraining", "expected_ready"),
    [
        ("retraining: {workflow: retrain.yml}", ["create_or_update_issue", "dispatch_workflow"]),
        ("", ["create_or_update_issue"]),  # no workflow configured: the issue only
    ],
)
def test_data_drift_dispatches_retraining_only_when_configured(
    retraining: str, expected_ready: list[str]
) -> None:
    config = load_repo_config(f"automation: {{default: auto}}\n{retraining}\n")
    detection = _detection(
        category="data_drift", detector_id="data_drift", severity="medium", signature="drift:1"
    )
    chosen = select_playbook(detection, config, load_builtin_playbooks())
    assert chosen is not None
    plan = plan_playbook(chosen, detection, config, repository=REPOSITORY, event=EVENT)
    assert [step.uses for step in plan.steps if step.status == "ready"] == expected_ready
