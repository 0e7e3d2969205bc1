"""Before acting, the executor re-checks that the trigger still holds: the failed run was not
re-run meanwhile and the branch head is still the failing commit."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest

from self_healing_bot.core.remediation import PlaybookRemediation
from self_healing_bot.detectors.registry import Detection
from self_healing_bot.github.operations import InstallationClient
from self_healing_bot.storage.repairs import Repair

FAILING_SHA = "a" * 40
NEWER_SHA = "b" * 40


class _GitHub:
    """The two reads the re-check makes, answering as GitHub would now."""

    def __init__(self, run_attempt: int, head_sha: str) -> None:
        self.run_attempt, self.head_sha = run_attempt, head_sha

    async def get_workflow_run(self, repo: str, run_id: int) -> Any:
        return SimpleNamespace(id=run_id, run_attempt=self.run_attempt)

    async def get_branch_sha(self, repo: str, branch: str) -> str:
        return self.head_sha


@pytest.mark.parametrize(
    ("run_attempt", "head_sha", "expected"),
    [
        (1, FAILING_SHA, None),
        (2, FAILING_SHA, "run 7 was already re-run (attempt 2)"),
        (1, NEWER_SHA, "main moved on to bbbbbbb: superseded"),
    ],
)
async def test_a_trigger_that_no_longer_holds_is_named(
    run_attempt: int, head_sha: str, expected: str | None
) -> None:
    repair = Repair(repository="octo/ml", inputs={"run_id": 7, "run_attempt": 1})
    detection = Detection(
        detector_id="pipeline_failure",
        category="gpu_oom",
        signature="gpu_oom:1",
        branch="main",
        head_sha=FAILING_SHA,
    )
    github = cast(InstallationClient, _GitHub(run_attempt, head_sha))
    executor = PlaybookRemediation()
    try:
        assert await executor._trigger_gone(github, repair, detection) == expected
    finally:
        await executor.aclose()
