"""The judge forest of confidence-conditioned models: its features, its scores, and the range a
request may take (numpy and onnxruntime; pandas for the frames it reads).

Shared by training (the forest is fitted on exactly these features) and by the app, so the
confidence shown beside a generated row is the one the generator was trained and measured against.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from explorer.contract import Column

if TYPE_CHECKING:
    import pandas as pd

from explorer.runtime.frames import category_codes, rounded

MISSING_VALUE = float(np.finfo(np.float32).min)  # a missing numeric as the forest sees it: below every value
RANGE = (0.05, 0.95)  # R2 asked for C ~ U[0.05, 0.8); we cover both tails


def _numeric_feature(values: np.ndarray) -> np.ndarray:
    """A numeric column as the forest reads it (float32, a missing value below every real one)."""
    return np.nan_to_num(values.astype(np.float32, copy=False), nan=MISSING_VALUE)


def forest_features(columns: list[Column], frame: pd.DataFrame, names: list[str]) -> np.ndarray:
    """The forest's input: numeric values as they are, categoricals as their index in the card's list."""

    by_name = {c.name: c for c in columns}
    parts = []
    for name in names:
        col = by_name[name]
        if col.numeric:  # a missing value sorts below every real one, alike in sklearn and ONNX
            parts.append(_numeric_feature(frame[name].to_numpy(np.float32)))
        else:
            codes = category_codes(frame[name], col.categories)
            if (codes < 0).any():
                raise ValueError(f"column {name!r} has values outside the card's categories")
            parts.append(codes.astype(np.float32))
    return np.stack(parts, 1) if parts else np.zeros((len(frame), 0), np.float32)


def decoded_features(columns: list[Column], numeric: np.ndarray, categorical: np.ndarray,
                     names: list[str]) -> np.ndarray:
    """``forest_features`` of the generator's raw outputs, without building a frame: the same numbers."""
    values, i_num, i_cat = {}, 0, 0
    for col in columns:
        if col.numeric:
            values[col.name] = _numeric_feature(rounded(numeric[:, i_num], col.decimals))
            i_num += 1
        else:  # the generator's index is already the index in the card's list
            values[col.name] = categorical[:, i_cat].astype(np.float32)
            i_cat += 1
    return np.stack([values[n] for n in names], 1) if names else np.zeros((len(numeric), 0), np.float32)


def forest_probability(session, x: np.ndarray, positive_index: int) -> np.ndarray:
    """The exported forest's probability of the positive class for each row of features."""
    outputs = {o.name: i for i, o in enumerate(session.get_outputs())}
    probs = session.run(None, {session.get_inputs()[0].name: x})[outputs["probabilities"]]
    return probs[:, positive_index].astype(np.float64)


def forest_confidence(session, columns: list[Column], frame: pd.DataFrame, names: list[str],
                      positive_index: int) -> np.ndarray:
    """The exported forest's probability of the positive class for each row."""
    return forest_probability(session, forest_features(columns, frame, names), positive_index)


def check_confidence(value, n: int) -> np.ndarray:
    """Requested confidences as a [n] array inside RANGE, with a clear error otherwise."""
    c = np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy() if np.ndim(value) == 0 \
        else np.asarray(value, dtype=np.float64)
    if c.shape != (n,):
        raise ValueError(f"give one confidence, or one per row ({n}), got shape {list(c.shape)}")
    if not np.isfinite(c).all() or (c < RANGE[0]).any() or (c > RANGE[1]).any():
        raise ValueError(f"confidence must be a number from {RANGE[0]} to {RANGE[1]}")
    return c
