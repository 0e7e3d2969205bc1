"""Constraints on the free-text query and path values the API takes.

PostgreSQL refuses NUL characters in text, and no stored name is longer than 256 characters, so
such values are a 422 for the caller instead of a driver error.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

Text = Annotated[str, StringConstraints(max_length=256, pattern=r"^[^\x00]*$")]
# One part of `owner/name`: GitHub allows letters, digits, '-', '_' and '.'.
Name = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")]
