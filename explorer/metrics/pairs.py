"""Column-pair trends (Trend) for the app: SDMetrics' ColumnPairTrends, every pair, in numpy/pandas.

Why not SDMetrics itself here: importing it takes about 2 s, imports torch wherever torch is installed,
and brings 64 MB of plotly into the serving image; tests/test_pairs.py checks this code against
``explorer.metrics.protocol.trend_details`` (SDMetrics 0.25) pair by pair. Its rules, kept as they are:
two numerics compare Pearson correlations (score 1 − |r_real − r_synth| / 2, rows with a gap dropped,
undefined for a constant column); any other pair compares contingency tables (score 1 − total variation),
a numeric cut into 10 equal-width bins fitted on each table's own values, a gap counted as a value.
"""
from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
from scipy.stats import pearsonr

COLUMNS = ["Column 1", "Column 2", "Metric", "Score", "Real Correlation", "Synthetic Correlation"]


def _bins(frame: pd.DataFrame, numeric: list[str]) -> dict[str, np.ndarray]:
    """Each numeric column's 10-bin code (a gap gets the code after the last bin, as np.digitize gives it)."""
    out = {}
    for c in numeric:
        values = frame[c].to_numpy(float)
        out[c] = np.digitize(values, np.histogram_bin_edges(values[~np.isnan(values)]))
    return out


def _contingency(real: list[np.ndarray], synth: list[np.ndarray]) -> float:
    """1 − total variation between the two tables' joint shares of the pair's values (a gap is a value)."""
    n_real, n_synth = len(real[0]), len(synth[0])
    keys = []
    for a, b in zip(real, synth):
        codes, _ = pd.factorize(pd.Series(np.concatenate([a, b]), dtype=object), use_na_sentinel=False)
        keys.append(codes)
    size = keys[1].max() + 1
    joint = keys[0] * size + keys[1]
    _, joint = np.unique(joint, return_inverse=True)
    p = np.bincount(joint[:n_real], minlength=joint.max() + 1) / n_real
    q = np.bincount(joint[n_real:], minlength=joint.max() + 1) / n_synth
    return float(1 - np.abs(p - q).sum() / 2)


def _correlation(real: pd.DataFrame, synth: pd.DataFrame) -> tuple[float, float, float]:
    """(score, real r, synthetic r); NaN where a correlation is undefined (SDMetrics reports no score)."""
    if (real.nunique() == 1).any() or (synth.nunique() == 1).any():
        return np.nan, np.nan, np.nan
    real, synth = real.dropna(), synth.dropna()
    if len(real) < 2 or len(synth) < 2:
        return np.nan, np.nan, np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a column constant once gaps are dropped: r is NaN, so is the score
        r = pearsonr(real.iloc[:, 0], real.iloc[:, 1])[0]
        s = pearsonr(synth.iloc[:, 0], synth.iloc[:, 1])[0]
    if np.isnan(r) or np.isnan(s):
        return np.nan, np.nan, np.nan
    return float(1 - abs(r - s) / 2), float(r), float(s)


def pair_trends(real: pd.DataFrame, synth: pd.DataFrame, numeric: list[str]) -> pd.DataFrame:
    """One row per column pair (SDMetrics' details frame: Column 1, Column 2, Metric, Score, Real and
    Synthetic Correlation); the Trend is the mean Score."""
    synth = synth[real.columns]
    numeric = [c for c in real.columns if c in numeric]
    real_bins, synth_bins = _bins(real, numeric), _bins(synth, numeric)
    rows = []
    for a, b in itertools.combinations(real.columns, 2):
        if a in numeric and b in numeric:
            score, r, s = _correlation(real[[a, b]].astype(float), synth[[a, b]].astype(float))
            rows.append((a, b, "CorrelationSimilarity", score, r, s))
            continue
        pick = lambda frame, bins, c: bins[c] if c in bins else frame[c].to_numpy(object)  # noqa: E731
        score = _contingency([pick(real, real_bins, a), pick(real, real_bins, b)],
                             [pick(synth, synth_bins, a), pick(synth, synth_bins, b)])
        rows.append((a, b, "ContingencySimilarity", score, np.nan, np.nan))
    return pd.DataFrame(rows, columns=COLUMNS)


def trend(details: pd.DataFrame) -> float:
    """The Trend: mean score over every pair that has one (as SDMetrics averages its details)."""
    return float(details["Score"].mean())


def difference_long(details: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The heatmap's cells: every pair once (lower triangle in ``columns`` order) with its difference
    1 − score (0 = the pair's trend reproduced exactly)."""
    rank = {c: i for i, c in enumerate(columns)}
    flip = details["Column 1"].map(rank) < details["Column 2"].map(rank)
    out = pd.DataFrame({"a": np.where(flip, details["Column 2"], details["Column 1"]),
                        "b": np.where(flip, details["Column 1"], details["Column 2"]),
                        "metric": details["Metric"].str.replace("Similarity", "").str.lower(),
                        "difference": 1 - details["Score"], "score": details["Score"],
                        "real": details["Real Correlation"], "synthetic": details["Synthetic Correlation"]})
    return out
