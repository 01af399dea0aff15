"""Read a user's table file (.csv, .tsv, .parquet, .arff) into a DataFrame, or say what is wrong.

Every failure is an ``InputError`` whose message names the problem and the fix, so the CLI can
print it as one line (exit code 2) instead of a traceback.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

MIN_ROWS = 50
SUFFIXES = (".csv", ".tsv", ".txt", ".data", ".parquet", ".pq", ".arff")
# Markers of a missing value beyond pandas' defaults ("", NA, NaN, null, ...): "?" is UCI's.
NA_VALUES = ["?"]
UNNAMED = "Unnamed: "  # how a blank header cell is named, as pandas names it


class InputError(ValueError):
    """The user's file, target or schema cannot be used; the message says why and what to do."""


def read_table(path: str | Path, names: list[str] | None = None) -> pd.DataFrame:
    """The table in ``path`` with its own column names (``names`` for a file without a header row)."""
    path = Path(path)
    if not path.is_file():
        where = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise InputError(f"{path} {where}; pass --data the path of a .csv, .tsv, .parquet or .arff file")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"{path.name}: unknown file type {suffix or '(none)'!r}; save the table as "
                         ".csv, .tsv, .parquet or .arff")
    if path.stat().st_size == 0:
        raise InputError(f"{path.name} is empty (0 bytes); export the table again with a header row and data")
    try:
        if suffix in (".parquet", ".pq"):
            frame = _read_parquet(path)
        elif suffix == ".arff":
            frame = _read_arff(path)
        else:
            frame = _read_text(path, "\t" if suffix == ".tsv" else None, names)
    except InputError:
        raise
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError, OSError) as exc:
        raise InputError(f"{path.name} cannot be read as a {suffix[1:]} file ({_first_line(exc)}); check that "
                         f"it is a complete, uncorrupted {suffix[1:]} file, or save it again") from None
    if names is not None and suffix in (".parquet", ".pq", ".arff"):
        raise InputError(f"{path.name}: the schema file gives column names, but a {suffix[1:]} file has its "
                         "own; remove `names` from the schema file")
    return check_frame(frame, path.name)


def check_frame(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    """Refuse tables no generator can learn from: no columns, no rows, too few rows, duplicate names."""
    dupes = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
    if dupes:
        raise InputError(f"{label}: duplicate column names {', '.join(map(repr, dupes))}; give every column "
                         "a unique name in the file's header")
    if frame.shape[1] == 0 or len(frame) == 0:
        raise InputError(f"{label} holds no data rows; a table needs a header row and at least {MIN_ROWS} rows")
    if len(frame) < MIN_ROWS:
        raise InputError(f"{label} has only {len(frame)} rows; a generator needs at least {MIN_ROWS} rows "
                         "to learn from (and a holdout to be judged on): add rows")
    frame.columns = [str(c) for c in frame.columns]
    return frame


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _read_text(path: Path, sep: str | None, names: list[str] | None) -> pd.DataFrame:
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    if b"\x00" in head:
        raise InputError(f"{path.name} is a binary file, not text; save the table as .csv, .tsv or .parquet")
    text = head.decode("utf-8", errors="replace")
    if sep is None:
        sep = _sniff(text)
    header = _split_header(text, sep)
    if names is None:
        _check_header(header, path.name)
    elif len(names) != len(header):
        raise InputError(f"{path.name} has {len(header)} columns but the schema file names {len(names)}; "
                         "list one name per column in `names`")
    options = dict(sep=sep, header=None if names is not None else 0, skipinitialspace=True, na_values=NA_VALUES,
                   low_memory=False, on_bad_lines="error", decimal=_decimal_mark(text, sep))
    try:
        frame = pd.read_csv(path, encoding="utf-8", **options)
    except UnicodeDecodeError:  # spreadsheet exports are often Windows-1252; a binary file was caught above
        frame = pd.read_csv(path, encoding="cp1252", encoding_errors="replace", **options)
    if names is not None:
        frame.columns = names
    else:
        frame.columns = _named(header)  # pandas renames duplicates to "a.1"; keep the file's names so they are caught
    return frame


def _decimal_mark(text: str, sep: str) -> str:
    """The decimal mark: a comma for a semicolon-separated file whose cells hold decimal commas
    (spreadsheets in much of Europe write 1,5 for 1.5 and separate cells by ;), else a point."""
    if sep != ";":
        return "."
    body = text.splitlines()[1:50]
    cell = re.compile(r"(?:^|;)\s*-?\d+,\d+\s*(?=;|$)")
    return "," if any(cell.search(line) for line in body) else "."


def _sniff(text: str) -> str:
    """The delimiter of a .csv/.txt file: comma unless the header clearly uses ; or tab or |."""
    first = text.splitlines()[0] if text else ""
    try:
        return csv.Sniffer().sniff(first, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _split_header(text: str, sep: str) -> list[str]:
    rows = list(csv.reader(io.StringIO(text.splitlines()[0] if text else ""), delimiter=sep, skipinitialspace=True))
    return [c.strip() for c in rows[0]] if rows else []


def _check_header(header: list[str], label: str) -> None:
    """A header cell that is a number means the file has no header row: its first row is data."""
    numbers = [c for c in header if _is_number(c)]
    if numbers:
        raise InputError(f"{label}: the first row looks like data, not column names (it holds "
                         f"{', '.join(numbers[:3])}); add a header row to the file, or list the column names "
                         "in a schema file as `names = [...]` and pass it with --schema")


def _named(header: list[str]) -> list[str]:
    """Blank header cells get pandas' own names ("Unnamed: 0"): R's write.csv and pandas' to_csv write row
    labels under a blank first name, which inference then leaves out as an identifier with its reason."""
    return [c or f"{UNNAMED}{i}" for i, c in enumerate(header)]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(path).names
    except Exception as exc:  # pyarrow raises ArrowInvalid/ArrowIOError for anything that is not Parquet
        raise InputError(f"{path.name} is not a readable Parquet file ({_first_line(exc)}); write it again, "
                         "e.g. with pandas DataFrame.to_parquet") from None
    if len(set(names)) < len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise InputError(f"{path.name}: duplicate column names {', '.join(map(repr, dupes))}; give every "
                         "column a unique name")
    try:
        frame = pq.read_table(path).to_pandas()
    except Exception as exc:
        raise InputError(f"{path.name} is a damaged Parquet file ({_first_line(exc)}); write it again") from None
    if isinstance(frame.index, pd.MultiIndex) or frame.index.name is not None:
        frame = frame.reset_index()
    return frame


def _read_arff(path: Path) -> pd.DataFrame:
    """scipy reads ARFF numeric, nominal and date attributes; nominal bytes become strings."""
    from scipy.io import arff

    try:
        data, meta = arff.loadarff(str(path))
    except NotImplementedError as exc:  # string and relational attributes
        raise InputError(f"{path.name}: {_first_line(exc)}; convert the file to .csv or .parquet") from None
    except Exception as exc:
        raise InputError(f"{path.name} is not a readable ARFF file ({_first_line(exc)}); check its @attribute "
                         "and @data sections, or convert it to .csv") from None
    frame = pd.DataFrame(data)
    for name in meta.names():
        kind, _ = meta[name]
        if kind == "nominal":
            decoded = frame[name].str.decode("utf-8")
            frame[name] = decoded.where(decoded != "?", np.nan)
    return frame
