"""The metric set of a tabular model, measured from its exported ONNX graph against real data.

Used at export time (the numbers written to the card) and by the app's Diagnostics page,
so both always agree on what a number means.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from explorer.metrics import diagnostics as dg
from explorer.metrics.confidence import link_metrics, measure_link
from explorer.data.tables import Table
from explorer.runtime.instance_space import embed
from explorer.metrics.instances import locality, neighbours
from explorer.runtime.models import Model


MAX_TRAIN_ROWS = 100_000  # real training rows the metrics use (Adult's 32,561 all count)


def evaluate_tabular(model: Model, table: Table, seed: int = 0, max_rows: int = 10_000,
                     per_class: bool = True, max_train: int = MAX_TRAIN_ROWS) -> dict:
    """Holdout metrics of ``model``; synthetic rows are as many as the real training rows (at most
    ``max_train``); detectors see at most ``max_rows`` rows a side."""
    train, holdout = table.train, table.holdout
    modes = model.card.imputed_modes
    if modes:
        train, holdout = (df.replace({c: {"?": m} for c, m in modes.items()}) for df in (train, holdout))
    if len(train) > max_train:  # a million-row table: forests and neighbours on a seeded subsample
        train = train.sample(max_train, random_state=seed)
    synth = model.sample(len(train), seed=seed)
    numeric = table.numeric
    fid = dg.fidelity(holdout, synth, numeric)
    rf = dg.detection(holdout, synth, numeric, "rf", max_rows=max_rows, seed=seed)
    lr = dg.detection(holdout, synth, numeric, "lr", max_rows=max_rows, seed=seed)
    # a numeric target is predicted as its range, from the other columns (its own values would give it away)
    drop = [table.range_of] if table.range_of else []
    eff = dg.efficacy(train.drop(columns=drop), synth.drop(columns=drop), holdout.drop(columns=drop),
                      table.target, numeric, seed=seed) if table.target else {}
    dcr = dg.distance_to_closest(train, synth, holdout, numeric, seed=seed)
    metrics = {
        "rows_synthetic": len(synth), "rows_holdout": len(holdout),
        "detection_rf_auc": rf["auc"], "detection_lr_auc": lr["auc"],
        **({"efficacy_ratio": eff["ratio"], "real_auc": eff["real_auc"], "synthetic_auc": eff["synthetic_auc"]}
           if eff else {}),
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
    missing = dg.missing_shares(holdout, synth)
    if len(missing):
        metrics["missing_share"] = {r.column: {"real": round(r.real, 4), "synthetic": round(r.synthetic, 4)}
                                    for r in missing.itertuples()}
    if per_class and table.target:
        metrics["per_class"] = {str(c): _class_metrics(holdout, synth, table, c, seed, min(5000, max_rows))
                                for c in table.categories[table.target]}
    return metrics


def _class_metrics(holdout: pd.DataFrame, synth: pd.DataFrame, table: Table, cls: str, seed: int,
                   max_rows: int = 5000) -> dict:
    real_c, synth_c = holdout[holdout[table.target] == cls], synth[synth[table.target] == cls]
    if len(synth_c) < 10:
        return {"rows_synthetic": len(synth_c), "note": "too few synthetic rows of this class to measure"}
    if len(real_c) < 10:  # a small table's rare class: a few holdout rows cannot be cross-validated
        return {"rows_synthetic": int(len(synth_c)), "rows_holdout": int(len(real_c)),
                "note": "too few holdout rows of this class to measure"}
    cols = [c for c in holdout.columns if c != table.target]
    fid = dg.fidelity(real_c[cols], synth_c[cols], table.numeric)
    return {"rows_synthetic": int(len(synth_c)), "rows_holdout": int(len(real_c)),
            "share_synthetic": float(len(synth_c) / len(synth)), "share_holdout": float(len(real_c) / len(holdout)),
            "mean_ks_tv_complement": float(fid["complement"].mean()),
            "detection_rf_auc": dg.detection_auc_rf(real_c[cols], synth_c[cols], table.numeric,
                                                     max_rows=max_rows, seed=seed)}


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


def evaluate_instance(model: Model, table: Table, seed: int = 0, instances: int = 50, rows: int = 100) -> dict:
    """The IC-GAN bars for ``instances`` training rows and as many unseen holdout rows: median
    distance ratio (generated → instance over random real → instance) and mean detection AUC of
    generated rows against the instance's k nearest real rows — the training rows for both, and,
    for holdout instances, also the other holdout rows (data the model never saw at all)."""
    space, k = model.condition.space, model.condition.k
    train_emb, hold_emb = embed(space, table.train), embed(space, table.holdout)
    reference = table.holdout.sample(min(1000, len(table.holdout)), random_state=seed)
    rng = np.random.default_rng(seed)
    generated_all, copies = [], 0
    results = {}
    for name, frame, emb in (("train", table.train, train_emb), ("holdout", table.holdout, hold_emb)):
        picks = rng.choice(len(frame), min(instances, len(frame)), replace=False)  # small tables: every row
        hoods = {"train": neighbours(train_emb, min(k, len(train_emb)), emb[picks])}
        if name == "holdout":
            hoods["holdout"] = neighbours(hold_emb, min(k, len(hold_emb)), emb[picks])
        per = {h: [] for h in hoods}
        for j, i in enumerate(picks):
            instance = frame.iloc[[i]]
            generated = model.sample(rows, seed=seed + j, instance=instance)
            generated_all.append(generated)
            copies += int((generated.astype(str) == instance.astype(str).iloc[0]).all(axis=1).sum())
            for h, idx in hoods.items():
                pool = table.train if h == "train" else table.holdout
                per[h].append(locality(space, instance, generated, pool.iloc[idx[j]], reference, table.numeric, seed=j))
        for h, values in per.items():
            ratios = [v["distance_ratio"] for v in values]
            aucs = [v["detection_auc"] for v in values]
            results[f"{name}_instances_{h}_neighbourhood"] = {
                "median_distance_ratio": float(np.median(ratios)),
                "median_neighbour_ratio": float(np.median([v["neighbour_ratio"] for v in values])),
                "mean_detection_auc": float(np.mean(aucs)), "std_detection_auc": float(np.std(aucs)),
                "share_ratio_at_most_0.5": float(np.mean(np.array(ratios) <= 0.5))}
    generated = pd.concat(generated_all, ignore_index=True)
    results.update({"instances": instances, "rows_per_instance": rows, "k": k,
                    "instance_copy_rate": copies / len(generated),
                    "exact_copy_rate": dg.exact_copy_rate(table.train, generated)})
    return results
