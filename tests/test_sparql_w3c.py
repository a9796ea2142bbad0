"""The W3C SPARQL 1.1 test corpus, case by case, against the real endpoint: syntax and protocol."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pyoxigraph as ox
import pytest

from tests.conftest import SHARED, Server

SPARQL11 = Path("vendor/w3c-rdf-tests/sparql/sparql11")
MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
HT = "http://www.w3.org/2011/http#"
CNT = "http://www.w3.org/2011/content#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
SYNTAX_FOLDERS = ("syntax-query", "syntax-fed")
# A positive syntax test may still be refused for what it asks the server to do, never for its syntax.
POLICY_REFUSALS = ("SERVICE", "not a graph of this store")


def _manifest(folder: Path) -> ox.Store:
    store = ox.Store()
    store.load(
        path=str(folder / "manifest.ttl"),
        format=ox.RdfFormat.TURTLE,
        base_iri=(folder / "manifest.ttl").resolve().as_uri(),
    )
    return store


Term = ox.NamedNode | ox.BlankNode | ox.Literal


def _select(store: ox.Store, query: str, **bindings: Term) -> list[dict[str, Term]]:
    """Each solution as {variable: term}; unbound variables are left out."""
    solutions = store.query(query, substitutions={ox.Variable(name): term for name, term in bindings.items()})
    assert isinstance(solutions, ox.QuerySolutions)
    names = [variable.value for variable in solutions.variables]
    return [{name: term for name, term in zip(names, row, strict=True) if isinstance(term, Term)} for row in solutions]


def _syntax_cases(shared: Path) -> list[tuple[str, str, bool]]:
    """(id, query file, positive?) for every syntax test of the query and federation manifests."""
    cases = []
    for name in SYNTAX_FOLDERS:
        folder = shared / SPARQL11 / name
        query = f"""PREFIX mf: <{MF}> SELECT ?type ?action WHERE {{
            ?test a ?type ; mf:action ?action .
            VALUES ?type {{ mf:PositiveSyntaxTest11 mf:NegativeSyntaxTest11 }} }}"""
        for row in _select(_manifest(folder), query):
            path = Path(unquote(row["action"].value.removeprefix("file://")))
            cases.append((f"{name}/{path.name}", str(path), row["type"].value.endswith("PositiveSyntaxTest11")))
    return sorted(cases)


@dataclass(frozen=True)
class Exchange:
    """One HTTP request of the protocol manifest that must be answered with a 4xx."""

    name: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None


def _protocol_cases(shared: Path) -> list[Exchange]:
    """Every request of protocol/manifest.ttl expected to get a 4xx (the update ones too: this server refuses
    every update)."""
    store = _manifest(shared / SPARQL11 / "protocol")
    requests = f"""PREFIX mf: <{MF}> PREFIX ht: <{HT}> PREFIX cnt: <{CNT}> PREFIX rdf: <{RDF}>
        SELECT ?test ?request ?method ?path ?chars ?encoding WHERE {{
            ?test a mf:ProtocolTest ; mf:action/ht:requests/rdf:rest*/rdf:first ?request .
            ?request ht:methodName ?method ; ht:absolutePath ?path ;
                     ht:resp/mf:expectedStatus <http://www.w3.org/2011/http-statusCodes#StatusCode4xx> .
            OPTIONAL {{ ?request ht:body [ cnt:chars ?chars ; cnt:characterEncoding ?encoding ] }}
        }}"""
    headers = f"""PREFIX ht: <{HT}> PREFIX rdf: <{RDF}> SELECT ?request ?field ?value WHERE {{
        ?request ht:headers/rdf:rest*/rdf:first [ ht:fieldName ?field ; ht:fieldValue ?value ] }}"""
    cases = []
    for row in _select(store, requests):
        body = row["chars"].value.encode(row["encoding"].value) if "chars" in row else None
        fields = {h["field"].value: h["value"].value for h in _select(store, headers, request=row["request"])}
        cases.append(
            Exchange(
                row["test"].value.rpartition("#")[2],
                row["method"].value,
                row["path"].value.replace("/sparql/", "/sparql", 1),
                fields,
                body,
            )
        )
    return sorted(cases, key=lambda case: case.name)


SYNTAX_CASES = _syntax_cases(SHARED) if (SHARED / SPARQL11).is_dir() else []
PROTOCOL_CASES = _protocol_cases(SHARED) if (SHARED / SPARQL11).is_dir() else []


def test_the_corpus_is_there(shared_dir: Path) -> None:
    assert sum(1 for _, _, positive in _syntax_cases(shared_dir) if not positive) >= 30
    assert sum(1 for _, _, positive in _syntax_cases(shared_dir) if positive) >= 60
    assert len(_protocol_cases(shared_dir)) >= 10


@pytest.mark.parametrize(
    ("path", "positive"),
    [case[1:] for case in SYNTAX_CASES] or [("", False)],
    ids=[case[0] for case in SYNTAX_CASES] or ["corpus-absent"],
)
def test_syntax(live_server: Server, shared_dir: Path, path: str, positive: bool) -> None:
    query = Path(path).read_text(encoding="utf-8")
    with live_server.client() as client:
        answer = client.post("/sparql", content=query.encode(), headers={"Content-Type": "application/sparql-query"})
    if positive:
        assert answer.status_code < 400 or (
            answer.status_code == 400 and any(reason in answer.json()["error"]["message"] for reason in POLICY_REFUSALS)
        ), answer.text
    else:
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["message"]


@pytest.mark.parametrize(
    "exchange", PROTOCOL_CASES or [Exchange("corpus-absent", "GET", "", {}, None)], ids=lambda exchange: exchange.name
)
def test_protocol_refusals(live_server: Server, shared_dir: Path, exchange: Exchange) -> None:
    with live_server.client() as client:
        answer = client.request(exchange.method, exchange.path, headers=exchange.headers, content=exchange.body)
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.json()["error"]["message"]
