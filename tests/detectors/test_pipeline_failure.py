"""The pipeline-failure detector end to end: simulated CI fails, its webhooks reach the bot,
and the diagnosis lands in the database with the history of its signature."""

from __future__ import annotations

from sqlalchemy import select

from self_healing_bot.storage.detections import detections_for, signature_history
from self_healing_bot.storage.models import Execution
from tests.detectors.pipeline_fixtures import (
    BIG_BATCH,
    CUDA_OOM_LOG,
    REPO,
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
