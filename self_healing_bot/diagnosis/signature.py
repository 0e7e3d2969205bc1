"""Failure signatures: the same failure gets the same fingerprint on any run or repository."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?Z?"), "<time>"),
    (re.compile(r"/home/runner/work/[^/\s'\"]+/[^/\s'\"]+/"), ""),
    (re.compile(r"/__w/[^/\s'\"]+/[^/\s'\"]+/"), ""),
    (re.compile(r"[A-Za-z]:\\a\\[^\\\s'\"]+\\[^\\\s'\"]+\\"), ""),
    (re.compile(r"(?:/tmp|/var/folders|/home/runner/work/_temp|/private/var)/[^\s'\":]*"), "<tmp>"),
    (re.compile(r"/(?:usr|opt|home/runner)/[^\s'\"]*?/(?:site|dist)-packages/"), "<site>/"),
    (re.compile(r"0x[0-9a-fA-F]+"), "<hex>"),
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<uuid>"),
    (re.compile(r"\b[0-9a-f]{7,64}\b"), "<hash>"),
    (re.compile(r"\d+(?:\.\d+)?"), "<n>"),
    (re.compile(r"\s+"), " "),
)


def normalise_for_signature(text: str) -> str:
    """Remove what changes run to run: times, workspace and temp paths, addresses, numbers.

    >>> normalise_for_signature("Killed process 4242 at 0x7f3a /tmp/tmpab12/x.py")
    'Killed process <n> at <hex> <tmp>'
    """
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text.strip()


def failure_signature(category: str, decisive_lines: Iterable[str]) -> str:
    """`category:8 hex chars` over the category and the normalised decisive lines."""
    digest = hashlib.sha256(category.encode())
    for line in decisive_lines:
        digest.update(b"\n" + normalise_for_signature(line).encode())
    return f"{category}:{digest.hexdigest()[:8]}"
