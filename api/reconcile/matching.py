"""Scoring candidates for one reconciliation query: fuzzy names (rapidfuzz), identifiers, property evidence."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA, Levenshtein

from api.reconcile.identifiers import KINDS, country_code, normal_ags, normal_url, qid_of, sorted_words
from api.reconcile.index import Entry, NamePools, ReconcileIndex
from api.reconcile.names import Forms, forms_of, place_qualifier, qualifiers_fit, short_place_name
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
_RARE_WORD = 20  # a word of the query draws the things whose names hold it when at most this many do
# The query's words all within a name ("Fraunhofer IESE" in the institute's full name), or the name's within the
# query's ("Stadt Jena, Dezernat 3"): close enough to be offered, never to be matched without a look.
_PARTIAL = 0.85
# A name at least this similar does not contradict an identifier that names the thing.
_NAME_AGREES = 70.0
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
# The Länder by their ISO 3166-2 codes (DE-NW, or NW alone) and by the first two digits of their AGS.
_LAND_CODES = {
    "01": "sh",
    "02": "hh",
    "03": "ni",
    "04": "hb",
    "05": "nw",
    "06": "he",
    "07": "rp",
    "08": "bw",
    "09": "by",
    "10": "sl",
    "11": "be",
    "12": "bb",
    "13": "mv",
    "14": "sn",
    "15": "st",
    "16": "th",
}
# Words before a Land's name that are part of its official style, not of its name: "Freistaat Bayern".
_LAND_STYLE = re.compile(r"^(freistaat|land|bundesland|freie und hansestadt|freie hansestadt|state of) ")


def land_of(value: str, known: set[str]) -> str | None:
    """A Land as the data names it (a key or folded label in `known`) from its name in German or English, its
    abbreviation, ISO 3166-2 code or AGS prefix; None when the value names no Land the data knows."""
    text = _LAND_STYLE.sub("", fold(value)).strip()
    code = _LAND_CODES.get(text.zfill(2) if text.isdigit() else "", text.removeprefix("de-").removeprefix("de "))
    slug = LANDS.get(code, text.replace(" ", "-"))
    return slug if slug in known else None


@dataclass(frozen=True)
class Query:
    """One reconciliation query, checked: text (may be empty when properties carry it), types, limit, properties
    as (property id, values as strings)."""

    text: str
    types: tuple[str, ...]
    limit: int
    properties: tuple[tuple[str, tuple[str, ...]], ...] = ()
    alternatives: tuple[str, ...] = ()  # other names (or ids) for the same thing: any one of them may match


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
    identified: bool = False  # an identifier of the query names it, and the query's name does not contradict it
    legal_form_conflict: bool = False
    qualifier_conflict: bool = False  # the query names another river or region ("Linz (Donau)", Linz am Rhein)
    qualifier_missing: bool = False  # the query leaves out the river or region the graph always names it with


@dataclass
class _Hit:
    similarity: float = 0.0  # best weighted name similarity, 0-100
    level: str = ""
    origin: str = ""
    identifier: str | None = None  # the identifier that named it, when one did
    legal_form: bool = False  # the query text that gave the similarity carries a legal form


@dataclass(frozen=True)
class _Text:
    """One name the query gives, at its weight: as written (1.0), or a place name without its qualifier."""

    forms: Forms
    weight: float


def _identified(index: ReconcileIndex, text: str) -> dict[str, str]:
    """Things the query text names by an identifier: an AGS, a Wikidata id, or the thing's own id or IRI (a retired
    id names the thing that replaced it)."""
    stripped = text.strip()
    found: dict[str, str] = {}
    if (ags := normal_ags(stripped)) is not None:
        found |= dict.fromkeys(index.by_ags.get(ags, []), "ags")
    if (qid := qid_of(stripped)) is not None:
        found |= dict.fromkeys(index.by_wikidata.get(qid, []), "wikidata")
    own = index.minter.id_of(stripped) or stripped
    if index.minter.read_id(own, KINDS) is not None:
        successor, retired = index.successor(own)
        if own in index.entries:
            found[own] = "id"
        elif retired and successor is not None:
            found[successor] = "id"
    return found


def _texts(query: Query, types: Sequence[str]) -> list[_Text]:
    """The names a query gives: its text and alternatives, and for places each without its river or region."""
    texts = []
    for text in (query.text, *query.alternatives):
        if not text.strip():
            continue
        texts.append(_Text(forms_of(text), 1.0))
        short = short_place_name(text)
        if short is not None and {"city", "municipality"} & set(types):
            texts.append(_Text(forms_of(short), _ORIGIN_WEIGHT["short"]))
    return texts


def _draw(index: ReconcileIndex, pools: NamePools, texts: list[_Text], types: Sequence[str]) -> set[str]:
    """Candidates by name, drawn from the whole pool in a pass per strength (words in any order), and the things
    that share a rare word with a query's name (so that "KfW Bankengruppe" draws KfW)."""
    pool = index.names_of(types, pools)
    drawn: set[str] = set()
    for text in texts:
        for level, _ in _LEVELS:
            for _, _, position in process.extract(
                sorted_words(getattr(text.forms, level)),
                pool.forms[level],
                scorer=fuzz.ratio,
                limit=_DRAWN,
                score_cutoff=_CUTOFF,
            ):
                drawn.add(pool.owners[position][0])
        for word in text.forms.plain.split():
            owners = index.by_word.get(word, set())
            if len(owners) <= _RARE_WORD:
                drawn |= owners
    return drawn


def _score_names(entry: Entry, texts: list[_Text], hit: _Hit) -> None:
    """Each name of `entry` against each name of the query at every strength, as written and word for word; and
    the query's words within the name's, or the name's within the query's, worth less (never a match alone)."""
    for text in texts:
        words = set(text.forms.plain.split())
        for name in entry.names:
            base = text.weight * _ORIGIN_WEIGHT[name.origin]
            for level, weight in _LEVELS:
                wanted, offered = getattr(text.forms, level), getattr(name.forms, level)
                similarity = max(scorer(wanted, offered) for scorer in _SCORERS) * weight * base
                if similarity > hit.similarity:
                    hit.similarity, hit.level, hit.origin = similarity, level, name.origin
                    hit.legal_form = text.forms.legal_form
            if words.isdisjoint(name.forms.plain.split()):
                continue  # without a shared word, words within words score no higher than above
            partial = fuzz.token_set_ratio(text.forms.plain, name.forms.plain) * _PARTIAL * base
            if partial > hit.similarity:
                hit.similarity, hit.level, hit.origin = partial, "partial", name.origin
                hit.legal_form = text.forms.legal_form


def _same_word(mine: str, theirs: str) -> bool:
    """The same word, or the same but for two neighbouring letters swapped ("Dortmnud"); a letter more, fewer or
    different makes another word ("Amberg" is not Bamberg, "Ulmen" not Ulm, "Kusel" not Kassel)."""
    if mine == theirs:
        return True
    swapped = OSA.distance(mine, theirs) == 1 and Levenshtein.distance(mine, theirs) == 2
    return swapped and min(len(mine), len(theirs)) >= 5


def _distinctive_agrees(index: ReconcileIndex, entry: Entry, texts: list[_Text]) -> bool:
    """Whether a name of `entry` has the query's words, once prefixes and legal forms are set aside: all of them,
    but at most one misspelt by a swap. An alternative name that other things also answer to ("IHK") counts not."""
    for text in texts:
        for name in entry.names:
            if name.origin == "alt" and (entry.id, name.forms.plain) in index.ambiguous:
                continue
            # Generic words ("Electronics", "Deutschland") may be left out of the query's name, but not out of the
            # thing's: "Huawei" does not name Huawei Technologies Deutschland.
            levels = ("full", "plain", "core") if name.forms.core == name.forms.plain else ("full", "plain")
            for level in levels:
                mine = set(getattr(text.forms, level).split())
                theirs = set(getattr(name.forms, level).split())
                extra, missing = mine - theirs, theirs - mine
                if not extra and not missing:
                    return True
                written, named = getattr(text.forms, level), getattr(name.forms, level)
                if written.replace(" ", "") == named.replace(" ", ""):  # "Grow Smarter" is GrowSmarter
                    return True
                if len(extra) == len(missing) == 1 and _same_word(next(iter(extra)), next(iter(missing))):
                    return True
    return False


def _property_evidence(
    index: ReconcileIndex, entry: Entry, pid: str, values: tuple[str, ...]
) -> tuple[float, bool | None]:
    """(score change, whether the candidate agrees; None when it has no value to compare or the query's values
    cannot be read: a value the service cannot read is no evidence either way)."""
    mine: set[str]
    theirs: set[str]
    if pid == "ags":
        # A municipality carries the AGS of the city it acts for.
        places = [entry] + [index.entries[ident] for ident in entry.related if entry.kind == "municipality"]
        mine = {place.ags for place in places if place.ags}
        theirs = {ags for value in values if (ags := normal_ags(value))}
        penalty = _IDENTIFIER_CONTRADICTS
    elif pid == "wikidata":
        mine, theirs = entry.wikidata, {qid for value in values if (qid := qid_of(value))}
        penalty = _IDENTIFIER_CONTRADICTS
    elif pid == "country":
        mine = {code.upper() for code in entry.country}
        theirs = {code for value in values if (code := country_code(value))}
        penalty = _CONTRADICTS
    elif pid == "land":
        mine = entry.land_names
        theirs = {land for value in values if (land := land_of(value, index.land_names))}
        penalty = _CONTRADICTS
    else:  # homepage
        mine = {url for page in entry.homepage if (url := normal_url(page))}
        theirs = {url for value in values if (url := normal_url(value))}
        penalty = _IDENTIFIER_CONTRADICTS
    if pid in _IDENTIFYING and not mine and theirs:
        # The identifier names another thing of the graph ("Kelsterbach" with Dortmund's Wikidata id): the row is
        # about one of the two, and which one takes a look.
        owners = set(index.with_value(pid, values))
        if owners and entry.id not in owners and not owners & entry.related:
            return -penalty, False
    if not mine or not theirs:
        return 0.0, None
    if mine & theirs:
        return (100.0 if pid in _IDENTIFYING else _AGREES), True
    return -penalty, False


def match(index: ReconcileIndex, pools: NamePools, query: Query) -> list[Candidate]:
    """The candidates for `query`, best first, at most `query.limit`; `match` set on the first where it is sure."""
    types = query.types or tuple(index.types)
    hits: dict[str, _Hit] = {}
    for text in (query.text, *query.alternatives):
        for ident, how in _identified(index, text).items():
            hits[ident] = _Hit(100.0, "identifier", how, how)
    for pid, values in query.properties:
        if pid in _IDENTIFYING:
            for ident in index.with_value(pid, values):
                hits.setdefault(ident, _Hit())
    texts = _texts(query, types)
    if texts:
        for ident in _draw(index, pools, texts, types):
            hits.setdefault(ident, _Hit())
    candidates = []
    for ident, hit in hits.items():
        entry = index.entries[ident]
        if entry.kind not in types:
            continue
        # What the query's text names by an identifier is not compared by name with that same text.
        by_name = bool(texts) and hit.identifier is None
        if by_name:
            _score_names(entry, texts, hit)
        candidates.append(_candidate(index, entry, hit, query, by_name=by_name))
    plain = forms_of(query.text).plain
    for candidate in candidates:
        candidate.overlap = max(
            (fuzz.token_sort_ratio(plain, name.forms.plain) for name in candidate.entry.names), default=0.0
        )
    # Equal scores ("Huawei Deutschland": Huawei and Huawei Technologies Deutschland both by their core name) are
    # ordered first by an identifier that names one of them, then by the whole names, words in any order, legal
    # forms aside; cities before municipalities; then by name.
    candidates.sort(
        key=lambda c: (
            -c.score,
            not c.identified,
            -c.overlap,
            c.entry.kind != "city",
            c.entry.label.casefold(),
            c.entry.id,
        )
    )
    _decide(index, candidates, texts)
    return candidates[: query.limit]


def _candidate(index: ReconcileIndex, entry: Entry, hit: _Hit, query: Query, *, by_name: bool) -> Candidate:
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
        change, agrees = _property_evidence(index, entry, pid, values)
        if agrees is not None:
            features.append(Feature(f"{pid}_agrees", f"{pid} agrees with the query", agrees))
        if change >= 100.0:
            identified = True
        else:
            score += change
    # An identifier and a name that name different things ("Dortmund" with the AGS of Köln): neither is trusted.
    conflict = identified and by_name and hit.similarity < _NAME_AGREES
    legal = entry.kind in ("city", "municipality") and hit.legal_form
    if legal:  # "Wolfsburg AG" is a company, not the city
        score -= _CONTRADICTS
    qualifier_conflict, qualifier_missing = _qualifiers(entry, query) if by_name else (False, False)
    if qualifier_conflict:
        score -= _CONTRADICTS
    if identified:
        score = (100.0 + hit.similarity) / 2 if conflict else 100.0
    features.append(Feature("identifier", "an official identifier names it", identified))
    if conflict:
        features.append(Feature("name_conflict", "the name does not agree with the identifier", True))
    if legal:
        features.append(Feature("legal_form_conflict", "the query names a company or association by legal form", True))
    if qualifier_conflict:
        features.append(Feature("place_qualifier_conflict", "the query names another river or region", True))
    if qualifier_missing:
        features.append(
            Feature("place_qualifier_missing", "the query leaves out the river or region of the only name", True)
        )
    candidate = Candidate(entry, max(0.0, min(100.0, round(score, 1))), features=features)
    candidate.identified = identified and not conflict and not qualifier_conflict
    candidate.legal_form_conflict = legal
    candidate.qualifier_conflict, candidate.qualifier_missing = qualifier_conflict, qualifier_missing
    return candidate


def _qualifiers(entry: Entry, query: Query) -> tuple[bool, bool]:
    """(whether the query's river or region contradicts the place's, whether the query gives none where every name
    of the place has one). Many towns share a name ("Linz", "Wörth", "Kirchheim"): the graph's may be another one
    than the spreadsheet's, so neither is linked without a look. A qualifier where the place has none ("Brandis
    (Sachsen)") says nothing against it."""
    if entry.kind not in ("city", "municipality"):
        return False, False
    named = [name for name in entry.names if name.origin != "short"]
    theirs = [name.qualifier for name in named if name.qualifier is not None]
    if not theirs:
        return False, False
    mine = [q for text in (query.text, *query.alternatives) if (q := place_qualifier(text)) is not None]
    if mine:
        return not any(qualifiers_fit(a, b) for a in mine for b in theirs), False
    return False, all(name.qualifier is not None for name in named)


def _decide(index: ReconcileIndex, candidates: list[Candidate], texts: list[_Text]) -> None:
    """Mark the first candidate a match when it is sure; say by how much it leads in a feature of its own.

    Sure means: an identifier names it, no other candidate, and its name does not contradict it; or it scores at
    least MATCH_SCORE, leads by MATCH_LEAD, and a name of it has the query's distinctive words (not merely
    similar ones: "Amberg" is another city than Bamberg)."""
    if not candidates:
        return
    best = candidates[0]
    rivals = [c for c in candidates[1:] if c.entry.id not in best.entry.related]
    lead = best.score - rivals[0].score if rivals else best.score
    by_identifier = best.identified and not any(c.identified for c in rivals)
    by_name = (
        best.score >= MATCH_SCORE
        and lead >= MATCH_LEAD
        and not best.legal_form_conflict
        and not best.qualifier_conflict
        and not best.qualifier_missing
        and not any(f.id == "name_conflict" for f in best.features)
        and (not texts or _distinctive_agrees(index, best.entry, texts))
    )
    best.match = by_identifier or by_name
    best.features.append(Feature("lead", "lead over the next different candidate", round(lead, 1)))
