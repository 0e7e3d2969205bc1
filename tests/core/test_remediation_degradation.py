"""A model's degradation end to end: one incident per model, however many metrics fell."""

from __future__ import annotations

from tests.core.remediation_fixtures import remediation, repairs, settle
from tests.detectors.pipeline_fixtures import (
    CONFIG,
    REPO,
    Bot,
    bot,
    detectors_loaded,
    org_config,
    sqlite_url,
)

__all__ = ["bot", "detectors_loaded", "org_config", "remediation", "sqlite_url"]


async def test_a_model_whose_metrics_all_fell_gets_one_rollback_and_one_issue(bot: Bot) -> None:
    # Accuracy and F1 fall together: one incident for the model, not a rollback per metric.
    config = (
        "automation:\n  default: pr\n  categories: {model_degradation: auto}\n"
        "paths: {metrics: [metrics.json]}\n"
        "model: {name: wine, registry: repository, version_file: model.yaml, "
        "version_key: model.version}\n"
    )
    bot.push(
        {
            CONFIG: config,
            "model.yaml": 'model:\n  version: "4"\n',
            "metrics.json": '{"eval": {"accuracy": 0.96, "f1": 0.95}}',
        }
    )
    await settle(bot)
    bot.push(
        {
            "model.yaml": 'model:\n  version: "5"\n',
            "metrics.json": '{"eval": {"accuracy": 0.78, "f1": 0.74}}',
        }
    )
    await settle(bot)

    (repair,) = await repairs(bot)
    assert repair.category == "model_degradation"
    metrics = [metric["metric"] for metric in repair.detection["params"]["metrics"]]
    assert sorted(metrics) == ["eval.accuracy", "eval.f1"]
    repository = bot.sandbox.repository(REPO)
    (pull,) = repository.pulls.values()
    assert pull.number == repair.pull_request
    issues = [issue for issue in repository.issues.values() if not issue.is_pull_request]
    assert [issue.number for issue in issues] == [repair.issue]
