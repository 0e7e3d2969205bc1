"""Roll a model back to its previous version: move an MLflow alias, or open a PR reverting a pin.

Parameters: `model_name`; `mode` — `mlflow_alias` (point `alias` at `to_version`, default the
version before the current one) or `pull_request` (set `version_key` in `version_file` to
`to_version` on `branch`, a PR for humans to merge); `tracking_uri` for MLflow.
Outputs: `from_version`, `to_version`, and for a PR `number`, `url`, `branch`, `head_sha`.

The version rolled back from is the detection's `params.version` (the degraded one) when it
says, else the alias's current version; an alias already at the target is left alone, so a
repeated step does not roll back a second version.
"""

from __future__ import annotations

from typing import Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, model_validator

from self_healing_bot.actions.context import ActionContext, ActionError
from self_healing_bot.actions.open_fix_pull_request import JsonSet, YamlSet, open_fix
from self_healing_bot.actions.registry import ActionResult, ActionSpec, register_action
from self_healing_bot.core.automation import AutomationLevel
from self_healing_bot.degradation.mlflow_source import API, MlflowError, MlflowSource


class RollbackModelParameters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model_name: str = Field(min_length=1)
    mode: Literal["mlflow_alias", "pull_request"] = "mlflow_alias"
    to_version: str | None = None
    alias: str = Field(default="champion", min_length=1)
    tracking_uri: str | None = None
    version_file: str | None = None
    version_key: str | None = None
    branch: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._/-]+$")

    @model_validator(mode="after")
    def _pull_request_needs_a_file(self) -> RollbackModelParameters:
        if self.mode == "pull_request":
            missing = [
                name
                for name in ("version_file", "version_key", "branch", "to_version")
                if getattr(self, name) is None
            ]
            if missing:
                raise ValueError(f"mode pull_request needs {', '.join(missing)}")
        return self


class NoEarlierVersionError(ActionError):
    """There is no registered version before the degraded one to roll back to."""


def previous_version(versions: list[str], current: str) -> str:
    """The highest version number below `current`.

    >>> previous_version(["1", "2", "3"], "3")
    '2'
    """
    earlier = [version for version in versions if int(version) < int(current)]
    if not earlier:
        raise NoEarlierVersionError(f"no registered version before {current} to roll back to")
    return max(earlier, key=int)


async def _move_alias(context: ActionContext, parameters: RollbackModelParameters) -> ActionResult:
    if parameters.tracking_uri is None:
        raise ActionError("mode mlflow_alias needs `tracking_uri` (the repository's model config)")
    name, alias = parameters.model_name, parameters.alias
    async with httpx.AsyncClient(base_url=parameters.tracking_uri, timeout=30) as mlflow:
        source = MlflowSource(mlflow)
        current = (await source.model_version(name, alias)).version
        from_version = str(context.detection.params.get("version", current))
        to_version = parameters.to_version or previous_version(
            [version.version for version in await source.model_versions(name)], from_version
        )
        outputs = {"from_version": from_version, "to_version": to_version}
        if current == to_version:
            return ActionResult(f"{name}@{alias} is already version {to_version}", outputs)
        if context.dry_run:
            return ActionResult(
                f"would move {name}@{alias} from {current} to {to_version}", outputs
            )
        response = await mlflow.post(
            f"{API}/registered-models/alias",
            json={"name": name, "alias": alias, "version": to_version},
        )
        if response.is_error:
            raise MlflowError(
                f"MLflow refused to move {name}@{alias} to {to_version}: "
                f"{response.status_code} {response.text[:500]}"
            )
    return ActionResult(f"moved {name}@{alias} from {current} to {to_version}", outputs)


async def _revert_pin(context: ActionContext, parameters: RollbackModelParameters) -> ActionResult:
    # The model validator guarantees these for mode pull_request.
    assert parameters.version_file and parameters.version_key and parameters.branch
    assert parameters.to_version
    edit_type = JsonSet if parameters.version_file.endswith(".json") else YamlSet
    edit = edit_type.model_validate(
        {
            "kind": "json_set" if edit_type is JsonSet else "yaml_set",
            "path": parameters.version_file,
            "key": parameters.version_key,
            "value": parameters.to_version,
        }
    )
    from_version = context.detection.params.get("version")
    result = await open_fix(
        context,
        branch=parameters.branch,
        title=f"Roll {parameters.model_name} back to version {parameters.to_version}",
        body=(
            f"The served model `{parameters.model_name}` degraded"
            f"{f' at version {from_version}' if from_version else ''}; this pins version "
            f"{parameters.to_version} again in `{parameters.version_file}`."
        ),
        file_edits=[edit],
    )
    outputs = {
        "from_version": from_version,
        "to_version": parameters.to_version,
        "number": result.outputs["number"],
        "url": result.outputs["url"],
        # What the executor verifies a pull request by, as for any fix pull request.
        "branch": result.outputs["branch"],
        "head_sha": result.outputs["head_sha"],
    }
    return ActionResult(result.summary, outputs)


async def run(context: ActionContext, parameters: RollbackModelParameters) -> ActionResult:
    """Move the MLflow alias back, or open a PR pinning the earlier version."""
    if parameters.mode == "mlflow_alias":
        return await _move_alias(context, parameters)
    return await _revert_pin(context, parameters)


register_action(
    ActionSpec(
        id="rollback_model",
        parameters=RollbackModelParameters,
        description=__doc__ or "",
        write=True,
        minimum_level=AutomationLevel.AUTO,
        outputs=("from_version", "to_version", "number", "url", "branch", "head_sha"),
        runner=run,
    )
)
