"""Routing and request validation come from GitHub's own API description."""

from __future__ import annotations

from typing import Any

import pytest

from self_healing_bot.sandbox.openapi_spec import RequestRejected, load_spec
from self_healing_bot.sandbox.shapes import complete, validator


@pytest.mark.parametrize(
    ("method", "path", "operation_id"),
    [
        ("GET", "/repos/org/ml", "repos/get"),
        ("GET", "/repos/org/ml/contents/configs/train.yaml", "repos/get-content"),
        ("GET", "/repos/org/ml/git/ref/heads/feature/x", "git/get-ref"),
        ("PATCH", "/repos/org/ml/git/refs/heads/main", "git/update-ref"),
        ("GET", "/repos/org/ml/issues/comments/5", "issues/get-comment"),
        ("GET", "/repos/org/ml/issues/5/comments", "issues/list-comments"),
        ("POST", "/app/hook/deliveries/7/attempts", "apps/redeliver-webhook-delivery"),
    ],
)
def test_requests_route_to_githubs_operation(method: str, path: str, operation_id: str) -> None:
    operation, _ = load_spec().match(method, path)
    assert operation.operation_id == operation_id


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/repos/org/ml/unknown"), ("DELETE", "/repos/org/ml"), ("GET", "/nothing")],
)
def test_unknown_path_or_method_is_not_found(method: str, path: str) -> None:
    with pytest.raises(RequestRejected) as rejected:
        load_spec().match(method, path)
    assert (rejected.value.status, rejected.value.message) == (404, "Not Found")


@pytest.mark.parametrize(
    ("method", "path", "query", "body", "reason"),
    [
        ("POST", "/repos/o/r/git/trees", {}, {"tree": [{"path": 1}]}, "is not of type"),
        ("POST", "/repos/o/r/git/trees", {}, {"base_tree": "abc"}, "tree"),
        ("POST", "/repos/o/r/pulls", {}, {"title": "t"}, "head"),
        ("POST", "/repos/o/r/issues", {}, {"title": "t", "labels": "bug"}, "not of type"),
        ("GET", "/repos/o/r/pulls", {"state": "merged"}, None, "merged"),
        ("GET", "/repos/o/r/pulls", {"per_page": "many"}, None, "many"),
        ("POST", "/repos/o/r/git/blobs", {}, None, "body is required"),
    ],
)
def test_a_request_breaking_the_schema_is_rejected(
    method: str, path: str, query: dict[str, str], body: Any, reason: str
) -> None:
    spec = load_spec()
    operation, params = spec.match(method, path)
    with pytest.raises(RequestRejected) as rejected:
        spec.validate(operation, params, query, body)
    assert rejected.value.status == 422
    assert reason in rejected.value.message


def test_valid_parameters_are_typed() -> None:
    spec = load_spec()
    operation, params = spec.match("GET", "/repos/o/r/issues/12")
    assert spec.validate(operation, params, {}, None)["issue_number"] == 12


def test_completed_repository_satisfies_githubs_schema() -> None:
    operation, _ = load_spec().match("GET", "/repos/o/r")
    schema = operation.response_schema(200)
    assert schema is not None
    partial = {"id": 1, "name": "r", "full_name": "o/r"}
    assert not validator(schema).is_valid(partial)
    completed = complete(schema, partial)
    assert list(validator(schema).iter_errors(completed)) == []
    assert (completed["id"], completed["full_name"]) == (1, "o/r")
