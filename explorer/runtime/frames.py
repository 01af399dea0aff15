"""Turn the contract's decoded outputs back into named columns (and, for callers that want one, a table)."""
from __future__ import annotations

import numpy as np

from explorer.contract import Column

MISSING_LEVEL = "(missing)"  # a categorical's missing cells inside training; null in cards and decoded rows


def rounded(values: np.ndarray, decimals: int) -> np.ndarray:
    """A numeric column's generated values as the decoded table holds them."""
    return np.round(values.astype(np.float64), decimals)


def decoded_columns(columns: list[Column], numeric: np.ndarray, categorical: np.ndarray) -> dict[str, np.ndarray]:
    """{name: values} in card order: ``numeric`` feeds the numeric columns, ``categorical`` indexes the rest."""
    data, i_num, i_cat = {}, 0, 0
    for col in columns:
        if col.numeric:
            data[col.name] = rounded(numeric[:, i_num], col.decimals)
            i_num += 1
        else:
            data[col.name] = np.asarray(col.categories, dtype=object)[categorical[:, i_cat]]
            i_cat += 1
    return data


def outputs_to_frame(columns: list[Column], numeric: np.ndarray, categorical: np.ndarray):
    """``decoded_columns`` as a pandas DataFrame."""
    import pandas as pd

    return pd.DataFrame(decoded_columns(columns, numeric, categorical))


def category_codes(values, categories: list) -> np.ndarray:
    """Index of each value in a card's category list (-1 where unknown); a missing value takes the
    list's null entry, the missing level of a user's table, when it has one."""
    import pandas as pd

    values = pd.Series(values).reset_index(drop=True)
    known = [c for c in categories if c is not None]
    codes = pd.Categorical(values, categories=known).codes.astype(np.int64)
    if None in categories:  # the null entry is the last one, so the other indices agree
        codes = np.where(values.isna().to_numpy(), categories.index(None), codes)
    return codes


def range_labels(edges: list[float], labels: list[str], values) -> np.ndarray:
    """The range (quantile bin of a numeric target) each value falls in; None where the value is missing."""
    v = np.asarray(values, dtype=np.float64)
    codes = np.clip(np.searchsorted(np.asarray(edges), v, side="right") - 1, 0, len(labels) - 1)
    out = np.asarray(labels, dtype=object)[codes]
    out[np.isnan(v)] = None
    return out


UNIT_SECONDS = {"D": 86_400, "h": 3_600, "min": 60, "s": 1}


def typed_frame(card, frame):
    """Rows of a user-table model in the source file's own types: dates as timestamps, integers as
    (nullable) integers, booleans as booleans, missing cells as nulls. Other models' integer columns become
    integers; the rest passes through."""
    import pandas as pd

    if not card.schema:  # a built-in table: only its whole-number columns change, to integers (39, not 39.0)
        whole = {c.name: "Int64" for c in card.numeric_columns if c.integer and c.name in frame}
        return frame.astype(whole) if whole else frame
    specs = {c["name"]: c for c in card.schema["columns"]}
    out = {}
    for name in frame.columns:
        spec, values = specs.get(name), frame[name]
        if spec is None:
            out[name] = values
        elif spec["kind"] == "datetime":
            seconds = values.to_numpy(np.float64) * UNIT_SECONDS[spec["unit"]]
            out[name] = pd.Timestamp(spec["origin"]) + pd.to_timedelta(seconds, unit="s")
        elif spec["kind"] == "constant" and spec["dtype"] == "datetime":
            out[name] = pd.Series(pd.Timestamp(spec["value"]), index=frame.index)
        elif spec["dtype"] == "int":
            out[name] = pd.to_numeric(values, errors="coerce").round().astype("Int64")
        elif spec["dtype"] == "bool":
            out[name] = values.map({"True": True, "False": False, True: True, False: False}).astype("boolean")
        elif spec["dtype"] == "float" and spec["kind"] == "categorical":
            out[name] = pd.to_numeric(values, errors="coerce")
        elif spec["dtype"] == "string":
            out[name] = values.astype(object).where(values.notna(), None).astype("string")
        else:
            out[name] = values
    return pd.DataFrame(out, index=frame.index)
