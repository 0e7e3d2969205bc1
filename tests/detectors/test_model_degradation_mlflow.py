"""The serving model's metrics as the baseline, from a real `mlflow server`."""

from __future__ import annotations

import uuid

import httpx

from tests.degradation.test_mlflow_source import _log_run, _post
from tests.detectors.drift_fixtures import Harness, harness, migrated_template
from tests.detectors.test_model_degradation import metrics_json, push_metrics

__all__ = ["harness", "migrated_template"]


def register_model(mlflow_url: str, champion_accuracy: float | None) -> str:
    """A registered model with one version; `champion` points at it unless accuracy is None."""
    model = f"churn-{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=mlflow_url, timeout=30) as client:
        experiment_id = _post(client, "/experiments/create", {"name": model})["experiment_id"]
        _post(client, "/registered-models/create", {"name": model})
        run_id = _log_run(client, experiment_id, {"eval.accuracy": champion_accuracy or 0.9})
        _post(
            client,
            "/model-versions/create",
            {"name": model, "source": f"runs:/{run_id}/model", "run_id": run_id},
        )
        if champion_accuracy is not None:
            _post(
                client,
                "/registered-models/alias",
                {"name": model, "alias": "champion", "version": "1"},
            )
    return model


def configure(harness: Harness, mlflow_url: str, model: str) -> None:
    harness.push(
        {
            ".github/self-healing-bot.yml": (
                "paths: {metrics: [metrics.json]}\n"
                f"model: {{name: {model}, tracking_uri: '{mlflow_url}'}}\n"
            )
        }
    )


async def test_the_champion_is_the_baseline_and_the_rollback_target(
    harness: Harness, mlflow_url: str
) -> None:
    model = register_model(mlflow_url, champion_accuracy=0.92)
    configure(harness, mlflow_url, model)

    detections = await push_metrics(harness, 0.85)

    accuracy = {d.params["metric"]: d for d in detections}["eval.accuracy"]
    assert accuracy.params["baseline"] == 0.92
    assert accuracy.params["baseline_source"] == f"mlflow:{model}@champion"
    assert accuracy.params["previous_version"] == "1"
    assert accuracy.params["model"] == model
    # val_loss was never logged by the champion's run and there is no history yet.
    assert "eval.val_loss" not in {d.params["metric"] for d in detections}


async def test_without_a_champion_the_history_is_the_baseline(
    harness: Harness, mlflow_url: str
) -> None:
    model = register_model(mlflow_url, champion_accuracy=None)
    configure(harness, mlflow_url, model)
    assert await push_metrics(harness, 0.90) == []
    harness.push({"metrics.json": metrics_json(0.60)})
    detections = await harness.detect("model_degradation", "push", harness.last_push_payload())
    assert {d.params["baseline_source"] for d in detections} == {"history"}
    assert {d.params["baseline"] for d in detections} >= {0.90}
