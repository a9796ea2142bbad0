"""Requests to the remote server: each sent under the request's deadline, its status checked, its body read within a
byte limit; every failure raised as one of the errors below, the server's own words only logged."""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar

import httpx

from graph.published import StoreUnavailableError
from graph.remote.endpoints import RemoteEndpoints, safe_url

__all__ = [
    "BAD_ANSWER",
    "AnswerTooLargeError",
    "BadAnswerError",
    "Body",
    "Connection",
    "DeadlineError",
    "QueryRefusedByServerError",
    "request_deadline",
]

log = logging.getLogger("smartcity_kg.remote")

UNAVAILABLE = "the SPARQL server behind this service cannot be reached; try again shortly"
REFUSED = (
    "the SPARQL server behind this service refused to evaluate the query (HTTP 500; the details are "
    "logged), as a server does with a query it estimates too costly: narrow it or add a LIMIT"
)
BAD_ANSWER = "the SPARQL server behind this service gave an answer that cannot be used; the details are logged"
LATE = "the SPARQL server behind this service did not answer in time"

# When the request being answered must be done (time.monotonic()): all the queries it sends share it, so a page
# that needs several queries takes no longer than one. Set by the service for each request; None elsewhere.
request_deadline: ContextVar[float | None] = ContextVar("request_deadline", default=None)


class DeadlineError(StoreUnavailableError):
    """The server did not finish its answer before the request's deadline."""


class BadAnswerError(StoreUnavailableError):
    """The server answered, but not with a complete answer of the kind asked for (the service answers 502)."""

    status = 502


class QueryRefusedByServerError(StoreUnavailableError):
    """The server is there, but answered a query with an error of its own (HTTP 500): Virtuoso refuses a query
    whose estimated cost exceeds its limit so. Asking again would get the same answer."""


class AnswerTooLargeError(Exception):
    """The server's answer is over the bytes it may take."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"the answer is over the {limit} bytes an answer may take (setting max_answer_bytes); ask "
            "for fewer rows with LIMIT and page with OFFSET, or download the dumps at /dumps/"
        )


class Connection:
    """The HTTP client to one server. Each failure calls `on_failure`, so that what was trusted of the server (its
    manifest) is asked again at once."""

    def __init__(
        self,
        endpoints: RemoteEndpoints,
        timeout: float,
        on_failure: Callable[[], None],
        client: httpx.Client | None = None,
    ) -> None:
        self.endpoints = endpoints
        self.timeout = timeout
        self._on_failure = on_failure
        auth = endpoints.credentials.auth() if endpoints.credentials else None
        # Redirects are not followed: a server that redirects a query is misconfigured, and its answer is checked.
        self._client = client or httpx.Client(timeout=timeout, auth=auth, follow_redirects=False)

    def close(self) -> None:
        self._client.close()

    def deadline(self) -> float:
        """When a request sent now must be answered: after `timeout`, or sooner at the request's deadline."""
        own = time.monotonic() + self.timeout
        shared = request_deadline.get()
        return own if shared is None else min(own, shared)

    def send(self, method: str, url: str, content: bytes, media_type: str, params: dict[str, str] | None = None) -> str:
        """A write (Graph Store or update request), checked for a success status; the server's software (its
        Server header)."""
        with self.exchange(
            method, url, self.deadline(), content=content, headers={"Content-Type": media_type}, params=params
        ) as response:
            return str(response.headers.get("server", ""))

    @contextlib.contextmanager
    def exchange(
        self,
        method: str,
        url: str,
        deadline: float,
        *,
        content: bytes,
        headers: dict[str, str],
        params: dict[str, str] | None = None,
    ) -> Iterator[httpx.Response]:
        """One request, its answer's status checked, its body to be read under a watchdog until the deadline."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise DeadlineError(LATE)
        try:
            request = self._client.build_request(
                method,
                url,
                content=content,
                headers={"Accept-Encoding": "identity", **headers},
                params=params,
                timeout=left,
            )
            response = self._client.send(request, stream=True)
        except httpx.TransportError as error:
            raise self.transport_error(error, url, deadline) from None
        watchdog = _Watchdog(response, deadline)
        try:
            if response.status_code >= 300 or response.status_code < 200:
                raise self._refusal(method, url, response)
            yield response
        finally:
            watchdog.cancel()
            if watchdog.fired:
                self._on_failure()
            response.close()

    def _refusal(self, method: str, url: str, response: httpx.Response) -> Exception:
        """The error for an answer without a success status; the server's words go to the log."""
        try:
            detail = _first_bytes(response, 500).decode("utf-8", "replace").strip()
        except httpx.HTTPError:
            detail = ""
        log.error("%s %s answered HTTP %d: %s", method, safe_url(url), response.status_code, detail)
        if response.status_code == 400 and method == "POST" and url == self.endpoints.query:
            return SyntaxError(
                "the SPARQL server refused the query (HTTP 400); it is "
                "valid SPARQL 1.1, but this server reads it otherwise"
            )
        self._on_failure()
        if response.status_code in (401, 403):
            return BadAnswerError(
                f"the SPARQL server refused the credentials it was given (HTTP {response.status_code}); the details "
                "are logged"
            )
        if response.status_code == 500 and url == self.endpoints.query:
            return QueryRefusedByServerError(REFUSED)
        if response.status_code in (500, 502, 503, 504):
            return StoreUnavailableError(UNAVAILABLE)
        return BadAnswerError(BAD_ANSWER)

    def transport_error(self, error: httpx.TransportError, url: str, deadline: float) -> StoreUnavailableError:
        """The error for a request that got no answer: too late, or no server there."""
        self._on_failure()
        if isinstance(error, httpx.TimeoutException) or time.monotonic() >= deadline - 0.05:
            log.warning("%s did not answer in time (%s)", safe_url(url), type(error).__name__)
            return DeadlineError(LATE)
        log.error("%s cannot be reached: %s", safe_url(url), error)
        return StoreUnavailableError(UNAVAILABLE)

    def bad(self, response: httpx.Response, why: str) -> BadAnswerError:
        """The error for an answer that cannot be used; `why` goes to the log."""
        self._on_failure()
        log.error("%s %s (HTTP %d)", safe_url(str(response.request.url)), why, response.status_code)
        return BadAnswerError(BAD_ANSWER)


class Body(io.RawIOBase):
    """A response body as a file for the parsers, read as they need it: stops at `limit` bytes, and records
    why reading failed (the parsers wrap what a read raises). The bytes are read as sent (never decompressed:
    a compressed answer is refused before), so `limit` bounds what is held, whatever the server sends."""

    def __init__(self, response: httpx.Response, limit: int) -> None:
        super().__init__()
        self._chunks = response.iter_raw()
        self._pending = memoryview(b"")  # the rest of the last chunk: a view, so each read copies only its part
        self.limit = limit
        self.size = 0
        self.failure: Exception | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            while not self._pending:
                chunk = next(self._chunks, None)
                if chunk is None:
                    return 0
                self.size += len(chunk)
                if self.size > self.limit:
                    raise AnswerTooLargeError(self.limit)
                self._pending = memoryview(chunk)
        except Exception as error:
            self.failure = error
            raise
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


class _Watchdog:
    """Shuts the connection down at the deadline: a read blocked on a server that sends a byte now and then
    returns at once, and the server sees its client gone (Oxigraph and Virtuoso stop evaluating then)."""

    def __init__(self, response: httpx.Response, deadline: float) -> None:
        stream = response.extensions.get("network_stream")
        self._socket: socket.socket | None = stream.get_extra_info("socket") if stream is not None else None
        self.fired = False
        self._timer = threading.Timer(max(deadline - time.monotonic(), 0.0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        if self._socket is not None:
            with contextlib.suppress(OSError):  # already closed
                self._socket.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()


def _first_bytes(response: httpx.Response, size: int) -> bytes:
    """At most the first `size` bytes of the body as sent (an error page is logged, never decompressed)."""
    read = b""
    for chunk in response.iter_raw():
        read += chunk
        if len(read) >= size:
            break
    return read[:size]
