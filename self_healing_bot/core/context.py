"""What a pipeline stage needs about one delivery, and nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog

from self_healing_bot.core.events import Event, Installation
from self_healing_bot.github.operations import InstallationClient
from self_healing_bot.storage.database import Database


@dataclass(frozen=True)
class ExecutionContext:
    """One delivery being processed: its typed event, raw payload, a bound logger, the
    database, and a GitHub client acting as the event's installation.

    context.repository      # "octo-org/ml-repo", or None for app-level events
    context.log.info("detected", category="gpu_oom")
    if context.github is not None:   # None: app-level event, or no credentials configured
        run = await context.github.get_workflow_run(context.repository, run_id)
    """

    delivery_id: str
    event_name: str
    event: Event
    payload: dict[str, Any]
    attempt: int
    log: structlog.stdlib.BoundLogger
    database: Database
    github: InstallationClient | None

    @classmethod
    def for_installation(
        cls,
        delivery_id: str,
        event_name: str,
        installation_id: int | None,
        log: structlog.stdlib.BoundLogger,
        database: Database,
        github: InstallationClient,
    ) -> ExecutionContext:
        """A context for work no webhook started (an API approval, the scheduler's
        reconcile), acting as `installation_id`, with an empty event."""
        installation = Installation(id=installation_id) if installation_id is not None else None
        return cls(
            delivery_id, event_name, Event(installation=installation), {}, 1, log, database, github
        )

    @property
    def repository(self) -> str | None:
        return self.event.repository.full_name if self.event.repository else None

    @property
    def installation_id(self) -> int | None:
        return self.event.installation.id if self.event.installation else None
