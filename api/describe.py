"""The description of one thing: its triples, its fragment nodes, and what links to and from it, with labels."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from api.lru import LRU
from api.terms import node_id
from graph.store import ReadStore, with_constants
from graph.vocab import DCTERMS, OWL

__all__ = ["Description", "describe"]

_PREFIXES = """PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX schema: <http://schema.org/>
PREFIX sck: <https://w3id.org/smartcity-kg/ontology#>
"""


def _part_of(node: str, owner: str) -> str:
    """SPARQL test: `node` is a fragment node of `owner` (`{owner}#...`)."""
    return f'STRSTARTS(STR({node}), CONCAT(STR({owner}), "#"))'


# Every group below is one basic graph pattern with filters that starts from ?thing and names no constant
# predicate: Oxigraph plans the query before ?thing is bound, and would otherwise begin with the pattern that has
# a constant (`?o rdfs:label ?l`: every label in the store) and join ?thing in afterwards. Kept this way, each
# group walks the indexes outwards from the one IRI. That is also why each tail is repeated per path instead of
# being joined to a UNION of paths, and why predicates are chosen with FILTER(?p IN (...)).

# The fragment nodes ?n of ?thing: one hop out (citations, objectives, intervals), one hop in (attestations say
# sck:about the thing), and one more hop out from those (their citations, an interval's instants).
_FRAGMENT_PATHS = (
    f"?thing ?a1 ?n FILTER(isIRI(?n) && {_part_of('?n', '?thing')})",
    f"?n ?a1 ?thing FILTER({_part_of('?n', '?thing')})",
    f"?thing ?a1 ?x . ?x ?a2 ?n FILTER(isIRI(?x) && isIRI(?n) && {_part_of('?x', '?thing')} && "
    f"{_part_of('?n', '?thing')})",
    f"?x ?a1 ?thing . ?x ?a2 ?n FILTER(isIRI(?n) && {_part_of('?x', '?thing')} && {_part_of('?n', '?thing')})",
)
_NOT_OWN = f"!{_part_of('?r', '?thing')}"
# Related nodes ?r: pointed at by the thing or one of its fragments, or pointing at the thing or at the
# municipality acting for it (so a city's description lists the alliances its municipality belongs to).
# Fragments two hops away are citations and instants: a citation's source is already the wasDerivedFrom of the
# statement it qualifies, an instant holds only a date, so they add no related node.
_RELATED_PATHS = (
    f"?thing ?out ?r FILTER(isIRI(?r) && {_NOT_OWN})",
    *(f"{path} ?n ?out ?r FILTER(isIRI(?r) && {_NOT_OWN})" for path in _FRAGMENT_PATHS[:2]),
    f"?r ?in ?thing FILTER({_NOT_OWN})",
    f"?municipality ?of ?thing FILTER(?of = sck:municipalityOf) ?r ?via ?municipality FILTER({_NOT_OWN})",
)
# What a related node contributes: its types and labels, the ends of a statement (member, organisation, role,
# dates, parties), and what a source or citation says (title, publisher, date, URL; claim and locator) ...
_LINKS = ("org:member", "org:organization", "org:role", "org:postIn", "org:heldBy", "sck:agreementType",
          "sck:status", "sck:alliance", "sck:signatory", "sck:onBehalfOf", "sck:municipalityOf", "prov:entity",
          "schema:publisher", "dct:isReplacedBy")
_VALUES = ("rdf:type", "rdfs:label", "schema:name", "sck:startDate", "sck:endDate", "sck:signedOn", "sck:date",
           "sck:dateWording", "sck:claim", "sck:locator", "dct:title", "dct:issued", "schema:url", "owl:deprecated")
_RELATED_TAIL = f"?r ?p ?o FILTER(?p IN ({', '.join(_LINKS + _VALUES)}))"
# Whatever links to the thing is a related node itself and brings its own labels; looking them up again for each
# statement that names it (on a source's page: every citation of one alliance) would only repeat them.
_UNRELATED = "NOT EXISTS {{ {0} ?w ?thing }} && {0} != ?thing"
# ... and the labels of the things in the statements it links to (the alliance of a city's membership).
_LINKED_LABELS = (f"?r ?p ?o FILTER(isIRI(?o) && ?p IN ({', '.join(_LINKS)}) && {_UNRELATED.format('?o')}) "
                  "?o ?q ?v FILTER(?q IN (rdfs:label, schema:name))")
# The thing a related fragment node ?r belongs to (a citation's statement, a signature's agreement): the node
# linking to it, the thing an attestation is about, or the neighbour of either whose IRI is the fragment's stem.
_OWNER_PATHS = (
    "?parent ?pl ?r",
    "?r ?pl ?parent",
    "?y ?pl ?r . ?y ?pl2 ?parent",
    "?y ?pl ?r . ?parent ?pl2 ?y",
)
_OWNER_TAIL = (f"FILTER(isIRI(?parent) && {_part_of('?r', '?parent')} && {_UNRELATED.format('?parent')}) "
               "?parent ?pp ?pv FILTER(?pp IN (rdf:type, rdfs:label))")


def _union(groups: Iterable[str]) -> str:
    return "\n  UNION ".join(f"{{ {group} }}" for group in groups)


_CORE_QUERY = _PREFIXES + f"""CONSTRUCT {{ ?thing ?p ?o . ?n ?q ?v }} WHERE {{
  {_union(["?thing ?p ?o", *(f"{path} ?n ?q ?v" for path in _FRAGMENT_PATHS)])}
}}"""
_CONTEXT_QUERY = _PREFIXES + f"""CONSTRUCT {{
  ?r ?in ?thing . ?municipality ?of ?thing . ?r ?via ?municipality . ?r ?p ?o . ?o ?q ?v . ?parent ?pp ?pv .
}} WHERE {{
  {_union([*(f"{path} {tail}" for path in _RELATED_PATHS for tail in (_RELATED_TAIL, _LINKED_LABELS)),
           *(f"{incoming} FILTER(CONTAINS(STR(?r), '#')) {owner} {_OWNER_TAIL}"
             for incoming in _RELATED_PATHS[-2:] for owner in _OWNER_PATHS)])}
}}"""


@dataclass(frozen=True, eq=False)
class Description:
    """The triples describing `iri`, in a stable order (the thing, its fragments, then the rest), with lookups."""

    iri: str
    triples: tuple[ox.Triple, ...]
    _out: dict[str, dict[str, list[ox.Triple]]] = field(init=False, default_factory=dict, repr=False)
    _in: dict[str, list[ox.Triple]] = field(init=False, default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for triple in self.triples:
            self._out.setdefault(node_id(triple.subject), {}).setdefault(triple.predicate.value, []).append(triple)
            if isinstance(triple.object, ox.NamedNode):
                self._in.setdefault(triple.object.value, []).append(triple)

    def objects(self, subject: str, predicate: str) -> list[ox.NamedNode | ox.BlankNode | ox.Literal]:
        return [t.object for t in self._out.get(subject, {}).get(predicate, ())
                if not isinstance(t.object, ox.Triple)]

    def predicates(self, subject: str) -> list[str]:
        return list(self._out.get(subject, {}))

    def nodes(self) -> list[str]:
        """Every subject of the description, in its order."""
        return list(self._out)

    def incoming(self, obj: str) -> list[ox.Triple]:
        return self._in.get(obj, [])

    def is_fragment(self, node: str) -> bool:
        return node.startswith(self.iri + "#")

    @property
    def retired(self) -> bool:
        return any(isinstance(o, ox.Literal) and o.value in ("true", "1")
                   for o in self.objects(self.iri, str(OWL.deprecated)))

    @property
    def replaced_by(self) -> list[str]:
        return [o.value for o in self.objects(self.iri, str(DCTERMS.isReplacedBy)) if isinstance(o, ox.NamedNode)]


def _order(iri: str, triples: Iterable[ox.Triple]) -> tuple[ox.Triple, ...]:
    """Deduplicated, the thing's own triples first, then its fragments', then the context; each sorted."""
    def key(triple: ox.Triple) -> tuple[int, str, str, str]:
        subject = node_id(triple.subject)
        rank = 0 if subject == iri else 1 if subject.startswith(iri + "#") else 2
        return rank, subject, triple.predicate.value, str(triple.object)
    return tuple(sorted(set(triples), key=key))


# Keyed by the build id, which is a hash of the published content: a new build can never see an old entry.
# Misses (unknown keys) are not kept, so requests for made-up keys cannot push real descriptions out.
_cache: LRU[tuple[str, str], Description] = LRU(512)  # about 35 kB each in memory


def describe(store: ReadStore, iri: str) -> Description | None:
    """The description of the thing `iri`, or None when the graph says nothing about it."""
    key = (store.manifest.build_id, iri)
    description = _cache.get(key)
    if description is None:
        description = _query(store, iri)
        if description is not None:
            _cache.put(key, description)
    return description


def _run(store: ReadStore, query: str, iri: str) -> list[ox.Triple]:
    """The query about `iri`, with the IRI a constant so that each group is planned from it."""
    bound = with_constants(query, {"thing": iri})
    if bound is None:
        return []
    outcome = store.query(bound)
    assert isinstance(outcome, ox.QueryTriples)
    return list(outcome)


def _query(store: ReadStore, iri: str) -> Description | None:
    own = list(_run(store, _CORE_QUERY, iri))
    if not own:
        return None
    return Description(iri, _order(iri, [*own, *_run(store, _CONTEXT_QUERY, iri)]))
