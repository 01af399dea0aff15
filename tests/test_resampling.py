"""The research script behind docs/peer-protocol.md's resampling rows: it keeps one row per group of
candidates, drawn in proportion to the classifier's odds, reproducibly."""
from __future__ import annotations

import numpy as np
import pytest

from experiments.ratio_resampling import chosen
from explorer.runtime.models import DEFAULT_ROOT, Model


@pytest.fixture(scope="module")
def model():
    if not (DEFAULT_ROOT / "adult-cgan-balanced-calibrated" / "card.json").is_file():
        pytest.skip("the committed adult-cgan-balanced-calibrated is missing from exported/")
    return Model.load("adult-cgan-balanced-calibrated", DEFAULT_ROOT)


def test_rows_follow_the_odds_and_keep_their_latents_and_labels(model):
    def odds(frame):  # every weight on women: a group with one keeps one
        return np.where(frame["sex"].to_numpy() == "Female", 1e9, 1e-9)

    rows, z, labels = chosen(model, odds, 300, 4, seed=3)
    candidates = model.sample(1200, seed=3)["sex"].to_numpy().reshape(300, 4)
    has_woman = (candidates == "Female").any(1)
    assert (rows["sex"].to_numpy()[has_woman] == "Female").all()
    np.testing.assert_array_equal(model.columns(z, labels)["age"], rows["age"].to_numpy())
    again, _, _ = chosen(model, odds, 300, 4, seed=3)
    assert rows.equals(again)


def test_one_candidate_is_the_models_own_sample(model):
    rows, _, _ = chosen(model, lambda frame: np.ones(len(frame)), 50, 1, seed=2)
    assert rows.equals(model.sample(50, seed=2))
