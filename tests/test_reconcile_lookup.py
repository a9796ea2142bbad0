"""Lookups by identifier and the reconciliation index over real HTTP, on a graph of this test's own: retired and
replaced things, a new build, and the same answers from the embedded store and from a remote SPARQL server."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph.cli import main as kg
from graph.pipeline import run_build
from graph.pipeline.load import LoadError, load_records
from tests.conftest import NAMESPACE, Server, free_port, start_server, stop_server

DATA = """
sources:
  - {key: gazette, kind: web-page, title: Municipal gazette, url: "https://example.org/gazette"}
cities:
  - key: newtown
    name: Newtown am See
    municipality: Stadt Newtown am See
    ags:
      value: "09999001"
      citations: [{source: gazette, at: table 1, claim: The gazette gives Newtown the key 09999001.}]
    wikidata:
      value: Q4115189
      citations: [{source: gazette, at: table 1, claim: The gazette links Newtown to Wikidata.}]
    citations: [{source: gazette, at: page 1, claim: Newtown took in Oldtown.}]
organizations:
  - key: acme
    kind: company
    name: ACME Systems GmbH
    alt_names: [ACME]
    homepage: "https://www.acme.example/"
    citations: [{source: gazette, at: page 2, claim: ACME supplies the town.}]
  - key: acme-twin
    kind: company
    name: ACME Twin AG
    citations: [{source: gazette, at: page 2, claim: ACME Twin supplies the town too.}]
retired:
  - {type: city, key: oldtown, reason: Merged into Newtown., replaced_by: "city:newtown"}
  - {type: company, key: acme-old, reason: A record made in error.}
concepts:
  - {scheme: source-kind, key: web-page, de: Webseite, en: Web page, definition: A page of a web site.}
  - {scheme: organization-kind, key: company, de: Unternehmen, en: Company, definition: A business.}
"""


def write_data(root: Path, text: str = DATA) -> Path:
    folder = root / "data"
    folder.mkdir(exist_ok=True)
    (folder / "town.yaml").write_text(text, encoding="utf-8")
    return folder


def test_retired_entries_load_and_a_successor_that_is_not_there_is_reported(tmp_path: Path) -> None:
    assert set(load_records(write_data(tmp_path)).retired) == {"city/oldtown", "company/acme-old"}
    with pytest.raises(LoadError) as caught:
        load_records(write_data(tmp_path, DATA.replace('replaced_by: "city:newtown"', 'replaced_by: "city:nowhere"')))
    assert [problem.field for problem in caught.value.problems] == ["retired[0].replaced_by"]
    assert "names nothing that exists" in caught.value.problems[0].message


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    root = tmp_path_factory.mktemp("town")
    run_build(write_data(root), root / "store", NAMESPACE)
    server = start_server(root / "store")
    yield server, root
    stop_server(server)


@pytest.fixture
def http(town: tuple[Server, Path]) -> Iterator[httpx.Client]:
    with town[0].client() as client:
        yield client


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"ags": "09999001"}, "city/newtown"),
        ({"wikidata": "Q4115189"}, "city/newtown"),
        ({"wikidata": "http://www.wikidata.org/entity/Q4115189"}, "city/newtown"),
        ({"homepage": "http://acme.example"}, "company/acme"),
        ({"id": "company/acme"}, "company/acme"),
        ({"id": f"{NAMESPACE}id/company/acme"}, "company/acme"),
        ({"homepage": "www.acme.example"}, "company/acme"),
        ({"homepage": "acme.example/"}, "company/acme"),
        ({"wikidata": "q4115189"}, "city/newtown"),
        ({"ags": "9999001"}, "city/newtown"),
    ],
)
def test_an_identifier_answers_with_the_thing(http: httpx.Client, params: dict[str, str], key: str) -> None:
    response = http.get("/api/v1/lookup", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-location"] == f"/api/v1/{key}"
    assert response.json() == http.get(f"/api/v1/{key}").json()


def test_a_retired_id_redirects_to_its_successor_or_is_gone(http: httpx.Client) -> None:
    moved = http.get("/api/v1/lookup", params={"id": "city/oldtown"})
    assert moved.status_code == 301 and moved.headers["location"] == "/api/v1/city/newtown"
    assert http.get("/api/v1/lookup", params={"id": "city/oldtown"}, follow_redirects=True).json()["key"] == "newtown"
    gone = http.get("/api/v1/lookup", params={"id": "company/acme-old"})
    assert gone.status_code == 410 and "retired" in gone.json()["error"]["message"]
    preview = http.get("/reconcile/preview", params={"id": "city/oldtown"})
    assert preview.status_code == 410 and "city/newtown" in preview.text


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"ags": "01234567"}, 404),
        ({"id": "city/nowhere"}, 404),
        ({}, 400),
        ({"ags": "09999001", "wikidata": "Q1"}, 400),
        ({"ags": ["09999001", "09999001"]}, 400),
        ({"zip": "12345"}, 400),
        ({"ags": "1" * 50}, 422),
    ],
)
def test_lookups_that_find_nothing_or_ask_wrongly(
    http: httpx.Client, params: dict[str, str | list[str]], status: int
) -> None:
    response = http.get("/api/v1/lookup", params=params)
    assert response.status_code == status
    assert response.json()["error"]["message"]


def test_names_of_the_data_reconcile_and_retired_things_are_no_candidates(http: httpx.Client) -> None:
    queries = {
        "full": {"query": "Newtown a. S.", "type": "city"},
        "short": {"query": "Newtown", "type": "city"},
        "alt": {"query": "ACME", "type": "company"},
        "legal": {"query": "Acme Systems", "type": "company"},
        "old": {"query": "Oldtown"},
    }
    answer = http.post("/reconcile", data={"queries": json.dumps(queries)}).json()
    assert answer["full"]["result"][0]["id"] == "city/newtown" and answer["full"]["result"][0]["match"]
    # The graph knows Newtown only as "Newtown am See": a bare "Newtown" may be another town of that name.
    short = answer["short"]["result"][0]
    assert short["id"] == "city/newtown" and not short["match"]
    assert any(f["id"] == "place_qualifier_missing" and f["value"] is True for f in short["features"])
    assert answer["alt"]["result"][0]["id"] == "company/acme"
    assert answer["legal"]["result"][0]["id"] == "company/acme" and answer["legal"]["result"][0]["match"]
    assert all("oldtown" not in c["id"] for c in answer["old"]["result"])


def test_a_retired_id_reconciles_and_extends_as_its_successor(http: httpx.Client) -> None:
    queries = {"iri": {"query": f"{NAMESPACE}id/city/oldtown"}, "id": {"query": "city/oldtown"}}
    answer = http.post("/reconcile", data={"queries": json.dumps(queries)}).json()
    for key in queries:
        assert answer[key]["result"][0]["id"] == "city/newtown" and answer[key]["result"][0]["match"], answer[key]
    extend = {"ids": ["city/oldtown", "city/newtown"], "properties": [{"id": "ags"}]}
    rows = http.post("/reconcile", data={"extend": json.dumps(extend)}).json()["rows"]
    assert rows["city/oldtown"]["ags"] == rows["city/newtown"]["ags"] == [{"str": "09999001"}]


def test_a_matching_identifier_breaks_a_tie_between_namesakes(tmp_path: Path) -> None:
    namesake = """organizations:
  - key: acme-de
    kind: company
    name: ACME Systems GmbH
    homepage: "https://acme-de.example/"
    citations: [{source: gazette, at: page 3, claim: A second ACME Systems supplies the town.}]
"""
    run_build(write_data(tmp_path, DATA.replace("organizations:\n", namesake)), tmp_path / "store", NAMESPACE)
    server = start_server(tmp_path / "store")
    queries = {
        "tie": {"query": "ACME Systems GmbH", "type": "company"},
        "page": {
            "query": "ACME Systems GmbH",
            "type": "company",
            "properties": [{"pid": "homepage", "v": "www.acme.example"}],
        },
    }
    try:
        with server.client() as client:
            answer = client.post("/reconcile", data={"queries": json.dumps(queries)}).json()
    finally:
        stop_server(server)
    assert [c["score"] for c in answer["tie"]["result"][:2]] == [100, 100]
    assert not any(c["match"] for c in answer["tie"]["result"])
    best = answer["page"]["result"][0]
    assert best["id"] == "company/acme" and best["match"] is True, answer["page"]


def test_a_new_build_is_reconciled_as_soon_as_it_is_published(tmp_path: Path) -> None:
    run_build(write_data(tmp_path), tmp_path / "store", NAMESPACE)
    server = start_server(tmp_path / "store")
    query = {"q0": {"query": "Betaville", "type": "city"}}
    try:
        with server.client() as http:
            before = http.post("/reconcile", data={"queries": json.dumps(query)}).json()
            assert not any(c["match"] for c in before["q0"]["result"])
            run_build(write_data(tmp_path, DATA.replace("Newtown am See", "Betaville")), tmp_path / "store", NAMESPACE)
            after = http.post("/reconcile", data={"queries": json.dumps(query)}).json()
            assert after["q0"]["result"][0]["id"] == "city/newtown" and after["q0"]["result"][0]["match"]
    finally:
        stop_server(server)


# --- the same service on a remote SPARQL server --------------------------------------------------------------------
OXIGRAPH = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which("oxigraph")


@pytest.mark.slow
@pytest.mark.skipif(OXIGRAPH is None, reason="the `oxigraph` server (PyPI: oxigraph) is not installed")
def test_a_remote_store_answers_as_the_embedded_one(town: tuple[Server, Path], tmp_path: Path) -> None:
    assert OXIGRAPH is not None
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    oxigraph = subprocess.Popen(
        [OXIGRAPH, "serve", "--location", str(tmp_path / "oxigraph"), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    remote: Server | None = None
    try:
        for _ in range(100):
            try:
                httpx.get(f"{base}/query", params={"query": "ASK {}"}, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        assert (
            kg(
                [
                    "build",
                    "--data",
                    str(town[1] / "data"),
                    "--sparql-endpoint",
                    f"{base}/query",
                    "--graph-store",
                    f"{base}/store",
                    "--update-endpoint",
                    f"{base}/update",
                ]
            )
            == 0
        )
        remote = start_server(tmp_path / "unused", env={"SMARTCITY_KG_SPARQL_ENDPOINT": f"{base}/query"})
        queries = json.dumps(
            {
                "a": {"query": "Newtown", "type": "city"},
                "b": {"query": "ACME Twin"},
                "c": {"properties": [{"pid": "ags", "v": "09999001"}]},
            }
        )
        extend = json.dumps(
            {
                "ids": ["city/newtown", "company/acme"],
                "properties": [{"id": "ags"}, {"id": "ags.sources"}, {"id": "alt_names"}],
            }
        )
        with town[0].client() as embedded, remote.client() as far:
            requests: list[tuple[str, str, dict[str, Any]]] = [
                ("POST", "/reconcile", {"data": {"queries": queries}}),
                ("POST", "/reconcile", {"data": {"extend": extend}}),
                ("GET", "/reconcile/suggest/entity", {"params": {"prefix": "acme"}}),
                ("GET", "/api/v1/lookup", {"params": {"ags": "09999001"}}),
                ("GET", "/api/v1/lookup", {"params": {"id": "city/oldtown"}}),
            ]
            for method, url, arguments in requests:
                near, away = embedded.request(method, url, **arguments), far.request(method, url, **arguments)
                assert (away.status_code, away.content) == (near.status_code, near.content)
    finally:
        if remote is not None:
            stop_server(remote)
        oxigraph.terminate()
        oxigraph.wait(timeout=10)
