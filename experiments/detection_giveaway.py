"""What the protocol's XGBoost detector reads in a model's rows: its cross-validated AUC with all
columns, each column's share of the detector's total gain, and each column alone. A column that
gives rows away on its own is a marginal to fix; AUC that needs several columns is joint structure.
``--top N`` also lists the category levels most over-represented among the N synthetic rows the detector
(out of fold) finds most synthetic: where the joint structure is wrong.

    python -m experiments.detection_giveaway --model adult-cgan-balanced-calibrated
    python -m experiments.detection_giveaway --model adult-cgan-balanced-pairs --top 300
"""
from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_predict

from explorer.data.tables import load_table
from explorer.metrics.protocol import THREADS, _codes
from explorer.runtime.models import Model


def synthetic_odds(features: pd.DataFrame, y: np.ndarray) -> np.ndarray:
    """Each row's out-of-fold probability of being synthetic, from the protocol's XGBoost detector (3 folds)."""
    from xgboost import XGBClassifier
    clf = XGBClassifier(n_jobs=THREADS, random_state=0, enable_categorical=True, tree_method="hist")
    return cross_val_predict(clf, features, y, cv=3, method="predict_proba")[:, 1]


def auc(features: pd.DataFrame, y: np.ndarray) -> float:
    return float(roc_auc_score(y, synthetic_odds(features, y)))


def most_synthetic(synth: pd.DataFrame, odds: np.ndarray, top: int) -> pd.DataFrame:
    """Per categorical column, the level most over-represented among the ``top`` rows with the highest odds:
    its share there, its share among all synthetic rows, and the ratio."""
    chosen = synth.iloc[np.argsort(-odds)[:top]]
    rows = []
    for column in synth.columns:
        if pd.api.types.is_numeric_dtype(synth[column]):
            continue
        there, overall = chosen[column].value_counts(normalize=True), synth[column].value_counts(normalize=True)
        level = (there / overall).idxmax()
        rows.append({"column": column, "level": level, "share among the top": there[level],
                     "share overall": overall[level], "ratio": there[level] / overall[level]})
    return pd.DataFrame(rows).sort_values("ratio", ascending=False).round(3)


def main(argv=None) -> pd.DataFrame:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="adult-cgan-balanced-calibrated")
    p.add_argument("--top", type=int, default=0, help="list the levels over-represented among this many rows")
    args = p.parse_args(argv)
    from xgboost import XGBClassifier
    model = Model.load(args.model)
    t = load_table(model.card.dataset)
    synth = model.sample(len(t.train), seed=0)[t.train.columns]
    x = _codes(pd.concat([t.train, synth], ignore_index=True), t.categories, list(t.train.columns))
    y = np.r_[np.zeros(len(t.train)), np.ones(len(synth))]
    odds = synthetic_odds(x, y)
    print(f"{args.model}: XGBoost detection AUC, all columns, 3 folds: {roc_auc_score(y, odds):.3f}")
    if args.top:
        print(f"\nthe {args.top} synthetic rows it finds most synthetic:")
        print(most_synthetic(synth, odds[len(t.train):], args.top).to_markdown(index=False))
    clf = XGBClassifier(n_jobs=THREADS, random_state=0, enable_categorical=True, tree_method="hist").fit(x, y)
    gain = pd.Series(clf.get_booster().get_score(importance_type="total_gain"))
    table = pd.DataFrame({"gain share": gain / gain.sum(),
                          "AUC alone": {c: auc(x[[c]], y) for c in x.columns}}).fillna(0.0)
    table = table.sort_values("gain share", ascending=False).round(3)
    print(table.to_markdown())
    return table


if __name__ == "__main__":
    main()
