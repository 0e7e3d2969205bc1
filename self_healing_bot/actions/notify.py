"""Send a message to the repository's notification targets (Slack incoming webhook or JSON webhook).

Parameters: `message` (text, secrets redacted before sending), `targets` (names from the
repository config's `notifications`; empty means all of them).
Outputs: `delivered` (names of the targets that accepted the message).

A Slack incoming webhook gets `{"text": ...}`; a generic webhook gets the message with the
repository, category, signature and delivery, and an `Idempotency-Key` header (the signature
and delivery) so a receiver can drop a repeat. Webhook URLs are secrets: errors name targets.
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from self_healing_bot.actions.context import ActionContext, ActionError
from self_healing_bot.actions.registry import ActionResult, ActionSpec, register_action
from self_healing_bot.core.automation import AutomationLevel
from self_healing_bot.guardrails import redact_secrets
from self_healing_bot.repo_config.model import NotificationTarget

TIMEOUT_SECONDS = 10.0


class NotifyParameters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, max_length=40000)
    targets: list[str] = Field(default_factory=list)


class NotificationError(ActionError):
    """A target refused the message or could not be reached."""


def notification_payload(context: ActionContext, target: NotificationTarget, text: str) -> Any:
    """The JSON body for one target: Slack's `{"text"}`, or the message with its context."""
    if target.kind == "slack":
        return {"text": text}
    return {
        "text": text,
        "repository": context.repository,
        "category": context.detection.category,
        "signature": context.detection.signature,
        "delivery_id": context.delivery_id,
    }


def chosen_targets(context: ActionContext, names: list[str]) -> list[NotificationTarget]:
    """The configured targets named in `names` (all when empty); unknown names are an error."""
    configured = {target.name: target for target in context.notification_targets}
    unknown = sorted(set(names) - set(configured))
    if unknown:
        known = ", ".join(sorted(configured)) or "none configured"
        raise ActionError(
            f"unknown notification target(s) {', '.join(unknown)}; the repository config "
            f"lists: {known}"
        )
    return [configured[name] for name in names] if names else list(configured.values())


async def _send(context: ActionContext, target: NotificationTarget, text: str) -> str | None:
    """None when the target accepted the message, else why not (without its secret URL)."""
    key = f"{context.idempotency_key}:{context.delivery_id}"
    try:
        response = await context.http.post(
            target.url,
            json=notification_payload(context, target, text),
            headers={"Idempotency-Key": key},
            timeout=TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as error:
        return f"{target.name}: unreachable ({type(error).__name__})"
    if not response.is_success:
        return f"{target.name}: answered {response.status_code}"
    return None


async def run(context: ActionContext, parameters: NotifyParameters) -> ActionResult:
    """Send the redacted message to each chosen target; fail naming those that refused it."""
    targets = chosen_targets(context, parameters.targets)
    names = [target.name for target in targets]
    if context.dry_run or not targets:
        verb = "would notify" if targets else "no notification targets for"
        return ActionResult(f"{verb} {', '.join(names) or context.repository}", {"delivered": []})
    text = redact_secrets(parameters.message)
    failures: list[str] = []
    delivered: list[str] = []
    for target in targets:
        failure = await _send(context, target, text)
        if failure is None:
            delivered.append(target.name)
        else:
            failures.append(failure)
    if failures:
        sent = f" (delivered to {', '.join(delivered)})" if delivered else ""
        raise NotificationError(f"notification failed: {'; '.join(failures)}{sent}")
    return ActionResult(f"notified {', '.join(delivered)}", {"delivered": delivered})


register_action(
    ActionSpec(
        id="notify",
        parameters=NotifyParameters,
        description=__doc__ or "",
        write=False,
        minimum_level=AutomationLevel.SUGGEST,
        outputs=("delivered",),
        runner=run,
    )
)
