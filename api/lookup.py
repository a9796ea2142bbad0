"""The SPARQL behind `/api/v1/{type}/{key}`: each thing in two or three queries that start from its IRI.

Each JSON field is a *facet*: a graph pattern from the bound node `?node` to the values `?o`. One query asks all
facets of a node at once (a UNION of the patterns, each tagged with its field name), and the models are filled
field by field from the answers; nested lists (memberships, posts, signatures) are one more query each, anchored
on the thing. The same facet table gives the JSON-LD `@context`, so the JSON and its RDF reading cannot drift.
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any, TypeVar, Union, get_args, get_origin

import pyoxigraph as ox
from pydantic import BaseModel

from api.models import THING_MODELS, AgentRef, Membership, Post, Ref, Signature, SourceRef, Thing
from graph.store import ReadStore, with_constants

__all__ = ["CLASSES", "PREFIXES", "SPARQL_PREFIXES", "best_label", "find_thing", "jsonld_context", "key_of"]

PREFIXES = {
    "sck": "https://w3id.org/smartcity-kg/ontology#", "org": "http://www.w3.org/ns/org#",
    "prov": "http://www.w3.org/ns/prov#", "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "schema": "http://schema.org/", "dct": "http://purl.org/dc/terms/", "owl": "http://www.w3.org/2002/07/owl#",
    "skos": "http://www.w3.org/2004/02/skos/core#", "foaf": "http://xmlns.com/foaf/0.1/",
    "time": "http://www.w3.org/2006/time#", "xsd": "http://www.w3.org/2001/XMLSchema#",
}
SPARQL_PREFIXES = "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in PREFIXES.items())

CLASSES = {
    "alliance": "sck:Alliance", "city": "sck:City", "municipality": "sck:Municipality", "company": "sck:Company",
    "organization": "sck:Organization", "agreement": "sck:Agreement", "pilot": "sck:Pilot",
    "person": "sck:Person", "source": "sck:Source",
}

# Proper names are German in this graph; English where a thing only has an English title.
_LANGUAGE_ORDER = {"de": 0, "": 1, "en": 2}


@dataclass(frozen=True)
class Facet:
    """A graph pattern from `?node` to `?o`; `term` and `reverse` say how JSON-LD reads the field."""

    pattern: str
    term: str | None = None
    reverse: bool = False
    iri: bool = False  # a plain string field whose values are IRIs (homepage, same_as)


def out(predicate: str, *, iri: bool = False) -> Facet:
    return Facet(f"?node {predicate} ?o", predicate, iri=iri)


def back(predicate: str, also: str = "") -> Facet:
    return Facet(f"?o {predicate} ?node {also}", predicate, reverse=True)


def path(pattern: str) -> Facet:
    """A pattern that is no single property: JSON-LD leaves the field out rather than say something untrue."""
    return Facet(pattern)


# Only sources have a URL worth asking for; asking it of every value would double the lookups.
_SOURCES = Facet("?node prov:wasDerivedFrom ?o OPTIONAL { ?o schema:url ?url }", "prov:wasDerivedFrom")
_COMMON = {"_types": path("?node a ?o"), "label": out("rdfs:label"), "same_as": out("owl:sameAs", iri=True),
           "sources": _SOURCES}
_PERIOD = {"since": out("sck:startDate"), "since_earliest": out("sck:startEarliest"),
           "since_latest": out("sck:startLatest"), "until": out("sck:endDate"),
           "until_earliest": out("sck:endEarliest"), "until_latest": out("sck:endLatest")}
_AGENT = {**_COMMON, "agreements": back("sck:party"), "pilots_led": back("sck:lead"),
          "pilots_as_partner": back("sck:partner"), "people": path("?post org:postIn ?node . ?post org:heldBy ?o")}
_ORGANIZATION = {**_AGENT, "description": out("schema:description"), "homepage": out("foaf:homepage", iri=True),
                 "country": out("sck:countryCode"), "alt_names": out("skos:altLabel"),
                 "kind": out("sck:organizationKind"), "parent": out("org:subOrganizationOf"),
                 "sub_organizations": back("org:subOrganizationOf")}

FACETS: dict[str, dict[str, Facet]] = {
    "alliance": {**_COMMON, "description": out("schema:description"), "kind": out("sck:allianceKind"),
                 "motto": out("sck:motto"), "themes": out("sck:theme"), "events": out("sck:event"),
                 "agreements": back("sck:alliance", ". ?o a sck:Agreement"),
                 "pilots": back("sck:alliance", ". ?o a sck:Pilot")},
    "city": {**_COMMON, "ags": out("sck:ags"), "municipality_key": out("sck:municipalityKey", iri=True),
             "land": out("sck:land"), "municipality": back("sck:municipalityOf")},
    "municipality": {**_AGENT, "city": out("sck:municipalityOf")},
    "company": _ORGANIZATION,
    "organization": _ORGANIZATION,
    "agreement": {**_COMMON, "agreement_type": out("sck:agreementType"), "status": out("sck:status"),
                  "alliance": out("sck:alliance"), "parties": out("sck:party"), "signed": out("sck:signedOn"),
                  "signed_earliest": out("sck:signedEarliest"), "signed_latest": out("sck:signedLatest"),
                  "duration": out("time:hasXSDDuration"),
                  "scheduled_end_earliest": out("sck:scheduledEndEarliest"),
                  "scheduled_end_latest": out("sck:scheduledEndLatest")},
    "pilot": {**_COMMON, "description": out("schema:description"), "alliance": out("sck:alliance"),
              "themes": out("sck:theme"), "status": out("sck:status"), "lead": out("sck:lead"),
              "partners": out("sck:partner"), "start": out("sck:startDate"),
              "start_earliest": out("sck:startEarliest"), "start_latest": out("sck:startLatest"),
              "end": out("sck:endDate"), "end_earliest": out("sck:endEarliest"), "end_latest": out("sck:endLatest")},
    "person": {**_COMMON, "remarks": back("sck:madeBy"),
               "agreements": path("?signature sck:signatory ?node . ?o sck:signature ?signature")},
    "source": {**_COMMON, "title": out("dct:title"), "url": out("schema:url", iri=True),
               "publisher": path("?node schema:publisher ?publisher . ?publisher schema:name ?o"),
               "published": out("dct:issued"), "published_earliest": out("sck:earliest"),
               "published_latest": out("sck:latest"), "language": out("dct:language"),
               "kind": out("sck:sourceKind"), "comment": out("rdfs:comment")},
}


@dataclass(frozen=True)
class Nested:
    """A list of statement nodes hanging off a thing: `anchor` finds each `?node` from the bound `?this`."""

    model: type[BaseModel]
    anchor: str
    facets: dict[str, Facet]
    term: Facet | None

    @cached_property
    def query(self) -> str:
        return _facet_query(self.facets, self.anchor)


_MEMBERSHIP = {"label": out("rdfs:label"), "member": out("org:member"), "alliance": out("org:organization"),
               "role": out("org:role"), **_PERIOD, "sources": _SOURCES}
_MEMBERS = Nested(Membership, "?node org:organization ?this .", _MEMBERSHIP, out("org:hasMembership"))
_MEMBER_OF = Nested(Membership, "?node org:member ?this .", _MEMBERSHIP, back("org:member"))
_POSTS = Nested(Post, "?this org:holds ?node .",
                {"label": out("rdfs:label"), "organization": out("org:postIn"), "role": out("org:role"),
                 **_PERIOD, "sources": _SOURCES}, out("org:holds"))
_SIGNATURES = Nested(Signature, "?this sck:signature ?node .",
                     {"label": out("rdfs:label"), "signatory": out("sck:signatory"),
                      "on_behalf_of": out("sck:onBehalfOf"), "posts": out("sck:post"),
                      "sources": _SOURCES}, out("sck:signature"))
NESTED: dict[str, dict[str, Nested]] = {
    "alliance": {"memberships": _MEMBERS}, "municipality": {"memberships": _MEMBER_OF},
    "company": {"memberships": _MEMBER_OF}, "organization": {"memberships": _MEMBER_OF},
    "agreement": {"signatures": _SIGNATURES}, "person": {"posts": _POSTS},
}
# A city is a place; the municipality acting for it is the agent with memberships, agreements and pilots.
_ACTING_FOR = {"city": "municipality"}


def _facet_query(facets: Mapping[str, Facet], anchor: str = "") -> str:
    branches = "\n  UNION ".join(f'{{ {facet.pattern} BIND("{name}" AS ?f) }}' for name, facet in facets.items())
    # The IRI a query starts from (?this, or ?node without an anchor) is written into its text; not projected.
    bound = "?node " if anchor else ""
    return (f"{SPARQL_PREFIXES}SELECT {bound}?f ?o ?label ?url WHERE {{\n  {anchor}\n  {branches}\n"
            "  OPTIONAL { ?o rdfs:label ?label }\n}")


FACET_QUERIES = {kind: _facet_query(facets) for kind, facets in FACETS.items()}


@dataclass
class _Value:
    term: ox.NamedNode | ox.BlankNode | ox.Literal
    labels: list[ox.Literal]
    url: str | None


Facets = dict[str, dict[str, _Value]]


def _collect(store: ReadStore, query: str, **bound: str) -> dict[str, Facets]:
    """The answers of a facet query: node IRI → field → value (one entry per distinct value)."""
    nodes: dict[str, Facets] = {}
    # The IRIs are constants in the text so that the plan starts from them (an alliance: 50 ms → 1 ms at 1M).
    text = with_constants(query, bound)
    if text is None:
        return nodes
    solutions = store.query(text)
    assert isinstance(solutions, ox.QuerySolutions)
    only = bound.get("node")  # the one node of a query without an anchor
    for row in solutions:
        facet, obj, label, url = row["f"], row["o"], row["label"], row["url"]
        node = only if only is not None else row["node"].value
        values = nodes.setdefault(node, {}).setdefault(facet.value, {})
        value = values.setdefault(str(obj), _Value(obj, [], None))
        if isinstance(label, ox.Literal) and label not in value.labels:
            value.labels.append(label)
        if url is not None:
            value.url = url.value
    return nodes


def key_of(iri: str) -> str:
    """The last segment of a thing's IRI; for a node inside a thing (`...#signature-x`), its fragment."""
    return re.split("[/#]", iri)[-1]


def _preference(literal: ox.Literal) -> tuple[int, str]:
    """German, untagged, English, then any other language; within one, the first in code-point order."""
    return _LANGUAGE_ORDER.get(literal.language or "", 3), literal.value


def best_label(labels: list[ox.Literal], fallback: str) -> str:
    return min(labels, key=_preference).value if labels else fallback


def _ref(cls: type[Ref], value: _Value, namespace: str) -> Ref:
    iri = value.term.value
    fields: dict[str, Any] = {"id": iri, "key": key_of(iri), "label": best_label(value.labels, key_of(iri))}
    if issubclass(cls, AgentRef):
        fields["type"] = iri.removeprefix(f"{namespace}id/").split("/", 1)[0]
    if issubclass(cls, SourceRef):
        fields["url"] = value.url
    return cls(**fields)


def _convert(annotation: Any, values: dict[str, _Value], namespace: str) -> Any:
    """A field's value from its facet's answers, by the field's declared type."""
    if get_origin(annotation) is list:
        (inner,) = get_args(annotation)
        items = [_scalar(inner, value, namespace) for value in values.values()]
        return sorted(items, key=lambda item: item.key if isinstance(item, Ref) else str(item))
    if get_origin(annotation) in (Union, types.UnionType):
        annotation = next(arg for arg in get_args(annotation) if arg is not type(None))
    if not values:
        return None
    literals = [value.term for value in values.values() if isinstance(value.term, ox.Literal)]
    chosen = str(min(literals, key=_preference)) if literals else min(values)
    return _scalar(annotation, values[chosen], namespace)


def _scalar(annotation: Any, value: _Value, namespace: str) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, Ref):
        return _ref(annotation, value, namespace)
    if annotation is date:
        return date.fromisoformat(value.term.value)
    return value.term.value


M = TypeVar("M", bound=BaseModel)


def _fill(model: type[M], iri: str, facets: Facets, namespace: str, extra: dict[str, Any]) -> M:
    fields: dict[str, Any] = {"id": iri, "key": key_of(iri), **extra}
    labels = [v.term for v in facets.get("label", {}).values() if isinstance(v.term, ox.Literal)]
    fields["label"] = best_label(labels, fields["key"])
    for name, info in model.model_fields.items():
        if name not in fields:
            fields[name] = _convert(info.annotation, facets.get(name, {}), namespace)
    return model.model_validate(fields)


def _nested(store: ReadStore, nested: Nested, anchor: str, namespace: str) -> list[BaseModel]:
    nodes = _collect(store, nested.query, this=anchor)
    return [_fill(nested.model, iri, facets, namespace, {}) for iri, facets in sorted(nodes.items())]


def find_thing(store: ReadStore, kind: str, key: str) -> Thing | None:
    """The thing of `kind` with `key`, its relations resolved to {id, key, label}; None when there is none."""
    namespace = store.manifest.namespace
    iri = f"{namespace}id/{kind}/{key}"
    facets = _collect(store, FACET_QUERIES[kind], node=iri).get(iri, {})
    if _class_iri(kind) not in {value.term.value for value in facets.get("_types", {}).values()}:
        return None
    agent_kind = _ACTING_FOR.get(kind, kind)
    agent: str | None = iri
    if agent_kind != kind:
        acting = sorted(value.term.value for value in facets.get(agent_kind, {}).values())
        agent = acting[0] if acting else None
        if agent is not None:
            of_agent = _collect(store, FACET_QUERIES[agent_kind], node=agent).get(agent, {})
            facets = {**{name: values for name, values in of_agent.items() if name not in FACETS[kind]}, **facets}
    extra: dict[str, Any] = {"type": kind}
    for field, nested in NESTED.get(agent_kind, {}).items():
        extra[field] = [] if agent is None else _nested(store, nested, agent, namespace)
    return _fill(THING_MODELS[kind], iri, facets, namespace, extra)


def _class_iri(kind: str) -> str:
    prefix, name = CLASSES[kind].split(":")
    return PREFIXES[prefix] + name


def _term(facet: Facet, annotation: Any) -> dict[str, Any] | None:
    if facet.term is None:
        return None
    term: dict[str, Any] = {"@reverse" if facet.reverse else "@id": facet.term}
    if facet.iri:
        term["@type"] = "@id"
    elif date in (annotation, *get_args(annotation)):
        term["@type"] = "xsd:date"
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
    return {"@version": 1.1, **PREFIXES, "id": "@id", "type": None, "key": "dct:identifier", "label": "rdfs:label",
            "url": {"@id": "schema:url", "@type": "@id"}, **_terms(THING_MODELS[kind], FACETS[kind], nested)}
