"""The SPARQL behind `/api/v1/{type}` (filtered lists in key order) and `/api/v1/search` (label search)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from string import Template

import pyoxigraph as ox

from api.http.cache import Derived
from api.rest.lookup import CLASSES, SPARQL_PREFIXES, best_label, key_of
from api.rest.models import ListItem
from graph.iris import Minter
from graph.prefixes import VOCABULARIES
from graph.store import ReadStore

__all__ = ["FILTERS", "LABEL_INDEX", "Filters", "LabelIndex", "fold", "list_things"]

_XSD_DATE = ox.NamedNode(VOCABULARIES["xsd"] + "date")

# A period counts as running on ?day when it can have begun by then and cannot have ended before: its earliest
# start is on or before the day, and it has no end or its latest end is on or after it. A start known only as a
# bound ("by October 2018": a latest day, no earliest) counts from its latest day on, since before it nothing says
# it had begun; a node with no start at all is left out, since nothing says when it began.
_RUNNING = (
    "?$m sck:startLatest ?${m}_latest . OPTIONAL { ?$m sck:startEarliest ?${m}_earliest } "
    "FILTER(COALESCE(?${m}_earliest, ?${m}_latest) <= ?day) "
    "OPTIONAL { ?$m sck:endLatest ?${m}_to } FILTER(!BOUND(?${m}_to) || ?${m}_to >= ?day)"
)
# An agreement runs from its signing (a bound: from the bound on) until the end of its agreed term, when it has one.
_AGREEMENT_RUNNING = (
    "?s sck:signedLatest ?signed_latest . OPTIONAL { ?s sck:signedEarliest ?signed_earliest } "
    "FILTER(COALESCE(?signed_earliest, ?signed_latest) <= ?day) "
    "OPTIONAL { ?s sck:scheduledEndLatest ?ends } FILTER(!BOUND(?ends) || ?ends >= ?day)"
)


def _member(link: str) -> str:
    """`link` reaches the agent with the key asked for: the municipality, company or organisation of that key."""
    return " UNION ".join(f"{{ {link} ?member_{kind} }}" for kind in ("municipality", "company", "organization"))


def _city(link: str) -> str:
    return f"?city_agent sck:municipalityOf ?city . {link} ?city_agent"


@dataclass(frozen=True)
class ListShape:
    """How the filters of one type become graph patterns on the listed `?s`.

    `direct` filters constrain `?s` itself. The others go through statement nodes (memberships, posts):
    each `anchored` filter gets a statement node of its own (so `member=a&company=b` asks for both), and the
    `qualifiers` (role, active_on) constrain every one of them, or one of any kind when no anchored filter is given.
    """

    direct: dict[str, str]
    statement: str = ""
    anchored: dict[str, str] | None = None
    qualifiers: dict[str, str] | None = None
    role_scheme: str = "role"

    def filters(self) -> list[str]:
        return sorted({*self.direct, *(self.anchored or {}), *(self.qualifiers or {}), "q"})


_MEMBERSHIP_QUALIFIERS = {"role": "?$m org:role ?role", "active_on": _RUNNING}
_AGENT = ListShape({}, "?$m org:member ?s .", {"alliance": "?$m org:organization ?alliance"}, _MEMBERSHIP_QUALIFIERS)
_PILOT_LINK = "?s sck:lead|sck:partner"
SHAPES: dict[str, ListShape] = {
    "alliance": ListShape(
        {"theme": "?s sck:theme ?theme"},
        "?s org:hasMembership ?$m .",
        {"member": _member("?$m org:member"), "city": _city("?$m org:member"), "company": "?$m org:member ?company"},
        _MEMBERSHIP_QUALIFIERS,
    ),
    "city": ListShape(
        {},
        "?s_agent sck:municipalityOf ?s . ?$m org:member ?s_agent .",
        {"alliance": "?$m org:organization ?alliance"},
        _MEMBERSHIP_QUALIFIERS,
    ),
    "municipality": _AGENT,
    "company": _AGENT,
    "organization": _AGENT,
    "agreement": ListShape(
        {
            "member": _member("?s sck:party"),
            "city": _city("?s sck:party"),
            "company": "?s sck:party ?company",
            "alliance": "?s sck:alliance ?alliance",
            "active_on": _AGREEMENT_RUNNING,
        }
    ),
    "pilot": ListShape(
        {
            "member": _member(_PILOT_LINK),
            "city": _city(_PILOT_LINK),
            "company": f"{_PILOT_LINK} ?company",
            "alliance": "?s sck:alliance ?alliance",
            "theme": "?s sck:theme ?theme",
            "active_on": Template(_RUNNING).substitute(m="s"),
        }
    ),
    "person": ListShape(
        {},
        "?s org:holds ?$m .",
        {"member": _member("?$m org:postIn"), "city": _city("?$m org:postIn"), "company": "?$m org:postIn ?company"},
        {"role": "?$m org:role ?role", "active_on": _RUNNING},
        role_scheme="post-role",
    ),
    "source": ListShape({}),
}
FILTERS = {kind: shape.filters() for kind, shape in SHAPES.items()}


@dataclass(frozen=True)
class Filters:
    """The filters of a list request; keys are checked against the key pattern before they get here."""

    member: str | None = None
    company: str | None = None
    city: str | None = None
    theme: str | None = None
    role: str | None = None
    alliance: str | None = None
    active_on: date | None = None
    q: str | None = None

    def bindings(self, minter: Minter, role_scheme: str) -> dict[str, ox.NamedNode | ox.Literal]:
        """The values of the query's variables; bound, never written into the query text."""
        bound: dict[str, ox.NamedNode | ox.Literal] = {}
        if self.member is not None:
            for kind in ("municipality", "company", "organization"):
                bound[f"member_{kind}"] = ox.NamedNode(str(minter.thing(kind, self.member)))
        for kind in ("company", "city", "alliance"):
            if (key := getattr(self, kind)) is not None:
                bound[kind] = ox.NamedNode(str(minter.thing(kind, key)))
        for name, scheme in (("theme", "theme"), ("role", role_scheme)):
            if (key := getattr(self, name)) is not None:
                bound[name] = ox.NamedNode(str(minter.concept(scheme, key)))
        if self.active_on is not None:
            bound["day"] = ox.Literal(self.active_on.isoformat(), datatype=_XSD_DATE)
        return bound


def _list_query(kind: str, filters: Filters) -> str:
    shape = SHAPES[kind]
    patterns = [f"?s a {CLASSES[kind]} ."]
    patterns += [pattern for name, pattern in shape.direct.items() if getattr(filters, name) is not None]
    anchored = [p for name, p in (shape.anchored or {}).items() if getattr(filters, name) is not None]
    qualifiers = [p for name, p in (shape.qualifiers or {}).items() if getattr(filters, name) is not None]
    if qualifiers and not anchored:
        anchored = [""]
    for number, pattern in enumerate(anchored):
        for template in (shape.statement, pattern, *qualifiers):
            patterns.append(Template(template).substitute(m=f"m{number}"))
    return " .\n  ".join(pattern.rstrip(" .") for pattern in patterns if pattern)


@dataclass(frozen=True)
class Entry:
    iri: str
    kind: str
    key: str
    label: str
    texts: tuple[str, ...]  # folded labels and key, for search
    page: str  # the path of its page (graph.iris.Minter.page), for links from lists and search

    def listed(self) -> ListItem:
        return ListItem(id=self.iri, key=self.key, type=self.kind, label=self.label, page=self.page)


def fold(text: str) -> str:
    """Text as search compares it: case, accents and German umlaut spellings folded ('Rüsselsheim', 'RUESSELSHEIM'
    and 'russelsheim' all become 'russelsheim'), punctuation as single spaces."""
    text = unicodedata.normalize("NFKD", text.casefold())  # casefold turns ß into ss
    text = "".join(char for char in text if not unicodedata.combining(char))
    for spelled, plain in (("ae", "a"), ("oe", "o"), ("ue", "u")):
        text = text.replace(spelled, plain)
    return re.sub(r"[\W_]+", " ", text).strip()


_INDEX_QUERY = (
    SPARQL_PREFIXES
    + f"""SELECT ?s ?class ?label WHERE {{
  VALUES ?class {{ {" ".join(CLASSES.values())} }}
  ?s a ?class .
  OPTIONAL {{ {{ ?s rdfs:label ?label }} UNION {{ ?s skos:altLabel ?label }} }}
}}"""
)


# What a search for a name most likely means: the actors, then what they did, then the sources reporting it.
_SEARCH_KIND_ORDER = {"city": 0, "municipality": 0, "company": 0, "organization": 0, "alliance": 0, "source": 2}


class LabelIndex:
    """Labels of every thing the API lists, read once per build: for list labels, `q=` and search."""

    def __init__(self, store: ReadStore) -> None:
        self.minter = store.manifest.minter
        prefix = self.minter.things
        kinds = {VOCABULARIES["sck"] + cls.removeprefix("sck:"): kind for kind, cls in CLASSES.items()}
        labels: dict[str, list[ox.Literal]] = {}
        kind_of: dict[str, str] = {}
        solutions = store.select(_INDEX_QUERY)
        for row in solutions:
            iri = row["s"].value
            if not iri.startswith(prefix):
                continue
            kind_of[iri] = kinds[row["class"].value]
            if isinstance(row["label"], ox.Literal):
                labels.setdefault(iri, []).append(row["label"])
        self.entries: dict[str, Entry] = {}
        for iri, kind in kind_of.items():
            key = key_of(iri)
            texts = tuple(dict.fromkeys(fold(text) for text in (*(lit.value for lit in labels.get(iri, [])), key)))
            label = best_label(labels.get(iri, []), key)
            self.entries[iri] = Entry(iri, kind, key, label, texts, self.minter.page(iri))

    def item(self, iri: str, kind: str) -> ListItem:
        entry = self.entries.get(iri)
        key = key_of(iri)
        return ListItem(id=iri, key=key, type=kind, label=entry.label if entry else key, page=self.minter.page(iri))

    def matches(self, iri: str, folded: str) -> bool:
        entry = self.entries.get(iri)
        return entry is not None and any(folded in text for text in entry.texts)

    def search(self, folded: str, kind: str | None = None) -> list[Entry]:
        """Things whose label contains the folded text: exact labels first, then word starts, then the rest; within
        each, the things people look for (places, companies, alliances) before the sources that mention them, and
        labels that begin with the text before those where a later word does."""

        def rank(entry: Entry) -> tuple[int, int, bool, int, str, str]:
            exact = any(text == folded for text in entry.texts)
            starts = any(f" {text}".find(f" {folded}") >= 0 for text in entry.texts)
            begins = any(text.startswith(folded) for text in entry.texts)
            # Then the nearest to what was typed: "Köln" before "Kölner Verkehrs-Betriebe" for "koel".
            nearest = min(len(text) for text in entry.texts if folded in text)
            return (
                (0 if exact else 1 if starts else 2),
                _SEARCH_KIND_ORDER.get(entry.kind, 1),
                not begins,
                nearest,
                entry.label.casefold(),
                entry.key,
            )

        hits = [
            entry
            for entry in self.entries.values()
            if (kind is None or entry.kind == kind) and any(folded in text for text in entry.texts)
        ]
        return sorted(hits, key=rank)


LABEL_INDEX = Derived("label_index", LabelIndex)


def list_things(store: ReadStore, kind: str, filters: Filters, index: LabelIndex) -> list[str]:
    """IRIs of the things of `kind` that pass every filter (the text `q` in the labels of `index`), in key order."""
    shape = SHAPES[kind]
    bound = filters.bindings(store.manifest.minter, shape.role_scheme)
    projection = " ".join(f"?{name}" for name in ("s", *bound))
    query = f"{SPARQL_PREFIXES}SELECT DISTINCT {projection} WHERE {{\n  {_list_query(kind, filters)}\n}}"
    solutions = store.select(query, substitutions=bound)
    iris = [row["s"].value for row in solutions]
    if filters.q is not None:
        folded = fold(filters.q)
        iris = [iri for iri in iris if index.matches(iri, folded)]
    return sorted(iris, key=key_of)
