"""The model-degradation detector against the GitHub sandbox: history over pushes, a cliff,
a slow slide, dispatches, and the metric history on both database engines."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from self_healing_bot.degradation.metrics_files import MetricsFileError
from self_healing_bot.degradation.policy import Direction
from self_healing_bot.detectors.model_degradation import (
    MetricsConfigError,
    degradation_signature,
    direction_of,
    metric_policies,
)
from self_healing_bot.detectors.registry import Detection, Severity
from self_healing_bot.repo_config import load_repo_config
from self_healing_bot.storage.database import Database
from self_healing_bot.storage.metric_history import MetricRecord, metric_history, record_metrics
from tests.detectors.drift_fixtures import CONFIG, Harness, harness, migrated_template
from tests.github.world import REPO

__all__ = ["harness", "migrated_template"]

STABLE = [0.900, 0.902, 0.899, 0.901, 0.900, 0.898, 0.902, 0.901, 0.899, 0.900]


def metrics_json(accuracy: float) -> bytes:
    """DVC's nested style, with a lower-is-better metric next to accuracy."""
    return json.dumps({"eval": {"accuracy": accuracy, "val_loss": 1 - accuracy}}).encode()


async def push_metrics(harness: Harness, accuracy: float) -> list[Detection]:
    harness.push({"metrics.json": metrics_json(accuracy)}, f"accuracy {accuracy}")
    return await harness.detect("model_degradation", "push", harness.last_push_payload())


def degraded_metrics(detections: list[Detection]) -> dict[str, dict[str, Any]]:
    """The one detection's degraded metrics, by name: a commit is one incident per model."""
    (detection,) = detections
    return {metric["metric"]: metric for metric in detection.params["metrics"]}


async def history_rows(harness: Harness) -> int:
    async with harness.database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(MetricRecord)) or 0)


async def test_history_accumulates_and_a_cliff_is_detected(harness: Harness) -> None:
    for accuracy in STABLE:
        assert await push_metrics(harness, accuracy) == []
    assert await history_rows(harness) == 2 * len(STABLE)

    detections = await push_metrics(harness, 0.80)

    by_metric = degraded_metrics(detections)
    assert set(by_metric) == {"eval.accuracy", "eval.val_loss"}
    accuracy = by_metric["eval.accuracy"]
    assert accuracy["baseline"] == pytest.approx(sum(STABLE) / len(STABLE))
    assert accuracy["current"] == 0.80
    assert accuracy["delta"] == pytest.approx(0.80 - 0.9002)
    assert accuracy["severity"] == "critical"
    assert accuracy["baseline_source"] == "history"
    (detection,) = detections
    assert detection.category == "model_degradation"
    assert detection.severity is Severity.CRITICAL
    assert detection.changed_paths == ["metrics.json"]
    assert detection.signature == degradation_signature(REPO, None)
    # the worst first (the loss doubled: a larger relative loss), and in the summary
    assert detection.params["metric"] == detection.params["metrics"][0]["metric"]
    assert detection.params["metric"] == "eval.val_loss"
    assert detection.summary.endswith("and 1 more metric")
    assert {item["text"] for item in detection.evidence} >= set(accuracy["reasons"])
    assert await history_rows(harness) == 2 * (len(STABLE) + 1)


async def test_a_slow_slide_within_the_thresholds_is_caught_by_the_trend_test(
    harness: Harness,
) -> None:
    for accuracy in STABLE:
        await push_metrics(harness, accuracy)
    found: list[Detection] = []
    accuracy = 0.900
    for _ in range(10):
        accuracy -= 0.004
        found = await push_metrics(harness, accuracy)
        if found:
            break
    # Caught while still inside the 5% relative threshold: a slide, not a cliff.
    assert found, "ten steps down never alarmed"
    slide = degraded_metrics(found)["eval.accuracy"]
    assert 0.9002 - slide["current"] < 0.05 * 0.9002
    assert slide["severity"] == "minor"
    assert any("sliding" in reason for reason in slide["reasons"])


async def test_a_redelivered_push_is_neither_recorded_twice_nor_its_own_baseline(
    harness: Harness,
) -> None:
    for accuracy in STABLE[:3]:
        await push_metrics(harness, accuracy)
    detections = await push_metrics(harness, 0.70)
    assert detections
    again = await harness.detect("model_degradation", "push", harness.last_push_payload())
    assert [d.params["baseline"] for d in again] == [d.params["baseline"] for d in detections]
    assert await history_rows(harness) == 2 * 4


async def test_a_push_that_touches_no_metrics_file_reads_nothing(harness: Harness) -> None:
    harness.push({"train.py": b"print('train harder')\n"})
    assert await harness.detect("model_degradation", "push", harness.last_push_payload()) == []
    assert await history_rows(harness) == 0


async def test_an_unparseable_metrics_file_names_the_file(harness: Harness) -> None:
    harness.push({"metrics.json": b"{not json"})
    with pytest.raises(MetricsFileError, match=r"metrics\.json: not valid JSON"):
        await harness.detect("model_degradation", "push", harness.last_push_payload())
    assert await history_rows(harness) == 0


async def test_a_dispatch_naming_a_model_judges_the_branch_head(harness: Harness) -> None:
    for accuracy in STABLE[:3]:
        await push_metrics(harness, accuracy)
    sha = harness.push({"metrics.json": metrics_json(0.5)})
    payload = harness.dispatch_payload({"model": "churn"})
    detections = await harness.detect("model_degradation", "repository_dispatch", payload)
    assert {d.params["model"] for d in detections} == {"churn"}
    assert {d.head_sha for d in detections} == {sha}
    assert detections[0].signature == degradation_signature(REPO, "churn")


@pytest.mark.parametrize(
    ("metric", "direction"),
    [
        ("accuracy", Direction.HIGHER_IS_BETTER),
        ("eval.f1", Direction.HIGHER_IS_BETTER),
        ("eval.val_loss", Direction.LOWER_IS_BETTER),
        ("logloss", Direction.LOWER_IS_BETTER),
        ("test.rmse", Direction.LOWER_IS_BETTER),
        ("p95_latency_ms", Direction.LOWER_IS_BETTER),
        ("answer_power", Direction.HIGHER_IS_BETTER),
    ],
)
def test_direction_follows_the_metric_name(metric: str, direction: Direction) -> None:
    assert direction_of(metric) is direction


def test_thresholds_come_from_the_config_and_unknown_keys_are_named() -> None:
    config = load_repo_config(
        "detectors: {model_degradation: {thresholds: {relative_threshold: 0.1, window: 5}}}\n"
    )
    policy = metric_policies(["auc"], config)["auc"]
    assert (policy.relative_threshold, policy.window) == (0.1, 5)
    wrong = load_repo_config("detectors: {model_degradation: {thresholds: {relative: 0.1}}}\n")
    with pytest.raises(MetricsConfigError, match=r"unknown keys \['relative'\]"):
        metric_policies(["auc"], wrong)


async def test_metric_history_on_each_engine(database: Database) -> None:
    repository = f"octo/history-{database.dialect}-{id(database)}"
    async with database.session() as session:
        assert await record_metrics(session, repository, "a" * 40, {"auc": 0.8, "loss": 0.3}) == 2
        assert await record_metrics(session, repository, "a" * 40, {"auc": 0.8}) == 0
        await record_metrics(session, repository, "b" * 40, {"auc": 0.7})
        history = await metric_history(session, repository, ["auc", "loss"], limit=10)
        latest_excluded = await metric_history(
            session, repository, ["auc"], limit=10, exclude_commit="b" * 40
        )
    assert [(p.value, p.source) for p in history["auc"]] == [(0.8, "a" * 40), (0.7, "b" * 40)]
    assert [p.value for p in history["loss"]] == [0.3]
    assert [p.value for p in latest_excluded["auc"]] == [0.8]


PINNED_CONFIG = (
    CONFIG
    + b"""\
model: {name: wine, registry: repository, version_file: model.yaml, version_key: model.version}
"""
)


@pytest.mark.parametrize(
    ("pin_after", "rollback_to"),
    [('"5"', "4"), ('"4"', None)],
    ids=["push-changed-the-pin", "push-kept-the-pin"],
)
async def test_the_first_push_the_bot_sees_is_judged_against_the_commit_it_replaced(
    harness: Harness, pin_after: str, rollback_to: str | None
) -> None:
    # Installed after version 4 shipped: the bot never saw the push that recorded 0.96.
    harness.push(
        {
            ".github/self-healing-bot.yml": PINNED_CONFIG,
            "model.yaml": b'model:\n  version: "4"\n',
            "metrics.json": metrics_json(0.96),
        }
    )
    harness.push(
        {"model.yaml": f"model:\n  version: {pin_after}\n", "metrics.json": metrics_json(0.78)}
    )

    detections = await harness.detect("model_degradation", "push", harness.last_push_payload())

    accuracy = degraded_metrics(detections)["eval.accuracy"]
    assert (accuracy["baseline"], accuracy["current"]) == (0.96, 0.78)
    assert detections[0].params["previous_version"] == rollback_to
    assert await history_rows(harness) == 2 * 2
