"""docs/coverage.md is generated from the graph, and its figures agree with the curated records."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from graph.cli import main
from graph.coverage import Coverage, measure_coverage
from graph.pipeline.load import Records, load_records
from graph.pipeline.records import DateSpec
from graph.store import open_embedded

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def records() -> Records:
    return load_records(ROOT / "data")


@pytest.fixture(scope="module")
def coverage(published_store: Path) -> Coverage:
    return measure_coverage(open_embedded(published_store))


def test_counts_match_the_records(coverage: Coverage, records: Records) -> None:
    companies = sum(1 for org in records.organizations.values() if org.kind == "company")
    assert coverage.counts["Alliance"] == len(records.alliances)
    assert coverage.counts["Agreement"] == len(records.agreements)
    assert coverage.counts["Source"] == len(records.sources)
    assert coverage.counts["Company"] == companies
    assert coverage.counts["Conflict"] == len(records.conflicts)
    assert coverage.counts["Membership"] == sum(len(a.members) for a in records.alliances.values())


def _year(specs: list[DateSpec]) -> str:
    """The earliest stated year; else the earliest bound as "by YYYY"; else unknown."""
    stated = [spec.partial.earliest.year for spec in specs if spec.stated]
    bounds = [spec.partial.latest.year for spec in specs if not spec.stated]
    return str(min(stated)) if stated else f"by {min(bounds)}" if bounds else "unknown"


def test_years_match_the_records(coverage: Coverage, records: Records) -> None:
    founded = Counter(_year([f.date for f in a.founded]) for a in records.alliances.values())
    signed = Counter(_year([a.signed] if a.signed else []) for a in records.agreements.values())
    assert dict(coverage.alliances_by_year) == dict(founded)
    assert dict(coverage.agreements_by_year) == dict(signed)


def test_stated_bounded_and_dropped_dates_match_the_records(coverage: Coverage, records: Records) -> None:
    what = {"since": "start", "start": "start", "until": "end", "end": "end", "signed": "signing", "date": "event"}
    expected: Counter[tuple[str, str]] = Counter()
    statements = [
        *records.agreements.values(),
        *records.pilots.values(),
        *(post for person in records.people.values() for post in person.posts),
        *(
            item
            for alliance in records.alliances.values()
            for item in (*alliance.members, *alliance.events, *alliance.founded, *alliance.period)
        ),
    ]
    for statement in statements:
        for name, kind in what.items():
            spec = getattr(statement, name, None)
            if isinstance(spec, DateSpec):
                expected[kind, "stated" if spec.stated else "bound"] += 1
        for item in getattr(statement, "dropped", []):
            expected[what[item.field], "dropped"] += 1
    assert dict(coverage.dates) == dict(expected)
    assert expected[("start", "stated")] and expected[("event", "stated")]


def test_vendors_and_conflicts_match_the_records(coverage: Coverage, records: Records) -> None:
    in_alliances = Counter(
        key
        for alliance in records.alliances.values()
        for key in {m.member.split(":", 1)[1] for m in alliance.members if m.member.startswith("company:")}
    )
    vendors = {iri.rsplit("/", 1)[1]: alliances for iri, _, alliances, _ in coverage.vendors}
    assert {k: v for k, v in vendors.items() if v} == dict(in_alliances)
    assert sorted(iri.rsplit("/", 1)[1] for iri, _, _ in coverage.conflicts) == sorted(records.conflicts)


def test_single_source_share_is_consistent(coverage: Coverage, published_store: Path) -> None:
    single = (ROOT / "queries" / "09-single-source-statements.rq").read_text(encoding="utf-8")
    rows = list(open_embedded(published_store).query(single))  # type: ignore[arg-type]
    assert coverage.single_source == len(rows)
    assert 0 < coverage.single_source <= coverage.statements


def test_committed_report_is_current(published_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "coverage.md"
    assert main(["coverage", "--store", str(published_store), "-o", str(out)]) == 0

    def body(text: str) -> list[str]:
        return [line for line in text.splitlines() if "data as of" not in line]

    assert body(out.read_text(encoding="utf-8")) == body((ROOT / "docs" / "coverage.md").read_text(encoding="utf-8")), (
        "docs/coverage.md is out of date: run `smartcity-kg build && smartcity-kg coverage -o docs/coverage.md`"
    )
