"""Default settings per dataset: the ones the README's measurements chose.

``--quick`` shrinks any of them to a seconds-long smoke run (CI, tests).
"""
from __future__ import annotations

import dataclasses
import math

from training.gan import GANConfig

DEFAULTS = {
    "adult": dict(epochs=150, batch_size=500, eval_every=10),
    "credit-g": dict(epochs=400, batch_size=64, eval_every=20),
    "diabetes": dict(epochs=400, batch_size=64, eval_every=20),
}
ARCHS = ("gan", "cgan", "confgan", "icgan")
EXTRA = {"confgan": dict(confidence_weight=30.0, epochs=800),  # judge-confidence conditioning (training/confidence.py)
         "icgan": dict(instance_k=20)}  # instance conditioning (training/instance.py)
QUICK = dict(epochs=2, eval_every=1, g_hidden=(32,), d_hidden=(32,))


STEPS = 5_000  # a user's table trains for about this many batches (diabetes: 3,600, credit-g: 4,800)


def sized(rows: int) -> dict:
    """Defaults for a table the product was not built for, from its training rows alone: Adult's
    batch from 5,000 rows up (credit-g's below), and epochs for about STEPS batches (5 to 2,000)."""
    batch = 500 if rows >= 5000 else 64
    epochs = int(min(2000, max(5, round(STEPS / max(1, rows // batch)))))
    return dict(epochs=epochs, batch_size=batch, eval_every=max(1, epochs // 15))


def config_for(dataset: str, arch: str, seed: int = 0, quick: bool = False, rows: int | None = None,
               **overrides) -> GANConfig:
    """The settings for ``dataset`` (a built-in name, or any table given its training ``rows``)."""
    if arch not in ARCHS:
        raise ValueError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHS)}")
    base = DEFAULTS[dataset] if dataset in DEFAULTS else sized(rows or 0)
    extra = {k: v for k, v in EXTRA.get(arch, {}).items() if dataset in DEFAULTS or k != "epochs"}
    settings = {**base, **extra, **(QUICK if quick else {}), **overrides}
    return GANConfig(conditional=arch == "cgan", seed=seed, **settings)


def parse_override(text: str) -> tuple[str, object]:
    """``key=value`` from the command line, typed like the GANConfig field it sets and range-checked."""
    key, _, raw = text.partition("=")
    fields = {f.name: f for f in dataclasses.fields(GANConfig)}
    if key not in fields or not raw:
        raise ValueError(f"--set expects key=value with key one of {sorted(fields)}, got {text!r}")
    return key, typed(raw, getattr(GANConfig(), key), key)


# What each numeric setting allows (tables' GANConfig and the digits' settings alike); a value outside
# is refused before anything is trained or written.
WHOLE_POSITIVE = {"epochs", "batch_size", "batch", "latent_dim", "noise_dim", "n_critic", "pac", "instance_k",
                  "eval_every", "width", "decoder_width", "g_hidden", "d_hidden"}
POSITIVE = {"lr_g", "lr_d"}
FRACTION = {"dropout", "label_smoothing", "label_flip", "ema", "betas"}  # from 0 up to (not including) 1
TRUE, FALSE = ("true", "yes", "1", "on"), ("false", "no", "0", "off")


def typed(raw: str, default, key: str = "value"):
    """A command-line value typed like the default it replaces (tables' and digits' ``--set`` alike); a
    ``ValueError`` names the key and what it allows."""
    if isinstance(default, bool):
        if raw.lower() not in TRUE + FALSE:
            raise ValueError(f"--set {key}={raw}: {key} must be true or false")
        return raw.lower() in TRUE
    if isinstance(default, tuple):
        value = tuple(_number(v, type(default[0]), key, raw) for v in raw.split(","))
    elif default is None:
        return None if raw.lower() == "none" else raw
    elif isinstance(default, (int, float)):
        value = _number(raw, type(default), key, raw)
    else:
        return type(default)(raw)
    for v in value if isinstance(value, tuple) else (value,):
        _check_range(key, v, raw)
    return value


def _number(text: str, kind: type, key: str, raw: str):
    what = "a whole number" if kind is int else "a number"
    try:
        value = kind(text)
    except ValueError:
        raise ValueError(f"--set {key}={raw}: {key} must be {what}") from None
    if not math.isfinite(value):
        raise ValueError(f"--set {key}={raw}: {key} must be a finite number")
    return value


def _check_range(key: str, value, raw: str) -> None:
    if key in WHOLE_POSITIVE and value < 1:
        raise ValueError(f"--set {key}={raw}: {key} must be 1 or more")
    if key in POSITIVE and value <= 0:
        raise ValueError(f"--set {key}={raw}: {key} must be above 0")
    if key in FRACTION and not 0 <= value < 1:
        raise ValueError(f"--set {key}={raw}: {key} must be from 0 up to (not including) 1")
    if value < 0:
        raise ValueError(f"--set {key}={raw}: {key} must not be negative")
