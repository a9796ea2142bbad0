"""The remote backend against a real Oxigraph server: load by Graph Store Protocol, query by SPARQL Protocol."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from api.cli import main as serve_main
from api.http.cache import BuildCache
from api.linked_data.describe import Describing, describe
from api.rest.lookup import CLASSES, VocabularyLabels, find_thing
from graph.cli import main
from graph.iris import Minter
from graph.pipeline import load_ontology
from graph.pipeline.build import build_triples
from graph.pipeline.load import load_records
from graph.pipeline.publish import publish_store
from graph.published import Manifest, StoreUnavailableError
from graph.remote import AnswerTooLargeError, Received, RemoteEndpoints, RemoteStore, bind_values, publish_remote
from graph.store import open_embedded
from tests.conftest import free_port, rdflib_nquads, start_server, stop_server

MINI = Path(__file__).parent / "fixtures" / "mini"
NS = "https://w3id.org/smartcity-kg/"
# The server comes with the dev extras, installed beside this Python.
OXIGRAPH = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which("oxigraph")
pytestmark = pytest.mark.skipif(OXIGRAPH is None, reason="the `oxigraph` server (PyPI: oxigraph) is not installed")


@dataclass
class OxigraphServer:
    location: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoints(self) -> RemoteEndpoints:
        base = f"http://127.0.0.1:{self.port}"
        return RemoteEndpoints(query=f"{base}/query", update=f"{base}/update", graph_store=f"{base}/store")

    def start(self) -> None:
        assert OXIGRAPH is not None
        command = [OXIGRAPH, "serve", "--location", str(self.location), "--bind", f"127.0.0.1:{self.port}"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/query", params={"query": "ASK {}"}, timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("oxigraph did not start")

    def stop(self) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def oxigraph(tmp_path: Path) -> Iterator[OxigraphServer]:
    server = OxigraphServer(tmp_path / "oxigraph", free_port())
    server.start()
    yield server
    if server.process is not None and server.process.poll() is None:
        server.stop()


def _mini() -> bytes:
    mint = Minter(NS)
    return rdflib_nquads(
        {str(mint.graph("data")): build_triples(load_records(MINI), NS), str(mint.graph("ontology")): load_ontology()}
    )


def _publish(server: OxigraphServer, build_id: str = "test-build") -> Manifest:
    nquads = _mini()
    manifest = Manifest(build_id, nquads.count(b"\n"), "2017-06-12T00:00:00+00:00", NS, "0.1.0", 2)
    publish_remote(nquads, manifest, server.endpoints, NS)
    return manifest


def test_load_then_query_through_the_protocols(oxigraph: OxigraphServer) -> None:
    manifest = _publish(oxigraph)
    with RemoteStore(oxigraph.endpoints, NS) as store:
        assert store.manifest == manifest
        assert len(store) == manifest.triples
        outcome = store.select(
            "SELECT ?label WHERE { ?m <http://www.w3.org/ns/org#member>/"
            "<http://www.w3.org/2000/01/rdf-schema#label> ?label } ORDER BY ?label"
        )
        assert isinstance(outcome, ox.QuerySolutions)
        labels = [row["label"].value for row in outcome]
    assert labels == ["ACME", "Betadorf", "Stadt Alphastadt"]


def test_values_are_bound_like_the_embedded_store(oxigraph: OxigraphServer) -> None:
    _publish(oxigraph)
    acme = ox.NamedNode(f"{NS}id/company/acme")
    with RemoteStore(oxigraph.endpoints, NS) as store:
        query = "SELECT ?thing ?label WHERE { ?thing <http://www.w3.org/2000/01/rdf-schema#label> ?label }"
        outcome = store.select(query, substitutions={"thing": acme})
        assert isinstance(outcome, ox.QuerySolutions)
        assert [row["label"].value for row in outcome] == ["ACME"]
        construct = store.construct("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", substitutions={"s": acme})
    assert isinstance(construct, ox.QueryTriples)
    triples = list(construct)
    assert triples and all(t.subject == acme for t in triples)


def test_things_are_described_and_looked_up_as_on_the_embedded_store(oxigraph: OxigraphServer, tmp_path: Path) -> None:
    """/doc and /api/v1 read a thing with plain SPARQL 1.1, so another server's answers make the same thing."""
    manifest = _publish(oxigraph)
    publish_store(_mini(), tmp_path / "store", namespace=NS, modified=manifest.modified, data_files=2)
    embedded = open_embedded(tmp_path / "store")
    things = embedded.query(
        f"SELECT DISTINCT ?s WHERE {{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), '{NS}id/') && !CONTAINS(STR(?s), '#')) }}"
    )
    assert isinstance(things, ox.QuerySolutions)
    iris = sorted(row["s"].value for row in things)
    # Each store with caches of its own, as each app has.
    caches = {side: Describing(BuildCache(2**20), BuildCache(2**20)) for side in ("here", "there")}
    labels: dict[str, VocabularyLabels] = {side: BuildCache(2**20) for side in ("here", "there")}
    with RemoteStore(oxigraph.endpoints, NS) as remote:
        for iri in iris:
            here, there = describe(embedded, iri, caches["here"]), describe(remote, iri, caches["there"])
            assert here is not None and there is not None and here.triples == there.triples, iri
            kind, key = iri.removeprefix(f"{NS}id/").split("/")
            if kind in CLASSES:
                found = find_thing(remote, kind, key, labels["there"])
                assert found is not None and found == find_thing(embedded, kind, key, labels["here"]), iri
    assert {iri.removeprefix(f"{NS}id/").split("/")[0] for iri in iris} >= {"alliance", "company", "membership"}


def test_a_new_build_replaces_the_old_one_and_staging_graphs_are_gone(oxigraph: OxigraphServer) -> None:
    _publish(oxigraph, "first")
    second = _publish(oxigraph, "second")
    with RemoteStore(oxigraph.endpoints, NS) as store:
        assert store.manifest.build_id == "second" and len(store) == second.triples
    names = httpx.post(
        oxigraph.endpoints.query,
        data={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g {} }"},
        headers={"Accept": "text/csv"},
    ).text.split()[1:]
    assert sorted(names) == sorted(f"{NS}graph/{n}" for n in ("data", "ontology", "meta"))


def test_server_down_is_unavailable_and_recovers(oxigraph: OxigraphServer) -> None:
    _publish(oxigraph)
    with RemoteStore(oxigraph.endpoints, NS) as store:
        oxigraph.stop()
        with pytest.raises(StoreUnavailableError, match="cannot be reached"):
            store.ask("ASK {}")
        oxigraph.start()
        assert len(store) > 0


def test_a_query_of_another_form_than_asked_for_is_refused_before_it_is_sent(oxigraph: OxigraphServer) -> None:
    _publish(oxigraph)
    with RemoteStore(oxigraph.endpoints, NS) as store:
        assert store.ask("ASK { ?s ?p ?o }") is True
        with pytest.raises(TypeError, match=r"gives a truth value \(ASK\), not rows \(SELECT\)"):
            store.select("ASK { ?s ?p ?o }")
        with pytest.raises(TypeError, match=r"gives rows \(SELECT\)"):
            store.construct("SELECT * WHERE { ?s ?p ?o }")


def test_a_bad_query_is_a_syntax_error(oxigraph: OxigraphServer) -> None:
    _publish(oxigraph)
    with RemoteStore(oxigraph.endpoints, NS) as store, pytest.raises(SyntaxError):
        store.select("SELECT * WHERE {")


def test_an_answer_over_the_byte_limit_is_refused_once_read_that_far(oxigraph: OxigraphServer) -> None:
    _publish(oxigraph)
    query = 'SELECT (REPLACE(STR(?s), "^", "' + "x" * 1000 + '") AS ?x) WHERE { ?s ?p ?o . ?a ?b ?c } LIMIT 5000'

    def rows(received: Received) -> int:
        assert isinstance(received, ox.QuerySolutions)
        return sum(1 for _ in received)

    with RemoteStore(oxigraph.endpoints, NS) as store:

        def ask(max_bytes: int) -> int:
            return store.evaluate(
                query,
                graph=False,
                default_graph=store.graphs,
                named_graphs=store.graphs,
                deadline=time.monotonic() + 30,
                read=rows,
                max_bytes=max_bytes,
            )

        assert ask(10 * 2**20) == 5000
        with pytest.raises(AnswerTooLargeError, match="max_answer_bytes"):
            ask(2**20)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELECT * WHERE { ?s ?p ?o }", "SELECT * WHERE { VALUES (?s) { (<urn:x>) }  ?s ?p ?o }"),
        ("SELECT * WHERE { ?s <urn:a{b> '{' }", "SELECT * WHERE { VALUES (?s) { (<urn:x>) }  ?s <urn:a{b> '{' }"),
        ("# {\nASK { ?s ?p ?o }", "# {\nASK { VALUES (?s) { (<urn:x>) }  ?s ?p ?o }"),
        (
            "CONSTRUCT { ?s ?p ?o } where { ?s ?p ?o }",
            "CONSTRUCT { ?s ?p ?o } where { VALUES (?s) { (<urn:x>) }  ?s ?p ?o }",
        ),
        ('SELECT ("WHERE {" AS ?x) { ?s ?p ?o }', 'SELECT ("WHERE {" AS ?x) { VALUES (?s) { (<urn:x>) }  ?s ?p ?o }'),
        # A variable named like the keyword is a variable: the group is the query's, not the VALUES block's.
        (
            "SELECT * { ?s ?p ?where } VALUES ?where { 1 }",
            "SELECT * { VALUES (?s) { (<urn:x>) }  ?s ?p ?where } VALUES ?where { 1 }",
        ),
    ],
)
def test_bind_values_opens_the_first_group(query: str, expected: str) -> None:
    assert bind_values(query, {"s": ox.NamedNode("urn:x")}) == expected


def test_build_command_publishes_onto_the_remote_server(
    oxigraph: OxigraphServer, capsys: pytest.CaptureFixture[str]
) -> None:
    endpoints = oxigraph.endpoints
    assert main(["build", "--data", str(MINI), "--sparql-endpoint", endpoints.query]) == 2
    assert "--graph-store" in capsys.readouterr().err
    assert (
        main(
            [
                "build",
                "--data",
                str(MINI),
                "--sparql-endpoint",
                endpoints.query,
                "--graph-store",
                str(endpoints.graph_store),
                "--update-endpoint",
                str(endpoints.update),
            ]
        )
        == 0
    )
    with RemoteStore(endpoints, NS) as store:
        assert store.manifest.triples == len(store) > 0


def test_service_on_a_remote_store_answers_fails_over_and_recovers(oxigraph: OxigraphServer, tmp_path: Path) -> None:
    endpoints = oxigraph.endpoints
    manifest = _publish(oxigraph)
    server = start_server(
        tmp_path / "unused-store",
        env={
            "SMARTCITY_KG_SPARQL_ENDPOINT": endpoints.query,
            "SMARTCITY_KG_GRAPH_STORE": str(endpoints.graph_store),
            "SMARTCITY_KG_UPDATE_ENDPOINT": str(endpoints.update),
        },
    )
    try:
        with server.client() as client:
            health = client.get("/health")
            assert health.status_code == 200 and health.json()["triples"] == manifest.triples
            assert health.json()["store"] == "remote"
            members = client.get(
                "/sparql",
                params={
                    "query": (
                        "SELECT ?label WHERE { ?m <http://www.w3.org/ns/org#member>/<http://www.w3.org/2000/01/rdf-schema#"
                        "label> ?label } ORDER BY ?label"
                    )
                },
                headers={"Accept": "text/csv"},
            )
            assert members.status_code == 200
            assert members.text.split() == ["label", "ACME", "Betadorf", "Stadt", "Alphastadt"]
            assert (
                client.get(
                    "/sparql", params={"query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"}
                ).status_code
                == 400
            )
            doc = client.get("/doc/company/acme.ttl")
            assert doc.status_code == 200 and "ACME" in doc.text
            assert client.get("/api/v1/company/acme").json()["label"] == "ACME"
            assert client.get("/dumps/graph.ttl").status_code == 404

            oxigraph.stop()
            time.sleep(5.5)  # past the manifest's short cache
            down = client.get("/health")
            assert down.status_code == 503 and "cannot be reached" in down.json()["detail"]
            for path in ("/sparql?query=ASK%20%7B%7D", "/doc/company/acme.ttl", "/api/v1/company/acme"):
                response = client.get(path)
                assert response.status_code == 503, path
                assert "Retry-After" in response.headers and "Traceback" not in response.text

            oxigraph.start()
            assert client.get("/health").status_code == 200
            assert client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).json()["boolean"] is True
    finally:
        stop_server(server)


def test_a_torn_graph_is_not_served_and_health_says_how_to_repair_it(oxigraph: OxigraphServer, tmp_path: Path) -> None:
    _publish(oxigraph)
    endpoints = oxigraph.endpoints
    server = start_server(tmp_path / "unused-store", env={"SMARTCITY_KG_SPARQL_ENDPOINT": endpoints.query})
    try:
        with server.client() as client:
            assert client.get("/health").status_code == 200
            # As a server that stopped before writing all of a graph to disk comes back: statements missing.
            tear = (
                f"DELETE {{ GRAPH <{NS}graph/data> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{NS}graph/data> "
                "{ ?s ?p ?o FILTER(?p = <http://www.w3.org/2000/01/rdf-schema#label>) } }"
            )
            httpx.post(
                str(endpoints.update), content=tear, headers={"Content-Type": "application/sparql-update"}, timeout=10
            ).raise_for_status()
            torn = client.get("/health")
            assert torn.status_code == 503 and "smartcity-kg build" in torn.json()["detail"]
            assert endpoints.query not in torn.text
            _publish(oxigraph, "repaired")
            assert client.get("/health").status_code == 200
    finally:
        stop_server(server)


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (["serve", "--sparql-endpoint", "file:///etc/passwd"], "--sparql-endpoint must be an http:// or https:// URL"),
        (
            [
                "build",
                "--sparql-endpoint",
                "http://127.0.0.1:9/query",
                "--graph-store",
                "gopher://127.0.0.1:9/store",
                "--update-endpoint",
                "http://127.0.0.1:9/update",
            ],
            "--graph-store must be an http",
        ),
        (
            ["serve", "--sparql-endpoint", "http://127.0.0.1:9/query", "--remote-password", "pw-without-user"],
            "a password for the remote SPARQL server is set",
        ),
    ],
)
def test_unusable_remote_settings_are_refused_at_start(
    options: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (serve_main(options) if options[0] == "serve" else main(options)) == 2
    output = " ".join(capsys.readouterr().err.split())
    assert said in output and "pw-without-user" not in output
