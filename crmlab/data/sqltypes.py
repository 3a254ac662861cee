"""How the CRM store converts the contract's pandas columns to SQLite values and back.

SQLite has INTEGER, REAL and TEXT; :mod:`crmlab.data.store` describes the mapping (ints and
nullable ints as INTEGER, floats as REAL, bools as 0/1, datetimes as ISO text, categories and
strings as TEXT with the category order kept aside). These functions do the conversion in both
directions and name the table, column and fix when a column has the wrong dtype.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .schema import Column, Table


def _where(table: str, column: str) -> str:
    """"table 't', column 'c'" for error messages."""
    return f"table {table!r}, column {column!r}"


def datetime_text(series: pd.Series, table: str, column: str) -> list[str | None]:
    """ISO text ('YYYY-MM-DD HH:MM:SS', fractional seconds only when present) or None for NaT."""
    if not pd.api.types.is_datetime64_any_dtype(series.dtype):
        raise ValueError(
            f"load(): {_where(table, column)} has dtype {series.dtype}, expected datetime; "
            "fix: convert with pd.to_datetime(df[col])."
        )
    if getattr(series.dtype, "tz", None) is not None:
        raise ValueError(
            f"load(): {_where(table, column)} is timezone-aware ({series.dtype}); the shop uses naive "
            "local time: fix with df[col].dt.tz_convert('Asia/Taipei').dt.tz_localize(None)."
        )
    values = series.to_numpy(dtype="datetime64[ns]")
    nat = np.isnat(values)
    ns = values.view("int64")
    has_fraction = bool(((ns[~nat] % 1_000_000_000) != 0).any())
    text = np.strings.replace(np.datetime_as_string(values, unit="ns" if has_fraction else "s"), "T", " ", 1)
    out = text.astype(object)
    out[nat] = None
    return out.tolist()


def _with_nulls(values: list[Any], missing: np.ndarray) -> list[Any]:
    """``values`` with None (SQL NULL) where ``missing``."""
    if not missing.any():
        return values
    return [None if m else v for v, m in zip(values, missing.tolist(), strict=True)]


def to_sql_values(df: pd.DataFrame, table: Table) -> list[list[Any]]:
    """One list per contract column, holding Python values or None (SQL NULL)."""
    columns: list[list[Any]] = []
    for col in table.columns:
        s = df[col.name]
        missing = s.isna().to_numpy()
        if col.kind in ("int", "Int"):
            if not pd.api.types.is_integer_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
                raise ValueError(
                    f"load(): {_where(table.name, col.name)} has dtype {s.dtype}, expected integer ids/counts; "
                    f"fix: convert with df[col].astype({'int64' if col.kind == 'int' else 'Int64'!r})."
                )
            out = _with_nulls(s.to_numpy(dtype="int64", na_value=0).tolist(), missing)
        elif col.kind == "float":
            if not pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
                raise ValueError(
                    f"load(): {_where(table.name, col.name)} has dtype {s.dtype}, expected numbers; "
                    "fix: convert with pd.to_numeric(df[col])."
                )
            out = _with_nulls(s.to_numpy(dtype="float64", na_value=np.nan).tolist(), missing)
        elif col.kind == "bool":
            if not pd.api.types.is_bool_dtype(s.dtype) or missing.any():
                raise ValueError(
                    f"load(): {_where(table.name, col.name)} has dtype {s.dtype}"
                    f"{' with missing values' if missing.any() else ''}, expected bool; "
                    "fix: fill missing values, then df[col].astype(bool)."
                )
            out = s.to_numpy(dtype=bool).astype(np.int64).tolist()
        elif col.kind == "datetime":
            out = datetime_text(s, table.name, col.name)
        elif col.kind in ("category", "str"):
            if isinstance(s.dtype, pd.CategoricalDtype):
                labels = np.asarray([str(c) for c in s.cat.categories] + [None], dtype=object)
                out = labels[s.cat.codes.to_numpy()].tolist()  # code -1 (missing) picks None
            elif pd.api.types.is_string_dtype(s.dtype) or s.dtype == object:
                out = _with_nulls([str(v) for v in s.to_numpy(dtype=object)], missing)
            else:
                raise ValueError(
                    f"load(): {_where(table.name, col.name)} has dtype {s.dtype}, expected text; "
                    f"fix: convert with df[col].astype({'category' if col.kind == 'category' else 'str'!r})."
                )
        else:  # pragma: no cover - the schema only uses the kinds above
            raise ValueError(f"unknown column kind {col.kind!r}")
        columns.append(out)
    return columns


def categories_of(df: pd.DataFrame, table: Table) -> dict[str, list[str]]:
    """Category lists to remember for a table's categorical columns."""
    cats: dict[str, list[str]] = {}
    for col in table.columns:
        if col.kind != "category":
            continue
        s = df[col.name]
        if isinstance(s.dtype, pd.CategoricalDtype):
            cats[col.name] = [str(c) for c in s.cat.categories]
        else:  # text: the sorted observed labels (what astype('category') would give)
            cats[col.name] = sorted({str(v) for v in s.dropna()})
    return cats


def restore(raw: dict[str, list[Any]], n: int, columns: Sequence[Column],
             categories: Mapping[str, list[str]]) -> pd.DataFrame:
    """Build a DataFrame with the contract's dtypes from columns of SQLite values."""
    data: dict[str, Any] = {}
    for col in columns:
        values = raw[col.name]
        if col.kind == "int":
            data[col.name] = np.asarray(values, dtype=np.int64) if n else np.zeros(0, np.int64)
        elif col.kind == "Int":
            data[col.name] = pd.array(values, dtype="Int64")
        elif col.kind == "float":
            data[col.name] = np.asarray([np.nan if v is None else v for v in values], dtype="float64")
        elif col.kind == "bool":
            data[col.name] = np.asarray(values, dtype=bool) if n else np.zeros(0, bool)
        elif col.kind == "datetime":
            text = pd.Series(values, dtype=object)
            parsed = pd.to_datetime(text, format="ISO8601") if n else pd.Series([], dtype="datetime64[ns]")
            data[col.name] = parsed.astype("datetime64[ns]").to_numpy()
        elif col.kind == "category":
            cats = categories.get(col.name)
            if cats is None:
                cats = list(col.values) if col.values is not None else sorted({v for v in values if v is not None})
            data[col.name] = pd.Categorical(values, categories=cats)
        else:  # str
            data[col.name] = pd.array(values, dtype="str")
    return pd.DataFrame(data, index=pd.RangeIndex(n))


def check_id(value: Any, table: str, column: str) -> int:
    """An integer id for a typed helper, or a ValueError saying what was passed."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise ValueError(
            f"{table}.{column} must be an integer id, got {value!r} ({type(value).__name__}); "
            f"pass e.g. {column}=42 (use CRMStore.query(sql, params) to search by other values)."
        )
    return int(value)


def plain(value: Any) -> Any:
    """JSON-safe copy of a config dict (NumPy scalars to Python)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
