"""Load and clean the real datasets, shared by training and the app.

Files are read from the folder named by ``GAN_EXPLORER_DATA``. A missing file is fetched
from OpenML with scikit-learn when the machine is online; offline, the error names the
variable and the file so the user knows exactly what to provide.
"""
from __future__ import annotations

import os
import tempfile
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.io import arff
from sklearn.model_selection import train_test_split

DATA_ENV = "GAN_EXPLORER_DATA"
SPLIT_SEED = 0
HOLDOUT_FRACTION = 0.2
MISSING = "?"  # Adult's own marker; kept as a category so synthetic data keeps it too

ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
    "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
    "hours-per-week", "native-country", "income",
]
OPENML_IDS = {"adult": 1590, "credit-g": 31, "diabetes": 37, "mnist": 554}
TABLES = ("adult", "credit-g", "diabetes")


class DataUnavailable(FileNotFoundError):
    """A dataset file is missing and could not be downloaded."""


class DataCorrupt(DataUnavailable):
    """A dataset file is there but cannot be read (truncated, edited, another format): the message names
    the file and the fix. A DataUnavailable, so every page that copes with missing data copes with it."""


def damaged(filename: str, problem: str) -> DataCorrupt:
    return DataCorrupt(f"{filename} is damaged: {problem}; delete it to download it again, or replace it "
                       f"with the original file")


@dataclass
class Table:
    """A real table split into train and holdout, with its column roles."""

    name: str
    train: pd.DataFrame
    holdout: pd.DataFrame
    target: str
    numeric: list[str]
    categorical: list[str]  # includes the target
    categories: dict[str, list[str]]
    split: str
    minority: str = field(default="")
    # users' own files (explorer/data/user_tables.py): the inferred schema, the source file's
    # name/sha256/rows, and for a numeric target the column whose quantile bins ``target`` holds
    schema: object = None
    source: dict | None = None
    range_of: str = ""
    edges: list[float] | None = None

    @property
    def columns(self) -> list[str]:
        return list(self.train.columns)


def data_dir() -> Path:
    return Path(os.environ.get(DATA_ENV, "data")).expanduser()


# (data folder, file) → the message of a download that failed in this process: offline, each visit to a
# data page would otherwise wait ~5 s for the same failure. A file that appears later is still found.
_FAILED: dict[tuple[str, str], str] = {}


def _require(filename: str, dataset: str) -> Path:
    path = data_dir() / filename
    if path.is_file():
        return path
    key = (str(data_dir().resolve()), filename)
    if key in _FAILED:
        raise DataUnavailable(_FAILED[key])
    try:
        _download(dataset)
    except Exception as exc:  # offline, blocked, or OpenML changed: all the same to the user
        # ``from None``: the message carries the cause; the network stack's chained traceback
        # (about a hundred lines) would bury it
        _FAILED[key] = (f"{filename} not found in {data_dir().resolve()} and downloading OpenML dataset "
                        f"{OPENML_IDS[dataset]} failed ({_reason(exc)}). Set {DATA_ENV} to the folder holding "
                        f"{filename}, or run once with internet access.")
        raise DataUnavailable(_FAILED[key]) from None
    if not path.is_file():
        raise DataUnavailable(f"{filename} still missing in {data_dir()} after download")
    return path


def _reason(exc: Exception) -> str:
    reason = getattr(exc, "reason", None)  # urllib's URLError keeps the socket error here
    return f"{type(exc).__name__}: {reason if reason is not None else exc}"


def _download(dataset: str) -> None:
    """Write the OpenML copy of ``dataset`` in the same file format the loaders read.

    OpenML's own cache goes to a temporary folder: the file written here is the only copy kept, and
    a failed download leaves nothing behind in the data folder."""
    from sklearn.datasets import fetch_openml

    with tempfile.TemporaryDirectory(prefix="gan-explorer-openml-") as cache, warnings.catch_warnings():
        # its "network error ... Retrying" line: the error raised after the retry says it all
        warnings.filterwarnings("ignore", message="A network error occurred", category=UserWarning)
        bunch = fetch_openml(data_id=OPENML_IDS[dataset], as_frame=True, parser="auto",
                             data_home=cache, n_retries=1, delay=0.1)
    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    frame = bunch.frame
    if dataset == "mnist":
        x = frame.drop(columns=bunch.target_names).to_numpy(np.uint8).reshape(-1, 28, 28)
        y = frame[bunch.target_names[0]].astype(int).to_numpy(np.uint8)
        np.savez_compressed(folder / "mnist.npz", x_train=x[:60000], y_train=y[:60000],
                            x_test=x[60000:], y_test=y[60000:])
    elif dataset == "adult":  # OpenML 1590 is adult.data followed by adult.test
        frame = frame.astype(object).where(frame.notna(), MISSING)
        frame.iloc[:32561].to_csv(folder / "adult.data", header=False, index=False)
        test = frame.iloc[32561:].copy()
        test[test.columns[-1]] = test[test.columns[-1]].astype(str) + "."
        (folder / "adult.test").write_text("|1x3 Cross validator\n" + test.to_csv(header=False, index=False))
    else:
        _write_arff(frame, folder / f"{dataset}.arff", dataset)


def _write_arff(frame: pd.DataFrame, path: Path, relation: str) -> None:
    """The minimal ARFF that ``scipy.io.arff`` reads back: nominal columns quoted."""
    lines = [f"@relation {relation}"]
    for col in frame.columns:
        if isinstance(frame[col].dtype, pd.CategoricalDtype):
            values = ", ".join(f"'{v}'" for v in frame[col].cat.categories)
            lines.append(f"@attribute {col} {{{values}}}")
        else:
            lines.append(f"@attribute {col} real")
    lines.append("@data")
    for row in frame.itertuples(index=False):
        lines.append(",".join(f"'{v}'" if isinstance(v, str) else repr(float(v)) for v in row))
    path.write_text("\n".join(lines) + "\n")


def _read_adult(filename: str) -> pd.DataFrame:
    path = _require(filename, "adult")
    skip = 1 if filename.endswith(".test") else 0
    try:
        df = pd.read_csv(path, header=None, names=ADULT_COLUMNS, skipinitialspace=True, skiprows=skip, dtype=str)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise damaged(filename, str(exc).strip()) from None
    short = df.isna().any(axis=1).to_numpy()  # the UCI files mark missing values with '?', never a blank
    if short.any():
        row = int(short.argmax())
        raise damaged(filename, f"line {row + 1 + skip} has {int(df.iloc[row].notna().sum())} of "
                                f"{len(ADULT_COLUMNS)} fields (a truncated download?)")
    df["income"] = df["income"].str.rstrip(".")
    return df


def _read_arff(filename: str, dataset: str) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    path = _require(filename, dataset)
    try:
        data, meta = arff.loadarff(path)
    except (arff.ArffError, ValueError, UnicodeDecodeError, IndexError) as exc:
        raise damaged(filename, f"not a readable ARFF file ({exc})") from None
    df = pd.DataFrame(data)
    categories = {}
    for name in meta.names():
        kind, values = meta[name]
        if kind == "nominal":
            df[name] = df[name].str.decode("utf-8")
            categories[name] = list(values)
    return df, categories


def _finish(name, train, holdout, target, numeric, categories, split) -> Table:
    for col in numeric:
        try:
            train[col] = pd.to_numeric(train[col]).astype(float)
            holdout[col] = pd.to_numeric(holdout[col]).astype(float)
        except (ValueError, TypeError) as exc:
            raise damaged(f"the {name} data", f"column {col!r} holds a non-number ({exc})") from None
    counts = train[target].value_counts()
    return Table(name=name, train=train.reset_index(drop=True), holdout=holdout.reset_index(drop=True),
                 target=target, numeric=numeric, categorical=list(categories), categories=categories,
                 split=split, minority=str(counts.idxmin()))


def _split(df: pd.DataFrame, target: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    return train_test_split(df, test_size=HOLDOUT_FRACTION, stratify=df[target], random_state=SPLIT_SEED)


def load_adult() -> Table:
    train, holdout = _read_adult("adult.data"), _read_adult("adult.test")
    numeric = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
    categorical = [c for c in ADULT_COLUMNS if c not in numeric]
    categories = {c: sorted(set(train[c]) | set(holdout[c])) for c in categorical}
    return _finish("adult", train, holdout, "income", numeric, categories,
                   "adult.data = train (32,561 rows), adult.test = holdout (16,281 rows)")


def _load_arff_table(name: str, filename: str) -> Table:
    df, categories = _read_arff(filename, name)
    numeric = [c for c in df.columns if c not in categories]
    train, holdout = _split(df, "class")
    return _finish(name, train, holdout, "class", numeric, categories,
                   f"stratified {1 - HOLDOUT_FRACTION:.0%}/{HOLDOUT_FRACTION:.0%} split of {filename}, "
                   f"sklearn train_test_split random_state={SPLIT_SEED}")


def load_table(name: str) -> Table:
    """Return the named real table; raises ``KeyError`` listing the known names."""
    loaders = {"adult": load_adult,
               "credit-g": lambda: _load_arff_table("credit-g", "credit-g.arff"),
               "diabetes": lambda: _load_arff_table("diabetes", "diabetes.arff")}
    if name not in loaders:
        raise KeyError(f"unknown dataset {name!r}; choose one of {', '.join(loaders)}")
    return loaders[name]()


def load_mnist() -> dict[str, np.ndarray]:
    """MNIST as uint8 arrays: x_train (60000, 28, 28), y_train, x_test, y_test."""
    try:
        with np.load(_require("mnist.npz", "mnist"), allow_pickle=False) as npz:
            return {k: npz[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    except DataUnavailable:
        raise
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise damaged("mnist.npz", f"not a readable .npz with x_train, y_train, x_test, y_test ({exc})") from None
