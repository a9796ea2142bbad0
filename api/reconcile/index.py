"""The reconciliation index of one published build: names, identifiers and a few facts of every thing, by SPARQL."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import pyoxigraph as ox

from api.http.cache import BuildCache, Derived, build_of, text_bytes
from api.reconcile.identifiers import KINDS, TYPES, WIKIDATA, normal_ags, normal_url, qid_of, sorted_words
from api.reconcile.names import Forms, forms_of, place_qualifier, short_place_name
from api.rest.listing import fold
from api.rest.lookup import CLASSES, SPARQL_PREFIXES, best_label, key_of
from graph.prefixes import VOCABULARIES
from graph.store import ReadStore

__all__ = ["MAX_INDEX_ROWS", "RECONCILE_INDEX", "Entry", "Name", "NamePool", "NamePools", "ReconcileIndex"]

log = logging.getLogger("smartcity_kg.reconcile")

# Each index query reads at most this many rows, so that a huge graph costs bounded memory and time; the index of
# such a graph covers what the rows reached (and says so in the log).
MAX_INDEX_ROWS = 2_000_000
_NAMES_QUERY = (
    SPARQL_PREFIXES
    + f"""SELECT ?s ?class ?label ?alt WHERE {{
  VALUES ?class {{ {" ".join(CLASSES[kind] for kind in KINDS)} }}
  ?s a ?class .
  {{ ?s rdfs:label ?label }} UNION {{ ?s skos:altLabel ?alt }}
}} LIMIT {MAX_INDEX_ROWS}"""
)
_FACTS_QUERY = (
    SPARQL_PREFIXES
    + f"""SELECT ?s ?p ?o ?label WHERE {{
  VALUES ?p {{ sck:ags owl:sameAs sck:countryCode sck:land sck:municipalityOf foaf:homepage }}
  ?s ?p ?o .
  OPTIONAL {{ FILTER(?p = sck:land) ?o rdfs:label ?label }}
}} LIMIT {MAX_INDEX_ROWS}"""
)
_RETIRED_QUERY = (
    SPARQL_PREFIXES
    + f"""SELECT ?s ?by WHERE {{
  ?s owl:deprecated true .
  OPTIONAL {{ ?s dct:isReplacedBy ?by }}
}} LIMIT {MAX_INDEX_ROWS}"""
)


@dataclass(frozen=True)
class Name:
    """One name a thing goes by, where it comes from (`label`, `alt`: an alternative name in the data, `short`: a
    place name without its river or region), and its forms for comparison."""

    text: str
    origin: str
    forms: Forms
    qualifier: tuple[str, ...] | None = None  # of a place's label or alternative name: its river or region


@dataclass
class Entry:
    """A thing as reconciliation sees it. `id` is `type/key`: with the identifier space it gives the thing's IRI."""

    id: str
    iri: str
    kind: str
    label: str = ""
    labels: list[ox.Literal] = field(default_factory=list)
    alt_names: list[str] = field(default_factory=list)
    names: list[Name] = field(default_factory=list)
    ags: str | None = None
    wikidata: set[str] = field(default_factory=set)
    country: set[str] = field(default_factory=set)
    land: tuple[str, str] | None = None  # (key, label)
    land_names: set[str] = field(default_factory=set)  # the key and every label of its Land, folded
    homepage: set[str] = field(default_factory=set)
    related: set[str] = field(default_factory=set)  # the ids of the same place or body: a city and its municipality
    place: str | None = None  # for a municipality, the name of its city

    @property
    def key(self) -> str:
        return key_of(self.iri)

    def description(self) -> str:
        """A short line that tells namesakes apart: type, Land or country, identifiers."""
        parts = [KINDS[self.kind], *([self.place] if self.place else [])]
        if self.land is not None:
            parts.append(self.land[1])
        parts += sorted(self.country)
        if self.ags is not None:
            parts.append(f"AGS {self.ags}")
        parts += [f"Wikidata {qid}" for qid in sorted(self.wikidata)]
        return " · ".join(parts)


def _rows(store: ReadStore, query: str) -> Iterator[ox.QuerySolution]:
    solutions = store.select(query)
    count = 0
    for count, row in enumerate(solutions, start=1):  # noqa: B007 - the count is read after the loop
        yield row
    if count >= MAX_INDEX_ROWS:
        log.warning(
            "the reconciliation index read the first %d rows of a query only; the rest is not matched", MAX_INDEX_ROWS
        )


@dataclass(frozen=True)
class NamePool:
    """The names of the things of some types, as parallel lists for rapidfuzz: each level's forms with their words
    sorted, and the owner of each."""

    forms: dict[str, list[str]]
    owners: list[tuple[str, Name]]


# Pools by selection of types, made on first use of a selection and kept in a cache of each app's own (made in
# create_app, sized in the settings, counted in /metrics), so that asking for every combination costs no more memory.
NamePools = BuildCache[frozenset[str], NamePool]


class ReconcileIndex:
    """Every thing of the reconciliation types with its names and identifiers, read once per build."""

    def __init__(self, store: ReadStore) -> None:
        self.namespace = store.manifest.namespace
        self.minter = store.manifest.minter
        self.build = build_of(store)
        self.entries: dict[str, Entry] = {}  # by id
        self._read_names(store)
        by_iri = {entry.iri: entry for entry in self.entries.values()}
        for row in _rows(store, _FACTS_QUERY):
            self._fact(by_iri, row)
        for entry in self.entries.values():
            entry.label = best_label(entry.labels, entry.key)
            entry.names = _names(entry)
        # A municipality lies where its city does: its description, `land` and country say so (its AGS stays the
        # city's), so that a query's country or Land that contradicts the city contradicts the municipality too.
        for entry in self.entries.values():
            for city in (self.entries[ident] for ident in sorted(entry.related) if entry.kind == "municipality"):
                entry.place, entry.land = city.label, entry.land or city.land
                entry.land_names = entry.land_names or city.land_names
                entry.country = entry.country or set(city.country)
        # Every name of every Land the data knows: a query's `land` outside them cannot be read, and says nothing.
        self.land_names = {name for entry in self.entries.values() for name in entry.land_names}
        # The things each word of a name belongs to, so that a query that names a thing in more (or fewer) words
        # than the data ("KfW Bankengruppe", "Stadt Jena, Dezernat 3") still draws it.
        self.by_word: dict[str, set[str]] = {}
        for entry in self.entries.values():
            for name in entry.names if entry.kind in TYPES else ():
                for word in name.forms.plain.split():
                    self.by_word.setdefault(word, set()).add(entry.id)
        self.ambiguous = self._ambiguous_names()
        self.by_ags: dict[str, list[str]] = {}
        self.by_wikidata: dict[str, list[str]] = {}
        self.by_homepage: dict[str, list[str]] = {}
        for entry in self.entries.values():
            for table, values in (
                (self.by_ags, [entry.ags] if entry.ags else []),
                (self.by_wikidata, entry.wikidata),
                (self.by_homepage, [url for page in entry.homepage if (url := normal_url(page))]),
            ):
                for value in values:
                    table.setdefault(value, []).append(entry.id)
        # A retired thing keeps its IRI; the data may say which thing replaced it.
        self.retired: dict[str, str | None] = {}
        for row in _rows(store, _RETIRED_QUERY):
            retired = self._id_of(row["s"])
            if retired is not None:
                self.retired[retired] = self._id_of(row["by"]) if row["by"] is not None else None

    def _ambiguous_names(self) -> set[tuple[str, str]]:
        """(id, plain form) of the alternative names that other things also answer to: "IHK" is one chamber's
        short name, but every chamber's full name holds it, so it names none of them alone."""
        ambiguous = set()
        for entry in self.entries.values():
            for name in entry.names:
                if name.origin != "alt" or not name.forms.plain:
                    continue
                words = name.forms.plain.split()
                sharing = set.intersection(*(self.by_word.get(word, set()) for word in words))
                if sharing - {entry.id} - entry.related:
                    ambiguous.add((entry.id, name.forms.plain))
        return ambiguous

    def _read_names(self, store: ReadStore) -> None:
        kinds = {VOCABULARIES["sck"] + CLASSES[kind].removeprefix("sck:"): kind for kind in KINDS}
        for row in _rows(store, _NAMES_QUERY):
            entry = self._entry(row["s"], kinds[row["class"].value])
            if entry is None:
                continue
            if isinstance(row["label"], ox.Literal):
                entry.labels.append(row["label"])
            elif isinstance(row["alt"], ox.Literal):
                entry.alt_names.append(row["alt"].value)

    @property
    def types(self) -> tuple[str, ...]:
        return tuple(TYPES)

    def names_of(self, types: Iterable[str], pools: NamePools) -> NamePool:
        """The name pool of the things of `types`, kept in `pools`."""
        wanted = frozenset(types)
        pool = pools.get(self.build, wanted)
        if pool is None:
            owners = [
                (entry.id, name) for entry in self.entries.values() if entry.kind in wanted for name in entry.names
            ]
            # Words sorted once here, so that drawing candidates is a plain `ratio` (token_sort_ratio would sort the
            # words of every name again on every query).
            forms = {
                level: [sorted_words(getattr(name.forms, level)) for _, name in owners]
                for level in ("full", "plain", "core")
            }
            pool = NamePool(forms, owners)
            pools.put(self.build, wanted, pool, sum(text_bytes(level) for level in forms.values()))
        return pool

    def with_value(self, pid: str, values: Iterable[str]) -> list[str]:
        """The ids of the things whose identifier `pid` (ags, wikidata, homepage) is one of `values`."""
        found: list[str] = []
        for value in values:
            if pid == "ags" and (ags := normal_ags(value)) is not None:
                found += self.by_ags.get(ags, [])
            elif pid == "wikidata" and (qid := qid_of(value)) is not None:
                found += self.by_wikidata.get(qid, [])
            elif pid == "homepage" and (url := normal_url(value)) is not None:
                found += self.by_homepage.get(url, [])
        return list(dict.fromkeys(found))

    def _id_of(self, term: object) -> str | None:
        return self.minter.id_of(term.value) if isinstance(term, ox.NamedNode) else None

    def _entry(self, term: object, kind: str) -> Entry | None:
        ident = self._id_of(term)
        if ident is None or self.minter.read_id(ident, KINDS) is None:
            return None
        entry = self.entries.get(ident)
        if entry is None:
            entry = self.entries[ident] = Entry(ident, str(self.minter.from_id(ident)), kind)
        return entry

    def _fact(self, by_iri: dict[str, Entry], row: ox.QuerySolution) -> None:
        entry = by_iri.get(row["s"].value)
        if entry is None:
            return
        predicate, obj = row["p"].value, row["o"]
        if predicate == VOCABULARIES["sck"] + "ags":
            entry.ags = obj.value
        elif predicate == VOCABULARIES["owl"] + "sameAs" and obj.value.startswith(WIKIDATA):
            entry.wikidata.add(obj.value.removeprefix(WIKIDATA))
        elif predicate == VOCABULARIES["sck"] + "countryCode":
            entry.country.add(obj.value)
        elif predicate == VOCABULARIES["sck"] + "land":
            label = row["label"]
            entry.land_names.add(key_of(obj.value))
            if isinstance(label, ox.Literal):
                entry.land_names.add(fold(label.value).replace(" ", "-"))
            if entry.land is None or (isinstance(label, ox.Literal) and label.language == "de"):
                entry.land = (key_of(obj.value), label.value if isinstance(label, ox.Literal) else key_of(obj.value))
        elif predicate == VOCABULARIES["foaf"] + "homepage":
            entry.homepage.add(obj.value)
        elif predicate == VOCABULARIES["sck"] + "municipalityOf":
            place = by_iri.get(obj.value)
            if place is not None:
                entry.related.add(place.id)
                place.related.add(entry.id)

    def get(self, ident: str) -> Entry | None:
        return self.entries.get(ident)

    def successor(self, ident: str) -> tuple[str | None, bool]:
        """Where a retired id leads: (the current thing that replaced it, or None; whether `ident` was retired).
        A chain of replacements is followed to its end (a cycle or a dead end gives None)."""
        if ident not in self.retired:
            return None, False
        seen = {ident}
        current: str | None = ident
        while current is not None and current in self.retired:
            current = self.retired[current]
            if current in seen:
                return None, True
            if current is not None:
                seen.add(current)
        return (current if current in self.entries else None), True


def _names(entry: Entry) -> list[Name]:
    texts = dict.fromkeys(literal.value for literal in sorted(entry.labels, key=lambda lit: lit.value))
    names = [Name(text, "label", forms_of(text)) for text in texts]
    names += [Name(text, "alt", forms_of(text)) for text in dict.fromkeys(entry.alt_names) if text not in texts]
    if entry.kind in ("city", "municipality"):
        names = [Name(name.text, name.origin, name.forms, place_qualifier(name.text)) for name in names]
        for name in list(names):
            short = short_place_name(name.text)
            if short is not None:
                names.append(Name(short, "short", forms_of(short)))
    return names


RECONCILE_INDEX = Derived("reconcile_index", ReconcileIndex)
