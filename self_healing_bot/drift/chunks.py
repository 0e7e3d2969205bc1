"""Tables too large to hold, read as a sequence of bounded chunks of rows.

Parquet is read a batch of rows at a time from its row groups (pyarrow), holding about one batch
whatever the file's size or row-group layout (see `open_parquet`); CSV and JSON Lines are
read in blocks of bytes cut at the last record end (a newline outside quotes), each block parsed
with its own type inference, so a word in a numeric column deep in the file reaches the caller
as a text chunk instead of failing the parse. A record longer than a block cannot be read in
bounded memory and is refused with its byte offset.

    >>> for chunk in read_chunks(Path("big.parquet"), TableFormat.PARQUET):
    ...     print(chunk.frame.height, f"{chunk.done:.0%}")
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from self_healing_bot.drift.tables import TableFormat, TableReadError

# Decoded chunks, copies and allocator high-water marks scale with this: on the bench's 10M x 20
# pair, compare_large peaked at 439 MB with 100k rows, 555 MB with 200k (flat in the row count).
CHUNK_ROWS = 100_000
BLOCK_BYTES = 32 * 1024**2
READ_BUFFER_BYTES = 1024**2
# Above these a file is read in chunks; below them it is read whole and compared exactly.
LARGE_ROWS = 2_000_000
LARGE_TEXT_BYTES = 256 * 1024**2

_QUOTE, _NEWLINE = ord('"'), ord("\n")


@dataclass(frozen=True)
class Chunk:
    """Some rows of a table, and the share of the file read so far (for progress)."""

    frame: pl.DataFrame
    done: float


def is_large(
    path: Path,
    table_format: TableFormat,
    large_rows: int = LARGE_ROWS,
    large_text_bytes: int = LARGE_TEXT_BYTES,
) -> bool:
    """Whether a table file should be streamed: Parquet by its row count, text by its size."""
    if not path.is_file():
        raise TableReadError(f"{path}: no such file")
    if table_format is TableFormat.PARQUET:
        rows: int = open_parquet(path).metadata.num_rows
        return rows > large_rows
    return path.stat().st_size > large_text_bytes


def read_chunks(
    path: Path,
    table_format: TableFormat,
    columns: Sequence[str] | None = None,
    chunk_rows: int | None = None,
    block_bytes: int | None = None,
) -> Iterator[Chunk]:
    """The rows of a table file in order, in chunks of bounded size (`columns` projects).

    Sizes default to the module's `CHUNK_ROWS` and `BLOCK_BYTES`, read at call time.
    """
    if table_format is TableFormat.PARQUET:
        yield from _parquet_chunks(path, columns, chunk_rows or CHUNK_ROWS)
    else:
        yield from _text_chunks(path, table_format, columns, block_bytes or BLOCK_BYTES)


def open_parquet(path: Path) -> pq.ParquetFile:
    """A Parquet file whose batches are read in memory bounded by one batch, not the file."""
    # pre_buffer keeps every column chunk it has read until the reader is dropped
    # (apache/arrow#39808), so memory grew with the file: a 1.2 GB Arrow pool at 10M rows x 20
    # columns. Unbuffered (buffer_size=0), each column chunk is read whole, so one large row
    # group still costs its full size; a bounded buffer reads it a page run at a time.
    try:
        return pq.ParquetFile(path, pre_buffer=False, buffer_size=READ_BUFFER_BYTES)
    except (pa.ArrowException, OSError) as error:
        raise TableReadError(f"{path}: cannot read the table: {error}") from error


def _parquet_chunks(path: Path, columns: Sequence[str] | None, chunk_rows: int) -> Iterator[Chunk]:
    parquet = open_parquet(path)
    total = max(parquet.metadata.num_rows, 1)
    batches = parquet.iter_batches(batch_size=chunk_rows, columns=columns)
    done = 0
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (pa.ArrowException, OSError) as error:
            raise TableReadError(
                f"{path}: cannot read the rows after row {done}: {error}; the file is corrupt "
                "or truncated"
            ) from error
        frame = pl.from_arrow(batch)
        assert isinstance(frame, pl.DataFrame)  # a record batch converts to a frame
        done += batch.num_rows
        yield Chunk(frame, done / total)


def _text_chunks(
    path: Path, table_format: TableFormat, columns: Sequence[str] | None, block_bytes: int
) -> Iterator[Chunk]:
    size = max(path.stat().st_size, 1)
    with path.open("rb") as stream:
        header = b""
        if table_format is TableFormat.CSV:
            header = stream.readline(block_bytes)
            if not header.endswith(b"\n"):
                _refuse_long_record(path, 0, block_bytes, stream.read(1) != b"")
        offset = len(header)
        pending = b""
        while True:
            block = stream.read(block_bytes)
            data = pending + block
            if not block:
                if data.strip():
                    yield Chunk(_parse(path, table_format, header, data, columns, offset), 1.0)
                return
            end = _last_record_end(data, table_format)
            if end == 0:
                if len(data) >= block_bytes:
                    _refuse_long_record(path, offset, block_bytes, True)
                pending = data
                continue
            frame = _parse(path, table_format, header, data[:end], columns, offset)
            offset += end
            pending = data[end:]
            yield Chunk(frame, offset / size)


def _refuse_long_record(path: Path, offset: int, block_bytes: int, more: bool) -> None:
    if more:
        raise TableReadError(
            f"{path}: no line end within {block_bytes / 1024**2:.0f} MiB after byte {offset}; "
            "a record that long cannot be read in bounded memory (is this really a text table?)"
        )


def _last_record_end(data: bytes, table_format: TableFormat) -> int:
    """Index just after the last newline that ends a record (0 when there is none)."""
    if table_format is TableFormat.JSONL or b'"' not in data:
        return data.rfind(b"\n") + 1
    raw = np.frombuffer(data, dtype=np.uint8)
    # Quote parity survives uint8 wrap-around, and keeps this at one byte per input byte.
    outside_quotes = (np.cumsum(raw == _QUOTE, dtype=np.uint8) & 1) == 0
    ends = np.flatnonzero((raw == _NEWLINE) & outside_quotes)
    return int(ends[-1]) + 1 if ends.size else 0


def _parse(
    path: Path,
    table_format: TableFormat,
    header: bytes,
    data: bytes,
    columns: Sequence[str] | None,
    offset: int,
) -> pl.DataFrame:
    try:
        if table_format is TableFormat.CSV:
            return pl.read_csv(
                io.BytesIO(header + data),
                infer_schema_length=None,
                columns=list(columns) if columns is not None else None,
            )
        frame = pl.read_ndjson(io.BytesIO(data), infer_schema_length=None)
    except pl.exceptions.PolarsError as error:
        raise TableReadError(
            f"{path}: cannot parse the records after byte {offset}: {error}"
        ) from error
    if columns is None:
        return frame
    return frame.select(name for name in columns if name in frame.columns)
