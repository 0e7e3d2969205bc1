"""`rollback_model`: an MLflow alias moved back on a real tracking server, or a PR re-pinning
the earlier version in the repository (sandbox)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from self_healing_bot.actions.rollback_model import (
    NoEarlierVersionError,
    RollbackModelParameters,
    run,
)
from self_healing_bot.detectors.registry import Detection
from tests.actions.runners.conftest import MakeContext
from tests.github.world import REPO, World

API = "/api/2.0/mlflow"


def _degraded(version: str | None) -> Detection:
    return Detection(
        detector_id="model_degradation",
        category="model_degradation",
        signature="model_degradation:0a1b2c3d",
        params={"version": version} if version else {},
    )


def _post(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"{API}{path}", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _registered_model(mlflow_url: str, versions: int, champion: str) -> str:
    model = f"churn-{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=mlflow_url, timeout=30) as client:
        _post(client, "/registered-models/create", {"name": model})
        for _ in range(versions):
            _post(client, "/model-versions/create", {"name": model, "source": "s3://models/m"})
        body = {"name": model, "alias": "champion", "version": champion}
        _post(client, "/registered-models/alias", body)
    return model


def _champion(mlflow_url: str, model: str) -> str:
    params = {"name": model, "alias": "champion"}
    response = httpx.get(f"{mlflow_url}{API}/registered-models/alias", params=params)
    version: str = response.json()["model_version"]["version"]
    return version


async def test_the_alias_moves_back_once(mlflow_url: str, make_context: MakeContext) -> None:
    model = _registered_model(mlflow_url, versions=3, champion="3")
    parameters = RollbackModelParameters(model_name=model, tracking_uri=mlflow_url)
    context = make_context(detection=_degraded("3"))
    dry = await run(make_context(detection=_degraded("3"), dry_run=True), parameters)
    assert dry.summary == f"would move {model}@champion from 3 to 2"
    assert _champion(mlflow_url, model) == "3"
    first = await run(context, parameters)
    again = await run(context, parameters)  # redelivered: must not roll back to version 1
    assert first.outputs == again.outputs == {"from_version": "3", "to_version": "2"}
    assert again.summary == f"{model}@champion is already version 2"
    assert _champion(mlflow_url, model) == "2"


async def test_no_earlier_version_is_refused(mlflow_url: str, make_context: MakeContext) -> None:
    model = _registered_model(mlflow_url, versions=1, champion="1")
    parameters = RollbackModelParameters(model_name=model, tracking_uri=mlflow_url)
    with pytest.raises(NoEarlierVersionError, match="no registered version before 1"):
        await run(make_context(detection=_degraded(None)), parameters)
    assert _champion(mlflow_url, model) == "1"


async def test_a_pinned_version_is_reverted_in_a_pull_request(
    world: World, make_context: MakeContext
) -> None:
    pin = {"configs/model.yaml": b"model:\n  version: '7'\n"}
    await world.client.commit_files(REPO, "main", "Pin model version 7", pin)
    parameters = RollbackModelParameters(
        model_name="churn",
        mode="pull_request",
        to_version="6",
        version_file="configs/model.yaml",
        version_key="model.version",
        branch="self-healing-bot/model_degradation/0a1b2c3d",
    )
    context = make_context(detection=_degraded("7"))
    first = await run(context, parameters)
    again = await run(context, parameters)
    assert first.outputs == again.outputs
    assert first.outputs["from_version"] == "7" and first.outputs["to_version"] == "6"
    pinned = await world.client.get_file(REPO, "configs/model.yaml", ref=parameters.branch)
    assert pinned is not None and pinned.content == b"model:\n  version: '6'\n"
    pull = await world.client.find_pull_request(REPO, parameters.branch or "")
    assert pull is not None and pull.number == first.outputs["number"]
    assert pull.title == "Roll churn back to version 6"
    # The executor verifies the repair by the rollback commit's CI, as for a fix PR.
    assert first.outputs["branch"] == parameters.branch
    assert first.outputs["head_sha"] == await world.client.get_branch_sha(REPO, parameters.branch)
