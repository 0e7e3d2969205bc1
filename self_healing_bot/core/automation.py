"""Automation levels: how far the bot may go in a repository, per failure category.

>>> AutomationLevel.PR.allows(AutomationLevel.SUGGEST)
True
"""

from __future__ import annotations

from enum import StrEnum


class AutomationLevel(StrEnum):
    """`off` · `suggest` check run and comment · `pr` fix PRs for humans · `auto` re-runs, merge."""

    OFF = "off"
    SUGGEST = "suggest"
    PR = "pr"
    AUTO = "auto"

    @property
    def rank(self) -> int:
        return _ORDER.index(self)

    def allows(self, required: AutomationLevel) -> bool:
        """True when a repository at this level may run an action that needs `required`."""
        return self is not AutomationLevel.OFF and self.rank >= required.rank


_ORDER = (AutomationLevel.OFF, AutomationLevel.SUGGEST, AutomationLevel.PR, AutomationLevel.AUTO)
