"""Data and metrics read from workflow artifacts (`artifact:<name>/<path-in-zip>` in the config),
against the GitHub sandbox: the run that uploads them is the one that is judged."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from self_healing_bot.core.bot import detect
from self_healing_bot.core.events import parse_event
from self_healing_bot.detectors import repository_files
from self_healing_bot.detectors.registry import detectors_for
from self_healing_bot.detectors.repository_files import (
    ArtifactPath,
    ArtifactPathError,
    artifact_path,
    reads_run_artifacts,
)
from self_healing_bot.sandbox.ci_rules import JobSpec
from self_healing_bot.storage.drift_reports import latest_report
from tests.detectors.drift_fixtures import Harness, harness, migrated_template, table_csv
from tests.github.world import REPO

__all__ = ["harness", "migrated_template"]

CURRENT = "artifact:eval-data/tables/current.csv"
METRICS = "artifact:eval-metrics/metrics.json"
CONFIG = f"""\
paths:
  data: [data/reference.csv, "{CURRENT}"]
  metrics: ["{METRICS}"]
"""


def metrics_json(accuracy: float) -> str:
    return json.dumps({"eval": {"accuracy": accuracy}})


def evaluate_job(artifacts: dict[str, dict[str, str | bytes]]) -> JobSpec:
    return JobSpec.parse({"name": "evaluate", "artifacts": artifacts})


def configure(harness: Harness) -> None:
    """The config naming artifacts, then an `evaluate` workflow that runs on every push."""
    harness.push({".github/self-healing-bot.yml": CONFIG}, "read artifacts")
    harness.world.sandbox.add_workflow(REPO, "evaluate", [evaluate_job({"x": {"x": "x"}})])


async def run_uploading(
    harness: Harness, artifacts: dict[str, dict[str, str | bytes]], message: str = "train"
) -> dict[str, Any]:
    """Push a commit whose `evaluate` run uploads `artifacts`; the run's completed webhook."""
    (workflow,) = harness.world.sandbox.repository(REPO).workflows.values()
    workflow.jobs = (evaluate_job(artifacts),)
    harness.push({"README.md": f"# {message}\n"}, message)
    await harness.world.sandbox.drain()
    completed = [
        delivery.payload
        for delivery in harness.world.sandbox.sender.deliveries
        if delivery.event == "workflow_run" and delivery.action == "completed"
    ]
    return dict(completed[-1])


async def test_a_run_uploading_a_shifted_table_stores_a_drift_report(harness: Harness) -> None:
    configure(harness)
    payload = await run_uploading(
        harness, {"eval-data": {"tables/current.csv": table_csv(600, shift=1.5, seed=3)}}
    )
    detections = await harness.detect("data_drift", "workflow_run", payload)

    (detection,) = detections
    run = payload["workflow_run"]
    assert detection.head_sha == run["head_sha"] and detection.branch == "main"
    assert detection.params["current"] == CURRENT
    assert set(detection.params["drifted_columns"]) == {"age", "income", "city"}
    async with harness.database.session() as session:
        stored = await latest_report(session, REPO, CURRENT)
    assert stored is not None and stored.id == detection.params["report_id"]
    assert stored.ref == run["head_sha"]


async def test_a_run_uploading_an_unshifted_table_stores_a_report_without_a_detection(
    harness: Harness,
) -> None:
    configure(harness)
    payload = await run_uploading(
        harness, {"eval-data": {"tables/current.csv": table_csv(600, seed=3)}}
    )
    assert await harness.detect("data_drift", "workflow_run", payload) == []
    async with harness.database.session() as session:
        assert await latest_report(session, REPO, CURRENT) is not None


async def test_a_run_uploading_worse_metrics_is_a_degradation(harness: Harness) -> None:
    configure(harness)
    good = await run_uploading(harness, {"eval-metrics": {"metrics.json": metrics_json(0.90)}})
    assert await harness.detect("model_degradation", "workflow_run", good) == []
    worse = await run_uploading(
        harness, {"eval-metrics": {"metrics.json": metrics_json(0.80)}}, "retrain"
    )
    (detection,) = await harness.detect("model_degradation", "workflow_run", worse)

    assert detection.params["metric"] == "eval.accuracy"
    assert (detection.params["baseline"], detection.params["current"]) == (0.90, 0.80)
    assert detection.head_sha == worse["workflow_run"]["head_sha"]
    assert detection.changed_paths == [METRICS]


async def test_a_push_does_not_read_artifact_paths(harness: Harness) -> None:
    configure(harness)
    harness.push({"data/reference.csv": table_csv(600, shift=2, seed=4)}, "new reference")
    push = harness.last_push_payload()
    assert await harness.detect("data_drift", "push", push) == []
    assert await harness.detect("model_degradation", "push", push) == []
    assert not harness.world.requests("GET", "contents/artifact")


@pytest.mark.parametrize(
    ("uploads", "message"),
    [
        ({"other": {"x.csv": "a\n1\n"}}, r"no artifact 'eval-data' \(it uploaded \['other'\]\)"),
        ({"eval-data": {"c.csv": "a"}}, r"has no 'tables/current.csv' \(it holds \['c.csv'\]\)"),
    ],
    ids=["missing-artifact", "missing-member"],
)  # fmt: skip
async def test_a_missing_artifact_or_member_is_an_error_on_the_detect_stage(
    harness: Harness, uploads: dict[str, dict[str, str | bytes]], message: str
) -> None:
    configure(harness)
    payload = await run_uploading(harness, uploads)
    context = harness.context("workflow_run", payload)
    detector = [d for d in detectors_for(context.event) if d.id == "data_drift"]
    outcome = await detect(context, detector)
    assert outcome.status == "failed"
    assert outcome.value == []
    with pytest.raises(LookupError, match=message):
        await detector[0].detect(context)


async def test_an_expired_artifact_is_named_as_expired(harness: Harness) -> None:
    configure(harness)
    payload = await run_uploading(harness, {"eval-metrics": {"metrics.json": metrics_json(0.9)}})
    run = harness.world.sandbox.repository(REPO).runs[payload["workflow_run"]["id"]]
    run.artifacts[0].expired = True
    with pytest.raises(LookupError, match="artifact 'eval-metrics' has expired"):
        await harness.detect("model_degradation", "workflow_run", payload)


def run_event(changes: dict[str, Any], repository: dict[str, Any] | None = None) -> Any:
    payload = {
        "action": "completed",
        "repository": {"id": 1, "name": "ml", "full_name": REPO, "default_branch": "main"},
        "workflow_run": {
            "id": 7,
            "head_sha": "a" * 40,
            "head_branch": "main",
            "event": "push",
            "status": "completed",
            "conclusion": "success",
            "head_repository": {"full_name": REPO},
        },
    }
    changed = copy.deepcopy(payload)
    changed["workflow_run"].update(changes)
    if repository is not None:
        changed["repository"].update(repository)
    return parse_event("workflow_run", changed)


@pytest.mark.parametrize(
    ("changes", "applies"),
    [
        ({}, True),
        ({"event": "schedule"}, True),
        ({"event": "workflow_dispatch"}, True),
        ({"conclusion": "failure"}, False),
        ({"status": "in_progress", "conclusion": None}, False),
        ({"head_branch": "feature"}, False),
        ({"event": "pull_request"}, False),
        ({"event": "pull_request_target"}, False),
        ({"head_repository": {"full_name": "mallory/ml"}}, False),
    ],
)
def test_only_a_successful_run_of_the_default_branch_s_own_commits_is_read(
    changes: dict[str, Any], applies: bool
) -> None:
    event = run_event(changes)
    if "status" in changes:
        event = event.model_copy(update={"action": "in_progress"})
    assert reads_run_artifacts(event) is applies


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("metrics.json", None),
        ("artifact:m/metrics.json", ArtifactPath("m", "metrics.json")),
        ("artifact:eval-data/a/b.csv", ArtifactPath("eval-data", "a/b.csv")),
    ],
)
def test_an_artifact_path_names_the_artifact_then_the_file(
    path: str, expected: ArtifactPath | None
) -> None:
    assert artifact_path(path) == expected


@pytest.mark.parametrize("path", ["artifact:", "artifact:metrics", "artifact:/metrics.json"])
def test_an_artifact_path_without_a_file_says_how_to_write_it(path: str) -> None:
    with pytest.raises(ArtifactPathError, match="artifact:<artifact-name>/<path-in-zip>"):
        artifact_path(path)


async def test_a_file_over_the_size_limit_is_refused_before_it_is_unpacked(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(harness)
    monkeypatch.setattr(repository_files, "MAX_ARTIFACT_MEMBER_BYTES", 1000)
    payload = await run_uploading(harness, {"eval-metrics": {"metrics.json": " " * 5000}})
    with pytest.raises(LookupError, match="unpacks to 5000 bytes, over the 1000-byte limit"):
        await harness.detect("model_degradation", "workflow_run", payload)
