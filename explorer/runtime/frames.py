"""Turn the contract's decoded outputs back into a pandas table."""
from __future__ import annotations

import numpy as np
import pandas as pd


def outputs_to_frame(columns: list[dict], numeric: np.ndarray, categorical: np.ndarray) -> pd.DataFrame:
    """Columns in card order: ``numeric`` feeds the numeric entries, ``categorical`` indexes the rest."""
    data, i_num, i_cat = {}, 0, 0
    for col in columns:
        if col["type"] == "numeric":
            data[col["name"]] = np.round(numeric[:, i_num].astype(np.float64), col.get("decimals", 6))
            i_num += 1
        else:
            data[col["name"]] = np.asarray(col["categories"], dtype=object)[categorical[:, i_cat]]
            i_cat += 1
    return pd.DataFrame(data)


def csv_text(frame: pd.DataFrame, columns: list[dict]) -> str:
    """``frame`` as CSV with the card's integer columns written as integers (``39``, not ``39.0``);
    missing values stay empty."""
    whole = [c["name"] for c in columns if c.get("type") == "numeric" and (c.get("integer") or c.get("decimals") == 0)
             and c["name"] in frame]
    return frame.astype({name: "Int64" for name in whole}).to_csv(index=False)
