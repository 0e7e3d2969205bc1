"""Compare a current table with its reference, column by column.

`compare_column` is pure (two polars Series in, a `ColumnDrift` out); `compare_tables` walks the
columns of two `Table`s, reading one column of each at a time, so memory does not grow with the
number of columns.

    >>> report = compare_tables(open_table(Path("ref.parquet")), open_table(Path("cur.parquet")))
    >>> report.dataset_drifted, report.drifted_columns
    (True, ['age', 'income'])
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from self_healing_bot.drift import statistics as st
from self_healing_bot.drift.columns import (
    ColumnKind,
    ValueClass,
    infer_kind,
    present_values,
    value_class,
)
from self_healing_bot.drift.report import ColumnDrift, ColumnStatus, Distribution, DriftReport
from self_healing_bot.drift.statistics import DriftTest
from self_healing_bot.drift.summaries import (
    CATEGORY_LIMIT,
    NUMERIC_DISTINCT_LIMIT,
    CategorySummary,
    NumericSummary,
    category_summary,
    numeric_summary,
)
from self_healing_bot.drift.tables import Table

NUMERIC_ONLY_TESTS = frozenset({DriftTest.KS, DriftTest.WASSERSTEIN})
MAX_CHART_CATEGORIES = 20


class DriftConfigError(ValueError):
    """The drift options ask for something impossible (e.g. KS on a categorical column)."""


@dataclass(frozen=True)
class ColumnOptions:
    """Per-column overrides from the repository config; `None` keeps the default."""

    kind: ColumnKind | None = None
    test: DriftTest | None = None
    threshold: float | None = None


@dataclass(frozen=True)
class DriftOptions:
    """How to compare. The defaults reproduce Evidently's `DataDriftPreset`, except:

    - p-value tests run on a seeded sample of at most `sample_limit` rows per side;
    - a side with fewer than `min_rows` present values is `insufficient_data`, not tested;
    - with `require_effect_size`, a column drifts only if its effect size also reaches
      `min_effect` for its test (large samples make tiny differences significant).
    """

    drift_share: float = 0.5
    columns: Mapping[str, ColumnOptions] = field(default_factory=dict)
    require_effect_size: bool = False
    min_effect: Mapping[DriftTest, float] = field(
        default_factory=lambda: dict(st.DEFAULT_MIN_EFFECT)
    )
    sample_limit: int = 200_000
    seed: int = 0
    min_rows: int = 5
    missing_rate_tolerance: float = 0.05


def compare_tables(
    reference: Table,
    current: Table,
    options: DriftOptions | None = None,
    on_column: Callable[[str], None] | None = None,
) -> DriftReport:
    """Compare every reference column with the current column of the same name.

    `on_column` is called after each column (e.g. to advance a progress bar).
    """
    options = options or DriftOptions()
    check_column_names(options, reference.schema)
    columns = []
    for name in reference.schema:
        if name in current.schema:
            columns.append(
                compare_column(name, reference.column(name), current.column(name), options)
            )
        if on_column is not None:
            on_column(name)
    return DriftReport(
        reference_name=reference.name,
        current_name=current.name,
        columns=columns,
        drift_share_threshold=options.drift_share,
        added_columns=[name for name in current.schema if name not in reference.schema],
        removed_columns=[name for name in reference.schema if name not in current.schema],
    )


def check_column_names(options: DriftOptions, reference_columns: Iterable[str]) -> None:
    """Refuse column options that name no reference column (a typo would be ignored silently)."""
    unknown = sorted(set(options.columns) - set(reference_columns))
    if unknown:
        raise DriftConfigError(f"column options name columns not in the reference: {unknown}")


def compare_column(
    name: str, reference: pl.Series, current: pl.Series, options: DriftOptions
) -> ColumnDrift:
    """Test one column and collect its schema and quality findings."""
    inferred = infer_kind(reference)
    kind = column_overrides(name, options, inferred).kind or inferred
    issues = dtype_issues(reference.dtype, current.dtype)
    missing = (_missing_rate(reference), _missing_rate(current))
    if kind in (ColumnKind.TEXT, ColumnKind.DATETIME):
        message = f"{kind.value} columns are not tested"
        return untested_column(name, kind, ColumnStatus.IGNORED, message, missing, issues, options)
    converted = _comparable(kind, reference, current)
    if isinstance(converted, str):
        return untested_column(
            name, kind, ColumnStatus.TYPE_MISMATCH, converted, missing, issues, options
        )
    reference_values, current_values = (present_values(side) for side in converted)
    if kind is ColumnKind.NUMERIC:
        reference_numbers = numeric_summary(reference_values, reference.len())
        return judge_column(
            name,
            kind,
            reference_numbers,
            numeric_summary(current_values, current.len(), reference_numbers),
            options,
            issues,
        )
    return judge_column(
        name,
        kind,
        category_summary(reference_values, reference.len()),
        category_summary(current_values, current.len()),
        options,
        issues,
    )


def column_overrides(name: str, options: DriftOptions, inferred: ColumnKind) -> ColumnOptions:
    """The column's overrides, refused when the test cannot run on the column's kind."""
    overrides = options.columns.get(name, ColumnOptions())
    kind = overrides.kind or inferred
    if overrides.test in NUMERIC_ONLY_TESTS and kind is not ColumnKind.NUMERIC:
        raise DriftConfigError(
            f"column {name!r}: test {overrides.test.value} needs a numeric column, "
            f"but the column is {kind.value}"
        )
    return overrides


def dtype_issues(reference: pl.DataType, current: pl.DataType) -> list[str]:
    """A finding when the stored dtype changed between the sides."""
    return [f"dtype changed from {reference} to {current}"] if reference != current else []


def untested_column(
    name: str,
    kind: ColumnKind,
    status: ColumnStatus,
    message: str,
    missing: tuple[float, float],
    issues: list[str],
    options: DriftOptions,
) -> ColumnDrift:
    """A column reported without a test (ignored kind, type mismatch), with its findings."""
    return ColumnDrift(
        name,
        kind,
        status,
        None,
        0,
        0,
        missing[0],
        missing[1],
        issues=issues + _missing_issues(missing, options),
        message=message,
    )


def judge_column(
    name: str,
    kind: ColumnKind,
    reference: NumericSummary | CategorySummary,
    current: NumericSummary | CategorySummary,
    options: DriftOptions,
    issues: list[str],
) -> ColumnDrift:
    """Test one column from the summaries of its two sides (exact or streamed)."""
    overrides = options.columns.get(name, ColumnOptions())
    missing = (_summary_missing_rate(reference), _summary_missing_rate(current))
    issues = issues + _missing_issues(missing, options)

    def column(status: ColumnStatus, message: str) -> ColumnDrift:
        return ColumnDrift(
            name,
            kind,
            status,
            None,
            reference.present,
            current.present,
            missing[0],
            missing[1],
            issues=issues,
            message=message,
        )

    too_few = [
        f"{side} has {summary.present} usable values (needs {options.min_rows})"
        for side, summary in (("reference", reference), ("current", current))
        if summary.present < options.min_rows
    ]
    if too_few:
        return column(ColumnStatus.INSUFFICIENT_DATA, "; ".join(too_few))
    if isinstance(reference, NumericSummary) and isinstance(current, NumericSummary):
        outcome = _numeric(reference, current, overrides, options)
    elif isinstance(reference, CategorySummary) and isinstance(current, CategorySummary):
        if reference.counts is None or current.counts is None:
            return column(
                ColumnStatus.IGNORED,
                f"more than {CATEGORY_LIMIT} distinct values: too many to count in bounded memory",
            )
        outcome = _categorical(reference.counts, current.counts, overrides, options)
    else:
        raise TypeError(f"column {name!r}: sides summarised as different kinds")
    result = outcome.result
    if options.require_effect_size:
        result = st.require_effect(result, options.min_effect[result.test])
    return ColumnDrift(
        name,
        kind,
        ColumnStatus.CONSTANT if outcome.distinct_values == 1 else ColumnStatus.TESTED,
        result,
        reference.present,
        current.present,
        missing[0],
        missing[1],
        sampled=outcome.sampled,
        issues=issues + outcome.issues,
        distribution=outcome.distribution,
    )


@dataclass(frozen=True)
class _Outcome:
    result: st.TestResult
    distinct_values: int
    sampled: int | None
    issues: list[str]
    distribution: Distribution


def _missing_rate(column: pl.Series) -> float:
    if column.len() == 0:
        return 0.0
    return 1.0 - present_values(column).len() / column.len()


def _summary_missing_rate(summary: NumericSummary | CategorySummary) -> float:
    return 1.0 - summary.present / summary.rows if summary.rows else 0.0


def _missing_issues(missing: tuple[float, float], options: DriftOptions) -> list[str]:
    reference, current = missing
    if abs(current - reference) > options.missing_rate_tolerance:
        return [f"missing values changed from {reference:.1%} to {current:.1%}"]
    return []


def class_conflict(
    kind: ColumnKind, reference: ValueClass, current: ValueClass, text_converts: bool = True
) -> str | None:
    """Why the two sides' value classes cannot be compared as `kind`, or None if they can.

    Text converts to numbers in a numeric column (the values themselves are checked later).
    """
    if kind is ColumnKind.NUMERIC:
        convertible = {ValueClass.NUMBER, ValueClass.EMPTY}
        if text_converts:
            convertible.add(ValueClass.STRING)
        for side, values in (("reference", reference), ("current", current)):
            if values not in convertible:
                return f"{side} holds {values.value} values, not numbers"
        return None
    known = {value for value in (reference, current) if value is not ValueClass.EMPTY}
    if len(known) > 1:
        return f"reference holds {reference.value} values, current holds {current.value} values"
    return None


def not_numbers(side: str, count: int, example: object) -> str:
    """The type-mismatch message for text found in a numeric column."""
    return (
        f"{count} {side} values are not numbers, e.g. {example!r}; "
        "fix the data or override the column's kind"
    )


def _comparable(
    kind: ColumnKind, reference: pl.Series, current: pl.Series
) -> tuple[pl.Series, pl.Series] | str:
    """Both sides in one comparable dtype, or why they cannot be compared."""
    reference_class, current_class = value_class(reference.dtype), value_class(current.dtype)
    conflict = class_conflict(kind, reference_class, current_class)
    if conflict is not None:
        return conflict
    if kind is ColumnKind.NUMERIC:
        converted = []
        for side, series in (("reference", reference), ("current", current)):
            numbers = _as_numbers(side, series)
            if isinstance(numbers, str):
                return numbers
            converted.append(numbers)
        return converted[0], converted[1]
    if reference_class is ValueClass.EMPTY:
        reference = reference.cast(current.dtype)
    if current_class is ValueClass.EMPTY:
        current = current.cast(reference.dtype)
    return reference, current


def _as_numbers(side: str, series: pl.Series) -> pl.Series | str:
    if series.dtype.is_numeric():
        return series
    numbers = series.cast(pl.Float64, strict=False)
    bad = series.filter(series.is_not_null() & numbers.is_null())
    return numbers if bad.len() == 0 else not_numbers(side, bad.len(), bad[0])


def needs_bins(reference: NumericSummary, current: NumericSummary) -> bool:
    """Whether a numeric column is compared on Sturges bins rather than on its values."""
    if reference.distinct is None or current.distinct is None:
        return True
    return reference.distinct[0].size > st.MAX_DISTINCT_FOR_VALUE_BINS


def bin_edges(reference: NumericSummary, current: NumericSummary) -> st.FloatArray:
    """Sturges edges over both sides together, as Evidently bins a numeric column."""
    return st.sturges_edges(
        min(reference.minimum, current.minimum),
        max(reference.maximum, current.maximum),
        reference.present + current.present,
        reference.integer and current.integer,
    )


def _numeric(
    reference: NumericSummary,
    current: NumericSummary,
    overrides: ColumnOptions,
    options: DriftOptions,
) -> _Outcome:
    aligned = None
    distinct = NUMERIC_DISTINCT_LIMIT + 1  # "many": above every cut the test choice makes
    if reference.distinct is not None and current.distinct is not None:
        aligned = st.align_counts(*reference.distinct, *current.distinct)
        distinct = int(aligned[0].size)
    test = overrides.test or st.default_test(True, reference.present, distinct)
    threshold = _threshold(test, overrides)
    if needs_bins(reference, current):
        edges = bin_edges(reference, current)
        reference_bins, current_bins = reference.histogram(edges), current.histogram(edges)
        labels = [f"{low:.4g} to {high:.4g}" for low, high in itertools.pairwise(edges)]
    else:
        assert aligned is not None  # needs_bins is False only when both sides' values are known
        reference_bins, current_bins = aligned[1], aligned[2]
        labels = [f"{key:.6g}" for key in aligned[0].tolist()]
    streamed = reference.sampled or current.sampled
    limit = options.sample_limit
    sampled: int | None = None
    if test is DriftTest.KS:
        if streamed or max(reference.sample.size, current.sample.size) > limit:
            sampled = limit
        result = st.ks(
            st.sample_sorted(reference.sample, limit, options.seed),
            st.sample_sorted(current.sample, limit, options.seed + 1),
            threshold,
        )
    elif test is DriftTest.WASSERSTEIN:
        sampled = limit if streamed else None
        result = st.wasserstein_normed(
            reference.sample, current.sample, threshold, reference_std=reference.std
        )
    else:
        if aligned is None:  # a stream with too many values to count: count the samples
            aligned = st.align_counts(
                *st.distinct_counts(reference.sample), *st.distinct_counts(current.sample)
            )
            sampled = limit
        counted, result = _count_test(
            test, aligned[1], aligned[2], threshold, options, reference_bins, current_bins
        )
        if test in (DriftTest.CHI_SQUARE, DriftTest.Z):
            sampled = sampled or counted
    issues = []
    outside = current.below + current.above
    if outside:
        issues.append(
            f"{outside} current values ({outside / current.present:.1%}) lie outside the "
            f"reference range [{reference.minimum:.6g}, {reference.maximum:.6g}]"
        )
    distribution = Distribution(
        labels,
        (reference_bins / reference.present).tolist(),
        (current_bins / current.present).tolist(),
    )
    return _Outcome(result, distinct, sampled, issues, distribution)


def _categorical(
    reference: pl.DataFrame, current: pl.DataFrame, overrides: ColumnOptions, options: DriftOptions
) -> _Outcome:
    counts = (
        reference.rename({"count": "reference"})
        .join(current.rename({"count": "current"}), on="value", how="full", coalesce=True)
        .fill_null(0)
        .sort("value")
    )
    reference_counts = counts["reference"].to_numpy().astype(np.int64)
    current_counts = counts["current"].to_numpy().astype(np.int64)
    reference_total, current_total = int(reference_counts.sum()), int(current_counts.sum())
    test = overrides.test or st.default_test(False, reference_total, counts.height)
    threshold = _threshold(test, overrides)
    sampled, result = _count_test(
        test, reference_counts, current_counts, threshold, options, reference_counts, current_counts
    )
    labels = [str(value) for value in counts["value"].to_list()]
    new = [
        label for label, count in zip(labels, reference_counts.tolist(), strict=True) if count == 0
    ]
    issues = [f"new categories: {', '.join(repr(label) for label in new[:10])}"] if new else []
    order = np.argsort(-(reference_counts + current_counts), kind="stable")[:MAX_CHART_CATEGORIES]
    distribution = Distribution(
        [labels[index] for index in order],
        (reference_counts[order] / reference_total).tolist(),
        (current_counts[order] / current_total).tolist(),
    )
    return _Outcome(result, counts.height, sampled, issues, distribution)


def _count_test(
    test: DriftTest,
    reference_counts: st.CountArray,
    current_counts: st.CountArray,
    threshold: float,
    options: DriftOptions,
    reference_bins: st.CountArray,
    current_bins: st.CountArray,
) -> tuple[int | None, st.TestResult]:
    """Tests on value counts (chi-square, Z) or on binned proportions (Jensen-Shannon, PSI);
    the first item is the sample size when a p-value test ran on a sample."""
    if test in (DriftTest.CHI_SQUARE, DriftTest.Z):
        limit = options.sample_limit
        sampled = (
            limit if max(int(reference_counts.sum()), int(current_counts.sum())) > limit else None
        )
        reference_sample = st.sample_counts(reference_counts, limit, options.seed)
        current_sample = st.sample_counts(current_counts, limit, options.seed + 1)
        test_function = st.chi_square if test is DriftTest.CHI_SQUARE else st.z_test
        return sampled, test_function(reference_sample, current_sample, threshold)
    reference_proportions = reference_bins / reference_bins.sum()
    current_proportions = current_bins / current_bins.sum()
    proportion_test = st.jensen_shannon if test is DriftTest.JENSEN_SHANNON else st.psi
    return None, proportion_test(reference_proportions, current_proportions, threshold)


def _threshold(test: DriftTest, overrides: ColumnOptions) -> float:
    return overrides.threshold if overrides.threshold is not None else st.DEFAULT_THRESHOLDS[test]
