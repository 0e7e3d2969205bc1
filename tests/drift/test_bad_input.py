"""Bad input gets a clear per-column status or a clear error, never a crash or a wrong number."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from self_healing_bot.drift.compare import (
    ColumnOptions,
    DriftConfigError,
    DriftOptions,
    compare_column,
    compare_tables,
)
from self_healing_bot.drift.report import ColumnStatus
from self_healing_bot.drift.statistics import DriftTest
from self_healing_bot.drift.tables import Table, TableReadError, open_table, table_from_bytes

RNG = np.random.default_rng(3)
NORMAL = pl.Series(RNG.normal(size=300))


@pytest.mark.parametrize(
    ("reference", "current", "status", "message"),
    [
        (
            NORMAL,
            pl.Series([float("nan")] * 50),
            ColumnStatus.INSUFFICIENT_DATA,
            "current has 0 usable values",
        ),
        (
            pl.Series([None] * 50, dtype=pl.Float64),
            NORMAL,
            ColumnStatus.INSUFFICIENT_DATA,
            "reference has 0",
        ),
        (NORMAL, pl.Series([0.3]), ColumnStatus.INSUFFICIENT_DATA, "current has 1 usable values"),
        (
            NORMAL,
            pl.Series(["1.5", "2.0", "abc"] * 20),
            ColumnStatus.TYPE_MISMATCH,
            "20 current values are not numbers, e.g. 'abc'",
        ),
        (
            pl.Series(["a", "b"] * 100),
            pl.Series([1, 2] * 100),
            ColumnStatus.TYPE_MISMATCH,
            "reference holds string values, current holds number values",
        ),
        (pl.Series([4.0] * 100), pl.Series([4.0] * 80), ColumnStatus.CONSTANT, ""),
        (
            pl.Series([f"id-{i}" for i in range(100)]),
            pl.Series([f"id-{i}" for i in range(100)]),
            ColumnStatus.IGNORED,
            "text columns are not tested",
        ),
    ],
)
def test_columns_that_cannot_be_tested_say_why(
    reference: pl.Series, current: pl.Series, status: ColumnStatus, message: str
) -> None:
    column = compare_column("x", reference, current, DriftOptions())
    assert column.status is status
    assert message in column.message
    if status is not ColumnStatus.CONSTANT:
        assert column.result is None and not column.drifted


def test_a_constant_column_is_tested_and_not_drifted() -> None:
    column = compare_column("x", pl.Series([4.0] * 100), pl.Series([4.0] * 80), DriftOptions())
    assert column.result is not None
    assert (column.result.test, column.result.p_value, column.drifted) == (DriftTest.Z, 1.0, False)


def test_numbers_written_as_text_are_compared_as_numbers() -> None:
    current = pl.Series([str(value) for value in RNG.normal(size=300)])
    column = compare_column("x", NORMAL, current, DriftOptions())
    assert column.status is ColumnStatus.TESTED
    assert "dtype changed from Float64 to String" in column.issues


def test_schema_and_quality_findings_are_reported() -> None:
    reference = pl.DataFrame(
        {"age": RNG.normal(40, 5, 500), "city": ["a", "b"] * 250, "gone": [1.0] * 500}
    )
    current = pl.DataFrame(
        {
            "age": RNG.normal(40, 5, 480).tolist() + [200.0] * 20,
            "city": ["a", "b", "c", None] * 125,
            "new": [1] * 500,
        }
    )
    report = compare_tables(_table("r", reference), _table("c", current))
    columns = {column.name: column for column in report.columns}
    assert report.added_columns == ["new"] and report.removed_columns == ["gone"]
    assert any("lie outside the reference range" in issue for issue in columns["age"].issues)
    assert "new categories: 'c'" in columns["city"].issues
    assert "missing values changed from 0.0% to 25.0%" in columns["city"].issues


def test_effect_size_can_be_required_next_to_the_p_value() -> None:
    # A tiny shift on a big sample: significant, but not a meaningful change.
    reference = pl.Series(RNG.normal(0.0, 1.0, 150_000))
    current = pl.Series(RNG.normal(0.03, 1.0, 150_000))
    options = DriftOptions(columns={"x": ColumnOptions(test=DriftTest.KS)})
    plain = compare_column("x", reference, current, options)
    strict = compare_column(
        "x", reference, current, DriftOptions(columns=options.columns, require_effect_size=True)
    )
    assert plain.drifted and plain.result is not None and plain.result.effect_size < 0.1
    assert not strict.drifted


def test_p_value_tests_on_huge_tables_use_a_bounded_seeded_sample() -> None:
    reference = pl.Series(RNG.normal(size=30_000))
    current = pl.Series(RNG.normal(size=30_000))
    options = DriftOptions(
        columns={"x": ColumnOptions(test=DriftTest.KS)}, sample_limit=1000, seed=5
    )
    first = compare_column("x", reference, current, options)
    again = compare_column("x", reference, current, options)
    assert first.sampled and first.result == again.result


@pytest.mark.parametrize(
    ("column_options", "message"),
    [
        ({"missing": ColumnOptions(threshold=0.2)}, "not in the reference"),
        ({"city": ColumnOptions(test=DriftTest.KS)}, "needs a numeric column"),
    ],
)
def test_impossible_options_are_refused(
    column_options: dict[str, ColumnOptions], message: str
) -> None:
    frame = pl.DataFrame({"city": ["a", "b"] * 50})
    with pytest.raises(DriftConfigError, match=message):
        compare_tables(_table("r", frame), _table("c", frame), DriftOptions(columns=column_options))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "the file is empty"),
        ("corrupt.parquet", b"PAR1" + b"\x00" * 64, "cannot read the table"),
        ("table.xlsx", b"a,b\n1,2\n", None),
    ],
)
def test_unreadable_files_are_table_read_errors(
    tmp_path: Path, name: str, content: bytes, message: str | None
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(TableReadError, match=message or "unknown table format"):
        open_table(path)


def test_text_formats_above_the_size_limit_are_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("a\n" + "1\n" * 1000)
    with pytest.raises(TableReadError, match="convert it to Parquet"):
        open_table(path, max_text_bytes=100)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("t.csv", b"a,b\n1.5,x\n2.5,y\n"),
        ("t.jsonl", b'{"a": 1.5, "b": "x"}\n{"a": 2.5, "b": "y"}\n'),
        ("artifact", b'{"a": 1.5, "b": "x"}\n{"a": 2.5, "b": "y"}\n'),
    ],
)
def test_tables_from_bytes(name: str, content: bytes) -> None:
    table = table_from_bytes(name, content)
    assert (table.rows, list(table.schema)) == (2, ["a", "b"])
    assert table.column("a").to_list() == [1.5, 2.5]


def _table(name: str, frame: pl.DataFrame) -> Table:
    return Table(name, frame.lazy(), dict(frame.schema), frame.height)
