"""Customer lifetime value and churn early warning (顧客終身價值, 流失預警) — unit 2c.

The "buy till you die" (BTYD) family for non-contractual shops, where nobody tells
you when a customer leaves:

* ``summarize`` turns an order log into the sufficient statistics every BTYD model
  needs, per customer: ``frequency`` (repeat purchase periods), ``recency`` (age at
  the last purchase) and ``T`` (age at the end of observation), plus the mean repeat
  spend, optionally split into a calibration and a holdout part.
* ``BetaGeoModel`` (BG/NBD, Fader, Hardie & Lee 2005), ``ModifiedBetaGeoModel``
  (MBG/NBD, Batislam, Denizel & Filiztekin 2007) and ``ParetoNBDModel`` (Schmittlein,
  Morrison & Colombo 1987) model how often a customer buys while alive and when they
  silently drop out; ``NBDModel`` (no dropout) is the benchmark they must beat. Each
  gives P(alive), conditional forecasts and ``probability_of_purchases`` (P(X(t) = x)).
  ``GammaGammaModel`` (Fader & Hardie 2013) models how much they spend per purchase.
  ``clv`` combines the two into a discounted value.
* the model checks of the literature (FHL 2005 Figs. 2-4): ``calibration_histogram``,
  ``conditional_expectations`` and ``repeat_transactions_tracking`` (drawn by
  :mod:`crmlab.plots`).
* the churn early-warning helpers compare the model's P(alive) with a supervised
  classifier trained on an earlier cut-off and scored on a later one.

All fitting is maximum likelihood on the closed-form likelihood in log space with
special functions from :mod:`scipy.special`. Customers with the same
(frequency, recency, T) share one likelihood term with a weight, so the cost of a
fit grows with the number of distinct triples, not with the number of customers.
BG/NBD uses its analytic gradient and Hessian in trust-region Newton steps (a million
customers fit in seconds, see ``benchmarks/bench_bgnbd.py``); Gamma-Gamma uses its
analytic gradient; Pareto/NBD, whose likelihood needs the hypergeometric function,
uses numerical derivatives.

Time units: recency, T and every horizon are in the periods of ``summarize(freq=...)``
("W" weeks by default). Parameters such as ``alpha`` are per that unit.

Where things are: :mod:`crmlab.clv.summary` (``summarize``, ``operational_time``),
:mod:`crmlab.clv.models` (``bgnbd``, ``pareto_nbd``, ``nbd``; ``fitting`` holds the
optimizers), :mod:`crmlab.clv.gamma_gamma`, :mod:`crmlab.clv.value` (``clv``),
:mod:`crmlab.clv.model_checks`, :mod:`crmlab.clv.churn` and :mod:`crmlab.clv.what_if`.
"""

from __future__ import annotations

from crmlab.clv.churn import (
    ChurnWarning,
    auc,
    churn_early_warning,
    churn_features,
    churn_labels,
    time_to_next_purchase,
    top_decile_lift,
)
from crmlab.clv.gamma_gamma import GammaGammaModel
from crmlab.clv.model_checks import (
    calibration_histogram,
    conditional_expectations,
    repeat_transactions_tracking,
)
from crmlab.clv.models.base import _nbd_logpmf  # noqa: F401  (tests reach it as crmlab.clv._nbd_logpmf)
from crmlab.clv.models.bgnbd import (  # noqa: F401  (the private one: tests reach it here)
    BetaGeoModel,
    ModifiedBetaGeoModel,
    _expected_if_alive_by_quadrature,
    sample_bgnbd,
)
from crmlab.clv.models.nbd import NBDModel
from crmlab.clv.models.pareto_nbd import ParetoNBDModel
from crmlab.clv.summary import SUMMARY_COLUMNS as SUMMARY_COLUMNS
from crmlab.clv.summary import operational_time, summarize
from crmlab.clv.summary import (
    period_ordinals as period_ordinals,  # public, not in __all__ (crmlab.scale)
)
from crmlab.clv.value import clv
from crmlab.clv.what_if import bgnbd_model, bgnbd_what_if

__all__ = [
    "summarize",
    "operational_time",
    "BetaGeoModel",
    "ModifiedBetaGeoModel",
    "ParetoNBDModel",
    "NBDModel",
    "calibration_histogram",
    "conditional_expectations",
    "repeat_transactions_tracking",
    "GammaGammaModel",
    "clv",
    "sample_bgnbd",
    "auc",
    "top_decile_lift",
    "time_to_next_purchase",
    "churn_labels",
    "churn_features",
    "churn_early_warning",
    "ChurnWarning",
]


__all__ += ["bgnbd_model", "bgnbd_what_if"]
