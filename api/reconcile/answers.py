"""What the reconciliation service answers, as JSON: manifests, candidates, suggestions, property proposals, rows."""

from __future__ import annotations

from typing import Any

from api.reconcile.extend import SOURCES_SUFFIX, ExtProperty, Value, extend, properties_of
from api.reconcile.identifiers import KINDS, TYPES
from api.reconcile.index import Entry, NamePools, ReconcileIndex
from api.reconcile.matching import Candidate, Query, match
from api.reconcile.protocol import MAX_IDS, QUERY_PROPERTIES, QUERY_PROPERTY_TYPES, ExtendRequest
from api.rest.listing import fold
from graph import __version__
from graph.iris import Minter
from graph.prefixes import VOCABULARIES
from graph.store import ReadStore

__all__ = [
    "PREVIEW_SIZE",
    "candidates",
    "extension",
    "known_property",
    "manifest",
    "proposals",
    "suggest_entities",
    "suggest_properties",
    "suggest_types",
]

PREVIEW_SIZE = (420, 170)
_TYPE_DESCRIPTIONS = {
    "city": "a city as a place, with its AGS (Stadt as a place)",
    "municipality": "the municipal body acting for a city in alliances (Stadt Dortmund as a party)",
    "company": "a company",
    "organization": "a chamber, association, research body or public body",
    "alliance": "a smart-city alliance, partnership or network",
    "agreement": "an agreement between parties",
    "pilot": "a pilot project",
    "person": "a person holding a post",
}
# What German users type when they look for a type.
_GERMAN_NAMES = {
    "city": "Stadt Ort",
    "municipality": "Gemeinde Kommune Stadtverwaltung",
    "company": "Unternehmen Firma",
    "organization": "Organisation Kammer Verband Verein Behörde Institut",
    "alliance": "Bündnis Allianz Netzwerk Partnerschaft",
    "agreement": "Vereinbarung Absichtserklärung Abkommen Vertrag",
    "pilot": "Pilotprojekt Projekt",
    "person": "Person",
}


def _type(kind: str) -> dict[str, str]:
    return {"id": kind, "name": KINDS[kind]}


def manifest(version: str, root: str, base: str, namespace: str) -> dict[str, Any]:
    """The service manifest of API `version` ("0.2" or "1.0-draft") served at `base`, on the site at `root`."""
    mint = Minter(namespace)
    document: dict[str, Any] = {
        "versions": [version],
        "name": "smartcity-kg: smart-city alliances, cities, companies",
        "documentation": f"{root}/docs#/Reconciliation",
        "serviceVersion": __version__,
        "view": {"url": root + mint.path_of_id("{{id}}")},
        "defaultTypes": [_type(kind) for kind in TYPES],
    }
    if version == "0.2":
        service = {"service_url": base}
        return document | {
            "identifierSpace": mint.things,
            "schemaSpace": VOCABULARIES["sck"],
            "preview": {"url": f"{base}/preview?id={{{{id}}}}", "width": PREVIEW_SIZE[0], "height": PREVIEW_SIZE[1]},
            "suggest": {
                name: service | {"service_path": f"/suggest/{name}"} for name in ("entity", "property", "type")
            },
            "extend": {
                "propose_properties": service | {"service_path": "/extend/propose"},
                "property_settings": [
                    {
                        "name": "limit",
                        "label": "Limit",
                        "type": "number",
                        "default": 0,
                        "help_text": "Most values per cell (0 for all)",
                    }
                ],
            },
        }
    return document | {
        "preview": {"width": PREVIEW_SIZE[0], "height": PREVIEW_SIZE[1]},
        "suggest": {"entity": True, "property": True, "type": True},
        "extend": {
            "proposeProperties": True,
            "propertySettings": [
                {
                    "id": "limit",
                    "name": "Limit",
                    "type": "number",
                    "default": 0,
                    "helpText": "Most values per cell (0 for all)",
                }
            ],
        },
    }


def _candidate(candidate: Candidate) -> dict[str, Any]:
    entry = candidate.entry
    return {
        "id": entry.id,
        "name": entry.label,
        "description": entry.description(),
        "score": candidate.score,
        "match": candidate.match,
        "type": [_type(entry.kind)],
        "features": [{"id": f.id, "name": f.name, "value": f.value} for f in candidate.features],
    }


def candidates(
    index: ReconcileIndex, pools: NamePools, query: Query, required: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """The candidates of one query as JSON (names drawn from `pools`); `required` properties must agree (1.0-draft
    conditions)."""
    found = match(index, pools, query)
    if required:
        found = [
            c
            for c in found
            if all(any(f.id == f"{pid}_agrees" and f.value is True for f in c.features) for pid in required)
        ]
    return [_candidate(candidate) for candidate in found]


def _rank(entry: Entry, folded: str) -> int | None:
    """How a suggestion ranks for a typed prefix: 0 a name starts with it, 1 a word does; None neither."""
    best = None
    for name in entry.names:
        text = name.forms.prefix
        if text.startswith(folded):
            return 0
        if f" {folded}" in f" {text}":
            best = 1
    return best


def suggest_entities(
    index: ReconcileIndex,
    prefix: str,
    types: tuple[str, ...],
    cursor: int,
    limit: int,
) -> list[dict[str, Any]]:
    """Things whose name starts with (or has a word starting with) `prefix`; an id or identifier finds its thing."""
    folded = fold(prefix)
    exact = [
        index.entries[ident]
        for ident in (prefix.strip(), *index.with_value("ags", [prefix]), *index.with_value("wikidata", [prefix]))
        if ident in index.entries
    ]
    ranked = sorted(
        (
            (rank, entry.label.casefold(), entry.id, entry)
            for entry in index.entries.values()
            if entry.kind in (types or TYPES) and folded and (rank := _rank(entry, folded)) is not None
        ),
        key=lambda item: item[:3],
    )
    found = list({entry.id: entry for entry in (*exact, *(item[3] for item in ranked))}.values())
    return [
        {"id": entry.id, "name": entry.label, "description": entry.description(), "notable": [_type(entry.kind)]}
        for entry in found[cursor : cursor + limit]
    ]


def suggest_types(prefix: str) -> list[dict[str, Any]]:
    """The types whose id, name, German names or description hold the prefix ("Gem" finds municipality)."""
    folded = fold(prefix)
    return [
        _type(kind) | {"description": _TYPE_DESCRIPTIONS[kind]}
        for kind, name in TYPES.items()
        if folded in fold(f"{kind} {name} {_GERMAN_NAMES[kind]} {_TYPE_DESCRIPTIONS[kind]}")
    ]


def _properties(kind: str | None) -> list[tuple[str, str, str]]:
    """(id, name, description) of the query and extension properties (of one type, or of all)."""
    found = {
        pid: (pid, name, description)
        for pid, (name, description) in QUERY_PROPERTIES.items()
        if kind is None or kind in QUERY_PROPERTY_TYPES[pid]
    }
    for prop in properties_of(kind) if kind else [p for kind in TYPES for p in properties_of(kind)]:
        found.setdefault(prop.id, (prop.id, prop.name, prop.description))
    return list(found.values())


def suggest_properties(prefix: str, kind: str | None) -> list[dict[str, Any]]:
    folded = fold(prefix)
    return [
        {"id": pid, "name": name, "description": description}
        for pid, name, description in _properties(kind)
        if folded in fold(f"{pid} {name} {description}")
    ]


def proposals(kind: str, limit: int | None) -> dict[str, Any]:
    """The data extension properties of one type: each property, then the sources of each."""
    offered = properties_of(kind)
    ordered = [p for p in offered if not p.id.endswith(SOURCES_SUFFIX)] + [
        p for p in offered if p.id.endswith(SOURCES_SUFFIX)
    ]
    chosen = ordered if limit is None else ordered[:limit]
    answer: dict[str, Any] = {
        "type": kind,
        "properties": [{"id": p.id, "name": p.name, "description": p.description} for p in chosen],
    }
    return answer if limit is None else answer | {"limit": limit}


def _value_json(value: Value) -> dict[str, str]:
    return {"id": value.id, "name": value.name} if value.id is not None else {"str": value.name}


def _meta(pid: str) -> dict[str, Any]:
    found = next((p for kind in KINDS for p in properties_of(kind) if p.id == pid), None)
    if found is None:
        return {"id": pid, "name": pid}
    meta: dict[str, Any] = {"id": pid, "name": found.name}
    if found.value_type is not None:
        meta["type"] = _type(found.value_type)
    return meta


def known_property(pid: str) -> bool:
    return any(p.id == pid for kind in KINDS for p in properties_of(kind))


def extension(
    store: ReadStore,
    index: ReconcileIndex,
    request: ExtendRequest,
) -> tuple[list[dict[str, Any]], dict[str, dict[str, list[dict[str, str]]]]]:
    """(meta, rows) of a data extension: each id's values of each property that its type offers."""
    assert len(request.ids) <= MAX_IDS
    rows: dict[str, dict[str, list[dict[str, str]]]] = {
        ident: {pid: [] for pid, _ in request.properties} for ident in request.ids
    }
    by_kind: dict[str, list[Entry]] = {}
    asked: dict[str, list[str]] = {}  # the ids asked for under each thing's current id (a retired id: its successor)
    for ident in request.ids:
        successor, _ = index.successor(ident)
        entry = index.get(successor or ident) if index.minter.read_id(ident, KINDS) else None
        if entry is not None:
            if entry.id not in asked:
                by_kind.setdefault(entry.kind, []).append(entry)
            asked.setdefault(entry.id, []).append(ident)
    for kind, entries in by_kind.items():
        offered: dict[str, ExtProperty] = {p.id: p for p in properties_of(kind)}
        for pid, limit in request.properties:
            prop = offered.get(pid)
            if prop is None:
                continue
            cells = extend(store, prop, [entry.iri for entry in entries])
            for entry in entries:
                values = cells.get(entry.iri, [])
                for ident in asked[entry.id]:
                    rows[ident][pid] = [_value_json(value) for value in (values[:limit] if limit else values)]
    return [_meta(pid) for pid, _ in request.properties], rows
