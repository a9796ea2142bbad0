"""The pages in a real headless Chromium against the real service: navigation, the query editor and its views,
short links, the site search, profiles, phones, accessibility (axe-core), offline.

Every page's requests are recorded: none may go to another host, and no page may log an error to the console.
Screenshots of each page land in test-artifacts/ for a person to look at, with the pages' weight and time to first
render in test-artifacts/page-metrics.json.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, ViewportSize, sync_playwright

from graph.prefixes import VOCABULARIES
from tests.conftest import NAMESPACE, ROOT, Server, start_server, stop_server

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent: run .ci/install-browser"),
]


@dataclass
class Watched:
    """A page with everything it asked for and every error it reported."""

    page: Page
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def foreign(self, server: Server) -> list[str]:
        origin = urlsplit(server.url).netloc
        return [
            url
            for url in self.requests
            if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).netloc != origin
        ]

    def shoot(self, name: str, full_page: bool = True) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=full_page)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield browser
        browser.close()


def open_page(browser: Browser, viewport: ViewportSize = DESKTOP) -> Iterator[Watched]:
    context = browser.new_context(viewport=viewport, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    watched = Watched(page)

    def on_request(request: Request) -> None:
        watched.requests.append(request.url)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watched.errors.append(f"{message.text} ({message.location.get('url')})")

    page.on("request", on_request)
    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.errors.append(str(error)))
    yield watched
    context.close()


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Watched]:
    yield from open_page(browser)


@pytest.fixture
def phone(browser: Browser) -> Iterator[Watched]:
    yield from open_page(browser, PHONE)


EDITOR = ".cm-content"  # the query editor's text (CodeMirror); the form's text area follows it


def set_query(page: Page, text: str) -> None:
    """Replaces the editor's text as a person would: select all, delete, paste."""
    page.click(EDITOR)
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    if text:
        page.keyboard.insert_text(text)
    page.keyboard.press("Escape")  # closes a completion list the pasted text may have opened
    assert page.input_value("#query") == text


def run_example(watched: Watched, server: Server, example: str) -> None:
    page = watched.page
    page.goto(f"{server.url}/query")
    page.select_option("#examples", example)
    page.press(EDITOR, "Control+Enter")
    page.wait_for_selector("table.results tbody tr")


def no_overflow(page: Page) -> bool:
    width: bool = page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    return width


def test_from_the_landing_page_to_an_alliance_and_on_to_a_member_town(desktop: Watched, live_server: Server) -> None:
    page = desktop.page
    page.goto(f"{live_server.url}/")
    assert page.title()
    assert page.locator("h1").first.inner_text()
    desktop.shoot("landing")
    page.get_by_role("link", name="Drei gewinnt", exact=True).click()
    page.wait_for_url(re.compile(r"/doc/alliance/drei-gewinnt$"))
    assert "Drei gewinnt" in page.locator("h1").first.inner_text()
    desktop.shoot("alliance-drei-gewinnt")
    # The member is the municipality acting in the alliance; its page leads on to the city, the place.
    page.locator("main a[href$='/municipality/raunheim']").first.click()
    page.wait_for_url(re.compile(r"/doc/municipality/raunheim$"))
    assert page.locator("h1").first.inner_text() == "Stadt Raunheim"
    desktop.shoot("member-raunheim")
    page.locator("main a[href$='/city/raunheim']").first.click()
    page.wait_for_url(re.compile(r"/doc/city/raunheim$"))
    assert page.locator("h1").first.inner_text() == "Raunheim"
    desktop.shoot("city-raunheim")
    assert desktop.errors == []
    assert desktop.foreign(live_server) == []


def test_an_example_run_with_ctrl_enter_shows_a_table_with_linked_iris(desktop: Watched, live_server: Server) -> None:
    page = desktop.page
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Query the graph (SPARQL)").click()
    page.wait_for_url(re.compile(r"/sparql$"))
    page.wait_for_selector(EDITOR)
    page.select_option("#examples", "01-alliance-members")
    page.press(EDITOR, "Control+Enter")
    page.wait_for_selector("table.results tbody tr")
    headers = page.locator("table.results thead th").all_inner_texts()
    assert headers[:3] == ["alliance", "member", "memberLabel"]
    assert page.locator("table.results tbody tr").count() > 100
    assert "rows in" in page.locator("#status").inner_text()
    # An IRI of the graph links to the same path on this server; it leads to the thing's page.
    link = page.locator("table.results a[href='/id/alliance/drei-gewinnt']").first
    assert link.inner_text() == "id/alliance/drei-gewinnt"
    rows = page.locator("table.results tbody tr", has=page.locator("a[href='/id/alliance/drei-gewinnt']"))
    assert any("Stadt Raunheim" in row for row in rows.all_inner_texts())
    # The query is kept in the address of the editor, so the page can be shared: opened, it runs the query again.
    address = urlsplit(page.url)
    shared = parse_qs(address.query)["query"][0]
    assert address.path == "/query"
    assert shared == page.input_value("#query")
    assert "org:hasMembership" in shared
    desktop.shoot("editor-results")
    page.reload()
    page.wait_for_selector("table.results tbody tr")
    assert page.input_value("#query") == shared
    assert page.input_value("#examples") == "01-alliance-members"
    link.click()
    page.wait_for_url(re.compile(r"/doc/alliance/drei-gewinnt$"))
    assert "Drei gewinnt" in page.locator("h1").first.inner_text()
    assert desktop.errors == []
    assert desktop.foreign(live_server) == []


def test_a_shared_link_runs_its_query(desktop: Watched, live_server: Server) -> None:
    page = desktop.page
    query = (
        "PREFIX org: <http://www.w3.org/ns/org#>\n"
        "ASK { <https://w3id.org/smartcity-kg/id/alliance/drei-gewinnt> org:hasMembership [] }"
    )
    page.goto(f"{live_server.url}/query?" + page.evaluate("q => new URLSearchParams({query: q}).toString()", query))
    assert page.input_value("#query") == query
    page.wait_for_selector("#results .boolean")
    assert page.inner_text("#results .boolean") == "true"
    assert desktop.errors == []


def test_errors_of_the_endpoint_are_shown_readably(desktop: Watched, live_server: Server) -> None:
    page = desktop.page
    page.goto(f"{live_server.url}/query")
    set_query(page, "SELECT * WHERE { ?s ?p ")
    page.get_by_role("button", name="Run query").click()
    status = page.locator("#status.status-error")
    status.wait_for()
    text = status.inner_text()
    assert text.startswith("The query was not accepted: ")
    assert "syntax" in text.lower() or "expected" in text.lower()
    assert page.locator("table.results").count() == 0
    desktop.shoot("editor-error")
    # The failed request itself is the only error the browser reports.
    assert all("400" in error for error in desktop.errors), desktop.errors


def test_an_address_that_names_nothing_shows_a_page(desktop: Watched, live_server: Server) -> None:
    page = desktop.page
    for path, words in [("/doc/city/atlantis", "no city with the key 'atlantis'"), ("/no/such/page", "Not Found")]:
        answered = page.goto(f"{live_server.url}{path}")
        assert answered is not None and answered.status == 404
        assert page.locator("h1").first.inner_text().startswith("404")
        assert words in page.locator("main").inner_text()
        assert page.get_by_role("link", name="Catalog").count() == 1  # the site's frame, to go on from
    desktop.shoot("not-found")
    # The 404s themselves are the only errors the browser reports.
    assert all("404" in error for error in desktop.errors), desktop.errors


def test_a_query_over_the_time_limit_is_reported_as_such(desktop: Watched, published_store: Path) -> None:
    server = start_server(published_store, env={"SMARTCITY_KG_QUERY_TIMEOUT": "1"})
    try:
        page = desktop.page
        page.goto(f"{server.url}/query")
        set_query(page, "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }")
        assert page.input_value("#examples") == ""
        page.press(EDITOR, "Control+Enter")
        status = page.locator("#status.status-error")
        status.wait_for()
        text = status.inner_text()
        assert text.startswith("The query took too long or the service is busy: ")
        assert "time limit of 1 s" in text
        assert "(try again in " in text
    finally:
        stop_server(server)
        if server.process.stderr is not None:  # stop_server leaves the pipe of the server's messages open
            server.process.stderr.close()
    assert all("503" in error for error in desktop.errors), desktop.errors


def test_an_answer_cut_at_the_row_limit_says_so(desktop: Watched, published_store: Path) -> None:
    server = start_server(published_store, env={"SMARTCITY_KG_MAX_ROWS": "3"})
    try:
        page = desktop.page
        page.goto(editor_url(server, "SELECT * WHERE { ?s ?p ?o }"))
        page.locator("#status.status-done").wait_for()
        text = page.locator("#status").inner_text()
        assert text.startswith("3 rows in ") and "Cut short: the endpoint returns at most 3 rows" in text
        page.goto(editor_url(server, "SELECT * WHERE { ?s ?p ?o } LIMIT 2"))
        page.locator("#status.status-done").wait_for()
        assert "Cut short" not in page.locator("#status").inner_text()
    finally:
        stop_server(server)
        if server.process.stderr is not None:
            server.process.stderr.close()
    assert desktop.errors == []


def test_results_download_as_csv(desktop: Watched, live_server: Server, tmp_path: Path) -> None:
    page = desktop.page
    page.goto(f"{live_server.url}/query")
    set_query(
        page,
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
        "SELECT ?label WHERE { <https://w3id.org/smartcity-kg/id/city/raunheim> rdfs:label ?label }",
    )
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename == "results.csv"
    saved = tmp_path / "results.csv"
    download.save_as(saved)
    assert saved.read_text(encoding="utf-8").splitlines() == ["label", "Raunheim"]
    assert desktop.errors == []
    assert desktop.foreign(live_server) == []


def test_pages_fit_a_phone(phone: Watched, live_server: Server) -> None:
    page = phone.page
    page.goto(f"{live_server.url}/")
    assert no_overflow(page)
    phone.shoot("landing-phone", full_page=False)  # the first screen; the whole page is a long list
    run_example(phone, live_server, "02-company-alliances")
    assert no_overflow(page)
    phone.shoot("editor-phone")
    assert phone.errors == []
    assert phone.foreign(live_server) == []


# --- the editor: completion, views, sharing ------------------------------------------------------------------------

# Three places as GeoSPARQL points, with a date and a number each: every view fits these results.
WKT_QUERY = f"""PREFIX geo: <http://www.opengis.net/ont/geosparql#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
SELECT ?place ?placeLabel ?where ?since ?alliance ?count WHERE {{
  VALUES (?place ?placeLabel ?where ?since ?alliance ?count) {{
    (<{NAMESPACE}id/city/raunheim> "Raunheim" "POINT(8.4569 50.0098)"^^geo:wktLiteral "2016"^^xsd:gYear
     <{NAMESPACE}id/alliance/drei-gewinnt> 3)
    (<{NAMESPACE}id/city/kelsterbach> "Kelsterbach" "POINT(8.5297 50.0631)"^^geo:wktLiteral "2013-05"^^xsd:gYearMonth
     <{NAMESPACE}id/alliance/drei-gewinnt> 5)
    (<{NAMESPACE}id/city/dortmund> "Dortmund" "POINT(7.4653 51.5136)"^^geo:wktLiteral "2017-06-12"^^xsd:date
     <{NAMESPACE}id/alliance/allianz-smart-city-dortmund> 8)
  }}
}}"""


def editor_url(server: Server, query: str, view: str | None = None) -> str:
    params = {"query": query, **({"view": view} if view else {})}
    return f"{server.url}/query?" + "&".join(f"{k}={quote(v)}" for k, v in params.items())


SELECTED_OPTION = '.cm-tooltip-autocomplete li[aria-selected="true"]'


def test_completion_offers_prefixes_terms_and_things_by_label(desktop: Watched, live_server: Server) -> None:
    page = desktop.page
    page.goto(f"{live_server.url}/query")
    set_query(page, "")
    page.click(EDITOR)
    page.keyboard.type("SELECT * WHERE { ?a a sck:Allia")
    popup = page.locator(".cm-tooltip-autocomplete")
    popup.wait_for()
    assert "sck:Alliance" in popup.inner_text()
    desktop.shoot("editor-completion-term", full_page=False)
    # Choosing a term of an undeclared prefix declares it. Enter is pressed once the popup has settled on it: the
    # popup is drawn again as each source of completions answers, and a key pressed meanwhile is a new line.
    page.locator(SELECTED_OPTION, has_text="sck:Alliance").wait_for()
    page.keyboard.press("Enter")
    assert page.input_value("#query").startswith(f"PREFIX sck: <{NAMESPACE}ontology#>\n")
    assert "?a a sck:Alliance" in page.input_value("#query")
    # A name of a thing, accents folded, is completed to its IRI.
    page.keyboard.type(" . ?a ?p russels")
    option = page.locator(".cm-tooltip-autocomplete li", has_text="Rüsselsheim am Main").first
    option.wait_for()
    desktop.shoot("editor-completion-thing", full_page=False)
    option.click()
    assert f"<{NAMESPACE}id/" in page.input_value("#query")
    assert "ruesselsheim-am-main>" in page.input_value("#query")
    # After PREFIX, the known namespaces.
    set_query(page, "")
    page.click(EDITOR)
    page.keyboard.type("PREFIX or")
    popup.wait_for()
    assert "org:" in popup.inner_text()
    page.locator(SELECTED_OPTION, has_text="org:").wait_for()
    page.keyboard.press("Enter")
    assert page.input_value("#query") == "PREFIX org: <http://www.w3.org/ns/org#>"
    assert desktop.errors == []
    assert desktop.foreign(live_server) == []


def test_the_editor_highlights_sparql(desktop: Watched, live_server: Server) -> None:
    page = desktop.page
    page.goto(f"{live_server.url}/query")
    page.wait_for_selector(EDITOR)
    keyword = page.locator(".cm-line span", has_text=re.compile(r"^SELECT$")).first
    variable = page.locator(".cm-line span", has_text=re.compile(r"^\?alliance$")).first
    keyword_colour = keyword.evaluate("node => getComputedStyle(node).color")
    variable_colour = variable.evaluate("node => getComputedStyle(node).color")
    plain_colour = page.locator(".cm-content").evaluate("node => getComputedStyle(node).color")
    assert len({keyword_colour, variable_colour, plain_colour}) == 3


def test_a_long_query_grows_the_editor_and_the_keyboard_can_leave_it(desktop: Watched, live_server: Server) -> None:
    page = desktop.page
    long_query = "SELECT * WHERE {\n" + "".join(f"  # line {n}\n" for n in range(80)) + "  ?s ?p ?o\n} LIMIT 1"
    page.goto(editor_url(live_server, long_query))
    page.wait_for_selector(EDITOR)
    # No region scrolls inside the page that the keyboard could not reach: the editor is as tall as its query.
    assert page.eval_on_selector(".cm-scroller", "e => e.scrollHeight <= e.clientHeight + 1")
    assert axe_violations(page) == []
    # The hint read with the editor says how to leave it, and it works: Escape, then Tab moves on.
    assert "Tab" in page.locator("#" + (page.get_attribute(EDITOR, "aria-describedby") or "")).inner_text()
    page.click(EDITOR)
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    assert page.evaluate("!document.activeElement.closest('.cm-editor')")
    assert desktop.errors == []


def test_each_view_renders_and_the_map_draws_the_points(desktop: Watched, live_server: Server) -> None:
    page = desktop.page
    page.goto(editor_url(live_server, WKT_QUERY))
    page.wait_for_selector("table.results tbody tr")
    tabs = page.locator("#view-tabs [role=tab]")
    assert tabs.all_inner_texts() == ["Table", "Map", "Timeline", "Chart", "Graph"]
    # The table sorts by a column when its heading is pressed, numbers by value, then the other way round.
    sort = page.get_by_role("button", name="count", exact=True)
    counts = page.locator("table.results tbody tr td:nth-child(6)")
    sort.click()
    assert [text.split()[0] for text in counts.all_inner_texts()] == ["3", "5", "8"]
    sort.click()
    assert [text.split()[0] for text in counts.all_inner_texts()] == ["8", "5", "3"]
    assert page.locator("table.results th[aria-sort=descending]").inner_text().startswith("count")
    page.get_by_role("tab", name="Map").click()
    page.wait_for_selector("#results figure.result-map[data-drawn=true]")
    assert page.locator("#results svg.map .points circle").count() == 3
    # The base map is drawn around the points: land outlines, offline.
    land = page.locator("#results svg.map path.land").get_attribute("d") or ""
    assert land.count("M") > 3
    assert "view=map" in page.url
    assert page.get_by_role("tab", name="Map").get_attribute("aria-selected") == "true"
    desktop.shoot("view-map")
    page.get_by_role("tab", name="Timeline").click()
    assert page.locator("#results ol.result-timeline time").all_inner_texts() == ["2013-05", "2016", "2017-06-12"]
    desktop.shoot("view-timeline")
    page.get_by_role("tab", name="Chart").click()
    assert page.locator("#results svg.chart rect").count() == 3
    assert page.locator("#results svg.chart text").first.text_content() == "Dortmund"
    desktop.shoot("view-chart")
    page.get_by_role("tab", name="Graph").click()
    page.wait_for_selector("#results svg.graph-view")
    assert page.locator("#results svg.graph-view circle").count() == 5  # three places, two alliances
    assert page.locator("#results svg.graph-view line").count() == 3
    desktop.shoot("view-graph")
    # Arrow keys move between the tabs.
    page.get_by_role("tab", name="Graph").press("ArrowLeft")
    assert page.get_by_role("tab", name="Chart").get_attribute("aria-selected") == "true"
    assert desktop.errors == []
    assert desktop.foreign(live_server) == []


@pytest.mark.parametrize("year", ['"2016"^^xsd:gYear', "2016"], ids=["gYear", "integer"])
def test_the_chart_measures_the_count_and_names_the_bars_by_year(
    desktop: Watched, live_server: Server, year: str
) -> None:
    query = f"""PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
SELECT ?year (COUNT(?a) AS ?n) WHERE {{
  VALUES (?year ?a) {{ ({year} 1) ({year} 2) ({year.replace("2016", "2017")} 3) }}
}} GROUP BY ?year"""
    page = desktop.page
    page.goto(editor_url(live_server, query, "chart"))
    page.wait_for_selector("#results svg.chart rect")
    labels = page.locator("#results svg.chart text:not(.value)").all_text_contents()
    values = page.locator("#results svg.chart text.value").all_text_contents()
    assert labels == ["2016", "2017"] and values == ["2", "1"]
    assert desktop.errors == []


def test_view_and_language_tabs_keep_the_keyboard_focus(desktop: Watched, live_server: Server) -> None:
    page = desktop.page
    page.goto(editor_url(live_server, WKT_QUERY, "map"))
    page.wait_for_selector("#results figure.result-map[data-drawn=true]")
    page.get_by_role("tab", name="Table").click()
    assert page.evaluate("document.activeElement.id") == "tab-table"
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.getAttribute('aria-selected')") == "true"
    assert page.evaluate("document.activeElement.id") != "tab-table"
    page.locator("#share summary").click()
    page.get_by_role("tab", name="Python (pandas)").click()
    assert page.evaluate("document.activeElement.id") == "snippet-pandas"
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.id") == "snippet-r"
    assert "library(httr)" in page.inner_text("#snippet-code")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("document.activeElement.id") == "snippet-python"
    assert desktop.errors == []


def test_only_the_views_that_fit_are_offered(desktop: Watched, live_server: Server) -> None:
    page = desktop.page
    page.goto(editor_url(live_server, 'SELECT ?name WHERE { VALUES ?name { "a" "b" } }', "map"))
    page.wait_for_selector("table.results tbody tr")
    assert page.locator("#view-tabs [role=tab]").all_inner_texts() == ["Table"]
    assert desktop.errors == []


def test_a_short_link_restores_the_query_and_view_after_a_restart(
    desktop: Watched, published_store: Path, tmp_path: Path
) -> None:
    store = tmp_path / "store"  # the links are kept in the store's folder: here one of this test's own
    store.mkdir()
    (store / "builds").symlink_to(published_store / "builds")
    (store / "current").symlink_to((published_store / "current").readlink())
    server = start_server(store)
    page = desktop.page
    try:
        page.goto(editor_url(server, WKT_QUERY, "map"))
        page.wait_for_selector("#results figure.result-map")
        page.locator("#share summary").click()
        page.get_by_role("button", name="Make short link").click()
        page.wait_for_function("() => document.getElementById('short-link').value.includes('/q/')")
        link = page.input_value("#short-link")
        desktop.shoot("editor-share")
        snippet = page.inner_text("#snippet-code")
        assert snippet.startswith("from SPARQLWrapper import JSON, SPARQLWrapper")
        assert f'SPARQLWrapper("{server.url}/sparql")' in snippet
        page.get_by_role("tab", name="curl").click()
        assert page.inner_text("#snippet-code").startswith("curl --fail -H 'Accept: text/csv'")
        embed = page.input_value("#embed-code")
        assert embed.startswith(f'<iframe src="{server.url}/embed?query=')
        assert "view=map" in embed
    finally:
        stop_server(server)
    server = start_server(store)
    try:
        path = urlsplit(link).path
        assert re.fullmatch(r"/q/[a-z2-7]{10}", path)
        page.goto(server.url + path)
        page.wait_for_selector("#results figure.result-map[data-drawn=true]")
        assert page.input_value("#query") == WKT_QUERY
        assert page.get_by_role("tab", name="Map").get_attribute("aria-selected") == "true"
    finally:
        stop_server(server)
    assert desktop.errors == []


def test_an_embed_shows_one_view(desktop: Watched, live_server: Server) -> None:
    page = desktop.page
    page.goto(f"{live_server.url}/embed?query={quote(WKT_QUERY)}&view=map")
    page.wait_for_selector("#embed figure.result-map[data-drawn=true]")
    assert page.locator("#embed svg.map .points circle").count() == 3
    assert page.get_by_role("link", name=re.compile("Open this query")).get_attribute("href", timeout=1000)
    desktop.shoot("embed-map")
    assert desktop.errors == []
    assert desktop.foreign(live_server) == []


PREFIXED = f"""SELECT ?item ?class WHERE {{
  VALUES (?item ?class) {{ (<{VOCABULARIES["wd"]}Q1720> <{VOCABULARIES["sck"]}Alliance>) }}
}}"""


def test_the_views_name_iris_by_the_services_prefixes(desktop: Watched, live_server: Server) -> None:
    page = desktop.page
    for url, results in (
        (editor_url(live_server, PREFIXED), "#results"),
        (f"{live_server.url}/embed?query={quote(PREFIXED)}&view=table", "#embed"),
    ):
        page.goto(url)
        page.wait_for_selector(f"{results} table")
        shown = page.inner_text(results)
        assert "wd:Q1720" in shown and "sck:Alliance" in shown, (url, shown)
    assert desktop.errors == []


HOSTILE_IRIS = f"""SELECT ?thing ?other WHERE {{
  VALUES (?thing ?other) {{
    (<{NAMESPACE}id/city/raunheim> <javascript:alert(1)>)
    (<{NAMESPACE}/evil.example/login> <data:text/html,hi>)
  }}
}}"""


def test_only_web_addresses_and_the_sites_own_paths_become_links(desktop: Watched, live_server: Server) -> None:
    page = desktop.page
    link = page.request.post(
        f"{live_server.url}/q",
        data=json.dumps({"query": HOSTILE_IRIS, "view": "graph"}),
        headers={"Content-Type": "application/json"},
    ).json()["path"]
    for url, results in (
        (editor_url(live_server, HOSTILE_IRIS), "#results"),
        (f"{live_server.url}/embed?query={quote(HOSTILE_IRIS)}&view=table", "#embed"),
        (live_server.url + link, "#results"),
    ):
        page.goto(url)
        for view in ("Table", "Graph"):
            tab = page.get_by_role("tab", name=view)
            if tab.count():
                tab.click()
            page.wait_for_selector(f"{results} table, {results} svg.graph-view")
            hrefs = page.eval_on_selector_all(f"{results} a", "links => links.map(a => a.getAttribute('href'))")
            assert "/id/city/raunheim" in hrefs, (url, view)
            assert all(
                h.startswith(("https://", "http://")) or (h.startswith("/") and not h.startswith("//")) for h in hrefs
            ), (url, view, hrefs)
            # The other values are still there to read, as text.
            assert "javascript:alert(1)" in page.inner_text(results) or view == "Graph"
            if results == "#embed":
                break
    policy = page.request.get(f"{live_server.url}/query").headers["content-security-policy"]
    assert "script-src 'self';" in policy and "frame-ancestors 'self'" in policy and "object-src 'none'" in policy
    embed = page.request.get(f"{live_server.url}/embed?query={quote(HOSTILE_IRIS)}")
    assert "frame-ancestors *" in embed.headers["content-security-policy"]
    assert desktop.errors == []


def test_the_gallery_heads_each_example_with_its_question(desktop: Watched, live_server: Server) -> None:
    page = desktop.page
    page.goto(f"{live_server.url}/query")
    cards = page.locator(".gallery .cards li")
    assert cards.count() >= 13
    first = cards.first
    assert first.locator("h3").inner_text() == (
        "Which cities and companies belong to alliance X, in which role, and since when?"
    )
    assert "Oxigraph" not in page.locator(".gallery").inner_text()
    first.get_by_role("link").click()
    page.wait_for_selector("table.results tbody tr")
    assert "Oxigraph" not in page.input_value("#query")
    assert desktop.errors == []


# --- the site search -----------------------------------------------------------------------------------------------


def test_the_site_search_suggests_by_label_and_opens_the_page(desktop: Watched, live_server: Server) -> None:
    page = desktop.page
    page.goto(f"{live_server.url}/doc/company/zte")
    search = page.get_by_role("combobox", name="Search the graph")
    search.fill("russelsheim am")  # no umlaut typed: the suggestions fold accents
    listbox = page.get_by_role("listbox")
    listbox.wait_for()
    assert search.get_attribute("aria-expanded") == "true"
    options = page.get_by_role("option")
    assert "Rüsselsheim am Main" in options.all_inner_texts()[0]
    desktop.shoot("search-suggestions", full_page=False)
    search.press("ArrowDown")
    assert options.first.get_attribute("aria-selected") == "true"
    assert search.get_attribute("aria-activedescendant") == options.first.get_attribute("id")
    search.press("Enter")
    page.wait_for_url(re.compile(r"/doc/(city|municipality)/ruesselsheim-am-main$"))
    # Escape closes the list; without script the form leads to a results page.
    search = page.get_by_role("combobox", name="Search the graph")
    search.fill("drei")
    page.get_by_role("listbox").wait_for()
    search.press("Escape")
    assert search.get_attribute("aria-expanded") == "false"
    assert desktop.errors == []
    assert desktop.foreign(live_server) == []


def test_the_search_keeps_the_combobox_pattern_when_nothing_matches_and_while_typing(
    desktop: Watched, live_server: Server
) -> None:
    page = desktop.page
    page.goto(f"{live_server.url}/doc/company/zte")
    search = page.get_by_role("combobox", name="Search the graph")
    search.fill("zzqxv nothing")
    page.get_by_role("status").filter(has_text="Nothing is called").wait_for()
    # No empty listbox, no active option that is gone.
    assert page.locator("#site-search-list").is_hidden()
    assert search.get_attribute("aria-expanded") == "false"
    assert search.get_attribute("aria-activedescendant") is None
    # Suggestions for "drei", one chosen; typing on drops them at once: Enter cannot open a stale choice.
    search.fill("drei")
    page.get_by_role("option").first.wait_for()
    search.press("ArrowDown")
    assert search.get_attribute("aria-activedescendant")
    search.press_sequentially("x")
    assert search.get_attribute("aria-activedescendant") is None
    search.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=dreix$"))
    # Tab from the open list moves on to the next control, not into the list.
    search = page.get_by_role("combobox", name="Search the graph")
    search.fill("drei")
    page.get_by_role("option").first.wait_for()
    search.press("Tab")
    assert page.evaluate("document.activeElement.closest('#site-search-list') === null")
    assert page.locator("#site-search-list").is_hidden()
    assert desktop.errors == []


# --- profiles ------------------------------------------------------------------------------------------------------


def test_the_alliance_profile_is_built_from_panels(desktop: Watched, live_server: Server) -> None:
    page = desktop.page
    page.goto(f"{live_server.url}/doc/alliance/drei-gewinnt")
    titles = page.locator("section.panel h2").all_inner_texts()
    assert titles[:2] == ["Summary", "Members"]
    assert {"Member cities on a map", "Timeline", "Agreements and pilots", "Related alliances", "Sources"} <= set(
        titles
    )
    summary = page.locator("#panel-alliance-summary").inner_text()
    assert "Turn the three towns into a model region" in summary  # objectives in words, not "objective 1"
    assert "objective 1" not in summary
    assert "Smart education" in summary and "Smart Education" not in summary  # themes once, as concepts
    assert page.get_by_role("heading", name="Linked from").count() == 0
    # The member towns' GeoNames points, drawn on the offline base map.
    page.wait_for_selector("#panel-alliance-map svg circle")
    assert "Raunheim" in page.locator("#panel-alliance-map").inner_text()
    assert page.locator("#panel-alliance-map svg circle").count() >= 3
    desktop.shoot("profile-alliance")
    page.locator("#panel-alliance-members").get_by_role("link", name=re.compile("Open in the query editor")).click()
    page.wait_for_selector("table.results tbody tr")
    assert page.locator("table.results tbody tr").count() == 6
    assert desktop.errors == []
    assert desktop.foreign(live_server) == []


def test_city_and_company_profiles(desktop: Watched, live_server: Server) -> None:
    page = desktop.page
    page.goto(f"{live_server.url}/doc/city/raunheim")
    assert "Drei gewinnt" in page.locator("#panel-city-alliances").inner_text()
    assert "ZTE" in page.locator("#panel-city-partners").inner_text()
    page.wait_for_selector("#panel-city-map svg circle")
    assert page.locator("#panel-city-map svg circle").count() == 1
    desktop.shoot("profile-city")
    page.goto(f"{live_server.url}/doc/company/zte")
    assert "Kelsterbach" in page.locator("#panel-company-cities").inner_text()
    assert "2016" in page.locator("#panel-company-timeline").inner_text()
    desktop.shoot("profile-company")
    assert desktop.errors == []
    assert desktop.foreign(live_server) == []


# --- accessibility, phones, weight ---------------------------------------------------------------------------------

PAGES = {
    "landing": "/",
    "alliance": "/doc/alliance/drei-gewinnt",
    "city": "/doc/city/raunheim",
    "company": "/doc/company/zte",
    "editor": "/query",
}


def axe_violations(page: Page) -> list[str]:
    page.evaluate(AXE.read_text(encoding="utf-8"))  # as the DevTools evaluate it: not an inline script the CSP refuses
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.skipif(not AXE.exists(), reason="axe-core is installed by npm with the package build")
@pytest.mark.parametrize("name", list(PAGES))
def test_no_serious_accessibility_violation(desktop: Watched, live_server: Server, name: str) -> None:
    page = desktop.page
    page.goto(live_server.url + PAGES[name])
    if name == "editor":
        page.wait_for_selector(EDITOR)
    assert axe_violations(page) == []
    if name == "editor":  # the results, in each view
        page.goto(editor_url(live_server, WKT_QUERY, "map"))
        page.wait_for_selector("#results figure.result-map[data-drawn=true]")
        for view in ("Map", "Timeline", "Chart", "Graph", "Table"):
            page.get_by_role("tab", name=view).click()
            assert axe_violations(page) == [], view
    assert desktop.errors == []


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_fits_a_phone(phone: Watched, live_server: Server, name: str) -> None:
    page = phone.page
    page.goto(live_server.url + PAGES[name])
    page.wait_for_load_state("networkidle")
    assert no_overflow(page)
    assert page.get_by_role("combobox", name="Search the graph").is_visible()
    phone.shoot(f"phone-{name}")
    assert phone.errors == []
    assert phone.foreign(live_server) == []


def test_page_weight_and_time_to_first_render(browser: Browser, live_server: Server) -> None:
    """Bytes over the wire (what the server sent, compressed where it compresses) and first contentful paint,
    each page opened cold in a new browser context; written to test-artifacts/page-metrics.json."""
    metrics = {}
    for name, path in PAGES.items():
        watched = next(open_page(browser))
        page = watched.page
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        figures = page.evaluate("""() => {
            const navigation = performance.getEntriesByType('navigation')[0];
            const resources = performance.getEntriesByType('resource');
            const paint = performance.getEntriesByName('first-contentful-paint')[0];
            return {
                transferred: navigation.transferSize + resources.reduce((sum, r) => sum + r.transferSize, 0),
                decoded: navigation.decodedBodySize + resources.reduce((sum, r) => sum + r.decodedBodySize, 0),
                requests: 1 + resources.length,
                first_contentful_paint_ms: paint ? Math.round(paint.startTime) : null,
            };
        }""")
        metrics[name] = figures
        page.context.close()
        assert figures["first_contentful_paint_ms"] is not None
        assert figures["transferred"] < 400_000, (name, figures)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "page-metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(
        "\n"
        + "\n".join(
            f"{name:9} {m['transferred'] / 1024:7.1f} KiB sent  {m['decoded'] / 1024:7.1f} KiB "
            f"unpacked  {m['requests']:2} requests  first paint {m['first_contentful_paint_ms']} ms"
            for name, m in metrics.items()
        )
    )


LABEL_QUERY = f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?label WHERE {{ <{NAMESPACE}id/city/raunheim> rdfs:label ?label }}"""
# How each snippet runs here; R is left out where no R is installed.
RUNNERS = {
    "python": [sys.executable, "-c"],
    "pandas": [sys.executable, "-c"],
    "curl": ["bash", "-c"],
    "js": ["node", "--input-type=module", "-e"],
    "r": ["Rscript", "-e"],
}


# A query holding what ends each language's string: the heredoc's word on a line of its own, R's raw-string end,
# Python's triple quotes, JavaScript's backtick and ${, backslashes; run, each snippet must print its result.
HOSTILE_QUERY = f'''PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?label ?note WHERE {{
  <{NAMESPACE}id/city/raunheim> rdfs:label ?label .
  BIND("""
SPARQL
SPARQL_1
)-----" )------" \\"\\"\\" ` ${{process.exit(3)}} \\\\ $(exit 3) """ AS ?note)
}}'''


@pytest.mark.parametrize("query", [LABEL_QUERY, HOSTILE_QUERY], ids=["plain", "hostile"])
def test_the_code_snippets_run_and_print_the_results(desktop: Watched, live_server: Server, query: str) -> None:
    page = desktop.page
    page.goto(editor_url(live_server, query))
    page.wait_for_selector("table.results tbody tr")
    page.locator("#share summary").click()
    tabs = page.locator("#snippet-tabs [role=tab]")
    assert tabs.all_inner_texts() == ["Python (SPARQLWrapper)", "Python (pandas)", "R", "curl", "JavaScript"]
    ran = []
    for tab in tabs.all():
        tab.click()
        language = (tab.get_attribute("id") or "").removeprefix("snippet-")
        code = page.inner_text("#snippet-code")
        if query == LABEL_QUERY:
            assert LABEL_QUERY in code.replace("\\\\", "\\")
        if shutil.which(RUNNERS[language][0]) is None:
            continue
        done = subprocess.run([*RUNNERS[language], code], capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, (language, done.stderr)
        assert "Raunheim" in done.stdout, (language, done.stdout)
        ran.append(language)
    assert {"python", "pandas", "curl", "js"} <= set(ran)
