"""Customer value (客戶價值): revenue, active customers, order value, frequency, recency.

Revenue = active customers x purchase frequency x average order value, exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from crmlab._checks import reads
from crmlab.kpi._common import _between, _orders, _period
from crmlab.kpi.loyalty import LAPSE_DAYS, active_base

__all__ = ["active_customers", "average_order_value", "per_buyer_value", "purchase_frequency",
           "recency_days", "revenue"]


def _period_orders(orders: pd.DataFrame, start: object, end: object,
                   columns: Sequence[str] = ("customer_id", "order_ts")) -> pd.DataFrame:
    o = _orders(orders, columns)
    s, e = _period(start, end)
    return o.loc[_between(o["order_ts"], s, e)]


@reads(orders="customer_id order_ts amount")
def revenue(orders: pd.DataFrame, start: object, end: object) -> float:
    """Revenue (營收): paid ``amount`` of the orders placed in ``[start, end)``, NT$ (0 if none).

    Parameters
    ----------
    orders : pd.DataFrame
        The shop's ``orders`` (customer_id, order_ts, amount).
    start, end : date-like
        The period ``[start, end)`` (end exclusive).

    Returns
    -------
    float
        NT$ of the period's orders.
    """
    o = _period_orders(orders, start, end, ("customer_id", "order_ts", "amount"))
    return float(o["amount"].sum())


@reads(orders="customer_id order_ts")
def active_customers(orders: pd.DataFrame, start: object, end: object) -> int:
    """Active customers (活躍客戶數): distinct customers with an order in ``[start, end)``.

    Parameters
    ----------
    orders : pd.DataFrame
        The shop's ``orders`` (customer_id, order_ts).
    start, end : date-like
        The period ``[start, end)`` (end exclusive).

    Returns
    -------
    int
        Distinct customers who ordered.
    """
    return int(_period_orders(orders, start, end)["customer_id"].nunique())


@reads(orders="customer_id order_ts amount")
def average_order_value(orders: pd.DataFrame, start: object, end: object) -> float:
    """Average order value (平均訂單價值, AOV): revenue / orders of the period, NT$; NaN without
    orders. Not 客單價, which the course source defines per buying customer
    (:func:`per_buyer_value`).

    Parameters
    ----------
    orders : pd.DataFrame
        The shop's ``orders`` (customer_id, order_ts, amount).
    start, end : date-like
        The period ``[start, end)`` (end exclusive).

    Returns
    -------
    float
        NT$ per order; NaN without orders.
    """
    o = _period_orders(orders, start, end, ("customer_id", "order_ts", "amount"))
    return float(o["amount"].mean()) if len(o) else float("nan")


@reads(orders="customer_id order_ts")
def purchase_frequency(orders: pd.DataFrame, start: object, end: object) -> float:
    """Purchase frequency (購買頻率): orders per active customer in the period; NaN without orders.

    Revenue = active customers x purchase frequency x average order value, exactly.

    Parameters
    ----------
    orders : pd.DataFrame
        The shop's ``orders`` (customer_id, order_ts).
    start, end : date-like
        The period ``[start, end)`` (end exclusive).

    Returns
    -------
    float
        Orders per active customer; NaN without orders.
    """
    o = _period_orders(orders, start, end)
    return len(o) / o["customer_id"].nunique() if len(o) else float("nan")


@reads(orders="customer_id order_ts amount")
def per_buyer_value(orders: pd.DataFrame, start: object, end: object) -> float:
    """客單價 (per-customer transaction value): revenue / buying customers of the period, NT$;
    NaN without orders. Equals purchase frequency x average order value; its six-factor
    decomposition on the event log is :func:`crmlab.journey.per_buyer_value_decomposition`.

    Parameters
    ----------
    orders : pd.DataFrame
        The shop's ``orders`` (customer_id, order_ts, amount).
    start, end : date-like
        The period ``[start, end)`` (end exclusive).

    Returns
    -------
    float
        NT$ per buying customer; NaN without orders.
    """
    o = _period_orders(orders, start, end, ("customer_id", "order_ts", "amount"))
    return float(o["amount"].sum() / o["customer_id"].nunique()) if len(o) else float("nan")


@reads(orders="customer_id order_ts")
def recency_days(orders: pd.DataFrame, start: object, end: object,
                 lapse_days: float = LAPSE_DAYS) -> float:
    """Recency (最近購買天數): mean days from the last order to ``end`` over the active base at
    ``end``; lower is better. NaN when nobody is active. (``start`` only checks the period.)

    Parameters
    ----------
    orders : pd.DataFrame
        The shop's ``orders`` (customer_id, order_ts).
    start, end : date-like
        The period ``[start, end)`` (end exclusive).
    lapse_days : float, default LAPSE_DAYS
        Days without an order after which a customer is lapsed.

    Returns
    -------
    float
        Mean days since the last order over the active base at ``end``.
    """
    _, e = _period(start, end)
    base = active_base(orders, e, lapse_days)
    return float(base.mean()) if len(base) else float("nan")
