"""Stage 7, returns: defects (the quality incident among them), late deliveries and fit
drive returns, their reasons, exchanges, costs and processing times."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import schema
from ._arrays import _cat, _categorical_draw, _codes, _ts
from .orders import Orders
from .products import Products
from .timeline import Timeline

CATS = schema.CATEGORIES
#: Reason codes (indices into schema.RETURN_REASONS).
SIZE_FIT, DEFECTIVE, DAMAGED = 0, 1, 5


@dataclass(frozen=True)
class ReturnConfig:
    """Planted return behaviour.

    Parameters
    ----------
    category_return_rate : dict
        Chance a non-defective line is returned, by category (``truth["return_base_rate"]``),
        raised by ``late_effect`` per day late (up to ``late_cap`` days).
    defect_return_prob : float
        A defective line is returned with this chance ...
    defect_reason_defective : float
        ... giving "defective" as reason (else "damaged_in_transit").
    fit_categories : tuple of str
        Categories where size/fit dominates the reasons (``reason_probs_fit``; others
        ``reason_probs_other``; columns as ``schema.RETURN_REASONS``).
    late_reason_days, late_reason_boost : int, float
        Orders this many days late add the boost to "late_delivery".
    exchange_size_fit, exchange_defective, exchange_other : float
        Chance a return is an exchange, by reason.
    request_mean_days, request_days_range : float, tuple
        Request comes Exponential(mean) days after delivery, clipped to the range.
    processing_exchange_days, processing_refund_days, processing_sigma : float
        Lognormal processing time (median days).
    shop_pays_reasons : tuple of int
        Reasons for which the shop pays the return shipping (exchanges always).
    return_shipping : float
        Return shipping cost (NT$).
    bulky_categories, restock_bulky, restock_other : tuple, float, float
        Restocking cost per return (NT$).
    """

    category_return_rate: dict[str, float] = field(default_factory=lambda: {
        "electronics": 0.05, "fashion": 0.17, "beauty": 0.04, "home": 0.05,
        "grocery": 0.01, "kids": 0.06, "sports": 0.07, "books": 0.02,
    })
    late_effect: float = 0.25
    late_cap: int = 4
    defect_return_prob: float = 0.75
    defect_reason_defective: float = 0.85
    fit_categories: tuple[str, ...] = ("fashion", "sports", "kids")
    reason_probs_fit: tuple[float, ...] = (0.55, 0.0, 0.15, 0.2, 0.05, 0.05)
    reason_probs_other: tuple[float, ...] = (0.05, 0.0, 0.35, 0.4, 0.1, 0.1)
    late_reason_days: int = 3
    late_reason_boost: float = 0.5
    exchange_size_fit: float = 0.55
    exchange_defective: float = 0.4
    exchange_other: float = 0.08
    request_mean_days: float = 4.0
    request_days_range: tuple[float, float] = (0.05, 30)
    processing_exchange_days: float = 6.0
    processing_refund_days: float = 4.0
    processing_sigma: float = 0.45
    shop_pays_reasons: tuple[int, ...] = (1, 2, 4, 5)
    return_shipping: float = 80.0
    bulky_categories: tuple[str, ...] = ("electronics", "home")
    restock_bulky: float = 60.0
    restock_other: float = 25.0


RETURNS = ReturnConfig()


@dataclass(frozen=True)
class Returns:
    """The ``returns`` table and the experience flags later stages read: defective lines,
    orders with a defect or a return, and the returned lines (line, order, reason, request day)."""

    table: pd.DataFrame
    line_defect: np.ndarray
    order_defect: np.ndarray
    order_returned: np.ndarray
    lines: pd.DataFrame


def _defects(rng: np.random.Generator, prod: np.ndarray, day: np.ndarray, products: Products,
             knobs: dict[str, Any]) -> np.ndarray:
    """Which lines are defective: the product's defect rate, or the incident's during it."""
    s_day, f_day = products.incident
    defect_rate = products.defect[prod].copy()
    in_incident = (prod == products.incident_product - 1) & (day >= s_day) & (day < f_day)
    defect_rate[in_incident] = knobs["incident_defect_rate"]
    return rng.random(len(prod)) < defect_rate


def _reasons(rng: np.random.Generator, cat: np.ndarray, late: np.ndarray, ret_defect: np.ndarray,
             cfg: ReturnConfig) -> np.ndarray:
    """A return reason per line: fit-heavy categories differ, late orders add late delivery."""
    fit_heavy = np.isin(cat, [CATS.index(c) for c in cfg.fit_categories])
    probs = np.where(fit_heavy[:, None], [list(cfg.reason_probs_fit)], [list(cfg.reason_probs_other)])
    probs[late >= cfg.late_reason_days, 4] += cfg.late_reason_boost
    probs /= probs.sum(axis=1, keepdims=True)
    reason = _categorical_draw(rng, probs)
    return np.where(ret_defect, np.where(rng.random(len(cat)) < cfg.defect_reason_defective, DEFECTIVE, DAMAGED),
                    reason)


def _returns_table(r: dict[str, np.ndarray], idx: np.ndarray, orders: Orders, products: Products,
                   tl: Timeline, cfg: ReturnConfig) -> pd.DataFrame:
    """The ``returns`` table, numbered by request time."""
    ln, o = orders.lines, orders.frame
    prod, order = ln["prod"].to_numpy()[idx], ln["order"].to_numpy()[idx]
    reason, exchange = r["reason"], r["exchange"]
    shop_pays = np.isin(reason, list(cfg.shop_pays_reasons)) | exchange
    bulky = np.isin(products.cat[prod], [CATS.index(c) for c in cfg.bulky_categories])
    table = pd.DataFrame({
        "return_id": np.arange(1, len(idx) + 1),
        "order_id": order + 1,
        "line_no": orders.order_items["line_no"].to_numpy()[idx],
        "product_id": prod + 1,
        "customer_id": o["cust"].to_numpy()[order] + 1,
        "requested_ts": _ts(tl.start, r["req"]),
        "reason": _codes(reason, schema.RETURN_REASONS),
        "return_type": _cat(np.where(exchange, "exchange", "refund"), ("refund", "exchange")),
        "quantity": ln["qty"].to_numpy()[idx],
        "refund_amount": np.where(exchange, 0.0, ln["amount"].to_numpy()[idx]),
        "shipping_cost": np.where(shop_pays, cfg.return_shipping, 0.0),
        "restocking_cost": np.where(bulky, cfg.restock_bulky, cfg.restock_other),
        "processed_ts": pd.Series(_ts(tl.start, r["processed"])).where(~(r["processed"] >= tl.n_days), pd.NaT),
    }).sort_values("requested_ts", kind="stable").reset_index(drop=True)
    table["return_id"] = np.arange(1, len(idx) + 1)
    return table


def draw_returns(rng: np.random.Generator, knobs: dict[str, Any], orders: Orders, products: Products,
                 tl: Timeline, cfg: ReturnConfig = RETURNS) -> Returns:
    """Defects and returns per order line, with reason, exchange, request and processing times."""
    ln, o = orders.lines, orders.frame
    n_l = len(ln)
    prod, order = ln["prod"].to_numpy(), ln["order"].to_numpy()
    cat = products.cat[prod]
    defect = _defects(rng, prod, ln["day"].to_numpy(), products, knobs)
    late = o["delay"].to_numpy()[order]
    base = np.array([cfg.category_return_rate[c] for c in CATS])[cat]
    p_other = base * (1 + cfg.late_effect * np.minimum(late, cfg.late_cap))
    ret_defect = defect & (rng.random(n_l) < cfg.defect_return_prob)
    ret_other = ~defect & (rng.random(n_l) < p_other)
    idx = np.flatnonzero(ret_defect | ret_other)
    reason = _reasons(rng, cat, late, ret_defect, cfg)[idx]
    exch_p = np.select([reason == SIZE_FIT, reason == DEFECTIVE], [cfg.exchange_size_fit, cfg.exchange_defective],
                       cfg.exchange_other)
    exchange = rng.random(len(idx)) < exch_p
    req = o["delivered"].to_numpy()[order[idx]] \
        + rng.exponential(cfg.request_mean_days, len(idx)).clip(*cfg.request_days_range)
    proc_days = rng.lognormal(np.log(np.where(exchange, cfg.processing_exchange_days, cfg.processing_refund_days)),
                              cfg.processing_sigma)
    keep = req < tl.n_days
    r = {"reason": reason[keep], "exchange": exchange[keep], "req": req[keep], "processed": (req + proc_days)[keep]}
    idx = idx[keep]
    # Per-order experience flags for satisfaction.
    order_defect = np.zeros(len(o), bool)
    order_defect[order[defect]] = True
    order_returned = np.zeros(len(o), bool)
    order_returned[order[idx]] = True
    return Returns(table=_returns_table(r, idx, orders, products, tl, cfg), line_defect=defect,
                   order_defect=order_defect, order_returned=order_returned,
                   lines=pd.DataFrame({"line": idx, "order": order[idx], "reason": r["reason"], "req": r["req"]}))
