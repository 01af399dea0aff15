"""Why the app's Detection section is fast and still measures what the cards measure: the detection AUC of
the detectors as they were (every fold re-encodes its rows in a scikit-learn pipeline; a forest of 100
trees, as the cards had it, and the app's 50 trees with at least 3 rows per leaf; logistic regression with
lbfgs) beside today's (the rows encoded once per detection, then one classifier per fold), on one model's
rows, with the CPU seconds (all threads) each 5-fold run took.

    GAN_EXPLORER_DATA=../shared/data python -m benchmarks.detector_choice [--model adult-cgan-balanced] [--rows 5000]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
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


def per_fold_auc(real, synth, numeric, seed: int, kind: str, trees: int = 100, leaf: int = 1,
                 solver: str = "liblinear") -> float:
    """A detector as it was computed before: the whole pipeline (encoding included) fitted in every fold."""
    x, y = dg._balanced(dg.comparable(real, numeric), dg.comparable(synth, numeric), len(real), seed)
    categorical = [c for c in x.columns if c not in numeric]
    onehot = OneHotEncoder(handle_unknown="ignore", sparse_output=kind == "lr")
    if kind == "rf":
        model = make_pipeline(ColumnTransformer([("num", "passthrough", numeric), ("cat", onehot, categorical)]),
                              RandomForestClassifier(trees, min_samples_leaf=leaf, n_jobs=-1, random_state=seed))
    else:
        scale = make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler())
        model = make_pipeline(ColumnTransformer([("num", scale, numeric), ("cat", onehot, categorical)]),
                              LogisticRegression(max_iter=2000, solver=solver))
    p = cross_val_predict(model, x, y, cv=StratifiedKFold(5, shuffle=True, random_state=seed),
                          method="predict_proba")[:, 1]
    return float(roc_auc_score(y, p))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="adult-cgan-balanced")
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    args = parser.parse_args()
    model = Model.load(args.model)
    table = load_table(model.card.dataset)
    _, holdout = an.real_frames(model.card, table.train, table.holdout)
    numeric = [c for c in table.numeric if c in holdout.columns]
    app_rf = f"RF {DETECTOR_TREES} trees, leaf {DETECTOR_LEAF}"
    print(f"{'seed':>4} {'detector':44} {'AUC':>7} {'CPU s':>6}")
    aucs: dict[str, list[float]] = {}
    for seed in args.seeds:
        synth = model.sample(args.rows, seed=seed)[holdout.columns]
        real = holdout.sample(min(args.rows, len(holdout)), random_state=seed)
        now = lambda kind, **kw: dg.detection(real, synth, numeric, kind, max_rows=args.rows, seed=seed, **kw)["auc"]  # noqa: E731
        runs = {"RF 100 trees, per fold (cards before)": lambda: per_fold_auc(real, synth, numeric, seed, "rf"),
                f"{app_rf}, per fold (app before)": lambda: per_fold_auc(real, synth, numeric, seed, "rf",
                                                                         DETECTOR_TREES, DETECTOR_LEAF),
                "LR lbfgs, per fold (cards before)": lambda: per_fold_auc(real, synth, numeric, seed, "lr",
                                                                          solver="lbfgs"),
                "LR liblinear, per fold (app before)": lambda: per_fold_auc(real, synth, numeric, seed, "lr"),
                "RF 100 trees, encoded once (cards)": lambda: now("rf"),
                f"{app_rf}, encoded once (app)": lambda: now("rf", trees=DETECTOR_TREES, leaf=DETECTOR_LEAF),
                "LR liblinear, encoded once (cards, app)": lambda: now("lr")}
        for name, run in runs.items():
            t = time.process_time()
            aucs.setdefault(name, []).append(run())
            print(f"{seed:>4} {name:44} {aucs[name][-1]:7.4f} {time.process_time() - t:6.2f}")
    a = {k: np.array(v) for k, v in aucs.items()}
    names = list(a)
    for label, new, old in (("app forest − cards' forest before", 5, 0), ("app forest − app forest before", 5, 1),
                            ("cards' forest − cards' forest before", 4, 0), ("logistic − lbfgs before", 6, 2),
                            ("logistic − liblinear before", 6, 3)):
        gap = a[names[new]] - a[names[old]]
        print(f"{label:38} {gap.min():+.4f} to {gap.max():+.4f} (mean {gap.mean():+.4f})")


if __name__ == "__main__":
    main()
