"""The fast paths of the build give exactly what the plain ones give: compiled SHACL checks, N-Quads, dumps."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD
from rdflib.term import Node

from graph import _convert
from graph._convert import nt_text, write_nquads
from graph.iris import Minter
from graph.pipeline import load_ontology, run_build
from graph.pipeline.build import Triple, build_triples, new_graph
from graph.pipeline.generate import generate_data
from graph.pipeline.load import load_records
from graph.pipeline.publish import _merge_triples
from graph.pipeline.validate import Validation, load_shapes, validate_graph, validate_triples
from graph.published import current_build
from graph.vocab import DCTERMS, ORG, PROV, SCHEMA, SCK, SKOS, resolved
from tests.conftest import rdflib_nquads

ROOT = Path(__file__).resolve().parent.parent
MINI = Path(__file__).parent / "fixtures" / "mini"
NS = "https://w3id.org/smartcity-kg/"
SHAPES = load_shapes()


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[Triple]:
    folder = tmp_path_factory.mktemp("generated")
    generate_data(6, folder)
    return build_triples(load_records(folder), NS)


def _mutated(triples: list[Triple]) -> list[Triple]:
    """Violations of many kinds, several of them only seen by looking at another node's types."""
    memberships = [s for s, p, o in triples if p == RDF.type and o == SCK.Membership]
    citations = [s for s, p, o in triples if p == RDF.type and o == SCK.Citation]
    alliance = next(s for s, p, o in triples if p == RDF.type and o == SCK.Alliance)
    source = next(s for s, p, o in triples if p == RDF.type and o == SCK.Source)
    city = next(s for s, p, o in triples if p == RDF.type and o == SCK.City)
    concept = next(s for s, p, o in triples if p == RDF.type and o == SKOS.Concept)
    company = next(s for s, p, o in triples if p == RDF.type and o == SCK.Company)
    period = next(s for s, p, o in triples if p == SCK.startEarliest)
    drop = {
        (memberships[0], ORG.role),
        (citations[0], SCK.locator),
        (source, DCTERMS.title),
        (concept, SKOS.definition),
    }
    # A member that is a city (a place), not the municipality acting for it.
    member = next((s, p, o) for s, p, o in triples if s == memberships[1] and p == ORG.member)
    kept = [t for t in triples if (t[0], t[1]) not in drop and t != member]
    kept += [
        (memberships[1], ORG.member, city),
        (alliance, RDFS.label, Literal("Zweiter Name", lang="de")),
        (citations[1], PROV.entity, alliance),  # a citation of something that is no source
        (citations[2], SCK.claim, Literal("no language")),
        (URIRef(f"{NS}id/membership/orphan"), RDF.type, SCK.Membership),
        (URIRef(f"{NS}id/source/s9"), DCTERMS.issued, Literal("sometime")),
        (URIRef(f"{NS}id/source/s9"), RDF.type, SCK.Source),
        (source, DCTERMS.issued, Literal("Juni 2016", lang="DE")),  # a language tag that stores lower-cased
        (city, SCK.ags, Literal("0591300")),
        (company, SCK.countryCode, Literal("1.50", datatype=XSD.decimal)),  # stored as 1.5, reported as written
        (concept, SKOS.prefLabel, Literal("Membre", lang="FR")),
        (period, SCK.startDate, Literal("2020-02-30", datatype=XSD.date)),  # no such day
        (period, SCK.startLatest, Literal("1900-01-01", datatype=XSD.date)),
    ]
    return kept


def test_compiled_checks_report_exactly_what_pyshacl_reports(generated: list[Triple]) -> None:
    triples = _mutated(generated)
    whole = validate_graph(new_graph(NS, triples), SHAPES, namespace=NS)
    assert len(whole.violations) >= 20, "the injected violations are found"
    assert validate_triples(triples, NS, SHAPES) == whole


def test_checks_on_a_stream_with_repeats_report_exactly_what_pyshacl_reports(generated: list[Triple]) -> None:
    """As the pipeline checks them: the triples pass once, a triple that several records give more than once, and
    the graph is asked for again, whole, to describe the findings."""
    triples = _mutated(generated)
    asked: list[bool] = []

    def whole() -> list[Triple]:
        asked.append(True)
        return triples

    with Validation(NS, SHAPES) as validation:
        passed = list(validation.passing(t for triple in triples for t in (triple, triple)))
        report = validation.report(whole)
    assert passed == [nt_text(t) for triple in triples for t in (triple, triple)]
    assert report == validate_graph(new_graph(NS, triples), SHAPES, namespace=NS)
    assert asked == [True]


def test_the_published_graph_is_the_one_built_in_memory(tmp_path: Path) -> None:
    """The curated data, streamed from its records into the dumps, gives the very quads of its whole graph."""
    manifest, report = run_build(ROOT / "data", tmp_path / "store", NS)
    assert report.conforms
    mint = Minter(NS)
    in_memory = rdflib_nquads(
        {
            str(mint.graph("data")): build_triples(load_records(ROOT / "data"), NS),
            str(mint.graph("ontology")): load_ontology(),
        }
    )
    build, _ = current_build(tmp_path / "store")
    published = gzip.decompress((build / "dumps" / "graph.nq.gz").read_bytes())
    assert published == in_memory
    assert manifest.triples == len(published.splitlines())


def _written(graphs: dict[str, _convert.Triples], file: Path) -> bytes:
    """What the build writes of `graphs` (streamed, sorted on disk) into `file`."""
    write_nquads(graphs, file)
    return file.read_bytes()


def test_nquads_are_the_sorted_rdflib_lines_written_by_oxigraph(generated: list[Triple], tmp_path: Path) -> None:
    graphs: dict[str, _convert.Triples] = {f"{NS}graph/data": generated, f"{NS}graph/ontology": load_ontology()}
    assert _written(graphs, tmp_path / "graph.nq") == rdflib_nquads(graphs)


def test_nquads_sorted_in_runs_on_disk_are_the_same_bytes(
    generated: list[Triple], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    graphs: dict[str, _convert.Triples] = {f"{NS}graph/data": generated, f"{NS}graph/ontology": load_ontology()}
    in_one_run = _written(graphs, tmp_path / "one.nq")
    monkeypatch.setattr(_convert, "_LINES_AT_ONCE", 997)  # dozens of runs, merged
    assert _written(graphs, tmp_path / "runs.nq") == in_one_run


def test_build_graph_and_build_triples_agree() -> None:
    triples = build_triples(load_records(MINI), NS)
    assert len(set(triples)) == len(triples)
    assert set(new_graph(NS, triples)) == set(triples)


def test_merged_dump_triples_are_sorted_as_oxigraph_writes_them(generated: list[Triple], tmp_path: Path) -> None:
    nquads = _written({f"{NS}graph/data": generated, f"{NS}graph/ontology": load_ontology()}, tmp_path / "graph.nq")
    quads = list(ox.parse(nquads, format=ox.RdfFormat.N_QUADS))
    expected = ox.serialize(sorted({quad.triple for quad in quads}, key=str), format=ox.RdfFormat.N_TRIPLES)
    _merge_triples(tmp_path / "graph.nq", tmp_path / "graph.nt")
    assert (tmp_path / "graph.nt").read_bytes() == expected


def test_merged_dump_triples_are_in_byte_order_whatever_their_literals(tmp_path: Path) -> None:
    """The triples are merged from the graphs' streams, not sorted again: texts that start alike (a literal, the
    same with a space or a quote after it, with a language or a datatype) and a triple in both graphs still come
    out as sorting every triple's line as bytes gives them."""
    s, p = URIRef("https://example.org/s"), URIRef("https://example.org/p")
    texts = ["a", "a b", 'a"', "a\\", "a\\ b", "a\n", "ä", "a .", "a <x>"]
    literals: list[Node] = [Literal(text, lang=lang) for lang in (None, "de") for text in texts]
    literals += [Literal("1", datatype=XSD.integer), Literal("1"), URIRef("https://example.org/o")]
    data = [(s, p, o) for o in literals]
    graphs: dict[str, _convert.Triples] = {
        f"{NS}graph/data": data,
        f"{NS}graph/ontology": [*data[::3], (p, RDF.type, RDF.Property)],
    }
    nquads = _written(graphs, tmp_path / "graph.nq")
    _merge_triples(tmp_path / "graph.nq", tmp_path / "graph.nt")
    triples = {line[: line.rindex(b" <")] + b" .\n" for line in nquads.splitlines(keepends=True)}
    assert (tmp_path / "graph.nt").read_bytes() == b"".join(sorted(triples))
    assert len(triples) == len(literals) + 1


def test_terms_looked_up_once_are_rdflibs_and_a_typo_still_fails() -> None:
    """The build names its terms through `resolved` namespaces: the same IRIs, and an unknown term of the closed
    project namespace is an error there as in rdflib's."""
    sck, schema = resolved(SCK), resolved(SCHEMA)
    assert (sck.Citation, sck.Citation, schema.name) == (SCK.Citation, SCK.Citation, SCHEMA.name)
    assert "Citation" in vars(sck)  # kept: the next lookup is a plain attribute
    with pytest.raises(AttributeError, match="Citaton"):
        _ = sck.Citaton
