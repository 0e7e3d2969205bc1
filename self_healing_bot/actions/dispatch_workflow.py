"""Start a workflow (for example retraining) with `workflow_dispatch`, and follow the run it starts.

Parameters: `workflow` (file name like `retrain.yml`, or its id), `ref` (branch or tag to run
on; default the repository's default branch), `inputs` (the workflow's declared inputs).
Outputs: `run_id` (when GitHub returns it), `url`. The executor stores the run on the repair
and waits for its completed `workflow_run` event: success verifies the repair, a failure
runs the playbook's compensations and escalates. Without a run id there is nothing to follow.

GitHub cannot tell a repeated dispatch from a new one, so before dispatching the runner looks
for a `workflow_dispatch` run of the workflow on the ref created since the repair began
(`ActionContext.acting_since`) and follows that one: a step repeated after a crash (the
dispatch sent, its outputs not yet recorded) starts nothing new. A run someone else dispatched
in that window counts as this repair's too: the workflow ran on that ref, which is the goal.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from self_healing_bot.actions.context import ActionContext
from self_healing_bot.actions.registry import ActionResult, ActionSpec, register_action
from self_healing_bot.core.automation import AutomationLevel


class DispatchWorkflowParameters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workflow: str = Field(min_length=1)
    ref: str | None = None
    # GitHub accepts at most 10 inputs per dispatch.
    inputs: dict[str, str] = Field(default_factory=dict, max_length=10)


async def run(context: ActionContext, parameters: DispatchWorkflowParameters) -> ActionResult:
    """Dispatch the workflow and return the run it started, to be followed by the executor."""
    github, repository = context.github, context.repository
    ref = parameters.ref or context.default_branch
    if context.dry_run:
        return ActionResult(
            f"would dispatch {parameters.workflow} on {ref}", {"run_id": None, "url": None}
        )
    if context.acting_since is not None:
        earlier = await github.list_workflow_runs(
            repository,
            parameters.workflow,
            branch=ref,
            event="workflow_dispatch",
            created_since=context.acting_since,
        )
        if earlier:
            return ActionResult(
                f"{parameters.workflow} was already dispatched on {ref}: run {earlier[-1].id}",
                {"run_id": earlier[-1].id, "url": earlier[-1].html_url},
            )
    run_id = await github.dispatch_workflow(
        repository, parameters.workflow, ref, dict(parameters.inputs)
    )
    if run_id is None:
        return ActionResult(
            f"dispatched {parameters.workflow} on {ref}; GitHub did not say which run started",
            {"run_id": None, "url": None},
        )
    workflow_run = await github.get_workflow_run(repository, run_id)
    return ActionResult(
        f"dispatched {parameters.workflow} on {ref}: run {run_id}",
        {"run_id": run_id, "url": workflow_run.html_url},
    )


register_action(
    ActionSpec(
        id="dispatch_workflow",
        parameters=DispatchWorkflowParameters,
        description=__doc__ or "",
        write=True,
        minimum_level=AutomationLevel.AUTO,
        outputs=("run_id", "url"),
        runner=run,
    )
)
