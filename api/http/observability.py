"""Operations: a request id, one JSON access-log line and Prometheus metrics per request, and a counter of events."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import re
import sys
import threading
import time
from bisect import bisect_left
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from json.encoder import encode_basestring_ascii as _json
from pathlib import Path
from typing import Any, TextIO

from fastapi import FastAPI
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.http import metrics as metrics_route
from api.http.cache import BuildCache, PerBuildValues
from api.http.early import EarlyAnswerer, EarlyResponse
from api.http.errors import error_response
from api.http.methods import KNOWN_METHODS
from api.http.server import METRICS_DIR
from graph import __version__

__all__ = [
    "ACCESS_LOGGER",
    "EVENTS",
    "LineBatches",
    "Metrics",
    "enable_access_log",
    "install_observability",
]

ACCESS_LOGGER = "smartcity_kg.access"
# Upper bounds (seconds) of the latency buckets: from a cached lookup (ms) to a query at its time limit (30 s).
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# Events other modules report; listed so that each is exported (as 0) before it first happens.
EVENTS = (
    "query_timeout",
    "query_memory_limit",
    "worker_crash",
    "worker_rested",
    "overload",
    "client_share_exceeded",
    "query_refused",
    "answer_cache_hit",
    "query_in_process",
    "query_shared",
    "answered_early",
    "remote_unavailable",
    "remote_bad_answer",
    "remote_refused",
    "short_link_refused",
)
# A client's id is kept only if it cannot break a log line or a header, nor grow without bound.
_SANE_ID = re.compile(rb"[A-Za-z0-9][A-Za-z0-9._:@+=/-]{0,127}")
_EVENT_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
# Methods a client invents would each make a new series: they are counted together as "other".
_UNMATCHED = "unmatched"  # never the raw path as a label: every mistyped URL would be a new series
_MAX_LOGGED = 2048
SHARE_SECONDS = 1.0  # how stale another process's figures may be in a scrape
PIPE_BUF = 4096  # the largest write to a pipe that POSIX keeps whole among concurrent writers
FLUSH_SECONDS = 0.5  # how long an access-log line may wait for others to share its write

_access = logging.getLogger(ACCESS_LOGGER)


class _Histogram:
    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)  # the last one is +Inf
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect_left(BUCKETS, seconds)] += 1
        self.total += seconds


class Metrics:
    """The metrics of one app: its HTTP requests (only touched on the event loop, so they need no lock), the events
    its parts `record`, the state of its caches (`caches`, by name), and how often and how long it computed its values
    of each build (`per_build`).

    With `shared` (a folder), the figures of this process are written there every `SHARE_SECONDS` while they
    change and at each scrape, and `render` adds up those of every process serving the same socket. Files of
    processes that have ended are still counted, so counters never go back when a process is replaced; their
    gauges (in flight, what their caches hold) are not.
    Writing a snapshot now and then costs the requests nothing, where a shared counter would cost every request:
    prometheus_client's multiprocess mode, which writes every observation to a memory-mapped file, costs 7.7-12.9 µs
    a request where this costs 0.45-0.77 µs (benchmarks/metrics_recording.py; docs/performance.md, "/metrics").
    """

    def __init__(
        self,
        shared: Path | None = None,
        caches: Mapping[str, BuildCache[Any, Any]] | None = None,
        per_build: PerBuildValues | None = None,
    ) -> None:
        self.requests: dict[tuple[str, str, int], int] = {}
        self.latency: dict[str, _Histogram] = {}
        self.in_flight = 0
        self.shared = shared
        self.caches = dict(caches or {})
        self.per_build = per_build.kept if per_build is not None else {}
        self._changes = 0  # requests observed since the last snapshot was taken
        self._taken = 0  # snapshots taken, and the number of the last one written (so no older one replaces it)
        self._published = 0
        self._publish_lock = threading.Lock()
        self._events = dict.fromkeys(EVENTS, 0)
        self._events_lock = threading.Lock()  # record() is called from worker threads too

    def record(self, event: str) -> None:
        """Count one occurrence of `event` (lowercase, like "query_timeout"); exported as smartcity_kg_events_total."""
        if event not in self._events and not _EVENT_NAME.fullmatch(event):
            raise ValueError(f"event names are lowercase words joined by _, not {event!r}")
        with self._events_lock:
            self._events[event] = self._events.get(event, 0) + 1
        self._changes += 1

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        histogram = self.latency.get(route)
        if histogram is None:
            histogram = self.latency[route] = _Histogram()
        histogram.observe(seconds)
        self._changes += 1

    def snapshot(self) -> dict[str, Any]:
        """This process's figures, as JSON-ready values."""
        with self._events_lock:
            events = dict(self._events)
        return {
            "requests": [[*key, count] for key, count in self.requests.items()],
            "latency": {route: [*h.counts, h.total] for route, h in self.latency.items()},
            "in_flight": self.in_flight,
            "events": events,
            "caches": {name: _cache_figures(cache) for name, cache in self.caches.items()},
            "per_build": self._computed(),
        }

    def _computed(self) -> dict[str, list[float]]:
        """Each value computed once per build: its computations and the seconds they took."""
        return {name: [kept.computations, kept.seconds] for name, kept in self.per_build.items()}

    def _take(self) -> tuple[int, dict[str, Any]]:
        """This process's figures now, numbered in the order taken (on the event loop, where requests count)."""
        self._changes = 0
        self._taken += 1
        return self._taken, self.snapshot()

    def _publish(self, taken: int, snapshot: dict[str, Any]) -> None:
        """Write `snapshot` where the other processes read it (atomically: never half a file), unless a later one
        was written meanwhile: the file never goes back to older figures than a scrape reported."""
        if self.shared is None:
            return
        with self._publish_lock:  # the periodic writer runs in a thread, a scrape on the event loop
            if taken <= self._published:
                return
            file = self.shared / f"{os.getpid()}.json"
            temporary = file.with_suffix(".tmp")
            temporary.write_text(json.dumps(snapshot), encoding="utf-8")
            temporary.replace(file)
            self._published = taken

    def write_snapshot(self) -> None:
        """Write this process's figures now where the other processes read them."""
        self._publish(*self._take())

    async def share(self) -> None:
        """Keep this process's snapshot fresh while the app runs (started by the /metrics router's lifespan)."""
        await asyncio.to_thread(self._publish, *self._take())  # counted among the processes from its start
        try:
            while True:
                await asyncio.sleep(SHARE_SECONDS)
                if self._changes:
                    await asyncio.to_thread(self._publish, *self._take())
        finally:
            self.write_snapshot()  # the last figures of a process that stops

    def _totals(self) -> _Totals:
        """The figures of every process serving the socket, added up, and how many processes are running.

        This process's figures are published first and then added up with the others' as published: a scrape
        reports no more than the files hold, and the files only grow, so a later scrape, whichever process
        answers it, reports at least as much (live figures with others' older ones would go back and forth)."""
        taken, own = self._take()
        self._publish(taken, own)
        totals: _Totals = ({}, {}, 0, {}, 0, {}, {})
        totals = _added(totals, own, alive=True)
        if self.shared is not None:
            mine = f"{os.getpid()}.json"
            for file in self.shared.glob("*.json"):
                if file.name == mine:
                    continue
                try:
                    other = json.loads(file.read_text(encoding="utf-8"))
                except (OSError, ValueError):  # removed meanwhile: the folder goes when the server stops
                    continue
                totals = _added(totals, other, alive=Path(f"/proc/{file.stem}").exists())
        return totals

    def render(self) -> str:
        """Everything in the Prometheus text exposition format, version 0.0.4."""
        requests, latency, in_flight, events, running, caches, computed = self._totals()
        lines = [
            "# HELP smartcity_kg_info The running version of the service.",
            "# TYPE smartcity_kg_info gauge",
            f'smartcity_kg_info{{version="{_label(__version__)}"}} 1',
            "# HELP smartcity_kg_server_processes Server processes answering on the listening socket.",
            "# TYPE smartcity_kg_server_processes gauge",
            f"smartcity_kg_server_processes {running}",
            "# HELP smartcity_kg_http_requests_total HTTP requests answered, by method, route template and status.",
            "# TYPE smartcity_kg_http_requests_total counter",
        ]
        for (method, route, status), count in sorted(requests.items()):
            lines.append(
                f'smartcity_kg_http_requests_total{{method="{method}",route="{_label(route)}",'
                f'status="{status}"}} {count}'
            )
        lines += [
            "# HELP smartcity_kg_http_request_duration_seconds Time from a request's arrival to the end of "
            "its response, by route template.",
            "# TYPE smartcity_kg_http_request_duration_seconds histogram",
        ]
        for route, histogram in sorted(latency.items()):
            name, labels = "smartcity_kg_http_request_duration_seconds", f'route="{_label(route)}"'
            cumulative = 0
            for bound, count in zip((*map(repr, BUCKETS), "+Inf"), histogram.counts, strict=True):
                cumulative += count
                lines.append(f'{name}_bucket{{{labels},le="{bound}"}} {cumulative}')
            lines.append(f"{name}_sum{{{labels}}} {histogram.total!r}")
            lines.append(f"{name}_count{{{labels}}} {cumulative}")
        lines += [
            "# HELP smartcity_kg_http_requests_in_flight HTTP requests being answered now.",
            "# TYPE smartcity_kg_http_requests_in_flight gauge",
            f"smartcity_kg_http_requests_in_flight {in_flight}",
            "# HELP smartcity_kg_events_total Events of the query service (time limits, refusals, overload, "
            "crashes), by name.",
            "# TYPE smartcity_kg_events_total counter",
        ]
        lines += [f'smartcity_kg_events_total{{event="{event}"}} {count}' for event, count in sorted(events.items())]
        for i, (name, suffix, kind, words) in enumerate(_CACHE_FIGURES):
            metric = f"smartcity_kg_cache_{name}{suffix}"
            lines += [f"# HELP {metric} {words}, by cache.", f"# TYPE {metric} {kind}"]
            lines += [f'{metric}{{cache="{_label(cache)}"}} {figures[i]}' for cache, figures in sorted(caches.items())]
        for i, (metric, words) in enumerate(_COMPUTED_FIGURES):
            lines += [f"# HELP {metric} {words}", f"# TYPE {metric} counter"]
            lines += [f'{metric}{{value="{_label(name)}"}} {kept[i]!r}' for name, kept in sorted(computed.items())]
        return "\n".join(lines) + "\n"


# The figures of a cache: (name, suffix, Prometheus type, what it is), in the order _cache_figures lists them.
_CACHE_FIGURES = (
    ("hits", "_total", "counter", "Lookups a cache answered"),
    ("misses", "_total", "counter", "Lookups a cache could not answer"),
    ("entries", "", "gauge", "Values a cache holds"),
    ("bytes", "", "gauge", "Bytes the values a cache holds take"),
    ("max_bytes", "", "gauge", "Bytes a cache may hold (its setting)"),
    ("evictions", "_total", "counter", "Values a cache dropped to stay within its bytes"),
)

# The figures of a value computed once per build, in the order Metrics._computed lists them.
_COMPUTED_FIGURES = (
    (
        "smartcity_kg_per_build_computations_total",
        "Values computed once per build (label index, reconciliation index, statistics, release history, ontology), "
        "by value: once per build and server process, again only when a computation failed.",
    ),
    ("smartcity_kg_per_build_seconds_total", "Time spent computing the values computed once per build, by value."),
)

_Totals = tuple[
    dict[tuple[str, str, int], int],
    dict[str, _Histogram],
    int,
    dict[str, int],
    int,
    dict[str, list[int]],
    dict[str, list[float]],
]


def _added(totals: _Totals, snapshot: dict[str, Any], *, alive: bool) -> _Totals:
    """`totals` with the figures of one process's `snapshot` added; only counters if the process has ended, so
    that they never go back when a process is replaced, while its gauges (in flight, what its caches hold) go."""
    requests, latency, in_flight, events, running, caches, computed = totals
    for method, route, status, count in snapshot["requests"]:
        key = (method, route, status)
        requests[key] = requests.get(key, 0) + count
    for route, values in snapshot["latency"].items():
        histogram = latency.setdefault(route, _Histogram())
        histogram.counts = [a + b for a, b in zip(histogram.counts, values[:-1], strict=True)]
        histogram.total += values[-1]
    for event, count in snapshot["events"].items():
        events[event] = events.get(event, 0) + count
    for name, figures in snapshot.get("caches", {}).items():
        sums = caches.setdefault(name, [0] * len(_CACHE_FIGURES))
        for i, (_, _, kind, _) in enumerate(_CACHE_FIGURES):
            if alive or kind == "counter":
                sums[i] += figures[i]
    for name, (computations, seconds) in snapshot.get("per_build", {}).items():
        kept = computed.setdefault(name, [0, 0.0])
        kept[0] += computations
        kept[1] += seconds
    if alive:
        in_flight += snapshot["in_flight"]
        running += 1
    return requests, latency, in_flight, events, running, caches, computed


def _cache_figures(cache: BuildCache[Any, Any]) -> list[int]:
    return [cache.hits, cache.misses, len(cache), cache.size, cache.max_bytes, cache.evictions]


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
    return b"%s%016x" % (_ids.prefix, next(_ids.counter))


class _Ids:
    """The ids of requests that bring none: 32 hex digits, as a random UUID's, made of a random prefix for the
    process and a counter, so that a request costs no read of the system's random source (a system call)."""

    def __init__(self) -> None:
        self.reset()
        os.register_at_fork(after_in_child=self.reset)  # a forked process numbers its requests apart

    def reset(self) -> None:
        self.prefix = os.urandom(8).hex().encode()
        self.counter = itertools.count()


_ids = _Ids()


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
                response = error_response(
                    500, f"internal error; it has been logged with request id {request_id.decode()}"
                )
                await response(scope, receive, send_with_id)
            raise
        finally:
            self.metrics.in_flight -= 1
            _finished(
                self.metrics, scope, request_id, _route_of(scope), status=status, sent=sent, began=began, wall=wall
            )


def _finished(
    metrics: Metrics, scope: Scope, request_id: bytes, route: str, *, status: int, sent: int, began: float, wall: float
) -> None:
    """A request answered: counted and timed in the metrics, and its access-log line written."""
    seconds = time.perf_counter() - began
    metrics.observe(scope["method"] if scope["method"] in KNOWN_METHODS else "other", route, status, seconds)
    if _access.isEnabledFor(logging.INFO):
        # A record made here, not by `_access.info`: the logger would look up its caller's file and line in the
        # stack on every request, and an access line has no use for them.
        line = _access_line(scope, request_id, route, status=status, sent=sent, seconds=seconds, wall=wall)
        _access.handle(logging.LogRecord(ACCESS_LOGGER, logging.INFO, __file__, 0, line, None, None))


def observed(metrics: Metrics, route: str, answerer: EarlyAnswerer) -> EarlyAnswerer:
    """`answerer` (api.http.early), with what `ObservabilityMiddleware` gives the app's answers: the request id, the
    metrics and the access-log line."""

    def answer(scope: Scope, body: bytes) -> EarlyResponse | None:
        began, wall = time.perf_counter(), time.time()
        response = answerer(scope, body)
        if response is not None:
            metrics.record("answered_early")
            request_id = _request_id(scope)
            response.headers.append((b"x-request-id", request_id))
            _finished(
                metrics,
                scope,
                request_id,
                route,
                status=response.status,
                sent=len(response.body),
                began=began,
                wall=wall,
            )
        return response

    return answer


def _access_line(
    scope: Scope, request_id: bytes, route: str, *, status: int, sent: int, seconds: float, wall: float
) -> str:
    """The JSON object of one request, written field by field: the same text as `json.dumps` of a dict, in a
    fraction of its time (this runs for every request). ASCII only: a client's bytes cannot forge a second line
    or a terminal escape."""
    agent = next((value for name, value in scope["headers"] if name == b"user-agent"), b"")
    client = scope.get("client")
    return (
        f'{{"time": "{_timestamp(wall)}", "request_id": "{request_id.decode()}", '  # a sane id or hex: no escapes
        f'"client": {_json(client[0]) if client else "null"}, "method": {_json(scope["method"][:16])}, '
        f'"path": {_json(scope["path"][:_MAX_LOGGED])}, "route": {_json(route)}, '
        f'"query_length": {len(scope.get("query_string", b""))}, "status": {status}, "bytes": {sent}, '
        f'"duration_ms": {round(seconds * 1000, 3)!r}, "user_agent": {_json(agent[:512].decode("latin-1"))}}}'
    )


def _timestamp(wall: float) -> str:
    """`wall` as ISO 8601 in UTC, to the millisecond ("2026-12-06T10:47:03.512+00:00")."""
    second, micro = divmod(round(wall * 1_000_000), 1_000_000)
    return f"{_whole_second(second)}.{micro // 1000:03d}+00:00"


@lru_cache(maxsize=4)
def _whole_second(second: int) -> str:
    """A second since the epoch as ISO 8601 in UTC: formatted once for all the lines of that second."""
    return datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def install_observability(
    app: FastAPI, caches: Mapping[str, BuildCache[Any, Any]], per_build: PerBuildValues
) -> Metrics:
    """Add the request id, the access log and the metrics (with those of `caches` and `per_build`) to `app`, and
    serve them at GET /metrics."""
    shared = os.environ.get(METRICS_DIR)
    metrics = Metrics(Path(shared) if shared else None, caches, per_build)
    app.state.metrics = metrics
    app.add_middleware(ObservabilityMiddleware, metrics=metrics)
    app.include_router(metrics_route.router)
    return metrics


class LineBatches(logging.StreamHandler[TextIO]):
    """Log lines written to a stream in batches of whole lines: one write for many requests, not one each.

    A batch goes out when the next line would take it past `PIPE_BUF` bytes (a write that size to a pipe is never
    interleaved with another process's, so the server processes sharing standard output never mix their lines),
    at the latest `FLUSH_SECONDS` after its first line, and when the handler is flushed or closed (at exit too).
    """

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self.batch: list[str] = []
        self.size = 0
        self._stop = threading.Event()
        self._flusher: threading.Thread | None = None

    def emit(self, record: logging.LogRecord) -> None:  # called with the handler's lock held
        try:
            line = self.format(record) + "\n"
        except Exception:  # as logging.StreamHandler does: a bad record does not stop the service
            self.handleError(record)
            return
        if self.size + len(line) > PIPE_BUF:
            self.flush()
        self.batch.append(line)
        self.size += len(line)
        if self._flusher is None:
            self._flusher = threading.Thread(target=self._flush_often, name="access-log", daemon=True)
            self._flusher.start()

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            if self.batch:
                batch, self.batch, self.size = self.batch, [], 0
                self.stream.write("".join(batch))
            super().flush()

    def _flush_often(self) -> None:
        while not self._stop.wait(FLUSH_SECONDS):
            self.flush()

    def close(self) -> None:
        self._stop.set()
        self.flush()
        super().close()


def enable_access_log(stream: TextIO | None = None) -> logging.Handler:
    """Write the access log, one JSON object a line, to `stream` (standard output by default), in batches of lines
    (`LineBatches`)."""
    handler = LineBatches(stream or sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    _access.addHandler(handler)
    _access.setLevel(logging.INFO)
    _access.propagate = False  # the line is already complete; a root handler would print it a second time
    return handler
