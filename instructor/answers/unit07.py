"""Answers of ``exercises/07_dynamic_pricing_exercises.ipynb`` (notebook 07: dynamic pricing).

Each function computes the expected answer from the shop the student works on (or from the
fixed numbers the exercise states). They take other routes than the notebook's model
solutions -- mostly the ``crmlab.pricing`` helpers where the student works by hand -- so a
passing solution notebook cross-checks both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab import pricing
from crmlab.exercises import convention, mistake, question

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
          hint="First the product: units summed per beauty product over all of price_history, "
               "lowest product_id on ties. Then its unit_cost — not its list price — goes into "
               "the markup formula.")
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
          hint="y2 protects classes 1 AND 2 together against the saver fare: pool their demand "
               "(means add, variances add) and weight their fares by mean demand. y1 is plain "
               "Littlewood between classes 1 and 2. Keep the levels unrounded.")
def emsr_b_levels(shop) -> list[float]:
    table = pricing.emsr_b(EMSR_FARES, EMSR_MEANS, EMSR_SDS)
    return [float(v) for v in table["protection_level"].iloc[:2]]


@question("pricing_gvr_price", rtol=1e-6,
          hint="J(n, t) is what n units are worth with t days left. The price adds to the static "
               "price 1/alpha what the third unit is worth over keeping two; lambda* t is the "
               "expected demand of the remaining days at that static price.")
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


@convention("pricing_emsr_b", "protection levels rounded up to whole seats")
def _emsr_b_up(shop) -> list[float]:
    import math

    return [float(math.ceil(v)) for v in emsr_b_levels(shop)]


@convention("pricing_emsr_b", "protection levels rounded to the nearest whole seat")
def _emsr_b_nearest(shop) -> list[float]:
    return [float(round(v)) for v in emsr_b_levels(shop)]


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


# -- elasticity with date fixed effects, a bandit with regret, a markdown schedule (issue 32):
# the answers come from crmlab.pricing (ElasticityModel, simulate_price_experiment,
# optimize_markdown); the notebook's solutions work them out by hand.

#: The price test of the bandit exercise: three prices and their (planted) purchase chances.
BANDIT_PRICES = (799.0, 899.0, 999.0)
BANDIT_BUY = (0.050, 0.048, 0.038)
BANDIT_ROUNDS = 2000
BANDIT_SEED = 2024  # the simulation's seed, stated in the exercise (same for every student)
#: The markdown exercise: price ladder, Poisson demand per week and price, stock, outlet value.
MD_PRICES = (1000.0, 800.0, 600.0)
MD_RATES = ((1.5, 2.5, 4.0), (1.2, 2.0, 3.2), (0.8, 1.4, 2.4))
MD_STOCK = 6
MD_SALVAGE = 200.0


def _ols_slope(shop, fixed_effects) -> float:
    model = pricing.ElasticityModel(method="ols", by=None, fixed_effects=fixed_effects)
    return float(model.fit(shop.price_history).elasticities_["elasticity"].iloc[0])


@question("pricing_fe_date_slope", rtol=1e-6,
          hint="With two sets of fixed effects one pass of demeaning is not enough on an "
               "unbalanced panel: removing the date means brings back product means. Repeat "
               "the two steps until x and y stop changing, then take the slope.")
def fe_date_slope(shop) -> float:
    return _ols_slope(shop, ("product_id", "date"))


@mistake("pricing_fe_date_slope", "product fixed effects only (the sale-day trap stays in)")
def _product_only(shop) -> float:
    return _ols_slope(shop, ("product_id",))


@mistake("pricing_fe_date_slope", "one pass of demeaning (product, then date) instead of "
         "repeating until nothing changes")
def _one_pass(shop) -> float:
    ph = shop.price_history
    pos = ph.loc[ph["units"] > 0]
    x, y = np.log(pos["price"].to_numpy()), np.log(pos["units"].to_numpy())
    for key in ("product_id", "date"):
        codes, _ = pd.factorize(pos[key])
        n = np.bincount(codes)
        x = x - (np.bincount(codes, weights=x) / n)[codes]
        y = y - (np.bincount(codes, weights=y) / n)[codes]
    return float((x * y).sum() / (x * x).sum())


def _bandit_logs(shop) -> dict[str, pd.DataFrame]:
    return {policy: pricing.simulate_price_experiment(BANDIT_PRICES, BANDIT_BUY, BANDIT_ROUNDS,
                                                      policy=policy, seed=BANDIT_SEED)
            for policy in ("thompson", "explore_then_commit")}


@question("pricing_bandit_regret", rtol=1e-6,
          hint="Regret compares what each round's price could EXPECT to earn with what the best "
               "price expects (price x purchase chance): it is planted, not the noisy revenue "
               "the round happened to make. Add it up over all rounds of each log.")
def bandit_regret(shop) -> dict[str, float]:
    return {policy: float(log["cum_regret"].iloc[-1]) for policy, log in _bandit_logs(shop).items()}


@mistake("pricing_bandit_regret", "regret from the revenue each round happened to earn "
         "(noise), not the expected revenue")
def _realised_regret(shop) -> dict[str, float]:
    best = max(p * b for p, b in zip(BANDIT_PRICES, BANDIT_BUY, strict=True))
    return {policy: float((best - log["revenue"]).sum())
            for policy, log in _bandit_logs(shop).items()}


@mistake("pricing_bandit_regret", "best price = the one most visitors buy at, not the one "
         "that earns most")
def _best_by_conversion(shop) -> dict[str, float]:
    exp = np.array(BANDIT_PRICES) * np.array(BANDIT_BUY)
    best = exp[int(np.argmax(BANDIT_BUY))]
    return {policy: float((best - exp[log["price_index"].to_numpy()]).sum())
            for policy, log in _bandit_logs(shop).items()}


@mistake("pricing_bandit_regret", "mean regret per round instead of the total")
def _mean_regret(shop) -> dict[str, float]:
    return {policy: float(log["regret"].mean()) for policy, log in _bandit_logs(shop).items()}


def _markdown(salvage: float = MD_SALVAGE, monotone: bool = True) -> pricing.MarkdownPlan:
    return pricing.optimize_markdown(MD_PRICES, MD_RATES, MD_STOCK, salvage=salvage,
                                     monotone=monotone)


@question("pricing_markdown_plan", rtol=1e-6,
          hint="Work backwards from the end of the season: after week 3 a unit is worth the "
               "outlet value. In each week and for each stock level and current price, try every "
               "price not above the current one; a week sells min(demand, stock), with demand "
               "Poisson. Answer the expected revenue from the start and the week-1 price.")
def markdown_plan(shop) -> dict[str, float]:
    plan = _markdown()
    return {"expected_revenue": plan.expected_revenue,
            "first_price": float(plan.prices[plan.policy[0, MD_STOCK, 0]])}


@mistake("pricing_markdown_plan", "leftover units worth nothing (outlet value forgotten)")
def _no_salvage(shop) -> dict[str, float]:
    plan = _markdown(salvage=0.0)
    return {"expected_revenue": plan.expected_revenue,
            "first_price": float(plan.prices[plan.policy[0, MD_STOCK, 0]])}


@mistake("pricing_markdown_plan", "one fixed price for the whole season (no markdown)")
def _fixed_price(shop) -> dict[str, float]:
    best = None
    for j, p in enumerate(MD_PRICES):
        one = pricing.optimize_markdown([p], [[r[j]] for r in MD_RATES], MD_STOCK,
                                        salvage=MD_SALVAGE)
        if best is None or one.expected_revenue > best[0]:
            best = (one.expected_revenue, p)
    return {"expected_revenue": float(best[0]), "first_price": float(best[1])}
