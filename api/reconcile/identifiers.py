"""Identifiers as the reconciliation service reads them: entity ids, types, Wikidata ids, homepages, word order."""

from __future__ import annotations

import gettext
import re
from functools import cache

import pycountry

from api.rest.listing import fold
from graph.prefixes import VOCABULARIES

__all__ = [
    "KINDS",
    "TYPES",
    "WIKIDATA",
    "country_code",
    "normal_ags",
    "normal_url",
    "qid_of",
    "sorted_words",
]

# The types a spreadsheet column is reconciled against: the REST API's type names (sources are cited, not matched).
TYPES = {
    "city": "City",
    "municipality": "Municipality",
    "company": "Company",
    "organization": "Organization",
    "alliance": "Alliance",
    "agreement": "Agreement",
    "pilot": "Pilot",
    "person": "Person",
}
# Everything an id of this service may name: the types above, and the sources values are cited from (offered by
# data extension, preview and lookup, but not matched against a column of names). An id's shape is the Minter's
# (`Minter.read_id`); these are the kinds it may name here.
KINDS = TYPES | {"source": "Source"}
WIKIDATA = VOCABULARIES["wd"]  # the namespace of the graph's owl:sameAs links to Wikidata
_QID = re.compile(r"[Qq]([1-9]\d*)")


def sorted_words(text: str) -> str:
    """The words of `text` in sorted order: a name compared whatever the order it is written in."""
    return " ".join(sorted(text.split()))


def qid_of(value: str) -> str | None:
    """A Wikidata id from "Q1295", "wd:Q1295" or the entity IRI; None otherwise."""
    text = value.strip().removeprefix(WIKIDATA).removeprefix("https://www.wikidata.org/wiki/").removeprefix("wd:")
    found = _QID.fullmatch(text)
    return f"Q{found[1]}" if found else None


def normal_ags(value: str) -> str | None:
    """An AGS as the data writes it (8 digits) from "05913000", "05 913 000" or "5913000" (a spreadsheet that read
    the key as a number dropped its leading zero, and may write it as a decimal: "5913000.0"); None when the value
    is no AGS."""
    decimal = re.fullmatch(r"\s*(\d+)\.0+\s*", value)
    digits = decimal[1] if decimal else re.sub(r"[\s.]", "", value)
    if not digits.isascii() or not digits.isdigit() or len(digits) not in (7, 8):
        return None
    return digits.zfill(8)


def normal_url(url: str) -> str | None:
    """A homepage as compared: no scheme, no `www.`, no trailing slash, lower-case host ("www.dortmund.de" and
    "https://dortmund.de/" are one page); None when the value names no web host."""
    bare = re.sub(r"^(https?:)?//", "", url.strip(), flags=re.IGNORECASE)
    bare = re.sub(r"^www\.", "", bare, flags=re.IGNORECASE)
    host, _, path = bare.partition("/")
    host = host.lower()
    if "." not in host or not re.fullmatch(r"[\w.-]+(:\d+)?", host):
        return None
    return f"{host}/{path}".rstrip("/")


@cache
def _countries() -> dict[str, str]:
    """ISO 3166 alpha-2 codes by every way a spreadsheet writes a country: alpha-2, alpha-3, and the English and
    German names, official and common ("CHN", "China", "Volksrepublik China", "Deutschland"), folded."""
    german = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["de"], fallback=True)
    table: dict[str, str] = {}
    for country in pycountry.countries:
        code = country.alpha_2
        names = [getattr(country, attr, "") for attr in ("name", "official_name", "common_name")]
        for name in [country.alpha_2, country.alpha_3, *names, *(german.gettext(name) for name in names if name)]:
            if name:
                table.setdefault(fold(name), code)
    return table


def country_code(value: str) -> str | None:
    """The ISO 3166 alpha-2 code of a country named by code or by name (English or German); None when the value
    names no country."""
    return _countries().get(fold(value))
