"""Degradation decisions on plain metric histories: cliffs, slow slides, rollback targets."""

from __future__ import annotations

import pytest

from self_healing_bot.degradation.assessment import (
    MetricPoint,
    Severity,
    assess_metric,
    assess_metrics,
    cusum_alarm,
)
from self_healing_bot.degradation.policy import Direction, MetricPolicy, PolicyError

STEADY = [MetricPoint(0.90 + 0.002 * (index % 3), version=str(index)) for index in range(1, 11)]
HIGHER = MetricPolicy(relative_threshold=0.05)
LOWER = MetricPolicy(
    direction=Direction.LOWER_IS_BETTER, absolute_threshold=0.05, relative_threshold=None
)


@pytest.mark.parametrize(
    ("history", "current", "policy", "severity", "rollback"),
    [
        pytest.param(STEADY, 0.901, HIGHER, None, None, id="within-tolerance"),
        pytest.param(STEADY, 0.97, HIGHER, None, None, id="improvement"),
        pytest.param(STEADY, 0.84, HIGHER, Severity.MAJOR, "10", id="cliff"),
        pytest.param(STEADY, 0.70, HIGHER, Severity.CRITICAL, "10", id="double-the-tolerance"),
        pytest.param(
            [MetricPoint(0.30, "1"), MetricPoint(0.31, "2")],
            0.40,
            LOWER,
            Severity.MAJOR,
            "2",
            id="loss-rises",
        ),
        pytest.param(
            [MetricPoint(0.30, "1"), MetricPoint(0.31, "2")],
            0.25,
            LOWER,
            None,
            None,
            id="loss-falls",
        ),
    ],
)
def test_thresholds_against_the_history_baseline(
    history: list[MetricPoint],
    current: float,
    policy: MetricPolicy,
    severity: Severity | None,
    rollback: str | None,
) -> None:
    found = assess_metric("metric", history, current, policy)
    assert (found.severity if found else None) == severity
    assert (found.rollback_version if found else None) == rollback


def test_a_slow_slide_inside_the_thresholds_is_caught_by_the_trend_test() -> None:
    sliding = STEADY + [MetricPoint(0.90 - 0.004 * step, str(11 + step)) for step in range(1, 8)]
    found = assess_metric("accuracy", sliding, 0.872, HIGHER)
    assert found is not None
    assert found.severity is Severity.MINOR
    assert "sliding" in found.reasons[0]
    without_trend = MetricPolicy(relative_threshold=0.05, trend_test=False)
    assert assess_metric("accuracy", sliding, 0.872, without_trend) is None


def test_noise_alone_raises_no_trend_alarm() -> None:
    values = [0.9, 0.902, 0.899, 0.901, 0.9, 0.903, 0.898, 0.9, 0.901, 0.899, 0.902, 0.9, 0.899]
    assert not cusum_alarm(values, MetricPolicy())


def test_the_serving_version_is_the_baseline_and_the_rollback_target() -> None:
    found = assess_metrics(
        history={"auc": STEADY},
        current={"auc": 0.80, "loss": 0.2},
        policies={"auc": HIGHER, "loss": LOWER},
        serving={"auc": MetricPoint(0.95, version="7", source="run-7")},
    )
    assert [item.to_dict() for item in found] == [
        {
            "metric": "auc",
            "baseline": 0.95,
            "current": 0.80,
            "delta": pytest.approx(-0.15),
            "relative_delta": pytest.approx(-0.15 / 0.95),
            "severity": "critical",
            "reasons": found[0].reasons,
            "rollback_version": "7",
        }
    ]
    assert found[0].reasons[0] == "auc is 0.15 worse than the baseline 0.95 (tolerated: 0.0475)"


def test_rollback_skips_versions_that_were_already_bad() -> None:
    history = [MetricPoint(0.9, "1"), MetricPoint(0.9, "2"), MetricPoint(0.6, "3")]
    found = assess_metric("accuracy", history, 0.5, MetricPolicy(trend_test=False))
    assert found is not None and found.rollback_version == "2"


def test_a_metric_without_history_or_serving_value_is_not_judged() -> None:
    assert assess_metrics({}, {"accuracy": 0.1}, {"accuracy": HIGHER}) == []


@pytest.mark.parametrize(
    "arguments", [{"absolute_threshold": -1.0}, {"relative_threshold": -0.1}, {"window": 1}]
)
def test_impossible_policies_are_refused(arguments: dict[str, float]) -> None:
    with pytest.raises(PolicyError):
        MetricPolicy(**arguments)  # type: ignore[arg-type]
