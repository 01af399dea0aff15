"""Fidelity, detection, utility and privacy metrics for synthetic tables.

numpy / pandas / scikit-learn (and scipy's KS test) only, so the app and the training cards
compute every number with the same code. Conventions: a "complement" is 1 − distance (1 is
perfect); a detection AUC of 0.5 means a classifier cannot tell synthetic rows from real ones.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import sklearn
from scipy.stats import ks_2samp
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.inspection import permutation_importance
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import StratifiedKFold
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, OrdinalEncoder, StandardScaler
from threadpoolctl import threadpool_limits

WORKING_MB = 64  # scikit-learn's chunk size for pairwise distances (its default, 1 GB, is per concurrent request)


MISSING = "(missing)"  # how a missing categorical cell is counted and encoded by every metric here


def _categorical(df: pd.DataFrame, numeric: list[str]) -> list[str]:
    return [c for c in df.columns if c not in numeric]


def comparable(df: pd.DataFrame, numeric: list[str]) -> pd.DataFrame:
    """Missing categorical cells (NaN or None) as one level, so users' tables with gaps compare like
    any other; numeric NaN stays (KS skips it, forests split on it, the linear models impute it)."""
    gaps = [c for c in _categorical(df, numeric) if df[c].isna().any()]
    if not gaps:
        return df
    df = df.copy()
    for c in gaps:
        df[c] = df[c].astype(object).where(df[c].notna(), MISSING)
    return df


def missing_shares(real: pd.DataFrame, synth: pd.DataFrame) -> pd.DataFrame:
    """Per column with any missing cell: the real and the synthetic share of missing cells."""
    cols = [c for c in real.columns if real[c].isna().any() or (c in synth and synth[c].isna().any())]
    return pd.DataFrame({"column": cols, "real": [float(real[c].isna().mean()) for c in cols],
                         "synthetic": [float(synth[c].isna().mean()) for c in cols]})


def fidelity(real: pd.DataFrame, synth: pd.DataFrame, numeric: list[str]) -> pd.DataFrame:
    """Per column: KS statistic (numeric) or total-variation distance (categorical), and 1 − it."""
    rows = []
    real, synth = comparable(real, numeric), comparable(synth, numeric)
    for col in real.columns:
        if col in numeric:
            a, b = real[col].to_numpy(float), synth[col].to_numpy(float)
            a, b = a[~np.isnan(a)], b[~np.isnan(b)]  # missing shares are compared by missing_shares
            stat = ks_2samp(a, b).statistic if len(a) and len(b) else float(len(a) != len(b))
            kind = "KS"
        else:
            p = real[col].value_counts(normalize=True)
            q = synth[col].value_counts(normalize=True)
            stat, kind = 0.5 * p.sub(q, fill_value=0).abs().sum(), "TV"
        rows.append({"column": col, "metric": kind, "distance": float(stat), "complement": 1 - float(stat)})
    return pd.DataFrame(rows)


def fidelity_ceiling(population: pd.DataFrame, numeric: list[str], real_rows: int, synthetic_rows: int,
                     draws: int = 50, seed: int = 0) -> np.ndarray:
    """Mean KS/TV complements a *perfect* generator scores: the real and the synthetic rows are
    both drawn, with replacement, from ``population`` (all the real rows there are).

    Why: against a small holdout even the true distribution cannot score 1 — two samples of it
    differ by sampling noise alone (KS ≈ 0.87·√(1/m + 1/n)) — so a score has to be read against
    this ceiling, not against 1. A finite population has ties, which shrink KS statistics, so the
    ceiling errs on the generous side.
    """
    rng = np.random.default_rng(seed)
    scores = np.empty(draws)
    for i in range(draws):
        real = population.iloc[rng.integers(0, len(population), real_rows)]
        synth = population.iloc[rng.integers(0, len(population), synthetic_rows)]
        scores[i] = fidelity(real, synth, numeric)["complement"].mean()
    return scores


def _balanced(real, synth, max_rows, seed):
    n = min(len(real), len(synth), max_rows)
    x = pd.concat([real.sample(n, random_state=seed), synth[real.columns].sample(n, random_state=seed)],
                  ignore_index=True)
    x = x.astype({c: object for c in x.columns if x[c].dtype == object})
    y = np.r_[np.zeros(n), np.ones(n)]
    return x, y


GB_MAX_LEVELS = 250  # histogram gradient boosting splits a categorical natively up to 255 levels; more: as codes


def _boosting(x: pd.DataFrame, numeric: list[str], categorical: list[str], seed: int):
    """Histogram gradient boosting (scikit-learn's LightGBM-style trees; XGBoost is not in the serving image):
    numerics as they are (gaps handled natively), categoricals as ordinal codes split natively."""
    codes = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
    prep = ColumnTransformer([("num", "passthrough", numeric), ("cat", codes, categorical)])
    native = [False] * len(numeric) + [x[c].nunique() <= GB_MAX_LEVELS for c in categorical]
    return make_pipeline(prep, HistGradientBoostingClassifier(categorical_features=native or None, random_state=seed))


SMALL = 1000  # rows below which a forest is grown on one thread: the pool cost more CPU than it saved (same trees)


def _detector(kind: str, numeric: list[str], categorical: list[str], seed: int, trees: int = 100, leaf: int = 1,
              jobs: int = -1):
    """(encoding, classifier): the encoding is fitted once on all rows of a detection (unsupervised: category
    lists, medians, scales), the classifier once per fold; encoding strings again in every fold, and
    cross_validate's extra prediction per fold for its score, took a quarter of the app's first Detection."""
    onehot = OneHotEncoder(handle_unknown="ignore", sparse_output=kind == "lr")
    if kind == "rf":
        prep = ColumnTransformer([("num", "passthrough", numeric), ("cat", onehot, categorical)])
        return prep, RandomForestClassifier(trees, min_samples_leaf=leaf, n_jobs=jobs, random_state=seed)
    scale = make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler())
    prep = ColumnTransformer([("num", scale, numeric), ("cat", onehot, categorical)])
    # liblinear: the same AUC as lbfgs to 4 decimals on Adult's one-hots, about 7x faster
    return prep, LogisticRegression(max_iter=2000, solver="liblinear")


def detection(real: pd.DataFrame, synth: pd.DataFrame, numeric: list[str], kind: str = "rf",
              folds: int = 5, max_rows: int = 10_000, seed: int = 0, trees: int = 100, leaf: int = 1) -> dict:
    """Cross-validated AUC of a classifier telling real (0) from synthetic (1) rows.

    Balanced classes; returns the AUC, the ROC curve and, for the forest (``trees`` trees, ``leaf`` rows
    per leaf at least), which columns give the synthetic rows away: impurity importances summed over each
    column's one-hots, averaged over the fold models (no extra fit on all rows). ``kind="gb"`` (gradient
    boosting) has no impurity importances: its list is the AUC each column's shuffling costs on the
    held-out folds (permutation importance), averaged over the folds.
    """
    numeric = [c for c in numeric if c in real.columns]
    categorical = _categorical(real, numeric)
    x, y = _balanced(comparable(real, numeric), comparable(synth, numeric), max_rows, seed)
    if kind == "gb":  # its permutation importances shuffle raw columns: each fold fits the whole pipeline
        prep, classifier = None, _boosting(x, numeric, categorical, seed)
        rows = lambda i: x.iloc[i]  # noqa: E731
    else:
        prep, classifier = _detector(kind, numeric, categorical, seed, trees, leaf, jobs=1 if len(x) < SMALL else -1)
        features = prep.fit_transform(x)
        rows = lambda i: features[i]  # noqa: E731
    fitted, tests, p = [], [], np.zeros(len(y))
    # one OpenMP thread for the boosting: on 2 busy cores its second thread made fits ~7x slower (0.47 s → 3.2 s)
    with threadpool_limits(1 if kind == "gb" else None, user_api="openmp"):
        for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
            fitted.append(clone(classifier).fit(rows(train), y[train]))
            tests.append(test)
            p[test] = fitted[-1].predict_proba(rows(test))[:, 1]
        if kind == "gb":  # one shuffle per column and fold: the five folds are the repeats
            parts = [pd.Series(permutation_importance(estimator, x.iloc[test], y[test], scoring="roc_auc",
                                                      n_repeats=1, random_state=seed).importances_mean, index=x.columns)
                     for estimator, test in zip(fitted, tests)]
    fpr, tpr, _ = roc_curve(y, p)
    result = {"auc": float(roc_auc_score(y, p)), "roc": pd.DataFrame({"fpr": fpr, "tpr": tpr})}
    if kind == "gb":
        result["importance"] = pd.concat(parts, axis=1).mean(axis=1).sort_values(ascending=False)
    if kind == "rf":
        names = prep.get_feature_names_out()
        by_length = sorted(categorical, key=len, reverse=True)  # 'a_b' before 'a' when both are columns
        column = [n.split("__", 1)[1] for n in names]
        column = [n if n in numeric else next(c for c in by_length if n.startswith(c + "_")) for n in column]
        parts = [pd.Series(f.feature_importances_, index=names).groupby(column).sum() for f in fitted]
        result["importance"] = pd.concat(parts, axis=1).mean(axis=1).sort_values(ascending=False)
    return result


def detection_auc_rf(real, synth, numeric, **kw) -> float:
    return detection(real, synth, numeric, "rf", **kw)["auc"]


def detection_auc_lr(real, synth, numeric, **kw) -> float:
    return detection(real, synth, numeric, "lr", **kw)["auc"]


def utility_auc(train: pd.DataFrame, test: pd.DataFrame, target: str, numeric: list[str], seed: int = 0) -> float:
    """AUC on ``test`` of R1's random forest (100 trees, sklearn defaults) trained on ``train``;
    more than two classes: the macro one-vs-rest AUC."""
    train, test = comparable(train, numeric), comparable(test, numeric)
    features = [c for c in train.columns if c != target]
    categorical = [c for c in features if c not in numeric]
    prep = ColumnTransformer([("num", "passthrough", [c for c in numeric if c in features]),
                              ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
                               categorical)])
    model = make_pipeline(prep, RandomForestClassifier(100, n_jobs=-1, random_state=seed))
    classes = sorted(test[target].unique())
    if train[target].nunique() < 2:
        return 0.5  # a one-class training set predicts nothing
    model.fit(train[features], train[target])
    proba = model.predict_proba(test[features])
    if len(classes) > 2:  # classes the training rows lack get probability 0
        full = np.zeros((len(test), len(classes)))
        for j, c in enumerate(model.classes_):
            if c in classes:
                full[:, classes.index(c)] = proba[:, j]
        full /= np.maximum(full.sum(1, keepdims=True), 1e-12)
        return float(roc_auc_score(test[target], full, multi_class="ovr", labels=classes))
    positive = list(model.classes_).index(classes[-1]) if classes[-1] in model.classes_ else 0
    return float(roc_auc_score(test[target] == classes[-1], proba[:, positive]))


def efficacy(real_train, synth, holdout, target, numeric, seed: int = 0) -> dict:
    """R1's efficacy ratio: AUC(train synthetic → test real) / AUC(train real → test real)."""
    real_auc = utility_auc(real_train, holdout, target, numeric, seed)
    synth_auc = utility_auc(synth[real_train.columns], holdout, target, numeric, seed)
    return {"real_auc": real_auc, "synthetic_auc": synth_auc, "ratio": synth_auc / real_auc}


def association(df: pd.DataFrame, numeric: list[str], bins: int = 10) -> pd.DataFrame:
    """Pairwise association in [0, 1]: |Spearman| for two numerics, Cramér's V otherwise
    (numerics cut into quantile bins), so mixed tables get one comparable matrix. Contingency
    tables come from one ``np.bincount`` each (≈ 20× faster than ``pd.crosstab``, for the app)."""
    cols = list(df.columns)
    codes = {}
    for col in cols:
        raw = (pd.qcut(df[col].rank(method="first"), bins, labels=False) if col in numeric
               else df[col].astype("category").cat.codes)
        codes[col] = np.unique(raw.to_numpy(), return_inverse=True)[1].ravel()
    out = np.eye(len(cols))
    n = len(df)
    for i, a in enumerate(cols):
        for j in range(i + 1, len(cols)):
            b = cols[j]
            if a in numeric and b in numeric:
                v = abs(df[a].corr(df[b], method="spearman"))
            else:
                ka, kb = codes[a].max() + 1 if n else 0, codes[b].max() + 1 if n else 0
                if min(ka, kb) < 2:
                    v = 0.0
                else:
                    table = np.bincount(codes[a] * kb + codes[b], minlength=ka * kb).reshape(ka, kb).astype(float)
                    expected = table.sum(1, keepdims=True) @ table.sum(0, keepdims=True) / n
                    chi2 = ((table - expected) ** 2 / expected).sum()
                    v = float(np.sqrt(chi2 / n / (min(ka, kb) - 1)))
            out[i, j] = out[j, i] = 0.0 if np.isnan(v) else v
    return pd.DataFrame(out, index=cols, columns=cols)


def correlation_similarity(real: pd.DataFrame, synth: pd.DataFrame, numeric: list[str]) -> float:
    """1 − mean absolute difference of the two association matrices (off-diagonal)."""
    diff = (association(real, numeric) - association(synth[real.columns], numeric)).abs().to_numpy()
    off = ~np.eye(len(diff), dtype=bool)
    return float(1 - diff[off].mean())


def distance_space(train: pd.DataFrame, numeric: list[str]):
    """Min-max scaled numerics + one-hot categoricals, fitted on ``train``."""
    categorical = _categorical(train, numeric)
    scale = make_pipeline(SimpleImputer(strategy="median", add_indicator=True), MinMaxScaler())
    return ColumnTransformer([("num", scale, numeric),
                              ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical)]
                             ).fit(train)


def distance_to_closest(train, synth, holdout, numeric, max_rows: int = 5000, seed: int = 0) -> dict:
    """Distance from each synthetic row (and, as the yardstick, each holdout row) to its nearest
    training row, in min-max-scaled numerics + one-hots. Synthetic rows much closer than holdout
    rows would mean the generator memorises."""
    train, synth, holdout = (comparable(f, numeric) for f in (train, synth, holdout))
    space = distance_space(train, numeric)
    nn = NearestNeighbors(n_neighbors=1).fit(space.transform(train))
    n = min(max_rows, len(synth), len(holdout))
    with sklearn.config_context(working_memory=WORKING_MB):
        d_synth = nn.kneighbors(space.transform(synth[train.columns].sample(n, random_state=seed)))[0][:, 0]
        d_hold = nn.kneighbors(space.transform(holdout.sample(n, random_state=seed)))[0][:, 0]
    return {"synthetic": d_synth, "holdout": d_hold,
            "median_synthetic": float(np.median(d_synth)), "median_holdout": float(np.median(d_hold)),
            "ratio": float(np.median(d_synth) / max(np.median(d_hold), 1e-12))}


def exact_copy_rate(train: pd.DataFrame, rows: pd.DataFrame) -> float:
    """Share of ``rows`` identical to some training row in every column."""
    keys = pd.util.hash_pandas_object(train.astype(str), index=False)
    probe = pd.util.hash_pandas_object(rows[train.columns].astype(str), index=False)
    return float(probe.isin(set(keys)).mean())


def fooled_rate(real_scores: np.ndarray, fake_scores: np.ndarray) -> float:
    """Share of fakes the model's own discriminator rates at least as real as the median real row.

    A calibrated threshold for BCE discriminators and WGAN critics alike: 0.5 means the
    discriminator cannot rank fakes below real rows; 0 means it always can.
    """
    return float((np.asarray(fake_scores) >= np.median(real_scores)).mean())
