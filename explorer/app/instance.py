"""Condition page for instance-conditioned models (IC-GAN): pick a real row, get more rows like it,
and see how close they come — beside the row's real nearest neighbours and random real rows."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from explorer.metrics import analysis as an
from explorer import inputs
from explorer.app import naming, state
from explorer.app.gate import heavy
from explorer.data.tables import DataUnavailable
from explorer.runtime.instance_space import embed
from explorer.metrics.instances import distances, neighbours
from explorer.runtime.models import Model
from explorer.text import brief

SPLITS = {"training": "Training rows", "holdout": "Holdout rows (never seen in training)"}


@st.cache_data(show_spinner="Finding the row's real neighbours…", max_entries=64, ttl=state.CACHE_TTL)
def _neighbourhood(model_id: str, signature: str, split: str, row: int) -> np.ndarray:
    """Training-row indices of the k real rows nearest to the chosen row."""
    model = state.load_model(model_id)
    frames = _frames(model)
    space, k = model.condition.space, model.condition.k
    points = _embedding(model_id, signature)
    with heavy():
        return neighbours(points, k, embed(space, frames[split].iloc[[row]]))[0]


@st.cache_data(show_spinner="Embedding the training rows…", max_entries=4, ttl=state.CACHE_TTL)
def _embedding(model_id: str, signature: str) -> np.ndarray:
    model = state.load_model(model_id)
    frames = _frames(model)
    with heavy():
        return embed(model.condition.space, frames["training"])


def _frames(model: Model) -> dict[str, pd.DataFrame]:
    table = state.real_table(model.card)
    train, holdout = an.real_frames(model.card, table.train, table.holdout)
    return {"training": train, "holdout": holdout}


def parse_row(raw, sizes: dict[str, int]) -> tuple[str, int]:
    """``split:index`` from the URL (e.g. ``holdout:12``) → (split, index); ValueError when unusable."""
    split, _, index = str(raw).partition(":")
    if split not in sizes:
        raise ValueError(f"row must look like training:12 or holdout:12, got {brief(raw)}")
    return split, inputs.index(index, sizes[split], f"{split} row")


def export_figures(card: dict) -> str:
    """The card's locality figures (50 training and 50 unseen holdout rows), as a sentence."""
    m = card.metrics.get("instance")
    if not m:
        return ""
    parts = [f"{label}: median ratio {m[key]['median_distance_ratio']:.2f}, detection AUC against the real "
             f"neighbourhood {m[key]['mean_detection_auc']:.2f}"
             for label, key in (("training rows", "train_instances_train_neighbourhood"),
                                ("unseen holdout rows", "holdout_instances_holdout_neighbourhood")) if key in m]
    return f" At export, over {m['instances']} rows each — " + "; ".join(parts) + "."


def find_row(frame: pd.DataFrame, key: str) -> int | None:
    """Filters on column values and the matching rows; the row index the user clicks, if any."""
    with st.expander("Find a row by its values", expanded=False):
        columns = st.multiselect("Filter on", list(frame.columns), key=f"{key}:columns",
                                 placeholder="Pick columns, then the values to keep")
        mask = pd.Series(True, index=frame.index)
        for column in columns:
            values = frame[column]
            if pd.api.types.is_numeric_dtype(values):
                low, high = float(values.min()), float(values.max())
                if low < high:
                    chosen = st.slider(column, low, high, (low, high), key=f"{key}:{column}")
                    mask &= values.between(*chosen)
            else:
                options = sorted(values.astype(str).unique())
                chosen = st.multiselect(column, options, key=f"{key}:{column}", placeholder="any value")
                if chosen:
                    mask &= values.astype(str).isin(chosen)
        matches = frame[mask]
        st.caption(f"{len(matches):,} of {len(frame):,} rows match" + (" (the first 500 shown)" if len(matches) > 500
                                                                        else "") + ". Click a row to use it.")
        event = st.dataframe(matches.head(500), width="stretch", height=250, on_select="rerun",
                             selection_mode="single-row", key=f"{key}:table")
    picked = event.selection.rows if event is not None else []
    return int(matches.index[picked[0]]) if picked else None


def from_bank(model: Model, page: str, n: int, seed: int, problem: Exception) -> None:
    """Without the real data: rows like one of the training rows whose embeddings ship with the model."""
    bank = model.instance_bank
    st.info(f"The real data is not available here, so real rows cannot be shown or compared. The model ships the "
            f"embeddings of {len(bank):,} training rows: pick one of them to get rows like it.\n\n"
            + state.data_help(problem, model.card.dataset))
    raw = state.initial("bank", 0)
    try:
        start = int(raw) if 0 <= int(raw) < len(bank) else 0
    except (TypeError, ValueError):
        start = 0
    index = st.number_input(f"Stored row (0 – {len(bank) - 1:,})", 0, len(bank) - 1, start, key=f"{page}:bank")
    state.remember("bank", index, 0)
    embedding = np.repeat(bank[[index]], n, axis=0)
    rows = model.generate(model.noise(n, seed), instance=embedding)
    st.dataframe(rows.head(200), hide_index=True, width="stretch")
    st.download_button("Download CSV", lambda: state.shown(model.card, rows).to_csv(index=False), mime="text/csv",
                       on_click="ignore", file_name=naming.file_name(
                           model.id, f"like stored row {index}", f"n{n}", f"seed{seed}", ext="csv"))


def show(model: Model, page: str, n: int, seed: int) -> None:
    c = model.condition
    st.write(f"This generator takes a **real row** as its condition and was trained to produce rows from "
             f"that row's neighbourhood (its {c.k} nearest real rows). Pick any row — a holdout row the "
             "model never saw works the same way — and get more rows like it.")
    try:
        frames = _frames(model)
    except DataUnavailable as exc:
        from_bank(model, page, n, seed, exc)
        return
    sizes = {s: len(f) for s, f in frames.items()}
    try:
        split0, row0 = parse_row(state.initial("row", "training:0"), sizes)
    except ValueError as exc:
        st.error(f"Row from the URL: {exc}. Using training:0.", icon=state.ERROR_ICON)
        split0, row0 = "training", 0
    a, b = st.columns(2)
    split = a.radio("Pick a row from", list(SPLITS), index=list(SPLITS).index(split0), format_func=SPLITS.get,
                    horizontal=True, key=f"{page}:split")
    row_key = f"{page}:row:{split}"
    found = find_row(frames[split], f"{page}:find:{split}")
    if found is not None and st.session_state.get(f"{page}:found:{split}") != found:
        st.session_state[f"{page}:found:{split}"] = found  # a newly picked match: put it in the box once
        st.session_state[row_key] = found
    row = b.number_input(f"Row number (0 – {sizes[split] - 1:,})", 0, sizes[split] - 1,
                         min(row0, sizes[split] - 1) if split == split0 else 0, key=row_key)
    state.remember("row", f"{split}:{row}", "training:0")
    instance = frames[split].iloc[[row]]
    st.caption("The chosen row (one line per column, so every value shows)")
    st.dataframe(instance.T.set_axis(["value"], axis=1).rename_axis("column").reset_index().astype(str),
                 hide_index=True, width="stretch", height=min(36 * (len(instance.columns) + 1), 420))

    rows = model.sample(n, seed=seed, instance=instance)
    signature = state.model_signature(model.id)
    hood = frames["training"].iloc[_neighbourhood(model.id, signature, split, row)]
    reference = frames["holdout"].sample(min(1000, sizes["holdout"]), random_state=seed)
    d = {"generated": distances(c.space, instance, rows),
         f"{c.k} nearest real rows": distances(c.space, instance, hood),
         "random real rows": distances(c.space, instance, reference)}
    ratio = np.median(d["generated"]) / max(np.median(d["random real rows"]), 1e-12)
    m1, m2, m3 = st.columns(3)
    m1.metric("median distance, generated", f"{np.median(d['generated']):.2f}")
    m2.metric("median distance, random real rows", f"{np.median(d['random real rows']):.2f}")
    m3.metric("ratio (≤ 0.5 = like this row)", f"{ratio:.2f}")
    state.chart("binned_overlay", an.binned(d, bins=30), "distance to the chosen row",
                f"How close {n:,} generated rows come to the chosen row", colors=("#f58518", "#4c78a8", "#bab0ac"))
    st.caption("Distance: min-max-scaled numerics and one-hot categoricals (one differing category adds √2). "
               "Random real rows: 1,000 holdout rows." + export_figures(model.card))
    st.dataframe(rows.head(200), hide_index=True, width="stretch")
    st.download_button("Download CSV", lambda: state.shown(model.card, rows).to_csv(index=False), mime="text/csv",
                       on_click="ignore", file_name=naming.file_name(
                           model.id, f"like {split} row {row}", f"n{n}", f"seed{seed}", ext="csv"))
