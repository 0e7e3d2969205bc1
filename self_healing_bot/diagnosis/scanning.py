"""The one pass: blocks of log text in, rule hits out, with the step each hit belongs to.

Hits are kept per rule as the first `KEEP_FIRST` and the last `KEEP_LAST`, so a log in
which one rule matches millions of lines still needs bounded memory.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from self_healing_bot.diagnosis.matcher import Matcher
from self_healing_bot.diagnosis.reading import LogSource, normalise_line
from self_healing_bot.diagnosis.rules import Rule

KEEP_FIRST = 200
KEEP_LAST = 400

_ANSI_BYTES = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")
_WARNING_LINE = re.compile(
    r"^(?:\S+:\d+: )?(?:[\w.]*Warning\b|WARNING\b|Warning:|warning:|WARN\b|\[W\b|W\d{4} )"
    r"|^\s*warnings\.warn\("
    r"|\b[A-Z]\w*Warning\b"
)
# A test's assertion (its source line, pytest's "E" explanation, the summary line, or the
# "- expected" / "+ actual" diff lines unittest and pytest print under it).
_ASSERTION_LINE = re.compile(
    r"^(?:>\s+)?assert\b|^E\s+(?:>\s+)?assert\b|AssertionError\b|^FAILED \S+::\S+ - "
    r"|^(?:E\s+)?[-+?] \S"
)


@dataclass(frozen=True)
class Hit:
    """A line that a rule matched, normalised, with its position and parameters."""

    order: int
    line: int
    text: str
    rule: Rule
    step: str | None
    source: str | None
    groups: dict[str, str]
    warning: bool
    assertion: bool = False


@dataclass
class ScanResult:
    """Everything the selection needs; `hits` are in log order."""

    hits: list[Hit] = field(default_factory=list)
    bytes_scanned: int = 0
    binary_sources: list[str] = field(default_factory=list)
    skipped_bytes: int = 0


class _RuleHits:
    def __init__(self) -> None:
        self.first: list[Hit] = []
        self.last: deque[Hit] = deque(maxlen=KEEP_LAST)

    def add(self, hit: Hit) -> None:
        if len(self.first) < KEEP_FIRST:
            self.first.append(hit)
        else:
            self.last.append(hit)


def _extract(rule: Rule, compiled: Sequence[re.Pattern[str]], text: str) -> dict[str, str]:
    groups: dict[str, str] = {}
    for pattern in compiled:
        found = pattern.search(text)
        if found:
            for key, value in found.groupdict().items():
                if value is not None and key not in groups:
                    groups[key] = value
    return groups


def scan_sources(
    sources: Iterator[LogSource], rules: Sequence[Rule], matcher: Matcher
) -> ScanResult:
    """Run the matcher over every block of every source and collect bounded hits."""
    compiled = [
        [
            re.compile(pattern, re.IGNORECASE if rule.ignore_case else 0)
            for pattern in (rule.pattern, *rule.extractors)
        ]
        for rule in rules
    ]
    per_rule = [_RuleHits() for _ in rules]
    result = ScanResult()
    order = 0
    for source in sources:
        if source.binary:
            result.binary_sources.append(source.name or "input")
            continue
        result.skipped_bytes += source.skipped_bytes
        step = source.default_step
        for block in source.blocks:
            data = block.data
            result.bytes_scanned += len(data)
            if b"\x1b" in data:
                data = _ANSI_BYTES.sub(b"", data)
            line_number = block.first_line
            counted_to = 0
            for start, rule_indexes in matcher.matching_lines(data):
                line_number += data.count(b"\n", counted_to, start)
                counted_to = start
                end = data.find(b"\n", start)
                log_line = normalise_line(data[start : end if end >= 0 else len(data)])
                warning = log_line.annotation == "warning" or bool(
                    _WARNING_LINE.search(log_line.text)
                )
                assertion = bool(_ASSERTION_LINE.search(log_line.text))
                for rule_index in sorted(rule_indexes):
                    rule = rules[rule_index]
                    if rule.kind == "step":
                        step = log_line.text.removeprefix("Run ").strip() or step
                        continue
                    order += 1
                    hit = Hit(
                        order,
                        line_number,
                        log_line.text,
                        rule,
                        step,
                        source.name,
                        _extract(rule, compiled[rule_index], log_line.text),
                        warning,
                        assertion,
                    )
                    per_rule[rule_index].add(hit)
    for rule_hits in per_rule:
        result.hits.extend(rule_hits.first)
        result.hits.extend(rule_hits.last)
    result.hits.sort(key=lambda hit: hit.order)
    return result
