"""Answers of ``exercises/01_crm_systems_exercises.ipynb`` (notebook 01: CRM systems).

Each function computes the expected answer from the shop the student works on, mostly with
the ``crmlab.profile`` helpers; the notebook's model solutions take other routes (SQL on the
CRM store, plain pandas), so a passing solution notebook cross-checks both.

Dates the exercises use are derived from the shop (so every data variant works):
``as_of(shop)`` is 75% of the way through the data (the pipeline "today"), and
``last_30_days(shop)`` the final 30 days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab import profile as crm
from crmlab.exercises import mistake, question, variant

STEPS = ["new->contacted", "contacted->qualified", "qualified->proposal", "proposal->negotiation",
         "negotiation->won"]
TIER_ORDER = ["member", "silver", "gold", "platinum"]
EXPECTED_REDEMPTION = 0.6  # the exercise's assumption for the IFRS 15 allocation
QUASI_IDENTIFIERS = ["age_band", "gender", "region"]
K = 5


def as_of(shop) -> pd.Timestamp:
    """The pipeline's "today" in the exercises: 75% of the way from start to end, at midnight."""
    return (shop.start + (shop.end - shop.start) * 0.75).normalize()


def last_30_days(shop) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day (inclusive) of the final 30 days of data."""
    return shop.end - pd.Timedelta(days=29), shop.end


def profile_member(shop) -> int:
    """The member with the most tickets (smallest id on ties)."""
    counts = shop.tickets.groupby("customer_id").size()
    return int(counts[counts == counts.max()].index.min())


# ----------------------------------------------------------------------------- questions


@question("crm_region_revenue", ignore_row_order=True,
          hint="Join orders to customers on customer_id; per region count the orders and sum "
               "'amount' (net of discounts). Columns: region, n_orders, revenue; only regions "
               "with orders.")
def region_revenue(shop) -> pd.DataFrame:
    region = shop.customers.set_index("customer_id")["region"].astype(str)
    o = shop.orders.assign(region=shop.orders["customer_id"].map(region))
    out = o.groupby("region").agg(n_orders=("order_id", "count"), revenue=("amount", "sum")).reset_index()
    return out[out["n_orders"] > 0].reset_index(drop=True)


@question("crm_profile_facts", rtol=1e-6,
          hint="Take the member with the most tickets (smallest customer_id on ties). Count their "
               "orders and tickets, sum their order 'amount', and sum ALL their ledger 'points' "
               "(earn is +, redeem and expire are -).")
def profile_facts(shop) -> dict:
    cid = profile_member(shop)
    p = crm.customer_profile(shop, cid)
    return {"customer_id": cid, "n_orders": int(p.facts["n_orders"]), "total_spend": float(p.facts["total_spend"]),
            "n_tickets": int(p.facts["n_tickets"]), "points_balance": int(p.facts["points_balance"])}


@question("crm_stage_conversion", rtol=1e-9,
          hint="Use the leads as they stood on AS_OF (crm.lead_snapshot(leads, as_of=AS_OF)). For "
               "each step, passed / (passed + lost while at the stage before); leads still open at "
               "that stage are left out. Index: 'new->contacted', ..., 'negotiation->won'.")
def stage_conversion(shop) -> pd.Series:
    conv = crm.stage_conversion(shop.leads, as_of=as_of(shop))
    return pd.Series(conv["conversion"].to_numpy(), index=conv["step"].tolist(), name="conversion")


@question("crm_weighted_pipeline", rtol=1e-6,
          hint="For every lead open on AS_OF: value x P(win from its stage), where P(win) is the "
               "product of the remaining step conversions (as of AS_OF). Sum over the open leads.")
def weighted_pipeline(shop) -> float:
    return float(crm.pipeline_forecast(shop.leads, as_of=as_of(shop))["expected_value"].sum())


@question("crm_cart_reminders",
          hint="For each session take its LAST add_to_cart; the reminder is due 24 hours later "
               "unless the member placed an order in between. Keep reminders due in the last 30 "
               "days and drop members with marketing_opt_in False. Answer: the set of customer_ids.")
def cart_reminders(shop) -> set[int]:
    first, last = last_30_days(shop)
    sched = crm.automation_schedule(shop, first, last, rules=[crm.AbandonedCart(hours=24)], cap=None)
    return {int(c) for c in sched.loc[sched["status"] == "send", "customer_id"]}


@question("crm_balance_by_tier", rtol=1e-9,
          hint="Points balance = sum of all ledger points per member. The member's tier is the last "
               "tier_change before the end of the data ('member' if none). Sum balances per tier; "
               "index member, silver, gold, platinum (0 where nobody).")
def balance_by_tier(shop) -> pd.Series:
    bal = crm.points_balance(shop.loyalty_ledger).set_index("customer_id")["balance"]
    tiers = crm.tier_at(shop.loyalty_ledger, shop.end_ts, shop.customers).set_index("customer_id")["tier"]
    out = bal.groupby(tiers.reindex(bal.index).astype(str)).sum()
    return out.reindex(TIER_ORDER, fill_value=0).astype("int64").rename("balance")


@question("crm_points_deferred", rtol=1e-6,
          hint="Last calendar year of the data: sales = sum of order 'amount', points = sum of 'earn' "
               "points. Points' stand-alone price = points x NT$1 x 0.6; deferred revenue = sales x "
               "points price / (sales + points price) (relative stand-alone selling prices).")
def points_deferred(shop) -> float:
    year = shop.end.year
    sales = float(shop.orders.loc[shop.orders["order_ts"].dt.year == year, "amount"].sum())
    led = shop.loyalty_ledger
    points = float(led.loc[(led["entry_type"] == "earn") & (led["ts"].dt.year == year), "points"].sum())
    return float(crm.ifrs15_allocate(sales, sales, points, 1.0, EXPECTED_REDEMPTION)["points_allocated"])


@question("crm_rows_at_risk",
          hint="Group the customers by age_band, gender and region; count the ROWS (members) that sit "
               "in groups of fewer than 5 members.")
def rows_at_risk(shop) -> int:
    return int(crm.k_anonymity(shop.customers, QUASI_IDENTIFIERS, k=K).rows_at_risk)


# ----------------------------------------------------------------------------- typical
# mistakes (check must reject them) and other right forms (check must accept them);
# tests/exercises/test_mistakes.py runs every one of them on the tiny shop.


@mistake("crm_region_revenue", "counted members instead of orders")
def _members_not_orders(shop):
    t = shop.orders.merge(shop.customers[["customer_id", "region"]], on="customer_id")
    return (t.groupby("region", observed=True)
            .agg(n_orders=("customer_id", "nunique"), revenue=("amount", "sum")).reset_index())


@mistake("crm_region_revenue", "revenue before discounts (gross_amount)")
def _gross_region(shop):
    t = shop.orders.merge(shop.customers[["customer_id", "region"]], on="customer_id")
    return (t.groupby("region", observed=True)
            .agg(n_orders=("order_id", "size"), revenue=("gross_amount", "sum")).reset_index())


@variant("crm_region_revenue", "region as the index, sorted by revenue")
def _region_index(shop):
    return region_revenue(shop).set_index("region").sort_values("revenue")


@mistake("crm_profile_facts", "points balance from earn entries only")
def _earned_only(shop):
    right = profile_facts(shop)
    led = shop.loyalty_ledger
    mine = led.loc[(led["customer_id"] == right["customer_id"]) & (led["entry_type"] == "earn"), "points"]
    if int(mine.sum()) == right["points_balance"]:  # nothing redeemed or expired: still wrong
        return {**right, "points_balance": right["points_balance"] + 1}
    return {**right, "points_balance": int(mine.sum())}


@mistake("crm_profile_facts", "the member with the most orders instead of tickets")
def _most_orders_member(shop):
    counts = shop.orders.groupby("customer_id").size()
    cid = int(counts.idxmax())
    if cid == profile_member(shop):
        cid = int(counts.drop(cid).idxmax())
    p = crm.customer_profile(shop, cid)
    return {"customer_id": cid, "n_orders": p.facts["n_orders"], "total_spend": p.facts["total_spend"],
            "n_tickets": p.facts["n_tickets"], "points_balance": p.facts["points_balance"]}


@mistake("crm_stage_conversion", "open leads counted as failures (naive rate)")
def _naive_conversion(shop):
    conv = crm.stage_conversion(shop.leads, as_of=as_of(shop))
    return pd.Series((conv["passed"] / conv["reached_from"]).to_numpy(), index=conv["step"].tolist())


@mistake("crm_stage_conversion", "computed on the final data instead of as of AS_OF")
def _final_conversion(shop):
    conv = crm.stage_conversion(shop.leads)
    return pd.Series(conv["conversion"].to_numpy(), index=conv["step"].tolist())


@variant("crm_stage_conversion", "a dict keyed by step")
def _conversion_dict(shop):
    return stage_conversion(shop).to_dict()


@mistake("crm_weighted_pipeline", "open deal values without weighting")
def _unweighted(shop):
    return float(crm.pipeline_forecast(shop.leads, as_of=as_of(shop))["value"].sum())


@mistake("crm_weighted_pipeline", "weighted by the next step's conversion only")
def _next_step_only(shop):
    conv = crm.stage_conversion(shop.leads, as_of=as_of(shop)).set_index("from_stage")["conversion"]
    fc = crm.pipeline_forecast(shop.leads, as_of=as_of(shop))
    return float((fc["value"] * fc["stage"].astype(str).map(conv).to_numpy()).sum())


@mistake("crm_cart_reminders", "opted-out members not suppressed")
def _no_opt_out(shop):
    first, last = last_30_days(shop)
    sched = crm.automation_schedule(shop, first, last, rules=[crm.AbandonedCart(hours=24)], cap=None,
                                    suppress_opted_out=False)
    return set(sched["customer_id"].astype(int))


@mistake("crm_cart_reminders", "every cart treated as abandoned (orders ignored)")
def _orders_ignored(shop):
    first, last = last_30_days(shop)
    ev = shop.events.loc[shop.events["event_type"] == "add_to_cart"]
    due = ev.groupby("session_id").agg(customer_id=("customer_id", "first"), ts=("ts", "max"))
    due["due"] = due["ts"] + pd.Timedelta(hours=24)
    keep = (due["due"] >= first) & (due["due"] < last + pd.Timedelta(days=1))
    opted = shop.customers.set_index("customer_id")["marketing_opt_in"]
    ids = due.loc[keep, "customer_id"]
    return {int(c) for c in ids if opted[c]}


@variant("crm_cart_reminders", "a sorted list of ids")
def _cart_list(shop):
    return sorted(cart_reminders(shop))


@mistake("crm_balance_by_tier", "balances from earn entries only")
def _tier_earned(shop):
    led = shop.loyalty_ledger
    earned = led.loc[led["entry_type"] == "earn"].groupby("customer_id")["points"].sum()
    tiers = crm.tier_at(led, shop.end_ts, shop.customers).set_index("customer_id")["tier"].astype(str)
    return earned.groupby(tiers.reindex(earned.index)).sum().reindex(TIER_ORDER, fill_value=0)


@mistake("crm_balance_by_tier", "tier = the highest tier ever reached")
def _highest_tier(shop):
    led = shop.loyalty_ledger
    ch = led.loc[led["entry_type"] == "tier_change"]
    rank = {t: i for i, t in enumerate(TIER_ORDER)}
    best = ch.assign(r=ch["tier"].astype(str).map(rank)).groupby("customer_id")["r"].max()
    bal = led.groupby("customer_id")["points"].sum()
    tier = pd.Series(np.asarray(TIER_ORDER, dtype=object)[best.reindex(bal.index).fillna(0).astype(int)],
                     index=bal.index)
    out = bal.groupby(tier).sum().reindex(TIER_ORDER, fill_value=0)
    if np.allclose(out.to_numpy(), balance_by_tier(shop).to_numpy()):  # nobody moved down here
        out.iloc[0] += 1
    return out


@mistake("crm_points_deferred", "the points' stand-alone price itself (no relative allocation)")
def _ssp_not_allocated(shop):
    year = shop.end.year
    led = shop.loyalty_ledger
    points = float(led.loc[(led["entry_type"] == "earn") & (led["ts"].dt.year == year), "points"].sum())
    return points * 1.0 * EXPECTED_REDEMPTION


@mistake("crm_points_deferred", "points at face value (expected redemption ignored)")
def _face_value(shop):
    year = shop.end.year
    sales = float(shop.orders.loc[shop.orders["order_ts"].dt.year == year, "amount"].sum())
    led = shop.loyalty_ledger
    points = float(led.loc[(led["entry_type"] == "earn") & (led["ts"].dt.year == year), "points"].sum())
    return sales * points / (sales + points)


@mistake("crm_rows_at_risk", "counted groups instead of members")
def _groups_not_rows(shop):
    return int(len(crm.k_anonymity(shop.customers, QUASI_IDENTIFIERS, k=K).violations))


@mistake("crm_rows_at_risk", "k (the smallest group) instead of the rows at risk")
def _k_not_rows(shop):
    report = crm.k_anonymity(shop.customers, QUASI_IDENTIFIERS, k=K)
    return report.k if report.k != report.rows_at_risk else report.k + 1


# ----------------------------------------------------------------------------- issue 24:
# omnichannel membership, data security (retention), stickiness
# (notebooks/01_data_governance_and_omnichannel.ipynb, notebooks/01_loyalty_and_privacy.ipynb)

RETENTION_DAYS = 180  # the exercise's retention period (notebook 01's KEEP_DAYS is a parameter)


def stickiness_month(shop) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The month the stickiness exercise uses, as ``[start, end)``: the calendar month before
    the one holding ``shop.end`` (as in notebooks/01_loyalty_and_privacy.ipynb)."""
    m_end = shop.end.normalize().replace(day=1)
    return m_end - pd.DateOffset(months=1), m_end


@question("crm_omnichannel_members",
          hint="Sort each member's orders into two groups only: the physical store (channel "
               "'store') and online (every other channel). Count MEMBERS, not orders, with at "
               "least one order in each group.")
def omnichannel_members(shop) -> int:
    cp = crm.channel_profile(shop.orders)
    return int((cp["kind"] == "omnichannel").sum())


@question("crm_support_columns",
          hint="Read the support agent's entry of crm.FIELD_ACCESS. A masked field is still seen "
               "(partly), and a field the policy does not list is not seen at all (least "
               "privilege). Answer: the set of column names of `customers`.")
def support_columns(shop) -> set[str]:
    return set(crm.view_for_role(shop.customers, "support_agent").columns)


@question("crm_retention_due",
          hint="A member's last activity is the later of their signup and their last order (a "
               "member who never ordered still has a signup). Count whole days from it to "
               "shop.end_ts and keep the members above the retention period. Answer: the set "
               "of customer_ids.")
def retention_due_ids(shop) -> set[int]:
    due = crm.retention_due(shop.customers, shop.orders, shop.end_ts, keep_days=RETENTION_DAYS)
    return {int(c) for c in due["customer_id"]}


@question("crm_stickiness_dau_mau", rtol=1e-6,
          hint="Per calendar day of the month, count the distinct members who started a session; "
               "average over ALL days of the month (days without visits count as 0) and divide by "
               "the distinct members with a session in the month.")
def stickiness_dau_mau(shop) -> float:
    from crmlab import kpi

    start, end = stickiness_month(shop)
    return float(kpi.stickiness_ratio(shop.sessions, start, end))


def _month_sessions(shop) -> pd.DataFrame:
    start, end = stickiness_month(shop)
    s = shop.sessions
    return s.loc[(s["start_ts"] >= start) & (s["start_ts"] < end)]


@mistake("crm_omnichannel_members", "counted members with two or more channels (app and web are two)")
def _two_channels(shop):
    n = int((shop.orders.groupby("customer_id")["channel"].nunique() >= 2).sum())
    return n if n != omnichannel_members(shop) else n + 1


@mistake("crm_omnichannel_members", "counted every member with a store order")
def _any_store(shop):
    n = int(shop.orders.loc[shop.orders["channel"] == "store", "customer_id"].nunique())
    return n if n != omnichannel_members(shop) else n + 1


@mistake("crm_omnichannel_members", "counted orders of omnichannel members instead of members")
def _omni_orders(shop):
    cp = crm.channel_profile(shop.orders)
    return int(cp.loc[cp["kind"] == "omnichannel", "orders"].sum())


@mistake("crm_retention_due", "members who never ordered left out (signup ignored)")
def _orders_only(shop):
    last = shop.orders.groupby("customer_id")["order_ts"].max()
    idle = (shop.end_ts - last).dt.days
    out = {int(c) for c in idle[idle > RETENTION_DAYS].index}
    right = retention_due_ids(shop)
    return out if out != right else right - {min(right)} if right else {-1}


@mistake("crm_retention_due", "inactivity counted from the signup only (orders ignored)")
def _signup_only(shop):
    c = shop.customers
    idle = (shop.end_ts - c["signup_ts"]).dt.days
    return {int(x) for x in c.loc[idle > RETENTION_DAYS, "customer_id"]}


@variant("crm_retention_due", "a sorted list of ids")
def _retention_list(shop):
    return sorted(retention_due_ids(shop))


@mistake("crm_stickiness_dau_mau", "sessions per day instead of distinct visitors per day")
def _sessions_per_day(shop):
    start, end = stickiness_month(shop)
    s = _month_sessions(shop)
    days = (end - start).days
    return len(s) / days / s["customer_id"].nunique()


@mistake("crm_stickiness_dau_mau", "averaged over the days with visits only")
def _days_with_visits(shop):
    s = _month_sessions(shop)
    daily = s.groupby(s["start_ts"].dt.floor("D"))["customer_id"].nunique()
    out = float(daily.mean() / s["customer_id"].nunique())
    return out if not np.isclose(out, stickiness_dau_mau(shop), rtol=1e-6) else out * 1.01


@mistake("crm_stickiness_dau_mau", "visits per visitor instead of DAU/MAU")
def _visits_per_visitor(shop):
    s = _month_sessions(shop)
    return len(s) / s["customer_id"].nunique()


@mistake("crm_support_columns", "masked fields left out")
def _shown_only(shop):
    policy = crm.FIELD_ACCESS["support_agent"]
    return {c for c in shop.customers.columns if policy.get(c) == "show"}


@mistake("crm_support_columns", "fields the policy does not list treated as visible")
def _unlisted_visible(shop):
    policy = crm.FIELD_ACCESS["support_agent"]
    return {c for c in shop.customers.columns if policy.get(c, "show") != "hide"}


@variant("crm_support_columns", "a list in the table's column order")
def _support_list(shop):
    return list(crm.view_for_role(shop.customers, "support_agent").columns)
