"""A GitHub sandbox world and a factory of `ActionContext`s on it, for every runner test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from self_healing_bot.actions.context import ActionContext
from self_healing_bot.detectors.registry import Detection
from tests.github.conftest import FakeClock
from tests.github.world import REPO, World, make_world

SIGNATURE = "gpu_oom:3f2a9c01"
PLANTED_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"

MakeContext = Callable[..., ActionContext]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    world = make_world(tmp_path, FakeClock())
    yield world
    await world.close()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def make_context(world: World, http: httpx.AsyncClient) -> MakeContext:
    """`make_context(dry_run=True, delivery_id="d-2")`: defaults for anything not given."""

    def make(**overrides: Any) -> ActionContext:
        fields: dict[str, Any] = {
            "repository": REPO,
            "default_branch": "main",
            "github": world.client,
            "detection": Detection(
                detector_id="pipeline_failure",
                category="gpu_oom",
                signature=SIGNATURE,
                summary="CUDA out of memory",
            ),
            "delivery_id": "delivery-1",
            "http": http,
            "allowed_paths": ("*.yaml", "configs/*"),
            "max_changed_lines": 20,
        }
        return ActionContext(**(fields | overrides))

    return make
