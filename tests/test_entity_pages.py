"""An alliance's page shows its members as a diagram and its history as a timeline, at the dates' precision."""

from __future__ import annotations

import re

import yaml

from tests.conftest import DATA, Server


def _page(server: Server, path: str) -> str:
    with server.client() as client:
        response = client.get(path, headers={"Accept": "text/html"})
        assert response.status_code == 200
        return response.text


def test_alliance_diagram_links_every_member_coloured_by_kind(live_server: Server) -> None:
    page = _page(live_server, "/doc/alliance/drei-gewinnt?lang=en")
    svg = page[page.index("<svg") : page.index("</svg>")]
    links = set(re.findall(r'<a href="([^"]+)">', svg))
    alliance = yaml.safe_load((DATA / "alliances" / "drei-gewinnt.yaml").read_text(encoding="utf-8"))["alliances"][0]
    kinds = {"city": "municipality", "company": "company", "organization": "organization"}
    expected = {f"/doc/{kinds[m['member'].split(':')[0]]}/{m['member'].split(':')[1]}" for m in alliance["members"]}
    assert links == expected
    assert svg.count('fill="#2f6f4e"') == 3 + 1  # the three towns, and the legend's dot for municipalities
    with live_server.client() as client:
        assert all(client.get(link).status_code == 200 for link in links)


def test_timeline_runs_oldest_first_with_dates_at_their_precision(live_server: Server) -> None:
    page = _page(live_server, "/doc/alliance/allianz-smart-city-dortmund?lang=de")
    timeline = page[page.index('<ol class="timeline">') :]
    timeline = timeline[: timeline.index("</ol>")]
    dates = re.findall(r"<time>([^<]+)</time>", timeline)
    assert "Dezember 2016" in dates and "9. Dezember 2016" in dates
    years = [int(re.search(r"\d{4}", date).group()) for date in dates]  # type: ignore[union-attr]
    assert years == sorted(years)


def test_only_alliances_get_a_diagram(live_server: Server) -> None:
    assert "<svg" not in _page(live_server, "/doc/city/dortmund")


def test_a_founding_is_titled_in_the_page_language_with_its_bound_written_out(live_server: Server) -> None:
    path = "/doc/event/telekom-park-and-joy-founding-2017-03"
    with live_server.client() as client:
        german = client.get(path, headers={"Accept": "text/html", "Accept-Language": "de"}).text
        english = client.get(path, headers={"Accept": "text/html", "Accept-Language": "en"}).text
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", german, re.S)
    assert heading and "Gründung (spätestens März 2017)" in heading.group(1)
    assert "2017-03" not in heading.group(1) and "Founding" not in heading.group(1)
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", english, re.S)
    assert heading and "Founding (by March 2017)" in heading.group(1)
