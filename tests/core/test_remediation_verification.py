"""Verification from GitHub's state: CI that ended before the repair began to wait (a worker
that resumed late, a fast run), a fix commit with runs of several workflows, and the
scheduler's reconcile of repairs whose CI webhooks never came."""

from __future__ import annotations

from datetime import timedelta

import httpx

from self_healing_bot.core.reconcile import RECONCILE_AFTER
from self_healing_bot.github.connection import GitHub
from self_healing_bot.github.transport import RetryPolicy
from self_healing_bot.sandbox.ci_rules import JobSpec
from self_healing_bot.storage.deliveries import as_utc
from self_healing_bot.storage.models import utc_now
from self_healing_bot.storage.repairs import Repair
from tests.core.remediation_fixtures import remediation, repairs, scheduler_for, settle
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
from tests.github.conftest import FakeClock
from tests.github.world import APP_ID, BASE, PRIVATE_PEM
from tests.test_scheduler import jobs_counted

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


async def _waiting_on_running_ci(bot: Bot) -> Repair:
    """A repair whose fix pull request is open while its CI still runs."""
    add_ci(bot.sandbox, [{"when": {**BIG_BATCH, "file": "params.yaml"}, "log": CUDA_OOM_LOG}])
    bot.sandbox.run_delay = 0.5
    bot.push(PARAMS)
    await _process_until_the_fix_is_opened(bot)
    (repair,) = await repairs(bot)
    assert repair.state == "awaiting_verification"
    return repair


async def test_the_scheduler_verifies_a_repair_whose_ci_webhooks_were_lost(bot: Bot) -> None:
    repair = await _waiting_on_running_ci(bot)
    await bot.sandbox.drain()  # CI on the fix ends; its webhooks are never processed

    clock = FakeClock()
    scheduler = scheduler_for(bot, clock)
    await scheduler.tick()  # a repair younger than RECONCILE_AFTER is left to its webhooks
    assert [r.state for r in await repairs(bot)] == ["awaiting_verification"]
    reconciled = jobs_counted("reconcile", "succeeded")
    clock.now += RECONCILE_AFTER.total_seconds() + 1
    await scheduler.tick()
    assert jobs_counted("reconcile", "succeeded") == reconciled + 1

    (after,) = await repairs(bot)
    assert (after.id, after.state) == (repair.id, "verified")
    assert after.reason is not None and "concluded success" in after.reason


async def test_a_repair_whose_ci_never_ends_is_escalated_after_the_timeout(bot: Bot) -> None:
    repair = await _waiting_on_running_ci(bot)
    scheduler = scheduler_for(bot)

    within = as_utc(repair.fix_pr_at or repair.detected_at) + timedelta(hours=23)
    await scheduler.reconcile_repairs(bot.github, within)
    (still,) = await repairs(bot)
    assert still.state == "awaiting_verification"

    past = within + timedelta(hours=2)  # the default budgets.verification_timeout_hours is 24
    assert await scheduler.reconcile_repairs(bot.github, past) == "succeeded"
    (escalated,) = await repairs(bot)
    assert (escalated.state, escalated.reason) == ("escalated", "no CI result within 24 h")
    assert repair.pull_request is not None
    (comment,) = _comments(bot, repair.pull_request)
    assert "This repair is not verified: no CI result within 24 h" in comment
    # the fix pull request stays open for people to judge
    assert bot.sandbox.repository(REPO).issues[repair.pull_request].state == "open"

    # CI that ends after all neither verifies the escalated repair nor starts another one
    await settle(bot)
    assert [(r.id, r.state) for r in await repairs(bot)] == [(repair.id, "escalated")]


async def test_a_github_outage_leaves_the_repair_waiting_for_the_next_reconcile(
    bot: Bot,
) -> None:
    repair = await _waiting_on_running_ci(bot)
    await bot.sandbox.drain()
    bot.sandbox.faults.server_errors(100, status=502)
    later = utc_now() + RECONCILE_AFTER + timedelta(seconds=1)
    # a client that gives up after two quick tries, as the default one would after minutes
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=bot.sandbox.asgi_app))
    impatient = GitHub(
        BASE,
        app_id=APP_ID,
        private_key_pem=PRIVATE_PEM,
        http=http,
        policy=RetryPolicy(attempts=2, wait_initial=0.01, wait_max=0.01),
    )
    try:
        assert await scheduler_for(bot).reconcile_repairs(impatient, later) == "failed"
    finally:
        await impatient.aclose()
    (still,) = await repairs(bot)
    assert (still.id, still.state) == (repair.id, "awaiting_verification")

    bot.sandbox.faults.clear()
    assert await scheduler_for(bot).reconcile_repairs(bot.github, later) == "succeeded"
    assert [r.state for r in await repairs(bot)] == ["verified"]
