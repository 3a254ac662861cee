"""The live what-if of a price (crmlab.demos.price_demo): price -> demand, revenue, profit.

:func:`calibrated_demand` builds a demand curve of a chosen shape through today's price and
sales; :func:`price_what_if` reads units, revenue and profit at another price.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from crmlab.pricing._validation import _scalar
from crmlab.pricing.demand import (
    ConstantElasticityDemand,
    DemandModel,
    ExponentialDemand,
    LinearDemand,
)

DEMAND_SHAPES: tuple[str, ...] = ("linear", "constant elasticity", "exponential")


def calibrated_demand(shape: str, list_price: float, units_per_day: float,
                      elasticity: float) -> DemandModel:
    """The demand curve of ``shape`` through today's point: it sells ``units_per_day`` at
    ``list_price`` and has point elasticity ``elasticity`` there (notebook 07, section 1).

    linear ``a - b p`` with ``a = q0 (1 - e)``, ``b = -e q0 / p0``; constant elasticity
    ``A p^e`` with ``A = q0 / p0^e``; exponential ``A exp(-alpha p)`` with
    ``A = q0 exp(-e)``, ``alpha = -e / p0``.

    Parameters
    ----------
    shape : {"linear", "constant elasticity", "exponential"}
        The demand shape (:data:`DEMAND_SHAPES`).
    list_price : float
        Today's price in NT$ (> 0).
    units_per_day : float
        Today's sales at that price (> 0).
    elasticity : float
        Point elasticity at today's price (< 0).

    Returns
    -------
    DemandModel
        The curve through today's point.
    """
    where = "calibrated_demand"
    p0 = _scalar(list_price, "list_price", where=where, minimum=0)
    q0 = _scalar(units_per_day, "units_per_day", where=where, minimum=0)
    e = _scalar(elasticity, "elasticity", where=where)
    if e >= 0:
        raise ValueError(f"{where}: 'elasticity' must be negative (demand falls as the price "
                         f"rises), got {e:g}; pass e.g. elasticity=-2")
    if shape == "linear":
        return LinearDemand(intercept=q0 * (1 - e), slope=-e * q0 / p0)
    if shape == "constant elasticity":
        return ConstantElasticityDemand(scale=q0 / p0**e, elasticity=e)
    if shape == "exponential":
        return ExponentialDemand(scale=q0 * math.exp(-e), alpha=-e / p0)
    raise ValueError(f"{where}: 'shape' must be one of {list(DEMAND_SHAPES)}, got {shape!r}")


def price_what_if(price: float, *, list_price: float, unit_cost: float, units_per_day: float,
                  elasticity: float, shape: str = "constant elasticity",
                  min_price_ratio: float = 0.5, max_price_ratio: float = 3.0,
                  n_grid: int = 150) -> dict[str, Any]:
    """What one price does: units per day, revenue and profit, and where the optimum is.

    The demand curve is :func:`calibrated_demand` (today's point and elasticity); the optimum
    is the shape's closed form (:meth:`DemandModel.optimal_price`), ``None`` where none exists
    (constant elasticity >= -1, or the unit cost at or above a linear curve's choke price).
    Returns ``price, units, revenue, profit, elasticity`` at ``price``, ``optimal_price``,
    ``optimal_profit``, ``list_price``, ``unit_cost``, ``shape`` and ``curve`` (the same
    figures on ``n_grid`` prices from ``min_price_ratio`` to ``max_price_ratio`` x the list
    price).

    Parameters
    ----------
    price : float
        The price to try, NT$ (> 0).
    list_price, units_per_day, elasticity, shape :
        Today's point and the demand shape, as in :func:`calibrated_demand`.
    unit_cost : float
        Cost of one unit in NT$ (>= 0).
    min_price_ratio, max_price_ratio : float, default 0.5, 3.0
        Range of the curve as multiples of the list price.
    n_grid : int, default 150
        Prices on the curve (>= 2).

    Returns
    -------
    dict
        The figures above.
    """
    where = "price_what_if"
    demand = calibrated_demand(shape, list_price, units_per_day, elasticity)
    p = _scalar(price, "price", where=where, minimum=0)
    c = _scalar(unit_cost, "unit_cost", where=where, minimum=0, strict=False)
    low = _scalar(min_price_ratio, "min_price_ratio", where=where, minimum=0) * float(list_price)
    top = _scalar(max_price_ratio, "max_price_ratio", where=where, minimum=0) * float(list_price)
    if top <= low:
        raise ValueError(f"{where}: 'max_price_ratio' must exceed 'min_price_ratio', got "
                         f"{max_price_ratio!r} <= {min_price_ratio!r}")
    if int(n_grid) < 2:
        raise ValueError(f"{where}: 'n_grid' must be at least 2, got {n_grid!r}")
    try:
        best: float | None = demand.optimal_price(c)
    except ValueError:  # no finite optimum for this shape and cost (see the docstring)
        best = None
    at = demand.curve([p], c).iloc[0]
    return {
        "shape": shape, "list_price": float(list_price), "unit_cost": c, "price": p,
        "units": float(at["quantity"]), "revenue": float(at["revenue"]),
        "profit": float(at["profit"]), "elasticity": float(at["elasticity"]),
        "optimal_price": best,
        "optimal_profit": None if best is None else float(demand.profit(best, c)),
        "curve": demand.curve(np.linspace(low, top, int(n_grid)), c),
    }
