"""What a person reads about a model (explorer/app/naming.py), on the committed cards."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from explorer.app import naming
from explorer.contract import Card

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def cards() -> dict[str, Card]:
    found = {p.parent.name: Card.from_json(p.read_text()) for p in sorted((ROOT / "exported").glob("*/card.json"))}
    if not found:
        pytest.skip("no committed models in exported/")
    return found


def test_every_model_gets_a_distinct_title_without_jargon(cards):
    titles = naming.titles(cards)
    assert len(set(titles.values())) == len(cards), titles
    assert not [t for t in titles.values() if re.search(r"\bR\d\b", t)]
    if {"adult-cgan", "adult-cgan-balanced"} <= set(cards):
        assert titles["adult-cgan"] != titles["adult-cgan-balanced"]
        assert "balanced" in titles["adult-cgan-balanced"]
    if "adult-cgan-balanced-int8" in cards:  # a copy of the balanced model says so
        assert titles["adult-cgan-balanced-int8"] == titles["adult-cgan-balanced"] + ", int8"


def test_a_model_named_after_another_without_a_title_of_its_own_is_not_taken_for_its_copy():
    """adult-cgan-balanced-pairs is its own training run titled 'adult cGAN' like adult-cgan-balanced: it was given
    the balanced model's title and both fell back to their ids."""
    card = Card.from_json((ROOT / "exported" / "diabetes-gan" / "card.json").read_text())
    cards = {"x-cgan": card.replace(title="t"), "x-cgan-balanced": card.replace(title="t"),
             "x-cgan-balanced-pairs": card.replace(title="t"), "x-cgan-balanced-int8": card.replace(title="t, int8"),
             "x-cgan-balanced-pairs-int8": card.replace(title="t, int8")}
    assert naming.titles(cards) == {"x-cgan": "t", "x-cgan-balanced": "t, balanced",
                                    "x-cgan-balanced-pairs": "t, balanced pairs",
                                    "x-cgan-balanced-int8": "t, balanced, int8",
                                    "x-cgan-balanced-pairs-int8": "t, balanced pairs, int8"}


def test_titles_fall_back_to_the_id_when_words_do_not_separate_them():
    card = Card.from_json((ROOT / "exported" / "diabetes-gan" / "card.json").read_text())
    cards = {"a-gan": card.replace(title="t"), "b-gan": card.replace(title="t")}
    titles = naming.titles(cards)
    assert len(set(titles.values())) == 2


def test_condition_text_is_words_never_an_empty_set(cards):
    for card in cards.values():
        text = naming.condition_text(card)
        assert "{" not in text and "∈" not in text and text, (card["id"], text)
    kinds = {naming.kind(c) for c in cards.values()}
    assert "unconditional" in kinds


def test_best_follows_each_metric_direction():
    assert naming.best("detection_rf_auc", [0.62, 0.49, 0.7]) == 0.49  # closest to chance
    assert naming.best("detection_lr_auc", [0.47, 0.51]) == 0.51
    assert naming.best("efficacy_ratio", [0.9, 0.98]) == 0.98
    assert naming.best("frechet_vs_reference", [4.0, 2.9, float("nan")]) == 2.9
    assert naming.best("efficacy_ratio", [0.9]) is None  # one model: nothing to mark
    assert naming.header("efficacy_ratio").endswith("↑") and naming.header("detection_rf_auc").endswith("↓")


def test_download_names_carry_model_condition_and_seed_safely():
    name = naming.file_name("adult-cgan", "income >50K", "n10000", "seed0", ext="csv")
    assert name == "adult-cgan-income-gt50K-n10000-seed0.csv"
    assert naming.file_name("m", "class <=50K:0.7,>50K:0.3", ext="png") == "m-class-le50K-0.7-gt50K-0.3.png"


def test_csv_writes_integer_columns_as_integers(cards):
    from explorer.runtime.frames import typed_frame
    from explorer.runtime.models import Model
    model_id = next(i for i, c in cards.items() if c.tabular and any(col.integer for col in c.numeric_columns))
    model = Model.load(model_id, ROOT / "exported")
    rows = model.sample(20, seed=3)
    text = typed_frame(model.card, rows).to_csv(index=False)
    whole = next(c.name for c in model.card.numeric_columns if c.integer)
    import io

    import pandas as pd
    back = pd.read_csv(io.StringIO(text))
    assert back[whole].dtype.kind == "i" and ".0," not in text.splitlines()[1] + ","
    assert (back[whole] == rows[whole]).all()
