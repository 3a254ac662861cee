"""Stage 4, campaigns: monthly sends with a randomised holdout, their planted uplift, and
(after the orders exist) each contact's outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import schema
from ._arrays import DAY_KEY, _cat, _group_rank
from .customers import Customers
from .purchases import Purchases
from .timeline import Timeline

CATS = schema.CATEGORIES


@dataclass(frozen=True)
class CampaignConfig:
    """The campaign calendar, targeting, planted uplift and contact behaviour.

    Parameters
    ----------
    first_after_days, last_before_end_days : int
        Campaigns go out monthly between these margins of the window, ``send_offset``
        after the first of the month.
    channels, offers, rules : tuple of str
        Rotated campaign by campaign (channel k % 4, offer k % 4, targeting rule k % 4).
    cost_per_contact : dict
        NT$ per contact by channel.
    discount : dict
        Coupon discount by offer (share of the list price).
    window_days : int
        A campaign's response window after the send.
    segment_uplift : tuple of float
        Planted uplift by segment (``truth["uplift_planted"]``, times the knob
        ``campaign_uplift_scale``): positive, the chance a treated, alive customer makes one
        extra purchase in the window; negative (casual "sleeping dogs"), the chance each organic
        order in the window is lost.
    uplift_sd : float
        Customer-level noise around a positive segment uplift.
    active_days, lapsed_days : int
        Recency bounds of the "active_90d" and "lapsed_90_365d" rules.
    random_share : float
        Share of opted-in members the "all_opted_in" rule picks at random.
    extra_order_mean_days : float
        An incremental order comes Exponential(mean) days after the send.
    open_rate : dict
        Chance a sent contact is opened, by channel.
    click_if_converted, click_otherwise : float
        Chance an opened contact is clicked, for customers who do / do not buy in the window.
    """

    first_after_days: int = 35
    last_before_end_days: int = 20
    send_offset: pd.Timedelta = pd.Timedelta(days=4, hours=10)
    channels: tuple[str, ...] = ("email", "sms", "app_push", "line")
    offers: tuple[str, ...] = ("pct_off", "amount_off", "free_shipping", "points_x2")
    rules: tuple[str, ...] = ("active_90d", "lapsed_90_365d", "all_opted_in", "interest")
    cost_per_contact: dict[str, float] = field(default_factory=lambda: {
        "email": 0.5, "sms": 1.5, "app_push": 0.1, "line": 0.8})
    discount: dict[str, float] = field(default_factory=lambda: {
        "pct_off": 0.15, "amount_off": 0.10, "free_shipping": 0.05, "points_x2": 0.03})
    window_days: int = 14
    segment_uplift: tuple[float, ...] = (0.01, 0.12, 0.06, -0.35)
    uplift_sd: float = 0.015
    active_days: int = 90
    lapsed_days: int = 365
    random_share: float = 0.5
    extra_order_mean_days: float = 3.0
    open_rate: dict[str, float] = field(default_factory=lambda: {
        "email": 0.25, "sms": 0.9, "app_push": 0.4, "line": 0.6})
    click_if_converted: float = 0.6
    click_otherwise: float = 0.12


CAMPAIGNS = CampaignConfig()


@dataclass(frozen=True)
class Campaigns:
    """The ``campaigns`` table, the raw contacts (campaign, customer, treated, send day d0,
    window), each contact's individual treatment effect on conversion (``ite``) and the
    purchase log after treatment (incremental orders added, lost orders removed)."""

    table: pd.DataFrame
    contacts: pd.DataFrame
    ite: pd.DataFrame
    purchases: pd.DataFrame


class _History:
    """Each customer's purchase days, sorted, searchable by (customer, day)."""

    def __init__(self, log: pd.DataFrame, n: int) -> None:
        cust_arr, day_arr = log["cust"].to_numpy(), log["day"].to_numpy()
        self.order = np.argsort(cust_arr * DAY_KEY + day_arr, kind="stable")
        self.cust, self.day = cust_arr[self.order], day_arr[self.order]
        self.key = self.cust * DAY_KEY + self.day  # (customer, day) as one sorted key
        self.first = np.searchsorted(self.key, np.arange(n) * DAY_KEY - 1)  # first row of each customer
        self.n = n

    def recency(self, d0: float) -> np.ndarray:
        """Days since each customer's last purchase before ``d0`` (inf without one)."""
        everyone = np.arange(self.n)
        pos = np.searchsorted(self.key, everyone * DAY_KEY + d0) - 1
        has_prev = (pos >= 0) & (self.cust[np.clip(pos, 0, None)] == everyone)
        return d0 - np.where(has_prev, self.day[np.clip(pos, 0, None)], -np.inf)


def _target(rng: np.random.Generator, rule: str, interest_cat: str, eligible: np.ndarray, recency: np.ndarray,
            taste: np.ndarray, cfg: CampaignConfig) -> tuple[np.ndarray, str]:
    """Who a campaign's rule targets, and the rule in words."""
    if rule == "active_90d":
        return eligible & (recency <= cfg.active_days), \
            f"opted-in members who bought in the last {cfg.active_days} days"
    if rule == "lapsed_90_365d":
        return eligible & (recency > cfg.active_days) & (recency <= cfg.lapsed_days), \
            f"opted-in members whose last order was {cfg.active_days}-{cfg.lapsed_days} days ago"
    if rule == "all_opted_in":
        return eligible & (rng.random(len(eligible)) < cfg.random_share), "a random half of all opted-in members"
    return eligible & (np.argmax(taste, axis=1) == CATS.index(interest_cat)), \
        f"opted-in members whose top interest is {interest_cat}"


def _treat(rng: np.random.Generator, ids: np.ndarray, d0: float, hist: _History, customers: Customers,
           death_k: np.ndarray, uplift: np.ndarray, knobs: dict[str, Any], cfg: CampaignConfig) -> dict[str, Any]:
    """Randomise one campaign's holdout and apply the planted effect to the targeted customers."""
    window = cfg.window_days
    treated = rng.random(len(ids)) >= knobs["holdout_share"]
    # Organic purchases in window (baseline conversion) for the targeted customers.
    lo = np.searchsorted(hist.key, ids * DAY_KEY + d0)
    hi = np.searchsorted(hist.key, ids * DAY_KEY + d0 + window)
    organic = hi - lo
    # Alive at send: customer's repeat purchases so far < death_k (or no first purchase yet excluded).
    n_before = lo - hist.first[ids]
    alive = customers.buyer[ids] & ((n_before - 1) < death_k[ids]) & (n_before >= 1)
    tau = uplift[ids]
    inc = treated & alive & (tau > 0) & (rng.random(len(ids)) < np.clip(tau, 0, 1))
    extra_day = d0 + np.minimum(rng.exponential(cfg.extra_order_mean_days, inc.sum()), window - 0.01)
    extra = pd.DataFrame({"cust": ids[inc], "day": extra_day, "first": False, "incremental": True})
    # Sleeping dogs: each organic order in the window is lost with chance -tau.
    neg = treated & (tau < 0) & (organic > 0)
    lost_count = np.zeros(len(ids), dtype=np.int64)
    lost = None
    if neg.any():
        idx_neg = np.flatnonzero(neg)
        owners = np.repeat(idx_neg, organic[idx_neg])
        rows = lo[owners] + _group_rank(owners)
        drop = rng.random(len(rows)) < -tau[owners]
        lost = hist.order[rows[drop]]
        lost_count = np.bincount(owners[drop], minlength=len(ids))
    conv_if_control = organic > 0
    conv_if_treated = ((organic - lost_count) > 0) | inc
    ite = conv_if_treated.astype(float) - conv_if_control.astype(float)
    return {"treated": treated, "extra": extra, "lost": lost, "ite": ite}


def _campaign_table(rows: list[tuple], cfg: CampaignConfig) -> pd.DataFrame:
    """The ``campaigns`` table from one tuple per campaign."""
    c = pd.DataFrame(rows, columns=[
        "campaign_id", "name", "channel", "offer", "discount_pct", "target_rule", "send_ts", "window_days",
        "cost_per_contact", "holdout_share"])
    c["name"] = c["name"].astype("str")
    c["target_rule"] = c["target_rule"].astype("str")
    c["channel"] = _cat(c["channel"], cfg.channels)
    c["offer"] = _cat(c["offer"], cfg.offers)
    c["send_ts"] = c["send_ts"].astype("datetime64[ns]")
    return c


def run_campaigns(rng: np.random.Generator, knobs: dict[str, Any], customers: Customers, purchases: Purchases,
                  tl: Timeline, cfg: CampaignConfig = CAMPAIGNS) -> Campaigns:
    """Monthly campaigns with a randomized holdout; treatment changes purchases in the window."""
    months = pd.date_range(tl.start + pd.Timedelta(days=cfg.first_after_days),
                           tl.end - pd.Timedelta(days=cfg.last_before_end_days), freq="MS")
    n, scale = customers.n, knobs["campaign_uplift_scale"]
    segment_uplift = np.array(cfg.segment_uplift)[customers.seg]
    uplift = np.clip(segment_uplift * scale + rng.normal(0, cfg.uplift_sd, n) * (segment_uplift > 0) * scale,
                     -1.0, 1.0)
    hist = _History(purchases.log, n)
    camp_rows, contact_parts, extra_orders, lost_orders, ite_rows = [], [], [], [], []
    for k, ts in enumerate(months + cfg.send_offset, start=1):
        ch, offer = cfg.channels[(k - 1) % 4], cfg.offers[(k - 1) % 4]
        rule = cfg.rules[(k - 1) % 4]
        d0 = tl.day_of(ts)
        eligible = customers.opt_in & (customers.signup_day < d0)
        target, desc = _target(rng, rule, CATS[(k - 1) % len(CATS)], eligible, hist.recency(d0),
                               customers.taste, cfg)
        ids = np.flatnonzero(target)
        if len(ids) == 0:
            continue
        res = _treat(rng, ids, d0, hist, customers, purchases.death_k, uplift, knobs, cfg)
        extra_orders.append(res["extra"])
        if res["lost"] is not None:
            lost_orders.append(res["lost"])
        ite_rows.append(pd.DataFrame({"campaign_id": k, "customer_id": ids + 1, "treated": res["treated"],
                                      "segment": customers.seg[ids], "ite_conversion": res["ite"]}))
        camp_rows.append((k, f"{ts:%Y-%m} {ch} {offer} ({rule})", ch, offer, cfg.discount[offer],
                          desc, ts, cfg.window_days, cfg.cost_per_contact[ch], knobs["holdout_share"]))
        contact_parts.append(pd.DataFrame({"campaign_id": k, "customer_id": ids + 1, "treated": res["treated"],
                                           "d0": d0, "window": cfg.window_days}))
    contacts = pd.concat(contact_parts, ignore_index=True) if contact_parts else pd.DataFrame(
        columns=["campaign_id", "customer_id", "treated", "d0", "window"])
    ite = pd.concat(ite_rows, ignore_index=True) if ite_rows else pd.DataFrame()
    log = purchases.log
    if lost_orders:
        lost = np.unique(np.concatenate(lost_orders))
        log = log.drop(index=log.index[lost])
    log = pd.concat([log] + extra_orders, ignore_index=True)
    return Campaigns(table=_campaign_table(camp_rows, cfg), contacts=contacts, ite=ite, purchases=log)


def contact_outcomes(rng: np.random.Generator, campaigns: Campaigns, orders_table: pd.DataFrame,
                     order_time: np.ndarray, cfg: CampaignConfig = CAMPAIGNS) -> pd.DataFrame:
    """The ``campaign_contacts`` table: opens and clicks drawn, conversion and revenue read
    from the realised orders in each contact's window."""
    cr = campaigns.contacts
    if len(cr) == 0:
        return pd.DataFrame({c: [] for c in schema.TABLES["campaign_contacts"].column_names})
    o_cust = orders_table["customer_id"].to_numpy()
    o_amt = orders_table["amount"].to_numpy()
    srt = np.lexsort((order_time, o_cust))
    key = o_cust[srt] * DAY_KEY + order_time[srt]
    cumamt = np.r_[0, np.cumsum(o_amt[srt])]
    cid = cr["customer_id"].to_numpy()
    d0 = cr["d0"].to_numpy()
    lo = np.searchsorted(key, cid * DAY_KEY + d0)
    hi = np.searchsorted(key, cid * DAY_KEY + d0 + cr["window"].to_numpy())
    conv = hi > lo
    revenue = cumamt[hi] - cumamt[lo]
    treated = cr["treated"].to_numpy()
    ch = campaigns.table.set_index("campaign_id").loc[cr["campaign_id"].to_numpy(), "channel"].astype(str).to_numpy()
    p_open = pd.Series(ch).map(cfg.open_rate).to_numpy()
    opened = treated & (rng.random(len(cr)) < p_open)
    clicked = opened & (rng.random(len(cr)) < np.where(conv, cfg.click_if_converted, cfg.click_otherwise))
    return pd.DataFrame({
        "campaign_id": cr["campaign_id"].to_numpy().astype(np.int64),
        "customer_id": cid.astype(np.int64),
        "group": _cat(np.where(treated, "treatment", "holdout"), ("treatment", "holdout")),
        "sent": treated,
        "opened": opened,
        "clicked": clicked,
        "converted": conv,
        "revenue": np.round(revenue, 2),
    })
