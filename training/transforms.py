"""Invertible table encoding whose inverse runs inside the exported ONNX graph.

Numeric columns go through their empirical CDF (scikit-learn's QuantileTransformer table)
and then the logit, so every column the networks see is a smooth, unbounded, roughly
logistic variable whatever its real shape: long tails (capital-gain), point masses
(the zeros of insulin) and integer grids all become easy targets. Ties are broken by uniform
jitter inside the tie's CDF band (a randomised probability integral transform), so a point
mass becomes an interval the generator can hit with a continuous output; the inverse maps the
whole interval back to the one value. Categoricals are one-hot.

Missing values: a categorical's missing cells are one more level (null in the card); a numeric
column with missing cells gets a two-level indicator block learned jointly with everything else,
its missing cells sit at the CDF's middle, and the decoder writes NaN where the indicator says so.

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
from explorer.data.schema import MISSING_LEVEL  # the level a categorical's missing cells take; null in the card

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
    missing: bool = False  # has missing cells: an indicator block follows the categoricals

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
class Calibration:
    """Fitted after training (training/calibrate.py): per class, the quantile table of every modelled
    numeric column [classes, numeric, levels] and the category-logit bias [classes, one-hot width].

    With ``parents`` (per modelled numeric, the index of a categorical column, or -1), a column with a
    parent has a table per class *and* per level of that categorical, ``by_parent[j]`` [classes, parent
    levels, levels], used in place of its ``tables`` entry. With ``category_parents`` (per categorical, its
    parent categorical or -1; a forest), a child's logits also get ``category_bias[c]`` [classes, parent
    levels, child levels] at its parent's decoded level."""
    tables: np.ndarray
    bias: np.ndarray
    parents: list[int] | None = None
    by_parent: dict[int, np.ndarray] | None = None
    category_parents: list[int] | None = None
    category_bias: dict[int, np.ndarray] | None = None

    @property
    def has_parents(self) -> bool:
        return bool(self.by_parent) or bool(self.category_bias)

    def groups(self) -> list[np.ndarray]:
        """Per modelled numeric column, its tables as [classes, groups, levels] (one group without a parent)."""
        by_parent = self.by_parent or {}
        return [by_parent[j] if j in by_parent else self.tables[:, j, None, :] for j in range(self.tables.shape[1])]


@dataclass
class CategoricalColumn:
    name: str
    categories: list[str]

    @property
    def card(self) -> Column:
        return Column(name=self.name, type="categorical",
                      categories=[None if c == MISSING_LEVEL else c for c in self.categories])


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
            known = list((categories or {}).get(col) or sorted(df[col].dropna().unique()))
            if df[col].isna().any() and MISSING_LEVEL not in known:
                known.append(MISSING_LEVEL)
            cats = [c for c in known if not (self.impute and c == self.missing)]
            self.categorical_.append(CategoricalColumn(col, cats))
        self.derived_ = [d for d in (self._derived(df, col) for col in numeric) if d is not None]
        derived = {d.name for d in self.derived_}
        self.numeric_ = []
        for col in (c for c in numeric if c not in derived):
            full = df[col].to_numpy(float)
            values = full[~np.isnan(full)]
            n_q = min(self.n_quantiles, len(full))  # one table size for all columns, gaps or not
            if len(values) == len(full):
                qt = QuantileTransformer(n_quantiles=n_q, subsample=None).fit(values[:, None])
                quantiles = qt.quantiles_[:, 0].copy()
            else:  # the same levels QuantileTransformer uses, over the present values only
                quantiles = np.quantile(values, np.linspace(0, 1, n_q))
            self.numeric_.append(NumericColumn(col, quantiles, np.sort(values), _decimals(values),
                                               missing=len(values) < len(full)))
        return self

    def _derived(self, df: pd.DataFrame, col: str) -> DerivedColumn | None:
        if df[col].isna().any():
            return None
        for cat in self.categorical_:
            if df[cat.name].isna().any():
                continue
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
    def indicators(self) -> list[int]:
        """Indices (among the modelled numerics) of the columns with a missing-value indicator."""
        return [i for i, c in enumerate(self.numeric_) if c.missing]

    @property
    def cat_sizes(self) -> list[int]:
        """One-hot block sizes: the categoricals, then a 2-level block (present, missing) per indicator."""
        return [len(c.categories) for c in self.categorical_] + [2] * len(self.indicators)

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
            gap = np.isnan(v)  # a missing cell sits at the CDF's middle; its indicator carries the fact
            lows.append(np.where(gap, 0.5, np.searchsorted(col.sorted_values, v, "left") / n))
            highs.append(np.where(gap, 0.5, np.searchsorted(col.sorted_values, v, "right") / n))
        if not lows:  # a table of categoricals only
            return np.zeros((len(df), 0), np.float32), np.zeros((len(df), 0), np.float32)
        return np.stack(lows, 1).astype(np.float32), np.stack(highs, 1).astype(np.float32)

    def one_hot(self, df: pd.DataFrame) -> np.ndarray:
        df = self.clean(df)
        blocks = []
        for col in self.categorical_:
            values = df[col.name]
            if MISSING_LEVEL in col.categories:
                values = values.astype(object).where(values.notna(), MISSING_LEVEL)
            codes = pd.Categorical(values, categories=col.categories).codes
            if (codes < 0).any():
                bad = df[col.name][codes < 0].iloc[0]
                raise ValueError(f"column {col.name!r} has value {bad!r} not seen in training")
            blocks.append(np.eye(len(col.categories), dtype=np.float32)[codes])
        for i in self.indicators:
            blocks.append(np.eye(2, dtype=np.float32)[df[self.numeric_[i].name].isna().to_numpy().astype(int)])
        return np.concatenate(blocks, 1) if blocks else np.zeros((len(df), 0), np.float32)

    def decoder(self, calibration: "Calibration | None" = None) -> "Decoder":
        return Decoder(self, calibration)

    def encoder(self) -> "Encoder":
        return Encoder(self)


def jittered_logits(low: torch.Tensor, high: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Randomised PIT: a uniform draw inside each CDF band, then the logit."""
    u = low + (high - low) * torch.rand(low.shape, generator=generator)
    return torch.logit(u.clamp(EPS, 1 - EPS))


def parents_first(parents: list[int]) -> list[int]:
    """The columns of a forest (each column's parent, or -1) in an order where each parent precedes its children."""
    order, placed = [], set()
    while len(order) < len(parents):
        for c, p in enumerate(parents):
            if c not in placed and (p < 0 or p in placed):
                order.append(c)
                placed.add(c)
    return order


def _with_steps(tables: torch.Tensor) -> torch.Tensor:
    """Each level beside its step to the next on a new last axis (value, step)."""
    return torch.stack([tables, torch.diff(tables, dim=-1, append=tables[..., -1:])], -1)


class _Tables(nn.Module):
    def __init__(self, tf: TableTransformer):
        super().__init__()
        q = np.stack([c.quantiles for c in tf.numeric_]) if tf.numeric_ else np.zeros((0, 2))
        self.register_buffer("quantiles", torch.tensor(q, dtype=torch.float32))
        self.register_buffer("scale", torch.tensor([10.0**c.decimals for c in tf.numeric_], dtype=torch.float32))
        self.n_numeric, self.cat_sizes = len(tf.numeric_), tf.cat_sizes
        self.n_categorical, self.indicators = len(tf.categorical_), tf.indicators
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
    """Network output (logit-CDF numerics, one-hot/logit blocks) → decoded numeric + indices.

    ``calibration`` (training/calibrate.py, fitted after training) replaces the quantile tables by
    one composed table per class (the generator's own CDF, then the real class's quantiles: exact
    marginals) and adds a per-class bias to the category logits; the lookup costs the same. A calibration
    by parent decodes the categoricals parents first, adds each child's bias at its parent's level, and
    picks each numeric column's table by the class and its parent's level.
    """

    def __init__(self, tf: TableTransformer, calibration: "Calibration | None" = None):
        super().__init__(tf)
        self.calibrated = calibration is not None
        self.by_parent = self.calibrated and calibration.has_parents
        if not self.calibrated:
            return
        tables = torch.tensor(calibration.tables, dtype=torch.float32)  # [class, column, level]
        self.n_classes, _, self.n_levels = tables.shape
        if self.by_parent:  # every column's [class, group, level] tables, one after another
            groups = [torch.tensor(g, dtype=torch.float32) for g in calibration.groups()]
            sizes = [g.shape[1] for g in groups]
            flat = torch.cat([g.reshape(-1, self.n_levels) for g in groups])
            self.register_buffer("group_steps", _with_steps(flat).reshape(-1, 2))
            self.register_buffer("group_offset", torch.tensor(np.cumsum([0] + [self.n_classes * k for k in sizes[:-1]]),
                                                              dtype=torch.long))
            self.register_buffer("group_levels", torch.tensor(sizes, dtype=torch.long))
            self.numeric_parents = list(calibration.parents)
            self.category_parents = calibration.category_parents or [-1] * self.n_categorical
            self.category_order = parents_first(self.category_parents)
            for c, bias in (calibration.category_bias or {}).items():  # [class · parent level, child level]
                self.register_buffer(f"category_bias_{c}", torch.tensor(bias.reshape(-1, bias.shape[-1]), dtype=torch.float32))
        else:  # each level beside its step to the next: one row gather per value instead of two indexings
            self.register_buffer("class_steps", _with_steps(tables))
        self.register_buffer("class_bias", torch.tensor(calibration.bias, dtype=torch.float32))

    def forward(self, x: torch.Tensor, label: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        if self.by_parent:
            return self._by_parent(x, label)
        n_q = self.n_levels if self.calibrated else self.quantiles.shape[-1]
        i0, frac = self._level(x, n_q)
        offsets = torch.arange(self.n_numeric, device=x.device) * n_q
        idx = i0.long() + offsets
        logits, first = x, self.n_numeric
        if self.calibrated:
            logits, first = x[:, self.n_numeric:], 0
            if self.n_classes > 1:  # the class picks rows by index: a product with the label would be
                cls = torch.argmax(label, dim=1)  # quantised with the network in an int8 copy (slower, inexact)
                idx = idx + (cls * (self.n_numeric * n_q)).unsqueeze(1)
                logits = logits + torch.index_select(self.class_bias, 0, cls)
            else:
                logits = logits + self.class_bias
            step = torch.index_select(self.class_steps.reshape(-1, 2), 0, idx.reshape(-1)).reshape(idx.shape[0], self.n_numeric, 2)
            value = step[..., 0] + frac * step[..., 1]
        else:
            flat = self.quantiles.reshape(-1)
            value = flat[idx] + frac * (flat[idx + 1] - flat[idx])
        modeled = self._rounded(value)
        return self._finish(modeled, self._codes(logits, first), x.shape[0])

    def _level(self, x: torch.Tensor, n_q: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Each numeric output's position on an n_q-level table: the level below it and the fraction past it."""
        pos = torch.sigmoid(x[:, : self.n_numeric]) * (n_q - 1)
        i0 = pos.floor().clamp(0, n_q - 2)
        return i0, pos - i0

    def _codes(self, logits: torch.Tensor, first: int) -> list[torch.Tensor]:
        codes, start = [], first
        for size in self.cat_sizes:
            codes.append(torch.argmax(logits[:, start:start + size], dim=1))
            start += size
        return codes

    def _by_parent(self, x: torch.Tensor, label: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """The calibrated lookup whose table is picked by the class and the decoded level of the column's parent."""
        n_q = self.n_levels
        i0, frac = self._level(x, n_q)
        logits, group = x[:, self.n_numeric:], self.group_offset
        if self.n_classes > 1:
            cls = torch.argmax(label, dim=1)
            logits = logits + torch.index_select(self.class_bias, 0, cls)
            group = group + cls.unsqueeze(1) * self.group_levels
        else:
            logits = logits + self.class_bias
        codes = self._parented_codes(logits, cls if self.n_classes > 1 else None)
        none = torch.zeros_like(codes[0])  # a column without a parent: every row in the class's one group
        group = group + torch.stack([codes[p] if p >= 0 else none for p in self.numeric_parents], 1)
        idx = group * n_q + i0.long()
        step = torch.index_select(self.group_steps, 0, idx.reshape(-1)).reshape(idx.shape[0], self.n_numeric, 2)
        return self._finish(self._rounded(step[..., 0] + frac * step[..., 1]), codes, x.shape[0])

    def _parented_codes(self, logits: torch.Tensor, cls: torch.Tensor | None) -> list[torch.Tensor]:
        """Category indices, each child's logits shifted by its bias at the class and its parent's decoded level."""
        starts = np.cumsum([0] + self.cat_sizes[:-1]).tolist()
        codes = [None] * len(self.cat_sizes)
        for c in self.category_order + list(range(self.n_categorical, len(self.cat_sizes))):
            block = logits[:, starts[c]:starts[c] + self.cat_sizes[c]]
            p = self.category_parents[c] if c < self.n_categorical else -1
            if p >= 0:
                group = codes[p] if cls is None else cls * self.cat_sizes[p] + codes[p]
                block = block + torch.index_select(getattr(self, f"category_bias_{c}"), 0, group)
            codes[c] = torch.argmax(block, dim=1)
        return codes

    def _rounded(self, value: torch.Tensor) -> torch.Tensor:
        return torch.round(value * self.scale) / self.scale

    def _finish(self, modeled: torch.Tensor, codes: list[torch.Tensor], n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Missing cells and derived columns: the decoded numeric block and the category indices."""
        if self.indicators:  # missing where the indicator block chose its second level
            flags = {i: codes[self.n_categorical + k] == 1 for k, i in enumerate(self.indicators)}
            never = torch.zeros_like(modeled[:, 0], dtype=torch.bool)
            gap = torch.stack([flags.get(i, never) for i in range(self.n_numeric)], 1)
            modeled = torch.where(gap, torch.full_like(modeled, float("nan")), modeled)
        codes = codes[: self.n_categorical]
        categorical = torch.stack(codes, 1) if codes else torch.zeros((n, 0), dtype=torch.long)
        columns = [modeled[:, i] if kind == "model" else getattr(self, f"lookup_{i}")[codes[j]]
                   for kind, i, j in self.layout]
        numeric = torch.stack(columns, 1) if columns else modeled
        return numeric, categorical


class Encoder(_Tables):
    """Decoded numeric + indices → the network's input space, deterministic (tie → band middle)."""

    def forward(self, numeric: torch.Tensor, categorical: torch.Tensor) -> torch.Tensor:
        q = self.quantiles.unsqueeze(0)  # [1, n_num, n_q]
        lo, hi = q[..., :-1], q[..., 1:]
        x = numeric[:, self.modeled_index]  # derived columns carry no information
        gap = torch.isnan(x)
        x = torch.where(gap, torch.zeros_like(x), x).unsqueeze(-1)
        width = hi - lo
        ramp = torch.clamp((x - lo) / torch.clamp(width, min=1e-12), 0, 1)
        step = 0.5 * (torch.sign(x - lo) + 1)  # tie band: a value equal to a flat segment sits in its middle
        u = torch.where(width > 0, ramp, step).mean(-1)
        u = torch.where(gap, torch.full_like(u, 0.5), u.clamp(EPS, 1 - EPS))  # missing: the CDF's middle, as in training
        parts = [torch.log(u) - torch.log1p(-u)]  # torch.logit would name a graph value "logit", the output's name
        for j in range(self.n_categorical):
            parts.append(nn.functional.one_hot(categorical[:, j].long(), self.cat_sizes[j]).float())
        for i in self.indicators:
            parts.append(nn.functional.one_hot(gap[:, i].long(), 2).float())
        return torch.cat(parts, 1)
