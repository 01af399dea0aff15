"""Default settings per dataset: the ones the README's measurements chose.

``--quick`` shrinks any of them to a seconds-long smoke run (CI, tests).
"""
from __future__ import annotations

import dataclasses

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


def config_for(dataset: str, arch: str, seed: int = 0, quick: bool = False, **overrides) -> GANConfig:
    if arch not in ARCHS:
        raise ValueError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHS)}")
    settings = {**DEFAULTS[dataset], **EXTRA.get(arch, {}), **(QUICK if quick else {}), **overrides}
    return GANConfig(conditional=arch == "cgan", seed=seed, **settings)


def parse_override(text: str) -> tuple[str, object]:
    """``key=value`` from the command line, typed like the GANConfig field it sets."""
    key, _, raw = text.partition("=")
    fields = {f.name: f for f in dataclasses.fields(GANConfig)}
    if key not in fields or not raw:
        raise ValueError(f"--set expects key=value with key one of {sorted(fields)}, got {text!r}")
    return key, typed(raw, getattr(GANConfig(), key))


def typed(raw: str, default):
    """A command-line value typed like the default it replaces (tables' and digits' ``--set`` alike)."""
    if isinstance(default, bool):
        return raw.lower() in ("1", "true", "yes")
    if isinstance(default, tuple):
        return tuple(type(default[0])(v) for v in raw.split(","))
    if default is None:
        return None if raw.lower() == "none" else raw
    return type(default)(raw)
