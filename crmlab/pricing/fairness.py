"""Personalized prices and fairness (個人化定價與公平性): caps, and who pays what.

:func:`personalized_prices` sets each customer's profit-maximizing price under constant
elasticity within a floor and a cap; :func:`uniform_optimal_price` is the single price it is
compared with; :func:`price_policy_report` shows what each customer group pays.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import optimize

from crmlab.pricing._validation import _check_prices, _floats, _scalar


def personalized_prices(elasticity: object, unit_cost: float, floor: float | None = None,
                        cap: float | None = None) -> np.ndarray:
    """Each customer's profit-maximizing price under constant elasticity, within [floor, cap].

    ``p_i = c * e_i / (1 + e_i)``: the less price sensitive the customer, the higher the price
    (first-degree price discrimination). ``cap`` (and ``floor``) are the guard rails a shop
    or a regulator puts on it; with ``cap`` equal to the uniform price nobody pays more than
    under one price for all.

    Parameters
    ----------
    elasticity : float or array-like
        Each customer's price elasticity (< -1).
    unit_cost : float
        Cost of one unit in NT$ (> 0).
    floor, cap : float, optional
        Lowest and highest price allowed in NT$.

    Returns
    -------
    np.ndarray
        One price per customer in NT$.
    """
    e = _floats(elasticity, "elasticity", where="personalized_prices")
    c = _scalar(unit_cost, "unit_cost", where="personalized_prices", minimum=0)
    if np.any(e >= -1):
        n_bad = int(np.sum(e >= -1))
        raise ValueError(
            f"personalized_prices: {n_bad} customer(s) have elasticity >= -1; for them profit "
            "rises forever with the price (no finite optimum). Cap those prices with a "
            "business rule or use a demand model with a choke price"
        )
    p = c * e / (1.0 + e)
    lo = -np.inf if floor is None else _scalar(floor, "floor", where="personalized_prices",
                                                minimum=0)
    hi = np.inf if cap is None else _scalar(cap, "cap", where="personalized_prices", minimum=0)
    if lo > hi:
        raise ValueError(f"personalized_prices: floor {lo:g} is above cap {hi:g}")
    return np.clip(p, lo, hi)


def uniform_optimal_price(scale: object, elasticity: object, unit_cost: float) -> float:
    """The single price that maximizes total profit over customers with different elasticities.

    Total profit ``sum_i scale_i * p ** e_i * (p - c)`` is maximized numerically on
    ``(c, c * max_i e_i/(1+e_i)]`` -- the optimum lies between the most and least price
    sensitive customer's own best price.

    Parameters
    ----------
    scale : float or array-like
        Each customer's demand scale (units at a price of NT$1).
    elasticity : float or array-like
        Each customer's price elasticity (< -1).
    unit_cost : float
        Cost of one unit in NT$ (> 0).

    Returns
    -------
    float
        The one price in NT$ for everyone.
    """
    a = _floats(scale, "scale", where="uniform_optimal_price")
    e = _floats(elasticity, "elasticity", where="uniform_optimal_price")
    if a.size != e.size:
        raise ValueError("uniform_optimal_price: need one scale per elasticity")
    own = personalized_prices(e, unit_cost)
    c = float(unit_cost)

    def neg_profit(p: float) -> float:
        return -float(np.sum(a * p ** e * (p - c)))

    res = optimize.minimize_scalar(neg_profit, bounds=(own.min() * 0.999, own.max() * 1.001),
                                   method="bounded", options={"xatol": 1e-8 * own.max()})
    return float(res.x)


def price_policy_report(frame: pd.DataFrame, by: str | Sequence[str],
                        price_cols: Sequence[str]) -> pd.DataFrame:
    """Average price each customer group pays under each pricing policy.

    ``frame`` has one row per customer with a price column per policy (the first is the
    reference, e.g. the uniform price). Returns one row per group: ``n_customers``,
    ``mean_<policy>`` for each policy, ``ratio_<policy>`` (group mean / reference group
    mean) and ``share_above_<policy>`` (share of the group paying more than the reference
    price). A fair policy keeps ratios close to 1 across protected groups such as age band.

    Parameters
    ----------
    frame : pd.DataFrame
        One row per customer with the group column(s) and one price column per policy.
    by : str or sequence of str
        The group column(s), e.g. ``"age_band"``.
    price_cols : sequence of str
        The price column of each policy; the first is the reference.

    Returns
    -------
    pd.DataFrame
        One row per group, the columns above.
    """
    keys = [by] if isinstance(by, str) else list(by)
    cols = list(price_cols)
    missing = [c for c in keys + cols if c not in frame.columns]
    if missing:
        raise ValueError(f"price_policy_report: table lacks column(s) {missing}; have "
                         f"{list(frame.columns)}")
    if len(cols) < 1:
        raise ValueError("price_policy_report: pass at least one price column")
    for col in cols:
        _check_prices(frame[col].to_numpy(dtype=float),
                      where=f"price_policy_report: column '{col}'")
    ref = cols[0]
    g = frame.groupby(keys, observed=True)
    out = g.size().rename("n_customers").to_frame()
    for col in cols:
        out[f"mean_{col}"] = g[col].mean()
    for col in cols[1:]:
        out[f"ratio_{col}"] = out[f"mean_{col}"] / out[f"mean_{ref}"]
        above = (frame[col] > frame[ref] * (1 + 1e-9)).groupby(
            [frame[k] for k in keys], observed=True).mean()
        out[f"share_above_{col}"] = above
    return out.reset_index()
