"""Remote mode against a server that misbehaves: a real Oxigraph server behind a proxy on loopback that, when
told to, redirects, answers another media type, cuts or drips its answer, puts secrets in its errors, goes away,
or asks for credentials. Whatever it does, clients get a well-formed answer or a clear error, in bounded time."""

from __future__ import annotations

import base64
import functools
import threading
import time
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from graph.remote import Credentials, RemoteEndpoints, RemoteStore
from tests.conftest import Server, free_port, start_server, stop_server
from tests.test_remote_store import NS, OxigraphServer, _publish

pytestmark = pytest.mark.slow

SECRET = "SECRET-TOKEN-42 in /srv/backend/conf"
SELECT_ALL = "SELECT * WHERE { ?s ?p ?o }"
# The service's own bookkeeping queries (its manifest, its row-cap probe) are answered faithfully, unless the
# server is gone altogether.
# Faults answered with a fixed status and text.
FIXED = {
    "text": (200, b"this is not a SPARQL result"),
    "secret": (500, f"internal error: {SECRET}".encode()),
    "refused": (400, f"cannot parse: {SECRET}".encode()),
    # Virtuoso's refusal of a query it estimates too costly
    "estimated": (500, b"Virtuoso 42000 Error SQ200: The estimated execution time 1417 (sec) exceeds the limit of 600"),
}
BOOKKEEPING = ("http://schema.org/size", "?none", "sparql-service-description#name", "GROUP BY ?graph")


class Proxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, upstream: str) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.upstream = upstream
        self.fault: str | None = None
        self.target = ""  # only queries containing this text get the fault
        self.times = 10**9  # how many answers get it
        self.credentials: str | None = None  # "user:password" that Basic authentication must carry
        self.authorizations: list[str] = []
        self.protected = ""  # the path that asks for credentials ("": every path)
        self.authorized: dict[str, set[str]] = {}  # path → the Authorization headers it received
        self.encodings: list[str] = []  # the Accept-Encoding of each request
        self.queries: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def misbehave(self, fault: str | None, target: str = "", times: int = 10**9) -> None:
        self.fault, self.target, self.times = fault, target, times

    def applies(self, query: str) -> bool:
        if self.fault is None or self.times <= 0:
            return False
        if self.fault != "gone" and any(text in query for text in BOOKKEEPING):
            return False
        if self.target not in query:
            return False
        self.times -= 1
        return True


class _Handler(BaseHTTPRequestHandler):
    server: Proxy

    def log_message(self, *_: object) -> None:
        return None

    def do_POST(self) -> None:  # noqa: PLR0912 - one branch per kind of fault the proxy plays
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.authorizations.append(self.headers.get("Authorization", ""))
        self.server.encodings.append(self.headers.get("Accept-Encoding", ""))
        self.server.authorized.setdefault(self.path, set()).add(self.headers.get("Authorization", ""))
        wanted = self.server.credentials
        if (
            wanted is not None
            and self.path.startswith(self.server.protected)
            and self.headers.get("Authorization") != "Basic " + base64.b64encode(wanted.encode()).decode()
        ):
            self._send(401, b"", "text/plain", {"WWW-Authenticate": 'Basic realm="sparql"'})
            return
        query = " ".join(parse_qs(body.decode()).get("query", []))
        self.server.queries.append(query)
        fault = self.server.fault if self.server.applies(query) else None
        if fault == "gone":
            self.connection.close()
            return
        upstream = httpx.post(
            self.server.upstream + self.path,
            content=body,
            timeout=60,
            headers={name: self.headers[name] for name in ("Content-Type", "Accept")},
        )
        kind = upstream.headers.get("content-type", "")
        if fault in FIXED:
            self._send(*FIXED[fault], "text/plain")
        elif fault == "redirect":
            self._send(302, b"", "text/html", {"Location": "http://127.0.0.1:9/elsewhere"})
        elif fault == "truncated":
            self._send(200, upstream.content[: len(upstream.content) // 2], kind)
        elif fault == "spliced":  # a failure mid-answer, as a server streaming its results reports one
            cut = upstream.content[: len(upstream.content) // 2]
            self._send(200, cut + f"\ninternal error at http://10.0.0.7:7878/store: {SECRET}".encode(), kind)
        elif fault == "secret":
            self._send(500, f"internal error: {SECRET}".encode(), "text/plain")
        elif fault == "refused":
            self._send(400, f"cannot parse: {SECRET}".encode(), "text/plain")
        elif fault == "gzip-bomb":
            self._send(200, gzip_bomb(), kind, {"Content-Encoding": "gzip"})
        elif fault == "drip":
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(upstream.content)))
            self.end_headers()
            try:
                for byte in upstream.content:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.5)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up at its deadline, as it should
                return
        else:
            self._send(upstream.status_code, upstream.content, kind)

    def _send(self, status: int, body: bytes, kind: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in {"Content-Type": kind, "Content-Length": str(len(body)), **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


@functools.cache
def gzip_bomb() -> bytes:
    """400 MB of spaces, gzip-compressed (to some 400 kB)."""
    packer = zlib.compressobj(9, wbits=31)
    spaces = b" " * 2**20
    return b"".join(packer.compress(spaces) for _ in range(400)) + packer.flush()


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[Proxy]:
    backend = OxigraphServer(tmp_path / "oxigraph", free_port())
    backend.start()
    _publish(backend)
    server = Proxy(free_port(), f"http://127.0.0.1:{backend.port}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    backend.stop()


def serve(proxy: Proxy, tmp_path: Path, **settings: str) -> Server:
    env = {"SMARTCITY_KG_SPARQL_ENDPOINT": f"{proxy.url}/query"}
    env.update({f"SMARTCITY_KG_{name.upper()}": value for name, value in settings.items()})
    return start_server(tmp_path / "unused-store", env=env)


def server_log(server: Server) -> str:
    stop_server_keep = server.process
    stop_server_keep.terminate()
    _, stderr = stop_server_keep.communicate(timeout=10)
    return stderr.decode(errors="replace")


PATHS = {
    "sparql": f"/sparql?query={SELECT_ALL.replace(' ', '%20')}",
    "api": "/api/v1/company/acme",
    "doc": "/doc/company/acme.ttl",
    "search": "/api/v1/search?q=acme",
}


@pytest.mark.parametrize("fault", ["redirect", "text", "truncated", "spliced"])
def test_an_unusable_answer_is_a_502_everywhere_with_the_details_only_in_the_log(
    proxy: Proxy, tmp_path: Path, fault: str
) -> None:
    server = serve(proxy, tmp_path)
    try:
        proxy.misbehave(fault)
        with server.client() as client:
            for name, path in PATHS.items():
                response = client.get(path)
                assert response.status_code == 502, (name, response.status_code, response.text)
                assert response.headers["content-type"] == "application/json", name
                assert "cannot be used" in response.json()["error"]["message"], name
                assert "Traceback" not in response.text and proxy.url not in response.text, name
                assert SECRET not in response.text and "10.0.0.7" not in response.text, name
            assert client.get("/health").status_code == 200  # the manifest still answers: the server is there
            proxy.misbehave(None)
            for name, path in PATHS.items():
                assert client.get(path).status_code == 200, name
    finally:
        log = server_log(server)
    assert "query" in log and ("302" in log or "text/plain" in log or "malformed" in log)


@pytest.mark.parametrize(("fault", "status"), [("secret", 503), ("refused", 400)])
def test_a_server_error_body_never_reaches_a_client(proxy: Proxy, tmp_path: Path, fault: str, status: int) -> None:
    server = serve(proxy, tmp_path)
    try:
        proxy.misbehave(fault)
        with server.client() as client:
            response = client.get(PATHS["sparql"])
            assert response.status_code == status, response.text
            assert "SECRET" not in response.text and "/srv/" not in response.text
            # The service's own queries: a server error is the server away (503), a refusal its dialect (502).
            for path in (PATHS["api"], PATHS["doc"]):
                other = client.get(path)
                assert other.status_code == (503 if fault == "secret" else 502), (path, other.text)
                assert "SECRET" not in other.text, path
    finally:
        log = server_log(server)
    assert "SECRET-TOKEN-42" in log  # for the operator, in the service's log


def test_a_server_dripping_its_answer_is_cut_at_the_time_limit(proxy: Proxy, tmp_path: Path) -> None:
    server = serve(proxy, tmp_path, query_timeout="2")
    try:
        proxy.misbehave("drip")
        with server.client() as client:
            for path in (PATHS["sparql"], PATHS["api"]):
                began = time.monotonic()
                response = client.get(path)
                took = time.monotonic() - began
                assert response.status_code == 503, (path, response.text)
                assert took < 3.5, (path, took)
            assert "time limit of 2 s" in client.get(PATHS["sparql"]).json()["error"]["message"]
    finally:
        stop_server(server)


def test_one_bad_answer_while_the_label_index_is_built_does_not_poison_it(proxy: Proxy, tmp_path: Path) -> None:
    server = serve(proxy, tmp_path)
    try:
        proxy.misbehave("truncated", target="altLabel", times=1)  # the label index's query, once
        with server.client() as client:
            assert client.get(PATHS["search"]).status_code == 502
            found = client.get(PATHS["search"])
            assert found.status_code == 200 and found.json()["items"][0]["key"] == "acme"
    finally:
        stop_server(server)


def test_the_query_limits_apply_in_remote_mode(proxy: Proxy, tmp_path: Path) -> None:
    server = serve(
        proxy,
        tmp_path,
        max_rows="5",
        query_workers="1",
        max_pending_queries="0",
        query_timeout="2",
        client_query_seconds="3",
    )
    try:
        with server.client() as client:
            rows = client.get("/sparql", params={"query": SELECT_ALL}, headers={"Accept": "text/csv"})
            assert rows.status_code == 200 and rows.headers["X-SPARQL-Truncated"] == "true"
            assert rows.headers["X-SPARQL-Max-Rows"] == "5" and len(rows.text.strip().splitlines()) == 6
            proxy.misbehave("drip", target="# slow")
            slow = threading.Thread(
                target=client.get, args=("/sparql",), kwargs={"params": {"query": f"{SELECT_ALL} # slow"}}
            )
            slow.start()
            time.sleep(0.5)  # the only query slot is taken, and no query may wait
            busy = client.get("/sparql", params={"query": f"{SELECT_ALL} # other"})
            assert busy.status_code == 503 and "busy" in busy.json()["error"]["message"]
            slow.join()
            client.get("/sparql", params={"query": f"{SELECT_ALL} # slow again"})  # 2 more seconds: 4 of 3
            refused = client.get("/sparql", params={"query": f"{SELECT_ALL} # cheap"})
            assert refused.status_code == 429 and "share of query time" in refused.json()["error"]["message"]
    finally:
        stop_server(server)


def test_health_follows_the_server_at_once_and_recovers(proxy: Proxy, tmp_path: Path) -> None:
    server = serve(proxy, tmp_path)
    try:
        with server.client() as client:
            assert client.get("/health").status_code == 200
            proxy.misbehave("gone")  # no sleep: /health asks the server itself, it trusts no earlier answer
            down = client.get("/health")
            assert down.status_code == 503 and proxy.url not in down.text
            proxy.misbehave(None)
            assert client.get("/health").status_code == 200
    finally:
        stop_server(server)


def test_credentials_are_sent_as_the_server_asks_and_never_shown(proxy: Proxy, tmp_path: Path) -> None:
    proxy.credentials = "reader:s3cret-Pw"
    wrong = serve(proxy, tmp_path, remote_user="reader", remote_password="not-it")
    try:
        with wrong.client() as client:
            refused = client.get("/health")
            assert refused.status_code == 503 and "credentials" in refused.json()["detail"]
            assert "not-it" not in refused.text
    finally:
        assert "not-it" not in server_log(wrong)
    right = serve(proxy, tmp_path, remote_user="reader", remote_password="s3cret-Pw")
    try:
        with right.client() as client:
            health = client.get("/health")
            assert health.status_code == 200, health.text
            assert client.get(PATHS["api"]).json()["label"] == "ACME"
    finally:
        assert "s3cret-Pw" not in server_log(right)
    assert proxy.authorizations[-1].startswith("Basic ")


def test_an_answer_over_the_byte_limit_is_cut_at_a_row_as_on_the_embedded_store(proxy: Proxy, tmp_path: Path) -> None:
    server = serve(proxy, tmp_path, max_answer_bytes=str(2**16))
    wide = 'SELECT (CONCAT(STR(?s), "' + "x" * 1000 + '") AS ?x) WHERE { ?s ?p ?o }'
    try:
        with server.client() as client:
            response = client.get("/sparql", params={"query": wide})
    finally:
        stop_server(server)
    assert response.status_code == 200 and response.headers["X-SPARQL-Truncated"] == "true"
    assert response.headers["X-SPARQL-Max-Bytes"] == str(2**16) and len(response.content) <= 2**16
    assert len(response.json()["results"]["bindings"]) > 10


def test_a_compressed_answer_is_refused_and_never_decompressed(proxy: Proxy, tmp_path: Path) -> None:
    gzip_bomb()  # made before the clock starts
    server = serve(proxy, tmp_path, query_timeout="5")
    try:
        proxy.misbehave("gzip-bomb")
        with server.client() as client:
            answers: dict[str, tuple[int, float]] = {}

            def ask(name: str) -> None:
                began = time.monotonic()
                with server.client() as own:
                    answers[name] = (own.get(PATHS[name], timeout=30).status_code, time.monotonic() - began)

            asking = [threading.Thread(target=ask, args=(name,)) for name in ("sparql", "api")]
            for thread in asking:
                thread.start()
            began = time.monotonic()
            health = client.get("/health", timeout=30)
            assert health.status_code == 200 and time.monotonic() - began < 2  # the service stays responsive
            for thread in asking:
                thread.join()
            for name, (status, took) in answers.items():
                assert status == 502 and took < 3, (name, status, took)
            proxy.misbehave(None)
            assert client.get(PATHS["sparql"]).status_code == 200
    finally:
        log = server_log(server)
    assert "gzip encoding" in log
    assert set(proxy.encodings) == {"identity"}  # the server is asked for the bytes as they are


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ('SELECT (bif:http_get("http://127.0.0.1:9/x") AS ?x) WHERE {}', "syntax error"),
        ('PREFIX bif: <bif:> SELECT (bif:http_get("http://127.0.0.1:9/x") AS ?x) WHERE {}', "<bif:http_get>"),
        ('SELECT (<bif:sys_stat>("st_dbms_name") AS ?x) WHERE {}', "<bif:sys_stat>"),
        ('PREFIX b: <bif:> ASK { FILTER(b:exec("ls") = 1) }', "<bif:exec>"),
        ("SELECT (<sql:sys_users>() AS ?x) WHERE {}", "<sql:sys_users>"),
        ("SELECT (<http://example.org/own#fn>(1) AS ?x) WHERE {}", "<http://example.org/own#fn>"),
        ("DEFINE input:default-graph-uri <http://www.openlinksw.com/schemas/virtrdf#> SELECT * { ?s ?p ?o }", "DEFINE"),
        ("define sql:signal-void-variables 0 SELECT * { ?s ?p ?o }", "DEFINE"),
    ],
)
def test_a_server_extension_is_refused_before_it_reaches_the_server(
    proxy: Proxy, tmp_path: Path, query: str, named: str
) -> None:
    server = serve(proxy, tmp_path)
    try:
        with server.client() as client:
            response = client.get("/sparql", params={"query": query})
            assert response.status_code == 400, response.text
            assert named in response.json()["error"]["message"]
            cast = 'PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> ASK { FILTER(xsd:integer("1") = 1) }'
            standard = client.get("/sparql", params={"query": cast})
            assert standard.status_code == 200 and standard.json()["boolean"] is True
    finally:
        stop_server(server)
    assert not any(
        "bif:" in sent or "sql:" in sent or "DEFINE" in sent.upper() or "own#fn" in sent for sent in proxy.queries
    )


def test_a_query_the_server_refuses_is_reported_as_refused_not_as_unreachable(proxy: Proxy, tmp_path: Path) -> None:
    server = serve(proxy, tmp_path)
    try:
        proxy.misbehave("estimated", target="# costly")
        with server.client() as client:
            response = client.get("/sparql", params={"query": f"{SELECT_ALL} # costly"})
            assert response.status_code == 503 and "Retry-After" not in response.headers, response.text
            message = response.json()["error"]["message"]
            assert "refused to evaluate the query" in message and "cannot be reached" not in message
            assert "estimated" not in response.text  # the server's words stay in the log
            assert client.get("/health").status_code == 200
    finally:
        log = server_log(server)
    assert "estimated execution time" in log


def test_credentials_go_only_to_the_endpoint_that_asked_for_them(proxy: Proxy) -> None:
    proxy.credentials, proxy.protected = "writer:s3cret-Pw", "/update"
    endpoints = RemoteEndpoints(
        f"{proxy.url}/query", f"{proxy.url}/update", credentials=Credentials("writer", "s3cret-Pw")
    )
    with RemoteStore(endpoints, NS) as store:
        store.check()
        store.connection.send("POST", f"{proxy.url}/update", b"INSERT DATA {}", "application/sparql-update")
        store.connection.send("POST", f"{proxy.url}/update", b"INSERT DATA {}", "application/sparql-update")
        store.check()  # after the challenge of /update: still nothing sent to /query
    assert proxy.authorized["/query"] == {""}
    assert "Basic " + base64.b64encode(b"writer:s3cret-Pw").decode() in proxy.authorized["/update"]


def test_a_lookup_is_answered_by_the_server_not_in_this_process(proxy: Proxy, tmp_path: Path) -> None:
    """A lookup, evaluated in the service's process over the embedded store, goes to the server in remote mode."""
    lookup = f"SELECT ?p ?o WHERE {{ <{NS}id/company/acme> ?p ?o }}"
    server = serve(proxy, tmp_path)
    try:
        with server.client() as client:
            answered = client.get("/sparql", params={"query": lookup})
            metrics = client.get("/metrics").text
    finally:
        stop_server(server)
    assert answered.status_code == 200, answered.text
    assert answered.json()["results"]["bindings"]
    assert any(f"<{NS}id/company/acme>" in sent for sent in proxy.queries)
    assert 'smartcity_kg_events_total{event="query_in_process"} 0' in metrics
