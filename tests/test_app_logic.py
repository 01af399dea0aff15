"""The app's pure helpers: latent paths, URL parsers, chart data, and the fast association matrix
(which must give exactly the numbers of explorer.metrics.diagnostics.association)."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from explorer.metrics import analysis as an
from explorer.metrics import diagnostics as dg
from explorer.app.state import APP_MAX_ROWS, format_condition, parse_condition, parse_n, parse_seed
from explorer.runtime.images import grid, png_bytes
from explorer.contract import Column
from explorer.runtime.interpolate import MAX_STEPS, linear, path, spherical

CLASSES = ["<=50K", ">50K"]


# ------------------------------------------------------------------ interpolation
@pytest.mark.parametrize("method", ["linear", "spherical"])
def test_paths_start_and_end_exactly_at_the_points(method):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(16), rng.standard_normal(16)
    p = path(a, b, 9, method)
    assert p.shape == (9, 16) and p.dtype == np.float32
    np.testing.assert_allclose(p[0], a, rtol=1e-6)
    np.testing.assert_allclose(p[-1], b, rtol=1e-6)


def test_linear_is_evenly_spaced_and_spherical_keeps_the_norm_linear():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(64), rng.standard_normal(64)
    steps = np.diff(linear(a, b, 11), axis=0)
    np.testing.assert_allclose(steps, np.broadcast_to(steps[0], steps.shape), atol=1e-5)
    s = spherical(a, b, 11).astype(float)
    np.testing.assert_allclose(np.linalg.norm(s, axis=1),
                               np.linspace(np.linalg.norm(a), np.linalg.norm(b), 11), rtol=1e-5)
    # the straight line dips into the low-norm interior; the great circle does not
    assert np.linalg.norm(linear(a, b, 11)[5]) < np.linalg.norm(s[5])
    # constant angular speed along the great circle
    unit = s / np.linalg.norm(s, axis=1, keepdims=True)
    angles = np.arccos(np.clip((unit[1:] * unit[:-1]).sum(1), -1, 1))
    np.testing.assert_allclose(angles, angles[0], rtol=1e-3)


def test_spherical_degenerate_cases_fall_back_to_linear():
    a = np.ones(4)
    np.testing.assert_allclose(spherical(a, 2 * a, 5), linear(a, 2 * a, 5))  # parallel
    np.testing.assert_allclose(spherical(np.zeros(4), a, 5), linear(np.zeros(4), a, 5))  # zero point


@pytest.mark.parametrize("steps", [1, 0, MAX_STEPS + 1, 2.5, True])
def test_bad_paths_are_refused(steps):
    with pytest.raises(ValueError, match="steps"):
        path(np.zeros(3), np.ones(3), steps)


def test_bad_end_points_and_method():
    with pytest.raises(ValueError, match="same size"):
        linear(np.zeros(3), np.zeros(4), 3)
    with pytest.raises(ValueError, match="finite"):
        spherical(np.array([np.nan, 1.0]), np.ones(2), 3)
    with pytest.raises(ValueError, match="method"):
        path(np.zeros(3), np.ones(3), 3, "cubic")


# ------------------------------------------------------------------ parsers (what the URL may hold)
def test_parse_seed():
    assert parse_seed("7") == 7 and parse_seed(7.0) == 7 and parse_seed(" 42 ") == 42
    for bad in ["-1", "1.5", "nan", "inf", "seven", "", None, True, 2**32]:
        with pytest.raises(ValueError, match="seed"):
            parse_seed(bad)


def test_parse_n_names_the_limit():
    assert parse_n("1000") == 1000 and parse_n(APP_MAX_ROWS) == APP_MAX_ROWS
    with pytest.raises(ValueError, match="100,000"):
        parse_n(APP_MAX_ROWS + 1)
    for bad in ["0", "-5", "2.5", "nan", "many", ""]:
        with pytest.raises(ValueError):
            parse_n(bad)


def test_parse_condition():
    assert parse_condition(">50K", CLASSES) == ">50K"
    assert parse_condition("<=50K:0.7,>50K:0.3", CLASSES) == {"<=50K": 0.7, ">50K": 0.3}
    mix = {"<=50K": 0.25, ">50K": 0.75}
    assert parse_condition(format_condition(mix), CLASSES) == mix
    for bad, message in [("", "empty"), (None, "empty"), ("nan", "unknown class"), (">50K:nan", "finite"),
                         (">50K:-1", "finite"), (">50K:x", "not a number"), ("<=50K:0,>50K:0", "all 0"),
                         ("rich:1", "unknown class")]:
        with pytest.raises(ValueError, match=message):
            parse_condition(bad, CLASSES)


# ------------------------------------------------------------------ chart data
def test_association_finds_dependence_and_ignores_noise(adult):
    rows = adult.holdout.sample(3000, random_state=0).reset_index(drop=True)
    rows["noise"] = np.random.default_rng(0).permutation(rows["sex"].to_numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = dg.association(rows, adult.numeric)
    assert a.loc["education", "education-num"] > 0.6  # one determines the other (through 10 bins)
    assert a.loc["relationship", "sex"] > 0.5 and a.loc["noise", "relationship"] < 0.1
    assert np.allclose(a.to_numpy(), a.to_numpy().T) and (np.diag(a) == 1).all()


def test_association_on_a_tiny_table_with_a_constant_column():
    df = pd.DataFrame({"x": np.arange(20.0), "y": np.arange(20.0) % 3, "c": ["a"] * 20, "d": list("ab") * 10})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = dg.association(df, ["x", "y"])
    assert (a.loc["c"].drop("c") == 0).all() and np.isfinite(a.to_numpy()).all()


def test_histograms_are_shares_on_common_bins():
    rng = np.random.default_rng(0)
    real, synth = pd.Series(rng.normal(0, 1, 500)), pd.Series(rng.normal(1, 1, 300))
    h = an.histogram(real, synth, numeric=True, bins=20)
    for _, part in h.groupby("source"):
        assert math.isclose(part["share"].sum(), 1.0) and len(part) == 20
    assert h.groupby("source")["start"].apply(tuple).nunique() == 1
    cats = an.histogram(pd.Series(list("aab")), pd.Series(list("bbc")), numeric=False)
    assert set(cats["bin"]) == {"a", "b", "c"}
    assert math.isclose(cats[cats.source == "synthetic"]["share"].sum(), 1.0)
    only_synth = an.histogram(None, synth, numeric=True)
    assert set(only_synth["source"]) == {"synthetic"}


def test_projection_and_binned():
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"a": rng.normal(size=200), "b": rng.choice(list("xyz"), 200)})
    synth = pd.DataFrame({"a": rng.normal(size=150), "b": rng.choice(list("xy"), 150)})
    points = an.projection(real, synth, ["a"], "pca", max_rows=100)
    assert len(points) == 200 and set(points["source"]) == {"real", "synthetic"}
    assert np.isfinite(points[["x", "y"]].to_numpy()).all()
    b = an.binned({"one": rng.normal(size=100), "two": rng.normal(size=50)}, bins=10)
    assert b.groupby("source")["share"].sum().round(9).eq(1).all()
    one = an.projection(real[["a"]], synth[["a"]], ["a"], "pca", max_rows=100)  # a one-column table (R's Michelson)
    assert len(one) == 200 and np.isfinite(one[["x", "y"]].to_numpy()).all()


def test_per_class_marks_classes_too_small_to_measure(diabetes):
    real = diabetes.holdout
    synth = real.sample(len(real), replace=True, random_state=1)
    synth = synth[synth["class"] == "tested_negative"]  # no synthetic minority rows
    table = an.per_class(real, synth, "class", diabetes.numeric, ["tested_negative", "tested_positive"])
    neg, pos = table.set_index("class").loc["tested_negative"], table.set_index("class").loc["tested_positive"]
    assert 0 <= neg["detection AUC (LR)"] <= 1 and neg["KS/TV complement"] > 0.5
    assert pos["rows synthetic"] == 0 and np.isnan(pos["detection AUC (LR)"]) and "not measured" in pos["note"]


def test_numeric_paths_scale_by_the_card_range():
    columns = [Column(name="age", type="numeric", min=10, max=20, integer=True, decimals=0),
               Column(name="job", type="categorical", categories=["a"])]
    rows = pd.DataFrame({"age": [10.0, 15.0, 20.0], "job": ["a"] * 3})
    out = an.numeric_paths(rows, columns)
    assert list(out["scaled"]) == [0.0, 0.5, 1.0] and set(out["column"]) == {"age"}


def test_image_grid_and_png():
    images = np.random.default_rng(0).random((12, 28, 28))
    picture = grid(images, cols=5, pad=2)
    assert picture.shape == (3 * 30 + 2, 5 * 30 + 2) and picture.dtype == np.uint8
    assert png_bytes(picture)[:8] == b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------ Sample page tables (fast paths)
def _describe_as_pandas(frame, numeric):
    counts = {c: frame[c].value_counts(normalize=True) for c in frame.columns if c not in numeric}
    return frame[numeric].describe().T, pd.DataFrame(
        [{"column": c, "distinct": int(frame[c].nunique()), "most common": str(v.index[0]) if len(v) else "",
          "share": float(v.iloc[0]) if len(v) else 0.0} for c, v in counts.items()])


@pytest.mark.parametrize("n", [0, 1, 2, 3, 50, 2000])
def test_summary_is_pandas_describe_and_value_counts(adult, n):
    """The numpy summary gives describe()'s numbers and value_counts()' top value, ties and missing values included."""
    frame = adult.train.sample(n, random_state=n).reset_index(drop=True) if n else adult.train.iloc[:0]
    if n >= 50:
        frame.loc[::3, adult.numeric[0]] = np.nan  # describe() skips missing values per column
        frame[adult.numeric[1]] = np.nan
        frame.loc[::2, adult.categorical[0]] = None
    num, cat = an.summary(frame, adult.numeric)
    want_num, want_cat = _describe_as_pandas(frame, adult.numeric)
    pd.testing.assert_frame_equal(num, want_num, check_index_type=False, rtol=1e-12)
    if n:
        pd.testing.assert_frame_equal(cat, want_cat)
    tie = pd.DataFrame({"x": [1.0, 2.0], "c": ["b", "a"]})  # two values, one row each: value_counts' first
    assert an.summary(tie, ["x"])[1]["most common"].iloc[0] == _describe_as_pandas(tie, ["x"])[1]["most common"].iloc[0]


def test_arrow_tables_hold_what_streamlit_would_send(adult):
    from streamlit import dataframe_util

    from explorer.app.state import arrow
    frame = adult.train.head(300).reset_index(drop=True)
    frame.loc[::7, adult.numeric[0]] = np.nan
    frame["flag"], frame["count"] = frame[adult.numeric[0]] > 40, np.arange(len(frame))
    frame["mixed"] = pd.Series([1, "a", None] * 100, dtype=object)
    table = arrow(frame)
    assert table.column_names == [str(c) for c in frame.columns]
    want = dataframe_util.convert_pandas_df_to_arrow_table(frame, preserve_index=False)  # with its type fixes
    for name in table.column_names:
        got, expected = table.column(name).to_pylist(), want.column(name).to_pylist()
        assert [None if v != v else v for v in got] == [None if v != v else v for v in expected], name
    assert arrow(pd.DataFrame()).num_rows == 0
