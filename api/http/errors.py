"""Errors as users should see them: a status and a plain message in JSON, never a stack trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from api.http.negotiation import NotAcceptableError
from graph.published import StoreUnavailableError
from graph.remote import BadAnswerError

__all__ = ["bounded", "error_response", "install_error_handlers"]

log = logging.getLogger("smartcity_kg.api")


# Messages echo what the request said (a path, a key, a version): a request cannot make them longer than this.
_LONGEST_MESSAGE = 600


def bounded(message: str) -> str:
    """`message`, at most about 600 characters: the middle goes, as the start names what was asked for and the end
    (usually) what to do instead."""
    if len(message) <= _LONGEST_MESSAGE:
        return message
    return f"{message[: _LONGEST_MESSAGE // 2]} … {message[-_LONGEST_MESSAGE // 3 :]}"


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "message": bounded(message)}}, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StoreUnavailableError)
    async def unavailable(request: Request, error: StoreUnavailableError) -> JSONResponse:
        log.warning("%s %s: %s", request.method, request.url.path, error)  # paths and the engine's words: here only
        return error_response(503, error.public, {"Retry-After": "10"})

    @app.exception_handler(BadAnswerError)
    async def bad_gateway(_: Request, error: BadAnswerError) -> JSONResponse:
        # The message is generic by construction (graph.remote logs the server's own words).
        return error_response(502, str(error), {"Retry-After": "10"})

    @app.exception_handler(NotAcceptableError)
    async def not_acceptable(_: Request, error: NotAcceptableError) -> JSONResponse:
        return error_response(406, f"{error}. Ask for one of them in Accept, or use ?format=.")

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, error: HTTPException) -> JSONResponse:
        return error_response(error.status_code, str(error.detail), dict(error.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, error: RequestValidationError) -> JSONResponse:
        details = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        # Reconciliation clients know 400 for a request the service cannot answer (the API defines no 422).
        status = 400 if request.url.path.startswith("/reconcile") else 422
        return error_response(status, f"invalid request: {details}")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "internal error; it has been logged")
