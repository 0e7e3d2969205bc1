"""Pure file edits: each takes a file's text and returns the new text, never touching disk.

A fix pull request is a list of these applied to files read from the repository; a target
that is missing raises `EditError` with the reason, and the file stays as it was.
"""

from self_healing_bot.edits.diff import changed_lines
from self_healing_bot.edits.error import EditError
from self_healing_bot.edits.requirements import add_requirement, normalize_name, requirements_pin
from self_healing_bot.edits.structured import json_set, yaml_scale, yaml_set
from self_healing_bot.edits.text import text_replace
from self_healing_bot.edits.workflow import workflow_timeout

__all__ = [
    "EditError",
    "add_requirement",
    "changed_lines",
    "json_set",
    "normalize_name",
    "requirements_pin",
    "text_replace",
    "workflow_timeout",
    "yaml_scale",
    "yaml_set",
]
