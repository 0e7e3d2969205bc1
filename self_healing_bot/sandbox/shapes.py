"""Complete a partial JSON value so that it satisfies a JSON Schema.

GitHub's response and webhook schemas require dozens of fields the bot never reads (a repository
has over eighty). The sandbox builds only the fields it models and lets `complete` fill every
other required field with a neutral value of the right type, so clients with typed models (such
as githubkit) accept the response:

    >>> complete({"type": "object", "required": ["id", "name"],
    ...           "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
    ...          {"name": "ml"})
    {'name': 'ml', 'id': 0}
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema_rs

Schema = dict[str, Any]

EPOCH = "1970-01-01T00:00:00Z"
_MISSING: Any = object()
_NEUTRAL_BY_FORMAT = {
    "date-time": EPOCH,
    "date": "1970-01-01",
    "uri": "https://sandbox.invalid/",
    "email": "nobody@sandbox.invalid",
}


def complete(schema: Schema, value: Any = _MISSING) -> Any:
    """Return `value` with every field `schema` requires filled in (missing → neutral)."""
    if "allOf" in schema:
        return complete(merge_all_of(schema), value)
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        return _complete_union(branches, value)
    types = _types(schema)
    if value is _MISSING:
        return _neutral(schema, types)
    if isinstance(value, dict) and "object" in types:
        return _complete_object(schema, value)
    if isinstance(value, list) and "items" in schema:
        return [complete(schema["items"], item) for item in value]
    return value


def merge_all_of(schema: Schema) -> Schema:
    """One schema equivalent (for filling) to an `allOf`: properties and `required` merged."""
    merged: Schema = {key: value for key, value in schema.items() if key != "allOf"}
    properties: dict[str, Schema] = dict(merged.get("properties", {}))
    required: list[str] = list(merged.get("required", []))
    for part in schema["allOf"]:
        flat = merge_all_of(part) if "allOf" in part else part
        for name, sub in flat.get("properties", {}).items():
            properties[name] = {"allOf": [properties[name], sub]} if name in properties else sub
        required += [name for name in flat.get("required", []) if name not in required]
        for key, sub in flat.items():
            if key not in {"properties", "required"}:
                merged.setdefault(key, sub)
    merged["properties"] = properties
    merged["required"] = required
    return merged


def validator(schema: Schema) -> jsonschema_rs.Validator:
    """A compiled validator for `schema`, built once per distinct schema.

    Formats are not asserted: GitHub's own examples break `uri` formats in places.
    """
    return _compiled(json.dumps(schema, sort_keys=True))


@cache
def _compiled(schema_json: str) -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(json.loads(schema_json), validate_formats=False)


def _complete_union(branches: list[Schema], value: Any) -> Any:
    nullable = any(_types(branch) == {"null"} for branch in branches)
    if (value is _MISSING and nullable) or value is None:
        return None
    candidates = [branch for branch in branches if _types(branch) != {"null"}]
    for branch in candidates:
        candidate = complete(branch, value)
        if value is _MISSING or validator(branch).is_valid(candidate):
            return candidate
    return value


def _complete_object(schema: Schema, value: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Schema] = schema.get("properties", {})
    closed = schema.get("additionalProperties") is False
    result = {
        name: complete(properties[name], item) if name in properties else item
        for name, item in value.items()
        if not closed or name in properties
    }
    for name in schema.get("required", []):
        if name not in result:
            result[name] = complete(properties.get(name, {}))
    return result


def _neutral(schema: Schema, types: set[str]) -> Any:
    if "null" in types:
        return None
    if "default" in schema:
        return schema["default"]
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return next(item for item in schema["enum"] if item is not None)
    if "object" in types:
        return _complete_object(schema, {})
    if "array" in types:
        return []
    if "integer" in types or "number" in types:
        return schema.get("minimum", 0)
    if "boolean" in types:
        return False
    return _NEUTRAL_BY_FORMAT.get(schema.get("format", ""), "")


def _types(schema: Schema) -> set[str]:
    declared = schema.get("type")
    if declared is None:
        return {"object"} if "properties" in schema else set()
    return {declared} if isinstance(declared, str) else set(declared)
