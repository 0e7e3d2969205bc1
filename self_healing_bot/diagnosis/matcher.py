"""One pass over a block of log text with every rule at once.

Hyperscan (x86_64) or RE2 (everywhere else) finds the lines that any rule matches;
Python `re` then only runs on those few lines to extract parameters. A Python `re`
alternation of all rules would be ~3000x slower (see DEPENDENCIES.md).

>>> matcher = compile_matcher(DEFAULT_RULES)
>>> matcher.matching_lines(b"ok\\nNo space left on device\\n")
[(3, {...})]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol

from self_healing_bot.diagnosis.rules import Rule, RuleError

_NAMED_GROUP = re.compile(r"\(\?P<\w+>")


class Matcher(Protocol):
    """Finds, in one pass, the lines of a block that some rule matches."""

    def matching_lines(self, block: bytes) -> list[tuple[int, set[int]]]:
        """Return `(line start offset, rule indexes)` in offset order."""
        ...


def _line_start(block: bytes, offset: int) -> int:
    return block.rfind(b"\n", 0, offset) + 1


class HyperscanMatcher:
    """Hyperscan block-mode database of all rules (x86_64 only)."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        import hyperscan

        self._database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        flags = []
        for rule in rules:
            flag = hyperscan.HS_FLAG_MULTILINE | hyperscan.HS_FLAG_ALLOWEMPTY
            if rule.ignore_case:
                flag |= hyperscan.HS_FLAG_CASELESS
            flags.append(flag)
        expressions = [_NAMED_GROUP.sub("(", rule.pattern).encode() for rule in rules]
        try:
            self._database.compile(
                expressions=expressions,
                ids=list(range(len(rules))),
                elements=len(rules),
                flags=flags,
            )
        except hyperscan.error as error:
            raise RuleError(f"a rule pattern is not supported by Hyperscan: {error}") from error

    def matching_lines(self, block: bytes) -> list[tuple[int, set[int]]]:
        ends: list[tuple[int, int]] = []

        def on_match(rule_index: int, start: int, end: int, flags: int, context: object) -> None:
            ends.append((end, rule_index))

        self._database.scan(block, match_event_handler=on_match)
        ends.sort()
        lines: dict[int, set[int]] = {}
        last_start, last_end_of_line = -1, -1
        for end, rule_index in ends:
            if end > last_end_of_line:
                last_start = _line_start(block, end if end == 0 else end - 1)
                newline = block.find(b"\n", end)
                last_end_of_line = len(block) if newline < 0 else newline
            lines.setdefault(last_start, set()).add(rule_index)
        return sorted(lines.items())


class Re2Matcher:
    """RE2 fallback: one combined alternation finds lines, an RE2 set names the rules."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        import re2

        options = re2.Options()
        options.max_mem = 256 << 20
        parts = []
        self._set = re2.Set.SearchSet(options)
        for rule in rules:
            pattern = _NAMED_GROUP.sub("(?:", rule.pattern)
            pattern = ("(?im)" if rule.ignore_case else "(?m)") + pattern
            parts.append(f"(?:{pattern})")
            if self._set.Add(pattern.encode()) < 0:
                raise RuleError(f"rule {rule.id!r}: pattern is not supported by RE2")
        self._set.Compile()
        self._combined = re2.compile("|".join(parts).encode(), options)

    def matching_lines(self, block: bytes) -> list[tuple[int, set[int]]]:
        lines: list[tuple[int, set[int]]] = []
        position = 0
        while True:
            found = self._combined.search(block, position)
            if found is None:
                return lines
            start = _line_start(block, found.start())
            newline = block.find(b"\n", found.end())
            end = len(block) if newline < 0 else newline
            lines.append((start, set(self._set.Match(block[start:end]))))
            position = end + 1
            if position > len(block):
                return lines


@lru_cache(maxsize=32)
def compile_matcher(rules: tuple[Rule, ...], backend: str = "auto") -> Matcher:
    """Compile the rules once per rule set; `backend` is "auto", "hyperscan" or "re2"."""
    if backend in ("auto", "hyperscan"):
        try:
            return HyperscanMatcher(rules)
        except ImportError:
            if backend == "hyperscan":
                raise
    return Re2Matcher(rules)
