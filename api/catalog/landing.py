"""What the landing page shows: the graph's size and coverage, and every alliance with its members, once per build."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from api.http.cache import Derived
from graph.coverage import Coverage, measure_coverage
from graph.prefixes import sparql_prologue
from graph.store import ReadStore

__all__ = ["LANDING_FIGURES", "AllianceEntry", "Landing", "Member"]

# Every alliance with every member in one query; English labels first, then German, then whatever there is.
_ALLIANCES = (
    sparql_prologue()
    + """SELECT ?alliance ?allianceLabel ?member ?memberLabel ?role ?roleLabel WHERE {
  { SELECT ?alliance (SAMPLE(?anyName) AS ?someName) WHERE { ?alliance a sck:Alliance ; rdfs:label ?anyName }
    GROUP BY ?alliance }
  OPTIONAL { ?alliance rdfs:label ?enName FILTER(langMatches(lang(?enName), "en")) }
  OPTIONAL { ?alliance rdfs:label ?deName FILTER(langMatches(lang(?deName), "de")) }
  BIND(COALESCE(?enName, ?deName, ?someName) AS ?allianceLabel)
  OPTIONAL {
    ?alliance org:hasMembership ?membership .
    ?membership org:member ?member ; org:role ?role .
    { SELECT ?member (SAMPLE(?anyMemberName) AS ?memberLabel) WHERE { ?member rdfs:label ?anyMemberName }
      GROUP BY ?member }
    OPTIONAL { ?role skos:prefLabel ?roleLabel FILTER(langMatches(lang(?roleLabel), "en")) }
  }
}
ORDER BY LCASE(STR(?allianceLabel)) LCASE(STR(?memberLabel)) ?role
"""
)
PLAIN_ROLE = "member"  # the role most members have: not repeated after every name


@dataclass(frozen=True)
class Member:
    iri: str
    label: str
    roles: tuple[str, ...]  # English role labels other than plain membership


@dataclass(frozen=True)
class AllianceEntry:
    iri: str
    label: str
    members: tuple[Member, ...]


@dataclass(frozen=True)
class Landing:
    coverage: Coverage
    alliances: tuple[AllianceEntry, ...]


def _value(term: object) -> str:
    return term.value if isinstance(term, ox.NamedNode | ox.Literal) else ""


def _role_label(role_iri: str, label: str) -> str:
    return label or role_iri.rsplit("/", 1)[-1].replace("-", " ")


def _list_alliances(store: ReadStore) -> tuple[AllianceEntry, ...]:
    """Alliances in label order, each with its members in label order and their roles beyond plain membership."""
    outcome = store.select(_ALLIANCES)
    labels: dict[str, str] = {}
    members: dict[str, dict[str, tuple[str, list[str]]]] = {}
    for row in outcome:
        alliance = _value(row["alliance"])
        labels.setdefault(alliance, _value(row["allianceLabel"]))
        by_member = members.setdefault(alliance, {})
        member = _value(row["member"])
        if not member:
            continue
        roles = by_member.setdefault(member, (_value(row["memberLabel"]) or member, []))[1]
        role = _role_label(_value(row["role"]), _value(row["roleLabel"]))
        if role.lower() != PLAIN_ROLE and role not in roles:
            roles.append(role)
    return tuple(
        AllianceEntry(
            iri,
            labels[iri],
            tuple(Member(member, label, tuple(roles)) for member, (label, roles) in members[iri].items()),
        )
        for iri in labels
    )


def _measure(store: ReadStore) -> Landing:
    return Landing(measure_coverage(store), _list_alliances(store))


LANDING_FIGURES = Derived("landing_figures", _measure)
