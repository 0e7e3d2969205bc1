"""Verification from GitHub's state: CI that ended before the repair began to wait (a worker
that resumed late, a fast run), and a fix commit with runs of several workflows."""

from __future__ import annotations

from self_healing_bot.sandbox.ci_rules import JobSpec
from tests.core.remediation_fixtures import remediation, repairs, settle
from tests.detectors.pipeline_fixtures import (
    BIG_BATCH,
    CONFIG,
    CUDA_OOM_LOG,
    REPO,
    Bot,
    add_ci,
    bot,
    detectors_loaded,
    org_config,
    sqlite_url,
)

__all__ = ["bot", "detectors_loaded", "org_config", "remediation", "sqlite_url"]

PARAMS = {
    CONFIG: "automation:\n  default: pr\n",
    "params.yaml": "batch_size: 64\ngradient_accumulation_steps: 1\n",
}


def _comments(bot: Bot, number: int) -> list[str]:
    repository = bot.sandbox.repository(REPO)
    return [c.body for c in repository.comments.values() if c.issue_number == number]


async def _process_until_the_fix_is_opened(bot: Bot) -> list[tuple[str, str, str]]:
    """Process the pushes and the failed run, and nothing the fix pull request causes."""
    processed = []
    while not bot.sandbox.repository(REPO).pulls:
        batch = await bot.process_webhooks()
        assert batch, "no fix pull request was opened"
        processed += batch
    return processed


async def test_ci_that_ended_before_the_repair_waited_verifies_it_without_its_webhook(
    bot: Bot,
) -> None:
    add_ci(bot.sandbox, [{"when": {**BIG_BATCH, "file": "params.yaml"}, "log": CUDA_OOM_LOG}])
    bot.push(PARAMS)
    await _process_until_the_fix_is_opened(bot)

    # The fix commit's runs ended while the repair was still acting, and not one of their
    # webhooks has been processed: the repair read the result from GitHub.
    (repair,) = await repairs(bot)
    fix_runs = [
        run
        for run in bot.sandbox.repository(REPO).runs.values()
        if run.head_sha == repair.verify_sha
    ]
    assert len(fix_runs) == 2  # the push and the pull request's
    assert all(run.conclusion == "success" for run in fix_runs)
    assert (repair.state, repair.category) == ("verified", "gpu_oom")
    assert repair.reason is not None and "concluded success" in repair.reason
    (pull,) = bot.sandbox.repository(REPO).pulls.values()
    comments = _comments(bot, pull.number)
    assert len(comments) == 1 and "The fix is verified: workflow run" in comments[0]

    # Their webhooks, coming late, neither verify it again nor start a second repair.
    await settle(bot)
    assert [(r.id, r.state) for r in await repairs(bot)] == [(repair.id, "verified")]
    assert _comments(bot, pull.number) == comments


async def test_ci_that_already_failed_on_the_fix_undoes_it_without_its_webhook(bot: Bot) -> None:
    # Halving 64 to 32 is not enough: the fix commit runs out of memory too.
    add_ci(
        bot.sandbox,
        [{"when": {**BIG_BATCH, "file": "params.yaml", "greater_than": 16}, "log": CUDA_OOM_LOG}],
    )
    bot.push(PARAMS)
    await _process_until_the_fix_is_opened(bot)

    (repair,) = await repairs(bot)
    assert repair.state == "rolled_back"
    assert repair.reason is not None and repair.reason.startswith("CI concluded failure")
    (pull,) = bot.sandbox.repository(REPO).pulls.values()
    assert bot.sandbox.repository(REPO).issues[pull.number].state == "closed"

    await settle(bot)
    assert [(r.id, r.state) for r in await repairs(bot)] == [(repair.id, "rolled_back")]


async def test_a_failure_of_another_workflow_on_the_fix_commit_does_not_undo_the_fix(
    bot: Bot,
) -> None:
    add_ci(bot.sandbox, [{"when": {**BIG_BATCH, "file": "params.yaml"}, "log": CUDA_OOM_LOG}])
    # A lint workflow that rejects the fix's file (and so fails only on the fix commit).
    lint = JobSpec.parse(
        {
            "name": "lint",
            "failures": [
                {
                    "when": {"file": "params.yaml", "contains": "gradient_accumulation_steps: 2"},
                    "log": "params.yaml:2: E999 style\n",
                }
            ],
        }
    )
    bot.sandbox.add_workflow(REPO, "lint", [lint], triggers=("push", "pull_request"))
    bot.push(PARAMS)
    await settle(bot)

    lint_runs = [
        run
        for run in bot.sandbox.repository(REPO).runs.values()
        if run.name == "lint" and run.conclusion == "failure"
    ]
    assert lint_runs, "the lint workflow should fail on the fix commit"
    (repair,) = await repairs(bot)
    # judged by the workflow that failed (train), which passes on the fix commit
    assert (repair.category, repair.state) == ("gpu_oom", "verified")
