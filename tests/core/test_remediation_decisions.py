"""The executor's pure decisions: whose branch, whose code, and which CI result a repair awaits."""

from __future__ import annotations

from typing import Any

import pytest

from self_healing_bot.core.events import CheckSuiteEvent, WorkflowRunEvent
from self_healing_bot.core.remediation import from_fork, is_bot_branch, waits_for
from self_healing_bot.storage.repairs import Repair

FIX_SHA = "f" * 40
OLD_SHA = "a" * 40


@pytest.mark.parametrize(
    ("branch", "expected"),
    [
        ("self-healing-bot/gpu_oom/3f2a9c01", True),
        ("self-healing-bot", False),
        ("main", False),
        ("feature/self-healing-bot/x", False),
        (None, False),
    ],
)
def test_is_bot_branch(branch: str | None, expected: bool) -> None:
    assert is_bot_branch(branch) is expected


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (
            {
                "repository": {"full_name": "octo/ml"},
                "workflow_run": {"head_repository": {"full_name": "carol/ml"}},
            },
            True,
        ),
        (
            {
                "repository": {"full_name": "octo/ml"},
                "workflow_run": {"head_repository": {"full_name": "octo/ml"}},
            },
            False,
        ),
        ({"repository": {"full_name": "octo/ml"}, "workflow_run": {}}, False),
        ({"repository": {"full_name": "octo/ml"}}, False),
        ({"workflow_run": {"head_repository": {"full_name": "carol/ml"}}}, False),
    ],
    ids=["fork", "same-repository", "no-head-repository", "not-a-run", "no-repository"],
)
def test_from_fork(payload: dict[str, Any], expected: bool) -> None:
    assert from_fork(payload) is expected


def _run(run_id: int, attempt: int, head_sha: str, conclusion: str = "success") -> WorkflowRunEvent:
    return WorkflowRunEvent.model_validate(
        {
            "action": "completed",
            "workflow_run": {
                "id": run_id,
                "run_attempt": attempt,
                "head_sha": head_sha,
                "conclusion": conclusion,
            },
        }
    )


def _suite(head_sha: str, app: str = "another-ci") -> CheckSuiteEvent:
    return CheckSuiteEvent.model_validate(
        {
            "action": "completed",
            "check_suite": {"id": 9, "head_sha": head_sha, "app": {"slug": app}},
        }
    )


FIX_PR = Repair(pull_request=7, verify_sha=FIX_SHA, rerun_run_id=None, rerun_attempt=None)
RERUN = Repair(pull_request=None, verify_sha=None, rerun_run_id=100, rerun_attempt=1)
DISPATCHED = Repair(pull_request=None, verify_sha=None, rerun_run_id=None, dispatched_run_id=300)


@pytest.mark.parametrize(
    ("repair", "event", "expected"),
    [
        (FIX_PR, _run(200, 1, FIX_SHA), True),
        (FIX_PR, _suite(FIX_SHA), True),
        # an Actions run's suite: its workflow_run event answers, not both at once
        (FIX_PR, _suite(FIX_SHA, "github-actions"), False),
        # creating the fix branch is a push of the old commit: its run proves nothing
        (FIX_PR, _run(201, 1, OLD_SHA), False),
        (FIX_PR, _suite(OLD_SHA), False),
        (RERUN, _run(100, 2, OLD_SHA), True),
        # the failing attempt itself, or another run of the same commit
        (RERUN, _run(100, 1, OLD_SHA), False),
        (RERUN, _run(101, 2, OLD_SHA), False),
        (RERUN, _suite(OLD_SHA), False),
        (DISPATCHED, _run(300, 1, OLD_SHA), True),
        (DISPATCHED, _run(300, 1, OLD_SHA, "failure"), True),
        # another run of the commit the workflow was dispatched on proves nothing about it
        (DISPATCHED, _run(301, 1, OLD_SHA), False),
        (DISPATCHED, _suite(OLD_SHA), False),
    ],
    ids=[
        "fix-commit-run",
        "fix-commit-suite",
        "actions-suite",
        "branch-creation-run",
        "other-suite",
        "re-run-attempt",
        "failed-attempt",
        "other-run",
        "suite-for-rerun",
        "dispatched-run",
        "dispatched-run-failed",
        "other-run-than-dispatched",
        "suite-for-dispatch",
    ],
)
def test_waits_for(
    repair: Repair, event: WorkflowRunEvent | CheckSuiteEvent, expected: bool
) -> None:
    assert waits_for(repair, event) is expected
