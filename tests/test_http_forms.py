"""One reader of `a=1&b=2` for every route that reads form fields: strict UTF-8, the same fields everywhere."""

from __future__ import annotations

import pytest

from api.http.forms import FormError, read_fields
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
