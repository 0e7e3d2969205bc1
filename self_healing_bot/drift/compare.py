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
from collections.abc import Callable, Mapping
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
    unknown = sorted(set(options.columns) - set(reference.schema))
    if unknown:
        raise DriftConfigError(f"column options name columns not in the reference: {unknown}")
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


def compare_column(
    name: str, reference: pl.Series, current: pl.Series, options: DriftOptions
) -> ColumnDrift:
    """Test one column and collect its schema and quality findings."""
    overrides = options.columns.get(name, ColumnOptions())
    kind = overrides.kind or infer_kind(reference)
    if overrides.test in NUMERIC_ONLY_TESTS and kind is not ColumnKind.NUMERIC:
        raise DriftConfigError(
            f"column {name!r}: test {overrides.test.value} needs a numeric column, "
            f"but the column is {kind.value}"
        )
    issues = []
    if reference.dtype != current.dtype:
        issues.append(f"dtype changed from {reference.dtype} to {current.dtype}")
    reference_missing, current_missing = _missing_rate(reference), _missing_rate(current)
    if abs(current_missing - reference_missing) > options.missing_rate_tolerance:
        issues.append(
            f"missing values changed from {reference_missing:.1%} to {current_missing:.1%}"
        )

    def column(status: ColumnStatus, message: str, reference_n: int, current_n: int) -> ColumnDrift:
        return ColumnDrift(
            name,
            kind,
            status,
            None,
            reference_n,
            current_n,
            reference_missing,
            current_missing,
            issues=issues,
            message=message,
        )

    if kind in (ColumnKind.TEXT, ColumnKind.DATETIME):
        return column(ColumnStatus.IGNORED, f"{kind.value} columns are not tested", 0, 0)
    converted = _comparable(kind, reference, current)
    if isinstance(converted, str):
        return column(ColumnStatus.TYPE_MISMATCH, converted, 0, 0)
    reference_values, current_values = (present_values(side) for side in converted)
    too_few = [
        f"{side} has {values.len()} usable values (needs {options.min_rows})"
        for side, values in (("reference", reference_values), ("current", current_values))
        if values.len() < options.min_rows
    ]
    if too_few:
        return column(
            ColumnStatus.INSUFFICIENT_DATA,
            "; ".join(too_few),
            reference_values.len(),
            current_values.len(),
        )
    if kind is ColumnKind.NUMERIC:
        outcome = _numeric(reference_values, current_values, overrides, options)
    else:
        outcome = _categorical(reference_values, current_values, overrides, options)
    result = outcome.result
    if options.require_effect_size:
        result = st.require_effect(result, options.min_effect[result.test])
    return ColumnDrift(
        name,
        kind,
        ColumnStatus.CONSTANT if outcome.distinct_values == 1 else ColumnStatus.TESTED,
        result,
        reference_values.len(),
        current_values.len(),
        reference_missing,
        current_missing,
        sampled=outcome.sampled,
        issues=issues + outcome.issues,
        distribution=outcome.distribution,
    )


@dataclass(frozen=True)
class _Outcome:
    result: st.TestResult
    distinct_values: int
    sampled: bool
    issues: list[str]
    distribution: Distribution


def _missing_rate(column: pl.Series) -> float:
    if column.len() == 0:
        return 0.0
    return 1.0 - present_values(column).len() / column.len()


def _comparable(
    kind: ColumnKind, reference: pl.Series, current: pl.Series
) -> tuple[pl.Series, pl.Series] | str:
    """Both sides in one comparable dtype, or why they cannot be compared."""
    classes = {
        side: value_class(series.dtype)
        for side, series in (("reference", reference), ("current", current))
    }
    if kind is ColumnKind.NUMERIC:
        converted = []
        for side, series in (("reference", reference), ("current", current)):
            numbers = _as_numbers(side, series, classes[side])
            if isinstance(numbers, str):
                return numbers
            converted.append(numbers)
        return converted[0], converted[1]
    known = {value for value in classes.values() if value is not ValueClass.EMPTY}
    if len(known) > 1:
        return (
            f"reference holds {classes['reference'].value} values, "
            f"current holds {classes['current'].value} values"
        )
    if classes["reference"] is ValueClass.EMPTY:
        reference = reference.cast(current.dtype)
    if classes["current"] is ValueClass.EMPTY:
        current = current.cast(reference.dtype)
    return reference, current


def _as_numbers(side: str, series: pl.Series, values: ValueClass) -> pl.Series | str:
    if values is ValueClass.NUMBER:
        return series
    if values is ValueClass.EMPTY:
        return series.cast(pl.Float64)
    if values is ValueClass.STRING:
        numbers = series.cast(pl.Float64, strict=False)
        bad = series.filter(series.is_not_null() & numbers.is_null())
        if bad.len() == 0:
            return numbers
        return (
            f"{bad.len()} {side} values are not numbers, e.g. {bad[0]!r}; "
            "fix the data or override the column's kind"
        )
    return f"{side} holds {values.value} values, not numbers"


def _numeric(
    reference: pl.Series, current: pl.Series, overrides: ColumnOptions, options: DriftOptions
) -> _Outcome:
    integer = reference.dtype.is_integer() and current.dtype.is_integer()
    dtype = np.int64 if integer else np.float64
    reference_sorted = np.sort(reference.to_numpy().astype(dtype, copy=False))
    current_sorted = np.sort(current.to_numpy().astype(dtype, copy=False))
    reference_keys, reference_counts = st.distinct_counts(reference_sorted)
    current_keys, current_counts = st.distinct_counts(current_sorted)
    keys, reference_aligned, current_aligned = st.align_counts(
        reference_keys, reference_counts, current_keys, current_counts
    )
    test = overrides.test or st.default_test(True, reference_sorted.size, keys.size)
    threshold = _threshold(test, overrides)
    binned = reference_keys.size > st.MAX_DISTINCT_FOR_VALUE_BINS
    if binned:
        edges = st.sturges_edges(
            float(min(reference_sorted[0], current_sorted[0])),
            float(max(reference_sorted[-1], current_sorted[-1])),
            reference_sorted.size + current_sorted.size,
            integer,
        )
        reference_bins = st.histogram_counts(reference_sorted, edges)
        current_bins = st.histogram_counts(current_sorted, edges)
        labels = [f"{low:.4g} to {high:.4g}" for low, high in itertools.pairwise(edges)]
    else:
        reference_bins, current_bins = reference_aligned, current_aligned
        labels = [f"{key:.6g}" for key in keys.tolist()]
    sampled = False
    if test is DriftTest.KS:
        sampled = max(reference_sorted.size, current_sorted.size) > options.sample_limit
        result = st.ks(
            st.sample_sorted(reference_sorted, options.sample_limit, options.seed),
            st.sample_sorted(current_sorted, options.sample_limit, options.seed + 1),
            threshold,
        )
    elif test is DriftTest.WASSERSTEIN:
        result = st.wasserstein_normed(reference_sorted, current_sorted, threshold)
    else:
        sampled, result = _count_test(
            test,
            reference_aligned,
            current_aligned,
            threshold,
            options,
            reference_bins,
            current_bins,
        )
    issues = []
    below = int(current_sorted.searchsorted(reference_sorted[0], "left"))
    above = int(current_sorted.size - current_sorted.searchsorted(reference_sorted[-1], "right"))
    if below or above:
        issues.append(
            f"{below + above} current values ({(below + above) / current_sorted.size:.1%}) lie "
            f"outside the reference range [{reference_sorted[0]:.6g}, {reference_sorted[-1]:.6g}]"
        )
    distribution = Distribution(
        labels,
        (reference_bins / reference_sorted.size).tolist(),
        (current_bins / current_sorted.size).tolist(),
    )
    return _Outcome(result, int(keys.size), sampled, issues, distribution)


def _categorical(
    reference: pl.Series, current: pl.Series, overrides: ColumnOptions, options: DriftOptions
) -> _Outcome:
    counts = (
        reference.rename("value")
        .value_counts(name="reference")
        .join(
            current.rename("value").value_counts(name="current"),
            on="value",
            how="full",
            coalesce=True,
        )
        .fill_null(0)
        .sort("value")
    )
    reference_counts = counts["reference"].to_numpy().astype(np.int64)
    current_counts = counts["current"].to_numpy().astype(np.int64)
    test = overrides.test or st.default_test(False, reference.len(), counts.height)
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
        (reference_counts[order] / reference.len()).tolist(),
        (current_counts[order] / current.len()).tolist(),
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
) -> tuple[bool, st.TestResult]:
    """Tests on value counts (chi-square, Z) or on binned proportions (Jensen-Shannon, PSI)."""
    if test in (DriftTest.CHI_SQUARE, DriftTest.Z):
        limit = options.sample_limit
        sampled = max(int(reference_counts.sum()), int(current_counts.sum())) > limit
        reference_sample = st.sample_counts(reference_counts, limit, options.seed)
        current_sample = st.sample_counts(current_counts, limit, options.seed + 1)
        test_function = st.chi_square if test is DriftTest.CHI_SQUARE else st.z_test
        return sampled, test_function(reference_sample, current_sample, threshold)
    reference_proportions = reference_bins / reference_bins.sum()
    current_proportions = current_bins / current_bins.sum()
    proportion_test = st.jensen_shannon if test is DriftTest.JENSEN_SHANNON else st.psi
    return False, proportion_test(reference_proportions, current_proportions, threshold)


def _threshold(test: DriftTest, overrides: ColumnOptions) -> float:
    return overrides.threshold if overrides.threshold is not None else st.DEFAULT_THRESHOLDS[test]
