"""The guard reads SERVICE wherever the engine does: generated spellings, run by the real engine with network.

Each generated query is given to the guard; every query it lets through is then evaluated by the engine with a
canary HTTP listener on loopback as the only possible SERVICE target, where a query worker would (the worker's
own evaluation, in a process that is not cut off from the network) and through the remote backend (a real
`oxigraph` server behind `smartcity-kg serve --sparql-endpoint`). No accepted query may reach the canary. The
same queries sent to the engine without the guard must reach it, or the generator would prove nothing.

Under CI the seed is fixed so that a run can be repeated exactly; elsewhere each run explores new spellings, and
SMARTCITY_KG_GUARD_FUZZ_EXAMPLES asks for more of them (and SMARTCITY_KG_GUARD_FUZZ_SEED for a given seed).
"""

from __future__ import annotations

import http.server
import os
import random
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from api.sparql.worker import answer
from graph.sparql_guard import QueryRefusedError, analyse_query
from tests.conftest import free_port, start_server, stop_server
from tests.test_remote_store import OXIGRAPH, OxigraphServer, _publish

SEED = int(
    os.environ.get("SMARTCITY_KG_GUARD_FUZZ_SEED")
    or (20261206 if os.environ.get("CI") else random.SystemRandom().randrange(2**32))
)
EXAMPLES = int(os.environ.get("SMARTCITY_KG_GUARD_FUZZ_EXAMPLES", "1000"))
REMOTE_EXAMPLES = 60  # each one is an HTTP round trip through two servers


class Canary:
    """An HTTP listener that answers every request with one empty solution and counts the requests."""

    def __init__(self) -> None:
        self.hits = 0
        canary = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self) -> None:
                canary.hits += 1
                body = b'{"head":{"vars":[]},"results":{"bindings":[{}]}}'
                self.send_response(200)
                self.send_header("Content-Type", "application/sparql-results+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self.answer()

            def do_POST(self) -> None:
                self.answer()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def canary() -> Iterator[Canary]:
    listener = Canary()
    yield listener
    listener.close()


KEYWORD_CASES = ("SERVICE", "service", "Service", "sErViCe")
SILENT = ("", " SILENT", "silent", " silent", "SILENT", "\tSilent")
BREAKS = ("", " ", "\n", "\t", "#c\n", "#c\r", "\r\n", "  #x SERVICE\n", "#>\n", "#>\r\n", "#>\n\n")
TARGETS = ("<{u}>", "ex:x", ":x", "ex:", ":", "<{u}x>")
# What may stand before the keyword in a group: the end of a triple pattern (every kind of term), a filter,
# a bind, a nested group; glued to the keyword or not.
BEFORE = (
    "",
    "?s ?p ?o .",
    "?s ?p ?o",
    "?s ?p true",
    "?s ?p 1",
    "?s ?p 1.",
    "?s ?p 1.5e0",
    '?s ?p "x"',
    '?s ?p "x"@en',
    "?s ?p 'x'",
    "?s ?p <http://x/o>",
    "?s ?p ex:o",
    "?s ?p _:b",
    "?s ?p []",
    "BIND(1 AS ?o)",
    "FILTER(?o<2)",
    "FILTER(1<2)",
    "{}",
    "OPTIONAL {}",
    "VALUES ?v {1}",
    "?s ?p ?o ;",
    "?s ?p (1)",
    "BIND(2 AS ?o) FILTER(?o>1)",
    "?s ?p false",
    # An operand end before a `<` glued to what follows: the `}` of EXISTS, the `>>` of a quoted triple.
    "FILTER(EXISTS{}<?a)",
    "FILTER(NOT EXISTS{?s ?p ?o}<?a)",
    "FILTER(!EXISTS{}<?a)",
    "FILTER(EXISTS{}\n<?a)",
    "OPTIONAL{FILTER(EXISTS{}<?a)",
    "FILTER(<<?s ?p ?o>><?a)",
    "FILTER(EXISTS{}<?a).",
)
# Spellings that try to make a reader think what follows is hidden in a string, a comment, an IRI or a name.
DECOYS = (
    "#",
    "'",
    '"',
    "'''",
    '"""',
    "<",
    "<<",
    ">",
    "\\",
    "\\'",
    '\\"',
    "\\#",
    "ex:a\\#",
    "ex:a\\'",
    "?a<",
    "FILTER(?o<1)",
    "FILTER(?o<",
    "FILTER(EXISTS{}<",
    "FILTER(NOT EXISTS{?s ?p ?o}<",
    "FILTER(!EXISTS{}<?a)",
    "FILTER(<<?s ?p ?o>><",
    "}<",
    ">><",
    "(",
    ")",
    "[",
    "]",
    "@en",
    "_:",
    "?",
    "$",
    ".",
    ";",
    ",",
    "\\u0022",
    "\\u0027",
    "\\u0023",
    "\\u003C",
    "\\u0053",
    "^^",
    "ex:a.",
    "1e",
    "a",
    "\r",
    "\n",
    "\u2028",
    "\u00a0",
)
NEUTRAL = (
    '"service"',
    "# SERVICE <{u}> {{}}\n",
    "<http://x/service>",
    "?service",
    "ex:service",
    "_:service",
    "'''SERVICE <{u}> {{}}'''",
    '"x"@service',
    "?s ?p ?o .",
    "FILTER(?s != <http://x/#service>)",
)


def _escaped(keyword: str, rng: random.Random) -> str:
    """The keyword with some letters written as \\u escapes (which a reader decoding escapes first would see)."""
    return "".join(f"\\u{ord(c):04X}" if rng.random() < 0.3 else c for c in keyword)


def spelling(rng: random.Random, url: str) -> str:
    """A query with SERVICE spelled some way, perhaps amid decoys."""
    keyword = rng.choice(KEYWORD_CASES)
    if rng.random() < 0.1:
        keyword = _escaped(keyword, rng)
    service = (
        keyword
        + rng.choice(SILENT)
        + rng.choice(BREAKS)
        + rng.choice(TARGETS)
        + rng.choice(BREAKS)
        + "{"
        + rng.choice(("", " ", "?s ?p ?o"))
        + "}"
    )
    parts = [rng.choice(BEFORE) + rng.choice(("", "", " ", "\n"))]
    for _ in range(rng.randrange(3)):
        parts.insert(rng.randrange(len(parts) + 1), rng.choice(DECOYS + NEUTRAL))
    parts.append(service)
    for _ in range(rng.randrange(3)):
        parts.append(rng.choice(("", " ")) + rng.choice(DECOYS + NEUTRAL))
    body = "".join(parts).replace("{u}", url).replace("{{}}", "{}")
    prologue = f"PREFIX ex: <{url}>\nPREFIX : <{url}>\n"
    return prologue + f"SELECT * WHERE {{ {body} }}" if rng.random() < 0.8 else prologue + f"ASK {{ {body} }}"


def spellings(count: int, url: str) -> list[str]:
    rng = random.Random(SEED)
    return [spelling(rng, url) for _ in range(count)]


def _accepted(query: str) -> bool:
    try:
        analyse_query(query, 64, "http://127.0.0.1/sparql")
    except QueryRefusedError:
        return False
    return True


def _evaluate(store: ox.Store, query: str) -> None:
    """The query as a query worker evaluates it (worker.answer: the function the worker process runs)."""
    answer(lambda: store, (query, "http://127.0.0.1/sparql", None, None, True, "json", "ttl", 100, 2**20), {})


def test_no_accepted_spelling_reaches_the_canary(canary: Canary) -> None:
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("http://x/s"), ox.NamedNode("http://x/p"), ox.NamedNode("http://x/o")))
    reached_unguarded = accepted = 0
    for query in spellings(EXAMPLES, canary.url):
        before = canary.hits
        _evaluate(store, query)
        reached = canary.hits > before
        reached_unguarded += reached
        if _accepted(query):
            accepted += 1
            assert not reached, f"seed {SEED}: the guard accepted a query that reached the canary:\n{query!r}"
    # The generator must produce real SERVICE spellings and harmless texts alike, or the test proves nothing.
    assert reached_unguarded >= EXAMPLES // 40, f"seed {SEED}: only {reached_unguarded} queries reached the canary"
    assert accepted >= EXAMPLES // 50, f"seed {SEED}: only {accepted} queries were accepted"


FIXED = [
    "PREFIX ex: <{u}> SELECT * {{ SERVICEex:x {{}} }}",
    "PREFIX ex: <{u}> SELECT * {{ SERVICEsilent ex:x {{}} }}",
    "PREFIX : <{u}> SELECT * {{ SERVICE:x{{}} }}",
    "SELECT * {{ ?s ?p trueSERVICE <{u}> {{}} }}",
    "SELECT * {{ ?s ?p 1.SERVICE <{u}> {{}} }}",
    "SELECT * {{ #x\rSERVICE <{u}> {{}} }}",
    "SELECT * {{ BIND(1 AS ?o) FILTER(?o<2)SERVICE#>\n<{u}>{{}} }}",
    "PREFIX : <{u}>\nSELECT * WHERE {{ FILTER(EXISTS{{}}<?a)SERVICE:rem1#>\n{{}} }}",
    "PREFIX : <{u}>\nSELECT * WHERE {{ FILTER(NOT EXISTS{{?s ?p ?o}}<?a)SERVICE:rem1#>\n{{}} }}",
    "PREFIX : <{u}>\nSELECT * WHERE {{ FILTER(!EXISTS{{}}<?a)SERVICE:rem1#>\n{{}} }}",
    "PREFIX : <{u}>\nSELECT * WHERE {{ OPTIONAL {{ FILTER(EXISTS{{}}<?a)SERVICE:rem1#>\n{{}} }} }}",
    "PREFIX : <{u}>\nSELECT * WHERE {{ FILTER(EXISTS{{}}<?a).SERVICE:rem1#>\n{{}} }}",
    "PREFIX : <{u}>\nASK {{ FILTER(EXISTS{{}}<?a)SERVICE:rem1#>\n{{}} }}",
    "PREFIX : <{u}>\nCONSTRUCT {{}} WHERE {{ FILTER(EXISTS{{}}<?a)SERVICE:rem1#>\n{{}} }}",
    "PREFIX : <{u}>\nDESCRIBE ?a WHERE {{ FILTER(EXISTS{{}}<?a)SERVICE:rem1#>\n{{}} }}",
]


@pytest.mark.parametrize("template", FIXED)
def test_spellings_the_engine_reads_as_service_are_refused(canary: Canary, template: str) -> None:
    query = template.format(u=canary.url)
    before = canary.hits
    _evaluate(ox.Store(), query)
    assert canary.hits > before, "the engine no longer reads this as SERVICE: the example proves nothing"
    assert not _accepted(query)


@pytest.mark.slow
@pytest.mark.skipif(OXIGRAPH is None, reason="the `oxigraph` server (PyPI: oxigraph) is not installed")
def test_no_accepted_spelling_reaches_the_canary_through_the_remote_backend(canary: Canary, tmp_path: Path) -> None:
    remote = OxigraphServer(tmp_path / "oxigraph", free_port())
    remote.start()
    try:
        _publish(remote)
        server = start_server(
            tmp_path / "unused", env={"SMARTCITY_KG_SPARQL_ENDPOINT": f"http://127.0.0.1:{remote.port}/query"}
        )
    except BaseException:
        remote.stop()
        raise
    try:
        queries = spellings(REMOTE_EXAMPLES, canary.url) + [template.format(u=canary.url) for template in FIXED]
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for query in queries:
                before = canary.hits
                response = client.post(
                    "/sparql", content=query.encode(), headers={"Content-Type": "application/sparql-query"}
                )
                assert canary.hits == before, f"seed {SEED}: reached the canary ({response.status_code}):\n{query!r}"
                assert response.status_code != 500, response.text
                if response.status_code == 400:
                    assert "error" in response.json()
        # The remote server does fetch: the same query sent to it directly reaches the canary.
        before = canary.hits
        httpx.post(
            f"http://127.0.0.1:{remote.port}/query",
            content=FIXED[0].format(u=canary.url).encode(),
            headers={"Content-Type": "application/sparql-query"},
            timeout=30,
        )
        assert canary.hits > before
    finally:
        stop_server(server)
        remote.stop()
