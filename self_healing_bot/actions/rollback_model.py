"""Roll a model back to its previous version: move an MLflow alias, or open a PR reverting a pin.

Parameters: `model_name`; `mode` — `mlflow_alias` (point `alias` at `to_version`, default the
version before the current one) or `pull_request` (set `version_key` in `version_file` to
`to_version` on `branch`, a PR for humans to merge); `tracking_uri` for MLflow.
Outputs: `from_version`, `to_version`, and for a PR `number`, `url`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from self_healing_bot.actions.registry import ActionSpec, register_action
from self_healing_bot.core.automation import AutomationLevel


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


register_action(
    ActionSpec(
        id="rollback_model",
        parameters=RollbackModelParameters,
        description=__doc__ or "",
        write=True,
        minimum_level=AutomationLevel.AUTO,
        outputs=("from_version", "to_version", "number", "url"),
    )
)
