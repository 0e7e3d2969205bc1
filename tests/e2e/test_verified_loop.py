"""The loop a user sees: a failing CI run → a repair on GitHub → its own CI → verified."""

from __future__ import annotations

from self_healing_bot.sandbox.ci_rules import JobSpec
from tests.e2e.conftest import INSTALLATION, Stack

REPO = "octo/ml"
OOM_LOG = (
    "Epoch 1/10\n"
    "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB "
    "(GPU 0; 15.78 GiB total capacity)\n"
)
CONFIG = b"automation:\n  default: pr\n"


def _seed(stack: Stack, files: dict[str, bytes], failures: list[dict[str, object]]) -> None:
    sandbox = stack.sandbox
    sandbox.add_repository(REPO, files, collaborators={"alice": "write"})
    sandbox.add_installation(INSTALLATION, "octo", [REPO])
    sandbox.add_workflow(
        REPO,
        "train",
        [JobSpec.parse({"name": "train", "failures": failures})],
        triggers=("push", "pull_request"),
    )


async def test_cuda_oom_gets_a_pull_request_halving_the_batch_that_ci_verifies(
    stack: Stack,
) -> None:
    _seed(
        stack,
        {
            ".github/self-healing-bot.yml": CONFIG,
            "params.yaml": b"batch_size: 64  # per device\ngradient_accumulation_steps: 1\n",
            "train.py": b"print('train')\n",
        },
        [
            {
                "when": {"file": "params.yaml", "key": "batch_size", "greater_than": 32},
                "log": OOM_LOG,
            }
        ],
    )
    stack.sandbox.commit_files(REPO, "main", {"train.py": b"print('train v2')\n"}, "Train longer")

    await stack.wait_for(
        lambda: any(repair["state"] == "verified" for repair in stack.repairs()),
        "the repair to be verified",
    )
    repository = stack.sandbox.repository(REPO)
    assert len(repository.pulls) == 1
    pull = next(iter(repository.pulls.values()))
    head = repository.git.commits[pull.head_sha]
    params = repository.git.blobs[repository.git.trees[head.tree]["params.yaml"]].decode()
    assert "batch_size: 32" in params and "gradient_accumulation_steps: 2" in params
    comments = [c.body for c in repository.comments.values() if c.issue_number == pull.number]
    assert any("The fix is verified" in body for body in comments)
    (repair,) = stack.repairs()
    assert repair["category"] == "gpu_oom" and repair["pull_request"] == pull.number
    assert repair["fix_pr_at"] is not None and repair["verified_at"] is not None


async def test_a_fix_whose_ci_still_fails_is_closed_and_escalated(stack: Stack) -> None:
    _seed(
        stack,
        {
            ".github/self-healing-bot.yml": CONFIG,
            "params.yaml": b"batch_size: 64\ngradient_accumulation_steps: 1\n",
        },
        [{"when": {"file": "params.yaml", "key": "batch_size", "greater_than": 8}, "log": OOM_LOG}],
    )
    stack.sandbox.commit_files(REPO, "main", {"train.py": b"print('v2')\n"}, "Train longer")

    await stack.wait_for(
        lambda: any(repair["state"] == "rolled_back" for repair in stack.repairs()),
        "the failed fix to be rolled back",
    )
    repository = stack.sandbox.repository(REPO)
    (pull,) = repository.pulls.values()
    assert repository.issues[pull.number].state == "closed"
    assert not any(ref.startswith("refs/heads/self-healing-bot/") for ref in repository.refs)
    escalations = [
        issue
        for issue in repository.issues.values()
        if issue.number != pull.number and "escalated" in issue.labels
    ]
    assert len(escalations) == 1
