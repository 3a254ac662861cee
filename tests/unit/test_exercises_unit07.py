"""The unit-07 exercise checks accept right answers and reject typical mistakes
(exercises/07_dynamic_pricing_exercises.ipynb, crmlab/exercises/answers/unit07.py)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

import crmlab.exercises as ex
from crmlab.data import simulate
from crmlab.exercises.registry import answers_module

unit07 = answers_module("unit07")


@pytest.fixture(scope="module")
def shop():
    return simulate("tiny", seed=11, detail="orders")


def test_promo_share(shop):
    ph = shop.price_history
    right = float(ph["on_promotion"].mean())
    assert 0 < right < 1
    assert ex.check("pricing_promo_share", right, data=shop)
    # mistake: a count instead of a share
    assert not ex.check("pricing_promo_share", int(ph["on_promotion"].sum()), data=shop)


def test_discount_by_category(shop):
    ph = shop.price_history.merge(shop.products[["product_id", "category", "list_price"]],
                                  on="product_id")
    promo = ph.loc[ph["on_promotion"]].assign(d=lambda f: 1 - f["price"] / f["list_price"])
    right = promo.groupby("category", observed=True).agg(
        promo_days=("d", "size"), avg_discount=("d", "mean")).reset_index()
    assert ex.check("pricing_discount_by_category", right, data=shop)
    # mistake: averaging the discount over all days (zeros included)
    allrows = ph.assign(d=lambda f: 1 - f["price"] / f["list_price"])
    wrong = right.assign(avg_discount=allrows.groupby("category", observed=True)["d"].mean()
                         .to_numpy())
    assert not ex.check("pricing_discount_by_category", wrong, data=shop)


def test_ce_optimal_price(shop):
    # Known answer: with e = -2.5 the optimal price is 5/3 of the unit cost.
    cost = float(shop.products.set_index("product_id").loc[unit07._top_seller(shop, "beauty"),
                                                              "unit_cost"])
    assert ex.check("pricing_ce_optimal_price", cost * 5 / 3, data=shop)
    # mistake: the Lerner markup applied to the list price instead of the unit cost
    lp = float(shop.products.set_index("product_id").loc[unit07._top_seller(shop, "beauty"),
                                                            "list_price"])
    assert not ex.check("pricing_ce_optimal_price", lp * 5 / 3, data=shop)
    # mistake: e / (1 + e) with the sign flipped -> a price below cost
    assert not ex.check("pricing_ce_optimal_price", cost * 2.5 / 3.5, data=shop)


def test_fe_slope(shop):
    pos = shop.price_history.loc[shop.price_history["units"] > 0].copy()
    pos["x"], pos["y"] = np.log(pos["price"]), np.log(pos["units"])
    xt = pos["x"] - pos.groupby("product_id")["x"].transform("mean")
    yt = pos["y"] - pos.groupby("product_id")["y"].transform("mean")
    right = float((xt * yt).sum() / (xt**2).sum())
    assert ex.check("pricing_fe_slope", right, data=shop)
    # mistake: no fixed effects (pooled cross-section slope)
    pooled = float(np.polyfit(pos["x"], pos["y"], 1)[0])
    assert not ex.check("pricing_fe_slope", pooled, data=shop)


def test_sale_days(shop):
    ans = unit07.sale_days(shop)
    # the shop plants 618 (9 days), Double 11 (11) and Black Friday (4) in 2024
    assert ans["n_sale_days"] == 24
    assert ans["units_ratio"] > 1 and ans["price_ratio"] < 1
    assert ex.check("pricing_sale_days", ans, data=shop)
    wrong = {**ans, "units_ratio": 1 / ans["units_ratio"]}  # ratio upside down
    assert not ex.check("pricing_sale_days", wrong, data=shop)


def test_emsr_b(shop):
    # By hand: y1 = 20 + 8 z(1 - 2600/4200); y2 from the pooled class 1+2.
    y1 = 20 + 8 * norm.ppf(1 - 2600 / 4200)
    fbar = (4200 * 20 + 2600 * 45) / 65
    y2 = 65 + math.sqrt(8**2 + 15**2) * norm.ppf(1 - 1500 / fbar)
    assert ex.check("pricing_emsr_b", [y1, y2], data=shop)
    # mistake: EMSR-a (sum of pairwise Littlewood levels) for y2
    y2_a = (20 + 8 * norm.ppf(1 - 1500 / 4200)) + (45 + 15 * norm.ppf(1 - 1500 / 2600))
    assert abs(y2_a - y2) > 0.5
    assert not ex.check("pricing_emsr_b", [y1, y2_a], data=shop)


def test_gvr_price(shop):
    lt = 2 / math.e * 10

    def j(n):
        return 500 * math.log(sum(lt**i / math.factorial(i) for i in range(n + 1)))

    assert ex.check("pricing_gvr_price", 500 + j(3) - j(2), data=shop)
    # mistake: the static revenue-maximizing price 1/alpha
    assert not ex.check("pricing_gvr_price", 500.0, data=shop)


def test_app_price_by_age(shop):
    c = shop.customers
    price = np.where(c["device"].astype(str) == "mobile_app", 950.0, 1000.0)
    right = pd.Series(price).groupby(c["age_band"].astype(str).to_numpy()).mean()
    assert ex.check("pricing_app_price_by_age", right.rename_axis("age_band")
                    .rename("mean_price").reset_index(), data=shop)
    # mistake: discount given to the wrong group (everyone not on the app)
    flipped = 1950.0 - right
    assert not ex.check("pricing_app_price_by_age", flipped.rename_axis("age_band")
                        .rename("mean_price").reset_index(), data=shop)
