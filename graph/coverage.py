"""What the graph covers: alliances and agreements by year, Land and vendor; sources; single-source facts; conflicts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pyoxigraph as ox

from graph.prefixes import sparql_prologue
from graph.store import ReadStore

__all__ = ["Coverage", "measure_coverage", "render_markdown"]

_PREFIXES = sparql_prologue()

_COUNTS = _PREFIXES + """
SELECT ?class (COUNT(DISTINCT ?thing) AS ?n) WHERE { ?thing a ?class .
  VALUES ?class { sck:Alliance sck:Agreement sck:Pilot sck:Source sck:City sck:Company sck:Organization sck:Person
                  sck:Membership sck:Conflict } } GROUP BY ?class
"""
# The year an alliance was founded: the earliest founding date any source states (years only, as precise as all
# are); where sources only bound it ("by 2018": reported then), the earliest bound's year as "by 2018".
_ALLIANCES_BY_YEAR = _PREFIXES + """
SELECT ?year (COUNT(?alliance) AS ?n) WHERE {
  { SELECT ?alliance (MIN(YEAR(?earliest)) AS ?first) (MIN(YEAR(?latest)) AS ?bound) WHERE {
      ?alliance a sck:Alliance .
      OPTIONAL { ?alliance sck:event ?founding . ?founding sck:eventKind/skos:notation "founding" ; sck:latest ?latest
                 OPTIONAL { ?founding sck:earliest ?earliest } } } GROUP BY ?alliance }
  BIND(COALESCE(STR(?first), CONCAT("by ", STR(?bound)), "unknown") AS ?year)
} GROUP BY ?year ORDER BY ?year
"""
_AGREEMENTS_BY_YEAR = _PREFIXES + """
SELECT ?year (COUNT(?agreement) AS ?n) WHERE {
  ?agreement a sck:Agreement .
  OPTIONAL { ?agreement sck:signedLatest ?latest OPTIONAL { ?agreement sck:signedEarliest ?earliest } }
  BIND(COALESCE(STR(YEAR(?earliest)), CONCAT("by ", STR(YEAR(?latest))), "unknown") AS ?year)
} GROUP BY ?year ORDER BY ?year
"""
# Every date of every statement: stated by a cited passage, only bounded by a source's publication, or dropped
# because no cited passage supported it.
_DATES = _PREFIXES + """
SELECT ?what ?kind (COUNT(*) AS ?n) WHERE {
  { VALUES (?p ?what) { (sck:startDate "start") (sck:endDate "end") (sck:signedOn "signing") (sck:date "event") }
    ?statement ?p ?value BIND("stated" AS ?kind) }
  UNION { VALUES (?p ?what) { (sck:startNoLaterThan "start") (sck:endNoLaterThan "end")
                              (sck:signedNoLaterThan "signing") (sck:noLaterThan "event") }
          ?statement ?p ?value BIND("bound" AS ?kind) }
  UNION { VALUES (?field ?what) { ("since" "start") ("start" "start") ("until" "end") ("end" "end")
                                  ("signed" "signing") ("date" "event") }
          ?statement a sck:DroppedDate ; sck:dateField ?field BIND("dropped" AS ?kind) }
} GROUP BY ?what ?kind
"""
_ALLIANCES_BY_LAND = _PREFIXES + """
SELECT ?land (COUNT(DISTINCT ?alliance) AS ?n) WHERE {
  ?alliance a sck:Alliance ; org:hasMembership/org:member/sck:municipalityOf ?city .
  OPTIONAL { ?city sck:land/skos:prefLabel ?label FILTER(lang(?label) = "de") }
  BIND(COALESCE(?label, "unknown") AS ?land)
} GROUP BY ?land ORDER BY DESC(?n) ?land
"""
_VENDORS = _PREFIXES + """
SELECT ?company ?label (COUNT(DISTINCT ?alliance) AS ?alliances) (COUNT(DISTINCT ?agreement) AS ?agreements) WHERE {
  ?company a sck:Company ; rdfs:label ?label .
  OPTIONAL { ?membership org:member ?company ; org:organization ?alliance }
  OPTIONAL { ?agreement sck:party ?company }
} GROUP BY ?company ?label HAVING (COUNT(DISTINCT ?alliance) + COUNT(DISTINCT ?agreement) > 0)
ORDER BY DESC(?alliances) DESC(?agreements) ?label
"""
_SOURCED = _PREFIXES + """
SELECT (COUNT(?statement) AS ?statements) (SUM(?single) AS ?singles) WHERE {
  { SELECT ?statement (IF(COUNT(DISTINCT ?source) = 1, 1, 0) AS ?single)
    WHERE { ?statement prov:wasDerivedFrom ?source } GROUP BY ?statement }
}
"""
_CONFLICTS = _PREFIXES + """
SELECT ?conflict ?summary (GROUP_CONCAT(DISTINCT ?key; separator=", ") AS ?sources) WHERE {
  ?conflict a sck:Conflict ; sck:summary ?summary ; sck:conflictingSource/dct:identifier ?key .
} GROUP BY ?conflict ?summary ORDER BY ?conflict
"""


@dataclass(frozen=True)
class Coverage:
    counts: Mapping[str, int]
    alliances_by_year: Mapping[str, int]
    agreements_by_year: Mapping[str, int]
    alliances_by_land: Mapping[str, int]
    vendors: list[tuple[str, str, int, int]]
    statements: int
    single_source: int
    dates: Mapping[tuple[str, str], int]  # (start|end|signing|event, stated|bound|dropped) → how many
    conflicts: list[tuple[str, str, str]]


def _rows(store: ReadStore, sparql: str) -> list[list[str]]:
    outcome = store.query(sparql)
    assert isinstance(outcome, ox.QuerySolutions)
    return [[term.value if term is not None else "" for term in row] for row in outcome]


def measure_coverage(store: ReadStore) -> Coverage:
    counts = {iri.rsplit("#", 1)[-1]: int(n) for iri, n in _rows(store, _COUNTS)}
    (statements, singles), = _rows(store, _SOURCED)
    return Coverage(
        counts=counts,
        alliances_by_year={year: int(n) for year, n in _rows(store, _ALLIANCES_BY_YEAR)},
        agreements_by_year={year: int(n) for year, n in _rows(store, _AGREEMENTS_BY_YEAR)},
        alliances_by_land={land: int(n) for land, n in _rows(store, _ALLIANCES_BY_LAND)},
        vendors=[(iri, label, int(a), int(b)) for iri, label, a, b in _rows(store, _VENDORS)],
        statements=int(statements or 0),
        single_source=int(singles or 0),
        dates={(what, kind): int(n) for what, kind, n in _rows(store, _DATES)},
        conflicts=[(iri, summary, sources) for iri, summary, sources in _rows(store, _CONFLICTS)],
    )


def _table(header: tuple[str, ...], rows: list[tuple[object, ...]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |" for row in rows]
    return [*lines, ""]


_DATE_KINDS = ("stated", "bound", "dropped")
_DATE_ROWS = (("start", "start of a membership, post or pilot"), ("end", "end of a membership, post or pilot"),
              ("signing", "signing of an agreement"), ("event", "founding or other event"))


def _date_rows(dates: Mapping[tuple[str, str], int]) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = [(label, *(dates.get((what, kind), 0) for kind in _DATE_KINDS))
                                      for what, label in _DATE_ROWS]
    return [*rows, ("all", *(sum(n for (_, k), n in dates.items() if k == kind) for kind in _DATE_KINDS))]


def render_markdown(coverage: Coverage, modified: str) -> str:
    """The coverage report as Markdown; everything in it is computed from the graph."""
    c = coverage.counts
    share = coverage.single_source / coverage.statements if coverage.statements else 0.0
    lines = [
        "# Coverage",
        "",
        f"Generated by `smartcity-kg coverage` from the published graph (data as of {modified}); do not edit by hand.",
        "",
        *_table(("what", "count"), [("alliances and partnerships", c.get("Alliance", 0)),
                                    ("agreements", c.get("Agreement", 0)), ("pilots", c.get("Pilot", 0)),
                                    ("memberships", c.get("Membership", 0)), ("cities", c.get("City", 0)),
                                    ("companies", c.get("Company", 0)),
                                    ("other organisations", c.get("Organization", 0)),
                                    ("people", c.get("Person", 0)), ("sources", c.get("Source", 0)),
                                    ("conflicts between sources", c.get("Conflict", 0))]),
        "## Statements and their sources",
        "",
        f"{coverage.statements} statements carry at least one source; {coverage.single_source} of them "
        f"({share:.0%}) rest on a single source.",
        "",
        "## Dates: stated, bounded, dropped",
        "",
        "A date is *stated* where a cited passage gives it, a *bound* where only a source's publication date says it "
        "happened by then (\"by October 2018\"), and *dropped* where it was taken out because no cited passage "
        "supports it (the statement's date is unknown).",
        "",
        *_table(("date", *_DATE_KINDS), _date_rows(coverage.dates)),
        "## Alliances by founding year",
        "",
        "The earliest founding year any source states; `by` a year where sources only bound it (they reported the "
        "alliance then); `unknown` where no source dates the founding.",
        "",
        *_table(("year", "alliances"), list(coverage.alliances_by_year.items())),
        "## Agreements by year of signing",
        "",
        *_table(("year", "agreements"), list(coverage.agreements_by_year.items())),
        "## Alliances by Land",
        "",
        "An alliance counts once for each Land one of its member cities lies in; `unknown` where no cited source "
        "gives a member city's Land.",
        "",
        *_table(("Land", "alliances"), list(coverage.alliances_by_land.items())),
        "## Vendors",
        "",
        *_table(("company", "alliances", "agreements"), [(label, a, b) for _, label, a, b in coverage.vendors]),
        "## Conflicts between sources",
        "",
        *_table(("conflict", "sources"), [(summary, sources) for _, summary, sources in coverage.conflicts]),
    ]
    return "\n".join(lines).rstrip() + "\n"
