"""Post-training calibration of a tabular generator, carried into the exported graph at no speed cost.

Per class (one "class" for an unconditional model), from a large sample of the trained generator:
- numeric columns: the generator's own CDF of each output composed with the real class's quantile
  function, tabulated on the decoder's grid, so every class-conditional numeric marginal matches
  the training rows (a monotone map: the generator's joint structure, its ranks, is kept);
- categorical columns: a bias on each category logit, found by iterating
  ``bias += log(real share / generated share)`` until the argmax frequencies match the real class's.
"""
from __future__ import annotations

import numpy as np
import torch

from explorer.data.tables import Table
from training.transforms import Calibration

METHOD = ("after training, per class: numeric outputs mapped through the generator's own CDF to the real "
          "class's quantiles (exact marginals), category logits shifted so argmax shares match the real "
          "class's; in-graph (training/calibrate.py)")
SMOOTH = 1e-5  # keeps the log of a never-drawn (or never-real) category finite
LEVELS = 10_000  # grid of each composed table, whatever the table's size: a generator's outputs may crowd
MAX_STEP = 2.0  # per-iteration cap on a bias update: a category nobody draws moves up gradually


@torch.no_grad()
def fit_calibration(generator: torch.nn.Module, transformer, table: Table, classes: list[str], latent_dim: int,
                    rows: int = 100_000, iterations: int = 50, seed: int = 0) -> Calibration:
    generator.eval()
    tf = transformer
    rng = torch.Generator().manual_seed(seed)
    train = tf.clean(table.train)
    n_num = len(tf.numeric_)
    levels = np.linspace(0, 1, LEVELS)
    tables, biases = [], []
    for k, cls in enumerate(classes or [None]):
        real = train if cls is None else train[train[table.target] == cls]
        z = torch.randn(rows, latent_dim, generator=rng)
        cond = None if cls is None else torch.eye(len(classes))[torch.full((rows,), k)]
        raw = generator(z, cond)
        u = torch.sigmoid(raw[:, :n_num]).numpy().astype(np.float64)
        per_column = []
        for j, col in enumerate(tf.numeric_):
            generated_cdf = np.searchsorted(np.sort(u[:, j]), levels, "right") / rows
            per_column.append(np.quantile(real[col.name].to_numpy(float), generated_cdf, method="inverted_cdf"))
        tables.append(np.stack(per_column) if per_column else np.zeros((0, LEVELS)))
        biases.append(_category_bias(raw[:, n_num:].numpy(), tf.one_hot(real).mean(0), tf.cat_sizes, iterations))
    return Calibration(tables=np.stack(tables).astype(np.float32), bias=np.stack(biases).astype(np.float32))


def _category_bias(logits: np.ndarray, real_share: np.ndarray, sizes: list[int], iterations: int) -> np.ndarray:
    """Per categorical block, ``bias += rate * log(real / drawn)`` steps from the best bias so far; a step
    that does not shrink the largest share gap is dropped and the rate halved (rows whose logits nearly
    tie make the shares jump, and fixed steps then oscillate)."""
    bias = np.zeros(logits.shape[1])
    start = 0
    for size in sizes:
        block, target = logits[:, start:start + size], real_share[start:start + size]

        def shares(b):
            return np.bincount(np.argmax(block + b, 1), minlength=size) / len(block)

        best, rate = np.zeros(size), 1.0
        drawn = shares(best)
        best_gap = np.abs(drawn - target).max()
        for _ in range(iterations):
            trial = best + rate * np.clip(np.log(target + SMOOTH) - np.log(drawn + SMOOTH), -MAX_STEP, MAX_STEP)
            trial_drawn = shares(trial)
            gap = np.abs(trial_drawn - target).max()
            if gap < best_gap:
                best, best_gap, drawn = trial, gap, trial_drawn
            else:
                rate /= 2
        bias[start:start + size] = best - best.max()
        start += size
    return bias
