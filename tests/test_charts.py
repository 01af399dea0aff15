"""Charts a person can read: every category label drawn, a heatmap scale that shows small differences,
named projection axes, one colour for real and one for generated data everywhere."""
from __future__ import annotations

import numpy as np
import pandas as pd

from explorer.app import charts
from explorer.metrics import analysis as an

SYNTH, REAL = charts.SYNTH, charts.REAL


def spec(chart) -> dict:
    return chart.to_dict()


def encodings(d: dict):
    """Every encoding block in a (possibly layered) Vega-Lite spec."""
    if "encoding" in d:
        yield d["encoding"]
    for layer in d.get("layer", []):
        yield from encodings(layer)


def test_category_axes_draw_every_label():
    columns = [f"column-{i}" for i in range(15)]
    fid = pd.DataFrame({"column": columns, "metric": ["KS", "TV"] * 7 + ["KS"], "distance": 0.02, "complement": 0.98})
    importance = pd.Series(np.linspace(0.2, 0.01, 15), index=columns)
    for chart in (charts.fidelity_bars(fid), charts.importance(importance)):
        y = spec(chart)["encoding"]["y"]
        assert y["axis"]["labelOverlap"] is False


def test_heatmap_scale_spans_the_largest_difference_not_plus_minus_one():
    data = pd.DataFrame({"a": ["x", "x", "y", "y"], "b": ["x", "y", "x", "y"], "difference": [0, 0.03, 0.03, 0],
                         "real": 0.1, "synthetic": 0.13})
    scale = spec(charts.heatmap(data))["encoding"]["color"]["scale"]
    assert scale["domain"] == [-0.05, 0.05] and "red" not in scale.get("scheme", "")


def test_pca_axes_are_named_and_sources_keep_their_colours():
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200), "c": rng.choice(["p", "q"], 200)})
    synth = real.sample(frac=1, random_state=1).reset_index(drop=True)
    points = an.projection(real, synth, ["a", "b"], "pca")
    d = spec(charts.projection(points, "PCA", points.attrs["axes"]))
    assert d["encoding"]["x"]["title"].startswith("PC 1 (") and "variance" in d["encoding"]["y"]["title"]
    assert d["encoding"]["color"]["scale"]["range"] == [REAL, SYNTH]


def test_generated_data_is_orange_on_every_overlay_and_class_chart():
    binned = an.binned({"synthetic": np.arange(10.0), "holdout": np.arange(10.0)})
    scale = spec(charts.binned_overlay(binned, "distance", "privacy"))["encoding"]["color"]["scale"]
    assert dict(zip(scale["domain"], scale["range"])) == {"synthetic": SYNTH, "holdout": REAL}
    shares = pd.DataFrame({"class": ["a", "a"], "source": ["synthetic", "real (training)"], "rows": [1, 1],
                           "share": [0.5, 0.5]})
    scale = spec(charts.class_shares(shares))["encoding"]["color"]["scale"]
    assert dict(zip(scale["domain"], scale["range"])) == {"synthetic": SYNTH, "real (training)": REAL}


def test_two_detectors_or_two_losses_are_not_two_blues():
    curves = {"RF": pd.DataFrame({"fpr": [0, 1], "tpr": [0, 1]}), "LR": pd.DataFrame({"fpr": [0, 1], "tpr": [0, 1]})}
    colours = [e["color"]["scale"]["range"] for e in encodings(spec(charts.roc(curves))) if "color" in e
               and "scale" in e["color"]]
    assert colours and colours[0][:2] == charts.PAIR
    history = pd.DataFrame({"epoch": [1, 1], "metric": ["loss_d", "loss_g"], "value": [0.1, 0.2]})
    assert spec(charts.curves(history, "losses"))["encoding"]["color"]["scale"]["range"][:2] == charts.PAIR


def test_pair_trend_heatmap_labels_every_pair_and_column_on_a_scale_from_zero():
    from explorer.metrics import pairs
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"x": rng.normal(size=300), "y": rng.normal(size=300), "z": rng.choice(["p", "q"], 300)})
    synth = real.assign(y=real["x"] + rng.normal(size=300) * 0.1)  # y now follows x: that pair is far off
    cells = pairs.difference_long(pairs.pair_trends(real, synth, ["x", "y"]), list(real.columns))
    d = spec(charts.pair_trends(cells))
    rect, text = d["layer"]
    assert rect["encoding"]["x"]["axis"]["labelOverlap"] is False and rect["encoding"]["y"]["axis"]["labelOverlap"] is False
    top = cells["difference"].max()
    assert top > 0.3 and rect["encoding"]["color"]["scale"]["domain"] == [0, top]
    assert text["encoding"]["text"]["field"] == "difference" and text["encoding"]["text"]["format"] == ".2f"
    assert list(cells.loc[cells["difference"].idxmax(), ["a", "b"]]) == ["y", "x"]
    wide = pd.DataFrame({f"c{i}": rng.choice(["p", "q"], 300) for i in range(30)})
    many = charts.pair_trends(pairs.difference_long(pairs.pair_trends(wide, wide, []), list(wide.columns)))
    assert "layer" not in spec(many)  # 30 columns: cells too narrow for numbers, colour and tooltip only
