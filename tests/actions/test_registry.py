"""Every action the issue names is registered with a documented, typed parameter model."""

from __future__ import annotations

import dataclasses

import pytest
from pydantic import ValidationError

from self_healing_bot.actions import registry
from self_healing_bot.actions.open_fix_pull_request import (
    OpenFixPullRequestParameters,
    apply_edits,
)
from self_healing_bot.actions.registry import (
    ActionNotExecutableError,
    ActionResult,
    ActionSpec,
    UnknownActionError,
    find_action,
    load_actions,
    register_action,
)
from self_healing_bot.core.automation import AutomationLevel
from self_healing_bot.edits import EditError

NAMED_IN_THE_ISSUE = {
    "rerun_failed_jobs": (True, "auto"),
    "create_or_update_issue": (False, "pr"),
    "comment": (False, "suggest"),
    "open_fix_pull_request": (True, "pr"),
    "dispatch_workflow": (True, "auto"),
    "rollback_model": (True, "auto"),
    "add_labels": (False, "pr"),
    "notify": (False, "suggest"),
    "create_check_run": (False, "suggest"),
}


def test_every_action_is_registered_and_documented() -> None:
    actions = load_actions()
    assert set(actions) == set(NAMED_IN_THE_ISSUE)
    for action_id, (write, level) in NAMED_IN_THE_ISSUE.items():
        spec = actions[action_id]
        assert (spec.write, spec.minimum_level.value) == (write, level)
        assert "Parameters:" in spec.description


def test_unknown_action_names_the_known_ones() -> None:
    with pytest.raises(UnknownActionError, match="known actions: add_labels, comment"):
        find_action("reboot")


def test_an_action_without_runner_cannot_be_executed() -> None:
    draft = dataclasses.replace(find_action("comment"), id="draft", runner=None)
    with pytest.raises(ActionNotExecutableError, match="'draft' has no runner"):
        draft.executable_runner()


async def test_a_runner_is_returned_when_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_ACTIONS", dict(load_actions()))  # keep the real one clean

    async def run(context: object, parameters: object) -> ActionResult:
        return ActionResult(summary="done", outputs={"n": 1})

    spec = ActionSpec(
        id="test_only_action",
        parameters=OpenFixPullRequestParameters,
        description="",
        write=False,
        minimum_level=AutomationLevel.SUGGEST,
        runner=run,
    )
    assert register_action(spec) is spec
    result = await find_action("test_only_action").executable_runner()(None, None)
    assert result.outputs == {"n": 1}
    with pytest.raises(ValueError, match="already registered"):
        register_action(
            ActionSpec(
                "test_only_action", OpenFixPullRequestParameters, "", True, AutomationLevel.PR
            )
        )


@pytest.mark.parametrize(
    ("action_id", "parameters", "error"),
    [
        ("rerun_failed_jobs", {"run_id": 0}, "greater than 0"),
        ("rerun_failed_jobs", {"run_id": 1, "max_attempts": 9}, "less than or equal to 5"),
        ("create_check_run", {"head_sha": "abc", "title": "t", "summary": ""}, "head_sha"),
        (
            "create_check_run",
            {
                "head_sha": "a" * 40,
                "title": "t",
                "summary": "",
                "annotations": [{"path": "a.py", "start_line": 5, "end_line": 2, "message": "m"}],
            },
            "before start_line",
        ),
        ("rollback_model", {"model_name": "m", "mode": "pull_request"}, "needs version_file"),
        (
            "dispatch_workflow",
            {"workflow": "r.yml", "inputs": {str(i): "x" for i in range(11)}},
            "at most 10",
        ),
        (
            "open_fix_pull_request",
            {
                "branch": "a..b",
                "title": "t",
                "body": "",
                "edits": [{"kind": "text_replace", "path": "a", "old": "x", "new": "y"}],
            },
            "not a valid git",
        ),
        (
            "open_fix_pull_request",
            {
                "branch": "b",
                "title": "t",
                "body": "",
                "edits": [{"kind": "text_replace", "path": "../a", "old": "x", "new": "y"}],
            },
            "inside the repo",
        ),
        (
            "open_fix_pull_request",
            {"branch": "b", "title": "t", "body": "", "edits": []},
            "at least 1 item",
        ),
        ("add_labels", {"labels": []}, "at least 1 item"),
    ],
)
def test_parameter_models_reject_bad_input(
    action_id: str, parameters: dict[str, object], error: str
) -> None:
    with pytest.raises(ValidationError, match=error):
        find_action(action_id).parameters.model_validate(parameters)


def test_fix_pull_request_edits_apply_in_order() -> None:
    parameters = OpenFixPullRequestParameters.model_validate(
        {
            "branch": "self-healing-bot/x",
            "title": "t",
            "body": "",
            "edits": [
                {"kind": "yaml_scale", "path": "p.yaml", "key": "batch_size", "factor": 0.5},
                {"kind": "yaml_set", "path": "p.yaml", "key": "accumulate", "value": 2},
                {
                    "kind": "requirements_pin",
                    "path": "requirements.txt",
                    "package": "numpy",
                    "specifier": "<2",
                },
            ],
        }
    )
    files = {"p.yaml": "batch_size: 64  # T4\n", "requirements.txt": "numpy\n", "x": "same"}
    assert apply_edits(files, parameters.edits) == {
        "p.yaml": "batch_size: 32  # T4\naccumulate: 2\n",
        "requirements.txt": "numpy<2\n",
    }
    with pytest.raises(EditError, match=r"missing\.yaml: file not found"):
        apply_edits({}, [parameters.edits[0].model_copy(update={"path": "missing.yaml"})])
    with pytest.raises(EditError, match=r"requirements\.txt: pandas is not in"):
        apply_edits(files, [parameters.edits[2].model_copy(update={"package": "pandas"})])
