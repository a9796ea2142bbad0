"""Operations: every request gets an id and one JSON access-log line, and /metrics counts what the service did."""

from __future__ import annotations

import io
import json
import logging
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.http.observability import ACCESS_LOGGER, EVENTS, PIPE_BUF, LineBatches, Metrics, enable_access_log
from graph.settings import Settings
from tests.conftest import Server

PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8"
SAMPLE = re.compile(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_]\w*="(?:[^"\\\n]|\\.)*",?)*)\})? (\S+)')
LABEL = re.compile(r'([a-zA-Z_]\w*)="((?:[^"\\\n]|\\.)*)"')


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[dict[str, Any]] = []
        self.raw: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        assert "\n" not in message
        self.raw.append(message)
        self.lines.append(json.loads(message))


def _boom() -> None:
    raise RuntimeError("a bug")


@pytest.fixture(scope="module")
def app(published_store: Path) -> FastAPI:
    app = create_app(Settings(store=published_store))
    app.add_api_route("/test-only/boom", _boom)  # stands for a bug in a handler
    return app


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def access_log() -> Iterator[_Lines]:
    """The access log's lines as parsed JSON, wherever the process sends them otherwise."""
    logger = logging.getLogger(ACCESS_LOGGER)
    handler, level = _Lines(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a Prometheus text exposition, checked line by line against the format."""
    found: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    typed: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if line.startswith("# HELP "):
            continue
        match = SAMPLE.fullmatch(line)
        assert match, f"not a sample line: {line!r}"
        name, labels, value = match.groups()
        assert name in typed or name.rsplit("_", 1)[0] in typed, f"{name} has no # TYPE line before it"
        found[name, frozenset(LABEL.findall(labels or ""))] = float(value)
    return found


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, frozenset(labels.items())), 0.0)


def test_request_id_is_generated_and_unique(client: TestClient) -> None:
    ids = [client.get("/health").headers["X-Request-ID"] for _ in range(3)]
    assert len(set(ids)) == 3
    assert all(re.fullmatch(r"[0-9a-f]{32}", one) for one in ids)


def test_a_sane_incoming_request_id_is_kept(client: TestClient) -> None:
    sent = "7f3c9a2e-4b1d-4e8a-9c0f-1a2b3c4d5e6f"
    assert client.get("/health", headers={"X-Request-ID": sent}).headers["X-Request-ID"] == sent


@pytest.mark.parametrize("sent", ['a"b', "a b", "x" * 200, "-starts-with-a-dash", "ünïcode", "a;b=c"])
def test_an_unsafe_incoming_request_id_is_replaced(client: TestClient, sent: str) -> None:
    answered = client.get("/health", headers={"X-Request-ID": sent.encode()})
    assert answered.headers["X-Request-ID"] != sent
    assert re.fullmatch(r"[0-9a-f]{32}", answered.headers["X-Request-ID"])


def test_error_answers_carry_the_request_id_too(client: TestClient) -> None:
    answered = client.get("/api/v1/city/no-such-city", headers={"X-Request-ID": "req-404"})
    assert answered.status_code == 404
    assert answered.headers["X-Request-ID"] == "req-404"


def test_one_access_log_line_per_request(client: TestClient, access_log: _Lines) -> None:
    client.get("/api/v1/city?limit=2", headers={"X-Request-ID": "log-1", "User-Agent": "probe/1.0"})
    client.get("/id/city/dortmund", follow_redirects=False)
    assert len(access_log.lines) == 2
    first, second = access_log.lines
    assert set(first) == {
        "time",
        "request_id",
        "client",
        "method",
        "path",
        "route",
        "query_length",
        "status",
        "bytes",
        "duration_ms",
        "user_agent",
    }
    assert first["request_id"] == "log-1"
    assert first["method"] == "GET"
    assert first["path"] == "/api/v1/city"
    assert first["route"] == "/api/v1/{type}"
    assert first["query_length"] == len("limit=2")
    assert first["status"] == 200
    assert first["bytes"] > 0
    assert first["duration_ms"] >= 0
    assert first["user_agent"] == "probe/1.0"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", first["time"])
    assert (second["status"], second["route"], second["bytes"]) == (303, "/id/{kind}/{key}", 0)


def test_the_access_log_keeps_queries_out_and_lines_whole(client: TestClient, access_log: _Lines) -> None:
    # A query can be long or private: only its length is logged. A forged user agent cannot start a new line.
    client.get("/sparql", params={"query": "ASK { ?secret ?p ?o }"}, headers={"User-Agent": 'x"}\r\n{"fake'})
    line = access_log.lines[-1]
    assert "secret" not in json.dumps(line)
    assert line["query_length"] > 0
    assert line["user_agent"].startswith('x"}')


def test_the_access_log_is_written_as_json_lines(client: TestClient) -> None:
    stream = io.StringIO()
    logger = logging.getLogger(ACCESS_LOGGER)
    level, propagate = logger.level, logger.propagate
    handler = enable_access_log(stream)
    try:
        client.get("/health", headers={"X-Request-ID": "stream-1"})
        # Written with the next batch, at the latest FLUSH_SECONDS later, without anyone flushing the handler.
        deadline = time.monotonic() + 30
        while not stream.getvalue() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate
        handler.close()
    lines = stream.getvalue().splitlines()
    assert [json.loads(line)["request_id"] for line in lines] == ["stream-1"]


class _Writes(io.StringIO):
    """A stream that remembers each write: what a pipe would receive in one system call."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)


def test_access_log_lines_are_written_in_batches_of_whole_lines() -> None:
    # Several server processes share standard output: a write of at most PIPE_BUF bytes to a pipe is never mixed
    # with another process's, so each write holds whole lines and stays within it; many lines share a write.
    stream = _Writes()
    handler = LineBatches(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    sent = [json.dumps({"request_id": f"r{number}", "path": "/p" * (number % 50)}) for number in range(300)]
    for line in sent:
        handler.handle(logging.LogRecord(ACCESS_LOGGER, logging.INFO, __file__, 0, line, None, None))
    handler.close()  # what is still held is written when the handler closes (at exit too)
    assert stream.getvalue().splitlines() == sent
    assert all(write.endswith("\n") and len(write.encode()) <= PIPE_BUF for write in stream.writes)
    assert len(stream.writes) <= len(sent) // 10


def test_the_access_line_is_the_json_of_its_fields(client: TestClient, access_log: _Lines) -> None:
    # Written field by field for speed: still exactly what json.dumps writes, escapes included.
    path = '/api/v1/city/"quoted"\\é\u2028'
    client.get(path, headers={"User-Agent": 'probe/"1"\\\x7f', "X-Request-ID": "exact-1"})
    line = access_log.lines[-1]
    assert line["path"] == path and line["user_agent"] == 'probe/"1"\\\x7f'
    assert line["route"] == "/api/v1/{type}/{key}" and line["status"] == 404
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["time"])
    assert access_log.raw[-1] == json.dumps(line)


def test_metrics_are_prometheus_text(client: TestClient) -> None:
    answered = client.get("/metrics")
    assert answered.status_code == 200
    assert answered.headers["content-type"] == PROMETHEUS
    found = samples(answered.text)
    assert ("smartcity_kg_http_requests_in_flight", frozenset()) in found
    for event in EVENTS:  # exported before it first happens, so that rates and alerts work from the start
        assert ("smartcity_kg_events_total", frozenset({("event", event)})) in found


def test_requests_are_counted_by_route_template_not_by_path(client: TestClient) -> None:
    requests = "smartcity_kg_http_requests_total"
    before = client.get("/metrics").text
    for key in ("dortmund", "no-such-city", "another-missing-one"):
        client.get(f"/api/v1/city/{key}")
    client.get("/no/such/page/at/all")
    client.request("BREW", "/health")
    client.get("/openapi.json")
    query = client.request(
        "QUERY", "/sparql", content=b"ASK {}", headers={"Content-Type": "application/sparql-query"}
    ).status_code
    after = client.get("/metrics").text
    assert (
        value(after, requests, method="GET", route="/openapi.json", status="200")
        == value(before, requests, method="GET", route="/openapi.json", status="200") + 1
    )
    assert (
        value(after, requests, method="QUERY", route="/sparql", status=str(query))
        == value(before, requests, method="QUERY", route="/sparql", status=str(query)) + 1
    )
    requests = "smartcity_kg_http_requests_total"
    item = "/api/v1/{type}/{key}"
    assert (
        value(after, requests, method="GET", route=item, status="200")
        == value(before, requests, method="GET", route=item, status="200") + 1
    )
    assert (
        value(after, requests, method="GET", route=item, status="404")
        == value(before, requests, method="GET", route=item, status="404") + 2
    )
    assert (
        value(after, requests, method="GET", route="unmatched", status="404")
        == value(before, requests, method="GET", route="unmatched", status="404") + 1
    )
    assert (
        value(after, requests, method="other", route="unmatched", status="501")
        == value(before, requests, method="other", route="unmatched", status="501") + 1
    )
    assert "no-such-city" not in after and "BREW" not in after


def test_latency_histogram_is_cumulative_and_complete(client: TestClient) -> None:
    for _ in range(3):
        client.get("/api/v1/search", params={"q": "dort"})
    found = samples(client.get("/metrics").text)
    name = "smartcity_kg_http_request_duration_seconds"
    route = ("route", "/api/v1/search")
    buckets = sorted(
        (
            (float(dict(labels)["le"]), count)
            for (metric, labels), count in found.items()
            if metric == f"{name}_bucket" and route in labels
        )
    )
    counts = [count for _, count in buckets]
    assert buckets[-1][0] == float("inf")
    assert counts == sorted(counts)
    assert counts[-1] == found[f"{name}_count", frozenset({route})] >= 3
    assert found[f"{name}_sum", frozenset({route})] > 0


def test_in_flight_counts_the_scrape_itself(client: TestClient) -> None:
    # Nothing else runs: the only request being answered is the one asking.
    assert value(client.get("/metrics").text, "smartcity_kg_http_requests_in_flight") == 1


def test_recorded_events_are_exported(app: FastAPI, client: TestClient) -> None:
    before = value(client.get("/metrics").text, "smartcity_kg_events_total", event="query_timeout")
    app.state.metrics.record("query_timeout")
    app.state.metrics.record("query_timeout")
    after = value(client.get("/metrics").text, "smartcity_kg_events_total", event="query_timeout")
    assert after == before + 2


@pytest.mark.parametrize("name", ["Query Timeout", "", "a\nb", 'x"y', "x" * 100])
def test_event_names_are_checked(name: str) -> None:
    with pytest.raises(ValueError, match="lowercase"):
        Metrics().record(name)


def test_an_unexpected_error_is_a_json_500_naming_the_request_id(
    client: TestClient, access_log: _Lines, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="smartcity_kg.api"):
        answered = client.get("/test-only/boom", headers={"X-Request-ID": "bug-1"})
    assert answered.status_code == 500
    assert answered.headers["X-Request-ID"] == "bug-1"
    message = answered.json()["error"]["message"]
    assert "bug-1" in message
    assert "RuntimeError" not in answered.text and "Traceback" not in answered.text
    assert any("unexpected error" in entry.getMessage() for entry in caplog.records)  # still logged in full
    assert access_log.lines[-1]["status"] == 500
    metrics = client.get("/metrics").text
    assert value(metrics, "smartcity_kg_http_requests_total", method="GET", route="/test-only/boom", status="500") >= 1


@pytest.mark.slow
def test_the_real_server_sends_ids_and_metrics(live_server: Server) -> None:
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        assert http.get("/health", headers={"X-Request-ID": "live-1"}).headers["X-Request-ID"] == "live-1"
        metrics = http.get("/metrics")
        # Monitors that probe with HEAD get the GET's status and headers, without the body.
        heads = [http.head(path) for path in ("/health", "/metrics")]
    assert [(head.status_code, head.content) for head in heads] == [(200, b""), (200, b"")]
    assert heads[1].headers["content-type"] == PROMETHEUS
    assert heads[0].headers["content-type"] == "application/json"
    assert metrics.headers["content-type"] == PROMETHEUS
    assert value(metrics.text, "smartcity_kg_http_requests_total", method="GET", route="/health", status="200") >= 1


def _event(metrics: str, event: str) -> int:
    match = re.search(rf'^smartcity_kg_events_total{{event="{event}"}} (\d+)$', metrics, re.MULTILINE)
    return int(match.group(1)) if match else 0


def test_sparql_refusals_and_cache_hits_are_counted(live_server: Server) -> None:
    with live_server.client() as client:
        before = client.get("/metrics").text
        assert (
            client.get(
                "/sparql", params={"query": "SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"}
            ).status_code
            == 400
        )
        for _ in range(2):  # the second identical query is answered from the cache
            assert client.get("/sparql", params={"query": "ASK { ?s a ?o }"}).status_code == 200
        after = client.get("/metrics").text
    assert _event(after, "query_refused") == _event(before, "query_refused") + 1
    assert _event(after, "answer_cache_hit") >= _event(before, "answer_cache_hit") + 1


def test_identical_queries_in_flight_share_one_evaluation(live_server: Server) -> None:
    # Counting every triple against every membership takes the engine a good part of a second.
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d <http://www.w3.org/ns/org#member> ?e } # shared"
    with live_server.client() as client:
        before = _event(client.get("/metrics").text, "query_shared")
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda _: client.get("/sparql", params={"query": query}), range(4)))
        after = _event(client.get("/metrics").text, "query_shared")
    assert [answer.status_code for answer in answers] == [200] * 4
    assert len({answer.content for answer in answers}) == 1
    assert after >= before + 1
