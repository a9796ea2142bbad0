"""The description of one thing: its triples, its fragment nodes, and what links to and from it, with labels."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from functools import cached_property
from itertools import takewhile
from typing import NamedTuple

import pyoxigraph as ox

from api.http.cache import BuildCache, build_of, text_bytes
from api.http.terms import node_id
from graph.iris import part_of
from graph.store import ReadStore, with_constants
from graph.vocab import DCTERMS, ORG, OWL, PROV, RDF, RDFS, SCHEMA, SCK

__all__ = ["Describing", "Description", "describe"]

# A description is gathered by walking out from the thing, one step per query, four at most. The first asks what
# the thing says and what links to it, the thing's IRI written into the query as a constant; each later one asks
# about the nodes the steps before found, named in VALUES blocks, for just the predicates their part in the
# description needs. Every node is asked about once, so the work follows the size of the description rather than of
# the store, and which node plays which part is decided here, on the IRIs the store returns, rather than by string
# filters the engine would evaluate (decoding every candidate) before it could tell.
#
# The parts: the thing, with every triple it is the subject of and every link to it; its fragment nodes
# (`{thing}#...`) one hop out of it (citations, objectives, intervals), one hop in (attestations say sck:about the
# thing) and one more hop out from those (their citations, an interval's instants), with all their triples; and the
# related nodes: what the thing or a first-hop fragment points at, what points at the thing, and what points at the
# municipality acting for it (so a city's description lists the alliances its municipality belongs to). Fragments
# two hops away are citations and instants: a citation's source is already the wasDerivedFrom of the statement it
# qualifies, an instant holds only a date, so they add no related node.
_THING_QUERY = "CONSTRUCT { ?thing ?p ?o . ?s ?q ?thing } WHERE { { ?thing ?p ?o } UNION { ?s ?q ?thing } }"
_MUNICIPALITY_OF = str(SCK.municipalityOf)
Predicates = frozenset[str] | None  # None: every predicate
# What a related node contributes: its types and labels, the ends of a statement (member, organisation, role,
# dates stated or bounded, with their support, parties), and what a source or citation says (title, publisher,
# date, URL; claim and locator) ...
_LINKS = frozenset(
    map(
        str,
        (
            ORG.member,
            ORG.organization,
            ORG.role,
            ORG.postIn,
            ORG.heldBy,
            SCK.agreementType,
            SCK.status,
            SCK.alliance,
            SCK.signatory,
            SCK.onBehalfOf,
            SCK.municipalityOf,
            PROV.entity,
            SCHEMA.publisher,
            DCTERMS.isReplacedBy,
        ),
    )
)
_RELATED = _LINKS | frozenset(
    map(
        str,
        (
            RDF.type,
            RDFS.label,
            SCHEMA.name,
            SCK.startDate,
            SCK.endDate,
            SCK.signedOn,
            SCK.date,
            SCK.dateWording,
            SCK.startNoLaterThan,
            SCK.endNoLaterThan,
            SCK.signedNoLaterThan,
            SCK.noLaterThan,
            SCK.startSupport,
            SCK.endSupport,
            SCK.signedSupport,
            SCK.dateSupport,
            SCK.claim,
            SCK.locator,
            DCTERMS.title,
            DCTERMS.issued,
            SCHEMA.url,
            OWL.deprecated,
        ),
    )
)
# ... the names of the things its statements link to (the alliance of a city's membership) ...
_NAMES = frozenset(map(str, (RDFS.label, SCHEMA.name)))
# ... and, for a fragment of another thing that links to this one (a citation of a source), what that thing is.
_OWNER = frozenset(map(str, (RDF.type, RDFS.label)))
# What asking a node for the first predicates answers already (the names and the owner are among its related).
_COVERED_BY: dict[Predicates, tuple[Predicates, ...]] = {
    None: (None,),
    _RELATED: (_RELATED, None),
    _NAMES: (_NAMES, _RELATED, None),
    _OWNER: (_OWNER, _RELATED, None),
}


def _iri(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> str | None:
    return term.value if isinstance(term, ox.NamedNode) else None


class _Walk:
    """The triples of one description as the steps find them, and which nodes the next step asks about."""

    def __init__(self, thing: str, vocabulary: VocabularyTriples, build: Hashable, things: str) -> None:
        self.thing = thing
        self.vocabulary = vocabulary  # what the build's vocabulary contributes, kept (see Describing)
        self.build = build
        self.things = things  # where the IRIs of the graph's things start; any other node is vocabulary
        self.triples: list[ox.Triple] = []
        self.linking: set[str] = set()  # whatever links to the thing
        self.first_hop: set[str] = set()  # the fragments one hop from the thing
        self.asked: set[tuple[Predicates, str]] = set()
        self.next: dict[Predicates, dict[str, ox.NamedNode]] = {}
        self.next_into: dict[str, ox.NamedNode] = {}  # nodes whose links in the next step asks for
        # What the current step asks about: each node's predicates, the related nodes among them, the nodes whose
        # links in it asks for, and the vocabulary it asks about for the first time (to keep it for the next).
        self.now: dict[str, list[Predicates]] = {}
        self.related: set[str] = set()
        self.into: set[str] = set()
        self.unknown: dict[str, Predicates] = {}

    def is_fragment(self, iri: str) -> bool:
        return part_of(iri, self.thing)

    def ask(self, node: ox.NamedNode, predicates: Predicates) -> None:
        """The next step is to fetch the triples of `node` with `predicates`, unless an earlier one did."""
        if not any((covering, node.value) in self.asked for covering in _COVERED_BY[predicates]):
            self.asked.add((predicates, node.value))
            self.next.setdefault(predicates, {})[node.value] = node

    def relate(self, node: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple, *, linking: bool) -> None:
        # The thing itself is no related node: whatever it would add is in its own triples and fragments already.
        if not isinstance(node, ox.NamedNode) or node.value == self.thing or self.is_fragment(node.value):
            return
        self.ask(node, _RELATED)
        owner, fragment, _ = node.value.partition("#")
        # Whatever links to the thing is related itself and brings its own labels; looking them up again for each
        # fragment of it that links here too (on a source's page: every citation of one alliance) would only
        # repeat them.
        if linking and fragment and owner != self.thing and owner not in self.linking:
            self.ask(ox.NamedNode(owner), _OWNER)

    def take_thing(self, found: list[ox.Triple]) -> bool:
        """The first step's triples: the thing's and the links to it. False when the graph says nothing of it."""
        self.linking = {node_id(t.subject) for t in found if _iri(t.object) == self.thing}
        self.now, self.into = {self.thing: [None]}, {self.thing}
        self.take(found)
        return any(_iri(t.subject) == self.thing for t in found) or bool(self.first_hop)

    def query(self) -> str | None:
        """The next step's query, None when nothing is left to ask."""
        asked, self.next = self.next, {}
        into, self.next_into = self.next_into, {}
        fetched = {*asked.get(None, {}), *asked.get(_RELATED, {})}  # the names and owners of these come with them
        self.now, self.related, self.into, self.unknown = {}, set(), set(into), {}
        branches = [f"{{ VALUES ?o {{ {_terms(into.values())} }} ?s ?p ?o }}"] if into else []
        for predicates, nodes in asked.items():
            wanted = []
            for key, node in nodes.items():
                if predicates not in (None, _RELATED) and key in fetched:
                    continue
                self.now.setdefault(key, []).append(predicates)
                if predicates is _RELATED:
                    self.related.add(key)
                vocabulary = not key.startswith(self.things)
                kept = self.vocabulary.get(self.build, (predicates, key)) if vocabulary else None
                if kept is not None:
                    for triple in kept:
                        self.answer(triple)
                    continue
                if vocabulary:
                    self.unknown[key] = predicates
                wanted.append(node)
            if wanted:
                branches.append(_branch(predicates, wanted))
        return "CONSTRUCT { ?s ?p ?o } WHERE {\n  " + "\n  UNION ".join(branches) + "\n}" if branches else None

    def take(self, found: list[ox.Triple]) -> None:
        """A step's triples, each an answer to what it asked about its subject or about its object's links."""
        of_vocabulary: dict[str, list[ox.Triple]] = {key: [] for key in self.unknown}
        for triple in found:
            subject, predicate = _iri(triple.subject), triple.predicate.value
            if subject in of_vocabulary:
                of_vocabulary[subject].append(triple)
            if any(asked is None or predicate in asked for asked in self.now.get(subject or "", ())):
                self.answer(triple)
            if _iri(triple.object) in self.into:
                self.link(triple)
        for key, triples in of_vocabulary.items():
            self.vocabulary.put(self.build, (self.unknown[key], key), tuple(triples), len(key) + text_bytes(triples))

    def answer(self, triple: ox.Triple) -> None:
        """A triple of a node asked about: the thing's and its first-hop fragments' lead on, as do the links of
        related nodes, whose ends are named next."""
        self.triples.append(triple)
        subject, obj = _iri(triple.subject), triple.object
        if subject == self.thing or subject in self.first_hop:
            if isinstance(obj, ox.NamedNode) and self.is_fragment(obj.value):
                if subject == self.thing:
                    self.first_hop.add(obj.value)
                self.ask(obj, None)
            else:
                self.relate(obj, linking=False)
        elif (
            subject in self.related
            and isinstance(obj, ox.NamedNode)
            and triple.predicate.value in _LINKS
            and obj.value != self.thing
            and obj.value not in self.linking
        ):
            self.ask(obj, _NAMES)

    def link(self, triple: ox.Triple) -> None:
        """A link to the thing or to the municipality acting for it."""
        subject, to_thing = triple.subject, _iri(triple.object) == self.thing
        if not isinstance(subject, ox.NamedNode):
            return
        if self.is_fragment(subject.value):
            # A fragment linking to the thing is one of its first-hop fragments; one linking to the municipality
            # belongs to the description only as a fragment of the thing.
            if to_thing:
                self.triples.append(triple)
                self.first_hop.add(subject.value)
                self.ask(subject, None)
            return
        self.triples.append(triple)
        self.relate(subject, linking=True)
        if to_thing and triple.predicate.value == _MUNICIPALITY_OF and subject.value not in self.next_into:
            self.next_into[subject.value] = subject


def _terms(nodes: Iterable[ox.NamedNode]) -> str:
    # Terms the store returned, written by the engine itself (`<...>`): they cannot change the query's shape.
    return " ".join(map(str, nodes))


def _branch(predicates: Predicates, nodes: list[ox.NamedNode]) -> str:
    """The triples of `nodes` with `predicates`."""
    only = "" if predicates is None else f" FILTER(?p IN ({', '.join(f'<{p}>' for p in sorted(predicates))}))"
    return f"{{ VALUES ?s {{ {_terms(nodes)} }} ?s ?p ?o{only} }}"


@dataclass(frozen=True, eq=False)
class Description:
    """The triples describing `iri`, in a stable order (the thing, its fragments, then the rest), with lookups."""

    iri: str
    triples: tuple[ox.Triple, ...]

    @classmethod
    def of(cls, iri: str, triples: Iterable[ox.Triple]) -> Description:
        """The description of `iri` by these triples: deduplicated, the thing's own triples first, then its
        fragments', then the rest; each part sorted."""

        def key(triple: ox.Triple) -> tuple[int, str, str, str]:
            subject = node_id(triple.subject)
            rank = 0 if subject == iri else 1 if part_of(subject, iri) else 2
            return rank, subject, triple.predicate.value, str(triple.object)

        return cls(iri, tuple(sorted(set(triples), key=key)))

    # The lookups are built on first use: a description sent as RDF needs none but the thing's own triples.
    @cached_property
    def _out(self) -> dict[str, dict[str, list[ox.Triple]]]:
        out: dict[str, dict[str, list[ox.Triple]]] = {}
        for triple in self.triples:
            out.setdefault(node_id(triple.subject), {}).setdefault(triple.predicate.value, []).append(triple)
        return out

    @cached_property
    def _in(self) -> dict[str, list[ox.Triple]]:
        into: dict[str, list[ox.Triple]] = {}
        for triple in self.triples:
            if isinstance(triple.object, ox.NamedNode):
                into.setdefault(triple.object.value, []).append(triple)
        return into

    def objects(self, subject: str, predicate: str) -> list[ox.NamedNode | ox.BlankNode | ox.Literal]:
        return [t.object for t in self._out.get(subject, {}).get(predicate, ()) if not isinstance(t.object, ox.Triple)]

    def predicates(self, subject: str) -> list[str]:
        return list(self._out.get(subject, {}))

    def nodes(self) -> list[str]:
        """Every subject of the description, in its order."""
        return list(self._out)

    def incoming(self, obj: str) -> list[ox.Triple]:
        return self._in.get(obj, [])

    def is_fragment(self, node: str) -> bool:
        return part_of(node, self.iri)

    def _own(self, predicate: str) -> list[ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple]:
        """The thing's objects of `predicate`, from its own triples, which come first."""
        return [
            t.object
            for t in takewhile(lambda t: _iri(t.subject) == self.iri, self.triples)
            if t.predicate.value == predicate
        ]

    @property
    def retired(self) -> bool:
        return any(isinstance(o, ox.Literal) and o.value in ("true", "1") for o in self._own(str(OWL.deprecated)))

    @property
    def replaced_by(self) -> list[str]:
        return [o.value for o in self._own(str(DCTERMS.isReplacedBy)) if isinstance(o, ox.NamedNode)]


VocabularyTriples = BuildCache[tuple[Predicates, str], tuple[ox.Triple, ...]]


class Describing(NamedTuple):
    """The caches `describe` keeps: each app's own (made in create_app, sized in the settings, counted in
    /metrics), the values of one build at a time."""

    # Misses (unknown keys) are not kept, so requests for made-up keys cannot push real descriptions out.
    descriptions: BuildCache[str, Description]
    # What the vocabulary contributes (classes, themes, roles, statuses: every node that is no thing of the graph)
    # is the same in each description of a build, and most descriptions name some of it: kept by predicates and node.
    vocabulary: VocabularyTriples


def describe(store: ReadStore, iri: str, caches: Describing) -> Description | None:
    """The description of the thing `iri`, or None when the graph says nothing about it."""
    build = build_of(store)
    description = caches.descriptions.get(build, iri)
    if description is None:
        description = _query(store, iri, caches.vocabulary, build)
        if description is not None:
            caches.descriptions.put(build, iri, description, len(iri) + text_bytes(description.triples))
    return description


def _triples(store: ReadStore, query: str) -> list[ox.Triple]:
    return list(store.construct(query))


def _query(store: ReadStore, iri: str, vocabulary: VocabularyTriples, build: Hashable) -> Description | None:
    first = with_constants(_THING_QUERY, {"thing": iri})
    walk = _Walk(iri, vocabulary, build, store.manifest.minter.things)
    if first is None or not walk.take_thing(_triples(store, first)):
        return None
    while (query := walk.query()) is not None:
        walk.take(_triples(store, query))
    return Description.of(iri, walk.triples)
