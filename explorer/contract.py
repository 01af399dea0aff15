"""The exported-model contract: a model card as typed, validated objects.

The only module that spells the card's keys. Exporters build a ``Card`` and write ``card.to_json()``;
loaders call ``Card.from_json``, which refuses unknown or missing keys and wrong types with the
path of the offending value. ``interface()`` says which ONNX inputs and outputs the card promises,
so a loader can hold each graph to it. ``docs/card.schema.json`` is generated from these classes
(``python -m explorer.contract``) and described in ``docs/contract.md``.

Plain dataclasses and a small checker rather than pydantic: loading a model may import only numpy
and onnxruntime.
"""
from __future__ import annotations

import dataclasses
import json
import sys
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union

Record = dict[str, Any]  # free-form: measured figures, training settings, descriptions
IMAGE_SHAPE = (28, 28)
DIGITS = 10


class CardError(ValueError):
    """A card that does not follow the contract; the message names the key and what was expected."""


# ----------------------------------------------------------------------------- the card's parts
@dataclass(frozen=True, kw_only=True)
class DateSpec:
    """A date column of a user's table: its numeric output counts whole ``unit``s after ``origin``."""

    unit: Literal["D", "h", "min", "s"]
    origin: str  # ISO timestamp


@dataclass(frozen=True, kw_only=True)
class Column:
    """One column of a tabular model's output, in the order of the generator's outputs."""

    name: str
    type: Literal["numeric", "categorical"]
    min: float | None = None
    max: float | None = None
    integer: bool | None = None
    decimals: int | None = None
    derived_from: str | None = None  # a numeric column looked up from this categorical, never generated
    categories: list[str | None] | None = None  # a user table's missing level is null (always last)
    missing: float | None = None  # users' tables: share of missing cells in the file (numeric outputs: NaN)
    dtype: Literal["int", "float", "bool", "string", "datetime"] | None = None  # users' tables: type written back
    datetime: DateSpec | None = None  # a date, rendered from the numeric output

    def __post_init__(self):
        if self.type == "numeric" and None in (self.min, self.max, self.integer, self.decimals):
            raise CardError(f"numeric column {self.name!r} needs min, max, integer and decimals")
        if self.type == "categorical" and not self.categories:
            raise CardError(f"categorical column {self.name!r} needs a non-empty categories list")

    @property
    def numeric(self) -> bool:
        return self.type == "numeric"


@dataclass(frozen=True, kw_only=True)
class SpaceRange:
    name: str
    min: float
    max: float
    missing: bool | None = None  # a user table's column with gaps: a missing value embeds one range below min


@dataclass(frozen=True, kw_only=True)
class SpaceLevels:
    name: str
    categories: list[str | None]  # null: a user table's missing level


@dataclass(frozen=True, kw_only=True)
class InstanceSpace:
    """How any real row is embedded for an IC-GAN: min-max-scaled numerics, then one-hot categoricals."""

    numeric: list[SpaceRange]
    categorical: list[SpaceLevels]

    @property
    def dim(self) -> int:
        return len(self.numeric) + sum(len(c.categories) for c in self.categorical)


@dataclass(frozen=True, kw_only=True)
class JudgeRef:
    """The forest a confidence-conditioned model is conditioned on, shipped as ``file``."""

    file: str
    features: list[str]
    model: str


@dataclass(frozen=True, kw_only=True)
class BankRef:
    file: str
    rows: int


@dataclass(frozen=True, kw_only=True)
class Condition:
    """What a conditional generator takes besides ``z``: a class (label), a judge confidence, or a real row."""

    type: Literal["label", "range", "confidence", "instance"]  # range: a numeric target's quantile bins, fed as label
    name: str
    classes: list[str] | None = None
    column: str | None = None  # range: the numeric column whose ranges are the classes
    edges: list[float] | None = None  # range: the bins' edges, len(classes) + 1
    train_share: dict[str, float] | None = None
    range: list[float] | None = None
    target: str | None = None
    positive_class: str | None = None
    positive_index: int | None = None
    judge: JudgeRef | None = None
    train_quantiles: list[float] | None = None
    candidates: int | None = None  # confidence: rows drawn per request, the judge keeps the closest (None = 1)
    dim: int | None = None
    k: int | None = None
    space: InstanceSpace | None = None
    embedding: str | None = None
    bank: BankRef | None = None

    REQUIRED = {"label": ("classes", "train_share"), "range": ("classes", "train_share", "column", "edges"),
                "confidence": ("range", "positive_index", "judge", "train_quantiles"),
                "instance": ("dim", "space", "bank")}

    def __post_init__(self):
        missing = [k for k in self.REQUIRED[self.type] if getattr(self, k) is None]
        if missing:
            raise CardError(f"a {self.type} condition needs {', '.join(missing)}")
        if self.type in ("label", "range") and set(self.train_share) != set(self.classes):
            raise CardError("condition.train_share must name exactly the condition's classes")
        if self.candidates is not None and (self.type != "confidence" or self.candidates < 1):
            raise CardError("condition.candidates is a confidence condition's whole number of rows per request (1 or more)")
        if self.type == "instance" and self.space.dim != self.dim:
            raise CardError(f"condition.dim is {self.dim} but its space embeds rows in {self.space.dim} numbers")

    @property
    def width(self) -> int:
        """Columns of the generator's condition input."""
        return {"label": len(self.classes or ()), "range": len(self.classes or ()), "confidence": 1,
                "instance": self.dim or 0}[self.type]

    @property
    def input(self) -> str:
        """The generator's condition input: a range is fed as a label."""
        return "label" if self.type == "range" else self.type


@dataclass(frozen=True, kw_only=True)
class FileEntry:
    path: str
    sha256: str
    bytes: int | None = None


@dataclass(frozen=True, kw_only=True)
class DataSplit:
    train_rows: int
    split: str | None = None
    holdout_rows: int | None = None
    test_rows: int | None = None


@dataclass(frozen=True, kw_only=True)
class ImageSpec:
    shape: list[int]
    range: list[float]


@dataclass(frozen=True, kw_only=True)
class Preprocessing:
    """How real rows were encoded for the networks (descriptions), and the mode imputation if any."""

    numeric: str
    categorical: str
    impute: Literal["mode"] | None = None
    modes: dict[str, str] = field(default_factory=dict)  # column → the value that replaced the missing marker
    calibration: str | None = None  # how outputs were calibrated after training (training/calibrate.py), if they were
    calibration_parents: dict[str, str] | None = None  # column → the categorical it was calibrated within, if any


@dataclass(frozen=True, kw_only=True)
class Quantised:
    """An int8 copy: which float model it was made from, how, and by which command."""

    source: str
    source_generator_sha256: str
    method: str
    command: str
    code_version: str


@dataclass(frozen=True, kw_only=True)
class Calibrated:
    """A copy calibrated after training (training/calibrate_model.py): its float source and the command."""

    source: str
    source_generator_sha256: str
    command: str
    code_version: str


@dataclass(frozen=True, kw_only=True)
class Training:
    """How the model was made: rerunning ``command`` at ``code_version`` reproduces it."""

    command: str
    seed: int
    seconds: float
    code_version: str
    epochs_run: int | None = None
    best_epoch: int | None = None
    torch: str | None = None
    python: str | None = None
    threads: int | None = None
    rows: int | None = None
    config: Record | None = None
    quantised: Quantised | None = None
    calibrated: Calibrated | None = None


@dataclass(frozen=True, kw_only=True)
class Source:
    """The user's file a model was trained on: the app finds it under GAN_EXPLORER_DATA by name."""

    file: str
    sha256: str
    bytes: int
    rows: int
    split_seed: int
    train_rows: int
    holdout_rows: int
    dropped_rows: int = 0  # rows without a target value
    names: list[str] | None = None  # column names given by the schema file (no header row)


@dataclass(frozen=True, kw_only=True)
class Ranges:
    """A numeric target's ranges: ``name`` is the column of rows' range, ``column`` the target."""

    name: str
    column: str
    edges: list[float]
    classes: list[str]


@dataclass(frozen=True, kw_only=True)
class Constant:
    name: str
    value: Any
    dtype: Literal["int", "float", "bool", "string", "datetime"]


@dataclass(frozen=True, kw_only=True)
class Refused:
    name: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class Card:
    """Everything the app, the bulk writer and outside tools may rely on about one exported model."""

    id: str
    title: str
    kind: Literal["tabular", "image"]
    dataset: str
    architecture: str
    latent_dim: int
    condition: Condition | None
    files: dict[str, FileEntry]
    training: Training
    latent_distribution: str | None = None
    target: str | None = None
    minority_class: str | None = None
    columns: list[Column] | None = None
    table_columns: list[str] | None = None
    image: ImageSpec | None = None
    preprocessing: Preprocessing | None = None
    data: DataSplit | None = None
    judge: Record | None = None  # digit models: the judge classifier's own measurements
    autoencoder: Record | None = None  # latent digit models: the autoencoder's settings and measurements
    metrics: Record = field(default_factory=dict)  # measured at export by explorer.metrics
    # a user's own table (explorer/data/user_tables.py)
    source: Source | None = None
    schema: Record | None = None  # every column's inferred or declared spec (explorer/data/schema.py)
    target_column: str | None = None  # the --target the user gave
    ranges: Ranges | None = None
    constants: list[Constant] | None = None
    refused: list[Refused] | None = None

    def __post_init__(self):
        if "generator" not in self.files:
            raise CardError("files must list the generator")
        if self.tabular and (self.columns is None or self.table_columns is None):
            raise CardError("a tabular card needs columns and table_columns")
        if not self.tabular and self.image is None:
            raise CardError("an image card needs image")
        if self.tabular:
            names = [c.name for c in self.columns] + ([self.condition.name] if self.classes else []) \
                + [c.name for c in self.constants or []] + ([self.ranges.name] if self.ranges and not self.classes else [])
            if sorted(names) != sorted(self.table_columns):
                raise CardError("table_columns must be the columns plus a label condition's column "
                                "(and a user table's constants and range column)")

    # -- reading ----------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Any) -> "Card":
        return _load(cls, data, "card")

    @classmethod
    def from_json(cls, text: str | bytes) -> "Card":
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CardError(f"card.json is not valid UTF-8 JSON ({exc})") from None
        return cls.from_dict(data)

    def to_dict(self) -> dict:
        return _dump(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    def replace(self, **changes) -> "Card":
        return dataclasses.replace(self, **changes)

    # -- what the rest of the code asks -----------------------------------------------------
    @property
    def tabular(self) -> bool:
        return self.kind == "tabular"

    @property
    def classes(self) -> list[str]:
        return list(self.condition.classes) if self.condition and self.condition.type in ("label", "range") else []

    @property
    def condition_type(self) -> str | None:
        return self.condition.type if self.condition else None

    @property
    def numeric_columns(self) -> list[Column]:
        return [c for c in self.columns or [] if c.numeric]

    @property
    def categorical_columns(self) -> list[Column]:
        return [c for c in self.columns or [] if not c.numeric]

    @property
    def imputed_modes(self) -> dict[str, str]:
        """{column: mode} when training replaced the missing marker by each column's mode, else {}."""
        prep = self.preprocessing
        return dict(prep.modes) if prep and prep.impute == "mode" else {}

    def column(self, name: str) -> Column:
        for c in self.columns or []:
            if c.name == name:
                return c
        raise KeyError(name)

    def interface(self) -> dict[str, tuple[list[Port], list[Port]]]:
        """{file role: (inputs, outputs)} that each shipped ONNX graph must have."""
        return {role: ports for role, ports in _interface(self).items() if role in self.files}


# ----------------------------------------------------------------------------- graph interface
@dataclass(frozen=True)
class Port:
    """One graph input or output: name, element type, and shape (None = any size, e.g. the batch)."""

    name: str
    dtype: Literal["float", "int64"]
    shape: tuple[int | None, ...]


def _interface(card: Card) -> dict[str, tuple[list[Port], list[Port]]]:
    cond = [Port(card.condition.input, "float", (None, card.condition.width))] if card.condition else []
    if card.tabular:
        decoded = [Port("numeric", "float", (None, len(card.numeric_columns))),
                   Port("categorical", "int64", (None, len(card.categorical_columns)))]
        ports = {"generator": ([Port("z", "float", (None, card.latent_dim))] + cond, decoded),
                 "discriminator": (decoded + cond, [Port("logit", "float", (None, 1))])}
        if card.condition and card.condition.judge:
            ports[_role(card, card.condition.judge.file)] = (
                [Port("X", "float", (None, len(card.condition.judge.features)))],
                [Port("label", "int64", (None,)), Port("probabilities", "float", (None, 2))])
        return ports
    image = Port("image", "float", (None, *IMAGE_SHAPE))
    latent = Port("latent", "float", (None, None))
    ports = {"generator": ([Port("z", "float", (None, card.latent_dim))] + cond,
                           [latent if "decoder" in card.files else image]),
             "decoder": ([latent], [image]),
             "encoder": ([image], [latent]),
             "discriminator": ([image] + cond, [Port("logit", "float", (None, 1))]),
             "classifier": ([image], [Port("probs", "float", (None, DIGITS)), Port("features", "float", (None, None))])}
    return ports


def _role(card: Card, path: str) -> str:
    return next((role for role, entry in card.files.items() if entry.path == path), path)


# ----------------------------------------------------------------------------- (de)serialising
def _hints(cls) -> dict:
    return typing.get_type_hints(cls, vars(sys.modules[__name__]))


def _fields(cls):
    return [f for f in dataclasses.fields(cls) if f.init]


def _load(tp, value: Any, where: str):
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _load(inner, value, where)
    if tp is Any:
        return value
    if origin is Literal:
        if value not in args:
            raise CardError(f"{where} must be one of {', '.join(map(repr, args))}, got {value!r}")
        return value
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise CardError(f"{where} must be an object, got {type(value).__name__}")
        hints = _hints(tp)
        known = {f.name for f in _fields(tp)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise CardError(f"{where} has unknown key {unknown[0]!r}")
        missing = [f.name for f in _fields(tp) if f.name not in value
                   and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
        if missing:
            raise CardError(f"{where} is missing {missing[0]!r}")
        kwargs = {k: _load(hints[k], v, f"{where}.{k}") for k, v in value.items()}
        try:
            return tp(**kwargs)
        except CardError as exc:
            raise CardError(f"{where}: {exc}") from None
    if origin is list:
        if not isinstance(value, list):
            raise CardError(f"{where} must be a list, got {type(value).__name__}")
        return [_load(args[0], v, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise CardError(f"{where} must be an object, got {type(value).__name__}")
        return {str(k): _load(args[1], v, f"{where}.{k}") for k, v in value.items()}
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise CardError(f"{where} must be a number, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise CardError(f"{where} must be a whole number, got {value!r}")
        return value
    if tp in (str, bool):
        if not isinstance(value, tp):
            raise CardError(f"{where} must be a {'string' if tp is str else 'boolean'}, got {value!r}")
        return value
    raise TypeError(f"no rule for {tp!r}")  # a field type this module does not handle: a bug here


def _dump(value: Any):
    if dataclasses.is_dataclass(value):
        out = {}
        for f in _fields(type(value)):
            v = getattr(value, f.name)
            if v is None and f.default is None:  # optional and absent: not written
                continue
            out[f.name] = _dump(v)
        return out
    if isinstance(value, list):
        return [_dump(v) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    return value


# ----------------------------------------------------------------------------- JSON Schema
def json_schema() -> dict:
    """JSON Schema (draft 2020-12) of card.json, generated from the classes above."""
    defs: dict = {}
    _schema(Card, defs)
    card = defs.pop("Card")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "GAN Explorer model card",
            **card, "$defs": defs}


def _schema(tp, defs: dict) -> dict:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return {"anyOf": [_schema(inner[0], defs), {"type": "null"}]}
    if tp is Any:
        return {}
    if origin is Literal:
        return {"enum": list(args)}
    if dataclasses.is_dataclass(tp):
        name = tp.__name__
        if name not in defs:
            defs[name] = {}
            hints = _hints(tp)
            props = {f.name: _schema(hints[f.name], defs) for f in _fields(tp)}
            required = [f.name for f in _fields(tp)
                        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
            defs[name] = {"type": "object", "description": (tp.__doc__ or "").strip().split("\n")[0],
                          "properties": props, "required": required, "additionalProperties": False}
        return {"$ref": f"#/$defs/{name}"}
    if origin is list:
        return {"type": "array", "items": _schema(args[0], defs)}
    if origin is dict:
        return {"type": "object", "additionalProperties": _schema(args[1], defs)}
    return {"type": {float: "number", int: "integer", str: "string", bool: "boolean"}[tp]}


SCHEMA_PATH = Path(__file__).resolve().parent.parent / "docs" / "card.schema.json"


def main() -> None:
    """Write docs/card.schema.json: ``python -m explorer.contract``."""
    SCHEMA_PATH.write_text(json.dumps(json_schema(), indent=1) + "\n")
    print(f"wrote {SCHEMA_PATH}")


if __name__ == "__main__":
    main()
