"""Synthetic curated data in the real format, at any size, for measuring the pipeline and the service.

The proportions follow the curated alliances: a handful of member cities and companies per alliance, an
agreement with signatories, a few pilots, events and themes, and every statement cited. Everything is
fictional and says so in its labels.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

__all__ = ["generate_data"]

_LANDS = ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15", "16"]
_THEMES = ["energy", "mobility", "health", "education", "security", "platforms", "environment", "administration"]
_ROLES = ["member", "initiator", "partner", "implementation-partner", "central-implementation-partner"]
_CONCEPTS: dict[str, list[str]] = {
    "role": _ROLES,
    "theme": _THEMES,
    "agreement-type": ["memorandum-of-understanding", "cooperation-agreement", "letter-of-intent"],
    "status": ["planned", "signed", "active", "ended", "unknown"],
    "alliance-kind": ["city-network", "public-private-alliance", "bilateral-partnership"],
    "organization-kind": ["company", "chamber", "research"],
    "event-kind": ["founding", "conference", "announcement", "award"],
    "source-kind": ["news-article", "press-release", "web-page"],
    "post-role": ["mayor", "managing-director"],
}
ALLIANCES_PER_FILE = 50


def generate_data(alliances: int, out: Path, seed: int = 1, progress: Callable[[int], None] = lambda _: None) -> int:
    """Write `alliances` synthetic alliances (and what they refer to) as YAML under `out`; returns files written."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    cities = max(3, alliances * 2)
    companies = max(2, alliances // 2)
    shared = {
        "sources": [
            {
                "key": "synthetic-register",
                "kind": "web-page",
                "title": "Synthetic register of places and firms",
                "url": "https://example.org/register",
            }
        ],
        "concepts": [
            {
                "scheme": scheme,
                "key": key,
                "de": f"{key} (de)",
                "en": key.replace("-", " ").capitalize(),
                "definition": f"Synthetic concept {key} of scheme {scheme}.",
            }
            for scheme, keys in _CONCEPTS.items()
            for key in keys
        ],
        "cities": [_city(n, rng) for n in range(cities)],
        "organizations": [_company(n) for n in range(companies)],
    }
    _write(out / "shared.yaml", shared)
    files = 1
    for start in range(0, alliances, ALLIANCES_PER_FILE):
        chunk: dict[str, list[Any]] = {"sources": [], "people": [], "alliances": [], "agreements": [], "pilots": []}
        for n in range(start, min(alliances, start + ALLIANCES_PER_FILE)):
            for section, records in _alliance(n, rng, cities, companies):
                chunk[section].append(records)
            progress(n + 1)
        _write(out / f"alliances-{start // ALLIANCES_PER_FILE:05d}.yaml", chunk)
        files += 1
    return files


def _write(file: Path, content: dict[str, Any]) -> None:
    file.write_text(
        "# Synthetic data for measurements; every name and fact in it is fictional.\n"
        + yaml.safe_dump(content, allow_unicode=True, sort_keys=False, width=120),
        encoding="utf-8",
    )


def _cite(source: str, what: str, rng: random.Random, date: str | None = None) -> list[dict[str, str]]:
    """One citation; `date` is the date its passage gives (or `published`), as a dated statement needs."""
    citation = {"source": source, "at": f"paragraph {rng.randint(1, 9)}", "claim": f"States that {what}."}
    if date is not None:
        citation["date"] = date
    return [citation]


def _city(n: int, rng: random.Random) -> dict[str, Any]:
    ags = f"{_LANDS[n % len(_LANDS)]}{rng.randint(0, 999999):06d}"
    return {
        "key": f"city-{n}",
        "name": f"Synthstadt {n}",
        "municipality": f"Stadt Synthstadt {n}",
        "ags": {"value": ags, "citations": _cite("synthetic-register", f"the AGS of city {n} is {ags}", rng)},
        "citations": _cite("synthetic-register", f"city {n} exists", rng),
    }


def _company(n: int) -> dict[str, Any]:
    return {
        "key": f"company-{n}",
        "kind": "company",
        "name": f"Synthetic Company {n}",
        "citations": [{"source": "synthetic-register", "at": f"row {n}", "claim": f"Company {n} exists."}],
    }


def _date(rng: random.Random) -> str:
    year = rng.randint(2010, 2024)
    precision = rng.random()
    if precision < 0.3:
        return str(year)
    month = rng.randint(1, 12)
    return f"{year}-{month:02d}" if precision < 0.6 else f"{year}-{month:02d}-{rng.randint(1, 28):02d}"


def _alliance(n: int, rng: random.Random, cities: int, companies: int) -> Iterator[tuple[str, dict[str, Any]]]:
    key = f"alliance-{n}"
    sources = [f"{key}-source-{i}" for i in range(3)]
    published = {source: _date(rng) for source in sources}
    for i, source in enumerate(sources):
        yield (
            "sources",
            {
                "key": source,
                "kind": _CONCEPTS["source-kind"][i],
                "title": f"Report {i} on alliance {n}",
                "published": published[source],
                "url": f"https://example.org/{key}/{i}",
            },
        )
    members = [f"city:city-{c}" for c in rng.sample(range(cities), rng.randint(2, 4))]
    members += [f"company:company-{c}" for c in rng.sample(range(companies), min(companies, rng.randint(1, 4)))]
    mayor = f"{key}-mayor"
    yield (
        "people",
        {
            "key": mayor,
            "name": f"Mayor of alliance {n}",
            "citations": _cite(sources[0], "the mayor is named", rng),
            "posts": [
                {
                    "title": {"de": "Bürgermeister", "en": "Mayor"},
                    "role": "mayor",
                    "in": members[0],
                    "citations": _cite(sources[0], "the mayor holds the office", rng),
                }
            ],
            "remarks": [
                {"summary": f"Welcomed the alliance {n}.", "citations": _cite(sources[1], "the mayor spoke", rng)}
            ],
        },
    )
    founded, signed = _date(rng), _date(rng)
    yield (
        "alliances",
        {
            "key": key,
            "name": {"de": f"Synthetische Allianz {n}", "en": f"Synthetic alliance {n}"},
            "kind": rng.choice(_CONCEPTS["alliance-kind"]),
            "founded": [
                {
                    "date": founded,
                    "summary": f"Alliance {n} was founded.",
                    "citations": _cite(sources[0], "the alliance was founded", rng, founded),
                }
            ],
            "goals": [
                {"en": f"Goal {g} of alliance {n}.", "citations": _cite(sources[1], f"goal {g}", rng)} for g in range(2)
            ],
            "themes": [
                {"theme": theme, "citations": _cite(sources[2], f"the alliance works on {theme}", rng)}
                for theme in rng.sample(_THEMES, 3)
            ],
            "members": [_member(member, sources, published, rng) for member in members],
            "events": [_event(key, n, e, sources[2], rng) for e in range(2)],
            "citations": _cite(sources[0], "the alliance exists", rng),
        },
    )
    yield (
        "agreements",
        {
            "key": f"{key}-agreement",
            "type": rng.choice(_CONCEPTS["agreement-type"]),
            "title": {"en": f"Agreement of alliance {n}"},
            "alliance": key,
            "parties": members[:3],
            "signed": {"date": signed},
            "duration": f"P{rng.randint(1, 5)}Y",
            "status": "signed",
            "signatories": [
                {"person": mayor, "on_behalf_of": members[0], "citations": _cite(sources[1], "the mayor signed", rng)}
            ],
            "scope": [{"en": f"Scope of agreement {n}.", "citations": _cite(sources[1], "the scope", rng)}],
            "citations": _cite(sources[1], "the agreement was signed", rng, signed),
        },
    )
    for p in range(3):
        start = _date(rng)
        yield (
            "pilots",
            {
                "key": f"{key}-pilot-{p}",
                "name": {"en": f"Pilot {p} of alliance {n}"},
                "alliance": key,
                "themes": [rng.choice(_THEMES)],
                "status": rng.choice(["planned", "active", "ended"]),
                "lead": rng.choice(members[-1:]),
                "start": start,
                "citations": _cite(sources[2], f"pilot {p} is planned", rng, start),
            },
        )


def _member(member: str, sources: list[str], published: dict[str, str], rng: random.Random) -> dict[str, Any]:
    """A membership whose start is stated, or (one in three) only bounded by its source's publication date."""
    source = rng.choice(sources)
    role = "member" if member.startswith("city:") else rng.choice(_ROLES[2:])
    if rng.random() < 1 / 3:
        return {
            "member": member,
            "role": role,
            "since": {"by": published[source]},
            "citations": _cite(source, f"{member} is a member", rng, "published"),
        }
    since = _date(rng)
    return {
        "member": member,
        "role": role,
        "since": since,
        "citations": _cite(source, f"{member} is a member", rng, since),
    }


def _event(key: str, n: int, e: int, source: str, rng: random.Random) -> dict[str, Any]:
    date = _date(rng)
    return {
        "key": f"{key}-event-{e}",
        "kind": rng.choice(["conference", "announcement", "award"]),
        "date": date,
        "summary": f"Event {e} of alliance {n}.",
        "figures": [{"measure": "partners", "value": rng.randint(5, 150)}],
        "citations": _cite(source, f"event {e} took place", rng, date),
    }
