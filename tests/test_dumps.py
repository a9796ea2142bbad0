"""Bulk downloads from the real server: the current build's files, cacheable, and nothing else on disk."""

from __future__ import annotations

import gzip
import http.client
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.namespace import FOAF, VOID

from graph.published import DUMP_FILES, current_build
from graph.releases import dump_name
from tests.conftest import Server

CONTENT_TYPES = {
    "graph.ttl": "text/turtle",
    "graph.nt.gz": "application/gzip",
    "graph.nq.gz": "application/gzip",
    "graph.jsonld": "application/ld+json",
}


@pytest.fixture(scope="module")
def client(live_server: Server) -> Iterator[httpx.Client]:
    with live_server.client() as client:
        yield client


def test_the_content_types_cover_every_dump() -> None:
    assert set(CONTENT_TYPES) == set(DUMP_FILES.values())


@pytest.mark.parametrize("name", sorted(CONTENT_TYPES))
def test_dump_is_the_current_builds_file(client: httpx.Client, published_store: Path, name: str) -> None:
    build, manifest = current_build(published_store)
    response = client.get(f"/dumps/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == CONTENT_TYPES[name]
    assert "content-encoding" not in response.headers  # a .gz file is saved as it is, not unpacked on the way
    assert response.content == (build / "dumps" / name).read_bytes()
    assert int(response.headers["content-length"]) == len(response.content)
    # The file of this release: its current URL and its versioned one give the same validator.
    versioned = client.head(f"/dumps/{manifest.release}/{dump_name(manifest.release, name)}")
    assert versioned.status_code == 200 and versioned.headers["etag"] == response.headers["etag"]
    modified = datetime.fromisoformat(manifest.modified).astimezone(UTC)
    assert response.headers["last-modified"] == format_datetime(modified, usegmt=True)
    head = client.head(f"/dumps/{name}")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == response.headers["content-length"]
    assert head.headers["etag"] == response.headers["etag"]


def test_ntriples_dump_holds_as_many_triples_as_void_says(client: httpx.Client) -> None:
    void = Graph().parse(data=client.get("/.well-known/void").content, format="turtle")
    (dataset,) = void.objects(None, FOAF.primaryTopic)
    announced = int(str(void.value(dataset, VOID.triples)))
    ntriples = gzip.decompress(client.get("/dumps/graph.nt.gz").content)
    assert len(list(ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES))) == announced
    nquads = gzip.decompress(client.get("/dumps/graph.nq.gz").content)
    assert len(list(ox.parse(nquads, format=ox.RdfFormat.N_QUADS))) == announced


def test_a_range_is_served_and_a_bad_one_refused_in_the_error_shape(client: httpx.Client) -> None:
    name = sorted(CONTENT_TYPES)[0]
    whole = client.get(f"/dumps/{name}").content
    part = client.get(f"/dumps/{name}", headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.content == whole[:10]
    for wanted, status in (("bytes=abc", 400), ("bytes=5-1", 400), ("bytes=999999999-", 416)):
        refused = client.get(f"/dumps/{name}", headers={"Range": wanted})
        assert refused.status_code == status, wanted
        assert refused.headers["content-type"].split(";")[0] in ("application/json", "application/problem+json")
        error = refused.json()["error"]
        assert error["status"] == status and wanted in error["message"]
        if status == 416:
            assert refused.headers["content-range"] == f"bytes */{len(whole)}"


def test_unchanged_dump_is_answered_304(client: httpx.Client) -> None:
    first = client.get("/dumps/graph.ttl")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    for headers in (
        {"If-None-Match": etag},
        {"If-None-Match": f'"other", W/{etag}'},
        {"If-None-Match": "*"},
        {"If-Modified-Since": modified},
        {"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"},
    ):
        response = client.get("/dumps/graph.ttl", headers=headers)
        assert response.status_code == 304, headers
        assert response.content == b"" and response.headers["etag"] == etag
    for headers in (
        {"If-None-Match": '"an-older-build-graph.ttl"'},
        {"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"},
        {"If-Modified-Since": "not a date"},
        # If-None-Match decides when both are sent (RFC 9110 §13.2.2)
        {"If-None-Match": '"an-older-build-graph.ttl"', "If-Modified-Since": modified},
    ):
        assert client.get("/dumps/graph.ttl", headers=headers).status_code == 200, headers


@pytest.mark.parametrize(
    "path",
    [
        "/dumps/build.json",
        "/dumps/graph.nt",
        "/dumps/graph.rdf",
        "/dumps/oxigraph",
        "/dumps/../build.json",
        "/dumps/..%2Fbuild.json",
        "/dumps/%2e%2e%2fbuild.json",
        "/dumps/%2e%2e/build.json",
        "/dumps/..%5cbuild.json",
        "/dumps/graph.ttl%00",
        "/dumps/.",
        "/dumps/%2e",
        "/dumps/..%2F..%2F..%2Fetc%2Fpasswd",
    ],
)
def test_nothing_but_the_dumps_is_served(live_server: Server, path: str) -> None:
    """Sent byte for byte (no client-side clean-up of the path), every other name is a JSON 404."""
    host, port = live_server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    assert response.status == 404, (path, body)
    assert response.getheader("content-type") == "application/json"
    assert b'"status":404' in body and b"build_id" not in body


def test_the_dumps_folder_leads_to_the_current_releases_listing(client: httpx.Client) -> None:
    # The documentation sends readers to /dumps/: it answers with the folder of the release being served.
    moved = client.get("/dumps/", follow_redirects=False)
    assert moved.status_code == 307
    release = client.get("/changes", headers={"Accept": "application/json"}).json()["current"]
    assert moved.headers["location"] == f"/dumps/{release}/"
    listing = client.get("/dumps/", headers={"Accept": "application/json"}, follow_redirects=True)
    assert listing.status_code == 200 and listing.json()["version"] == release
