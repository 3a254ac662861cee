"""Answers of ``exercises/07_dynamic_pricing_exercises.ipynb`` (unit 3b: dynamic pricing).

Each function computes the expected answer from the shop the student works on (or from the
fixed numbers the exercise states). They take other routes than the notebook's model
solutions -- mostly the ``crmlab.pricing`` helpers where the student works by hand -- so a
passing solution notebook cross-checks both.
"""

from __future__ import annotations

import pandas as pd

from crmlab import pricing
from crmlab.exercises import mistake, question

#: Numbers stated in the exercise texts (kept here so texts and answers agree).
CE_ELASTICITY = -2.5
EMSR_FARES = (4200.0, 2600.0, 1500.0)
EMSR_MEANS = (20.0, 45.0, 80.0)
EMSR_SDS = (8.0, 15.0, 25.0)
GVR = {"inventory": 3, "time_left": 10.0, "scale": 2.0, "alpha": 1 / 500}
APP_PRICE, WEB_PRICE = 950.0, 1000.0


@question("pricing_promo_share",
          hint="A product-day is 'on promotion' when its price is below the product's list "
               "price (the on_promotion column says exactly that). Share = promotion rows / "
               "all rows of price_history, a number between 0 and 1.")
def promo_share(shop) -> float:
    ph = shop.price_history
    return float(ph["on_promotion"].sum() / len(ph))


@question("pricing_discount_by_category", ignore_row_order=True,
          hint="Join products (category, list_price) to price_history, keep the promotion "
               "days, and per category count them (promo_days) and average "
               "1 - price / list_price (avg_discount, a share such as 0.15).")
def discount_by_category(shop) -> pd.DataFrame:
    panel = pricing.pricing_panel(shop.price_history, shop.products)
    promo = panel.loc[panel["on_promotion"]]
    out = promo.groupby(promo["category"].astype("str")).agg(
        promo_days=("rel_price", "size"), avg_discount=("rel_price", lambda r: float((1 - r).mean())))
    return out.rename_axis("category").reset_index()


def _top_seller(shop, category: str) -> int:
    """Product of ``category`` with the most units in price_history (lowest id on ties)."""
    panel = pricing.pricing_panel(shop.price_history, shop.products)
    units = panel.loc[panel["category"].astype("str") == category].groupby("product_id")[
        "units"].sum()
    top = units[units == units.max()]
    return int(top.index.min())


@question("pricing_ce_optimal_price",
          hint="Find the beauty product with the most units sold in price_history; with "
               "constant elasticity e = -2.5 the best price is unit_cost * e / (1 + e).")
def ce_optimal_price(shop) -> float:
    pid = _top_seller(shop, "beauty")
    cost = float(shop.products.set_index("product_id").loc[pid, "unit_cost"])
    return pricing.ConstantElasticityDemand(1.0, CE_ELASTICITY).optimal_price(cost)


@question("pricing_fe_slope",
          hint="Keep rows with units > 0; take x = log(price), y = log(units); subtract each "
               "product's mean of x and of y; slope = sum(x~ * y~) / sum(x~ ** 2).")
def fe_slope(shop) -> float:
    model = pricing.ElasticityModel(method="ols", by=None, fixed_effects=("product_id",))
    return float(model.fit(shop.price_history).elasticities_["elasticity"].iloc[0])


@question("pricing_sale_days",
          hint="A sitewide sale day is a date on which every row of price_history is on "
               "promotion. Per date: total units and the mean of price / list_price. Then "
               "units_ratio = mean daily units on sale days / on other days, and price_ratio "
               "the same for the mean relative price; n_sale_days counts the sale days.")
def sale_days(shop) -> dict:
    panel = pricing.pricing_panel(shop.price_history, shop.products)
    daily = panel.groupby("date").agg(all_promo=("on_promotion", "all"), units=("units", "sum"),
                                      rel=("rel_price", "mean"))
    sale, other = daily.loc[daily["all_promo"]], daily.loc[~daily["all_promo"]]
    return {"n_sale_days": len(sale),
            "units_ratio": float(sale["units"].mean() / other["units"].mean()),
            "price_ratio": float(sale["rel"].mean() / other["rel"].mean())}


@question("pricing_emsr_b", rtol=1e-4,
          hint="Class 1 vs 2: Littlewood with class 1's demand. Class 3: pool classes 1 and 2 "
               "(mean 65, sd sqrt(8^2 + 15^2), demand-weighted fare) and apply Littlewood "
               "against fare 1500. Answer [y1, y2] as a list.")
def emsr_b_levels(shop) -> list[float]:
    table = pricing.emsr_b(EMSR_FARES, EMSR_MEANS, EMSR_SDS)
    return [float(v) for v in table["protection_level"].iloc[:2]]


@question("pricing_gvr_price", rtol=1e-6,
          hint="J(n, t) = (1/alpha) * ln(sum_{i=0..n} (lambda* t)^i / i!) with lambda* = a / e; "
               "the price is 1/alpha + J(3, t) - J(2, t).")
def gvr_price(shop) -> float:
    return float(pricing.gvr_price(GVR["inventory"], GVR["time_left"], GVR["scale"],
                                   GVR["alpha"]))


@question("pricing_app_price_by_age", ignore_row_order=True,
          hint="Give every member a price: 950 if their device is 'mobile_app', otherwise "
               "1000. Then the mean price per age_band (columns age_band, mean_price; only "
               "age bands that have members).")
def app_price_by_age(shop) -> pd.DataFrame:
    c = shop.customers
    price = pd.Series(WEB_PRICE, index=c.index).mask(c["device"].astype("str") == "mobile_app",
                                                     APP_PRICE)
    out = price.groupby(c["age_band"].astype("str")).mean()
    return out.rename("mean_price").rename_axis("age_band").reset_index()


# -- typical mistakes that the checks must reject (run by tests/exercises) ------------------


@mistake("pricing_promo_share", "a count of promotion rows instead of a share")
def _promo_count(shop) -> int:
    return int(shop.price_history["on_promotion"].sum())


@mistake("pricing_ce_optimal_price", "markup applied to the list price instead of the cost")
def _markup_on_list_price(shop) -> float:
    pid = _top_seller(shop, "beauty")
    lp = float(shop.products.set_index("product_id").loc[pid, "list_price"])
    return lp * CE_ELASTICITY / (1 + CE_ELASTICITY)


@mistake("pricing_fe_slope", "no product fixed effects (pooled cross-section slope)")
def _pooled_slope(shop) -> float:
    model = pricing.ElasticityModel(method="ols", by=None, fixed_effects=())
    return float(model.fit(shop.price_history).elasticities_["elasticity"].iloc[0])


@mistake("pricing_emsr_b", "EMSR-a (sum of pairwise Littlewood levels) instead of EMSR-b")
def _emsr_a_levels(shop) -> list[float]:
    table = pricing.emsr_a(EMSR_FARES, EMSR_MEANS, EMSR_SDS)
    return [float(v) for v in table["protection_level"].iloc[:2]]


@mistake("pricing_gvr_price", "the static revenue-maximizing price 1/alpha")
def _static_price(shop) -> float:
    return 1 / GVR["alpha"]


@mistake("pricing_sale_days", "units ratio upside down (other days / sale days)")
def _ratio_flipped(shop) -> dict:
    right = sale_days(shop)
    return {**right, "units_ratio": 1 / right["units_ratio"]}
