"""Digit metrics on the judge classifier's features (numpy, scipy, scikit-learn only).

Used at export time (numbers written to the card) and by the app, so both mean the same thing.
Every distance-based number is reported beside the same number for real data — 10,000 real
training digits against the test set — because with k = 3 even real-vs-real precision and recall
sit well below 1, and the Fréchet distance of two finite real samples is not 0.
"""
from __future__ import annotations

import numpy as np
import sklearn
from scipy import linalg
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import pairwise_distances_chunked, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from explorer.runtime.images import JUDGE_BATCH

CONFIDENT = 0.9
WORKING_MB = 64  # scikit-learn's chunk size for pairwise distances (its default, 1 GB, is per concurrent request)


def judge(session, images: np.ndarray, batch: int = JUDGE_BATCH) -> tuple[np.ndarray, np.ndarray]:
    """(probs [n, 10], features [n, d]) from an onnxruntime session of ``classifier.onnx``; small batches
    are as fast as 2,000 and keep the session's memory arena small (JUDGE_BATCH)."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"images must have shape [n, 28, 28], got {list(images.shape)}")
    parts = [session.run(None, {"image": images[i:i + batch]}) for i in range(0, len(images), batch)]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def frechet(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (as in FID)."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = linalg.sqrtm(cov_a @ cov_b)
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * np.real(root)))


def _covered(points: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Whether each point lies inside at least one centre's ball."""
    hits = [np.any(block <= radii[None, :], axis=1) for block in pairwise_distances_chunked(points, centres,
                                                                                   working_memory=WORKING_MB)]
    return np.concatenate(hits)


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3) -> dict:
    """Improved precision and recall (Kynkäänniemi et al. 2019) with k-NN balls."""
    with sklearn.config_context(working_memory=WORKING_MB):
        radius = {name: NearestNeighbors(n_neighbors=k + 1).fit(x).kneighbors(x)[0][:, -1]
                  for name, x in (("real", real), ("fake", fake))}
    return {"precision": float(_covered(fake, real, radius["real"]).mean()),
            "recall": float(_covered(real, fake, radius["fake"]).mean())}


def detection_auc(real: np.ndarray, fake: np.ndarray, seed: int = 0) -> float:
    """5-fold AUC of a logistic regression telling real from generated features (balanced)."""
    n = min(len(real), len(fake))
    x = np.concatenate([real[:n], fake[:n]])
    y = np.r_[np.ones(n), np.zeros(n)]
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    return float(roc_auc_score(y, cross_val_predict(clf, x, y, cv=folds, method="predict_proba")[:, 1]))


def conditional_accuracy(probs: np.ndarray, codes: np.ndarray) -> dict:
    """Share of samples the judge labels as the requested digit, overall and per digit."""
    hit = probs.argmax(1) == codes
    return {"overall": float(hit.mean()),
            "per_digit": {str(d): float(hit[codes == d].mean()) for d in np.unique(codes)}}


def digit_distribution(probs: np.ndarray) -> dict:
    counts = np.bincount(probs.argmax(1), minlength=probs.shape[1])
    return {str(d): float(c / len(probs)) for d, c in enumerate(counts)}


def confident_share(probs: np.ndarray, threshold: float = CONFIDENT) -> float:
    return float((probs.max(1) > threshold).mean())


def compare(real: np.ndarray, fake: np.ndarray, k: int = 3, seed: int = 0) -> dict:
    """Fréchet, precision/recall and detection of ``fake`` features against ``real`` ones."""
    return {"frechet": frechet(real, fake), **precision_recall(real, fake, k),
            "detection_auc": detection_auc(real, fake, seed)}


def relative(model: dict, reference: dict) -> dict:
    """Model metrics as multiples of the real-data reference (the issue's bars are relative)."""
    return {"precision_vs_reference": model["precision"] / reference["precision"],
            "recall_vs_reference": model["recall"] / reference["recall"],
            "frechet_vs_reference": model["frechet"] / reference["frechet"]}
