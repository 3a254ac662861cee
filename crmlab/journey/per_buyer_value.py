"""客單價 (money per buying customer) and the course source's six-factor chain on the event log.

:func:`per_buyer_value_decomposition`: path length x stay rate x attention rate x purchase
rate x items per order x unit price, which multiplies out to revenue per buyer exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab._checks import as_frame, datetime_column, reads, require_columns
from crmlab.journey.order_value import _factor_chain, _online_orders

__all__ = ["ATTENTION_EVENTS", "PERIODS", "PER_BUYER_FACTORS", "per_buyer_value_decomposition"]


#: The source's chain for 客單價 (money per buying customer), in its order.
PER_BUYER_FACTORS = ("path_length", "stay_rate", "attention_rate", "purchase_rate",
                     "items_per_order", "unit_price")

#: Calendar periods of :func:`per_buyer_value_decomposition` (pandas period aliases).
PERIODS = ("M", "Q", "Y", "W")

#: Event types that count as "attention" (注目): the visitor marks or picks up the product.
ATTENTION_EVENTS = ("favorite", "add_to_cart")


def _product_views_with_dwell(events: pd.DataFrame) -> pd.DataFrame:
    """Product views with their dwell time: seconds until the visitor's next event in the same
    session (NaN for the last event of a session: nothing shows how long the visitor stayed)."""
    ev = events.sort_values(["session_id", "ts", "event_id"])
    nxt = ev.groupby("session_id")["ts"].shift(-1)
    ev = ev.assign(dwell_s=(nxt - ev["ts"]).dt.total_seconds())
    return ev.loc[ev["event_type"] == "product_view"]


@reads(events="event_id session_id customer_id ts event_type", orders="")
def per_buyer_value_decomposition(events: pd.DataFrame, orders: pd.DataFrame, *, min_dwell_seconds: float = 10.0,
                                  freq: str | None = None) -> pd.DataFrame:
    """客單價 (money per buying customer) as the source decomposes it, measured on the event log.

    客單價 = 動線長度 x 停留率 x 注目率 x 購買率 x 購買個數 x 商品單價, over the customers who bought
    online in the period (buyers = distinct customers with an order that has a ``session_id``):

    * ``path_length`` (動線長度) = product pages the buyers viewed / buyers;
    * ``stay_rate`` (停留率) = views where the buyer stayed at least ``min_dwell_seconds`` before
      the next event of the session / views (the last view of a session has no measured dwell
      and counts as not stayed);
    * ``attention_rate`` (注目率) = attention events (``favorite`` or ``add_to_cart``; one per
      session and product) / stayed views;
    * ``purchase_rate`` (購買率) = online orders / attention events;
    * ``items_per_order`` (購買個數) = items (``n_items``) / orders;
    * ``unit_price`` (商品單價) = revenue / items.

    The chain telescopes: the product (column ``check``) equals ``per_buyer_value`` = revenue /
    buyers exactly, which also equals ``orders_per_buyer`` x ``aov`` (the two-factor view).
    Only events of buyers in the period count, so every factor describes the same people. With
    ``freq`` (``"M"``, ``"Q"``, ``"Y"`` or ``"W"``) one row per calendar period, labelled by its
    first day (events by ``ts``, orders by ``order_ts``; buyers are counted per period).
    ``attrs["n_offline_orders"]`` counts store orders left out (no website events).

    Parameters
    ----------
    events : pd.DataFrame
        The shop's ``events``.
    orders : pd.DataFrame
        The shop's ``orders`` (online orders count).
    min_dwell_seconds : float, default 10.0
        The shortest stay that counts a view as stayed; >= 0.
    freq : {"M", "Q", "Y", "W"}, optional
        Calendar periods; default one row.

    Returns
    -------
    pd.DataFrame
        One row per period: the counts, the six factors, per_buyer_value, orders_per_buyer,
        aov and check.
    """
    func = "per_buyer_value_decomposition"
    events = as_frame(events, "events")
    require_columns(events, "events", ["event_id", "session_id", "customer_id", "ts", "event_type",
                                "product_id"])
    datetime_column(events, "events", "ts")
    if not (isinstance(min_dwell_seconds, int | float) and np.isfinite(min_dwell_seconds)
            and min_dwell_seconds >= 0):
        raise ValueError(f"{func}: min_dwell_seconds={min_dwell_seconds!r} must be a number >= 0, e.g. 10.")
    orders, n_off = _online_orders(orders, True)
    if freq is not None and freq not in PERIODS:
        raise ValueError(f"{func}: freq={freq!r}; use None (one row) or one of {list(PERIODS)} "
                         "(month, quarter, year, week).")
    ratios = {"path_length": ("views", "buyers"), "stay_rate": ("stayed", "views"),
              "attention_rate": ("attention", "stayed"), "purchase_rate": ("orders", "attention"),
              "items_per_order": ("items", "orders"), "unit_price": ("revenue", "items"),
              "per_buyer_value": ("revenue", "buyers"), "orders_per_buyer": ("orders", "buyers"),
              "aov": ("revenue", "orders")}
    return _factor_chain(_buyer_counts(events, orders, freq, min_dwell_seconds), ratios, PER_BUYER_FACTORS, n_off)


def _calendar_period(ts: pd.Series, freq: str | None) -> pd.Series:
    """The first day of each time's calendar period of ``freq`` (``"all"`` without one)."""
    if freq is None:
        return pd.Series("all", index=ts.index)
    return ts.dt.to_period(freq).dt.start_time


def _buyer_counts(events: pd.DataFrame, orders: pd.DataFrame, freq: str | None,
                  min_dwell_seconds: float) -> list[pd.Series]:
    """Per period, over the period's online buyers: buyers, product views, stayed views,
    attention events (one per session and product), orders, items and revenue."""
    o = orders.assign(period=_calendar_period(orders["order_ts"], freq))
    ev = events.assign(period=_calendar_period(events["ts"], freq))
    buyers = o[["period", "customer_id"]].drop_duplicates()
    ev = ev.merge(buyers, on=["period", "customer_id"], how="inner")
    views = _product_views_with_dwell(ev)
    views = views.assign(stayed=views["dwell_s"] >= min_dwell_seconds)
    attention = (ev.loc[ev["event_type"].isin(ATTENTION_EVENTS), ["period", "session_id", "product_id"]]
                 .drop_duplicates())
    return [
        buyers.groupby("period").size().rename("buyers"),
        views.groupby("period").size().rename("views"),
        views.groupby("period")["stayed"].sum().rename("stayed"),
        attention.groupby("period").size().rename("attention"),
        o.groupby("period").size().rename("orders"),
        o.groupby("period")["n_items"].sum().rename("items"),
        o.groupby("period")["amount"].sum().rename("revenue"),
    ]
