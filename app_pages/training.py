"""Training: loss curves, discriminator accuracy and validation scores per epoch; settings and seed stability."""
import json
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from explorer.metrics import analysis as an
from explorer.app import state
from explorer.app import charts
from explorer.metrics import sweeps
from explorer.paths import results_dir
from explorer.runtime.models import models_root

PAGE = "training"
SEED_TABLE = results_dir() / "seed_stability.csv"
st.title("Training")

cards, refused = state.catalog()
model_id = state.pick_model(PAGE, cards, refused)
if model_id is None:
    st.warning("No usable model: see the Home page.")
    state.stop()
card = cards[model_id]
training = card.training


@st.cache_data(show_spinner=False, max_entries=32, ttl=state.CACHE_TTL)
def history(folder: str, signature: str) -> list[dict] | str:
    entry = card.files.get("history")
    try:
        data = json.loads((Path(folder) / (entry.path if entry else "history.json")).read_text())
    except (FileNotFoundError, json.JSONDecodeError) as exc:
        return f"no readable training history ({exc})"
    return data if isinstance(data, list) else "history.json is not a list of epochs"


folder = models_root() / model_id
hist = history(str(folder), state.model_signature(model_id))
st.caption(f"`{training.command}` — seed {training.seed}, "
           f"{training.epochs_run or '?'} epochs in {training.seconds} s, exported epoch "
           f"{training.best_epoch or '?'}, code {training.code_version[:10]}")
if isinstance(hist, str):
    st.warning(hist)
else:
    left, right = st.columns(2)
    left.altair_chart(charts.curves(an.history_long(hist, ["loss_d", "loss_g"]), "Losses of D and G", "loss"),
                      width="stretch")
    right.altair_chart(charts.curves(an.history_long(hist, ["d_accuracy"]), "Discriminator accuracy", "accuracy"),
                       width="stretch")
    validation = an.history_long(hist, ["val_fidelity", "val_detection_lr", "val_score"])
    if len(validation):
        chart = charts.curves(validation, "Validation on training rows (model selection)", "score")
        best = training.best_epoch
        if best is not None:
            chart = chart + alt.Chart(pd.DataFrame({"epoch": [best]})).mark_rule(strokeDash=[4, 4]).encode(x="epoch:Q")
        st.altair_chart(chart, width="stretch")
        st.caption("Dashed line: the epoch whose generator was exported.")

st.subheader("Hyperparameters and results of every model")
rows = []
for mid, c in cards.items():
    cfg = c.training.config or {}
    rows.append({"model": mid, "seed": c.training.seed, **state.headline(c.metrics),
                 **{k: (", ".join(map(str, v)) if isinstance(v, list) else v) for k, v in cfg.items()
                    if not isinstance(v, dict)}})
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

st.subheader("Seed stability")
if SEED_TABLE.is_file():
    seeds = pd.read_csv(SEED_TABLE)
    st.dataframe(seeds, hide_index=True, width="stretch")
    metrics = [c for c in seeds.select_dtypes("number").columns if c != "seed"]
    per_model = seeds.groupby("model")[metrics]  # one mean ± std per model, never across models
    summary = per_model.mean().round(3).astype(str) + " ± " + per_model.std().round(3).astype(str)
    st.dataframe(summary.reset_index(), hide_index=True, width="stretch")
    st.caption(f"From `{SEED_TABLE.relative_to(SEED_TABLE.parent.parent)}` (`python -m experiments.seed_stability`).")
else:
    st.info("No seed-stability run yet: `python -m experiments.seed_stability` writes results/seed_stability.csv.")

st.subheader("Hyperparameter sweeps")
sweep_files = sweeps.sweep_files()
if not sweep_files:
    st.info("No sweep yet: `python -m experiments.sweep` (Ray Tune) writes results/sweep-<dataset>-<space>.csv.")
for path in sweep_files:
    try:
        trials = sweeps.read_sweep(path)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        st.warning(f"{path.name} cannot be read: {exc}")
        continue
    st.markdown(f"**{path.name}**: {len(trials)} trials, {trials['label'].nunique()} configurations, "
                f"seeds {', '.join(map(str, trials['seed'].unique()))}")
    st.caption(" then ".join(f"`{c}`" for c in trials["command"].dropna().unique()) + " — holdout metrics as in the "
               "cards; seconds per trial "
               "(training, model selection and metrics) on one CPU.")
    st.markdown("Seed stability: mean ± std over the seeds of each configuration, best efficacy first")
    st.dataframe(sweeps.pretty_summary(sweeps.seed_summary(trials)), hide_index=True, width="stretch")
    shown = ["label", "seed", *sweeps.METRICS, "best_epoch", "train_seconds", "seconds"]
    with st.expander(f"Every trial of {path.name}"):
        st.dataframe(trials[[c for c in shown if c in trials.columns]].round(3), hide_index=True, width="stretch")
