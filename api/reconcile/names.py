"""How names are compared: folded, stripped of German legal forms and municipal prefixes, abbreviations expanded."""

from __future__ import annotations

from dataclasses import dataclass

from api.rest.listing import fold

__all__ = ["Forms", "forms_of", "short_place_name"]

# Words that say what kind of body a name belongs to rather than which one: "Stadt Dortmund", "Dortmund, Stadt"
# and "Dortmund" name the same city; "ZTE Deutschland GmbH" and "ZTE Deutschland" the same company.
_LEADING = (
    "stadt",
    "landeshauptstadt",
    "gemeinde",
    "kreisstadt",
    "grosse kreisstadt",
    "kreisfreie stadt",
    "hansestadt",
    "freie und hansestadt",
    "freie hansestadt",
    "universitatsstadt",
    "wissenschaftsstadt",
    "stadtverwaltung",
    "markt",
    "city of",
    "town of",
    "municipality of",
    "dr",
    "prof",
    "prof dr",
    "ob",
    "oberburgermeister",
    "oberburgermeisterin",
    "burgermeister",
    "burgermeisterin",
    "herr",
    "frau",
)
_TRAILING = (
    "stadt",
    "gmbh",
    "ggmbh",
    "mbh",
    "gmbh co kg",
    "gesellschaft mbh",
    "aktiengesellschaft",
    "ag",
    "se",
    "kg",
    "kgaa",
    "ag co kg",
    "ohg",
    "gbr",
    "ug",
    "ug haftungsbeschrankt",
    "e v",
    "ev",
    "eg",
    "aor",
    "kdor",
    "anstalt des offentlichen rechts",
    "korperschaft des offentlichen rechts",
    "inc",
    "corp",
    "corporation",
    "co",
    "co ltd",
    "ltd",
    "limited",
    "llc",
    "plc",
    "sa",
    "s a",
    "nv",
    "bv",
    "spa",
    "sarl",
    "sas",
    "ab",
    "as",
    "oy",
)
# Only for the weakest comparison: a country or a generic business word is rarely what tells two companies apart,
# but it does tell "ZTE Deutschland" from "ZTE", so a name without them scores below the full name.
_GENERIC = frozenset(
    {
        "deutschland",
        "germany",
        "german",
        "europe",
        "europa",
        "emea",
        "international",
        "technologies",
        "technology",
        "systems",
        "group",
        "gruppe",
        "holding",
        "global",
        "konzern",
        "electronics",
        "solutions",
        "services",
        "consulting",
        "information",
        "communications",
    }
)
_STOPWORDS = frozenset(
    {"zu", "zum", "zur", "fur", "der", "die", "das", "des", "den", "dem", "und", "the", "of", "for", "and"}
)
# Abbreviations spreadsheets use for German public bodies, expanded as the full names are written.
ABBREVIATIONS = {
    "ihk": "industrie und handelskammer",
    "hwk": "handwerkskammer",
    "tu": "technische universitat",
    "fh": "fachhochschule",
    "uni": "universitat",
    "hs": "hochschule",
    "st": "sankt",
    "wifo": "wirtschaftsforderung",
    "wirtschaftsf": "wirtschaftsforderung",
}
# Where a place name goes on with the river or region it lies on: "Rüsselsheim am Main" is called "Rüsselsheim",
# "Freiburg i. Br." and "Menden (Sauerland)" are Freiburg and Menden.
_PLACE_QUALIFIERS = frozenset({"am", "an", "im", "in", "ob", "bei", "auf", "vor", "a.", "i.", "a.d.", "a.m.", "i.br."})


@dataclass(frozen=True)
class Forms:
    """A name at three strengths: folded (`full`), legal form and prefixes dropped, abbreviations expanded
    (`plain`), and also without countries and generic business words (`core`)."""

    full: str
    plain: str
    core: str
    legal_form: bool = False  # a company's or association's legal form was set aside ("Wolfsburg AG")


def _strip(words: list[str], phrases: tuple[str, ...], *, leading: bool) -> list[str]:
    """Drop the phrases at one end, longest first, as long as a word is left."""
    ordered = sorted((phrase.split() for phrase in phrases), key=len, reverse=True)
    changed = True
    while changed:
        changed = False
        for phrase in ordered:
            size = len(phrase)
            if len(words) > size and (words[:size] if leading else words[-size:]) == phrase:
                words = words[size:] if leading else words[:-size]
                changed = True
                break
    return words


def _join_initials(words: list[str]) -> list[str]:
    """Initials written with dots fold to single letters ("L.E.D." → "l e d"); joined they read as the word "led"."""
    joined: list[str] = []
    run = False  # whether the last word of `joined` is a run of single letters
    for word in words:
        single = len(word) == 1 and word.isalpha()
        if single and run:
            joined[-1] += word
        else:
            joined.append(word)
            run = single
    return joined


def forms_of(text: str) -> Forms:
    full = fold(text)
    words = [expanded for word in full.split() for expanded in ABBREVIATIONS.get(word, word).split()]
    named = _strip(words, _LEADING, leading=True)
    words = _strip(named, _TRAILING, leading=False)
    legal_form = any(word != "stadt" for word in named[len(words) :])
    words = _join_initials([word for word in words if word not in _STOPWORDS] or words)
    plain = " ".join(words)
    core = " ".join(word for word in words if word not in _GENERIC) or plain
    return Forms(full, plain, core, legal_form)


def short_place_name(text: str) -> str | None:
    """ "Rüsselsheim am Main" → "Rüsselsheim", "Menden (Sauerland)" → "Menden"; None when the name has no such
    qualifier."""
    before, bracket, _ = text.partition("(")
    if bracket and before.strip():
        return before.strip()
    words = text.split()
    for index, word in enumerate(words[1:], start=1):
        folded = word.casefold()
        if folded in _PLACE_QUALIFIERS or folded.startswith(("i.", "a.")):
            return " ".join(words[:index])
    return None
