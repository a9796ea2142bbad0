"""The site search's page without script: the same label search as the combobox, every page's header holding it."""

from __future__ import annotations

import httpx
import pytest


def test_the_search_page_lists_things_by_label_accents_folded(client: httpx.Client) -> None:
    page = client.get("/search", params={"q": "RUESSELSHEIM am main"})
    assert page.status_code == 200
    assert '<a href="/doc/city/ruesselsheim-am-main">Rüsselsheim am Main</a>' in page.text
    assert client.get("/search").status_code == 200
    assert client.get("/search", params={"q": "x" * 201}).status_code == 422


def test_every_kind_of_page_has_the_search_combobox(client: httpx.Client) -> None:
    for path in (
        "/",
        "/query",
        "/doc/alliance/drei-gewinnt",
        "/doc/source/itdaily-13792",
        "/ontology",
        "/vocab/role",
        "/search?q=zte",
    ):
        page = client.get(path, headers={"Accept": "text/html"}).text
        assert 'role="combobox"' in page and 'aria-controls="site-search-list"' in page, path
        assert 'role="listbox"' in page, path


@pytest.mark.parametrize(
    ("typed", "first"),
    [
        ("koel", {"/doc/city/koeln", "/doc/municipality/koeln"}),
        ("Huaw", {"/doc/company/huawei"}),
        ("Wolfsbu", {"/doc/city/wolfsburg", "/doc/municipality/wolfsburg"}),
        ("dortm", {"/doc/city/dortmund", "/doc/municipality/dortmund"}),
    ],
)
def test_a_partial_name_suggests_the_place_or_company_before_the_sources(
    client: httpx.Client, typed: str, first: set[str]
) -> None:
    items = client.get("/api/v1/search", params={"q": typed, "limit": "8"}).json()["items"]
    assert f"/doc/{items[0]['type']}/{items[0]['key']}" in first, items[:3]
    kinds = [item["type"] for item in items]
    # No source comes before the last of the places, companies and alliances the text names.
    assert "source" not in kinds or all(kind == "source" for kind in kinds[kinds.index("source") :])
