"""The protocol's Trend and privacy figures for the app, each beside real data's own reference: the same
figure with real rows the model never saw (the holdout) in place of the synthetic ones, so a score is read
against what real data itself scores at these row counts, not against an ideal no sample reaches."""
from __future__ import annotations

import numpy as np
import pandas as pd

from explorer.metrics import pairs
from explorer.metrics import protocol as pr
from explorer.metrics.diagnostics import comparable

MIN_ROWS = 5  # synthetic rows, and holdout rows in each half, for the privacy figures
GAP = " (missing)"  # suffix of the flag column a numeric column with gaps gets in the distance space


def trend(train: pd.DataFrame, holdout: pd.DataFrame, synth: pd.DataFrame, numeric: list[str],
          rows: int = 5000, seed: int = 0) -> dict:
    """All-pairs Trend of ``synth`` and of the real holdout, each against the same training rows.

    Both sides get the same number of rows (the smallest of ``rows``, the holdout and the synthetic
    rows), so sampling noise weighs on both alike. ``details``: one row per pair, with the reference's
    score for the pair beside the synthetic one."""
    k = min(rows, len(holdout), len(synth))
    base = train.sample(min(rows, len(train)), random_state=seed)
    synth = synth[train.columns].sample(k, random_state=seed)
    real = holdout[train.columns].sample(k, random_state=seed)
    made, own = pairs.pair_trends(base, synth, numeric), pairs.pair_trends(base, real, numeric)
    details = made.assign(**{"Real Score": own["Score"].to_numpy()})
    return {"trend": pairs.trend(made), "trend_real": pairs.trend(own), "details": details,
            "rows": (len(base), k)}


def worst_pairs(details: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """``protocol.worst_pairs`` with each pair's real-data reference score beside it."""
    worst = pr.worst_pairs(details, n)
    reference = details.set_index(["Column 1", "Column 2"])["Real Score"]
    return worst.assign(**{"Real Score": reference.loc[list(zip(worst["Column 1"], worst["Column 2"]))].to_numpy()})


def distance_ready(frames: list[pd.DataFrame], numeric: list[str]) -> tuple[list[pd.DataFrame], dict]:
    """``frames`` (the training rows first) ready for the protocol's L1 distances, and their categories.

    The protocol's tables have no gaps; a user's may. A categorical gap becomes the level '(missing)'; a
    numeric gap the training median plus a flag column '<column> (missing)', so a gap matches a gap."""
    frames = [comparable(f, numeric) for f in frames]
    gaps = [c for c in numeric if any(f[c].isna().any() for f in frames)]
    if gaps:
        medians = frames[0][gaps].median().fillna(0.0)
        frames = [f.assign(**{c + GAP: np.where(f[c].isna(), "yes", "no") for c in gaps}).fillna(medians)
                  for f in frames]
    categories = {c: list(pd.unique(pd.concat([f[c].astype(object) for f in frames], ignore_index=True)))
                  for c in frames[0].columns if c not in numeric}
    return frames, categories


def privacy(train: pd.DataFrame, holdout: pd.DataFrame, synth: pd.DataFrame, numeric: list[str],
            rows: int = 2000, seed: int = 0, chunk: int = 250) -> pd.DataFrame:
    """DCR share, exact-match rate, nearest-neighbour distance ratio and membership-inference AUC
    (``protocol.dcr_share`` and ``protocol.privacy``) for the synthetic rows and, as real data's own
    reference, for half of the holdout. The other half is the holdout both are compared against, so the
    reference rows are as new to the training rows as a perfect generator's would be.

    One row per figure, columns ``synthetic`` and ``real`` (the reference); rows ``rows`` (rows measured)
    and ``against`` (holdout rows compared with)."""
    order = np.random.default_rng(seed).permutation(len(holdout))
    half = len(holdout) // 2
    if half < MIN_ROWS or len(synth) < MIN_ROWS:
        raise ValueError(f"too few rows for the privacy figures (holdout {len(holdout)}, synthetic {len(synth)})")
    reference, against = holdout.iloc[order[:half]], holdout.iloc[order[half:]]
    (train, synth, reference, against), categories = distance_ready(
        [train, synth[train.columns], reference[train.columns], against[train.columns]], numeric)
    numeric = [c for c in numeric if c in train.columns]
    out = {}
    for name, rows_ in (("synthetic", synth), ("real", reference)):
        rows_ = rows_.sample(min(rows, len(rows_)), random_state=seed)
        figures = pr.privacy(rows_, train, against, numeric, categories, seed=seed, rows=rows, chunk=chunk)
        figures["dcr_share"] = pr.dcr_share(rows_, train, against, numeric, categories, seed=seed, chunk=chunk)
        out[name] = {**figures, "rows": len(rows_), "against": len(against)}
    return pd.DataFrame(out)
