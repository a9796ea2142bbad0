"""The one naming scheme: what `Minter` mints it reads back, and it says which path serves each IRI."""

from __future__ import annotations

import pytest

from api.reconcile.answers import manifest
from graph import vocab
from graph.iris import Minter, child, owner, part_of
from graph.prefixes import PREFIXES, VOCABULARIES

NS = "https://example.org/kg/"  # not the default namespace: nothing may assume it


def test_a_thing_minted_reads_back_as_its_kind_and_key() -> None:
    mint = Minter(NS)
    assert mint.parse(str(mint.thing("city", "dortmund"))) == ("city", "dortmund")
    assert mint.parse(str(mint.thing("city", "dortmund")) + "#signature-1") == ("city", "dortmund#signature-1")


@pytest.mark.parametrize(
    "iri",
    [f"{NS}vocab/theme/energy", f"{NS}id/", f"{NS}id/city", "https://example.com/id/city/dortmund", f"{NS}ontology"],
)
def test_only_a_thing_of_this_namespace_has_a_kind_and_key(iri: str) -> None:
    assert Minter(NS).parse(iri) is None


@pytest.mark.parametrize(
    ("iri", "doc", "served"),
    [
        (f"{NS}id/city/dortmund", "/doc/city/dortmund", "/id/city/dortmund"),
        (f"{NS}id/city/dortmund#signature-1", "/doc/city/dortmund#signature-1", "/id/city/dortmund#signature-1"),
        (f"{NS}vocab/theme/energy", "/vocab/theme/energy", "/vocab/theme/energy"),
        (f"{NS}ontology", "/ontology", "/ontology"),
        ("https://example.com/id/city/dortmund", None, None),  # another site's IRI has no path here
        (f"{NS}/evil.example", None, None),  # would leave the site as `//evil.example`
        (f"{NS}\\evil.example", None, None),
    ],
)
def test_each_iri_maps_to_the_page_and_the_linked_data_path_that_serve_it(
    iri: str, doc: str | None, served: str | None
) -> None:
    assert Minter(NS).doc_path(iri) == doc
    assert Minter(NS).id_path(iri) == served


def test_reconciliation_names_the_ontology_whatever_the_namespace() -> None:
    """The namespace names the things; the terms are the ontology's own, which does not move with it."""
    document = manifest("0.2", "https://example.org", "https://example.org/reconcile", NS)
    assert document["identifierSpace"] == f"{NS}id/"
    assert document["schemaSpace"] == VOCABULARIES["sck"]


def test_the_rdflib_namespaces_are_those_of_the_prefix_map() -> None:
    """Code that names terms through graph.vocab writes the same IRIs as the prefixes the service declares."""
    named = {
        "dcat": vocab.DCAT, "dct": vocab.DCTERMS, "foaf": vocab.FOAF, "org": vocab.ORG, "owl": vocab.OWL,
        "prov": vocab.PROV, "rdf": vocab.RDF, "rdfs": vocab.RDFS, "skos": vocab.SKOS, "time": vocab.TIME,
        "xsd": vocab.XSD, "schema": vocab.SCHEMA, "wd": vocab.WD, "geo": vocab.GEOSPARQL, "void": vocab.VOID,
    }  # fmt: skip
    assert {name: str(namespace) for name, namespace in named.items()} == {name: PREFIXES[name] for name in named}
    assert str(vocab.SCK.Alliance) == PREFIXES["sck"] + "Alliance"


def test_a_things_id_is_its_iri_after_the_identifier_space() -> None:
    minter = Minter(NS)
    iri = str(minter.thing("city", "dortmund"))
    assert minter.id_of(iri) == "city/dortmund" and str(minter.from_id("city/dortmund")) == iri
    assert minter.id_of("https://w3id.org/smartcity-kg/id/city/dortmund") is None  # another namespace
    assert minter.id_of(str(minter.concept("theme", "energy"))) is None


def test_a_part_is_known_as_its_things_by_its_iri() -> None:
    thing = Minter(NS).thing("alliance", "a")
    part = child(thing, "objective-1")
    assert part_of(str(part), str(thing)) and part_of(str(child(part, "source-x")), str(thing))
    assert not part_of(str(Minter(NS).thing("alliance", "ab")), str(thing))


@pytest.mark.parametrize(
    ("ident", "read"),
    [
        ("city/dortmund", ("city", "dortmund")),
        ("source-kind/smart-city-charta-2", ("source-kind", "smart-city-charta-2")),
        ("city/Dortmund", None),  # keys are minted in lower case
        ("city/dortmund#signature-1", None),  # a part of a thing is no thing
        ("city/dort/mund", None),
        ("city/", None),
        ("/dortmund", None),
        ("city/-dortmund", None),
        ("dortmund", None),
        ("city/dortmund ", None),
    ],
)
def test_an_id_is_read_as_its_kind_and_key_only_when_the_scheme_could_have_minted_it(
    ident: str, read: tuple[str, str] | None
) -> None:
    assert Minter(NS).read_id(ident) == read


def test_an_id_of_a_kind_a_service_does_not_name_is_none() -> None:
    assert Minter(NS).read_id("city/dortmund", {"city", "source"}) == ("city", "dortmund")
    assert Minter(NS).read_id("membership/x-y", {"city", "source"}) is None


def test_a_readers_page_is_the_doc_path_here_and_the_iri_elsewhere() -> None:
    mint = Minter(NS)
    assert mint.page(str(mint.thing("city", "dortmund"))) == "/doc/city/dortmund"
    assert mint.page(str(mint.concept("role", "member"))) == "/vocab/role/member"
    assert mint.page("https://www.wikidata.org/entity/Q1295") == "https://www.wikidata.org/entity/Q1295"


def test_keys_and_owners_are_read_from_the_iris_the_minter_mints() -> None:
    mint = Minter(NS)
    assert mint.key(str(mint.thing("city", "dortmund"))) == "dortmund"
    assert mint.key(str(mint.concept("role", "member"))) == "member"
    assert mint.key("https://example.org/id/city/dortmund") is None  # another site's, whatever its path
    part = child(mint.thing("city", "dortmund"), "citation-1")
    assert owner(str(child(part, "2"))) == owner(str(part)) == str(mint.thing("city", "dortmund"))
    assert owner("https://example.org/a") == "https://example.org/a"


def test_an_id_maps_to_the_path_that_serves_its_thing() -> None:
    mint = Minter("https://kg.example.org/graph/")
    assert mint.path_of_id("city/dortmund") == mint.id_path(str(mint.from_id("city/dortmund"))) == "/id/city/dortmund"
