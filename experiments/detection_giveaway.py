"""What the protocol's XGBoost detector reads in a model's rows: its cross-validated AUC with all
columns, each column's share of the detector's total gain, and each column alone. A column that
gives rows away on its own is a marginal to fix; AUC that needs several columns is joint structure.

    python -m experiments.detection_giveaway --model adult-cgan-balanced-calibrated
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


def auc(features: pd.DataFrame, y: np.ndarray) -> float:
    from xgboost import XGBClassifier
    clf = XGBClassifier(n_jobs=THREADS, random_state=0, enable_categorical=True, tree_method="hist")
    return float(roc_auc_score(y, cross_val_predict(clf, features, y, cv=3, method="predict_proba")[:, 1]))


def main(argv=None) -> pd.DataFrame:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="adult-cgan-balanced-calibrated")
    args = p.parse_args(argv)
    from xgboost import XGBClassifier
    model = Model.load(args.model)
    t = load_table(model.card.dataset)
    synth = model.sample(len(t.train), seed=0)[t.train.columns]
    x = _codes(pd.concat([t.train, synth], ignore_index=True), t.categories, list(t.train.columns))
    y = np.r_[np.zeros(len(t.train)), np.ones(len(synth))]
    print(f"{args.model}: XGBoost detection AUC, all columns, 3 folds: {auc(x, y):.3f}")
    clf = XGBClassifier(n_jobs=THREADS, random_state=0, enable_categorical=True, tree_method="hist").fit(x, y)
    gain = pd.Series(clf.get_booster().get_score(importance_type="total_gain"))
    table = pd.DataFrame({"gain share": gain / gain.sum(),
                          "AUC alone": {c: auc(x[[c]], y) for c in x.columns}}).fillna(0.0)
    table = table.sort_values("gain share", ascending=False).round(3)
    print(table.to_markdown())
    return table


if __name__ == "__main__":
    main()
