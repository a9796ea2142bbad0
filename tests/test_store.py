"""The store's answers are typed by the query's form, and constants written into the project's own queries are
validated terms: no value can change a query's shape."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from graph.store import EmbeddedStore, with_constants


def test_iris_become_constants_and_only_whole_variables_are_replaced() -> None:
    query = "SELECT ?nodes WHERE { ?node ?p ?nodes . ?this ?q ?node }"
    assert with_constants(query, {"node": "https://w3id.org/smartcity-kg/id/city/dortmund"}) == (
        "SELECT ?nodes WHERE { <https://w3id.org/smartcity-kg/id/city/dortmund> ?p ?nodes . "
        "?this ?q <https://w3id.org/smartcity-kg/id/city/dortmund> }"
    )


def test_only_the_variable_is_replaced_not_its_look_alikes() -> None:
    # The same letters in a string, an IRI and a comment are text, not the variable; `$node` is the variable.
    query = 'SELECT ?v WHERE { $node ?p ?v FILTER(?v != "?node" && ?p != <urn:x?node>) } # ?node'
    assert with_constants(query, {"node": "urn:n"}) == (
        'SELECT ?v WHERE { <urn:n> ?p ?v FILTER(?v != "?node" && ?p != <urn:x?node>) } # ?node'
    )


@pytest.mark.parametrize("hostile", ["https://x/> } DROP ALL { <a", "a b", 'https://x/"', "https://x/{y}", "\n"])
def test_a_value_that_is_no_iri_is_refused(hostile: str) -> None:
    assert with_constants("SELECT * WHERE { ?node ?p ?o }", {"node": hostile}) is None


def test_each_form_is_answered_by_its_own_method_and_refused_by_the_others(store: EmbeddedStore) -> None:
    rows = store.select("SELECT ?s WHERE { ?s a ?class } LIMIT 2")
    assert [variable.value for variable in rows.variables] == ["s"] and len(list(rows)) == 2
    triples = list(store.construct("CONSTRUCT { ?s a ?class } WHERE { ?s a ?class } LIMIT 2"))
    assert len(triples) == 2 and all(isinstance(triple, ox.Triple) for triple in triples)
    assert store.ask("ASK { ?s a ?class }") is True
    assert store.ask("ASK { ?s a <urn:nothing> }") is False
    with pytest.raises(TypeError, match=r"gives triples \(CONSTRUCT, DESCRIBE\), not rows \(SELECT\)"):
        store.select("DESCRIBE <urn:x>")
    with pytest.raises(TypeError, match=r"not a truth value \(ASK\)"):
        store.ask("SELECT * WHERE { ?s ?p ?o }")


def test_the_embedded_store_offers_its_folder_engine_and_graphs(store: EmbeddedStore) -> None:
    assert store.path is not None and (store.path / "dumps").is_dir()
    assert store.build == str(store.path) and store.engine is not None
    assert store.verify() == store.manifest
    assert store.graph_names() == {f"{store.manifest.namespace}graph/data", f"{store.manifest.namespace}graph/ontology"}
