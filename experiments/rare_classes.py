"""Issue 6.3's table: every tabular model's minority and majority class side by side (KS/TV
complement and RF detection against the holdout rows of that class, from the cards), beside real
data's own score — the training rows of the class judged against the holdout rows of the class
with the very same function (``explorer.metrics.report._class_metrics``).

    python -m experiments.rare_classes
"""
from __future__ import annotations


import pandas as pd

from explorer.data.tables import load_table
from explorer.runtime.models import discover
from explorer.metrics.report import _class_metrics


def main() -> None:
    cards, _ = discover()
    rows = []
    for dataset in ("adult", "credit-g", "diabetes"):
        table = load_table(dataset)
        minority = table.minority
        majority = next(c for c in table.categories[table.target] if c != minority)
        real = {c: _class_metrics(table.holdout, table.train, table, c, seed=0) for c in (minority, majority)}
        entries = [("real train rows (reference)", real)] + [
            (mid, card.metrics["per_class"]) for mid, card in sorted(cards.items())
            if card.kind == "tabular" and card.dataset == dataset and "per_class" in card.metrics]
        for name, per in entries:
            lo, hi = per[minority], per[majority]
            rows.append({"dataset": dataset, "model": name, "minority": minority,
                         "minority KS/TV": lo["mean_ks_tv_complement"], "majority KS/TV": hi["mean_ks_tv_complement"],
                         "minority RF det": lo["detection_rf_auc"], "majority RF det": hi["detection_rf_auc"],
                         "det gap": lo["detection_rf_auc"] - hi["detection_rf_auc"],
                         "holdout rows (minority)": lo["rows_holdout"]})
    print(pd.DataFrame(rows).round(3).to_markdown(index=False))


if __name__ == "__main__":
    main()
