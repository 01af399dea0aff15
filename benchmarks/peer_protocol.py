"""Our tabular models on the field's shared protocol (TabSyn / TabDiff / TabPC), beside the published rows.

Each model samples as many rows as the training table (a cGAN at the training label mix) and is
scored against the training rows with explorer.metrics.protocol: SDMetrics Shape and all-pairs Trend,
logistic and XGBoost C2ST AUC, MLE (XGBoost fitted on synthetic rows, ROC AUC on the holdout:
adult.test for Adult), and the DCR share against an equal-size holdout. Models whose ids differ
only by a ``-seed<N>`` suffix are one model trained with several seeds: the table shows their
mean ± std. Real data's own row is the holdout judged like a model (its MLE is the classifier
trained on real rows: the ceiling); a table of independent marginals (each training column
shuffled on its own) is the floor for Trend, XGBoost detection and MLE. ``--samples N`` scores each
model on N draws and averages them first ("draws" in the table), so the spread left is the training
seeds'.

    python -m benchmarks.peer_protocol                                  # every committed tabular model
    python -m benchmarks.peer_protocol --dataset adult --models adult-cgan-balanced
    python -m benchmarks.peer_protocol --root exported --root /tmp/seeds --dataset adult
    python -m benchmarks.peer_protocol --dataset adult --models adult-cgan-balanced-pairs --samples 5
"""
from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd

from explorer.data.tables import TABLES, Table, load_table
from explorer.metrics.protocol import protocol, c2st_lr, c2st_xgb, mle, shape, trend
from explorer.runtime.models import Model, discover

ROOT = Path(__file__).resolve().parent.parent

METRICS = ("shape", "trend", "c2st_lr", "c2st_xgb", "mle", "dcr_share")
HEADERS = {"shape": "Shape ↑", "trend": "Trend ↑", "c2st_lr": "LR-C2ST AUC ↓", "c2st_xgb": "XGBoost-C2ST AUC ↓",
           "mle": "MLE (XGBoost AUC) ↑", "dcr_share": "DCR share (0.5 ideal)"}
# april-tools/tabpc's 2026 rerun, means of 5 runs (issue 13)
PUBLISHED = {"adult": {
    "TabPC (published)": (0.994, 0.986, 0.502, 0.572, 0.916, 0.543),
    "TabDiff (published)": (0.993, 0.985, 0.505, 0.580, 0.913, 0.549),
    "TabSyn (published)": (0.992, 0.980, 0.507, 0.603, 0.910, 0.507),
    "CTGAN (published)": (0.809, 0.758, 0.706, 1.00, 0.862, 0.484),
    "independent marginals (published)": (0.996, 0.925, 0.50, 0.992, 0.516, 0.503)}}
SEED = re.compile(r"-seed\d+$")


def real_row(t: Table) -> dict:
    """Real data's own score: the holdout judged against the training rows like a model's sample."""
    test = t.holdout[t.train.columns]
    return {"shape": shape(t.train, test, t.numeric), "trend": trend(t.train, test, t.numeric),
            "c2st_lr": c2st_lr(t.train, test, t.numeric), "c2st_xgb": c2st_xgb(t.train, test, t.numeric),
            "mle": mle(t.train, t.holdout, t.target, t.categories), "dcr_share": np.nan}


def independent(t: Table, seed: int = 0) -> pd.DataFrame:
    """The training rows with every column shuffled on its own: exact marginals, no joint structure."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({c: t.train[c].to_numpy()[rng.permutation(len(t.train))] for c in t.train.columns})


def measure(folder: Path | Model, t: Table, seed: int = 0) -> dict:
    model = folder if isinstance(folder, Model) else Model.from_folder(folder)
    synth = model.sample(len(t.train), seed=seed)
    return protocol(synth, t.train, t.holdout, t.numeric, t.categories, t.target, seed)


def measure_samples(folder: Path, t: Table, samples: int = 1) -> dict:
    """The protocol's scores averaged over ``samples`` draws (sample seeds 0, 1, ...): one draw's XGBoost
    detection moves by about ±0.004 on Adult, as much as the gaps between models it is asked to rank."""
    model = Model.from_folder(folder)  # opened once for all its draws
    runs = pd.DataFrame([measure(model, t, seed) for seed in range(samples)])
    return {**runs.mean().to_dict(), "samples": samples}


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    """mean ± std per model family (ids without their -seed<N> suffix)."""
    out = []
    for (dataset, family), group in rows.groupby(["dataset", "family"], sort=False):
        cells = {}
        for m in METRICS:
            v = group[m].dropna()
            cells[HEADERS[m]] = "—" if v.empty else (f"{v.mean():.3f} ± {v.std():.3f}" if len(v) > 1 else f"{v.mean():.3f}")
        quoted = group["runs"].dropna() if "runs" in group else pd.Series(dtype=float)  # published: their run count
        draws = group["samples"].dropna() if "samples" in group else pd.Series(dtype=float)
        out.append({"dataset": dataset, "model": family,
                    "runs": int(quoted.iloc[0]) if len(quoted) else len(group),
                    "draws": int(draws.iloc[0]) if len(draws) else "—", **cells})
    return pd.DataFrame(out)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", action="append", choices=TABLES, help="default: all three tables")
    p.add_argument("--models", nargs="*", help="model ids (default: every tabular model in the roots)")
    p.add_argument("--root", action="append", type=Path, help="model folders to read (default: exported/)")
    p.add_argument("--csv", type=Path, help="also write one row per model (and reference) here")
    p.add_argument("--no-reference", action="store_true", help="skip real data's row and independent marginals")
    p.add_argument("--samples", type=int, default=1,
                   help="draws per model (sample seeds 0..N-1), averaged before the mean ± std over training seeds")
    args = p.parse_args(argv)
    if args.samples < 1:
        p.error("--samples must be at least 1")
    datasets = args.dataset or list(TABLES)
    cards = {}
    for root in args.root or [ROOT / "exported"]:
        found, _ = discover(root)
        cards.update({mid: (root / mid, card) for mid, card in found.items()})
    rows = []
    for dataset in datasets:
        t = load_table(dataset)
        if not args.no_reference:
            start = time.perf_counter()
            rows.append({"dataset": dataset, "family": "real data (holdout vs training rows)", **real_row(t)})
            ind = independent(t)
            rows.append({"dataset": dataset, "family": "independent marginals (measured)",
                         **protocol(ind, t.train, t.holdout, t.numeric, t.categories, t.target)})
            print(f"{dataset}: references measured in {time.perf_counter() - start:.0f} s", flush=True)
        for mid, (folder, card) in sorted(cards.items()):
            if not card.tabular or card.dataset != dataset or (args.models and mid not in args.models
                                                                 and SEED.sub("", mid) not in args.models):
                continue
            if card.condition and card.condition.type != "label":
                continue  # confidence / instance inputs have no "training mix" to sample at
            start = time.perf_counter()
            rows.append({"dataset": dataset, "family": SEED.sub("", mid), "id": mid,
                         "seed": card.training.seed, **measure_samples(folder, t, args.samples)})
            print(f"{mid}: {time.perf_counter() - start:.0f} s", flush=True)
        for name, values in PUBLISHED.get(dataset, {}).items():
            rows.append({"dataset": dataset, "family": name, "runs": 5, **dict(zip(METRICS, values))})
    frame = pd.DataFrame(rows)
    if args.csv:
        args.csv.parent.mkdir(parents=True, exist_ok=True)
        frame.round(4).to_csv(args.csv, index=False)
    print(summarise(frame).to_markdown(index=False))
    return frame


if __name__ == "__main__":
    main()
