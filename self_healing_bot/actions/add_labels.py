"""Add labels to the event's pull request or issue, or to `issue_number`.

Parameters: `labels` (at least one), `issue_number` (default: the event's pull request or issue).
Outputs: `labels` (all labels after the change).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from self_healing_bot.actions.context import ActionContext
from self_healing_bot.actions.registry import ActionResult, ActionSpec, register_action
from self_healing_bot.core.automation import AutomationLevel


class AddLabelsParameters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    labels: list[str] = Field(min_length=1)
    issue_number: int | None = Field(default=None, gt=0)


async def run(context: ActionContext, parameters: AddLabelsParameters) -> ActionResult:
    """Add the labels; labels already present stay as they are (GitHub adds, never duplicates)."""
    number = context.target_issue(parameters.issue_number)
    if context.dry_run:
        wanted = ", ".join(parameters.labels)
        return ActionResult(f"would label #{number} with {wanted}", {"labels": None})
    labels = await context.github.add_labels(context.repository, number, parameters.labels)
    return ActionResult(f"#{number} is labelled {', '.join(labels)}", {"labels": list(labels)})


register_action(
    ActionSpec(
        id="add_labels",
        parameters=AddLabelsParameters,
        description=__doc__ or "",
        write=False,
        minimum_level=AutomationLevel.PR,
        outputs=("labels",),
        runner=run,
    )
)
