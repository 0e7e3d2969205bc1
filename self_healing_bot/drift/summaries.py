"""What a drift test needs to know about one side of one column, however it was read.

A summary built from a whole column in memory (`numeric_summary`, `category_summary`) holds every
value, so every statistic is exact. A summary built by streaming chunks
(`self_healing_bot.drift.sketches`) holds exact counts, extremes, moments and histograms, but only
a seeded sample of the values; `sampled` says so, and the report names the sample size.

    >>> summary = numeric_summary(pl.Series([3.0, 1.0, None, 2.0]))
    >>> (summary.present, summary.minimum, summary.maximum)
    (3, 1.0, 3.0)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from self_healing_bot.drift import statistics as st

# Distinct values a stream counts exactly per numeric column; above it the column is binned.
NUMERIC_DISTINCT_LIMIT = 1000
# Distinct categories counted exactly per column; above it a column is treated as text.
CATEGORY_LIMIT = 100_000

Histogram = Callable[[st.FloatArray], st.CountArray]


@dataclass(frozen=True)
class NumericSummary:
    """One side of a numeric column.

    `sample` is sorted and holds every present value unless `sampled`; `distinct` is the exact
    value counts, or None when a stream saw more than `NUMERIC_DISTINCT_LIMIT` values;
    `histogram(edges)` counts values per bin (last bin closed); `below`/`above` count values
    outside the reference range (current side only).
    """

    rows: int
    present: int
    minimum: float
    maximum: float
    std: float
    integer: bool
    sample: st.NumberArray
    sampled: bool
    distinct: tuple[st.NumberArray, st.CountArray] | None
    histogram: Histogram
    below: int = 0
    above: int = 0


@dataclass(frozen=True)
class CategorySummary:
    """One side of a categorical column: `counts` has columns `value` and `count`, or is None
    when there are more than `CATEGORY_LIMIT` distinct values."""

    rows: int
    present: int
    counts: pl.DataFrame | None


def numeric_summary(
    values: pl.Series, rows: int | None = None, reference: NumericSummary | None = None
) -> NumericSummary:
    """The exact summary of present numeric values (nulls, NaN and infinities already dropped).

    With `reference`, values outside its range are counted.
    """
    integer = values.dtype.is_integer()
    array = np.sort(values.to_numpy().astype(np.int64 if integer else np.float64, copy=False))
    keys, counts = st.distinct_counts(array)
    below = above = 0
    if reference is not None and array.size and reference.present:
        below = int(array.searchsorted(reference.minimum, "left"))
        above = int(array.size - array.searchsorted(reference.maximum, "right"))
    return NumericSummary(
        rows=values.len() if rows is None else rows,
        present=int(array.size),
        minimum=float(array[0]) if array.size else float("nan"),
        maximum=float(array[-1]) if array.size else float("nan"),
        std=float(np.std(array)) if array.size else float("nan"),
        integer=integer,
        sample=array,
        sampled=False,
        distinct=(keys, counts),
        histogram=lambda edges: st.histogram_counts(array, edges),
        below=below,
        above=above,
    )


def category_summary(values: pl.Series, rows: int | None = None) -> CategorySummary:
    """The exact category counts of present values."""
    return CategorySummary(
        rows=values.len() if rows is None else rows,
        present=values.len(),
        counts=values.rename("value").value_counts(name="count"),
    )
