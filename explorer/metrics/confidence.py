"""How well a confidence-conditioned generator hits the judge confidence it was asked for."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from explorer.runtime.judge import RANGE

def measure_link(model, seed: int = 0, levels: int = 19, per_level: int = 200) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows asked for an even grid of confidences and what the judge forest gives them:
    (rows, frame of requested / achieved per row)."""
    requested = np.repeat(np.round(np.linspace(*RANGE, levels), 4), per_level)
    rows = model.sample(len(requested), seed=seed, confidence=requested)
    return rows, pd.DataFrame({"requested": requested, "achieved": model.judge_confidence(rows)})


def link_metrics(requested: np.ndarray, achieved: np.ndarray) -> dict:
    """How well the achieved forest confidence follows the requested one, per row and per level."""
    levels = pd.DataFrame({"requested": requested, "achieved": achieved}).groupby("requested")["achieved"]
    means = levels.mean()
    return {"spearman": float(spearmanr(requested, achieved).statistic),
            "mean_absolute_error": float(np.abs(achieved - requested).mean()),
            "spearman_of_level_means": float(spearmanr(means.index, means.to_numpy()).statistic),
            "achieved_range": [float(np.quantile(achieved, 0.05)), float(np.quantile(achieved, 0.95))],
            "per_level": {f"{r:.2f}": {"mean": float(m), "std": float(s)}
                          for r, m, s in zip(means.index, means.to_numpy(), levels.std().to_numpy())}}
