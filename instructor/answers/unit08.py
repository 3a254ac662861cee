"""Answers of ``exercises/08_offers_and_experiments_exercises.ipynb`` (notebook 08: offers,
campaigns and experiments).

Each function computes the expected answer from the shop the student works on (or from the
fixed numbers the exercise states), mostly through the ``crmlab.offers`` helpers; the
notebook's model solutions take the plain pandas/numpy route, so a passing solution run
cross-checks both. Typical mistakes are registered below each question.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy import stats

from crmlab import offers
from crmlab.exercises import convention, mistake, question, variant

#: Numbers stated in the exercise texts (kept here so texts and answers agree).
SAMPLE_LIFT = 0.02  # detect +2 percentage points
SAMPLE_RATIO = 4.0  # 20% holdout: four treated per held-out member
DEAL_THRESHOLD = 0.10  # discount share above which a contact counts as a "deal" customer
QINI_TREATED = [1, 1, 1, 1, 0, 0, 0, 0]
QINI_CONVERTED = [1, 1, 0, 0, 1, 0, 0, 0]
QINI_SCORE = [0.9, 0.2, 0.8, 0.3, 0.7, 0.1, 0.6, 0.4]
BREAK_EVEN = {"margin": 600.0, "send": 0.5, "base_rate": 0.12, "redemption": 0.8, "coupon": 150.0}
PLAN = pd.DataFrame({
    "customer": list("AABBCCDDEE"),
    "offer": ["coupon", "points"] * 5,
    "value": [30.0, 18.0, 25.0, 12.0, 16.0, 9.0, -5.0, 2.0, 14.0, 10.0],
    "cost": [20.0, 8.0, 20.0, 6.0, 15.0, 5.0, 20.0, 5.0, 10.0, 8.0],
})
PLAN_BUDGET = 40.0


def largest_campaign(shop) -> int:
    """The campaign with the most contacts (smallest id on ties)."""
    counts = shop.campaign_contacts.groupby("campaign_id").size()
    return int(counts[counts == counts.max()].index.min())


def _largest_contacts(shop) -> tuple[pd.DataFrame, np.ndarray]:
    cc = shop.campaign_contacts
    one = cc.loc[cc["campaign_id"] == largest_campaign(shop)]
    return one, offers.treatment_flags(one["group"])


def _ab(shop) -> pd.DataFrame:
    return offers.ab_test(shop.campaign_contacts, missing_arm="skip")


# ----------------------------------------------------------------------------- questions


@question("offers_conversion_by_group", ignore_row_order=True,
          hint="Over all contacts of all campaigns: per group ('treatment', 'holdout') the share "
               "of contacts with converted == True. A Series indexed by group, values between 0 "
               "and 1.")
def conversion_by_group(shop) -> pd.Series:
    cc = shop.campaign_contacts
    out = cc.groupby(cc["group"].astype("str"))["converted"].mean()
    return out.rename_axis("group").rename("conversion_rate")


@mistake("offers_conversion_by_group", "counts of converters instead of rates")
def _conv_counts(shop) -> pd.Series:
    cc = shop.campaign_contacts
    return cc.groupby(cc["group"].astype("str"))["converted"].sum().astype("float64")


@mistake("offers_conversion_by_group", "each group's share of all converters")
def _conv_share_of_converters(shop) -> pd.Series:
    cc = shop.campaign_contacts
    conv = cc.loc[cc["converted"]]
    return conv["group"].astype("str").value_counts(normalize=True)


@variant("offers_conversion_by_group", "a dict keyed by group")
def _conv_dict(shop) -> dict:
    return conversion_by_group(shop).to_dict()


@question("offers_campaign_uplift", ignore_row_order=True,
          hint="Per campaign: conversion rate of the treatment group minus conversion rate of "
               "the holdout group. Leave out campaigns that have no holdout (or no treated) "
               "contacts. A Series indexed by campaign_id.")
def campaign_uplift(shop) -> pd.Series:
    ab = _ab(shop)
    return pd.Series(ab["uplift"].to_numpy(), index=pd.Index(ab["campaign_id"].to_numpy(),
                                                             name="campaign_id"), name="uplift")


@mistake("offers_campaign_uplift", "the response rate of the treated (no holdout comparison)")
def _response_rate(shop) -> pd.Series:
    ab = _ab(shop)
    return pd.Series(ab["conv_treatment"].to_numpy(), index=ab["campaign_id"].to_numpy())


@mistake("offers_campaign_uplift", "holdout minus treatment (sign flipped)")
def _uplift_flipped(shop) -> pd.Series:
    return -campaign_uplift(shop)


@question("offers_newcombe_largest", rtol=1e-5,
          hint="Largest campaign (most contacts). With k/n converters per group, take each "
               "group's 95% Wilson interval [l, u]; d = p_t - p_c; low = d - sqrt((p_t - l_t)^2 + "
               "(u_c - p_c)^2), high = d + sqrt((u_t - p_t)^2 + (p_c - l_c)^2). Answer [low, high].")
def newcombe_largest(shop) -> list[float]:
    one, w = _largest_contacts(shop)
    y = one["converted"].to_numpy()
    low, high = offers.proportion_diff_ci(y[w].sum(), w.sum(), y[~w].sum(), (~w).sum())
    return [float(low), float(high)]


@mistake("offers_newcombe_largest", "the Wald interval d +- 1.96 se")
def _wald_largest(shop) -> list[float]:
    one, w = _largest_contacts(shop)
    y = one["converted"].to_numpy()
    low, high = offers.proportion_diff_ci(y[w].sum(), w.sum(), y[~w].sum(), (~w).sum(), method="wald")
    return [float(low), float(high)]


@question("offers_welch_revenue", rtol=1e-5,
          hint="Largest campaign: revenue per contact (0 for non-buyers) in each group. Welch's "
               "interval: se = sqrt(s_t^2/n_t + s_c^2/n_c) with sample variances (ddof=1), "
               "Welch-Satterthwaite degrees of freedom, t quantile 0.975. Answer [low, high] of "
               "mean_t - mean_c.")
def welch_revenue(shop) -> list[float]:
    one, w = _largest_contacts(shop)
    rev = one["revenue"].to_numpy()
    res = offers.mean_diff_ci(rev[w], rev[~w])
    return [res["low"], res["high"]]


@mistake("offers_welch_revenue", "Student's t interval with a pooled (equal) variance")
def _pooled_t(shop) -> list[float]:
    one, w = _largest_contacts(shop)
    rev = one["revenue"].to_numpy()
    ci = stats.ttest_ind(rev[w], rev[~w], equal_var=True).confidence_interval()
    return [float(ci.low), float(ci.high)]


@question("offers_sample_size",
          hint="Three choices decide the number: which rate is p_c (one campaign's, or every "
               "holdout contact pooled?), what r is for a 20% holdout (treated per held-out "
               "member), and the z quantiles — take them from scipy.stats.norm.ppf and round "
               "only the final count, upwards.")
def sample_size(shop) -> int:
    cc = shop.campaign_contacts
    pc = float(cc.loc[~offers.treatment_flags(cc["group"]), "converted"].mean())
    plan = offers.sample_size_two_proportions(pc, pc + SAMPLE_LIFT, ratio=SAMPLE_RATIO)
    return int(plan["n_control"])


def _holdout_rate(shop) -> float:
    cc = shop.campaign_contacts
    return float(cc.loc[~offers.treatment_flags(cc["group"]), "converted"].mean())


@convention("offers_sample_size", "the textbook z values 1.96 and 0.84 instead of the exact "
            "normal quantiles")
def _textbook_z(shop) -> int:
    import math

    pc = _holdout_rate(shop)
    pt, r = pc + SAMPLE_LIFT, SAMPLE_RATIO
    pbar = (pc + r * pt) / (1 + r)
    root = (1.96 * math.sqrt(pbar * (1 - pbar) * (1 + 1 / r))
            + 0.84 * math.sqrt(pc * (1 - pc) + pt * (1 - pt) / r))
    return math.ceil(root**2 / SAMPLE_LIFT**2)


@mistake("offers_sample_size", "rounded down (int() cuts the decimals off)")
def _rounded_down(shop) -> int:
    pc = _holdout_rate(shop)
    plan = offers.sample_size_two_proportions(pc, pc + SAMPLE_LIFT, ratio=SAMPLE_RATIO)
    return int(plan["n_control_exact"])


@mistake("offers_sample_size", "equal allocation (ratio 1) instead of a 20% holdout")
def _equal_allocation(shop) -> int:
    pc = _holdout_rate(shop)
    return int(offers.sample_size_two_proportions(pc, pc + SAMPLE_LIFT)["n_control"])


@mistake("offers_sample_size", "a one-sided test")
def _one_sided(shop) -> int:
    pc = _holdout_rate(shop)
    return int(offers.sample_size_two_proportions(pc, pc + SAMPLE_LIFT, ratio=SAMPLE_RATIO,
                                                  two_sided=False)["n_control"])


@question("offers_recency_at_send", ignore_row_order=True, rtol=1e-6,
          hint="Largest campaign. For each contacted customer take the last order placed "
               "STRICTLY BEFORE the campaign's send_ts; recency = (send_ts - that order_ts) in "
               "days as a float (divide by pd.Timedelta(days=1)). Leave out customers with no "
               "earlier order. A Series indexed by customer_id.")
def recency_at_send(shop) -> pd.Series:
    one, _ = _largest_contacts(shop)
    k = largest_campaign(shop)
    sent = shop.campaigns.loc[shop.campaigns["campaign_id"] == k]
    feats = offers.contact_features(one, sent, shop.customers, shop.orders)
    has = (feats["n_orders"] > 0).to_numpy()
    return pd.Series(feats.loc[has, "recency_days"].to_numpy(),
                     index=pd.Index(feats.loc[has, "customer_id"].to_numpy(), name="customer_id"),
                     name="recency_days")


def _recency_until(shop, until_col: str) -> pd.Series:
    one, _ = _largest_contacts(shop)
    camp = shop.campaigns.set_index("campaign_id").loc[largest_campaign(shop)]
    send = camp["send_ts"]
    until = send + pd.Timedelta(days=float(camp["window_days"])) if until_col == "window" else shop.end_ts
    o = shop.orders.loc[shop.orders["customer_id"].isin(one["customer_id"]) & (shop.orders["order_ts"] < until)]
    last = o.groupby("customer_id")["order_ts"].max()
    return ((send - last) / pd.Timedelta(days=1)).rename("recency_days")


@mistake("offers_recency_at_send", "look-ahead: orders up to the end of the campaign window")
def _recency_lookahead(shop) -> pd.Series:
    return _recency_until(shop, "window")


@mistake("offers_recency_at_send", "look-ahead: the last order in the whole data set")
def _recency_whole_data(shop) -> pd.Series:
    return _recency_until(shop, "end")


@question("offers_uplift_by_discount_habit", rtol=1e-6,
          hint="For every contact: discount share = sum(discount) / sum(gross_amount) over the "
               "customer's orders placed STRICTLY BEFORE that campaign's send_ts (0 without such "
               "orders). 'deal' if the share > 0.10, else 'other'. Per group: conversion rate of "
               "treated minus holdout contacts. Answer {'deal': ..., 'other': ...}.")
def uplift_by_discount_habit(shop) -> dict[str, float]:
    cc = shop.campaign_contacts
    feats = offers.contact_features(cc, shop.campaigns, shop.customers, shop.orders)
    habit = np.where(feats["discount_share"].to_numpy() > DEAL_THRESHOLD, "deal", "other")
    ab = offers.ab_test(cc.assign(habit=habit), by="habit", value=None)
    return {str(h): float(u) for h, u in zip(ab["habit"], ab["uplift"], strict=True)}


@mistake("offers_uplift_by_discount_habit", "look-ahead: discount share over all orders ever")
def _habit_lookahead(shop) -> dict[str, float]:
    cc = shop.campaign_contacts
    g = shop.orders.groupby("customer_id")[["discount", "gross_amount"]].sum()
    share = (g["discount"] / g["gross_amount"]).reindex(cc["customer_id"]).fillna(0).to_numpy()
    habit = np.where(share > DEAL_THRESHOLD, "deal", "other")
    ab = offers.ab_test(cc.assign(habit=habit), by="habit", value=None)
    return {str(h): float(u) for h, u in zip(ab["habit"], ab["uplift"], strict=True)}


@mistake("offers_uplift_by_discount_habit", "treated response rates instead of uplift")
def _habit_response(shop) -> dict[str, float]:
    cc = shop.campaign_contacts
    feats = offers.contact_features(cc, shop.campaigns, shop.customers, shop.orders)
    habit = np.where(feats["discount_share"].to_numpy() > DEAL_THRESHOLD, "deal", "other")
    ab = offers.ab_test(cc.assign(habit=habit), by="habit", value=None)
    return {str(h): float(u) for h, u in zip(ab["habit"], ab["conv_treatment"], strict=True)}


@question("offers_qini_by_hand", rtol=1e-9,
          hint="Sort the 8 contacts by score, highest first. After each contact: N_T, N_C "
               "(treated / held out so far), Y_T, Y_C (their conversions); Qini = Y_T - Y_C * "
               "N_T / N_C (use 0 for the second term while N_C = 0). Area: trapezoids over "
               "x = 0, 1/8, ..., 1 starting at (0, 0). Coefficient = area - Qini(1)/2 (the "
               "random line). Answer {'area': ..., 'coefficient': ...}.")
def qini_by_hand(shop) -> dict[str, float]:
    q = offers.qini_coefficient(np.array(QINI_CONVERTED, float), np.array(QINI_TREATED, bool),
                                np.array(QINI_SCORE))
    return {"area": q["area"], "coefficient": q["coefficient"]}


@mistake("offers_qini_by_hand", "Y_T - Y_C without scaling the control conversions")
def _qini_unscaled(shop) -> dict[str, float]:
    order = np.argsort(-np.array(QINI_SCORE))
    w = np.array(QINI_TREATED, bool)[order]
    y = np.array(QINI_CONVERTED, float)[order]
    curve = np.r_[0, np.cumsum(y * w) - np.cumsum(y * ~w)]
    x = np.linspace(0, 1, 9)
    area = float(np.sum(np.diff(x) * (curve[1:] + curve[:-1]) / 2))
    return {"area": area, "coefficient": area - curve[-1] / 2}


@mistake("offers_qini_by_hand", "coefficient without subtracting the random line")
def _qini_no_random(shop) -> dict[str, float]:
    right = qini_by_hand(shop)
    return {"area": right["area"], "coefficient": right["area"]}


@question("offers_break_even", rtol=1e-6,
          hint="Write one treated member's profit as a function of tau: the margin of the extra "
               "orders, minus the send, minus the coupons — redeemed by the members who would "
               "have bought anyway AND by the extra buyers. Profit = 0 is linear in tau.")
def break_even(shop) -> float:
    b = BREAK_EVEN
    return offers.break_even_uplift(b["margin"], b["send"], b["base_rate"], b["redemption"], b["coupon"])


@mistake("offers_break_even", "send cost over margin only (coupons forgotten)")
def _be_no_coupon(shop) -> float:
    return BREAK_EVEN["send"] / BREAK_EVEN["margin"]


@mistake("offers_break_even", "coupon on baseline buyers counted, but not on the extra ones")
def _be_baseline_only(shop) -> float:
    b = BREAK_EVEN
    return (b["send"] + b["base_rate"] * b["redemption"] * b["coupon"]) / b["margin"]


@question("offers_incremental_revenue_by_channel", ignore_row_order=True, rtol=1e-6,
          hint="Per campaign with both groups: (mean revenue per treated contact - mean revenue "
               "per holdout contact) x number of treated contacts. Then add these up per channel "
               "(join campaigns for the channel). A Series indexed by channel.")
def incremental_revenue_by_channel(shop) -> pd.Series:
    ab = _ab(shop).merge(shop.campaigns[["campaign_id", "channel"]], on="campaign_id")
    out = ab.groupby(ab["channel"].astype("str"))["incremental_value"].sum()
    return out.rename_axis("channel").rename("incremental_revenue")


@mistake("offers_incremental_revenue_by_channel", "total revenue of the treated (not incremental)")
def _treated_revenue(shop) -> pd.Series:
    cc = shop.campaign_contacts.merge(shop.campaigns[["campaign_id", "channel"]], on="campaign_id")
    t = cc.loc[offers.treatment_flags(cc["group"])]
    return t.groupby(t["channel"].astype("str"))["revenue"].sum()


@mistake("offers_incremental_revenue_by_channel",
         "one pooled comparison per channel (treated of all its campaigns vs all its holdouts)")
def _pooled_by_channel(shop) -> pd.Series:
    keep = _ab(shop)["campaign_id"]
    cc = shop.campaign_contacts.loc[shop.campaign_contacts["campaign_id"].isin(keep)]
    cc = cc.merge(shop.campaigns[["campaign_id", "channel"]], on="campaign_id")
    cc["channel"] = cc["channel"].astype("str")
    ab = offers.ab_test(cc, by="channel")
    return pd.Series(ab["incremental_value"].to_numpy(), index=ab["channel"].to_numpy())


@question("offers_best_plan_value", rtol=1e-9,
          hint="At most one offer per customer, total cost <= 40, maximize the total value. "
               "Five customers with two offers each: try every combination (3 choices each: "
               "none, coupon, points) or use scipy.optimize.milp. Answer the best total value.")
def best_plan_value(shop) -> float:
    plan = offers.assign_offers(PLAN, PLAN_BUDGET, method="milp", customer="customer")
    return float(plan.attrs["total_value"])


@mistake("offers_best_plan_value", "greedy by value per cost (not optimal)")
def _plan_ratio_greedy(shop) -> float:
    c = PLAN.loc[PLAN["value"] > 0].assign(ratio=lambda d: d["value"] / d["cost"])
    left, taken, total = PLAN_BUDGET, set(), 0.0
    for row in c.sort_values("ratio", ascending=False).itertuples():
        if row.customer in taken or row.cost > left:
            continue
        taken.add(row.customer)
        left -= row.cost
        total += row.value
    return total


@mistake("offers_best_plan_value", "several offers per customer allowed")
def _plan_no_one_offer_rule(shop) -> float:
    rows = list(PLAN.loc[PLAN["value"] > 0].itertuples())
    best = 0.0
    for k in range(len(rows) + 1):
        for combo in itertools.combinations(rows, k):
            if sum(r.cost for r in combo) <= PLAN_BUDGET:
                best = max(best, sum(r.value for r in combo))
    return best


# -- customised products (notebook 08, section 4) --------------------------------------------

#: The option menu the exercise states: option -> categories that offer it (None = every one).
CUSTOMIZATION_MENU: dict[str, tuple[str, ...] | None] = {
    "gift_wrap": None, "engraving": ("electronics", "home", "sports"),
    "monogram": ("fashion", "kids", "books"), "custom_size": ("fashion",)}


@question("offers_customization_take_up", ignore_row_order=True,
          hint="Decide the denominator first: which order lines could have taken the option? "
               "Join each line's product category and count, per option, the lines whose "
               "category offers it; then the customised lines of that option over those. "
               "A Series indexed by option, shares between 0 and 1.")
def customization_take_up(shop) -> pd.Series:
    u = offers.customization_uptake(shop.customizations, shop.order_items, shop.products,
                                    shop.orders, eligible=CUSTOMIZATION_MENU)
    return pd.Series(u["take_up"].to_numpy(), index=pd.Index(u["option"].astype("str"), name="option"),
                     name="take_up")


@mistake("offers_customization_take_up", "customised lines over all order lines, not the lines "
         "eligible for the option")
def _take_up_all_lines(shop) -> pd.Series:
    n = shop.customizations["option"].astype("str").value_counts()
    return (n / len(shop.order_items)).reindex(list(CUSTOMIZATION_MENU)).fillna(0.0)


@mistake("offers_customization_take_up", "each option's share of all customisations")
def _take_up_share_of_options(shop) -> pd.Series:
    n = shop.customizations["option"].astype("str").value_counts(normalize=True)
    return n.reindex(list(CUSTOMIZATION_MENU)).fillna(0.0)


@variant("offers_customization_take_up", "a dict keyed by option")
def _take_up_dict(shop) -> dict:
    return customization_take_up(shop).to_dict()


@question("offers_customization_margin", ignore_row_order=True,
          hint="Margin is what the shop keeps of each fee after paying for the work; add it up "
               "over every row of the option (a total in NT$, not an average). A Series indexed "
               "by option.")
def customization_margin(shop) -> pd.Series:
    u = offers.customization_uptake(shop.customizations, shop.order_items, shop.products,
                                    shop.orders, eligible=CUSTOMIZATION_MENU)
    u = u.loc[u["customized"] > 0]  # an option nobody took has no rows to add up
    return pd.Series(u["margin"].to_numpy(), index=pd.Index(u["option"].astype("str"), name="option"),
                     name="margin")


def _by_option(shop, values: pd.Series, how: str) -> pd.Series:
    cz = shop.customizations
    return values.groupby(cz["option"].astype("str")).agg(how)


@mistake("offers_customization_margin", "the fees, with the shop's cost of the work not subtracted")
def _margin_fees(shop) -> pd.Series:
    return _by_option(shop, shop.customizations["fee"], "sum")


@mistake("offers_customization_margin", "the margin of one customised line (a mean, not the total)")
def _margin_mean(shop) -> pd.Series:
    cz = shop.customizations
    return _by_option(shop, cz["fee"] - cz["cost"], "mean")
