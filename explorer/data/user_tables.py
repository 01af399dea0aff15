"""A user's own file as a training ``Table``: read, infer the schema, check the target, split a holdout.

The same function rebuilds the identical table from a model card in the app (the card holds the
schema, the target, the split seed and the file's sha256), so the real-data views compare
against exactly the rows the model was judged on.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from explorer.data.readers import InputError, read_table
from explorer.data.schema import MISSING_LEVEL, Schema, canonical, infer, read_schema_file
from explorer.runtime.models import sha256 as file_sha256
from explorer.data.tables import DATA_ENV, HOLDOUT_FRACTION, DataUnavailable, Table, data_dir

MAX_CLASSES = 50
RANGE_BINS = 5  # quantile bins a numeric target is conditioned on
RANGE_SUFFIX = " (range)"
FEW_VALUES = "target with too few values for ranges: its values are the classes"


def load_file(path: str | Path, target: str | None = None, schema_file: str | Path | None = None,
              name: str | None = None, seed: int = 0) -> Table:
    """Read, infer and split ``path``; every problem is an ``InputError`` naming it and its fix."""
    path = Path(path)
    overrides, names = read_schema_file(schema_file) if schema_file else ({}, None)
    raw = read_table(path, names)
    schema = infer(raw, overrides)
    if target in raw.columns and target not in overrides and _few_values(raw[target], schema[target]):
        schema = infer(raw, {**overrides, target: {"type": "categorical"}})
        schema[target].source = FEW_VALUES
    source = {"file": path.name, "sha256": file_sha256(path), "bytes": path.stat().st_size, "rows": len(raw),
              "names": names}
    return build(raw, schema, target, name or path.stem, seed, source)


def _few_values(values: pd.Series, spec) -> bool:
    """A numeric target whose quantiles give fewer than two ranges (mostly one value) but that has at most
    MAX_CLASSES values: conditioned on its values as classes instead."""
    if spec.kind != "numeric":
        return False
    numbers = pd.to_numeric(values, errors="coerce").dropna().to_numpy(float)
    edges = np.unique(np.quantile(numbers, np.linspace(0, 1, RANGE_BINS + 1))) if len(numbers) else []
    return len(edges) < 3 and 1 < len(np.unique(numbers)) <= MAX_CLASSES


def build(raw: pd.DataFrame, schema: Schema, target: str | None, name: str, seed: int, source: dict) -> Table:
    if not schema.learned:
        reasons = "; ".join(f"{c.name}: {c.details()}" for c in schema.columns)
        raise InputError(f"every column of {source['file']} was refused or is constant ({reasons}); declare "
                         "column types in a schema file (--schema) to keep some")
    range_of, edges = "", None
    frame = schema.encode(raw)
    if target:
        if [c.name for c in schema.learned] == [target]:
            raise InputError(f"{source['file']}: the target {target!r} is the only column left to learn; keep "
                             "more columns (declare refused ones in a schema file) or train without --target")
        frame, target, range_of, edges = _target(frame, raw, schema, target)
    for spec in schema.columns:  # constants ride along (never learned), so real and synthetic rows match
        if spec.kind == "constant":
            frame[spec.name] = spec.value
    order = [c.name for c in schema.columns if c.name in frame] + ([target] if range_of else [])
    train, holdout = _split(frame[order], target, seed)
    numeric = list(schema.numeric)  # constants count as categorical in the metrics: one level, always matched
    categorical = schema.categorical + ([target] if range_of else [])
    categories = {}
    for c in categorical:
        if c == target:
            categories[c] = sorted(frame[c].dropna().unique(), key=str) if not range_of else _bin_labels(edges)
        else:
            spec = schema[c]
            categories[c] = list(spec.levels) + ([MISSING_LEVEL] if spec.missing > 0 else [])
    stratify = "" if not target else f", stratified by {range_of or target}"
    split = (f"random {1 - HOLDOUT_FRACTION:.0%}/{HOLDOUT_FRACTION:.0%} split of {source['file']}{stratify}, "
             f"sklearn train_test_split random_state={seed}")
    minority = str(train[target].value_counts().idxmin()) if target else ""
    source = {**source, "split_seed": seed, "train_rows": len(train), "holdout_rows": len(holdout),
              "dropped_rows": len(raw) - len(frame)}
    return Table(name=name, train=train.reset_index(drop=True), holdout=holdout.reset_index(drop=True),
                 target=target or "", numeric=numeric, categorical=categorical, categories=categories, split=split,
                 minority=minority, schema=schema, source=source, range_of=range_of, edges=edges)


def _target(frame: pd.DataFrame, raw: pd.DataFrame, schema: Schema, target: str):
    """Check the target; a numeric one gets a column of its quantile bins, which the models condition on."""
    if target not in raw.columns:
        close = [c for c in raw.columns if c.lower() == target.lower()]
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise InputError(f"--target {target!r} is not a column of the table{hint}; its columns are "
                         f"{', '.join(map(repr, raw.columns))}")
    spec = schema[target]
    if spec.kind in ("refused", "constant"):
        raise InputError(f"--target {target!r} cannot be learned ({spec.kind}: {spec.details()}); choose another "
                         "column, or declare its type in a schema file (--schema)")
    if spec.kind == "datetime":
        raise InputError(f"--target {target!r} is a date; a target must be categorical or numeric: choose another "
                         "column or declare it in a schema file")
    frame = frame[frame[target].notna()]  # rows without a target value teach nothing about it
    if spec.kind == "categorical":
        values = raw.loc[frame.index, target]
        distinct = values.astype(str).nunique()
        if distinct > MAX_CLASSES:
            numeric = pd.to_numeric(values, errors="coerce").notna().all()
            fix = ("its values are numbers: declare it numeric in a schema file ([columns] "
                   f"{target} = \"numeric\") to condition on ranges") if numeric else \
                "choose a column with fewer classes, or train without --target"
            raise InputError(f"--target {target!r} has {distinct} classes; at most {MAX_CLASSES} are supported: {fix}")
        # a target keeps every class: no rare-level grouping (there are at most MAX_CLASSES)
        frame = frame.assign(**{target: canonical(raw.loc[frame.index, target], spec.dtype)})
        counts = frame[target].value_counts()
        if len(counts) < 2:
            raise InputError(f"--target {target!r} has one class only ({counts.index[0]!r}); a conditional model "
                             "needs at least two: choose another column or train without --target")
        if counts.min() < 2:
            raise InputError(f"--target {target!r}: class {counts.idxmin()!r} has a single row, too few to split "
                             "off a holdout; merge it into another class or remove that row")
        return frame, target, "", None
    values = frame[target].to_numpy(float)
    edges = np.unique(np.quantile(values, np.linspace(0, 1, RANGE_BINS + 1)))
    if len(edges) < 3:
        raise InputError(f"--target {target!r} has too few distinct values to split into ranges; declare it "
                         "categorical in a schema file")
    codes = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)
    column = target + RANGE_SUFFIX
    labels = np.array(_bin_labels(edges.tolist()), dtype=object)
    frame = frame.assign(**{column: labels[codes]})
    return frame, column, target, edges.tolist()


def _bin_labels(edges: list[float]) -> list[str]:
    return [f"{_fmt(a)} – {_fmt(b)}" for a, b in zip(edges[:-1], edges[1:])]


def _fmt(x: float) -> str:
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.4g}"


def _split(frame: pd.DataFrame, target: str | None, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    return train_test_split(frame, test_size=HOLDOUT_FRACTION, random_state=seed,
                            stratify=frame[target] if target else None)


# ----------------------------------------------------------------------------- the app's side
class SourceUnavailable(DataUnavailable):
    """A user-table model's source file is not under GAN_EXPLORER_DATA, or is not the same file."""


def source_path(card: dict) -> Path:
    """Where the app looks for a user-table model's source file: GAN_EXPLORER_DATA/<file name>."""
    return data_dir() / card["source"]["file"]


def load_for_card(card: dict) -> Table:
    """The exact table a user-table model was trained and judged on, rebuilt from its card; a missing or
    changed source file is a ``DataUnavailable`` saying where to put which file."""
    src = card["source"]
    path = source_path(card)
    if not path.is_file():
        raise SourceUnavailable(f"{src['file']} not found in {data_dir().resolve()}: put the file this model was "
                                f"trained on there, named {src['file']} (sha256 {src['sha256'][:12]}…), or set "
                                f"{DATA_ENV} to the folder holding it")
    digest = file_sha256(path)
    if digest != src["sha256"]:
        raise SourceUnavailable(f"{src['file']} in {data_dir().resolve()} is not the file this model was trained on "
                                f"(sha256 {digest[:12]}…, the card says {src['sha256'][:12]}…); put the original "
                                f"{src['file']} there")
    raw = read_table(path, src.get("names"))
    schema = Schema.from_dict(card["schema"])
    target = card.get("target_column") or None
    return build(raw, schema, target, card["dataset"], src["split_seed"], dict(src))


def data_env_set() -> bool:
    return DATA_ENV in os.environ
