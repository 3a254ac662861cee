"""Purchase journey analysis (購買旅程分析) — unit 2b.

From the click-stream to marketing decisions, in the order the course teaches them:

* **Sessions** (工作階段): :func:`sessionize` cuts each customer's event stream wherever the
  customer was inactive for longer than ``gap`` (30 minutes by default, Google Analytics'
  convention). :func:`session_steps` turns events into one row per session with the funnel
  steps it reached.
* **Funnel** (轉換漏斗): :func:`funnel` counts sessions reaching visit -> product view ->
  cart -> checkout -> purchase, overall or by traffic source / device, with the step rate,
  its Wilson score interval (:func:`crmlab.stats.wilson_interval`) and the drop-off at every step.
* **Journeys and paths** (顧客旅程, 路徑): :func:`journeys` strings each customer's sessions
  into journeys that end at a purchase (or not), :func:`top_paths` lists the most common
  channel sequences, :func:`path_flows` feeds a Sankey-style picture and
  :func:`time_to_convert` measures how long buying takes.
* **Attribution** (歸因): :func:`touch_attribution` (first touch, last touch, linear) and the
  Markov-chain model with the removal effect (:class:`MarkovAttribution`, Anderl, Becker,
  von Wangenheim & Schumann 2016); :func:`attribution_table` puts them side by side.
* **Cohorts** (同期群留存): :func:`cohort_table` and :func:`retention_matrix` by signup month.
* **Hot products** (熱銷商品): :func:`hot_products` scores products from weekly sales, the
  share bought by first-time buyers, favourites and views (standardised, weighted).
* **Order value** (平均訂單價值, AOV): :func:`order_value_decomposition` (revenue = visitors x conversion
  x orders per buyer x items per order x unit price), :func:`traffic_decomposition` (traffic x
  stay x attention x conversion x items x price, as in the course deck) and
  :func:`decompose_change` (which factor moved revenue between two periods).

Conventions: timestamps are naive local time; a *journey* is the run of a customer's sessions
up to and including a converting session (the next journey starts after it); the trailing
sessions after a customer's last purchase form a journey with outcome ``"null"`` (did not
buy) or ``"open"`` (its last touch is so recent that the customer may still buy).
Files: :mod:`~crmlab.journey.sessions`, :mod:`~crmlab.journey.funnel`,
:mod:`~crmlab.journey.paths`, :mod:`~crmlab.journey.attribution`,
:mod:`~crmlab.journey.cohorts`, :mod:`~crmlab.journey.hot_products`,
:mod:`~crmlab.journey.order_value`, :mod:`~crmlab.journey.per_buyer_value` and
:mod:`~crmlab.journey.selling_points`; every name is importable from :mod:`crmlab.journey`.
``wilson_interval`` lives in :mod:`crmlab.stats` and is re-exported here for old code.
"""

from __future__ import annotations

from crmlab.journey._common import CONVERSION, NULL, OPEN, OUTCOMES, SEP, START  # noqa: F401  (as before)
from crmlab.journey.attribution import (
    MarkovAttribution,
    attribution_table,
    markov_attribution,
    touch_attribution,
)
from crmlab.journey.cohorts import cohort_table, retention_matrix
from crmlab.journey.funnel import FUNNEL_STEPS, funnel, funnel_from_counts  # noqa: F401  (as before)
from crmlab.journey.hot_products import HOT_WEIGHTS, hot_products
from crmlab.journey.order_value import (  # noqa: F401  (the factor tuples are public, outside __all__ as before)
    ORDER_VALUE_FACTORS,
    TRAFFIC_FACTORS,
    decompose_change,
    order_value_decomposition,
    traffic_decomposition,
)
from crmlab.journey.paths import journeys, path_flows, time_to_convert, top_paths
from crmlab.journey.per_buyer_value import (  # noqa: F401  (constants public, outside __all__ as before)
    ATTENTION_EVENTS,
    PER_BUYER_FACTORS,
    PERIODS,
    per_buyer_value_decomposition,
)
from crmlab.journey.selling_points import (
    FAB,
    keyword_pattern,
    selling_point_conversion,
    selling_points,
)
from crmlab.journey.sessions import session_steps, sessionize
from crmlab.stats import wilson_interval

__all__ = [
    "FUNNEL_STEPS",
    "HOT_WEIGHTS",
    "MarkovAttribution",
    "attribution_table",
    "cohort_table",
    "decompose_change",
    "funnel",
    "hot_products",
    "journeys",
    "markov_attribution",
    "order_value_decomposition",
    "path_flows",
    "per_buyer_value_decomposition",
    "FAB",
    "keyword_pattern",
    "selling_point_conversion",
    "selling_points",
    "retention_matrix",
    "session_steps",
    "sessionize",
    "time_to_convert",
    "top_paths",
    "touch_attribution",
    "traffic_decomposition",
    "wilson_interval",
]
