"""Open one issue per failure signature; a recurrence comments on it and bumps its counter.

Parameters: `key` (idempotency key, usually the signature, kept as a hidden marker in the
body), `title`, `body` (Markdown), `labels`.
Outputs: `number`, `url`, `created` (false when an open issue for the key already existed).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from self_healing_bot.actions.registry import ActionSpec, register_action
from self_healing_bot.core.automation import AutomationLevel


class CreateOrUpdateIssueParameters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=256)
    body: str = Field(max_length=65536)
    labels: list[str] = Field(default_factory=list)


register_action(
    ActionSpec(
        id="create_or_update_issue",
        parameters=CreateOrUpdateIssueParameters,
        description=__doc__ or "",
        write=False,
        minimum_level=AutomationLevel.PR,
        outputs=("number", "url", "created"),
    )
)
