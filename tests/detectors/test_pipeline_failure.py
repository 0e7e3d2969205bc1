"""The pipeline-failure detector end to end: simulated CI fails, its webhooks reach the bot,
and the diagnosis lands in the database with the history of its signature."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from self_healing_bot.core.events import parse_event
from self_healing_bot.detectors.pipeline_failure import PipelineFailureDetector
from self_healing_bot.storage.detections import detections_for, signature_history
from self_healing_bot.storage.models import Execution
from tests.detectors.pipeline_fixtures import (
    BIG_BATCH,
    CONFIG,
    CUDA_OOM_LOG,
    REPO,
    SHARD_LOG,
    Bot,
    add_ci,
    bot,
    detectors_loaded,
    org_config,
    sqlite_url,
)

__all__ = ["bot", "detectors_loaded", "org_config", "sqlite_url"]


async def detect_stages(bot: Bot) -> list[dict]:
    async with bot.database.session() as session:
        executions = await session.scalars(select(Execution).order_by(Execution.id))
        return [execution.stages["detect"] for execution in executions]


async def test_a_cuda_oom_in_ci_is_stored_with_category_params_and_evidence(bot: Bot) -> None:
    add_ci(bot.sandbox, [{"when": BIG_BATCH, "log": CUDA_OOM_LOG}])
    sha = bot.push({"README.md": "# ml\n"})
    results = await bot.process_webhooks()
    assert all(outcome == "done" for _, _, outcome in results), results

    async with bot.database.session() as session:
        stored = await detections_for(session, REPO)
        assert len(stored) == 1, [(d.detector, d.occurrence) for d in stored]
        detection = stored[0]
        history = await signature_history(session, REPO, detection.signature)
    assert (detection.detector, detection.category) == ("pipeline_failure", "gpu_oom")
    assert detection.job == "train" and detection.head_sha == sha
    assert detection.step == "python train.py --config configs/train.yaml"
    assert detection.params["branch"] == "main"
    assert detection.params["run_attempt"] == 1
    assert detection.params["requested_bytes"] == 2 * 1024**3
    assert isinstance(detection.params["run_id"], int)
    assert any("CUDA out of memory" in item["text"] for item in detection.evidence)
    assert detection.signature.startswith("gpu_oom:")
    assert history is not None and history.count == 1 and history.commits == (sha,)
    assert not history.flaky


async def stored_detections(bot: Bot) -> list[tuple[str, str | None, str | None]]:
    async with bot.database.session() as session:
        return [(d.category, d.job, d.head_sha) for d in await detections_for(session, REPO)]


async def test_a_commit_superseded_on_its_branch_is_skipped_and_says_why(bot: Bot) -> None:
    add_ci(bot.sandbox, [{"when": BIG_BATCH, "log": CUDA_OOM_LOG}])
    bot.push({"README.md": "# ml\n"})  # fails (batch 64) ...
    fixed = bot.push({"configs/train.yaml": "batch_size: 16\n"})  # ... but is already replaced
    await bot.process_webhooks()

    assert await stored_detections(bot) == []
    skipped = [
        stage["detail"]["skipped"]
        for stage in await detect_stages(bot)
        if stage["detail"].get("skipped")
    ]
    reasons = [reason["pipeline_failure"] for reason in skipped]
    assert any(
        f"(now {fixed[:12]})" in reason and "no longer the head of 'main'" in reason
        for reason in reasons
    ), reasons


async def test_a_job_that_passes_on_rerun_marks_its_signature_flaky(bot: Bot) -> None:
    add_ci(bot.sandbox, [{"when": {"attempt_below": 2}, "log": CUDA_OOM_LOG}])
    sha = bot.push({"README.md": "# ml\n"})
    await bot.process_webhooks()
    async with bot.database.session() as session:
        (detection,) = await detections_for(session, REPO)
        before = await signature_history(session, REPO, detection.signature)
    assert before is not None and not before.flaky

    repo = bot.sandbox.repository(REPO)
    bot.sandbox.rerun_failed_jobs(repo, repo.runs[detection.run_id])
    await bot.process_webhooks()
    async with bot.database.session() as session:
        after = await signature_history(session, REPO, detection.signature)
    assert after is not None and after.flaky and after.commits == (sha,) and after.count == 1


async def test_a_job_that_fails_again_on_rerun_is_not_flaky(bot: Bot) -> None:
    add_ci(bot.sandbox, [{"when": BIG_BATCH, "log": CUDA_OOM_LOG}])
    bot.push({"README.md": "# ml\n"})
    await bot.process_webhooks()
    async with bot.database.session() as session:
        (detection,) = await detections_for(session, REPO)
    repo = bot.sandbox.repository(REPO)
    bot.sandbox.rerun_failed_jobs(repo, repo.runs[detection.run_id])
    await bot.process_webhooks()
    async with bot.database.session() as session:
        history = await signature_history(session, REPO, detection.signature)
        occurrences = [d.occurrence for d in await detections_for(session, REPO)]
    assert history is not None and not history.flaky and history.count == 2
    assert [o.split(" job")[0].split("attempt ")[1] for o in occurrences] == ["1", "2"]


SHARD_RULE = (
    "diagnosis_rules:\n"
    "  - category: data_missing\n"
    "    pattern: 'shard \\d+ unavailable'\n"
    "    summary: A feature-store shard is down\n"
)


async def test_a_repository_rule_in_its_config_changes_the_diagnosis(bot: Bot) -> None:
    add_ci(
        bot.sandbox,
        [{"when": {"file": "configs/train.yaml", "contains": "shards"}, "log": SHARD_LOG}],
    )
    bot.push({"configs/train.yaml": "shards: 8\n"})
    await bot.process_webhooks()
    bot.push({CONFIG: SHARD_RULE, "configs/train.yaml": "shards: 9\n"})
    await bot.process_webhooks()

    async with bot.database.session() as session:
        stored = await detections_for(session, REPO)
    assert len(stored) == 2 and stored[0].category != "data_missing"
    assert (stored[1].category, stored[1].summary) == (
        "data_missing",
        "A feature-store shard is down",
    )


async def test_config_on_a_pull_request_branch_is_not_used(bot: Bot) -> None:
    add_ci(
        bot.sandbox,
        [{"when": {"file": "configs/train.yaml", "contains": "shards"}, "log": SHARD_LOG}],
    )
    repo = bot.sandbox.repository(REPO)
    bot.sandbox.set_ref(repo, "refs/heads/sneaky", repo.branch_sha("main") or "")
    bot.sandbox.commit_files(
        REPO, "sneaky", {CONFIG: SHARD_RULE, "configs/train.yaml": "shards: 8\n"}, "my rules"
    )
    bot.sandbox.create_pull_request(repo, "t", None, "sneaky", "main", bot.sandbox.user("mallory"))
    await bot.process_webhooks()

    categories = {category for category, _, _ in await stored_detections(bot)}
    assert categories and "data_missing" not in categories


def _event(name: str, action: str, conclusion: str | None, attempt: int = 1) -> dict[str, Any]:
    common = {"id": 5, "name": "train", "head_sha": "a" * 40, "conclusion": conclusion}
    body = {
        "workflow_run": {**common, "head_branch": "main", "run_attempt": attempt},
        "workflow_job": {**common, "run_id": 9, "run_attempt": attempt},
        "check_run": common,
    }[name]
    repository = {"id": 1, "full_name": REPO, "name": REPO.split("/")[1]}
    return {"action": action, "repository": repository, name: body}


@pytest.mark.parametrize(
    ("name", "action", "conclusion", "attempt", "applies"),
    [
        ("workflow_run", "completed", "failure", 1, True),
        ("workflow_run", "completed", "timed_out", 1, True),
        ("workflow_run", "completed", "cancelled", 1, True),
        ("workflow_run", "completed", "success", 1, False),
        ("workflow_run", "completed", "success", 2, True),  # a pass on re-run: flaky?
        ("workflow_run", "requested", None, 1, False),
        ("workflow_job", "completed", "timed_out", 1, True),
        ("workflow_job", "completed", "skipped", 1, False),
        ("workflow_job", "in_progress", None, 1, False),
        ("check_run", "completed", "failure", 1, True),
        ("check_run", "completed", "cancelled", 1, True),
        ("check_run", "completed", "neutral", 1, False),
    ],
)
def test_which_completed_runs_jobs_and_checks_are_diagnosed(
    name: str, action: str, conclusion: str | None, attempt: int, applies: bool
) -> None:
    event = parse_event(name, _event(name, action, conclusion, attempt))
    assert event is not None
    assert PipelineFailureDetector().applies_to(event) is applies
