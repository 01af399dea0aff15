"""How far resampling a GAN's rows by an estimated density ratio moves the field's protocol (issue 13).

A classifier (XGBoost, native categoricals) learns the training rows against rows of the model; its
odds estimate p_real / p_model. Each output row is then one of k candidates, drawn with probability
proportional to those odds (sampling-importance-resampling): with an exact ratio and many candidates this
draws from the real distribution. Sampling then costs k generator rows and a classifier per row, so this
measures what the ratio route could give, not a serving path. ``--gaussian`` also fits a Gaussian per
class to the latents resampling kept and samples from it (an affine map a generator could fold in).

    python -m experiments.ratio_resampling --model adult-cgan-balanced-calibrated --k 1 4 16
    python -m experiments.ratio_resampling --model adult-cgan-balanced-calibrated --k 16 --gaussian
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from explorer.data.tables import load_table
from explorer.metrics.protocol import _codes, protocol
from explorer.runtime.models import Model


def fit_ratio(real: pd.DataFrame, synth: pd.DataFrame, categories: dict[str, list], seed: int):
    """XGBoost real-vs-model classifier; returns a function giving each row's odds p_real / p_model."""
    from xgboost import XGBClassifier
    x = _codes(pd.concat([real, synth], ignore_index=True), categories, list(real.columns))
    y = np.r_[np.ones(len(real)), np.zeros(len(synth))]
    clf = XGBClassifier(n_estimators=300, max_depth=6, learning_rate=0.1, subsample=0.8, tree_method="hist",
                        enable_categorical=True, n_jobs=2, random_state=seed).fit(x, y)
    prior = len(synth) / len(real)

    def odds(frame: pd.DataFrame) -> np.ndarray:
        p = clf.predict_proba(_codes(frame, categories, list(real.columns)))[:, 1].clip(1e-4, 1 - 1e-4)
        return p / (1 - p) * prior

    return odds


def chosen(model: Model, odds, n: int, k: int, seed: int, temper: float = 1.0) -> tuple:
    """n of n·k rows of the model, one per group of k drawn in proportion to odds ** temper: the rows,
    their latents and their labels (None for an unconditional model)."""
    z = model.noise(n * k, seed)
    labels = model.labels(n * k, seed) if model.classes else None
    rows = model.generate(z, labels)
    if k == 1:
        return rows, z, labels
    w = odds(rows).reshape(n, k) ** temper
    u = np.random.default_rng([seed, 9]).uniform(size=(n, 1))
    pick = np.arange(n) * k + (np.cumsum(w / w.sum(1, keepdims=True), 1) < u).sum(1).clip(0, k - 1)
    return rows.iloc[pick].reset_index(drop=True), z[pick], None if labels is None else labels[pick]


def gaussian_rows(model: Model, z: np.ndarray, labels, n: int, seed: int) -> pd.DataFrame:
    """Rows from a full-covariance Gaussian fitted (per class) to the chosen latents ``z``."""
    rng = np.random.default_rng([seed, 11])
    out_labels = model.labels(n, seed + 1) if model.classes else None
    groups = model.classes if model.classes else [None]
    fresh = np.empty((n, model.latent_dim), np.float32)
    for c in groups:
        fit = np.ones(len(z), bool) if c is None else labels == c
        into = np.ones(n, bool) if c is None else out_labels == c
        chol = np.linalg.cholesky(np.cov(z[fit].T))
        fresh[into] = z[fit].mean(0) + rng.standard_normal((into.sum(), model.latent_dim)) @ chol.T
    return model.generate(fresh, out_labels)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="adult-cgan-balanced-calibrated")
    p.add_argument("--k", type=int, nargs="+", default=[1, 4, 16], help="candidates per output row")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--temper", type=float, default=1.0, help="weights are odds ** temper (1: exact resampling)")
    p.add_argument("--gaussian", action="store_true", help="also sample a Gaussian fitted to the kept latents")
    args = p.parse_args(argv)
    model = Model.load(args.model)
    t = load_table(model.card.dataset)
    train = t.train
    started = time.perf_counter()
    odds = fit_ratio(train, model.sample(2 * len(train), seed=1000 + args.seed)[train.columns], t.categories,
                     args.seed)
    print(f"ratio classifier fitted in {time.perf_counter() - started:.0f} s", flush=True)
    rows = []
    for k in args.k:
        started = time.perf_counter()
        synth, z, labels = chosen(model, odds, len(train), k, args.seed, args.temper)
        per_second = len(train) / (time.perf_counter() - started)
        tables = {"resampled": synth}
        if args.gaussian:
            tables["Gaussian of the kept latents"] = gaussian_rows(model, z, labels, len(train), args.seed)
        for how, frame in tables.items():
            scores = protocol(frame[train.columns], train, t.holdout, t.numeric, t.categories, t.target, args.seed)
            rows.append({"model": args.model, "k": k, "temper": args.temper, "rows": how,
                         "rows/s": round(per_second) if how == "resampled" else None,
                         **{m: round(v, 3) for m, v in scores.items()}})
            print(pd.DataFrame(rows).to_string(index=False), flush=True)


if __name__ == "__main__":
    main()
