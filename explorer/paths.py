"""Where the checkout keeps its committed models and result tables (overridable by environment), and
where training keeps its checkpoints (a user cache folder, never the source tree)."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the checkout (the package is installed editable)
MODELS_ENV = "GAN_EXPLORER_MODELS"
RESULTS_ENV = "GAN_EXPLORER_RESULTS"


def models_root() -> Path:
    return Path(os.environ.get(MODELS_ENV, ROOT / "exported"))


def results_dir() -> Path:
    """The CSVs the app reads (seed stability, sweeps, the KS/TV ceiling): ``results/``."""
    return Path(os.environ.get(RESULTS_ENV, ROOT / "results"))


def checkpoints_dir() -> Path:
    """Training checkpoints and the cached digit judge and autoencoder:
    ``$XDG_CACHE_HOME/gan-explorer/checkpoints`` (``~/.cache/...`` when unset)."""
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "gan-explorer" / "checkpoints"
