"""Shared pieces of :mod:`crmlab.journey`: path notation and two input checks."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

#: The separator of channels in a path string (``"search > email > direct"``).
SEP = " > "
#: The states of the attribution chain that are not channels.
CONVERSION, NULL, OPEN, START = "(conversion)", "(null)", "(open)", "(start)"
#: How a journey can end: it bought, it did not, or the data end before either.
OUTCOMES = ("conversion", "null", "open")


def _no_missing(df: pd.DataFrame, table: str, col: str) -> None:
    n = int(df[col].isna().sum())
    if n:
        raise ValueError(
            f"{table}: column '{col}' has {n} missing values; fill or drop those rows first "
            f"(and count what you drop)."
        )


def _codes(values: pd.Series | np.ndarray, categories: Sequence[str]) -> np.ndarray:
    """Position of each value in ``categories`` (-1 when it is not one of them)."""
    return pd.Index(list(categories)).get_indexer(np.asarray(values, dtype=object))
