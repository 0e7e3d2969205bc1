"""How each metric is judged: which direction is better, how much loss is tolerated, the trend test.

>>> MetricPolicy(direction=Direction.LOWER_IS_BETTER, absolute_threshold=0.02)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Direction(StrEnum):
    """Whether a larger value of the metric is an improvement."""

    HIGHER_IS_BETTER = "higher"
    LOWER_IS_BETTER = "lower"


class PolicyError(ValueError):
    """A policy that cannot be applied (e.g. a negative threshold)."""


@dataclass(frozen=True)
class MetricPolicy:
    """The tolerance for one metric.

    A loss (the change in the worse direction) beyond `absolute_threshold` (metric units) or
    `relative_threshold` (fraction of the baseline) is a cliff. The CUSUM trend test catches a
    slow slide: it accumulates losses against the mean of the first `window` history points,
    in units of their standard deviation, less `cusum_slack` per step, and alarms at `cusum_limit`.
    """

    direction: Direction = Direction.HIGHER_IS_BETTER
    absolute_threshold: float | None = None
    relative_threshold: float | None = 0.05
    trend_test: bool = True
    window: int = 10
    cusum_slack: float = 0.5
    cusum_limit: float = 4.0

    def __post_init__(self) -> None:
        for name in ("absolute_threshold", "relative_threshold"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise PolicyError(f"{name} must be zero or positive, not {value}")
        if self.window < 2:
            raise PolicyError(f"window must be at least 2 history points, not {self.window}")

    def loss(self, baseline: float, value: float) -> float:
        """How much worse `value` is than `baseline` (negative when it is better)."""
        if self.direction is Direction.HIGHER_IS_BETTER:
            return baseline - value
        return value - baseline

    def tolerance(self, baseline: float) -> float | None:
        """The largest tolerated loss from `baseline` (the tighter of the two thresholds)."""
        limits = []
        if self.absolute_threshold is not None:
            limits.append(self.absolute_threshold)
        if self.relative_threshold is not None:
            limits.append(self.relative_threshold * abs(baseline))
        return min(limits) if limits else None
