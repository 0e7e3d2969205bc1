from __future__ import annotations

from typing import Any

import pytest

from self_healing_bot.sandbox.shapes import complete

STRING = {"type": "string"}


@pytest.mark.parametrize(
    ("schema", "value", "expected"),
    [
        ({"type": "object", "required": ["a"], "properties": {"a": STRING}}, {}, {"a": ""}),
        ({"type": ["string", "null"]}, None, None),
        ({"anyOf": [STRING, {"type": "null"}]}, "x", "x"),
        ({"type": "string", "format": "date-time"}, ..., "1970-01-01T00:00:00Z"),
        ({"type": "string", "enum": ["open", "closed"]}, ..., "open"),
        (
            {"allOf": [
                {"type": "object", "required": ["a"], "properties": {"a": STRING}},
                {"type": "object", "required": ["b"], "properties": {"b": {"type": "integer"}}},
            ]},
            {"a": "kept"},
            {"a": "kept", "b": 0},
        ),
        (
            {"type": "object", "additionalProperties": False, "properties": {"a": STRING}},
            {"a": "x", "extra": 1},
            {"a": "x"},
        ),
        (
            {"type": "array", "items": {"type": "object", "required": ["n"],
                                        "properties": {"n": {"type": "integer"}}}},
            [{}, {"n": 2}],
            [{"n": 0}, {"n": 2}],
        ),
    ],
)  # fmt: skip
def test_complete_fills_only_what_is_missing(
    schema: dict[str, Any], value: Any, expected: Any
) -> None:
    assert (complete(schema) if value is ... else complete(schema, value)) == expected
