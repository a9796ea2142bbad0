"""The ontology as pages show it: its triples from the published store (once per build), the links and labels of its
terms, and its documentation page; `/ontology` itself is served with the linked data."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from api.http.cache import Derived
from api.http.context import load_context
from api.http.terms import node_id
from api.pages.display import Link, pick_label
from graph.iris import Minter
from graph.store import ReadStore
from graph.vocab import DCTERMS, OWL, RDF, RDFS, SCK, SKOS

__all__ = ["ONTOLOGY", "Ontology", "TermDoc", "ontology_page", "read_ontology", "term_link"]

_QUERY = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?graph { ?s ?p ?o } }"
_SCK = str(SCK._NS)
_KINDS = {  # (English, German) names of the kinds of term, in the order the page lists them
    str(OWL.Class): ("class", "Klasse"),
    str(OWL.ObjectProperty): ("object property", "Objekteigenschaft"),
    str(OWL.DatatypeProperty): ("datatype property", "Datentypeigenschaft"),
    str(OWL.AnnotationProperty): ("annotation property", "Annotationseigenschaft"),
}


@dataclass(frozen=True, eq=False)
class Ontology:
    """The ontology graph of one build, indexed by subject."""

    triples: tuple[ox.Triple, ...]
    _index: dict[str, dict[str, list[ox.NamedNode | ox.BlankNode | ox.Literal]]] = field(
        init=False, default_factory=dict, repr=False
    )

    def __post_init__(self) -> None:
        for triple in self.triples:
            if not isinstance(triple.object, ox.Triple):
                self._index.setdefault(node_id(triple.subject), {}).setdefault(triple.predicate.value, []).append(
                    triple.object
                )

    def objects(self, subject: str, predicate: str) -> list[ox.NamedNode | ox.BlankNode | ox.Literal]:
        return self._index.get(subject, {}).get(predicate, [])

    def literals(self, subject: str, predicate: str) -> list[ox.Literal]:
        return [o for o in self.objects(subject, predicate) if isinstance(o, ox.Literal)]

    def of_type(self, cls: str) -> list[str]:
        return sorted(
            s for s, props in self._index.items() if any(o.value == cls for o in props.get(str(RDF.type), ()))
        )

    def label(self, iri: str, lang: str) -> str | None:
        chosen = pick_label(self.literals(iri, str(RDFS.label)), lang)
        return None if chosen is None else chosen.value


def read_ontology(store: ReadStore) -> Ontology:
    graph = Minter(store.manifest.namespace).graph("ontology")
    triples = store.construct(_QUERY, substitutions={"graph": ox.NamedNode(str(graph))})
    return Ontology(tuple(sorted(triples, key=str)))  # grouped by subject, the same order every time


ONTOLOGY = Derived("ontology", read_ontology)
"""The ontology graph of the store's build (read once per build)."""


def term_link(iri: str, ontology: Ontology, lang: str) -> Link:
    """A link to a term: the project's own terms to their entry on /ontology, others to their IRI."""
    if iri.startswith(_SCK):
        local = iri[len(_SCK) :]
        return Link(ontology.label(iri, lang) or local, f"/ontology#{local}", title=iri)
    return Link(load_context()[1].compact_iri(iri), iri, title=iri, external=True)


@dataclass(frozen=True)
class TermDoc:
    """One class or property as the ontology page lists it."""

    anchor: str
    iri: str
    kind: str
    labels: dict[str, str]
    definition: Link | None
    domain: list[Link]
    range: list[Link]
    broader: list[Link]


def ontology_page(ontology: Ontology, lang: str) -> dict[str, object]:
    """Everything ontology.html shows: the ontology's own metadata, then each class and property."""
    heads = ontology.of_type(str(OWL.Ontology))
    head = heads[0] if heads else ""
    terms = {
        kind: [
            _term_doc(ontology, iri, names[lang == "de"], lang)
            for iri in ontology.of_type(kind)
            if iri.startswith(_SCK)
        ]
        for kind, names in _KINDS.items()
    }
    return {
        "iri": head,
        "title": _text(ontology, head, (str(DCTERMS.title),), lang) or Link(head),
        "description": _text(ontology, head, (str(DCTERMS.description),), lang),
        "version": next((o.value for o in ontology.literals(head, str(OWL.versionInfo))), None),
        "license": next((o.value for o in ontology.objects(head, str(DCTERMS.license))), None),
        "classes": terms.pop(str(OWL.Class)),
        "properties": [term for kind_terms in terms.values() for term in kind_terms],
    }


def _term_doc(ontology: Ontology, iri: str, kind: str, lang: str) -> TermDoc:
    def links(*predicates: str) -> list[Link]:
        return [
            term_link(o.value, ontology, lang)
            for predicate in predicates
            for o in ontology.objects(iri, predicate)
            if isinstance(o, ox.NamedNode)
        ]

    return TermDoc(
        anchor=iri[len(_SCK) :],
        iri=iri,
        kind=kind,
        labels={label.language: label.value for label in ontology.literals(iri, str(RDFS.label)) if label.language},
        definition=_text(ontology, iri, (str(SKOS.definition), str(RDFS.comment)), lang),
        domain=links(str(RDFS.domain)),
        range=links(str(RDFS.range)),
        broader=links(str(RDFS.subClassOf), str(RDFS.subPropertyOf)),
    )


def _text(ontology: Ontology, iri: str, predicates: tuple[str, ...], lang: str) -> Link | None:
    """The first of `predicates` that `iri` has, in `lang` where there is a choice."""
    for predicate in predicates:
        chosen = pick_label(ontology.literals(iri, predicate), lang)
        if chosen is not None:
            return Link(chosen.value, lang=chosen.language or None)
    return None
