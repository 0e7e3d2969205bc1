"""What the bot must not do: repeat itself, act without opt-in, leak secrets, exceed budgets."""

from __future__ import annotations

import json

from tests.e2e.conftest import BOT, Seeded, Stack, seed
from tests.e2e.logs import CODE_ERROR, LEAKY_CODE_ERROR, NUMPY_RELEASE, SECRETS

PR_LEVEL = b"automation:\n  default: pr\n"
OOM_LOG = "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB\n"
OOM_RULE = {
    "when": {"file": "params.yaml", "key": "batch_size", "greater_than": 32},
    "log": OOM_LOG,
}


def _states(stack: Stack) -> list[str]:
    return [repair["state"] for repair in stack.repairs()]


def _open_pull_request(repo: Seeded, branch: str, changes: dict[str, bytes | str]) -> int:
    """Push `changes` to a new branch and open a pull request from it (a contributor's)."""
    sandbox, repository = repo.sandbox, repo.repository
    main = repository.branch_sha("main")
    assert main is not None
    repository.refs[f"refs/heads/{branch}"] = main
    repo.sandbox.commit_files(repo.name, branch, changes, "Contributor change")
    pull = sandbox.create_pull_request(
        repository, "Contributor change", "Please review", branch, "main", sandbox.user("carol")
    )
    return pull.number


async def test_the_same_failure_twice_is_one_issue_with_a_comment(stack: Stack) -> None:
    repo = seed(
        stack,
        "octo/twice",
        {".github/self-healing-bot.yml": PR_LEVEL, "train.py": b"print(1)\n"},
        {"test": [{"when": {"file": "train.py", "contains": "+"}, "log": CODE_ERROR}]},
    )
    repo.push({"train.py": b"print(1 + '1')\n"}, "Add one")
    await stack.wait_for(lambda: "escalated" in _states(stack), "the first issue")
    repo.push({"train.py": b"print(2 + '1')\n"}, "Add two")
    await stack.wait_for(lambda: _states(stack) == ["escalated"] * 2, "the recurrence")
    await stack.settle()

    (issue,) = repo.issues()
    assert issue.title.startswith("Bug in train.py")
    assert "Seen 2 times." in (issue.body or "")
    (comment,) = repo.comments(issue.number)
    assert comment.body.startswith("This failure happened again (occurrence 2).")
    assert [repair["issue"] for repair in stack.repairs()] == [issue.number, issue.number]
    assert repo.pulls() == [] and repo.bot_branches() == []


async def test_a_repository_without_config_gets_only_a_check_run_and_a_comment(
    stack: Stack,
) -> None:
    repo = seed(
        stack,
        "octo/plain",
        {"train.py": b"print(1)\n"},
        {"test": [{"when": {"file": "train.py", "contains": "+"}, "log": CODE_ERROR}]},
        triggers=("pull_request",),
    )
    number = _open_pull_request(repo, "feature", {"train.py": b"print(1 + '1')\n"})
    await stack.wait_for(lambda: "suggested" in _states(stack), "the suggestion")
    await stack.settle()

    (check,) = repo.bot_check_runs()
    assert check.conclusion == "neutral" and check.head_sha == repo.pulls()[0].head_sha
    assert "The project's own code raised an error" in check.output["title"]
    bot_comments = [c for c in repo.comments() if c.user.login == BOT]
    assert [c.issue_number for c in bot_comments] == [number]
    assert "has no `.github/self-healing-bot.yml`" in bot_comments[0].body
    assert repo.issues() == [] and len(repo.pulls()) == 1 and repo.bot_branches() == []
    assert _states(stack) == ["suggested"]


async def test_a_planted_secret_appears_nowhere_the_bot_wrote(stack: Stack) -> None:
    opted_in = seed(
        stack,
        "octo/leaky",
        {".github/self-healing-bot.yml": PR_LEVEL, "train.py": b"print(1)\n"},
        {"test": [{"when": {"file": "train.py", "contains": "connect"}, "log": LEAKY_CODE_ERROR}]},
    )
    plain = seed(
        stack,
        "octo/leaky-plain",
        {"train.py": b"print(1)\n"},
        {"test": [{"when": {"file": "train.py", "contains": "connect"}, "log": LEAKY_CODE_ERROR}]},
        triggers=("pull_request",),
    )
    opted_in.push({"train.py": b"connect()\n"}, "Connect")
    _open_pull_request(plain, "feature", {"train.py": b"connect()\n"})
    await stack.wait_for(
        lambda: sorted(_states(stack)) == ["escalated", "suggested"], "the issue and the check"
    )
    await stack.settle()

    (issue,) = opted_in.issues()
    (check,) = plain.bot_check_runs()
    (comment,) = [c for c in plain.comments() if c.user.login == BOT]
    written = [
        issue.title,
        issue.body or "",
        json.dumps(check.output),
        comment.body,
        *(json.dumps(request["body"]) for request in stack.requests() if request["body"]),
    ]
    assert "login failed for token" in issue.body and "login failed" in comment.body  # type: ignore[operator]
    for secret in SECRETS:
        assert not [text for text in written if secret in text], secret


async def test_cooldown_blocks_a_second_fix_for_the_same_signature(stack: Stack) -> None:
    repo = seed(
        stack,
        "octo/cool",
        {
            ".github/self-healing-bot.yml": PR_LEVEL,
            "params.yaml": b"batch_size: 64\ngradient_accumulation_steps: 1\n",
        },
        {"train": [OOM_RULE]},
    )
    repo.push({"train.py": b"print(1)\n"}, "Train")
    await stack.wait_for(lambda: "verified" in _states(stack), "the first fix")
    repo.push({"train.py": b"print(2)\n"}, "Train again")  # still OOM: the fix is not merged
    await stack.wait_for(lambda: len(stack.repairs()) == 2, "the second repair")
    await stack.wait_for(lambda: _states(stack) == ["verified", "ignored"], "the cooldown")
    await stack.settle()

    assert len(repo.pulls()) == 1 and len(repo.bot_branches()) == 1
    assert "cooling down (60 min)" in stack.repairs()[1]["reason"]


async def test_the_open_pull_request_cap_blocks_a_second_fix(stack: Stack) -> None:
    repo = seed(
        stack,
        "octo/capped",
        {
            ".github/self-healing-bot.yml": PR_LEVEL + b"budgets:\n  open_pull_requests: 1\n",
            "params.yaml": b"batch_size: 64\ngradient_accumulation_steps: 1\n",
            "requirements.txt": b"numpy==1.23.5\n",
        },
        {
            "train": [OOM_RULE],
            "test": [
                {
                    "when": {"file": "requirements.txt", "not_contains": "<1.24"},
                    "log": NUMPY_RELEASE,
                }
            ],
        },
    )
    repo.push({"requirements.txt": b"numpy>=1.23\n"}, "Let numpy float")
    await stack.wait_for(lambda: len(stack.repairs()) == 2, "two repairs")
    await stack.wait_for(lambda: "ignored" in _states(stack), "the capped one")
    await stack.settle()

    assert len(repo.pulls()) == 1
    (capped,) = [repair for repair in stack.repairs() if repair["state"] == "ignored"]
    assert "bot pull requests are open (budget 1)" in capped["reason"]
    assert capped["pull_request"] is None
