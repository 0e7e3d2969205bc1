"""How big a change is, counted the way a reviewer sees it in the diff."""

from __future__ import annotations

import difflib


def changed_lines(old: str, new: str) -> int:
    """Lines added plus lines removed between two texts (`git diff --stat` counts the same).

    >>> changed_lines("a\\nb\\n", "a\\nc\\n")
    2
    """
    matcher = difflib.SequenceMatcher(a=old.splitlines(), b=new.splitlines(), autojunk=False)
    total = 0
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if tag != "equal":
            total += (old_end - old_start) + (new_end - new_start)
    return total
