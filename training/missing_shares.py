"""After training, shift each "missing" output logit so the generator's missing share equals the real one.

A GAN under-draws levels it rarely sees (a column that is 84 % empty with a few rare remarks), and the
missing share is a figure a user checks first. One scalar per column with gaps, added to the bias of the
generator's last layer, moves that column's missing share to the training rows' share while keeping every
row's ranking of "how likely missing", so the learned dependence on the other columns stays; the exported
graph is unchanged in shape and speed. Columns without gaps are untouched (their models stay bit-identical).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from explorer.data.schema import MISSING_LEVEL

SEARCH = 30.0  # the shift is searched in [-SEARCH, SEARCH] logits: far past any trained logit gap
STEPS = 40  # bisection steps: the shift is found to SEARCH * 2 / 2**STEPS


@dataclass(frozen=True)
class MissingOutput:
    """One column's "missing" level among the generator's outputs: its block and its place in the block."""
    column: str
    start: int  # first output of the column's one-hot block
    size: int
    level: int  # the missing level's index in the block


def missing_outputs(tf) -> list[MissingOutput]:
    """Where each column with gaps has its missing level: a categorical's null level or a numeric's indicator."""
    found, start = [], len(tf.numeric_)
    indicators = [tf.numeric_[i].name for i in tf.indicators]
    for name, categories in [(c.name, c.categories) for c in tf.categorical_] + [(n, None) for n in indicators]:
        size = 2 if categories is None else len(categories)
        level = 1 if categories is None else (categories.index(MISSING_LEVEL) if MISSING_LEVEL in categories else -1)
        if level >= 0:
            found.append(MissingOutput(name, start, size, level))
        start += size
    return found


def shift_for_share(block: np.ndarray, level: int, target: float) -> float:
    """The logit shift of ``level`` that makes argmax pick it in ``target`` of the rows (bisection: the share
    only grows with the shift)."""
    others = np.delete(block, level, axis=1).max(1) if block.shape[1] > 1 else np.full(len(block), -np.inf)
    margin = block[:, level] - others  # the row picks the level when margin + shift > 0

    def share(shift: float) -> float:
        return float((margin + shift > 0).mean())

    low, high = -SEARCH, SEARCH
    for _ in range(STEPS):
        mid = (low + high) / 2
        low, high = (mid, high) if share(mid) < target else (low, mid)
    return min((low, high), key=lambda s: abs(share(s) - target))


@torch.no_grad()
def match_missing_shares(generator: torch.nn.Module, tf, real: pd.DataFrame, draw) -> dict[str, float]:
    """Shift ``generator``'s last-layer bias so each column's missing share matches ``real``'s; ``draw()`` runs
    the generator on conditions like the real rows' (its raw output is read from the last layer).
    Returns the shift per column."""
    outputs = missing_outputs(tf)
    if not outputs:
        return {}
    last = [m for m in generator.modules() if isinstance(m, torch.nn.Linear)][-1]
    seen = []
    hook = last.register_forward_hook(lambda module, args, out: seen.append(out.detach().numpy()))
    try:
        draw()
    finally:
        hook.remove()
    raw, real_blocks = np.concatenate(seen), tf.one_hot(real)
    shifts = {}
    for out in outputs:
        first = out.start - len(tf.numeric_) + out.level
        target = float(real_blocks[:, first].mean())
        block = raw[:, out.start:out.start + out.size]
        shifts[out.column] = shift_for_share(block, out.level, target)
        last.bias[out.start + out.level] += shifts[out.column]
    return shifts
