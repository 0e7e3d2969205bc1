"""Open one issue per failure signature; a recurrence comments on it and bumps its counter.

Parameters: `key` (idempotency key, usually the signature, kept as a hidden marker in the
body), `title`, `body` (Markdown), `labels`.
Outputs: `number`, `url`, `created` (false when an open issue for the key already existed).

A recurrence is a new delivery of the same signature: the issue body is rewritten with the
counter bumped and the delivery id recorded, then a comment marked with the delivery follows.
The same delivery again finds both and changes nothing, even after a crash between the two.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

from self_healing_bot.actions.context import ActionContext
from self_healing_bot.actions.registry import ActionResult, ActionSpec, register_action
from self_healing_bot.core.automation import AutomationLevel
from self_healing_bot.github.markers import with_marker
from self_healing_bot.github.models import Issue
from self_healing_bot.guardrails import redact_secrets

_OCCURRENCES = re.compile(r"<!-- self-healing-bot-occurrences: (\d+) delivery: (\S+) -->")


class CreateOrUpdateIssueParameters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=256)
    body: str = Field(max_length=65536)
    labels: list[str] = Field(default_factory=list)


def issue_body(body: str, key: str, occurrences: int, delivery_id: str) -> str:
    """The issue text: the redacted body, the visible counter, the hidden counter and key.

    >>> "Seen 2 times" in issue_body("OOM", "gpu_oom:3f2a9c01", 2, "d-1")
    True
    """
    counter = (
        f"Seen {occurrences} times."
        f"\n<!-- self-healing-bot-occurrences: {occurrences} delivery: {delivery_id} -->"
    )
    return with_marker(f"{redact_secrets(body)}\n\n---\n{counter}", key)


def recorded_occurrence(body: str) -> tuple[int, str | None]:
    """The counter and the last counted delivery in an issue body (1, None if it has none)."""
    found = _OCCURRENCES.search(body)
    return (int(found.group(1)), found.group(2)) if found else (1, None)


def _outputs(issue: Issue, created: bool) -> dict[str, object]:
    return {"number": issue.number, "url": issue.html_url, "created": created}


async def run(context: ActionContext, parameters: CreateOrUpdateIssueParameters) -> ActionResult:
    """Open the signature's issue, or count this delivery as a recurrence on the open one."""
    github, repository, key = context.github, context.repository, parameters.key
    delivery_id = context.delivery_id
    existing = await github.find_issue_by_marker(repository, key)
    if existing is None or existing.state != "open":
        if context.dry_run:
            return ActionResult(
                f"would open an issue for {key}", {"number": None, "url": None, "created": True}
            )
        body = issue_body(parameters.body, key, 1, delivery_id)
        issue = await github.create_issue(repository, parameters.title, body, parameters.labels)
        return ActionResult(f"opened issue #{issue.number} for {key}", _outputs(issue, True))
    occurrences, last_delivery = recorded_occurrence(existing.body)
    comment_key = f"{key}:recurrence:{delivery_id}"
    counted = last_delivery == delivery_id
    comment = await github.find_comment_by_marker(repository, existing.number, comment_key)
    if counted and (comment is not None or occurrences == 1):  # 1: this delivery opened it
        return ActionResult(
            f"issue #{existing.number} already counts this delivery", _outputs(existing, False)
        )
    if context.dry_run:
        return ActionResult(
            f"would count a recurrence on issue #{existing.number}", _outputs(existing, False)
        )
    if not counted:
        occurrences += 1
        body = issue_body(parameters.body, key, occurrences, delivery_id)
        existing = await github.update_issue(repository, existing.number, body=body)
    if comment is None:
        text = f"This failure happened again (occurrence {occurrences}).\n\n{parameters.body}"
        await github.create_comment(
            repository, existing.number, with_marker(redact_secrets(text), comment_key)
        )
    if parameters.labels:
        await github.add_labels(repository, existing.number, parameters.labels)
    return ActionResult(
        f"issue #{existing.number} now counts {occurrences} occurrences", _outputs(existing, False)
    )


register_action(
    ActionSpec(
        id="create_or_update_issue",
        parameters=CreateOrUpdateIssueParameters,
        description=__doc__ or "",
        write=False,
        minimum_level=AutomationLevel.PR,
        outputs=("number", "url", "created"),
        runner=run,
    )
)
