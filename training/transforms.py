"""Invertible table encoding whose inverse runs inside the exported ONNX graph.

Numeric columns go through their empirical CDF (scikit-learn's QuantileTransformer table)
and then the logit, so every column the networks see is a smooth, unbounded, roughly
logistic variable whatever its real shape: long tails (capital-gain), point masses
(the zeros of insulin) and integer grids all become easy targets. Ties are broken by uniform
jitter inside the tie's CDF band (a randomised probability integral transform), so a point
mass becomes an interval the generator can hit with a continuous output; the inverse maps the
whole interval back to the one value. Categoricals are one-hot.

The inverse (sigmoid, linear interpolation in the quantile table, rounding to the column's
decimals, argmax) and the forward map used by the exported discriminator are plain tensor
ops, so ``torch.onnx.export`` carries them into the graph and the app gets decoded rows.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from sklearn.preprocessing import QuantileTransformer
from torch import nn

from explorer.contract import Column

EPS = 1e-4  # keeps the logit finite: encoded values lie in about [-9.2, 9.2]


def _decimals(values: np.ndarray, limit: int = 4) -> int:
    for d in range(limit + 1):
        scaled = values * 10**d
        if np.allclose(scaled, np.round(scaled), atol=1e-6 * max(1.0, np.abs(scaled).max())):
            return d
    return limit


@dataclass
class NumericColumn:
    name: str
    quantiles: np.ndarray  # value at evenly spaced CDF levels 0..1
    sorted_values: np.ndarray
    decimals: int

    @property
    def card(self) -> Column:
        return Column(name=self.name, type="numeric", min=float(self.quantiles[0]), max=float(self.quantiles[-1]),
                      integer=self.decimals == 0, decimals=self.decimals)


@dataclass
class DerivedColumn:
    """A numeric column that is a function of one categorical column in the real data
    (Adult's education-num of education): decoded by table look-up, never generated, so the
    pair can never disagree."""
    name: str
    source: str
    values: np.ndarray  # value per category of ``source``
    decimals: int

    @property
    def card(self) -> Column:
        return Column(name=self.name, type="numeric", min=float(np.nanmin(self.values)),
                      max=float(np.nanmax(self.values)), integer=self.decimals == 0, decimals=self.decimals,
                      derived_from=self.source)


@dataclass
class CategoricalColumn:
    name: str
    categories: list[str]

    @property
    def card(self) -> Column:
        return Column(name=self.name, type="categorical", categories=list(self.categories))


class TableTransformer:
    """Fit on real rows; ``encode`` feeds the networks, ``decoder()`` undoes it in-graph.

    impute="mode" replaces the missing marker by the column mode (R1's preprocessing);
    the default keeps it as its own category so synthetic rows keep the real missingness.
    """

    def __init__(self, n_quantiles: int = 10_000, impute: str | None = None, missing: str = "?"):
        if impute not in (None, "mode"):
            raise ValueError(f"impute must be None or 'mode', got {impute!r}")
        self.n_quantiles, self.impute, self.missing = n_quantiles, impute, missing

    def fit(self, df: pd.DataFrame, numeric: list[str], categorical: list[str],
            categories: dict[str, list[str]] | None = None) -> "TableTransformer":
        self.modes_ = {c: df[c][df[c] != self.missing].mode().iloc[0] for c in categorical} if self.impute else {}
        df = self.clean(df)
        self.numeric_order_ = list(numeric)
        self.categorical_ = []
        for col in categorical:
            known = (categories or {}).get(col) or sorted(df[col].unique())
            cats = [c for c in known if not (self.impute and c == self.missing)]
            self.categorical_.append(CategoricalColumn(col, cats))
        self.derived_ = [d for d in (self._derived(df, col) for col in numeric) if d is not None]
        derived = {d.name for d in self.derived_}
        self.numeric_ = []
        for col in (c for c in numeric if c not in derived):
            values = df[col].to_numpy(float)
            qt = QuantileTransformer(n_quantiles=min(self.n_quantiles, len(values)), subsample=None)
            qt.fit(values[:, None])
            self.numeric_.append(NumericColumn(col, qt.quantiles_[:, 0].copy(), np.sort(values),
                                               _decimals(values)))
        return self

    def _derived(self, df: pd.DataFrame, col: str) -> DerivedColumn | None:
        for cat in self.categorical_:
            per_category = df.groupby(cat.name, observed=True)[col]
            if per_category.nunique().max() == 1 and df[cat.name].value_counts().min() >= 5:
                first = per_category.first()
                fallback = float(df[col].median())  # a category never seen in training rows
                values = np.array([first.get(c, fallback) for c in cat.categories], dtype=np.float64)
                return DerivedColumn(col, cat.name, values, _decimals(df[col].to_numpy(float)))
        return None

    def clean(self, df: pd.DataFrame) -> pd.DataFrame:
        """Apply the fitted missing-value policy to any frame with the fitted columns."""
        if not self.impute:
            return df
        df = df.copy()
        for col, mode in self.modes_.items():
            df[col] = df[col].replace(self.missing, mode)
        return df

    @property
    def cat_sizes(self) -> list[int]:
        return [len(c.categories) for c in self.categorical_]

    @property
    def dim(self) -> int:
        return len(self.numeric_) + sum(self.cat_sizes)

    @property
    def columns(self) -> list[Column]:
        """Card entries in output order: every numeric column in table order, then categoricals."""
        by_name = {c.name: c.card for c in self.numeric_ + self.derived_}
        return [by_name[n] for n in self.numeric_order_] + [c.card for c in self.categorical_]

    def cdf_bands(self, df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Per numeric cell, the empirical-CDF interval its value occupies (ties → width > 0)."""
        lows, highs = [], []
        for col in self.numeric_:
            v, n = df[col.name].to_numpy(float), len(col.sorted_values)
            lows.append(np.searchsorted(col.sorted_values, v, "left") / n)
            highs.append(np.searchsorted(col.sorted_values, v, "right") / n)
        return np.stack(lows, 1).astype(np.float32), np.stack(highs, 1).astype(np.float32)

    def one_hot(self, df: pd.DataFrame) -> np.ndarray:
        df = self.clean(df)
        blocks = []
        for col in self.categorical_:
            codes = pd.Categorical(df[col.name], categories=col.categories).codes
            if (codes < 0).any():
                bad = df[col.name][codes < 0].iloc[0]
                raise ValueError(f"column {col.name!r} has value {bad!r} not seen in training")
            blocks.append(np.eye(len(col.categories), dtype=np.float32)[codes])
        return np.concatenate(blocks, 1) if blocks else np.zeros((len(df), 0), np.float32)

    def decoder(self) -> "Decoder":
        return Decoder(self)

    def encoder(self) -> "Encoder":
        return Encoder(self)


def jittered_logits(low: torch.Tensor, high: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Randomised PIT: a uniform draw inside each CDF band, then the logit."""
    u = low + (high - low) * torch.rand(low.shape, generator=generator)
    return torch.logit(u.clamp(EPS, 1 - EPS))


class _Tables(nn.Module):
    def __init__(self, tf: TableTransformer):
        super().__init__()
        q = np.stack([c.quantiles for c in tf.numeric_]) if tf.numeric_ else np.zeros((0, 2))
        self.register_buffer("quantiles", torch.tensor(q, dtype=torch.float32))
        self.register_buffer("scale", torch.tensor([10.0**c.decimals for c in tf.numeric_], dtype=torch.float32))
        self.n_numeric, self.cat_sizes = len(tf.numeric_), tf.cat_sizes
        modeled = {c.name: i for i, c in enumerate(tf.numeric_)}
        derived = {d.name: d for d in tf.derived_}
        cat_index = {c.name: j for j, c in enumerate(tf.categorical_)}
        # per output numeric column: ("model", index among the modelled columns, -1) or
        # ("lookup", k of the buffer lookup_k, index of the categorical it is derived from)
        self.layout, lookups = [], []
        for name in tf.numeric_order_:
            if name in modeled:
                self.layout.append(("model", modeled[name], -1))
            else:
                d = derived[name]
                self.layout.append(("lookup", len(lookups), cat_index[d.source]))
                lookups.append(torch.tensor(d.values, dtype=torch.float32))
        for k, values in enumerate(lookups):
            self.register_buffer(f"lookup_{k}", values)
        self.register_buffer("modeled_index", torch.tensor(
            [i for i, n in enumerate(tf.numeric_order_) if n in modeled], dtype=torch.long))


class Decoder(_Tables):
    """Network output (logit-CDF numerics, one-hot/logit blocks) → decoded numeric + indices."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n_q = self.quantiles.shape[1]
        pos = torch.sigmoid(x[:, : self.n_numeric]) * (n_q - 1)
        i0 = pos.floor().clamp(0, n_q - 2)
        frac = pos - i0
        offsets = torch.arange(self.n_numeric, device=x.device) * n_q
        idx = i0.long() + offsets
        flat = self.quantiles.reshape(-1)
        value = flat[idx] + frac * (flat[idx + 1] - flat[idx])
        modeled = torch.round(value * self.scale) / self.scale
        codes, start = [], self.n_numeric
        for size in self.cat_sizes:
            codes.append(torch.argmax(x[:, start:start + size], dim=1))
            start += size
        categorical = torch.stack(codes, 1) if codes else torch.zeros((x.shape[0], 0), dtype=torch.long)
        columns = [modeled[:, i] if kind == "model" else getattr(self, f"lookup_{i}")[codes[j]]
                   for kind, i, j in self.layout]
        numeric = torch.stack(columns, 1) if columns else modeled
        return numeric, categorical


class Encoder(_Tables):
    """Decoded numeric + indices → the network's input space, deterministic (tie → band middle)."""

    def forward(self, numeric: torch.Tensor, categorical: torch.Tensor) -> torch.Tensor:
        q = self.quantiles.unsqueeze(0)  # [1, n_num, n_q]
        lo, hi = q[..., :-1], q[..., 1:]
        x = numeric[:, self.modeled_index].unsqueeze(-1)  # derived columns carry no information
        width = hi - lo
        ramp = torch.clamp((x - lo) / torch.clamp(width, min=1e-12), 0, 1)
        step = 0.5 * (torch.sign(x - lo) + 1)  # tie band: a value equal to a flat segment sits in its middle
        u = torch.where(width > 0, ramp, step).mean(-1)
        u = u.clamp(EPS, 1 - EPS)
        parts = [torch.log(u) - torch.log1p(-u)]  # torch.logit would name a graph value "logit", the output's name
        for j, size in enumerate(self.cat_sizes):
            parts.append(nn.functional.one_hot(categorical[:, j].long(), size).float())
        return torch.cat(parts, 1)
