"""The field's shared tabular protocol (TabSyn, TabDiff, TabPC): Shape, Trend, two C2ST detectors,
MLE and the DCR share, computed with SDMetrics and XGBoost so our figures sit beside the papers'.

Synthetic rows are compared with the training rows they imitate. Trend is SDMetrics'
ColumnPairTrends property, the mean over *all* column pairs as the papers report it (the
QualityReport of recent SDMetrics versions averages only strongly associated pairs).
"""
from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd
from scipy.spatial.distance import cdist
from sklearn.metrics import roc_auc_score

# SDMetrics and XGBoost are imported inside the functions: SDMetrics imports torch when torch is installed,
# the app side (this package) must load without torch, and neither is in the serving image (the app's
# Diagnostics use this module's distance and privacy functions).

THREADS = 1  # XGBoost; on a shared 2-core machine its second OpenMP thread made fits 4-15x slower


def metadata(frame: pd.DataFrame, numeric: list[str]) -> dict:
    """SDMetrics' single-table metadata: numeric columns numerical, the rest categorical."""
    return {"columns": {c: {"sdtype": "numerical" if c in numeric else "categorical"} for c in frame.columns}}


def _quiet(func, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args)


def shape(real: pd.DataFrame, synth: pd.DataFrame, numeric: list[str]) -> float:
    """Mean KS / TV complement over columns (SDMetrics ColumnShapes)."""
    from sdmetrics.reports.single_table._properties import ColumnShapes
    prop = ColumnShapes()
    return float(_quiet(prop.get_score, real, synth[real.columns], metadata(real, numeric)))


def trend_details(real: pd.DataFrame, synth: pd.DataFrame, numeric: list[str]) -> pd.DataFrame:
    """One row per column pair: SDMetrics' correlation or contingency similarity (``Score``)."""
    from sdmetrics.reports.single_table._properties import ColumnPairTrends
    prop = ColumnPairTrends()
    _quiet(prop.get_score, real, synth[real.columns], metadata(real, numeric))
    return prop.details


def trend(real: pd.DataFrame, synth: pd.DataFrame, numeric: list[str]) -> float:
    """Mean similarity over all column pairs (SDMetrics ColumnPairTrends, as the papers computed it)."""
    return float(trend_details(real, synth, numeric)["Score"].mean())


@functools.cache
def xgboost_detection():
    """SDMetrics' detection metric (same features, 3 folds, score) with an XGBoost classifier."""
    from sdmetrics.single_table.detection.sklearn import ScikitLearnClassifierDetectionMetric
    from xgboost import XGBClassifier

    class XGBoostDetection(ScikitLearnClassifierDetectionMetric):
        name = "XGBoost Detection"

        @staticmethod
        def _get_classifier():
            return XGBClassifier(n_jobs=THREADS, random_state=0)

    return XGBoostDetection


def _detection_auc(metric, real, synth, numeric, seed) -> float:
    """SDMetrics reports 1 - (2 AUC - 1) for AUC >= 0.5; the papers' AUC is 1 - score / 2.
    Its folds shuffle with numpy's global generator, so it is seeded here."""
    from sdmetrics.single_table.detection import base
    np.random.seed(seed)
    fitted_on_real = base.HyperTransformer
    base.HyperTransformer = _unknown_as_zeros(fitted_on_real)
    try:
        score = _quiet(metric.compute, real, synth[real.columns], metadata(real, numeric))
    finally:
        base.HyperTransformer = fitted_on_real
    return 1.0 - float(score) / 2.0


@functools.cache
def _unknown_as_zeros(hyper_transformer: type) -> type:
    """SDMetrics' detectors one-hot the categories of the real rows and raise on a synthetic category
    the real rows lack (credit-g declares 'vacation' and has no such row); it becomes all zeros here,
    a giveaway the detector still sees."""
    class UnknownAsZeros(hyper_transformer):
        def fit(self, data):
            super().fit(data)
            for transform in self.column_transforms.values():
                if "one_hot_encoder" in transform:
                    transform["one_hot_encoder"].handle_unknown = "ignore"

    return UnknownAsZeros


def c2st_lr(real: pd.DataFrame, synth: pd.DataFrame, numeric: list[str], seed: int = 0) -> float:
    """Logistic-regression C2ST AUC (SDMetrics LogisticDetection)."""
    from sdmetrics.single_table import LogisticDetection
    return _detection_auc(LogisticDetection, real, synth, numeric, seed)


def c2st_xgb(real: pd.DataFrame, synth: pd.DataFrame, numeric: list[str], seed: int = 0) -> float:
    """XGBoost C2ST AUC (the same detector with XGBClassifier)."""
    return _detection_auc(xgboost_detection(), real, synth, numeric, seed)


def _codes(frame: pd.DataFrame, categories: dict[str, list[str]], columns: list[str]) -> pd.DataFrame:
    """Features XGBoost reads natively: numerics as they are, categoricals as pandas categories."""
    out = frame[columns].copy()
    for c in columns:
        if c in categories:
            out[c] = pd.Categorical(out[c], categories=categories[c])
        else:
            out[c] = out[c].astype(float)
    return out


def mle(train: pd.DataFrame, test: pd.DataFrame, target: str, categories: dict[str, list[str]],
        seed: int = 0) -> float:
    """Machine-learning efficacy: XGBoost fitted on ``train`` (synthetic or real), ROC AUC on ``test``.
    Multi-class targets are scored one-vs-rest, weighted."""
    features = [c for c in train.columns if c != target]
    classes = categories[target]
    y_train = pd.Categorical(train[target], categories=classes).codes
    y_test = pd.Categorical(test[target], categories=classes).codes
    present = np.unique(y_train)
    if len(present) < 2:
        return 0.5
    from xgboost import XGBClassifier
    model = XGBClassifier(n_jobs=THREADS, random_state=seed, enable_categorical=True, tree_method="hist")
    remap = {c: i for i, c in enumerate(present)}
    model.fit(_codes(train, categories, features), np.vectorize(remap.get)(y_train))
    proba = model.predict_proba(_codes(test, categories, features))
    if len(present) == 2 and len(classes) == 2:
        return float(roc_auc_score(y_test == present[1], proba[:, 1]))
    full = np.zeros((len(test), len(classes)))
    full[:, present] = proba
    return float(roc_auc_score(y_test, full, multi_class="ovr", average="weighted", labels=range(len(classes))))


def _encode(frame: pd.DataFrame, numeric: list[str], ranges: pd.Series, categories: dict[str, list[str]]):
    """TabSyn's DCR space: numerics divided by the training range, categoricals one-hot (L1 distance)."""
    num = (frame[numeric].to_numpy(float) / ranges.to_numpy(float)) if numeric else np.zeros((len(frame), 0))
    blocks = [np.eye(len(categories[c]), dtype=np.float32)[pd.Categorical(frame[c], categories=categories[c]).codes]
              for c in frame.columns if c not in numeric]
    return num, (np.concatenate(blocks, 1) if blocks else np.zeros((len(frame), 0), np.float32))


def nearest_l1(query: pd.DataFrame, reference: pd.DataFrame, numeric: list[str],
               categories: dict[str, list[str]], ranges: pd.Series, chunk: int = 1000, k: int = 1) -> np.ndarray:
    """Each query row's L1 distance to its nearest reference row in TabSyn's DCR space ([n, k] for
    the k nearest when k > 1). Numerics by scipy's cdist; the one-hot part through a matrix product
    (L1 between one-hots is twice the number of differing categoricals): 32k x 32k rows in seconds."""
    q_num, q_cat = _encode(query, numeric, ranges, categories)
    r_num, r_cat = _encode(reference, numeric, ranges, categories)
    n_cat = q_cat[:1].sum() if len(q_cat) else 0
    best = np.empty((len(query), k))
    for start in range(0, len(query), chunk):
        stop = start + chunk
        d = 2.0 * (n_cat - q_cat[start:stop] @ r_cat.T)
        if q_num.shape[1]:
            d += cdist(q_num[start:stop], r_num, "cityblock")
        best[start:stop] = np.sort(np.partition(d, k - 1, axis=1)[:, :k], axis=1) if k > 1 else d.min(1, keepdims=True)
    return best if k > 1 else best[:, 0]


def dcr_share(synth: pd.DataFrame, train: pd.DataFrame, holdout: pd.DataFrame, numeric: list[str],
              categories: dict[str, list[str]], seed: int = 0, chunk: int = 1000) -> float:
    """Share of synthetic rows strictly closer to the training rows than to the holdout, against
    an equal-size random subset of the training rows (0.5 = no closer to what it trained on).
    ``chunk``: query rows per distance block (the app uses smaller blocks: less memory at once)."""
    size = min(len(train), len(holdout))
    rng = np.random.default_rng(seed)
    train = train.iloc[rng.choice(len(train), size, replace=False)]
    holdout = holdout.iloc[rng.choice(len(holdout), size, replace=False)]
    ranges = train[numeric].max() - train[numeric].min()
    ranges[ranges == 0] = 1.0
    d_train = nearest_l1(synth, train, numeric, categories, ranges, chunk)
    d_hold = nearest_l1(synth, holdout, numeric, categories, ranges, chunk)
    return float((d_train < d_hold).mean())


def protocol(synth: pd.DataFrame, train: pd.DataFrame, test: pd.DataFrame, numeric: list[str],
             categories: dict[str, list[str]], target: str, seed: int = 0) -> dict:
    """All six figures for one synthetic table (as many rows as ``train``)."""
    synth = synth[train.columns]
    return {"shape": shape(train, synth, numeric), "trend": trend(train, synth, numeric),
            "c2st_lr": c2st_lr(train, synth, numeric, seed), "c2st_xgb": c2st_xgb(train, synth, numeric, seed),
            "mle": mle(synth, test, target, categories, seed),
            "dcr_share": dcr_share(synth, train, test, numeric, categories, seed)}


def privacy(synth: pd.DataFrame, train: pd.DataFrame, holdout: pd.DataFrame, numeric: list[str],
            categories: dict[str, list[str]], seed: int = 0, rows: int = 2000, chunk: int = 1000) -> dict:
    """Privacy figures on up to ``rows`` rows of each table (distances as for the DCR share):
    - ``exact_match_rate``: share of synthetic rows equal to some training row in every column;
    - ``nndr``: median ratio of a synthetic row's nearest to second-nearest training distance
      (near 0: it sits on one training row rather than among several);
    - ``membership_auc``: how well closeness to the synthetic rows tells training rows from holdout
      rows (ROC AUC, 0.5 = no membership signal)."""
    rng = np.random.default_rng(seed)
    pick = lambda f: f.iloc[rng.choice(len(f), min(rows, len(f)), replace=False)]  # noqa: E731
    synth, members, others = pick(synth[train.columns]), pick(train), pick(holdout[train.columns])
    ranges = train[numeric].max() - train[numeric].min()
    ranges[ranges == 0] = 1.0
    exact = synth.merge(train.drop_duplicates(), how="inner", on=list(train.columns)).shape[0] / len(synth)
    two = nearest_l1(synth, train, numeric, categories, ranges, chunk, k=2)
    nndr = np.median(two[:, 0] / np.maximum(two[:, 1], 1e-12))
    closeness = -np.concatenate([nearest_l1(members, synth, numeric, categories, ranges, chunk),
                                 nearest_l1(others, synth, numeric, categories, ranges, chunk)])
    truth = np.r_[np.ones(len(members)), np.zeros(len(others))]
    return {"exact_match_rate": float(exact), "nndr": float(nndr),
            "membership_auc": float(roc_auc_score(truth, closeness))}


def worst_pairs(details: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The ``n`` column pairs whose trend the synthetic rows reproduce worst (from ``trend_details``)."""
    return details.sort_values("Score").head(n)[["Column 1", "Column 2", "Metric", "Score"]].reset_index(drop=True)
