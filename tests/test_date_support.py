"""A statement's date rests on a citation: a passage that states it, or a source whose publication date bounds it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from api.cli import main
from graph.pipeline.build import build_triples
from graph.pipeline.load import LoadError, load_records
from graph.vocab import SCK

MINI = Path(__file__).parent / "fixtures" / "mini"
NS = "https://w3id.org/smartcity-kg/"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(MINI, folder)
    return folder


def _replace(file: Path, old: str, new: str) -> int:
    """Replace `old` once; the 1-based line where it stood."""
    text = file.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"fixture changed: {old!r}"
    file.write_text(text.replace(old, new), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


def _problems(data: Path) -> list[str]:
    with pytest.raises(LoadError) as caught:
        load_records(data)
    return [str(problem) for problem in caught.value.problems]


def test_validate_refuses_a_date_no_citation_states(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The membership keeps its month, but its only passage no longer gives it: a date from nowhere.
    _replace(
        data / "alliance.yaml",
        'claim: Alphastadt has been a member since December 2016., date: "2016-12"}',
        "claim: Alphastadt is a member.}",
    )
    line = _replace(data / "alliance.yaml", '        since: "2016-12"\n', '        since: "2016-12"\n')
    assert main(["validate", "--data", str(data)]) == 1
    err = capsys.readouterr().err
    assert f"alliance.yaml:{line}: alliances[0].members[0].since:" in err
    assert "the membership of city:alpha (member) is dated '2016-12'" in err
    assert "none of its citations gives that date" in err
    assert 'date: "2016-12"' in err and "by:" in err and "remove the date" in err  # what to do
    assert "Traceback" not in err


def test_build_refuses_it_too_and_publishes_nothing(data: Path, tmp_path: Path) -> None:
    _replace(
        data / "alliance.yaml",
        'claim: Alphastadt and ACME signed an MoU on 8 June 2017., date: "2017-06-08"}',
        "claim: Alphastadt and ACME signed an MoU.}",
    )
    store = tmp_path / "store"
    assert main(["build", "--data", str(data), "--store", str(store)]) == 1
    assert not (store / "current").exists()


def test_a_bound_needs_a_source_published_exactly_then(data: Path) -> None:
    _replace(data / "alliance.yaml", 'since: {by: "2017-06-12"}', 'since: {by: "2017-06"}')
    problems = _problems(data)
    assert len(problems) == 2, problems
    assert "the membership of company:acme (partner) is bounded by '2017-06'" in problems[0]
    assert "date: published" in problems[0]
    assert "report-a was published '2017-06-12'" in problems[1] and '{by: "2017-06-12"}' in problems[1]


def test_published_on_a_source_without_a_publication_date_is_refused(data: Path) -> None:
    _replace(
        data / "alliance.yaml",
        "claim: ACME partners with the alliance., date: published}",
        "claim: ACME partners with the alliance., date: published}\n"
        "          - {source: report-b, at: paragraph 1, claim: Confirms ACME., date: published}",
    )
    (problem,) = _problems(data)
    assert "citations[1].date" in problem and "source 'report-b' has no `published` date" in problem


def test_a_citation_date_the_statement_does_not_have_is_refused(data: Path) -> None:
    # The passage says 2015, the statement says December 2016: one of the two is wrong.
    _replace(
        data / "alliance.yaml",
        'claim: The alliance was formed in December 2016., date: "2016-12"}',
        'claim: The alliance was formed in December 2016., date: ["2016-12", "2015"]}',
    )
    (problem,) = _problems(data)
    assert "founded[0].citations[0].date" in problem and "gives '2015'" in problem


def test_a_citation_date_on_an_undated_statement_is_refused(data: Path) -> None:
    _replace(data / "alliance.yaml", "claim: Betadorf is a member.}", 'claim: Betadorf is a member., date: "2016"}')
    (problem,) = _problems(data)
    assert "members[1].citations[0].date" in problem and "has no date" in problem


@pytest.mark.parametrize("since", ['{date: "2016-12", by: "2017-06-12"}', "{wording: im Dezember}"])
def test_a_date_is_stated_or_bounded_exactly_once(data: Path, since: str) -> None:
    _replace(data / "alliance.yaml", '        since: "2016-12"\n', f"        since: {since}\n")
    (problem,) = _problems(data)
    assert "members[0].since" in problem and "either the stated date (date:) or the latest bound (by:)" in problem


def test_a_bound_sets_only_the_latest_day_in_the_graph() -> None:
    triples = set(build_triples(load_records(MINI), NS))
    bounded = URIRef(f"{NS}id/membership/alpha-beta-acme-partner")
    stated = URIRef(f"{NS}id/membership/alpha-beta-alpha-member")
    assert (bounded, SCK.startNoLaterThan, Literal("2017-06-12", datatype=XSD.date)) in triples
    assert (bounded, SCK.startLatest, Literal("2017-06-12", datatype=XSD.date)) in triples
    assert not {p for s, p, _ in triples if s == bounded} & {SCK.startDate, SCK.startEarliest}
    assert (stated, SCK.startDate, Literal("2016-12", datatype=XSD.gYearMonth)) in triples
    assert (stated, SCK.startEarliest, Literal("2016-12-01", datatype=XSD.date)) in triples
    # Each citation says what it supports: the date its passage gives, or the bound by its publication.
    assert (URIRef(f"{stated}#source-report-a"), SCK.statesDate, Literal("2016-12", datatype=XSD.gYearMonth)) in triples
    assert (URIRef(f"{bounded}#source-report-a"), SCK.boundedByPublication, Literal(True)) in triples


def test_the_curated_data_passes() -> None:
    load_records(Path(__file__).resolve().parent.parent / "data")


def test_a_more_precise_passage_supports_a_coarser_date_not_the_reverse(data: Path) -> None:
    # The passage gives 9 December 2016: that supports "December 2016" ...
    _replace(
        data / "alliance.yaml",
        'claim: Alphastadt has been a member since December 2016., date: "2016-12"}',
        'claim: Alphastadt joined on 9 December 2016., date: "2016-12-09"}',
    )
    load_records(data)
    # ... but a passage giving only the year does not support the month.
    _replace(data / "alliance.yaml", 'date: "2016-12-09"}', 'date: "2016"}')
    problems = _problems(data)
    assert any("members[0].since" in p and "none of its citations gives that date" in p for p in problems), problems


def test_an_end_after_a_bounded_start_is_no_contradiction(data: Path) -> None:
    # "Partner no later than 12 June 2017, until March 2017" is consistent: the start may lie well before March.
    _replace(
        data / "alliance.yaml",
        "claim: ACME partners with the alliance., date: published}",
        "claim: ACME partners with the alliance., date: published}\n"
        '          - {source: report-b, at: paragraph 2, claim: ACME left in March 2017., date: "2017-03"}',
    )
    _replace(data / "alliance.yaml", 'since: {by: "2017-06-12"}', 'since: {by: "2017-06-12"}\n        until: "2017-03"')
    load_records(data)


def test_an_end_before_a_stated_start_is_refused(data: Path) -> None:
    _replace(
        data / "alliance.yaml",
        'claim: Alphastadt has been a member since December 2016., date: "2016-12"}',
        'claim: Alphastadt has been a member since December 2016., date: ["2016-12", "2016-11"]}',
    )
    ended = '        since: "2016-12"\n        until: "2016-11"\n'
    _replace(data / "alliance.yaml", '        since: "2016-12"\n', ended)
    (problem,) = _problems(data)
    assert "members[0].until" in problem and "ends (2016-11) before it starts (2016-12)" in problem


def test_the_advice_for_an_unsupported_founding_is_one_a_curator_can_follow(data: Path) -> None:
    # A founding's date is required and cannot be dropped: the way out is a citation, a bound, or no founding entry.
    _replace(
        data / "alliance.yaml",
        'claim: The alliance was formed in December 2016., date: "2016-12"}',
        "claim: The alliance was formed.}",
    )
    (problem,) = _problems(data)
    assert "founded[0].date" in problem and "the founding is dated '2016-12'" in problem
    assert 'date: "2016-12"' in problem and "by:" in problem
    assert "remove the founding entry" in problem and "remove the date" not in problem
