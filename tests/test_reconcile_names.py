"""How spreadsheet names are brought to comparable forms before rapidfuzz scores them."""

from __future__ import annotations

import pytest

from api.reconcile.names import forms_of, short_place_name


@pytest.mark.parametrize(
    ("written", "plain", "core"),
    [
        ("Stadt Dortmund", "dortmund", "dortmund"),
        ("Dortmund, Stadt", "dortmund", "dortmund"),
        ("Landeshauptstadt München", "munchen", "munchen"),
        ("RÜSSELSHEIM AM MAIN", "russelsheim am main", "russelsheim am main"),
        ("Huawei Technologies Deutschland GmbH", "huawei technologies deutschland", "huawei"),
        ("ZTE Deutschland GmbH", "zte deutschland", "zte"),
        ("IHK zu Dortmund", "industrie handelskammer dortmund", "industrie handelskammer dortmund"),
        (
            "Industrie- und Handelskammer zu Dortmund",
            "industrie handelskammer dortmund",
            "industrie handelskammer dortmund",
        ),
        ("Bitkom e.V.", "bitkom", "bitkom"),
        ("L.E.D.", "led", "led"),
        ("Prof. Dr. Andreas Pinkwart", "andreas pinkwart", "andreas pinkwart"),
        ("Software AG", "software", "software"),  # a name that is all legal form keeps a word
        ("AG", "ag", "ag"),
    ],
)
def test_names_fold_to_their_plain_and_core_forms(written: str, plain: str, core: str) -> None:
    forms = forms_of(written)
    assert (forms.plain, forms.core) == (plain, core)


def test_a_place_is_also_called_without_its_river() -> None:
    assert short_place_name("Rüsselsheim am Main") == "Rüsselsheim"
    assert short_place_name("Freiburg im Breisgau") == "Freiburg"
    assert short_place_name("Dortmund") is None
