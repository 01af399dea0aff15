"""Altair chart builders for the app. Inputs are small, pre-aggregated long-form frames from
``explorer.metrics.analysis`` so the browser never receives raw rows it does not need."""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

SOURCE_COLORS = alt.Scale(domain=["real", "synthetic"], range=["#4c78a8", "#f58518"])
HEIGHT = 260


def _source_color():
    return alt.Color("source:N", scale=SOURCE_COLORS, title=None)


def histogram(data: pd.DataFrame, column: str, numeric: bool) -> alt.Chart:
    """Real vs synthetic shares: overlaid step bars (numeric) or grouped bars (categorical)."""
    if numeric:
        return alt.Chart(data, title=column).mark_bar(opacity=0.55, binSpacing=0).encode(
            x=alt.X("start:Q", title=column), x2="end:Q",
            y=alt.Y("share:Q", title="share of rows", stack=None, axis=alt.Axis(format="%")), y2=alt.datum(0),
            color=_source_color(),
            tooltip=["source", alt.Tooltip("start:Q", format=".4g"), alt.Tooltip("end:Q", format=".4g"),
                     alt.Tooltip("share:Q", format=".2%")],
        ).properties(height=HEIGHT)
    order = data.groupby("bin")["share"].max().sort_values(ascending=False).index.tolist()
    return alt.Chart(data, title=column).mark_bar().encode(
        y=alt.Y("bin:N", sort=order, title=None), x=alt.X("share:Q", title="share of rows", axis=alt.Axis(format="%")),
        yOffset="source:N", color=_source_color(),
        tooltip=["bin", "source", alt.Tooltip("share:Q", format=".2%")],
    ).properties(height=max(HEIGHT, 22 * len(order)))


def fidelity_bars(fid: pd.DataFrame) -> alt.Chart:
    return alt.Chart(fid).mark_bar().encode(
        x=alt.X("complement:Q", title="1 − KS / TV distance (1 = identical)", scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("column:N", sort="x", title=None), color=alt.Color("metric:N", title="test"),
        tooltip=["column", "metric", alt.Tooltip("distance:Q", format=".3f"), alt.Tooltip("complement:Q", format=".3f")],
    ).properties(height=max(HEIGHT, 20 * len(fid)))


def heatmap(data: pd.DataFrame, value: str = "difference", title: str = "synthetic − real association") -> alt.Chart:
    order = list(dict.fromkeys(data["a"]))
    return alt.Chart(data, title=title).mark_rect().encode(
        x=alt.X("b:N", sort=order, title=None, axis=alt.Axis(labelOverlap=False)),
        y=alt.Y("a:N", sort=order, title=None, axis=alt.Axis(labelOverlap=False)),
        color=alt.Color(f"{value}:Q", scale=alt.Scale(scheme="redblue", domain=[-1, 1], reverse=True), title=value),
        tooltip=["a", "b", alt.Tooltip("real:Q", format=".3f"), alt.Tooltip("synthetic:Q", format=".3f"),
                 alt.Tooltip("difference:Q", format="+.3f")],
    ).properties(height=max(HEIGHT, 24 * len(order)))


def projection(points: pd.DataFrame, title: str) -> alt.Chart:
    return alt.Chart(points, title=title).mark_circle(size=14, opacity=0.5).encode(
        x=alt.X("x:Q", title=None), y=alt.Y("y:Q", title=None), color=_source_color(), tooltip=["source"],
    ).properties(height=360)


def roc(curves: dict[str, pd.DataFrame]) -> alt.Chart:
    """ROC curves of the detectors (legend shows the AUC) and the chance diagonal."""
    parts = []
    for name, df in curves.items():
        step = max(1, len(df) // 400)  # thin very long curves; keep both ends
        thin = pd.concat([df.iloc[::step], df.iloc[[-1]]]).drop_duplicates()
        parts.append(thin.assign(detector=name))
    data = pd.concat(parts, ignore_index=True)
    lines = alt.Chart(data, title="ROC: real (0) vs synthetic (1)").mark_line().encode(
        x=alt.X("fpr:Q", title="false positive rate"), y=alt.Y("tpr:Q", title="true positive rate"),
        color=alt.Color("detector:N", title=None), order="fpr:Q")
    diagonal = alt.Chart(pd.DataFrame({"fpr": [0, 1], "tpr": [0, 1]})).mark_line(
        strokeDash=[4, 4], color="gray").encode(x="fpr:Q", y="tpr:Q")
    return (diagonal + lines).properties(height=320)


def importance(series: pd.Series, top: int = 15) -> alt.Chart:
    data = series.head(top).rename_axis("column").reset_index(name="importance")
    return alt.Chart(data, title="What gives it away (random-forest importance)").mark_bar().encode(
        x=alt.X("importance:Q", title="share of the detector's importance"), y=alt.Y("column:N", sort="-x", title=None),
        tooltip=["column", alt.Tooltip("importance:Q", format=".3f")],
    ).properties(height=max(HEIGHT, 20 * len(data)))


def binned_overlay(data: pd.DataFrame, x_title: str, title: str, rule: float | None = None,
                   real_vs_synthetic: bool = False, colors: tuple[str, ...] | None = None) -> alt.Chart:
    """Overlaid shares from ``analysis.binned`` (optionally a vertical rule, e.g. a threshold);
    ``colors`` pins one colour per source, in the order the sources first appear."""
    scale = SOURCE_COLORS if real_vs_synthetic else \
        alt.Scale(domain=list(dict.fromkeys(data["source"])), range=list(colors)) if colors else None
    color = alt.Color("source:N", title=None, **({"scale": scale} if scale is not None else {}))
    bars = alt.Chart(data, title=title).mark_bar(opacity=0.55, binSpacing=0).encode(
        x=alt.X("start:Q", title=x_title), x2="end:Q",
        y=alt.Y("share:Q", stack=None, title="share", axis=alt.Axis(format="%")), y2=alt.datum(0), color=color,
        tooltip=["source", alt.Tooltip("start:Q", format=".4g"), alt.Tooltip("share:Q", format=".2%")])
    if rule is None:
        return bars.properties(height=HEIGHT)
    line = alt.Chart(pd.DataFrame({"x": [rule]})).mark_rule(strokeDash=[4, 4], color="black").encode(x="x:Q")
    return (bars + line).properties(height=HEIGHT)


def class_shares(data: pd.DataFrame) -> alt.Chart:
    """Rows per class (``analysis.class_counts`` with a ``source`` column)."""
    return alt.Chart(data, title="rows per class").mark_bar().encode(
        x=alt.X("share:Q", axis=alt.Axis(format="%"), title="share", scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("source:N", title=None), row=alt.Row("class:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left")),
        color=alt.Color("source:N", title=None, legend=None),
        tooltip=["class", "source", "rows", alt.Tooltip("share:Q", format=".1%")],
    ).properties(height=44)


def paths(data: pd.DataFrame) -> alt.Chart:
    """Numeric columns along an interpolation path, each scaled to its real range."""
    return alt.Chart(data, title="numeric columns along the path (scaled to each column's real range)").mark_line(
        point=True).encode(
        x=alt.X("step:Q", title="step", axis=alt.Axis(tickMinStep=1)),
        y=alt.Y("scaled:Q", title="position in the real range", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("column:N", title=None),
        tooltip=["step", "column", alt.Tooltip("value:Q", format=".4g")],
    ).properties(height=320)


def curves(data: pd.DataFrame, title: str, y_title: str = "value") -> alt.Chart:
    """Per-epoch lines from ``analysis.history_long``."""
    return alt.Chart(data, title=title).mark_line(point=len(data) < 200).encode(
        x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1)), y=alt.Y("value:Q", title=y_title),
        color=alt.Color("metric:N", title=None),
        tooltip=["epoch", "metric", alt.Tooltip("value:Q", format=".4f")],
    ).properties(height=HEIGHT)


def probability_bars(probs: np.ndarray, labels: list[str]) -> alt.Chart:
    data = pd.DataFrame({"class": labels, "probability": np.asarray(probs, float)})
    return alt.Chart(data).mark_bar().encode(x=alt.X("class:N", sort=labels), y="probability:Q").properties(height=160)


def digit_matrix(data: pd.DataFrame) -> alt.Chart:
    """Requested digit × judged digit (``app_digits.digit_matrix``): share of each requested digit's
    samples the judge gives each label; the diagonal is the conditional accuracy per digit."""
    digits = sorted(data["requested"].unique())
    base = alt.Chart(data, title="requested digit × digit the judge sees").encode(
        x=alt.X("judged:O", sort=digits, title="judged digit", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("requested:O", sort=digits, title="requested digit"))
    cells = base.mark_rect().encode(
        color=alt.Color("share:Q", scale=alt.Scale(scheme="blues", domain=[0, 1]), title="share"),
        tooltip=["requested", "judged", "count", alt.Tooltip("share:Q", format=".1%")])
    labels = base.mark_text(fontSize=10).encode(
        text=alt.Text("share:Q", format=".0%"),
        color=alt.condition("datum.share > 0.5", alt.value("white"), alt.value("black")))
    return (cells + labels.transform_filter("datum.share >= 0.005")).properties(height=340)


def digit_shares(data: pd.DataFrame) -> alt.Chart:
    """Share of images per digit (``app_digits.digit_shares``): judged digits of the samples
    beside the true digits of real test images."""
    return alt.Chart(data, title="digit the judge sees").mark_bar().encode(
        x=alt.X("digit:O", title="digit", axis=alt.Axis(labelAngle=0)), xOffset="source:N",
        y=alt.Y("share:Q", title="share of images", axis=alt.Axis(format="%")), color=_source_color(),
        tooltip=["digit", "source", alt.Tooltip("share:Q", format=".1%")],
    ).properties(height=HEIGHT)


def confidence_link(data: pd.DataFrame) -> alt.Chart:
    """Requested vs achieved judge confidence: every row (jittered dots), the mean per level, the diagonal."""
    base = alt.Chart(data)
    dots = base.mark_circle(size=14, opacity=0.25).encode(
        x=alt.X("requested:Q", title="requested confidence", scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("achieved:Q", title="judge forest's confidence", scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("requested:Q", format=".2f"), alt.Tooltip("achieved:Q", format=".2f")])
    means = base.mark_line(point=True, color="#f58518").encode(x="requested:Q", y="mean(achieved):Q")
    diagonal = alt.Chart(pd.DataFrame({"x": [0, 1], "y": [0, 1]})).mark_line(strokeDash=[4, 4], color="gray").encode(
        x="x:Q", y="y:Q")
    return (dots + means + diagonal).properties(height=320, title="achieved vs requested (dashed: perfect)")
