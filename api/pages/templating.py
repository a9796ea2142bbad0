"""Server-rendered HTML: one Jinja2 environment over api/pages/templates, and the pages' words in two languages."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from graph.dates import BY
from graph.prefixes import VOCABULARIES

__all__ = ["render", "words"]

TEMPLATES = Path(__file__).with_name("templates")

_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "also": "Also called",
        "broader": "Subclass or subproperty of",
        "cited_by": "Cited by",
        "classes": "Classes",
        "definition": "Definition",
        "details": "Details",
        "domain": "Domain",
        "error": "Error",
        "formats": "This description as data",
        "home": "smartcity-kg",
        "identifiers": "Identifiers",
        "label": "Label",
        "license": "Licence",
        "linked_from": "Linked from",
        "memberships": "Memberships",
        "ontology": "Ontology",
        "other_language": "Deutsch",
        "period": "Period",
        "properties": "Properties",
        "range": "Range",
        "replaced_by": "It has been replaced by",
        "retired": "This entry has been retired.",
        "role": "Role",
        "since": "since",
        "sources": "Sources",
        "until": "until",
        "version": "Version",
        "where": "Where in the source",
        "timeline": "Timeline",
        "members_diagram": "Members at a glance",
        "kind_city": "municipality",
        "kind_company": "company",
        "kind_organization": "other organisation",
        "changed_in": "Last changed in release",
        "on": "{date}",
        "by": BY["en"],
        "since_on": "since {date}",
        "since_by": "by {date}",
        "until_on": "until {date}",
        "until_by": "ended by {date}",
        "stated_in": "stated in {n} source",
        "stated_in_many": "stated in {n} sources",
        "bound_by": "a bound: reported by {n} source published then",
        "bound_by_many": "a bound: reported by {n} sources published then",
        "query": "Query",
        "search": "Search the graph",
        "search_placeholder": "Search cities, companies, alliances…",
        "suggestions": "Suggestions",
        "on_this_page": "On this page",
        "open_in_editor": "Open in the query editor",
        "show_query": "The query",
        "nothing_yet": "Nothing in the graph yet.",
        "claims": "What each source says",
        "no_coordinates": "No coordinates for these places in the graph yet: the map fills in once they are added.",
    },
    "de": {
        "also": "Auch",
        "broader": "Unterklasse oder Untereigenschaft von",
        "cited_by": "Zitiert von",
        "classes": "Klassen",
        "definition": "Definition",
        "details": "Einzelheiten",
        "domain": "Definitionsbereich",
        "error": "Fehler",
        "formats": "Diese Beschreibung als Daten",
        "home": "smartcity-kg",
        "identifiers": "Kennungen",
        "label": "Bezeichnung",
        "license": "Lizenz",
        "linked_from": "Verweise hierher",
        "memberships": "Mitgliedschaften",
        "ontology": "Ontologie",
        "other_language": "English",
        "period": "Zeitraum",
        "properties": "Eigenschaften",
        "range": "Wertebereich",
        "replaced_by": "Er wurde ersetzt durch",
        "retired": "Dieser Eintrag wurde zurückgezogen.",
        "role": "Rolle",
        "since": "seit",
        "sources": "Quellen",
        "until": "bis",
        "version": "Version",
        "where": "Fundstelle",
        "timeline": "Zeitleiste",
        "members_diagram": "Mitglieder im Überblick",
        "kind_city": "Kommune",
        "kind_company": "Unternehmen",
        "kind_organization": "andere Organisation",
        "changed_in": "Zuletzt geändert in Release",
        "on": "{date}",
        "by": BY["de"],
        "since_on": "seit {date}",
        "since_by": "seit spätestens {date}",
        "until_on": "bis {date}",
        "until_by": "bis spätestens {date}",
        "stated_in": "genannt in {n} Quelle",
        "stated_in_many": "genannt in {n} Quellen",
        "bound_by": "Obergrenze: berichtet von {n} damals erschienenen Quelle",
        "bound_by_many": "Obergrenze: berichtet von {n} damals erschienenen Quellen",
        "query": "Abfrage",
        "search": "Im Graphen suchen",
        "search_placeholder": "Städte, Unternehmen, Bündnisse …",
        "suggestions": "Vorschläge",
        "on_this_page": "Auf dieser Seite",
        "open_in_editor": "Im Abfrageeditor öffnen",
        "show_query": "Die Abfrage",
        "nothing_yet": "Noch nichts im Graphen.",
        "claims": "Was jede Quelle sagt",
        "no_coordinates": "Für diese Orte sind noch keine Koordinaten im Graphen: die Karte füllt sich, sobald sie "
        "ergänzt sind.",
    },
}


def words(lang: str) -> dict[str, str]:
    """The fixed texts of a page in `lang` (English when the language is not one of the pages')."""
    return _WORDS.get(lang, _WORDS["en"])


@cache
def _environment() -> Environment:
    # StrictUndefined: a misspelt field in a template fails the test suite instead of rendering empty.
    from api.pages.render import static_url  # noqa: PLC0415 - api.pages.render renders through this module

    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Every page's header has the site search, whose script every template links by its content's address.
    environment.globals["static_url"] = static_url
    # The prefix map the result views and the editor's completion show IRIs by: the service's, handed to the scripts
    # in every page, so that the browser has no copy of its own.
    environment.globals["prefixes"] = sorted(VOCABULARIES.items())
    return environment


def render(template: str, **context: Any) -> bytes:
    return _environment().get_template(template).render(**context).encode()
