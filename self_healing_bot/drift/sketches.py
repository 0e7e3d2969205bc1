"""Per-column summaries built one chunk at a time, in memory that does not grow with rows.

Exact: row and missing counts, extremes, mean and standard deviation (Chan's parallel update),
category counts (up to `CATEGORY_LIMIT` categories), numeric value counts (up to
`NUMERIC_DISTINCT_LIMIT` values), values outside the reference range, and histograms on fixed
edges (a second pass). Estimated: the sorted sample of a numeric column, a seeded uniform sample
without replacement of at most `limit` values (bottom-k of one random key per row), which KS and
Wasserstein read.

    >>> sketch = TableSketch(limit=1000, seed=0)
    >>> for chunk in read_chunks(path, TableFormat.PARQUET):
    ...     sketch.update(chunk.frame)
    >>> sketch.columns["age"].numeric_summary()
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import polars as pl

from self_healing_bot.drift import statistics as st
from self_healing_bot.drift.columns import ValueClass, value_class
from self_healing_bot.drift.summaries import (
    CATEGORY_LIMIT,
    NUMERIC_DISTINCT_LIMIT,
    CategorySummary,
    NumericSummary,
)


class SketchError(ValueError):
    """A summary was asked for something the stream did not collect."""


class ColumnSketch:
    """One side of one column. `target` is the class values are read as: the first class seen
    unless given (the current side takes the reference's); text read as numbers that is not a
    number is counted in `bad`, a class that cannot convert at all is kept in `conflict`."""

    def __init__(
        self, limit: int, target: ValueClass | None, reference_range: tuple[float, float] | None
    ) -> None:
        self.limit = limit
        self.target = target
        self.reference_range = reference_range
        self.dtype: pl.DataType | None = None
        self.found: ValueClass | None = None
        self.rows = 0
        self.present = 0
        self.bad = 0
        self.bad_example: object = None
        self.conflict: ValueClass | None = None
        self.integer = True
        self.minimum, self.maximum = math.inf, -math.inf
        self.mean, self.squares = 0.0, 0.0
        self.below = self.above = 0
        self.keys: st.NumberArray | None = np.zeros(0, dtype=np.float64)
        self.key_counts = np.zeros(0, dtype=np.int64)
        self.sample = np.zeros(0, dtype=np.float64)
        self.sample_keys = np.zeros(0, dtype=np.float64)
        self.categories: pl.DataFrame | None = pl.DataFrame(
            {"value": [], "count": []}, schema={"value": pl.String, "count": pl.Int64}
        )
        self.edges: st.FloatArray | None = None
        self.histogram = np.zeros(0, dtype=np.int64)

    def update(self, column: pl.Series, row_keys: st.FloatArray) -> None:
        """Add one chunk of the column (`row_keys`: one uniform random key per row)."""
        self.rows += column.len()
        numbers = self._numbers(column)
        if numbers is not None:
            present = np.isfinite(numbers)
            self._add_numbers(numbers[present], row_keys[present])
        elif self.target in (ValueClass.STRING, ValueClass.BOOLEAN):
            self._add_categories(column)
        elif self.target is not None and self.conflict is None:
            self.present += column.len() - column.null_count()

    def add_to_histogram(self, column: pl.Series) -> None:
        """Second pass: count values on `edges` (set once both sides' extremes are known)."""
        if self.edges is None:
            raise SketchError("histogram edges are not set")
        numbers = self._numbers(column)
        if numbers is not None:
            counts, _ = np.histogram(numbers[np.isfinite(numbers)], self.edges)
            self.histogram = self.histogram + counts if self.histogram.size else counts

    def _numbers(self, column: pl.Series) -> st.FloatArray | None:
        """The chunk as float64 (missing as NaN) when the column is read as numbers."""
        found = value_class(column.dtype)
        if found is ValueClass.EMPTY:
            return np.full(column.len(), np.nan) if self.target is ValueClass.NUMBER else None
        if self.target is None:
            self.target = found
        if self.dtype is None:
            self.dtype, self.found = column.dtype, found
        if self.target is not ValueClass.NUMBER:
            if self.target is ValueClass.STRING or found is self.target:
                return None
            self.conflict = self.conflict or found
            return None
        if found is ValueClass.NUMBER:
            self.integer = self.integer and column.dtype.is_integer()
            return column.cast(pl.Float64).to_numpy()
        if found is not ValueClass.STRING:
            self.conflict = self.conflict or found
            return None
        self.integer = False
        numbers = column.cast(pl.Float64, strict=False)
        bad = column.filter(column.is_not_null() & numbers.is_null())
        if bad.len():
            self.bad_example = self.bad_example if self.bad else bad[0]
            self.bad += bad.len()
        return numbers.to_numpy()

    def _add_numbers(self, values: st.FloatArray, keys: st.FloatArray) -> None:
        if self.conflict is not None or not values.size:
            return
        count = values.size
        chunk_mean = float(values.mean())
        chunk_squares = float(((values - chunk_mean) ** 2).sum())
        total = self.present + count
        delta = chunk_mean - self.mean
        self.squares += chunk_squares + delta * delta * self.present * count / total
        self.mean += delta * count / total
        self.present = total
        self.minimum = min(self.minimum, float(values.min()))
        self.maximum = max(self.maximum, float(values.max()))
        if self.reference_range is not None:
            self.below += int((values < self.reference_range[0]).sum())
            self.above += int((values > self.reference_range[1]).sum())
        self._count_values(values)
        self._sample(values, keys)

    def _count_values(self, values: st.FloatArray) -> None:
        if self.keys is None:
            return
        counted = pl.Series("value", values).value_counts(name="count").sort("value")
        if counted.height > NUMERIC_DISTINCT_LIMIT:
            self.keys = None
            return
        merged, old, new = st.align_counts(
            self.keys,
            self.key_counts,
            counted["value"].to_numpy(),
            counted["count"].to_numpy().astype(np.int64),
        )
        if merged.size > NUMERIC_DISTINCT_LIMIT:
            self.keys = None
            return
        self.keys, self.key_counts = merged, old + new

    def _sample(self, values: st.FloatArray, keys: st.FloatArray) -> None:
        if self.sample.size >= self.limit:
            below = keys < self.sample_keys.max()
            values, keys = values[below], keys[below]
        sample = np.concatenate([self.sample, values])
        sample_keys = np.concatenate([self.sample_keys, keys])
        if sample.size > self.limit:
            kept = np.argpartition(sample_keys, self.limit - 1)[: self.limit]
            sample, sample_keys = sample[kept], sample_keys[kept]
        self.sample, self.sample_keys = sample, sample_keys

    def _add_categories(self, column: pl.Series) -> None:
        values = column.drop_nulls()
        self.present += values.len()
        if self.categories is None or self.conflict is not None or not values.len():
            return
        if self.target is ValueClass.STRING:
            values = values.cast(pl.String)
        counts = values.rename("value").value_counts(name="count").cast({"count": pl.Int64})
        if self.categories.height == 0:
            self.categories = self.categories.cast({"value": counts["value"].dtype})
        merged = pl.concat([self.categories, counts]).group_by("value").agg(pl.col("count").sum())
        self.categories = merged if merged.height <= CATEGORY_LIMIT else None

    @property
    def distinct(self) -> int | None:
        """Distinct present values, None when too many to count."""
        if self.target is ValueClass.NUMBER:
            return None if self.keys is None else int(self.keys.size)
        return None if self.categories is None else self.categories.height

    def numeric_summary(self) -> NumericSummary:
        """The summary the drift tests read (histogram only after the second pass)."""
        edges, histogram = self.edges, self.histogram

        def counts(asked: st.FloatArray) -> st.CountArray:
            if edges is None or not np.array_equal(asked, edges):
                raise SketchError("the histogram was counted on other edges")
            return histogram if histogram.size else np.zeros(edges.size - 1, dtype=np.int64)

        present = self.present
        return NumericSummary(
            rows=self.rows,
            present=present,
            minimum=self.minimum if present else math.nan,
            maximum=self.maximum if present else math.nan,
            std=math.sqrt(self.squares / present) if present else math.nan,
            integer=self.integer and self.dtype is not None and self.dtype.is_integer(),
            sample=np.sort(self.sample),
            sampled=present > self.limit,
            distinct=None if self.keys is None else (self.keys, self.key_counts),
            histogram=counts,
            below=self.below,
            above=self.above,
        )

    def category_summary(self, integer: bool) -> CategorySummary:
        """Category counts; a numeric column's value counts when it is categorical."""
        if self.target is not ValueClass.NUMBER:
            return CategorySummary(self.rows, self.present, self.categories)
        if self.keys is None:
            return CategorySummary(self.rows, self.present, None)
        values = pl.Series("value", self.keys)
        counts = pl.DataFrame(
            {"value": values.cast(pl.Int64) if integer else values, "count": self.key_counts}
        )
        return CategorySummary(self.rows, self.present, counts)


class TableSketch:
    """Every column of one side, fed chunk by chunk; rows keyed by one seeded generator."""

    def __init__(
        self,
        limit: int,
        seed: int,
        targets: Mapping[str, ValueClass | None] | None = None,
        reference_ranges: Mapping[str, tuple[float, float]] | None = None,
    ) -> None:
        self.limit = limit
        self.generator = np.random.default_rng(seed)
        self.targets = targets or {}
        self.reference_ranges = reference_ranges or {}
        self.columns: dict[str, ColumnSketch] = {}
        self.rows = 0

    def update(self, frame: pl.DataFrame) -> None:
        """Add one chunk; a column missing from a chunk counts as missing in its rows."""
        row_keys = self.generator.random(frame.height)
        for name in frame.columns:
            if name not in self.columns:
                self.columns[name] = ColumnSketch(
                    self.limit, self.targets.get(name), self.reference_ranges.get(name)
                )
                self.columns[name].rows = self.rows
        for name, sketch in self.columns.items():
            if name in frame.columns:
                sketch.update(frame[name], row_keys)
            else:
                sketch.rows += frame.height
        self.rows += frame.height
