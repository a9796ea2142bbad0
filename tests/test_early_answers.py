"""Lookups answered in the HTTP server's own callback (api.http.early): byte for byte what the app answers, counted
and logged as every request, and everything else (refusals, other queries, CORS, gzip, pipelined requests) left
to the app, over a real socket to the real service."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from graph.store import EmbeddedStore
from tests.conftest import Server, start_server, stop_server

# Headers that differ between any two answers: when, and which request.
_PER_REQUEST = ("date", "x-request-id")


@pytest.fixture(scope="module")
def live_server(published_store: Path) -> Iterator[Server]:
    """A server of these tests' own: the counts they compare, and this client's share of query time, are not
    those other tests left behind."""
    server = start_server(published_store)
    yield server
    stop_server(server)


def _subject(store: EmbeddedStore) -> str:
    rows = store.select("SELECT ?s { ?s a <https://w3id.org/smartcity-kg/ontology#Alliance> } ORDER BY ?s LIMIT 1")
    return str(next(iter(rows))[0].value)


def _read_response(sock: socket.socket, buffer: bytearray) -> tuple[int, dict[str, str], bytes]:
    """One response read from `sock` (what follows it stays in `buffer`): status, headers, body."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        assert chunk, f"the connection closed before a whole head: {bytes(buffer)!r}"
        buffer += chunk
    head, _, _ = bytes(buffer).partition(b"\r\n\r\n")
    del buffer[: len(head) + 4]
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    length = int(headers.get("content-length", "0"))
    while len(buffer) < length:
        chunk = sock.recv(65536)
        assert chunk, "the connection closed before the whole body"
        buffer += chunk
    body = bytes(buffer[:length])
    del buffer[:length]
    return int(status_line.split()[1]), headers, body


def _exchange(server: Server, *requests: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """`requests` sent at once on one connection (pipelined), and their responses in order."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(b"".join(requests))
        buffer = bytearray()
        return [_read_response(sock, buffer) for _ in requests]


def _get(query: str, *headers: str, extra: str = "") -> bytes:
    lines = "".join(f"{header}\r\n" for header in headers)
    return f"GET /sparql?query={quote(query)}{extra} HTTP/1.1\r\nHost: localhost\r\n{lines}\r\n".encode()


def _post(body: str, content_type: str, *headers: str, chunked: bool = False) -> bytes:
    lines = "".join(f"{header}\r\n" for header in headers)
    data = body.encode()
    if chunked:  # a body the early path does not read: the app answers it
        framing, payload = "Transfer-Encoding: chunked", b"%x\r\n%s\r\n0\r\n\r\n" % (len(data), data)
    else:
        framing, payload = f"Content-Length: {len(data)}", data
    head = f"POST /sparql HTTP/1.1\r\nHost: localhost\r\nContent-Type: {content_type}\r\n{framing}\r\n{lines}\r\n"
    return head.encode() + payload


def _event(server: Server, event: str) -> int:
    (status, _, body), *_ = _exchange(server, b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert status == 200
    found = re.search(rf'^smartcity_kg_events_total{{event="{event}"}} (\d+)', body.decode(), re.MULTILINE)
    assert found is not None, f"no {event} in /metrics"
    return int(found[1])


def _same_answer(early: tuple[int, dict[str, str], bytes], app: tuple[int, dict[str, str], bytes]) -> None:
    assert early[0] == app[0] == 200
    assert early[2] == app[2]
    assert {k: v for k, v in early[1].items() if k not in _PER_REQUEST} == {
        k: v for k, v in app[1].items() if k not in _PER_REQUEST
    }
    assert re.fullmatch(r"[0-9a-f]{32}", early[1]["x-request-id"])


def test_lookups_answered_early_are_what_the_app_answers(live_server: Server, store: EmbeddedStore) -> None:
    subject = _subject(store)
    select = f"SELECT ?p ?o WHERE {{ <{subject}> ?p ?o }}"
    describe = f"DESCRIBE <{subject}>"
    cases = [
        # (as the early path reads it, the same request as only the app reads it)
        (_get(select), _get(select, "Content-Length: 0")),
        (_get(select, extra="&format=xml"), _get(select, "Content-Length: 0", extra="&format=xml")),
        (_get(describe, "Accept: text/turtle"), _get(describe, "Accept: text/turtle", "Content-Length: 0")),
        (
            _post(select, "application/sparql-query", "Accept: text/csv"),
            _post(select, "application/sparql-query", "Accept: text/csv", chunked=True),
        ),
        (
            _post(f"query={quote(describe)}", "application/x-www-form-urlencoded", "Accept: application/n-triples"),
            _post(
                f"query={quote(describe)}",
                "application/x-www-form-urlencoded",
                "Accept: application/n-triples",
                chunked=True,
            ),
        ),
    ]
    for early_request, app_request in cases:
        before = _event(live_server, "answered_early")
        early = _exchange(live_server, early_request)[0]
        assert _event(live_server, "answered_early") == before + 1, early_request
        app = _exchange(live_server, app_request)[0]
        assert _event(live_server, "answered_early") == before + 1, app_request
        _same_answer(early, app)
        assert subject.rsplit("/", 1)[1].encode() in early[2]  # the thing's own triples


def test_what_the_early_path_cannot_answer_as_the_app_would_goes_to_the_app(
    live_server: Server, store: EmbeddedStore
) -> None:
    subject = _subject(store)
    lookup = f"DESCRIBE <{subject}>"
    before = _event(live_server, "answered_early")
    refused_before = _event(live_server, "query_refused")
    cors, gzip, refused, aggregate, bad_charset = _exchange(
        live_server,
        _get(lookup, "Origin: https://example.org"),
        _get(lookup, "Accept-Encoding: gzip"),
        _get("SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"),
        _post("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", "application/sparql-query"),
        _post(lookup, "application/sparql-query; charset=latin1"),
    )
    assert _event(live_server, "answered_early") == before
    assert cors[0] == 200 and cors[1]["access-control-allow-origin"] == "*"
    assert gzip[0] == 200 and gzip[1].get("content-encoding") == "gzip"
    assert refused[0] == 400 and b"SERVICE" in refused[2] and refused[1]["content-type"] == "application/json"
    # The SERVICE text and the charset: each counted once, though the early path read them first.
    assert _event(live_server, "query_refused") == refused_before + 2
    assert aggregate[0] == 200 and b'"n"' in aggregate[2]
    assert bad_charset[0] == 400 and b"charset=latin1" in bad_charset[2]


def test_early_answers_keep_a_pipelined_connection_in_order(live_server: Server, store: EmbeddedStore) -> None:
    subject = _subject(store)
    lookup = f"SELECT ?o {{ <{subject}> a ?o }}"
    answers = _exchange(
        live_server,
        _post("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", "application/sparql-query"),  # a worker's: still running
        _get(lookup),  # queued behind it, then answered
        _post(lookup, "application/sparql-query"),
        _get("ASK { ?s ?p ?o }"),
        _get(lookup),
    )
    assert [status for status, _, _ in answers] == [200] * 5
    assert b'"n"' in answers[0][2]
    assert answers[1][2] == answers[2][2] == answers[4][2] and b'"o"' in answers[1][2]
    assert answers[3][2] == b'{"head":{},"boolean":true}'


def test_an_http_1_0_lookup_is_answered_and_the_connection_closed(live_server: Server, store: EmbeddedStore) -> None:
    query = quote(f"SELECT ?o {{ <{_subject(store)}> a ?o }}")
    host, port = live_server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(f"GET /sparql?query={query} HTTP/1.0\r\nHost: localhost\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):  # ends when the server closes the connection
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"connection: close" in head.lower()
    assert b'"o"' in body


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_early_answer_is_counted_and_timed_in_the_metrics(
    live_server: Server, store: EmbeddedStore, method: str
) -> None:
    lookup = f"SELECT ?p {{ <{_subject(store)}> ?p ?o }}"
    request = _get(lookup) if method == "GET" else _post(lookup, "application/sparql-query")
    series = f'smartcity_kg_http_requests_total{{method="{method}",route="/sparql",status="200"}} '

    def count() -> int:
        (_, _, body), *_ = _exchange(live_server, b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        line = next((line for line in body.decode().splitlines() if line.startswith(series)), f"{series}0")
        return int(line.removeprefix(series))

    before = count()
    assert all(status == 200 for status, _, _ in _exchange(live_server, request, request, request))
    assert count() == before + 3


def _cache_figure(server: Server, name: str) -> int:
    (_, _, body), *_ = _exchange(server, b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
    found = re.search(rf'^smartcity_kg_cache_{name}{{cache="answers"}} (\d+)', body.decode(), re.MULTILINE)
    assert found is not None
    return int(found[1])


def test_the_first_accept_decides_as_in_the_app(live_server: Server, store: EmbeddedStore) -> None:
    lookup = f"SELECT ?o {{ <{_subject(store)}> a ?o }}"
    for first, second in (("image/png", "text/csv"), ("text/csv", "application/sparql-results+xml")):
        early, app = _exchange(
            live_server,
            _get(lookup, f"Accept: {first}", f"Accept: {second}"),
            _get(lookup, f"Accept: {first}", f"Accept: {second}", "Content-Length: 0"),
        )
        assert (early[0], early[1].get("content-type"), early[2]) == (app[0], app[1].get("content-type"), app[2])


def test_headers_over_the_limit_are_refused_whatever_path_the_request_would_take(
    live_server: Server, store: EmbeddedStore
) -> None:
    # The whole request in one write: parsed before the server could count its headers as they arrived.
    padding = "X-Padding: " + "x" * 20_000
    (status, _, body), *_ = _exchange(live_server, _get(f"DESCRIBE <{_subject(store)}>", padding))
    assert status == 431 and b"max_header_bytes" in body


def test_a_long_answer_is_sent_by_the_app_chunk_by_chunk(live_server: Server) -> None:
    query = "SELECT * { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 3000"  # kept in the cache, and longer than a chunk
    before = _event(live_server, "answered_early")
    first, second = (_exchange(live_server, _get(query))[0] for _ in range(2))
    assert first[0] == second[0] == 200 and len(first[2]) > 64 * 1024 and first[2] == second[2]
    assert _event(live_server, "answered_early") == before


def test_pipelined_requests_wait_behind_an_unread_answer(live_server: Server, store: EmbeddedStore) -> None:
    # A client that sends many requests at once: only while nothing waits to be sent are they answered early;
    # the others queue in the app's path, which stops reading the connection meanwhile.
    lookup = _get(f"SELECT ?o {{ <{_subject(store)}> a ?o }}")
    before = _event(live_server, "answered_early")
    answers = _exchange(live_server, *[lookup] * 40)
    assert [status for status, _, _ in answers] == [200] * 40 and len({body for _, _, body in answers}) == 1
    assert _event(live_server, "answered_early") - before < 40


def test_a_cache_miss_is_counted_once(live_server: Server) -> None:
    misses = _cache_figure(live_server, "misses_total")
    assert _exchange(live_server, _get("SELECT (COUNT(*) AS ?n) { ?s a ?t } # counted once"))[0][0] == 200
    assert _cache_figure(live_server, "misses_total") == misses + 1


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_a_lookup_cut_at_the_row_limit_is_answered_early_as_the_app_answers_it(
    published_store: Path, store: EmbeddedStore, fmt: str
) -> None:
    # Two rows at most: a lookup of a thing's triples is longer than the direct write may hold, so it is evaluated
    # again and cut at a row, and says so in its headers, early as in the app.
    server = start_server(published_store, {"SMARTCITY_KG_MAX_ROWS": "2"})
    try:
        select = f"SELECT ?p ?o WHERE {{ <{_subject(store)}> ?p ?o }}"
        before = _event(server, "answered_early")
        early = _exchange(server, _get(select, extra=f"&format={fmt}"))[0]
        assert _event(server, "answered_early") == before + 1
        app = _exchange(server, _get(select, "Content-Length: 0", extra=f"&format={fmt}"))[0]
        _same_answer(early, app)
        assert early[1]["x-sparql-truncated"] == "true" and early[1]["x-sparql-max-rows"] == "2"
        if fmt in ("csv", "tsv"):
            assert len(early[2].splitlines()) == 3  # the header and two rows
    finally:
        stop_server(server)
