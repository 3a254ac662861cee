"""Stage 5, orders: a basket budget (Gamma-Gamma) filled with chosen products, coupons,
delivery, and the daily price history with stock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import schema
from ..calendar import sample_hours
from ._arrays import _categorical_draw, _codes, _group_rank, _sorted_unique, _ts, _unique_inverse
from .campaigns import Campaigns
from .customers import Customers
from .products import ChoiceModel, Prices, Products
from .timeline import Timeline

CATS = schema.CATEGORIES
STORE = schema.CHANNELS_ORDER.index("store")
Matrix = tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class OrderConfig:
    """Baskets, coupons, channels, delivery and stock.

    Parameters
    ----------
    max_lines, min_lines : int
        Candidate lines per order: ``ceil(budget / nt_per_line) + extra_lines``, clipped to
        ``[min_lines, max_lines]``; the basket keeps those that fit.
    nt_per_line : float
        Budget (NT$) per candidate line.
    extra_lines : int
        Candidates added to that count.
    second_unit_grocery, second_unit_other : float
        Chance a line has quantity 2 (grocery / other categories).
    budget_slack : float
        A candidate is kept while the basket stays under ``budget_slack * budget``.
    coupon_use : float
        Chance a treated contact's organic order in the campaign window uses the coupon
        (incremental orders always do).
    segment_channel : tuple of tuples
        Order channel (web, app, marketplace, store) per segment (``SEGMENT_CHANNEL``).
    promised_days, delay_mean : tuple
        Promised delivery days and mean extra delay (Poisson) by region.
    peak_weight, peak_delay : float
        Days with demand weight above ``peak_weight`` add ``peak_delay`` to the mean delay.
    handover_days : tuple of float
        Time of day of delivery: Uniform(low, high) days after the promised day count.
    restock_days, restock_cover : int, float
        Stock is refilled every ``restock_days`` to ``restock_cover`` times the cycle's sales
        plus ``restock_buffer`` (uniform integers) units.
    """

    max_lines: int = 10
    min_lines: int = 3
    nt_per_line: float = 400.0
    extra_lines: int = 2
    second_unit_grocery: float = 0.35
    second_unit_other: float = 0.08
    budget_slack: float = 1.1
    coupon_use: float = 0.7
    segment_channel: Matrix = (  # web, app, marketplace, store
        (0.30, 0.50, 0.05, 0.15),
        (0.25, 0.25, 0.45, 0.05),
        (0.35, 0.30, 0.15, 0.20),
        (0.50, 0.10, 0.30, 0.10),
    )
    promised_days: tuple[int, ...] = (1, 2, 2, 3)
    delay_mean: tuple[float, ...] = (0.25, 0.35, 0.35, 1.1)
    peak_weight: float = 1.6
    peak_delay: float = 1.4
    handover_days: tuple[float, float] = (0.1, 0.4)
    restock_days: int = 14
    restock_cover: float = 1.25
    restock_buffer: tuple[int, int] = (3, 12)


ORDERS = OrderConfig()


@dataclass(frozen=True)
class Orders:
    """Orders and lines for the later stages, plus the three tables of this stage.

    ``frame`` has one row per order (0-based ``cust``, ``day``, float ``time``, ``seg``,
    ``channel`` code, ``delay`` beyond the promise, ``delivered`` day, ``amount``,
    ``incremental``, ``first``); ``lines`` one row per line (``order`` 0-based, ``prod``
    0-based, ``qty``, ``amount``, ``day``). ``amount_per_budget`` is paid / target budget.
    """

    frame: pd.DataFrame
    lines: pd.DataFrame
    amount_per_budget: float
    orders: pd.DataFrame
    order_items: pd.DataFrame
    price_history: pd.DataFrame


def _basket(rng: np.random.Generator, budget: np.ndarray, cust: np.ndarray, seg: np.ndarray, day: np.ndarray,
            customers: Customers, prices: Prices, choice: ChoiceModel, cfg: OrderConfig) -> tuple[np.ndarray, ...]:
    """Candidate lines per order (taste, then product choice) kept greedily under the budget."""
    n_ord, max_lines = len(budget), cfg.max_lines
    n_cand = np.clip(np.ceil(budget / cfg.nt_per_line).astype(np.int64) + cfg.extra_lines, cfg.min_lines, max_lines)
    o_rep = np.repeat(np.arange(n_ord), n_cand)
    slot = _group_rank(o_rep)
    line_cat = _categorical_draw(rng, customers.taste, cust[o_rep])
    line_prod = choice.choose(rng, seg[o_rep], day[o_rep], line_cat)
    qty = 1 + (rng.random(len(o_rep)) < np.where(line_cat == CATS.index("grocery"), cfg.second_unit_grocery,
                                                 cfg.second_unit_other))
    value = np.full((n_ord, max_lines), np.inf)  # missing slots never fit
    value[o_rep, slot] = prices.price[day[o_rep], line_prod] * qty
    # Greedy fill: a candidate is kept if it still fits under the budget (+10% slack);
    # unaffordable candidates are skipped; an order keeps at least its cheapest candidate.
    cap = cfg.budget_slack * budget
    run = np.zeros(n_ord)
    keep = np.zeros((n_ord, max_lines), dtype=bool)
    for j in range(max_lines):  # one vectorised step per candidate slot
        fits = run + value[:, j] <= cap
        keep[:, j] = fits
        run += np.where(fits, value[:, j], 0.0)
    empty = ~keep.any(axis=1)
    keep[np.flatnonzero(empty), np.argmin(value[empty], axis=1)] = True
    keep = keep[o_rep, slot]
    return o_rep[keep], line_prod[keep], qty[keep]


def _copurchase(rng: np.random.Generator, l_order: np.ndarray, l_prod: np.ndarray, l_qty: np.ndarray,
                pairs: list[tuple[int, int]], attach: float, n_prod: int) -> tuple[np.ndarray, ...]:
    """Planted co-purchase (anchor A pulls partner B into the basket), then duplicates merged."""
    add_o, add_p = [], []
    for a_idx, b_idx in pairs:
        has_a = _sorted_unique(l_order[l_prod == a_idx - 1])  # l_order is sorted here
        pull = has_a[rng.random(len(has_a)) < attach]
        add_o.append(pull)
        add_p.append(np.full(len(pull), b_idx - 1))
    if add_o:
        l_order = np.r_[l_order, np.concatenate(add_o)]
        l_prod = np.r_[l_prod, np.concatenate(add_p)]
        l_qty = np.r_[l_qty, np.ones(sum(len(x) for x in add_o), dtype=l_qty.dtype)]
    # Merge duplicate products within an order.
    key = l_order.astype(np.int64) * n_prod + l_prod
    ukey, inv = _unique_inverse(key)
    l_qty = np.bincount(inv, weights=l_qty).astype(np.int64)
    return ukey // n_prod, ukey % n_prod, l_qty


def _coupons(rng: np.random.Generator, campaigns: Campaigns, cust: np.ndarray, dayf: np.ndarray,
             incremental: np.ndarray, n_customers: int, cfg: OrderConfig) -> tuple[np.ndarray, np.ndarray]:
    """Campaign whose coupon each order uses (0: none) and the discount share: treated
    contacts who buy in the window redeem (latest campaign wins)."""
    n_ord = len(cust)
    coupon_camp = np.zeros(n_ord, dtype=np.int64)
    disc_pct = np.zeros(n_ord)
    cr = campaigns.contacts
    if not len(cr):
        return coupon_camp, disc_pct
    camps = campaigns.table.set_index("campaign_id")
    tr = cr.loc[cr["treated"].to_numpy()]
    for k, grp in tr.groupby("campaign_id", sort=True):
        d0 = grp["d0"].iloc[0]
        win = grp["window"].iloc[0]
        in_win = (dayf >= d0) & (dayf < d0 + win)
        is_member = np.zeros(n_customers + 1, dtype=bool)
        is_member[grp["customer_id"].to_numpy()] = True
        member = is_member[cust + 1]
        uses = in_win & member & ((rng.random(n_ord) < cfg.coupon_use) | incremental)
        coupon_camp[uses] = k
    has = coupon_camp > 0
    disc_pct[has] = camps.loc[coupon_camp[has], "discount_pct"].to_numpy()
    return coupon_camp, disc_pct


def _delivery(rng: np.random.Generator, region: np.ndarray, channel: np.ndarray, day: np.ndarray,
              order_time: np.ndarray, demand: np.ndarray, cfg: OrderConfig) -> tuple[np.ndarray, ...]:
    """Promised and actual delivery days and the delivery time (store orders: none)."""
    promised = np.array(cfg.promised_days)[region]
    peak = demand[day] > cfg.peak_weight
    delay = rng.poisson(np.array(cfg.delay_mean)[region] + cfg.peak_delay * peak)
    delivery = np.where(channel == STORE, 0, promised + delay)
    promised = np.where(channel == STORE, 0, promised)
    delivered = order_time + delivery + np.where(channel == STORE, 0,
                                                 rng.uniform(*cfg.handover_days, len(order_time)))
    return promised, delivery, delivered


def _price_history(rng: np.random.Generator, l_day: np.ndarray, l_prod: np.ndarray, l_qty: np.ndarray,
                   products: Products, prices: Prices, tl: Timeline, cfg: OrderConfig) -> pd.DataFrame:
    """Price history: units = sum of order lines per product-day; stock restocked every cycle."""
    n_prod, n_days = products.n, tl.n_days
    units = np.bincount(l_day * n_prod + l_prod, weights=l_qty, minlength=n_days * n_prod)
    units = units.astype(np.int64).reshape(n_days, n_prod)
    cycle = np.arange(n_days) // cfg.restock_days
    cyc_units = np.zeros((cycle.max() + 1, n_prod), dtype=np.int64)
    np.add.at(cyc_units, cycle, units)
    level = np.ceil(cyc_units * cfg.restock_cover).astype(np.int64) \
        + rng.integers(*cfg.restock_buffer, size=cyc_units.shape)
    sold_before = np.zeros_like(units)
    for c in range(cycle.max() + 1):  # one step per cycle
        rows = np.flatnonzero(cycle == c)
        sold_before[rows] = np.cumsum(units[rows], axis=0) - units[rows]
    stock = level[cycle] - sold_before
    launched = np.arange(n_days)[:, None] >= products.launch[None, :]
    dd, pp = np.nonzero(launched)
    return pd.DataFrame({
        "date": (np.datetime64(tl.start, "D") + dd.astype("timedelta64[D]")).astype("datetime64[ns]"),
        "product_id": pp + 1,
        "price": prices.price[dd, pp],
        "on_promotion": prices.on_promo[dd, pp],
        "stock": stock[dd, pp],
        "units": units[dd, pp],
    }, copy=False)


def _orders_table(o: pd.DataFrame, v: dict[str, np.ndarray], tl: Timeline) -> pd.DataFrame:
    """The ``orders`` table (``session_id`` is filled by the session stage)."""
    n_ord, coupon_camp = len(o), v["coupon_camp"]
    n_camp = int(coupon_camp.max()) if n_ord else 0
    coupon = pd.Series(pd.Categorical.from_codes(coupon_camp - 1, categories=[f"CRM{k}" for k in range(1, n_camp + 1)]
                                                 if n_camp else ["CRM1"])).astype("str")
    gross, amount = v["gross"], o["amount"].to_numpy()
    return pd.DataFrame({
        "order_id": np.arange(1, n_ord + 1),
        "customer_id": o["cust"].to_numpy() + 1,
        "order_ts": _ts(tl.start, o["time"].to_numpy()),
        "channel": _codes(o["channel"].to_numpy(), schema.CHANNELS_ORDER),
        "session_id": pd.arrays.IntegerArray(np.zeros(n_ord, dtype=np.int64), np.ones(n_ord, bool)),
        "n_items": v["n_items"],
        "gross_amount": np.round(gross, 2),
        "discount": np.round(np.maximum(gross - amount, 0.0), 2),
        "amount": np.round(amount, 2),
        "coupon_code": coupon,
        "campaign_id": pd.arrays.IntegerArray(coupon_camp, coupon_camp == 0),
        "promised_days": v["promised"].astype(np.int64),
        "delivery_days": v["delivery"].astype(np.int64),
        "delivered_ts": _ts(tl.start, o["delivered"].to_numpy()),
    }, copy=False)


def draw_orders(rng: np.random.Generator, knobs: dict[str, Any], customers: Customers, products: Products,
                prices: Prices, choice: ChoiceModel, campaigns: Campaigns, tl: Timeline,
                cfg: OrderConfig = ORDERS) -> Orders:
    """Orders and order lines: basket budget (Gamma-Gamma) filled with chosen products."""
    purch = campaigns.purchases
    purch = purch.loc[purch["day"] < tl.n_days].sort_values(["day", "cust"], kind="stable").reset_index(drop=True)
    n_ord = len(purch)
    cust = purch["cust"].to_numpy()
    dayf = purch["day"].to_numpy()
    day = np.floor(dayf).astype(np.int64)
    order_time = np.maximum(day + sample_hours(rng, n_ord) / 24.0, customers.signup_day[cust] + 0.01)
    day = np.floor(order_time).astype(np.int64)
    seg = customers.seg[cust]
    budget = rng.gamma(knobs["gg_p"], 1.0 / customers.nu[cust])
    l_order, l_prod, l_qty = _basket(rng, budget, cust, seg, day, customers, prices, choice, cfg)
    l_order, l_prod, l_qty = _copurchase(rng, l_order, l_prod, l_qty, products.pairs, knobs["copurchase_attach"],
                                         products.n)
    l_day = day[l_order]
    l_list = prices.price[l_day, l_prod]
    incremental = purch["incremental"].to_numpy()
    coupon_camp, disc_pct = _coupons(rng, campaigns, cust, dayf, incremental, customers.n, cfg)
    l_unit = np.round(l_list * (1 - disc_pct[l_order]), 2)
    l_amount = np.round(l_unit * l_qty, 2)
    amount = np.bincount(l_order, weights=l_amount, minlength=n_ord)
    channel = _categorical_draw(rng, np.array(cfg.segment_channel), seg)
    promised, delivery, delivered = _delivery(rng, customers.region[cust], channel, day, order_time, tl.demand, cfg)
    # copy=False: the arrays are fresh, and skipping block consolidation saves seconds at scale.
    frame = pd.DataFrame({"cust": cust, "day": day, "time": order_time, "seg": seg, "channel": channel,
                          "delay": delivery - promised, "delivered": delivered, "amount": amount,
                          "incremental": incremental, "first": purch["first"].to_numpy()}, copy=False)
    lines = pd.DataFrame({"order": l_order, "prod": l_prod, "qty": l_qty, "amount": l_amount, "day": l_day},
                         copy=False)
    values = {"coupon_camp": coupon_camp, "promised": promised, "delivery": delivery,
              "gross": np.bincount(l_order, weights=products.price[l_prod] * l_qty, minlength=n_ord),
              "n_items": np.bincount(l_order, weights=l_qty, minlength=n_ord).astype(np.int64)}
    order_items = pd.DataFrame({
        "order_id": l_order + 1,
        "line_no": (_group_rank(l_order) + 1).astype(np.int64),
        "product_id": l_prod + 1,
        "quantity": l_qty,
        "list_price": l_list,
        "unit_price": l_unit,
        "line_amount": l_amount,
    }, copy=False)
    return Orders(frame=frame, lines=lines,
                  amount_per_budget=float(amount.sum() / budget.sum()) if n_ord else 1.0,
                  orders=_orders_table(frame, values, tl), order_items=order_items,
                  price_history=_price_history(rng, l_day, l_prod, l_qty, products, prices, tl, cfg))
