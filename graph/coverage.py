"""What the graph covers: alliances and agreements by year, country, Land, programme, role and vendor; sources;
single-source facts; conflicts; and the landscape figures against their targets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pycountry

from graph.prefixes import sparql_prologue
from graph.store import ReadStore

__all__ = ["TARGETS", "Coverage", "Target", "measure_coverage", "render_markdown"]

_PREFIXES = sparql_prologue()

_COUNTS = (
    _PREFIXES
    + """
SELECT ?class (COUNT(DISTINCT ?thing) AS ?n) WHERE { ?thing a ?class .
  VALUES ?class { sck:Alliance sck:Agreement sck:Pilot sck:Source sck:City sck:Company sck:Organization sck:Person
                  sck:Membership sck:Conflict } } GROUP BY ?class
"""
)
# The year an alliance was founded: the earliest founding date any source states (years only, as precise as all
# are); where sources only bound it ("by 2018": reported then), the earliest bound's year as "by 2018".
_ALLIANCES_BY_YEAR = (
    _PREFIXES
    + """
SELECT ?year (COUNT(?alliance) AS ?n) WHERE {
  { SELECT ?alliance (MIN(YEAR(?earliest)) AS ?first) (MIN(YEAR(?latest)) AS ?bound) WHERE {
      ?alliance a sck:Alliance .
      OPTIONAL { ?alliance sck:event ?founding . ?founding sck:eventKind/skos:notation "founding" ; sck:latest ?latest
                 OPTIONAL { ?founding sck:earliest ?earliest } } } GROUP BY ?alliance }
  BIND(COALESCE(STR(?first), CONCAT("by ", STR(?bound)), "unknown") AS ?year)
} GROUP BY ?year ORDER BY ?year
"""
)
_AGREEMENTS_BY_YEAR = (
    _PREFIXES
    + """
SELECT ?year (COUNT(?agreement) AS ?n) WHERE {
  ?agreement a sck:Agreement .
  OPTIONAL { ?agreement sck:signedLatest ?latest OPTIONAL { ?agreement sck:signedEarliest ?earliest } }
  BIND(COALESCE(STR(YEAR(?earliest)), CONCAT("by ", STR(YEAR(?latest))), "unknown") AS ?year)
} GROUP BY ?year ORDER BY ?year
"""
)
# Every date of every statement: stated by a cited passage, only bounded by a source's publication, or dropped
# because no cited passage supported it.
_DATES = (
    _PREFIXES
    + """
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
)
_ALLIANCES_BY_LAND = (
    _PREFIXES
    + """
SELECT ?land (COUNT(DISTINCT ?alliance) AS ?n) WHERE {
  ?alliance a sck:Alliance ; org:hasMembership/org:member/sck:municipalityOf ?city .
  OPTIONAL { ?city sck:land/skos:prefLabel ?label FILTER(lang(?label) = "de") }
  BIND(COALESCE(?label, "unknown") AS ?land)
} GROUP BY ?land ORDER BY DESC(?n) ?land
"""
)
_VENDORS = (
    _PREFIXES
    + """
SELECT ?company ?label (COUNT(DISTINCT ?alliance) AS ?alliances) (COUNT(DISTINCT ?agreement) AS ?agreements) WHERE {
  ?company a sck:Company ; rdfs:label ?label .
  OPTIONAL { ?membership org:member ?company ; org:organization ?alliance }
  OPTIONAL { ?agreement sck:party ?company }
} GROUP BY ?company ?label HAVING (COUNT(DISTINCT ?alliance) + COUNT(DISTINCT ?agreement) > 0)
ORDER BY DESC(?alliances) DESC(?agreements) ?label
"""
)
_SOURCED = (
    _PREFIXES
    + """
SELECT (COUNT(?statement) AS ?statements) (SUM(?single) AS ?singles) WHERE {
  { SELECT ?statement (IF(COUNT(DISTINCT ?source) = 1, 1, 0) AS ?single)
    WHERE { ?statement prov:wasDerivedFrom ?source } GROUP BY ?statement }
}
"""
)
# Cities and the alliances with a member city there, per ISO 3166 country; `unknown` where no source gives it.
_BY_COUNTRY = (
    _PREFIXES
    + """
SELECT ?country (COUNT(DISTINCT ?city) AS ?cities) (COUNT(DISTINCT ?alliance) AS ?alliances) WHERE {
  ?city a sck:City . OPTIONAL { ?city sck:countryCode ?code }
  OPTIONAL { ?municipality sck:municipalityOf ?city . ?membership org:member ?municipality ;
                                                                  org:organization ?alliance }
  BIND(COALESCE(?code, "unknown") AS ?country)
} GROUP BY ?country ORDER BY DESC(?cities) ?country
"""
)
_BY_PROGRAMME = (
    _PREFIXES
    + """
SELECT ?programme (COUNT(DISTINCT ?alliance) AS ?n) WHERE {
  ?alliance a sck:Alliance .
  OPTIONAL { ?alliance sck:programme/skos:prefLabel ?label FILTER(lang(?label) = "en") }
  BIND(COALESCE(?label, "none stated") AS ?programme)
} GROUP BY ?programme ORDER BY DESC(?n) ?programme
"""
)
# A funded project's start year: the earliest start any cited running time gives.
_PROJECTS_BY_START = (
    _PREFIXES
    + """
SELECT ?year (COUNT(?alliance) AS ?n) WHERE {
  { SELECT ?alliance (MIN(YEAR(?earliest)) AS ?first) WHERE {
      ?alliance a sck:Alliance ; sck:period ?period . OPTIONAL { ?period sck:startEarliest ?earliest } }
    GROUP BY ?alliance }
  BIND(COALESCE(STR(?first), "unknown") AS ?year)
} GROUP BY ?year ORDER BY ?year
"""
)
_BY_ROLE = (
    _PREFIXES
    + """
SELECT ?role (COUNT(DISTINCT ?membership) AS ?memberships) (COUNT(DISTINCT ?member) AS ?members) WHERE {
  ?membership a sck:Membership ; org:member ?member ; org:role/skos:prefLabel ?role FILTER(lang(?role) = "en")
} GROUP BY ?role ORDER BY DESC(?memberships) ?role
"""
)
_LANDSCAPE = (
    _PREFIXES
    + """
SELECT
  (SUM(IF(?figure = "urls", 1, 0)) AS ?urls) (SUM(IF(?figure = "lighthouse", 1, 0)) AS ?lighthouse)
  (SUM(IF(?figure = "countries", 1, 0)) AS ?countries)
WHERE {
  { SELECT DISTINCT ("urls" AS ?figure) ?thing WHERE { ?statement prov:wasDerivedFrom ?source .
                                                       ?source schema:url ?thing } }
  UNION
  { SELECT DISTINCT ("lighthouse" AS ?figure) ?thing WHERE {
      ?thing sck:allianceKind/skos:notation "eu-lighthouse-project" ; sck:programme/skos:notation "horizon-2020" } }
  UNION
  { SELECT DISTINCT ("countries" AS ?figure) ?thing WHERE { ?city a sck:City ; sck:countryCode ?thing } }
}
"""
)
_CONFLICTS = (
    _PREFIXES
    + """
SELECT ?conflict ?summary (GROUP_CONCAT(DISTINCT ?key; separator=", ") AS ?sources) WHERE {
  ?conflict a sck:Conflict ; sck:summary ?summary ; sck:conflictingSource/dct:identifier ?key .
} GROUP BY ?conflict ?summary ORDER BY ?conflict
"""
)


@dataclass(frozen=True)
class Target:
    """A figure the landscape is to reach: at least `minimum`, or at most `maximum` (a share)."""

    name: str
    what: str
    minimum: float | None = None
    maximum: float | None = None

    def reached(self, value: float) -> bool:
        return (self.minimum is None or value >= self.minimum) and (self.maximum is None or value <= self.maximum)

    @property
    def goal(self) -> str:
        if self.maximum is not None:
            return f"at most {self.maximum:.0%}"
        return f"at least {self.minimum:g}"


# The figures the curated landscape is measured against (one place: the report and its test read them here).
TARGETS = (
    Target("projects", "alliances, partnerships, projects and agreements", minimum=120),
    Target("organisations", "organisations (companies and others)", minimum=600),
    Target("cities", "cities", minimum=250),
    Target("countries", "countries with a city", minimum=15),
    Target("source_urls", "distinct cited source URLs", minimum=400),
    Target("lighthouse_projects", "H2020 Smart Cities and Communities lighthouse projects", minimum=18),
    Target("single_source_share", "share of statements on a single source", maximum=0.5),
)


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
    by_country: list[tuple[str, int, int]]
    alliances_by_programme: Mapping[str, int]
    projects_by_start_year: Mapping[str, int]
    memberships_by_role: list[tuple[str, int, int]]
    source_urls: int
    lighthouse_projects: int

    @property
    def single_source_share(self) -> float:
        return self.single_source / self.statements if self.statements else 0.0

    def landscape(self) -> list[tuple[str, str, str, bool]]:
        """Each landscape figure as (what, value now, target, reached), for the report and the landing page."""
        return [(t.what, _number(self.figure(t.name)), t.goal, t.reached(self.figure(t.name))) for t in TARGETS]

    def countries(self) -> list[tuple[str, str, int, int]]:
        """(country name, ISO code, cities, alliances) per country, most cities first."""
        return [(country_name(code), code, cities, alliances) for code, cities, alliances in self.by_country]

    def figure(self, name: str) -> float:
        """The value of a landscape figure named in TARGETS."""
        c = self.counts
        return {
            "projects": c.get("Alliance", 0) + c.get("Agreement", 0),
            "organisations": c.get("Company", 0) + c.get("Organization", 0),
            "cities": c.get("City", 0),
            "countries": sum(1 for code, _, _ in self.by_country if code != "unknown"),
            "source_urls": self.source_urls,
            "lighthouse_projects": self.lighthouse_projects,
            "single_source_share": self.single_source_share,
        }[name]


def _rows(store: ReadStore, sparql: str) -> list[list[str]]:
    outcome = store.select(sparql)
    return [[term.value if term is not None else "" for term in row] for row in outcome]


def measure_coverage(store: ReadStore) -> Coverage:
    counts = {iri.rsplit("#", 1)[-1]: int(n) for iri, n in _rows(store, _COUNTS)}
    ((statements, singles),) = _rows(store, _SOURCED)
    ((urls, lighthouse, _countries),) = _rows(store, _LANDSCAPE)
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
        by_country=[(code, int(cities), int(alliances)) for code, cities, alliances in _rows(store, _BY_COUNTRY)],
        alliances_by_programme={label: int(n) for label, n in _rows(store, _BY_PROGRAMME)},
        projects_by_start_year={year: int(n) for year, n in _rows(store, _PROJECTS_BY_START)},
        memberships_by_role=[(role, int(m), int(n)) for role, m, n in _rows(store, _BY_ROLE)],
        source_urls=int(urls or 0),
        lighthouse_projects=int(lighthouse or 0),
    )


def country_name(code: str) -> str:
    """The ISO 3166 short name of an alpha-2 code, or the code itself where it is not one (`unknown`)."""
    country = pycountry.countries.get(alpha_2=code)
    return code if country is None else str(country.name)


def _number(value: float) -> str:
    return f"{value:.0%}" if isinstance(value, float) and value < 1 else f"{value:g}"


def _table(header: tuple[str, ...], rows: list[tuple[object, ...]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |" for row in rows]
    return [*lines, ""]


_DATE_KINDS = ("stated", "bound", "dropped")
_DATE_ROWS = (
    ("start", "start of a membership, post or pilot"),
    ("end", "end of a membership, post or pilot"),
    ("signing", "signing of an agreement"),
    ("event", "founding or other event"),
)


def _date_rows(dates: Mapping[tuple[str, str], int]) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = [
        (label, *(dates.get((what, kind), 0) for kind in _DATE_KINDS)) for what, label in _DATE_ROWS
    ]
    return [*rows, ("all", *(sum(n for (_, k), n in dates.items() if k == kind) for kind in _DATE_KINDS))]


def render_markdown(coverage: Coverage, modified: str) -> str:
    """The coverage report as Markdown; everything in it is computed from the graph."""
    c = coverage.counts
    share = coverage.single_source_share
    lines = [
        "# Coverage",
        "",
        f"Generated by `smartcity-kg coverage` from the published graph (data as of {modified}); do not edit by hand.",
        "",
        *_table(
            ("what", "count"),
            [
                ("alliances and partnerships", c.get("Alliance", 0)),
                ("agreements", c.get("Agreement", 0)),
                ("pilots", c.get("Pilot", 0)),
                ("memberships", c.get("Membership", 0)),
                ("cities", c.get("City", 0)),
                ("companies", c.get("Company", 0)),
                ("other organisations", c.get("Organization", 0)),
                ("people", c.get("Person", 0)),
                ("sources", c.get("Source", 0)),
                ("conflicts between sources", c.get("Conflict", 0)),
            ],
        ),
        "## Statements and their sources",
        "",
        f"{coverage.statements} statements carry at least one source; {coverage.single_source} of them "
        f"({share:.0%}) rest on a single source.",
        "",
        "## The landscape in numbers",
        "",
        "Each figure against its target; `reached` is computed, not written by hand.",
        "",
        *_table(
            ("figure", "now", "target", "reached"),
            [(what, now, goal, "yes" if reached else "no") for what, now, goal, reached in coverage.landscape()],
        ),
        "## By country",
        "",
        "Cities per country (ISO 3166, from GeoNames) and the alliances and projects with a member city there.",
        "",
        *_table(("country", "code", "cities", "alliances"), list(coverage.countries())),
        "## By programme",
        "",
        "Alliances and projects by the funding programme a cited source names; `none stated` for the others.",
        "",
        *_table(("programme", "alliances"), list(coverage.alliances_by_programme.items())),
        "## Projects by start year",
        "",
        "Funded projects by the earliest start any cited running time gives.",
        "",
        *_table(("year", "projects"), list(coverage.projects_by_start_year.items())),
        "## By role",
        "",
        "Memberships by role, and how many distinct members hold each role.",
        "",
        *_table(("role", "memberships", "members"), list(coverage.memberships_by_role)),
        "## Dates: stated, bounded, dropped",
        "",
        "A date is *stated* where a cited passage gives it, a *bound* where only a source's publication date says it "
        'happened by then ("by October 2018"), and *dropped* where it was taken out because no cited passage '
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
