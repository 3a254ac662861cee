"""Small checks shared by the offers modules: seeds, tables, probabilities.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmlab._checks import as_frame, require_columns

Seed = int | np.random.Generator | None
def _rng(seed: Seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def _frame(table: Any, name: str, func: str) -> pd.DataFrame:
    return as_frame(table, name, func=func)


def _columns(table: pd.DataFrame, name: str, func: str, columns: Sequence[str]) -> None:
    require_columns(table, name, columns, func=func)


def _prob(value: float, name: str, func: str, *, open_interval: bool = True) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{func}: {name}={value!r} must be a number between 0 and 1") from err
    ok = (0 < v < 1) if open_interval else (0 <= v <= 1)
    if not ok or not math.isfinite(v):
        bounds = "strictly between 0 and 1" if open_interval else "between 0 and 1"
        raise ValueError(f"{func}: {name}={value!r} must be {bounds}, e.g. 0.05.")
    return v
