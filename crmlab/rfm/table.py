"""The RFM table: one row per customer with recency, frequency, monetary value and tenure.

Also the order-log checks and calendar-day helpers the rest of unit 2 shares
(:func:`day_numbers`, :func:`snapshot_day`, :func:`check_snapshot`): recency and tenure are
whole calendar days between an order's date and the snapshot date.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlab._checks import Reads, as_timestamp, reads, require_columns

__all__ = ["rfm_table", "day_numbers", "snapshot_day", "check_snapshot"]

# --------------------------------------------------------------------------------------


#: The order log as rfm_table and customer_value read it (checked by crmlab._checks.reads):
#: the column arguments name the caller's columns; with ``order_col`` (line-level data) the
#: order id repeats on purpose, otherwise a repeated ``order_id`` is an error.
_ORDERS = Reads("orders", ("customer_id", "order_ts", "amount"),
                rename={"customer_id": "customer_col", "order_ts": "date_col", "amount": "amount_col"},
                nonempty=True)


def day_numbers(dates: pd.Series) -> np.ndarray:
    """Calendar day numbers (days since 1970-01-01, int64) of a checked datetime column.

    Parameters
    ----------
    dates : pd.Series
        A datetime column already checked by the input contract (no missing values, no
        time zone).

    Returns
    -------
    np.ndarray
        int64 day numbers; differences are whole calendar days.
    """
    return dates.to_numpy().astype("datetime64[D]").astype(np.int64)


def _amounts(values: pd.Series, name: str, col: str, func: str, *, allow_negative: bool = False) -> np.ndarray:
    """A money (or score) column as finite float64, or a ValueError naming table and column."""
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        raise ValueError(
            f"{func}: {name}.{col} must be numeric, got dtype {values.dtype}; convert it with "
            f"pd.to_numeric({name}['{col}']) (and check the rows that fail)."
        )
    arr = values.to_numpy(dtype="float64", na_value=np.nan)
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(
            f"{func}: {name}.{col} has {int(bad.sum())} missing or infinite values; fill or drop "
            "those rows first (and report how many)."
        )
    if not allow_negative and (arr < 0).any():
        raise ValueError(
            f"{func}: {name}.{col} has {int((arr < 0).sum())} negative amounts (refunds or "
            f"cancellations?); keep only orders in {name} and pass refunds with returns=."
        )
    return arr


def snapshot_day(snapshot: Any, func: str) -> int:
    """The calendar day number of a snapshot date (its time of day dropped).

    Parameters
    ----------
    snapshot : date-like
        The day the analysis is made; a time-zone aware value is refused.
    func : str
        The calling function, named in the error message.

    Returns
    -------
    int
        Days since 1970-01-01 (as :func:`day_numbers`).
    """
    ts = as_timestamp(snapshot, "snapshot", func=func)  # a time-zone aware snapshot is refused
    return int(np.datetime64(ts.normalize().date(), "D").astype(np.int64))


def _day_to_ts(day: int) -> pd.Timestamp:
    """The midnight Timestamp of a day number."""
    return pd.Timestamp(np.datetime64(int(day), "D"))


def check_snapshot(snap: int, first_day: int, last_day: int, name: str, col: str, func: str) -> None:
    """Refuse a snapshot before the data or before its last order (RFM looks back from it).

    Parameters
    ----------
    snap, first_day, last_day : int
        Day numbers of the snapshot and of the first and last order.
    name, col : str
        Table and date column, named in the error message with the fix.
    func : str
        The calling function, named in the error message.
    """
    if snap < first_day:
        raise ValueError(
            f"{func}: snapshot {_day_to_ts(snap).date()} is before the data ({name}.{col} starts "
            f"{_day_to_ts(first_day).date()}); pass a snapshot on or after the last order "
            f"({_day_to_ts(last_day).date()}), or leave snapshot=None for the day after it."
        )
    if snap < last_day:
        raise ValueError(
            f"{func}: {name}.{col} has orders after the snapshot {_day_to_ts(snap).date()} (up to "
            f"{_day_to_ts(last_day).date()}); to look back in time filter first, e.g. "
            f"{name}[{name}['{col}'] < snapshot], or pass a later snapshot."
        )


# --------------------------------------------------------------------------------------
# grouping core: integer codes, bincount and ufunc.at (no per-customer Python)
# --------------------------------------------------------------------------------------


def _codes(ids: pd.Series) -> tuple[np.ndarray, np.ndarray | pd.Index, bool]:
    """Integer group codes for customer ids and what they decode to.

    Non-negative integer ids that are not much sparser than the table are used directly
    as codes (no hashing: the fastest path for the usual 1..n member ids); anything else
    goes through ``pd.factorize(sort=True)``. Returns ``(codes, uniques, dense)``; for the
    dense path ``uniques`` is ``None``-like and ids equal codes.
    """
    values = ids.to_numpy()
    if values.dtype.kind in "iu" and len(values):
        lo, hi = int(values.min()), int(values.max())
        if lo >= 0 and hi <= 4 * len(values) + 1_000_000:
            return values.astype(np.int64, copy=False), np.empty(0), True
    codes, uniques = pd.factorize(ids, sort=True)
    return codes.astype(np.int64, copy=False), uniques, False


def _group_reduce(codes: np.ndarray, k: int, day: np.ndarray, amount: np.ndarray):
    count = np.bincount(codes, minlength=k)
    total = np.bincount(codes, weights=amount, minlength=k)
    last = np.full(k, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(last, codes, day)
    first = np.full(k, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, codes, day)
    return count, total, last, first


# --------------------------------------------------------------------------------------
# RFM table
# --------------------------------------------------------------------------------------


# Long function: most of it is the docstring (the table's definition, its input
# contract and errors); the body is 35 lines.
@reads(orders=Reads(**{**_ORDERS.__dict__, "lines_arg": "order_col"}),
       returns=Reads("returns", ("order_id", "refund_amount"), rename={"refund_amount": "refund_col"},
                     optional=True))
def rfm_table(
    orders: pd.DataFrame,
    snapshot: Any = None,
    *,
    customer_col: str = "customer_id",
    date_col: str = "order_ts",
    amount_col: str = "amount",
    order_col: str | None = None,
    returns: pd.DataFrame | None = None,
    refund_col: str = "refund_amount",
) -> pd.DataFrame:
    """One row per customer: recency, frequency, monetary value and tenure.

    Parameters
    ----------
    orders : pd.DataFrame
        The order log, one row per order (``shop.orders``). For line-level data (one row
        per order line, e.g. an invoice export) pass ``order_col`` so that frequency counts
        distinct orders instead of rows.
    snapshot : date-like, optional
        The day the analysis is made ("today"). Default: the day after the last order's
        date. Orders on the snapshot day are allowed (recency 0); a snapshot before some
        orders is an error (filter the orders first to look back in time).
    customer_col, date_col, amount_col : str
        The order log's customer id, order timestamp and amount columns.
    order_col : str, optional
        Order id column of line-level data (frequency counts distinct orders).
    returns : pd.DataFrame, optional
        The returns table (``shop.returns``) with ``order_id`` and ``refund_col``. Given,
        ``monetary`` is net of refunds and a ``refunds`` column is added; refunds of orders
        that are not in ``orders`` are not used and are counted in
        ``attrs["refunds_unmatched"]``. Default (``None``): gross paid amount.
    refund_col : str, default "refund_amount"
        The refund column of ``returns``.

    Returns
    -------
    pd.DataFrame
        Sorted by customer id, with columns ``customer_col``, ``recency`` (int64, days
        from the last order's date to the snapshot date), ``frequency`` (int64, number of
        orders), ``monetary`` (float64, NT$ paid in total — net of refunds when
        ``returns`` is given), ``tenure`` (int64, days from the first order's date to the
        snapshot date) and, with ``returns``, ``refunds`` (float64). ``attrs`` records the
        ``snapshot`` and the ``monetary_basis``.

    Raises
    ------
    ValueError
        Naming the table, column and fix (the input contract of
        :func:`crmlab._checks.reads`, from the schema) for a missing column, a non-numeric,
        infinite or negative amount, missing, time-zone aware or implausible (far-future)
        dates, missing ids, a repeated ``order_id`` (each order counted twice; line-level
        data passes ``order_col``), or a snapshot before the data.
    """
    func = "rfm_table"
    if order_col is not None:
        require_columns(orders, "orders", {order_col: "order_col"}, func=func)
    ids = orders[customer_col]
    day = day_numbers(orders[date_col])
    amount = orders[amount_col].to_numpy(dtype="float64")
    first_day, last_day = int(day.min()), int(day.max())
    snap = last_day + 1 if snapshot is None else snapshot_day(snapshot, func)
    check_snapshot(snap, first_day, last_day, "orders", date_col, func)

    codes, uniques, dense = _codes(ids)
    k = int(codes.max()) + 1 if dense else len(uniques)
    count, total, last, first = _group_reduce(codes, k, day, amount)
    if order_col is not None:
        # line-level data: count distinct (customer, order) pairs instead of rows
        pairs = pd.DataFrame({"c": codes, "o": orders[order_col].to_numpy()}).drop_duplicates()
        count = np.bincount(pairs["c"].to_numpy(), minlength=k)
    present, cust_values = _present_customers(count, ids, uniques, dense)
    out = pd.DataFrame({
        customer_col: cust_values,
        "recency": snap - last[present],
        "frequency": count[present].astype(np.int64),
        "monetary": total[present],
        "tenure": snap - first[present],
    })
    basis = f"gross paid amount (orders.{amount_col}), returns not deducted"
    if returns is not None:
        refunds, unmatched = _refunds_per_customer(orders, returns, customer_col, order_col, refund_col,
                                                   amount_col, out)
        out["refunds"] = refunds
        out["monetary"] = out["monetary"] - refunds
        basis = f"paid amount (orders.{amount_col}) net of refunds (returns.{refund_col})"
        out.attrs["refunds_unmatched"] = unmatched
    out.attrs["snapshot"] = str(_day_to_ts(snap).date())
    out.attrs["monetary_basis"] = basis
    return out


def _present_customers(count: np.ndarray, ids: pd.Series, uniques, dense: bool):
    """Codes of the customers with orders and their ids (in the ids' dtype), from
    :func:`_codes`' output: the dense path's codes are the ids themselves."""
    if not dense:
        return np.arange(len(uniques)), uniques
    present = np.flatnonzero(count > 0)
    cust_values: Any = present
    if ids.dtype != np.int64:
        cust_values = pd.array(present).astype(ids.dtype)
    return present, cust_values


def _refunds_per_customer(
    orders: pd.DataFrame,
    returns: pd.DataFrame,
    customer_col: str,
    order_col: str | None,
    refund_col: str,
    amount_col: str,
    out: pd.DataFrame,
) -> tuple[np.ndarray, dict[str, float]]:
    """Refunds summed per customer of ``out`` (matched through the orders' ids)."""
    func = "rfm_table"
    key = order_col or "order_id"
    if key not in orders.columns:
        raise ValueError(
            f"{func}: to deduct returns the orders table needs an order id column ('{key}'); "
            "pass order_col= naming it, or leave returns=None for the gross paid amount."
        )
    refund = returns[refund_col].to_numpy(dtype="float64")
    per_order = pd.Series(refund).groupby(returns["order_id"].to_numpy()).sum()
    owner = orders[[key, customer_col]].drop_duplicates(subset=key).set_index(key)[customer_col]
    paid = orders.groupby(key, sort=False)[amount_col].sum()
    over = per_order.reindex(paid.index).fillna(0.0) > paid + 0.005
    if over.any():
        raise ValueError(
            f"{func}: returns refund more than was paid for {int(over.sum())} order(s) (e.g. "
            f"{key} {list(paid.index[over.to_numpy()][:3])}); a refund cannot exceed the "
            f"order's amount -- check returns.{refund_col} (a unit price entered as a total?)."
        )
    matched = per_order.index.isin(owner.index)
    per_order_matched = per_order[matched]
    by_customer = per_order_matched.groupby(owner.reindex(per_order_matched.index).to_numpy()).sum()
    refunds = by_customer.reindex(out[customer_col].to_numpy(), fill_value=0.0).to_numpy(dtype="float64")
    unmatched = {"orders": int((~matched).sum()), "amount": float(per_order[~matched].sum())}
    return refunds, unmatched
