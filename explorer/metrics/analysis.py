"""Data the app's pages show, computed with pandas / numpy / scikit-learn (no streamlit, no torch).

The metrics themselves come from ``explorer.metrics.diagnostics`` (the same code that writes the cards);
this module prepares what the charts need: binned histograms, long-form matrices, 2-D
projections, per-class tables, summaries and interpolation frames. scikit-learn and
``explorer.metrics.diagnostics`` are imported inside the functions that need them, so the Sample and
Interpolate pages do not pay for them at start-up.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from explorer.contract import Card, Column
REAL, SYNTH = "real", "synthetic"


def card_numeric(card: Card) -> list[str]:
    """Numeric columns of a tabular card (the label column of a cGAN is categorical)."""
    return [c.name for c in card.numeric_columns]


def real_frames(card: Card, train: pd.DataFrame, holdout: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The real tables as the model saw them (mode imputation applied when the card says so)."""
    modes = card.imputed_modes
    if modes:
        train, holdout = (df.replace({c: {"?": m} for c, m in modes.items()}) for df in (train, holdout))
    columns = list(card.table_columns or train.columns)
    return train[columns], holdout[columns]


def summary(frame: pd.DataFrame, numeric: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(numeric describe(), categorical: top value, its share and the number of distinct values).

    The same table as ``frame[numeric].describe().T`` and ``value_counts`` / ``nunique``, computed
    with numpy in one pass (≈ 4× faster: the Sample page draws it on every new seed)."""
    return _describe(frame, numeric), pd.DataFrame([_top_value(col, frame[col]) for col in frame.columns
                                                    if col not in numeric])


_DESCRIBE = ["count", "mean", "std", "min", "25%", "50%", "75%", "max"]


def _describe(frame: pd.DataFrame, numeric: list[str]) -> pd.DataFrame:
    if not numeric:
        return pd.DataFrame()
    values = frame[numeric].to_numpy(dtype=float)
    count = np.isfinite(values).sum(axis=0) if len(values) else np.zeros(len(numeric))
    if len(values) and not np.isnan(values).any():
        quartiles = np.percentile(values, [25, 50, 75], axis=0)
        stats = [values.mean(axis=0), values.std(axis=0, ddof=1) if len(values) > 1 else np.full(len(numeric), np.nan),
                 values.min(axis=0), *quartiles, values.max(axis=0)]
    else:  # missing values: describe() ignores them per column
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            quartiles = np.nanpercentile(values, [25, 50, 75], axis=0) if len(values) else np.full((3, len(numeric)), np.nan)
            stats = [np.nanmean(values, axis=0), np.where(count > 1, np.nanstd(values, axis=0, ddof=1), np.nan),
                     np.nanmin(values, axis=0), *quartiles, np.nanmax(values, axis=0)] if len(values) \
                else [np.full(len(numeric), np.nan)] * 7
    return pd.DataFrame(np.column_stack([count.astype(float), *stats]), index=pd.Index(numeric, dtype=object),
                        columns=_DESCRIBE)


def _top_value(name: str, column: pd.Series) -> dict:
    """Distinct values, the most common one and its share (among non-missing values)."""
    codes, uniques = pd.factorize(column)
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    total = int(counts.sum())
    if total == 0:
        return {"column": name, "distinct": 0, "most common": "", "share": 0.0}
    top = int(counts.argmax())
    if (counts == counts[top]).sum() > 1:  # a tie: the value value_counts() would list first
        top_value = column.value_counts().index[0]
    else:
        top_value = uniques[top]
    return {"column": name, "distinct": len(uniques), "most common": str(top_value), "share": counts[top] / total}


def histogram(real: pd.Series | None, synth: pd.Series, numeric: bool, bins: int = 30, top: int = 20) -> pd.DataFrame:
    """Shares per bin (numeric, common edges) or per category (top categories), real vs synthetic.

    Long form: ``bin`` (label), ``start``/``end`` (numeric), ``source``, ``share``.
    """
    series = {SYNTH: synth} if real is None else {REAL: real, SYNTH: synth}
    if numeric:
        values = np.concatenate([s.to_numpy(float) for s in series.values()])
        values = values[np.isfinite(values)]
        lo, hi = (float(values.min()), float(values.max())) if len(values) else (0.0, 1.0)
        edges = np.linspace(lo, hi if hi > lo else lo + 1, bins + 1)
        parts = []
        for name, s in series.items():
            counts, _ = np.histogram(s.to_numpy(float), edges)
            parts.append(pd.DataFrame({"start": edges[:-1], "end": edges[1:], "source": name,
                                       "share": counts / max(len(s), 1)}))
        out = pd.concat(parts, ignore_index=True)
        out["bin"] = out["start"].round(3).astype(str)
        return out
    shares = pd.DataFrame({name: s.astype(str).value_counts(normalize=True) for name, s in series.items()}).fillna(0.0)
    shares = shares.loc[shares.max(axis=1).sort_values(ascending=False).index[:top]]
    out = shares.rename_axis("bin").reset_index().melt("bin", var_name="source", value_name="share")
    return out


def association_long(real: pd.DataFrame, synth: pd.DataFrame, numeric: list[str], max_rows: int = 5000,
                     seed: int = 0) -> pd.DataFrame:
    """Pairwise association (|Spearman| / Cramér's V) of real and synthetic and their difference."""
    from explorer.metrics.diagnostics import association

    real = real.sample(min(len(real), max_rows), random_state=seed)
    synth = synth[real.columns].sample(min(len(synth), max_rows), random_state=seed)
    with warnings.catch_warnings():  # a constant column has no Spearman correlation: counted as 0
        warnings.simplefilter("ignore")
        a_real, a_synth = association(real, numeric), association(synth, numeric)
    out = (a_synth - a_real).rename_axis("a").reset_index().melt("a", var_name="b", value_name="difference")
    out["real"] = a_real.to_numpy().ravel()
    out["synthetic"] = a_synth.to_numpy().ravel()
    return out


def projection(real: pd.DataFrame, synth: pd.DataFrame, numeric: list[str], method: str = "pca",
               max_rows: int = 1000, seed: int = 0) -> pd.DataFrame:
    """2-D map of real and synthetic rows (PCA fitted on real, or t-SNE on both): x, y, source."""
    real = real.sample(min(len(real), max_rows), random_state=seed)
    synth = synth[real.columns].sample(min(len(synth), max_rows), random_state=seed)
    from explorer.metrics.diagnostics import distance_space

    space = distance_space(real, numeric)
    xr, xs = space.transform(real), space.transform(synth)
    if method == "pca":
        from sklearn.decomposition import PCA
        if xr.shape[1] < 2:  # one column: the map is that column against nothing
            xr, xs = np.hstack([xr, np.zeros_like(xr)]), np.hstack([xs, np.zeros_like(xs)])
        pca = PCA(2, random_state=seed).fit(xr)
        points = np.vstack([pca.transform(xr), pca.transform(xs)])
        axes = tuple(f"PC {i + 1} ({share:.0%} of the real rows' variance)"
                     for i, share in enumerate(pca.explained_variance_ratio_))
    elif method == "tsne":
        from sklearn.manifold import TSNE
        both = np.vstack([xr, xs])
        points = TSNE(2, init="pca", perplexity=min(30.0, max(2.0, (len(both) - 1) / 3)),
                      random_state=seed).fit_transform(both)
        axes = ("t-SNE 1", "t-SNE 2")
    else:
        raise ValueError(f"method must be pca or tsne, got {method!r}")
    frame = pd.DataFrame({"x": points[:, 0], "y": points[:, 1], "source": [REAL] * len(xr) + [SYNTH] * len(xs)})
    frame.attrs["axes"] = axes  # what the two axes are, for the chart
    return frame


def binned(values: dict[str, np.ndarray], bins: int = 40) -> pd.DataFrame:
    """Shares per bin of several 1-D samples on common edges (long form: start, end, source, share)."""
    allv = np.concatenate([np.asarray(v, float) for v in values.values()])
    allv = allv[np.isfinite(allv)]
    lo, hi = (float(allv.min()), float(allv.max())) if len(allv) else (0.0, 1.0)
    edges = np.linspace(lo, hi if hi > lo else lo + 1, bins + 1)
    parts = [pd.DataFrame({"start": edges[:-1], "end": edges[1:], "source": name,
                           "share": np.histogram(np.asarray(v, float), edges)[0] / max(len(v), 1)})
             for name, v in values.items()]
    return pd.concat(parts, ignore_index=True)


def per_class(real: pd.DataFrame, synth: pd.DataFrame, target: str, numeric: list[str], classes: list[str],
              seed: int = 0, min_rows: int = 20) -> pd.DataFrame:
    """Every class, minority included: shares, KS/TV complement and logistic detection AUC."""
    from explorer.metrics import diagnostics as dg

    rows = []
    cols = [c for c in real.columns if c != target]
    num = [c for c in numeric if c in cols]
    for cls in classes:
        r, s = real[real[target] == cls][cols], synth[synth[target] == cls][cols]
        row = {"class": str(cls), "rows real": len(r), "rows synthetic": len(s),
               "share real": len(r) / max(len(real), 1), "share synthetic": len(s) / max(len(synth), 1),
               "KS/TV complement": np.nan, "detection AUC (LR)": np.nan, "note": ""}
        if len(r) >= min_rows and len(s) >= min_rows:
            row["KS/TV complement"] = float(dg.fidelity(r, s, num)["complement"].mean())
            folds = int(min(5, len(r), len(s)))
            row["detection AUC (LR)"] = dg.detection(r, s, num, "lr", folds=folds, max_rows=5000, seed=seed)["auc"]
        else:
            row["note"] = f"fewer than {min_rows} rows of this class: not measured"
        rows.append(row)
    return pd.DataFrame(rows)


def interpolation_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows of a latent path with their step number first."""
    out = rows.reset_index(drop=True)
    out.insert(0, "step", np.arange(len(out)))
    return out


def numeric_paths(rows: pd.DataFrame, columns: list[Column]) -> pd.DataFrame:
    """Numeric columns along a path, scaled to [0, 1] by the card's real range: step, column, value, scaled."""
    parts = []
    for col in (c for c in columns if c.numeric):
        lo, hi = float(col.min), float(col.max)
        v = rows[col.name].to_numpy(float)
        parts.append(pd.DataFrame({"step": np.arange(len(rows)), "column": col.name, "value": v,
                                   "scaled": (v - lo) / (hi - lo) if hi > lo else np.zeros_like(v)}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["step", "column", "value", "scaled"])


def class_counts(frame: pd.DataFrame, column: str, classes: list[str]) -> pd.DataFrame:
    counts = frame[column].value_counts().reindex(classes, fill_value=0)
    return pd.DataFrame({"class": classes, "rows": counts.to_numpy(), "share": counts.to_numpy() / max(len(frame), 1)})


def history_long(history: list[dict], keys: list[str]) -> pd.DataFrame:
    """Per-epoch values of ``keys`` in long form (epoch, metric, value), skipping missing entries."""
    rows = [{"epoch": h["epoch"], "metric": k, "value": float(h[k])}
            for h in history for k in keys if h.get(k) is not None and np.isfinite(float(h[k]))]
    return pd.DataFrame(rows, columns=["epoch", "metric", "value"])


def stratified_real(real: pd.DataFrame, target: str, counts: dict[str, int], seed: int = 0) -> pd.DataFrame:
    """Real rows with the same class counts as a conditional sample (with replacement if needed)."""
    parts = []
    for cls, k in counts.items():
        pool = real[real[target] == cls]
        if k and len(pool):
            parts.append(pool.sample(k, replace=k > len(pool), random_state=seed))
    return pd.concat(parts, ignore_index=True) if parts else real.iloc[:0]
