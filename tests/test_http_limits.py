"""The HTTP server bounds what a client sends while it reads it: URL and header size, slow heads and bodies, and
answers nobody reads. Raw sockets against the real server, since an HTTP client library would not misbehave."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import httpx
import psutil
import pyoxigraph as ox
import pytest

from tests.conftest import Server, start_server, stop_server

pytestmark = pytest.mark.slow

HEAD_TIMEOUT, BODY_TIMEOUT, SEND_TIMEOUT = 1.0, 1.0, 2.0
MAX_ANSWER = 12 * 2**20
LIMITS = {
    "SMARTCITY_KG_REQUEST_HEAD_TIMEOUT": str(HEAD_TIMEOUT),
    "SMARTCITY_KG_REQUEST_BODY_TIMEOUT": str(BODY_TIMEOUT),
    "SMARTCITY_KG_SEND_TIMEOUT": str(SEND_TIMEOUT),
    "SMARTCITY_KG_MAX_ANSWER_BYTES": str(MAX_ANSWER),
}
# Every triple's subject padded to a kilobyte: a few megabytes from a short query.
AMPLIFIED = 'SELECT (REPLACE(STR(?s), "^", "{pad}") AS ?x) WHERE {{ ?s ?p ?o . ?a ?b ?c }} LIMIT {rows}'


@pytest.fixture(scope="module")
def server(published_store: Path) -> Iterator[Server]:
    running = start_server(published_store, env=LIMITS)
    yield running
    stop_server(running)


def connect(server: Server) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    return sock


def response_of(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of the one response the server sends before closing the connection."""
    data = b""
    with contextlib.suppress(ConnectionResetError):  # closed with the client's unread request in its buffer
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def send_all(sock: socket.socket, data: bytes) -> None:
    """Send `data`, stopping quietly where the server closes the connection (it refuses before reading it all)."""
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        sock.sendall(data)


def rss(server: Server) -> int:
    return int(psutil.Process(server.process.pid).memory_info().rss)


def health_time(server: Server) -> float:
    began = time.monotonic()
    assert httpx.get(f"{server.url}/health", timeout=30).status_code == 200
    return time.monotonic() - began


def test_a_huge_url_is_refused_at_the_limit_with_a_json_414(server: Server) -> None:
    before = rss(server)
    request = b"GET /sparql?query=" + b"a" * 100 * 2**20 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    with connect(server) as sock:
        began = time.monotonic()
        send_all(sock, request)
        status, headers, body = response_of(sock)
        took = time.monotonic() - began
    assert status == 414 and headers["content-type"] == "application/json"
    assert "POST" in json.loads(body)["error"]["message"]
    assert took < 5
    assert rss(server) - before < 50 * 2**20
    assert health_time(server) < 1


def test_a_url_just_over_64_kib_gets_the_json_414(server: Server) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /sparql?query=" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        status, headers, body = response_of(sock)
    assert status == 414 and headers["content-type"] == "application/json"
    document = json.loads(body)
    assert "application/sparql-query" in document["error"]["message"]
    assert (document["status"], document["detail"]) == (414, document["error"]["message"])  # the one error shape


@pytest.mark.parametrize(
    "head",
    [
        b"X-Big: " + b"v" * 50 * 2**20 + b"\r\n",  # one huge value
        b"".join(b"X-%d: v\r\n" % n for n in range(2_000_000)),  # very many lines (about 20 MB)
    ],
    ids=["one value", "many lines"],
)
def test_huge_headers_are_refused_while_they_are_read(server: Server, head: bytes) -> None:
    before = rss(server)
    request = b"GET /health HTTP/1.1\r\nHost: x\r\n" + head + b"\r\n"
    with connect(server) as sock:
        began = time.monotonic()
        send_all(sock, request)
        status, headers, body = response_of(sock)
        took = time.monotonic() - began
    assert status == 431 and headers["content-type"] == "application/json"
    assert "max_header_bytes" in json.loads(body)["error"]["message"]
    assert took < 5
    assert rss(server) - before < 50 * 2**20
    assert health_time(server) < 1


def test_a_slow_head_is_timed_out(server: Server) -> None:
    with connect(server) as sock:
        began = time.monotonic()
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # and never the empty line
        status, _, body = response_of(sock)
        took = time.monotonic() - began
    assert status == 408 and "request_head_timeout" in json.loads(body)["error"]["message"]
    assert took < HEAD_TIMEOUT + 2


def test_a_connection_that_sends_nothing_is_closed(server: Server) -> None:
    with connect(server) as sock:
        began = time.monotonic()
        response_of(sock)
        assert time.monotonic() - began < HEAD_TIMEOUT + 2


def test_a_slow_body_is_timed_out(server: Server) -> None:
    with connect(server) as sock:
        began = time.monotonic()
        sock.sendall(
            b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
            b"Content-Length: 100\r\n\r\nASK"
        )
        status, _, body = response_of(sock)
        took = time.monotonic() - began
    assert status == 408 and "request_body_timeout" in json.loads(body)["error"]["message"]
    assert took < BODY_TIMEOUT + 2
    assert health_time(server) < 1


def test_keep_alive_requests_each_get_the_whole_head_time(server: Server) -> None:
    with connect(server) as sock:
        for _ in range(3):
            time.sleep(HEAD_TIMEOUT * 0.6)
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            while b"\r\n\r\n" not in data:
                data += sock.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            length = int(
                next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")).split(b":")[1]
            )
            while len(body) < length:
                body += sock.recv(65536)
            assert head.startswith(b"HTTP/1.1 200")


def test_an_answer_over_the_byte_limit_is_cut_at_a_row_and_marked(server: Server) -> None:
    query = AMPLIFIED.format(pad="x" * 2048, rows=9000)  # about 18 MiB in full, under the row limit
    response = httpx.get(f"{server.url}/sparql", params={"query": query}, timeout=60, headers={"Accept": "text/csv"})
    assert response.status_code == 200
    assert response.headers["X-SPARQL-Truncated"] == "true"
    assert response.headers["X-SPARQL-Max-Bytes"] == str(MAX_ANSWER)
    assert MAX_ANSWER * 0.8 < len(response.content) <= MAX_ANSWER
    lines = response.text.splitlines()
    assert lines[0] == "x" and all(line.startswith("x" * 2048) for line in lines[1:])


# The byte limit is on the answer's text in the format asked for: a query worker sends whole what fits there, even
# when the same rows are longer in another format (N-Triples for a graph, TSV for rows).
SMALL_ANSWER = 65_536


@pytest.fixture(scope="module")
def small_answers(published_store: Path) -> Iterator[Server]:
    running = start_server(published_store, env={"SMARTCITY_KG_MAX_ANSWER_BYTES": str(SMALL_ANSWER)})
    yield running
    stop_server(running)


def test_a_graph_whose_turtle_fits_the_byte_limit_is_sent_whole(small_answers: Server) -> None:
    query = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 800"
    answers = {
        accept: httpx.get(
            f"{small_answers.url}/sparql", params={"query": query}, headers={"Accept": accept}, timeout=30
        )
        for accept in ("text/turtle", "application/n-triples")
    }
    turtle, n_triples = answers["text/turtle"], answers["application/n-triples"]
    assert turtle.status_code == 200 and "X-SPARQL-Truncated" not in turtle.headers
    assert len(turtle.content) <= SMALL_ANSWER
    assert len(list(ox.parse(turtle.content, format=ox.RdfFormat.TURTLE))) == 800
    # The same 800 triples in N-Triples pass the limit: cut after the last triple that fits, and marked.
    assert n_triples.status_code == 200 and n_triples.headers["X-SPARQL-Truncated"] == "true"
    assert SMALL_ANSWER - 1000 < len(n_triples.content) <= SMALL_ANSWER
    assert 400 < len(list(ox.parse(n_triples.content, format=ox.RdfFormat.N_TRIPLES))) < 800


def test_rows_whose_csv_fits_the_byte_limit_are_sent_whole(small_answers: Server) -> None:
    # A date is 12 bytes a row in CSV (2016-12-01 CRLF), 55 in TSV (its datatype's IRI written out).
    query = 'SELECT ?d WHERE { ?s ?p ?o BIND("2016-12-01"^^<http://www.w3.org/2001/XMLSchema#date> AS ?d) } LIMIT 5000'
    response = httpx.get(
        f"{small_answers.url}/sparql", params={"query": query}, headers={"Accept": "text/csv"}, timeout=30
    )
    assert response.status_code == 200 and "X-SPARQL-Truncated" not in response.headers
    assert response.content == b"d\r\n" + b"2016-12-01\r\n" * 5000


def test_a_client_that_never_reads_its_answer_is_dropped(server: Server) -> None:
    query = AMPLIFIED.format(pad="x" * 2048, rows=9000)  # 12 MiB once cut: far more than the sockets' buffers hold
    request = f"GET /sparql?query={quote(query)} HTTP/1.1\r\nHost: x\r\nAccept: text/csv\r\n\r\n".encode()
    host, port = server.url.removeprefix("http://").split(":")
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connecting, so the window stays small
        sock.connect((host, int(port)))
        sock.sendall(request)
        time.sleep(SEND_TIMEOUT + 3)  # reading nothing
        assert health_time(server) < 1
        received = 0
        sock.settimeout(10)
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                received += len(chunk)
    assert received < 8 * 2**20  # the connection ended long before the 12 MiB answer did


@pytest.mark.parametrize("host", [b"a b", b"a/b", b"a\\b", b"[::1", b"x:port"])
def test_an_invalid_host_is_a_json_400(server: Server, host: bytes) -> None:
    for path in (b"/sparql", b"/sparql?query=ASK%7B%7D", b"/"):
        with connect(server) as sock:
            sock.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n")
            status, headers, body = response_of(sock)
        assert status == 400 and headers["content-type"] == "application/json", path
        assert "Host header" in json.loads(body)["error"]["message"]


def test_an_unknown_method_is_a_json_501_and_garbage_a_json_400(server: Server) -> None:
    for request, status, said in (
        (b"BREW /health HTTP/1.1\r\nHost: localhost\r\n\r\n", 501, "BREW is not implemented"),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400, "not valid HTTP/1.1"),  # TLS to a plain port
    ):
        with connect(server) as sock:
            sock.sendall(request)
            answered, headers, body = response_of(sock)
        assert answered == status and headers["content-type"] == "application/json"
        error = json.loads(body)["error"]
        assert error["status"] == status and said in error["message"]


def test_a_client_hanging_up_mid_body_is_no_server_error(server: Server) -> None:
    def server_errors() -> int:
        metrics = httpx.get(f"{server.url}/metrics", timeout=30).text
        return sum(
            int(float(line.rsplit(" ", 1)[1]))
            for line in metrics.splitlines()
            if line.startswith("smartcity_kg_http_requests_total") and 'status="5' in line
        )

    before = server_errors()
    for _ in range(3):
        with connect(server) as sock:
            sock.sendall(
                b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
                b"Content-Length: 100\r\n\r\nASK"
            )
            time.sleep(0.2)
    time.sleep(0.5)
    assert server_errors() == before
    assert health_time(server) < 1


def test_pathological_query_texts_in_parallel_leave_the_server_responsive(server: Server) -> None:
    texts = ["a." * 31_500, "a:" * 31_500, "'''\\'" * 12_600, "<a" * 31_500, "?a" * 31_500, "ex:a." * 12_600]

    def post(text: str) -> float:
        began = time.monotonic()
        response = httpx.post(
            f"{server.url}/sparql",
            content=text.encode(),
            headers={"Content-Type": "application/sparql-query"},
            timeout=60,
        )
        assert response.status_code in (400, 429), response.text  # refused, by the guard, the parser or the share
        return time.monotonic() - began

    with ThreadPoolExecutor(len(texts)) as pool:
        answering = [pool.submit(post, text) for text in texts]
        time.sleep(0.1)
        health = health_time(server)
        took = [future.result() for future in answering]
    assert health < 3  # a backtracking reader froze the server for tens of seconds
    assert max(took) < 5


@pytest.mark.parametrize("content_type", ["application/sparql-query", "application/x-www-form-urlencoded"])
def test_a_byte_order_mark_before_a_query_is_not_part_of_it(server: Server, content_type: str) -> None:
    query = "\ufeffASK { ?s ?p ?o }".encode()
    body = query if content_type == "application/sparql-query" else b"query=" + quote(query).encode()
    response = httpx.post(f"{server.url}/sparql", content=body, headers={"Content-Type": content_type}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["boolean"] is True


def test_a_client_sending_requests_without_reading_answers_is_cut_off(server: Server) -> None:
    # Pipelined requests were each parsed and queued, and reading went on after every answer: a client that only
    # sent made the server hold gigabytes of queued requests and keep others waiting.
    serving = psutil.Process(server.process.pid)
    before = serving.memory_info().rss
    burst = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n" * 10_000
    sent = 0
    with connect(server) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            while sent < 20 * 2**20:
                sock.sendall(burst)
                sent += len(burst)
    assert sent < 20 * 2**20, "the server read 20 MB of requests from a client that read none of the answers"
    assert serving.memory_info().rss - before < 100 * 2**20
    assert health_time(server) < 1
