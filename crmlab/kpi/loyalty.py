"""Loyalty (客戶忠誠度): repeat purchases, retention, churn, the early warning and referrals.

The **active base** at time t = customers with at least one order in ``[t - lapse_days, t)``
(:func:`active_base`); a customer without an order for :data:`LAPSE_DAYS` days is lapsed.
"""

from __future__ import annotations

import pandas as pd

from crmlab._checks import as_frame, as_timestamp, datetime_column, reads, require_columns
from crmlab.kpi._common import _between, _orders, _period, _positive_days

__all__ = ["LAPSE_DAYS", "WARN_DAYS", "active_base", "at_risk_share", "churn_rate", "referral_rate",
           "repeat_purchase_rate", "retention_rate"]


#: Days without an order after which a customer counts as lapsed (churned).
LAPSE_DAYS = 180

#: Days since the last order after which an active customer is flagged at risk.
WARN_DAYS = 90


def _last_order(orders: pd.DataFrame, before: pd.Timestamp) -> pd.Series:
    """Each customer's last order time strictly before ``before`` (customers with none left out)."""
    o = _orders(orders)
    o = o.loc[(o["order_ts"] < before).to_numpy()]
    return o.groupby("customer_id", sort=True)["order_ts"].max()


@reads(orders="customer_id order_ts")
def active_base(orders: pd.DataFrame, at: object, lapse_days: float = LAPSE_DAYS) -> pd.Series:
    """The active base at time ``at``: each customer with an order in ``[at - lapse_days, at)``
    and the days from their last order to ``at`` (a Series indexed by ``customer_id``).

    Parameters
    ----------
    orders : pd.DataFrame
        The shop's ``orders`` (customer_id, order_ts).
    at : date-like
        The moment of the count.
    lapse_days : float, default LAPSE_DAYS
        Days without an order after which a customer is lapsed.

    Returns
    -------
    pd.Series
        ``days_since_last_order`` by customer_id.
    """
    t = as_timestamp(at, "at")
    lapse = pd.Timedelta(days=_positive_days(lapse_days, "lapse_days"))
    last = _last_order(orders, t)
    last = last.loc[(last >= t - lapse).to_numpy()]
    return ((t - last) / pd.Timedelta(days=1)).rename("days_since_last_order")


@reads(orders="customer_id order_ts")
def repeat_purchase_rate(orders: pd.DataFrame, start: object, end: object) -> float:
    """Repeat purchase rate (回購率): share of the period's active customers for whom an order
    in the period was a repeat purchase (they had ordered before it, in or before the period).

    Orders at the same timestamp count once. NaN without orders in the period.

    Parameters
    ----------
    orders : pd.DataFrame
        The shop's ``orders`` (customer_id, order_ts).
    start, end : date-like
        The period ``[start, end)`` (end exclusive).

    Returns
    -------
    float
        Share of the period's buyers who bought again.
    """
    o = _orders(orders)
    s, e = _period(start, end)
    o = o.loc[(o["order_ts"] < e).to_numpy(), ["customer_id", "order_ts"]].drop_duplicates()
    in_period = _between(o["order_ts"], s, e)
    buyers = o.loc[in_period, "customer_id"].unique()
    if len(buyers) == 0:
        return float("nan")
    n_orders = o.loc[o["customer_id"].isin(buyers).to_numpy()].groupby("customer_id").size()
    return float((n_orders >= 2).mean())


@reads(orders="customer_id order_ts")
def retention_rate(orders: pd.DataFrame, start: object, end: object,
                   window_days: float | None = None) -> float:
    """Retention rate (留存率): of the customers who ordered in the previous window
    ``[start - window, start)`` (default window: the period's own length), the share who
    ordered again in ``[start, end)``. NaN when nobody ordered in the previous window.

    Parameters
    ----------
    orders : pd.DataFrame
        The shop's ``orders`` (customer_id, order_ts).
    start, end : date-like
        The period ``[start, end)`` (end exclusive).
    window_days : float, optional
        Length of the previous window in days; default the period's length.

    Returns
    -------
    float
        Share of the previous window's buyers who ordered in the period.
    """
    o = _orders(orders)
    s, e = _period(start, end)
    window = e - s if window_days is None else pd.Timedelta(days=_positive_days(window_days, "window_days"))
    before = set(o.loc[_between(o["order_ts"], s - window, s), "customer_id"].unique())
    if not before:
        return float("nan")
    now = set(o.loc[_between(o["order_ts"], s, e), "customer_id"].unique())
    return len(before & now) / len(before)


@reads(orders="customer_id order_ts")
def churn_rate(orders: pd.DataFrame, start: object, end: object,
               lapse_days: float = LAPSE_DAYS) -> float:
    """Churn rate (流失率): of the active base at ``start`` (an order in the ``lapse_days``
    before it), the share no longer active at ``end`` (no order in ``[end - lapse_days, end)``).

    NaN when the base is empty. Retention and churn differ on purpose: see the module notes.

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
        Share of the active base at ``start`` lapsed by ``end``.
    """
    s, e = _period(start, end)
    base = active_base(orders, s, lapse_days)
    if len(base) == 0:
        return float("nan")
    still = active_base(orders, e, lapse_days)
    return float((~base.index.isin(still.index)).mean())


@reads(orders="customer_id order_ts")
def at_risk_share(orders: pd.DataFrame, start: object, end: object, warn_days: float = WARN_DAYS,
                  lapse_days: float = LAPSE_DAYS) -> float:
    """Churn early warning (流失預警): of the active base at ``end``, the share whose last order
    is more than ``warn_days`` old -- on the way to lapsing at ``lapse_days``. NaN when the
    base is empty.

    Parameters
    ----------
    orders : pd.DataFrame
        The shop's ``orders`` (customer_id, order_ts).
    start, end : date-like
        The period ``[start, end)`` (end exclusive).
    warn_days : float, default WARN_DAYS
        Days since the last order that raise the warning (below ``lapse_days``).
    lapse_days : float, default LAPSE_DAYS
        Days without an order after which a customer is lapsed.

    Returns
    -------
    float
        Share of the active base at ``end`` past ``warn_days``.
    """
    _, e = _period(start, end)
    warn = _positive_days(warn_days, "warn_days")
    if warn >= _positive_days(lapse_days, "lapse_days"):
        raise ValueError(f"warn_days={warn_days} must be below lapse_days={lapse_days}: the warning "
                         "comes before the customer counts as lapsed.")
    base = active_base(orders, e, lapse_days)
    return float((base > warn).mean()) if len(base) else float("nan")


@reads(customers="customer_id signup_ts referred_by")
def referral_rate(customers: pd.DataFrame, start: object, end: object) -> float:
    """Referral rate (推薦率): share of the members who signed up in ``[start, end)`` that an
    existing member referred (``referred_by`` not missing). NaN without signups.

    Parameters
    ----------
    customers : pd.DataFrame
        The shop's ``customers`` (customer_id, signup_ts, referred_by).
    start, end : date-like
        The period ``[start, end)`` (end exclusive).

    Returns
    -------
    float
        Share of the period's new members who were referred.
    """
    c = as_frame(customers, "customers")
    require_columns(c, "customers", ["customer_id", "signup_ts", "referred_by"])
    s, e = _period(start, end)
    new = c.loc[_between(datetime_column(c, "customers", "signup_ts"), s, e)]
    return float(new["referred_by"].notna().mean()) if len(new) else float("nan")
