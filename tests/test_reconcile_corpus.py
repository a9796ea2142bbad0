"""Spreadsheet names against the curated graph over real HTTP: /reconcile meets its precision and recall goals."""

from __future__ import annotations

import httpx

from benchmarks.reconcile_quality import evaluate, load_corpus


def test_the_corpus_is_large_and_holds_names_that_must_not_match() -> None:
    cases = load_corpus()
    assert len(cases) >= 50
    assert sum(case.expect is None for case in cases) >= 10
    assert {case.type for case in cases} >= {"city", "company", "organization", "alliance", "person", None}


def test_spreadsheet_names_are_matched_precisely_and_found_in_the_top_three(client: httpx.Client) -> None:
    report = evaluate(client, load_corpus())
    assert not report.missing, f"the corpus names things the data no longer has: {report.missing}"
    assert report.precision >= 0.95, report.misses
    assert report.recall_top3 >= 0.90, report.misses
