"""The expression checker itself: it must reject what Prometheus would not find."""

from __future__ import annotations

import pytest

from tests.deploy.documents import metric_catalogue
from tests.deploy.promql import problems


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("max(shbot_dead_letters) > 0", []),
        (
            "histogram_quantile(0.95, sum by (le, stage) "
            "(rate(shbot_stage_duration_seconds_bucket[5m])))",
            [],
        ),
        ('sum(rate(shbot_webhook_deliveries_total{status=~"5.."}[5m]))', []),
        ("rate(shbot_deliveries_total[5m])", ["unknown series shbot_deliveries_total"]),
        (
            "histogram_quantile(0.9, rate(shbot_delivery_latency_seconds[5m]))",
            ["unknown series shbot_delivery_latency_seconds"],
        ),
        (
            "sum by (repository) (shbot_queue_depth)",
            ["label 'repository' is not on ['shbot_queue_depth']"],
        ),
        (
            'shbot_executions_total{state="verified"}',
            ["label 'state' is not on ['shbot_executions_total']"],
        ),
        ("max(shbot_dead_letters > 0", ["unbalanced brackets in 'max(shbot_dead_letters > 0'"]),
        ("up == 0", ["no shbot_ metric in 'up == 0'"]),
    ],
)
def test_problems_names_what_the_catalogue_lacks(expr: str, expected: list[str]) -> None:
    assert problems(expr, metric_catalogue()) == expected
