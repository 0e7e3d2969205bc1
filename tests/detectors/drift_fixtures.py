"""A sandbox repository with drift and metrics configured, a migrated SQLite database, and the
one call the data and model detector tests make: run a detector on a webhook the sandbox sent.

The detectors read the repository through our real client over the sandbox (`tests/github/
world.py`); the events are the payloads the sandbox itself emitted for each push.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
import structlog

from self_healing_bot.core.context import ExecutionContext
from self_healing_bot.core.events import parse_event
from self_healing_bot.detectors.registry import Detection, detectors_for, load_detectors
from self_healing_bot.storage.database import Database
from self_healing_bot.storage.migrate import upgrade
from tests.github.conftest import FakeClock
from tests.github.world import REPO, World, make_world

CONFIG = b"""\
paths:
  data: [data/reference.csv, data/current.csv]
  metrics: [metrics.json]
"""


def table_csv(rows: int, *, shift: float = 0.0, seed: int = 0) -> bytes:
    """Two numeric columns and a categorical one; `shift` moves age and income (in their
    standard deviations) and tilts the city mix, so 3 of 3 columns drift at shift >= 1."""
    generator = np.random.default_rng(seed)
    cities = ["paris", "lyon", "nice"]
    weights = [0.6, 0.3, 0.1] if shift < 1 else [0.1, 0.3, 0.6]
    frame = pl.DataFrame(
        {
            "age": generator.normal(40 + 10 * shift, 10, rows).round(1),
            "income": generator.normal(50_000 + 15_000 * shift, 15_000, rows).round(0),
            "city": generator.choice(cities, rows, p=weights),
        }
    )
    buffer = io.BytesIO()
    frame.write_csv(buffer)
    return buffer.getvalue()


@dataclass
class Harness:
    world: World
    database: Database

    def push(self, changes: Mapping[str, bytes | str | None], message: str = "update") -> str:
        """Commit on the default branch as a push would; returns the new commit sha."""
        return self.world.sandbox.commit_files(REPO, "main", changes, message)

    def last_push_payload(self) -> dict[str, Any]:
        deliveries = [d for d in self.world.sandbox.sender.deliveries if d.event == "push"]
        return dict(deliveries[-1].payload)

    def dispatch_payload(self, client_payload: dict[str, Any]) -> dict[str, Any]:
        """A `repository_dispatch` as GitHub sends it, for this repository and installation."""
        push = self.last_push_payload()
        return {
            "action": "check",
            "branch": "main",
            "client_payload": client_payload,
            "repository": push["repository"],
            "installation": push["installation"],
            "sender": push["sender"],
        }

    def context(self, event_name: str, payload: dict[str, Any]) -> ExecutionContext:
        event = parse_event(event_name, payload)
        assert event is not None
        return ExecutionContext(
            "test-delivery",
            event_name,
            event,
            payload,
            1,
            structlog.stdlib.get_logger("test"),
            self.database,
            self.world.client,
        )

    async def detect(
        self, detector_id: str, event_name: str, payload: dict[str, Any]
    ) -> list[Detection]:
        """Run the registered detector if it applies to the event (else no detections)."""
        context = self.context(event_name, payload)
        chosen = [d for d in detectors_for(context.event) if d.id == detector_id]
        if not chosen:
            return []
        return await chosen[0].detect(context)


@pytest.fixture(scope="module")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, made once per module and copied per test (migrating is slow)."""
    path = tmp_path_factory.mktemp("database") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
async def harness(tmp_path: Path, migrated_template: Path) -> AsyncIterator[Harness]:
    load_detectors()
    shutil.copyfile(migrated_template, tmp_path / "shbot.db")
    url = f"sqlite+aiosqlite:///{tmp_path / 'shbot.db'}"
    world = make_world(tmp_path, FakeClock())
    database = Database.connect(url)
    built = Harness(world, database)
    built.push(
        {
            ".github/self-healing-bot.yml": CONFIG,
            "data/reference.csv": table_csv(600, seed=1),
            "data/current.csv": table_csv(600, seed=2),
        },
        "configure the bot",
    )
    yield built
    await database.close()
    await world.close()
