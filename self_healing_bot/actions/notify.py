"""Send a message to the repository's notification targets (Slack incoming webhook or JSON webhook).

Parameters: `message` (text, secrets redacted before sending), `targets` (names from the
repository config's `notifications`; empty means all of them).
Outputs: `delivered` (names of the targets that accepted the message).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from self_healing_bot.actions.registry import ActionSpec, register_action
from self_healing_bot.core.automation import AutomationLevel


class NotifyParameters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, max_length=40000)
    targets: list[str] = Field(default_factory=list)


register_action(
    ActionSpec(
        id="notify",
        parameters=NotifyParameters,
        description=__doc__ or "",
        write=False,
        minimum_level=AutomationLevel.SUGGEST,
        outputs=("delivered",),
    )
)
