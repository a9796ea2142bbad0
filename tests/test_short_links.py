"""Short links `/q/{id}` over real HTTP: made, opened, refused when too long or malformed, bounded in number."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from api.pages import short_links
from api.pages.short_links import MAX_QUERY_BYTES, LinkStoreFullError, ShortLinks

QUERY = "SELECT ?s WHERE { ?s a <https://w3id.org/smartcity-kg/ontology#Alliance> }"


def test_a_short_link_opens_the_editor_with_its_query(client: httpx.Client) -> None:
    made = client.post("/q", json={"query": QUERY, "view": "table"})
    assert made.status_code == 201
    path = made.json()["path"]
    assert made.headers["location"] == path
    # The same query gets the same link.
    assert client.post("/q", json={"query": QUERY}).json()["path"] == path
    page = client.get(path)
    assert page.status_code == 200
    assert "SELECT ?s WHERE { ?s a &lt;https://w3id.org/smartcity-kg/ontology#Alliance&gt; }" in page.text
    assert 'data-run-now="true"' in page.text


def test_a_query_too_long_for_a_short_link_is_refused_clearly(client: httpx.Client) -> None:
    long_query = "SELECT * WHERE { ?s ?p ?o }" + " " * MAX_QUERY_BYTES
    answer = client.post("/q", json={"query": long_query})
    assert answer.status_code == 413
    message = answer.json()["error"]["message"]
    assert f"at most {MAX_QUERY_BYTES} bytes" in message
    assert "share the editor's address instead" in message
    # A body far beyond any query is refused before it is read whole.
    huge = client.post("/q", content=b"{" + b" " * (MAX_QUERY_BYTES * 8) + b"}",
                       headers={"Content-Type": "application/json"})
    assert huge.status_code == 413


@pytest.mark.parametrize(("body", "message"), [
    (b"not json", "send a JSON object"),
    (b'["SELECT"]', "send a JSON object"),
    (b'{"query": ""}', 'non-empty "query"'),
    (b'{"query": "ASK {}", "view": "pie"}', '"view" must be one of'),
])
def test_malformed_requests_get_a_400_that_says_why(client: httpx.Client, body: bytes, message: str) -> None:
    answer = client.post("/q", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert message in answer.json()["error"]["message"]


def test_an_unknown_short_link_is_a_404(client: httpx.Client) -> None:
    answer = client.get("/q/abcdefghij")
    assert answer.status_code == 404
    assert "no short link" in answer.json()["error"]["message"]
    assert client.get("/q/../etc").status_code == 404


def test_the_number_of_links_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(short_links, "MAX_LINKS", 3)
    links = ShortLinks(tmp_path)
    made = [links.save(f"ASK {{ ?s ?p {n} }}", "table") for n in range(3)]
    assert links.save("ASK { ?s ?p 0 }", "table") == made[0]  # one already kept costs no room
    with pytest.raises(LinkStoreFullError, match="at most 3 short links"):
        links.save("ASK { ?s ?p 4 }", "table")
    assert [links.load(link.id) for link in made] == made
