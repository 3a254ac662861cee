"""Evaluating CRM (客戶關係管理實施效果評估): the indicators and the CRM scorecard — unit 7.

The course ends with an evaluation system in four parts -- **satisfaction** (product,
service, shopping experience), **loyalty** (repeat purchases, referrals, churn early
warning), **customer value** (spend, frequency, recency) and **marketing effect**
(campaign participation, cost-benefit ratio, channel effect) -- plus the support desk that
the service promise depends on. This module defines every indicator **once**, as a function
of the shop's tables and a period, and builds the scorecard (CRM 計分卡, in the spirit of a
balanced scorecard 平衡計分卡) and the monthly history behind the dashboard from those same
functions. It reuses the course units wherever they already hold the method:
:mod:`crmlab.aftersales` (CSAT, NPS, return lines), :mod:`crmlab.offers` (campaign reads
against the holdout, Mantel--Haenszel pooling, campaign economics) and
:mod:`crmlab.support` (ticket lifecycle, SLA attainment, call-queue figures).

Conventions (documented once here)
----------------------------------
* A **period** is half-open, ``[start, end)``: a quarter is ``["2025-10-01", "2026-01-01")``.
  Every indicator of a period uses only rows dated before ``end`` -- what a manager could
  know when the period closed. (Campaign outcomes are the one exception: a campaign belongs
  to the period it was *sent* in, and its outcome window of ``window_days`` may run past
  ``end``.) Because the previous period is measured the same way, period-over-period
  changes compare like with like.
* Each indicator returns a scalar: ``float`` (``int`` for counts), ``NaN`` when it is
  undefined for the period (e.g. no survey answers, no campaign with a holdout). Bad input
  (a missing column, a non-datetime timestamp, ``start >= end``) raises ``ValueError``
  naming the table, the column and the fix.
* Shares are proportions in [0, 1] (0.8 = 80%); money is NT$; NPS is in points (-100..100).

The indicators
--------------
Customer value (顧客價值)
    ``revenue`` (paid amount of the period's orders), ``active_customers`` (customers who
    ordered in the period), ``average_order_value`` (revenue / orders, 客單價),
    ``purchase_frequency`` (orders / active customers, 購買頻率) -- so revenue = active
    customers x frequency x AOV exactly -- and ``recency_days`` (mean days from the last
    order to ``end`` over the *active base*, below).
Loyalty (顧客忠誠度)
    The **active base** at time t = customers with at least one order in
    ``[t - lapse_days, t)``; ``lapse_days`` = :data:`LAPSE_DAYS` (180) by default: a customer
    who has not ordered for half a year is *lapsed* (流失).

    * ``repeat_purchase_rate`` (回購率): of the customers who ordered in the period, the
      share for whom it was a repeat purchase -- at least one order before one of their
      orders in the period (earlier in the period or before it).
    * ``retention_rate`` (顧客保留率): of the customers who ordered in the previous window of
      the same length, ``[start - (end - start), start)``, the share who ordered again in
      the period.
    * ``churn_rate`` (流失率): of the active base at ``start``, the share no longer active at
      ``end`` (no order in ``[end - lapse_days, end)``). A customer who skipped one quarter
      is not retained, yet not churned: the two answer different questions.
    * ``at_risk_share`` (流失預警): of the active base at ``end``, the share whose last order
      is more than ``warn_days`` (90) old -- customers drifting toward the lapse threshold,
      the recency rule that notebook 05 found to be a fair early warning.
    * ``referral_rate`` (推薦率): of the members who signed up in the period, the share
      referred by an existing member (``customers.referred_by``).
Satisfaction (滿意度)
    ``order_csat`` (shopping experience: share of 4-5 answers to the order CSAT survey, via
    :func:`crmlab.aftersales.survey_metrics`), ``service_csat`` (post-ticket CSAT in
    ``tickets.csat``, via :func:`crmlab.aftersales.csat_score`), ``nps`` (relationship NPS,
    via :func:`crmlab.aftersales.survey_metrics`), ``product_rating`` (mean review stars),
    ``return_rate`` and ``defect_rate`` (order lines of the period's orders returned -- for
    any reason / as defective -- by ``end``, via :func:`crmlab.aftersales.return_lines`).
    Surveys count by the time they were sent, tickets by creation, reviews by posting.
Marketing effect (行銷成效)
    Campaigns sent in the period. Participation (活動參與度): ``open_rate`` and
    ``click_rate`` (opened or clicked / sent). Effect against the randomized holdout
    (:func:`campaign_reads`, i.e. :func:`crmlab.offers.ab_test` per campaign):
    ``conversion_uplift`` (Mantel--Haenszel pooled difference in conversion,
    :func:`crmlab.offers.pooled_uplift`) and ``incremental_revenue_per_contact`` (the
    channel effect 渠道效果: treated minus holdout revenue per contact, weighted by treated
    contacts; by channel with :func:`channel_effect`). Money (:func:`campaign_money`, via
    :func:`crmlab.offers.campaign_economics`): ``campaign_roi`` = (incremental margin -
    spend) / spend and ``cost_benefit_ratio`` (成本效益比) = incremental revenue / spend,
    i.e. NT$ of extra sales per NT$ of sends and coupons (> 1: each NT$ spent brought more
    than a NT$ of sales). Campaigns without a holdout (or without treated contacts) cannot
    be read and are left out; :func:`campaign_reads` lists them in ``attrs["skipped"]``.
Service (客戶服務)
    ``sla_first_response`` and ``sla_resolution`` (tickets created in the period that met
    their priority's target / those met or breached by ``end``, business-hours clock and
    :data:`crmlab.support.SLA_TARGETS`, via :func:`crmlab.support.sla_attainment`) and
    ``call_service_level`` (calls offered in the period answered within 20 seconds, via
    :func:`crmlab.support.queue_stats`).

The scorecard
-------------
:data:`INDICATORS` registers each indicator with its perspective, label (English and
繁體中文), unit, direction (higher or lower is better) and the tables it needs.
:data:`DEFAULT_TARGETS` holds a target and an amber ``tolerance`` per indicator -- data,
not code: pass your own frame to override any row. :func:`traffic_light` gives the status:
**green** when the value meets the target (>= for higher-is-better, <= for lower), **amber**
when it misses by no more than ``tolerance`` (in the indicator's unit), **red** when it
misses by more; ``no data`` for a NaN value and ``no target`` without a target.
:func:`scorecard` puts one row per indicator for a period beside the previous period;
:func:`kpi_history` computes every indicator for every complete month (or quarter) for the
dashboard. :func:`course_summary` gathers every notebook's recorded results.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crmlab import aftersales, offers, support
from crmlab._checks import as_frame, as_timestamp, datetime_column, reads, require_columns
from crmlab._checks import trusting as _trusting

__all__ = [
    "DEFAULT_TARGETS",
    "FREQUENCIES",
    "INDICATORS",
    "Indicator",
    "LAPSE_DAYS",
    "PERSPECTIVES",
    "STATUS_ORDER",
    "WARN_DAYS",
    "active_base",
    "active_customers",
    "at_risk_share",
    "average_order_value",
    "call_service_level",
    "campaign_money",
    "campaign_reads",
    "campaign_roi",
    "channel_effect",
    "churn_rate",
    "click_rate",
    "compute_indicators",
    "conversion_uplift",
    "cost_benefit_ratio",
    "course_summary",
    "defect_rate",
    "full_periods",
    "incremental_revenue_per_contact",
    "kpi_history",
    "nps",
    "open_rate",
    "order_csat",
    "period_bounds",
    "previous_period",
    "product_rating",
    "purchase_frequency",
    "recency_days",
    "referral_rate",
    "repeat_purchase_rate",
    "per_buyer_value",
    "stickiness_ratio",
    "time_on_site",
    "visits_per_visitor",
    "retention_rate",
    "return_rate",
    "revenue",
    "scorecard",
    "service_csat",
    "sla_first_response",
    "sla_resolution",
    "traffic_light",
]

#: Days without an order after which a customer counts as lapsed (churned).
LAPSE_DAYS = 180

#: Days since the last order after which an active customer is flagged at risk.
WARN_DAYS = 90

#: The scorecard's perspectives, in display order.
PERSPECTIVES: tuple[str, ...] = ("satisfaction", "loyalty", "value", "marketing", "service")

#: Traffic-light statuses, best first.
STATUS_ORDER: tuple[str, ...] = ("green", "amber", "red", "no data", "no target")

#: Scorecard frequencies -> pandas Period frequency.
FREQUENCIES: dict[str, str] = {"QE": "Q", "Q": "Q", "ME": "M", "M": "M", "YE": "Y", "Y": "Y",
                               "W": "W"}


# --------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------


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


# Intermediate tables shared by several indicators (the order lines behind the return and
# defect rates, the campaign reads and money, the SLA table) are computed once per
# :func:`compute_indicators` call, and the shop-wide ones (every order line, every campaign's
# read) once per report (:func:`kpi_history`, :func:`scorecard`), each period taking its rows.
# Outside such a call nothing is cached: the tables may change between calls.
_SHARED: dict[tuple, Any] | None = None
_SHOP_WIDE = False  # inside a report: shop-wide tables, sliced per period


@contextmanager
def _sharing(shop_wide: bool = False) -> Iterator[None]:
    global _SHARED, _SHOP_WIDE
    outer, outer_wide = _SHARED, _SHOP_WIDE
    if outer is None:
        _SHARED = {}
    _SHOP_WIDE = outer_wide or shop_wide
    try:
        with _trusting():  # the tables do not change during one report: check them once
            yield
    finally:
        _SHOP_WIDE = outer_wide
        if outer is None:
            _SHARED = None


def _shared(key: tuple, compute: Callable[[], Any]) -> Any:
    """``compute()``, or its earlier result for the same ``key`` inside :func:`_sharing`.
    Keys hold the ``id`` of the input tables, which do not change during one call."""
    if _SHARED is None:
        return compute()
    if key not in _SHARED:
        _SHARED[key] = compute()
    return _SHARED[key]


# --------------------------------------------------------------------------------------
# customer value
# --------------------------------------------------------------------------------------


def _period_orders(orders: pd.DataFrame, start: object, end: object,
                   columns: Sequence[str] = ("customer_id", "order_ts")) -> pd.DataFrame:
    o = _orders(orders, columns)
    s, e = _period(start, end)
    return o.loc[_between(o["order_ts"], s, e)]


@reads(orders="customer_id order_ts amount")
def revenue(orders: pd.DataFrame, start: object, end: object) -> float:
    """Revenue (營收): paid ``amount`` of the orders placed in ``[start, end)``, NT$ (0 if none)."""
    o = _period_orders(orders, start, end, ("customer_id", "order_ts", "amount"))
    return float(o["amount"].sum())


@reads(orders="customer_id order_ts")
def active_customers(orders: pd.DataFrame, start: object, end: object) -> int:
    """Active customers (活躍顧客數): distinct customers with an order in ``[start, end)``."""
    return int(_period_orders(orders, start, end)["customer_id"].nunique())


@reads(orders="customer_id order_ts amount")
def average_order_value(orders: pd.DataFrame, start: object, end: object) -> float:
    """Average order value (平均訂單價值, AOV): revenue / orders of the period, NT$; NaN without
    orders. Not 客單價, which the course source defines per buying customer
    (:func:`per_buyer_value`)."""
    o = _period_orders(orders, start, end, ("customer_id", "order_ts", "amount"))
    return float(o["amount"].mean()) if len(o) else float("nan")


@reads(orders="customer_id order_ts")
def purchase_frequency(orders: pd.DataFrame, start: object, end: object) -> float:
    """Purchase frequency (購買頻率): orders per active customer in the period; NaN without orders.

    Revenue = active customers x purchase frequency x average order value, exactly.
    """
    o = _period_orders(orders, start, end)
    return len(o) / o["customer_id"].nunique() if len(o) else float("nan")


@reads(orders="customer_id order_ts amount")
def per_buyer_value(orders: pd.DataFrame, start: object, end: object) -> float:
    """客單價 (per-customer transaction value): revenue / buying customers of the period, NT$;
    NaN without orders. Equals purchase frequency x average order value; its six-factor
    decomposition on the event log is :func:`crmlab.journey.per_buyer_value_decomposition`."""
    o = _period_orders(orders, start, end, ("customer_id", "order_ts", "amount"))
    return float(o["amount"].sum() / o["customer_id"].nunique()) if len(o) else float("nan")


# --------------------------------------------------------------------------------------
# stickiness (黏著度): visits and time on site
# --------------------------------------------------------------------------------------


def _period_sessions(sessions: pd.DataFrame, start: object, end: object) -> pd.DataFrame:
    """Sessions that started in ``[start, end)``, with their minutes on site."""
    sess = as_frame(sessions, "sessions")
    require_columns(sess, "sessions", ["customer_id", "start_ts", "end_ts"])
    begin = datetime_column(sess, "sessions", "start_ts")
    finish = datetime_column(sess, "sessions", "end_ts")
    minutes = (finish - begin).dt.total_seconds() / 60
    if (minutes < 0).any():
        raise ValueError(f"sessions: {int((minutes < 0).sum())} session(s) end before they start "
                         "(end_ts < start_ts); fix or drop them first.")
    s, e = _period(start, end)
    keep = _between(begin, s, e)
    return sess.loc[keep].assign(minutes=minutes[keep].to_numpy(), start_ts=begin[keep].to_numpy())


@reads(sessions="")
def visits_per_visitor(sessions: pd.DataFrame, start: object, end: object) -> float:
    """Visits per visitor (人均訪問次數): sessions / distinct members with a session in
    ``[start, end)``; NaN without sessions. A stickiness measure: how often members come back."""
    sess = _period_sessions(sessions, start, end)
    return len(sess) / sess["customer_id"].nunique() if len(sess) else float("nan")


@reads(sessions="")
def time_on_site(sessions: pd.DataFrame, start: object, end: object) -> float:
    """Median minutes on site per visit (停留時間) in ``[start, end)`` (``end_ts - start_ts``;
    the median, because a few open tabs make the mean meaningless); NaN without sessions."""
    sess = _period_sessions(sessions, start, end)
    return float(sess["minutes"].median()) if len(sess) else float("nan")


@reads(sessions="")
def stickiness_ratio(sessions: pd.DataFrame, start: object, end: object) -> float:
    """DAU/MAU (黏著度): mean daily visitors / distinct visitors of the period, in [0, 1].

    1 means every visitor of the period comes every day; 1/30 over a month means each came
    on one day. Computed over the calendar days of ``[start, end)``; NaN without sessions.
    """
    sess = _period_sessions(sessions, start, end)
    if not len(sess):
        return float("nan")
    s, e = _period(start, end)
    days = max(1, int(np.ceil((e - s) / pd.Timedelta(days=1))))
    daily = sess.assign(day=sess["start_ts"].dt.floor("D")).drop_duplicates(["day", "customer_id"])
    return float(len(daily) / days / sess["customer_id"].nunique())


def _last_order(orders: pd.DataFrame, before: pd.Timestamp) -> pd.Series:
    """Each customer's last order time strictly before ``before`` (customers with none left out)."""
    o = _orders(orders)
    o = o.loc[(o["order_ts"] < before).to_numpy()]
    return o.groupby("customer_id", sort=True)["order_ts"].max()


@reads(orders="customer_id order_ts")
def active_base(orders: pd.DataFrame, at: object, lapse_days: float = LAPSE_DAYS) -> pd.Series:
    """The active base at time ``at``: each customer with an order in ``[at - lapse_days, at)``
    and the days from their last order to ``at`` (a Series indexed by ``customer_id``)."""
    t = as_timestamp(at, "at")
    lapse = pd.Timedelta(days=_positive_days(lapse_days, "lapse_days"))
    last = _last_order(orders, t)
    last = last.loc[(last >= t - lapse).to_numpy()]
    return ((t - last) / pd.Timedelta(days=1)).rename("days_since_last_order")


@reads(orders="customer_id order_ts")
def recency_days(orders: pd.DataFrame, start: object, end: object,
                 lapse_days: float = LAPSE_DAYS) -> float:
    """Recency (最近購買天數): mean days from the last order to ``end`` over the active base at
    ``end``; lower is better. NaN when nobody is active. (``start`` only checks the period.)"""
    _, e = _period(start, end)
    base = active_base(orders, e, lapse_days)
    return float(base.mean()) if len(base) else float("nan")


# --------------------------------------------------------------------------------------
# loyalty
# --------------------------------------------------------------------------------------


@reads(orders="customer_id order_ts")
def repeat_purchase_rate(orders: pd.DataFrame, start: object, end: object) -> float:
    """Repeat purchase rate (回購率): share of the period's active customers for whom an order
    in the period was a repeat purchase (they had ordered before it, in or before the period).

    Orders at the same timestamp count once. NaN without orders in the period.
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
    """Retention rate (顧客保留率): of the customers who ordered in the previous window
    ``[start - window, start)`` (default window: the period's own length), the share who
    ordered again in ``[start, end)``. NaN when nobody ordered in the previous window."""
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
    base is empty."""
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
    existing member referred (``referred_by`` not missing). NaN without signups."""
    c = as_frame(customers, "customers")
    require_columns(c, "customers", ["customer_id", "signup_ts", "referred_by"])
    s, e = _period(start, end)
    new = c.loc[_between(datetime_column(c, "customers", "signup_ts"), s, e)]
    return float(new["referred_by"].notna().mean()) if len(new) else float("nan")


# --------------------------------------------------------------------------------------
# satisfaction
# --------------------------------------------------------------------------------------


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
    NaN without answers."""
    sv = _surveys(surveys, start, end, touchpoint)
    return float(aftersales.survey_metrics(sv, "csat")["csat"].iloc[0])


@reads(surveys="survey_type sent_ts score")
def nps(surveys: pd.DataFrame, start: object, end: object) -> float:
    """Net Promoter Score (淨推薦值), points: 100 x (share 9-10 - share 0-6) of the NPS answers
    to surveys sent in the period (:func:`crmlab.aftersales.survey_metrics`). NaN without answers."""
    sv = _surveys(surveys, start, end, None)
    return float(aftersales.survey_metrics(sv, "nps")["nps"].iloc[0])


@reads(tickets="created_ts csat")
def service_csat(tickets: pd.DataFrame, start: object, end: object) -> float:
    """Service CSAT (服務滿意度): share of 4-5 post-ticket CSAT answers (``tickets.csat``) on
    tickets created in the period (:func:`crmlab.aftersales.csat_score`). NaN without answers."""
    t = as_frame(tickets, "tickets")
    require_columns(t, "tickets", ["created_ts", "csat"])
    s, e = _period(start, end)
    answered = t.loc[_between(datetime_column(t, "tickets", "created_ts"), s, e), "csat"].dropna()
    return float(aftersales.csat_score(answered)["csat"])


@reads(reviews="ts stars")
def product_rating(reviews: pd.DataFrame, start: object, end: object,
                   product_ids: Iterable[int] | None = None) -> float:
    """Product satisfaction (商品滿意度): mean stars (1-5) of the reviews posted in the period,
    optionally of some products only. NaN without reviews."""
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
    if _SHOP_WIDE:
        lines = _shared(("lines", id(orders), id(order_items), id(returns)),
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
    products for a product's own rate."""
    lines = _period_lines(orders, order_items, returns, start, end)
    return float(lines["returned"].mean()) if len(lines) else float("nan")


@reads(orders="order_id customer_id order_ts", order_items="order_id line_no", returns="order_id line_no requested_ts")
def defect_rate(orders: pd.DataFrame, order_items: pd.DataFrame, returns: pd.DataFrame,
                start: object, end: object) -> float:
    """Defect rate (瑕疵率): share of the order lines of the period's orders returned as
    ``defective`` by ``end`` -- the product-quality signal. NaN without order lines."""
    lines = _period_lines(orders, order_items, returns, start, end)
    if len(lines) == 0:
        return float("nan")
    return float((lines["returned"] & (lines["reason"].astype("str") == "defective")).mean())


# --------------------------------------------------------------------------------------
# marketing effect
# --------------------------------------------------------------------------------------


def _period_campaigns(contacts: pd.DataFrame, campaigns: pd.DataFrame, start: object, end: object,
                      channel: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    cc = as_frame(contacts, "campaign_contacts")
    require_columns(cc, "campaign_contacts", ["campaign_id", "customer_id", "group"])
    cp = as_frame(campaigns, "campaigns")
    require_columns(cp, "campaigns", ["campaign_id", "send_ts"] + (["channel"] if channel is not None else []))
    s, e = _period(start, end)
    keep = _between(datetime_column(cp, "campaigns", "send_ts"), s, e)
    if channel is not None:
        known = set(cp["channel"].astype("str"))
        if channel not in known:
            raise ValueError(f"campaigns: channel={channel!r} is not in column 'channel' "
                             f"(channels: {sorted(known)}).")
        keep &= (cp["channel"].astype("str") == channel).to_numpy()
    cp = cp.loc[keep]
    return cc.loc[cc["campaign_id"].isin(cp["campaign_id"]).to_numpy()], cp


@reads(contacts="campaign_id group sent opened", campaigns="campaign_id send_ts")
def open_rate(contacts: pd.DataFrame, campaigns: pd.DataFrame, start: object, end: object) -> float:
    """Open rate (開信率): opened / sent messages of the campaigns sent in the period (treated
    contacts; the holdout gets nothing). NaN when nothing was sent."""
    cc, _ = _period_campaigns(contacts, campaigns, start, end)
    require_columns(cc, "campaign_contacts", ["sent", "opened"])
    sent = cc["sent"].to_numpy(dtype=bool)
    return float(cc["opened"].to_numpy(dtype=bool)[sent].mean()) if sent.any() else float("nan")


@reads(contacts="campaign_id group sent clicked", campaigns="campaign_id send_ts")
def click_rate(contacts: pd.DataFrame, campaigns: pd.DataFrame, start: object, end: object) -> float:
    """Click rate (點擊率): clicked / sent messages of the campaigns sent in the period. NaN
    when nothing was sent."""
    cc, _ = _period_campaigns(contacts, campaigns, start, end)
    require_columns(cc, "campaign_contacts", ["sent", "clicked"])
    sent = cc["sent"].to_numpy(dtype=bool)
    return float(cc["clicked"].to_numpy(dtype=bool)[sent].mean()) if sent.any() else float("nan")


_READ_COLUMNS = ["campaign_id", "n_treatment", "n_control", "conv_treatment", "conv_control",
                 "uplift", "value_diff", "incremental_value"]


@reads(contacts="campaign_id group converted revenue", campaigns="campaign_id send_ts")
def campaign_reads(contacts: pd.DataFrame, campaigns: pd.DataFrame, start: object, end: object,
                   channel: str | None = None) -> pd.DataFrame:
    """Each campaign sent in the period (optionally on one ``channel``) read against its
    holdout: :func:`crmlab.offers.ab_test` by ``campaign_id`` on conversion and revenue.

    Campaigns without treated or without holdout contacts are skipped and listed in
    ``attrs["skipped"]`` (their effect cannot be estimated). An empty frame when no campaign
    can be read.
    """
    key = ("reads", id(contacts), id(campaigns), start, end, channel)
    return _shared(key, lambda: _campaign_reads_now(contacts, campaigns, start, end, channel))


def _campaign_reads_now(contacts: pd.DataFrame, campaigns: pd.DataFrame, start: object, end: object,
                        channel: str | None) -> pd.DataFrame:
    cc, _ = _period_campaigns(contacts, campaigns, start, end, channel)
    require_columns(cc, "campaign_contacts", ["converted", "revenue"])
    if len(cc) == 0:
        out = pd.DataFrame(columns=_READ_COLUMNS)
        out.attrs["skipped"] = []
        return out
    every, unreadable = _shop_reads(contacts) if _SHOP_WIDE else _reads_of(cc)
    sent = np.unique(cc["campaign_id"].to_numpy())
    keep = every["campaign_id"].isin(sent).to_numpy() if len(every) else np.zeros(0, dtype=bool)
    out = every.loc[keep].reset_index(drop=True) if keep.any() else pd.DataFrame(columns=_READ_COLUMNS)
    out.attrs["skipped"] = [{"campaign_id": int(k)} for k in sent if k in unreadable]
    return out


def _shop_reads(contacts: pd.DataFrame) -> tuple[pd.DataFrame, set]:
    """:func:`_reads_of` every campaign, once per report (the reads and the money share it)."""
    return _shared(("reads", id(contacts)), lambda: _reads_of(contacts))


def _reads_of(contacts: pd.DataFrame) -> tuple[pd.DataFrame, set]:
    """:func:`crmlab.offers.ab_test` of each campaign in ``contacts`` with both arms, and the
    ids of those without. A campaign's read depends on its own contacts only, so a report
    reads every campaign once and each period takes its campaigns' rows."""
    cc = as_frame(contacts, "campaign_contacts")
    require_columns(cc, "campaign_contacts", ["campaign_id", "group", "converted", "revenue"])
    w = offers.treatment_flags(cc["group"], "campaign_contacts", "group", "campaign_reads")
    arms = pd.DataFrame({"campaign_id": cc["campaign_id"].to_numpy(), "w": w}).groupby("campaign_id")["w"]
    both = (arms.max() & ~arms.min()).astype(bool)
    readable = both.index[both.to_numpy()]
    unreadable = set(both.index[~both.to_numpy()].tolist())
    sub = cc.loc[cc["campaign_id"].isin(readable).to_numpy()]
    if len(sub) == 0:
        return pd.DataFrame(columns=_READ_COLUMNS), unreadable
    return offers.ab_test(sub, by="campaign_id", value="revenue"), unreadable


@reads(contacts="campaign_id group converted revenue", campaigns="campaign_id send_ts")
def conversion_uplift(contacts: pd.DataFrame, campaigns: pd.DataFrame, start: object, end: object,
                      channel: str | None = None) -> float:
    """Conversion uplift (轉換提升), as a share: the Mantel--Haenszel pooled difference between
    treated and holdout conversion over the campaigns sent in the period
    (:func:`crmlab.offers.pooled_uplift`; each campaign is its own stratum). NaN when no
    campaign has both arms."""
    reads = campaign_reads(contacts, campaigns, start, end, channel)
    return float(offers.pooled_uplift(reads)["uplift"]) if len(reads) else float("nan")


@reads(contacts="campaign_id group converted revenue", campaigns="campaign_id send_ts")
def incremental_revenue_per_contact(contacts: pd.DataFrame, campaigns: pd.DataFrame, start: object,
                                    end: object, channel: str | None = None) -> float:
    """Channel effect (渠道效果): incremental revenue per treated contact, NT$ -- each campaign's
    treated-minus-holdout revenue per contact, weighted by its treated contacts (the total
    incremental revenue / treated contacts). NaN when no campaign has both arms."""
    reads = campaign_reads(contacts, campaigns, start, end, channel)
    if len(reads) == 0:
        return float("nan")
    return float(reads["incremental_value"].sum() / reads["n_treatment"].sum())


@reads(contacts="campaign_id group", campaigns="campaign_id send_ts channel")
def channel_effect(contacts: pd.DataFrame, campaigns: pd.DataFrame, start: object,
                   end: object) -> pd.DataFrame:
    """Per send channel: campaigns read, treated and holdout contacts, ``conversion_uplift``
    and ``incremental_revenue_per_contact`` -- the same functions, one channel at a time."""
    _, cp = _period_campaigns(contacts, campaigns, start, end)
    require_columns(cp, "campaigns", ["channel"])
    rows = []
    with _sharing():  # each channel's reads once for the three columns that use them
        for ch in sorted(cp["channel"].astype("str").unique()):
            reads = campaign_reads(contacts, campaigns, start, end, ch)
            rows.append({"channel": ch, "campaigns": len(reads),
                         "n_treatment": int(reads["n_treatment"].sum()) if len(reads) else 0,
                         "n_control": int(reads["n_control"].sum()) if len(reads) else 0,
                         "conversion_uplift": conversion_uplift(contacts, campaigns, start, end, ch),
                         "incremental_revenue_per_contact":
                             incremental_revenue_per_contact(contacts, campaigns, start, end, ch)})
    return pd.DataFrame(rows, columns=["channel", "campaigns", "n_treatment", "n_control",
                                       "conversion_uplift", "incremental_revenue_per_contact"])


@reads(contacts="campaign_id group converted revenue", campaigns="campaign_id send_ts window_days cost_per_contact", orders="order_id customer_id order_ts", order_items="order_id product_id", products="product_id")
def campaign_money(contacts: pd.DataFrame, campaigns: pd.DataFrame, orders: pd.DataFrame,
                   order_items: pd.DataFrame, products: pd.DataFrame, start: object,
                   end: object) -> pd.DataFrame:
    """Per campaign sent in the period: :func:`crmlab.offers.campaign_economics` (spend, the
    incremental margin, net profit, ROI) plus ``incremental_revenue`` (treated minus holdout
    revenue per contact x treated contacts). Campaigns without both arms are left out (see
    :func:`campaign_reads`, which lists them)."""
    key = ("money", id(contacts), id(campaigns), id(orders), id(order_items), id(products), start, end)
    return _shared(key, lambda: _campaign_money_now(contacts, campaigns, orders, order_items, products,
                                                    start, end))


_MONEY_COLUMNS = ["campaign_id", "spend", "incremental_margin", "net_profit", "roi",
                  "incremental_revenue"]


def _campaign_money_now(contacts: pd.DataFrame, campaigns: pd.DataFrame, orders: pd.DataFrame,
                        order_items: pd.DataFrame, products: pd.DataFrame, start: object,
                        end: object) -> pd.DataFrame:
    reads = campaign_reads(contacts, campaigns, start, end)
    if len(reads) == 0:
        return pd.DataFrame(columns=_MONEY_COLUMNS)
    if _SHOP_WIDE:
        key = ("money", id(contacts), id(campaigns), id(orders), id(order_items), id(products))
        every = _shared(key, lambda: _money_of(contacts, campaigns, _shop_reads(contacts)[0], orders,
                                               order_items, products))
    else:
        every = _money_of(contacts, campaigns, reads, orders, order_items, products)
    return every.loc[every["campaign_id"].isin(reads["campaign_id"]).to_numpy()].reset_index(drop=True)


def _money_of(contacts: pd.DataFrame, campaigns: pd.DataFrame, reads: pd.DataFrame,
              orders: pd.DataFrame, order_items: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """:func:`crmlab.offers.campaign_economics` of the campaigns in ``reads`` (each campaign's
    money depends on its own contacts and window only)."""
    cc = as_frame(contacts, "campaign_contacts")
    cc = cc.loc[cc["campaign_id"].isin(reads["campaign_id"]).to_numpy()]
    cp = as_frame(campaigns, "campaigns")
    require_columns(cp, "campaigns", ["window_days", "cost_per_contact"])
    cp = cp.loc[cp["campaign_id"].isin(reads["campaign_id"]).to_numpy()]
    outcomes = offers.contact_outcomes(cc, cp, orders, order_items, products)
    econ = offers.campaign_economics(outcomes, cp)
    inc = reads.set_index("campaign_id")["incremental_value"]
    econ["incremental_revenue"] = inc.reindex(econ["campaign_id"].to_numpy()).to_numpy()
    return econ


@reads(contacts="campaign_id group converted revenue", campaigns="campaign_id send_ts window_days cost_per_contact", orders="order_id customer_id order_ts", order_items="order_id product_id", products="product_id")
def campaign_roi(contacts: pd.DataFrame, campaigns: pd.DataFrame, orders: pd.DataFrame,
                 order_items: pd.DataFrame, products: pd.DataFrame, start: object, end: object) -> float:
    """Campaign ROI (行銷投資報酬率): (incremental margin - spend) / spend summed over the
    campaigns sent in the period (a ratio of sums, as :func:`crmlab.offers.roi_by`). NaN
    without a readable campaign or without spend."""
    econ = campaign_money(contacts, campaigns, orders, order_items, products, start, end)
    spend = float(econ["spend"].sum())
    return float(econ["net_profit"].sum()) / spend if spend > 0 else float("nan")


@reads(contacts="campaign_id group converted revenue", campaigns="campaign_id send_ts window_days cost_per_contact", orders="order_id customer_id order_ts", order_items="order_id product_id", products="product_id")
def cost_benefit_ratio(contacts: pd.DataFrame, campaigns: pd.DataFrame, orders: pd.DataFrame,
                       order_items: pd.DataFrame, products: pd.DataFrame, start: object,
                       end: object) -> float:
    """Cost-benefit ratio (成本效益比): incremental revenue / spend (sends + coupons) over the
    campaigns sent in the period -- NT$ of sales the campaigns caused per NT$ they cost.
    NaN without a readable campaign or without spend."""
    econ = campaign_money(contacts, campaigns, orders, order_items, products, start, end)
    spend = float(econ["spend"].sum())
    return float(econ["incremental_revenue"].sum()) / spend if spend > 0 else float("nan")


# --------------------------------------------------------------------------------------
# service
# --------------------------------------------------------------------------------------


def _sla_table(tickets: pd.DataFrame, start: object, end: object, targets: pd.DataFrame,
               clock: str) -> pd.DataFrame | None:
    t = as_frame(tickets, "tickets")
    require_columns(t, "tickets", ["ticket_id", "created_ts", "priority"])
    s, e = _period(start, end)
    sub = t.loc[_between(datetime_column(t, "tickets", "created_ts"), s, e)]
    if len(sub) == 0:
        return None
    metrics = support.ticket_metrics(sub, end=e)
    return support.sla_attainment(metrics, targets, clock=clock, by="priority")


def _sla(tickets: pd.DataFrame, start: object, end: object, which: str,
         targets: pd.DataFrame, clock: str) -> float:
    key = ("sla", id(tickets), start, end, id(targets), clock)
    att = _shared(key, lambda: _sla_table(tickets, start, end, targets, clock))
    if att is None:
        return float("nan")
    met, breached = att[f"{which}_met"].sum(), att[f"{which}_breached"].sum()
    return float(met / (met + breached)) if met + breached else float("nan")


@reads(tickets="ticket_id created_ts priority")
def sla_first_response(tickets: pd.DataFrame, start: object, end: object,
                       targets: pd.DataFrame = support.SLA_TARGETS, clock: str = "business") -> float:
    """First-response SLA attainment (首次回應達成率): tickets created in the period answered
    within their priority's target / those answered or already past it at ``end`` (pending
    tickets left out; :func:`crmlab.support.sla_attainment`). NaN without tickets."""
    return _sla(tickets, start, end, "frt", targets, clock)


@reads(tickets="ticket_id created_ts priority")
def sla_resolution(tickets: pd.DataFrame, start: object, end: object,
                   targets: pd.DataFrame = support.SLA_TARGETS, clock: str = "business") -> float:
    """Resolution SLA attainment (解決時效達成率): like :func:`sla_first_response` for the
    resolution target. NaN without tickets."""
    return _sla(tickets, start, end, "resolution", targets, clock)


@reads(calls="arrival_ts wait_seconds abandoned")
def call_service_level(calls: pd.DataFrame, start: object, end: object,
                       target_seconds: float = 20.0) -> float:
    """Call service level (電話服務水準): share of the calls offered in the period answered
    within ``target_seconds`` (abandoned calls count as missed; :func:`crmlab.support.queue_stats`).
    NaN without calls."""
    c = as_frame(calls, "calls")
    require_columns(c, "calls", ["arrival_ts", "wait_seconds", "abandoned"])
    s, e = _period(start, end)
    sub = c.loc[_between(datetime_column(c, "calls", "arrival_ts"), s, e)]
    if len(sub) == 0:
        return float("nan")
    return float(support.queue_stats(sub, target_seconds=target_seconds, wait_col="wait_seconds")
                 ["service_level"])


# --------------------------------------------------------------------------------------
# the registry
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Indicator:
    """One scorecard indicator: what it is called, how to read it and how to compute it.

    ``compute(shop, start, end)`` calls the module function on the shop's ``tables``;
    ``direction`` is ``"higher"`` or ``"lower"`` (is better); ``unit`` is one of ``share``,
    ``NT$``, ``points``, ``days``, ``count``, ``ratio``, ``stars``.
    """

    name: str
    perspective: str
    label: str
    label_zh: str
    direction: str
    unit: str
    tables: tuple[str, ...]
    compute: Callable[[Any, pd.Timestamp, pd.Timestamp], float]


def _ind(name: str, perspective: str, label: str, label_zh: str, direction: str, unit: str,
         tables: tuple[str, ...], func: Callable[..., float]) -> Indicator:
    def compute(shop: Any, start: pd.Timestamp, end: pd.Timestamp) -> float:
        return func(*(shop.tables[t] for t in tables), start, end)

    compute.__name__ = f"compute_{name}"
    compute.__doc__ = func.__doc__
    return Indicator(name, perspective, label, label_zh, direction, unit, tables, compute)


_CAMPAIGN_MONEY = ("campaign_contacts", "campaigns", "orders", "order_items", "products")
_LINES = ("orders", "order_items", "returns")

#: Every indicator of the scorecard, by name, in display order.
INDICATORS: dict[str, Indicator] = {i.name: i for i in (
    _ind("order_csat", "satisfaction", "Shopping-experience CSAT", "購物體驗滿意度", "higher", "share",
         ("surveys",), order_csat),
    _ind("service_csat", "satisfaction", "Service CSAT", "服務滿意度", "higher", "share",
         ("tickets",), service_csat),
    _ind("product_rating", "satisfaction", "Product rating", "商品評分", "higher", "stars",
         ("reviews",), product_rating),
    _ind("nps", "satisfaction", "Net Promoter Score", "淨推薦值", "higher", "points",
         ("surveys",), nps),
    _ind("return_rate", "satisfaction", "Return rate", "退貨率", "lower", "share", _LINES, return_rate),
    _ind("defect_rate", "satisfaction", "Defect rate", "瑕疵率", "lower", "share", _LINES, defect_rate),
    _ind("repeat_purchase_rate", "loyalty", "Repeat purchase rate", "回購率", "higher", "share",
         ("orders",), repeat_purchase_rate),
    _ind("retention_rate", "loyalty", "Retention rate", "顧客保留率", "higher", "share",
         ("orders",), retention_rate),
    _ind("churn_rate", "loyalty", "Churn rate", "流失率", "lower", "share", ("orders",), churn_rate),
    _ind("at_risk_share", "loyalty", "At-risk share (early warning)", "流失預警比例", "lower", "share",
         ("orders",), at_risk_share),
    _ind("referral_rate", "loyalty", "Referral rate", "推薦率", "higher", "share",
         ("customers",), referral_rate),
    _ind("revenue", "value", "Revenue", "營收", "higher", "NT$", ("orders",), revenue),
    _ind("active_customers", "value", "Active customers", "活躍顧客數", "higher", "count",
         ("orders",), active_customers),
    _ind("average_order_value", "value", "Average order value", "客單價", "higher", "NT$",
         ("orders",), average_order_value),
    _ind("purchase_frequency", "value", "Purchase frequency", "購買頻率", "higher", "ratio",
         ("orders",), purchase_frequency),
    _ind("recency_days", "value", "Recency (days)", "最近購買天數", "lower", "days",
         ("orders",), recency_days),
    _ind("open_rate", "marketing", "Open rate", "開信率", "higher", "share",
         ("campaign_contacts", "campaigns"), open_rate),
    _ind("click_rate", "marketing", "Click rate", "點擊率", "higher", "share",
         ("campaign_contacts", "campaigns"), click_rate),
    _ind("conversion_uplift", "marketing", "Conversion uplift vs holdout", "轉換提升", "higher", "share",
         ("campaign_contacts", "campaigns"), conversion_uplift),
    _ind("incremental_revenue_per_contact", "marketing", "Incremental revenue per contact",
         "每次接觸增量營收", "higher", "NT$", ("campaign_contacts", "campaigns"),
         incremental_revenue_per_contact),
    _ind("campaign_roi", "marketing", "Campaign ROI", "行銷投資報酬率", "higher", "ratio",
         _CAMPAIGN_MONEY, campaign_roi),
    _ind("cost_benefit_ratio", "marketing", "Cost-benefit ratio (incremental revenue / spend)", "成本效益比",
         "higher", "ratio", _CAMPAIGN_MONEY, cost_benefit_ratio),
    _ind("sla_first_response", "service", "First-response SLA attainment", "首次回應達成率",
         "higher", "share", ("tickets",), sla_first_response),
    _ind("sla_resolution", "service", "Resolution SLA attainment", "解決時效達成率", "higher", "share",
         ("tickets",), sla_resolution),
    _ind("call_service_level", "service", "Calls answered within 20 s", "電話服務水準", "higher",
         "share", ("calls",), call_service_level),
)}

#: Default targets: the goals of the shop's management (set as a business would, from its
#: plan and industry marks, not fitted to the data), with the amber ``tolerance`` in the
#: indicator's unit. ``freq`` is empty for targets that hold for any period length and
#: ``Q``/``M`` for the indicators that grow with it (revenue, active customers, orders per
#: customer, retention and churn). Rationale: order CSAT 70% and service CSAT 75% (retail
#: "good" marks are near 80%; the shop starts lower), a 3.6-star average and a positive NPS;
#: returns under 7% of lines (fashion-heavy shops run higher) and defects under 1%; 70% of
#: buyers coming back, half of last quarter's buyers (a third of last month's) retained,
#: churn under 20% of the active base per quarter (8% per month) and under 30% at risk; 5%
#: of new members referred; campaigns must beat their holdout (2
#: points of conversion, NT$50 per contact), pay back their spend (ROI >= 0) and bring NT$3
#: of sales per NT$1; 95% of tickets within SLA and 80% of calls answered in 20 s (the 80/20
#: call-centre rule). Override any row by passing a frame with the same columns.
DEFAULT_TARGETS = pd.DataFrame([
    ("order_csat", None, 0.70, 0.05),
    ("service_csat", None, 0.75, 0.05),
    ("product_rating", None, 3.6, 0.15),
    ("nps", None, 0.0, 10.0),
    ("return_rate", None, 0.07, 0.01),
    ("defect_rate", None, 0.01, 0.003),
    ("repeat_purchase_rate", None, 0.70, 0.05),
    ("retention_rate", "Q", 0.50, 0.05),
    ("retention_rate", "M", 0.33, 0.05),
    ("churn_rate", "Q", 0.20, 0.05),
    ("churn_rate", "M", 0.08, 0.02),
    ("at_risk_share", None, 0.30, 0.05),
    ("referral_rate", None, 0.05, 0.01),
    ("revenue", "Q", 2_000_000.0, 200_000.0),
    ("revenue", "M", 650_000.0, 65_000.0),
    ("active_customers", "Q", 700.0, 70.0),
    ("active_customers", "M", 280.0, 30.0),
    ("average_order_value", None, 1_700.0, 100.0),
    ("purchase_frequency", "Q", 1.7, 0.1),
    ("purchase_frequency", "M", 1.25, 0.05),
    ("recency_days", None, 60.0, 10.0),
    ("open_rate", None, 0.50, 0.05),
    ("click_rate", None, 0.10, 0.02),
    ("conversion_uplift", None, 0.02, 0.02),
    ("incremental_revenue_per_contact", None, 50.0, 50.0),
    ("campaign_roi", None, 0.0, 0.5),
    ("cost_benefit_ratio", None, 3.0, 1.0),
    ("sla_first_response", None, 0.95, 0.03),
    ("sla_resolution", None, 0.95, 0.03),
    ("call_service_level", None, 0.80, 0.05),
], columns=["indicator", "freq", "target", "tolerance"]).astype({"indicator": "str", "freq": "str"})


# --------------------------------------------------------------------------------------
# targets and traffic lights
# --------------------------------------------------------------------------------------


def traffic_light(value: float, target: float, tolerance: float, direction: str) -> str:
    """Status of one value against its target (see the module notes for the thresholds).

    ``green``: meets the target (``value >= target`` when higher is better, ``<=`` when lower
    is better); ``amber``: misses it by at most ``tolerance``; ``red``: misses by more;
    ``no data`` for a NaN value; ``no target`` for a NaN target.
    """
    if direction not in ("higher", "lower"):
        raise ValueError(f"direction={direction!r} must be 'higher' or 'lower' (is better).")
    if value is None or pd.isna(value):
        return "no data"
    if target is None or pd.isna(target):
        return "no target"
    tol = 0.0 if tolerance is None or pd.isna(tolerance) else float(tolerance)
    if tol < 0:
        raise ValueError(f"tolerance={tolerance!r} must be >= 0 (the width of the amber band).")
    eps = 1e-12 * max(1.0, abs(float(target)))
    shortfall = (target - value) if direction == "higher" else (value - target)
    if shortfall <= eps:
        return "green"
    return "amber" if shortfall <= tol + eps else "red"


def _freq_key(value: object) -> str:
    """Canonical target frequency: '' (any period), or 'Q', 'M', 'Y', 'W'."""
    if value is None or pd.isna(value) or str(value) in ("", "None", "nan", "<NA>"):
        return ""
    return _period_freq(str(value))


def _targets(targets: pd.DataFrame | None) -> pd.DataFrame:
    """DEFAULT_TARGETS with ``targets`` laid over them, indexed by (indicator, freq key).

    A row of ``targets`` replaces the default row with the same indicator and freq; a row
    without ``freq`` replaces every default row of its indicator.
    """
    base = DEFAULT_TARGETS.assign(freq=[_freq_key(f) for f in DEFAULT_TARGETS["freq"]])
    if targets is not None:
        t = as_frame(targets, "targets")
        require_columns(t, "targets", ["indicator", "target"],
                 fix="Use the layout of crmlab.kpi.DEFAULT_TARGETS (indicator, [freq,] target, "
                     "tolerance).")
        t = t.assign(indicator=t["indicator"].astype("str"),
                     freq=[_freq_key(f) for f in t["freq"]] if "freq" in t else "")
        unknown = sorted(set(t["indicator"]) - set(INDICATORS))
        if unknown:
            raise ValueError(f"targets: column 'indicator' has unknown indicators {unknown}; use names "
                             f"from crmlab.kpi.INDICATORS, e.g. {list(INDICATORS)[:3]}.")
        if t.duplicated(["indicator", "freq"]).any():
            raise ValueError("targets: (indicator, freq) has duplicates; one row per indicator "
                             "(and frequency).")
        for col in [c for c in ("target", "tolerance") if c in t.columns]:
            if not pd.api.types.is_numeric_dtype(t[col]):
                raise ValueError(f"targets: column '{col}' must be numeric (NaN for no target).")
        if "tolerance" in t.columns and (t["tolerance"].dropna() < 0).any():
            raise ValueError("targets: column 'tolerance' must be >= 0 (the width of the amber band).")
        if "tolerance" not in t.columns:
            t = t.assign(tolerance=float("nan"))
        replaced = set(t.loc[t["freq"] == "", "indicator"])
        keep = ~base["indicator"].isin(replaced) & ~base.set_index(["indicator", "freq"]).index.isin(
            t.set_index(["indicator", "freq"]).index)
        base = pd.concat([base.loc[keep.to_numpy()], t[["indicator", "freq", "target", "tolerance"]]],
                         ignore_index=True)
    return base.set_index(["indicator", "freq"])[["target", "tolerance"]]


def _target_for(tg: pd.DataFrame, name: str, freq: str | None) -> tuple[float, float]:
    """(target, tolerance) of an indicator for a period of ``freq`` (NaN, NaN if none)."""
    for key in ([_freq_key(freq)] if freq is not None else []) + [""]:
        if (name, key) in tg.index:
            row = tg.loc[(name, key)]
            return float(row["target"]), float(row["tolerance"])
    return float("nan"), float("nan")


# --------------------------------------------------------------------------------------
# periods
# --------------------------------------------------------------------------------------


def _period_freq(freq: str) -> str:
    if freq not in FREQUENCIES:
        raise ValueError(f"freq={freq!r} must be one of {sorted(FREQUENCIES)} (e.g. 'QE' for quarters, "
                         "'ME' for months).")
    return FREQUENCIES[freq]


def _span(shop: Any) -> tuple[pd.Timestamp, pd.Timestamp]:
    """[first day, day after the last day) of the shop's data."""
    try:
        return pd.Timestamp(shop.start).normalize(), pd.Timestamp(shop.end_ts)
    except (AttributeError, KeyError, TypeError):
        o = _orders(shop.tables["orders"])
        return o["order_ts"].min().normalize(), o["order_ts"].max().normalize() + pd.Timedelta(days=1)


def full_periods(shop: Any, freq: str = "QE") -> pd.DataFrame:
    """The complete periods of ``freq`` inside the shop's data span: ``period`` (label),
    ``start`` and ``end`` (exclusive), oldest first. A period cut by the data start or end is
    left out."""
    pf = _period_freq(freq)
    first, stop = _span(shop)
    periods = pd.period_range(first, stop - pd.Timedelta(days=1), freq=pf)
    rows = [(str(p), p.start_time, (p + 1).start_time) for p in periods
            if p.start_time >= first and (p + 1).start_time <= stop]
    return pd.DataFrame(rows, columns=["period", "start", "end"])


def period_bounds(period: object, freq: str = "QE", shop: Any = None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``(start, end)`` of a period given as a ``pd.Period``, a label such as ``"2025Q4"`` or
    ``"2025-12"`` (read with ``freq``), a ``(start, end)`` pair, or ``None`` / ``"last"`` for
    the shop's last complete period of ``freq``."""
    pf = _period_freq(freq)
    if period is None or (isinstance(period, str) and period == "last"):
        if shop is None:
            raise ValueError("period='last' needs the shop; pass shop= or a period such as '2025Q4'.")
        full = full_periods(shop, freq)
        if full.empty:
            raise ValueError(f"the shop's data hold no complete period of freq={freq!r}; pass "
                             "(start, end) explicitly or a shorter freq.")
        return full["start"].iloc[-1], full["end"].iloc[-1]
    if isinstance(period, tuple | list):
        if len(period) != 2:
            raise ValueError(f"period={period!r}: pass (start, end) with end exclusive.")
        return _period(*period)
    if isinstance(period, pd.Period):
        p = period
    else:
        try:
            p = pd.Period(str(period), freq=pf)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"period={period!r} is not a {freq} period; pass e.g. '2025Q4' for "
                             "quarters, '2025-12' for months, or (start, end).") from exc
    return p.start_time, (p + 1).start_time


def _is_one_period(start: pd.Timestamp, end: pd.Timestamp, freq: str) -> bool:
    p = pd.Period(start, freq=_period_freq(freq))
    return bool(p.start_time == start and (p + 1).start_time == end)


def previous_period(start: object, end: object, freq: str | None = "QE") -> tuple[pd.Timestamp, pd.Timestamp]:
    """The period before ``[start, end)``: the previous calendar period of ``freq`` when
    ``[start, end)`` is exactly one such period, otherwise the window of the same length
    ending at ``start``."""
    s, e = _period(start, end)
    if freq is not None and _is_one_period(s, e, freq):
        return (pd.Period(s, freq=_period_freq(freq)) - 1).start_time, s
    return s - (e - s), s


# --------------------------------------------------------------------------------------
# scorecard and history
# --------------------------------------------------------------------------------------


def _names(indicators: Iterable[str] | None) -> list[str]:
    if indicators is None:
        return list(INDICATORS)
    if isinstance(indicators, str):
        indicators = [indicators]
    names = list(indicators)
    unknown = [n for n in names if n not in INDICATORS]
    if unknown:
        raise ValueError(f"unknown indicator(s) {unknown}; choose from {list(INDICATORS)}.")
    return names


def _check_shop(shop: Any) -> None:
    if not isinstance(getattr(shop, "tables", None), Mapping):
        raise ValueError("shop: expected a crmlab Shop (with .tables); load one with "
                         "crmlab.data.get_shop('small').")


def compute_indicators(shop: Any, start: object, end: object,
                       indicators: Iterable[str] | None = None) -> dict[str, float]:
    """``{indicator: value}`` for ``[start, end)``. An indicator whose tables the shop lacks
    (e.g. a real-data shop with orders only) is NaN."""
    _check_shop(shop)
    s, e = _period(start, end)
    out: dict[str, float] = {}
    with _sharing():
        for name in _names(indicators):
            ind = INDICATORS[name]
            if not all(t in shop.tables for t in ind.tables):
                out[name] = float("nan")
                continue
            out[name] = float(ind.compute(shop, s, e))
    return out


def scorecard(shop: Any, period: object = None, freq: str = "QE", targets: pd.DataFrame | None = None,
              indicators: Iterable[str] | None = None) -> pd.DataFrame:
    """The CRM scorecard (CRM 計分卡): one row per indicator for ``period`` beside the previous one.

    ``period``: see :func:`period_bounds` (default: the shop's last complete ``freq`` period).
    ``targets``: rows replacing :data:`DEFAULT_TARGETS` (``indicator, target[, tolerance]``).

    Columns: ``perspective, indicator, label, label_zh, unit, direction, value, previous,
    change`` (value - previous; shares in proportion points), ``change_rel`` (change /
    |previous|), ``improved`` (the change went the good way; NA without both values, False
    when unchanged), ``target, tolerance, status`` (:func:`traffic_light`) and
    ``previous_status``. ``attrs`` holds ``start, end, previous_start, previous_end``.
    """
    _check_shop(shop)
    s, e = period_bounds(period, freq, shop)
    ps, pe = previous_period(s, e, freq)
    tfreq = freq if _is_one_period(s, e, freq) else None
    names = _names(indicators)
    with _sharing(shop_wide=True):
        now = compute_indicators(shop, s, e, names)
        before = compute_indicators(shop, ps, pe, names)
    tg = _targets(targets)
    rows = []
    for name in names:
        ind = INDICATORS[name]
        v, p = now[name], before[name]
        target, tol = _target_for(tg, name, tfreq)
        change = v - p
        good = change > 0 if ind.direction == "higher" else change < 0
        rows.append({
            "perspective": ind.perspective, "indicator": name, "label": ind.label,
            "label_zh": ind.label_zh, "unit": ind.unit, "direction": ind.direction,
            "value": v, "previous": p, "change": change,
            "change_rel": change / abs(p) if p not in (0.0,) and not math.isnan(p) else float("nan"),
            "improved": pd.NA if math.isnan(change) else bool(good),
            "target": target, "tolerance": tol,
            "status": traffic_light(v, target, tol, ind.direction),
            "previous_status": traffic_light(p, target, tol, ind.direction),
        })
    out = pd.DataFrame(rows)
    out["improved"] = out["improved"].astype("boolean")
    for col in ("status", "previous_status"):
        out[col] = pd.Categorical(out[col], categories=list(STATUS_ORDER))
    out.attrs.update({"start": s, "end": e, "previous_start": ps, "previous_end": pe, "freq": freq})
    return out


def kpi_history(shop: Any, freq: str = "ME", indicators: Iterable[str] | None = None,
                targets: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every indicator for every complete ``freq`` period of the shop -- the data behind the
    monthly dashboard. Long (tidy) format, one row per (period, indicator): ``period, start,
    end, perspective, indicator, label, unit, direction, value, target, status``."""
    _check_shop(shop)
    names = _names(indicators)
    tg = _targets(targets)
    rows = []
    with _sharing(shop_wide=True):  # tables behind several indicators, once for all periods
        periods = [(per, compute_indicators(shop, per.start, per.end, names))
                   for per in full_periods(shop, freq).itertuples(index=False)]
    for per, values in periods:
        for name in names:
            ind = INDICATORS[name]
            target, tol = _target_for(tg, name, freq)
            rows.append({"period": per.period, "start": per.start, "end": per.end,
                         "perspective": ind.perspective, "indicator": name, "label": ind.label,
                         "unit": ind.unit, "direction": ind.direction, "value": values[name],
                         "target": target,
                         "status": traffic_light(values[name], target, tol, ind.direction)})
    out = pd.DataFrame(rows, columns=["period", "start", "end", "perspective", "indicator", "label",
                                      "unit", "direction", "value", "target", "status"])
    out["status"] = pd.Categorical(out["status"], categories=list(STATUS_ORDER))
    return out


# --------------------------------------------------------------------------------------
# course summary
# --------------------------------------------------------------------------------------


def _flatten(value: Any, prefix: str, out: list[tuple[str, Any]], depth: int = 0) -> None:
    """Scalars stay; small dicts are flattened one level (``name.key``); the rest is JSON."""
    if isinstance(value, Mapping) and depth == 0 and 0 < len(value) <= 8 and all(
            not isinstance(v, Mapping | list) for v in value.values()):
        for k, v in value.items():
            out.append((f"{prefix}.{k}", v))
        return
    if isinstance(value, Mapping | list):
        text = json.dumps(value, ensure_ascii=False)
        out.append((prefix, text if len(text) <= 80 else text[:77] + "..."))
        return
    out.append((prefix, value))


def course_summary(notebooks_dir: str | os.PathLike = "notebooks",
                   manifest: str | os.PathLike | None = "build/manifest.json",
                   exclude: Iterable[str] = ()) -> pd.DataFrame:
    """Every notebook's recorded results (:func:`crmlab.nb.record`) in one table.

    Read from the build manifest (``crmlab build`` writes ``build/manifest.json`` with each
    notebook's results) when it exists, otherwise from the committed notebooks in
    ``notebooks_dir`` with :func:`crmlab.nb.read_results`. Columns: ``notebook``,
    ``result`` (the recorded name; a small dict of scalars is spread over ``name.key``
    rows), ``value`` (scalars as they are, longer structures as shortened JSON text) and
    ``source`` (``manifest`` or ``notebook``). ``exclude`` names notebooks (stems) to skip.
    """
    from crmlab.nb import read_results

    skip = set(exclude)
    results: dict[str, dict[str, Any]] = {}
    source = "notebook"
    path = Path(manifest) if manifest is not None else None
    if path is not None and path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc.msg}); rebuild it with `crmlab build` "
                             "or pass manifest=None to read the notebooks.") from exc
        nbs = data.get("notebooks") if isinstance(data, Mapping) else None
        if not isinstance(nbs, Mapping):
            raise ValueError(f"{path}: no 'notebooks' section; rebuild it with `crmlab build`.")
        results = {k: dict(v.get("results", {})) for k, v in nbs.items()}
        source = "manifest"
    else:
        folder = Path(notebooks_dir)
        if not folder.is_dir():
            raise ValueError(f"course_summary: no folder {folder}; pass notebooks_dir= the course's "
                             "notebooks/ folder.")
        for nb in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
            results[nb.stem] = read_results(nb)
    rows: list[dict[str, Any]] = []
    for stem in sorted(results):
        if stem in skip:
            continue
        flat: list[tuple[str, Any]] = []
        for name, value in results[stem].items():
            _flatten(value, name, flat)
        for name, value in flat:
            rows.append({"notebook": stem, "result": name, "value": value, "source": source})
    out = pd.DataFrame(rows, columns=["notebook", "result", "value", "source"])
    out.attrs["notebooks"] = [s for s in sorted(results) if s not in skip]
    return out
