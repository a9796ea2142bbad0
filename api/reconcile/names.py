"""How names are compared: folded, stripped of German legal forms and municipal prefixes, abbreviations expanded."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from api.rest.listing import fold

__all__ = ["Forms", "forms_of", "place_qualifier", "qualifiers_fit", "short_place_name", "spell"]

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
    "universitaetsstadt",
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
    "oberbuergermeister",
    "oberbuergermeisterin",
    "buergermeister",
    "buergermeisterin",
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
    "ug haftungsbeschraenkt",
    "e v",
    "ev",
    "eg",
    "aoer",
    "kdoer",
    "anstalt des oeffentlichen rechts",
    "koerperschaft des oeffentlichen rechts",
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
    {"zu", "zum", "zur", "fuer", "fur", "der", "die", "das", "des", "den", "dem", "und", "the", "of", "for", "and"}
)
# Abbreviations spreadsheets use for German public bodies, expanded as the full names are written.
ABBREVIATIONS = {
    "ihk": "industrie und handelskammer",
    "hwk": "handwerkskammer",
    "tu": "technische universitaet",
    "fh": "fachhochschule",
    "uni": "universitaet",
    "hs": "hochschule",
    "st": "sankt",
    "wifo": "wirtschaftsfoerderung",
    "wirtschaftsf": "wirtschaftsfoerderung",
}
# Where a place name goes on with the river or region it lies on: "Rüsselsheim am Main" is called "Rüsselsheim",
# "Freiburg i. Br." and "Menden (Sauerland)" are Freiburg and Menden.
_PLACE_QUALIFIERS = frozenset(
    {"am", "an", "im", "in", "ob", "bei", "auf", "vor", "a.", "i.", "b.", "a.d.", "a.m.", "i.br."}
)
# The words that join a place to its river or region ("an der", "a. d.", "b."): what is left names the river or region.
_QUALIFIER_JOINS = frozenset(
    {"am", "an", "der", "dem", "den", "im", "in", "ob", "bei", "auf", "vor", "a", "d", "i", "b"}
)
# Umlauts written out, as German does when it cannot write them: "Mörs" and "Moers" are one spelling, "Mors" another.
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})


@dataclass(frozen=True)
class Forms:
    """A name at three strengths: folded (`full`), legal form and prefixes dropped, abbreviations expanded
    (`plain`), and also without countries and generic business words (`core`)."""

    full: str
    plain: str
    core: str
    legal_form: bool = False  # a company's or association's legal form was set aside ("Wolfsburg AG")
    # As the label search folds it ("Mün", "Muen" and "Mun" all start "munchen"): for typing ahead, not matching.
    prefix: str = ""


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


def spell(text: str) -> str:
    """Text as names are compared: case folded, umlauts written out (ä→ae, ö→oe, ü→ue; casefold gives ß→ss), other
    accents dropped, punctuation as single spaces. A written-out umlaut is never read back as a bare vowel: folding
    "ue" to "u" would make "Rauenheim" Raunheim and "Mors" Moers."""
    text = unicodedata.normalize("NFC", text.casefold()).translate(_UMLAUTS)
    text = "".join(char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char))
    return re.sub(r"[\W_]+", " ", text).strip()


def _without_umlauts(phrases: tuple[str, ...]) -> tuple[str, ...]:
    """The phrases, and each as written by a keyboard without umlauts ("Oberburgermeister")."""
    plain = (phrase.replace("ae", "a").replace("oe", "o").replace("ue", "u") for phrase in phrases)
    return tuple(dict.fromkeys((*phrases, *plain)))


_LEADING_FORMS = _without_umlauts(_LEADING)
_TRAILING_FORMS = _without_umlauts(_TRAILING)


def forms_of(text: str) -> Forms:
    full = spell(text)
    words = [expanded for word in full.split() for expanded in ABBREVIATIONS.get(word, word).split()]
    named = _strip(words, _LEADING_FORMS, leading=True)
    words = _strip(named, _TRAILING_FORMS, leading=False)
    legal_form = any(word != "stadt" for word in named[len(words) :])
    words = _join_initials([word for word in words if word not in _STOPWORDS] or words)
    plain = " ".join(words)
    core = " ".join(word for word in words if word not in _GENERIC) or plain
    return Forms(full, plain, core, legal_form, fold(text))


def _split_place(text: str) -> tuple[str, str] | None:
    """(place, qualifier) of "Rüsselsheim am Main" or "Menden (Sauerland)"; None when the name has no qualifier."""
    before, bracket, after = text.partition("(")
    if bracket and before.strip():
        return before.strip(), after
    words = text.split()
    for index, word in enumerate(words[1:], start=1):
        folded = word.casefold()
        if folded in _PLACE_QUALIFIERS or folded.startswith(("i.", "a.", "b.")):
            return " ".join(words[:index]), " ".join(words[index:])
    return None


def short_place_name(text: str) -> str | None:
    """ "Rüsselsheim am Main" → "Rüsselsheim", "Menden (Sauerland)" → "Menden"; None when the name has no such
    qualifier."""
    split = _split_place(text)
    return split[0] if split is not None else None


def place_qualifier(text: str) -> tuple[str, ...] | None:
    """The river or region a place name goes on with, as words: "Linz an der Donau" → ("donau",), "Freiburg i. Br."
    → ("br",); None when the name has none."""
    split = _split_place(text)
    if split is None:
        return None
    # What follows a comma or the closing bracket is no longer the qualifier: "Rüsselsheim am Main, Stadt".
    qualifier = re.split(r"[,)]", split[1])[0]
    words = tuple(word for word in spell(qualifier).split() if word not in _QUALIFIER_JOINS)
    return words or None


def qualifiers_fit(mine: tuple[str, ...], theirs: tuple[str, ...]) -> bool:
    """Whether two qualifiers name the same river or region: word for word equal, or one an abbreviation of the
    other ("Br." of Breisgau, "M." of Main)."""
    if len(mine) != len(theirs):
        return False
    return all(a.startswith(b) or b.startswith(a) for a, b in zip(mine, theirs, strict=True))
