"""Re-run the failed jobs of a workflow run, at most `max_attempts` times per failure signature.

Parameters: `run_id` (the workflow run to re-run), `max_attempts` (cap per signature, 1-5).
Outputs: `run_id`, `attempt` (the run's attempt after this step).

GitHub numbers a run's attempts, so the run itself says whether it was re-run already: if its
attempt is past the one the detection read (`context.run_attempt`), or it is running again,
nothing is done; past `max_attempts` the step is refused.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from self_healing_bot.actions.context import ActionContext, ActionError
from self_healing_bot.actions.registry import ActionResult, ActionSpec, register_action
from self_healing_bot.core.automation import AutomationLevel


class RerunFailedJobsParameters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_id: int = Field(gt=0)
    max_attempts: int = Field(default=1, ge=1, le=5)


class RerunLimitError(ActionError):
    """The run was re-run as often as the playbook allows; the failure needs another remedy."""


async def run(context: ActionContext, parameters: RerunFailedJobsParameters) -> ActionResult:
    """Re-run the failed jobs once per run attempt, up to the cap."""
    github, repository, run_id = context.github, context.repository, parameters.run_id
    workflow_run = await github.get_workflow_run(repository, run_id)
    attempt = workflow_run.run_attempt
    outputs = {"run_id": run_id, "attempt": attempt}
    seen_attempt = context.run_attempt if context.run_id == run_id else None
    if (seen_attempt is not None and attempt > seen_attempt) or workflow_run.status != "completed":
        return ActionResult(f"run {run_id} is already re-running (attempt {attempt})", outputs)
    if workflow_run.conclusion == "success":
        return ActionResult(
            f"run {run_id} succeeded (attempt {attempt}); nothing to re-run", outputs
        )
    if attempt > parameters.max_attempts:
        raise RerunLimitError(
            f"run {run_id} already had {attempt - 1} re-run(s), the playbook allows "
            f"{parameters.max_attempts}; raise max_attempts or let the failure escalate"
        )
    if context.dry_run:
        return ActionResult(f"would re-run the failed jobs of run {run_id}", outputs)
    await github.rerun_failed_jobs(repository, run_id)
    return ActionResult(
        f"re-ran the failed jobs of run {run_id} (attempt {attempt + 1})",
        {"run_id": run_id, "attempt": attempt + 1},
    )


register_action(
    ActionSpec(
        id="rerun_failed_jobs",
        parameters=RerunFailedJobsParameters,
        description=__doc__ or "",
        write=True,
        minimum_level=AutomationLevel.AUTO,
        outputs=("run_id", "attempt"),
        runner=run,
    )
)
