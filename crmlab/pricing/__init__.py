"""Dynamic pricing (動態定價): demand, elasticity, optimal prices and revenue management.

Course unit 3 (personalization) asks how a shop should price "by purchase history and
current demand" and whether prices may float freely. This package holds the computation
behind notebook ``07_dynamic_pricing``:

* **Demand models** -- linear, constant elasticity and exponential -- with their
  profit-maximizing prices in closed form (:class:`LinearDemand`,
  :class:`ConstantElasticityDemand`, :class:`ExponentialDemand`), and the best single price
  when stock is limited (:func:`capacity_constrained_price`).
* **Markdowns** -- a finite-horizon dynamic program that clears seasonal stock with a price
  ladder that may only go down (:func:`optimize_markdown`).
* **Revenue management for perishable capacity** (seats, rooms, tickets): Littlewood's
  two-fare rule (:func:`littlewood`), EMSR-a/EMSR-b protection levels for many fare classes
  (:func:`emsr_b`), the exact optimal protection levels by dynamic programming
  (:func:`optimal_protection_levels`) and a Monte Carlo check of any set of protection
  levels (:func:`simulate_nested_booking`).
* **Gallego--van Ryzin** optimal price for ``n`` units with ``t`` time left under exponential
  demand ``lambda(p) = a * exp(-alpha * p)``: the deterministic bound, the closed-form
  stochastic value function, and a discrete-time dynamic program that also allows demand to
  change over time (:func:`gvr_dynamic_program`, :func:`simulate_gvr`).
* **Surge pricing**: the market-clearing multiplier with a cap (:func:`surge_multiplier`).
* **Price experiments**: Thompson sampling against explore-then-commit, with cumulative
  regret (:func:`simulate_price_experiment`).
* **Elasticity estimation** from the shop's ``price_history``: log-log OLS and Poisson
  regression with product and time fixed effects (:class:`ElasticityModel`), and a small
  market where price responds to demand to show endogeneity and the instrumental-variable
  fix (:func:`simulate_endogenous_market`, :func:`iv_elasticity`).
* **Fairness**: personalized prices with caps and a report of what each customer group pays
  (:func:`personalized_prices`, :func:`price_policy_report`).

Conventions: prices and money in NT$; every random function takes ``seed`` (an int or a
``numpy.random.Generator``); bad input raises ``ValueError`` naming the argument or
table/column and the fix.

Where things live (each a module of this package, all names importable from
``crmlab.pricing``): :mod:`~crmlab.pricing.demand` (demand curves and closed-form prices),
:mod:`~crmlab.pricing.markdown`, :mod:`~crmlab.pricing.revenue_management` (Littlewood, EMSR),
:mod:`~crmlab.pricing.gvr` (Gallego--van Ryzin), :mod:`~crmlab.pricing.surge`,
:mod:`~crmlab.pricing.experiments` (Thompson sampling), :mod:`~crmlab.pricing.elasticity`,
:mod:`~crmlab.pricing.endogeneity` (instrumental variables), :mod:`~crmlab.pricing.fairness`
and :mod:`~crmlab.pricing.what_if` (the live demo's calculation).
"""

from __future__ import annotations

# Every name of the single module this package replaced is importable from here; the few
# outside __all__ (constants, helpers the tests read) use the re-export form ``x as x``.
from crmlab.pricing.demand import (
    ConstantElasticityDemand,
    DemandModel,
    ExponentialDemand,
    LinearDemand,
    capacity_constrained_price,
    optimal_price,
)
from crmlab.pricing.elasticity import (
    ElasticityModel,
    pricing_panel,
)
from crmlab.pricing.endogeneity import (
    iv_elasticity,
    simulate_endogenous_market,
)
from crmlab.pricing.experiments import (
    simulate_price_experiment,
)
from crmlab.pricing.fairness import (
    personalized_prices,
    price_policy_report,
    uniform_optimal_price,
)
from crmlab.pricing.gvr import (
    GvRProgram,
    gvr_deterministic_price,
    gvr_deterministic_revenue,
    gvr_dynamic_program,
    gvr_price,
    gvr_revenue_samples,
    gvr_value,
    simulate_gvr,
)
from crmlab.pricing.markdown import (
    MarkdownPlan,
    optimize_markdown,
)
from crmlab.pricing.revenue_management import _discrete_normal as _discrete_normal
from crmlab.pricing.revenue_management import (
    emsr_a,
    emsr_b,
    littlewood,
    optimal_protection_levels,
    simulate_nested_booking,
)
from crmlab.pricing.surge import (
    surge_multiplier,
    surge_pricing,
)
from crmlab.pricing.what_if import (
    DEMAND_SHAPES,
    calibrated_demand,
    price_what_if,
)

__all__ = [
    "ConstantElasticityDemand",
    "DemandModel",
    "ElasticityModel",
    "ExponentialDemand",
    "GvRProgram",
    "LinearDemand",
    "MarkdownPlan",
    "capacity_constrained_price",
    "emsr_a",
    "emsr_b",
    "gvr_deterministic_price",
    "gvr_deterministic_revenue",
    "gvr_dynamic_program",
    "gvr_price",
    "gvr_revenue_samples",
    "gvr_value",
    "iv_elasticity",
    "littlewood",
    "optimal_price",
    "optimal_protection_levels",
    "optimize_markdown",
    "personalized_prices",
    "price_policy_report",
    "pricing_panel",
    "simulate_endogenous_market",
    "simulate_gvr",
    "simulate_nested_booking",
    "simulate_price_experiment",
    "surge_multiplier",
    "surge_pricing",
    "uniform_optimal_price",
    "DEMAND_SHAPES",
    "calibrated_demand",
    "price_what_if",
]
