"""Cached digit diagnostics for the app (``kind == "image"`` cards): what the judge classifier says
about a model's samples, the nearest real training image of a few samples, and the Fréchet /
precision / recall / detection numbers measured live beside the real-data reference.

Every function takes small keys (model id, the model folder's signature, n, seed) so
st.cache_data hashes nothing big. The real MNIST arrays and the pixel nearest-neighbour index
are shared resources (st.cache_resource): loaded once per data folder, never copied. The metric
code is ``explorer.metrics.digits`` — the same that wrote the cards. No torch here.
"""
from __future__ import annotations

import os

import numpy as np
import pandas as pd
import streamlit as st

from explorer import inputs
from explorer.app.gate import heavy
from explorer.app.state import CACHE_TTL, RESOURCE_TTL, load_model, model_signature
from explorer.runtime.images import decode_latents, encode_images, generate_images, sample_images
from explorer.runtime.interpolate import path

DIGITS = [str(d) for d in range(10)]
CONFIDENT = 0.9  # explorer.metrics.digits.CONFIDENT, without importing scipy / scikit-learn at page start
MAX_SAMPLES = 5000  # live diagnostics; the cards use 10,000 at export
NEIGHBOURS_MAX = 16
GRID_MAX = 20  # images per digit in the Condition page's 10 × k grid
TEST_IMAGES = 10_000  # MNIST's test set: real images to interpolate between


def signature(model_id: str) -> str:
    """Cache key part that changes whenever a file of the model changes."""
    return model_signature(model_id)


def data_folder() -> str:
    return os.environ.get("GAN_EXPLORER_DATA", "data")


# ---------------------------------------------------------------- real data (shared, never copied)
@st.cache_resource(show_spinner="Loading MNIST…", max_entries=2, ttl=RESOURCE_TTL)
def _mnist(folder: str) -> dict[str, np.ndarray]:
    from explorer.data.tables import load_mnist
    data = load_mnist()
    for array in data.values():
        array.flags.writeable = False
    return data


def mnist() -> dict[str, np.ndarray]:
    """uint8 x_train / y_train / x_test / y_test; raises ``DataUnavailable`` when missing."""
    return _mnist(data_folder())


def as_float(images: np.ndarray) -> np.ndarray:
    """uint8 pixels → float32 in [0, 1], the contract's image format."""
    return np.asarray(images, dtype=np.float32) / 255.0


@st.cache_resource(show_spinner="Indexing the 60,000 training images…", max_entries=1, ttl=RESOURCE_TTL)
def _train_index(folder: str):
    from sklearn.neighbors import NearestNeighbors
    data = _mnist(folder)
    with heavy():
        return NearestNeighbors(n_neighbors=1, algorithm="brute").fit(as_float(data["x_train"]).reshape(-1, 28 * 28))


def parse_index(value, count: int, what: str = "test image") -> int:
    """A 0-based index into a set of ``count`` images; the message names the valid range."""
    return inputs.index(value, count, f"{what} number")


# ---------------------------------------------------------------- the judge on real images
@st.cache_data(show_spinner=False, max_entries=4, ttl=CACHE_TTL)
def _real_judged(folder: str, classifier_sha: str, n: int, seed: int, _session) -> dict:
    from explorer.metrics import digits as dm
    data = _mnist(folder)
    rng = np.random.default_rng(seed)
    test = rng.choice(len(data["x_test"]), min(n, len(data["x_test"])), replace=False)
    train = rng.choice(len(data["x_train"]), min(n, len(data["x_train"])), replace=False)
    with heavy():
        probs_test, f_test = dm.judge(_session, as_float(data["x_test"][test]))
        _, f_train = dm.judge(_session, as_float(data["x_train"][train]))
    return {"probs_test": probs_test, "labels_test": data["y_test"][test].astype(int),
            "features_test": f_test, "features_train": f_train}


def real_judged(model_id: str, n: int, seed: int) -> dict:
    """The judge on n random real test images and n random training images (the reference)."""
    model = load_model(model_id)
    sha = model.card.files["classifier"].sha256
    mnist()  # raises DataUnavailable before entering the cache
    return _real_judged(data_folder(), sha, n, seed, model.sessions["classifier"])


# ---------------------------------------------------------------- the judge on generated images
def uniform_mix(model) -> dict[str, float] | None:
    """Every digit equally often for a conditional model (as at export); None otherwise."""
    return {c: 1.0 for c in model.classes} if model.classes else None


@st.cache_data(show_spinner=False, max_entries=8, ttl=CACHE_TTL)
def _judged(model_id: str, sig: str, n: int, seed: int) -> dict:
    from explorer.metrics import digits as dm
    model = load_model(model_id)
    with heavy():
        images, codes = sample_images(model, n, seed, uniform_mix(model))
        probs, features = dm.judge(model.sessions["classifier"], images)
    return {"probs": probs, "features": features, "codes": codes}


def judged(model_id: str, n: int, seed: int) -> dict:
    """probs, features and requested digits (None if unconditional) of n samples (seed)."""
    return _judged(model_id, signature(model_id), n, seed)


def has_judge(model) -> bool:
    return "classifier" in model.sessions


def digit_matrix(probs: np.ndarray, codes: np.ndarray) -> pd.DataFrame:
    """Long form requested × judged: count and share of each requested digit's samples."""
    judged_codes = probs.argmax(1)
    counts = np.zeros((10, 10), dtype=int)
    np.add.at(counts, (codes, judged_codes), 1)
    totals = counts.sum(1, keepdims=True)
    shares = counts / np.maximum(totals, 1)
    req, jud = np.meshgrid(np.arange(10), np.arange(10), indexing="ij")
    return pd.DataFrame({"requested": [DIGITS[i] for i in req.ravel()], "judged": [DIGITS[j] for j in jud.ravel()],
                         "count": counts.ravel(), "share": shares.ravel()})


def digit_shares(probs: np.ndarray, real_labels: np.ndarray | None = None) -> pd.DataFrame:
    """Share of samples the judge labels as each digit (and of real test images per true digit)."""
    parts = [pd.DataFrame({"digit": DIGITS, "source": "synthetic",
                           "share": np.bincount(probs.argmax(1), minlength=10) / max(len(probs), 1)})]
    if real_labels is not None:
        parts.append(pd.DataFrame({"digit": DIGITS, "source": "real",
                                   "share": np.bincount(real_labels, minlength=10) / max(len(real_labels), 1)}))
    return pd.concat(parts, ignore_index=True)


def summary(probs: np.ndarray, codes: np.ndarray | None) -> dict:
    """Headline numbers of a judged sample: conditional accuracy (overall, worst digit) or the
    judged-digit spread, and the share the judge is confident about."""
    from explorer.metrics import digits as dm
    out = {"confident_share": dm.confident_share(probs), "mean_confidence": float(probs.max(1).mean())}
    if codes is not None:
        acc = dm.conditional_accuracy(probs, codes)
        worst = min(acc["per_digit"], key=acc["per_digit"].get)
        out.update(conditional_accuracy=acc["overall"], per_digit=acc["per_digit"], worst_digit=worst,
                   worst_accuracy=acc["per_digit"][worst])
    else:
        spread = dm.digit_distribution(probs)
        out.update(distribution=spread, most_common=max(spread, key=spread.get))
    return out


# ---------------------------------------------------------------- nearest real training image
@st.cache_data(show_spinner=False, max_entries=16, ttl=CACHE_TTL)
def _nearest(model_id: str, sig: str, folder: str, count: int, seed: int) -> dict:
    from explorer.metrics import digits as dm
    model, index, data = load_model(model_id), _train_index(folder), _mnist(folder)
    with heavy():
        images, codes = sample_images(model, count, seed, uniform_mix(model))
        dist, idx = index.kneighbors(images.reshape(len(images), -1))
        probs = dm.judge(model.sessions["classifier"], images)[0] if has_judge(model) else None
    return {"samples": images, "codes": codes, "probs": probs, "neighbours": as_float(data["x_train"][idx[:, 0]]),
            "labels": data["y_train"][idx[:, 0]].astype(int), "indices": idx[:, 0], "distances": dist[:, 0]}


def nearest(model_id: str, count: int, seed: int) -> dict:
    """The first ``count`` samples of seed ``seed`` and the nearest real training image of each
    (pixel L2 over the 60,000 training images)."""
    if not 1 <= count <= NEIGHBOURS_MAX:
        raise ValueError(f"between 1 and {NEIGHBOURS_MAX} samples, got {count}")
    mnist()
    return _nearest(model_id, signature(model_id), data_folder(), count, seed)


@st.cache_data(show_spinner=False, max_entries=2, ttl=CACHE_TTL)
def _real_nearest(folder: str, count: int, seed: int) -> dict:
    data, index = _mnist(folder), _train_index(folder)
    pick = np.random.default_rng(seed).choice(len(data["x_test"]), count, replace=False)
    with heavy():
        dist = index.kneighbors(as_float(data["x_test"][pick]).reshape(count, -1))[0][:, 0]
    return {"median": float(np.median(dist)), "p10": float(np.quantile(dist, 0.1)), "count": count}


def real_nearest(count: int = 200, seed: int = 0) -> dict:
    """Distance of real test images to their nearest training image: what 'new but typical' looks like."""
    mnist()
    return _real_nearest(data_folder(), count, seed)


# ---------------------------------------------------------------- Fréchet, precision/recall, detection
@st.cache_data(show_spinner=False, max_entries=16, ttl=CACHE_TTL)
def _compare(model_id: str, sig: str, folder: str, n: int, seed: int) -> dict:
    from explorer.metrics import digits as dm
    real = real_judged(model_id, n, seed)
    fake = judged(model_id, n, seed)
    with heavy():
        reference = dm.compare(real["features_test"], real["features_train"], seed=seed)
        measured = dm.compare(real["features_test"], fake["features"], seed=seed)
    return {"model": measured, "reference": reference, "relative": dm.relative(measured, reference)}


def feature_metrics(model_id: str, n: int, seed: int) -> dict:
    """Fréchet / precision / recall / detection AUC of n samples against n real test images, beside
    the same numbers for n real training images (the reference), on the judge's features."""
    mnist()
    return _compare(model_id, signature(model_id), data_folder(), n, seed)


def _scores(session, images: np.ndarray, codes: np.ndarray | None, batch: int = 1000) -> np.ndarray:
    """The discriminator's logit per image (with the one-hot digit for a conditional model)."""
    feed = {"image": np.asarray(images, dtype=np.float32)}
    if codes is not None:
        feed["label"] = np.eye(10, dtype=np.float32)[codes]
    parts = [session.run(None, {k: v[i:i + batch] for k, v in feed.items()})[0][:, 0]
             for i in range(0, len(images), batch)]
    return np.concatenate(parts) if parts else np.zeros(0, np.float32)


@st.cache_data(show_spinner=False, max_entries=16, ttl=CACHE_TTL)
def _discriminated(model_id: str, sig: str, folder: str, n: int, seed: int) -> dict:
    from explorer.metrics import analysis as an
    from explorer.metrics.diagnostics import fooled_rate
    model = load_model(model_id)
    session = model.sessions["discriminator"]
    fake, codes = sample_images(model, n, seed, uniform_mix(model))
    data = _mnist(folder)
    pick = np.random.default_rng(seed).choice(len(data["x_test"]), min(n, len(data["x_test"])), replace=False)
    labels = data["y_test"][pick].astype(np.int64) if model.classes else None
    with heavy():
        real_scores = _scores(session, as_float(data["x_test"][pick]), labels)
        fake_scores = _scores(session, fake, codes)
    return {"binned": an.binned({"real": real_scores, "synthetic": fake_scores}),
            "fooled": fooled_rate(real_scores, fake_scores), "threshold": float(np.median(real_scores)),
            "rows": (len(real_scores), len(fake_scores))}


def discriminated(model_id: str, n: int, seed: int) -> dict | None:
    """The model's own discriminator on n real test images (with their true digit) and n samples
    (with the digit asked for): score histograms and the fooled rate; None if it ships none."""
    if "discriminator" not in load_model(model_id).sessions:
        return None
    mnist()
    return _discriminated(model_id, signature(model_id), data_folder(), n, seed)


def metrics_table(live: dict, card_metrics: dict, n: int) -> pd.DataFrame:
    """Live and export-time numbers, model and real reference, one row each."""
    keys = ("frechet", "precision", "recall", "detection_auc")
    rows = [{"measured": f"now: model, {n:,} samples", **live["model"]},
            {"measured": f"now: real train vs test, {n:,} images", **live["reference"]}]
    if all(k in card_metrics for k in keys):
        at = card_metrics.get("samples", "?")
        rows.append({"measured": f"at export: model, {at:,} samples" if isinstance(at, int) else "at export: model",
                     **{k: card_metrics[k] for k in keys}})
    reference = card_metrics.get("reference_real_train_vs_test") or {}
    if all(k in reference for k in keys):
        rows.append({"measured": "at export: real train vs test", **{k: reference[k] for k in keys}})
    return pd.DataFrame(rows, columns=["measured", *keys])


# ---------------------------------------------------------------- Condition: one row of k samples per digit
def digit_grid(model, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """10 × k images (row d: k samples of digit d) and their requested digits."""
    if not 1 <= k <= GRID_MAX:
        raise ValueError(f"images per digit must be from 1 to {GRID_MAX}, got {k}")
    codes = np.repeat(np.arange(len(model.classes)), k)
    return generate_images(model, model.noise(len(codes), seed), codes), codes


# ---------------------------------------------------------------- Interpolate: between two real test images
def real_path(model_id: str, a: int, b: int, steps: int, method: str) -> dict:
    """Encode test images a and b, walk the latent path, decode every frame (latent-space models)."""
    model = load_model(model_id)
    data = mnist()
    count = len(data["x_test"])
    a, b = parse_index(a, count), parse_index(b, count)
    ends = as_float(data["x_test"][[a, b]])
    latents = encode_images(model, ends)
    frames = decode_latents(model, path(latents[0], latents[1], steps, method))
    return {"ends": ends, "labels": data["y_test"][[a, b]].astype(int), "frames": np.clip(frames, 0, 1),
            "distance": float(np.linalg.norm(latents[0] - latents[1]))}
