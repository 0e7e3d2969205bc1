"""The one error every file edit raises: the edit cannot be applied, and why."""

from __future__ import annotations


class EditError(ValueError):
    """A file edit's target is missing or the result would be wrong; the file is left unchanged."""
