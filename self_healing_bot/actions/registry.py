"""Actions register here by id with typed parameters, so a playbook is checked before it runs.

Each action is one module under `self_healing_bot/actions/` that defines its parameter model
and, at the bottom, registers itself:

    register_action(
        ActionSpec(
            id="comment",
            parameters=CommentParameters,
            description=__doc__ or "",
            write=False,
            minimum_level=AutomationLevel.SUGGEST,
            runner=run,  # async def run(context, parameters) -> ActionResult
        )
    )

`find_action("comment")` returns the spec; `load_actions()` imports every action module once.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel

from self_healing_bot.core.automation import AutomationLevel


@dataclass(frozen=True)
class ActionResult:
    """What an action did: a one-line summary for the record and outputs later steps can read.

    A later step reads an output as `{{ steps.<step id>.outputs.<name> }}`.
    """

    summary: str
    outputs: Mapping[str, Any] = field(default_factory=dict)


ActionRunner = Callable[[Any, Any], Awaitable[ActionResult]]
"""`async def run(context, parameters) -> ActionResult`; `parameters` is the action's own model."""


class UnknownActionError(LookupError):
    """A playbook names an action id nobody registered."""


class ActionNotExecutableError(RuntimeError):
    """An action is registered (so playbooks validate) but has no runner yet."""


@dataclass(frozen=True)
class ActionSpec:
    """An action's contract: id, parameters, whether it changes the repository, level needed."""

    id: str
    parameters: type[BaseModel]
    description: str
    write: bool
    minimum_level: AutomationLevel
    outputs: tuple[str, ...] = ()
    runner: ActionRunner | None = None

    def executable_runner(self) -> ActionRunner:
        """The runner, or a clear error for an action that cannot be executed."""
        if self.runner is None:
            raise ActionNotExecutableError(
                f"action {self.id!r} has no runner: it can be validated and planned, not executed"
            )
        return self.runner


_ACTIONS: dict[str, ActionSpec] = {}


def register_action(spec: ActionSpec) -> ActionSpec:
    """Add `spec` under its id; registering a different spec under a taken id is a bug."""
    existing = _ACTIONS.get(spec.id)
    if existing is not None and existing != spec:
        raise ValueError(f"action id {spec.id!r} is already registered by another module")
    _ACTIONS[spec.id] = spec
    return spec


def load_actions() -> Mapping[str, ActionSpec]:
    """Import every action module (each registers itself) and return the registry, read-only."""
    package = importlib.import_module("self_healing_bot.actions")
    for module_info in pkgutil.iter_modules(package.__path__):
        if module_info.name != "registry":
            importlib.import_module(f"{package.__name__}.{module_info.name}")
    return MappingProxyType(_ACTIONS)


def find_action(action_id: str) -> ActionSpec:
    """The registered spec for `action_id`, or `UnknownActionError` naming the known ids."""
    actions = load_actions()
    try:
        return actions[action_id]
    except KeyError:
        known = ", ".join(sorted(actions))
        raise UnknownActionError(f"unknown action {action_id!r}; known actions: {known}") from None
