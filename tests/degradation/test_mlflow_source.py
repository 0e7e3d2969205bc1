"""Our MLflow source against a real tracking server: runs, registered versions, aliases."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from self_healing_bot.degradation.assessment import Severity, assess_metrics
from self_healing_bot.degradation.mlflow_source import (
    GIT_COMMIT_TAG,
    MlflowError,
    MlflowNotFoundError,
    MlflowSource,
)
from self_healing_bot.degradation.policy import MetricPolicy

API = "/api/2.0/mlflow"


def _post(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"{API}{path}", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _log_run(
    client: httpx.Client,
    experiment_id: str,
    metrics: dict[str, float],
    tags: dict[str, str] | None = None,
) -> str:
    now = int(time.time() * 1000)
    run = _post(
        client,
        "/runs/create",
        {
            "experiment_id": experiment_id,
            "start_time": now,
            "tags": [{"key": key, "value": value} for key, value in (tags or {}).items()],
        },
    )
    run_id: str = run["run"]["info"]["run_id"]
    for key, value in metrics.items():
        _post(
            client,
            "/runs/log-metric",
            {"run_id": run_id, "key": key, "value": value, "timestamp": now, "step": 0},
        )
    _post(client, "/runs/update", {"run_id": run_id, "status": "FINISHED", "end_time": now + 1})
    return run_id


@pytest.fixture(scope="module")
def registry(mlflow_url: str) -> dict[str, str]:
    """An experiment with four finished runs, each registered as a version; v2 is `champion`."""
    suffix = uuid.uuid4().hex[:8]
    experiment, model = f"churn-{suffix}", f"churn-model-{suffix}"
    with httpx.Client(base_url=mlflow_url, timeout=30) as client:
        experiment_id = _post(client, "/experiments/create", {"name": experiment})["experiment_id"]
        _post(client, "/registered-models/create", {"name": model})
        for accuracy in (0.90, 0.92, 0.91, 0.80):
            run_id = _log_run(client, experiment_id, {"accuracy": accuracy, "loss": 1 - accuracy})
            _post(
                client,
                "/model-versions/create",
                {"name": model, "source": f"runs:/{run_id}/model", "run_id": run_id},
            )
        _post(
            client, "/registered-models/alias", {"name": model, "alias": "champion", "version": "2"}
        )
    return {"experiment": experiment, "model": model}


@pytest.mark.parametrize(
    ("limit", "accuracy"),
    [(100, [0.90, 0.92, 0.91, 0.80]), (2, [0.91, 0.80])],
    ids=["all", "the-newest-two"],
)
async def test_experiment_runs_are_the_newest_runs_oldest_first(
    mlflow_url: str, registry: dict[str, str], limit: int, accuracy: list[float]
) -> None:
    async with httpx.AsyncClient(base_url=mlflow_url, timeout=30) as client:
        history = await MlflowSource(client).experiment_runs(
            registry["experiment"], ["accuracy", "loss", "f1"], limit
        )
    assert [point.value for point in history["accuracy"]] == accuracy
    assert [point.value for point in history["loss"]] == pytest.approx([1 - a for a in accuracy])
    assert history["f1"] == []
    assert all(point.source for point in history["accuracy"])


async def test_the_run_of_the_judged_commit_is_left_out(mlflow_url: str) -> None:
    experiment = f"commits-{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=mlflow_url, timeout=30) as client:
        experiment_id = _post(client, "/experiments/create", {"name": experiment})["experiment_id"]
        for commit, accuracy in (("a" * 40, 0.90), ("b" * 40, 0.70), ("c" * 40, 0.91)):
            _log_run(client, experiment_id, {"accuracy": accuracy}, {GIT_COMMIT_TAG: commit})
    async with httpx.AsyncClient(base_url=mlflow_url, timeout=30) as client:
        history = await MlflowSource(client).experiment_runs(
            experiment, ["accuracy"], 100, exclude_commit="b" * 40
        )
    assert [point.value for point in history["accuracy"]] == [0.90, 0.91]


async def test_the_champion_alias_is_the_baseline_and_the_rollback_target(
    mlflow_url: str, registry: dict[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=mlflow_url, timeout=30) as client:
        source = MlflowSource(client)
        champion, serving = await source.serving_metrics(registry["model"], alias="champion")
        history = await source.version_history(registry["model"], "accuracy")
    assert (champion.version, champion.aliases) == ("2", ["champion"])
    assert serving["accuracy"].value == pytest.approx(0.92)
    assert [(point.version, point.value) for point in history] == [
        ("1", 0.90),
        ("2", 0.92),
        ("3", 0.91),
        ("4", 0.80),
    ]
    found = assess_metrics(
        {"accuracy": history[:-1]},
        {"accuracy": history[-1].value},
        {"accuracy": MetricPolicy(trend_test=False)},
        serving={"accuracy": serving["accuracy"]},
    )
    assert [(item.metric, item.severity, item.rollback_version) for item in found] == [
        ("accuracy", Severity.CRITICAL, "2")
    ]


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (
            lambda source: source.experiment_runs("no-such-experiment", ["accuracy"], 10),
            MlflowNotFoundError,
        ),
        (lambda source: source.model_version("no-such-model", "champion"), MlflowError),
    ],
)
async def test_unknown_names_are_clear_errors(
    mlflow_url: str, call: Any, error: type[Exception]
) -> None:
    async with httpx.AsyncClient(base_url=mlflow_url, timeout=30) as client:
        with pytest.raises(error):
            await call(MlflowSource(client))


async def test_an_unreachable_server_is_a_clear_error() -> None:
    async with httpx.AsyncClient(base_url="http://127.0.0.1:9", timeout=2) as client:
        with pytest.raises(MlflowError, match="unreachable"):
            await MlflowSource(client).model_version("model", "champion")
