"""Image models (``kind == "image"`` cards): run the contract's ONNX graphs and tile digits.

Kept small: the generator gives ``image`` [n, 28, 28] in [0, 1] directly, or ``latent`` that
``decoder.onnx`` turns into ``image``; an optional ``classifier.onnx`` gives ``probs`` [n, 10].
"""
from __future__ import annotations

import io

import numpy as np

from explorer.models import Model


def generate_images(model: Model, z: np.ndarray, codes: np.ndarray | None = None) -> np.ndarray:
    z = np.asarray(z, dtype=np.float32)
    feed = {"z": z}
    if model.classes:
        if codes is None:
            raise ValueError(f"{model.id} is conditional: give one label per image")
        feed["label"] = np.eye(len(model.classes), dtype=np.float32)[np.asarray(codes, dtype=np.int64)]
    names = [o.name for o in model.sessions["generator"].get_outputs()]
    out = dict(zip(names, model.sessions["generator"].run(None, feed)))
    if "image" not in out:
        out = {"image": model.sessions["decoder"].run(None, {"latent": out["latent"]})[0]}
    return np.clip(out["image"].reshape(len(z), 28, 28), 0, 1)


def sample_images(model: Model, n: int, seed: int, mix=None) -> tuple[np.ndarray, np.ndarray | None]:
    codes = model.label_codes(n, seed, mix) if model.classes else None
    return generate_images(model, model.noise(n, seed), codes), codes


def classify(model: Model, images: np.ndarray) -> np.ndarray | None:
    """Digit probabilities [n, 10] from the model's classifier, or None when it ships none."""
    if "classifier" not in model.sessions:
        return None
    return model.sessions["classifier"].run(None, {"image": images.astype(np.float32)})[0]


def grid(images: np.ndarray, cols: int = 10, pad: int = 2) -> np.ndarray:
    """Tile [n, h, w] images in [0, 1] into one uint8 picture with ``cols`` per row."""
    n, h, w = images.shape
    rows = max(1, -(-n // cols))
    canvas = np.ones((rows * (h + pad) + pad, cols * (w + pad) + pad), dtype=np.float32)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        canvas[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = img
    return (canvas * 255).round().astype(np.uint8)


def png_bytes(picture: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG")
    return buffer.getvalue()
