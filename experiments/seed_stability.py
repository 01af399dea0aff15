"""R1's seed-stability table: train one model with several seeds and compare the holdout metrics.

Each seed runs the real CLI in its own process (same defaults as the committed model, only
--seed differs) into a scratch folder; the table (and mean ± std) goes to stdout and to results/seed_stability.csv, which
the app's Training page reads.

    python -m experiments.seed_stability --dataset adult --arch cgan --seeds 1234 42 57
    python -m experiments.seed_stability --set balanced=true --epochs 300 --suffix=-balanced --jobs 2

Rows of other models already in the CSV are kept; this model's rows are replaced.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from explorer.metrics.report import headline
from explorer.contract import Card

ROOT = Path(__file__).resolve().parent.parent


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="adult")
    p.add_argument("--arch", default="cgan")
    p.add_argument("--seeds", type=int, nargs="+", default=[1234, 42, 57])
    p.add_argument("--jobs", type=int, default=1, help="seeds trained at once (each uses one torch thread)")
    p.add_argument("--out", type=Path, default=ROOT / "results" / "seed_stability.csv")
    p.add_argument("--models", type=Path, help="keep the seed models here; seeds already exported there are reused")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="passed on to training.run")
    p.add_argument("--epochs", type=int, help="passed on to training.run")
    p.add_argument("--suffix", default="", help="the model's id suffix, e.g. -balanced (names its rows)")
    args = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        scratch = str(args.models or tmp)

        model = f"{args.dataset}-{args.arch}{args.suffix}"
        extra = [a for kv in args.set for a in ("--set", kv)] + (["--epochs", str(args.epochs)] if args.epochs else [])

        def train(seed):
            if (Path(scratch) / f"{model}-seed{seed}" / "card.json").exists():
                return seed
            subprocess.run([sys.executable, "-m", "training.run", "--dataset", args.dataset, "--arch", args.arch,
                            "--seed", str(seed), f"--suffix={args.suffix}-seed{seed}", "--out", scratch,
                            "--checkpoints", f"{scratch}/ckpt", "--resume", *extra], cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            return seed

        with ThreadPoolExecutor(args.jobs) as pool:
            for seed in tqdm(pool.map(train, args.seeds), total=len(args.seeds), desc="seeds"):
                card = Card.from_json((Path(scratch) / f"{model}-seed{seed}" / "card.json").read_text())
                rows.append({"model": model, "seed": seed, **headline(card.metrics),
                             "seconds": card.training.seconds, "best_epoch": card.training.best_epoch})
    table = pd.DataFrame(rows)
    summary = table.drop(columns=["model", "seed"]).agg(["mean", "std"]).round(4)
    print(table.to_string(index=False))
    print(summary.to_string())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    kept = pd.read_csv(args.out) if args.out.exists() else table.iloc[:0]
    pd.concat([kept[kept["model"] != model], table], ignore_index=True).to_csv(args.out, index=False)
    print(f"efficacy std across seeds: {table['efficacy_ratio'].std():.4f} (target ≤ 0.02); wrote {args.out}")


if __name__ == "__main__":
    main()
