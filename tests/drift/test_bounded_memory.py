"""What keeps the streamed path's memory flat: the reader holds about one chunk, sketches a fixed
number of values, however many rows pass through (bench/drift measures the resulting RSS)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from self_healing_bot.drift import chunks
from self_healing_bot.drift.chunks import read_chunks
from self_healing_bot.drift.sketches import TableSketch
from self_healing_bot.drift.summaries import CATEGORY_LIMIT, NUMERIC_DISTINCT_LIMIT
from self_healing_bot.drift.tables import TableFormat

CHUNK_ROWS = 20_000


def _held_while_reading(path: Path) -> int:
    """Most Arrow memory held, beyond what was held before, while reading the file in chunks."""
    before = pa.total_allocated_bytes()
    held = [
        pa.total_allocated_bytes() - before for _chunk in read_chunks(path, TableFormat.PARQUET)
    ]
    return max(held)


@pytest.mark.parametrize("row_group_rows", [None, 40_000], ids=["one row group", "many groups"])
def test_the_parquet_reader_holds_the_same_memory_for_four_times_the_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, row_group_rows: int | None
) -> None:
    # Random doubles do not compress, so a reader that keeps the row groups it has passed
    # (pre_buffer) or reads a whole column chunk at once (no read buffer) holds 4x more.
    monkeypatch.setattr(chunks, "CHUNK_ROWS", CHUNK_ROWS)
    rng = np.random.default_rng(0)
    held = []
    for rows in (300_000, 1_200_000):
        path = tmp_path / f"{rows}.parquet"
        table = pa.table({f"x{index}": rng.random(rows) for index in range(3)})
        pq.write_table(table, path, row_group_size=row_group_rows or rows)
        del table
        held.append(_held_while_reading(path))
    small, large = held
    assert large <= small + CHUNK_ROWS * 3 * 8  # at most one more chunk's worth, not 4x


def test_sketches_keep_a_fixed_number_of_values_however_many_rows_pass() -> None:
    limit, chunk_rows = 5000, 3000
    sketch = TableSketch(limit=limit, seed=3)
    rng = np.random.default_rng(3)
    for index in range(40):
        sketch.update(
            pl.DataFrame(
                {
                    "real": rng.normal(0, 1, chunk_rows),
                    "label": [f"v{value}" for value in rng.integers(0, 20, chunk_rows)],
                    "many_labels": [f"id{index}-{row}" for row in range(chunk_rows)],
                    "many_reals": rng.random(chunk_rows),
                }
            )
        )
        seen = (index + 1) * chunk_rows
        for name in ("real", "many_reals"):
            column = sketch.columns[name]
            assert column.sample.size == column.sample_keys.size == min(seen, limit)
    assert sketch.rows == 40 * chunk_rows
    # Counts are kept only while they are few; past the limit they are dropped, not grown.
    assert sketch.columns["label"].distinct == 20
    assert 40 * chunk_rows > CATEGORY_LIMIT and sketch.columns["many_labels"].distinct is None
    assert 40 * chunk_rows > NUMERIC_DISTINCT_LIMIT and sketch.columns["many_reals"].keys is None
