"""Cohorts (同期群留存): who of each signup month came back, month by month.

:func:`cohort_table` gives one row per (cohort month, months since) and
:func:`retention_matrix` the wide matrix of a cohort chart.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab._checks import as_frame, as_timestamp, datetime_column, reads, require_columns
from crmlab.journey._common import _no_missing

__all__ = ["cohort_table", "retention_matrix"]


def _month_number(ts: pd.Series) -> np.ndarray:
    return ts.to_numpy(dtype="datetime64[M]").astype(np.int64)


@reads(customers="")
def cohort_table(customers: pd.DataFrame, activity: pd.DataFrame, *, customer_col: str = "customer_id",
                 signup_col: str | None = "signup_ts", ts_col: str = "order_ts",
                 end: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """Monthly cohorts: who of each signup month was active ``period`` months later.

    The cohort of a customer is the calendar month (label: its first day, "MS") of
    ``signup_col``; with ``signup_col=None`` it is the month of their first activity
    (first-purchase cohorts). A customer is *active* in period ``k`` (months after the
    cohort month, 0 = the cohort month itself) if ``activity`` (orders, sessions, ...) has a
    row for them in that month. Periods after ``end``'s month (default: the last activity)
    are not observed and left out, so they show as NaN in :func:`retention_matrix`
    rather than as a false 0.

    Columns: ``cohort`` (Timestamp, month start), ``period``, ``cohort_size``, ``active``,
    ``retention`` (= active / cohort_size). Activity of unknown customers or before the
    signup month raises ``ValueError``.

    Parameters
    ----------
    customers : pd.DataFrame
        The shop's ``customers`` (customer_id, signup_ts).
    activity : pd.DataFrame
        Rows of activity (orders, sessions, ...) with customer id and time.
    customer_col : str, default "customer_id"
        The id column of both tables.
    signup_col : str or None, default "signup_ts"
        The signup time in ``customers``; None for first-activity cohorts.
    ts_col : str, default "order_ts"
        The time column of ``activity``.
    end : date-like, optional
        The last observed month; default the last activity.

    Returns
    -------
    pd.DataFrame
        One row per (cohort, period) with the columns above.
    """
    customers = as_frame(customers, "customers")
    activity = as_frame(activity, "activity")
    require_columns(customers, "customers", [customer_col] + ([signup_col] if signup_col else []))
    require_columns(activity, "activity", [customer_col, ts_col])
    act_ts = datetime_column(activity, "activity", ts_col)
    pos = _customer_positions(customers, activity, customer_col)
    act_month = _month_number(act_ts)
    cohort_month = _cohort_months(customers, signup_col, act_month, pos)
    period = _months_since(act_month, cohort_month[pos], ts_col, signup_col)
    end_month = (int(act_month.max()) if end is None
                 else int(np.datetime64(as_timestamp(end, "end"), "M").astype(np.int64)))
    out = _cohort_periods(cohort_month, end_month)
    active = (pd.DataFrame({"cohort": cohort_month[pos], "period": period, "pos": pos})
              .drop_duplicates().groupby(["cohort", "period"]).size())
    key = pd.MultiIndex.from_frame(out[["cohort", "period"]])
    out["active"] = active.reindex(key, fill_value=0).to_numpy(dtype="int64")
    out["retention"] = out["active"] / out["cohort_size"]
    out["cohort"] = out["cohort"].to_numpy().astype("datetime64[M]").astype("datetime64[ns]")
    out["period"] = out["period"].astype("int64")
    return out


def _months_since(act_month: np.ndarray, cohort_month: np.ndarray, ts_col: str,
                  signup_col: str | None) -> np.ndarray:
    """Months from the cohort month to each activity; activity before it is an error."""
    period = act_month - cohort_month
    if (period < 0).any():
        raise ValueError(
            f"activity: {int((period < 0).sum())} rows in '{ts_col}' fall before the customer's "
            f"signup month ('{signup_col}'); fix the dates or use signup_col=None for "
            "first-activity cohorts."
        )
    return period


def _customer_positions(customers: pd.DataFrame, activity: pd.DataFrame, customer_col: str) -> np.ndarray:
    """Row of ``customers`` of each activity row; ids missing, duplicated or unknown are errors."""
    _no_missing(activity, "activity", customer_col)
    _no_missing(customers, "customers", customer_col)
    if customers[customer_col].duplicated().any():
        raise ValueError(
            f"customers: column '{customer_col}' has duplicated ids; keep one row per customer."
        )
    pos = pd.Index(customers[customer_col].to_numpy()).get_indexer(activity[customer_col].to_numpy())
    if (pos < 0).any():
        raise ValueError(
            f"activity: {int((pos < 0).sum())} rows belong to customers not in the customers "
            f"table (column '{customer_col}'); filter activity to known customers first."
        )
    return pos


def _cohort_months(customers: pd.DataFrame, signup_col: str | None, act_month: np.ndarray,
                   pos: np.ndarray) -> np.ndarray:
    """Each customer's cohort month number: the signup month, or the first active month
    (int64 minimum for a customer without activity when there is no signup column)."""
    if signup_col is not None:
        return _month_number(datetime_column(customers, "customers", signup_col))
    first = pd.Series(act_month).groupby(pos).min()
    cohort_month = np.full(len(customers), np.iinfo(np.int64).min, dtype=np.int64)
    cohort_month[first.index.to_numpy()] = first.to_numpy()
    return cohort_month


def _cohort_periods(cohort_month: np.ndarray, end_month: int) -> pd.DataFrame:
    """One row per (cohort, period) observed by ``end_month``, with the cohort's size."""
    has_cohort = cohort_month > np.iinfo(np.int64).min
    sizes = pd.Series(cohort_month[has_cohort]).value_counts().sort_index()
    sizes = sizes[sizes.index <= end_month]
    rows = []
    for c, size in sizes.items():
        n_periods = end_month - int(c) + 1
        rows.append(pd.DataFrame({"cohort": int(c), "period": np.arange(n_periods),
                                  "cohort_size": int(size)}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        {"cohort": pd.Series(dtype="int64"), "period": pd.Series(dtype="int64"),
         "cohort_size": pd.Series(dtype="int64")})


def retention_matrix(cohorts: pd.DataFrame, value: str = "retention") -> pd.DataFrame:
    """Wide cohort matrix (rows: cohort month, columns: period) from :func:`cohort_table`.

    Parameters
    ----------
    cohorts : pd.DataFrame
        The table of :func:`cohort_table`.
    value : str, default "retention"
        The column to spread (``retention``, ``active`` or ``cohort_size``).

    Returns
    -------
    pd.DataFrame
        Cohort months by period; NaN where a period is not observed yet.
    """
    cohorts = as_frame(cohorts, "cohorts")
    require_columns(cohorts, "cohorts", ["cohort", "period", value],
             "Build it with crmlab.journey.cohort_table(customers, orders).")
    wide = cohorts.pivot(index="cohort", columns="period", values=value)
    wide.columns.name = "period"
    return wide
