"""The SPARQL behind `/api/v1/{type}/{key}`: each thing in two queries (a city in three) that start from its IRI.

Each JSON field is a *facet*: how its values `?o` are reached from the node. Most are one property, out of the node
or into it; the few others are graph patterns of their own (a path, or a property with a condition on the value).
The first query asks every facet of the thing at once, with the nested lists (memberships, posts, signatures),
each statement node found by the property that anchors it on the thing: the one-property facets as one pattern per
direction, whose predicate says the field, the others each tagged with its field name. (A city's memberships,
agreements and pilots are those of the municipality acting for it, whose facets are one more such query.) The last
asks the labels of the things the values name, and the URLs of the sources among them, from VALUES blocks: each
once, however often it is named. The same facet table gives the JSON-LD `@context`, so the JSON and its RDF
reading cannot drift.
"""

from __future__ import annotations

import types
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from operator import itemgetter
from typing import Any, TypeVar, Union, get_args, get_origin

import pyoxigraph as ox
from pydantic import BaseModel

from api.http.cache import BuildCache, build_of, text_bytes
from api.rest.models import THING_MODELS, AgentRef, Event, Membership, Post, Ref, Signature, SourceRef, Thing
from graph.iris import Minter
from graph.prefixes import VOCABULARIES, sparql_prologue
from graph.store import ReadStore, with_constants

__all__ = ["CLASSES", "SPARQL_PREFIXES", "VocabularyLabels", "best_label", "find_thing", "jsonld_context", "key_of"]

SPARQL_PREFIXES = sparql_prologue()

CLASSES = {
    "alliance": "sck:Alliance",
    "city": "sck:City",
    "municipality": "sck:Municipality",
    "company": "sck:Company",
    "organization": "sck:Organization",
    "agreement": "sck:Agreement",
    "pilot": "sck:Pilot",
    "person": "sck:Person",
    "source": "sck:Source",
}

# Proper names are German in this graph; English where a thing only has an English title.
_LANGUAGE_ORDER = {"de": 0, "": 1, "en": 2}


@dataclass(frozen=True)
class Facet:
    """How a field's values `?o` are reached from the node `?node`: along the property `term` (backwards with
    `reverse`), or by a `pattern` of its own. JSON-LD reads the field as `term`; a pattern that is no single
    property has none, and JSON-LD leaves the field out rather than say something untrue."""

    term: str | None = None
    reverse: bool = False
    iri: bool = False  # a plain string field whose values are IRIs (homepage, same_as)
    pattern: str | None = None  # instead of the bare property


def out(predicate: str, *, iri: bool = False) -> Facet:
    return Facet(predicate, iri=iri)


def back(predicate: str, also: str = "") -> Facet:
    return Facet(predicate, reverse=True, pattern=f"?o {predicate} ?node {also}" if also else None)


def path(pattern: str) -> Facet:
    return Facet(pattern=pattern)


_SOURCES = out("prov:wasDerivedFrom")  # with the URL of each source, which the label query brings
_COMMON = {
    "_types": path("?node a ?o"),
    "label": out("rdfs:label"),
    "same_as": out("owl:sameAs", iri=True),
    "sources": _SOURCES,
}
_PERIOD = {
    "since": out("sck:startDate"),
    "since_by": out("sck:startNoLaterThan"),
    "since_earliest": out("sck:startEarliest"),
    "since_latest": out("sck:startLatest"),
    "since_support": out("sck:startSupport"),
    "until": out("sck:endDate"),
    "until_by": out("sck:endNoLaterThan"),
    "until_earliest": out("sck:endEarliest"),
    "until_latest": out("sck:endLatest"),
    "until_support": out("sck:endSupport"),
}
_AGENT = {
    **_COMMON,
    "agreements": back("sck:party"),
    "pilots_led": back("sck:lead"),
    "pilots_as_partner": back("sck:partner"),
    "people": path("?post org:postIn ?node . ?post org:heldBy ?o"),
}
_ORGANIZATION = {
    **_AGENT,
    "description": out("schema:description"),
    "homepage": out("foaf:homepage", iri=True),
    "country": out("sck:countryCode"),
    "alt_names": out("skos:altLabel"),
    "kind": out("sck:organizationKind"),
    "parent": out("org:subOrganizationOf"),
    "sub_organizations": back("org:subOrganizationOf"),
}

FACETS: dict[str, dict[str, Facet]] = {
    "alliance": {
        **_COMMON,
        "description": out("schema:description"),
        "kind": out("sck:allianceKind"),
        "motto": out("sck:motto"),
        "themes": out("sck:theme"),
        "agreements": back("sck:alliance", ". ?o a sck:Agreement"),
        "pilots": back("sck:alliance", ". ?o a sck:Pilot"),
    },
    "city": {
        **_COMMON,
        "ags": out("sck:ags"),
        "municipality_key": out("sck:municipalityKey", iri=True),
        "land": out("sck:land"),
        "municipality": back("sck:municipalityOf"),
    },
    "municipality": {**_AGENT, "city": out("sck:municipalityOf")},
    "company": _ORGANIZATION,
    "organization": _ORGANIZATION,
    "agreement": {
        **_COMMON,
        "agreement_type": out("sck:agreementType"),
        "status": out("sck:status"),
        "alliance": out("sck:alliance"),
        "parties": out("sck:party"),
        "signed": out("sck:signedOn"),
        "signed_by": out("sck:signedNoLaterThan"),
        "signed_support": out("sck:signedSupport"),
        "signed_earliest": out("sck:signedEarliest"),
        "signed_latest": out("sck:signedLatest"),
        "duration": out("time:hasXSDDuration"),
        "scheduled_end_earliest": out("sck:scheduledEndEarliest"),
        "scheduled_end_latest": out("sck:scheduledEndLatest"),
    },
    "pilot": {
        **_COMMON,
        "description": out("schema:description"),
        "alliance": out("sck:alliance"),
        "themes": out("sck:theme"),
        "status": out("sck:status"),
        "lead": out("sck:lead"),
        "partners": out("sck:partner"),
        "start": out("sck:startDate"),
        "start_by": out("sck:startNoLaterThan"),
        "start_support": out("sck:startSupport"),
        "start_earliest": out("sck:startEarliest"),
        "start_latest": out("sck:startLatest"),
        "end": out("sck:endDate"),
        "end_by": out("sck:endNoLaterThan"),
        "end_support": out("sck:endSupport"),
        "end_earliest": out("sck:endEarliest"),
        "end_latest": out("sck:endLatest"),
    },
    "person": {
        **_COMMON,
        "remarks": back("sck:madeBy"),
        "agreements": path("?signature sck:signatory ?node . ?o sck:signature ?signature"),
    },
    "source": {
        **_COMMON,
        "title": out("dct:title"),
        "url": out("schema:url", iri=True),
        "publisher": path("?node schema:publisher ?publisher . ?publisher schema:name ?o"),
        "published": out("dct:issued"),
        "published_earliest": out("sck:earliest"),
        "published_latest": out("sck:latest"),
        "language": out("dct:language"),
        "kind": out("sck:sourceKind"),
        "comment": out("rdfs:comment"),
    },
}


@dataclass(frozen=True)
class Nested:
    """A list of statement nodes `?n` hanging off a thing `?node` by `anchor`, each with one-property facets."""

    model: type[BaseModel]
    anchor: str
    facets: dict[str, Facet]
    term: Facet | None


_MEMBERSHIP = {
    "label": out("rdfs:label"),
    "member": out("org:member"),
    "alliance": out("org:organization"),
    "role": out("org:role"),
    **_PERIOD,
    "sources": _SOURCES,
}
_MEMBERS = Nested(Membership, "?n org:organization ?node", _MEMBERSHIP, out("org:hasMembership"))
_MEMBER_OF = Nested(Membership, "?n org:member ?node", _MEMBERSHIP, back("org:member"))
_POSTS = Nested(
    Post,
    "?node org:holds ?n",
    {
        "label": out("rdfs:label"),
        "organization": out("org:postIn"),
        "role": out("org:role"),
        **_PERIOD,
        "sources": _SOURCES,
    },
    out("org:holds"),
)
_SIGNATURES = Nested(
    Signature,
    "?node sck:signature ?n",
    {
        "label": out("rdfs:label"),
        "signatory": out("sck:signatory"),
        "on_behalf_of": out("sck:onBehalfOf"),
        "posts": out("sck:post"),
        "sources": _SOURCES,
    },
    out("sck:signature"),
)
_EVENTS = Nested(
    Event,
    "?node sck:event ?n",
    {
        "label": out("rdfs:label"),
        "kind": out("sck:eventKind"),
        "summary": out("sck:summary"),
        "date": out("sck:date"),
        "date_by": out("sck:noLaterThan"),
        "date_earliest": out("sck:earliest"),
        "date_latest": out("sck:latest"),
        "date_support": out("sck:dateSupport"),
        "place": out("sck:place"),
        "sources": _SOURCES,
    },
    out("sck:event"),
)
NESTED: dict[str, dict[str, Nested]] = {
    "alliance": {"memberships": _MEMBERS, "events": _EVENTS},
    "municipality": {"memberships": _MEMBER_OF},
    "company": {"memberships": _MEMBER_OF},
    "organization": {"memberships": _MEMBER_OF},
    "agreement": {"signatures": _SIGNATURES},
    "person": {"posts": _POSTS},
}
# A city is a place; the municipality acting for it is the agent with memberships, agreements and pilots.
_ACTING_FOR = {"city": "municipality"}
_LABEL = f"{VOCABULARIES['rdfs']}label"
_URL = f"{VOCABULARIES['schema']}url"


def _iri(name: str) -> str:
    prefix, local = name.split(":")
    return VOCABULARIES[prefix] + local


def _by_property(facets: Mapping[str, Facet], reverse: bool) -> dict[str, str]:
    """Property IRI → field, for the facets that are one property in that direction."""
    simple = [
        (facet.term, name)
        for name, facet in facets.items()
        if facet.term is not None and facet.pattern is None and facet.reverse == reverse
    ]
    fields = {_iri(term): name for term, name in simple}
    assert len(fields) == len(simple), "an answer's property says its field: one field per property and direction"
    return fields


def _among(properties: Iterable[str]) -> str:
    return ", ".join(f"<{iri}>" for iri in sorted(properties))


@dataclass(frozen=True)
class _Plan:
    """The facet query of one type of thing, and how its answers are read."""

    outwards: dict[str, str]  # property IRI → field, for the properties out of the thing
    inwards: dict[str, str]  # ... and into it
    nested: dict[str, dict[str, str]]  # nested field → property IRI → field of its nodes
    query: str = field(repr=False)


@cache
def _plan(kind: str) -> _Plan:
    facets = FACETS[kind]
    outwards, inwards = _by_property(facets, reverse=False), _by_property(facets, reverse=True)
    # Every branch starts at the thing, written into the text as a constant, so that each is planned from it.
    branches = [
        f"{{ ?node ?p ?o FILTER(?p IN ({_among(outwards)})) }}",
        *([f"{{ ?o ?b ?node FILTER(?b IN ({_among(inwards)})) }}"] if inwards else []),
        *(f'{{ {facet.pattern} BIND("{name}" AS ?f) }}' for name, facet in facets.items() if facet.pattern),
    ]
    nested = {}
    for name, inner in NESTED.get(kind, {}).items():
        nested[name] = _by_property(inner.facets, reverse=False)
        assert len(nested[name]) == len(inner.facets), "the facets of a nested node are properties out of it"
        branches.append(f'{{ {inner.anchor} . ?n ?p ?o FILTER(?p IN ({_among(nested[name])})) BIND("{name}" AS ?f) }}')
    query = f"{SPARQL_PREFIXES}SELECT ?n ?f ?p ?b ?o WHERE {{\n  " + "\n  UNION ".join(branches) + "\n}"
    return _Plan(outwards, inwards, nested, query)


Value = ox.NamedNode | ox.BlankNode | ox.Literal
Facets = dict[str, dict[str, Value]]  # field → its distinct values, by their N-Triples form
Nodes = dict[str, dict[str, Facets]]  # nested field → node IRI → the node's facets


def _select(store: ReadStore, query: str, *names: str) -> Iterator[tuple[Any, ...]]:
    """The values of `names` in each solution, in that order, whichever order the store lists its variables in."""
    solutions = store.select(query)
    order = [variable.value for variable in solutions.variables]
    values = itemgetter(*(order.index(name) for name in names))
    return (values(row) for row in solutions)


def _facets(store: ReadStore, kind: str, iri: str) -> tuple[Facets, Nodes] | None:
    """The facets of the thing `iri` of `kind`, and those of the nodes of its nested lists."""
    plan = _plan(kind)
    text = with_constants(plan.query, {"node": iri})
    if text is None:
        return None
    own: Facets = {}
    nodes: Nodes = {name: {} for name in plan.nested}
    for node, tag, outward, inward, obj in _select(store, text, "n", "f", "p", "b", "o"):
        facets = own
        if node is not None:
            facets = nodes[tag.value].setdefault(node.value, {})
            name = plan.nested[tag.value][outward.value]
        elif tag is not None:
            name = tag.value
        elif outward is not None:
            name = plan.outwards[outward.value]
        else:
            name = plan.inwards[inward.value]
        facets.setdefault(name, {}).setdefault(str(obj), obj)
    return own, nodes


@dataclass
class _Name:
    labels: list[ox.Literal] = field(default_factory=list)
    url: str | None = None


# The labels of the vocabulary (themes, roles, statuses, kinds: every node that is no thing of the graph) are the
# same in each answer of a build, and most answers name some of it: kept by term, in a cache of each app's own (made
# in create_app, sized in the settings, counted in /metrics).
VocabularyLabels = BuildCache[str, _Name]


@dataclass(frozen=True)
class _Field:
    """A field of a response model, as its facet's values become its value."""

    name: str
    many: bool  # a list, sorted; else the one value, the preferred literal or the least IRI
    target: Any  # what each value becomes: a kind of Ref, a date, or (str) its lexical form


@cache
def _fields(model: type[BaseModel]) -> tuple[_Field, ...]:
    fields = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        many = get_origin(annotation) is list
        if many or get_origin(annotation) in (Union, types.UnionType):
            annotation = next(arg for arg in get_args(annotation) if arg is not type(None))
        fields.append(_Field(name, many, annotation))
    return tuple(fields)


def _refers(target: Any) -> bool:
    return isinstance(target, type) and issubclass(target, Ref)


def _names(
    store: ReadStore,
    named: Iterable[tuple[type[BaseModel], Facets]],
    known: Mapping[str, Facets],
    known_names: VocabularyLabels,
) -> dict[str, _Name]:
    """The labels of the things the facets of each model name, and the URLs of the sources among them; each asked
    once. What `known` holds the facets of already (the thing itself, in its memberships) is not asked again, nor
    what `known_names` keeps of the vocabulary."""
    labelled: set[str] = set()
    sourced: set[str] = set()
    for model, facets in named:
        for spec in _fields(model):
            if _refers(spec.target):
                iris = {str(value) for value in facets.get(spec.name, {}).values() if isinstance(value, ox.NamedNode)}
                labelled |= iris
                if issubclass(spec.target, SourceRef):
                    sourced |= iris
    names = {
        iri: _Name([v for v in facets.get("label", {}).values() if isinstance(v, ox.Literal)])
        for iri, facets in known.items()
    }
    labelled -= {f"<{iri}>" for iri in known}
    things, build = f"<{store.manifest.minter.things}", build_of(store)
    vocabulary = {term for term in labelled if not term.startswith(things)}
    for term in vocabulary:
        if (kept := known_names.get(build, term)) is not None:
            names[term[1:-1]] = kept
            labelled.remove(term)
    # The terms are the store's own, written by the engine (`<...>`): they cannot change the query's shape.
    branches = [
        f"{{ VALUES ?o {{ {' '.join(sorted(iris))} }} ?o <{predicate}> ?{variable} }}"
        for iris, predicate, variable in ((labelled, _LABEL, "label"), (sourced, _URL, "url"))
        if iris
    ]
    if not branches:
        return names
    for obj, label, url in _select(
        store, f"SELECT ?o ?label ?url WHERE {{ {' UNION '.join(branches)} }}", "o", "label", "url"
    ):
        entry = names.setdefault(obj.value, _Name())
        if url is not None:
            entry.url = url.value
        elif isinstance(label, ox.Literal) and label not in entry.labels:
            entry.labels.append(label)
    for term in vocabulary & labelled:
        name = names.setdefault(term[1:-1], _Name())
        known_names.put(build, term, name, len(term) + text_bytes(name.labels) + len(name.url or ""))
    return names


def key_of(iri: str) -> str:
    """The last segment of a thing's IRI; for a node inside a thing (`...#signature-x`), its fragment."""
    return iri[max(iri.rfind("/"), iri.rfind("#")) + 1 :]


def _preference(literal: ox.Literal) -> tuple[int, str]:
    """German, untagged, English, then any other language; within one, the first in code-point order."""
    return _LANGUAGE_ORDER.get(literal.language or "", 3), literal.value


def best_label(labels: list[ox.Literal], fallback: str) -> str:
    return min(labels, key=_preference).value if labels else fallback


M = TypeVar("M", bound=BaseModel)
_NO_NAME = _Name()


@dataclass(frozen=True)
class _Resolver:
    """Field values from facet values: named nodes become {id, key, label} with the labels asked for them."""

    names: Mapping[str, _Name]
    minter: Minter

    def fill(self, model: type[M], iri: str, facets: Facets, extra: dict[str, Any]) -> M:
        fields: dict[str, Any] = {"id": iri, "key": key_of(iri), **extra}
        labels = [v for v in facets.get("label", {}).values() if isinstance(v, ox.Literal)]
        fields["label"] = best_label(labels, fields["key"])
        for spec in _fields(model):
            if spec.name not in fields:
                fields[spec.name] = self.convert(spec, facets.get(spec.name, {}))
        return model.model_validate(fields)

    def convert(self, spec: _Field, values: dict[str, Value]) -> Any:
        """A field's value from its facet's answers, by the field's declared type."""
        if spec.many:
            items = [self.scalar(spec.target, value) for value in values.values()]
            return sorted(items, key=lambda item: item.key if isinstance(item, Ref) else str(item))
        if not values:
            return None
        literals = [value for value in values.values() if isinstance(value, ox.Literal)]
        chosen = str(min(literals, key=_preference)) if literals else min(values)
        return self.scalar(spec.target, values[chosen])

    def scalar(self, target: Any, value: Value) -> Any:
        if _refers(target):
            return self.ref(target, value)
        if target is date:
            return date.fromisoformat(value.value)
        if target is int:
            return int(value.value)
        return value.value

    def ref(self, cls: type[Ref], term: Value) -> Ref:
        iri = term.value
        name = self.names.get(iri, _NO_NAME)
        fields: dict[str, Any] = {"id": iri, "key": key_of(iri), "label": best_label(name.labels, key_of(iri))}
        if issubclass(cls, AgentRef):
            fields["type"], _ = self.minter.parse(iri) or ("", "")
        if issubclass(cls, SourceRef):
            fields["url"] = name.url
        return cls(**fields)


def find_thing(store: ReadStore, kind: str, key: str, labels: VocabularyLabels) -> Thing | None:
    """The thing of `kind` with `key`, its relations resolved to {id, key, label} (the vocabulary's kept in
    `labels`); None when there is none."""
    iri = str(store.manifest.minter.thing(kind, key))
    found = _facets(store, kind, iri)
    if found is None or _iri(CLASSES[kind]) not in {value.value for value in found[0].get("_types", {}).values()}:
        return None
    facets, nodes = found
    known = {iri: facets}
    agent_kind = _ACTING_FOR.get(kind, kind)
    nested = NESTED.get(agent_kind, {})
    if agent_kind != kind:
        acting = sorted(value.value for value in facets.get(agent_kind, {}).values())
        agent = _facets(store, agent_kind, acting[0]) if acting else None
        nodes = {name: {} for name in nested}
        if agent is not None:
            known[acting[0]], nodes = agent
            facets = {**{name: values for name, values in agent[0].items() if name not in FACETS[kind]}, **facets}
    named = [
        (THING_MODELS[kind], facets),
        *((inner.model, node) for name, inner in nested.items() for node in nodes[name].values()),
    ]
    resolver = _Resolver(_names(store, named, known, labels), store.manifest.minter)
    extra: dict[str, Any] = {"type": kind}
    for name, inner in nested.items():
        extra[name] = [
            resolver.fill(inner.model, node, node_facets, {}) for node, node_facets in sorted(nodes[name].items())
        ]
    return resolver.fill(THING_MODELS[kind], iri, facets, extra)


def _term(facet: Facet, annotation: Any) -> dict[str, Any] | None:
    if facet.term is None:
        return None
    term: dict[str, Any] = {"@reverse" if facet.reverse else "@id": facet.term}
    if facet.iri:
        term["@type"] = "@id"
    elif date in (annotation, *get_args(annotation)):
        term["@type"] = "xsd:date"
    elif int in (annotation, *get_args(annotation)):
        term["@type"] = "xsd:integer"
    return term


def _terms(model: type[BaseModel], facets: Mapping[str, Facet], nested: Mapping[str, Nested]) -> dict[str, Any]:
    terms: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name in ("id", "key", "label", "type"):
            continue
        if name in nested:
            inner = nested[name]
            term = _term(inner.term, None) if inner.term else None
            terms[name] = None if term is None else {**term, "@context": _terms(inner.model, inner.facets, {})}
        else:
            terms[name] = _term(facets[name], info.annotation) if name in facets else None
    return terms


def jsonld_context(kind: str) -> dict[str, Any]:
    """The `@context` that reads the JSON of one `kind` as RDF in the graph's own terms."""
    nested = NESTED.get(kind, {})
    return {
        "@version": 1.1,
        **VOCABULARIES,
        "id": "@id",
        "type": None,
        "key": "dct:identifier",
        "label": "rdfs:label",
        "url": {"@id": "schema:url", "@type": "@id"},
        **_terms(THING_MODELS[kind], FACETS[kind], nested),
    }
