"""Metric history and serving versions from an MLflow tracking server, over its REST API.

>>> async with httpx.AsyncClient(base_url="http://mlflow:5000") as client:
...     source = MlflowSource(client)
...     champion, metrics = await source.serving_metrics("churn", alias="champion")
...     history = await source.version_history("churn", "accuracy")
...     runs = await source.experiment_runs("churn-training", ["accuracy"], limit=100)
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import httpx

from self_healing_bot.degradation.assessment import MetricPoint

API = "/api/2.0/mlflow"
GIT_COMMIT_TAG = "mlflow.source.git.commit"  # set by MLflow on runs started in a git checkout


class MlflowError(Exception):
    """The tracking server refused or failed a request; the message says which and why."""


class MlflowNotFoundError(MlflowError):
    """The experiment, run, model or alias does not exist."""


@dataclass(frozen=True)
class ModelVersion:
    """A registered model version and the run that produced it."""

    name: str
    version: str
    run_id: str | None
    aliases: list[str]


class MlflowSource:
    """Reads runs, registered model versions and aliases. No retries: callers decide."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def experiment_runs(
        self,
        experiment_name: str,
        metrics: Collection[str],
        limit: int,
        exclude_commit: str | None = None,
    ) -> dict[str, list[MetricPoint]]:
        """Each metric's value in the experiment's last `limit` finished runs, oldest first.

        A run tagged with `exclude_commit` (MLflow's `mlflow.source.git.commit`) is left out: it
        trained the commit being judged, whose metrics must not be their own baseline.

        >>> await source.experiment_runs("churn", ["accuracy"], 100, exclude_commit=sha)
        {'accuracy': [MetricPoint(value=0.91, version=None, source='<run id>'), ...]}
        """
        experiment = await self._call(
            "GET", "/experiments/get-by-name", params={"experiment_name": experiment_name}
        )
        # One page, newest first: a long-lived experiment's whole run list is never read.
        page = await self._call(
            "POST",
            "/runs/search",
            json={
                "experiment_ids": [experiment["experiment"]["experiment_id"]],
                "filter": "attributes.status = 'FINISHED'",
                "order_by": ["attributes.start_time DESC"],
                "max_results": limit,
            },
        )
        history: dict[str, list[MetricPoint]] = {metric: [] for metric in metrics}
        for run in reversed(page.get("runs", [])):
            if exclude_commit is not None and _tags(run).get(GIT_COMMIT_TAG) == exclude_commit:
                continue
            logged = _metrics(run)
            for metric, points in history.items():
                if metric in logged:
                    points.append(MetricPoint(logged[metric], source=run["info"]["run_id"]))
        return history

    async def model_version(self, model_name: str, alias: str) -> ModelVersion:
        """The version an alias (e.g. `champion`) points to."""
        answer = await self._call(
            "GET", "/registered-models/alias", params={"name": model_name, "alias": alias}
        )
        return _model_version(answer["model_version"])

    async def aliases(self, model_name: str) -> dict[str, str]:
        """The model's aliases and the versions they point to (empty when none is set).

        Ask this before `model_version`: MLflow answers an unset alias with a 400, which by
        status alone cannot be told from a malformed request.
        """
        answer = await self._call("GET", "/registered-models/get", params={"name": model_name})
        return {
            item["alias"]: str(item["version"])
            for item in answer["registered_model"].get("aliases", [])
        }

    async def model_versions(self, model_name: str) -> list[ModelVersion]:
        """All versions of a registered model, oldest first."""
        answer = await self._call(
            "GET", "/model-versions/search", params={"filter": f"name='{model_name}'"}
        )
        versions = [_model_version(item) for item in answer.get("model_versions", [])]
        return sorted(versions, key=lambda version: int(version.version))

    async def run_metrics(self, run_id: str) -> dict[str, float]:
        """The latest value of every metric logged by a run."""
        answer = await self._call("GET", "/runs/get", params={"run_id": run_id})
        return _metrics(answer["run"])

    async def serving_metrics(
        self, model_name: str, alias: str = "champion"
    ) -> tuple[ModelVersion, dict[str, MetricPoint]]:
        """The serving version and its run's metrics, ready to be `assess_metrics(serving=...)`."""
        version = await self.model_version(model_name, alias)
        if version.run_id is None:
            raise MlflowError(f"model {model_name!r} version {version.version} has no run")
        metrics = await self.run_metrics(version.run_id)
        return version, {
            name: MetricPoint(value, version=version.version, source=version.run_id)
            for name, value in metrics.items()
        }

    async def version_history(self, model_name: str, metric: str) -> list[MetricPoint]:
        """The metric for each registered version that logged it, oldest version first."""
        points = []
        for version in await self.model_versions(model_name):
            if version.run_id is None:
                continue
            value = (await self.run_metrics(version.run_id)).get(metric)
            if value is not None:
                points.append(MetricPoint(value, version=version.version, source=version.run_id))
        return points

    async def _call(self, method: str, path: str, **arguments: Any) -> dict[str, Any]:
        url = f"{API}{path}"
        try:
            response = await self._client.request(method, url, **arguments)
        except httpx.HTTPError as error:
            raise MlflowError(
                f"MLflow at {self._client.base_url} is unreachable: {error}"
            ) from error
        if response.status_code == 404:
            raise MlflowNotFoundError(f"MLflow {path}: {_message(response)}")
        if response.is_error:
            raise MlflowError(
                f"MLflow {path} answered {response.status_code}: {_message(response)}"
            )
        answer: dict[str, Any] = response.json()
        return answer


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json().get("message", response.text))
    except ValueError:
        return response.text[:200]


def _metrics(run: dict[str, Any]) -> dict[str, float]:
    return {item["key"]: float(item["value"]) for item in run.get("data", {}).get("metrics", [])}


def _tags(run: dict[str, Any]) -> dict[str, str]:
    return {item["key"]: item["value"] for item in run.get("data", {}).get("tags", [])}


def _model_version(item: dict[str, Any]) -> ModelVersion:
    return ModelVersion(
        name=item["name"],
        version=str(item["version"]),
        run_id=item.get("run_id") or None,
        aliases=list(item.get("aliases", [])),
    )
