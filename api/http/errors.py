"""Errors as users should see them: one body for every error, never a stack trace (docs/security.md, "One error shape").

The body keeps the service's documented member, `{"error": {"status": …, "message": …}}`, and carries the members
of RFC 9457 problem details beside it (`type`, `title`, `status`, `detail`), so that a client that reads either
finds what it expects. It is sent as `application/json`, or as `application/problem+json` to a client whose Accept
asks for that. Every error response is written by `problem_response`: the exception handlers below, the routes
that answer an error themselves (`error_response`), and the HTTP limits that refuse a request before any route.

A browser is answered a page instead, as any web site answers it: a GET or HEAD whose Accept prefers HTML to JSON,
to an address nobody serves or to a route that answers pages (its declared responses include text/html). The page
is written by the `ErrorPage` the application hands to `install_error_handlers`: this module knows no templates.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.datastructures import DefaultPlaceholder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.types import Receive, Scope, Send

from api.http.negotiation import NotAcceptableError, negotiate
from graph.errors import ServiceError
from graph.published import StoreUnavailableError

__all__ = [
    "PROBLEM_JSON",
    "ErrorBody",
    "ErrorPage",
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
_PAGE_OR_BODY = ["application/json", "text/html"]  # a page only for a client that prefers HTML (a browser)

# The HTML page of an error, from the request (its language) and the error's body (`status`, `detail`, and the
# members of its kind, such as `replacedBy`).
ErrorPage = Callable[[Request, Mapping[str, Any]], bytes]

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
    application/problem+json, or the page for a browser where pages are served), decided when it is sent, so that
    whoever builds it needs no request. `page`: True where the address asked for the page itself (a .html suffix),
    False where it asked for data (another format's suffix), None for a page where a browser asks the route for one.
    """

    def __init__(
        self, document: dict[str, object], status_code: int, headers: Mapping[str, str], page: bool | None = None
    ) -> None:
        super().__init__(document, status_code=status_code, headers=headers)
        self.document, self.page = document, page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        accept = next((value for name, value in scope.get("headers", ()) if name == b"accept"), None)
        writer = self._page_writer(scope)
        if writer is not None and not any(name == b"vary" for name, _ in self.raw_headers):
            self.raw_headers.append((b"vary", b"Accept, Accept-Language"))
        if writer is not None and (self.page or _prefers(accept, _PAGE_OR_BODY) == "text/html"):
            self._retype(HTMLResponse.media_type, writer(Request(scope), self.document))
        elif accept is not None and b"problem" in accept and _prefers(accept, _TYPES) == PROBLEM_JSON:
            self._retype(PROBLEM_JSON, bytes(self.body))
        await super().__call__(scope, receive, send)

    def _page_writer(self, scope: Scope) -> ErrorPage | None:
        """The app's page writer, when this error may be a page: a GET or HEAD, to a route that answers pages."""
        app = scope.get("app")
        writer: ErrorPage | None = getattr(getattr(app, "state", None), "error_page", None)
        if writer is None or self.page is False or scope.get("method") not in ("GET", "HEAD"):
            return None
        return writer if self.page or _answers_pages(scope.get("route")) else None

    def _retype(self, media_type: str, body: bytes) -> None:
        self.media_type, self.body = media_type, body
        kept = [(name, value) for name, value in self.raw_headers if name not in (b"content-type", b"content-length")]
        content_type = f"{media_type}; charset=utf-8" if media_type.startswith("text/") else media_type
        self.raw_headers = [
            *kept,
            (b"content-type", content_type.encode()),
            (b"content-length", str(len(body)).encode()),
        ]


def _prefers(accept: bytes | None, offered: list[str]) -> str:
    """The type of `offered` the client's Accept prefers; the first (the documented one) when it accepts none."""
    try:
        return negotiate(accept.decode("latin-1") if accept is not None else None, offered)
    except NotAcceptableError:  # an error is sent all the same, in the documented type
        return offered[0]


def _answers_pages(route: object) -> bool:
    """Whether a browser's request for the route gets a page: no route serves the address (the site's 404), or the
    route's responses, as /openapi.json declares them, include text/html."""
    if route is None:
        return True
    if not isinstance(route, APIRoute):
        return False
    kind = route.response_class.value if isinstance(route.response_class, DefaultPlaceholder) else route.response_class
    declared = (answer.get("content", {}) for answer in route.responses.values() if isinstance(answer, dict))
    return issubclass(kind, HTMLResponse) or any("text/html" in content for content in declared)


def problem_response(problem: ServiceError, *, page: bool | None = None) -> ProblemResponse:
    """The response to `problem`: every error the service answers is written here."""
    document = _document(problem.status, problem.public, problem.extra)
    return ProblemResponse(document, status_code=problem.status, headers=problem.headers, page=page)


def error_response(
    status: int,
    message: str,
    headers: Mapping[str, str] | None = None,
    *,
    extra: Mapping[str, object] | None = None,
    page: bool | None = None,
) -> ProblemResponse:
    """The response to an error found where answering it is simpler than raising it."""
    return problem_response(ServiceError(status, message, headers=headers, extra=extra), page=page)


def install_error_handlers(app: FastAPI, page: ErrorPage | None = None) -> None:
    """Route every exception a request can end with to `problem_response`; `page` writes the page a browser gets."""
    app.state.error_page = page

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
