"""Error bodies in opencode's shapes and the handlers that produce them.

Client mistakes are 400 (naming the field) or 404, never 500; FastAPI's usual 422 becomes
400 because opencode's API answers malformed input with BadRequest.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .repo import NotFound
from .types import JSON

__all__ = ["BadRequest", "bad_request", "install_error_handlers", "not_found"]

log = logging.getLogger(__name__)

_KINDS = {"body": "Body", "query": "Query", "path": "Params", "header": "Headers"}


class BadRequest(ValueError):
    """Raised by a route for input that parses but makes no sense (e.g. an unknown model)."""

    def __init__(self, field: str, message: str, kind: str = "Body") -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.kind = kind


def not_found(message: str) -> JSONResponse:
    return JSONResponse({"name": "NotFoundError", "data": {"message": message}}, status_code=404)


def bad_request(field: str, message: str, kind: str) -> JSONResponse:
    """`message` should already name the field; `field` repeats it for programs."""
    body: JSON = {"name": "BadRequest", "data": {"message": message, "kind": kind, "field": field}}
    return JSONResponse(body, status_code=400)


def _field_path(location: Sequence[Any]) -> str:
    return ".".join(str(step) for step in location[1:])


async def _on_validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = error.errors()
    if not problems:
        return bad_request("", "invalid request", "Payload")
    first = problems[0]
    location = tuple(first.get("loc", ()))
    kind = _KINDS.get(str(location[0]) if location else "", "Payload")
    if first.get("type") == "json_invalid":
        return bad_request("", f"the request body is not valid JSON ({first.get('msg')})", "Body")
    detail = "; ".join(
        f"{_field_path(problem.get('loc', ())) or '(body)'}: {problem.get('msg')}"
        for problem in problems
    )
    return bad_request(_field_path(location), detail, kind)


async def _on_bad_request(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, BadRequest)
    message = f"{error.field}: {error.message}" if error.field else error.message
    return bad_request(error.field, message, error.kind)


async def _on_not_found(_request: Request, error: Exception) -> JSONResponse:
    return not_found(str(error))


async def _on_http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 404:
        return not_found(f"no such route ({error.detail})")
    return JSONResponse({"name": "BadRequest" if error.status_code < 500 else "UnknownError",
                         "data": {"message": str(error.detail)}},
                        status_code=error.status_code, headers=error.headers)


async def _on_crash(_request: Request, error: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=error)
    return JSONResponse({"name": "UnknownError",
                         "data": {"message": f"{type(error).__name__}: {error}"}},
                        status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(BadRequest, _on_bad_request)
    app.add_exception_handler(NotFound, _on_not_found)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_crash)
