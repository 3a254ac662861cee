"""After-sales service (售後服務): returns and exchanges, complaints and satisfaction surveys.

Course unit 5. A clear return/exchange policy and a simple process raise satisfaction; an
efficient complaint mechanism responds fast and stops problems from escalating; regular
surveys collect the feedback that keeps service improving. This module holds the
computations behind ``notebooks/10_after_sales.ipynb``:

* **Returns and exchanges (退換貨)** -- :func:`return_lines` joins order lines with their
  returns (one row per order line, validated: no return before its order, no return of a line
  that does not exist). :func:`return_rates` gives return and exchange rates by category,
  product, delivery delay (``late_bucket``) or any column, each with a Wilson score interval
  (:func:`crmlab.stats.wilson_interval`); :func:`return_reasons` the reason mix;
  :func:`return_chi_square` tests whether return rates differ across categories
  (``scipy.stats.chi2_contingency``). :func:`return_costs` is the cost view (refunds,
  reverse shipping, restocking, replacements) and the margin left after returns per product;
  :func:`processing_times` the time to process a return, with still-open returns censored
  (Kaplan-Meier, :func:`crmlab.survival.kaplan_meier`).
* **Complaints (投訴處理)** -- :data:`COMPLAINT_RULE` defines which tickets are complaints,
  :func:`complaint_metrics` gives their lifecycle (via :func:`crmlab.support.ticket_metrics`),
  :data:`ESCALATION_RULES` is the escalation policy as a table and :func:`escalate` applies it;
  :func:`resolution_curve` / :func:`resolution_summary` estimate the time to resolve with the
  complaints still open counted as censored; :func:`repeat_complainers` finds customers who
  complain again.
* **Surveys (滿意度調查)** -- :func:`csat_score` (share of 4-5 on a 1-5 scale),
  :func:`nps_score` (% promoters 9-10 minus % detractors 0-6, with the standard error of a
  difference of multinomial proportions), :func:`ces_score` (mean on 1-7 and share "easy",
  >= 5); :func:`survey_metrics` by touchpoint and over time (``freq="QE"`` / ``"ME"``) with
  response rates; :func:`response_rates` and :func:`weighted_csat` for the non-response
  caveat.
* **Drivers (滿意度驅動因素)** -- :func:`order_experiences` derives per order what happened
  (delivery delay, return, defect, support contact, a ticket left unresolved);
  :class:`OrderedRegression` is an ordered logit/probit fitted by maximum likelihood;
  :class:`SatisfactionDrivers` ranks the standardized drivers of order CSAT and answers
  what-if questions; :func:`planted_driver_effects` puts the simulator's hidden coefficients
  on the same standardized scale.

Definitions used throughout (documented once here):

* A **return line** is an order line with a row in ``returns``. *Return rate* = returned
  lines / order lines; *exchange rate* = exchanged lines / order lines; *exchange share* =
  exchanges / returns. ``late_days`` = ``delivery_days - promised_days`` of the order.
* **Return cost** of a line, as the economics count it (``return_costs(...,
  include_refunds=False)``): reverse shipping + restocking + the unit cost of a returned unit
  that cannot be sold again (reasons outside :data:`RESELLABLE_REASONS`, or the unrecovered
  1 - ``resale_share`` of one that can), against the margin of the sales that stuck. A refund
  is not a cost: it reverses a sale. The older count (the default, ``include_refunds=True``)
  adds refund + the replacement unit of an exchange - ``resale_share`` x unit cost of a
  resellable unit, against the margin of all sales; with ``resale_share=0`` it is the
  course's "revenue - cost - return costs" with every returned unit treated as lost.
* A **complaint** (投訴) is a support ticket in one of ``COMPLAINT_RULE.categories`` (defect,
  delivery, return, billing) raised with priority high or urgent, or any ticket that was
  reopened after being marked resolved (the customer came back unhappy).
* **CSAT** = share of answers 4 or 5 on 1-5. **NPS** = 100 x (share 9-10 - share 0-6) on 0-10,
  in points from -100 to 100. **CES** = mean on 1-7 (7 = very easy) and share >= 5.
  Scores outside the scale raise ``ValueError``; missing scores are counted
  (``missing_score``) and reported, never dropped silently.

The package, one concept per module (``from crmlab.aftersales import ...`` reaches them all):
:mod:`~crmlab.aftersales.returns`, :mod:`~crmlab.aftersales.complaints`,
:mod:`~crmlab.aftersales.surveys`, :mod:`~crmlab.aftersales.experiences` (order experiences,
non-response), :mod:`~crmlab.aftersales.drivers` (ordered regression, driver analysis) and
:mod:`~crmlab.aftersales.policy` (return-policy what-ifs).
"""

from __future__ import annotations

from crmlab.aftersales.complaints import (
    COMPLAINT_RULE,
    ESCALATION_RULES,
    ComplaintRule,
    complaint_metrics,
    escalate,
    flag_complaints,
    repeat_complainers,
    resolution_curve,
    resolution_summary,
)
from crmlab.aftersales.drivers import (
    DRIVERS,
    MAX_STD_COEF,
    MAX_STD_SE,
    OrderedRegression,
    SatisfactionDrivers,
    planted_driver_effects,
)
from crmlab.aftersales.experiences import (
    order_experiences,
    response_rates,
    weighted_csat,
)
from crmlab.aftersales.policy import (
    EXCHANGEABLE_REASONS,
    WRITE_OFF_REASONS,
    ReturnPolicy,
    return_policy_whatif,
)
from crmlab.aftersales.returns import (
    LATE_BUCKETS,
    RESELLABLE_REASONS,
    late_bucket,
    processing_times,
    return_chi_square,
    return_costs,
    return_lines,
    return_rates,
    return_reasons,
)
from crmlab.aftersales.surveys import (
    CES_EASY,
    SCALES,
    ces_score,
    csat_score,
    nps_score,
    survey_metrics,
)

__all__ = [
    "EXCHANGEABLE_REASONS",
    "ReturnPolicy",
    "WRITE_OFF_REASONS",
    "return_policy_whatif",
    "CES_EASY",
    "COMPLAINT_RULE",
    "ComplaintRule",
    "DRIVERS",
    "ESCALATION_RULES",
    "MAX_STD_COEF",
    "MAX_STD_SE",
    "LATE_BUCKETS",
    "OrderedRegression",
    "RESELLABLE_REASONS",
    "SCALES",
    "SatisfactionDrivers",
    "ces_score",
    "complaint_metrics",
    "csat_score",
    "escalate",
    "flag_complaints",
    "late_bucket",
    "nps_score",
    "order_experiences",
    "planted_driver_effects",
    "processing_times",
    "repeat_complainers",
    "resolution_curve",
    "resolution_summary",
    "response_rates",
    "return_chi_square",
    "return_costs",
    "return_lines",
    "return_rates",
    "return_reasons",
    "survey_metrics",
    "weighted_csat",
]
