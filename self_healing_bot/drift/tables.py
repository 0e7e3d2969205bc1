"""Reference and current tables from CSV, Parquet or JSON Lines, as paths or bytes.

A `Table` hands out one column at a time. Parquet files are read by column projection, so
memory holds one column of each table at once however many columns there are; CSV and JSON
Lines have no column index and are parsed whole, so they are refused above `max_text_bytes`
with a message that says to convert them to Parquet.

    >>> table = open_table(Path("reference.parquet"))
    >>> table.column("age").mean()
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import polars as pl

DEFAULT_MAX_TEXT_BYTES = 2 * 1024**3


class TableFormat(StrEnum):
    """File formats we read."""

    CSV = "csv"
    PARQUET = "parquet"
    JSONL = "jsonl"


_SUFFIXES = {
    ".csv": TableFormat.CSV,
    ".parquet": TableFormat.PARQUET,
    ".pq": TableFormat.PARQUET,
    ".jsonl": TableFormat.JSONL,
    ".ndjson": TableFormat.JSONL,
}


class TableReadError(Exception):
    """A table is missing, empty, corrupt or in a format we do not read."""


@dataclass(frozen=True)
class Table:
    """A named table whose columns are read on demand."""

    name: str
    frame: pl.LazyFrame
    schema: dict[str, pl.DataType]
    rows: int

    def column(self, column_name: str) -> pl.Series:
        """Read one column; a corrupt data page surfaces here as `TableReadError`."""
        try:
            return self.frame.select(column_name).collect().to_series()
        except (pl.exceptions.PolarsError, OSError) as error:
            raise TableReadError(
                f"{self.name}: cannot read column {column_name!r}: {error}"
            ) from error


def format_of(name: str, data: bytes | None = None) -> TableFormat:
    """The format named by the file suffix, else sniffed from the content (Parquet's magic)."""
    suffix = Path(name).suffix.lower()
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    if data is not None:
        if data[:4] == b"PAR1":
            return TableFormat.PARQUET
        return TableFormat.JSONL if data.lstrip()[:1] == b"{" else TableFormat.CSV
    known = ", ".join(sorted(_SUFFIXES))
    raise TableReadError(f"{name}: unknown table format {suffix!r}; use one of {known}")


def open_table(
    path: Path,
    table_format: TableFormat | None = None,
    max_text_bytes: int = DEFAULT_MAX_TEXT_BYTES,
) -> Table:
    """Open a table file; Parquet stays on disk and is read column by column."""
    if not path.is_file():
        raise TableReadError(f"{path}: no such file")
    size = path.stat().st_size
    if size == 0:
        raise TableReadError(f"{path}: the file is empty")
    table_format = table_format or format_of(path.name)
    if table_format is TableFormat.PARQUET:
        return _finish(str(path), lambda: pl.scan_parquet(path))
    if size > max_text_bytes:
        raise TableReadError(
            f"{path}: {size / 1024**3:.1f} GiB of {table_format.value} is above the "
            f"{max_text_bytes / 1024**3:.1f} GiB limit for text formats; convert it to Parquet, "
            "which is read one column at a time"
        )
    return _finish(str(path), lambda: _read_text(path, table_format).lazy())


def table_from_bytes(name: str, data: bytes, table_format: TableFormat | None = None) -> Table:
    """A table from file content, e.g. a file fetched from a repository or an artifact."""
    if not data:
        raise TableReadError(f"{name}: the file is empty")
    table_format = table_format or format_of(name, data)
    if table_format is TableFormat.PARQUET:
        return _finish(name, lambda: pl.read_parquet(io.BytesIO(data)).lazy())
    return _finish(name, lambda: _read_text(io.BytesIO(data), table_format).lazy())


def _read_text(source: Path | io.BytesIO, table_format: TableFormat) -> pl.DataFrame:
    # Full-file type inference: a word deep inside a numeric column makes it a text column
    # (reported as a type mismatch) instead of a parse error.
    if table_format is TableFormat.CSV:
        return pl.read_csv(source, infer_schema_length=None)
    return pl.read_ndjson(source, infer_schema_length=None)


def _finish(name: str, load: Callable[[], pl.LazyFrame]) -> Table:
    try:
        frame: pl.LazyFrame = load()
        schema = dict(frame.collect_schema())
        rows = int(frame.select(pl.len()).collect().item())
    except (pl.exceptions.PolarsError, OSError, ValueError) as error:
        raise TableReadError(f"{name}: cannot read the table: {error}") from error
    if not schema:
        raise TableReadError(f"{name}: the table has no columns")
    return Table(name, frame, schema, rows)
