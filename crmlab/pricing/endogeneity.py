"""Endogeneity (內生性) of prices and the instrumental-variable fix.

:func:`simulate_endogenous_market` builds a small market where the seller raises prices when
demand is high, so a naive regression of sales on price is biased;
:func:`iv_elasticity` recovers the elasticity with two-stage least squares on a cost shifter.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from crmlab.pricing._validation import Seed, _check_prices, _rng, _scalar


def simulate_endogenous_market(n_periods: int = 365, elasticity: float = -2.0,
                               price_response: float = 0.6, base_price: float = 100.0,
                               base_units: float = 40.0, demand_shock_sd: float = 0.35,
                               cost_shock_sd: float = 0.10, seed: Seed = 0) -> pd.DataFrame:
    """A single product whose price responds to demand the analyst cannot see.

    Each period has a demand shock ``u`` (weather, a TV mention, payday) that the seller sees
    and the analyst does not, and a cost shock ``v`` (supplier price) that only moves the
    price. The seller sets ``log p = log base_price + price_response * u + v`` and sells
    ``Poisson(base_units * (p / base_price) ** elasticity * exp(u))`` units. Because high
    prices coincide with high demand, regressing units on price mixes the demand curve with
    the seller's pricing rule: the slope is biased towards zero (even positive). The cost
    shock is a valid instrument (it moves price, not demand): see :func:`iv_elasticity`.

    Returns ``period``, ``demand_shock``, ``cost_shock``, ``price``, ``units``.

    Parameters
    ----------
    n_periods : int, default 365
        Periods (days) to simulate.
    elasticity : float, default -2.0
        The planted price elasticity of demand.
    price_response : float, default 0.6
        How strongly the seller's log price follows the demand shock.
    base_price, base_units : float, default 100.0, 40.0
        Price (NT$) and expected units of a period without shocks.
    demand_shock_sd, cost_shock_sd : float, default 0.35, 0.10
        Standard deviations of the demand and cost shocks (log scale).
    seed : int or numpy.random.Generator, default 0
        Random seed.

    Returns
    -------
    pd.DataFrame
        One row per period with the columns above.
    """
    where = "simulate_endogenous_market"
    if isinstance(n_periods, bool) or int(n_periods) != n_periods or n_periods < 10:
        raise ValueError(f"{where}: 'n_periods' must be a whole number >= 10")
    e = _scalar(elasticity, "elasticity", where=where)
    k = _scalar(price_response, "price_response", where=where)
    bp = _scalar(base_price, "base_price", where=where, minimum=0)
    bu = _scalar(base_units, "base_units", where=where, minimum=0)
    su = _scalar(demand_shock_sd, "demand_shock_sd", where=where, minimum=0, strict=False)
    sv = _scalar(cost_shock_sd, "cost_shock_sd", where=where, minimum=0, strict=False)
    rng = _rng(seed)
    n = int(n_periods)
    u = rng.normal(0.0, su, n)
    v = rng.normal(0.0, sv, n)
    price = bp * np.exp(k * u + v)
    units = rng.poisson(bu * (price / bp) ** e * np.exp(u))
    return pd.DataFrame({"period": np.arange(1, n + 1), "demand_shock": u, "cost_shock": v,
                         "price": np.round(price, 2), "units": units.astype(np.int64)})


def iv_elasticity(frame: pd.DataFrame, instrument: str, price_col: str = "price",
                  units_col: str = "units") -> dict[str, float]:
    """Two-stage least squares elasticity of ``log(units)`` on ``log(price)``.

    First stage: ``log price`` on the instrument (a cost shifter: it moves the price but not
    demand). Second stage: ``log units`` on the fitted log price. Rows with zero units are
    dropped (log undefined) and counted. Returns ``elasticity``, ``std_error`` (robust),
    ``ols_elasticity`` (the naive slope on the same rows, for comparison) with its robust
    ``ols_std_error``, ``first_stage_f``
    (instrument strength; below 10 means a weak instrument) and ``n_dropped_zero_units``.

    Parameters
    ----------
    frame : pd.DataFrame
        One row per period with the price, units and instrument columns.
    instrument : str
        Column of the instrument (e.g. ``"cost_shock"``).
    price_col, units_col : str, default "price", "units"
        Columns of the price (> 0) and the units sold.

    Returns
    -------
    dict of str to float
        The estimates above.
    """
    for col in (instrument, price_col, units_col):
        if col not in frame.columns:
            raise ValueError(f"iv_elasticity: table lacks column '{col}'; have {list(frame.columns)}")
    _check_prices(frame[price_col].to_numpy(dtype=float),
                  where=f"iv_elasticity: column '{price_col}'")
    units = frame[units_col].to_numpy(dtype=float)
    if np.any(units < 0) or not np.all(np.isfinite(units)):
        raise ValueError(f"iv_elasticity: column '{units_col}' must hold counts >= 0")
    keep = units > 0
    y = np.log(units[keep])
    x = np.log(frame[price_col].to_numpy(dtype=float)[keep])
    z = frame[instrument].to_numpy(dtype=float)[keep]
    if len(y) < 10:
        raise ValueError("iv_elasticity: fewer than 10 rows with units > 0; need more data")
    Z = np.column_stack([np.ones_like(z), z])
    X = np.column_stack([np.ones_like(x), x])
    g, *_ = np.linalg.lstsq(Z, x, rcond=None)
    resid1 = x - Z @ g
    s2 = resid1 @ resid1 / (len(x) - 2)
    f_stat = float(g[1] ** 2 / (s2 / np.sum((z - z.mean()) ** 2)))
    xhat = Z @ g
    Xh = np.column_stack([np.ones_like(xhat), xhat])
    b = np.linalg.solve(Xh.T @ Xh, Xh.T @ y)
    resid = y - X @ b  # structural residuals use the real price
    inv = np.linalg.inv(Xh.T @ Xh)
    vcov = inv @ (Xh.T @ (Xh * resid[:, None] ** 2)) @ inv
    ols = np.linalg.lstsq(X, y, rcond=None)[0]
    inv_x = np.linalg.inv(X.T @ X)
    vcov_ols = inv_x @ (X.T @ (X * (y - X @ ols)[:, None] ** 2)) @ inv_x  # HC0, like the IV
    return {"elasticity": float(b[1]), "std_error": float(math.sqrt(vcov[1, 1])),
            "ols_elasticity": float(ols[1]), "ols_std_error": float(math.sqrt(vcov_ols[1, 1])),
            "first_stage_f": f_stat,
            "n_dropped_zero_units": int((~keep).sum())}
