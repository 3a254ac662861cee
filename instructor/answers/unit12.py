"""Answers of ``exercises/12_crm_scorecard_exercises.ipynb`` (notebook 12: evaluating CRM).

Each function computes the expected answer from the shop the student works on through
:mod:`crmlab.kpi` (and :mod:`crmlab.feedback` for the fix's difference-in-differences); the
notebook's model solutions take the plain pandas route, so a passing solution run
cross-checks both.

Conventions shared by the questions (stated in the notebook): the period is the shop's
last complete quarter ``[START, END)`` (``kpi.period_bounds("last", "QE", shop)``); a
customer is *active* at time t with an order in the 180 days before t; money in NT$.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab import feedback, kpi
from crmlab.exercises import mistake, question, variant

LAPSE_DAYS = 180
#: Indicators whose traffic light exercise 6 asks for.
STATUS_INDICATORS = ("order_csat", "nps", "return_rate", "defect_rate", "churn_rate",
                     "at_risk_share", "open_rate", "sla_resolution")
#: Weeks before and after the fix in exercise 7.
DID_WEEKS = 8


def _period(shop) -> tuple[pd.Timestamp, pd.Timestamp]:
    return kpi.period_bounds("last", "QE", shop)


def _in(ts: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    return (ts >= start) & (ts < end)


@question("kpi_value_basics", rtol=1e-9,
          hint="Orders with START <= order_ts < END. revenue = sum of amount; active_customers "
               "= distinct customers who ordered; average_order_value = revenue / number of "
               "ORDERS; purchase_frequency = orders / active customers. Answer a dict with "
               "those four keys.")
def value_basics(shop) -> dict[str, float]:
    s, e = _period(shop)
    return {"revenue": kpi.revenue(shop.orders, s, e),
            "active_customers": float(kpi.active_customers(shop.orders, s, e)),
            "average_order_value": kpi.average_order_value(shop.orders, s, e),
            "purchase_frequency": kpi.purchase_frequency(shop.orders, s, e)}


@question("kpi_repeat_rate", rtol=1e-9,
          hint="Among the customers who ordered in [START, END), the share who have at least "
               "TWO orders placed before END in total (earlier orders, before START, count too).")
def repeat_rate(shop) -> float:
    return kpi.repeat_purchase_rate(shop.orders, *_period(shop))


@question("kpi_churn_rate", rtol=1e-9,
          hint="Base = customers with an order in the 180 days before START ([START - 180 d, "
               "START)). Churned = base customers with NO order in the 180 days before END. "
               "Churn rate = churned / base.")
def churn_rate(shop) -> float:
    return kpi.churn_rate(shop.orders, *_period(shop), lapse_days=LAPSE_DAYS)


@question("kpi_nps", rtol=1e-9,
          hint="NPS surveys sent in [START, END) that were answered. Promoters score 9-10, "
               "detractors 0-6; NPS = 100 x (promoters - detractors) / answers, in points.")
def nps(shop) -> float:
    return kpi.nps(shop.surveys, *_period(shop))


@question("kpi_channel_effect", rtol=1e-6, ignore_row_order=True,
          hint="All campaigns of the data. Per campaign: (mean revenue of treated contacts - "
               "mean revenue of its holdout) x its treated contacts; skip campaigns without a "
               "holdout. Per channel: the sum of those over its campaigns / its treated "
               "contacts (of the campaigns kept). A Series indexed by channel.")
def channel_effect(shop) -> pd.Series:
    ch = kpi.channel_effect(shop.campaign_contacts, shop.campaigns, shop.start, shop.end_ts)
    ch = ch.loc[ch["campaigns"] > 0]
    return ch.set_index("channel")["incremental_revenue_per_contact"].rename("incremental_revenue_per_contact")


@question("kpi_status",
          hint="For each indicator: shortfall = target - value when higher is better, value - "
               "target when lower is better. green if shortfall <= 0, amber if shortfall <= "
               "tolerance, red otherwise. Use the quarterly targets of kpi.DEFAULT_TARGETS "
               "(rows with freq 'Q', else the row without freq). A dict indicator -> status.")
def status(shop) -> dict[str, str]:
    sc = kpi.scorecard(shop, "last", "QE", indicators=list(STATUS_INDICATORS))
    return {r.indicator: str(r.status) for r in sc.itertuples()}


def _did_frame(shop, controls: str = "category") -> tuple[pd.DataFrame, int, pd.Timestamp]:
    inc = shop.truth["incident"]
    product, fix = int(inc["product_id"]), pd.Timestamp(inc["fix"])
    lines = feedback.defect_return_lines(shop.orders, shop.order_items, shop.returns, shop.products)
    w = pd.Timedelta(weeks=DID_WEEKS)
    keep = _in(lines["order_ts"], fix - w, fix + w)
    if controls == "category":
        cat = shop.products.set_index("product_id").loc[product, "category"]
        keep &= lines["category"] == cat
    sub = lines.loc[keep]
    return pd.DataFrame({"y": sub["defect_return"].astype(float).to_numpy(),
                         "treated": (sub["product_id"] == product).to_numpy(),
                         "post": (sub["order_ts"] >= fix).to_numpy()}), product, fix


def _did(frame: pd.DataFrame) -> float:
    m = frame.groupby(["treated", "post"])["y"].mean()
    return float((m[(True, True)] - m[(True, False)]) - (m[(False, True)] - m[(False, False)]))


@question("kpi_fix_did", rtol=1e-6,
          hint="Order lines of PRODUCT's category ordered in [FIX - 8 weeks, FIX + 8 weeks); "
               "y = 1 if the line was returned with reason 'defective'. DiD = (PRODUCT after - "
               "PRODUCT before) - (other products of the category after - before), by order "
               "date; 'after' starts at FIX.")
def fix_did(shop) -> float:
    return _did(_did_frame(shop)[0])


# ----------------------------------------------------------------------------- typical
# mistakes (the check must reject them) and other right forms (it must accept them);
# tests/exercises/test_mistakes.py runs each on the tiny shop.


@mistake("kpi_value_basics", "average order value as revenue per customer")
def _aov_per_customer(shop):
    d = value_basics(shop)
    return {**d, "average_order_value": d["revenue"] / d["active_customers"]}


@mistake("kpi_value_basics", "frequency over every member, not over the period's buyers")
def _frequency_over_members(shop):
    d = value_basics(shop)
    s, e = _period(shop)
    n_orders = int(_in(shop.orders["order_ts"], s, e).sum())
    return {**d, "purchase_frequency": n_orders / len(shop.customers)}


@variant("kpi_value_basics", "a pandas Series, integer count")
def _basics_series(shop):
    d = value_basics(shop)
    return pd.Series({**d, "active_customers": int(d["active_customers"])})


@mistake("kpi_repeat_rate", "two orders needed inside the period")
def _repeat_inside(shop):
    s, e = _period(shop)
    o = shop.orders.loc[_in(shop.orders["order_ts"], s, e)]
    return float((o.groupby("customer_id").size() >= 2).mean())


@mistake("kpi_repeat_rate", "share of all members instead of the period's buyers")
def _repeat_members(shop):
    s, e = _period(shop)
    o = shop.orders.loc[shop.orders["order_ts"] < e]
    buyers = o.loc[o["order_ts"] >= s, "customer_id"].unique()
    n = o.loc[o["customer_id"].isin(buyers)].groupby("customer_id").size()
    return float((n >= 2).sum() / len(shop.customers))


@mistake("kpi_churn_rate", "base = everyone who ever ordered before START")
def _churn_all_buyers(shop):
    s, e = _period(shop)
    o = shop.orders
    base = o.loc[o["order_ts"] < s, "customer_id"].unique()
    active_end = o.loc[_in(o["order_ts"], e - pd.Timedelta(days=LAPSE_DAYS), e), "customer_id"].unique()
    return float((~np.isin(base, active_end)).mean())


@mistake("kpi_churn_rate", "1 - retention: last quarter's buyers who did not buy this quarter")
def _churn_as_one_minus_retention(shop):
    return 1.0 - kpi.retention_rate(shop.orders, *_period(shop))


@mistake("kpi_nps", "promoters from 8 instead of 9")
def _nps_promoters_8(shop):
    s, e = _period(shop)
    sv = shop.surveys
    x = sv.loc[(sv["survey_type"] == "nps") & sv["responded"] & _in(sv["sent_ts"], s, e), "score"].astype(float)
    return float(100 * ((x >= 8).mean() - (x <= 6).mean()))


@mistake("kpi_nps", "divided by every invitation, not by the answers")
def _nps_over_invitations(shop):
    s, e = _period(shop)
    sv = shop.surveys
    inv = sv.loc[(sv["survey_type"] == "nps") & _in(sv["sent_ts"], s, e)]
    x = inv["score"].astype(float)
    return float(100 * ((x >= 9).sum() - (x <= 6).sum()) / len(inv))


@mistake("kpi_channel_effect", "pooled: treated mean minus holdout mean over all of a channel's contacts")
def _channel_pooled(shop):
    c = shop.campaign_contacts.merge(shop.campaigns[["campaign_id", "channel"]], on="campaign_id")
    c = c.assign(channel=c["channel"].astype(str), group=c["group"].astype(str))
    means = c.groupby(["channel", "group"])["revenue"].mean().unstack()
    keep = channel_effect(shop).index
    return (means["treatment"] - means["holdout"]).reindex(keep)


@mistake("kpi_channel_effect", "revenue per treated contact, without subtracting the holdout")
def _channel_response(shop):
    c = shop.campaign_contacts.merge(shop.campaigns[["campaign_id", "channel"]], on="campaign_id")
    c = c.loc[c["group"].astype(str) == "treatment"]
    keep = channel_effect(shop).index
    return c.groupby(c["channel"].astype(str))["revenue"].mean().reindex(keep)


@variant("kpi_channel_effect", "a dict")
def _channel_dict(shop):
    return channel_effect(shop).to_dict()


@mistake("kpi_status", "direction ignored: lower-is-better indicators judged as higher-is-better")
def _status_no_direction(shop):
    sc = kpi.scorecard(shop, "last", "QE", indicators=list(STATUS_INDICATORS))
    return {r.indicator: kpi.traffic_light(r.value, r.target, r.tolerance, "higher")
            for r in sc.itertuples()}


@mistake("kpi_fix_did", "no controls: the product's own after - before")
def _did_no_controls(shop):
    f = _did_frame(shop)[0]
    m = f.loc[f["treated"]].groupby("post")["y"].mean()
    return float(m[True] - m[False])


@mistake("kpi_fix_did", "sign reversed: before - after")
def _did_reversed(shop):
    return -fix_did(shop)
