"""Detectors register here by id; the pipeline's detect stage runs those that apply.

A detector module calls `register(MyDetector())` at import time, and the bot imports every
module of `self_healing_bot/detectors/` at start-up (`load_detectors`):

    class PipelineFailureDetector:
        id = "pipeline_failure"
        def applies_to(self, event: Event) -> bool:
            return isinstance(event, WorkflowRunEvent)
        async def detect(self, context: ExecutionContext) -> list[Detection]:
            ...

    register(PipelineFailureDetector())
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from self_healing_bot.core.context import ExecutionContext
    from self_healing_bot.core.events import Event


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


@dataclass(frozen=True, kw_only=True)
class Detection:
    """One finding: what is wrong, how sure we are, and the evidence for it.

    `signature` identifies the failure across runs (idempotency keys derive from it);
    `category` is one of TAXONOMY.md's ids; `evidence` items are `{"line": 12, "text": ...}`
    as in the diagnosis contract. Playbooks see it as `detection.*` (`as_template_value`).

        Detection(detector_id="pipeline_failure", category="gpu_oom",
                  signature="gpu_oom:4f1c2a9e", branch="main", head_sha="abc123")
    """

    detector_id: str
    category: str
    signature: str
    confidence: float = 1.0
    summary: str = ""
    severity: Severity = Severity.MEDIUM
    params: dict[str, Any] = field(default_factory=dict)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    branch: str | None = None
    head_sha: str | None = None
    changed_paths: list[str] = field(default_factory=list)
    occurrences: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "severity", Severity(self.severity))
        if self.occurrences < 1:
            raise ValueError(f"occurrences must be at least 1, not {self.occurrences}")

    def as_template_value(self) -> dict[str, Any]:
        """The detection as plain JSON-able data (what templates and the database store)."""
        value = asdict(self)
        value["severity"] = self.severity.value
        return value

    @classmethod
    def from_template_value(cls, value: dict[str, Any]) -> Detection:
        """The inverse of `as_template_value` (a stored repair's detection)."""
        return cls(**value)


class DetectionSkipped(Exception):
    """Raised by `detect` when the event is deliberately not examined; the message says why
    and is recorded on the detect stage (e.g. the commit is no longer its branch's head)."""


class Detector(Protocol):
    id: str

    def applies_to(self, event: Event) -> bool: ...

    async def detect(self, context: ExecutionContext) -> list[Detection]: ...


class DuplicateDetectorError(ValueError):
    """Two detectors claimed the same id."""


_detectors: dict[str, Detector] = {}


def register(detector: Detector) -> Detector:
    """Add a detector; its id must be unique. Returns it, so it can be used as a decorator."""
    existing = _detectors.get(detector.id)
    if existing is not None and existing is not detector:
        raise DuplicateDetectorError(
            f"detector id {detector.id!r} is registered twice "
            f"({type(existing).__module__} and {type(detector).__module__}); rename one"
        )
    _detectors[detector.id] = detector
    return detector


def unregister(detector_id: str) -> None:
    """Remove a detector (tests register temporary ones)."""
    _detectors.pop(detector_id, None)


def detectors_for(event: Event) -> list[Detector]:
    """The registered detectors that apply to this event, in id order."""
    return [_detectors[key] for key in sorted(_detectors) if _detectors[key].applies_to(event)]


def load_detectors(extra_modules: Iterable[str] = ()) -> None:
    """Import every detector module of this package, then any extra (plugin) modules."""
    package = importlib.import_module("self_healing_bot.detectors")
    for info in pkgutil.iter_modules(package.__path__):
        if info.name != "registry":
            importlib.import_module(f"{package.__name__}.{info.name}")
    for name in extra_modules:
        importlib.import_module(name)
