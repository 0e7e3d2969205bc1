"""Reading logs: files, run-log zips and byte streams, in blocks of whole lines.

Nothing here holds a whole log in memory: a file is read in `CHUNK_BYTES` pieces and
cut at the last newline, and at most `max_scan_bytes` are read from any input (the
tail, where failures are). Normalising a line (timestamps, ANSI colours, progress
bars, `##[error]` markers) happens only for the few lines a rule matched.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

CHUNK_BYTES = 8 << 20
MAX_LINE_BYTES = 64 << 10
MAX_TEXT_CHARS = 1000
DEFAULT_MAX_SCAN_BYTES = 256 << 20
_SNIFF_BYTES = 8192
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
_TIMESTAMP = re.compile(r"^\[?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z\]? ?")
_ANNOTATION = re.compile(r"^##\[(error|warning|notice|debug|group|endgroup|command)\]")
_STEP_FILE = re.compile(r"^\d+_")


class DiagnosisInputError(Exception):
    """The input cannot be read as a log; the message says what to fix."""


@dataclass(frozen=True)
class Block:
    """Whole lines of a log; `first_line` is the 1-based number of the first one."""

    data: bytes
    first_line: int


@dataclass
class LogSource:
    """One log: a file, or one job's file inside a run-log zip."""

    name: str | None
    blocks: Iterator[Block]
    default_step: str | None = None
    binary: bool = False
    skipped_bytes: int = 0


@dataclass(frozen=True)
class LogLine:
    """A matched line after normalising, with the annotation level it carried."""

    text: str
    annotation: str | None


def normalise_line(raw: bytes) -> LogLine:
    """Decode one raw line and drop what differs between renderings of the same line.

    >>> normalise_line(b"2024-05-01T10:00:00.1Z ##[error]\\x1b[31mboom\\x1b[0m\\r\\n")
    LogLine(text='boom', annotation='error')
    """
    text = raw[:MAX_LINE_BYTES].decode("utf-8", errors="replace").rstrip("\r\n")
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    if "\r" in text:
        segments = [segment for segment in text.split("\r") if segment.strip()]
        text = segments[-1] if segments else ""
    text = _TIMESTAMP.sub("", text)
    annotation = None
    marker = _ANNOTATION.match(text)
    if marker:
        annotation = marker.group(1)
        text = text[marker.end() :]
    text = text.replace("\x00", "").rstrip()
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS] + "…"
    return LogLine(text, annotation)


def blocks_from_chunks(chunks: Iterable[bytes]) -> Iterator[Block]:
    """Regroup arbitrary chunks into blocks that end on a newline.

    A line longer than `MAX_LINE_BYTES` is cut, so one endless line cannot grow memory.
    """
    carry = b""
    next_line = 1
    for chunk in chunks:
        if not chunk:
            continue
        buffer = carry + chunk if carry else chunk
        cut = buffer.rfind(b"\n") + 1
        if cut == 0:
            if len(buffer) < MAX_LINE_BYTES:
                carry = buffer
                continue
            cut = len(buffer)
            buffer += b"\n"
            cut += 1
        block, carry = buffer[:cut], buffer[cut:]
        yield Block(block, next_line)
        next_line += block.count(b"\n")
    if carry:
        yield Block(carry + b"\n", next_line)


def _read_chunks(stream: BinaryIO, limit: int) -> Iterator[bytes]:
    remaining = limit
    while remaining > 0:
        chunk = stream.read(min(CHUNK_BYTES, remaining))
        if not chunk:
            return
        remaining -= len(chunk)
        yield chunk


def _stream_source(
    stream: BinaryIO, name: str | None, step: str | None, size: int | None, max_scan_bytes: int
) -> LogSource:
    head = stream.read(_SNIFF_BYTES)
    if b"\x00" in head:
        return LogSource(name, iter(()), step, binary=True)
    skipped = 0
    if size is not None and size > max_scan_bytes and stream.seekable():
        skipped = size - max_scan_bytes
        stream.seek(skipped)
        stream.readline(MAX_LINE_BYTES)  # resume on a line boundary
        head = b""
        limit = max_scan_bytes
    else:
        limit = max_scan_bytes - len(head)
    chunks = _read_chunks(stream, limit)
    return LogSource(name, blocks_from_chunks(_prepend(head, chunks)), step, skipped_bytes=skipped)


def _prepend(head: bytes, chunks: Iterator[bytes]) -> Iterator[bytes]:
    yield head
    yield from chunks


def _zip_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    texts = [info for info in archive.infolist() if not info.is_dir()]
    top_level = [info for info in texts if "/" not in info.filename]
    return top_level or texts


def _step_from_member(filename: str) -> str | None:
    if "/" not in filename:
        return None
    stem = Path(filename).stem
    return _STEP_FILE.sub("", stem).removeprefix("Run ") or None


def _zip_sources(stream: BinaryIO, name: str, max_scan_bytes: int) -> Iterator[LogSource]:
    try:
        archive = zipfile.ZipFile(stream)
        members = _zip_members(archive)
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise DiagnosisInputError(f"{name}: not a readable zip archive ({error})") from error
    budget = max_scan_bytes
    with archive:
        for info in members:
            if budget <= 0:
                return
            try:
                member = archive.open(info)
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as error:
                raise DiagnosisInputError(
                    f"{name}: cannot read {info.filename!r} from the zip ({error})"
                ) from error
            with member, _zip_errors_named(name, info.filename):
                source = _stream_source(
                    cast(BinaryIO, member),
                    info.filename,
                    _step_from_member(info.filename),
                    None,
                    budget,
                )
                source.blocks = _guard_zip_errors(source.blocks, name, info.filename)
                yield source
            budget -= info.file_size


_ZIP_READ_ERRORS = (zipfile.BadZipFile, EOFError, OSError, zlib.error)


@contextmanager
def _zip_errors_named(name: str, member: str) -> Iterator[None]:
    try:
        yield
    except _ZIP_READ_ERRORS as error:
        raise DiagnosisInputError(f"{name}: {member!r} is corrupt in the zip ({error})") from error


def _guard_zip_errors(blocks: Iterator[Block], name: str, member: str) -> Iterator[Block]:
    with _zip_errors_named(name, member):
        yield from blocks


def sources_from_stream(
    stream: BinaryIO,
    name: str | None = None,
    size: int | None = None,
    max_scan_bytes: int = DEFAULT_MAX_SCAN_BYTES,
) -> Iterator[LogSource]:
    """Yield the logs in a binary stream: one for plain text, one per job for a run zip.

    Each source must be consumed before the next is requested (zip members share the file).
    """
    magic = stream.read(4)
    if stream.seekable():
        stream.seek(0)
    else:
        stream = cast(BinaryIO, _Rewound(magic, stream))
    if magic in _ZIP_MAGIC:
        if not stream.seekable():
            raise DiagnosisInputError(f"{name or 'input'}: a zip must be a seekable file")
        yield from _zip_sources(stream, name or "input", max_scan_bytes)
        return
    yield _stream_source(stream, None, None, size, max_scan_bytes)


def sources_from_path(
    path: str | os.PathLike[str], max_scan_bytes: int = DEFAULT_MAX_SCAN_BYTES
) -> Iterator[LogSource]:
    """Open a log file (or run-log zip) and yield its sources; errors name the path."""
    file_path = Path(path)
    try:
        handle = file_path.open("rb")
        size = os.fstat(handle.fileno()).st_size
    except IsADirectoryError as error:
        raise DiagnosisInputError(f"{file_path}: is a directory, not a log file") from error
    except FileNotFoundError as error:
        raise DiagnosisInputError(f"{file_path}: no such file") from error
    except OSError as error:
        raise DiagnosisInputError(f"{file_path}: cannot read ({error.strerror})") from error
    with handle:
        try:
            yield from sources_from_stream(
                cast(BinaryIO, handle), str(file_path), size, max_scan_bytes
            )
        except IsADirectoryError as error:
            raise DiagnosisInputError(f"{file_path}: is a directory, not a log file") from error


class _Rewound(io.RawIOBase):
    """A non-seekable stream with its first bytes pushed back."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            data, self._head = self._head + self._rest.read(), b""
            return data
        if self._head:
            data, self._head = self._head[:size], self._head[size:]
            return data
        return self._rest.read(size)
