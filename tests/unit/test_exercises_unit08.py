"""The unit-08 exercise checks accept right answers and reject typical mistakes
(exercises/08_offers_and_experiments_exercises.ipynb, crmlab/exercises/answers/unit08.py).

The right answers here are computed independently of the answer functions (plain pandas /
numpy / scipy), on a shop variant other than the one tests/exercises uses."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import crmlab.exercises as ex
from crmlab.data import simulate
from crmlab.exercises.registry import answers_module

unit08 = answers_module("unit08")


@pytest.fixture(scope="module")
def shop():
    return simulate("tiny", seed=11)


@pytest.fixture(scope="module")
def big(shop):
    cc = shop.campaign_contacts
    sizes = cc.groupby("campaign_id").size()
    k = sizes[sizes == sizes.max()].index.min()
    one = cc.loc[cc["campaign_id"] == k]
    return k, one, (one["group"].astype(str) == "treatment").to_numpy()


def test_conversion_by_group(shop):
    cc = shop.campaign_contacts
    right = cc.groupby(cc["group"].astype(str))["converted"].mean()
    assert ex.check("offers_conversion_by_group", right, data=shop)
    assert ex.check("offers_conversion_by_group", right.to_dict(), data=shop)
    # mistake: counts instead of rates
    wrong = cc.groupby(cc["group"].astype(str))["converted"].sum()
    assert not ex.check("offers_conversion_by_group", wrong, data=shop)


def test_campaign_uplift(shop):
    cc = shop.campaign_contacts.assign(g=lambda f: f["group"].astype(str))
    rates = cc.pivot_table(index="campaign_id", columns="g", values="converted", aggfunc="mean")
    rates = rates.dropna()
    right = rates["treatment"] - rates["holdout"]
    assert ex.check("offers_campaign_uplift", right, data=shop)
    # mistake: the response rate of the treated
    assert not ex.check("offers_campaign_uplift", rates["treatment"], data=shop)
    # mistake: keeping campaigns without a holdout (NaN rows)
    if shop.campaign_contacts["campaign_id"].nunique() > len(rates):
        all_rates = cc.pivot_table(index="campaign_id", columns="g", values="converted", aggfunc="mean")
        assert not ex.check("offers_campaign_uplift", all_rates["treatment"] - all_rates.get("holdout"),
                            data=shop)


def test_newcombe_largest(shop, big):
    _, one, t = big
    y = one["converted"].to_numpy()
    kt, nt, kc, nc = y[t].sum(), t.sum(), y[~t].sum(), (~t).sum()
    z = stats.norm.ppf(0.975)

    def wilson(k, n):
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        return centre - half, centre + half

    pt, pc = kt / nt, kc / nc
    (lt, ut), (lc, uc) = wilson(kt, nt), wilson(kc, nc)
    d = pt - pc
    right = [d - math.hypot(pt - lt, uc - pc), d + math.hypot(ut - pt, pc - lc)]
    assert ex.check("offers_newcombe_largest", right, data=shop)
    # mistake: the Wald interval
    se = math.sqrt(pt * (1 - pt) / nt + pc * (1 - pc) / nc)
    assert not ex.check("offers_newcombe_largest", [d - z * se, d + z * se], data=shop)


def test_welch_revenue(shop, big):
    _, one, t = big
    rev = one["revenue"].to_numpy()
    ci = stats.ttest_ind(rev[t], rev[~t], equal_var=False).confidence_interval()
    assert ex.check("offers_welch_revenue", [ci.low, ci.high], data=shop)
    # mistake: a normal (z) interval instead of t
    se = math.sqrt(rev[t].var(ddof=1) / t.sum() + rev[~t].var(ddof=1) / (~t).sum())
    d = rev[t].mean() - rev[~t].mean()
    assert not ex.check("offers_welch_revenue", [d - 1.96 * se, d + 1.96 * se], data=shop)
    # mistake: population variances (ddof=0) -- too narrow
    se0 = math.sqrt(rev[t].var() / t.sum() + rev[~t].var() / (~t).sum())
    assert not ex.check("offers_welch_revenue", [d - 2 * se0, d + 2 * se0], data=shop)


def test_sample_size(shop):
    cc = shop.campaign_contacts
    pc = cc.loc[cc["group"].astype(str) == "holdout", "converted"].mean()
    pt, r = pc + 0.02, 4.0
    pbar = (pc + r * pt) / (1 + r)
    n = ((stats.norm.ppf(0.975) * math.sqrt(pbar * (1 - pbar) * (1 + 1 / r))
          + stats.norm.ppf(0.8) * math.sqrt(pc * (1 - pc) + pt * (1 - pt) / r)) / 0.02) ** 2
    assert ex.check("offers_sample_size", math.ceil(n), data=shop)
    # mistake: rounding down; mistake: total members instead of the holdout
    assert not ex.check("offers_sample_size", math.floor(n), data=shop)
    assert not ex.check("offers_sample_size", math.ceil(n) + math.ceil(r * n), data=shop)


def test_recency_at_send(shop, big):
    k, one, _ = big
    send = shop.campaigns.set_index("campaign_id").loc[k, "send_ts"]
    o = shop.orders.loc[shop.orders["customer_id"].isin(one["customer_id"])]
    right = (send - o.loc[o["order_ts"] < send].groupby("customer_id")["order_ts"].max()) / pd.Timedelta(days=1)
    assert ex.check("offers_recency_at_send", right, data=shop)
    # mistake: whole days only (floor)
    assert not ex.check("offers_recency_at_send", np.floor(right), data=shop)
    # mistake: <= instead of < does not matter unless an order sits exactly at the send, but
    # counting the campaign window (look-ahead) does
    win = o.loc[o["order_ts"] < send + pd.Timedelta(days=14)].groupby("customer_id")["order_ts"].max()
    assert not ex.check("offers_recency_at_send", (send - win) / pd.Timedelta(days=1), data=shop)


def test_uplift_by_discount_habit(shop):
    cc = shop.campaign_contacts
    sends = shop.campaigns.set_index("campaign_id")["send_ts"]
    rows = []
    for k, cust in cc[["campaign_id", "customer_id"]].itertuples(index=False):
        o = shop.orders.loc[(shop.orders["customer_id"] == cust) & (shop.orders["order_ts"] < sends[k])]
        share = o["discount"].sum() / o["gross_amount"].sum() if len(o) else 0.0
        rows.append((k, cust, "deal" if share > 0.10 else "other"))
    habit = pd.DataFrame(rows, columns=["campaign_id", "customer_id", "habit"])
    m = cc.merge(habit, on=["campaign_id", "customer_id"]).assign(g=lambda f: f["group"].astype(str))
    rate = m.pivot_table(index="habit", columns="g", values="converted", aggfunc="mean")
    right = (rate["treatment"] - rate["holdout"]).to_dict()
    assert ex.check("offers_uplift_by_discount_habit", right, data=shop)
    # mistake: the groups swapped (threshold direction)
    assert not ex.check("offers_uplift_by_discount_habit",
                        {"deal": right["other"], "other": right["deal"]}, data=shop)


def test_qini_by_hand(shop):
    # Sorted by score: contacts 1 (T, bought), 3 (T), 5 (C, bought), 7 (C), 8 (C), 4 (T),
    # 2 (T, bought), 6 (C). Qini after each: 1, 1, 1 - 1*2/1 = -1, 1 - 2/2 = 0, 1 - 2/3,
    # 1 - 3/3 = 0, 2 - 4/3, 2 - 4/4 = 1. Trapezoids of width 1/8 sum to 2.5/8 = 0.3125;
    # minus the random line 1/2 -> -0.1875.
    assert ex.check("offers_qini_by_hand", {"area": 0.3125, "coefficient": -0.1875}, data=shop)
    # mistake: area only (no random line subtracted)
    assert not ex.check("offers_qini_by_hand", {"area": 0.3125, "coefficient": 0.3125}, data=shop)
    # mistake: x as the count of contacts (0..8) instead of the share
    assert not ex.check("offers_qini_by_hand", {"area": 2.5, "coefficient": 2.0}, data=shop)


def test_break_even(shop):
    # (0.5 + 0.12 * 0.8 * 150) / (600 - 0.8 * 150) = 14.9 / 480
    assert ex.check("offers_break_even", 14.9 / 480, data=shop)
    assert not ex.check("offers_break_even", 0.5 / 600, data=shop)  # coupons forgotten
    assert not ex.check("offers_break_even", 14.9 / 600, data=shop)  # coupon on extra orders forgotten


def test_incremental_revenue_by_channel(shop):
    cc = shop.campaign_contacts.merge(shop.campaigns[["campaign_id", "channel"]], on="campaign_id")
    cc["g"] = cc["group"].astype(str)
    parts = {}
    for _, g in cc.groupby("campaign_id"):
        t, h = g.loc[g["g"] == "treatment", "revenue"], g.loc[g["g"] == "holdout", "revenue"]
        if len(t) and len(h):
            ch = str(g["channel"].iloc[0])
            parts[ch] = parts.get(ch, 0.0) + (t.mean() - h.mean()) * len(t)
    right = pd.Series(parts)
    assert ex.check("offers_incremental_revenue_by_channel", right, data=shop)
    # mistake: per contact instead of x treated
    assert not ex.check("offers_incremental_revenue_by_channel", right / 100, data=shop)


def test_best_plan_value(shop):
    menu = [[(0, 0), (30, 20), (18, 8)], [(0, 0), (25, 20), (12, 6)], [(0, 0), (16, 15), (9, 5)],
            [(0, 0), (-5, 20), (2, 5)], [(0, 0), (14, 10), (10, 8)]]
    best = max(sum(v for v, _ in pick) for pick in itertools.product(*menu)
               if sum(c for _, c in pick) <= 40)
    assert best == 61  # A coupon + B, C, E points: 30 + 12 + 9 + 10 for 20 + 6 + 5 + 8 = 39
    assert ex.check("offers_best_plan_value", best, data=shop)
    # mistakes: greedy by value per cost (55), several offers per customer (69)
    assert unit08._plan_ratio_greedy(shop) == 55
    assert not ex.check("offers_best_plan_value", 55, data=shop)
    assert not ex.check("offers_best_plan_value", 69, data=shop)


def _custom_shop():
    """Four order lines with known take-up: two fashion lines, one electronics, one food."""
    from types import SimpleNamespace

    products = pd.DataFrame({"product_id": [1, 2, 3], "category": ["fashion", "electronics", "food"]})
    items = pd.DataFrame({"order_id": [1, 1, 2, 3], "line_no": [1, 2, 1, 1], "product_id": [1, 1, 2, 3]})
    orders = pd.DataFrame({"order_id": [1, 2, 3], "customer_id": [7, 8, 9]})
    cz = pd.DataFrame({"order_id": [1, 1, 1, 2], "line_no": [1, 1, 2, 1],
                       "option": ["gift_wrap", "monogram", "custom_size", "engraving"],
                       "fee": [50.0, 150.0, 350.0, 180.0], "cost": [15.0, 45.0, 140.0, 50.0]})
    return SimpleNamespace(products=products, order_items=items, orders=orders, customizations=cz)


def test_customization_take_up_known_answer():
    # gift wrap: 1 of all 4 lines; engraving: 1 of the 1 electronics line; monogram and custom
    # size: 1 of the 2 fashion lines (food offers only gift wrap)
    expected = {"gift_wrap": 0.25, "engraving": 1.0, "monogram": 0.5, "custom_size": 0.5}
    assert unit08.customization_take_up(_custom_shop()).to_dict() == pytest.approx(expected)
    # margins = fee - cost of the one row each
    margins = {"gift_wrap": 35.0, "engraving": 130.0, "monogram": 105.0, "custom_size": 210.0}
    assert unit08.customization_margin(_custom_shop()).to_dict() == pytest.approx(margins)


def test_customization_take_up(shop):
    cat = shop.order_items["product_id"].map(shop.products.set_index("product_id")["category"].astype(str))
    opt = shop.customizations["option"].astype(str)
    menu = {"gift_wrap": None, "engraving": {"electronics", "home", "sports"},
            "monogram": {"fashion", "kids", "books"}, "custom_size": {"fashion"}}
    right = pd.Series({o: (opt == o).sum() / (len(cat) if c is None else cat.isin(c).sum())
                       for o, c in menu.items()})
    assert ex.check("offers_customization_take_up", right, data=shop)
    assert ex.check("offers_customization_take_up", right.to_dict(), data=shop)
    # mistakes: all lines as the denominator; percent instead of a share
    assert not ex.check("offers_customization_take_up", opt.value_counts() / len(cat), data=shop)
    assert not ex.check("offers_customization_take_up", right * 100, data=shop)
    margin = (shop.customizations["fee"] - shop.customizations["cost"]).groupby(opt).sum()
    assert ex.check("offers_customization_margin", margin, data=shop)
    assert not ex.check("offers_customization_margin", shop.customizations.groupby(opt)["fee"].sum(),
                        data=shop)
