"""Which CI result proves or disproves a repair: pure rules over runs and check suites.

A repair in `awaiting_verification` waits for one of three things: the run of the workflow
it dispatched, the next attempt of the run it re-ran, or CI on its fix commit. A fix commit
may have several workflow runs (a push run and a pull-request run, a lint workflow beside
the training one): it is judged by the runs of the workflow that failed when there are any,
otherwise by every run; any failure disproves it, and it is proven once they all passed.

    result = CiResult.from_event(event)          # None: not a result we judge by
    if result and waits_for(repair, result): ...
    deciding = commit_verdict(runs_on_fix_commit, failed_workflow_id)   # None: still running
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from self_healing_bot.core.events import CheckSuiteEvent, WorkflowRunEvent
from self_healing_bot.github.models import WorkflowRun
from self_healing_bot.storage.repairs import Repair

FAILED_CONCLUSIONS = frozenset({"failure", "timed_out", "startup_failure"})


@dataclass(frozen=True)
class CiResult:
    """One workflow run or check suite, as a webhook reported it or the API returned it."""

    kind: Literal["workflow_run", "check_suite"]
    id: int
    attempt: int
    head_sha: str
    conclusion: str | None  # None while it runs
    url: str | None = None
    workflow_id: int | None = None

    @classmethod
    def from_event(cls, event: WorkflowRunEvent | CheckSuiteEvent) -> CiResult | None:
        """The event's result; None for the check suite of an Actions run, whose
        `workflow_run` event carries the same result (judging both would resolve twice)."""
        if isinstance(event, WorkflowRunEvent):
            run = event.workflow_run
            return cls(
                "workflow_run",
                run.id,
                run.run_attempt or 1,
                run.head_sha,
                run.conclusion if run.status in (None, "completed") else None,
                run.html_url,
                run.workflow_id,
            )
        suite = event.check_suite
        if suite.from_github_actions:
            return None
        return cls("check_suite", suite.id, 1, suite.head_sha, suite.conclusion)

    @classmethod
    def from_run(cls, run: WorkflowRun) -> CiResult:
        conclusion = run.conclusion if run.status == "completed" else None
        return cls(
            "workflow_run",
            run.id,
            run.run_attempt,
            run.head_sha,
            conclusion,
            run.html_url or None,
            run.workflow_id,
        )

    @property
    def passed(self) -> bool:
        return self.conclusion == "success"

    @property
    def failed(self) -> bool:
        return self.conclusion in FAILED_CONCLUSIONS

    def evidence(self) -> str:
        """One line for comments and the repair's reason: what ran, on what, and how it ended."""
        if self.kind == "check_suite":
            return f"check suite {self.id} on {self.head_sha[:7]} concluded {self.conclusion}"
        where = f" ({self.url})" if self.url else ""
        return (
            f"workflow run {self.id} attempt {self.attempt} on {self.head_sha[:7]} "
            f"concluded {self.conclusion}{where}"
        )


def waits_for(repair: Repair, result: CiResult) -> bool:
    """Whether `result` is about what `repair` waits for (the run it dispatched, its re-run,
    or its fix commit)."""
    if result.kind == "workflow_run" and result.id == repair.dispatched_run_id:
        return True
    if repair.rerun_run_id is not None:
        return (
            result.kind == "workflow_run"
            and result.id == repair.rerun_run_id
            and result.attempt > (repair.rerun_attempt or 1)
        )
    # The fix commit itself: creating the branch is a push too, and its run tests the old commit.
    return repair.pull_request is not None and result.head_sha == repair.verify_sha


def on_fix_commit(repair: Repair, result: CiResult) -> bool:
    """Whether `result` is a workflow run on the repair's fix commit, which is judged with
    the other runs on that commit (see `commit_verdict`)."""
    return (
        result.kind == "workflow_run"
        and repair.pull_request is not None
        and result.head_sha == repair.verify_sha
    )


def commit_verdict(runs: Sequence[CiResult], failed_workflow_id: int | None) -> CiResult | None:
    """The run that decides a fix commit, or None while it is undecided.

    Judged by the runs of the workflow that failed when the commit has any, else by all of
    them: the first failure disproves the fix; once every run has ended, a success proves it.
    Cancelled or skipped runs prove nothing either way.
    """
    same_workflow = [run for run in runs if run.workflow_id == failed_workflow_id]
    judged = same_workflow if failed_workflow_id is not None and same_workflow else list(runs)
    failure = next((run for run in judged if run.failed), None)
    if failure is not None:
        return failure
    if any(run.conclusion is None for run in judged):
        return None
    return next((run for run in judged if run.passed), None)
