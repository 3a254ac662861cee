"""Return-policy design (退換貨政策): what-ifs on orders, return rate and margin.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmlab._checks import reads

__all__ = [
    "EXCHANGEABLE_REASONS",
    "ReturnPolicy",
    "WRITE_OFF_REASONS",
    "return_policy_whatif",
]


#: Reasons where the goods are fine, so a customer may accept an exchange instead of a refund.
EXCHANGEABLE_REASONS: tuple[str, ...] = ("size_fit", "changed_mind", "not_as_described")


#: Reasons where the returned goods cannot be sold again (written off).
WRITE_OFF_REASONS: tuple[str, ...] = ("defective", "damaged_in_transit")


@dataclass(frozen=True)
class ReturnPolicy:
    """A return policy to try. ``window_days``: returns asked for later than this many days
    after delivery are refused (None = no limit); ``free_returns``: the shop pays the return
    shipping that customers pay today (``return_shipping`` NT$ per return);
    ``exchange_share``: share of refunds for an exchangeable reason that become exchanges;
    ``order_change`` and ``return_change``: the behaviour the policy is *assumed* to cause
    (relative change in orders and in the return rate, e.g. 0.03 = +3%). The shop's data
    cannot measure these two (it never changed its policy); they are assumptions to vary.

    Parameters
    ----------
    window_days : float, optional
        Return window in days after delivery; None = no limit.
    free_returns : bool, default False
        The shop pays the return shipping.
    exchange_share : float, default 0.0
        Share of exchangeable refunds that become exchanges, in [0, 1].
    return_shipping : float, default 80.0
        Return shipping per return, NT$.
    order_change, return_change : float, default 0.0
        Assumed relative change in orders and in the return rate (> -1).
    """

    window_days: float | None = None
    free_returns: bool = False
    exchange_share: float = 0.0
    return_shipping: float = 80.0
    order_change: float = 0.0
    return_change: float = 0.0

    def __post_init__(self) -> None:
        if self.window_days is not None and not (np.isfinite(self.window_days) and self.window_days >= 0):
            raise ValueError(f"ReturnPolicy: window_days={self.window_days!r} must be >= 0 days or None.")
        if not 0 <= self.exchange_share <= 1:
            raise ValueError(f"ReturnPolicy: exchange_share={self.exchange_share!r} must be a share in [0, 1].")
        if not (np.isfinite(self.return_shipping) and self.return_shipping >= 0):
            raise ValueError("ReturnPolicy: return_shipping must be a non-negative amount (NT$).")
        if self.order_change <= -1 or self.return_change <= -1:
            raise ValueError("ReturnPolicy: order_change and return_change are relative changes > -1.")


@reads(orders="order_id amount delivered_ts",
       order_items="order_id product_id quantity",
       returns="order_id product_id requested_ts reason return_type quantity refund_amount "
               "shipping_cost restocking_cost",
       products="product_id unit_cost")
def return_policy_whatif(
    orders: pd.DataFrame,
    order_items: pd.DataFrame,
    returns: pd.DataFrame,
    products: pd.DataFrame,
    policies: Mapping[str, ReturnPolicy],
) -> pd.DataFrame:
    """Orders, return rate and margin (NT$) of the shop under each return policy.

    Margin = revenue - cost of goods sold - refunds + cost of goods that come back sellable
    - cost of replacement goods for write-offs exchanged - handling (return shipping the shop
    pays + restocking). Today's returns are replayed under each policy: refused if asked for
    after ``window_days`` (the customer keeps goods and money), turned into exchanges at
    ``exchange_share``, shipping paid by the shop under ``free_returns``; then scaled by the
    assumed behaviour (orders x (1 + order_change), returns x (1 + return_change)). Expected
    values: no randomness. One row per policy, in the order given.

    Parameters
    ----------
    orders, order_items, returns, products : pd.DataFrame
        The shop's tables (``orders`` with ``delivered_ts``; ``products`` with ``unit_cost``).
    policies : mapping of str to ReturnPolicy
        The policies to compare, by name.

    Returns
    -------
    pd.DataFrame
        One row per policy: ``policy``, ``orders``, ``returns``, ``return_rate``, ``revenue``,
        ``refunds``, ``handling``, ``margin``.
    """
    func = "return_policy_whatif"
    if not policies or not all(isinstance(p, ReturnPolicy) for p in policies.values()):
        raise ValueError(f"{func}: policies must map names to ReturnPolicy objects, e.g. "
                         "{'today': ReturnPolicy()}.")
    today = _replay_base(orders, order_items, returns, products, func)
    return pd.DataFrame([_policy_row(name, pol, today) for name, pol in policies.items()])


@dataclass(frozen=True)
class _Today:
    """The shop's orders and returns as they happened, the inputs every policy replays."""

    n_orders: int
    revenue: float
    cogs: float
    days_after: pd.Series  # days from delivery to the return request
    goods: np.ndarray  # unit cost x quantity of each return
    write_off: np.ndarray
    refund: np.ndarray
    exchangeable: np.ndarray
    shipping: np.ndarray
    restocking: np.ndarray
    refund_amount: np.ndarray


def _replay_base(orders: pd.DataFrame, order_items: pd.DataFrame, returns: pd.DataFrame,
                 products: pd.DataFrame, func: str) -> _Today:
    """Today's figures; every product needs a unit cost and every return a delivery time."""
    cost = products.set_index("product_id")["unit_cost"]
    for table, frame in (("order_items", order_items), ("returns", returns)):
        unit_cost = frame["product_id"].map(cost)
        if unit_cost.isna().any():  # a missing cost would drop out of the sums silently
            ids = frame.loc[unit_cost.isna(), "product_id"].drop_duplicates().head(5).tolist()
            raise ValueError(f"{func}: {table}.product_id {ids} have no unit_cost in products; add their "
                             "cost to the products table or leave those rows out.")
    delivered = returns["order_id"].map(orders.set_index("order_id")["delivered_ts"])
    if delivered.isna().any():  # unknown order or no delivery time: no window could be applied
        ids = returns.loc[delivered.isna(), "order_id"].head(5).tolist()
        raise ValueError(f"{func}: returns.order_id {ids} have no delivered_ts in orders (unknown order or "
                         "missing delivery time); load the matching orders or leave those returns out.")
    refund = (returns["return_type"].astype("str") == "refund").to_numpy()
    return _Today(
        n_orders=len(orders), revenue=float(orders["amount"].sum()),
        cogs=float((order_items["quantity"] * order_items["product_id"].map(cost)).sum()),
        days_after=(returns["requested_ts"] - delivered).dt.total_seconds() / 86400,
        goods=(returns["quantity"] * returns["product_id"].map(cost)).to_numpy(dtype="float64"),
        write_off=returns["reason"].astype("str").isin(WRITE_OFF_REASONS).to_numpy(),
        refund=refund,
        exchangeable=refund & returns["reason"].astype("str").isin(EXCHANGEABLE_REASONS).to_numpy(),
        shipping=returns["shipping_cost"].to_numpy(dtype="float64"),
        restocking=returns["restocking_cost"].to_numpy(dtype="float64"),
        refund_amount=returns["refund_amount"].to_numpy(dtype="float64"))


def _policy_row(name: str, pol: ReturnPolicy, t: _Today) -> dict[str, object]:
    """Today's returns replayed under ``pol``: expected orders, returns and money."""
    kept = np.ones(len(t.goods)) if pol.window_days is None else (t.days_after <= pol.window_days).to_numpy(float)
    to_exchange = np.where(t.exchangeable, pol.exchange_share, 0.0)
    p_refund = np.where(t.refund, 1.0 - to_exchange, 0.0)
    shipping = t.shipping
    if pol.free_returns:
        shipping = np.where(shipping == 0, pol.return_shipping, shipping)
    scale_r = kept * (1.0 + pol.return_change) * (1.0 + pol.order_change)
    refunds = float((scale_r * p_refund * t.refund_amount).sum())
    recovered = float((scale_r * p_refund * np.where(t.write_off, 0.0, t.goods)).sum())
    replacement = float((scale_r * (1.0 - p_refund) * np.where(t.write_off, t.goods, 0.0)).sum())
    handling = float((scale_r * (shipping + t.restocking)).sum())
    n_orders = t.n_orders * (1.0 + pol.order_change)
    rev = t.revenue * (1.0 + pol.order_change)
    sold_cost = t.cogs * (1.0 + pol.order_change)
    return {"policy": name, "orders": n_orders, "returns": float(scale_r.sum()),
            "return_rate": float(scale_r.sum()) / n_orders if n_orders else float("nan"),  # lines per order
            "revenue": rev, "refunds": refunds, "handling": handling,
            "margin": rev - sold_cost - refunds + recovered - replacement - handling}
