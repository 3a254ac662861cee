"""Shared checks of :mod:`crmlab.kpi`: a period ``[start, end)``, a day count, the order log."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from crmlab._checks import as_frame, as_timestamp, datetime_column, require_columns


def _period(start: object, end: object) -> tuple[pd.Timestamp, pd.Timestamp]:
    s, e = as_timestamp(start, "start"), as_timestamp(end, "end")
    if s >= e:
        raise ValueError(f"the period [start, end) is empty: start={s} is not before end={e}; "
                         "pass start < end (end is exclusive, e.g. '2025-10-01' to '2026-01-01').")
    return s, e


def _positive_days(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating) \
            or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name}={value!r} must be a positive number of days, e.g. 180.")
    return float(value)


def _orders(orders: pd.DataFrame, columns: Sequence[str] = ("customer_id", "order_ts")) -> pd.DataFrame:
    o = as_frame(orders, "orders")
    require_columns(o, "orders", list(columns))
    datetime_column(o, "orders", "order_ts")
    if o["customer_id"].isna().any():
        raise ValueError(f"orders: column 'customer_id' has {int(o['customer_id'].isna().sum())} "
                         "missing values; every order belongs to a customer -- drop or fix those rows.")
    return o


def _between(ts: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
    return ((ts >= start) & (ts < end)).to_numpy(dtype=bool, copy=True)
