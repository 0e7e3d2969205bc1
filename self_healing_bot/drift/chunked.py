"""Compare tables too large to hold, in memory that stays flat as rows grow.

Pass 1 streams the reference, then the current table (which then knows the reference's range),
into sketches; pass 2 counts the numeric columns that are binned on Sturges edges fixed from
pass 1. Chi-square, Z, Jensen-Shannon and PSI are then exact (counts), as are missing rates,
ranges, new categories and the Wasserstein norm; KS and the Wasserstein distance are estimated
from a seeded sample of `sample_limit` values per side, and the column's `sampled` says so.

    >>> report = compare_large(Path("ref.parquet"), Path("cur.csv"), DriftOptions())
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl

from self_healing_bot.drift.chunks import read_chunks
from self_healing_bot.drift.columns import ColumnKind, ValueClass, kind_for
from self_healing_bot.drift.compare import (
    DriftOptions,
    bin_edges,
    check_column_names,
    class_conflict,
    column_overrides,
    dtype_issues,
    judge_column,
    needs_bins,
    not_numbers,
    untested_column,
)
from self_healing_bot.drift.report import ColumnDrift, ColumnStatus, DriftReport
from self_healing_bot.drift.sketches import ColumnSketch, TableSketch
from self_healing_bot.drift.tables import format_of

# Progress is reported as (completed, total) file passes: two in pass 1, two in pass 2.
PASSES = 4

Progress = Callable[[float, float], None]


def compare_large(
    reference: Path,
    current: Path,
    options: DriftOptions | None = None,
    on_progress: Progress | None = None,
) -> DriftReport:
    """Compare two table files by streaming them (see the module docstring for what is exact)."""
    options = options or DriftOptions()
    report_progress = on_progress or (lambda _completed, _total: None)
    numeric_override = {
        name: ValueClass.NUMBER
        for name, column in options.columns.items()
        if column.kind is ColumnKind.NUMERIC
    }
    reference_sketch = _sketch(
        reference,
        TableSketch(options.sample_limit, options.seed, numeric_override),
        0,
        report_progress,
    )
    check_column_names(options, reference_sketch.columns)
    targets = {name: sketch.target for name, sketch in reference_sketch.columns.items()}
    ranges = {
        name: (sketch.minimum, sketch.maximum)
        for name, sketch in reference_sketch.columns.items()
        if sketch.target is ValueClass.NUMBER and sketch.present
    }
    current_sketch = _sketch(
        current,
        TableSketch(options.sample_limit, options.seed + 1, targets, ranges),
        1,
        report_progress,
    )
    shared = [name for name in reference_sketch.columns if name in current_sketch.columns]
    binned = {}
    for name in shared:
        reference_column = reference_sketch.columns[name]
        current_column = current_sketch.columns[name]
        if _is_numeric(name, reference_column, options) and _testable(current_column):
            first, second = reference_column.numeric_summary(), current_column.numeric_summary()
            if first.present and second.present and needs_bins(first, second):
                edges = bin_edges(first, second)
                reference_column.edges = current_column.edges = edges
                binned[name] = (reference_column, current_column)
    if binned:
        for side, path in enumerate((reference, current)):
            for chunk in read_chunks(path, format_of(path.name), list(binned)):
                for name, sketches in binned.items():
                    sketches[side].add_to_histogram(chunk.frame[name])
                report_progress(2 + side + chunk.done, PASSES)
    report_progress(PASSES, PASSES)
    return DriftReport(
        reference_name=str(reference),
        current_name=str(current),
        columns=[
            _column(name, reference_sketch.columns[name], current_sketch.columns[name], options)
            for name in shared
        ],
        drift_share_threshold=options.drift_share,
        added_columns=[name for name in current_sketch.columns if name not in shared],
        removed_columns=[name for name in reference_sketch.columns if name not in shared],
    )


def _sketch(path: Path, sketch: TableSketch, step: int, on_progress: Progress) -> TableSketch:
    for chunk in read_chunks(path, format_of(path.name)):
        sketch.update(chunk.frame)
        on_progress(step + chunk.done, PASSES)
    return sketch


def _kind(name: str, sketch: ColumnSketch, options: DriftOptions) -> ColumnKind:
    inferred = kind_for(sketch.dtype or pl.Null(), sketch.distinct, sketch.present)
    return column_overrides(name, options, inferred).kind or inferred


def _is_numeric(name: str, sketch: ColumnSketch, options: DriftOptions) -> bool:
    return _kind(name, sketch, options) is ColumnKind.NUMERIC and _testable(sketch)


def _testable(sketch: ColumnSketch) -> bool:
    return sketch.conflict is None and sketch.bad == 0


def _column(
    name: str, reference: ColumnSketch, current: ColumnSketch, options: DriftOptions
) -> ColumnDrift:
    kind = _kind(name, reference, options)
    issues = []
    if reference.dtype is not None and current.dtype is not None:
        issues = dtype_issues(reference.dtype, current.dtype)
    if kind is ColumnKind.TEXT and reference.distinct is None:
        issues.append("more distinct values than can be counted in bounded memory")
    missing = (_missing_rate(reference), _missing_rate(current))
    status_message = _untestable(kind, reference, current)
    if status_message is not None:
        status, message = status_message
        return untested_column(name, kind, status, message, missing, issues, options)
    if kind is ColumnKind.NUMERIC:
        return judge_column(
            name, kind, reference.numeric_summary(), current.numeric_summary(), options, issues
        )
    integer = reference.integer and current.integer
    return judge_column(
        name,
        kind,
        reference.category_summary(integer),
        current.category_summary(integer),
        options,
        issues,
    )


def _untestable(
    kind: ColumnKind, reference: ColumnSketch, current: ColumnSketch
) -> tuple[ColumnStatus, str] | None:
    if kind in (ColumnKind.TEXT, ColumnKind.DATETIME):
        return ColumnStatus.IGNORED, f"{kind.value} columns are not tested"
    classes = [
        sketch.conflict or sketch.found or ValueClass.EMPTY for sketch in (reference, current)
    ]
    conflict = class_conflict(kind, classes[0], classes[1])
    if conflict is not None:
        return ColumnStatus.TYPE_MISMATCH, conflict
    for side, sketch in (("reference", reference), ("current", current)):
        if sketch.bad:
            return ColumnStatus.TYPE_MISMATCH, not_numbers(side, sketch.bad, sketch.bad_example)
    return None


def _missing_rate(sketch: ColumnSketch) -> float:
    return 1.0 - sketch.present / sketch.rows if sketch.rows else 0.0
