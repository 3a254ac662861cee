"""Stage 12, the loyalty programme: points earned at delivery, redeemed or expired, and
monthly tiers from trailing 12-month spend (``truth["loyalty"]``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import schema
from ._arrays import _cat, _codes, _ts
from .customers import Customers
from .orders import Orders
from .timeline import Timeline

ENTRY_TYPES = ("earn", "redeem", "expire", "tier_change")


@dataclass(frozen=True)
class LoyaltyConfig:
    """Planted points and tiers.

    Parameters
    ----------
    nt_per_point : float
        One point per this many NT$ paid, credited at delivery.
    point_value_nt : float
        What a point is worth (NT$).
    redeem_share : tuple of float
        Chance an earn lot is redeemed, by segment; redemption comes Exponential(
        ``redeem_mean_days``) days after earning, if before expiry.
    expiry_days, expiry_months : int
        A lot not redeemed expires after this long.
    tier_thresholds : tuple of float
        Trailing 12-month spend (NT$) for silver, gold, platinum, evaluated on the 1st of each
        month over ``tier_months`` months.
    """

    nt_per_point: float = 100
    point_value_nt: float = 1.0
    redeem_share: tuple[float, ...] = (0.5, 0.65, 0.45, 0.15)
    redeem_mean_days: float = 120.0
    expiry_days: int = 365
    expiry_months: int = 12
    tier_thresholds: tuple[float, ...] = (5000.0, 20000.0, 60000.0)
    tier_months: int = 12


LOYALTY = LoyaltyConfig()


def _points(rng: np.random.Generator, o: pd.DataFrame, amt: np.ndarray, seg: np.ndarray, n_days: int,
            cfg: LoyaltyConfig) -> list[pd.DataFrame]:
    """Earn, redeem and expire entries (customer, day, type, points, order, tier)."""
    pts = np.floor(amt / cfg.nt_per_point).astype(np.int64)
    earn_day = np.minimum(o["delivered"].to_numpy(), n_days - 1e-3)
    m = pts > 0
    e_cust, e_day, e_pts, e_order = o["cust"].to_numpy()[m], earn_day[m], pts[m], np.flatnonzero(m)
    redeem = rng.random(len(e_cust)) < np.array(cfg.redeem_share)[seg[e_cust]]
    r_day = e_day + rng.exponential(cfg.redeem_mean_days, len(e_cust))
    expiry = e_day + cfg.expiry_days
    redeemed = redeem & (r_day < expiry) & (r_day < n_days)
    expired = ~(redeem & (r_day < expiry)) & (expiry < n_days)
    return [
        pd.DataFrame({"cust": e_cust, "day": e_day, "type": 0, "points": e_pts, "order": e_order, "tier": -1}),
        pd.DataFrame({"cust": e_cust[redeemed], "day": r_day[redeemed], "type": 1, "points": -e_pts[redeemed],
                      "order": -1, "tier": -1}),
        pd.DataFrame({"cust": e_cust[expired], "day": expiry[expired], "type": 2, "points": -e_pts[expired],
                      "order": -1, "tier": -1}),
    ]


def _tiers(o: pd.DataFrame, amt: np.ndarray, n_c: int, tl: Timeline, cfg: LoyaltyConfig) -> pd.DataFrame:
    """Tier changes: evaluated on the 1st of each month from the spend of the 12 months before."""
    month_starts = pd.date_range(tl.start, tl.end, freq="MS")
    md = np.array([tl.day_of(t) for t in month_starts])
    k = cfg.tier_months
    o_month = np.searchsorted(md, o["time"].to_numpy(), side="right") - 1
    spend = np.zeros((n_c, len(md)))
    np.add.at(spend, (o["cust"].to_numpy(), o_month), amt)
    cum = np.cumsum(spend, axis=1)
    trailing = cum - np.c_[np.zeros((n_c, k)), cum[:, :-k]][:, : len(md)] if len(md) > k else cum
    prev = np.c_[np.zeros((n_c, 1)), trailing[:, :-1]]
    tier = np.searchsorted(np.array(cfg.tier_thresholds), prev, side="right")
    change = np.c_[tier[:, :1] != 0, tier[:, 1:] != tier[:, :-1]]
    cc, mm = np.nonzero(change)
    return pd.DataFrame({"cust": cc, "day": md[mm], "type": 3, "points": 0, "order": -1, "tier": tier[cc, mm]})


def draw_loyalty(rng: np.random.Generator, customers: Customers, orders: Orders, tl: Timeline,
                 cfg: LoyaltyConfig = LOYALTY) -> pd.DataFrame:
    """The ``loyalty_ledger`` table: each earn lot is redeemed later or expires; tier changes."""
    o = orders.frame
    amt = orders.orders["amount"].to_numpy()
    parts = _points(rng, o, amt, customers.seg, tl.n_days, cfg)
    parts.append(_tiers(o, amt, customers.n, tl, cfg))
    led = pd.concat(parts, ignore_index=True).sort_values(["day", "cust"], kind="stable").reset_index(drop=True)
    order = led["order"].to_numpy()
    tr = led["tier"].to_numpy()
    return pd.DataFrame({
        "entry_id": np.arange(1, len(led) + 1),
        "customer_id": led["cust"].to_numpy() + 1,
        "ts": _ts(tl.start, led["day"].to_numpy()),
        "entry_type": _codes(led["type"].to_numpy(), ENTRY_TYPES),
        "points": led["points"].to_numpy().astype(np.int64),
        "order_id": pd.arrays.IntegerArray(np.clip(order, 0, None) + 1, order < 0),
        "tier": _cat(np.where(tr >= 0, np.asarray(schema.TIERS, dtype=object)[np.clip(tr, 0, None)], None),
                     schema.TIERS),
    })
