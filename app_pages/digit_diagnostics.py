"""Diagnostics for digit models (drawn by app_pages/diagnostics.py; not a page of its own).

What the judge classifier sees in the samples (conditional-accuracy matrix or judged-digit
spread, confidence), the nearest real training image of a few samples, and Fréchet / precision /
recall / detection AUC measured live beside real data's own figures. Logic: explorer/app_digits.py.
"""
import numpy as np
import streamlit as st

from explorer.metrics import analysis as an
from explorer.app import digits as dd
from explorer.app import state
from explorer.data.tables import DataUnavailable
from explorer.app.digits import CONFIDENT
from explorer.runtime.images import grid

PAGE = "diagnostics"
PER_DIGIT_MIN = 50  # samples per digit below which a per-digit share is too noisy to show (±7 points at 50)
FEATURE_MIN = 1000  # samples below which the Fréchet distance is far above its large-sample value
SECTIONS = ["Judged digits", "Nearest real image", "Fréchet, precision, recall", "Discriminator"]


def show(model) -> None:
    card, model_id = model.card, model.id
    metrics = card.metrics
    if not dd.has_judge(model):
        st.info("This model ships no `classifier.onnx` (the digit judge), so there is nothing to measure its "
                "samples with; the Sample, Condition and Interpolate pages work without it.")
        return
    c1, c2 = st.columns(2)
    with c1:
        n = state.pick_n(PAGE, default=2000, limit=dd.MAX_SAMPLES, label="Samples (and real images for the reference)")
    with c2:
        seed = state.pick_seed(PAGE)
    if n is None or seed is None:
        return
    raw = state.initial("section", SECTIONS[0])
    section = st.radio("Section", SECTIONS, index=SECTIONS.index(raw) if raw in SECTIONS else 0, horizontal=True,
                       key=f"{PAGE}:digit-section", label_visibility="collapsed")
    state.remember("section", section, SECTIONS[0])
    try:
        dd.mnist()
        missing = None
    except DataUnavailable as exc:
        missing = state.data_help(exc, "mnist")

    if section == SECTIONS[0]:
        judged_digits(model, n, seed, metrics, missing)
    elif missing:
        st.warning(missing)
    elif section == SECTIONS[1]:
        nearest_images(model_id, seed)
    elif section == SECTIONS[2]:
        feature_metrics(model_id, n, seed, metrics)
    else:
        discriminator(model_id, n, seed)


def judged_digits(model, n: int, seed: int, metrics: dict, missing: str | None) -> None:
    with st.status(f"Sampling {n:,} digits and asking the judge…", expanded=False) as status:
        fake = dd.judged(model.id, n, seed)
        real = None if missing else dd.real_judged(model.id, n, seed)
        status.update(label="Samples judged", state="complete")
    summary = dd.summary(fake["probs"], fake["codes"])
    a, b, c = st.columns(3)
    if fake["codes"] is not None:
        exported = metrics.get("conditional_accuracy")
        a.metric("Conditional accuracy", f"{summary['conditional_accuracy']:.1%}",
                 help="Share of samples the judge labels as the digit they were asked for (every digit equally "
                      "often)." + (f" At export ({metrics.get('samples', '?')} samples): {exported:.1%}."
                                   if exported is not None else ""))
        per_digit = n // len(model.classes)
        if per_digit >= PER_DIGIT_MIN:
            b.metric(f"Worst digit ({summary['worst_digit']})", f"{summary['worst_accuracy']:.1%}")
        else:
            b.metric("Worst digit", "—", help=f"Not shown: {per_digit} samples per digit would put it within about "
                                              f"±{100 * (0.25 / max(per_digit, 1)) ** 0.5:.0f} points of chance. "
                                              f"Ask for at least {PER_DIGIT_MIN * len(model.classes):,} samples.")
    else:
        a.metric(f"Most common judged digit ({summary['most_common']})",
                 f"{summary['distribution'][summary['most_common']]:.1%}",
                 help="An unconditional model should spread over all ten digits (about 10 % each).")
    c.metric("Judge confident (> 0.9)", f"{summary['confident_share']:.1%}",
             help="Share of samples whose top class probability exceeds 0.9"
                  + (f"; real test images: {(real['probs_test'].max(1) > 0.9).mean():.1%}." if real else "."))
    left, right = st.columns(2)
    if fake["codes"] is not None:
        state.chart("digit_matrix", dd.digit_matrix(fake["probs"], fake["codes"]), where=left)
        left.caption(f"{n:,} samples, every digit equally often, seed {seed}. Row = digit asked for, column = the "
                     "judge's label; the diagonal is the per-digit conditional accuracy.")
    else:
        state.chart("digit_shares", dd.digit_shares(fake["probs"], None if real is None else real["labels_test"]),
                    where=left)
        left.caption(f"Judged digit of {n:,} samples (seed {seed})"
                     + ("" if real is None else f" beside the true digit of {len(real['labels_test']):,} real test images")
                     + ".")
    confidence = {"synthetic": fake["probs"].max(1)}
    if real is not None:
        confidence["real"] = real["probs_test"].max(1)
    state.chart("binned_overlay", an.binned(confidence, bins=25), "the judge's top class probability",
                "Classifier confidence", rule=CONFIDENT, real_vs_synthetic=True, where=right)
    right.caption("Dashed line: the 0.9 confidence threshold." + ("" if real is None else " Real: random test images."))
    if missing:
        st.info(missing)


def nearest_images(model_id: str, seed: int) -> None:
    count = st.slider("Samples", 1, dd.NEIGHBOURS_MAX, 8, key=f"{PAGE}:neighbours",
                      help="The first samples of the seed, each beside the closest of the 60,000 training images.")
    with st.status("Searching the 60,000 training images…", expanded=False) as status:
        found = dd.nearest(model_id, count, seed)
        typical = dd.real_nearest()
        status.update(label="Nearest training images found", state="complete")
    st.caption(f"Left: sample; right: its nearest training image (pixel L2 distance, pixels in [0, 1]). For "
               f"comparison, {typical['count']} real test images lie at a median distance of {typical['median']:.2f} "
               f"from their nearest training image (10 % closer than {typical['p10']:.2f}); samples much closer than "
               "that would be copies of training digits.")
    cols = st.columns(4)
    for i in range(count):
        pair = np.stack([found["samples"][i], found["neighbours"][i]])
        parts = ([] if found["codes"] is None else [f"asked {int(found['codes'][i])}"]) + \
                ([] if found["probs"] is None else [f"judged {int(found['probs'][i].argmax())}"])
        label = f" ({', '.join(parts)})" if parts else ""
        cols[i % 4].image(grid(pair, 2), width="stretch",
                          caption=f"sample {i}{label} → train #{found['indices'][i]:,} (digit {found['labels'][i]}), "
                                  f"distance {found['distances'][i]:.2f}")
    d = found["distances"]
    st.caption(f"Sample distances: median {np.median(d):.2f}, smallest {d.min():.2f}.")


def feature_metrics(model_id: str, n: int, seed: int, metrics: dict) -> None:
    with st.status(f"Measuring {n:,} samples against {n:,} real test images…", expanded=False) as status:
        bar = st.progress(0.0, text="Judging real test and training images")
        dd.real_judged(model_id, n, seed)
        bar.progress(0.35, text="Sampling and judging the model's digits")
        dd.judged(model_id, n, seed)
        bar.progress(0.6, text="Fréchet distance, k-NN precision/recall, detection (5-fold)")
        live = dd.feature_metrics(model_id, n, seed)
        bar.progress(1.0, text="Done")
        status.update(label="Measured", state="complete")
    m, ref, rel = live["model"], live["reference"], live["relative"]
    if n < FEATURE_MIN:
        st.warning(f"{n:,} samples are few for these figures: the Fréchet distance of small samples is far above its "
                   f"large-sample value (the card's uses {metrics.get('samples', 10_000):,}), so compare it with the "
                   f"reference measured at the same size ('× reference'), not with the card; ask for at least "
                   f"{FEATURE_MIN:,} samples for figures close to the card's.", icon=":material/warning:")
    plain = {"delta_color": "off", "delta_arrow": "off"}  # a comparison, not a change
    a, b, c, d = st.columns(4)
    a.metric("Fréchet distance", f"{m['frechet']:.2f}", f"{rel['frechet_vs_reference']:.1f}× reference", **plain,
             help=f"On the judge's 128-d features vs the test images; lower is better. "
                  f"Real training images score {ref['frechet']:.2f} (the reference).")
    b.metric("Precision", f"{m['precision']:.3f}", f"{rel['precision_vs_reference']:.2f}× reference", **plain,
             help=f"Share of samples inside the real images' k-NN balls (k = 3): fidelity. Reference {ref['precision']:.3f}.")
    c.metric("Recall", f"{m['recall']:.3f}", f"{rel['recall_vs_reference']:.2f}× reference", **plain,
             help=f"Share of real images inside the samples' k-NN balls: diversity. Reference {ref['recall']:.3f}.")
    d.metric("Detection AUC", f"{m['detection_auc']:.3f}", f"reference {ref['detection_auc']:.3f}", **plain,
             help="Logistic regression on the judge's features telling real test images from samples (5-fold); "
                  "0.5 = indistinguishable.")
    st.dataframe(dd.metrics_table(live, metrics, n), hide_index=True, width="stretch",
                 column_config={k: st.column_config.NumberColumn(format="%.3f")
                                for k in ("frechet", "precision", "recall", "detection_auc")})
    st.caption(f"Reference: {n:,} random real training images measured the same way against the same test images — "
               "the best a generator can be expected to do at this sample size (the Fréchet distance of two finite "
               "real samples is not 0, and k-NN precision/recall of real data sit below 1). The export-time rows "
               "come from the card.")


def discriminator(model_id: str, n: int, seed: int) -> None:
    with st.status("Scoring real and generated digits with the model's own discriminator…", expanded=False) as status:
        scored = dd.discriminated(model_id, n, seed)
        status.update(label="Scored", state="complete")
    if scored is None:
        st.caption("This model ships no discriminator.onnx, so there is no fooled rate.")
        return
    st.metric("Fooled rate", f"{scored['fooled']:.1%}",
              help="Share of samples the model's own discriminator scores at least as real as the median real test "
                   "image (0.5 = it cannot rank them below real digits).")
    state.chart("binned_overlay", scored["binned"], "discriminator logit (higher = judged real)",
                "The model's own discriminator on real vs generated digits", rule=scored["threshold"],
                real_vs_synthetic=True)
    st.caption(f"{scored['rows'][0]:,} real test images (with their true digit) and {scored['rows'][1]:,} samples "
               "(with the digit asked for). Dashed line: median score of the real images, the fooled-rate threshold.")
