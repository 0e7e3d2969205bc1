"""The executor's guards in process against the sandbox: merge-on-green only at `auto`, a failed
remedy never tried twice, the re-run budget, dry runs, bounded retries and reversed
compensations (each webhook processed as a worker would, CI completing at once)."""

from __future__ import annotations

import asyncio

import pytest

from self_healing_bot.storage.repairs import Repair, RepairStep, steps_of
from tests.core.remediation_fixtures import remediation, repairs, settle
from tests.detectors.pipeline_fixtures import (
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
from tests.e2e.logs import CODE_ERROR, NETWORK_TIMEOUT

__all__ = ["bot", "detectors_loaded", "org_config", "remediation", "sqlite_url"]

PARAMS = "params.yaml"
ALWAYS_OOM = {"file": PARAMS, "key": "batch_size", "greater_than": 8}
OOM_ABOVE_32 = {"file": PARAMS, "key": "batch_size", "greater_than": 32}
# A playbook whose only step cannot succeed (nothing listens on port 9), with two
# compensations: they must run in reverse order, the second-listed first.
UNREACHABLE_PLAYBOOK = """\
name: unreachable
trigger:
  categories: [code_error]
steps:
  - uses: notify
    with: {message: "{{ report }}", targets: [ops]}
    retries: 2
on_failure:
  - uses: create_or_update_issue
    with: {key: "first-{{ detection.signature }}", title: listed first, body: "{{ report }}"}
  - uses: create_or_update_issue
    with: {key: "second-{{ detection.signature }}", title: listed second, body: "{{ report }}"}
"""
DRY_RUN_PLAYBOOK = """\
name: rehearsal
dry_run: true
trigger:
  categories: [code_error]
steps:
  - uses: create_or_update_issue
    with: {key: "{{ detection.signature }}", title: would be filed, body: "{{ report }}"}
"""


async def _steps(bot: Bot, repair: Repair) -> list[RepairStep]:
    async with bot.database.session() as session:
        return await steps_of(session, repair.id)


def _issue_titles(bot: Bot) -> list[str]:
    repository = bot.sandbox.repository(REPO)
    return [
        issue.title for _, issue in sorted(repository.issues.items()) if not issue.is_pull_request
    ]


@pytest.mark.parametrize(("level", "merged"), [("auto", True), ("pr", False)])
async def test_a_verified_fix_is_merged_only_at_auto(bot: Bot, level: str, merged: bool) -> None:
    add_ci(bot.sandbox, [{"when": OOM_ABOVE_32, "log": CUDA_OOM_LOG}])
    bot.push(
        {
            CONFIG: f"automation:\n  default: {level}\n",
            PARAMS: "batch_size: 64\ngradient_accumulation_steps: 1\n",
        }
    )
    await settle(bot)

    (repair,) = await repairs(bot)
    assert repair.state == "verified" and repair.pull_request is not None
    repository = bot.sandbox.repository(REPO)
    assert (repository.pulls[repair.pull_request].merged_at is not None) is merged
    main = repository.git.commits[repository.branch_sha("main") or ""]
    on_main = repository.git.blobs[repository.git.trees[main.tree][PARAMS]].decode()
    assert ("batch_size: 32" in on_main) is merged


async def test_a_remedy_that_failed_is_not_tried_again_for_the_signature(bot: Bot) -> None:
    add_ci(bot.sandbox, [{"when": ALWAYS_OOM, "log": CUDA_OOM_LOG}])
    bot.push(
        {
            # No cooldown: only the failed remedy itself may stop the second attempt.
            CONFIG: "automation:\n  default: pr\nbudgets:\n  cooldown_minutes: 0\n",
            PARAMS: "batch_size: 64\ngradient_accumulation_steps: 1\n",
        }
    )
    await settle(bot)
    bot.push({"train.py": "print('train v2')\n"})
    await settle(bot)

    first, second = await repairs(bot)
    assert first.state == "rolled_back" and first.signature == second.signature
    assert second.pull_request is None
    assert len(bot.sandbox.repository(REPO).pulls) == 1
    skipped = [step for step in await _steps(bot, second) if step.uses == "open_fix_pull_request"]
    assert [(step.status, step.summary) for step in skipped] == [
        ("skipped", "this remedy already failed for this signature")
    ]


async def test_re_runs_beyond_the_hourly_budget_are_not_requested(bot: Bot) -> None:
    add_ci(bot.sandbox, [{"when": {"attempt_below": 2}, "log": NETWORK_TIMEOUT}])
    bot.push({CONFIG: "automation:\n  default: auto\nbudgets:\n  reruns_per_hour: 0\n"})
    await settle(bot)

    (repair,) = await repairs(bot)
    assert repair.rerun_run_id is None and repair.state != "verified"
    (rerun,) = [step for step in await _steps(bot, repair) if step.uses == "rerun_failed_jobs"]
    assert (rerun.status, rerun.summary) == ("skipped", "0 re-runs this hour (budget 0)")
    (run,) = bot.sandbox.repository(REPO).runs.values()
    assert [job.run_attempt for job in run.jobs] == [1]


async def test_a_dry_run_records_what_it_would_do_and_writes_nothing(bot: Bot) -> None:
    add_ci(bot.sandbox, [{"when": {"file": "train.py", "contains": "+"}, "log": CODE_ERROR}])
    bot.push(
        {
            CONFIG: "automation:\n  default: pr\nplaybooks:\n  extra: [.github/rehearsal.yml]\n"
            "  overrides: {code_error: rehearsal}\n",
            ".github/rehearsal.yml": DRY_RUN_PLAYBOOK,
        }
    )
    bot.push({"train.py": "print(1 + '1')\n"})
    await settle(bot)

    (repair,) = await repairs(bot)
    assert repair.playbook == "rehearsal" and repair.state == "ignored"
    (step,) = await _steps(bot, repair)
    assert step.status == "skipped"
    assert (step.summary or "").startswith("dry run: would run with")
    assert "would be filed" in (step.summary or "")
    assert _issue_titles(bot) == []


async def test_a_failing_step_is_retried_then_compensated_in_reverse_order(bot: Bot) -> None:
    add_ci(bot.sandbox, [{"when": {"file": "train.py", "contains": "+"}, "log": CODE_ERROR}])
    bot.push(
        {
            CONFIG: "automation:\n  default: pr\nplaybooks:\n  extra: [.github/unreachable.yml]\n"
            "  overrides: {code_error: unreachable}\n"
            "notifications:\n  - {name: ops, kind: webhook, url: 'http://127.0.0.1:9/hook'}\n",
            ".github/unreachable.yml": UNREACHABLE_PLAYBOOK,
        }
    )
    bot.push({"train.py": "print(1 + '1')\n"})
    await settle(bot)

    (repair,) = await repairs(bot)
    assert repair.state == "rolled_back"
    assert "failed after 3 tries" in (repair.reason or "")
    steps = {(step.phase, step.uses): step for step in await _steps(bot, repair)}
    notify = steps[("steps", "notify")]
    assert (notify.status, notify.tries) == ("failed", 3)
    assert _issue_titles(bot) == ["listed second", "listed first"]


async def test_a_step_that_outlives_its_timeout_fails_and_is_compensated(bot: Bot) -> None:
    # A receiver that accepts the connection and never answers: only the step's timeout ends it.
    server = await asyncio.start_server(lambda reader, writer: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    playbook = UNREACHABLE_PLAYBOOK.replace("    retries: 2\n", "    timeout_seconds: 1\n")
    add_ci(bot.sandbox, [{"when": {"file": "train.py", "contains": "+"}, "log": CODE_ERROR}])
    bot.push(
        {
            CONFIG: "automation:\n  default: pr\nplaybooks:\n  extra: [.github/unreachable.yml]\n"
            "  overrides: {code_error: unreachable}\n"
            f"notifications:\n  - {{name: ops, kind: webhook, url: 'http://127.0.0.1:{port}/'}}\n",
            ".github/unreachable.yml": playbook,
        }
    )
    bot.push({"train.py": "print(1 + '1')\n"})
    async with server:
        await settle(bot)

    (repair,) = await repairs(bot)
    assert repair.state == "rolled_back" and "TimeoutError" in (repair.reason or "")
    steps = {(step.phase, step.uses): step for step in await _steps(bot, repair)}
    assert (steps[("steps", "notify")].status, steps[("steps", "notify")].tries) == ("failed", 1)
    assert _issue_titles(bot) == ["listed second", "listed first"]


async def test_a_config_on_a_pull_request_branch_changes_nothing(bot: Bot) -> None:
    """The config is read from the default branch: a branch opting itself in stays at suggest."""
    add_ci(bot.sandbox, [{"when": {"file": "train.py", "contains": "+"}, "log": CODE_ERROR}])
    repository = bot.sandbox.repository(REPO)
    repository.refs["refs/heads/feature"] = repository.branch_sha("main") or ""
    bot.push({CONFIG: "automation:\n  default: auto\n", "train.py": "print(1 + '1')\n"}, "feature")
    await settle(bot)

    (repair,) = await repairs(bot)
    assert (repair.level, repair.state) == ("suggest", "suggested")
    assert _issue_titles(bot) == [] and len(repository.pulls) == 0
