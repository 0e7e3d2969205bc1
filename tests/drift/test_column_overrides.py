"""A column's kind can be overridden where inference would guess wrong (issue 5: column types
inferred, with per-column overrides); the test then follows the overridden kind."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from self_healing_bot.drift.columns import ColumnKind
from self_healing_bot.drift.compare import ColumnOptions, DriftOptions, compare_column
from self_healing_bot.drift.report import ColumnStatus
from self_healing_bot.drift.statistics import DriftTest

RNG = np.random.default_rng(5)
# Five-digit postcodes: integers with more than ten values, so inferred numeric.
POSTCODES = pl.Series(RNG.choice(np.arange(10100, 10400, 10), 600))
# Ratings 1-10: integers with ten values at most, so inferred categorical.
RATINGS = pl.Series(RNG.integers(1, 11, 600))


@pytest.mark.parametrize(
    ("series", "override", "kind", "test", "status"),
    [
        (POSTCODES, None, ColumnKind.NUMERIC, DriftTest.KS, ColumnStatus.TESTED),
        (
            POSTCODES,
            ColumnKind.CATEGORICAL,
            ColumnKind.CATEGORICAL,
            DriftTest.CHI_SQUARE,
            ColumnStatus.TESTED,
        ),
        (RATINGS, None, ColumnKind.CATEGORICAL, DriftTest.CHI_SQUARE, ColumnStatus.TESTED),
        (RATINGS, ColumnKind.NUMERIC, ColumnKind.NUMERIC, DriftTest.KS, ColumnStatus.TESTED),
        (POSTCODES, ColumnKind.TEXT, ColumnKind.TEXT, None, ColumnStatus.IGNORED),
    ],
    ids=[
        "postcodes-inferred",
        "postcodes-as-categorical",
        "ratings-inferred",
        "ratings-as-numeric",
        "postcodes-as-text",
    ],
)
def test_a_kind_override_decides_the_test(
    series: pl.Series,
    override: ColumnKind | None,
    kind: ColumnKind,
    test: DriftTest | None,
    status: ColumnStatus,
) -> None:
    options = DriftOptions(columns={"x": ColumnOptions(kind=override)})
    column = compare_column("x", series, series.sample(400, seed=1), options)
    assert (column.kind, column.status) == (kind, status)
    assert (column.result.test if column.result else None) == test
