"""One reader of `a=1&b=2` for every route that reads form fields: strict UTF-8, the same fields everywhere."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.routing import APIRoute

from api.app import create_app
from api.http.forms import FormError, FormRoute, read_fields
from graph.settings import Settings
from tests.conftest import Server

FORM = "application/x-www-form-urlencoded"


def test_fields_are_decoded_and_kept_in_order() -> None:
    raw = b"query=SELECT+%3Fs+%7B%7D&format=json&&flag&format=&named-graph-uri=urn%3Aa&caf%C3%A9=%E2%82%AC"
    assert read_fields(raw, "query string") == {
        "query": ["SELECT ?s {}"],
        "format": ["json", ""],
        "flag": [""],
        "named-graph-uri": ["urn:a"],
        "café": ["€"],
    }
    assert read_fields(b"", "form body") == {}


@pytest.mark.parametrize("raw", [b"q=%FF", b"q=\xff", b"%C3=1", b"q=%E2%82"])
def test_bytes_that_are_not_utf8_are_refused_not_replaced(raw: bytes) -> None:
    with pytest.raises(FormError, match=r"the form body cannot be read: it is not UTF-8 \(byte \d+\)"):
        read_fields(raw, "form body")


def test_too_many_fields_are_refused_by_count() -> None:
    assert len(read_fields(b"&".join(b"f%d=1" % n for n in range(16)), "form body", max_fields=16)) == 16
    with pytest.raises(FormError, match="17 fields, more than the 16"):
        read_fields(b"&".join(b"f%d=1" % n for n in range(17)), "form body", max_fields=16)


def test_both_routes_read_fields_alike(live_server: Server) -> None:
    # The same bytes that are not UTF-8, in a form body and in a query string: /reconcile and /sparql name the
    # fault alike, as a 400.
    with live_server.client() as client:
        for answer in (
            client.post("/reconcile", content=b"queries=\xff", headers={"Content-Type": FORM}),
            client.get("/reconcile?queries=%FF"),
            client.post("/sparql", content=b"query=ASK%7B%7D&x=\xff", headers={"Content-Type": FORM}),
            client.get("/sparql?query=ASK%7B%7D&x=%FF"),
        ):
            assert answer.status_code == 400
            assert "cannot be read: it is not UTF-8 (byte" in answer.json()["error"]["message"]


# A parameter each of these routes declares, sent as a byte that is not UTF-8: the framework's own parser read it as
# U+FFFD (a search for "\ufffd", a suggestion for it, a 404 for an id that holds it).
NOT_UTF8 = [
    "/reconcile/suggest/entity?prefix=%FF",
    "/reconcile/1.0-draft/suggest/type?prefix=Stadt%FF",
    "/reconcile/suggest/property?prefix=%FF",
    "/reconcile/extend/propose?type=city&limit=%FF",
    "/reconcile/preview?id=city/dortmund%FF",
    "/api/v1/lookup?id=city/dortmund%FF",
    "/api/v1/cities?q=%FF",
    "/search?q=%FF",
    "/query?query=ASK%7B%7D%FF",
    "/doc/city/dortmund?lang=%FF",
    "/changes?format=%FF",
    "/catalog?format=%FF",
]


@pytest.mark.parametrize("url", NOT_UTF8)
def test_every_route_refuses_query_strings_that_are_not_utf8(live_server: Server, url: str) -> None:
    with live_server.client() as client:
        answer = client.get(url)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["message"].startswith("the query string cannot be read: it is not UTF-8 (byte")


def test_every_route_of_the_app_reads_its_parameters_strictly(published_store: Path) -> None:
    app = create_app(Settings(store=published_store))
    loose = [route.path for route in app.routes if isinstance(route, APIRoute) and not isinstance(route, FormRoute)]
    assert loose == []


@pytest.mark.parametrize("path", ["/reconcile", "/reconcile/1.0-draft/reconcile", "/reconcile/1.0-draft/extend", "/q"])
def test_json_bodies_that_are_not_utf8_are_refused(live_server: Server, path: str) -> None:
    # A name to reconcile with a byte that is not UTF-8 was matched as if it held U+FFFD; a short link's query was
    # refused as "not a JSON object".
    body = b'{"queries": {"q0": {"query": "Dortmund\xff"}}}'
    if "1.0-draft" in path:
        body = b'{"queries": [{"conditions": [{"matchType": "name", "propertyValue": "Dortmund\xff"}]}]}'
    if path == "/q":
        body = b'{"query": "ASK { ?s ?p \'\xff\' }"}'
    with live_server.client() as client:
        answer = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    at = body.index(b"\xff")
    message = f"the request body cannot be read: it is not UTF-8 (byte {at}); requests must be UTF-8-encoded"
    assert answer.json()["error"]["message"] == message
