"""Detections and failure history on both engines the bot supports."""

from __future__ import annotations

from typing import Any

from self_healing_bot.detectors.registry import Detection
from self_healing_bot.repo_config.model import RepoConfig
from self_healing_bot.storage.database import Database
from self_healing_bot.storage.detections import (
    detections_for,
    mark_flaky,
    record_detections,
    signature_history,
)
from self_healing_bot.storage.repo_configs import last_valid_config, save_valid_config

REPO = "octo/storage"


def failure(signature: str, sha: str, run_id: int, attempt: int, job: str = "train") -> Detection:
    params: dict[str, Any] = {
        "job": job,
        "step": "Train model",
        "head_sha": sha,
        "run_id": run_id,
        "run_attempt": attempt,
        "occurrence": f"run {run_id} attempt {attempt} job {job}",
    }
    return Detection(
        detector_id="pipeline_failure",
        category=signature.split(":")[0],
        signature=signature,
        confidence=0.9,
        summary="out of memory",
        params=params,
        evidence=[{"line": 3, "text": "CUDA out of memory"}],
        head_sha=sha,
    )


async def test_each_failure_is_stored_once_and_counted_in_its_history(database: Database) -> None:
    first = failure("gpu_oom:aa", "sha1", run_id=1, attempt=1)
    async with database.session() as session:
        assert await record_detections(session, "d1", REPO, [first]) == [first]
    async with database.session() as session:  # the run's event after the job's: same failure
        assert await record_detections(session, "d2", REPO, [first]) == []
    again = failure("gpu_oom:aa", "sha2", run_id=2, attempt=1)
    async with database.session() as session:
        await record_detections(session, "d3", REPO, [again, failure("gpu_oom:aa", "sha2", 2, 2)])
        history = await signature_history(session, REPO, "gpu_oom:aa")
        rows = await detections_for(session, REPO)

    assert history is not None
    assert (history.count, history.commits, history.category) == (3, ("sha1", "sha2"), "gpu_oom")
    assert history.first_seen <= history.last_seen and not history.flaky and not history.ignored
    assert [(row.delivery_id, row.job, row.step, row.head_sha, row.run_id) for row in rows] == [
        ("d1", "train", "Train model", "sha1", 1),
        ("d3", "train", "Train model", "sha2", 2),
        ("d3", "train", "Train model", "sha2", 2),
    ]
    assert rows[0].evidence == [{"line": 3, "text": "CUDA out of memory"}]
    assert rows[0].params["run_attempt"] == 1 and rows[0].confidence == 0.9


async def test_a_pass_on_rerun_marks_only_that_jobs_signatures_on_that_commit_flaky(
    database: Database,
) -> None:
    detections = [
        failure("gpu_oom:aa", "sha1", run_id=1, attempt=1, job="train"),
        failure("test_failure:bb", "sha1", run_id=1, attempt=1, job="test"),
        failure("lint_failure:cc", "sha2", run_id=2, attempt=1, job="train"),
    ]
    async with database.session() as session:
        await record_detections(session, "d1", REPO, detections)
    async with database.session() as session:
        assert await mark_flaky(session, REPO, "sha1", run_id=1, job="train") == ["gpu_oom:aa"]
    async with database.session() as session:
        flaky = {
            signature: (await signature_history(session, REPO, signature)).flaky  # type: ignore[union-attr]
            for signature in ("gpu_oom:aa", "test_failure:bb", "lint_failure:cc")
        }
    assert flaky == {"gpu_oom:aa": True, "test_failure:bb": False, "lint_failure:cc": False}
    async with database.session() as session:  # the whole run passed: every job's failure
        assert await mark_flaky(session, REPO, "sha1", run_id=1) == [
            "gpu_oom:aa",
            "test_failure:bb",
        ]
        assert await mark_flaky(session, REPO, "sha9", run_id=9) == []


async def test_the_last_valid_config_is_kept_per_repository(database: Database) -> None:
    first = RepoConfig.model_validate({"budgets": {"reruns_per_hour": 1}})
    second = RepoConfig.model_validate({"budgets": {"reruns_per_hour": 2}})
    async with database.session() as session:
        assert await last_valid_config(session, REPO) is None
        await save_valid_config(session, REPO, first)
        await save_valid_config(session, REPO, second)
        await save_valid_config(session, "octo/other", first)
    async with database.session() as session:
        assert await last_valid_config(session, REPO) == second
        assert await last_valid_config(session, "octo/other") == first
