"""The server-rendered HTML: one Jinja2 environment over api/templates, and the pages' own words in two languages."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

__all__ = ["render", "words"]

TEMPLATES = Path(__file__).with_name("templates")

_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "also": "Also called", "broader": "Subclass or subproperty of", "cited_by": "Cited by", "classes": "Classes",
        "definition": "Definition", "details": "Details", "domain": "Domain", "error": "Error",
        "formats": "This description as data", "home": "smartcity-kg", "identifiers": "Identifiers",
        "label": "Label", "license": "Licence", "linked_from": "Linked from", "memberships": "Memberships",
        "ontology": "Ontology", "other_language": "Deutsch", "period": "Period", "properties": "Properties",
        "range": "Range", "replaced_by": "It has been replaced by", "retired": "This entry has been retired.",
        "role": "Role", "since": "since", "sources": "Sources", "until": "until", "version": "Version",
        "where": "Where in the source", "timeline": "Timeline", "members_diagram": "Members at a glance",
        "kind_city": "municipality", "kind_company": "company", "kind_organization": "other organisation",
        "on": "{date}", "by": "by {date}", "since_on": "since {date}", "since_by": "by {date}",
        "until_on": "until {date}", "until_by": "ended by {date}",
        "stated_in": "stated in {n} source", "stated_in_many": "stated in {n} sources",
        "bound_by": "a bound: reported by {n} source published then",
        "bound_by_many": "a bound: reported by {n} sources published then",
    },
    "de": {
        "also": "Auch", "broader": "Unterklasse oder Untereigenschaft von", "cited_by": "Zitiert von",
        "classes": "Klassen", "definition": "Definition", "details": "Einzelheiten", "domain": "Definitionsbereich",
        "error": "Fehler", "formats": "Diese Beschreibung als Daten", "home": "smartcity-kg",
        "identifiers": "Kennungen", "label": "Bezeichnung", "license": "Lizenz", "linked_from": "Verweise hierher",
        "memberships": "Mitgliedschaften", "ontology": "Ontologie", "other_language": "English",
        "period": "Zeitraum", "properties": "Eigenschaften", "range": "Wertebereich",
        "replaced_by": "Er wurde ersetzt durch", "retired": "Dieser Eintrag wurde zurückgezogen.", "role": "Rolle",
        "since": "seit", "sources": "Quellen", "until": "bis", "version": "Version", "where": "Fundstelle",
        "timeline": "Zeitleiste", "members_diagram": "Mitglieder im Überblick", "kind_city": "Kommune",
        "kind_company": "Unternehmen", "kind_organization": "andere Organisation",
        "on": "{date}", "by": "spätestens {date}", "since_on": "seit {date}", "since_by": "seit spätestens {date}",
        "until_on": "bis {date}", "until_by": "bis spätestens {date}",
        "stated_in": "genannt in {n} Quelle", "stated_in_many": "genannt in {n} Quellen",
        "bound_by": "Obergrenze: berichtet von {n} damals erschienenen Quelle",
        "bound_by_many": "Obergrenze: berichtet von {n} damals erschienenen Quellen",
    },
}


def words(lang: str) -> dict[str, str]:
    """The fixed texts of a page in `lang` (English when the language is not one of the pages')."""
    return _WORDS.get(lang, _WORDS["en"])


@cache
def _environment() -> Environment:
    # StrictUndefined: a misspelt field in a template fails the test suite instead of rendering empty.
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render(template: str, **context: Any) -> bytes:
    return _environment().get_template(template).render(**context).encode()
