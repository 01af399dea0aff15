"""Every training setting, in one validated dataclass, and the defaults each model starts from.

``Settings`` takes its parameters the way a scikit-learn estimator does: plain keyword values,
checked on construction (a bad value is a ``ValueError`` naming the key). Tables and digits share
the loop's settings; a few belong to one family only (``Settings.names``), and the digit models keep
their own command-line names for two shared ones (``noise_dim`` = ``latent_dim``, ``batch`` = ``batch_size``).
``--quick`` shrinks any of them to a seconds-long smoke run (CI, tests).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

LOSSES = ("wgan-gp", "bce", "hinge")
TABLES, DIGITS = "tables", "digits"
_T, _D = {"family": TABLES}, {"family": DIGITS}  # a field used by one family only


@dataclass
class Settings:
    # the loop, for tables and digits alike
    conditional: bool = field(default=False, metadata=_T)
    latent_dim: int = 16
    g_hidden: tuple = field(default=(256, 256), metadata=_T)
    d_hidden: tuple = field(default=(256, 256), metadata=_T)
    loss: str = "wgan-gp"  # wgan-gp | bce | hinge
    epochs: int = 300
    batch_size: int = 500
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    lr_final: float = field(default=1.0, metadata=_T)  # both rates decay linearly to this fraction (1 = constant)
    optimizer: str = field(default="adam", metadata=_T)  # adam | rmsprop
    n_critic: int = field(default=1, metadata=_T)
    gp_weight: float = field(default=10.0, metadata=_T)
    batchnorm: bool = field(default=True, metadata=_T)
    g_slope: float = field(default=0.0, metadata=_T)
    d_slope: float = field(default=0.2, metadata=_T)
    dropout: float = field(default=0.0, metadata=_T)
    spectral_norm: bool = field(default=False, metadata=_T)
    minibatch_discrimination: bool = field(default=False, metadata=_T)
    pac: int = field(default=1, metadata=_T)
    d_bins: int = field(default=0, metadata=_T)  # critic: piecewise-linear ramps per numeric CDF level (0 = off)
    xavier: bool = field(default=False, metadata=_T)
    instance_noise: float = field(default=0.0, metadata=_T)  # std of noise on D's inputs, decaying linearly to 0
    grad_clip: float = field(default=0.0, metadata=_T)  # max grad norm for D (0 = off)
    label_smoothing: float = field(default=0.0, metadata=_T)  # bce: real target 1 - s
    label_flip: float = field(default=0.0, metadata=_T)  # bce: probability a batch's real/fake targets are swapped
    balanced: bool = field(default=False, metadata=_T)  # cGAN: draw training labels uniformly over classes
    confidence_weight: float = field(default=0.0, metadata=_T)  # confidence GAN: requested-vs-achieved link loss
    confidence_requests: float = field(default=1.0, metadata=_T)  # link requests ~ Beta(a, a) (1 = uniform)
    confidence_logit_link: bool = field(default=False, metadata=_T)  # the link's squared error in logits
    confidence_judge_targets: bool = field(default=False, metadata=_T)  # surrogate: real rows' in-sample judge score
    confidence_judge_conditions: bool = field(default=False, metadata=_T)  # real rows' condition: that score too
    confidence_remap: bool = field(default=False, metadata=_T)  # after training: request -> G input map
    confidence_reach_weight: float = field(default=0.0, metadata=_T)  # G inputs above the range pushed to the top
    confidence_top_weight: float = field(default=0.0, metadata=_T)  # extra logit link on requests 0.5-0.95
    confidence_candidates: int = field(default=1, metadata=_T)  # sampling: rows per request, the judge keeps the closest
    instance_k: int = field(default=20, metadata=_T)  # IC-GAN: size of each instance's neighbourhood of real rows
    marginal_weight: float = field(default=1.0, metadata=_T)  # weight of the per-column distribution-matching loss
    ema: float = 0.99  # decay of the moving average of G's weights used for sampling (0 = off)
    impute: str | None = field(default=None, metadata=_T)  # None keeps "?" as a category; "mode" = R1
    calibrate: bool = field(default=False, metadata=_T)  # after training: exact marginals (training/calibrate.py)
    calibrate_parent: bool = field(default=False, metadata=_T)  # calibrate: numerics per level of their parent too
    snapshots: int = field(default=1, metadata=_T)  # the exported G: an equal mixture of the best-scoring evaluations' G
    runs: int = field(default=1, metadata=_T)  # runs side by side (seeds seed, seed+1000, ...), G mixing them all
    eval_every: int = field(default=10, metadata=_T)
    patience: int = field(default=0, metadata=_T)  # evaluations without improvement before stopping (0 = never)
    seed: int = 0
    betas: tuple = field(default=(0.5, 0.999), metadata=_D)  # the digits' Adam (tables: fixed at 0.5, 0.9)
    frozen: tuple = field(default=(), metadata=_D)  # names of D submodules kept fixed (FreezeD)
    width: int = field(default=32, metadata=_D)  # the pixel cGAN's generator channels
    decoder_width: int = field(default=32, metadata=_D)  # the latent models' autoencoder decoder
    categories: int = field(default=0, metadata=_D)  # latent GAN: a k-valued code from its own noise (0 = none)
    info_weight: float = field(default=1.0, metadata=_D)  # weight of InfoGAN's mutual-information term for that code

    def __post_init__(self):
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be wgan-gp, bce or hinge, got {self.loss!r}")
        if self.optimizer not in ("adam", "rmsprop"):
            raise ValueError(f"optimizer must be adam or rmsprop, got {self.optimizer!r}")
        self.g_hidden, self.d_hidden = tuple(self.g_hidden), tuple(self.d_hidden)
        self.betas, self.frozen = tuple(self.betas), tuple(self.frozen)
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            for v in value if isinstance(value, tuple) else (value,):
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    check(f.name, v, f"{f.name}={value!r}")

    @staticmethod
    def names(family: str) -> list[str]:
        """The fields a family trains with (in the order its cards record them)."""
        if family == DIGITS:
            return list(DIGIT_FIELDS)
        return [f.name for f in dataclasses.fields(Settings) if f.metadata.get("family", family) == family]

    def record(self, family: str, extra: tuple = ()) -> dict:
        """The card's ``training.config``: the family's settings under its own names, plus ``extra`` fields."""
        if family == TABLES:
            return {k: getattr(self, k) for k in self.names(TABLES)}
        return {**{DIGIT_NAMES.get(k, k): getattr(self, k) for k in DIGIT_FIELDS},
                **{k: getattr(self, k) for k in extra}}

    def replace(self, **changes) -> "Settings":
        return dataclasses.replace(self, **changes)


# the digit cards' config, in their order; two shared settings keep the digits' names
DIGIT_FIELDS = ("latent_dim", "epochs", "seed", "batch_size", "loss", "lr_g", "lr_d", "betas", "ema", "frozen")
DIGIT_NAMES = {"latent_dim": "noise_dim", "batch_size": "batch"}


DEFAULTS = {
    "adult": dict(epochs=150, batch_size=500, eval_every=10),
    "credit-g": dict(epochs=400, batch_size=64, eval_every=20),
    "diabetes": dict(epochs=400, batch_size=64, eval_every=20),
}
ARCHS = ("gan", "cgan", "confgan", "icgan")
EXTRA = {"confgan": dict(confidence_weight=30.0, epochs=800, confidence_candidates=8),  # judge-confidence conditioning (training/confidence.py)
         "icgan": dict(instance_k=20)}  # instance conditioning (training/instance.py)
# validated once, at the end: a smoke run checks the path, not model selection (an IC-GAN's validation
# alone took 5 s of CPU an epoch)
QUICK = dict(epochs=2, eval_every=2, g_hidden=(32,), d_hidden=(32,))


STEPS = 5_000  # a user's table trains for about this many batches (diabetes: 3,600, credit-g: 4,800)


def sized(rows: int) -> dict:
    """Defaults for a table the product was not built for, from its training rows alone: Adult's
    batch from 5,000 rows up (credit-g's below), and epochs for about STEPS batches (5 to 2,000)."""
    batch = 500 if rows >= 5000 else 64
    epochs = int(min(2000, max(5, round(STEPS / max(1, rows // batch)))))
    return dict(epochs=epochs, batch_size=batch, eval_every=max(1, epochs // 15))


def config_for(dataset: str, arch: str, seed: int = 0, quick: bool = False, rows: int | None = None,
               **overrides) -> Settings:
    """The settings for ``dataset`` (a built-in name, or any table given its training ``rows``)."""
    if arch not in ARCHS:
        raise ValueError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHS)}")
    base = DEFAULTS[dataset] if dataset in DEFAULTS else sized(rows or 0)
    extra = {k: v for k, v in EXTRA.get(arch, {}).items() if dataset in DEFAULTS or k != "epochs"}
    settings = {**base, **extra, **(QUICK if quick else {}), **overrides}
    return Settings(conditional=arch == "cgan", seed=seed, **settings)


# The digit models (training/run_digits.py), per architecture. ARCH_KEYS are settings only some take, recorded in
# the card beside the rest when in the architecture's defaults: ``width`` (the pixel cGAN's generator),
# ``decoder_width`` (the latent models' decoder), and the unconditional latent GAN's networks and critic
# (``g_hidden``, ``batchnorm``, ``d_hidden``, ``pac``, ``gp_weight``, ``categories``, ``info_weight``).
DIGIT_DEFAULTS = {
    # unconditional: a 10-valued code from its own noise and 200 epochs (docs/digits.md, the latent GAN's attempts)
    "latent-gan": dict(latent_dim=32, epochs=200, batch_size=128, loss="bce", lr_g=2e-4, lr_d=2e-4, ema=0.999,
                       decoder_width=16, g_hidden=(256, 256), batchnorm=True, d_hidden=(256, 256), pac=1,
                       gp_weight=10.0, categories=10, info_weight=1.0),
    "latent-cgan": dict(latent_dim=32, epochs=60, batch_size=128, loss="bce", lr_g=2e-4, lr_d=2e-4, ema=0.999,
                        decoder_width=16),
    "pixel-cgan": dict(latent_dim=64, epochs=20, batch_size=64, loss="hinge", lr_g=2e-4, lr_d=2e-4, ema=0.999,
                       width=16),
    "mlp-gan": dict(latent_dim=100, epochs=30, batch_size=64, loss="bce", lr_g=2e-4, lr_d=2e-4, ema=0),
}
ARCH_KEYS = ("width", "decoder_width", "g_hidden", "batchnorm", "d_hidden", "pac", "gp_weight", "categories",
             "info_weight")


def digit_config(arch: str, seed: int = 0, quick: bool = False, epochs: int | None = None, **overrides) -> Settings:
    """The settings of a digit model: its architecture's defaults, ``overrides``, one epoch when ``quick``,
    and ``epochs`` (``--epochs``) over all of them."""
    quick_or_epochs = {**(dict(epochs=1) if quick else {}), **(dict(epochs=epochs) if epochs else {})}
    return Settings(seed=seed, **{**DIGIT_DEFAULTS[arch], **overrides, **quick_or_epochs})


def digit_record(settings: Settings, arch: str) -> dict:
    """A digit card's ``training.config``: the digits' settings and the architecture's network sizes."""
    return settings.record(DIGITS, extra=tuple(k for k in ARCH_KEYS if k in DIGIT_DEFAULTS[arch]))


def parse_override(text: str) -> tuple[str, object]:
    """``key=value`` from the command line, typed like the tables' setting it sets and range-checked."""
    key, _, raw = text.partition("=")
    fields = Settings.names(TABLES)
    if key not in fields or not raw:
        raise ValueError(f"--set expects key=value with key one of {sorted(fields)}, got {text!r}")
    return key, typed(raw, getattr(Settings(), key), key)


# What each numeric setting allows (under the tables' and the digits' names); a value outside is refused
# before anything is trained or written.
WHOLE_POSITIVE = {"epochs", "batch_size", "batch", "latent_dim", "noise_dim", "n_critic", "pac", "instance_k",
                  "eval_every", "width", "decoder_width", "g_hidden", "d_hidden", "confidence_candidates", "snapshots",
                  "runs"}
POSITIVE = {"lr_g", "lr_d", "confidence_requests"}
FRACTION = {"dropout", "label_smoothing", "label_flip", "ema", "betas"}  # from 0 up to (not including) 1
UP_TO_ONE = {"lr_final"}  # from 0 to 1
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
        check(key, v, f"--set {key}={raw}")
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


def check(key: str, value, where: str) -> None:
    """Refuse a number outside what ``key`` allows; ``where`` names the offending input in the message."""
    if not math.isfinite(value):
        raise ValueError(f"{where}: {key} must be a finite number")
    if key in WHOLE_POSITIVE and value < 1:
        raise ValueError(f"{where}: {key} must be 1 or more")
    if key in POSITIVE and value <= 0:
        raise ValueError(f"{where}: {key} must be above 0")
    if key in FRACTION and not 0 <= value < 1:
        raise ValueError(f"{where}: {key} must be from 0 up to (not including) 1")
    if key in UP_TO_ONE and not 0 <= value <= 1:
        raise ValueError(f"{where}: {key} must be from 0 to 1")
    if value < 0:
        raise ValueError(f"{where}: {key} must not be negative")
