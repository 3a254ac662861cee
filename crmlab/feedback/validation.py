"""Checks of the feedback inputs: texts and star ratings (nothing is dropped silently).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = [
    "validate_texts",
]


def _stars(values: object, table: str, col: str) -> np.ndarray:
    """Star ratings as int64; ValueError for missing, fractional or out-of-scale values."""
    try:
        arr = pd.to_numeric(pd.Series(values)).to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{table}: column '{col}' must hold star ratings 1..5 (numbers).") from exc
    if np.isnan(arr).any():
        raise ValueError(f"{table}: column '{col}' has {int(np.isnan(arr).sum())} missing ratings; "
                         "drop those rows (and count them) first.")
    bad = (arr < 1) | (arr > 5) | (arr != np.round(arr))
    if bad.any():
        raise ValueError(f"{table}: column '{col}' has {int(bad.sum())} value(s) that are not whole "
                         f"stars 1..5 (e.g. {arr[bad][0]!r}).")
    return arr.astype(np.int64)


def validate_texts(texts: object, table: str = "texts", column: str = "text") -> list[str]:
    """The texts as a list of ``str``; ``ValueError`` for anything that is not text.

    Accepts a Series, list, tuple or 1-d array. Raises for an empty collection, missing values
    (None/NaN), non-strings (numbers, bytes, ...) and empty or whitespace-only strings -- a
    sentiment or topic score of "no text" would be a made-up number, so such rows must be
    dropped (and counted) by the caller.

    Parameters
    ----------
    texts : list, tuple, np.ndarray or pd.Series of str
        The texts.
    table, column : str, default "texts", "text"
        Names used in error messages.

    Returns
    -------
    list of str
        The texts, in order.
    """
    if isinstance(texts, str):
        raise ValueError(f"{table}: '{column}' must be a collection of texts, got a single string; "
                         f"wrap it in a list: [{texts[:30]!r}].")
    if isinstance(texts, pd.DataFrame):
        raise ValueError(f"{table}: pass the text column ({table}['{column}']), not the whole table.")
    if isinstance(texts, pd.Series | pd.Index | np.ndarray):
        values = list(np.asarray(texts, dtype=object).ravel())
    elif isinstance(texts, Iterable):
        values = list(texts)
    else:
        raise ValueError(f"{table}: '{column}' must be a list or Series of strings, got "
                         f"{type(texts).__name__}.")
    if not values:
        raise ValueError(f"{table}: column '{column}' is empty; there is no text to analyse.")
    not_str = [i for i, v in enumerate(values) if not isinstance(v, str)]
    if not_str:
        i = not_str[0]
        raise ValueError(
            f"{table}: column '{column}' has {len(not_str)} value(s) that are not text (first at "
            f"position {i}: {values[i]!r} of type {type(values[i]).__name__}); drop missing texts "
            f"and count them, or convert with {table}['{column}'].astype(str) if numbers are meant "
            "as text."
        )
    empty = [i for i, v in enumerate(values) if not v.strip()]
    if empty:
        raise ValueError(
            f"{table}: column '{column}' has {len(empty)} empty text(s) (first at position "
            f"{empty[0]}); drop them and count them, e.g. "
            f"{table} = {table}[{table}['{column}'].str.strip() != ''], before scoring."
        )
    return values
