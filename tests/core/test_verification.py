"""Which CI result a repair awaits, and which run decides a fix commit with several runs."""

from __future__ import annotations

import pytest

from self_healing_bot.core.events import CheckSuiteEvent, WorkflowRunEvent
from self_healing_bot.core.verification import CiResult, commit_verdict, on_fix_commit, waits_for
from self_healing_bot.storage.repairs import Repair

FIX_SHA = "f" * 40
OLD_SHA = "a" * 40
TRAIN, LINT = 11, 12


def _run(run_id: int, attempt: int, head_sha: str, conclusion: str = "success") -> CiResult:
    result = CiResult.from_event(
        WorkflowRunEvent.model_validate(
            {
                "action": "completed",
                "workflow_run": {
                    "id": run_id,
                    "run_attempt": attempt,
                    "head_sha": head_sha,
                    "status": "completed",
                    "conclusion": conclusion,
                },
            }
        )
    )
    assert result is not None
    return result


def _suite_event(head_sha: str, app: str) -> CheckSuiteEvent:
    return CheckSuiteEvent.model_validate(
        {
            "action": "completed",
            "check_suite": {
                "id": 9,
                "head_sha": head_sha,
                "conclusion": "success",
                "app": {"slug": app},
            },
        }
    )


def _suite(head_sha: str) -> CiResult:
    result = CiResult.from_event(_suite_event(head_sha, "another-ci"))
    assert result is not None
    return result


FIX_PR = Repair(pull_request=7, verify_sha=FIX_SHA, rerun_run_id=None, rerun_attempt=None)
RERUN = Repair(pull_request=None, verify_sha=None, rerun_run_id=100, rerun_attempt=1)
DISPATCHED = Repair(pull_request=None, verify_sha=None, rerun_run_id=None, dispatched_run_id=300)


@pytest.mark.parametrize(
    ("repair", "result", "expected"),
    [
        (FIX_PR, _run(200, 1, FIX_SHA), True),
        (FIX_PR, _suite(FIX_SHA), True),
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
def test_waits_for(repair: Repair, result: CiResult, expected: bool) -> None:
    assert waits_for(repair, result) is expected


def test_an_actions_check_suite_is_not_a_result_of_its_own() -> None:
    # GitHub sends both a workflow_run and a check_suite event for an Actions run; judging
    # both would verify the repair twice at once (two evidence comments). The run answers.
    assert CiResult.from_event(_suite_event(FIX_SHA, "github-actions")) is None


def test_a_run_still_in_progress_has_no_conclusion_yet() -> None:
    event = WorkflowRunEvent.model_validate(
        {
            "action": "in_progress",
            "workflow_run": {"id": 5, "head_sha": FIX_SHA, "status": "in_progress"},
        }
    )
    result = CiResult.from_event(event)
    assert result is not None
    assert (result.conclusion, result.passed, result.failed) == (None, False, False)


def test_only_runs_on_the_fix_commit_are_judged_with_their_siblings() -> None:
    assert on_fix_commit(FIX_PR, _run(200, 1, FIX_SHA))
    assert not on_fix_commit(FIX_PR, _suite(FIX_SHA))
    assert not on_fix_commit(DISPATCHED, _run(300, 1, OLD_SHA))


def _on_fix(run_id: int, workflow: int, conclusion: str | None) -> CiResult:
    return CiResult("workflow_run", run_id, 1, FIX_SHA, conclusion, None, workflow)


@pytest.mark.parametrize(
    ("runs", "failed_workflow", "deciding"),
    [
        # the first success does not prove a commit while another of its runs still runs
        ([_on_fix(1, TRAIN, "success"), _on_fix(2, TRAIN, None)], TRAIN, None),
        ([_on_fix(1, TRAIN, "success"), _on_fix(2, TRAIN, "success")], TRAIN, 1),
        # any failure of the judged runs disproves it at once
        ([_on_fix(1, TRAIN, None), _on_fix(2, TRAIN, "failure")], TRAIN, 2),
        # the workflow that failed judges: a broken lint workflow does not undo a good fix
        ([_on_fix(1, TRAIN, "success"), _on_fix(2, LINT, "failure")], TRAIN, 1),
        # ...nor does a lint run still going hold it up
        ([_on_fix(1, TRAIN, "success"), _on_fix(2, LINT, None)], TRAIN, 1),
        # when that workflow did not run on the commit, every run judges
        ([_on_fix(1, LINT, "success"), _on_fix(2, 13, "timed_out")], TRAIN, 2),
        ([_on_fix(1, LINT, "success")], None, 1),
        # cancelled or skipped runs prove nothing
        ([_on_fix(1, TRAIN, "cancelled")], TRAIN, None),
        ([_on_fix(1, TRAIN, "cancelled"), _on_fix(2, TRAIN, "success")], TRAIN, 2),
        ([], TRAIN, None),
    ],
    ids=[
        "one-still-running",
        "all-passed",
        "one-failed",
        "other-workflow-failed",
        "other-workflow-running",
        "failed-workflow-absent",
        "no-failed-workflow-known",
        "only-cancelled",
        "cancelled-and-passed",
        "no-runs-yet",
    ],
)
def test_commit_verdict(
    runs: list[CiResult], failed_workflow: int | None, deciding: int | None
) -> None:
    verdict = commit_verdict(runs, failed_workflow)
    assert (verdict.id if verdict is not None else None) == deciding


def test_evidence_names_the_run_its_commit_and_its_end() -> None:
    result = CiResult("workflow_run", 42, 2, FIX_SHA, "success", "https://github.com/o/r/run/42")
    assert result.evidence() == (
        "workflow run 42 attempt 2 on fffffff concluded success (https://github.com/o/r/run/42)"
    )
    assert _suite(FIX_SHA).evidence() == "check suite 9 on fffffff concluded success"
