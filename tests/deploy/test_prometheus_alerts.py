"""deploy/prometheus/alerts.yml: well-formed rules over the metrics the bot exports."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.deploy.documents import DEPLOY, load_yaml, metric_catalogue
from tests.deploy.promql import grouping_labels, problems

ALERTS = DEPLOY / "prometheus" / "alerts.yml"
DURATION = re.compile(r"^(\d+[smhdwy])+$")
ANNOTATION_LABEL = re.compile(r"\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)")
RULE_KEYS = {"alert", "expr", "for", "labels", "annotations", "keep_firing_for"}


def rules() -> list[dict[str, Any]]:
    return [rule for group in load_yaml(ALERTS)["groups"] for rule in group["rules"]]


def test_groups_are_named_once_and_hold_rules() -> None:
    groups = load_yaml(ALERTS)["groups"]
    names = [group["name"] for group in groups]
    assert len(names) == len(set(names))
    assert all(group["rules"] for group in groups)


def test_alert_names_are_unique() -> None:
    names = [rule["alert"] for rule in rules()]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("rule", rules(), ids=lambda rule: rule["alert"])
def test_rule_is_well_formed(rule: dict[str, Any]) -> None:
    assert set(rule) <= RULE_KEYS, f"unknown keys {set(rule) - RULE_KEYS}"
    assert DURATION.match(rule["for"]), f"'for: {rule['for']}' is not a Prometheus duration"
    assert rule["labels"]["severity"] in {"critical", "warning"}
    assert rule["annotations"]["summary"] and rule["annotations"]["description"]
    assert problems(rule["expr"], metric_catalogue()) == []


@pytest.mark.parametrize("rule", rules(), ids=lambda rule: rule["alert"])
def test_annotations_use_only_labels_the_expression_keeps(rule: dict[str, Any]) -> None:
    text = " ".join(rule["annotations"].values())
    assert set(ANNOTATION_LABEL.findall(text)) <= grouping_labels(rule["expr"])


@pytest.mark.parametrize(
    "metric",
    [
        "shbot_dead_letters",
        "shbot_github_circuit_state",
        "shbot_oldest_queued_delivery_age_seconds",
        "shbot_webhook_deliveries_total",
        "shbot_executions_total",
    ],
)
def test_each_required_signal_has_an_alert(metric: str) -> None:
    assert any(metric in rule["expr"] for rule in rules())
