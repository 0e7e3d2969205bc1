"""A plugin for worker subprocesses (SHBOT_PLUGINS=tests.queue.slow_detector): a detector that
notes when it starts (in $SLOW_DETECTOR_MARKER) and then sleeps $SLOW_DETECTOR_SECONDS, so a
test can kill a worker in the middle of a task."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from self_healing_bot.core.context import ExecutionContext
from self_healing_bot.core.events import Event, WorkflowRunEvent
from self_healing_bot.detectors.registry import Detection, register


def _note_start(delivery_id: str) -> None:
    with Path(os.environ["SLOW_DETECTOR_MARKER"]).open("a") as handle:
        handle.write(f"{os.getpid()} {delivery_id}\n")


class SlowDetector:
    id = "test_slow"

    def applies_to(self, event: Event) -> bool:
        return isinstance(event, WorkflowRunEvent)

    async def detect(self, context: ExecutionContext) -> list[Detection]:
        _note_start(context.delivery_id)
        await asyncio.sleep(float(os.environ.get("SLOW_DETECTOR_SECONDS", "0")))
        return []


register(SlowDetector())
