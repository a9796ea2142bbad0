"""Operations: a request id, one JSON access-log line and Prometheus metrics per request, and a counter of events."""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import time
import uuid
from bisect import bisect_left
from datetime import UTC, datetime
from typing import TextIO

from fastapi import FastAPI
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response
from api.routes import metrics as metrics_route
from graph import __version__

__all__ = ["ACCESS_LOGGER", "EVENTS", "Metrics", "enable_access_log", "install_observability", "record"]

ACCESS_LOGGER = "smartcity_kg.access"
REQUEST_ID = "X-Request-ID"
# Upper bounds (seconds) of the latency buckets: from a cached lookup (ms) to a query at its time limit (30 s).
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# Events other modules report; listed so that each is exported (as 0) before it first happens.
EVENTS = ("query_timeout", "query_memory_limit", "worker_crash", "overload", "client_share_exceeded",
          "query_refused", "answer_cache_hit", "query_in_process", "query_shared", "remote_unavailable",
          "remote_bad_answer")
# A client's id is kept only if it cannot break a log line or a header, nor grow without bound.
_SANE_ID = re.compile(rb"[A-Za-z0-9][A-Za-z0-9._:@+=/-]{0,127}")
_EVENT_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
# Methods a client invents would each make a new series: they are counted together as "other".
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})
_UNMATCHED = "unmatched"  # never the raw path as a label: every mistyped URL would be a new series
_MAX_LOGGED = 2048

_access = logging.getLogger(ACCESS_LOGGER)
_events = dict.fromkeys(EVENTS, 0)
_events_lock = threading.Lock()  # record() is called from worker threads too


def record(event: str) -> None:
    """Count one occurrence of `event` (lowercase, like "query_timeout"); exported as smartcity_kg_events_total."""
    if event not in _events and not _EVENT_NAME.fullmatch(event):
        raise ValueError(f"event names are lowercase words joined by _, not {event!r}")
    with _events_lock:
        _events[event] = _events.get(event, 0) + 1


class _Histogram:
    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)  # the last one is +Inf
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect_left(BUCKETS, seconds)] += 1
        self.total += seconds


class Metrics:
    """The HTTP metrics of one app; only touched on the event loop, so it needs no lock."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], int] = {}
        self.latency: dict[str, _Histogram] = {}
        self.in_flight = 0

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        histogram = self.latency.get(route)
        if histogram is None:
            histogram = self.latency[route] = _Histogram()
        histogram.observe(seconds)

    def render(self) -> str:
        """Everything in the Prometheus text exposition format, version 0.0.4."""
        lines = [
            "# HELP smartcity_kg_info The running version of the service.",
            "# TYPE smartcity_kg_info gauge",
            f'smartcity_kg_info{{version="{_label(__version__)}"}} 1',
            "# HELP smartcity_kg_http_requests_total HTTP requests answered, by method, route template and status.",
            "# TYPE smartcity_kg_http_requests_total counter",
        ]
        for (method, route, status), count in sorted(self.requests.items()):
            lines.append(f'smartcity_kg_http_requests_total{{method="{method}",route="{_label(route)}",'
                         f'status="{status}"}} {count}')
        lines += ["# HELP smartcity_kg_http_request_duration_seconds Time from a request's arrival to the end of "
                  "its response, by route template.",
                  "# TYPE smartcity_kg_http_request_duration_seconds histogram"]
        for route, histogram in sorted(self.latency.items()):
            name, labels = "smartcity_kg_http_request_duration_seconds", f'route="{_label(route)}"'
            cumulative = 0
            for bound, count in zip((*map(repr, BUCKETS), "+Inf"), histogram.counts, strict=True):
                cumulative += count
                lines.append(f'{name}_bucket{{{labels},le="{bound}"}} {cumulative}')
            lines.append(f"{name}_sum{{{labels}}} {histogram.total!r}")
            lines.append(f"{name}_count{{{labels}}} {cumulative}")
        lines += ["# HELP smartcity_kg_http_requests_in_flight HTTP requests being answered now.",
                  "# TYPE smartcity_kg_http_requests_in_flight gauge",
                  f"smartcity_kg_http_requests_in_flight {self.in_flight}",
                  "# HELP smartcity_kg_events_total Events of the query service (time limits, refusals, overload, "
                  "crashes), by name.",
                  "# TYPE smartcity_kg_events_total counter"]
        with _events_lock:
            events = sorted(_events.items())
        lines += [f'smartcity_kg_events_total{{event="{event}"}} {count}' for event, count in events]
        return "\n".join(lines) + "\n"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _route_of(scope: Scope) -> str:
    """The template of the route that answered ("/doc/{kind}/{name}"), set in the scope by the router."""
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return path if isinstance(path, str) and path else _UNMATCHED


def _request_id(scope: Scope) -> bytes:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            if _SANE_ID.fullmatch(value):
                return bytes(value)
            break
    return uuid.uuid4().hex.encode()


class ObservabilityMiddleware:
    """Pure ASGI, so that the hot path costs a few dictionary updates and no extra task or body copy."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began, wall = time.perf_counter(), time.time()
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id.decode()
        status = 0
        sent = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), (b"x-request-id", request_id)]}
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        self.metrics.in_flight += 1
        try:
            await self.app(scope, receive, send_with_id)
        except ClientDisconnect:  # the client hung up while sending its request: nobody is left to answer
            return
        except Exception:
            # The app's own handler logs the error and would answer outside this middleware, without the id;
            # answering here gives the client the id to quote. Re-raised so that the handler still logs it.
            if status == 0:
                response = error_response(500, f"internal error; it has been logged with request id "
                                               f"{request_id.decode()}")
                await response(scope, receive, send_with_id)
            raise
        finally:
            self.metrics.in_flight -= 1
            seconds = time.perf_counter() - began
            method = scope["method"] if scope["method"] in _METHODS else "other"
            route = _route_of(scope)
            self.metrics.observe(method, route, status, seconds)
            if _access.isEnabledFor(logging.INFO):
                _access.info(_access_line(scope, request_id, route, status=status, sent=sent, seconds=seconds,
                                          wall=wall))


def _access_line(scope: Scope, request_id: bytes, route: str, *, status: int, sent: int, seconds: float,
                 wall: float) -> str:
    agent = next((value for name, value in scope["headers"] if name == b"user-agent"), b"")
    client = scope.get("client")
    return json.dumps({
        "time": datetime.fromtimestamp(wall, UTC).isoformat(timespec="milliseconds"),
        "request_id": request_id.decode(),
        "client": client[0] if client else None,
        "method": scope["method"][:16],
        "path": scope["path"][:_MAX_LOGGED],
        "route": route,
        "query_length": len(scope.get("query_string", b"")),
        "status": status,
        "bytes": sent,
        "duration_ms": round(seconds * 1000, 3),
        "user_agent": agent[:512].decode("latin-1"),
    }, ensure_ascii=True)  # ASCII only: a client's bytes cannot forge a second line or a terminal escape


def install_observability(app: FastAPI) -> Metrics:
    """Add the request id, the access log and the metrics to `app`, and serve them at GET /metrics."""
    metrics = Metrics()
    app.state.metrics = metrics
    app.add_middleware(ObservabilityMiddleware, metrics=metrics)
    app.include_router(metrics_route.router)
    return metrics


def enable_access_log(stream: TextIO | None = None) -> logging.Handler:
    """Write the access log, one JSON object a line, to `stream` (standard output by default)."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    _access.addHandler(handler)
    _access.setLevel(logging.INFO)
    _access.propagate = False  # the line is already complete; a root handler would print it a second time
    return handler
