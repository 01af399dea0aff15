"""Bad input: properties of the sampling API over generated inputs (hypothesis), and URLs a user can
type that test_app.py does not cover (infinite, negative or NaN class weights, a non-numeric seed,
an absurd row count), each answered with a message while the page still draws and the session
keeps working. Sampling needs only the committed models (or the quick ones)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from explorer.runtime.models import MAX_ROWS, Model, check_n, label_counts

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "streamlit_app.py")
CLASSES = ["a", "b", "c"]
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def models(request) -> Path:
    if (ROOT / "exported" / "diabetes-cgan" / "card.json").exists():
        return ROOT / "exported"
    return request.getfixturevalue("quick_models")


@pytest.fixture(scope="module")
def cgan(models) -> Model:
    return Model.load("diabetes-cgan", models)


# ---------------------------------------------------------------- check_n / label_counts
anything = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                     st.text(max_size=12), st.integers(1, 10**6).map(str), st.floats(1, 1e6).map(repr),
                     st.lists(st.integers(), max_size=2))


@given(value=anything, limit=st.integers(1, MAX_ROWS))
@PROPERTY
def test_check_n_returns_a_whole_count_in_range_or_says_why(value, limit):
    try:
        n = check_n(value, limit=limit)
    except ValueError as exc:
        assert "rows" in str(exc)
        return
    assert type(n) is int and 1 <= n <= limit
    assert not isinstance(value, bool) and float(value) == n


weights = st.dictionaries(st.sampled_from(CLASSES), st.floats(0, 1e308), min_size=1)


@given(n=st.integers(0, 10**7), mix=weights)
@PROPERTY
def test_label_counts_are_exact_shares(n, mix):
    assume(sum(1 for w in mix.values() if w > 0))
    counts = label_counts(n, mix, CLASSES)
    assert list(counts) == CLASSES and sum(counts.values()) == n
    scale = max(mix.values())
    total = sum(w / scale for w in mix.values())
    for c in CLASSES:
        share = n * (mix.get(c, 0.0) / scale) / total
        assert counts[c] >= 0 and abs(counts[c] - share) < 1 + 1e-6 * n


@given(n=st.integers(0, 1000), mix=st.dictionaries(st.sampled_from(CLASSES + ["zzz"]),
                                                    st.floats(allow_nan=True, allow_infinity=True), min_size=1))
@PROPERTY
def test_label_counts_refuse_bad_weights_with_a_message(n, mix):
    bad = "zzz" in mix or any(not math.isfinite(w) or w < 0 for w in mix.values()) or not any(
        w > 0 for w in mix.values())
    if bad:
        with pytest.raises(ValueError, match="class"):
            label_counts(n, mix, CLASSES)
    else:
        assert sum(label_counts(n, mix, CLASSES).values()) == n


# ---------------------------------------------------------------- Model.sample
@given(n=st.integers(1, 400), seed=st.integers(0, 2**63 - 1),
       mix=st.one_of(st.none(), st.sampled_from(["tested_negative", "tested_positive"]),
                     st.fixed_dictionaries({"tested_negative": st.floats(0, 10), "tested_positive": st.floats(0.01, 10)})))
@PROPERTY
def test_sample_follows_the_card_and_the_seed(cgan, n, seed, mix):
    rows = cgan.sample(n, seed=seed, mix=mix)
    card = cgan.card
    assert len(rows) == n and list(rows.columns) == card.table_columns
    for column in card.columns:
        values = rows[column.name]
        if column.numeric:
            assert values.notna().all() and values.between(column.min, column.max).all(), column.name
        else:
            assert set(values) <= set(column.categories), column.name
    target = cgan.condition.name
    expected = label_counts(n, {mix: 1.0} if isinstance(mix, str) else mix or cgan.condition.train_share, cgan.classes)
    assert rows[target].value_counts().reindex(cgan.classes, fill_value=0).to_dict() == expected
    pd.testing.assert_frame_equal(rows, cgan.sample(n, seed=seed, mix=mix))


@pytest.mark.parametrize("n", [0, -1, 2.5, float("nan"), float("inf"), "ten", None, True, MAX_ROWS + 1])
def test_sample_refuses_bad_counts(cgan, n):
    with pytest.raises(ValueError, match="rows"):
        cgan.sample(n)


@pytest.mark.parametrize("seed", [-1, 1.5, "7", None, True])
def test_sample_refuses_bad_seeds(cgan, seed):
    with pytest.raises(ValueError, match="seed"):
        cgan.sample(10, seed=seed)


@pytest.mark.parametrize("mix", ["maybe", {"tested_positive": float("nan")}, {"tested_positive": -1.0},
                                 {"tested_positive": 0.0, "tested_negative": 0.0}, {"nope": 1.0}])
def test_sample_refuses_bad_conditions(cgan, mix):
    with pytest.raises(ValueError, match="class"):
        cgan.sample(10, mix=mix)


def test_huge_but_allowed_request_is_batched(cgan):
    rows = cgan.sample(40_000, seed=1, mix="tested_positive")  # more than one onnxruntime batch
    assert len(rows) == 40_000 and np.isfinite(rows.select_dtypes("number").to_numpy()).all()


# ---------------------------------------------------------------- the same through the app's URL
def open_page(models, monkeypatch, page: str, **params) -> AppTest:
    monkeypatch.setenv("GAN_EXPLORER_MODELS", str(models))
    monkeypatch.setenv("GAN_EXPLORER_RAISE", "1")
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page(f"app_pages/{page}.py")
    at.query_params.update({k: str(v) for k, v in params.items()})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def errors(at) -> str:
    return " | ".join(str(e.value) for e in at.error)


@pytest.mark.parametrize("condition, message", [("tested_positive:inf", "finite"), ("tested_positive:-2", "finite"),
                                                ("tested_positive:nan,tested_negative:1", "finite"),
                                                ("tested_positive:1e999", "finite"), ("%00", "unknown class")])
def test_condition_url_with_bad_weights_says_so_and_still_samples(models, monkeypatch, condition, message):
    at = open_page(models, monkeypatch, "condition", model="diabetes-cgan", condition=condition, n=200)
    assert message in errors(at)
    assert len(at.dataframe[-1].value) == 200  # falls back to a valid condition and draws the rows
    at.number_input(key="condition:seed").set_value(9).run()  # the session keeps working
    assert not at.exception and at.query_params["seed"] == "9"


def test_non_numeric_seed_and_absurd_n_in_the_url(models, monkeypatch):
    at = open_page(models, monkeypatch, "sample", model="diabetes-gan", seed="abc", n="1e12")
    text = errors(at)
    assert "seed must be" in text and "using 0" in text and "100,000" in text
    assert len(at.dataframe[0].value) == 1000
    at = open_page(models, monkeypatch, "interpolate", model="diabetes-gan", seed="x", seed_b="-4")
    assert errors(at).count("seed must be") == 2 and len(at.dataframe[0].value) == 8
