"""The instance space of an instance-conditioned GAN (IC-GAN, R5): "more rows like this one".

A row's embedding is its min-max-scaled numerics and one-hot categoricals — the space in
which the diagnostics measure distance to the closest record. It is plain arithmetic on the
card's ``condition.space``, so the app embeds any real row (training or holdout, seen or not)
without torch, and neighbours, training pairs and the bars' distances all live in one space:
one differing category costs √2, a numeric at the far end of its range costs 1.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from explorer.contract import InstanceSpace, SpaceLevels, SpaceRange

if TYPE_CHECKING:
    import pandas as pd

from explorer.runtime.frames import MISSING_LEVEL, category_codes


def instance_space(frame: pd.DataFrame, numeric: list[str], categories: dict[str, list[str]]) -> InstanceSpace:
    """The card's description of the space, fitted on real training rows (every column, target included)."""
    return InstanceSpace(
        numeric=[SpaceRange(name=c, min=float(frame[c].min()), max=float(frame[c].max()),
                            missing=True if frame[c].isna().any() else None)
                 for c in frame.columns if c in numeric],
        categorical=[SpaceLevels(name=c, categories=[None if v == MISSING_LEVEL else v for v in categories[c]])
                     for c in frame.columns if c not in numeric and c in categories])


def instance_dim(space: InstanceSpace) -> int:
    return space.dim


def embed(space: InstanceSpace, frame: pd.DataFrame) -> np.ndarray:
    """float32 [rows, instance_dim]; clear errors for missing columns, unknown categories, NaN."""
    import pandas as pd

    names = [c.name for c in space.numeric + space.categorical]
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise ValueError(f"an instance needs every column; missing {missing}")
    parts = []
    for c in space.numeric:
        values = pd.to_numeric(frame[c.name], errors="coerce").to_numpy(np.float64)
        gap = np.isnan(values) & frame[c.name].isna().to_numpy() if c.missing else False
        if not np.isfinite(np.where(gap, 0.0, values)).all():
            raise ValueError(f"column {c.name!r} of the instance must be a finite number")
        scaled = (values - c.min) / max(c.max - c.min, 1e-12)
        parts.append(np.where(gap, -1.0, scaled)[:, None])  # missing: one range-width below the minimum
    for c in space.categorical:
        if None in c.categories:
            codes = category_codes(frame[c.name], c.categories)
        else:
            codes = pd.Index(c.categories).get_indexer(frame[c.name].astype(str))
        if (codes < 0).any():
            bad = frame[c.name].astype(str)[codes < 0].iloc[0]
            raise ValueError(f"column {c.name!r} has value {bad!r}; known: {c.categories}")
        parts.append(np.eye(len(c.categories))[codes])
    return np.concatenate(parts, 1).astype(np.float32) if parts else np.zeros((len(frame), 0), np.float32)


def instance_input(space: InstanceSpace, bank: np.ndarray, n: int, seed: int, instance: pd.DataFrame | None = None) -> np.ndarray:
    """The generator's ``instance`` input for n rows: one real row's embedding repeated, one per row of
    an n-row frame, or (None) rows of the bank of training embeddings drawn with the seed — the model's
    mixture. Shared by training (validation samples) and serving, so both draw the same instances."""
    if instance is None:
        return bank[np.random.default_rng([seed, 3]).integers(0, len(bank), n)]
    import pandas as pd

    if not isinstance(instance, pd.DataFrame) or len(instance) not in (1, n):
        raise ValueError(f"instance must be a table of 1 or {n} rows")
    chosen = embed(space, instance)
    return np.repeat(chosen, n, 0) if len(chosen) == 1 else chosen
