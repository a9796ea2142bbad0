"""How values read on the HTML pages: dates at their precision, labels in the page's language."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from graph.dates import written_date
from graph.prefixes import PREFIXES

__all__ = ["LANGUAGES", "Fact", "Link", "format_date", "is_date", "pick_label", "pick_language"]

LANGUAGES = ("en", "de")
_XSD = PREFIXES["xsd"]
_PRECISIONS = {_XSD + "gYear", _XSD + "gYearMonth", _XSD + "date"}


def is_date(value: ox.Literal) -> bool:
    return value.datatype.value in _PRECISIONS


def format_date(value: ox.Literal, lang: str) -> str:
    """A date written out at the precision it has: "2016", "Dezember 2016", "9. Dezember 2016" (or in English)."""
    return written_date(value.value, lang) if is_date(value) else value.value


def pick_label(labels: Sequence[ox.Literal], lang: str) -> ox.Literal | None:
    """The label in `lang`, else one without a language, else any; None when there is none."""
    for wanted in (lang, ""):
        for label in labels:
            if (label.language or "") == wanted:
                return label
    return labels[0] if labels else None


def pick_language(requested: str | None, accept_language: str | None) -> str:
    """`?lang=` when it names a page language, else the best of Accept-Language, else English."""
    if requested in LANGUAGES:
        return requested
    best, best_q = LANGUAGES[0], 0.0
    for item in (accept_language or "").split(","):
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        q = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                q = float(value)
            except ValueError:
                q = 0.0
        if primary in LANGUAGES and q > best_q:
            best, best_q = primary, q
    return best


@dataclass(frozen=True)
class Link:
    """A value as a page shows it: text, a link when there is somewhere to go, the IRI on hover."""

    text: str
    href: str | None = None
    lang: str | None = None  # the language of `text`, for the lang attribute
    title: str | None = None
    external: bool = False


@dataclass(frozen=True)
class Fact:
    """A line of facts as a page shows it: what it is (a property's name), then its values."""

    name: str
    values: list[Link]
