"""Neighbours and locality in an IC-GAN's instance space: how "like this one" generated rows are."""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from explorer.metrics.diagnostics import detection_auc_rf
from explorer.runtime.instance_space import embed

def neighbours(points: np.ndarray, k: int, queries: np.ndarray | None = None) -> np.ndarray:
    """Indices [queries, k] of the k nearest ``points`` (a point is its own first neighbour)."""
    nn = NearestNeighbors(n_neighbors=k).fit(points)
    return nn.kneighbors(points if queries is None else queries, return_distance=False)


def distances(space: dict, instance: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """Euclidean distance in the instance space from the one-row ``instance`` to each of ``rows``."""
    return np.linalg.norm(embed(space, rows) - embed(space, instance), axis=1)


def locality(space: dict, instance: pd.DataFrame, generated: pd.DataFrame, neighbourhood: pd.DataFrame,
             reference: pd.DataFrame, numeric: list[str], seed: int = 0) -> dict:
    """How "like this one" generated rows are, for one instance (the issue's bars):
    median distance to the instance over that of random real rows (≤ 0.5 is local), and the
    forest's detection AUC of generated rows against the instance's real neighbourhood."""
    d_gen = distances(space, instance, generated)
    d_ref = distances(space, instance, reference)
    d_nbr = distances(space, instance, neighbourhood)
    n = min(len(generated), len(neighbourhood))
    auc = detection_auc_rf(neighbourhood, generated[neighbourhood.columns], numeric, folds=5, max_rows=n, seed=seed)
    return {"distance_ratio": float(np.median(d_gen) / max(np.median(d_ref), 1e-12)),
            "neighbour_ratio": float(np.median(d_nbr) / max(np.median(d_ref), 1e-12)),
            "detection_auc": float(auc)}
