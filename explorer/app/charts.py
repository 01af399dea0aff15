"""Altair chart builders for the app. Inputs are small, pre-aggregated long-form frames from
``explorer.metrics.analysis`` so the browser never receives raw rows it does not need."""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

# One visual language: real data blue, generated data orange on every chart; other series grey, then
# colours that do not read as good/bad (no red for a score).
REAL, SYNTH, OTHER = "#4c78a8", "#f58518", "#9d9d9d"
SOURCE_COLORS = alt.Scale(domain=["real", "synthetic"], range=[REAL, SYNTH])
GENERATED = ("synthetic", "generated", "achieved", "fake")  # names of generated-data series
PAIR = ["#1b7837", "#762a83"]  # two series of one kind (RF vs LR, loss of D vs G): green and purple, never blue-blue
HEIGHT = 260


def _source_color():
    return alt.Color("source:N", scale=SOURCE_COLORS, title=None)


def source_scale(names) -> alt.Scale:
    """Orange for generated-data series, blue for the first real one, grey after that."""
    names, colours, real_seen = list(dict.fromkeys(names)), [], False
    for name in names:
        if any(str(name).startswith(g) for g in GENERATED):
            colours.append(SYNTH)
        else:
            colours.append(OTHER if real_seen else REAL)
            real_seen = True
    return alt.Scale(domain=names, range=colours)


def _labels() -> alt.Axis:
    """A category axis that shows every label (Vega-Lite drops overlapping ones by default)."""
    return alt.Axis(labelOverlap=False, labelLimit=220)


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
        y=alt.Y("bin:N", sort=order, title=None, axis=_labels()), x=alt.X("share:Q", title="share of rows", axis=alt.Axis(format="%")),
        yOffset="source:N", color=_source_color(),
        tooltip=["bin", "source", alt.Tooltip("share:Q", format=".2%")],
    ).properties(height=max(HEIGHT, 22 * len(order)))


def fidelity_bars(fid: pd.DataFrame) -> alt.Chart:
    return alt.Chart(fid, title="How alike each column is").mark_bar().encode(
        x=alt.X("complement:Q", title="1 − KS / TV distance (1 = identical)", scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("column:N", sort="x", title=None, axis=_labels()),
        color=alt.Color("metric:N", title="test", scale=alt.Scale(domain=["KS", "TV"], range=PAIR)),
        tooltip=["column", "metric", alt.Tooltip("distance:Q", format=".3f"), alt.Tooltip("complement:Q", format=".3f")],
    ).properties(height=alt.Step(22))


def heatmap(data: pd.DataFrame, value: str = "difference", title: str = "synthetic − real association") -> alt.Chart:
    """Differences on a symmetric scale as wide as the largest one (at least ±0.05): on ±1 the few-hundredths
    differences a good generator leaves would all look white. Orange: stronger in the synthetic rows."""
    order = list(dict.fromkeys(data["a"]))
    top = max(0.05, float(np.nanmax(np.abs(data[value].to_numpy(float)))) if len(data) else 0.05)
    return alt.Chart(data, title=f"{title} (scale ±{top:.2f})").mark_rect().encode(
        x=alt.X("b:N", sort=order, title=None, axis=_labels()),
        y=alt.Y("a:N", sort=order, title=None, axis=_labels()),
        color=alt.Color(f"{value}:Q", scale=alt.Scale(scheme="blueorange", domain=[-top, top]), title=value),
        tooltip=["a", "b", alt.Tooltip("real:Q", format=".3f"), alt.Tooltip("synthetic:Q", format=".3f"),
                 alt.Tooltip("difference:Q", format="+.3f")],
    ).properties(height=max(HEIGHT, 24 * len(order)))


def pair_trends(cells: pd.DataFrame) -> alt.Chart:
    """Each column pair's trend difference (1 − SDMetrics' pair score; 0 = reproduced exactly), every pair once
    in the lower triangle, on a scale as wide as the largest difference (at least 0.05), each cell labelled."""
    order = list(dict.fromkeys([*cells["b"], *cells["a"]]))
    top = max(0.05, float(np.nanmax(cells["difference"].to_numpy(float))) if len(cells) else 0.05)
    base = alt.Chart(cells, title=f"How far each pair's trend is from the real one (0 = same; scale 0–{top:.2f})"
                     ).encode(x=alt.X("b:N", sort=order, title=None, axis=_labels()),
                              y=alt.Y("a:N", sort=order, title=None, axis=_labels()))
    rects = base.mark_rect().encode(
        color=alt.Color("difference:Q", scale=alt.Scale(scheme="oranges", domain=[0, top]), title="difference"),
        tooltip=["a", "b", "metric", alt.Tooltip("score:Q", format=".3f"), alt.Tooltip("difference:Q", format=".3f"),
                 alt.Tooltip("real:Q", format=".3f", title="real correlation"),
                 alt.Tooltip("synthetic:Q", format=".3f", title="synthetic correlation")])
    step = int(np.clip(540 / max(1, len(order) - 1), 18, 40))  # the page's width: cells large enough to read
    height = step * max(1, len(order) - 1)
    if step < 24:  # too narrow for a number: the colour and the tooltip tell
        return rects.properties(height=height)
    labels = base.mark_text(fontSize=10 if step >= 30 else 8).encode(
        text=alt.Text("difference:Q", format=".2f"),
        color=alt.condition(f"datum.difference > {top / 2}", alt.value("white"), alt.value("black")))
    return (rects + labels).properties(height=height)


def projection(points: pd.DataFrame, title: str, axes: tuple[str, str] = ("t-SNE 1", "t-SNE 2")) -> alt.Chart:
    return alt.Chart(points, title=title).mark_circle(size=14, opacity=0.5).encode(
        x=alt.X("x:Q", title=axes[0]), y=alt.Y("y:Q", title=axes[1]), color=_source_color(), tooltip=["source"],
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
        color=alt.Color("detector:N", title=None, scale=alt.Scale(range=PAIR)), order="fpr:Q")
    diagonal = alt.Chart(pd.DataFrame({"fpr": [0, 1], "tpr": [0, 1]})).mark_line(
        strokeDash=[4, 4], color="gray").encode(x="fpr:Q", y="tpr:Q")
    return (diagonal + lines).properties(height=320)


def importance(series: pd.Series, top: int = 15, title: str = "What gives it away (random-forest importance)",
               x_title: str = "share of the detector's importance") -> alt.Chart:
    data = series.head(top).rename_axis("column").reset_index(name="importance")
    return alt.Chart(data, title=title).mark_bar().encode(
        x=alt.X("importance:Q", title=x_title),
        y=alt.Y("column:N", sort="-x", title=None, axis=_labels()), color=alt.value(SYNTH),
        tooltip=["column", alt.Tooltip("importance:Q", format=".3f")],
    ).properties(height=alt.Step(22))


def binned_overlay(data: pd.DataFrame, x_title: str, title: str, rule: float | None = None,
                   real_vs_synthetic: bool = False, colors: tuple[str, ...] | None = None) -> alt.Chart:
    """Overlaid shares from ``analysis.binned`` (optionally a vertical rule, e.g. a threshold);
    ``colors`` pins one colour per source, in the order the sources first appear."""
    scale = SOURCE_COLORS if real_vs_synthetic else \
        alt.Scale(domain=list(dict.fromkeys(data["source"])), range=list(colors)) if colors else source_scale(data["source"])
    color = alt.Color("source:N", title=None, scale=scale)
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
        color=alt.Color("source:N", title=None, legend=None, scale=source_scale(data["source"])),
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
        color=alt.Color("metric:N", title=None, scale=alt.Scale(range=PAIR + ["#b35806", "#542788"])),
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
    means = base.mark_line(point=True, color=SYNTH).encode(x="requested:Q", y="mean(achieved):Q")
    diagonal = alt.Chart(pd.DataFrame({"x": [0, 1], "y": [0, 1]})).mark_line(strokeDash=[4, 4], color="gray").encode(
        x="x:Q", y="y:Q")
    return (dots + means + diagonal).properties(height=320, title="achieved vs requested (dashed: perfect)")
