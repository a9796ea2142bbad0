"""/reconcile over real HTTP: every kind of answer checked against the specification's JSON Schemas, the matching
a spreadsheet user relies on, and bad input answered with a clear 4xx."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from tests.conftest import Server

Check = Callable[[str, str, Any], None]


@pytest.fixture
def check(shared_dir: Path) -> Check:
    """check(version, schema file, document): validates against the vendored schema of that API version."""
    folder = shared_dir / "vendor" / "reconciliation-api"
    if not folder.is_dir():
        pytest.skip(f"{folder} is not present (the Reconciliation API's JSON Schemas)")
    registries: dict[str, Registry] = {}
    schemas: dict[tuple[str, str], Any] = {}
    for version in ("0.2", "1.0-draft"):
        registry: Registry = Registry()
        for path in sorted((folder / version / "schemas").glob("*.json")):
            document = json.loads(path.read_text(encoding="utf-8"))
            schemas[version, path.name] = document
            resource = Resource.from_contents(document, default_specification=DRAFT7)
            registry = registry.with_resource(document["$id"].rstrip("#"), resource)
        registries[version] = registry

    def validate(version: str, name: str, document: Any) -> None:
        validator = jsonschema.Draft7Validator(schemas[version, name], registry=registries[version])
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]
        assert not errors, errors

    return validate


def reconcile(client: httpx.Client, queries: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/reconcile", data={"queries": json.dumps(queries)})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def first(answer: dict[str, Any], key: str = "q0") -> dict[str, Any]:
    result: dict[str, Any] = answer[key]["result"][0]
    return result


# --- every kind of answer, against the schemas ----------------------------------------------------------------
def test_the_manifests_follow_the_schemas_and_name_the_routes_they_offer(client: httpx.Client, check: Check) -> None:
    manifest = client.get("/reconcile").json()
    check("0.2", "manifest.json", manifest)
    assert {t["id"] for t in manifest["defaultTypes"]} == {
        "city",
        "municipality",
        "company",
        "organization",
        "alliance",
        "agreement",
        "pilot",
        "person",
    }
    assert manifest["identifierSpace"] == "https://w3id.org/smartcity-kg/id/"
    for service in manifest["suggest"].values():
        assert client.get(service["service_url"] + service["service_path"], params={"prefix": "d"}).status_code == 200
    propose = manifest["extend"]["propose_properties"]
    assert client.get(propose["service_url"] + propose["service_path"], params={"type": "city"}).status_code == 200
    preview = client.get(manifest["preview"]["url"].replace("{{id}}", "city/dortmund"))
    assert preview.status_code == 200
    # identifierSpace + id is the thing's IRI; the view URL resolves it on this service
    view = client.get(manifest["view"]["url"].replace("{{id}}", "city/dortmund"), follow_redirects=True)
    assert view.status_code == 200

    draft = client.get("/reconcile/1.0-draft").json()
    check("1.0-draft", "manifest.json", draft)


def test_queries_by_post_form_and_by_get_answer_alike(client: httpx.Client, check: Check) -> None:
    queries = {
        "q0": {"query": "Stadt Dortmund", "type": "city", "limit": 3},
        "q1": {"query": "IHK Dortmund", "type": ["organization", "company"]},
        "q2": {"query": "Dortmund", "properties": [{"pid": "land", "v": "NRW"}, {"pid": "ags", "v": 5913000}]},
    }
    check("0.2", "reconciliation-query-batch.json", queries)
    posted = reconcile(client, queries)
    check("0.2", "reconciliation-result-batch.json", posted)
    got = client.get("/reconcile", params={"queries": json.dumps(queries)})
    assert got.status_code == 200
    assert got.json() == posted
    assert first(posted)["id"] == "city/dortmund" and first(posted)["match"] is True
    assert first(posted, "q1")["id"] == "organization/ihk-dortmund"
    assert first(posted, "q2")["id"] == "city/dortmund"  # the AGS read as a number keeps its leading zero
    assert {"ags_agrees", "land_agrees"} <= {f["id"] for f in first(posted, "q2")["features"]}


def test_the_draft_answers_its_own_batches(client: httpx.Client, check: Check) -> None:
    body = {
        "queries": [
            {
                "type": "company",
                "limit": 2,
                "conditions": [{"matchType": "name", "propertyValue": "ZTE Deutschland GmbH"}],
            },
            {
                "conditions": [
                    {"matchType": "property", "propertyId": "ags", "propertyValue": "05913000", "required": True}
                ]
            },
        ]
    }
    check("1.0-draft", "reconciliation-query-batch.json", body)
    response = client.post("/reconcile/1.0-draft/reconcile", json=body)
    assert response.status_code == 200, response.text
    check("1.0-draft", "reconciliation-result-batch.json", response.json())
    results = response.json()["results"]
    assert results[0]["candidates"][0]["id"] == "company/zte-deutschland"
    assert [c["id"] for c in results[1]["candidates"]] == ["city/dortmund"]


@pytest.mark.parametrize("root", ["/reconcile", "/reconcile/1.0-draft"])
def test_suggest_services_follow_the_schemas(client: httpx.Client, check: Check, root: str) -> None:
    version = "0.2" if root == "/reconcile" else "1.0-draft"
    entities = client.get(f"{root}/suggest/entity", params={"prefix": "dort", "type": "city"}).json()
    check(version, "suggest-entities-response.json", entities)
    assert entities["result"][0]["id"] == "city/dortmund"
    by_ags = client.get(f"{root}/suggest/entity", params={"prefix": "05913000"}).json()
    assert by_ags["result"][0]["id"] == "city/dortmund"
    types = client.get(f"{root}/suggest/type", params={"prefix": "comp"}).json()
    check(version, "suggest-types-response.json", types)
    assert [t["id"] for t in types["result"]] == ["company"]
    properties = client.get(f"{root}/suggest/property", params={"prefix": "ags", "type": "city"}).json()
    check(version, "suggest-properties-response.json", properties)
    assert "ags" in [p["id"] for p in properties["result"]]


@pytest.mark.parametrize(
    "kind", ["city", "municipality", "company", "organization", "alliance", "agreement", "pilot", "person"]
)
def test_each_type_proposes_properties_and_the_sources_of_each(client: httpx.Client, check: Check, kind: str) -> None:
    for root, version in (("/reconcile", "0.2"), ("/reconcile/1.0-draft", "1.0-draft")):
        proposal = client.get(f"{root}/extend/propose", params={"type": kind}).json()
        check(version, "data-extension-property-proposal.json", proposal)
        ids = [p["id"] for p in proposal["properties"]]
        assert proposal["type"] == kind and "sources" in ids
        assert all(f"{pid}.sources" in ids for pid in ids if pid != "sources" and not pid.endswith(".sources"))
    limited = client.get("/reconcile/extend/propose", params={"type": kind, "limit": 2}).json()
    assert len(limited["properties"]) == 2 and limited["limit"] == 2


def test_data_extension_gives_values_with_their_sources(client: httpx.Client, check: Check) -> None:
    query = {
        "ids": ["city/dortmund", "company/huawei", "city/no-such-city"],
        "properties": [
            {"id": "ags"},
            {"id": "ags.sources"},
            {"id": "wikidata"},
            {"id": "country"},
            {"id": "alliances", "settings": {"limit": 1}},
        ],
    }
    check("0.2", "data-extension-query.json", query)
    answer = client.post("/reconcile", data={"extend": json.dumps(query)}).json()
    check("0.2", "data-extension-response.json", answer)
    rows = answer["rows"]
    assert rows["city/dortmund"]["ags"] == [{"str": "05913000"}]
    assert "source/bkg-vg250-2021" in {value["id"] for value in rows["city/dortmund"]["ags.sources"]}
    assert all(value["name"] for value in rows["city/dortmund"]["ags.sources"])
    assert rows["city/dortmund"]["wikidata"] == [{"str": "Q1295"}]
    assert rows["company/huawei"]["country"] == [{"str": "CN"}]
    assert rows["company/huawei"]["ags"] == []  # a company has no AGS
    assert len(rows["city/dortmund"]["alliances"]) == 1
    assert rows["city/no-such-city"] == {"ags": [], "ags.sources": [], "wikidata": [], "country": [], "alliances": []}
    meta = {m["id"]: m for m in answer["meta"]}
    assert meta["alliances"]["type"] == {"id": "alliance", "name": "Alliance"}

    draft = client.post("/reconcile/1.0-draft/extend", json=query)
    assert draft.status_code == 200, draft.text
    check("1.0-draft", "data-extension-response.json", draft.json())
    assert draft.json()["rows"][0]["properties"][0] == {"id": "ags", "values": [{"str": "05913000"}]}


def test_the_preview_is_an_html_card_of_the_entity(client: httpx.Client) -> None:
    card = client.get("/reconcile/preview", params={"id": "city/dortmund"})
    assert card.status_code == 200 and card.headers["content-type"].startswith("text/html")
    assert "Dortmund" in card.text and "05913000" in card.text and "Q1295" in card.text
    draft = client.get("/reconcile/1.0-draft/preview", params={"id": "company/huawei"})
    assert "Huawei" in draft.text
    missing = client.get("/reconcile/preview", params={"id": "city/<script>"})
    assert missing.status_code == 404 and "<script>" not in missing.text
    assert missing.headers["content-type"].startswith("text/html")
    # A client that reads JSON gets the service's one error body instead of a card.
    for accept in ("application/json", "application/problem+json"):
        refused = client.get("/reconcile/preview", params={"id": "nosuch"}, headers={"Accept": accept})
        assert refused.status_code == 404 and refused.headers["content-type"].startswith(accept)
        assert refused.json()["error"]["status"] == 404 and "nosuch" in refused.json()["error"]["message"]


# --- matching --------------------------------------------------------------------------------------------------
def test_match_is_set_only_where_one_candidate_stands_out(client: httpx.Client) -> None:
    answer = reconcile(
        client,
        {
            "sure": {"query": "Huawei Technologies Deutschland GmbH", "type": "company"},
            "two": {"query": "Huawei Technologies Co. Ltd.", "type": "company"},  # the group and its German arm tie
            "typo": {"query": "Dortmnud", "type": "city"},
            "none": {"query": "Robert Bosch GmbH", "type": "company"},
        },
    )
    assert first(answer, "sure")["id"] == "company/huawei-deutschland" and first(answer, "sure")["match"] is True
    assert not any(c["match"] for c in answer["two"]["result"])
    assert {c["id"] for c in answer["two"]["result"][:2]} == {"company/huawei", "company/huawei-deutschland"}
    assert first(answer, "typo")["id"] == "city/dortmund" and first(answer, "typo")["match"] is False
    assert not any(c["match"] for c in answer["none"]["result"])
    for result in answer.values():
        for candidate in result["result"]:
            assert 0 <= candidate["score"] <= 100
            assert {f["id"] for f in candidate["features"]} >= {"name", "identifier"}


def test_identifiers_match_exactly_and_contradictions_count_against(client: httpx.Client) -> None:
    answer = reconcile(
        client,
        {
            "ags": {"query": "05913000"},
            "qid": {"query": "http://www.wikidata.org/entity/Q160120"},
            "own": {"query": "https://w3id.org/smartcity-kg/id/company/cisco"},
            "only_ags": {"properties": [{"pid": "ags", "v": "06433012"}]},
            "contradicted": {
                "query": "Stadt Dortmund",
                "type": "city",
                "properties": [{"pid": "ags", "v": "05911000"}],
            },
        },
    )
    assert first(answer, "ags")["id"] == "city/dortmund" and first(answer, "ags")["match"] is True
    assert first(answer, "qid")["id"] == "company/huawei" and first(answer, "qid")["score"] == 100
    assert first(answer, "own")["id"] == "company/cisco"
    assert first(answer, "only_ags")["id"] == "city/ruesselsheim-am-main"
    contradicted = first(answer, "contradicted")
    assert contradicted["match"] is False and contradicted["score"] < 70
    assert {"id": "ags_agrees", "name": "ags agrees with the query", "value": False} in contradicted["features"]


def test_the_type_filter_and_limit_hold(client: httpx.Client) -> None:
    answer = reconcile(
        client, {"q0": {"query": "Dortmund", "type": "organization", "limit": 2}, "q1": {"query": "Stadt", "limit": 1}}
    )
    assert answer["q0"]["result"] and all(c["type"][0]["id"] == "organization" for c in answer["q0"]["result"])
    assert len(answer["q0"]["result"]) <= 2 and len(answer["q1"]["result"]) <= 1


def best_match(result: list[dict[str, Any]]) -> str | None:
    return next((c["id"] for c in result if c["match"]), None)


# Property values as spreadsheets write them: each is read as the data's own value, so it agrees (never -20).
READABLE = (
    [
        ("Huawei", "company", "country", value, "company/huawei")
        for value in ("China", "CHN", "Volksrepublik China", "cn", "People's Republic of China")
    ]
    + [
        ("Dortmund", "city", "ags", value, "city/dortmund")
        for value in ("5913000", "05 913 000", 5913000, "5913000.0", 5913000.0)
    ]
    + [
        ("Dortmund", "city", "wikidata", "q1295", "city/dortmund"),
        ("ZTE Deutschland GmbH", "company", "homepage", "www.zte-deutschland.de", "company/zte-deutschland"),
        ("ZTE Deutschland GmbH", "company", "homepage", "zte-deutschland.de/", "company/zte-deutschland"),
    ]
    + [
        ("Dortmund", "city", "land", value, "city/dortmund")
        for value in ("North Rhine-Westphalia", "DE-NW", "05", "NRW", "Nordrhein-Westfalen")
    ]
    + [("München", "city", "land", value, "city/muenchen") for value in ("Bavaria", "Freistaat Bayern", "DE-BY", "09")]
)


@pytest.mark.parametrize("case", READABLE, ids=[f"{c[2]}={c[3]}" for c in READABLE])
def test_property_values_are_read_as_spreadsheets_write_them(
    client: httpx.Client, case: tuple[str, str, str, Any, str]
) -> None:
    name, kind, pid, value, expect = case
    result = reconcile(client, {"q0": {"query": name, "type": kind, "properties": [{"pid": pid, "v": value}]}})
    best = first(result)
    assert best["id"] == expect and best["match"] is True, result
    assert {"id": f"{pid}_agrees", "name": f"{pid} agrees with the query", "value": True} in best["features"]


def test_a_value_that_cannot_be_read_is_no_evidence_but_a_readable_other_value_contradicts(
    client: httpx.Client,
) -> None:
    answer = reconcile(
        client,
        {
            "country": {"query": "Huawei", "type": "company", "properties": [{"pid": "country", "v": "Atlantis"}]},
            "land": {"query": "Dortmund", "type": "city", "properties": [{"pid": "land", "v": "Mittelerde"}]},
            "homepage": {"query": "ZTE Deutschland", "type": "company", "properties": [{"pid": "homepage", "v": "?"}]},
            "bool": {"query": "Dortmund", "type": "city", "properties": [{"pid": "ags", "v": True}]},
            "other_land": {"query": "Dortmund", "type": "city", "properties": [{"pid": "land", "v": "Bavaria"}]},
            "other_country": {"query": "Huawei", "type": "company", "properties": [{"pid": "country", "v": "FR"}]},
        },
    )
    for key in ("country", "land", "homepage", "bool"):
        best = first(answer, key)
        assert best["match"] is True and not any(f["id"].endswith("_agrees") for f in best["features"]), key
    for key, contradicted in (("other_land", "city/dortmund"), ("other_country", "company/huawei")):
        assert best_match(answer[key]["result"]) is None, key
        candidate = next(c for c in answer[key]["result"] if c["id"] == contradicted)
        agrees = [f["value"] for f in candidate["features"] if f["id"].endswith("_agrees")]
        assert candidate["score"] <= 80 and agrees == [False], key


NEAR_MISSES = [
    ("Amberg", "city"),
    ("Stadt Amberg", "city"),
    ("Stadt Ulmen", "city"),
    ("Landkreis Kassel", None),
    ("Stadtwerke Koblenz", None),
    ("IHK Hof", None),
    ("IHK Dorsten", None),
    ("IHK Lingen", None),
    ("IHK Esslingen", None),
    ("Wolfsburg AG", None),
    ("Hamburg GmbH", None),
    ("Köln AG", None),
    ("IHK", None),  # three chambers answer to it
]


def test_names_of_other_real_things_are_never_matched_at_once(client: httpx.Client) -> None:
    queries = {name: {"query": name} | ({"type": kind} if kind else {}) for name, kind in NEAR_MISSES}
    answer = reconcile(client, queries)
    wrong = {name: best_match(answer[name]["result"]) for name in queries if best_match(answer[name]["result"])}
    assert not wrong
    # what stays matched: the same words, a swap of two letters, a name run together, an umlaut written out
    kept = reconcile(
        client,
        {
            "exact": {"query": "Stadt Bamberg", "type": "city"},
            "ihk": {"query": "IHK zu Dortmund", "type": "organization"},
            "together": {"query": "Grow Smarter", "type": "alliance"},
            "umlaut": {"query": "Koeln", "type": "city"},
            "place": {"query": "Wolfsburg", "type": "city"},
        },
    )
    assert {key: best_match(value["result"]) for key, value in kept.items()} == {
        "exact": "city/bamberg",
        "ihk": "organization/ihk-dortmund",
        "together": "alliance/growsmarter",
        "umlaut": "city/koeln",
        "place": "city/wolfsburg",
    }
    legal = first(answer, "Wolfsburg AG")
    assert legal["id"] != "city/wolfsburg" or any(f["id"] == "legal_form_conflict" for f in legal["features"])


def test_a_name_and_an_identifier_that_name_different_things_match_neither(client: httpx.Client) -> None:
    answer = reconcile(
        client,
        {
            "any": {"query": "Dortmund", "properties": [{"pid": "ags", "v": "05315000"}]},
            "city": {"query": "Dortmund", "type": "city", "properties": [{"pid": "ags", "v": "05315000"}]},
            "agree": {"query": "Koeln", "type": "city", "properties": [{"pid": "ags", "v": "05315000"}]},
        },
    )
    assert best_match(answer["any"]["result"]) is None and best_match(answer["city"]["result"]) is None
    koeln = next(c for c in answer["city"]["result"] if c["id"] == "city/koeln")
    assert {"id": "name_conflict", "name": "the name does not agree with the identifier", "value": True} in koeln[
        "features"
    ]
    assert best_match(answer["agree"]["result"]) == "city/koeln"


def features_of(candidate: dict[str, Any]) -> set[str]:
    """The ids of the candidate's features that hold (true)."""
    return {f["id"] for f in candidate["features"] if f["value"] is True}


def test_a_river_or_region_that_contradicts_the_places_is_never_matched(client: httpx.Client) -> None:
    contradicting = {
        "Linz (Donau)": "city/linz-am-rhein",
        "Linz an der Donau": "city/linz-am-rhein",
        "Wörth am Main": "city/woerth-am-rhein",
        "Wörth an der Donau": "city/woerth-am-rhein",
        "Wörth a. d. Isar": "city/woerth-am-rhein",
        "Freiburg (Elbe)": "city/freiburg-im-breisgau",
        "Freiburg im Üechtland": "city/freiburg-im-breisgau",
        "Kirchheim bei Heidelberg": "city/kirchheim-bei-muenchen",
    }
    bare = {
        "Linz": "city/linz-am-rhein",
        "Stadt Linz": "city/linz-am-rhein",
        "Wörth": "city/woerth-am-rhein",
        "Kirchheim": "city/kirchheim-bei-muenchen",
        "Freiburg": "city/freiburg-im-breisgau",
    }
    fitting = {"Brandis (Sachsen)": "city/brandis", "Freiburg i. Br.": "city/freiburg-im-breisgau"}
    names = contradicting | bare | fitting
    answer = reconcile(client, {name: {"query": name, "type": "city", "limit": 5} for name in names})
    assert {name: best_match(answer[name]["result"]) for name in names} == dict.fromkeys(
        [*contradicting, *bare]
    ) | fitting
    for name, place in contradicting.items():
        candidate = next(c for c in answer[name]["result"] if c["id"] == place)
        assert "place_qualifier_conflict" in features_of(candidate), name
    for name, place in bare.items():
        candidate = first(answer, name)
        assert candidate["id"] == place and "place_qualifier_missing" in features_of(candidate), name


def test_an_umlaut_written_out_is_not_a_letter_to_drop(client: httpx.Client) -> None:
    near = {"Rauenheim": "city/raunheim", "Jenae": "city/jena", "Mors": "city/moers", "Sost": "city/soest"}
    same = {"Moers": "city/moers", "Mörs": "city/moers", "Koeln": "city/koeln", "Muenchen": "city/muenchen"}
    answer = reconcile(client, {name: {"query": name, "type": "city"} for name in near | same})
    for name, place in near.items():
        candidate = first(answer, name)
        assert candidate["id"] == place and not candidate["match"], (name, candidate)
        assert candidate["score"] < 100 and "name_exact" not in features_of(candidate), (name, candidate)
    for name, place in same.items():
        candidate = first(answer, name)
        assert candidate["id"] == place and candidate["match"] and "name_exact" in features_of(candidate), name


def test_an_identifier_of_another_thing_contradicts_a_name_without_identifiers(client: httpx.Client) -> None:
    cases = {
        "Kelsterbach": ("city", "wikidata", "Q1295", "city/kelsterbach", "city/dortmund"),
        "Materna": ("company", "wikidata", "Q81230", "company/materna", "company/siemens"),
        "Microsoft": (None, "homepage", "www.zte-deutschland.de", "company/microsoft", "company/zte-deutschland"),
        "Siemens": (None, "homepage", "https://www.zte-deutschland.de", "company/siemens", "company/zte-deutschland"),
    }
    queries = {
        name: {"query": name, "limit": 5, "properties": [{"pid": pid, "v": value}]} | ({"type": kind} if kind else {})
        for name, (kind, pid, value, _, _) in cases.items()
    }
    answer = reconcile(client, queries)
    for name, (_, pid, _, named, identified) in cases.items():
        result = answer[name]["result"]
        assert best_match(result) is None, (name, result)
        by_name = next(c for c in result if c["id"] == named)
        assert {"id": f"{pid}_agrees", "name": f"{pid} agrees with the query", "value": False} in by_name["features"]
        by_identifier = next(c for c in result if c["id"] == identified)
        assert "identifier" in features_of(by_identifier), name


def test_a_country_that_contradicts_a_place_blocks_the_match(client: httpx.Client) -> None:
    cases = {
        "austria": ("Stadt Ulm", None, "Österreich"),
        "code": ("Ulm", "city", "AT"),
        "vienna": ("Wien", None, "DE"),
        "municipality": ("Stadt Ulm", "municipality", "AT"),
    }
    queries = {
        key: {"query": name, "properties": [{"pid": "country", "v": country}]} | ({"type": kind} if kind else {})
        for key, (name, kind, country) in cases.items()
    }
    answer = reconcile(client, queries)
    assert {key: best_match(answer[key]["result"]) for key in cases} == dict.fromkeys(cases)
    municipality = first(answer, "municipality")
    assert municipality["id"] == "municipality/ulm"
    assert {"id": "country_agrees", "name": "country agrees with the query", "value": False} in municipality["features"]
    agrees = reconcile(client, {"q0": {"query": "Stadt Ulm", "properties": [{"pid": "country", "v": "Deutschland"}]}})
    assert best_match(agrees["q0"]["result"]) in ("city/ulm", "municipality/ulm")


def test_names_in_more_or_fewer_words_than_the_data_are_found(client: httpx.Client) -> None:
    cases = {
        "Fraunhofer IESE": ("organization", "organization/fraunhofer-iese"),
        "KfW Bankengruppe": (None, "organization/kfw"),
        "Menden (Sauerland)": ("city", "city/menden"),
        "Freiburg i. Br.": ("city", "city/freiburg-im-breisgau"),
        "Stadt Jena, Dezernat 3": (None, "city/jena"),
    }
    queries = {
        name: {"query": name, "limit": 3} | ({"type": kind} if kind else {}) for name, (kind, _) in cases.items()
    }
    answer = reconcile(client, queries)
    for name, (_, expect) in cases.items():
        found = [c["id"] for c in answer[name]["result"]]
        assert expect in found, (name, found)
    assert first(answer, "Menden (Sauerland)")["score"] >= 90 and first(answer, "Freiburg i. Br.")["score"] >= 90


def test_the_draft_matches_any_of_several_names_or_ids(client: httpx.Client, check: Check) -> None:
    def ask(conditions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        response = client.post("/reconcile/1.0-draft/reconcile", json={"queries": [{"conditions": conditions}]})
        assert response.status_code == 200, response.text
        check("1.0-draft", "reconciliation-result-batch.json", response.json())
        candidates: list[dict[str, Any]] = response.json()["results"][0]["candidates"]
        return candidates

    names = ask([{"matchType": "name", "propertyValue": ["Köln", "Cologne"]}])
    assert names[0]["id"] == "city/koeln" and names[0]["score"] == 100
    ids = ask([{"matchType": "id", "propertyValue": ["city/koeln", "company/cisco"]}])
    assert {c["id"] for c in ids[:2]} == {"city/koeln", "company/cisco"}
    assert not any(c["match"] for c in ids)  # two things named: neither is the one


def test_sources_are_described_previewed_and_looked_up(client: httpx.Client, check: Check) -> None:
    propose = client.get("/reconcile/extend/propose", params={"type": "source"})
    assert propose.status_code == 200, propose.text
    check("0.2", "data-extension-property-proposal.json", propose.json())
    assert {"title", "url", "publisher"} <= {p["id"] for p in propose.json()["properties"]}
    extended = client.post(
        "/reconcile",
        data={"extend": json.dumps({"ids": ["city/dortmund"], "properties": [{"id": "ags.sources"}]})},
    ).json()
    source = extended["rows"]["city/dortmund"]["ags.sources"][0]["id"]
    assert source.startswith("source/")
    assert client.get("/reconcile/preview", params={"id": source}).status_code == 200
    assert client.get("/api/v1/lookup", params={"id": source}).json()["type"] == "source"
    described = client.post(
        "/reconcile", data={"extend": json.dumps({"ids": [source], "properties": [{"id": "title"}]})}
    ).json()
    assert described["rows"][source]["title"][0]["str"]


def test_lookup_reads_identifiers_as_they_are_written(client: httpx.Client) -> None:
    for params in (
        {"wikidata": "q1295"},
        {"id": "https://w3id.org/smartcity-kg/id/city/dortmund"},
        {"ags": "5913000"},
    ):
        response = client.get("/api/v1/lookup", params=params)
        assert response.status_code == 200 and response.json()["key"] == "dortmund", (params, response.text)
    page = client.get("/api/v1/lookup", params={"homepage": "www.zte-deutschland.de"})
    assert page.status_code == 200 and page.json()["key"] == "zte-deutschland"
    # HEAD answers as GET does, without the body (it once fell through to /api/v1/{type}: 404).
    head = client.head("/api/v1/lookup", params={"ags": "05913000"})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"].startswith("application/json")
    twice = client.get("/api/v1/lookup?ags=05913000&ags=05315000")
    assert twice.status_code == 400 and "once" in twice.json()["error"]["message"]


def test_suggest_and_the_manifest_answer_as_clients_ask(client: httpx.Client) -> None:
    assert client.head("/reconcile").status_code == 200
    types = client.get("/reconcile/suggest/type", params={"prefix": "Gem"}).json()["result"]
    assert [t["id"] for t in types] == ["municipality"]
    offered = {
        kind: {p["id"] for p in client.get("/reconcile/suggest/property", params={"type": kind}).json()["result"]}
        for kind in ("alliance", "city")
    }
    alliance, city = offered["alliance"], offered["city"]
    assert "ags" in city and "land" in city and "ags" not in alliance and "country" not in alliance
    for url in ("/reconcile/suggest/entity", "/reconcile/suggest/property", "/reconcile/extend/propose"):
        twice = client.get(f"{url}?prefix=d&type=city&type=company")
        assert twice.status_code == 400 and "once" in twice.json()["error"]["message"], url


# --- bad input ---------------------------------------------------------------------------------------------------
BAD: list[tuple[str, dict[str, str], int, str]] = [
    ("malformed JSON", {"queries": "{not json"}, 400, "not valid JSON"),
    ("not an object", {"queries": "[1, 2]"}, 400, "JSON object"),
    ("huge batch", {"queries": json.dumps({f"q{i}": {"query": "x"} for i in range(101)})}, 400, "more than the 100"),
    ("huge limit", {"queries": json.dumps({"q0": {"query": "x", "limit": 10**9}})}, 400, "limit"),
    ("fractional limit", {"queries": json.dumps({"q0": {"query": "x", "limit": 2.5}})}, 400, "limit"),
    ("unknown type", {"queries": json.dumps({"q0": {"query": "x", "type": "planet"}})}, 400, "unknown type 'planet'"),
    (
        "unknown property",
        {"queries": json.dumps({"q0": {"query": "x", "properties": [{"pid": "zip", "v": "1"}]}})},
        400,
        "unknown property 'zip'",
    ),
    ("unknown field", {"queries": json.dumps({"q0": {"query": "x", "colour": "red"}})}, 400, "unknown field"),
    ("long text", {"queries": json.dumps({"q0": {"query": "x" * 10_000}})}, 400, "characters"),
    ("no text", {"queries": json.dumps({"q0": {"type": "city"}})}, 400, "needs a `query`"),
    (
        "extend unknown property",
        {"extend": json.dumps({"ids": ["city/dortmund"], "properties": [{"id": "x"}]})},
        400,
        "unknown property 'x'",
    ),
    (
        "extend too many ids",
        {"extend": json.dumps({"ids": [f"city/c{i}" for i in range(101)], "properties": [{"id": "ags"}]})},
        400,
        "at most",
    ),
    ("extend malformed", {"extend": "{"}, 400, "not valid JSON"),
    ("neither", {"something": "else"}, 400, "`queries`"),
    ("deep JSON", {"queries": "[" * 5000 + "]" * 5000}, 400, "nested too deeply"),
    ("deep JSON in extend", {"extend": "[" * 5000 + "]" * 5000}, 400, "nested too deeply"),
    ("long number", {"queries": '{"q0": {"query": "x", "limit": ' + "9" * 5000 + "}}"}, 400, "too long"),
    ("large number", {"queries": '{"q0": {"query": "x", "limit": ' + "9" * 400 + "}}"}, 400, "400 digits"),
    ("surrogate key", {"queries": '{"\\ud800": {"query": "x"}}'}, 400, "surrogate"),
    ("surrogate id", {"extend": '{"ids": ["\\udc00"], "properties": [{"id": "ags"}]}'}, 400, "surrogate"),
    ("huge type", {"queries": json.dumps({"q0": {"query": "x", "type": "t" * 500_000}})}, 400, "unknown type"),
    (
        "long value",
        {"queries": json.dumps({"q0": {"query": "x", "properties": [{"pid": "land", "v": "x" * 10_000}]}})},
        400,
        "characters",
    ),
    ("odd pid", {"queries": json.dumps({"q0": {"query": "x", "properties": [{"pid": {}, "v": 1}]}})}, 400, "unknown"),
    (
        "extend unknown setting",
        {"extend": json.dumps({"ids": ["city/dortmund"], "properties": [{"id": "ags", "settings": {"colour": 1}}]})},
        400,
        "only setting",
    ),
    ("empty type list", {"queries": json.dumps({"q0": {"query": "x", "type": []}})}, 400, "`type`"),
    ("repeated query id", {"queries": '{"q0": {"query": "Dortmund"}, "q0": {"query": "Köln"}}'}, 400, "'q0' twice"),
    (
        "both queries and extend",
        {
            "queries": json.dumps({"q0": {"query": "Dortmund"}}),
            "extend": json.dumps({"ids": ["city/dortmund"], "properties": [{"id": "ags"}]}),
        },
        400,
        "send one",
    ),
    (
        "many values",
        {
            "queries": json.dumps(
                {
                    f"q{n}": {"query": "x", "properties": [{"pid": "ags", "v": [str(v) for v in range(50)]}] * 2}
                    for n in range(10)
                }
            )
        },
        400,
        "smaller parts",
    ),
    (
        "many results",
        {"queries": json.dumps({f"q{n}": {"query": "x", "limit": 100} for n in range(11)})},
        400,
        "smaller parts",
    ),
    (
        "extend negative limit",
        {"extend": json.dumps({"ids": ["city/dortmund"], "properties": [{"id": "ags", "settings": {"limit": -5}}]})},
        400,
        "not -5",
    ),
]


@pytest.mark.parametrize(("what", "form", "status", "says"), BAD, ids=[case[0] for case in BAD])
def test_bad_requests_get_a_clear_answer(
    client: httpx.Client, what: str, form: dict[str, str], status: int, says: str
) -> None:
    response = client.post("/reconcile", data=form)
    assert response.status_code == status, response.text
    message = response.json()["error"]["message"]
    assert says in message and len(message) < 400
    if len(json.dumps(form)) < 6000 and {"queries", "extend"} & set(form):  # by GET alike, as a URL holds it
        assert client.get("/reconcile", params=form).status_code == status


def test_the_largest_allowed_batch_is_answered_in_bounded_time(client: httpx.Client) -> None:
    # Work at the bounds: 100 queries of 9 property values each (1,000 names and values), limit 10 each.
    values = [f"0591{n:04d}" for n in range(9)]
    batch = {
        f"q{n}": {"query": f"Stadt Name {n}", "limit": 10, "properties": [{"pid": "ags", "v": values}]}
        for n in range(100)
    }
    started = time.perf_counter()
    response = client.post("/reconcile", data={"queries": json.dumps(batch)})
    assert response.status_code == 200 and len(response.json()) == 100
    assert time.perf_counter() - started < 10
    draft = {
        "queries": [
            {"conditions": [{"matchType": "name", "propertyValue": [f"Name {n}" for n in range(50)]}]}
            for _ in range(21)
        ]
    }
    refused = client.post("/reconcile/1.0-draft/reconcile", json=draft)
    assert refused.status_code == 400 and "smaller parts" in refused.json()["error"]["message"]


def test_hostile_json_bodies_of_the_draft_are_refused(client: httpx.Client) -> None:
    for body in (
        "[" * 5000 + "]" * 5000,
        '{"queries": [' + "9" * 5000 + "]}",
        '{"queries": [{"conditions": [{"matchType": "name", "propertyValue": "\\ud800"}]}]}',
    ):
        for url in ("/reconcile/1.0-draft/reconcile", "/reconcile/1.0-draft/extend"):
            response = client.post(url, content=body, headers={"Content-Type": "application/json"})
            assert response.status_code == 400 and response.json()["error"]["message"], (url, body[:40])


def test_bad_requests_elsewhere_get_a_clear_answer(client: httpx.Client) -> None:
    huge = client.post(
        "/reconcile",
        content=b"queries=" + b"x" * 2_000_000,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert huge.status_code == 413 and "bytes" in huge.json()["error"]["message"]
    for url, params in (
        ("/reconcile/extend/propose", {}),
        ("/reconcile/extend/propose", {"type": "planet"}),
        ("/reconcile/extend/propose", {"type": "city", "limit": "0"}),
        ("/reconcile/suggest/entity", {"prefix": "a", "type": "planet"}),
        ("/reconcile/suggest/entity", {"prefix": "a", "limit": "0"}),
        ("/reconcile/suggest/entity", {"prefix": "a", "cursor": "-1"}),
        ("/reconcile/suggest/entity", {"prefix": "a", "limit": "many"}),
        ("/reconcile/1.0-draft/suggest/entity", {"prefix": "a", "limit": "1000"}),
    ):
        response = client.get(url, params=params)
        assert response.status_code == 400 and response.json()["error"]["message"], (url, params)
    # Percent-encoded bytes that are not UTF-8: refused, not read as replacement characters.
    for invalid in (
        client.post(
            "/reconcile",
            content=b"queries=%7B%22q0%22%3A%7B%22query%22%3A%22%FF%22%7D%7D",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
        client.get("/reconcile?queries=%7B%22q0%22%3A%7B%22query%22%3A%22%FF%22%7D%7D"),
    ):
        assert invalid.status_code == 400 and "cannot be read" in invalid.json()["error"]["message"]
    twice = client.get("/reconcile", params=[("queries", '{"q0": {"query": "a"}}'), ("queries", '{"q1": {}}')])
    assert twice.status_code == 400 and "twice" in twice.json()["error"]["message"]
    multipart = client.post("/reconcile", files={"queries": ("q.json", b'{"q0": {"query": "x"}}')})
    assert multipart.status_code == 415 and "urlencoded" in multipart.json()["error"]["message"]
    as_json = client.post("/reconcile", json={"queries": {"q0": {"query": "Dortmund", "type": "city"}}})
    assert as_json.json()["q0"]["result"][0]["id"] == "city/dortmund"
    draft = client.post("/reconcile/1.0-draft/reconcile", content=b"{", headers={"Content-Type": "application/json"})
    assert draft.status_code == 400 and "not valid JSON" in draft.json()["error"]["message"]
    none = client.post(
        "/reconcile/1.0-draft/reconcile",
        json={"queries": [{"conditions": [{"matchType": "name", "propertyValue": "x", "matchQuantifier": "all"}]}]},
    )
    assert none.status_code == 400 and "matchQuantifier" in none.json()["error"]["message"]


def test_the_routes_are_in_the_openapi_description(live_server: Server) -> None:
    with live_server.client() as http:
        paths = http.get("/openapi.json").json()["paths"]
    assert {
        "/reconcile",
        "/reconcile/suggest/entity",
        "/reconcile/extend/propose",
        "/reconcile/preview",
        "/reconcile/1.0-draft/reconcile",
        "/api/v1/lookup",
    } <= set(paths)


def test_suggest_finds_a_name_with_umlauts_however_it_is_typed(client: httpx.Client) -> None:
    for prefix in ("Mün", "Muen", "Mun", "MÜNCH"):
        response = client.get("/reconcile/suggest/entity", params={"prefix": prefix, "type": "city"})
        assert "city/muenchen" in [item["id"] for item in response.json()["result"]], prefix
