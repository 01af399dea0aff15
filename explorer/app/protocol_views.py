"""The Diagnostics page's views of the field's protocol (issue 13's Trend, gradient-boosting detection and
privacy figures), each figure beside real data's own reference. Numbers come from the cached functions
in ``explorer.app.diagnostics``; column names of users' tables reach the page only inside tables and
charts, which show text as text."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer.app import diagnostics as ad
from explorer.app import state
from explorer.app.failures import fragment

REFERENCE = "real data's own"


def _failed(result) -> bool:
    if isinstance(result, dict) and "error" in result:
        st.warning(result["error"])
        return True
    return False


def trend(model_id: str, n: int, seed: int, cls: str) -> None:
    with st.status("Comparing every pair of columns…", expanded=False) as status:
        result = ad.trend(model_id, n, seed, cls)
        status.update(label="Column pairs compared", state="complete")
    if _failed(result):
        return
    a, b = st.columns(2)
    a.metric("Trend, synthetic rows", f"{result['trend']:.3f}",
             help="Mean over every column pair of SDMetrics' pair score (ColumnPairTrends, as the papers report it): "
                  "1 − |difference of Pearson correlations| / 2 for two numerics, 1 − total variation of the joint "
                  "shares otherwise (numerics in 10 bins); 1 = every pair's trend reproduced.")
    b.metric("Real data's own Trend", f"{result['trend_real']:.3f}",
             help="The same score with real holdout rows in place of the synthetic ones: what a perfect generator "
                  "scores with these row counts. Read the synthetic score against this, not against 1.")
    state.chart("pair_trends", result["cells"])  # the page's full width: a column would squeeze the cells
    st.markdown("**Worst pairs**")
    st.dataframe(result["worst"].drop(columns="Metric"), hide_index=True, width="stretch", column_config={
        "Score": st.column_config.NumberColumn("synthetic", format="%.3f"),
        "Real Score": st.column_config.NumberColumn(REFERENCE, format="%.3f",
                                                    help="The same pair's score for real holdout rows.")})
    base, rows = result["rows"]
    st.caption(f"{rows:,} synthetic and {rows:,} real holdout rows, each against the same {base:,} real training "
               "rows. Difference = 1 − pair score: numeric pairs compare correlations, the others how often each "
               "combination of values occurs.")


@fragment
def boosting(page: str, model_id: str, n: int, seed: int, cls: str, rows: int) -> None:
    """The gradient-boosting detector and every detector's real-vs-real AUC: asked for with a button (it takes
    seconds the first Detection view should not wait for); kept while the user moves between sections."""
    st.subheader("Gradient boosting, and real data's own reference for each detector")
    key = f"boosting:{model_id}:{n}:{seed}:{cls}"
    st.button(f"Train a gradient-boosting detector and each detector's real-vs-real reference (about "
              f"{ad.boosting_seconds(rows):.0f} s on 2 idle cores, longer when the server is busy)",
              key=f"{page}:boosting", disabled=key in st.session_state,
              on_click=st.session_state.__setitem__, args=(key, True))  # set before the rerun: drawn disabled
    if key not in st.session_state:
        st.caption("Gradient boosting (scikit-learn's histogram gradient boosting) is the strongest of the usual "
                   "detectors. Real data's own reference: each detector telling real holdout rows from real "
                   "training rows, with the same row counts — a perfect generator's score.")
        return
    with st.status("Training the gradient-boosting detector…", expanded=True) as status:
        bar = st.progress(0.0, text="Gradient boosting, 5-fold cross-validation…")
        gb = ad.detector(model_id, n, seed, cls, "gb")
        own = {}
        for i, (kind, name) in enumerate((("rf", "random forest"), ("lr", "logistic regression"),
                                          ("gb", "gradient boosting"))):
            bar.progress(0.4 + 0.2 * i, text=f"Real vs real: {name}…")
            own[kind] = ad.reference_detector(model_id, n, seed, cls, kind)
        bar.progress(1.0, text="Done")
        status.update(label="Gradient boosting and references trained", state="complete", expanded=False)
    if _failed(gb) or any(_failed(r) for r in own.values()):
        return
    det = ad.detection(model_id, n, seed, cls)
    aucs = {"rf": det["rf"]["auc"], "lr": det["lr"]["auc"], "gb": gb["auc"]}
    names = {"rf": f"Random forest ({ad.DETECTOR_TREES} trees)", "lr": "Logistic regression",
             "gb": "Gradient boosting"}
    st.dataframe(pd.DataFrame({"detector": names.values(), "AUC, synthetic vs real": [aucs[k] for k in names],
                               f"{REFERENCE} (real vs real)": [own[k]["auc"] for k in names]}),
                 hide_index=True, width="stretch",
                 column_config={c: st.column_config.NumberColumn(format="%.3f") for c in
                                ("AUC, synthetic vs real", f"{REFERENCE} (real vs real)")})
    left, right = st.columns(2)
    state.chart("roc", {f"GB (AUC {gb['auc']:.3f})": gb["roc"], f"RF (AUC {aucs['rf']:.3f})": det["rf"]["roc"]},
                where=left)
    state.chart("importance", gb["importance"], title="What gives it away (gradient boosting)",
                x_title="AUC lost when the column is shuffled", where=right)
    st.caption(f"{gb['rows']:,} real holdout and {gb['rows']:,} synthetic rows, {gb['folds']}-fold cross-validation. "
               f"Reference: the same real holdout rows against {own['gb']['rows']:,} real training rows; 0.5 up to "
               "sampling noise. Gradient boosting has no impurity importances: its list is the AUC each column's "
               "shuffling costs on the held-out folds.")


FIGURES = {  # key: (name, what it means)
    "dcr_share": ("DCR share", "Share of rows closer to the training rows than to as many holdout rows (L1 on "
                  "range-scaled numerics and one-hots). 0.5 = no closer to what the model trained on; 1 = copies."),
    "exact_match_rate": ("Exact-match rate", "Share of rows equal to a training row in every column."),
    "nndr": ("Nearest-neighbour distance ratio", "Median of (distance to the nearest training row) ÷ (to the "
             "second nearest); near 0 = a row sits on one training row rather than among several."),
    "membership_auc": ("Membership-inference AUC", "How well closeness to these rows tells training rows from "
                       "holdout rows (an attacker's ROC AUC); 0.5 = no membership signal."),
}


def privacy(model_id: str, n: int, seed: int, cls: str) -> None:
    st.subheader("The field's privacy figures, beside real data's own")
    with st.status("Measuring the DCR share, exact matches, neighbour ratios and membership inference…",
                   expanded=False) as status:
        figures = ad.protocol_privacy(model_id, n, seed, cls)
        status.update(label="Privacy figures measured", state="complete")
    if _failed(figures):
        return
    table = pd.DataFrame({"figure": [FIGURES[k][0] for k in FIGURES],
                          "synthetic rows": [figures.loc[k, "synthetic"] for k in FIGURES],
                          f"{REFERENCE} (real holdout rows)": [figures.loc[k, "real"] for k in FIGURES],
                          "meaning": [FIGURES[k][1] for k in FIGURES]})
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "synthetic rows": st.column_config.NumberColumn(format="%.3f"),
        f"{REFERENCE} (real holdout rows)": st.column_config.NumberColumn(format="%.3f"),
        "meaning": st.column_config.TextColumn(width="large")})
    st.caption(f"{int(figures.loc['rows', 'synthetic']):,} synthetic rows; reference: {int(figures.loc['rows', 'real']):,} "
               f"real holdout rows the model never saw, compared with the training rows and the other "
               f"{int(figures.loc['against', 'real']):,} holdout rows exactly as the synthetic rows are. Close to the "
               "reference = no more memorisation than new real data shows.")
