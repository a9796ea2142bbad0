"""How spreadsheet names are brought to comparable forms before rapidfuzz scores them."""

from __future__ import annotations

import pytest

from api.reconcile.identifiers import country_code, normal_ags, normal_url, qid_of
from api.reconcile.matching import land_of
from api.reconcile.names import forms_of, place_qualifier, qualifiers_fit, short_place_name, spell


@pytest.mark.parametrize(
    ("written", "plain", "core"),
    [
        ("Stadt Dortmund", "dortmund", "dortmund"),
        ("Dortmund, Stadt", "dortmund", "dortmund"),
        ("Landeshauptstadt München", "muenchen", "muenchen"),
        ("Oberbürgermeister Ullrich Sierau", "ullrich sierau", "ullrich sierau"),
        ("Oberburgermeister Ullrich Sierau", "ullrich sierau", "ullrich sierau"),
        ("RÜSSELSHEIM AM MAIN", "ruesselsheim am main", "ruesselsheim am main"),
        ("Huawei Technologies Deutschland GmbH", "huawei technologies deutschland", "huawei"),
        ("ZTE Deutschland GmbH", "zte deutschland", "zte"),
        ("IHK zu Dortmund", "industrie handelskammer dortmund", "industrie handelskammer dortmund"),
        (
            "Industrie- und Handelskammer zu Dortmund",
            "industrie handelskammer dortmund",
            "industrie handelskammer dortmund",
        ),
        ("Bitkom e.V.", "bitkom", "bitkom"),
        ("Hamburg Port Authority AöR", "hamburg port authority", "hamburg port authority"),
        ("Hamburg Port Authority AoR", "hamburg port authority", "hamburg port authority"),
        ("L.E.D.", "led", "led"),
        ("Prof. Dr. Andreas Pinkwart", "andreas pinkwart", "andreas pinkwart"),
        ("Software AG", "software", "software"),  # a name that is all legal form keeps a word
        ("AG", "ag", "ag"),
    ],
)
def test_names_fold_to_their_plain_and_core_forms(written: str, plain: str, core: str) -> None:
    forms = forms_of(written)
    assert (forms.plain, forms.core) == (plain, core)


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        ("Moers", "Mörs", True),
        ("MÖNCHENGLADBACH", "Moenchengladbach", True),
        ("Straße", "Strasse", True),
        ("Mors", "Moers", False),  # a written-out umlaut is not dropped: one letter fewer is another name
        ("Sost", "Soest", False),
        ("Rauenheim", "Raunheim", False),
        ("Jenae", "Jena", False),
    ],
)
def test_umlauts_are_written_out_on_both_sides_never_dropped(one: str, other: str, same: bool) -> None:
    assert (spell(one) == spell(other)) is same


@pytest.mark.parametrize(
    ("one", "other", "fit"),
    [
        ("Freiburg i. Br.", "Freiburg im Breisgau", True),
        ("Frankfurt a. M.", "Frankfurt am Main", True),
        ("Mülheim a. d. Ruhr", "Mülheim an der Ruhr", True),
        ("Halle (Saale)", "Halle an der Saale", True),
        ("Rüsselsheim am Main, Stadt", "Rüsselsheim am Main", True),
        ("Menden (Sauerland), Stadt", "Menden (Sauerland)", True),
        ("Linz (Donau)", "Linz am Rhein", False),
        ("Wörth a. d. Isar", "Wörth am Rhein", False),
        ("Kirchheim b. Heidelberg", "Kirchheim bei München", False),
        ("Freiburg im Üechtland", "Freiburg im Breisgau", False),
    ],
)
def test_place_qualifiers_fit_when_they_name_one_river_or_region(one: str, other: str, fit: bool) -> None:
    mine, theirs = place_qualifier(one), place_qualifier(other)
    assert mine is not None and theirs is not None
    assert qualifiers_fit(mine, theirs) is fit


def test_a_name_without_river_or_region_has_no_qualifier() -> None:
    assert place_qualifier("Stadt Linz") is None and place_qualifier("Linz") is None


def test_a_place_is_also_called_without_its_river() -> None:
    assert short_place_name("Rüsselsheim am Main") == "Rüsselsheim"
    assert short_place_name("Freiburg im Breisgau") == "Freiburg"
    assert short_place_name("Dortmund") is None


def test_a_place_is_also_called_without_its_region_in_brackets_or_abbreviated() -> None:
    assert short_place_name("Menden (Sauerland)") == "Menden"
    assert short_place_name("Freiburg i. Br.") == "Freiburg"
    assert short_place_name("Frankfurt a.M.") == "Frankfurt"


def test_a_legal_form_is_set_aside_and_remembered() -> None:
    assert forms_of("Wolfsburg AG").legal_form and forms_of("Hamburg GmbH").legal_form
    assert not forms_of("Dortmund, Stadt").legal_form and not forms_of("Stadt Köln").legal_form


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("China", "CN"),
        ("CHN", "CN"),
        ("Volksrepublik China", "CN"),
        ("Germany", "DE"),
        ("Deutschland", "DE"),
        ("DEU", "DE"),
        ("de", "DE"),
        ("Frankreich", "FR"),
        ("Atlantis", None),
    ],
)
def test_countries_are_read_by_code_and_by_name_in_english_and_german(written: str, code: str | None) -> None:
    assert country_code(written) == code


def test_identifiers_are_read_as_spreadsheets_write_them() -> None:
    assert [normal_ags(v) for v in ("05913000", "5913000", "05 913 000", "591300", "Dortmund")] == [
        "05913000",
        "05913000",
        "05913000",
        None,
        None,
    ]
    # A spreadsheet that read the key as a decimal number: its integer, not its digits run together.
    assert normal_ags("5913000.0") == normal_ags("5913000.00") == "05913000"
    assert normal_url("www.dortmund.de") == normal_url("https://dortmund.de/") == "dortmund.de"
    assert normal_url("Dortmund") is None
    assert qid_of("q1295") == "Q1295"


@pytest.mark.parametrize(
    "written",
    ["North Rhine-Westphalia", "Nordrhein-Westfalen", "NRW", "NW", "DE-NW", "05", "5", "Land Nordrhein-Westfalen"],
)
def test_a_land_is_read_by_name_code_and_ags_prefix(written: str) -> None:
    known = {"nordrhein-westfalen", "north-rhine-westphalia", "bayern", "bavaria"}  # a Land's key and labels
    assert land_of(written, known) in {"nordrhein-westfalen", "north-rhine-westphalia"}
    assert land_of("Freistaat Bayern", known) == "bayern"
    assert land_of("Mittelerde", known) is None
