"""How high can a mean KS/TV complement go on each holdout? The issues' bars (≥ 0.97 Adult,
≥ 0.95 credit-g and diabetes, ≥ 0.95 for each minority class) beside three ceilings, all scored
with ``explorer.metrics.diagnostics.fidelity`` — the card's own function:

- real train rows judged against our fixed holdout (what the cards compare with);
- real train rows over many other seeded stratified 80/20 splits of the same table (is our
  split a typical one?);
- a perfect generator: holdout-sized and 20,000-row samples drawn from all real rows
  (``fidelity_ceiling``; generous, as ties shrink KS).

and the committed models, at the card's setting (as many synthetic rows as training rows) and
with 20,000 synthetic rows.

    python -m experiments.fidelity_ceiling [--draws 200] [--splits 200]   # ≈ 1 min; writes results/fidelity_ceiling.csv
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from explorer.metrics import diagnostics as dg
from explorer.data.tables import HOLDOUT_FRACTION, load_table
from explorer.runtime.models import Model, discover

BARS = {"adult": 0.97, "credit-g": 0.95, "diabetes": 0.95}
MINORITY_BAR = 0.95
SYNTHETIC_ROWS = 20_000
OUT = Path(__file__).resolve().parent.parent / "results" / "fidelity_ceiling.csv"


def score(real: pd.DataFrame, synth: pd.DataFrame, numeric: list[str], cls: str | None, target: str) -> float:
    if cls is not None:
        real, synth = (df[df[target] == cls].drop(columns=target) for df in (real, synth))
    return float(dg.fidelity(real, synth[real.columns], numeric)["complement"].mean())


def split_scores(population: pd.DataFrame, table, cls: str | None, splits: int) -> np.ndarray:
    """Real train rows vs holdout over other seeded stratified splits (Adult ships a fixed split:
    its own is the only one there is)."""
    return np.array([score(ho, tr, table.numeric, cls, table.target) for tr, ho in (
        train_test_split(population, test_size=HOLDOUT_FRACTION, stratify=population[table.target], random_state=s)
        for s in range(splits))])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--draws", type=int, default=200, help="perfect-generator draws per line")
    ap.add_argument("--splits", type=int, default=200, help="random 80/20 splits per small table")
    args = ap.parse_args()
    cards, _ = discover()
    rows = []
    for name, bar in BARS.items():
        table = load_table(name)
        population = pd.concat([table.train, table.holdout], ignore_index=True)
        models = {mid: Model.load(mid) for mid, card in sorted(cards.items())
                  if card.kind == "tabular" and card.dataset == name}
        samples = {mid: (m.sample(len(table.train), seed=0), m.sample(SYNTHETIC_ROWS, seed=0)) for mid, m in models.items()}
        for cls in (None, table.minority):
            real = population if cls is None else population[population[table.target] == cls].drop(columns=table.target)
            m = len(table.holdout) if cls is None else int((table.holdout[table.target] == cls).sum())
            perfect = dg.fidelity_ceiling(real, table.numeric, m, SYNTHETIC_ROWS, draws=args.draws, seed=0)
            splits = split_scores(population, table, cls, args.splits) if name != "adult" else np.array([np.nan])
            line_bar = bar if cls is None else MINORITY_BAR
            models_at = {mid: [score(table.holdout, s, table.numeric, cls, table.target) for s in pair]
                         for mid, pair in samples.items()}
            best = max(models_at, key=lambda k: models_at[k][1])
            rows.append({
                "dataset": name, "rows": "all" if cls is None else f"minority ({cls})", "holdout rows": m,
                "bar": line_bar,
                "real train rows, our holdout": score(table.holdout, table.train, table.numeric, cls, table.target),
                "real train rows, random splits (mean)": splits.mean(),
                "random splits ≥ bar": (splits >= line_bar).mean() if name != "adult" else np.nan,
                "perfect generator (mean)": perfect.mean(), "perfect generator (p95)": np.quantile(perfect, 0.95),
                "perfect generator ≥ bar": (perfect >= line_bar).mean(),
                "best model": best, "best model, card's rows": models_at[best][0],
                f"best model, {SYNTHETIC_ROWS:,} rows": models_at[best][1]})
            print(f"{name} {rows[-1]['rows']}: done", file=sys.stderr)
    frame = pd.DataFrame(rows)
    frame.to_csv(OUT, index=False, float_format="%.4f")
    print(frame.round(3).to_markdown(index=False))


if __name__ == "__main__":
    main()
