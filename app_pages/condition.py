"""Condition: one class or an exact class mix from a conditional model, against the real rows of that class;
a target confidence (confidence GANs) or a real row to imitate (IC-GANs)."""
import pandas as pd
import streamlit as st

from explorer import inputs
from explorer.metrics import analysis as an
from explorer.app import digits as dd
from explorer.app import naming, state
from explorer.app.confidence import show as show_confidence
from explorer.app.instance import show as show_instance
from explorer.app import charts
from explorer.data.tables import DataUnavailable
from explorer.metrics.diagnostics import fidelity
from explorer.runtime.images import classify, grid, png_bytes, sample_images
from explorer.runtime.models import label_counts
from explorer.text import brief

PAGE = "condition"
ONE, MIX, GRID = "One class", "Class mix", "Every digit (10 × k grid)"
BETWEEN = "Between two values"  # a model conditioned on ranges of a numeric target
st.title("Condition")

cards, refused = state.catalog()
model_id = state.pick_model(PAGE, cards, refused,
                            where=lambda c: c.condition_type in ("label", "range", "confidence", "instance"),
                            what="conditional models")
if model_id is None:
    st.info("No conditional model is exported yet (their ids end in `-cgan`, `-confgan` or `-icgan`). Train one "
            "with `python -m training.run --arch cgan`.")
    state.stop()
model = state.open_model(model_id)
if model.confidence_conditioned or model.instance_conditioned:
    c1, c2 = st.columns(2)
    with c1:
        n = state.pick_n(PAGE, default=1000 if model.confidence_conditioned else 200)
    with c2:
        seed = state.pick_seed(PAGE)
    if n is not None and seed is not None:
        (show_confidence if model.confidence_conditioned else show_instance)(model, PAGE, n, seed)
    state.stop()
st.write("A conditional generator takes the class as an input, so every row has exactly the class you ask "
         "for — no rejection sampling.")
card, classes, target = model.card, model.classes, model.condition.name
minority = card.minority_class if card.minority_class in classes else classes[-1]
image = card.kind == "image"

c1, c2 = st.columns(2)
with c1:
    n = state.pick_n(PAGE, default=100, limit=1000, label="Images") if image else state.pick_n(PAGE, default=2000)
with c2:
    seed = state.pick_seed(PAGE)

raw = state.initial("condition", None)
if st.session_state.get("condition:for", model_id) != model_id:
    raw = None  # the condition in the URL belongs to the model picked before: start afresh, silently
try:
    start = state.parse_condition(raw, classes) if raw is not None else minority
except ValueError as exc:
    st.error(f"Condition from the URL: {exc}. Using {brief(minority)}.", icon=state.ERROR_ICON)
    start = minority


def real_rows():
    try:
        table = state.real_table(card)
    except DataUnavailable as exc:
        return None, exc
    return an.real_frames(card, table.train, table.holdout)[0], None


@state.fragment
def conditioned():
    """The class controls and everything they change: rerun alone when the slider moves."""
    modes = [ONE, GRID, MIX] if image else [ONE, MIX, BETWEEN] if model.condition.type == "range" else [ONE, MIX]
    first = GRID if image and state.initial("grid", None) is not None else ONE if isinstance(start, str) else MIX
    mode = st.radio("Condition on", modes, index=modes.index(first), horizontal=True, key=f"{PAGE}:mode")
    if mode == GRID:
        every_digit()
        return
    if mode == BETWEEN:
        between()
        return
    state.remember("grid", None)
    if mode == ONE:
        default = start if isinstance(start, str) else minority
        cls = st.selectbox(f"{target} =", classes, index=classes.index(default), key=f"{PAGE}:class")
        condition = cls
    elif len(classes) == 2:
        other = next(c for c in classes if c != minority)
        weights = start if isinstance(start, dict) else {start: 1.0}
        share0 = round(100 * weights.get(minority, 0.0) / max(sum(weights.values()), 1e-12))
        share = st.slider(f"Share of {target} = {minority} (%)", 0, 100, int(share0), step=1, key=f"{PAGE}:share")
        condition = {other: (100 - share) / 100, minority: share / 100}
    else:
        weights = start if isinstance(start, dict) else {start: 1.0}
        cols = st.columns(min(len(classes), 5))
        condition = {c: cols[i % len(cols)].number_input(c, 0.0, 1.0, float(weights.get(c, 0.0)), 0.05,
                                                         key=f"{PAGE}:w:{c}") for i, c in enumerate(classes)}
    try:
        text = state.format_condition(state.parse_condition(state.format_condition(condition), classes))
        counts = label_counts(n, {condition: 1.0} if isinstance(condition, str) else condition, classes)
    except ValueError as exc:
        st.error(str(exc), icon=state.ERROR_ICON)
        return
    state.remember("condition", text, minority)
    st.session_state["condition:for"] = model_id

    if image:
        images, codes = sample_images(model, n, seed, condition)
        order = codes.argsort(kind="stable")
        picture = grid(images[order], 20 if n > 100 else 10)
        asked = text if isinstance(condition, str) else "mix " + ", ".join(
            f"{c}: {w:g}" for c, w in condition.items() if w > 0)
        st.image(picture, caption=f"{n:,} samples, {target} {asked}, seed {seed}", width="stretch")
        judged(images, codes)
        st.download_button("Download PNG", png_bytes(picture), mime="image/png", on_click="ignore",
                           file_name=naming.file_name(model_id, f"{target} {text}", f"n{n}", f"seed{seed}", ext="png"))
        return

    rows = state.sample(model_id, n, seed, condition)
    real, problem = real_rows()
    shares = an.class_counts(rows, target, classes).assign(source="synthetic")
    if real is not None:
        reference = an.stratified_real(real, target, counts, seed)
        shares = pd.concat([shares, an.class_counts(real, target, classes).assign(source="real (training)")])
    st.altair_chart(charts.class_shares(shares), width="stretch")
    st.caption("Exact rows per class: " + ", ".join(f"{c}: {k:,}" for c, k in counts.items()))

    columns = [c for c in rows.columns if c != target]
    numeric = an.card_numeric(card)
    column = st.selectbox("Column", columns, key=f"{PAGE}:column")
    hist = an.histogram(reference[column] if real is not None else None, rows[column], column in numeric)
    st.altair_chart(charts.histogram(hist, f"{column} | {target} {text}", column in numeric), width="stretch")
    if real is None:
        st.info(state.data_help(problem, card.dataset))
    else:
        st.caption("Real rows: the training rows of each class, in the same numbers as the synthetic ones.")
        fid = fidelity(reference[columns], rows[columns], numeric)
        st.dataframe(fid, hide_index=True, width="stretch",
                     column_config={"distance": st.column_config.NumberColumn(format="%.3f"),
                                    "complement": st.column_config.ProgressColumn(min_value=0, max_value=1, format="%.3f", color="#1b7837")})
    table(rows, naming.file_name(model_id, f"{target} {text}", f"n{n}", f"seed{seed}", ext="csv"))


def table(rows: pd.DataFrame, file_name: str) -> None:
    """The first 200 rows as a person reads them (dates as dates) and the whole sample as CSV."""
    st.dataframe(state.shown(card, rows.head(200)), hide_index=True, width="stretch")
    st.download_button("Download CSV", lambda: state.shown(card, rows).to_csv(index=False), file_name=file_name,
                       mime="text/csv", on_click="ignore")


def between() -> None:
    """Rows whose numeric target lies between two values the user types."""
    column, edges = model.condition.column, model.condition.edges
    c1, c2 = st.columns(2)
    low = c1.number_input(f"{column} from", value=float(edges[1]), key=f"{PAGE}:low")
    high = c2.number_input(f"{column} to", value=float(edges[-2]), key=f"{PAGE}:high")
    try:
        rows, mix = state.sample_between(model_id, n, seed, low, high)
    except ValueError as exc:
        st.error(str(exc), icon=state.ERROR_ICON)
        return
    asked = ", ".join(f"{c} ({w / sum(mix.values()):.0%})" for c, w in mix.items() if w > 0)
    st.caption(f"{len(rows):,} rows with {column} between {low:g} and {high:g}: the model is asked for the ranges "
               f"overlapping it ({asked}) and rows outside are dropped.")
    hist = an.histogram(None, rows[column], True)
    st.altair_chart(charts.histogram(hist, f"{column} between {low:g} and {high:g}", True), width="stretch")
    table(rows, naming.file_name(model_id, f"{column} {low:g}-{high:g}", f"n{n}", f"seed{seed}", ext="csv"))


def judged(images, codes) -> None:
    """What the judge classifier makes of the conditioned samples, per requested class."""
    probs = classify(model, images)
    if probs is None:
        st.caption("This model ships no classifier.onnx, so the samples are not judged.")
        return
    summary = dd.summary(probs, codes)
    per = summary["per_digit"]
    st.caption(f"The judge classifier labels {summary['conditional_accuracy']:.1%} of these samples as the "
               f"{target} asked for" + (": " + ", ".join(f"{classes[int(c)]}: {v:.0%}" for c, v in per.items())
                                        if len(per) > 1 else "")
               + f"; it is confident (> 0.9) about {summary['confident_share']:.0%}.")


def every_digit() -> None:
    """Row d: k samples of digit d (the latents of one seed)."""
    raw_k = state.initial("grid", 8)
    try:
        k0 = inputs.whole(raw_k, "images per digit", 1, dd.GRID_MAX)
    except inputs.InputError as exc:
        st.error(f"grid in the URL: {exc}; using 8.", icon=state.ERROR_ICON)
        k0 = 8
    k = st.slider("Images per digit (k)", 1, dd.GRID_MAX, k0, key=f"{PAGE}:k")
    state.remember("grid", k)
    images, codes = dd.digit_grid(model, k, seed)
    picture = grid(images, cols=k)
    st.image(picture, caption=f"{len(classes)} × {k}: row = {target} asked for, seed {seed}",
             width=2 * picture.shape[1] if k <= 10 else "stretch")  # small grids at twice the pixels; wide ones fit the page
    judged(images, codes)
    st.download_button("Download PNG", png_bytes(picture), mime="image/png", on_click="ignore",
                       file_name=naming.file_name(model_id, f"every {target}", f"{k} each", f"seed{seed}", ext="png"))


if n is not None and seed is not None:
    conditioned()
