"""Input checks shared by the support modules: positive numbers and lists of texts."""

from __future__ import annotations

import math

import pandas as pd


def _positive(value: float, name: str, *, allow_zero: bool = False) -> float:
    """``value`` as a finite float > 0 (>= 0 with ``allow_zero``); ValueError naming it otherwise."""
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}={value!r} must be a number.") from exc
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        need = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name}={value!r} must be a finite number {need}.")
    return v


def _texts(texts: object, name: str, func: str) -> pd.Series:
    """A list/Series of strings as a str Series; ValueError for one string, missing or non-text values."""
    if isinstance(texts, str):
        raise ValueError(f"{func}: {name} must be a list or Series of texts, not one string; "
                         "wrap it in a list.")
    s = texts if isinstance(texts, pd.Series) else pd.Series(list(texts), dtype="object")  # type: ignore[call-overload]
    if s.isna().any() or not all(isinstance(v, str) for v in s):
        raise ValueError(f"{func}: {name} must hold strings only (no missing values); fill or "
                         "drop the empty ones.")
    return s.astype("str")
