"""Customized offers, campaigns and experiments (個性化優惠, 行銷活動成效, 提升模型).

Course unit 3 (personalization) asks which customers should get which offer and how to tell
whether a campaign worked; unit 7 (evaluation) asks for campaign participation, the
cost-benefit ratio and the effect of each channel. This package holds the computation behind
notebook ``08_offers_and_experiments``:

* **A campaign read as an experiment** -- every shop campaign keeps a randomized holdout, so
  the difference between the treatment and holdout groups is the campaign's causal effect.
  :func:`proportion_diff_ci` (Newcombe's hybrid score interval, or Wald) and
  :func:`mean_diff_ci` (Welch) put confidence intervals on the difference in conversion and
  in revenue per contact; :func:`ab_test` does it per campaign (or segment) from the
  ``campaign_contacts`` table; :func:`adjust_pvalues` (Holm, Benjamini--Hochberg) and
  :func:`pooled_uplift` (Mantel--Haenszel risk difference across campaigns) handle many
  campaigns at once.
* **Power and sample size** for two proportions in closed form (:func:`sample_size_two_proportions`,
  :func:`power_two_proportions`, :func:`minimum_detectable_uplift`).
* **What happened to each contact** (:func:`contact_outcomes`: orders, revenue, gross profit and
  coupon value in the campaign window) and **what we knew before sending**
  (:func:`customer_features`, :func:`contact_features`: RFM, channel habits, loyalty use,
  demographics and past campaign response, from rows strictly before the send time).
* **Uplift models** (提升模型) in scikit-learn's shape: the two-model approach
  (:class:`TwoModelUplift`, also called the T-learner; its treated-group model is the classic
  *response model*) and the class transformation of Jaskowski & Jaroszewicz (2012)
  (:class:`ClassTransformationUplift`), with honest out-of-fold scores (:func:`cross_fit_uplift`).
* **Evaluation**: Qini and uplift curves with their areas and the normalized Qini coefficient
  (:func:`uplift_curves`, :func:`qini_coefficient`), and targeting policies compared on the
  randomized data (:func:`policy_comparison`: everyone, nobody, top-k by a response model,
  top-k by an uplift model).
* **Money**: break-even uplift (:func:`break_even_uplift`), return on marketing spend per
  campaign and per channel (:func:`campaign_roi`, :func:`campaign_economics`, :func:`roi_by`)
  and an offer-assignment helper that gives each customer at most one offer under a budget
  (:func:`assign_offers`, greedy or an exact integer program with ``scipy.optimize.milp``).

Conventions: a *contact* is one (campaign, customer) row of ``campaign_contacts``; the
treatment column may be boolean, 0/1, or the shop's ``"treatment"``/``"holdout"`` labels
(``"control"`` is accepted for ``"holdout"``). Money is in NT$. Every random step takes
``seed``. Bad input raises ``ValueError`` naming the table, the column and the fix.

Where things live (each a module of this package, all names importable from
``crmlab.offers``): :mod:`~crmlab.offers.groups` (the treatment column),
:mod:`~crmlab.offers.experiments` (A/B reads), :mod:`~crmlab.offers.power`,
:mod:`~crmlab.offers.outcomes`, :mod:`~crmlab.offers.features`, :mod:`~crmlab.offers.uplift`,
:mod:`~crmlab.offers.evaluation` (Qini curves, targeting policies),
:mod:`~crmlab.offers.economics` (break-even, ROI), :mod:`~crmlab.offers.assignment` and
:mod:`~crmlab.offers.customization`. The intervals :func:`proportion_diff_ci`,
:func:`mean_diff_ci` and :func:`two_proportion_pvalue` live in :mod:`crmlab.stats` and are
re-exported here.
"""

from __future__ import annotations

# Every name of the single module this package replaced is importable from here; the few
# outside __all__ (constants, helpers the tests read) use the re-export form ``x as x``.
from crmlab.offers.assignment import (
    assign_offers,
)
from crmlab.offers.customization import (
    customization_uptake,
)
from crmlab.offers.economics import (
    break_even_uplift,
    campaign_economics,
    campaign_roi,
    roi_by,
)
from crmlab.offers.evaluation import (
    policy_comparison,
    qini_coefficient,
    targeting_profit,
    uplift_curves,
)
from crmlab.offers.experiments import (
    ab_test,
    adjust_pvalues,
    pooled_uplift,
)
from crmlab.offers.features import DEMOGRAPHICS as DEMOGRAPHICS
from crmlab.offers.features import (
    contact_features,
    customer_features,
)
from crmlab.offers.groups import CONTROL_LABELS as CONTROL_LABELS
from crmlab.offers.groups import TREATED_LABELS as TREATED_LABELS
from crmlab.offers.groups import (
    treatment_flags,
)
from crmlab.offers.outcomes import (
    contact_outcomes,
)
from crmlab.offers.power import _normal_cdf as _normal_cdf
from crmlab.offers.power import (
    minimum_detectable_uplift,
    power_two_proportions,
    sample_size_two_proportions,
)
from crmlab.offers.uplift import (
    ClassTransformationUplift,
    TwoModelUplift,
    cross_fit_uplift,
    default_uplift_estimator,
)
from crmlab.stats import mean_diff_ci, proportion_diff_ci, two_proportion_pvalue

__all__ = [
    "ClassTransformationUplift",
    "TwoModelUplift",
    "ab_test",
    "adjust_pvalues",
    "assign_offers",
    "break_even_uplift",
    "campaign_economics",
    "campaign_roi",
    "contact_features",
    "contact_outcomes",
    "cross_fit_uplift",
    "customer_features",
    "default_uplift_estimator",
    "mean_diff_ci",
    "minimum_detectable_uplift",
    "policy_comparison",
    "pooled_uplift",
    "power_two_proportions",
    "proportion_diff_ci",
    "qini_coefficient",
    "roi_by",
    "sample_size_two_proportions",
    "treatment_flags",
    "two_proportion_pvalue",
    "uplift_curves",
    "targeting_profit",
    "customization_uptake",
]
