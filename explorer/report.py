"""The metric set of a tabular model, measured from its exported ONNX graph against real data.

Used at export time (the numbers written to the card) and by the app's Diagnostics page,
so both always agree on what a number means.
"""
from __future__ import annotations

import pandas as pd

from explorer import diagnostics as dg
from explorer.confidence import link_metrics, measure_link
from explorer.datasets import Table
from explorer.models import Model


def evaluate_tabular(model: Model, table: Table, seed: int = 0, max_rows: int = 10_000,
                     per_class: bool = True) -> dict:
    """Holdout metrics of ``model``; synthetic rows are as many as the real training rows."""
    train, holdout = table.train, table.holdout
    if model.card.get("preprocessing", {}).get("impute") == "mode":
        modes = model.card["preprocessing"]["modes"]
        train, holdout = (df.replace({c: {"?": m} for c, m in modes.items()}) for df in (train, holdout))
    synth = model.sample(len(train), seed=seed)
    numeric = table.numeric
    fid = dg.fidelity(holdout, synth, numeric)
    rf = dg.detection(holdout, synth, numeric, "rf", max_rows=max_rows, seed=seed)
    lr = dg.detection(holdout, synth, numeric, "lr", max_rows=max_rows, seed=seed)
    eff = dg.efficacy(train, synth, holdout, table.target, numeric, seed=seed)
    dcr = dg.distance_to_closest(train, synth, holdout, numeric, seed=seed)
    metrics = {
        "rows_synthetic": len(synth), "rows_holdout": len(holdout),
        "detection_rf_auc": rf["auc"], "detection_lr_auc": lr["auc"],
        "efficacy_ratio": eff["ratio"], "real_auc": eff["real_auc"], "synthetic_auc": eff["synthetic_auc"],
        "mean_ks_tv_complement": float(fid["complement"].mean()),
        "column_complement": dict(zip(fid["column"], fid["complement"].round(4))),
        "correlation_similarity": dg.correlation_similarity(holdout, synth, numeric),
        "dcr_median_synthetic": dcr["median_synthetic"], "dcr_median_holdout": dcr["median_holdout"],
        "dcr_ratio": dcr["ratio"],
        "exact_copy_rate": dg.exact_copy_rate(train, synth),
        "exact_copy_rate_real_holdout": dg.exact_copy_rate(train, holdout),
        "top_giveaways": rf["importance"].head(5).round(4).to_dict(),
    }
    if "discriminator" in model.sessions:
        n = min(len(holdout), max_rows)
        metrics["fooled_rate"] = dg.fooled_rate(model.discriminate(holdout.sample(n, random_state=seed)),
                                                model.discriminate(synth.sample(n, random_state=seed)))
    if per_class:
        metrics["per_class"] = {str(c): _class_metrics(holdout, synth, table, c, seed) for c in table.categories[table.target]}
    return metrics


def _class_metrics(holdout: pd.DataFrame, synth: pd.DataFrame, table: Table, cls: str, seed: int) -> dict:
    real_c, synth_c = holdout[holdout[table.target] == cls], synth[synth[table.target] == cls]
    if len(synth_c) < 10:
        return {"rows_synthetic": len(synth_c), "note": "too few synthetic rows of this class to measure"}
    cols = [c for c in holdout.columns if c != table.target]
    fid = dg.fidelity(real_c[cols], synth_c[cols], table.numeric)
    return {"rows_synthetic": int(len(synth_c)), "rows_holdout": int(len(real_c)),
            "share_synthetic": float(len(synth_c) / len(synth)), "share_holdout": float(len(real_c) / len(holdout)),
            "mean_ks_tv_complement": float(fid["complement"].mean()),
            "detection_rf_auc": dg.detection_auc_rf(real_c[cols], synth_c[cols], table.numeric,
                                                     max_rows=5000, seed=seed)}


def headline(metrics: dict) -> dict:
    """The four numbers the issue's quality bar is stated in, rounded for tables."""
    keys = ("detection_rf_auc", "detection_lr_auc", "efficacy_ratio", "mean_ks_tv_complement")
    return {k: round(float(metrics[k]), 3) for k in keys if k in metrics}


def evaluate_confidence(model: Model, table: Table, seed: int = 0, levels: int = 19, per_level: int = 200) -> dict:
    """Requested vs achieved judge confidence over an even grid of C, and whether rows asked for
    evenly spread confidences still pass for real (RF detection against the holdout)."""
    frame, link = measure_link(model, seed, levels, per_level)
    metrics = link_metrics(link["requested"].to_numpy(), link["achieved"].to_numpy())
    n = min(len(table.holdout), len(frame))
    metrics["detection_rf_auc_even_confidence"] = dg.detection(
        table.holdout, frame.sample(n, random_state=seed), table.numeric, "rf", seed=seed)["auc"]
    return metrics
