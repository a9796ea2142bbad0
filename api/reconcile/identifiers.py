"""Identifiers as the reconciliation service reads them: entity ids, types, Wikidata ids, homepages, word order."""

from __future__ import annotations

import re

from graph.records import KEY_PATTERN

__all__ = ["TYPES", "WIKIDATA", "normal_url", "parse_id", "qid_of", "sorted_words"]

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
WIKIDATA = "http://www.wikidata.org/entity/"  # the namespace of the graph's owl:sameAs links to Wikidata
_QID = re.compile(r"Q[1-9]\d*")
_ID = re.compile(rf"({'|'.join(TYPES)})/({KEY_PATTERN.strip('^$')})")


def sorted_words(text: str) -> str:
    """The words of `text` in sorted order: a name compared whatever the order it is written in."""
    return " ".join(sorted(text.split()))


def qid_of(value: str) -> str | None:
    """A Wikidata id from "Q1295", "wd:Q1295" or the entity IRI; None otherwise."""
    text = value.strip().removeprefix(WIKIDATA).removeprefix("https://www.wikidata.org/wiki/").removeprefix("wd:")
    return text if _QID.fullmatch(text) else None


def parse_id(text: str) -> tuple[str, str] | None:
    """(type, key) of an entity id `type/key`; None when it is not one."""
    match = _ID.fullmatch(text)
    return (match[1], match[2]) if match else None


def normal_url(url: str) -> str:
    """A homepage as compared: no scheme, no `www.`, no trailing slash, lower-case host."""
    bare = re.sub(r"^https?://(www\.)?", "", url.strip(), flags=re.IGNORECASE)
    host, _, path = bare.partition("/")
    return f"{host.lower()}/{path}".rstrip("/")
