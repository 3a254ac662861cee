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
Customer value (客戶價值)
    ``revenue`` (paid amount of the period's orders), ``active_customers`` (customers who
    ordered in the period), ``average_order_value`` (revenue / orders, 平均訂單價值; not
    客單價, which is per buying customer),
    ``purchase_frequency`` (orders / active customers, 購買頻率) -- so revenue = active
    customers x frequency x AOV exactly -- and ``recency_days`` (mean days from the last
    order to ``end`` over the *active base*, below).
Loyalty (客戶忠誠度)
    The **active base** at time t = customers with at least one order in
    ``[t - lapse_days, t)``; ``lapse_days`` = :data:`LAPSE_DAYS` (180) by default: a customer
    who has not ordered for half a year is *lapsed* (流失).

    * ``repeat_purchase_rate`` (回購率): of the customers who ordered in the period, the
      share for whom it was a repeat purchase -- at least one order before one of their
      orders in the period (earlier in the period or before it).
    * ``retention_rate`` (留存率): of the customers who ordered in the previous window of
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
dashboard. (Every notebook's recorded results in one table, :func:`course_summary`, reads the
course rather than the shop: it lives in :mod:`crmlab.course.course_summary`; the old name
``crmlab.kpi.course_summary`` still works.)

Files
-----
One per perspective -- :mod:`~crmlab.kpi.value`, :mod:`~crmlab.kpi.stickiness`,
:mod:`~crmlab.kpi.loyalty`, :mod:`~crmlab.kpi.satisfaction`, :mod:`~crmlab.kpi.marketing`,
:mod:`~crmlab.kpi.service` -- then :mod:`~crmlab.kpi.indicators` (the registry),
:mod:`~crmlab.kpi.targets`, :mod:`~crmlab.kpi.periods` and :mod:`~crmlab.kpi.scorecard`.
Every name is importable from :mod:`crmlab.kpi` itself.
"""

from __future__ import annotations

from typing import Any

from crmlab.kpi import _sharing
from crmlab.kpi._common import _orders  # noqa: F401  (crmlab.scale's reference reads it)
from crmlab.kpi.indicators import INDICATORS, PERSPECTIVES, Indicator
from crmlab.kpi.loyalty import (
    LAPSE_DAYS,
    WARN_DAYS,
    active_base,
    at_risk_share,
    churn_rate,
    referral_rate,
    repeat_purchase_rate,
    retention_rate,
)
from crmlab.kpi.marketing import (
    campaign_money,
    campaign_reads,
    campaign_roi,
    channel_effect,
    click_rate,
    conversion_uplift,
    cost_benefit_ratio,
    incremental_revenue_per_contact,
    open_rate,
)
from crmlab.kpi.periods import FREQUENCIES, _span, full_periods, period_bounds, previous_period  # noqa: F401
from crmlab.kpi.satisfaction import (
    defect_rate,
    nps,
    order_csat,
    product_rating,
    return_rate,
    service_csat,
)
from crmlab.kpi.scorecard import compute_indicators, kpi_history, scorecard
from crmlab.kpi.service import call_service_level, sla_first_response, sla_resolution
from crmlab.kpi.stickiness import stickiness_ratio, time_on_site, visits_per_visitor
from crmlab.kpi.targets import DEFAULT_TARGETS, STATUS_ORDER, _target_for, _targets, traffic_light  # noqa: F401
from crmlab.kpi.value import (
    active_customers,
    average_order_value,
    per_buyer_value,
    purchase_frequency,
    recency_days,
    revenue,
)

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


#: Names that moved to the course layer: name -> module. ``course_summary`` reads the course
#: (notebooks, the build manifest), not the shop; :func:`__getattr__` loads it when first used,
#: so importing crmlab.kpi never imports the course layer.
__moved_names__ = {"course_summary": "crmlab.course.course_summary"}


def __getattr__(name: str) -> Any:
    """``kpi._SHARED`` / ``kpi._SHOP_WIDE``: the report cache's current state (it lives in
    :mod:`crmlab.kpi._sharing` and changes during a report, so it is read there each time)."""
    if name in ("_SHARED", "_SHOP_WIDE"):
        return getattr(_sharing, name)
    if name == "course_summary":  # moved to the course layer; the old name still works
        import importlib

        return importlib.import_module(__moved_names__[name]).course_summary
    raise AttributeError(f"module 'crmlab.kpi' has no attribute {name!r}")
