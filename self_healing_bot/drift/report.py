"""What a drift comparison found: per-column results and the dataset verdict, as plain data.

`DriftReport.to_dict()` is the JSON the CLI prints and the detector stores: per column
`{test, statistic, p_value (null where the test has none), threshold, drifted}` plus the status,
effect size and quality findings, then `drift_share` and `dataset_drifted`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from self_healing_bot.drift.columns import ColumnKind
from self_healing_bot.drift.statistics import TestResult


class ColumnStatus(StrEnum):
    """Whether a column could be tested, and if not, why."""

    TESTED = "tested"
    CONSTANT = "constant"  # tested, but both sides hold one identical value
    INSUFFICIENT_DATA = "insufficient_data"
    TYPE_MISMATCH = "type_mismatch"
    IGNORED = "ignored"  # text and datetime columns are not tested


@dataclass(frozen=True)
class Distribution:
    """Proportions per bin (numeric) or per category, for the report's charts."""

    labels: list[str]
    reference: list[float]
    current: list[float]


@dataclass(frozen=True)
class ColumnDrift:
    """One column's comparison.

    `sampled` is the number of rows per side a statistic was estimated from (a seeded sample),
    None when every value was used.
    `issues` are schema and quality findings a person should read (dtype changes, new
    categories, missing-rate changes, values outside the reference range), drifted or not.
    """

    name: str
    kind: ColumnKind
    status: ColumnStatus
    result: TestResult | None
    reference_values: int
    current_values: int
    reference_missing_rate: float
    current_missing_rate: float
    sampled: int | None = None
    issues: list[str] = field(default_factory=list)
    message: str = ""
    distribution: Distribution | None = None

    @property
    def drifted(self) -> bool:
        """True when the column was tested and its test (and effect size, if required) says so."""
        return self.result is not None and self.result.drifted

    def to_dict(self) -> dict[str, Any]:
        """The column's JSON object."""
        result = self.result
        return {
            "kind": self.kind.value,
            "status": self.status.value,
            "test": result.test.value if result else None,
            "statistic": result.statistic if result else None,
            "p_value": result.p_value if result else None,
            "threshold": result.threshold if result else None,
            "drifted": self.drifted,
            "effect_size": result.effect_size if result else None,
            "effect_size_name": result.effect_size_name if result else None,
            "sampled": self.sampled,
            "reference_values": self.reference_values,
            "current_values": self.current_values,
            "reference_missing_rate": self.reference_missing_rate,
            "current_missing_rate": self.current_missing_rate,
            "issues": self.issues,
            "message": self.message,
        }


@dataclass(frozen=True)
class DriftReport:
    """The comparison of a current table with its reference."""

    reference_name: str
    current_name: str
    columns: list[ColumnDrift]
    drift_share_threshold: float
    added_columns: list[str]
    removed_columns: list[str]

    @property
    def tested_columns(self) -> list[ColumnDrift]:
        """Columns that received a test (the denominator of the drift share)."""
        return [column for column in self.columns if column.result is not None]

    @property
    def drifted_columns(self) -> list[str]:
        """Names of drifted columns."""
        return [column.name for column in self.columns if column.drifted]

    @property
    def drift_share(self) -> float:
        """Share of tested columns that drifted (0 when nothing could be tested)."""
        tested = len(self.tested_columns)
        return len(self.drifted_columns) / tested if tested else 0.0

    @property
    def dataset_drifted(self) -> bool:
        """Evidently's rule: drifted when the drifted share reaches the threshold."""
        return bool(self.tested_columns) and self.drift_share >= self.drift_share_threshold

    def ordered_columns(self) -> list[ColumnDrift]:
        """Drifted columns first, then columns with issues, then the rest; stable otherwise."""
        return sorted(self.columns, key=lambda column: (not column.drifted, not column.issues))

    def to_dict(self) -> dict[str, Any]:
        """The report's JSON object."""
        return {
            "reference": self.reference_name,
            "current": self.current_name,
            "columns": {column.name: column.to_dict() for column in self.columns},
            "drifted_columns": self.drifted_columns,
            "number_of_tested_columns": len(self.tested_columns),
            "drift_share": self.drift_share,
            "drift_share_threshold": self.drift_share_threshold,
            "dataset_drifted": self.dataset_drifted,
            "added_columns": self.added_columns,
            "removed_columns": self.removed_columns,
        }
