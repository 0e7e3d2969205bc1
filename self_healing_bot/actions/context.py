"""What an action runner gets: one repository, one detection, one client, and the limits.

The executor builds one `ActionContext` per step and calls the action's runner with it:

    context = ActionContext(
        repository="octo/ml", default_branch="main", github=installation_client,
        detection=detection, delivery_id="3f2a-...", http=http_client,
        allowed_paths=plan.allowed_paths, max_changed_lines=config.budgets.max_changed_lines,
        notification_targets=tuple(config.notifications), run_id=412, run_attempt=1,
    )
    result = await find_action("comment").executable_runner()(context, parameters)

Every side effect a runner has on GitHub is found again by `idempotency_key` (a hidden
marker) or `fix_branch` (a deterministic branch), so a redelivered step changes nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import httpx

from self_healing_bot.detectors.registry import Detection
from self_healing_bot.github.operations import InstallationClient
from self_healing_bot.repo_config.model import NotificationTarget

BRANCH_PREFIX = "self-healing-bot"


@dataclass(frozen=True)
class ActionContext:
    """One step's world: the repository, its client, the detection, and the playbook's limits.

    `run_id` and `run_attempt` name the workflow run (and the attempt) the detection was read
    from, when it came from one; `issue_number` is the event's pull request or issue, if any;
    `dry_run` means "record what you would do, write nothing".
    `http` is for calls outside GitHub (notification webhooks, MLflow).
    `acting_since` is when the repair began: what a step started on GitHub since then (a
    dispatched run) is this repair's own, found again instead of started twice.
    """

    repository: str
    default_branch: str
    github: InstallationClient
    detection: Detection
    delivery_id: str
    http: httpx.AsyncClient
    allowed_paths: tuple[str, ...] = ()
    max_changed_lines: int = 200
    notification_targets: tuple[NotificationTarget, ...] = ()
    run_id: int | None = None
    run_attempt: int | None = None
    issue_number: int | None = None
    dry_run: bool = False
    acting_since: datetime | None = None

    @property
    def idempotency_key(self) -> str:
        """The failure signature (`category:8 hex`): the hidden marker of what we create."""
        return self.detection.signature

    @property
    def fix_branch(self) -> str:
        """`self-healing-bot/<category>/<signature hash>`: the same failure, the same branch.

        >>> context.fix_branch  # detection.signature == "gpu_oom:3f2a9c01"
        'self-healing-bot/gpu_oom/3f2a9c01'
        """
        category, _, digest = self.detection.signature.rpartition(":")
        return f"{BRANCH_PREFIX}/{category or self.detection.category}/{digest}"

    def target_issue(self, issue_number: int | None) -> int:
        """`issue_number` if given, else the event's pull request or issue; else `ActionError`."""
        number = issue_number if issue_number is not None else self.issue_number
        if number is None:
            raise ActionError(
                "this event has no pull request or issue; give the step an `issue_number`"
            )
        return number


class ActionError(Exception):
    """A runner refused or could not act; the message says why and what to change."""
