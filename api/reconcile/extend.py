"""Data extension: the properties each type offers, and their values (with the sources that state them) by SPARQL."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import pyoxigraph as ox

from api.reconcile.identifiers import KINDS, WIKIDATA
from api.rest.lookup import SPARQL_PREFIXES, best_label
from graph.sparql_lexer import with_variables
from graph.store import ReadStore

__all__ = [
    "MAX_VALUES",
    "PROPERTIES",
    "SOURCES_SUFFIX",
    "ExtProperty",
    "Value",
    "extend",
    "properties_of",
    "via_municipality",
]

# Each value query reads at most this many rows; a cell rarely holds more than a few dozen values.
MAX_VALUES = 10_000
SOURCES_SUFFIX = ".sources"


@dataclass(frozen=True)
class ExtProperty:
    """A property offered for data extension. `pattern` reaches the values `?v` from the thing `?s` and binds
    `?st`, the statement whose sources (prov:wasDerivedFrom) state the value: an attestation, a membership, or the
    thing itself. Values are entities of this service (`entity`, of type `value_type` when known) or text."""

    id: str
    name: str
    description: str
    pattern: str
    entity: bool = False
    value_type: str | None = None


def _attested(predicate: str, extra: str = "") -> str:
    return f"?s {predicate} ?v . {extra} ?st a sck:Attestation ; sck:about ?s ; sck:attests {predicate} ."


def _label_of(link: str) -> str:
    """Text values: the labels of the concepts `link` reaches from `?s` (the preferred language is kept)."""
    return f"?s {link} ?concept . ?concept rdfs:label ?v . BIND(?s AS ?st)"


_OWN = "BIND(?s AS ?st)"
_SOURCES = ExtProperty(
    "sources",
    "Sources",
    "the sources the description of the thing rests on",
    "?s prov:wasDerivedFrom ?v . BIND(?s AS ?st)",
    entity=True,
    value_type="source",
)
_WIKIDATA = ExtProperty(
    "wikidata",
    "Wikidata id",
    "the same thing in Wikidata",
    _attested("owl:sameAs", f'FILTER(STRSTARTS(STR(?v), "{WIKIDATA}"))'),
)
_AGENT_COMMON = (
    ExtProperty(
        "alliances",
        "Alliances",
        "the alliances it is a member of (any role)",
        "?st org:member ?s ; org:organization ?v .",
        entity=True,
        value_type="alliance",
    ),
    ExtProperty(
        "agreements",
        "Agreements",
        "the agreements it is a party to",
        f"?v sck:party ?s . {_OWN.replace('?s AS', '?v AS')}",
        entity=True,
        value_type="agreement",
    ),
    ExtProperty(
        "pilots",
        "Pilots",
        "the pilots it leads or takes part in",
        "{ ?v sck:lead ?s } UNION { ?v sck:partner ?s } BIND(?v AS ?st)",
        entity=True,
        value_type="pilot",
    ),
)
_ORGANIZATION = (
    ExtProperty("country", "Country", "ISO 3166 alpha-2 code of the country of its seat", _attested("sck:countryCode")),
    _WIKIDATA,
    ExtProperty("homepage", "Homepage", "its website", f"?s foaf:homepage ?v . {_OWN}"),
    ExtProperty("alt_names", "Alternative names", "other names it goes by", f"?s skos:altLabel ?v . {_OWN}"),
    ExtProperty("kind", "Kind", "company, chamber, association ...", _label_of("sck:organizationKind")),
    ExtProperty(
        "parent",
        "Parent organisation",
        "the organisation it belongs to",
        f"?s org:subOrganizationOf ?v . {_OWN}",
        entity=True,
    ),
    ExtProperty("description", "Description", "a short description", f"?s schema:description ?v . {_OWN}"),
    *_AGENT_COMMON,
)


def via_municipality(prop: ExtProperty) -> ExtProperty:
    """A city's `prop` as that of the municipality acting for it (a city as a place is no member of anything): the
    pattern's thing `?s` becomes `?agent`, the municipality of `?s`."""
    pattern = with_variables(prop.pattern, {"s": "?agent"})
    return replace(prop, pattern=f"?agent sck:municipalityOf ?s . {pattern}")


PROPERTIES: dict[str, tuple[ExtProperty, ...]] = {
    "city": (
        ExtProperty("ags", "AGS", "Amtlicher Gemeindeschlüssel, the official municipality key", _attested("sck:ags")),
        _WIKIDATA,
        ExtProperty("land", "Land", "the federal state", _label_of("sck:land")),
        ExtProperty(
            "municipality_key",
            "Municipality key IRI",
            "the DCAT-AP.de IRI of the municipality",
            f"?s sck:municipalityKey ?v . {_OWN}",
        ),
        ExtProperty(
            "municipality",
            "Municipality",
            "the municipal body acting for the city",
            "?v sck:municipalityOf ?s . BIND(?v AS ?st)",
            entity=True,
            value_type="municipality",
        ),
        *map(via_municipality, _AGENT_COMMON),
    ),
    "municipality": (
        ExtProperty(
            "city", "City", "the city it acts for", f"?s sck:municipalityOf ?v . {_OWN}", entity=True, value_type="city"
        ),
        *_AGENT_COMMON,
    ),
    "company": _ORGANIZATION,
    "organization": _ORGANIZATION,
    "alliance": (
        ExtProperty(
            "members", "Members", "its members, any role", "?st org:organization ?s ; org:member ?v .", entity=True
        ),
        ExtProperty(
            "themes",
            "Themes",
            "the thematic areas it works on",
            "?s sck:focus ?st . ?st sck:theme ?concept . ?concept rdfs:label ?v .",
        ),
        ExtProperty("kind", "Kind", "the kind of alliance", _label_of("sck:allianceKind")),
        ExtProperty(
            "founded",
            "Founded",
            "founding date, as precise as the source gives it",
            "?s sck:event ?st . ?st sck:eventKind ?kind ; sck:date ?v . FILTER(STRENDS(STR(?kind), "
            '"/event-kind/founding"))',
        ),
        ExtProperty("motto", "Motto", "its motto", _attested("sck:motto")),
        ExtProperty("description", "Description", "a short description", f"?s schema:description ?v . {_OWN}"),
        ExtProperty(
            "agreements",
            "Agreements",
            "agreements made within it",
            "?v sck:alliance ?s ; a sck:Agreement . BIND(?v AS ?st)",
            entity=True,
            value_type="agreement",
        ),
        ExtProperty(
            "pilots",
            "Pilots",
            "pilots run within it",
            "?v sck:alliance ?s ; a sck:Pilot . BIND(?v AS ?st)",
            entity=True,
            value_type="pilot",
        ),
    ),
    "agreement": (
        ExtProperty(
            "agreement_type",
            "Agreement type",
            "memorandum of understanding, letter of intent ...",
            _label_of("sck:agreementType"),
        ),
        ExtProperty("status", "Status", "its status", _label_of("sck:status")),
        ExtProperty(
            "signed", "Signed", "signing date, as precise as the source gives it", f"?s sck:signedOn ?v . {_OWN}"
        ),
        ExtProperty("duration", "Duration", "agreed term, ISO 8601", f"?s time:hasXSDDuration ?v . {_OWN}"),
        ExtProperty("parties", "Parties", "the parties to it", f"?s sck:party ?v . {_OWN}", entity=True),
        ExtProperty(
            "signatories",
            "Signatories",
            "the people who signed it",
            "?s sck:signature ?st . ?st sck:signatory ?v .",
            entity=True,
            value_type="person",
        ),
        ExtProperty(
            "alliance",
            "Alliance",
            "the alliance it belongs to",
            f"?s sck:alliance ?v . {_OWN}",
            entity=True,
            value_type="alliance",
        ),
    ),
    "pilot": (
        ExtProperty(
            "alliance",
            "Alliance",
            "the alliance it belongs to",
            f"?s sck:alliance ?v . {_OWN}",
            entity=True,
            value_type="alliance",
        ),
        ExtProperty("lead", "Lead", "who leads it", f"?s sck:lead ?v . {_OWN}", entity=True),
        ExtProperty("partners", "Partners", "who takes part", f"?s sck:partner ?v . {_OWN}", entity=True),
        ExtProperty("themes", "Themes", "the thematic areas", _label_of("sck:theme")),
        ExtProperty("status", "Status", "its status", _label_of("sck:status")),
        ExtProperty("start", "Start", "start, as precise as the source gives it", f"?s sck:startDate ?v . {_OWN}"),
        ExtProperty("end", "End", "end, as precise as the source gives it", f"?s sck:endDate ?v . {_OWN}"),
        ExtProperty("description", "Description", "a short description", f"?s schema:description ?v . {_OWN}"),
    ),
    "person": (
        ExtProperty(
            "posts", "Posts", "the posts held (mayor, managing director ...)", "?s org:holds ?st . ?st rdfs:label ?v ."
        ),
        ExtProperty(
            "organizations",
            "Organisations",
            "where the posts are held",
            "?s org:holds ?st . ?st org:postIn ?v .",
            entity=True,
        ),
    ),
}
PROPERTIES = {kind: (*properties, _SOURCES) for kind, properties in PROPERTIES.items()}
# A source is where values come from: it is described by itself, without sources of its own.
PROPERTIES["source"] = (
    ExtProperty("title", "Title", "its title", f"?s dct:title ?v . {_OWN}"),
    ExtProperty("url", "URL", "where it is published", f"?s schema:url ?v . {_OWN}"),
    ExtProperty("publisher", "Publisher", "who published it", f"?s schema:publisher/schema:name ?v . {_OWN}"),
    ExtProperty("published", "Published", "publication date, as precise as known", f"?s dct:issued ?v . {_OWN}"),
    ExtProperty("kind", "Kind", "web page, report, press release ...", _label_of("sck:sourceKind")),
    ExtProperty("language", "Language", "the language it is written in", f"?s dct:language ?v . {_OWN}"),
)
assert set(PROPERTIES) == set(KINDS)


def _companion(prop: ExtProperty) -> ExtProperty:
    own = _OWN in prop.pattern
    where = "the sources of the thing's description, which state it" if own else "the sources that state it"
    return ExtProperty(
        prop.id + SOURCES_SUFFIX,
        f"{prop.name}: sources",
        f"{prop.name}: {where}",
        prop.pattern,
        entity=True,
        value_type="source",
    )


def properties_of(kind: str) -> list[ExtProperty]:
    """What a thing of `kind` offers: each property, and the sources of each (but of `sources` itself)."""
    offered: list[ExtProperty] = []
    for prop in PROPERTIES[kind]:
        offered.append(prop)
        if prop is not _SOURCES and kind != "source":
            offered.append(_companion(prop))
    return offered


@dataclass(frozen=True)
class Value:
    """One value of a cell: an entity of this service (`id`, `name`) or text (`name` only)."""

    name: str
    id: str | None = None


def _query(prop: ExtProperty, iris: Iterable[str]) -> str:
    values = " ".join(str(ox.NamedNode(iri)) for iri in iris)  # written by the engine: no IRI can alter the query
    if prop.id.endswith(SOURCES_SUFFIX):
        select = "?s (?src AS ?value) ?label"
        body = f"{prop.pattern} ?st prov:wasDerivedFrom ?src . OPTIONAL {{ ?src rdfs:label ?label }}"
    else:
        select = "?s (?v AS ?value) ?label"
        body = prop.pattern + (" OPTIONAL { ?v rdfs:label ?label }" if prop.entity else "")
    return f"{SPARQL_PREFIXES}SELECT DISTINCT {select} WHERE {{ VALUES ?s {{ {values} }} {body} }} LIMIT {MAX_VALUES}"


def extend(store: ReadStore, prop: ExtProperty, iris: list[str]) -> dict[str, list[Value]]:
    """The values of `prop` for each thing of `iris` (all of one type), in a stable order."""
    minter = store.manifest.minter
    solutions = store.select(_query(prop, iris))
    texts: dict[str, list[ox.Literal]] = {}
    entities: dict[str, dict[str, list[ox.Literal]]] = {}
    for row in solutions:
        subject, value, label = row["s"].value, row["value"], row["label"]
        if prop.entity and isinstance(value, ox.NamedNode):
            labels = entities.setdefault(subject, {}).setdefault(value.value, [])
            if isinstance(label, ox.Literal):
                labels.append(label)
        elif isinstance(value, ox.Literal | ox.NamedNode):
            literal = value if isinstance(value, ox.Literal) else ox.Literal(value.value)
            texts.setdefault(subject, []).append(literal)
    cells: dict[str, list[Value]] = {}
    for subject, found in entities.items():
        cells[subject] = sorted(
            (
                Value(best_label(labels, key), ident)
                for iri, labels in found.items()
                if (ident := minter.id_of(iri)) is not None and (key := minter.key(iri)) is not None
            ),
            key=lambda value: (value.name.casefold(), value.id or ""),
        )
    for subject, literals in texts.items():
        cells[subject] = [
            Value(text.removeprefix(WIKIDATA) if prop.id == "wikidata" else text)
            for text in sorted({literal.value for literal in _preferred(literals)})
        ]
    return cells


def _preferred(literals: list[ox.Literal]) -> list[ox.Literal]:
    """The literals in the cell's preferred language (German, untagged, English): one wording of each value."""
    best = best_label(literals, "")
    chosen = next((literal for literal in literals if literal.value == best), None)
    language = chosen.language if chosen is not None else None
    return [literal for literal in literals if literal.language == language]
