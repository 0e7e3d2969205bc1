"""Playbooks: what to do about a detection, as YAML checked whole before anything runs.

A playbook names a trigger, ordered `steps` (each `uses` a registered action `with` typed
parameters), compensating `on_failure` steps (run in reverse order), and whether it needs
approval or is a dry run. Everything here is a pure function of data:

    playbooks = load_builtin_playbooks()
    chosen = select_playbook(detection, config, playbooks)       # or None: nothing to do
    plan = plan_playbook(chosen, detection, config, repository={...}, event={...})

`plan.steps` is what a dry run records; the executor renders each step again with the outputs
of the steps before it (`template_context(..., step_outputs=...)`, then `render_parameters`).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from self_healing_bot.actions.registry import ActionSpec, UnknownActionError, find_action
from self_healing_bot.core.automation import AutomationLevel
from self_healing_bot.core.categories import CATEGORIES
from self_healing_bot.core.templates import (
    TemplateError,
    check_condition,
    check_template,
    evaluate_condition,
    is_templated,
    referenced_steps,
    render_value,
)
from self_healing_bot.core.yaml_source import (
    DocumentError,
    Problem,
    YamlDocument,
    describe_location,
    line_of,
    load_yaml_document,
    validation_problems,
    value_at,
)
from self_healing_bot.detectors.registry import Detection as Detection
from self_healing_bot.detectors.registry import Severity as Severity
from self_healing_bot.guardrails import redact_secrets
from self_healing_bot.repo_config.model import RepoConfig

BUILTIN_PLAYBOOKS = Path(__file__).resolve().parent.parent / "playbooks"
Origin = Literal["builtin", "repository"]


class PlaybookError(DocumentError):
    """A playbook was rejected whole; `problems` holds every `Problem(file, line, reason)`."""


class PlanError(ValueError):
    """A valid playbook cannot be planned for this detection (a template or parameter failed)."""


class PlaybookSelectionError(LookupError):
    """The repository config names a playbook that does not exist."""


class Trigger(BaseModel):
    """When a playbook applies; an empty field matches anything, a set field must match."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    detector: str | None = None
    categories: tuple[str, ...] = ()
    severity: Severity | None = Field(default=None, description="minimum severity")
    branches: tuple[str, ...] = Field(default=(), description="glob patterns")
    paths: tuple[str, ...] = Field(default=(), description="globs; any changed path matches")

    @field_validator("categories")
    @classmethod
    def _categories_exist(cls, categories: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(categories) - CATEGORIES)
        if unknown:
            raise ValueError(f"unknown categories: {', '.join(unknown)}")
        return categories

    def matches(self, detection: Detection) -> bool:
        if self.detector is not None and self.detector != detection.detector_id:
            return False
        if self.categories and detection.category not in self.categories:
            return False
        if self.severity is not None and detection.severity.rank < self.severity.rank:
            return False
        if self.branches and not (
            detection.branch is not None
            and any(fnmatch.fnmatchcase(detection.branch, glob) for glob in self.branches)
        ):
            return False
        return not self.paths or any(
            fnmatch.fnmatchcase(path, glob)
            for path in detection.changed_paths
            for glob in self.paths
        )

    @property
    def specificity(self) -> tuple[int, int]:
        """More constrained fields first, then narrower lists: (fields set, -items listed)."""
        lists = (self.categories, self.branches, self.paths)
        fields = (self.detector is not None) + (self.severity is not None) + sum(map(bool, lists))
        return fields, -sum(len(items) for items in lists)


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    uses: str
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    if_: str | bool | None = Field(default=None, alias="if")
    timeout_seconds: int = Field(default=300, ge=1, le=3600)
    retries: int = Field(default=0, ge=0, le=5)

    @property
    def label(self) -> str:
        return self.id or self.uses


class Playbook(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    description: str = ""
    trigger: Trigger
    steps: tuple[Step, ...]
    on_failure: tuple[Step, ...] = ()
    require_approval: bool = False
    dry_run: bool = False
    allowed_paths: tuple[str, ...] = Field(default=(), description="globs a fix may edit")

    @field_validator("steps")
    @classmethod
    def _has_steps(cls, steps: tuple[Step, ...]) -> tuple[Step, ...]:
        # A validator, not min_length: pydantic would repeat it whenever any step is invalid.
        if not steps:
            raise ValueError("a playbook needs at least one step")
        return steps


@dataclass(frozen=True)
class LoadedPlaybook:
    """A validated playbook and where it came from (repository playbooks win ties)."""

    playbook: Playbook
    file: str
    origin: Origin


# Loading and validation


def _templates_in(value: Any) -> list[str]:
    if isinstance(value, Mapping):
        return [text for item in value.values() for text in _templates_in(item)]
    if isinstance(value, list):
        return [text for item in value for text in _templates_in(item)]
    return [value] if is_templated(value) else []


def _step_problems(
    step: Step,
    location: tuple[str | int, ...],
    document: YamlDocument,
    earlier_ids: set[str],
) -> list[Problem]:
    file, root = document.file, document.root
    problems: list[Problem] = []
    try:
        action = find_action(step.uses)
    except UnknownActionError as error:
        return [Problem(file, line_of(root, (*location, "uses")), str(error))]
    try:
        action.parameters.model_validate(step.with_)
    except ValidationError as error:
        raw_with = value_at(document.value, (*location, "with"))
        for detail in error.errors():
            if is_templated(value_at(raw_with, detail["loc"])):
                continue  # checked once rendered, when the plan is made
            where = describe_location((*location, "with", *detail["loc"]))
            line = line_of(root, (*location, "with", *detail["loc"]))
            problems.append(Problem(file, line, f"{where}: {detail['msg']} ({step.uses})"))
    templates = _templates_in(step.with_)
    conditions = [step.if_] if isinstance(step.if_, str) else []
    try:
        for template in templates:
            check_template(template)
        for condition in conditions:
            check_condition(condition)
        unknown = referenced_steps(templates, conditions=conditions) - earlier_ids
    except TemplateError as error:
        return [*problems, Problem(file, line_of(root, location), f"{step.label}: {error}")]
    if unknown:
        reason = f"{step.label}: uses outputs of {', '.join(sorted(unknown))}, not an earlier step"
        problems.append(Problem(file, line_of(root, location), reason))
    return problems


def _playbook_problems(playbook: Playbook, document: YamlDocument) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, step in enumerate(playbook.steps):
        problems += _step_problems(step, ("steps", index), document, set(seen))
        if step.id is not None:
            if step.id in seen:
                line = line_of(document.root, ("steps", index, "id"))
                problems.append(Problem(document.file, line, f"duplicate step id {step.id!r}"))
            seen.add(step.id)
    for index, step in enumerate(playbook.on_failure):
        problems += _step_problems(step, ("on_failure", index), document, seen)
    return problems


def load_playbook(text: str, file: str, origin: Origin = "repository") -> LoadedPlaybook:
    """Parse and validate one playbook file, or raise `PlaybookError` with every problem."""
    try:
        document = load_yaml_document(text, file)
    except DocumentError as error:
        raise PlaybookError(error.problems) from error
    if not isinstance(document.value, dict):
        raise PlaybookError([Problem(file, 1, "a playbook must be a mapping with 'steps'")])
    try:
        playbook = Playbook.model_validate(document.value)
    except ValidationError as error:
        raise PlaybookError(validation_problems(error, document)) from error
    problems = _playbook_problems(playbook, document)
    if problems:
        raise PlaybookError(problems)
    return LoadedPlaybook(playbook=playbook, file=file, origin=origin)


@lru_cache(maxsize=1)
def load_builtin_playbooks() -> tuple[LoadedPlaybook, ...]:
    """Every playbook shipped in `self_healing_bot/playbooks/`, validated."""
    return tuple(
        load_playbook(path.read_text(), f"playbooks/{path.name}", origin="builtin")
        for path in sorted(BUILTIN_PLAYBOOKS.glob("*.yml"))
    )


# Selection


def select_playbook(
    detection: Detection, config: RepoConfig, playbooks: Sequence[LoadedPlaybook]
) -> LoadedPlaybook | None:
    """The playbook for `detection`, or None when the repository wants nothing done.

    None when the category's level is `off`, the detector is disabled, or no trigger matches.
    A config override (`playbooks.overrides[category]`) names the playbook outright; otherwise
    the most specific matching trigger wins, a repository playbook over a built-in one.
    """
    if config.automation.level_for(detection.category) is AutomationLevel.OFF:
        return None
    if not config.detector_enabled(detection.detector_id):
        return None
    override = config.playbooks.overrides.get(detection.category)
    if override is not None:
        named = [loaded for loaded in playbooks if loaded.playbook.name == override]
        if not named:
            raise PlaybookSelectionError(
                f"playbooks.overrides.{detection.category} names {override!r}, "
                "which is neither a built-in playbook nor one listed in playbooks.extra"
            )
        return max(named, key=lambda loaded: loaded.origin == "repository")
    matching = [loaded for loaded in playbooks if loaded.playbook.trigger.matches(detection)]
    if not matching:
        return None
    return max(
        matching,
        key=lambda loaded: (
            loaded.playbook.trigger.specificity,
            loaded.origin == "repository",
            loaded.playbook.name,
        ),
    )


# Rendering and planning


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact_secrets(value)
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redacted(item) for item in value]
    return value


def detection_report(detection: Detection) -> str:
    """The detection as Markdown for an issue or comment body, secrets redacted."""
    lines = [
        f"**{detection.summary or detection.category}**",
        "",
        f"Category `{detection.category}` · signature `{detection.signature}` · "
        f"seen {detection.occurrences} time(s).",
    ]
    if detection.evidence:
        lines += ["", "```"]
        lines += [f"{item.get('line', '?')}: {item.get('text', '')}" for item in detection.evidence]
        lines += ["```"]
    return redact_secrets("\n".join(lines))


def template_context(
    detection: Detection,
    config: RepoConfig,
    *,
    repository: Mapping[str, Any],
    event: Mapping[str, Any],
    step_outputs: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """What templates see: `detection` (secrets redacted), `report` (its Markdown),
    `repository`, `event`, `config` and `steps.<id>.outputs`."""
    return {
        "detection": _redacted(detection.as_template_value()),
        "report": detection_report(detection),
        "repository": dict(repository),
        "event": dict(event),
        "config": config.model_dump(mode="json"),
        "steps": {
            step_id: {"outputs": dict(outputs)} for step_id, outputs in (step_outputs or {}).items()
        },
    }


def render_parameters(step: Step, context: Mapping[str, Any]) -> BaseModel:
    """The step's `with`, rendered and validated into its action's parameter model."""
    action = find_action(step.uses)
    try:
        rendered = render_value(step.with_, context)
    except TemplateError as error:
        raise PlanError(f"step {step.label}: {error}") from error
    try:
        return action.parameters.model_validate(rendered)
    except ValidationError as error:
        reasons = "; ".join(
            f"{describe_location(detail['loc'])}: {detail['msg']}" for detail in error.errors()
        )
        raise PlanError(
            f"step {step.label}: invalid parameters after rendering: {reasons}"
        ) from error


def step_condition(step: Step, context: Mapping[str, Any]) -> bool:
    """Whether the step's `if` holds (a step without one always runs)."""
    if step.if_ is None:
        return True
    try:
        return evaluate_condition(step.if_, context)
    except TemplateError as error:
        raise PlanError(f"step {step.label}: {error}") from error


StepStatus = Literal["ready", "skipped", "deferred"]


@dataclass(frozen=True)
class PlannedStep:
    """One step as it would run: `ready` with its parameters, `skipped`, or `deferred`
    (it reads an earlier step's outputs, so it is rendered when it runs)."""

    index: int
    id: str | None
    uses: str
    status: StepStatus
    reason: str
    parameters: dict[str, Any] | None
    write: bool
    timeout_seconds: int
    retries: int


@dataclass(frozen=True)
class Plan:
    """The ordered concrete steps for one detection: what a dry run records."""

    playbook: str
    file: str
    level: AutomationLevel
    require_approval: bool
    dry_run: bool
    allowed_paths: tuple[str, ...]
    steps: tuple[PlannedStep, ...]
    on_failure: tuple[PlannedStep, ...]


def _blocked(action: ActionSpec, level: AutomationLevel, from_fork: bool) -> str | None:
    if not level.allows(action.minimum_level):
        return (
            f"needs automation level {action.minimum_level.value}; the category is at {level.value}"
        )
    if from_fork and action.write:
        return "write actions are never taken for events from forks"
    return None


def _plan_step(
    index: int,
    step: Step,
    context: Mapping[str, Any],
    level: AutomationLevel,
    from_fork: bool,
) -> PlannedStep:
    action = find_action(step.uses)

    def planned(status: StepStatus, reason: str, parameters: dict[str, Any] | None) -> PlannedStep:
        return PlannedStep(
            index=index,
            id=step.id,
            uses=step.uses,
            status=status,
            reason=reason,
            parameters=parameters,
            write=action.write,
            timeout_seconds=step.timeout_seconds,
            retries=step.retries,
        )

    blocked = _blocked(action, level, from_fork)
    if blocked is not None:
        return planned("skipped", blocked, None)
    conditions = [step.if_] if isinstance(step.if_, str) else []
    if referenced_steps(_templates_in(step.with_), conditions=conditions):
        return planned("deferred", "reads outputs of earlier steps; rendered when it runs", None)
    if not step_condition(step, context):
        return planned("skipped", f"condition is false: {step.if_}", None)
    parameters = render_parameters(step, context).model_dump(mode="json")
    return planned("ready", "", parameters)


def plan_playbook(
    loaded: LoadedPlaybook,
    detection: Detection,
    config: RepoConfig,
    *,
    repository: Mapping[str, Any],
    event: Mapping[str, Any],
    from_fork: bool = False,
) -> Plan:
    """Render every step for this detection, marking what the level or a fork forbids.

    Raises `PlanError` when a template fails or rendered parameters do not fit the action.
    """
    level = config.automation.level_for(detection.category)
    context = template_context(detection, config, repository=repository, event=event)
    playbook = loaded.playbook
    return Plan(
        playbook=playbook.name,
        file=loaded.file,
        level=level,
        require_approval=playbook.require_approval,
        dry_run=playbook.dry_run,
        allowed_paths=playbook.allowed_paths,
        steps=tuple(
            _plan_step(index, step, context, level, from_fork)
            for index, step in enumerate(playbook.steps)
        ),
        on_failure=tuple(
            _plan_step(index, step, context, level, from_fork)
            for index, step in reversed(list(enumerate(playbook.on_failure)))
        ),
    )
