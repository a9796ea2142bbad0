"""Answers given in the HTTP server's own callback, before the ASGI layers, to requests whose whole work costs a few
tens of microseconds (a SPARQL lookup), where a task, a request cycle and the middleware would cost several times it.

An app offers such answers in its lifespan state (`EARLY_ANSWERS`: a path → an `EarlyAnswerer`); the HTTP server's
protocol (`api.http.limits.BoundedHttpProtocol`) asks the answerer of a GET's or a small POST's path once the
request has arrived, and hands the request to the app as usual when the answerer gives None. An answerer gives None
for anything it is not sure to answer exactly as the app would (headers, errors, content coding), so that nothing
but the cost differs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus

from starlette.types import Scope

__all__ = ["EARLY_ANSWERS", "EARLY_BODY", "EarlyAnswerer", "EarlyResponse", "encode"]

EARLY_ANSWERS = "early_answers"
EARLY_BODY = 8192  # the largest body of a request answered early: a lookup's query is a few hundred bytes


@dataclass
class EarlyResponse:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


# The request's scope (as the app would be given it) and its body, received whole.
EarlyAnswerer = Callable[[Scope, bytes], EarlyResponse | None]


def encode(response: EarlyResponse, default_headers: Iterable[tuple[bytes, bytes]], keep_alive: bool) -> bytes:
    """The whole HTTP/1.1 response: its status line, the server's own headers (date, server) then the response's,
    as uvicorn writes them for the app's answers."""
    status = response.status
    lines = [b"HTTP/1.1 %d %s\r\n" % (status, HTTPStatus(status).phrase.encode())]
    lines.extend(b"%s: %s\r\n" % header for header in (*default_headers, *response.headers))
    if not keep_alive:
        lines.append(b"connection: close\r\n")
    lines.append(b"\r\n")
    lines.append(response.body)
    return b"".join(lines)
