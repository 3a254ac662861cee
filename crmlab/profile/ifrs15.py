"""Loyalty points in the accounts (IFRS 15): revenue allocated to points and recognised later.

:func:`ifrs15_allocate` splits a sale between goods and points by relative stand-alone
selling prices (IFRS 15.B42), :func:`ifrs15_schedule` recognises the points' revenue as they
are redeemed (Illustrative Example 52) and :func:`loyalty_deferral` applies the allocation to
each period of the shop's sales and ledger.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from crmlab._checks import frame_with, reads
from crmlab.profile.loyalty import _ledger

__all__ = ["ifrs15_allocate", "ifrs15_schedule", "loyalty_deferral"]


def ifrs15_allocate(transaction_price: float, goods_ssp: float, points: float, point_value: float,
                    expected_redemption: float) -> pd.Series:
    """IFRS 15 relative stand-alone selling price allocation between goods and loyalty points.

    The points' stand-alone selling price is points x value x expected redemption share
    (IFRS 15.B42); the transaction price is split in proportion to the two stand-alone
    prices. Returns goods_ssp, points_ssp, goods_revenue and points_allocated (the contract
    liability recognised at the sale). IFRS 15 Illustrative Example 52: 100,000 of sales,
    10,000 points worth CU1, 95% expected redemption -> 91,324 and 8,676.

    Parameters
    ----------
    transaction_price : float
        What the customer paid, >= 0.
    goods_ssp : float
        Stand-alone selling price of the goods, >= 0.
    points : float
        Points earned with the sale.
    point_value : float
        Value of one point when redeemed.
    expected_redemption : float
        Share of points expected to be redeemed, in [0, 1].

    Returns
    -------
    pd.Series
        goods_ssp, points_ssp, goods_revenue, points_allocated.
    """
    for name, v in (("transaction_price", transaction_price), ("goods_ssp", goods_ssp), ("points", points),
                    ("point_value", point_value)):
        if not np.isfinite(v) or v < 0:
            raise ValueError(f"ifrs15_allocate(): {name}={v!r} must be a finite number >= 0.")
    if not 0 <= expected_redemption <= 1:
        raise ValueError(f"ifrs15_allocate(): expected_redemption={expected_redemption!r} must lie in [0, 1].")
    points_ssp = points * point_value * expected_redemption
    total = goods_ssp + points_ssp
    if total <= 0:
        raise ValueError("ifrs15_allocate(): the stand-alone selling prices add up to 0; nothing to allocate.")
    return pd.Series({"goods_ssp": float(goods_ssp), "points_ssp": float(points_ssp),
                      "goods_revenue": transaction_price * goods_ssp / total,
                      "points_allocated": transaction_price * points_ssp / total})


def ifrs15_schedule(points_allocated: float, cumulative_redeemed: Sequence[float],
                    expected_total: Sequence[float] | float) -> pd.DataFrame:
    """Revenue from loyalty points period by period (IFRS 15 Example 52's method).

    Cumulative revenue at the end of a period = allocated x points redeemed so far / points
    expected to be redeemed in total (the estimate of that period, so a revised estimate
    changes the current period only, a change in estimate under IAS 8). Columns: period,
    cumulative_redeemed, expected_total, cumulative_revenue, revenue, contract_liability.

    Parameters
    ----------
    points_allocated : float
        Transaction price allocated to the points (:func:`ifrs15_allocate`).
    cumulative_redeemed : sequence of float
        Points redeemed so far, at the end of each period.
    expected_total : float or sequence of float
        Points expected to be redeemed in total, as estimated in each period.

    Returns
    -------
    pd.DataFrame
        One row per period with the columns above.
    """
    cum = np.asarray(cumulative_redeemed, dtype=float)
    exp = np.broadcast_to(np.asarray(expected_total, dtype=float), cum.shape).astype(float)
    if cum.ndim != 1 or not len(cum):
        raise ValueError("ifrs15_schedule(): cumulative_redeemed must be a non-empty list, one number per period.")
    if np.any(np.diff(cum) < 0) or np.any(cum < 0):
        raise ValueError("ifrs15_schedule(): cumulative_redeemed must be cumulative (never decreasing, >= 0).")
    if np.any(exp <= 0):
        raise ValueError("ifrs15_schedule(): expected_total must be positive in every period.")
    share = np.minimum(cum / exp, 1.0)
    cumrev = points_allocated * share
    return pd.DataFrame({"period": np.arange(1, len(cum) + 1), "cumulative_redeemed": cum, "expected_total": exp,
                         "cumulative_revenue": cumrev, "revenue": np.diff(np.r_[0.0, cumrev]),
                         "contract_liability": points_allocated - cumrev})


@reads(orders="order_ts amount", ledger="")
def loyalty_deferral(orders: pd.DataFrame, ledger: pd.DataFrame, expected_redemption: float,
                     point_value: float = 1.0, freq: str = "YS") -> pd.DataFrame:
    """IFRS 15 allocation of each period's sales between goods and the points they earned.

    Per period (``freq``, default calendar years): sales (paid amounts), points_issued (earn
    entries), points_ssp, goods_revenue and points_deferred (revenue deferred to the points
    and recognised later as they are redeemed).

    Parameters
    ----------
    orders : pd.DataFrame
        The shop's ``orders`` (order_ts, amount).
    ledger : pd.DataFrame
        The shop's ``loyalty_ledger``.
    expected_redemption : float
        Share of points expected to be redeemed, in [0, 1].
    point_value : float, default 1.0
        Value of one point.
    freq : str, default "YS"
        pandas frequency of the periods.

    Returns
    -------
    pd.DataFrame
        One row per period: period, sales, points_issued, points_ssp, goods_revenue,
        points_deferred.
    """
    frame_with(orders, "orders", ["order_ts", "amount"])
    led = _ledger(ledger)
    sales = orders.groupby(pd.Grouper(key="order_ts", freq=freq))["amount"].sum()
    earn = led.loc[led["entry_type"] == "earn"]
    issued = earn.groupby(pd.Grouper(key="ts", freq=freq))["points"].sum()
    idx = sales.index.union(issued.index)
    rows = []
    for p in idx:
        s = float(sales.get(p, 0.0))
        n = float(issued.get(p, 0.0))
        a = ifrs15_allocate(s, s, n, point_value, expected_redemption) if s + n > 0 else None
        rows.append({"period": p, "sales": s, "points_issued": n,
                     "points_ssp": 0.0 if a is None else a["points_ssp"],
                     "goods_revenue": 0.0 if a is None else a["goods_revenue"],
                     "points_deferred": 0.0 if a is None else a["points_allocated"]})
    return pd.DataFrame(rows)
