"""GitHub's own API description (the vendored subset) as a router and a request validator.

The sandbox answers only operations that exist in `@octokit/openapi`, and rejects a request
the way GitHub does: unknown path or method → 404, a parameter or body that breaks the schema
→ 422 with the reason. Refresh the data with `scripts/vendor_github_openapi.py`.

    >>> spec = load_spec()
    >>> operation, params = spec.match("GET", "/repos/org/ml/git/ref/heads/main")
    >>> operation.operation_id, params["ref"]
    ('git/get-ref', 'heads/main')
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from self_healing_bot.sandbox.shapes import Schema, validator

SPEC_RESOURCE = "api.github.com.subset.json.gz"
# Parameters GitHub lets span several path segments (file paths, git refs).
_MULTI_SEGMENT = {"path", "ref"}


class RequestRejected(Exception):
    """A request GitHub would refuse; `status` and `message` are what GitHub answers."""

    def __init__(self, status: int, message: str, errors: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


@dataclass(frozen=True)
class Rejection:
    """A request refused because GitHub's API description does not allow it: an unknown
    route (404), a body that is not JSON (400) or a parameter or body that breaks the schema
    (422). The sandbox keeps a list of them, so a test can prove our client sent none."""

    method: str
    path: str
    status: int
    reason: str


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str
    required: bool
    schema: Schema


@dataclass(frozen=True)
class Operation:
    """One vendored operation: where it lives and what it accepts and returns."""

    method: str
    template: str
    operation_id: str
    parameters: tuple[Parameter, ...]
    body_schema: Schema | None
    body_required: bool
    responses: dict[int, Schema | None]
    pattern: re.Pattern[str]

    def response_schema(self, status: int) -> Schema | None:
        """The JSON schema of the response body for `status`, or None when it has no body."""
        return self.responses.get(status)


class ApiSpec:
    """The vendored operations, matched by method and path."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.operations = [
            _operation(method.upper(), template, item)
            for template, methods in document["paths"].items()
            for method, item in methods.items()
        ]
        # Literal-rich templates first, so /issues/comments/{id} wins over /issues/{number}.
        self.operations.sort(key=lambda op: -len(re.sub(r"\{[^}]+\}", "", op.template)))

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]]:
        """The operation serving `method path` with its raw path parameters; 404 otherwise."""
        for operation in self.operations:
            found = operation.pattern.fullmatch(path)
            if found and operation.method == method:
                return operation, found.groupdict()
        raise RequestRejected(404, "Not Found")

    def validate(
        self,
        operation: Operation,
        path_params: dict[str, str],
        query: dict[str, str],
        body: Any,
    ) -> dict[str, Any]:
        """Typed parameters after checking them and the body against the schema (422 if not)."""
        values: dict[str, Any] = {}
        for parameter in operation.parameters:
            source = path_params if parameter.location == "path" else query
            if parameter.location not in {"path", "query"}:
                continue
            if parameter.name not in source:
                if parameter.required:
                    raise RequestRejected(
                        422, f"Invalid request.\n\n{parameter.name!r} wasn't supplied."
                    )
                if "default" in parameter.schema:
                    values[parameter.name] = parameter.schema["default"]
                continue
            value = _coerce(source[parameter.name], parameter.schema)
            _check(parameter.schema, value, f"parameter {parameter.name!r}")
            values[parameter.name] = value
        if operation.body_schema is not None:
            if body is None and operation.body_required:
                raise RequestRejected(422, "Invalid request.\n\nA request body is required.")
            if body is not None:
                _check(operation.body_schema, body, "the request body")
        return values


def validate_response(operation: Operation, status: int, body: Any) -> list[str]:
    """Every way `body` breaks the operation's response schema for `status` (empty if none)."""
    if status not in operation.responses:
        return [f"{operation.operation_id} does not document status {status}"]
    schema = operation.response_schema(status)
    if schema is None:
        return [] if body is None else [f"status {status} has no body, got {type(body).__name__}"]
    return [
        f"{'/'.join(map(str, error.instance_path))}: {error.message}"
        for error in validator(schema).iter_errors(body)
    ]


@cache
def load_spec() -> ApiSpec:
    """The vendored subset of `@octokit/openapi`, parsed once per process."""
    data = resources.files("self_healing_bot.sandbox.openapi").joinpath(SPEC_RESOURCE)
    return ApiSpec(json.loads(gzip.decompress(data.read_bytes())))


def _operation(method: str, template: str, item: dict[str, Any]) -> Operation:
    parameters = tuple(
        Parameter(p["name"], p["in"], bool(p.get("required")), p.get("schema", {}))
        for p in item.get("parameters", [])
    )
    body = item.get("requestBody")
    responses: dict[int, Schema | None] = {}
    for status, response in item["responses"].items():
        content = response.get("content", {})
        media = content.get("application/json") or next(iter(content.values()), None)
        responses[int(status)] = media.get("schema") if media else None
    regex = re.sub(
        r"\\\{(\w+)\\\}",
        lambda m: f"(?P<{m[1]}>{'.+' if m[1] in _MULTI_SEGMENT else '[^/]+'})",
        re.escape(template),
    )
    return Operation(
        method=method,
        template=template,
        operation_id=item["operationId"],
        parameters=parameters,
        body_schema=body["content"]["application/json"]["schema"] if body else None,
        body_required=bool(body and body.get("required")),
        responses=responses,
        pattern=re.compile(regex),
    )


def _coerce(raw: str, schema: Schema) -> Any:
    """Query and path values arrive as text; read them as the schema's type where it says."""
    declared = schema.get("type")
    types = {declared} if isinstance(declared, str) else set(declared or [])
    for branch in schema.get("oneOf", []) + schema.get("anyOf", []):
        if isinstance(branch.get("type"), str):
            types.add(branch["type"])
    if "integer" in types and re.fullmatch(r"-?\d+", raw):
        return int(raw)
    if "boolean" in types and raw in {"true", "false"}:
        return raw == "true"
    return raw


def _check(schema: Schema, value: Any, where: str) -> None:
    errors = list(validator(schema).iter_errors(value))
    if errors:
        reasons = "\n".join(
            f"{error.message} (at {where}{''.join(f'[{p!r}]' for p in error.instance_path)})"
            for error in errors
        )
        raise RequestRejected(
            422,
            f"Invalid request.\n\n{reasons}",
            [{"resource": "Request", "code": "invalid", "message": e.message} for e in errors],
        )
