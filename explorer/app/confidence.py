"""Condition page for confidence-conditioned models: a target-confidence slider, the rows it
gives, the judge forest's achieved confidence of each, and the requested-vs-achieved link."""
from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.metrics import analysis as an
from explorer.app import naming, state
from explorer.app.gate import heavy
from explorer.runtime.judge import RANGE, check_confidence
from explorer.metrics.confidence import link_metrics, measure_link
from explorer.runtime.models import Model
from explorer.text import brief


@st.cache_data(show_spinner="Measuring the link over 10 confidence levels…", max_entries=16, ttl=state.CACHE_TTL)
def _link(root: str, model_id: str, signature: str, seed: int):
    model = state.load_model(model_id)
    with heavy():
        return measure_link(model, seed, levels=10, per_level=100)[1]


def link(model_id: str, seed: int):
    root = state.models_root()
    return _link(str(root), model_id, state.model_signature(model_id), seed)


TOLERANCE = 0.05  # how far past the reachable range a request may lie before the page warns


def reachable(model: Model, data) -> tuple[float, float, str]:
    """Lowest and highest mean achieved confidence over the request levels, and where they were measured:
    the card's export measurement when it has one (more rows than the page measures), else ``data``."""
    levels = model.card.metrics.get("confidence", {}).get("per_level")
    if levels:
        means = [level["mean"] for level in levels.values()]
        return float(min(means)), float(max(means)), f"measured at export over {len(levels)} requested levels"
    means = data.groupby("requested")["achieved"].mean()
    return float(means.min()), float(means.max()), "10 requested levels × 100 rows"


def start_value(raw) -> float:
    """The slider's start from the URL, or 0.5 with a message when the URL's value is unusable."""
    if raw is None:
        return 0.5
    try:
        return float(check_confidence(float(raw), 1)[0])
    except (TypeError, ValueError):
        st.error(f"confidence in the URL must be a number from {RANGE[0]} to {RANGE[1]}, got {brief(raw)}; using 0.5.",
                 icon=state.ERROR_ICON)
        return 0.5


def show(model: Model, page: str, n: int, seed: int) -> None:
    c = model.condition
    st.write(f"This generator takes a **target confidence**: the probability the judge random forest "
             f"(fitted on the real training rows) gives to `{c.target} = {c.positive_class}`. "
             + (f"For each row it draws {model.candidates} candidates at the confidence you ask and keeps the "
                "one the forest scores closest to it." if model.candidates > 1 else
                "Every row is generated for the confidence you ask; the forest then scores it."))
    data = link(model.id, seed)
    low, high, where = reachable(model, data)
    value0 = round(start_value(state.initial("confidence", None)) * 20) / 20
    requested = st.slider("Target confidence", RANGE[0], RANGE[1], float(np.clip(value0, *RANGE)), 0.05,
                          key=f"{page}:confidence",
                          help=f"This model's rows reach a mean confidence from about {low:.2f} to {high:.2f} "
                               f"({where}).")
    st.caption(f"Reachable: rows asked for {RANGE[0]}–{RANGE[1]} score a mean confidence from about {low:.2f} "
               f"to {high:.2f} ({where}).")
    state.remember("confidence", f"{requested:.2f}", "0.50")
    rows = model.sample(n, seed=seed, confidence=requested)
    achieved = model.judge_confidence(rows)
    if not low - TOLERANCE <= requested <= high + TOLERANCE:
        nearest = float(np.clip(requested, low, high))
        st.warning(f"{requested:.2f} lies beyond what this model can deliver: the rows it makes for it score "
                   f"{achieved.mean():.2f} on average, and its reachable range is about {low:.2f} to {high:.2f}. "
                   f"Ask for {nearest:.2f} or less extreme, or keep only the rows whose achieved confidence "
                   "(last column of the table) you want.", icon=":material/warning:")
    a, b, d = st.columns(3)
    a.metric("requested", f"{requested:.2f}")
    b.metric("mean achieved", f"{achieved.mean():.3f}")
    d.metric("rows within ±0.1", f"{np.mean(np.abs(achieved - requested) <= 0.1):.0%}")
    state.chart("binned_overlay", an.binned({"achieved": achieved}, bins=20), "judge forest's confidence",
                f"achieved confidence of {n:,} rows asked for {requested:.2f}", rule=requested)
    shown = rows.assign(achieved_confidence=achieved.round(3))
    st.dataframe(shown.head(200), hide_index=True, width="stretch")
    st.download_button("Download CSV", lambda: state.shown(model.card, shown).to_csv(index=False), mime="text/csv",
                       on_click="ignore", file_name=naming.file_name(
                           model.id, f"confidence {requested:.2f}", f"n{n}", f"seed{seed}", ext="csv"))
    st.subheader("Does the generator follow the request?")
    m = link_metrics(data["requested"].to_numpy(), data["achieved"].to_numpy())
    state.chart("confidence_link", data)
    st.caption(f"10 levels × 100 rows, seed {seed}: Spearman {m['spearman']:.3f}, mean absolute error "
               f"{m['mean_absolute_error']:.3f}. At export (19 levels × 200 rows): "
               + ", ".join(f"{k} {model.card.metrics.get('confidence', {}).get(k, float('nan')):.3f}"
                           for k in ("spearman", "mean_absolute_error")) + ".")
