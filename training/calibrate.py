"""Post-training calibration of a tabular generator, carried into the exported graph at no speed cost.

Per class (one "class" for an unconditional model), from a large sample of the trained generator:
- numeric columns: the generator's own CDF of each output composed with the real class's quantile
  function, tabulated on the decoder's grid, so every class-conditional numeric marginal matches
  the training rows (a monotone map: the generator's joint structure, its ranks, is kept);
- categorical columns: a bias on each category logit, found by iterating
  ``bias += log(real share / generated share)`` until the argmax frequencies match the real class's.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import torch

from explorer.data.tables import Table
from training.transforms import Calibration, parents_first

MAX_GROUPS = 256  # by pairs: (class, level) numeric tables beyond one per class, at most (Adult: 106, 9.7 MB)
ROWS, BY_PARENT_ROWS = 100_000, 300_000  # generated rows per class: by pairs, rare parent levels need rows too
MIN_REAL, MIN_DRAWN = 50, 500  # a parent level's own numeric table needs this many real and generated rows of the class
MIN_DRAWN_CATEGORY = 100  # a parent level's own child bias needs this many generated rows of the class
PRIOR_ROWS = 20  # a level's real child shares count beside a prior worth this many rows: the level in every class
METHOD = ("after training, per class: numeric outputs mapped through the generator's own CDF to the real "
          "class's quantiles (exact marginals), category logits shifted so argmax shares match the real "
          "class's; in-graph (training/calibrate.py)")
BY_PARENT = METHOD.replace("; in-graph", "; then, per class, the column pairs it gets most wrong made exact: each "
                           "column in calibration_parents is calibrated within each level of its parent "
                           "categorical (where the level has enough rows; a child's shares in a rare level pooled "
                           "with that level's in every class); in-graph")
SMOOTH = 1e-5  # keeps the log of a never-drawn (or never-real) category finite
LEVELS = 10_000  # grid of each composed table, whatever the table's size: a generator's outputs may crowd
MAX_STEP = 2.0  # per-iteration cap on a bias update: a category nobody draws moves up gradually


@torch.no_grad()
def fit_calibration(generator: torch.nn.Module, transformer, table: Table, classes: list[str], latent_dim: int,
                    rows: int | None = None, iterations: int = 50, seed: int = 0, by_parent: bool = False) -> Calibration:
    """``by_parent``: also calibrate, per class, the pairs of columns the generator gets most wrong (see
    ``_by_parent``)."""
    generator.eval()
    tf = transformer
    rows = rows or (BY_PARENT_ROWS if by_parent else ROWS)
    rng = torch.Generator().manual_seed(seed)
    train = tf.clean(table.train)
    n_num = len(tf.numeric_)
    tables, biases, draws = [], [], []
    for k, cls in enumerate(classes or [None]):
        real = train if cls is None else train[train[table.target] == cls]
        z = torch.randn(rows, latent_dim, generator=rng)
        cond = None if cls is None else torch.eye(len(classes))[torch.full((rows,), k)]
        raw = generator(z, cond)
        u = torch.sigmoid(raw[:, :n_num]).numpy().astype(np.float64)
        per_column = [_composed(u[:, j], real[col.name].to_numpy(float)) for j, col in enumerate(tf.numeric_)]
        tables.append(np.stack(per_column) if per_column else np.zeros((0, LEVELS)))
        logits, real_onehot = raw[:, n_num:].numpy(), tf.one_hot(real)
        biases.append(_category_bias(logits, real_onehot.mean(0), tf.cat_sizes, iterations))
        if by_parent:
            draws.append(_Draw(real, u, logits + biases[-1], real_onehot, tf, tables[-1]))
    calibration = Calibration(tables=np.stack(tables).astype(np.float32), bias=np.stack(biases).astype(np.float32))
    return _by_parent(calibration, draws, tf, iterations) if by_parent else calibration


class _Draw:
    """One class's generated rows (numeric CDF levels, class-calibrated logits and codes) beside its real rows."""

    def __init__(self, real, u, logits, real_onehot, tf, table):
        self.real, self.u, self.logits, self.table = real, u, logits, table
        self.names = [c.name for c in tf.numeric_]
        self.sizes = tf.cat_sizes[: len(tf.categorical_)]
        self.codes, self.real_codes = _codes(logits, self.sizes), _codes(real_onehot, self.sizes)
        self.starts = np.cumsum([0] + self.sizes[:-1])

    def block(self, c: int) -> np.ndarray:
        return self.logits[:, self.starts[c]:self.starts[c] + self.sizes[c]]


def _by_parent(calibration: Calibration, draws: list[_Draw], tf, iterations: int) -> Calibration:
    """Per class, the pairs the class-calibrated generator gets most wrong are made (nearly) exact.

    Categoricals: a tree over them (the maximum spanning tree of the pairs' total-variation gaps); each child's
    logits get a bias per level of its parent, fitted as the class bias is, so the pair's joint shares match
    the real class's. Numerics: each column's tables are split by the level of the categorical whose joint
    with it (the numeric in deciles) is furthest from real. A child's real shares within a (class, level) group
    count beside a prior worth ``PRIOR_ROWS`` rows, the level's shares over every class, so a level rare in a
    class still gets shares of its own; a numeric (class, level) group keeps the class's
    own table unless it has ``MIN_REAL`` real and ``MIN_DRAWN`` generated rows (a few real values would be
    copied); a group the generator draws too rarely keeps the class's own bias or table."""
    weights = np.array([len(d.real) for d in draws], float) / sum(len(d.real) for d in draws)
    n_cat = len(tf.categorical_)
    category_parents = _category_tree(draws, weights, n_cat)
    deltas = {c: np.zeros((len(draws), tf.cat_sizes[p], tf.cat_sizes[c])) for c, p in enumerate(category_parents)
              if p >= 0}
    children = [c for c in parents_first(category_parents) if category_parents[c] >= 0]
    pooled = {c: _pooled_shares(draws, c, category_parents[c]) for c in children}
    for k, d in enumerate(draws):
        for c in children:
            p = category_parents[c]
            block, target = d.block(c), np.eye(d.sizes[c])[d.real_codes[c]]
            for level in range(d.sizes[p]):
                drawn, real = d.codes[p] == level, d.real_codes[p] == level
                if drawn.sum() >= MIN_DRAWN_CATEGORY:
                    share = _shrunk(target[real].sum(0), pooled[c][level])
                    deltas[c][k, level] = _category_bias(block[drawn], share, [d.sizes[c]], iterations)
            d.codes[c] = np.argmax(block + deltas[c][k][d.codes[p]], 1)
    numeric_parents = _numeric_parents(draws, weights, len(tf.numeric_), n_cat)
    by_parent = {}
    for j, p in enumerate(numeric_parents):
        if p < 0:
            continue
        per_class = []
        for k, d in enumerate(draws):
            values = d.real[tf.numeric_[j].name].to_numpy(float)
            groups = [(d.codes[p] == level, d.real_codes[p] == level) for level in range(tf.cat_sizes[p])]
            per_class.append(np.stack([_composed(d.u[drawn, j], values[real]) if _own_group(drawn, real)
                                       else calibration.tables[k, j] for drawn, real in groups]))
        by_parent[j] = np.stack(per_class).astype(np.float32)
    return dataclasses.replace(calibration, parents=numeric_parents, by_parent=by_parent,
                               category_parents=category_parents,
                               category_bias={c: v.astype(np.float32) for c, v in deltas.items()})


def _shrunk(counts: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Real shares from few rows pulled towards a prior worth ``PRIOR_ROWS`` rows (a Dirichlet posterior mean)."""
    return (counts + PRIOR_ROWS * prior) / (counts.sum() + PRIOR_ROWS)


def _own_group(drawn: np.ndarray, real: np.ndarray) -> bool:
    """Whether a (class, level) group has the rows for a numeric table of its own (masks of its rows)."""
    return drawn.sum() >= MIN_DRAWN and real.sum() >= MIN_REAL


def _pooled_shares(draws: list[_Draw], c: int, p: int) -> np.ndarray:
    """[parent level, child level]: the child's real shares within each parent level over all classes (a level
    no real row has: the child's overall shares)."""
    counts = sum(_joint(d.real_codes[p], d.real_codes[c], (d.sizes[p], d.sizes[c]))
                 for d in draws).reshape(-1, draws[0].sizes[c]).astype(float)
    overall = counts.sum(0) / counts.sum()
    rows = counts.sum(1, keepdims=True)
    return np.where(rows > 0, counts / np.maximum(rows, 1), overall)


def parent_names(calibration: Calibration | None, tf) -> dict[str, str] | None:
    """The card's ``calibration_parents``: each column calibrated within a categorical, by name (None: none)."""
    if calibration is None or not calibration.has_parents:
        return None
    cats = [c.name for c in tf.categorical_]
    named = {col.name: cats[p] for col, p in zip(tf.numeric_, calibration.parents) if p >= 0}
    return named | {cats[c]: cats[p] for c, p in enumerate(calibration.category_parents or []) if p >= 0}


def _joint(a: np.ndarray, b: np.ndarray, sizes) -> np.ndarray:
    """Row counts of every (a level, b level) pair of two coded columns, a-major."""
    return np.bincount(a * sizes[1] + b, minlength=sizes[0] * sizes[1])


def _gap(a_real, b_real, a_drawn, b_drawn, sizes) -> float:
    """Total variation between the real and the generated joint shares of two coded columns."""
    real = _joint(a_real, b_real, sizes) / len(a_real)
    drawn = _joint(a_drawn, b_drawn, sizes) / len(a_drawn)
    return 0.5 * float(np.abs(real - drawn).sum())


def _category_tree(draws: list[_Draw], weights: np.ndarray, n_cat: int) -> list[int]:
    """Each categorical's parent (-1 for the root of each tree) in the maximum spanning tree of the class-weighted
    joint-share gaps between every two categoricals."""
    from scipy.sparse.csgraph import breadth_first_order, minimum_spanning_tree
    if n_cat < 2:
        return [-1] * n_cat
    gaps = np.zeros((n_cat, n_cat))
    for a in range(n_cat):
        for b in range(a + 1, n_cat):
            gaps[a, b] = sum(w * _gap(d.real_codes[a], d.real_codes[b], d.codes[a], d.codes[b],
                                      (d.sizes[a], d.sizes[b])) for w, d in zip(weights, draws))
    cost = np.triu(gaps.max() + 1.0 - gaps, 1)  # a spanning tree of least cost = of largest gaps (0 = no edge)
    tree = minimum_spanning_tree(cost)
    _, parents = breadth_first_order(tree, int(np.argmax(gaps.sum(0) + gaps.sum(1))), directed=False)
    return [int(p) if p >= 0 else -1 for p in parents]


def _numeric_parents(draws: list[_Draw], weights: np.ndarray, n_num: int, n_cat: int) -> list[int]:
    """Each numeric's worst-matched partner among the categoricals whose extra tables still fit in ``MAX_GROUPS``,
    the worst-matched columns first (a user's 300-level categorical would otherwise make a generator of
    hundreds of MB)."""
    gaps = [_partner_gaps(draws, weights, j, n_cat) for j in range(n_num)]
    parents, used = [-1] * n_num, 0
    for j in sorted(range(n_num), key=lambda j: -max(gaps[j], default=0.0)):
        fits = [p for p in range(n_cat) if used + len(draws) * (draws[0].sizes[p] - 1) <= MAX_GROUPS and gaps[j][p] > 0]
        if fits:
            parents[j] = max(fits, key=lambda p: gaps[j][p])
            used += len(draws) * (draws[0].sizes[parents[j]] - 1)
    return parents


def _partner_gaps(draws: list[_Draw], weights: np.ndarray, j: int, n_cat: int) -> list[float]:
    """How far from real the joint of numeric column ``j`` (in the real class's deciles) and each categorical is."""
    deciles = []  # per class: which real rows have a value, their decile, the generated rows' decile, the bin count
    for d in draws:
        values = d.real[d.names[j]].to_numpy(float)
        present = ~np.isnan(values)
        edges = np.unique(np.quantile(values[present], np.linspace(0, 1, 11)[1:-1]))
        drawn = d.table[j][np.round(d.u[:, j] * (LEVELS - 1)).astype(int)]
        deciles.append((present, np.digitize(values[present], edges), np.digitize(drawn, edges), len(edges) + 1))
    return [sum(w * _gap(real_bin, d.real_codes[p][present], drawn_bin, d.codes[p], (bins, d.sizes[p]))
                for w, d, (present, real_bin, drawn_bin, bins) in zip(weights, draws, deciles))
            for p in range(n_cat)]


def _composed(u: np.ndarray, real: np.ndarray) -> np.ndarray:
    """The generator's own CDF of its outputs ``u`` composed with the real values' quantile function."""
    generated_cdf = np.searchsorted(np.sort(u), np.linspace(0, 1, LEVELS), "right") / len(u)
    return np.quantile(real[~np.isnan(real)], generated_cdf, method="inverted_cdf")


def _codes(blocks: np.ndarray, sizes: list[int]) -> list[np.ndarray]:
    """Each one-hot or logit block's argmax."""
    starts = np.cumsum([0] + sizes[:-1])
    return [np.argmax(blocks[:, a:a + size], 1) for a, size in zip(starts, sizes)]


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
