"""Is a model worse than it was? Pure functions from metric history to degradations.

The baseline is either the metrics of the model version currently serving (an MLflow alias such
as `champion`) or the mean of the last `window` points of the metric's history on the default
branch. A degradation names the version to roll back to: the serving version, or else the newest
history point with a version whose value was within tolerance of the baseline.

    >>> history = {"accuracy": [MetricPoint(0.91, "3"), MetricPoint(0.92, "4")]}
    >>> assess_metrics(history, {"accuracy": 0.80}, {"accuracy": MetricPolicy()})
    [Degradation(metric='accuracy', baseline=0.915, current=0.8, ..., rollback_version='4')]
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from self_healing_bot.degradation.policy import MetricPolicy


class Severity(StrEnum):
    """How bad a degradation is."""

    MINOR = "minor"  # a slow slide caught by the trend test, within the thresholds
    MAJOR = "major"  # beyond a threshold
    CRITICAL = "critical"  # at least twice the tolerated loss


@dataclass(frozen=True)
class MetricPoint:
    """One observed value of a metric; `version` is the model version it belongs to, if known."""

    value: float
    version: str | None = None
    source: str | None = None  # where it came from: a run id, a commit, a file


@dataclass(frozen=True)
class Degradation:
    """A metric that got worse, with what to do about it."""

    metric: str
    baseline: float
    current: float
    delta: float
    relative_delta: float | None
    severity: Severity
    reasons: list[str]
    rollback_version: str | None

    def to_dict(self) -> dict[str, object]:
        """The detection's JSON object."""
        return {
            "metric": self.metric,
            "baseline": self.baseline,
            "current": self.current,
            "delta": self.delta,
            "relative_delta": self.relative_delta,
            "severity": self.severity.value,
            "reasons": self.reasons,
            "rollback_version": self.rollback_version,
        }


def assess_metrics(
    history: Mapping[str, Sequence[MetricPoint]],
    current: Mapping[str, float],
    policies: Mapping[str, MetricPolicy],
    serving: Mapping[str, MetricPoint] | None = None,
) -> list[Degradation]:
    """Degradations of the metrics that have a policy, in policy order.

    `history` is oldest first; `serving` holds the serving model version's metrics and, where a
    metric has one, is its baseline. A metric with neither history nor serving value is skipped.
    """
    degradations = []
    for metric, policy in policies.items():
        if metric not in current:
            continue
        found = assess_metric(
            metric,
            list(history.get(metric, ())),
            current[metric],
            policy,
            (serving or {}).get(metric),
        )
        if found is not None:
            degradations.append(found)
    return degradations


def assess_metric(
    metric: str,
    history: Sequence[MetricPoint],
    current: float,
    policy: MetricPolicy,
    serving: MetricPoint | None = None,
) -> Degradation | None:
    """One metric's degradation, or None when it is within tolerance and not sliding."""
    if serving is not None:
        baseline = serving.value
    elif history:
        baseline = statistics.fmean(point.value for point in history[-policy.window :])
    else:
        return None
    loss = policy.loss(baseline, current)
    tolerance = policy.tolerance(baseline)
    reasons = []
    severity: Severity | None = None
    if tolerance is not None and loss > tolerance:
        severity = Severity.CRITICAL if loss >= 2 * tolerance and tolerance > 0 else Severity.MAJOR
        reasons.append(
            f"{metric} is {loss:.4g} worse than the baseline {baseline:.4g} "
            f"(tolerated: {tolerance:.4g})"
        )
    if policy.trend_test and cusum_alarm([point.value for point in history] + [current], policy):
        severity = severity or Severity.MINOR
        reasons.append(f"{metric} has been sliding (CUSUM over {len(history) + 1} points)")
    if severity is None:
        return None
    return Degradation(
        metric=metric,
        baseline=baseline,
        current=current,
        delta=current - baseline,
        relative_delta=(current - baseline) / abs(baseline) if baseline else None,
        severity=severity,
        reasons=reasons,
        rollback_version=serving.version
        if serving
        else last_good_version(history, baseline, policy),
    )


def cusum_alarm(values: Sequence[float], policy: MetricPolicy) -> bool:
    """True when the one-sided CUSUM of losses is at or above its limit at the last value.

    The reference mean and spread come from the first `policy.window` values; fewer than
    `window + 1` values cannot be tested. The spread has a floor of 0.1% of the mean, so a
    perfectly flat history does not make every tiny wobble an alarm.
    """
    if len(values) <= policy.window:
        return False
    reference = values[: policy.window]
    mean = statistics.fmean(reference)
    spread = max(statistics.pstdev(reference), 0.001 * abs(mean), 1e-12)
    total = 0.0
    for value in values[policy.window :]:
        total = max(0.0, total + policy.loss(mean, value) / spread - policy.cusum_slack)
    return total >= policy.cusum_limit


def last_good_version(
    history: Sequence[MetricPoint], baseline: float, policy: MetricPolicy
) -> str | None:
    """The newest version in `history` whose value was within tolerance of `baseline`."""
    tolerance = policy.tolerance(baseline) or 0.0
    for point in reversed(history):
        if point.version is not None and policy.loss(baseline, point.value) <= tolerance:
            return point.version
    return None
