"""Input checks made in the engine: from the source's schema and from counts that ride
along as aggregates (every ValueError names the table, the column and the fix)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmlab.scale.engines import _DuckRunner, _Runner


def _require(schema: Mapping[str, str], table: str, func: str,
             columns: Mapping[str, str]) -> None:
    """``columns`` maps each needed column to the keyword argument that names it."""
    missing = [c for c in columns if c not in schema]
    if missing:
        raise ValueError(
            f"{func}: {table}: column(s) {missing} not found (it has {list(schema)}); rename "
            "your columns or pass " + ", ".join(f"{columns[c]}=" for c in missing)
            + " naming them.")


def _require_datetime(schema: Mapping[str, str], table: str, col: str, func: str) -> None:
    kind = schema[col]
    if kind == "datetime_tz":
        raise ValueError(
            f"{func}: {table}: column '{col}' is time-zone aware; crmlab uses naive local time. "
            f"Convert it in the engine, e.g. CAST(timezone('Asia/Taipei', {col}) AS TIMESTAMP).")
    if kind not in ("datetime", "date"):
        raise ValueError(
            f"{func}: {table}: column '{col}' is {kind}, not a timestamp; convert it "
            f"(pd.to_datetime in pandas, CAST({col} AS TIMESTAMP) in SQL) before writing the "
            "table.")


def _require_numeric(schema: Mapping[str, str], table: str, col: str, func: str) -> None:
    if schema[col] not in ("int", "float"):
        raise ValueError(
            f"{func}: {table}: column '{col}' must be numeric, it is {schema[col]}; convert "
            f"it (pd.to_numeric in pandas, CAST({col} AS DOUBLE) in SQL) and check the rows "
            "that fail.")


def _fail_count(n: int | float, message: str) -> None:
    if n and not (isinstance(n, float) and math.isnan(n)) and int(n) > 0:
        raise ValueError(message.format(n=int(n)))


def _int(value: Any) -> int:
    return 0 if value is None or pd.isna(value) else int(value)


def _day_to_ts(day: int) -> pd.Timestamp:
    return pd.Timestamp(np.datetime64(int(day), "D"))


def _profile(run: _Runner, table: str, cols: Sequence[str],
             schema: Mapping[str, str] | None = None) -> pd.Series:
    """Row count, non-null count per column, min and max of the first (a timestamp).

    From the Parquet footers when the source has exact statistics (no scan), else one
    aggregate query.
    """
    if schema is not None and isinstance(run, _DuckRunner):
        prof = run.footer_profile(table, cols, [schema[c] for c in cols])
        if prof is not None:
            return prof
    d = run.dialect
    parts = ["count(*) AS n"] + [f"count({d.q(c)}) AS n_{i}" for i, c in enumerate(cols)]
    parts += [f"min({d.q(cols[0])}) AS lo", f"max({d.q(cols[0])}) AS hi"]
    return run.run(f"SELECT {', '.join(parts)} FROM {table}").iloc[0]


def _check_profile(prof: pd.Series, table: str, cols: Sequence[str], func: str,
                   what: Sequence[str]) -> None:
    if _int(prof["n"]) == 0:
        raise ValueError(f"{func}: {table} is empty: there are no rows to summarize.")
    for i, (col, meaning) in enumerate(zip(cols, what, strict=True)):
        _fail_count(_int(prof["n"]) - _int(prof[f"n_{i}"]),
                    f"{func}: {table}: column '{col}' has {{n}} missing {meaning}; drop or fix "
                    "those rows first (and count them).")
