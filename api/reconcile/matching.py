"""Scoring candidates for one reconciliation query: fuzzy names (rapidfuzz), identifiers, property evidence."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from api.reconcile.identifiers import normal_url, parse_id, qid_of, sorted_words
from api.reconcile.index import Entry, ReconcileIndex
from api.reconcile.names import forms_of
from api.rest.listing import fold

__all__ = ["LANDS", "MATCH_LEAD", "MATCH_SCORE", "Candidate", "Query", "match"]

# A candidate is a match when it scores at least MATCH_SCORE and leads every other candidate (other than the same
# place under another type) by at least MATCH_LEAD: a spreadsheet row is linked without a look only when the graph
# offers nothing else close to it. An identifier (AGS, Wikidata id) shared by query and candidate is a match as such.
MATCH_SCORE = 90.0
MATCH_LEAD = 5.0
# How much each comparison is worth: the name as written, without legal form and prefixes, and down to its core.
_LEVELS = (("full", 1.0), ("plain", 0.98), ("core", 0.92))
_ORIGIN_WEIGHT = {"label": 1.0, "alt": 1.0, "short": 0.96}
_SCORERS = (fuzz.ratio, fuzz.token_sort_ratio)
_CUTOFF = 50.0
_DRAWN = 50  # candidates drawn by each pass over the pool
# Evidence from the properties a query supplies: a value the candidate shares, or contradicts.
_AGREES, _CONTRADICTS, _IDENTIFIER_CONTRADICTS = 5.0, 20.0, 40.0
# Properties whose shared value identifies the thing by itself.
_IDENTIFYING = ("ags", "wikidata", "homepage")
# The Länder by their official two-letter and common abbreviations, so that a column "NW" or "NRW" compares.
LANDS = {
    "bw": "baden-wurttemberg",
    "by": "bayern",
    "be": "berlin",
    "bb": "brandenburg",
    "hb": "bremen",
    "hh": "hamburg",
    "he": "hessen",
    "mv": "mecklenburg-vorpommern",
    "ni": "niedersachsen",
    "nw": "nordrhein-westfalen",
    "nrw": "nordrhein-westfalen",
    "rp": "rheinland-pfalz",
    "sl": "saarland",
    "sn": "sachsen",
    "st": "sachsen-anhalt",
    "sh": "schleswig-holstein",
    "th": "thuringen",
}
_AGS = re.compile(r"\d{8}")


@dataclass(frozen=True)
class Query:
    """One reconciliation query, checked: text (may be empty when properties carry it), types, limit, properties
    as (property id, values as strings)."""

    text: str
    types: tuple[str, ...]
    limit: int
    properties: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass
class Feature:
    id: str
    name: str
    value: float | bool


@dataclass
class Candidate:
    entry: Entry
    score: float
    match: bool = False
    features: list[Feature] = field(default_factory=list)
    overlap: float = 0.0  # orders equal scores: the closest name to the query without legal forms, word for word


@dataclass
class _Hit:
    similarity: float = 0.0  # best weighted name similarity, 0-100
    level: str = ""
    origin: str = ""
    identifier: str | None = None  # the identifier that named it, when one did


def _identified(index: ReconcileIndex, text: str) -> dict[str, str]:
    """Things the query text names by an identifier: an AGS, a Wikidata id, or the thing's own id or IRI."""
    stripped = text.strip()
    found: dict[str, str] = {}
    if _AGS.fullmatch(stripped):
        found |= dict.fromkeys(index.by_ags.get(stripped, []), "ags")
    if (qid := qid_of(stripped)) is not None:
        found |= dict.fromkeys(index.by_wikidata.get(qid, []), "wikidata")
    own = stripped.removeprefix(index.things)
    if parse_id(own) is not None and own in index.entries:
        found[own] = "id"
    return found


def _name_hits(index: ReconcileIndex, text: str, types: Sequence[str], hits: dict[str, _Hit]) -> None:
    """Candidates by name: drawn from the whole pool in a pass per strength (words in any order), then each of
    their names scored at every strength, as written and word for word."""
    forms = forms_of(text)
    pool = index.names_of(types)
    drawn: set[str] = set()
    for level, _ in _LEVELS:
        for _, _, position in process.extract(
            sorted_words(getattr(forms, level)),
            pool.forms[level],
            scorer=fuzz.ratio,
            limit=_DRAWN,
            score_cutoff=_CUTOFF,
        ):
            drawn.add(pool.owners[position][0])
    for ident in drawn:
        hit = hits.setdefault(ident, _Hit())
        for name in index.entries[ident].names:
            for level, weight in _LEVELS:
                wanted, offered = getattr(forms, level), getattr(name.forms, level)
                similarity = max(scorer(wanted, offered) for scorer in _SCORERS)
                weighted = similarity * weight * _ORIGIN_WEIGHT[name.origin]
                if weighted > hit.similarity:
                    hit.similarity, hit.level, hit.origin = weighted, level, name.origin


def _property_evidence(entry: Entry, pid: str, values: tuple[str, ...]) -> tuple[float, bool | None]:
    """(score change, whether the candidate agrees; None when it has no value to compare)."""
    if pid == "ags":
        mine = {entry.ags} if entry.ags else set()
        theirs = {value.strip() for value in values}
        penalty = _IDENTIFIER_CONTRADICTS
    elif pid == "wikidata":
        mine, theirs = entry.wikidata, {qid for value in values if (qid := qid_of(value))}
        penalty = _IDENTIFIER_CONTRADICTS
    elif pid == "country":
        mine, theirs = {code.casefold() for code in entry.country}, {value.strip().casefold() for value in values}
        penalty = _CONTRADICTS
    elif pid == "land":
        mine = {entry.land[0], fold(entry.land[1]).replace(" ", "-")} if entry.land else set()
        theirs = {LANDS.get(fold(value), fold(value).replace(" ", "-")) for value in values}
        penalty = _CONTRADICTS
    else:  # homepage
        mine, theirs = {normal_url(page) for page in entry.homepage}, {normal_url(value) for value in values}
        penalty = _IDENTIFIER_CONTRADICTS
    if not mine:
        return 0.0, None
    if mine & theirs:
        return (100.0 if pid in _IDENTIFYING else _AGREES), True
    return -penalty, False


def match(index: ReconcileIndex, query: Query) -> list[Candidate]:
    """The candidates for `query`, best first, at most `query.limit`; `match` set on the first where it is sure."""
    types = query.types or tuple(index.types)
    hits: dict[str, _Hit] = {}
    for ident, how in _identified(index, query.text).items():
        hits[ident] = _Hit(100.0, "identifier", how, how)
    for pid, values in query.properties:
        if pid in _IDENTIFYING:
            for ident in index.with_value(pid, values):
                hits.setdefault(ident, _Hit())
    if query.text.strip():
        _name_hits(index, query.text, types, hits)
    candidates = []
    for ident, hit in hits.items():
        entry = index.entries[ident]
        if entry.kind not in types:
            continue
        candidates.append(_candidate(entry, hit, query))
    plain = forms_of(query.text).plain
    for candidate in candidates:
        candidate.overlap = max(
            (fuzz.token_sort_ratio(plain, name.forms.plain) for name in candidate.entry.names), default=0.0
        )
    # Equal scores ("Huawei Deutschland": Huawei and Huawei Technologies Deutschland both by their core name) are
    # ordered by the whole names, words in any order, legal forms aside; cities before municipalities; then by name.
    candidates.sort(key=lambda c: (-c.score, -c.overlap, c.entry.kind != "city", c.entry.label.casefold(), c.entry.id))
    _decide(candidates)
    return candidates[: query.limit]


def _candidate(entry: Entry, hit: _Hit, query: Query) -> Candidate:
    score = hit.similarity
    features = [
        Feature("name", "name similarity (0-100)", round(hit.similarity, 1)),
        Feature(
            "name_exact", "the name as written, case and accents aside", hit.level == "full" and hit.similarity >= 100.0
        ),
        Feature(
            "legal_form_ignored",
            "equal once legal forms, prefixes and abbreviations are set aside",
            hit.level in ("plain", "core"),
        ),
        Feature("alternative_name", "matched an alternative name", hit.origin in ("alt", "short")),
    ]
    identified = hit.identifier is not None
    for pid, values in query.properties:
        change, agrees = _property_evidence(entry, pid, values)
        if agrees is not None:
            features.append(Feature(f"{pid}_agrees", f"{pid} agrees with the query", agrees))
        if change >= 100.0:
            identified = True
        else:
            score += change
    if identified:
        score = 100.0
    features.append(Feature("identifier", "an official identifier names it", identified))
    return Candidate(entry, max(0.0, min(100.0, round(score, 1))), features=features)


def _decide(candidates: list[Candidate]) -> None:
    """Mark the first candidate a match when it is sure; say by how much it leads in a feature of its own."""
    if not candidates:
        return
    best = candidates[0]
    rivals = [c for c in candidates[1:] if c.entry.id not in best.entry.related]
    lead = best.score - rivals[0].score if rivals else best.score
    identified = next(f.value for f in best.features if f.id == "identifier")
    rival_identified = any(next(f.value for f in c.features if f.id == "identifier") for c in rivals)
    best.match = bool(identified and not rival_identified) or (best.score >= MATCH_SCORE and lead >= MATCH_LEAD)
    best.features.append(Feature("lead", "lead over the next different candidate", round(lead, 1)))
