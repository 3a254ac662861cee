"""Surge pricing (尖峰加價): the market-clearing multiplier with a cap.

:func:`surge_multiplier` raises the price until demand meets supply under constant
elasticities; :func:`surge_pricing` applies it to a table of requests and drivers.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from crmlab.pricing._validation import _scalar


def _surge_args(demand_elasticity: float, supply_elasticity: float, cap: float | None,
                where: str) -> tuple[float, float, float]:
    ed = _scalar(demand_elasticity, "demand_elasticity", where=where)
    es = _scalar(supply_elasticity, "supply_elasticity", where=where)
    c = math.inf if cap is None else _scalar(cap, "cap", where=where)
    if ed >= 0:
        raise ValueError(f"{where}: 'demand_elasticity' must be < 0 (riders ask for fewer rides "
                         f"when the price rises), got {ed:g}")
    if es < 0:
        raise ValueError(f"{where}: 'supply_elasticity' must be >= 0 (drivers do not log off "
                         f"when fares rise), got {es:g}")
    if c < 1:
        raise ValueError(f"{where}: 'cap' must be >= 1 (1 = no surge allowed), got {c:g}")
    return ed, es, c


def surge_multiplier(demand: object, supply: object, demand_elasticity: float = -0.5,
                     supply_elasticity: float = 0.5, cap: float | None = 3.0) -> np.ndarray:
    """Market-clearing price multiplier, floored at 1 and capped at ``cap``.

    At multiplier ``m`` riders request ``demand * m**demand_elasticity`` rides and drivers offer
    ``supply * m**supply_elasticity``; they balance at
    ``m* = (demand / supply) ** (1 / (supply_elasticity - demand_elasticity))``. The platform
    never prices below the base fare (``m >= 1``) and a regulator or the platform's own trust
    policy caps the surge (``m <= cap``; ``cap=None`` for no cap).

    Parameters
    ----------
    demand, supply : float or array-like
        Ride requests and available drivers at the base fare (> 0), per period or zone.
    demand_elasticity : float, default -0.5
        Elasticity of requests to the multiplier (< 0).
    supply_elasticity : float, default 0.5
        Elasticity of drivers to the multiplier (> 0).
    cap : float or None, default 3.0
        Highest multiplier allowed (>= 1); ``None`` for no cap.

    Returns
    -------
    np.ndarray
        The multiplier of each period/zone, in ``[1, cap]``.
    """
    ed, es, c = _surge_args(demand_elasticity, supply_elasticity, cap, "surge_multiplier")
    d = np.asarray(demand, dtype=float)
    s = np.asarray(supply, dtype=float)
    if np.any(~np.isfinite(d)) or np.any(d < 0):
        raise ValueError("surge_multiplier: 'demand' (ride requests at the base fare) must be >= 0")
    if np.any(~np.isfinite(s)) or np.any(s <= 0):
        raise ValueError("surge_multiplier: 'supply' (drivers at the base fare) must be > 0")
    with np.errstate(divide="ignore"):
        clearing = np.where(d > 0, (np.where(d > 0, d, 1.0) / s) ** (1.0 / (es - ed)), 0.0)
    return np.clip(clearing, 1.0, c)


def surge_pricing(frame: pd.DataFrame, demand_col: str = "requests", supply_col: str = "drivers",
                  demand_elasticity: float = -0.5, supply_elasticity: float = 0.5,
                  cap: float | None = 3.0) -> pd.DataFrame:
    """Surge multipliers for a table of periods/zones, and who gets served.

    Adds ``clearing_multiplier`` (uncapped, floored at 1), ``multiplier`` (capped),
    ``requests_at_price``, ``drivers_at_price``, ``rides`` (the smaller of the two),
    ``unserved`` (riders willing to pay the capped price but finding no car -- the cost of
    the cap) and ``priced_out`` (requests lost because of the surge price).

    Parameters
    ----------
    frame : pd.DataFrame
        One row per period/zone with the demand and supply columns.
    demand_col, supply_col : str, default "requests", "drivers"
        Column names of requests and drivers at the base fare.
    demand_elasticity, supply_elasticity, cap : float
        As in :func:`surge_multiplier`.

    Returns
    -------
    pd.DataFrame
        A copy of ``frame`` with the columns above added.
    """
    for col in (demand_col, supply_col):
        if col not in frame.columns:
            raise ValueError(
                f"surge_pricing: table has no column '{col}'; pass demand_col=/supply_col= "
                f"naming your columns (have {list(frame.columns)})"
            )
    ed, es, c = _surge_args(demand_elasticity, supply_elasticity, cap, "surge_pricing")
    d = frame[demand_col].to_numpy(dtype=float)
    s = frame[supply_col].to_numpy(dtype=float)
    out = frame.copy()
    out["clearing_multiplier"] = surge_multiplier(d, s, ed, es, cap=None)
    m = surge_multiplier(d, s, ed, es, cap=c)
    out["multiplier"] = m
    out["requests_at_price"] = d * m ** ed
    out["drivers_at_price"] = s * m ** es
    out["rides"] = np.minimum(out["requests_at_price"], out["drivers_at_price"])
    out["unserved"] = out["requests_at_price"] - out["rides"]
    out["priced_out"] = d - out["requests_at_price"]
    return out
