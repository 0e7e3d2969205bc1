"""One error body everywhere under `/api/`: `{"error": {"code": ..., "message": ...}}`.

Handlers are installed on the app but answer in this shape only for `/api/` paths, so the
webhook receiver and the dashboard keep their own responses.

    raise ApiError(409, "conflict", "repair 7 is verified; only one awaiting_approval can be")
    raise not_found("execution 42", "executions")  # "no execution 42; list them with GET ..."
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException

log = structlog.stdlib.get_logger(__name__)

API_PREFIX = "/api/"
CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
}


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    """The shape of every API error, published in the OpenAPI document."""

    error: ErrorDetail


class ApiError(HTTPException):
    """An expected API failure with a stable machine-readable `code` and a message to act on."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(status, message, dict(headers) if headers else None)
        self.code = code


def not_found(missing: str, listing: str) -> ApiError:
    """The 404 for `missing` (`"repair 7"`), pointing to `GET /api/v1/<listing>`."""
    return ApiError(404, "not_found", f"no {missing}; list them with GET /api/v1/{listing}")


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = ErrorBody(error=ErrorDetail(code=code, message=message))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if not request.url.path.startswith(API_PREFIX):
        return await http_exception_handler(request, error)
    code = error.code if isinstance(error, ApiError) else CODES.get(error.status_code, "error")
    return error_response(error.status_code, code, str(error.detail), error.headers)


def _describe(problem: Mapping[str, Any]) -> str:
    where = ".".join(str(part) for part in problem.get("loc", ()))
    return f"{where}: {problem.get('msg')}"


async def _validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    if not request.url.path.startswith(API_PREFIX):
        return await request_validation_exception_handler(request, error)
    message = "; ".join(_describe(problem) for problem in error.errors())
    return error_response(422, "invalid_request", message or "invalid request")


async def _unexpected_error(request: Request, error: Exception) -> Response:
    # Logged with its traceback here; the client gets the shape, not our internals.
    if not request.url.path.startswith(API_PREFIX):
        return PlainTextResponse("Internal Server Error", status_code=500)
    log.exception("api_unexpected_error", path=request.url.path)
    return error_response(500, "internal_error", "unexpected server error; see the server log")


def install(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected_error)


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorBody, "description": code}
    for status, code in CODES.items()
    if status in (401, 403, 404, 409, 422, 429)
}
