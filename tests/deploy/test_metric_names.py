"""deploy/metric_names.txt against the metrics the application really registers."""

from __future__ import annotations

import importlib
import pkgutil

from prometheus_client.metrics import MetricWrapperBase

import self_healing_bot
from tests.deploy.documents import metric_catalogue

EXPECTED = {
    "shbot_webhook_deliveries_total": "counter",
    "shbot_delivery_latency_seconds": "histogram",
    "shbot_queue_depth": "gauge",
    "shbot_dead_letters": "gauge",
    "shbot_oldest_queued_delivery_age_seconds": "gauge",
    "shbot_stage_duration_seconds": "histogram",
    "shbot_executions_total": "counter",
    "shbot_github_circuit_state": "gauge",
    "shbot_github_rate_limit_remaining": "gauge",
    "shbot_github_requests_total": "counter",
    "shbot_scheduled_jobs_total": "counter",
}


def test_catalogue_holds_the_agreed_names_and_types() -> None:
    assert {name: metric.type for name, metric in metric_catalogue().items()} == EXPECTED


def registered_metrics() -> dict[str, str]:
    """Name and type of every metric defined in a `metrics` module of the package."""
    registered = {}
    for found in pkgutil.walk_packages(self_healing_bot.__path__, "self_healing_bot."):
        if found.name.rsplit(".", 1)[-1] != "metrics":
            continue
        for value in vars(importlib.import_module(found.name)).values():
            if isinstance(value, MetricWrapperBase):
                for described in value.describe():
                    # prometheus_client drops a counter's `_total` from its family name.
                    suffix = "_total" if described.type == "counter" else ""
                    registered[described.name + suffix] = described.type
    return registered


def test_catalogue_matches_the_metrics_modules() -> None:
    expected = {name: metric.type for name, metric in metric_catalogue().items()}
    assert registered_metrics() == expected
