"""The landing page and the query editor as served over a real socket: figures, links, examples, escaping, assets.

Expected figures come from `measure_coverage` and SPARQL over the same published store, or from the curated YAML.
"""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser

import httpx
import pyoxigraph as ox
import pytest
import yaml

from api.pages.editor import reader_text
from graph.coverage import Coverage, measure_coverage
from graph.published import DUMP_FILES
from graph.store import EmbeddedStore
from tests.conftest import DATA, NAMESPACE, ROOT, Server

QUERIES = ROOT / "queries"


class Page(HTMLParser):
    """What a page links to and loads, and the text of its elements with an id."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []  # (href, text)
        self.assets: list[str] = []  # src/href of what the browser fetches by itself
        self.options: list[tuple[str, str]] = []  # (value, data-query) of <option>s
        self.textarea = ""  # the first one: the query
        self._in: str | None = None
        self._text: list[str] = []
        self._href = ""
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "a" and "href" in attributes:
            self._in, self._href, self._text = "a", attributes["href"], []
        elif tag == "textarea":
            self._in, self._text = "textarea", []
        elif tag == "option":
            self.options.append((attributes.get("value", ""), attributes.get("data-query", "")))
        if tag in ("script", "img", "iframe", "source", "video", "audio") and attributes.get("src"):
            self.assets.append(attributes["src"])
        if tag == "link" and attributes.get("href"):
            self.assets.append(attributes["href"])

    def handle_data(self, data: str) -> None:
        if self._in:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._in == "a":
            self.links.append((self._href, " ".join("".join(self._text).split())))
            self._in = None
        elif tag == "textarea" and self._in == "textarea":
            self.textarea = self.textarea or "".join(self._text)
            self._in = None


@pytest.fixture(scope="module")
def coverage(store: EmbeddedStore) -> Coverage:
    return measure_coverage(store)


@pytest.fixture(scope="module")
def landing(client: httpx.Client) -> httpx.Response:
    response = client.get("/", headers={"Accept": "text/html"})
    assert response.status_code == 200, response.text
    return response


def select(store: EmbeddedStore, query: str) -> list[list[str]]:
    outcome = store.query(query)
    assert isinstance(outcome, ox.QuerySolutions)
    return [[term.value if term is not None else "" for term in row] for row in outcome]


def doc(iri: str) -> str:
    return "/doc/" + iri.removeprefix(NAMESPACE + "id/")


def test_landing_is_html_and_names_size_date_licence_and_sources(
    landing: httpx.Response, store: EmbeddedStore, coverage: Coverage
) -> None:
    assert landing.headers["content-type"].startswith("text/html")
    text = landing.text
    assert f'datetime="{store.manifest.modified}"' in text
    assert "CC BY 4.0" in text
    assert f"<strong>{coverage.counts['Source']}</strong> sources" in text
    for name, what in (
        ("Alliance", "alliances and partnerships"),
        ("City", "cities"),
        ("Company", "companies"),
        ("Agreement", "agreements"),
        ("Pilot", "pilots"),
        ("Membership", "memberships"),
    ):
        assert f'<span class="number">{coverage.counts[name]}</span> <span class="what">{what}</span>' in text


def test_landing_links_to_editor_api_catalogue_dumps_and_ontology(landing: httpx.Response) -> None:
    hrefs = {href for href, _ in Page(landing.text).links}
    assert {"/sparql", "/docs", "/catalog", "/ontology"} <= hrefs
    assert {f"/dumps/{name}" for name in DUMP_FILES.values()} <= hrefs


def test_landing_lists_every_alliance_with_its_members(landing: httpx.Response, store: EmbeddedStore) -> None:
    links = Page(landing.text).links
    hrefs = {href for href, _ in links}
    alliances = select(store, "SELECT ?a WHERE { ?a a <https://w3id.org/smartcity-kg/ontology#Alliance> }")
    assert len(alliances) > 10
    assert {doc(iri) for (iri,) in alliances} <= hrefs
    assert ("/doc/alliance/drei-gewinnt", "Drei gewinnt") in links
    curated = yaml.safe_load((DATA / "alliances" / "drei-gewinnt.yaml").read_text(encoding="utf-8"))
    (record,) = curated["alliances"]
    members = {member["member"].split(":", 1)[1] for member in record["members"]}
    assert members >= {"ruesselsheim-am-main", "raunheim", "kelsterbach", "zte"}
    # The members follow their alliance's heading, each linked to its own page.
    section = landing.text.split('href="/doc/alliance/drei-gewinnt"', 1)[1].split("<h3>", 1)[0]
    assert {href.rsplit("/", 1)[-1] for href, _ in Page(section).links} == members


def test_landing_shows_the_coverage_tables(landing: httpx.Response, coverage: Coverage) -> None:
    text = landing.text
    for year, n in coverage.alliances_by_year.items():
        assert f'<tr><td>{year}</td><td class="n">{n}</td></tr>' in text
    for land, n in coverage.alliances_by_land.items():
        assert f'<tr><td>{land}</td><td class="n">{n}</td></tr>' in text
    for iri, label, alliances, agreements in coverage.vendors:
        assert (
            f'<tr><td><a href="{doc(iri)}">{escape(label)}</a></td><td class="n">{alliances}</td>'
            f'<td class="n">{agreements}</td></tr>'
        ) in text
    for name, _, cities, alliances in coverage.countries():
        assert f'<tr><td>{name}</td><td class="n">{cities}</td><td class="n">{alliances}</td></tr>' in text
    for role, memberships, members in coverage.memberships_by_role:
        assert f'<tr><td>{role}</td><td class="n">{memberships}</td><td class="n">{members}</td></tr>' in text
    for what, now, goal, reached in coverage.landscape():
        assert (
            f'<tr><td>{what}</td><td class="n">{now}</td><td>{goal}</td><td>{"yes" if reached else "no"}</td></tr>'
        ) in text


def test_every_link_on_the_landing_page_leads_somewhere(landing: httpx.Response, client: httpx.Client) -> None:
    local = sorted({href.split("#", 1)[0] for href, _ in Page(landing.text).links if href.startswith("/")} - {""})
    assert len(local) > 50
    broken = [
        (href, status) for href in local if (status := client.head(href, follow_redirects=True).status_code) >= 400
    ]
    assert broken == []


def test_pages_load_nothing_from_another_host(landing: httpx.Response, client: httpx.Client) -> None:
    for html in (landing.text, client.get("/query").text):
        assets = Page(html).assets
        assert assets, "the page loads its style sheet and script from this server"
        assert all(asset.startswith("/") and not asset.startswith("//") for asset in assets), assets
        for asset in assets:
            assert client.get(asset).status_code == 200


def test_editor_offers_every_competency_question(client: httpx.Client) -> None:
    files = sorted(QUERIES.glob("*.rq"))
    assert files, "queries/ holds the competency questions"
    page = Page(client.get("/query").text)
    examples = {value: query for value, query in page.options if value}
    # Each as a reader sees it: the notes on the engine's plan stay in the file.
    assert examples == {path.stem: reader_text(path.read_text(encoding="utf-8")) for path in files}
    assert page.textarea.strip() == reader_text(files[0].read_text(encoding="utf-8")).strip()


def test_editor_keeps_a_shared_query_and_escapes_it(client: httpx.Client) -> None:
    query = 'ASK { ?s ?p "</textarea><script>alert(1)</script>" }'
    response = client.get("/query", params={"query": query})
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.text
    page = Page(response.text)
    assert page.textarea == query
    assert 'data-run-now="true"' in response.text


def test_static_files_are_served_with_their_types_and_nothing_else(client: httpx.Client) -> None:
    script = client.get("/static/editor.bundle.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert client.get("/static/pages.css").headers["content-type"].startswith("text/css")
    for name in ("missing.js", "..%2Fapp.py", "..%2F..%2Fpyproject.toml"):
        assert client.get(f"/static/{name}").status_code == 404


def test_sparql_answers_a_browser_with_the_editor(client: httpx.Client) -> None:
    response = client.get("/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'id="editor"' in response.text
    assert len([value for value, _ in Page(response.text).options if value]) == len(list(QUERIES.glob("*.rq")))


def test_api_docs_load_nothing_from_another_host(live_server: Server) -> None:
    with live_server.client() as client:
        page = client.get("/docs")
        assert page.status_code == 200
        assert "http://" not in page.text.replace(live_server.url, "") and "https://" not in page.text
        for asset in ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"):
            assert asset in page.text
            assert client.get(asset).status_code == 200
        assert client.get("/docs/assets/..%2Fconsts.py").status_code == 404
        assert client.get("/redoc").status_code == 404
