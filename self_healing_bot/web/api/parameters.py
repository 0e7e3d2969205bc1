"""Constraints on the free-text query and path values the API takes.

PostgreSQL refuses NUL characters in text, and no stored name is longer than 256 characters, so
such values are a 422 for the caller instead of a driver error.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

Text = Annotated[str, StringConstraints(max_length=256, pattern=r"^[^\x00]*$")]
