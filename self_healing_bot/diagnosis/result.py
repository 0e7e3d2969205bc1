"""The diagnosis a log gets: the contract of TAXONOMY.md as a value."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Evidence:
    """A decisive line, numbered from 1 in its input (or in its zip member)."""

    line: int
    text: str


@dataclass(frozen=True)
class Diagnosis:
    """The root cause of a failed job; `as_json()` is the CLI's `--json` object."""

    category: str
    confidence: float
    summary: str
    evidence: tuple[Evidence, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    signature: str = ""

    def as_json(self) -> dict[str, Any]:
        """The output contract: category, confidence, summary, evidence, params, signature."""
        return {
            "category": self.category,
            "confidence": round(self.confidence, 2),
            "summary": self.summary,
            "evidence": [{"line": item.line, "text": item.text} for item in self.evidence],
            "params": self.params,
            "signature": self.signature,
        }
