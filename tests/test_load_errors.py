"""A curator's mistakes are reported with file, line and field, all in one run, and publish nothing."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from api.cli import main
from graph.pipeline.load import LoadError, load_records
from graph.published import current_build

MINI = Path(__file__).parent / "fixtures" / "mini"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(MINI, folder)
    return folder


def _replace(file: Path, old: str, new: str) -> int:
    """Replace the first `old` in `file`; returns the 1-based line where the new text starts."""
    text = file.read_text(encoding="utf-8")
    assert old in text, f"fixture changed: {old!r} not in {file.name}"
    at = text.index(old)
    file.write_text(text.replace(old, new, 1), encoding="utf-8")
    return text[:at].count("\n") + 1


# (file, old text, new text, expected field path, words expected in the message)
MISTAKES = [
    (
        "alliance.yaml",
        "      - member: city:beta",
        "      - member: city:gamma",
        "alliances[0].members[1].member",
        "names no curated city",
    ),
    (
        "alliance.yaml",
        'since: "2016-12"',
        'since: "2017-02-30"',
        "alliances[0].members[0].since.date",
        "does not exist",
    ),
    ("shared.yaml", 'value: "05913000"', 'value: "0591300"', "cities[0].ags.value", "does not have the expected form"),
    (
        "alliance.yaml",
        "source: report-a, at: paragraph 2, claim: ACME",
        "source: report-z, at: paragraph 2, claim: ACME",
        "alliances[0].members[2].citations[0].source",
        "unknown source",
    ),
    (
        "alliance.yaml",
        "    kind: city-network",
        "    kind: city-network\n    colour: red",
        "alliances[0].colour",
        "unknown field",
    ),
    ("alliance.yaml", "        role: partner", "        role: sponsor", "alliances[0].members[2].role", "unknown role"),
    (
        "alliance.yaml",
        '    signed: {date: "2017-06-08"}',
        '    signed: {date: "June 2017"}',
        "agreements[0].signed.date",
        "must be a year",
    ),
    # Digits of other scripts are digits to Unicode, not to the formats the graph publishes.
    (
        "alliance.yaml",
        'since: "2016-12"',
        'since: "\uff12\uff10\uff11\uff16-\u0661\u0662"',
        "alliances[0].members[0].since.date",
        "must be a year",
    ),
    (
        "alliance.yaml",
        '    signed: {date: "2017-06-08"}',
        '    signed: {date: "2017-\u0660\u0666-08"}',
        "agreements[0].signed.date",
        "must be a year",
    ),
    (
        "shared.yaml",
        'value: "05913000"',
        'value: "\u0660\u0665\u0669\u0661\u0663\u0660\u0660\u0660"',
        "cities[0].ags.value",
        "does not have the expected form",
    ),
]


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m[3] for m in MISTAKES])
def test_mistake_is_reported_where_it_stands(data: Path, mistake: tuple[str, str, str, str, str]) -> None:
    file, old, new, field, words = mistake
    line = _replace(data / file, old, new)
    with pytest.raises(LoadError) as caught:
        load_records(data)
    problems = caught.value.problems
    assert [p.field for p in problems] == [field], "\n".join(map(str, problems))
    problem = problems[0]
    assert problem.file.endswith(file)
    assert problem.line == line + new.count("\n")
    assert words in problem.message


def test_broken_yaml_names_the_line(data: Path) -> None:
    line = _replace(data / "alliance.yaml", "    kind: city-network", "    kind: [city-network")
    with pytest.raises(LoadError) as caught:
        load_records(data)
    (problem,) = caught.value.problems
    assert problem.file.endswith("alliance.yaml")
    assert problem.line >= line
    assert "not valid YAML" in problem.message


def test_duplicate_key_names_both_places(data: Path) -> None:
    (data / "zz-more.yaml").write_text(  # read after shared.yaml
        "organizations:\n  - key: acme\n    kind: company\n    name: ACME again\n"
        "    citations: [{source: report-a, at: p. 9, claim: Names ACME again.}]\n",
        encoding="utf-8",
    )
    with pytest.raises(LoadError) as caught:
        load_records(data)
    (problem,) = caught.value.problems
    assert problem.file.endswith("zz-more.yaml") and problem.line == 2
    assert "duplicate key 'acme'" in problem.message and "shared.yaml:" in problem.message


def test_missing_citations_is_required(data: Path) -> None:
    citation = "    citations:\n      - {source: report-a, at: paragraph 2, claim: Names ACME as partner.}\n"
    _replace(data / "shared.yaml", citation, "")
    with pytest.raises(LoadError) as caught:
        load_records(data)
    assert [(p.field, p.message) for p in caught.value.problems] == [
        ("organizations[0].citations", "required field is missing")
    ]


def test_every_problem_is_reported_in_one_run(data: Path) -> None:
    _replace(data / "alliance.yaml", "      - member: city:beta", "      - member: city:gamma")
    _replace(data / "shared.yaml", 'value: "05913000"', 'value: "123"')
    _replace(data / "alliance.yaml", "        role: partner", "        role: sponsor")
    with pytest.raises(LoadError) as caught:
        load_records(data)
    assert len(caught.value.problems) == 3


def test_two_statements_that_would_share_an_iri_are_refused(data: Path) -> None:
    text = (data / "alliance.yaml").read_text(encoding="utf-8")
    member = text[text.index("      - member: city:beta") : text.index("      - member: company:acme")]
    (data / "alliance.yaml").write_text(text.replace(member, member + member), encoding="utf-8")
    with pytest.raises(LoadError) as caught:
        load_records(data)
    (problem,) = caught.value.problems
    assert "same IRI (membership/alpha-beta-beta-member)" in problem.message and "key:" in problem.message


def test_invalid_data_leaves_the_published_store_untouched(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    assert main(["build", "--data", str(data), "--store", str(store)]) == 0
    before, manifest = current_build(store)
    dumps = {p.name: p.read_bytes() for p in (before / "dumps").iterdir()}
    _replace(data / "alliance.yaml", "      - member: city:beta", "      - member: city:gamma")
    capsys.readouterr()
    assert main(["build", "--data", str(data), "--store", str(store)]) == 1
    err = capsys.readouterr().err
    assert "alliance.yaml:" in err and "names no curated city" in err and "Traceback" not in err
    after, manifest_after = current_build(store)
    assert (after, manifest_after) == (before, manifest)
    assert {p.name: p.read_bytes() for p in (after / "dumps").iterdir()} == dumps


def test_invalid_data_leaves_no_new_store_folder_behind(data: Path, tmp_path: Path) -> None:
    _replace(data / "alliance.yaml", "      - member: city:beta", "      - member: city:gamma")
    store = tmp_path / "new" / "store"
    assert main(["build", "--data", str(data), "--store", str(store)]) == 1
    assert not (tmp_path / "new").exists()


def test_validate_exit_status(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--data", str(data)]) == 0
    assert "conforms" in capsys.readouterr().err
    _replace(data / "shared.yaml", 'value: "05913000"', 'value: "123"')
    assert main(["validate", "--data", str(data)]) == 1
    assert "cities[0].ags.value" in capsys.readouterr().err


def test_a_retired_record_is_checked_field_by_field(data: Path) -> None:
    # Its reason is prose, not a `kind:key`: only `key` and `replaced_by` are looked up.
    retired = data / "zz-retired.yaml"
    retired.write_text(
        "retired:\n  - type: event\n    key: alpha-beta-founding-2015\n"
        "    reason: The report gives 2015 for something else.\n",
        encoding="utf-8",
    )
    load_records(data)
    retired.write_text(retired.read_text(encoding="utf-8") + "    replaced_by: company:nobody\n", encoding="utf-8")
    with pytest.raises(LoadError) as caught:
        load_records(data)
    (problem,) = caught.value.problems
    assert problem.field == "retired[0].replaced_by" and "names nothing that exists" in problem.message


LAUGHS = (
    "\n".join(
        [
            "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]",
            *(f"{chr(98 + n)}: &{chr(98 + n)} [{', '.join([f'*{chr(97 + n)}'] * 9)}]" for n in range(8)),
            "organizations: *i",
        ]
    )
    + "\n"
)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("organizations:\n" + "- " * 600 + "x\n", 2, "nest more than 64 deep"),
        ("organizations: " + "[" * 600 + "]" * 600 + "\n", 1, "nest more than 64 deep"),
        ("sources:\n  - key: s\n    size: " + "7" * 5000 + "\n", 3, "cannot be read"),
    ],
    ids=["deep block lists", "deep flow lists", "integer of 5000 digits"],
)
def test_yaml_beyond_what_can_be_read_is_a_located_error(data: Path, text: str, line: int, message: str) -> None:
    (data / "zz-odd.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(LoadError) as caught:
        load_records(data)
    (problem,) = caught.value.problems
    assert problem.file.endswith("zz-odd.yaml") and problem.line == line
    assert message in problem.message


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (LAUGHS, 2),  # nested aliases: 9**9 strings once expanded (tens of GB)
        ("organizations: &x [*x]\n", 1),  # a recursive alias: expansion never ends
        ("sources:\n  - &src {key: s}\norganizations:\n  - *src\n", 4),
    ],
    ids=["billion laughs", "recursive", "plain alias"],
)
def test_yaml_aliases_are_refused_where_they_stand(data: Path, text: str, line: int) -> None:
    (data / "zz-aliases.yaml").write_text(text, encoding="utf-8")
    began = time.process_time()
    with pytest.raises(LoadError) as caught:
        load_records(data)
    assert time.process_time() - began < 5
    (problem,) = caught.value.problems
    assert problem.file.endswith("zz-aliases.yaml") and problem.line == line
    assert "aliases" in problem.message


def test_messages_show_patterns_and_data_as_written(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Square brackets are console markup to the terminal printer: a message must not lose them.
    _replace(data / "alliance.yaml", "  - key: alpha-beta", "  - key: Alpha_[bold]Beta")
    assert main(["validate", "--data", str(data)]) == 1
    said = capsys.readouterr().err
    assert "^[a-z0-9]+(-[a-z0-9]+)*$" in said, said
    assert "Alpha_[bold]Beta" in said, said
