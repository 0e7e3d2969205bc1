"""The MLflow baselines from a real `mlflow server`: the serving model's metrics, an
experiment's runs as the history, registered versions as the rollback target."""

from __future__ import annotations

import uuid

import httpx
import pytest

from self_healing_bot.degradation.mlflow_source import GIT_COMMIT_TAG, MlflowNotFoundError
from self_healing_bot.detectors.model_degradation import MetricsConfigError
from tests.degradation.test_mlflow_source import API, _log_run, _post
from tests.detectors.drift_fixtures import CONFIG, Harness, harness, migrated_template
from tests.detectors.test_model_degradation import degraded_metrics, metrics_json, push_metrics

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

    by_metric = degraded_metrics(detections)
    accuracy = by_metric["eval.accuracy"]
    assert accuracy["baseline"] == 0.92
    assert accuracy["baseline_source"] == f"mlflow:{model}@champion"
    assert (detections[0].params["previous_version"], detections[0].params["model"]) == ("1", model)
    # val_loss was never logged by the champion's run and there is no history yet.
    assert "eval.val_loss" not in by_metric


async def test_without_a_champion_the_history_is_the_baseline(
    harness: Harness, mlflow_url: str
) -> None:
    model = register_model(mlflow_url, champion_accuracy=None)
    configure(harness, mlflow_url, model)
    assert await push_metrics(harness, 0.90) == []
    harness.push({"metrics.json": metrics_json(0.60)})
    detections = await harness.detect("model_degradation", "push", harness.last_push_payload())
    by_metric = degraded_metrics(detections)
    assert {metric["baseline_source"] for metric in by_metric.values()} == {"history"}
    assert by_metric["eval.accuracy"]["baseline"] == 0.90


def training_experiment(
    mlflow_url: str, runs: list[tuple[float, str | None]], register: bool = False
) -> str:
    """An experiment of finished runs, each (accuracy, commit it trained); with `register`, a
    registered model of the same name with one version per run and no alias."""
    name = f"training-{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=mlflow_url, timeout=30) as client:
        experiment_id = _post(client, "/experiments/create", {"name": name})["experiment_id"]
        if register:
            _post(client, "/registered-models/create", {"name": name})
        for accuracy, commit in runs:
            tags = {GIT_COMMIT_TAG: commit} if commit else {}
            run_id = _log_run(client, experiment_id, {"eval.accuracy": accuracy}, tags)
            if register:
                _post(
                    client,
                    "/model-versions/create",
                    {"name": name, "source": f"runs:/{run_id}/model", "run_id": run_id},
                )
    return name


def log_training_run(mlflow_url: str, experiment: str, accuracy: float, commit: str) -> None:
    with httpx.Client(base_url=mlflow_url, timeout=30) as client:
        response = client.get(
            f"{API}/experiments/get-by-name", params={"experiment_name": experiment}
        )
        experiment_id = response.json()["experiment"]["experiment_id"]
        _log_run(client, experiment_id, {"eval.accuracy": accuracy}, {GIT_COMMIT_TAG: commit})


def configure_experiment(harness: Harness, model: str) -> None:
    harness.push({".github/self-healing-bot.yml": CONFIG + f"model: {model}\n".encode()})


async def test_the_experiments_runs_are_the_history_without_the_judged_commits_run(
    harness: Harness, mlflow_url: str
) -> None:
    for _ in range(3):  # the branch's own history, which the experiment's runs replace
        assert await push_metrics(harness, 0.90) == []
    experiment = training_experiment(mlflow_url, [(0.95, None), (0.97, None)])
    configure_experiment(
        harness, f"{{tracking_uri: '{mlflow_url}', experiment: {experiment}, registry: repository}}"
    )
    sha = harness.push({"metrics.json": metrics_json(0.80)}, "accuracy 0.80")
    log_training_run(mlflow_url, experiment, 0.80, sha)  # CI trained the pushed commit

    detections = await harness.detect("model_degradation", "push", harness.last_push_payload())

    by_metric = degraded_metrics(detections)
    assert detections[0].head_sha == sha
    accuracy = by_metric["eval.accuracy"]
    assert accuracy["baseline"] == pytest.approx(0.96)  # not counting its own 0.80 run
    assert accuracy["baseline_source"] == f"mlflow-experiment:{experiment}"
    # The experiment never logged val_loss: its baseline is the branch's history.
    val_loss = by_metric["eval.val_loss"]
    assert val_loss["baseline_source"] == "history"
    assert val_loss["baseline"] == pytest.approx(0.10)


async def test_without_an_alias_the_newest_good_registered_version_is_the_rollback_target(
    harness: Harness, mlflow_url: str
) -> None:
    model = training_experiment(mlflow_url, [(0.90, None), (0.91, None), (0.70, None)], True)
    configure_experiment(
        harness, f"{{name: {model}, tracking_uri: '{mlflow_url}', experiment: {model}}}"
    )

    detections = await push_metrics(harness, 0.60)

    accuracy = degraded_metrics(detections)["eval.accuracy"]
    assert accuracy["baseline"] == pytest.approx((0.90 + 0.91 + 0.70) / 3)
    assert accuracy["rollback_version"] == "2"  # 3 is as bad; 2 is the newest good one
    assert detections[0].params["previous_version"] == "2"


@pytest.mark.parametrize(
    ("model", "error", "message"),
    [
        ("{experiment: training}", MetricsConfigError, "model.tracking_uri is not set"),
        (
            "{experiment: no-such-experiment, tracking_uri: '%s'}",
            MlflowNotFoundError,
            "no-such-experiment",
        ),
    ],
    ids=["no-tracking-uri", "unknown-experiment"],
)
async def test_a_misconfigured_experiment_is_a_clear_error(
    harness: Harness, mlflow_url: str, model: str, error: type[Exception], message: str
) -> None:
    configure_experiment(harness, model.replace("%s", mlflow_url))
    with pytest.raises(error, match=message):
        await push_metrics(harness, 0.60)
