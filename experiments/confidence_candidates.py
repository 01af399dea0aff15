"""Reach and realism of a confidence GAN sampled with k candidates per request (issue 13).

The model's card is given each k in turn (``condition.candidates``), so the same generator is measured
with and without the choice: the export's link (19 levels × 200 rows) and the holdout figures of
``evaluate_tabular``, once per evaluation seed.

    python -m experiments.confidence_candidates --model credit-g-confgan --k 1 8 --seeds 0 1 2
"""
from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import pandas as pd

from explorer.data.tables import load_table
from explorer.metrics.confidence import link_metrics, measure_link
from explorer.metrics.report import evaluate_tabular
from explorer.runtime.models import Model, models_root


def with_candidates(model: Model, k: int) -> Model:
    model.card = dataclasses.replace(model.card, condition=dataclasses.replace(model.condition, candidates=k))
    return model


def measure(model: Model, table, seed: int) -> dict:
    _, link = measure_link(model, seed=seed)
    reach = link_metrics(link["requested"].to_numpy(), link["achieved"].to_numpy())
    quality = evaluate_tabular(model, table, seed=seed, per_class=False)
    return {"MAE": reach["mean_absolute_error"], "mean at 0.95": reach["per_level"]["0.95"]["mean"],
            "RF det.": quality["detection_rf_auc"], "LR det.": quality["detection_lr_auc"],
            "efficacy": quality.get("efficacy_ratio"), "KS/TV": quality["mean_ks_tv_complement"]}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="credit-g-confgan")
    p.add_argument("--root", type=Path, default=None, help="models folder (default: exported/)")
    p.add_argument("--k", type=int, nargs="+", default=[1, 8], help="candidates per request")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="evaluation seeds")
    args = p.parse_args(argv)
    root = args.root or models_root()
    table = load_table(Model.load(args.model, root).card.dataset)
    rows = []
    for k in args.k:
        for seed in args.seeds:
            rows.append({"k": k, "seed": seed, **measure(with_candidates(Model.load(args.model, root), k), table, seed)})
            print(pd.DataFrame(rows).round(3).to_string(index=False), flush=True)
    print(f"\n{args.model}, mean over seeds {args.seeds}:")
    print(pd.DataFrame(rows).drop(columns="seed").groupby("k").mean().round(3).to_string())


if __name__ == "__main__":
    main()
