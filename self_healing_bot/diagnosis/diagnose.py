"""Entry points: diagnose a log file, bytes, or lines with the default and extra rules.

>>> diagnose_file("job.log").category
'gpu_oom'
>>> diagnose_lines(["ModuleNotFoundError: No module named 'cv2'"]).params["package"]
'opencv-python'
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Iterator, Sequence

from self_healing_bot.diagnosis.matcher import compile_matcher
from self_healing_bot.diagnosis.reading import (
    DEFAULT_MAX_SCAN_BYTES,
    LogSource,
    blocks_from_chunks,
    sources_from_path,
    sources_from_stream,
)
from self_healing_bot.diagnosis.result import Diagnosis
from self_healing_bot.diagnosis.rules import DEFAULT_RULES, Rule
from self_healing_bot.diagnosis.scanning import scan_sources
from self_healing_bot.diagnosis.selection import select_root_cause

_LINES_PER_CHUNK = 4096


def diagnose_sources(sources: Iterator[LogSource], extra_rules: Sequence[Rule] = ()) -> Diagnosis:
    """Diagnose already opened sources; a repository's `extra_rules` join the defaults."""
    rules = (*DEFAULT_RULES, *extra_rules)
    return select_root_cause(scan_sources(sources, rules, compile_matcher(rules)))


def diagnose_file(
    path: str | os.PathLike[str],
    extra_rules: Sequence[Rule] = (),
    max_scan_bytes: int = DEFAULT_MAX_SCAN_BYTES,
) -> Diagnosis:
    """Diagnose a log file or a run-log zip; raises `DiagnosisInputError` if unreadable."""
    return diagnose_sources(sources_from_path(path, max_scan_bytes), extra_rules)


def diagnose_bytes(
    data: bytes, extra_rules: Sequence[Rule] = (), name: str | None = None
) -> Diagnosis:
    """Diagnose a downloaded log (plain text or run-log zip) held in memory."""
    stream = io.BytesIO(data)
    return diagnose_sources(sources_from_stream(stream, name, len(data)), extra_rules)


def _chunks(lines: Iterable[str]) -> Iterator[bytes]:
    batch: list[str] = []
    for line in lines:
        batch.append(line.rstrip("\n"))
        if len(batch) >= _LINES_PER_CHUNK:
            yield ("\n".join(batch) + "\n").encode("utf-8", errors="replace")
            batch.clear()
    if batch:
        yield ("\n".join(batch) + "\n").encode("utf-8", errors="replace")


def diagnose_lines(lines: Iterable[str], extra_rules: Sequence[Rule] = ()) -> Diagnosis:
    """Diagnose log lines streamed from anywhere (one job's log, one line per item)."""
    source = LogSource(None, blocks_from_chunks(_chunks(lines)))
    return diagnose_sources(iter([source]), extra_rules)
