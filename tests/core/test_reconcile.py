"""Stalled repairs: which ones no worker can still be running, and resuming one whose
approval died half-way (nothing else would ever move it on, and it blocks its signature)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
import structlog

from self_healing_bot.core.bot import installed_remediation
from self_healing_bot.core.chatops import approve
from self_healing_bot.core.context import ExecutionContext
from self_healing_bot.core.reconcile import STALL_MARGIN, is_stalled, longest_step
from self_healing_bot.core.remediation import PlaybookRemediation
from self_healing_bot.storage.models import utc_now
from self_healing_bot.storage.repairs import Repair, RepairStep
from tests.core.remediation_fixtures import remediation, repairs, scheduler_for, settle
from tests.detectors.pipeline_fixtures import (
    BIG_BATCH,
    CONFIG,
    CUDA_OOM_LOG,
    INSTALLATION_ID,
    REPO,
    Bot,
    add_ci,
    bot,
    detectors_loaded,
    org_config,
    sqlite_url,
)

__all__ = ["bot", "detectors_loaded", "org_config", "remediation", "sqlite_url"]

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=utc_now().tzinfo)
PLAN = {
    "steps": [{"timeout_seconds": 300, "retries": 0}, {"timeout_seconds": 600, "retries": 2}],
    "on_failure": [{"timeout_seconds": 60, "retries": 0}],
}


def _repair(state: str) -> Repair:
    return Repair(id=1, state=state, detected_at=T0, plan=PLAN)


def _step(started: datetime, finished: datetime | None = None) -> RepairStep:
    return RepairStep(started_at=started, finished_at=finished)


def test_the_longest_step_is_its_timeout_times_its_tries() -> None:
    assert longest_step(PLAN) == timedelta(seconds=1800)
    assert longest_step({}) == timedelta(seconds=300)  # a suggestion: no steps planned


@pytest.mark.parametrize(
    ("state", "delivery", "steps", "after", "stalled"),
    [
        # nothing has happened for longer than the longest step may take, plus the margin
        ("acting", "done", [_step(T0, T0)], timedelta(minutes=36), True),
        ("acting", "done", [_step(T0, T0)], timedelta(minutes=34), False),
        # a step that started late is the last activity, finished or not
        ("acting", "dead", [_step(T0 + timedelta(minutes=30))], timedelta(minutes=36), False),
        ("planned", "failed", [], timedelta(minutes=36), True),
        ("planned", None, [], timedelta(minutes=36), True),  # its delivery is gone
        # its delivery is still queued or processing: that delivery resumes it
        ("acting", "queued", [_step(T0, T0)], timedelta(hours=5), False),
        ("acting", "processing", [_step(T0, T0)], timedelta(hours=5), False),
        # waiting states are not stalls: CI or people move them on
        ("awaiting_verification", "done", [], timedelta(hours=5), False),
        ("awaiting_approval", "done", [], timedelta(hours=5), False),
    ],
)
def test_is_stalled(
    state: str, delivery: str | None, steps: list[RepairStep], after: timedelta, stalled: bool
) -> None:
    assert timedelta(minutes=5) == STALL_MARGIN
    assert is_stalled(_repair(state), steps, delivery, T0 + after) is stalled


CAREFUL_OOM = """name: careful-oom
trigger: {detector: pipeline_failure, categories: [gpu_oom]}
require_approval: true
allowed_paths: ["*.yaml"]
steps:
  - id: fix
    uses: open_fix_pull_request
    with:
      branch: 'self-healing-bot/{{ detection.signature | replace(":", "/") }}'
      title: Halve the batch size
      body: "{{ report }}"
      edits:
        - {kind: yaml_scale, path: params.yaml, key: batch_size, factor: 0.5}
"""


async def test_a_repair_whose_approval_died_half_way_is_resumed(bot: Bot) -> None:
    add_ci(bot.sandbox, [{"when": {**BIG_BATCH, "file": "params.yaml"}, "log": CUDA_OOM_LOG}])
    bot.push(
        {
            CONFIG: "automation:\n  default: pr\nplaybooks:\n  extra: [.github/careful.yml]\n"
            "  overrides: {gpu_oom: careful-oom}\n",
            ".github/careful.yml": CAREFUL_OOM,
            "params.yaml": "batch_size: 64\n",
        }
    )
    await settle(bot)
    (waiting,) = await repairs(bot)
    assert waiting.state == "awaiting_approval"

    # Approved through the API, whose web process dies while GitHub creates the pull request.
    remediation = installed_remediation()
    assert isinstance(remediation, PlaybookRemediation)
    context = ExecutionContext.for_installation(
        "api-approve",
        "api",
        INSTALLATION_ID,
        structlog.stdlib.get_logger("test"),
        bot.database,
        bot.github.installation(INSTALLATION_ID),
    )
    bot.sandbox.faults.slow(1, 60.0, path=r"/pulls$")
    approval = asyncio.create_task(approve(remediation, context, waiting.id, "alice"))
    for _ in range(1000):  # until the slow fault is taken: the request hangs in GitHub
        if not bot.sandbox.faults.request_faults:
            break
        await asyncio.sleep(0.01)
    else:
        pytest.fail("the pull request was never asked for")
    approval.cancel()
    with pytest.raises(asyncio.CancelledError):
        await approval
    (stalled,) = await repairs(bot)
    assert stalled.state == "acting" and not bot.sandbox.repository(REPO).pulls

    scheduler = scheduler_for(bot)
    # while its step may still be running somewhere, it is left alone
    assert await scheduler.reconcile_repairs(bot.github, utc_now() + timedelta(minutes=9)) is None
    assert [r.state for r in await repairs(bot)] == ["acting"]

    resumed = await scheduler.reconcile_repairs(bot.github, utc_now() + timedelta(minutes=11))
    assert resumed == "succeeded"
    await settle(bot)
    (repair,) = await repairs(bot)
    assert repair.state == "verified"
    (pull,) = bot.sandbox.repository(REPO).pulls.values()
    assert pull.number == repair.pull_request
