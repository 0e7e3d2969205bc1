"""What a pipeline stage needs about one delivery, and nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog

from self_healing_bot.core.events import Event


@dataclass(frozen=True)
class ExecutionContext:
    """One delivery being processed: its typed event, raw payload and a bound logger.

    context.repository      # "octo-org/ml-repo", or None for app-level events
    context.log.info("detected", category="gpu_oom")
    """

    delivery_id: str
    event_name: str
    event: Event
    payload: dict[str, Any]
    attempt: int
    log: structlog.stdlib.BoundLogger

    @property
    def repository(self) -> str | None:
        return self.event.repository.full_name if self.event.repository else None

    @property
    def installation_id(self) -> int | None:
        return self.event.installation.id if self.event.installation else None
