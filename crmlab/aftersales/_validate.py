"""Input checks shared by the after-sales modules: money columns and grouping."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _numeric(df: pd.DataFrame, table: str, col: str, *, nonnegative: bool = True) -> np.ndarray:
    """A column as floats: numeric, complete and (by default) >= 0."""
    try:
        values = pd.to_numeric(df[col]).to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{table}: column '{col}' must be numeric; convert it with "
                         f"pd.to_numeric({table}['{col}']).") from exc
    if np.isnan(values).any():
        raise ValueError(f"{table}: column '{col}' has {int(np.isnan(values).sum())} missing values; "
                         "fill them (e.g. 0 for a cost that was not charged) or drop the rows.")
    if nonnegative and (values < 0).any():
        raise ValueError(f"{table}: column '{col}' has {int((values < 0).sum())} negative values; "
                         "amounts and costs must be >= 0.")
    return values


def _groups(df: pd.DataFrame, keys: list[str]):
    """(key tuple, frame) pairs; one group with an empty key when ``keys`` is empty."""
    if not keys:
        return [((), df)]
    return [((k if isinstance(k, tuple) else (k,)), g)
            for k, g in df.groupby(keys, observed=True, sort=True)]
