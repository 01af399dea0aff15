"""Hyperparameter sweep tables (written by ``python -m experiments.sweep``), read without torch or Ray.

One CSV per sweep, ``results/sweep-<dataset>-<space>.csv``: a row per trial with every tables'
setting, the holdout metrics of the cards (explorer/diagnostics.py) and the seconds it took.
``seed_summary`` folds the seeds of each configuration into R1's seed-stability table.
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from explorer.paths import results_dir

SWEEPS_ENV = "GAN_EXPLORER_SWEEPS"
METRICS = ("efficacy_ratio", "detection_rf_auc", "detection_lr_auc", "mean_ks_tv_complement")
TIMES = ("seconds", "train_seconds")
# Columns every trial row carries besides the tables' settings (training/configs.py) (label: the settings that vary, seed excluded).
REQUIRED = ("dataset", "space", "arch", "label", "seed", *METRICS, *TIMES, "best_epoch", "command")


def sweeps_dir() -> Path:
    return Path(os.environ.get(SWEEPS_ENV, results_dir()))


def sweep_files(folder: Path | None = None) -> list[Path]:
    """The trial tables in ``folder`` (default results/), not their ``-seeds.csv`` summaries."""
    folder = sweeps_dir() if folder is None else folder
    return sorted(p for p in folder.glob("sweep-*.csv") if not p.name.endswith("-seeds.csv"))


def read_sweep(path: Path) -> pd.DataFrame:
    """A trial table, checked to hold the columns the app and the summary need."""
    df = pd.read_csv(path)
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise ValueError(f"{path.name} is not a sweep table: no column {', '.join(missing)}")
    return df


def seed_summary(trials: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation (ddof 1) over the seeds of each configuration, best mean
    efficacy first: R1's seed-stability table for every configuration of the sweep."""
    keys = ["dataset", "space", "arch", "label"]
    grouped = trials.groupby(keys, sort=False)
    out = grouped.size().rename("seeds").to_frame()
    out["seed_list"] = grouped["seed"].agg(lambda s: " ".join(map(str, s)))
    for col in (*METRICS, "seconds"):
        out[f"{col}_mean"] = grouped[col].mean()
        out[f"{col}_std"] = grouped[col].std()
    out["efficacy_min"] = grouped["efficacy_ratio"].min()
    out["efficacy_max"] = grouped["efficacy_ratio"].max()
    return out.reset_index().sort_values("efficacy_ratio_mean", ascending=False, ignore_index=True)


def pretty_summary(summary: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """The summary as "mean ± std" text columns, for the app and the README."""
    out = summary[["arch", "label", "seeds"]].copy()
    for col in (*METRICS, "seconds"):
        d = 1 if col == "seconds" else digits
        out[col] = [f"{m:.{d}f} ± {s:.{d}f}" if pd.notna(s) else f"{m:.{d}f}"
                    for m, s in zip(summary[f"{col}_mean"], summary[f"{col}_std"])]
    out["efficacy range"] = [f"{lo:.{digits}f}–{hi:.{digits}f}"
                             for lo, hi in zip(summary["efficacy_min"], summary["efficacy_max"])]
    return out
