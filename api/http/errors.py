"""Errors as users should see them: one body for every error, never a stack trace (docs/security.md, "One error shape").

The body keeps the service's documented member, `{"error": {"status": …, "message": …}}`, and carries the members
of RFC 9457 problem details beside it (`type`, `title`, `status`, `detail`), so that a client that reads either
finds what it expects. It is sent as `application/json`, or as `application/problem+json` to a client whose Accept
asks for that. Every error response is written by `problem_response`: the exception handlers below, the routes
that answer an error themselves (`error_response`), and the HTTP limits that refuse a request before any route.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.types import Receive, Scope, Send

from api.http.negotiation import NotAcceptableError, negotiate
from graph.errors import ServiceError
from graph.published import StoreUnavailableError

__all__ = [
    "PROBLEM_JSON",
    "ErrorBody",
    "ProblemResponse",
    "bounded",
    "echo",
    "error_response",
    "install_error_handlers",
    "problem_body",
]

log = logging.getLogger("smartcity_kg.api")

PROBLEM_JSON = "application/problem+json"
_TYPES = ["application/json", PROBLEM_JSON]  # the first when the client does not say

# Messages echo what the request said (a path, a key, a version): a request cannot make them longer than this.
_LONGEST_MESSAGE = 600


# The body's model, for the responses each route lists in /openapi.json.
class ErrorDetail(BaseModel):
    status: int
    message: str


class ErrorBody(BaseModel):
    """Every error: the HTTP status and a message saying what was wrong, in `error` and as RFC 9457 problem
    details (`type`, `title`, `status`, `detail`; sent as application/problem+json when Accept asks for it)."""

    type: str = Field("about:blank", description="RFC 9457: about:blank, the status says what kind of error")
    title: str = Field(description="RFC 9457: the status's reason phrase")
    status: int = Field(description="RFC 9457: the HTTP status")
    detail: str = Field(description="RFC 9457: what was wrong, and what to do instead; the same as error.message")
    error: ErrorDetail


def bounded(message: str) -> str:
    """`message`, at most about 600 characters: the middle goes, as the start names what was asked for and the end
    (usually) what to do instead."""
    if len(message) <= _LONGEST_MESSAGE:
        return message
    return f"{message[: _LONGEST_MESSAGE // 2]} … {message[-_LONGEST_MESSAGE // 3 :]}"


def echo(value: object, size: int = 60) -> str:
    """`value` as a message quotes it: its repr, cut to `size` characters, so that a huge value is not sent back."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**size:
        return f"a number of {len(str(abs(value)))} digits"
    text = repr(value)
    return text if len(text) <= size else f"{text[: size - 1]}…"


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _document(status: int, message: str, extra: Mapping[str, object]) -> dict[str, object]:
    message = bounded(message)
    # `type` about:blank: the status says what kind of problem it is (RFC 9457 §4.2.1); extensions stand both at
    # the top, as RFC 9457 places them, and in `error`, where clients of the documented shape read them.
    return {
        "type": "about:blank",
        "title": _title(status),
        "status": status,
        "detail": message,
        **extra,
        "error": {"status": status, "message": message, **extra},
    }


def problem_body(status: int, message: str) -> bytes:
    """The body of an error, for the layers that write bytes before there is a request (see api.http.limits)."""
    return json.dumps(_document(status, message, {})).encode()


class ProblemResponse(JSONResponse):
    """An error response; its media type follows the request's Accept (application/json unless it asks for
    application/problem+json), decided when it is sent, so that whoever builds it needs no request."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        accept = next((value for name, value in scope.get("headers", ()) if name == b"accept"), None)
        if accept is not None and b"problem" in accept:
            try:
                chosen = negotiate(accept.decode("latin-1"), _TYPES)
            except NotAcceptableError:  # an error is sent all the same, in the documented type
                chosen = _TYPES[0]
            if chosen == PROBLEM_JSON:
                self.media_type = PROBLEM_JSON
                self.raw_headers = [(n, v) for n, v in self.raw_headers if n != b"content-type"]
                self.raw_headers.append((b"content-type", PROBLEM_JSON.encode()))
        await super().__call__(scope, receive, send)


def problem_response(problem: ServiceError) -> ProblemResponse:
    """The response to `problem`: every error the service answers is written here."""
    return ProblemResponse(
        _document(problem.status, problem.public, problem.extra), status_code=problem.status, headers=problem.headers
    )


def error_response(
    status: int, message: str, headers: Mapping[str, str] | None = None, *, extra: Mapping[str, object] | None = None
) -> ProblemResponse:
    """The response to an error found where answering it is simpler than raising it."""
    return problem_response(ServiceError(status, message, headers=headers, extra=extra))


def install_error_handlers(app: FastAPI) -> None:
    """Route every exception a request can end with to `problem_response`."""

    @app.exception_handler(ServiceError)
    async def problem(request: Request, error: ServiceError) -> ProblemResponse:
        if isinstance(error, StoreUnavailableError):  # paths and the engine's words: in the log only
            log.warning("%s %s: %s", request.method, request.url.path, error)
        return problem_response(error)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, error: HTTPException) -> ProblemResponse:
        # Raised by the framework itself: no route (404), a method a route does not answer (405).
        return error_response(error.status_code, str(error.detail), error.headers)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, error: RequestValidationError) -> ProblemResponse:
        details = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        # Reconciliation clients know 400 for a request the service cannot answer (the API defines no 422).
        status = 400 if request.url.path.startswith("/reconcile") else 422
        return error_response(status, f"invalid request: {details}")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> ProblemResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "internal error; it has been logged")
