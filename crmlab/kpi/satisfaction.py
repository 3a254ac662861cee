"""Satisfaction (滿意度): CSAT, NPS, product ratings, returns and defects of a period."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from crmlab import aftersales
from crmlab._checks import as_frame, datetime_column, reads, require_columns
from crmlab.kpi import _sharing
from crmlab.kpi._common import _between, _orders, _period
from crmlab.kpi.value import _period_orders

__all__ = ["defect_rate", "nps", "order_csat", "product_rating", "return_rate", "service_csat"]


def _surveys(surveys: pd.DataFrame, start: object, end: object, touchpoint: str | None) -> pd.DataFrame:
    sv = as_frame(surveys, "surveys")
    require_columns(sv, "surveys", ["survey_type", "sent_ts", "score"])
    s, e = _period(start, end)
    keep = _between(datetime_column(sv, "surveys", "sent_ts"), s, e)
    if touchpoint is not None:
        require_columns(sv, "surveys", ["touchpoint"])
        keep &= (sv["touchpoint"].astype("str") == touchpoint).to_numpy()
    return sv.loc[keep]


@reads(surveys="survey_type sent_ts score")
def order_csat(surveys: pd.DataFrame, start: object, end: object, touchpoint: str = "order") -> float:
    """Shopping-experience CSAT (購物體驗滿意度): share of 4-5 answers (1-5 scale) to the CSAT
    surveys about ``touchpoint`` sent in the period (:func:`crmlab.aftersales.survey_metrics`).
    NaN without answers.

    Parameters
    ----------
    surveys : pd.DataFrame
        The shop's ``surveys`` (survey_type, sent_ts, score, touchpoint).
    start, end : date-like
        The period ``[start, end)`` (end exclusive).
    touchpoint : str, default "order"
        The surveys' touchpoint.

    Returns
    -------
    float
        Share of 4-5 answers.
    """
    sv = _surveys(surveys, start, end, touchpoint)
    return float(aftersales.survey_metrics(sv, "csat")["csat"].iloc[0])


@reads(surveys="survey_type sent_ts score")
def nps(surveys: pd.DataFrame, start: object, end: object) -> float:
    """Net Promoter Score (淨推薦值), points: 100 x (share 9-10 - share 0-6) of the NPS answers
    to surveys sent in the period (:func:`crmlab.aftersales.survey_metrics`). NaN without answers.

    Parameters
    ----------
    surveys : pd.DataFrame
        The shop's ``surveys`` (survey_type, sent_ts, score).
    start, end : date-like
        The period ``[start, end)`` (end exclusive).

    Returns
    -------
    float
        NPS in points, -100..100.
    """
    sv = _surveys(surveys, start, end, None)
    return float(aftersales.survey_metrics(sv, "nps")["nps"].iloc[0])


@reads(tickets="created_ts csat")
def service_csat(tickets: pd.DataFrame, start: object, end: object) -> float:
    """Service CSAT (服務滿意度): share of 4-5 post-ticket CSAT answers (``tickets.csat``) on
    tickets created in the period (:func:`crmlab.aftersales.csat_score`). NaN without answers.

    Parameters
    ----------
    tickets : pd.DataFrame
        The shop's ``tickets`` (created_ts, csat).
    start, end : date-like
        The period ``[start, end)`` (end exclusive).

    Returns
    -------
    float
        Share of 4-5 answers.
    """
    t = as_frame(tickets, "tickets")
    require_columns(t, "tickets", ["created_ts", "csat"])
    s, e = _period(start, end)
    answered = t.loc[_between(datetime_column(t, "tickets", "created_ts"), s, e), "csat"].dropna()
    return float(aftersales.csat_score(answered)["csat"])


@reads(reviews="ts stars")
def product_rating(reviews: pd.DataFrame, start: object, end: object,
                   product_ids: Iterable[int] | None = None) -> float:
    """Product satisfaction (商品滿意度): mean stars (1-5) of the reviews posted in the period,
    optionally of some products only. NaN without reviews.

    Parameters
    ----------
    reviews : pd.DataFrame
        The shop's ``reviews`` (ts, stars, product_id).
    start, end : date-like
        The period ``[start, end)`` (end exclusive).
    product_ids : iterable of int, optional
        Only these products.

    Returns
    -------
    float
        Mean stars, 1-5.
    """
    r = as_frame(reviews, "reviews")
    require_columns(r, "reviews", ["ts", "stars"] + (["product_id"] if product_ids is not None else []))
    s, e = _period(start, end)
    keep = _between(datetime_column(r, "reviews", "ts"), s, e)
    if product_ids is not None:
        keep &= r["product_id"].isin(list(product_ids)).to_numpy()
    stars = pd.to_numeric(r.loc[keep, "stars"], errors="coerce")
    if stars.isna().any() or ((stars < 1) | (stars > 5)).any():
        raise ValueError("reviews: column 'stars' must hold whole stars from 1 to 5 without missing "
                         "values; fix or drop the bad rows first.")
    return float(stars.mean()) if len(stars) else float("nan")


def _period_lines(orders: pd.DataFrame, order_items: pd.DataFrame, returns: pd.DataFrame,
                  start: object, end: object) -> pd.DataFrame:
    """Order lines of the orders placed in the period with ``returned`` meaning "a return was
    requested before ``end``", and the return ``reason``. Lines not in ``order_items`` (e.g.
    when it was filtered to some products) do not count, nor do their returns.

    In a report (:func:`kpi_history`, :func:`scorecard`) every order line is computed once
    and each period takes its rows; a single call computes the period's lines only.
    """
    s, e = _period(start, end)
    if _sharing.shop_wide():
        lines = _sharing.shared(("lines", id(orders), id(order_items), id(returns)),
                        lambda: _order_lines(orders, order_items, returns))
        lines = lines.loc[_between(lines["order_ts"], s, e)] if len(lines) else lines
    else:
        lines = _order_lines(_period_orders(orders, s, e, ("order_id", "customer_id", "order_ts")),
                             order_items, returns)
    if len(lines) == 0:
        return pd.DataFrame({"returned": np.zeros(0, dtype=bool), "reason": pd.Series([], dtype="str")})
    returned = lines["returned"].to_numpy(dtype=bool) & (lines["requested_ts"] < e).to_numpy(dtype=bool)
    return pd.DataFrame({"returned": returned, "reason": lines["reason"].to_numpy()})


def _order_lines(orders: pd.DataFrame, order_items: pd.DataFrame, returns: pd.DataFrame) -> pd.DataFrame:
    """The lines of ``orders`` with their returns, whenever requested
    (:func:`crmlab.aftersales.return_lines`)."""
    o = _orders(orders, ("order_id", "customer_id", "order_ts"))
    oi = as_frame(order_items, "order_items")
    require_columns(oi, "order_items", ["order_id", "line_no"])
    r = as_frame(returns, "returns")
    require_columns(r, "returns", ["order_id", "line_no", "requested_ts"])
    datetime_column(r, "returns", "requested_ts")
    items = oi.loc[oi["order_id"].isin(o["order_id"]).to_numpy()]
    if len(items) == 0:
        return pd.DataFrame(columns=["order_ts", "returned", "requested_ts", "reason"])
    rr = r.merge(items[["order_id", "line_no"]], on=["order_id", "line_no"], how="inner")
    return aftersales.return_lines(o, items, rr)


@reads(orders="order_id customer_id order_ts", order_items="order_id line_no", returns="order_id line_no requested_ts")
def return_rate(orders: pd.DataFrame, order_items: pd.DataFrame, returns: pd.DataFrame,
                start: object, end: object) -> float:
    """Return rate (退貨率): share of the order lines of the period's orders that were returned
    (refund or exchange) by ``end``. NaN without order lines. Filter ``order_items`` to some
    products for a product's own rate.

    Parameters
    ----------
    orders : pd.DataFrame
        The shop's ``orders`` (order_id, customer_id, order_ts).
    order_items : pd.DataFrame
        The shop's ``order_items`` (order_id, line_no); filter it for some products.
    returns : pd.DataFrame
        The shop's ``returns`` (order_id, line_no, requested_ts, reason).
    start, end : date-like
        The period ``[start, end)`` (end exclusive).

    Returns
    -------
    float
        Share of order lines returned by ``end``.
    """
    lines = _period_lines(orders, order_items, returns, start, end)
    return float(lines["returned"].mean()) if len(lines) else float("nan")


@reads(orders="order_id customer_id order_ts", order_items="order_id line_no", returns="order_id line_no requested_ts")
def defect_rate(orders: pd.DataFrame, order_items: pd.DataFrame, returns: pd.DataFrame,
                start: object, end: object) -> float:
    """Defect rate (瑕疵率): share of the order lines of the period's orders returned as
    ``defective`` by ``end`` -- the product-quality signal. NaN without order lines.

    Parameters
    ----------
    orders : pd.DataFrame
        The shop's ``orders`` (order_id, customer_id, order_ts).
    order_items : pd.DataFrame
        The shop's ``order_items`` (order_id, line_no); filter it for some products.
    returns : pd.DataFrame
        The shop's ``returns`` (order_id, line_no, requested_ts, reason).
    start, end : date-like
        The period ``[start, end)`` (end exclusive).

    Returns
    -------
    float
        Share of order lines returned as defective by ``end``.
    """
    lines = _period_lines(orders, order_items, returns, start, end)
    if len(lines) == 0:
        return float("nan")
    return float((lines["returned"] & (lines["reason"].astype("str") == "defective")).mean())
