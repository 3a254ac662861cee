"""Input checks shared by the unit modules: one wording for one mistake, everywhere.

Every public function of crmlab validates its tables before doing any work, so a student
who passes the wrong frame reads *which table, which column and what to do* instead of a
stack trace from deep inside pandas. These helpers hold the checks that every unit needs
(a DataFrame, its columns, a datetime column, a date argument, a confidence level); the
unit modules add their own domain checks on top.

``func`` (optional everywhere) prefixes the message with the public function that was
called, e.g. ``"rfm_table: orders: column(s) ['amount'] not found ..."``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

#: The default fix for a missing column: where the expected names are documented.
SCHEMA_FIX = ("Rename your columns to the shop's schema (datasets/README.md) or pass the arguments "
              "that name them (e.g. customer_col=).")


def _prefix(func: str | None) -> str:
    return f"{func}: " if func else ""


def as_frame(df: object, table: str, *, func: str | None = None) -> pd.DataFrame:
    """``df`` itself if it is a DataFrame; otherwise a ValueError naming the table to pass."""
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"{_prefix(func)}{table} must be a pandas DataFrame, got "
                         f"{type(df).__name__}; pass e.g. shop.{table}.")
    return df


def require_columns(
    df: pd.DataFrame,
    table: str,
    columns: Sequence[str] | Mapping[str, str],
    fix: str = "",
    *,
    func: str | None = None,
) -> pd.DataFrame:
    """``df`` if it has ``columns``; else a ValueError listing the missing ones, what it has, and
    the fix.

    ``columns`` may map each column to the keyword argument that names it (e.g.
    ``{"amount": "amount_col"}``); the default fix then says which arguments to pass.
    """
    missing = [c for c in columns if c not in df.columns]
    if not missing:
        return df
    if not fix and isinstance(columns, Mapping):
        fix = "Rename your columns or pass " + ", ".join(f"{columns[c]}=" for c in missing) + " naming them."
    raise ValueError(f"{_prefix(func)}{table}: column(s) {missing} not found (it has "
                     f"{list(df.columns)}). {fix or SCHEMA_FIX}")


_NS = np.dtype("datetime64[ns]")  # a dtype object: comparing with the string parses it each time


def datetime_column(
    df: pd.DataFrame, table: str, col: str, *, allow_missing: bool = False, func: str | None = None
) -> pd.Series:
    """Column ``col`` as naive ``datetime64[ns]``.

    ValueError when it is not datetime (the fix is ``pd.to_datetime``), when it is time-zone
    aware (the shop's clocks are naive local time), or, unless ``allow_missing``, when it has
    missing timestamps (a row without a time cannot be placed on the timeline). With
    ``allow_missing`` an all-missing column of any dtype is read as all NaT.
    """
    values = df[col]
    dtype = values.dtype
    if not pd.api.types.is_datetime64_any_dtype(dtype):
        if allow_missing and values.isna().all():
            return pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]", name=col)
        raise ValueError(f"{_prefix(func)}{table}: column '{col}' has dtype {dtype}, not datetime; "
                         f"convert it with {table}['{col}'] = pd.to_datetime({table}['{col}']).")
    if isinstance(dtype, pd.DatetimeTZDtype):
        raise ValueError(f"{_prefix(func)}{table}: column '{col}' is time-zone aware; the shop uses "
                         f"naive local time. Convert with {table}['{col}'].dt.tz_convert("
                         "'Asia/Taipei').dt.tz_localize(None).")
    if not allow_missing:  # checked on the raw array: this runs on every call of every unit
        n_missing = int(np.isnat(values.to_numpy()).sum())
        if n_missing:
            raise ValueError(f"{_prefix(func)}{table}: column '{col}' has {n_missing} missing "
                             "timestamps (NaT); every row needs one. Drop them and count them "
                             f"first, e.g. {table} = {table}.dropna(subset=['{col}']).")
    return values if dtype == _NS else values.astype(_NS)


def as_timestamp(value: object, name: str, *, func: str | None = None) -> pd.Timestamp:
    """A date argument (``as_of``, ``start``, ...) as a naive Timestamp, or a ValueError saying
    what to pass."""
    where = _prefix(func)
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}{name}={value!r} is not a date; pass e.g. '2025-06-30'.") from exc
    if ts is pd.NaT:
        raise ValueError(f"{where}{name} is missing (NaT); pass a date such as '2025-06-30'.")
    if ts.tzinfo is not None:
        raise ValueError(f"{where}{name}={value!r} is time-zone aware; the shop uses naive local time.")
    return ts


def z_for_level(level: float, *, func: str | None = None) -> float:
    """The two-sided normal quantile for a confidence ``level`` (1.96 for 0.95)."""
    try:
        value = float(level)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        value = float("nan")
    if isinstance(level, bool) or not 0 < value < 1:
        raise ValueError(f"{_prefix(func)}level={level!r} must be between 0 and 1, e.g. 0.95.")
    return float(stats.norm.ppf(0.5 + value / 2))


def as_list(by: str | Sequence[str] | None) -> list[str]:
    """A grouping argument (None, one column name or several) as a list of column names."""
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)
