"""The REST API over a real socket: lists, filters, lookups, search, errors, OpenAPI and JSON-LD.

Expected answers come from the curated YAML (the member towns of Drei gewinnt) or from SPARQL over the same store.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox
import pytest
import rdflib
import yaml

from api.rest.listing import FILTERS, fold
from graph.store import EmbeddedStore
from tests.conftest import DATA, NAMESPACE, start_server, stop_server

ORG = "http://www.w3.org/ns/org#"
SCK = "https://w3id.org/smartcity-kg/ontology#"
XSD_DATE = "http://www.w3.org/2001/XMLSchema#date"
PREFIXES = (
    f"PREFIX org: <{ORG}>\nPREFIX sck: <{SCK}>\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
    "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n"
)


def select(store: EmbeddedStore, query: str, **bound: ox.NamedNode | ox.Literal) -> list[ox.QuerySolution]:
    solutions = store.query(PREFIXES + query, substitutions=bound)
    assert isinstance(solutions, ox.QuerySolutions)
    return list(solutions)


def thing(kind: str, key: str) -> ox.NamedNode:
    return ox.NamedNode(f"{NAMESPACE}id/{kind}/{key}")


def key(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def curated_city_members(alliance: str) -> set[str]:
    document = yaml.safe_load((DATA / "alliances" / f"{alliance}.yaml").read_text(encoding="utf-8"))
    (record,) = [a for a in document["alliances"] if a["key"] == alliance]
    return {m["member"].split(":", 1)[1] for m in record["members"] if m["member"].startswith("city:")}


def get_json(client: httpx.Client, url: str, **params: Any) -> Any:
    response = client.get(url, params=params or None)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def test_cities_of_an_alliance_are_its_curated_member_towns(client: httpx.Client, store: EmbeddedStore) -> None:
    curated = curated_city_members("drei-gewinnt")
    assert len(curated) == 3
    body = get_json(client, "/api/v1/city", alliance="drei-gewinnt")
    assert {item["key"] for item in body["items"]} == curated
    assert body["total"] == 3
    assert all(
        item["type"] == "city" and item["label"] and item["id"] == str(thing("city", item["key"]).value)
        for item in body["items"]
    )
    rows = select(
        store,
        "SELECT DISTINCT ?city ?a WHERE { ?m org:organization ?a ; org:member ?mun . ?mun sck:municipalityOf ?city }",
        a=thing("alliance", "drei-gewinnt"),
    )
    assert {key(row["city"].value) for row in rows} == curated


def test_alliance_lookup_resolves_memberships_roles_and_sources(client: httpx.Client, store: EmbeddedStore) -> None:
    body = get_json(client, "/api/v1/alliance/drei-gewinnt")
    assert body["id"] == thing("alliance", "drei-gewinnt").value and body["type"] == "alliance"
    memberships = {m["id"]: m for m in body["memberships"]}
    rows = select(
        store,
        "SELECT ?a ?m ?member ?role ?start WHERE { ?m org:organization ?a ; org:member ?member ; "
        "org:role ?role OPTIONAL { ?m sck:startDate ?start } }",
        a=thing("alliance", "drei-gewinnt"),
    )
    assert set(memberships) == {row["m"].value for row in rows}
    for row in rows:
        membership = memberships[row["m"].value]
        assert membership["member"]["id"] == row["member"].value
        assert membership["role"]["id"] == row["role"].value
        assert membership["since"] == (row["start"].value if row["start"] else None)
        for ref in (membership["member"], membership["role"], membership["alliance"]):
            assert ref["key"] == key(ref["id"]) and ref["label"]
        assert membership["sources"] and all(source["label"] and "url" in source for source in membership["sources"])
    towns = {m["member"]["key"] for m in body["memberships"] if m["member"]["type"] == "municipality"}
    assert towns == curated_city_members("drei-gewinnt")
    # A year-precise start keeps its precision and carries the first and last day it can mean.
    dated = [m for m in body["memberships"] if m["since"] and len(m["since"]) == 4]
    assert dated
    for membership in dated:
        assert membership["since_earliest"] == f"{membership['since']}-01-01"
        assert membership["since_latest"] == f"{membership['since']}-12-31"


@pytest.mark.parametrize("member", ["dortmund", "huawei"])
def test_member_filter_agrees_with_sparql(client: httpx.Client, store: EmbeddedStore, member: str) -> None:
    rows = select(
        store,
        "SELECT DISTINCT ?a ?mun ?com ?org WHERE { ?a org:hasMembership ?m . "
        "{ ?m org:member ?mun } UNION { ?m org:member ?com } UNION { ?m org:member ?org } }",
        mun=thing("municipality", member),
        com=thing("company", member),
        org=thing("organization", member),
    )
    expected = sorted(key(row["a"].value) for row in rows)
    assert expected, f"the curated data names {member} in alliances"
    body = get_json(client, "/api/v1/alliance", member=member)
    assert [item["key"] for item in body["items"]] == expected


def filter_values(store: EmbeddedStore) -> dict[str, str]:
    """A key for each filter that the graph uses, so that every filter has something to find."""

    def first(query: str) -> str:
        return key(select(store, f"SELECT ?v WHERE {{ {query} }} ORDER BY ?v LIMIT 1")[0]["v"].value)

    return {
        "member": first("?m org:member ?v . ?v a sck:Company"),
        "company": first("?m org:member ?v . ?v a sck:Company"),
        "city": first("?m org:member ?mun . ?mun sck:municipalityOf ?v"),
        "alliance": first("?m org:organization ?v"),
        "theme": first("?a a sck:Alliance ; sck:theme ?v"),
        "role": first("?m a org:Membership ; org:role ?v"),
        "post_role": first("?p a org:Post ; org:role ?v"),
        "active_on": "2017-06-30",
        "q": "smart",
    }


@pytest.mark.parametrize("kind", sorted(FILTERS))
def test_every_filter_of_every_type_narrows_the_list(client: httpx.Client, store: EmbeddedStore, kind: str) -> None:
    values = filter_values(store)
    if kind == "person":
        values["role"] = values["post_role"]
    everything = {key(row["s"].value) for row in select(store, f"SELECT ?s WHERE {{ ?s a sck:{kind.capitalize()} }}")}
    for name in FILTERS[kind]:
        narrowed = get_json(client, f"/api/v1/{kind}", limit=500, **{name: values[name]})
        assert {item["key"] for item in narrowed["items"]} <= everything, name
        assert narrowed["total"] <= len(everything)
    together = {name: values[name] for name in FILTERS[kind]}
    assert get_json(client, f"/api/v1/{kind}", **together)["total"] >= 0


def test_pages_walk_every_source_once_in_key_order(client: httpx.Client, store: EmbeddedStore) -> None:
    expected = sorted(key(row["s"].value) for row in select(store, "SELECT ?s WHERE { ?s a sck:Source }"))
    seen: list[str] = []
    url: str | None = "/api/v1/source?limit=17"
    while url is not None:
        body = get_json(client, url)
        assert body["total"] == len(expected) and body["limit"] == 17
        seen += [item["key"] for item in body["items"]]
        url = body["next"]
    assert seen == expected


def test_active_on_counts_a_year_precise_start_from_its_first_day(client: httpx.Client, store: EmbeddedStore) -> None:
    """A membership that began "in 2016" is running on 2016-01-01 (it may have), not on 2015-12-31."""
    rows = select(
        store,
        """SELECT ?a ?member ?start WHERE {
        ?m org:organization ?a ; org:member ?member ; sck:startDate ?start ; sck:startEarliest ?from .
        FILTER(DATATYPE(?start) = xsd:gYear)
        FILTER NOT EXISTS { ?m sck:endLatest ?end }
        FILTER NOT EXISTS { ?other org:organization ?a ; org:member ?member ; sck:startEarliest ?earlier .
                            FILTER(?earlier < ?from) } } ORDER BY ?a ?member""",
    )
    assert rows, "the curated data has year-precise membership starts"
    alliance, member, year = key(rows[0]["a"].value), rows[0]["member"].value, int(rows[0]["start"].value)
    kind, member_key = member.removeprefix(f"{NAMESPACE}id/").split("/")
    assert kind in ("municipality", "company", "organization")
    first_day = date(year, 1, 1)

    def running(day: date) -> bool:
        body = get_json(client, "/api/v1/alliance", member=member_key, active_on=day.isoformat())
        return alliance in {item["key"] for item in body["items"]}

    assert running(first_day)
    assert running(date(year, 12, 31))
    assert not running(first_day - timedelta(days=1))


def test_search_folds_case_accents_and_umlaut_spellings(client: httpx.Client, store: EmbeddedStore) -> None:
    (row,) = select(
        store, "SELECT ?city ?label WHERE { ?city rdfs:label ?label }", city=thing("city", "ruesselsheim-am-main")
    )
    label = row["label"].value
    assert "ü" in label
    for query in ("russelsheim", "RUESSELSHEIM", label, label.upper()):
        hits = get_json(client, "/api/v1/search", q=query)["items"]
        assert {
            "id": thing("city", "ruesselsheim-am-main").value,
            "key": "ruesselsheim-am-main",
            "type": "city",
            "label": label,
            "page": "/doc/city/ruesselsheim-am-main",
        } in hits, query
    listed = get_json(client, "/api/v1/city", q="RUESSELSHEIM")["items"]
    assert "ruesselsheim-am-main" in {item["key"] for item in listed}
    assert {item["page"] for item in listed} == {f"/doc/city/{item['key']}" for item in listed}
    # The site's search page links each hit where the API says its page is.
    found = client.get("/search", params={"q": "russelsheim"}).text
    assert all(f'<a href="{hit["page"]}">' in found for hit in hits)
    assert all("russelsheim" in fold(item["label"]) for item in listed)
    first = get_json(client, "/api/v1/search", q="DORTMUND", limit=1)
    assert first["items"][0]["key"] == "dortmund" and first["items"][0]["type"] == "city"
    assert first["total"] > 1 and first["next"] is not None
    sharp_s = [
        r["l"].value
        for r in select(store, "SELECT ?l WHERE { ?c a sck:City ; rdfs:label ?l FILTER(CONTAINS(?l, 'ß')) }")
    ]
    for town in sharp_s:
        hits = get_json(client, "/api/v1/search", q=town.replace("ß", "SS").upper(), type="city")["items"]
        assert town in {hit["label"] for hit in hits}


def test_folding_is_the_same_for_every_spelling() -> None:
    assert fold("Rüsselsheim") == fold("RUESSELSHEIM") == fold("russelsheim") == "russelsheim"
    assert fold("Haßfurt") == fold("HASSFURT") == fold("hassfurt")
    assert fold("Köln-Mülheim") == fold("koeln mulheim")


@pytest.mark.parametrize(
    ("url", "headers", "status", "says"),
    [
        ("/api/v1/spaceship", {}, 404, "alliance, city"),
        ("/api/v1/city/atlantis", {}, 404, "atlantis"),
        ("/api/v1/city/Dort mund", {}, 404, "no city"),
        ("/api/v1/city?limit=501", {}, 422, "limit"),
        ("/api/v1/city?limit=0", {}, 422, "limit"),
        ("/api/v1/city?offset=-1", {}, 422, "offset"),
        ("/api/v1/city?theme=mobility", {}, 400, "the filters of city are: active_on, alliance, q, role"),
        ("/api/v1/alliance?membr=dortmund", {}, 400, "member"),
        ("/api/v1/alliance?active_on=2017-02-30", {}, 422, "active_on"),
        ("/api/v1/alliance?active_on=yesterday", {}, 422, "active_on"),
        ("/api/v1/alliance?member=Dort%20mund", {}, 422, "member"),
        ("/api/v1/search", {}, 422, "q"),
        ("/api/v1/search?q=--", {}, 422, "letter or digit"),
        ("/api/v1/source?q=%20-%20", {}, 422, "letter or digit"),
        ("/api/v1/search?q=x&type=spaceship", {}, 404, "spaceship"),
        ("/api/v1/city/dortmund", {"Accept": "text/csv"}, 406, "application/ld+json"),
        # ?format= is read as on every route: a format the item does not offer is refused, naming those it does.
        ("/api/v1/city/dortmund?format=nt", {}, 400, "use one of json (application/json), jsonld"),
        ("/api/v1/city/dortmund?format=ttl", {}, 400, "jsonld (application/ld+json)"),
        ("/api/v1/city?format=jsonld", {}, 400, "JSON-LD is not offered here; use one of json (application/json)"),
    ],
)
def test_bad_requests_get_a_json_error_with_the_right_status(
    client: httpx.Client, url: str, headers: dict[str, str], status: int, says: str
) -> None:
    response = client.get(url, headers=headers)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["status"] == status
    assert says in error["message"]
    assert "Traceback" not in response.text


def test_openapi_describes_every_response(client: httpx.Client) -> None:
    spec = get_json(client, "/openapi.json")
    paths = spec["paths"]
    for path in ("/api/v1/search", "/api/v1/{type}", "/api/v1/{type}/{key}"):
        operation = paths[path]["get"]
        assert "$ref" in str(operation["responses"]["200"]["content"]["application/json"]["schema"]), path
        assert operation["responses"]["404"]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorBody")
    item = paths["/api/v1/{type}/{key}"]["get"]["responses"]["200"]["content"]
    assert len(item["application/json"]["schema"]["oneOf"]) == 9
    assert "application/ld+json" in item
    assert "earliest possible start" in paths["/api/v1/{type}"]["get"]["description"]
    schemas = spec["components"]["schemas"]
    assert {"Alliance", "City", "Membership", "Event", "Page", "Ref", "AgentRef", "SourceRef"} <= set(schemas)
    assert {"date", "date_by", "date_earliest", "date_latest", "date_support"} <= set(schemas["Event"]["properties"])
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


@pytest.mark.parametrize(
    ("query", "accept", "media_type"),
    [
        ("?format=jsonld", None, "application/ld+json"),
        ("?format=json-ld", "application/json", "application/ld+json"),
        ("?format=json", "application/ld+json", "application/json"),
        ("", "application/ld+json", "application/ld+json"),
        ("", None, "application/json"),
    ],
)
def test_an_item_is_sent_in_the_format_asked_for_by_format_else_by_accept(
    client: httpx.Client, query: str, accept: str | None, media_type: str
) -> None:
    response = client.get(f"/api/v1/city/dortmund{query}", headers={"Accept": accept} if accept else {})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == media_type
    assert ("@context" in response.json()) == (media_type == "application/ld+json")


@pytest.mark.parametrize(
    "kind", ["alliance", "city", "municipality", "company", "agreement", "pilot", "person", "source"]
)
def test_jsonld_says_what_the_graph_says(client: httpx.Client, store: EmbeddedStore, kind: str) -> None:
    """Every link and every date the JSON-LD states is a triple of the graph."""
    richest = f"SELECT ?s (COUNT(*) AS ?n) WHERE {{ ?s a sck:{kind.capitalize()} ; ?p ?o }} GROUP BY ?s"
    iri = select(store, f"{richest} ORDER BY DESC(?n) ?s LIMIT 1")[0]["s"].value
    response = client.get(f"/api/v1/{kind}/{key(iri)}", headers={"Accept": "application/ld+json"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/ld+json"
    assert "Accept" in response.headers["vary"]
    document = response.json()
    assert document["@id"] == iri and "@context" in document
    graph = rdflib.Graph().parse(data=response.text, format="json-ld")
    assert (rdflib.URIRef(iri), rdflib.RDF.type, rdflib.URIRef(SCK + kind.capitalize())) in graph
    checked = 0
    for subject, predicate, obj in graph:
        if isinstance(obj, rdflib.URIRef) or (isinstance(obj, rdflib.Literal) and str(obj.datatype) == XSD_DATE):
            term: ox.NamedNode | ox.Literal = (
                ox.NamedNode(str(obj))
                if isinstance(obj, rdflib.URIRef)
                else ox.Literal(str(obj), datatype=ox.NamedNode(XSD_DATE))
            )
            bound = {"s": ox.NamedNode(str(subject)), "p": ox.NamedNode(str(predicate)), "o": term}
            assert store.query("ASK { ?s ?p ?o }", substitutions=bound), (subject, predicate, obj)
            checked += 1
    assert checked >= 3


def test_a_start_known_only_as_a_bound_is_given_as_a_bound(client: httpx.Client) -> None:
    """ZTE's role in Drei gewinnt is reported by an article of 2016 ("two weeks ago"): by 2016, not in 2016."""
    body = get_json(client, "/api/v1/alliance/drei-gewinnt")
    (zte,) = [m for m in body["memberships"] if m["key"] == "drei-gewinnt-zte-central-implementation-partner"]
    assert (zte["since"], zte["since_by"], zte["since_earliest"], zte["since_latest"]) == (
        None,
        "2016",
        None,
        "2016-12-31",
    )
    assert zte["since_support"] == 1
    stated = [m for m in body["memberships"] if m["since"]]
    assert stated and all(m["since_by"] is None and m["since_support"] >= 1 for m in stated)
    agreement = get_json(client, "/api/v1/agreement/zte-drei-gewinnt-2016")
    assert (agreement["signed"], agreement["signed_by"], agreement["signed_support"]) == (None, "2016", 1)
    assert agreement["signed_earliest"] is None and agreement["scheduled_end_earliest"] is None
    assert agreement["scheduled_end_latest"] == "2019-12-31"


@pytest.mark.parametrize("alliance", ["mysmartlife", "telekom-park-and-joy"])
def test_events_give_their_date_or_bound_and_support(client: httpx.Client, store: EmbeddedStore, alliance: str) -> None:
    """Each event (a founding too) says when, stated or only bounded, and by how many sources, as the graph does."""
    body = get_json(client, f"/api/v1/alliance/{alliance}")
    events = {event["id"]: event for event in body["events"]}
    rows = select(
        store,
        """SELECT ?a ?e ?kind ?date ?by ?earliest ?latest ?support WHERE { ?a sck:event ?e .
        ?e sck:eventKind ?kind OPTIONAL { ?e sck:latest ?latest ; sck:dateSupport ?support }
        OPTIONAL { ?e sck:date ?date } OPTIONAL { ?e sck:noLaterThan ?by } OPTIONAL { ?e sck:earliest ?earliest } }""",
        a=thing("alliance", alliance),
    )
    assert rows and set(events) == {row["e"].value for row in rows}
    for row in rows:
        event = events[row["e"].value]
        assert event["kind"]["id"] == row["kind"].value and event["kind"]["label"]
        assert event["date"] == (row["date"].value if row["date"] else None)
        assert event["date_by"] == (row["by"].value if row["by"] else None)
        assert event["date_earliest"] == (row["earliest"].value if row["earliest"] else None)
        assert event["date_latest"] == (row["latest"].value if row["latest"] else None)
        assert event["date_support"] == (int(row["support"].value) if row["support"] else None)
        assert (event["date"] or event["date_by"]) is None or event["date_support"] >= 1
        assert event["sources"] and all(source["label"] for source in event["sources"])
    if alliance == "telekom-park-and-joy":  # founded by March 2017: a bound, with no earliest day
        (founding,) = [e for e in body["events"] if e["kind"]["key"] == "founding"]
        assert (founding["date"], founding["date_by"], founding["date_earliest"]) == (None, "2017-03", None)


def test_active_on_counts_a_bounded_start_from_its_latest_day(client: httpx.Client, store: EmbeddedStore) -> None:
    """A membership reported by October 2018 is running from 31 October 2018 on; before, nothing says it was."""
    rows = select(
        store,
        """SELECT ?a ?member ?latest WHERE {
        ?m org:organization ?a ; org:member ?member ; sck:startNoLaterThan ?by ; sck:startLatest ?latest .
        FILTER NOT EXISTS { ?m sck:endLatest ?end }
        FILTER NOT EXISTS { ?other org:organization ?a ; org:member ?member ; sck:startLatest ?earlier .
                            FILTER(?other != ?m && ?earlier <= ?latest) } } ORDER BY ?a ?member""",
    )
    assert rows, "the curated data has memberships known only by a bound"
    for row in rows[:3]:
        alliance, latest = key(row["a"].value), date.fromisoformat(row["latest"].value)
        member_key = key(row["member"].value)

        def running(day: date, member: str = member_key, name: str = alliance) -> bool:
            body = get_json(client, "/api/v1/alliance", member=member, active_on=day.isoformat())
            return name in {item["key"] for item in body["items"]}

        assert running(latest), (alliance, member_key)
        assert not running(latest - timedelta(days=1)), (alliance, member_key)


def test_every_link_names_the_configured_public_address(published_store: Path) -> None:
    """Behind a proxy the service is reached at its base_url: the REST API's links say so, as the other areas do."""
    base = "https://kg.example.org"
    server = start_server(published_store, {"SMARTCITY_KG_BASE_URL": f"{base}/"})
    try:
        with server.client() as client:
            index = get_json(client, "/api/v1")
            listed = get_json(client, "/api/v1/city", limit=1)
            found = get_json(client, "/api/v1/search", q="dortmund", limit=1)
            reconcile = get_json(client, "/reconcile")
            described = client.get("/doc/city/dortmund.jsonld").json()
            service = client.get("/sparql", headers={"Accept": "text/turtle"}).text
    finally:
        stop_server(server)
    assert index["openapi"] == f"{base}/openapi.json"
    assert index["search"] == f"{base}/api/v1/search?q="
    assert set(index["types"].values()) == {f"{base}/api/v1/{kind}" for kind in index["types"]}
    assert listed["next"] == f"{base}/api/v1/city?limit=1&offset=1"
    assert found["next"] == f"{base}/api/v1/search?q=dortmund&limit=1&offset=1"
    assert reconcile["view"]["url"].startswith(f"{base}/")
    assert described["@context"] == f"{base}/context.jsonld"
    assert f"<{base}/sparql>" in service
