"""Each built-in remedy, end to end: a failing CI run → the remedy on GitHub → CI → verified."""

from __future__ import annotations

from tests.e2e.conftest import Stack, seed
from tests.e2e.logs import FLAKY_TEST, NETWORK_TIMEOUT, NUMPY_RELEASE

CONFIG = b"automation:\n  default: pr\n"
AUTO = b"automation:\n  default: auto\n"


def _states(stack: Stack) -> list[str]:
    return [repair["state"] for repair in stack.repairs()]


async def test_a_breaking_release_gets_a_pull_request_pinning_below_it(stack: Stack) -> None:
    repo = seed(
        stack,
        "octo/deps",
        {".github/self-healing-bot.yml": CONFIG, "requirements.txt": b"numpy==1.23.5\n"},
        {
            "test": [
                {
                    "when": {"file": "requirements.txt", "not_contains": "<1.24"},
                    "log": NUMPY_RELEASE,
                }
            ]
        },
    )
    repo.push({"requirements.txt": b"numpy>=1.23\npandas==1.5.2\n"}, "Let numpy float")

    await stack.wait_for(lambda: "verified" in _states(stack), "the pin to be verified")
    (pull,) = repo.pulls()
    requirements = repo.file_at(pull.head_sha, "requirements.txt")
    assert requirements.splitlines() == ["numpy<1.24.0", "pandas==1.5.2"]
    assert repo.repository.issues[pull.number].title == "Pin numpy below 1.24.0"
    assert any("The fix is verified" in c.body for c in repo.comments(pull.number))
    (repair,) = stack.repairs()
    assert repair["category"] == "dependency_api_change"
    assert repair["pull_request"] == pull.number and repair["verified_at"] is not None
    assert repo.issues() == []


async def test_a_transient_network_failure_is_re_run_once_and_verified(stack: Stack) -> None:
    repo = seed(
        stack,
        "octo/net",
        {".github/self-healing-bot.yml": AUTO, "train.py": b"print(1)\n"},
        {"test": [{"when": {"attempt_below": 2}, "log": NETWORK_TIMEOUT}]},
    )
    repo.push({"train.py": b"print(2)\n"}, "Log every epoch")

    await stack.wait_for(lambda: "verified" in _states(stack), "the re-run to be verified")
    await stack.settle()
    (run,) = [run for run in repo.repository.runs.values() if run.head_branch == "main"]
    assert [(job.run_attempt, job.conclusion) for job in run.jobs] == [
        (1, "failure"),
        (2, "success"),
    ]
    rerun_requests = [r for r in stack.requests() if r["path"].endswith("/rerun-failed-jobs")]
    assert len(rerun_requests) == 1
    (repair,) = stack.repairs()
    assert repair["state"] == "verified" and repair["category"] == "network_transient"
    assert repair["rerun_run_id"] == run.id
    assert repo.pulls() == [] and repo.issues() == [] and repo.bot_branches() == []


async def test_a_flaky_test_passes_on_re_run_is_marked_flaky_with_one_issue(
    stack: Stack,
) -> None:
    repo = seed(
        stack,
        "octo/flaky",
        {".github/self-healing-bot.yml": AUTO, "train.py": b"print(1)\n"},
        {"test": [{"when": {"attempt_below": 2}, "log": FLAKY_TEST}]},
    )
    repo.push({"train.py": b"print(2)\n"}, "Train for 60 epochs")

    await stack.wait_for(lambda: "verified" in _states(stack), "the re-run to be verified")
    await stack.settle()
    (issue,) = repo.issues()
    assert issue.title.startswith("Flaky test: Tests failed")
    assert "flaky" in issue.labels
    assert "test_a_short_run_learns_the_cultivars" in (issue.body or "")
    (signature,) = stack.rows("failure_signatures")
    assert signature["category"] == "test_failure" and signature["flaky"] == 1
    (repair,) = stack.repairs()
    assert repair["state"] == "verified" and repair["issue"] == issue.number
    assert repo.pulls() == []
