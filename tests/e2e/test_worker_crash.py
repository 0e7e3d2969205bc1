"""Distributed mode: a worker SIGKILLed in the middle of a playbook, and another one resuming."""

from __future__ import annotations

import signal

import pytest

from tests.e2e.conftest import BOT, Stack, seed

CONFIG = b"automation:\n  default: pr\n"
OOM_LOG = "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB\n"


@pytest.mark.redis
async def test_a_worker_killed_mid_playbook_leaves_no_duplicate(distributed_stack: Stack) -> None:
    stack = distributed_stack
    repo = seed(
        stack,
        "octo/crash",
        {
            ".github/self-healing-bot.yml": CONFIG,
            "params.yaml": b"batch_size: 64\ngradient_accumulation_steps: 1\n",
        },
        {
            "train": [
                {
                    "when": {"file": "params.yaml", "key": "batch_size", "greater_than": 32},
                    "log": OOM_LOG,
                }
            ]
        },
    )
    # The pull request is created after the worker is gone: the worst moment to die, since
    # the side effect happens but the worker never records it.
    stack.sandbox.faults.slow(1, 3.0, path=r"^/repos/octo/crash/pulls$")
    first = await stack.start_worker("first-worker")
    repo.push({"train.py": b"print(1)\n"}, "Train")

    def asked_for_the_pull_request() -> bool:
        return any(
            request["method"] == "POST" and request["path"] == "/repos/octo/crash/pulls"
            for request in stack.requests()
        )

    await stack.wait_for(asked_for_the_pull_request, "the worker to open the pull request")
    first.send_signal(signal.SIGKILL)
    await first.wait()
    await stack.start_worker("second-worker")

    await stack.wait_for(
        lambda: [repair["state"] for repair in stack.repairs()] == ["verified"],
        "the second worker to resume and verify the fix",
        seconds=90,
    )
    await stack.settle()
    (pull,) = repo.pulls()
    assert len(repo.bot_branches()) == 1 and repo.issues() == []
    assert "batch_size: 32" in repo.file_at(pull.head_sha, "params.yaml")
    bot_comments = [c.body for c in repo.comments() if c.user.login == BOT]
    assert len(bot_comments) == 1 and "The fix is verified" in bot_comments[0]
    assert first.returncode == -signal.SIGKILL
