"""A fork's failing pull request: the bot reports it and writes nothing to the repository."""

from __future__ import annotations

from tests.e2e.conftest import Stack, seed
from tests.e2e.logs import CODE_ERROR

AUTO_LEVEL = b"automation:\n  default: auto\n"


async def test_a_fork_pull_request_failure_gets_a_check_run_and_no_write_action(
    stack: Stack,
) -> None:
    repo = seed(
        stack,
        "octo/forked",
        {".github/self-healing-bot.yml": AUTO_LEVEL, "train.py": b"print(1)\n"},
        {"test": [{"when": {"file": "train.py", "contains": "+"}, "log": CODE_ERROR}]},
        triggers=("pull_request",),
    )
    # The fork has a `main` of its own, which is not the base repository's `main`.
    pull = stack.sandbox.open_fork_pull_request(
        repo.name, "mallory", "main", {"train.py": b"print(1 + '1')\n"}
    )
    await stack.wait_for(lambda: bool(stack.repairs()), "the fork's failure to be handled")
    await stack.settle()

    (repair,) = stack.repairs()
    assert (repair["state"], repair["level"]) == ("suggested", "suggest")
    (check,) = repo.bot_check_runs()
    assert check.head_sha == pull.head_sha and check.conclusion == "neutral"
    assert repo.bot_branches() == [] and repo.issues() == []
    assert [p.number for p in repo.pulls()] == [pull.number]  # the fork's own, nothing more
    assert [c for c in repo.comments() if c.user.login != "mallory"] == []
    writes = [r for r in stack.requests() if r["method"] in {"POST", "PATCH", "PUT", "DELETE"}]
    assert [(r["method"], r["path"]) for r in writes] == [("POST", "/repos/octo/forked/check-runs")]
