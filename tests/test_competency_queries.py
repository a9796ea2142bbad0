"""The researchers' questions (queries/*.rq) answered on the real curated data, as the sources give the answers."""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path

import pyoxigraph as ox
import pytest

from graph.pipeline.build import build_triples, new_graph
from graph.pipeline.load import Records, load_records
from graph.store import EmbeddedStore, open_embedded

QUERIES = Path(__file__).resolve().parent.parent / "queries"
DATA = Path(__file__).resolve().parent.parent / "data"
ID = "https://w3id.org/smartcity-kg/id/"
NAMESPACE = "https://w3id.org/smartcity-kg/"
MINI = Path(__file__).resolve().parent / "fixtures" / "mini"


@pytest.fixture(scope="module")
def store(published_store: Path) -> EmbeddedStore:
    return open_embedded(published_store)


@pytest.fixture(scope="module")
def records() -> Records:
    return load_records(DATA)


def ask(store: EmbeddedStore | ox.Store, name: str, **params: ox.NamedNode | ox.Literal) -> list[dict[str, str]]:
    """Run queries/<name>.rq with its parameters bound; rows as plain strings (IRIs without brackets)."""
    text = (QUERIES / f"{name}.rq").read_text(encoding="utf-8")
    if isinstance(store, ox.Store):  # pyoxigraph's own store takes its variables as such
        outcome = store.query(text, substitutions={ox.Variable(n): value for n, value in params.items()})
    else:
        outcome = store.query(text, substitutions=params)
    assert isinstance(outcome, ox.QuerySolutions)
    names = [v.value for v in outcome.variables]
    return [{n: (t.value if t is not None else "") for n, t in zip(names, row, strict=True)} for row in outcome]


def iri(kind: str, key: str) -> ox.NamedNode:
    return ox.NamedNode(f"{ID}{kind}/{key}")


def test_every_question_has_a_query_and_every_query_runs(store: EmbeddedStore) -> None:
    files = sorted(QUERIES.glob("*.rq"))
    assert {f.name[:2] for f in files} == {f"{n:02d}" for n in range(1, 14)}
    for file in files:
        assert isinstance(store.query(file.read_text(encoding="utf-8")), ox.QuerySolutions), file.name


def test_q1_members_of_drei_gewinnt(store: EmbeddedStore) -> None:
    rows = ask(store, "01-alliance-members", alliance=iri("alliance", "drei-gewinnt"))
    members = {r["memberLabel"] for r in rows if r["role"] == "member"}
    assert members == {"Stadt Rüsselsheim am Main", "Stadt Raunheim", "Stadt Kelsterbach"}
    assert {"ZTE"} == {r["memberLabel"] for r in rows if r["role"] == "central-implementation-partner"}
    assert {r["kind"] for r in rows if r["role"] == "member"} == {"city"}


def test_q1_dortmund_initiators_three_or_four_by_source(store: EmbeddedStore) -> None:
    rows = ask(store, "01-alliance-members", alliance=iri("alliance", "allianz-smart-city-dortmund"))
    initiators = {r["memberLabel"]: set(r["sources"].split()) for r in rows if r["role"] == "initiator"}
    report, page = "dortmund-mou-2017", "dortmund-allianztagung-2017"
    assert {name for name, sources in initiators.items() if report in sources} == {
        "Stadt Dortmund",
        "Industrie- und Handelskammer zu Dortmund",
        "Cisco",
    }
    assert len([name for name, sources in initiators.items() if page in sources]) == 4
    assert initiators["Leitstelle Energiewende Dortmund"] == {page}
    kinds = {r["memberLabel"]: r["kind"] for r in rows}
    assert (kinds["Stadt Dortmund"], kinds["Cisco"], kinds["Industrie- und Handelskammer zu Dortmund"]) == (
        "city",
        "company",
        "organization",
    )


def test_q2_alliances_of_cisco_with_their_cities(store: EmbeddedStore) -> None:
    rows = ask(store, "02-company-alliances", company=iri("company", "cisco"))
    dortmund = [r for r in rows if r["alliance"] == f"{ID}alliance/allianz-smart-city-dortmund"]
    assert {r["role"] for r in dortmund} == {"initiator", "partner"}
    assert all(r["cities"] == "Dortmund" for r in dortmund)


def test_q3_agreements_of_drei_gewinnt(store: EmbeddedStore) -> None:
    rows = {
        r["agreement"].rsplit("/", 1)[1]: r
        for r in ask(store, "03-alliance-agreements", alliance=iri("alliance", "drei-gewinnt"))
    }
    zte = rows["zte-drei-gewinnt-2016"]
    # The article of 2016 says the agreement was signed "vorletzte Woche": a bound, not a signing date.
    assert (zte["type"], zte["signed"], zte["signedBy"], zte["duration"], zte["status"]) == (
        "cooperation-agreement",
        "",
        "2016",
        "P3Y",
        "signed",
    )
    assert "ZTE" in zte["parties"]
    # No read source dates the Huawei letter of intent: neither a date nor a bound.
    huawei = rows["huawei-drei-gewinnt-2014"]
    assert (huawei["type"], huawei["signed"], huawei["signedBy"]) == ("letter-of-intent", "", "")


def test_q4_signatories_of_the_dortmund_memorandum(store: EmbeddedStore) -> None:
    rows = ask(store, "04-signatories", agreement=iri("agreement", "dortmund-alliance-mou-2017"))
    signed = {r["personLabel"]: r["onBehalfOf"].rsplit("/", 2)[-2:] for r in rows}
    assert signed == {
        "Stefan Schreiber": ["organization", "ihk-dortmund"],
        "Ullrich Sierau": ["municipality", "dortmund"],
        "Amr Salem": ["company", "cisco"],
    }
    posts = {r["personLabel"]: r["postTitle"] for r in rows}
    assert posts["Ullrich Sierau"] in {"Oberbürgermeister", "Lord Mayor"}  # either label of his post


def test_q5_agreements_running_respect_signing_and_term(store: EmbeddedStore) -> None:
    def running(day: str) -> set[str]:
        rows = ask(
            store,
            "05-agreements-running-on",
            on=ox.Literal(day, datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")),
        )
        return {r["agreement"].rsplit("/", 1)[1] for r in rows}

    assert "dortmund-alliance-mou-2017" in running("2017-06-30")
    assert "dortmund-alliance-mou-2017" not in running("2017-06-07")  # signed on 8 June 2017
    assert "zte-drei-gewinnt-2016" in running("2019-06-30")  # signed 2016 for three years: may run to 2019-12-31
    assert "zte-drei-gewinnt-2016" not in running("2020-01-01")


def test_q6_pilots_of_a_theme_include_narrower_themes(store: EmbeddedStore) -> None:
    mobility = ox.NamedNode("https://w3id.org/smartcity-kg/vocab/theme/mobility-logistics")
    pilots = {r["pilot"].rsplit("/", 1)[1] for r in ask(store, "06-pilots-by-theme", theme=mobility)}
    assert "smart-parking-drei-gewinnt" in pilots  # its theme, smart parking, is narrower than mobility


def test_q7_implementation_partners_agree_with_the_curated_records(store: EmbeddedStore, records: Records) -> None:
    alliances: dict[str, set[str]] = defaultdict(set)
    for alliance in records.alliances.values():
        for membership in alliance.members:
            kind, key = membership.member.split(":", 1)
            if kind == "company" and membership.role in ("implementation-partner", "central-implementation-partner"):
                alliances[key].add(alliance.key)
    expected = {key: len(keys) for key, keys in alliances.items() if len(keys) > 1}
    rows = ask(store, "07-implementation-partners")
    assert {r["company"].rsplit("/", 1)[1]: int(r["alliances"]) for r in rows} == expected


def test_q8_founding_respects_date_precision(store: EmbeddedStore) -> None:
    date = ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")

    def founded(start: str, end: str) -> dict[str, str]:
        rows = ask(
            store,
            "08-founded-within",
            **{"from": ox.Literal(start, datatype=date), "to": ox.Literal(end, datatype=date)},
        )
        return {r["founded"]: r["certain"] for r in rows if r["alliance"].endswith("/allianz-smart-city-dortmund")}

    assert founded("2016-12-01", "2016-12-31") == {"2016-12": "true", "2016-12-09": "true"}
    assert founded("2016-12-05", "2016-12-31") == {"2016-12": "false", "2016-12-09": "true"}
    assert founded("2016-01-01", "2016-11-30") == {}


def test_q9_conflicts_and_single_source_statements(store: EmbeddedStore) -> None:
    conflicts = {
        r["conflict"].rsplit("/", 1)[1]: set(r["sources"].split()) for r in ask(store, "09-conflicting-sources")
    }
    assert {"dortmund-mou-2017", "dortmund-allianztagung-2017"} <= conflicts["dortmund-initiators"]
    listed = [(r["class"], r["statement"]) for r in ask(store, "09-single-source-statements")]
    assert listed == sorted(listed)  # by class, then statement, as IRIs sort
    single = {statement for _, statement in listed}
    assert f"{ID}membership/allianz-smart-city-dortmund-leitstelle-energiewende-dortmund-initiator" in single
    assert f"{ID}membership/allianz-smart-city-dortmund-cisco-initiator" not in single


def test_q10_the_passage_behind_a_claim(store: EmbeddedStore) -> None:
    rows = ask(store, "10-claim-support", statement=iri("agreement", "zte-drei-gewinnt-2016"))
    assert {r["source"].rsplit("/", 1)[1] for r in rows} >= {"itdaily-13792"}
    assert all(r["locator"] and r["claim"] for r in rows)


def test_q11_alliances_by_ags_prefix(store: EmbeddedStore) -> None:
    def alliances(prefix: str) -> set[str]:
        return {
            r["alliance"].rsplit("/", 1)[1] for r in ask(store, "11-alliances-by-ags-prefix", prefix=ox.Literal(prefix))
        }

    assert "drei-gewinnt" in alliances("06433")  # district Groß-Gerau
    assert "allianz-smart-city-dortmund" in alliances("05913")
    assert "drei-gewinnt" not in alliances("05")


def test_q12_non_european_vendors_only_where_a_source_gives_the_country(store: EmbeddedStore, records: Records) -> None:
    rows = ask(store, "12-non-european-vendors")
    zte = [r for r in rows if r["company"].endswith("/company/zte")]
    found = [(r["country"], r["alliance"].rsplit("/", 1)[1], r["earliest"]) for r in zte]
    assert found == [("CN", "drei-gewinnt", "2016")]
    uncited = {key for key, org in records.organizations.items() if org.country is None}
    assert not {r["company"].rsplit("/", 1)[1] for r in rows} & uncited


def test_q12_since_is_the_earliest_dated_membership_when_another_has_no_date() -> None:
    store = ox.Store()
    store.load(
        f"""
        @prefix sck: <https://w3id.org/smartcity-kg/ontology#> . @prefix org: <http://www.w3.org/ns/org#> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
        <{ID}company/v> a sck:Company ; sck:countryCode "US" ; rdfs:label "Vendor" .
        <{ID}membership/dated> org:member <{ID}company/v> ; org:organization <{ID}alliance/a> ;
            sck:startDate "2018"^^xsd:gYear .
        <{ID}membership/undated> org:member <{ID}company/v> ; org:organization <{ID}alliance/a> .
        <{ID}alliance/a> org:hasMembership <{ID}membership/city> .
        <{ID}membership/city> org:member <{ID}municipality/c> .
        <{ID}municipality/c> sck:municipalityOf <{ID}city/c> .
        <{ID}city/c> sck:ags "06433012" ; rdfs:label "Town" .
        """,
        format=ox.RdfFormat.TURTLE,
    )
    outcome = store.query((QUERIES / "12-non-european-vendors.rq").read_text(encoding="utf-8"))
    assert isinstance(outcome, ox.QuerySolutions)
    rows = [(row["alliance"], row["earliest"], row["cities"]) for row in outcome]
    assert rows == [
        (
            ox.NamedNode(f"{ID}alliance/a"),
            ox.Literal("2018", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#gYear")),
            ox.Literal("Town"),
        )
    ]


def test_q13_people_across_alliances_agree_with_the_curated_records(store: EmbeddedStore, records: Records) -> None:
    member_of: dict[str, set[str]] = defaultdict(set)
    for alliance in records.alliances.values():
        for membership in alliance.members:
            member_of[membership.member].add(alliance.key)
    expected = {}
    for person in records.people.values():
        reach = set().union(*(member_of[post.in_] for post in person.posts)) if person.posts else set()
        if len(reach) > 1:
            expected[person.key] = len(reach)
    rows = ask(store, "13-people-across-alliances")
    assert {r["person"].rsplit("/", 1)[1]: int(r["alliances"]) for r in rows} == expected


@pytest.fixture(scope="module")
def bounded(tmp_path_factory: pytest.TempPathFactory) -> ox.Store:
    """The small fixture, with the founding and the signing also known only as bounds: a source published in
    June 2017 reports them without dating them ("by June 2017")."""
    folder = tmp_path_factory.mktemp("bounded") / "data"
    shutil.copytree(MINI, folder)
    alliance = folder / "alliance.yaml"
    text = alliance.read_text(encoding="utf-8")
    text = text.replace(
        """      - date: "2016-12"
        summary: The two towns formed the alliance in December 2016.""",
        """      - date: {by: "2017-06-12"}
        summary: The report names the alliance without saying when it was formed.""",
    )
    text = text.replace(
        'claim: The alliance was formed in December 2016., date: "2016-12"}',
        "claim: The alliance exists., date: published}",
    )
    text = text.replace('signed: {date: "2017-06-08"}', 'signed: {by: "2017-06-12"}')
    text = text.replace(
        'claim: Alphastadt and ACME signed an MoU on 8 June 2017., date: "2017-06-08"}',
        "claim: Alphastadt and ACME have signed an MoU., date: published}",
    )
    alliance.write_text(text, encoding="utf-8")
    store = ox.Store()
    graph = new_graph(NAMESPACE, build_triples(load_records(folder), NAMESPACE))
    store.load(graph.serialize(format="nt").encode(), format=ox.RdfFormat.N_TRIPLES)
    return store


def _on(day: str) -> ox.Literal:
    return ox.Literal(day, datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#date"))


def test_q1_since_when_tells_a_stated_start_from_a_bound(bounded: ox.Store) -> None:
    rows = {r["memberLabel"]: r for r in ask(bounded, "01-alliance-members")}
    assert (rows["Stadt Alphastadt"]["since"], rows["Stadt Alphastadt"]["sinceBy"]) == ("2016-12", "")
    # ACME is reported as a partner in a report of 12 June 2017: a partner by then, since when is unknown.
    assert (rows["ACME"]["since"], rows["ACME"]["sinceBy"], rows["ACME"]["sinceSupport"]) == ("", "2017-06-12", "1")


def test_q5_a_signing_known_only_as_a_bound_runs_from_the_bound_on(bounded: ox.Store) -> None:
    def running(day: str) -> dict[str, dict[str, str]]:
        return {r["agreement"].rsplit("/", 1)[1]: r for r in ask(bounded, "05-agreements-running-on", on=_on(day))}

    assert "alpha-acme-mou" not in running("2017-06-11")  # nothing says it had been signed by then
    row = running("2017-06-12")["alpha-acme-mou"]
    assert (row["signed"], row["signedBy"]) == ("", "2017-06-12")
    assert "alpha-acme-mou" in running("2020-06-12")  # P3Y from a signing no later than 2017-06-12
    assert "alpha-acme-mou" not in running("2020-06-13")


def test_q8_a_founding_known_only_as_a_bound_is_never_certain(bounded: ox.Store) -> None:
    def founded(start: str, end: str) -> list[tuple[str, str, str]]:
        rows = ask(bounded, "08-founded-within", **{"from": _on(start), "to": _on(end)})
        return [(r["founded"], r["foundedBy"], r["certain"]) for r in rows]

    assert founded("2017-01-01", "2017-12-31") == [("", "2017-06-12", "false")]  # possibly, as far as known
    assert founded("2017-06-13", "2017-12-31") == []  # it existed by 12 June 2017


def test_q12_a_bound_is_reported_apart_from_stated_starts() -> None:
    store = ox.Store()
    store.load(
        f"""
        @prefix sck: <https://w3id.org/smartcity-kg/ontology#> . @prefix org: <http://www.w3.org/ns/org#> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
        <{ID}company/v> a sck:Company ; sck:countryCode "CN" ; rdfs:label "Vendor" .
        <{ID}membership/reported> org:member <{ID}company/v> ; org:organization <{ID}alliance/a> ;
            sck:startNoLaterThan "2018-05-25"^^xsd:date ; sck:startLatest "2018-05-25"^^xsd:date .
        <{ID}alliance/a> org:hasMembership <{ID}membership/city> .
        <{ID}membership/city> org:member <{ID}municipality/c> .
        <{ID}municipality/c> sck:municipalityOf <{ID}city/c> .
        <{ID}city/c> sck:ags "06433012" ; rdfs:label "Town" .
        """,
        format=ox.RdfFormat.TURTLE,
    )
    (row,) = ask(store, "12-non-european-vendors")
    assert (row["earliest"], row["by"]) == ("", "2018-05-25")
