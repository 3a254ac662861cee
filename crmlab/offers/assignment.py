"""Offer assignment under a budget (預算下的優惠分配): at most one offer per customer.

:func:`assign_offers` solves the multiple-choice knapsack greedily along each customer's
convex hull, or exactly as an integer program with ``scipy.optimize.milp``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import optimize, sparse

from crmlab.offers._common import _columns, _frame
from crmlab.stats import numeric_values as _outcome


def _hull_steps(cost: np.ndarray, value: np.ndarray, rows: np.ndarray) -> list[tuple[float, float, int]]:
    """Upgrade steps (extra cost, extra value, row) along one customer's upper convex hull of
    (cost, value) from the origin; the steps' value-per-cost ratios decrease."""
    order = np.lexsort((-value, cost))
    hull: list[tuple[float, float, int]] = [(0.0, 0.0, -1)]
    for i in order:
        ci, vi = float(cost[i]), float(value[i])
        if vi <= hull[-1][1]:
            continue  # dearer but not better than the last kept offer
        if ci == hull[-1][0] and hull[-1][2] != -1:
            hull.pop()  # same cost, more value: replace
        while len(hull) >= 2:
            (c0, v0, _), (c1, v1, _) = hull[-2], hull[-1]
            # hull[-1] is dominated when the chord hull[-2] -> i lies above it
            if (v1 - v0) * (ci - c0) <= (vi - v0) * (c1 - c0):
                hull.pop()
            else:
                break
        hull.append((ci, vi, int(rows[i])))
    return [(hull[j][0] - hull[j - 1][0], hull[j][1] - hull[j - 1][1], hull[j][2])
            for j in range(1, len(hull))]


def _mckp_greedy(codes: np.ndarray, value: np.ndarray, cost: np.ndarray, budget: float,
                 rows: np.ndarray) -> np.ndarray:
    """Row numbers chosen by the multiple-choice knapsack greedy (see :func:`assign_offers`)."""
    steps = []  # (ratio, customer, step number, extra cost, row)
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.r_[True, codes[order][1:] != codes[order][:-1], True])
    for a, z in zip(bounds[:-1], bounds[1:], strict=True):
        idx = order[a:z]
        for k, (dc, dv, row) in enumerate(_hull_steps(cost[idx], value[idx], rows[idx])):
            ratio = math.inf if dc <= 0 else dv / dc
            steps.append((-ratio, int(codes[idx[0]]), k, dc, row))
    steps.sort()
    left = budget
    current: dict[int, tuple[int, int]] = {}
    blocked: set[int] = set()
    for _, cust, k, dc, row in steps:
        if cust in blocked or k != (0 if cust not in current else current[cust][1] + 1):
            continue
        if dc > left + 1e-9:
            blocked.add(cust)  # the next upgrade does not fit: stay at the current offer
            continue
        left -= dc
        current[cust] = (row, k)
    return np.array([row for row, _ in current.values()], dtype=np.int64)


def _mckp_milp(codes: np.ndarray, value: np.ndarray, cost: np.ndarray, budget: float,
               rows: np.ndarray, func: str) -> np.ndarray:
    """The exact multiple-choice knapsack as a 0/1 program (HiGHS): the chosen ``rows``."""
    uniq, row_of = np.unique(codes, return_inverse=True)
    m = len(rows)
    a_cust = sparse.csr_array((np.ones(m), (row_of, np.arange(m))), shape=(len(uniq), m))
    a_budget = sparse.csr_array(cost.reshape(1, -1))
    cons = [optimize.LinearConstraint(a_cust, -np.inf, 1.0),
            optimize.LinearConstraint(a_budget, -np.inf, budget)]
    res = optimize.milp(-value, constraints=cons, integrality=np.ones(m),
                        bounds=optimize.Bounds(0, 1))
    if res.x is None:
        raise ValueError(f"{func}: the integer program found no solution ({res.message}).")
    return rows[res.x > 0.5]


# Long function: most of it is the docstring (the greedy hull method and the exact program
# explained for students, then the numpydoc sections); the code is under 30 lines.
def assign_offers(candidates: pd.DataFrame, budget: float, method: str = "greedy",
                  customer: str = "customer_id", offer: str = "offer", value: str = "value",
                  cost: str = "cost") -> pd.DataFrame:
    """Give each customer at most one offer, maximizing total expected value within a budget.

    ``candidates`` has one row per (customer, offer) with the offer's expected incremental
    ``value`` (e.g. uplift x margin, NT$) and its ``cost`` (NT$). Rows with ``value <= 0``
    are never chosen (an offer that loses money, or a sleeping dog, gets nothing).

    * ``method="greedy"``: the classic greedy for this *multiple-choice knapsack* (Sinha &
      Zoltners 1979). Per customer, order the offers by cost and keep only those on the upper
      convex hull of (cost, value) starting at (0, 0) -- an offer that a mix of its cheaper
      and dearer neighbours beats is never worth it. Each hull step is an *upgrade* (the
      first step: from no offer to the cheapest offer) with its extra value per extra NT$.
      Take upgrades in order of that ratio while they fit the budget; a customer whose next
      upgrade does not fit stays at their current offer. Fast and easy to explain, nearly
      optimal when single offers are small against the budget, but not always optimal.
    * ``method="milp"``: the exact 0/1 program -- maximize ``sum value x`` subject to
      ``sum cost x <= budget`` and ``sum_offers x <= 1`` per customer -- solved with
      ``scipy.optimize.milp`` (HiGHS).

    Returns the chosen rows (original columns) sorted by customer; ``result.attrs`` holds
    ``total_value``, ``total_cost`` and ``budget``.

    Parameters
    ----------
    candidates : pd.DataFrame
        One row per (customer, offer) with value and cost.
    budget : float
        Most total cost allowed, NT$ (>= 0).
    method : {"greedy", "milp"}, default "greedy"
        The solver.
    customer, offer, value, cost : str
        Column names in ``candidates``.

    Returns
    -------
    pd.DataFrame
        The chosen rows, with totals in ``attrs``.
    """
    func = "assign_offers"
    candidates = _frame(candidates, "candidates", func)
    _columns(candidates, "candidates", func, [customer, offer, value, cost])
    if method not in ("greedy", "milp"):
        raise ValueError(f"{func}: method={method!r}; use 'greedy' or 'milp'.")
    b = float(budget)
    if not math.isfinite(b) or b < 0:
        raise ValueError(f"{func}: budget={budget!r} must be a non-negative number (NT$).")
    v = _outcome(candidates[value], "candidates", value, func)
    c = _outcome(candidates[cost], "candidates", cost, func)
    if np.any(c < 0):
        raise ValueError(f"{func}: candidates.{cost} has negative costs; costs are NT$ >= 0.")
    if candidates.duplicated([customer, offer]).any():
        raise ValueError(f"{func}: candidates has duplicate ({customer}, {offer}) rows; one row per pair.")
    keep = np.flatnonzero(v > 0)
    chosen = np.zeros(len(candidates), bool)
    if len(keep):
        cust_codes = pd.factorize(candidates[customer])[0]
        if method == "greedy":
            chosen[_mckp_greedy(cust_codes[keep], v[keep], c[keep], b, keep)] = True
        else:
            chosen[_mckp_milp(cust_codes[keep], v[keep], c[keep], b, keep, func)] = True
    out = candidates.loc[chosen].sort_values([customer, offer], kind="stable")
    out.attrs = {"total_value": float(v[chosen].sum()), "total_cost": float(c[chosen].sum()),
                 "budget": b, "method": method}
    return out
