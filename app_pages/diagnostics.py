"""Diagnostics: distributions, column-pair trends, detection, utility, privacy and per-class metrics, real vs
synthetic, beside real data's own reference (digit models: app_pages/digit_diagnostics.py)."""
import streamlit as st

from explorer.app import diagnostics as ad
from explorer.app import protocol_views
from explorer.app import state
from explorer.app.failures import fragment
from explorer.data.tables import DataUnavailable
from explorer.text import brief

PAGE = "diagnostics"
LIMIT = 20_000
SECTIONS = ["Distributions", "Trend", "Detection", "Utility", "Privacy", "Per class"]
st.title("Diagnostics")

cards, refused = state.catalog()
model_id = state.pick_model(PAGE, cards, refused)
if model_id is None:
    st.warning("No usable model: see the Home page.")
    state.stop()
model = state.open_model(model_id)
card = model.card
if card.kind == "image":
    from app_pages.digit_diagnostics import show
    show(model)
    state.stop()

c1, c2, c3 = st.columns(3)
with c1:
    n = state.pick_n(PAGE, default=5000, limit=LIMIT, label="Synthetic rows (and real rows, up to the holdout size)")
with c2:
    seed = state.pick_seed(PAGE)
if n is None or seed is None:
    state.stop()
try:
    table = state.real_table(card)
except DataUnavailable as exc:
    st.warning(state.data_help(exc, card.dataset))
    state.stop()
target = card.target or table.target
sections = SECTIONS if target else [s for s in SECTIONS if s not in ("Utility", "Per class")]
cls = ad.ALL
with c3:
    if target:
        classes = list(table.categories[target])
        raw = state.initial("class", ad.ALL)
        options = [ad.ALL, *classes]
        if raw not in options:
            st.error(f"Unknown class {brief(raw)} in the URL; classes are {', '.join(classes)}.", icon=state.ERROR_ICON)
            raw = ad.ALL
        cls = st.selectbox(f"Rows of class ({target})", options, index=options.index(raw), key=f"{PAGE}:class",
                           help="Every metric can be measured on one class only — minority classes must hold up too.")
        state.remember("class", None if cls == ad.ALL else cls)
    else:
        st.caption("Trained without a target column, so there is no Utility or Per class section: both "
                   "predict or split by the target.")

raw = state.initial("section", SECTIONS[0])
section = st.radio("Section", sections, index=sections.index(raw) if raw in sections else 0, horizontal=True,
                   key=f"{PAGE}:section", label_visibility="collapsed")
state.remember("section", section, SECTIONS[0])
st.caption(f"Real rows: the holdout ({table.split}). Synthetic rows: {n:,} from seed {seed}"
           + (f", class {cls} only." if cls != ad.ALL else "."))


def fail(result) -> bool:
    if isinstance(result, dict) and "error" in result:
        st.warning(result["error"])
        return True
    return False


if section == "Distributions":
    with st.status("Comparing distributions…", expanded=False) as status:
        dist = ad.distributions(model_id, n, seed, cls)
        status.update(label="Distributions compared", state="complete")
    if not fail(dist):
        fid = dist["fidelity"]
        ceiling = ad.fidelity_ceiling(model_id, *dist["rows"], cls)
        a, b = st.columns(2)
        a.metric("Mean KS/TV complement", f"{fid['complement'].mean():.3f}",
                 help="Mean over columns of 1 − KS statistic (numeric) or 1 − total variation (categorical); 1 = identical.")
        b.metric("A perfect generator would score", f"{ceiling['mean']:.3f}",
                 help=f"Real and 'synthetic' rows both drawn from all real rows, with these row counts "
                      f"({ceiling['draws']} draws; 90 % between {ceiling['low']:.3f} and {ceiling['high']:.3f}). "
                      "Sampling noise alone keeps small samples below 1: read the score against this, not 1.")

        @fragment
        def column_view():
            column = st.selectbox("Column", list(dist["histograms"]), key=f"{PAGE}:column")
            state.chart("histogram", dist["histograms"][column], column, column in dist["numeric"])

        left, right = st.columns(2)
        with left:
            column_view()
        with right:
            state.chart("fidelity_bars", fid)
        st.dataframe(fid, hide_index=True, width="stretch",
                     column_config={"distance": st.column_config.NumberColumn(format="%.3f"),
                                    "complement": st.column_config.ProgressColumn(min_value=0, max_value=1, format="%.3f", color="#1b7837")})
        left, right = st.columns(2)
        state.chart("heatmap", dist["association"], where=left)
        left.caption("Association: |Spearman| between numerics, Cramér's V otherwise. Orange: stronger in the synthetic "
                     "rows, blue: weaker; the scale spans the largest difference.")
        state.chart("projection", dist["pca"], "PCA of real and synthetic rows (fitted on real)",
                    tuple(dist["pca"].attrs.get("axes", ("PC 1", "PC 2"))), where=right)
        right.caption("Rows as min-max-scaled numerics and one-hot categories, projected on the real rows' two "
                      "main directions of variation.")
        tsne_key = f"tsne:{model_id}:{n}:{seed}:{cls}"  # asked for once: kept when the user moves between sections
        rows_tsne = 2 * min(n, ad.TSNE_ROWS)
        if st.button(f"Compute t-SNE of {rows_tsne:,} points (about {ad.tsne_seconds(rows_tsne):.0f} s on 2 idle "
                     "cores, longer when the server is busy)", key=f"{PAGE}:tsne", disabled=tsne_key in st.session_state):
            st.session_state[tsne_key] = True
        if tsne_key in st.session_state:
            with st.status("Running t-SNE…", expanded=False) as status:
                points = ad.tsne(model_id, n, seed, cls)
                status.update(label="t-SNE done", state="complete")
            state.chart("projection", points, "t-SNE of real and synthetic rows")

elif section == "Trend":
    protocol_views.trend(model_id, n, seed, cls)

elif section == "Detection":
    with st.status("Telling synthetic rows from real ones…", expanded=True) as status:
        bar = st.progress(0.0, text=f"Random forest ({ad.DETECTOR_TREES} trees), 5-fold cross-validation…")
        det = ad.detector(model_id, n, seed, cls, "rf")
        bar.progress(0.7, text="Logistic regression, 5-fold cross-validation…")
        det = ad.detection(model_id, n, seed, cls)
        bar.progress(1.0, text="Done")
        status.update(label="Detectors trained", state="complete", expanded=False)
    if not fail(det):
        a, b, c = st.columns(3)
        a.metric("Detection AUC (RF)", f"{det['rf']['auc']:.3f}",
                 help=f"Random forest of {ad.DETECTOR_TREES} trees (the card's figure: 100 trees). 0.5 = cannot tell "
                      "synthetic from real; 1 = always can.")
        b.metric("Detection AUC (LR)", f"{det['lr']['auc']:.3f}", help="Logistic regression on scaled numerics + one-hots.")
        left, right = st.columns(2)
        state.chart("roc", {f"RF (AUC {det['rf']['auc']:.3f})": det["rf"]["roc"],
                            f"LR (AUC {det['lr']['auc']:.3f})": det["lr"]["roc"]}, where=left)
        state.chart("importance", det["rf"]["importance"], where=right)
        st.caption(f"{det['rows']:,} real holdout and {det['rows']:,} synthetic rows, {det['rf']['folds']}-fold "
                   "cross-validation; the importances are the forest's, averaged over the folds.")
        # the model's own discriminator comes after the detectors' results, which are already on the page
        with st.status(f"Scoring up to {ad.DISCRIMINATOR_ROWS:,} rows of each with the model's own discriminator…",
                       expanded=False) as status:
            disc = ad.discriminator(model_id, n, seed, cls)
            status.update(label="Discriminator scored", state="complete")
        if disc and not fail(disc):
            c.metric("Fooled rate", f"{disc['fooled']:.1%}",
                     help="Share of fakes the model's own discriminator scores at least as real as the median real row (0.5 = fully fooled).")
        if disc and "binned" in disc:
            state.chart("binned_overlay", disc["binned"], "discriminator logit (higher = judged real)",
                        "The model's own discriminator on real vs fake rows", rule=disc["threshold"],
                        real_vs_synthetic=True)
            st.caption(f"{disc['rows'][0]:,} real and {disc['rows'][1]:,} synthetic rows. Dashed line: median "
                       "score of the real rows, the fooled-rate threshold.")
        elif disc is None:
            st.caption("This model ships no discriminator.onnx, so there is no fooled rate.")
        protocol_views.boosting(PAGE, model_id, n, seed, cls, det["rows"])

elif section == "Utility":
    if cls != ad.ALL:
        st.info("Utility trains a classifier for the target, so it needs every class; showing all classes.")
    with st.status("Training random forests on real and on synthetic rows…") as status:
        util = ad.utility(model_id, n, seed)
        status.update(label="Utility measured", state="complete", expanded=False)
    a, b, c = st.columns(3)
    a.metric("Train on real → test on real (AUC)", f"{util['real_auc']:.3f}")
    b.metric("Train on synthetic → test on real (AUC)", f"{util['synthetic_auc']:.3f}")
    c.metric("Efficacy ratio", f"{util['ratio']:.3f}", help="synthetic AUC / real AUC; 1 = as useful as the real rows.")
    st.caption(f"Random forest (100 trees) predicting {target}; {util['rows'][0]:,} real training rows vs "
               f"{util['rows'][1]:,} synthetic rows, both tested on {util['rows'][2]:,} real holdout rows.")

elif section == "Privacy":
    with st.status("Finding each row's closest real training record…") as status:
        priv = ad.privacy(model_id, n, seed, cls)
        status.update(label="Distances measured", state="complete", expanded=False)
    if not fail(priv):
        a, b, c, d = st.columns(4)
        a.metric("Median DCR, synthetic", f"{priv['median_synthetic']:.3f}")
        b.metric("Median DCR, real holdout", f"{priv['median_holdout']:.3f}")
        c.metric("Ratio", f"{priv['ratio']:.2f}", help="≪ 1 would mean synthetic rows sit closer to training rows than new real rows do: memorisation.")
        d.metric("Exact copies of training rows", f"{priv['copies']:.2%}",
                 help=f"Real holdout rows that equal a training row: {priv['copies_holdout']:.2%}.")
        state.chart("binned_overlay", priv["binned"], "distance to the closest training row",
                    f"Distance to closest record ({priv['rows']:,} rows each)")
    protocol_views.privacy(model_id, n, seed, cls)

else:  # Per class
    with st.status("Measuring every class…") as status:
        table_pc = ad.per_class(model_id, n, seed)
        status.update(label="Classes measured", state="complete", expanded=False)
    per_class_columns = {"share real": st.column_config.NumberColumn(format="percent"),
                         "share synthetic": st.column_config.NumberColumn(format="percent"),
                         "KS/TV complement": st.column_config.NumberColumn(format="%.3f"),
                         "perfect generator KS/TV": st.column_config.NumberColumn(
                             format="%.3f", help="What the true distribution itself would score with these row "
                                                 "counts: a small class cannot reach 1 (or even 0.95)."),
                         "detection AUC (LR)": st.column_config.NumberColumn(format="%.3f"),
                         "detection AUC (RF)": st.column_config.NumberColumn(format="%.3f")}
    st.markdown("**Measured now**")
    st.dataframe(table_pc, hide_index=True, width="stretch", column_config=per_class_columns)
    st.caption(f"Real holdout rows vs {n:,} synthetic rows (seed {seed}), split by {target}; detection: logistic "
               f"regression, 5-fold. Minority class: {table.minority}. Pick a class above to see every section for "
               "it alone.")
    exported = card.metrics.get("per_class")
    if exported:
        names = {"rows_holdout": "rows real", "rows_synthetic": "rows synthetic", "share_holdout": "share real",
                 "share_synthetic": "share synthetic", "mean_ks_tv_complement": "KS/TV complement",
                 "detection_rf_auc": "detection AUC (RF)"}
        st.markdown("**Measured when the model was exported** (from its card)")
        st.dataframe([{"class": c, **{names.get(k, k): v for k, v in m.items()}} for c, m in exported.items()],
                     hide_index=True, width="stretch", column_config=per_class_columns)
        st.caption("All the card's synthetic rows vs the whole real holdout; detection: random forest of 100 trees, "
                   "5-fold. A different detector and sample than the live table, so compare within a table.")
