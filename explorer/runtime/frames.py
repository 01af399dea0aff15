"""Turn the contract's decoded outputs back into named columns (and, for callers that want one, a table)."""
from __future__ import annotations

import numpy as np

from explorer.contract import Column


def decoded_columns(columns: list[Column], numeric: np.ndarray, categorical: np.ndarray) -> dict[str, np.ndarray]:
    """{name: values} in card order: ``numeric`` feeds the numeric columns, ``categorical`` indexes the rest."""
    data, i_num, i_cat = {}, 0, 0
    for col in columns:
        if col.numeric:
            data[col.name] = np.round(numeric[:, i_num].astype(np.float64), col.decimals)
            i_num += 1
        else:
            data[col.name] = np.asarray(col.categories, dtype=object)[categorical[:, i_cat]]
            i_cat += 1
    return data


def outputs_to_frame(columns: list[Column], numeric: np.ndarray, categorical: np.ndarray):
    """``decoded_columns`` as a pandas DataFrame."""
    import pandas as pd

    return pd.DataFrame(decoded_columns(columns, numeric, categorical))


def csv_text(frame, columns: list[Column]) -> str:
    """``frame`` as CSV with the card's integer columns written as integers (``39``, not ``39.0``);
    missing values stay empty."""
    whole = [c.name for c in columns if c.numeric and (c.integer or c.decimals == 0) and c.name in frame]
    return frame.astype({name: "Int64" for name in whole}).to_csv(index=False)
