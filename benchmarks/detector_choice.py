"""Why the app's Detection section uses a smaller forest and liblinear: the detection AUC of the cards'
detectors (random forest of 100 trees; logistic regression with lbfgs) beside the app's (50 trees with at
least 3 rows per leaf; liblinear), on one model's rows, with the seconds each 5-fold run took.

    GAN_EXPLORER_DATA=../shared/data python benchmarks/detector_choice.py [--model adult-cgan-balanced] [--rows 5000]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from explorer.app.diagnostics import DETECTOR_LEAF, DETECTOR_TREES
from explorer.data.tables import load_table
from explorer.metrics import analysis as an
from explorer.metrics import diagnostics as dg
from explorer.runtime.models import Model


def lbfgs_auc(real, synth, numeric, seed: int) -> float:
    """The logistic detector as the cards measured it before (lbfgs), for the comparison only."""
    x, y = dg._balanced(real, synth, len(real), seed)
    categorical = [c for c in x.columns if c not in numeric]
    prep = ColumnTransformer([("num", StandardScaler(), numeric),
                              ("cat", OneHotEncoder(handle_unknown="ignore"), categorical)])
    model = make_pipeline(prep, LogisticRegression(max_iter=2000))
    p = cross_val_predict(model, x, y, cv=StratifiedKFold(5, shuffle=True, random_state=seed),
                          method="predict_proba")[:, 1]
    return float(roc_auc_score(y, p))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="adult-cgan-balanced")
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    model = Model.load(args.model)
    table = load_table(model.card.dataset)
    _, holdout = an.real_frames(model.card, table.train, table.holdout)
    numeric = [c for c in table.numeric if c in holdout.columns]
    print(f"{'seed':>4} {'detector':28} {'AUC':>7} {'seconds':>8}")
    gaps = []
    for seed in args.seeds:
        synth = model.sample(args.rows, seed=seed)[holdout.columns]
        real = holdout.sample(min(args.rows, len(holdout)), random_state=seed)
        runs = {"RF 100 trees (cards)": lambda: dg.detection(real, synth, numeric, "rf", max_rows=args.rows,
                                                              seed=seed)["auc"],
                f"RF {DETECTOR_TREES} trees, leaf {DETECTOR_LEAF} (app)": lambda: dg.detection(
                    real, synth, numeric, "rf", max_rows=args.rows, seed=seed, trees=DETECTOR_TREES,
                    leaf=DETECTOR_LEAF)["auc"],
                "LR lbfgs": lambda: lbfgs_auc(real, synth, numeric, seed),
                "LR liblinear (cards and app)": lambda: dg.detection(real, synth, numeric, "lr", max_rows=args.rows,
                                                                     seed=seed)["auc"]}
        aucs = {}
        for name, run in runs.items():
            t = time.perf_counter()
            aucs[name] = run()
            print(f"{seed:>4} {name:28} {aucs[name]:7.4f} {time.perf_counter() - t:8.2f}")
        names = list(aucs)
        gaps.append((aucs[names[1]] - aucs[names[0]], aucs[names[3]] - aucs[names[2]]))
    rf, lr = np.array(gaps).T
    print(f"app − cards: forest {rf.min():+.4f} to {rf.max():+.4f}, logistic {lr.min():+.4f} to {lr.max():+.4f}")


if __name__ == "__main__":
    main()
