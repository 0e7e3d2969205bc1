"""Start a workflow (for example retraining) with `workflow_dispatch`, and follow the run it starts.

Parameters: `workflow` (file name like `retrain.yml`, or its id), `ref` (branch or tag to run
on; default the repository's default branch), `inputs` (the workflow's declared inputs).
Outputs: `run_id` (when GitHub returns it), `url`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from self_healing_bot.actions.registry import ActionSpec, register_action
from self_healing_bot.core.automation import AutomationLevel


class DispatchWorkflowParameters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workflow: str = Field(min_length=1)
    ref: str | None = None
    # GitHub accepts at most 10 inputs per dispatch.
    inputs: dict[str, str] = Field(default_factory=dict, max_length=10)


register_action(
    ActionSpec(
        id="dispatch_workflow",
        parameters=DispatchWorkflowParameters,
        description=__doc__ or "",
        write=True,
        minimum_level=AutomationLevel.AUTO,
        outputs=("run_id", "url"),
    )
)
