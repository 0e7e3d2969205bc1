"""Literal text replacement, for files no structured edit understands."""

from __future__ import annotations

from self_healing_bot.edits.error import EditError


def text_replace(text: str, old: str, new: str, *, occurrences: int = 1) -> str:
    """Replace `old` with `new`, only when `old` occurs exactly `occurrences` times.

    Demanding the count keeps a replacement from silently touching lines nobody meant.

    >>> text_replace("lr = 0.1\\n", "lr = 0.1", "lr = 0.05")
    'lr = 0.05\\n'
    """
    if not old:
        raise EditError("the text to replace is empty")
    found = text.count(old)
    if found == 0:
        raise EditError(f"text to replace not found: {old!r}")
    if found != occurrences:
        raise EditError(f"found {found} occurrences of {old!r}, expected {occurrences}")
    return text.replace(old, new)
