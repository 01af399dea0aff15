"""Cached diagnostics for the app: each function takes only small keys (model id, rows, seed,
class) so st.cache_data hashes nothing big; the rows themselves come from the cached sample
and the cached real table. Metric code is ``explorer.metrics.diagnostics`` — the same as on the cards."""
from __future__ import annotations

import numpy as np
import pandas as pd

from explorer.metrics import analysis as an
from explorer.metrics import diagnostics as dg
from explorer.metrics import pairs, references
from explorer.app.gate import heavy
from explorer.app.state import load_model, per_model, real_table, sample

ALL = "all classes"
DISCRIMINATOR_ROWS = 500  # per side: the fooled rate's standard error ≤ 2.2 points, half the time of 1,000


def _real(model_id: str, cls: str = ALL):
    """(train, holdout, numeric, target): the real rows as a model saw them, optionally one class only."""
    card = load_model(model_id).card
    table = real_table(card)
    train, holdout = an.real_frames(card, table.train, table.holdout)
    target = card.target or table.target
    if cls != ALL:
        train, holdout = (df[df[target] == cls] for df in (train, holdout))
    return train, holdout, table.numeric, target


def _frames(model_id: str, n: int, seed: int, cls: str = ALL):
    """(train, holdout, synthetic, numeric, target) for a model, optionally one class only."""
    train, holdout, numeric, target = _real(model_id, cls)
    synth = sample(model_id, n, seed)
    if cls != ALL:
        synth = synth[synth[target] == cls]
    return train, holdout, synth, numeric, target


def real_reference(holdout: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    return holdout.sample(min(n, len(holdout)), random_state=seed)


@per_model(32)
def distributions(model_id: str, n: int, seed: int, cls: str = ALL) -> dict:
    train, holdout, synth, numeric, target = _frames(model_id, n, seed, cls)
    real = real_reference(holdout, n, seed)
    columns = [c for c in real.columns if not (cls != ALL and c == target)]
    real, synth = real[columns], synth[columns]
    if len(real) < 2 or len(synth) < 2:
        return {"error": f"too few rows to compare (real {len(real)}, synthetic {len(synth)})"}
    with heavy():
        hists = {c: an.histogram(real[c], synth[c], c in numeric) for c in columns}
        return {"fidelity": dg.fidelity(real, synth, [c for c in numeric if c in columns]),
                "histograms": hists, "numeric": numeric, "rows": (len(real), len(synth)),
                "association": an.association_long(real, synth, [c for c in numeric if c in columns], seed=seed),
                "pca": an.projection(real, synth, [c for c in numeric if c in columns], "pca", seed=seed)}


@per_model(32)
def fidelity_ceiling(model_id: str, real_rows: int, synthetic_rows: int, cls: str = ALL, draws: int = 30) -> dict:
    """What a perfect generator would score with these row counts (``dg.fidelity_ceiling``, drawn
    from all real rows of the table or class), so a KS/TV complement is read against it, not 1."""
    train, holdout, numeric, target = _real(model_id, cls)
    population = pd.concat([train, holdout], ignore_index=True)
    if cls != ALL:
        population = population.drop(columns=target)
    with heavy():
        scores = dg.fidelity_ceiling(population, [c for c in numeric if c in population], real_rows, synthetic_rows,
                                     draws=draws, seed=0)
    return {"mean": float(scores.mean()), "low": float(np.quantile(scores, 0.05)),
            "high": float(np.quantile(scores, 0.95)), "draws": draws}


TSNE_ROWS = 600  # per side
TSNE_SECONDS_PER_1000 = 2.5  # points on 2 idle cores (1,200 points: 2.6-2.8 s measured); bench_app.py measures it


def tsne_seconds(points: int) -> float:
    """Expected t-SNE time, said on its button before the click (roughly linear in the points at this size)."""
    return max(2.0, TSNE_SECONDS_PER_1000 * points / 1000)


@per_model(16)
def tsne(model_id: str, n: int, seed: int, cls: str = ALL, max_rows: int = TSNE_ROWS) -> pd.DataFrame:
    train, holdout, synth, numeric, target = _frames(model_id, n, seed, cls)
    real = real_reference(holdout, n, seed)
    with heavy():
        return an.projection(real, synth[real.columns], [c for c in numeric if c in real.columns], "tsne",
                             max_rows=max_rows, seed=seed)


DETECTOR_TREES, DETECTOR_LEAF = 50, 3  # the cards' forest has 100 trees, leaf 1: AUC within 0.01 (Adult), ~3x faster


def _detection_rows(model_id: str, n: int, seed: int, cls: str):
    """(real, synthetic, numeric, folds) for the detectors, or an error message."""
    train, holdout, synth, numeric, target = _frames(model_id, n, seed, cls)
    real = real_reference(holdout, n, seed)
    columns = [c for c in real.columns if not (cls != ALL and c == target)]
    k = min(len(real), len(synth))
    if k < 10:
        return f"too few rows to train a detector (real {len(real)}, synthetic {len(synth)})"
    return real[columns], synth[columns], [c for c in numeric if c in columns], int(min(5, k))


@per_model(32)
def detector(model_id: str, n: int, seed: int, cls: str, kind: str) -> dict:
    """One cross-validated detector ("rf": a forest of DETECTOR_TREES trees, "lr": logistic regression)."""
    rows = _detection_rows(model_id, n, seed, cls)
    if isinstance(rows, str):
        return {"error": rows}
    real, synth, num, folds = rows
    with heavy():
        result = dg.detection(real, synth, num, kind, folds=folds, max_rows=n, seed=seed, trees=DETECTOR_TREES,
                              leaf=DETECTOR_LEAF)
    return {**result, "rows": min(len(real), len(synth)), "folds": folds}


def detection(model_id: str, n: int, seed: int, cls: str = ALL) -> dict:
    """Both detectors: {"rf": …, "lr": …, "rows": …} or {"error": …}."""
    rf = detector(model_id, n, seed, cls, "rf")
    if "error" in rf:
        return rf
    return {"rf": rf, "lr": detector(model_id, n, seed, cls, "lr"), "rows": rf["rows"]}


@per_model(32)
def discriminator(model_id: str, n: int, seed: int, cls: str = ALL) -> dict | None:
    model = load_model(model_id)
    if "discriminator" not in model.sessions:
        return None
    train, holdout, synth, numeric, target = _frames(model_id, n, seed, cls)
    k = min(n, DISCRIMINATOR_ROWS)
    real = real_reference(holdout, k, seed)
    synth = synth.sample(min(k, len(synth)), random_state=seed)
    if len(real) == 0 or len(synth) == 0:
        return {"error": "no rows of this class"}
    with heavy():
        real_scores, fake_scores = model.discriminate(real), model.discriminate(synth)
    return {"binned": an.binned({"real": real_scores, "synthetic": fake_scores}),
            "fooled": dg.fooled_rate(real_scores, fake_scores), "threshold": float(np.median(real_scores)),
            "rows": (len(real), len(synth))}


@per_model(32)
def utility(model_id: str, n: int, seed: int) -> dict:
    """Train-on-synthetic vs train-on-real (same number of rows), both tested on the real holdout."""
    train, holdout, synth, numeric, target = _frames(model_id, n, seed)
    real_train = train.sample(min(n, len(train)), random_state=seed)
    with heavy():
        result = dg.efficacy(real_train, synth[real_train.columns], holdout, target, numeric, seed=seed)
    result["rows"] = (len(real_train), len(synth), len(holdout))
    return result


@per_model(32)
def privacy(model_id: str, n: int, seed: int, cls: str = ALL) -> dict:
    train, holdout, synth, numeric, target = _frames(model_id, n, seed, cls)
    if min(len(train), len(holdout), len(synth)) < 1:
        return {"error": "no rows of this class"}
    with heavy():
        dcr = dg.distance_to_closest(train, synth, holdout, numeric, max_rows=min(n, 5000), seed=seed)
        copies = dg.exact_copy_rate(train, synth), dg.exact_copy_rate(train, holdout)
    return {"binned": an.binned({"synthetic": dcr["synthetic"], "holdout": dcr["holdout"]}),
            "median_synthetic": dcr["median_synthetic"], "median_holdout": dcr["median_holdout"],
            "ratio": dcr["ratio"], "copies": copies[0], "copies_holdout": copies[1], "rows": len(dcr["synthetic"])}


@per_model(32)
def per_class(model_id: str, n: int, seed: int) -> pd.DataFrame:
    train, holdout, synth, numeric, target = _frames(model_id, n, seed)
    real = real_reference(holdout, n, seed)
    classes = list(real_table(load_model(model_id).card).categories[target])
    with heavy():
        table = an.per_class(real, synth, target, numeric, classes, seed=seed)
    table.insert(table.columns.get_loc("KS/TV complement") + 1, "perfect generator KS/TV", [
        np.nan if np.isnan(score) else fidelity_ceiling(model_id, int(r), int(s), cls)["mean"]
        for cls, r, s, score in zip(table["class"], table["rows real"], table["rows synthetic"], table["KS/TV complement"])])
    return table


# ---------------------------------------------------------------- the field's protocol, beside real data's own
PRIVACY_ROWS = 2000  # per side: the DCR share's standard error ≈ 0.011; Adult: 4.4-7.6 s CPU for both sides
BOOSTING_SECONDS_PER_1000 = 1.5  # rows per side: boosting + three references, Adult at 5,000: 7.3 s CPU


def boosting_seconds(rows: int) -> float:
    """Expected time of the gradient-boosting detector and the three real-vs-real references, said on its button."""
    return max(2.0, BOOSTING_SECONDS_PER_1000 * rows / 1000)


def _columns(train: pd.DataFrame, numeric: list[str], target: str, cls: str) -> tuple[list[str], list[str]]:
    """(columns, numeric columns) compared: one class's rows leave out its (constant) target."""
    columns = [c for c in train.columns if not (cls != ALL and c == target)]
    return columns, [c for c in numeric if c in columns]


@per_model(32)
def trend(model_id: str, n: int, seed: int, cls: str = ALL) -> dict:
    """All-pairs Trend (SDMetrics' ColumnPairTrends) of the synthetic rows and of the real holdout, each
    against the training rows, with the heatmap's cells and the worst pairs."""
    train, holdout, synth, numeric, target = _frames(model_id, n, seed, cls)
    columns, num = _columns(train, numeric, target, cls)
    if min(len(holdout), len(synth)) < 10 or len(columns) < 2:
        return {"error": f"too few rows or columns to compare pairs (real {len(holdout)}, synthetic {len(synth)}, "
                         f"{len(columns)} columns)"}
    with heavy():
        result = references.trend(train[columns], holdout[columns], synth[columns], num, rows=n, seed=seed)
    return {**result, "cells": pairs.difference_long(result["details"], columns),
            "worst": references.worst_pairs(result["details"], 10)}


@per_model(32)
def reference_detector(model_id: str, n: int, seed: int, cls: str, kind: str) -> dict:
    """Real data's own detection AUC: the same detector and row counts as ``detector``, telling the same
    real holdout rows from real training rows instead of synthetic ones (0.5 up to sampling noise)."""
    rows = _detection_rows(model_id, n, seed, cls)
    if isinstance(rows, str):
        return {"error": rows}
    real, synth, num, folds = rows
    train = _real(model_id, cls)[0][real.columns]
    other = train.sample(min(len(synth), len(train)), random_state=seed)
    with heavy():
        result = dg.detection(real, other, num, kind, folds=folds, max_rows=n, seed=seed, trees=DETECTOR_TREES,
                              leaf=DETECTOR_LEAF)
    return {"auc": result["auc"], "rows": min(len(real), len(other))}


@per_model(16)
def protocol_privacy(model_id: str, n: int, seed: int, cls: str = ALL) -> pd.DataFrame | dict:
    """``references.privacy`` on up to PRIVACY_ROWS synthetic rows and as many real holdout rows."""
    train, holdout, synth, numeric, target = _frames(model_id, n, seed, cls)
    columns, num = _columns(train, numeric, target, cls)
    if len(holdout) < 2 * references.MIN_ROWS or len(synth) < references.MIN_ROWS:
        return {"error": f"too few rows for the privacy figures (real holdout {len(holdout)}, synthetic {len(synth)})"}
    with heavy():
        return references.privacy(train[columns], holdout[columns], synth[columns], num, rows=min(n, PRIVACY_ROWS),
                                  seed=seed)
