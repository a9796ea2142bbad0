"""Limits on what a client sends and how long it may take: bounded while the HTTP server reads, before any route.

Two layers, one table of limits (the settings): `BoundedHttpProtocol` is the HTTP server's own protocol (uvicorn's
httptools one), which counts the request line and headers as they arrive and refuses at the limit (414 for a URL,
431 for headers) before the parser accumulates them; it times out slow heads and bodies (408) and answers whose
client stopped reading. `HeaderLimit` applies the header limit to the ASGI scope for servers other than ours.
`api.http.server.server_options` names it to uvicorn, and `apply_limits` gives it each server process's limits.
`RequestDeadline` gives each request one deadline, which every query it sends to a server shares.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar, cast

import httptools
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.http.early import EARLY_ANSWERS, EARLY_BODY, EarlyAnswerer, EarlyResponse, encode
from api.http.errors import error_response, problem_body
from api.http.methods import not_implemented
from api.http.server import max_url_bytes
from api.http.writes import CoalescingTransport
from graph.remote import request_deadline
from graph.settings import Settings

__all__ = [
    "BoundedHttpProtocol",
    "HeaderLimit",
    "HttpLimits",
    "RequestDeadline",
    "apply_limits",
    "max_url_bytes",
    "read_body",
    "valid_host",
]

REQUEST_LINE_SLACK = 1024  # method, version and line ends around the URL
# Requests one connection may send ahead of their answers. uvicorn parses every request of what it reads at once
# and queues each one, and reads on after every answer: a client sending without reading made it hold hundreds
# of thousands of queued requests (gigabytes). Browsers pipeline none; a connection past this is cut.
MAX_PIPELINED = 128


def _error(status: int, reason: str, message: str) -> bytes:
    """A whole HTTP/1.1 response with the service's JSON error body, closing the connection."""
    body = problem_body(status, message)
    return (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    ).encode() + body


def url_too_long(size: int, limit: int) -> str:
    return (
        f"the URL is {size} bytes long or more; this server reads at most {limit} bytes of URL (setting "
        "max_query_bytes): send a long query in the body of a POST instead, as application/sparql-query or as "
        "a form with query=..."
    )


def headers_too_large(size: int, limit: int) -> str:
    return f"the request's headers take {size} bytes or more, more than the {limit} allowed (setting max_header_bytes)"


@dataclass(frozen=True)
class HttpLimits:
    url_bytes: int
    header_bytes: int
    head_timeout: float
    body_timeout: float
    send_timeout: float

    @classmethod
    def of(cls, settings: Settings) -> HttpLimits:
        return cls(
            max_url_bytes(settings.max_query_bytes),
            settings.max_header_bytes,
            settings.request_head_timeout,
            settings.request_body_timeout,
            settings.send_timeout,
        )


@cache
def _environment_limits() -> HttpLimits:
    return HttpLimits.of(Settings())


class _TimedFlowControl(FlowControl):
    """uvicorn's flow control, except that waiting for a client to read what it was sent times out: a client that
    never reads would otherwise keep its answer in memory for as long as it keeps the connection."""

    def __init__(self, transport: asyncio.Transport, timeout: float) -> None:
        super().__init__(transport)
        self.timeout = timeout

    async def drain(self) -> None:
        try:
            async with asyncio.timeout(self.timeout):
                await self._is_writable_event.wait()
        except TimeoutError:
            self._transport.abort()  # drops the unsent bytes at once; the answer's sender sees a disconnect
            self.resume_writing()


# A request line's method: a token (RFC 9110 §5.6.2) followed by a space, read from the first bytes of a request.
_METHOD_SHOWN = 40
_METHOD = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}) ")


class BoundedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, bounded in size and time while it reads a request (see the module)."""

    limits: ClassVar[HttpLimits | None] = None  # None: from the environment's settings (in each worker process)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bounds = type(self).limits or _environment_limits()
        self.head_bytes = 0  # bytes received since the current request began, while its head is incomplete
        self.reading = "head"  # what the current request is sending: "head", "body" or "" (all of it)
        self.timer: asyncio.TimerHandle | None = None
        self.request_start = b""  # the first bytes of the current request: its method, should the parser refuse it
        self.early: EarlyAnswerer | None = None  # the answerer of the request being read, if one may answer it
        self.early_body = bytearray()  # that request's body, as it arrives
        self.answered = False  # whether a request on this connection has been answered (by the app or early)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport))  # a response's head and body in one write
        self.flow = _TimedFlowControl(transport, self.bounds.send_timeout)
        self._time("head", self.bounds.head_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._time("", None)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.reading != "body":  # between requests, what arrives is the next request's head
            if self.head_bytes == 0:
                self.request_start = data[:_METHOD_SHOWN]
            self.head_bytes += len(data)
        super().data_received(data)
        if self.reading != "head" or self.transport.is_closing():
            return
        headers = self.head_bytes - len(self.url or b"") - REQUEST_LINE_SLACK
        if headers > self.bounds.header_bytes:
            self._refuse(431, "Request Header Fields Too Large", headers_too_large(headers, self.bounds.header_bytes))

    def send_400_response(self, msg: str) -> None:
        """What uvicorn sends for a request that is not HTTP, as the JSON error every other answer is; a request
        whose only fault is a method the parser does not know (BREW) is 501 Not Implemented (RFC 9110 §9.1)."""
        # Called by uvicorn inside its `except HttpParserError`: the parser's own error says what was wrong.
        error = sys.exc_info()[1]
        method = _METHOD.match(self.request_start)
        if isinstance(error, httptools.HttpParserInvalidMethodError) and method is not None:
            self.transport.write(_error(501, "Not Implemented", not_implemented(method.group(1).decode("ascii"))))
        else:
            self.transport.write(_error(400, "Bad Request", "the request is not valid HTTP/1.1"))
        self.transport.close()

    def on_message_begin(self) -> None:
        if self.transport.is_closing():  # the rest of what was read after a refusal: nothing of it is kept
            return
        super().on_message_begin()
        if self.reading != "head":  # a keep-alive connection's next request: its head gets the whole time again
            self._time("head", self.bounds.head_timeout)

    # Once a request is refused, the parser still reads the rest of the chunk at hand: the callbacks keep nothing
    # of it and start nothing.
    def on_url(self, url: bytes) -> None:
        if self.transport.is_closing():
            return
        super().on_url(url)
        if len(self.url) > self.bounds.url_bytes:
            self._refuse(414, "URI Too Long", url_too_long(len(self.url), self.bounds.url_bytes))

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.transport.is_closing():
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self.transport.is_closing():
            return
        # Counted again here, exactly: a request that arrived whole in one read was parsed before `data_received`
        # could count its headers.
        headers = sum(len(name) + len(value) + 4 for name, value in self.headers)
        if headers > self.bounds.header_bytes:
            self._refuse(431, "Request Header Fields Too Large", headers_too_large(headers, self.bounds.header_bytes))
            return
        if len(self.pipeline) >= MAX_PIPELINED:
            self.transport.abort()  # nothing to answer it with in order: the answers before it are still owed
            return
        self._time("body", self.bounds.body_timeout)
        self.early = self._early_answerer()
        if self.early is None:
            super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if self.transport.is_closing():
            return
        if self.early is not None:
            self.early_body += body  # at most EARLY_BODY bytes: the parser reads no more than Content-Length
        else:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self.transport.is_closing():
            return
        self._time("", None)
        self.head_bytes = 0
        early, self.early = self.early, None
        if early is None:
            super().on_message_complete()
            return
        body, self.early_body = bytes(self.early_body), bytearray()
        response = early(cast("Scope", self.scope), body)  # uvicorn's typed scope is the app's scope
        if response is not None:
            self._answer_early(response)
            return
        # The app answers after all, as it answers every other request.
        super().on_headers_complete()
        if body:
            super().on_body(body)
        super().on_message_complete()

    def _early_answerer(self) -> EarlyAnswerer | None:
        """The app's early answerer of this request (see api.http.early), or None: only a GET without a body or a
        POST with a small one (Content-Length at most EARLY_BODY, no `Expect`), with no earlier request of the
        connection still being answered, to a path the app offers one for."""
        answerers = self.app_state.get(EARLY_ANSWERS)
        method = self.parser.get_method()
        if not answerers or method not in (b"GET", b"POST") or self.parser.should_upgrade():
            return None
        if self.pipeline or (self.cycle is not None and not self.cycle.response_complete) or self.expect_100_continue:
            return None
        if self.flow.write_paused or self.transport.get_write_buffer_size():
            # An answer is still waiting for the client to read it: this request waits its turn in the app's path,
            # which stops reading the connection meanwhile (pipelined requests of a client that never reads would
            # otherwise each add an answer to the buffer).
            return None
        length = b"0" if method == b"GET" else None
        for name, value in self.headers:
            if name == b"transfer-encoding" or (name == b"content-length" and length is not None):
                return None  # a chunked body, a GET's body, or two lengths
            if name == b"content-length":
                length = value
        if length is None or not length.isdigit() or int(length) > EARLY_BODY:
            return None
        url = httptools.parse_url(self.url)
        answerer: EarlyAnswerer | None = answerers.get(url.path.decode("latin-1"))
        if answerer is not None:  # the scope the app would have been given, as uvicorn makes it
            self.scope["method"] = method.decode("ascii")
            self.scope["path"] = self.root_path + url.path.decode("ascii")
            self.scope["raw_path"] = self.root_path.encode("ascii") + url.path
            self.scope["query_string"] = url.query or b""
            version = self.parser.get_http_version()
            if version != "1.1":
                self.scope["http_version"] = version
        return answerer

    def _answer_early(self, response: EarlyResponse) -> None:
        """Write an early answer and go on with the connection as uvicorn does after an answer of the app's."""
        keep_alive = self.scope["http_version"] != "1.0" and self.parser.should_keep_alive()
        self.transport.write(encode(response, self.server_state.default_headers, keep_alive))
        self.answered = True
        if keep_alive:
            self.on_response_complete()  # counts the request, arms the keep-alive timeout
        else:
            self.server_state.total_requests += 1
            self.transport.close()

    def _time(self, reading: str, seconds: float | None) -> None:
        self.reading = reading
        if self.timer is not None:
            self.timer.cancel()
        self.timer = self.loop.call_later(seconds, self._timed_out) if seconds is not None else None

    def _timed_out(self) -> None:
        self.timer = None
        if self.transport.is_closing():
            return
        if self.reading == "head" and self.head_bytes == 0 and (self.cycle is not None or self.answered):
            self.transport.close()  # an idle keep-alive connection: nothing was asked, nothing to answer
        elif self.reading == "head":
            self._refuse(
                408,
                "Request Timeout",
                f"the request's line and headers did not arrive within "
                f"{self.bounds.head_timeout:g} s (setting request_head_timeout)",
            )
        elif self.reading == "body" and (
            self.early is not None or (self.cycle is not None and not self.cycle.response_started)
        ):
            if self.early is None:
                # The application waits for the body: it sees the client leave, and whatever it answers is dropped.
                self.cycle.disconnected = True
                self.cycle.message_event.set()
            self.early = None
            self.transport.write(
                _error(
                    408,
                    "Request Timeout",
                    f"the request's body did not arrive within "
                    f"{self.bounds.body_timeout:g} s (setting request_body_timeout)",
                )
            )
            self.transport.close()

    def _refuse(self, status: int, reason: str, message: str) -> None:
        self._time("", None)
        self.transport.write(_error(status, reason, message))
        self.transport.close()
        self.url = b""  # what was read of the head is not kept while the connection closes
        self.headers = []


def apply_limits(settings: Settings) -> None:
    """Make this process's HTTP protocol read the limits of `settings` (see `api.http.server.server_options`)."""
    BoundedHttpProtocol.limits = HttpLimits.of(settings)


# RFC 3986: a registered name or an IP literal, then perhaps a port. Anything else cannot be part of a URL.
_HOST = re.compile(rb"(?:[A-Za-z0-9._~!$&'()*+,;=%-]*|\[[0-9A-Fa-f:.]+\])(?::[0-9]*)?")


def valid_host(host: bytes) -> bool:
    """Whether a Host header can be part of a URL (the service builds its own URLs from it)."""
    return _HOST.fullmatch(host) is not None


class HeaderLimit:
    """Refuse requests whose headers add up to more than `max_bytes` (for HTTP servers other than ours), and
    requests whose Host header cannot be part of a URL (the service builds its own URLs from it)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            size = sum(len(name) + len(value) + 4 for name, value in scope["headers"])
            host = next((value for name, value in scope["headers"] if name == b"host"), b"")
            if size > self.max_bytes:
                await error_response(
                    431,
                    f"the request's headers take {size} bytes, more than the {self.max_bytes} "
                    "allowed (setting max_header_bytes)",
                )(scope, receive, send)
                return
            if not valid_host(host):
                refusal = error_response(
                    400, "the Host header is not a host name, nor an address, with an optional port"
                )
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


class RequestDeadline:
    """Give each request `seconds` for all the queries it sends to a store that evaluates them itself (a server,
    graph.store.QueryServer): a page that needs several queries is answered, or refused with 503, within the time
    limit of one. The embedded store's queries are bounded otherwise and do not read it."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = request_deadline.set(time.monotonic() + self.seconds)
        try:
            await self.app(scope, receive, send)
        finally:
            request_deadline.reset(token)


async def read_body(request: Request, limit: int) -> bytes | None:
    """The request body, or None when it is larger than `limit` bytes, as declared or as sent: read no further, so
    that an oversized body costs no memory. Each route answers None with its own 413."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)
