"""The pages in a real headless Chromium against the real service: navigation, the query editor, phones, offline.

Every page's requests are recorded: none may go to another host, and no page may log an error to the console.
Screenshots of each page land in test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, ViewportSize, sync_playwright

from tests.conftest import ROOT, Server, start_server, stop_server

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
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
        return [url for url in self.requests
                if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).netloc != origin]

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


def run_example(watched: Watched, server: Server, example: str) -> None:
    page = watched.page
    page.goto(f"{server.url}/query")
    page.select_option("#examples", example)
    page.press("#query", "Control+Enter")
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


def test_an_example_run_with_ctrl_enter_shows_a_table_with_linked_iris(desktop: Watched,
                                                                      live_server: Server) -> None:
    page = desktop.page
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Query the graph (SPARQL)").click()
    page.wait_for_url(re.compile(r"/sparql$"))
    page.select_option("#examples", "01-alliance-members")
    page.press("#query", "Control+Enter")
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
    query = ("PREFIX org: <http://www.w3.org/ns/org#>\n"
             "ASK { <https://w3id.org/smartcity-kg/id/alliance/drei-gewinnt> org:hasMembership [] }")
    page.goto(f"{live_server.url}/query?" + page.evaluate("q => new URLSearchParams({query: q}).toString()", query))
    assert page.input_value("#query") == query
    page.wait_for_selector("#results .boolean")
    assert page.inner_text("#results .boolean") == "true"
    assert desktop.errors == []


def test_errors_of_the_endpoint_are_shown_readably(desktop: Watched, live_server: Server) -> None:
    page = desktop.page
    page.goto(f"{live_server.url}/query")
    page.fill("#query", "SELECT * WHERE { ?s ?p ")
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


def test_a_query_over_the_time_limit_is_reported_as_such(desktop: Watched, published_store: Path) -> None:
    server = start_server(published_store, env={"SMARTCITY_KG_QUERY_TIMEOUT": "1"})
    try:
        page = desktop.page
        page.goto(f"{server.url}/query")
        page.fill("#query", "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }")
        assert page.input_value("#examples") == ""
        page.press("#query", "Control+Enter")
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


def test_results_download_as_csv(desktop: Watched, live_server: Server, tmp_path: Path) -> None:
    page = desktop.page
    page.goto(f"{live_server.url}/query")
    page.fill("#query", "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
                        "SELECT ?label WHERE { <https://w3id.org/smartcity-kg/id/city/raunheim> rdfs:label ?label }")
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
