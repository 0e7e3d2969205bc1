"""Re-run the failed jobs of a workflow run, at most `max_attempts` times per failure signature.

Parameters: `run_id` (the workflow run to re-run), `max_attempts` (cap per signature, 1-5).
Outputs: `run_id`, `attempt`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from self_healing_bot.actions.registry import ActionSpec, register_action
from self_healing_bot.core.automation import AutomationLevel


class RerunFailedJobsParameters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_id: int = Field(gt=0)
    max_attempts: int = Field(default=1, ge=1, le=5)


register_action(
    ActionSpec(
        id="rerun_failed_jobs",
        parameters=RerunFailedJobsParameters,
        description=__doc__ or "",
        write=True,
        minimum_level=AutomationLevel.AUTO,
        outputs=("run_id", "attempt"),
    )
)
