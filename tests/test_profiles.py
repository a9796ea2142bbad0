"""Profile panels: every `.rq` file of queries/panels runs against the curated graph and says what the pages show."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pyoxigraph as ox
import pytest

from api.linked_data.profiles import PROFILE_KINDS, PanelQuery, load_panels, profile_panels, read_panel
from graph.store import EmbeddedStore
from tests.conftest import NAMESPACE

# A thing of each kind with something in every panel but the maps (the curated data has no coordinates yet).
THINGS = {"alliance": "drei-gewinnt", "city": "raunheim", "company": "zte"}
ALL_PANELS = [(kind, panel.key) for kind in PROFILE_KINDS for panel in load_panels(kind)]


def test_every_kind_has_its_panels() -> None:
    keys = {key for _, key in ALL_PANELS}
    assert {
        "alliance-summary",
        "alliance-members",
        "alliance-map",
        "alliance-timeline",
        "alliance-agreements-pilots",
        "alliance-related",
        "alliance-sources",
        "city-summary",
        "city-alliances",
        "city-partners",
        "city-map",
        "company-summary",
        "company-cities",
        "company-map",
        "company-timeline",
    } <= keys


@pytest.mark.parametrize(("kind", "key"), ALL_PANELS)
def test_each_panel_runs_against_the_graph(store: EmbeddedStore, kind: str, key: str) -> None:
    iri = f"{NAMESPACE}id/{kind}/{THINGS[kind]}"
    panel = next(p for p in profile_panels(store, kind, iri) if p.key == key)
    assert panel.title and panel.about
    assert f"VALUES ?thing {{ <{iri}> }}" in panel.query
    if panel.view == "map":
        assert panel.points > 0, f"{key} drew no point for {iri}"  # the curated cities have GeoNames points
    assert panel.rows or panel.facts, f"{key} found nothing for {iri}"
    # The editor link carries exactly the query the panel ran.
    assert parse_qs(urlsplit(panel.href).query)["query"] == [panel.query]
    # ... and opens in the view the panel shows (a timeline as a timeline).
    if panel.view == "timeline":
        assert parse_qs(urlsplit(panel.href).query)["view"] == ["timeline"]


def test_a_map_panel_draws_the_city_point_and_says_so_when_there_is_none(store: EmbeddedStore) -> None:
    """The city map panel hands the city's GeoSPARQL point to the map view; without one it shows its empty state."""
    city = f"{NAMESPACE}id/city/raunheim"
    panel = next(p for p in profile_panels(store, "city", city) if p.key == "city-map")
    assert panel.points == 1
    assert panel.results is not None and "POINT(" in str(panel.results)
    geo = "http://www.opengis.net/ont/geosparql#"
    memory = ox.Store()
    memory.bulk_extend(q for q in store.quads() if not q.predicate.value.startswith(geo))

    class WithoutPoints(EmbeddedStore):
        def __init__(self) -> None:
            self._store = memory
            self._manifest = store.manifest

    empty = next(p for p in profile_panels(WithoutPoints(), "city", city) if p.key == "city-map")
    assert empty.points == 0 and empty.rows == []


def test_the_alliance_page_shows_panels_not_generic_lists(client: httpx.Client) -> None:
    page = client.get("/doc/alliance/drei-gewinnt").text
    for key in ("alliance-summary", "alliance-members", "alliance-map", "alliance-timeline", "alliance-related"):
        assert f'id="panel-{key}"' in page
    assert ">objective 1<" not in page  # objectives are shown in words
    assert "Linked from" not in page
    summary = page[page.index('id="panel-alliance-summary"') :]
    summary = summary[: summary.index("</section>")]
    assert summary.count(">Smart education<") == 1  # the themes once, by their concept
    assert "Smart Education" not in summary
    member_map = page[page.index('id="panel-alliance-map"') :]
    assert "POINT(" in member_map[: member_map.index("</section>")]  # the member towns' points, for the map view
    # No interactive element inside another: the query's summary holds text only, the link sits beside it.
    assert not re.search(r"<summary>[^<]*<a ", page)


def test_other_kinds_keep_the_generic_page(client: httpx.Client) -> None:
    page = client.get("/doc/agreement/zte-drei-gewinnt-2016").text
    assert 'class="panel"' not in page
    assert "<h2>Details</h2>" in page


def test_panels_speak_the_page_language(client: httpx.Client) -> None:
    german = client.get("/doc/alliance/drei-gewinnt", headers={"Accept": "text/html", "Accept-Language": "de"}).text
    assert '<h2 id="panel-alliance-members-title">Mitglieder</h2>' in german
    assert "Jedes Mitglied in jeder Rolle" in german
    english = client.get("/doc/alliance/drei-gewinnt", headers={"Accept": "text/html", "Accept-Language": "en"}).text
    assert '<h2 id="panel-alliance-members-title">Members</h2>' in english
    for kind in PROFILE_KINDS:
        assert all(panel.german for panel in load_panels(kind)), kind


def test_a_page_puts_its_thing_only_where_the_query_names_its_example() -> None:
    # The clause in a comment and in a string is text; the one written without spaces is the query's.
    text = (
        "# Like VALUES ?thing { <urn:example> } in other panels.\n"
        'SELECT ?fact WHERE { VALUES ?thing {<urn:example>} BIND("VALUES ?thing { <urn:example> }" AS ?fact) }'
    )
    panel = PanelQuery("alliance-notes", "Notes", "notes", "facts", text)
    assert panel.for_thing("urn:page") == text.replace("{<urn:example>}", "{<urn:page>}")


_BODY = 'SELECT ?fact WHERE {{ VALUES ?thing {{ <urn:example> }} BIND("""{inside}""" AS ?fact) }}\n'


def test_a_panels_header_is_its_opening_comment_lines_as_the_lexer_reads_them() -> None:
    text = (
        "# Agreements\n# What the alliance signed,\n# and when.\n"
        "# de: Vereinbarungen — Was das Bündnis\n#     unterzeichnet hat.\n# view: table\n"
        "# Engine: a note for maintainers.\n"
    ) + _BODY.format(inside="\n# view: map\n# de: Karte — falsch\n")
    panel = read_panel("alliance-agreements", text)
    assert (panel.title, panel.about, panel.view) == ("Agreements", "What the alliance signed, and when.", "table")
    assert panel.german == ("Vereinbarungen", "Was das Bündnis unterzeichnet hat.")
    # Windows line ends read alike.
    assert read_panel("alliance-agreements", text.replace("\n", "\r\n")).german == panel.german


@pytest.mark.parametrize(
    "text",
    [
        # The view named only by lines of a string, or of an IRI-like text after the header: no header of its own.
        "# Notes\n# What it shows.\n" + _BODY.format(inside="\n# view: table\n"),
        "# Notes\n# What it shows.\n\n# view: table\n" + _BODY.format(inside=""),  # a blank line ends the header
        "# Notes\n# view: pie\n" + _BODY.format(inside=""),
        "# Notes\n# de: Notizen — was es zeigt\n# and not a continuation.\n# view: table\n" + _BODY.format(inside=""),
        "# view: table\n" + _BODY.format(inside=""),
        "# Notes\n# view: table\nSELECT * WHERE { ?s ?p ?o }\n",  # no example thing to put a page's thing in
    ],
)
def test_a_panel_without_a_header_of_its_own_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"needs '# Title'|continue it"):
        read_panel("alliance-notes", text)
