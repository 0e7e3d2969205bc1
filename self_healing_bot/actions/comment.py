"""Comment on the event's pull request or issue; with a `key`, update that comment in place.

Parameters: `body` (Markdown), `issue_number` (default: the event's pull request or issue),
`key` (hidden marker: a later comment with the same key edits this one instead of adding one).
Outputs: `comment_id`, `url`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from self_healing_bot.actions.registry import ActionSpec, register_action
from self_healing_bot.core.automation import AutomationLevel


class CommentParameters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=65536)
    issue_number: int | None = Field(default=None, gt=0)
    key: str | None = Field(default=None, min_length=1, max_length=200)


register_action(
    ActionSpec(
        id="comment",
        parameters=CommentParameters,
        description=__doc__ or "",
        write=False,
        minimum_level=AutomationLevel.SUGGEST,
        outputs=("comment_id", "url"),
    )
)
