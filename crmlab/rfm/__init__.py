"""RFM analysis, high-value customers and customer value (RFM分析, 高價值客戶, 顧客價值) — unit 2a.

Recency, Frequency and Monetary value (Hughes 1994) summarise a customer's buying history
in three numbers; scored into quintiles and mapped to named segments they tell a marketer
who to thank, who to win back and who to leave alone.

* :func:`rfm_table` turns an order log into one row per customer (recency in days,
  number of orders, money paid, tenure). It is vectorised end to end (``np.bincount`` and
  ``ufunc.at`` over integer codes; no per-customer Python) so ten million order rows take
  about a second.
* :func:`rfm_scores` gives 1..``bins`` quantile scores that cope with ties and with fewer
  customers than bins; recency is reversed (recent = high score).
* :func:`rfm_segments` maps (R, F) scores to the widely used eleven named segments
  (Champions ... Lost). The map is *data* (:data:`RFM_SEGMENTS`), applied in a documented
  rule order with a fallback label, so every customer gets exactly one segment.
* :func:`lorenz_curve`, :func:`gini`, :func:`pareto_share` and :func:`pareto_point`
  measure how concentrated revenue is (the "80/20 rule").
* :func:`customer_value` is the customer comprehensive value model (顧客綜合價值):
  current contribution, future contribution, loyalty and growth potential, each turned
  into a percentile score and combined with documented weights.

Choices that matter (and are documented where they are made):

* **Returns.** The default monetary value is the *gross paid amount* (``orders.amount``,
  what the customer paid, including orders later returned): it is what RFM tutorials and
  the DuckDB/SQL one-liners compute. Pass ``returns=shop.returns`` to get money net of
  refunds (refunds are matched to orders by ``order_id``; returns of orders that are not
  in the table are counted in ``attrs["refunds_unmatched"]``, never silently used).
  The shop has no cancelled orders; real exports that have them (e.g. Online Retail's
  "C" invoices) should be cleaned first — negative amounts are rejected here.
* **Dates.** Recency and tenure are whole calendar days between the date of an order and
  the snapshot date. The default snapshot is the day after the last order's date, so the
  most recent buyers have recency 1; an order on the snapshot day itself has recency 0.

Where things are: :mod:`crmlab.rfm.table` (``rfm_table`` and the day helpers),
:mod:`crmlab.rfm.scores` (scores and named segments), :mod:`crmlab.rfm.concentration`
(Lorenz, Gini, Pareto), :mod:`crmlab.rfm.value` (the comprehensive value model) and
:mod:`crmlab.rfm.what_if` (cut points).
"""

from __future__ import annotations

from crmlab.rfm.concentration import gini, lorenz_curve, pareto_point, pareto_share
from crmlab.rfm.scores import RFM_SEGMENTS, rfm_scores, rfm_segments, segment_summary

# the calendar-day helpers are public (segments and scale use them) but, as before, not in __all__
from crmlab.rfm.table import check_snapshot, day_numbers, rfm_table, snapshot_day  # noqa: F401
from crmlab.rfm.value import (
    PRIOR_DAYS,  # noqa: F401  (public, not in __all__, as before)
    RELATIONSHIP_PARTS,
    SIX_PART_WEIGHTS,
    VALUE_TIERS,  # noqa: F401
    VALUE_WEIGHTS,
    customer_value,
    relationship_value_parts,
    weight_sensitivity,
)
from crmlab.rfm.what_if import CUT_POINT_SEGMENTS, cut_point_segments

__all__ = [
    "RELATIONSHIP_PARTS",
    "SIX_PART_WEIGHTS",
    "relationship_value_parts",
    "weight_sensitivity",
    "RFM_SEGMENTS",
    "VALUE_WEIGHTS",
    "rfm_table",
    "rfm_scores",
    "rfm_segments",
    "segment_summary",
    "lorenz_curve",
    "gini",
    "pareto_share",
    "pareto_point",
    "customer_value",
]

__all__ += ["CUT_POINT_SEGMENTS", "cut_point_segments"]
