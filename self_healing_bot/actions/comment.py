"""Comment on the event's pull request or issue; with a `key`, update that comment in place.

Parameters: `body` (Markdown), `issue_number` (default: the event's pull request or issue),
`key` (hidden marker: a later comment with the same key edits this one instead of adding one;
default the failure signature, so a redelivered step finds its comment).
Outputs: `comment_id`, `url` (None in a dry run).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from self_healing_bot.actions.context import ActionContext
from self_healing_bot.actions.registry import ActionResult, ActionSpec, register_action
from self_healing_bot.core.automation import AutomationLevel
from self_healing_bot.github.markers import with_marker
from self_healing_bot.guardrails import redact_secrets


class CommentParameters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=65536)
    issue_number: int | None = Field(default=None, gt=0)
    key: str | None = Field(default=None, min_length=1, max_length=200)


async def run(context: ActionContext, parameters: CommentParameters) -> ActionResult:
    """Create the comment marked with the key, or edit it when its text changed."""
    number = context.target_issue(parameters.issue_number)
    key = parameters.key or context.idempotency_key
    body = with_marker(redact_secrets(parameters.body), key)
    github, repository = context.github, context.repository
    existing = await github.find_comment_by_marker(repository, number, key)
    if existing is not None and existing.body == body:
        return ActionResult(
            f"comment on #{number} is up to date",
            {"comment_id": existing.id, "url": existing.html_url},
        )
    if context.dry_run:
        verb = "edit the comment" if existing else "comment"
        return ActionResult(f"would {verb} on #{number}", {"comment_id": None, "url": None})
    if existing is not None:
        comment = await github.update_comment(repository, existing.id, body)
        summary = f"edited comment {comment.id} on #{number}"
    else:
        comment = await github.create_comment(repository, number, body)
        summary = f"commented on #{number}"
    return ActionResult(summary, {"comment_id": comment.id, "url": comment.html_url})


register_action(
    ActionSpec(
        id="comment",
        parameters=CommentParameters,
        description=__doc__ or "",
        write=False,
        minimum_level=AutomationLevel.SUGGEST,
        outputs=("comment_id", "url"),
        runner=run,
    )
)
