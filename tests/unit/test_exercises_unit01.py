"""The unit-01 exercise checks accept right answers written another way (SQL on the store,
plain pandas) and reject typical mistakes (instructor/exercises/01_crm_systems_exercises.ipynb,
crmlab/exercises/answers/unit01.py). The registered mistakes/variants run in
tests/exercises/test_mistakes.py; these are extra hand-written cases."""

from __future__ import annotations

import pandas as pd
import pytest

import crmlab.exercises as ex
from crmlab.data import simulate
from crmlab.data.store import CRMStore
from crmlab.exercises.registry import answers_module

unit01 = answers_module("unit01")


@pytest.fixture(scope="module")
def shop():
    return simulate("tiny", seed=11)


@pytest.fixture(scope="module")
def store(shop):
    st = CRMStore()
    st.load({n: shop.tables[n] for n in ["customers", "products", "sessions", "orders", "campaigns",
                                          "loyalty_ledger", "agents", "tickets"]})
    yield st
    st.close()


def test_region_revenue_from_sql(shop, store):
    sql = store.query("SELECT c.region, COUNT(*) AS n_orders, SUM(o.amount) AS revenue FROM orders o "
                      "JOIN customers c USING (customer_id) GROUP BY c.region ORDER BY revenue DESC")
    assert ex.check("crm_region_revenue", sql, data=shop)
    # typical mistake: LEFT JOIN from customers counts members without orders as one order
    wrong = store.query("SELECT c.region, COUNT(*) AS n_orders, SUM(o.amount) AS revenue FROM customers c "
                        "LEFT JOIN orders o USING (customer_id) GROUP BY c.region")
    assert not ex.check("crm_region_revenue", wrong, data=shop)


def test_profile_facts_from_bound_sql(shop, store):
    cid = unit01.profile_member(shop)
    one = store.query(
        "SELECT (SELECT COUNT(*) FROM orders WHERE customer_id = ?) AS n_orders, "
        "(SELECT SUM(amount) FROM orders WHERE customer_id = ?) AS total_spend, "
        "(SELECT COUNT(*) FROM tickets WHERE customer_id = ?) AS n_tickets, "
        "(SELECT SUM(points) FROM loyalty_ledger WHERE customer_id = ?) AS points_balance", [cid] * 4)
    facts = {"customer_id": cid, **one.iloc[0].to_dict()}
    assert ex.check("crm_profile_facts", facts, data=shop)
    # typical mistake: spend before discounts
    gross = float(shop.orders.loc[shop.orders["customer_id"] == cid, "gross_amount"].sum())
    if gross != facts["total_spend"]:
        assert not ex.check("crm_profile_facts", {**facts, "total_spend": gross}, data=shop)


def test_conversion_and_forecast_by_hand(shop):
    snap = unit01.crm.lead_snapshot(shop.leads, as_of=unit01.as_of(shop))
    rates = []
    for k in range(1, 6):
        passed = (snap["reached_idx"] >= k).sum()
        lost = ((snap["reached_idx"] == k - 1) & (snap["status"] == "lost")).sum()
        rates.append(passed / (passed + lost))
    conversion = pd.Series(rates, index=unit01.STEPS)
    assert ex.check("crm_stage_conversion", conversion, data=shop)
    assert ex.check("crm_stage_conversion", conversion.to_list(), data=shop) is False  # no step names
    # a percentage instead of a share
    assert not ex.check("crm_stage_conversion", conversion * 100, data=shop)


def test_points_deferred_mistake_rounding(shop):
    right = unit01.points_deferred(shop)
    assert ex.check("crm_points_deferred", round(right, 4), data=shop)
    assert not ex.check("crm_points_deferred", right * 1.01, data=shop)


# ----------------------------------------------------------------------------- issue 24 topics


def test_omnichannel_members_by_hand(shop):
    """Known answer by construction: members whose orders hold both a 'store' and another channel."""
    channels = shop.orders.groupby("customer_id")["channel"].agg(lambda s: set(s.astype(str)))
    by_hand = sum(1 for ch in channels if "store" in ch and ch - {"store"})
    assert unit01.omnichannel_members(shop) == by_hand
    assert ex.check("crm_omnichannel_members", by_hand, data=shop)
    assert not ex.check("crm_omnichannel_members", by_hand + 1, data=shop)
    # a shop of three hand-made members: online only, store only, both -> 1 omnichannel member
    tiny = pd.DataFrame({"customer_id": [1, 1, 2, 3, 3, 3], "channel": ["web", "app", "store", "store", "web", "store"],
                         "order_ts": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-05", "2024-01-02",
                                                     "2024-03-01", "2024-04-01"]),
                         "amount": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]})
    kinds = unit01.crm.channel_profile(tiny).set_index("customer_id")["kind"].astype(str).to_dict()
    assert kinds == {1: "online only", 2: "store only", 3: "omnichannel"}


def test_retention_due_counts_signup_and_orders(shop):
    due = unit01.retention_due_ids(shop)
    signup = shop.customers.set_index("customer_id")["signup_ts"]
    last_order = shop.orders.groupby("customer_id")["order_ts"].max()
    for cid in list(signup.index[:60]):
        last = max(signup[cid], last_order.get(cid, signup[cid]))
        assert (cid in due) == ((shop.end_ts - last).days > unit01.RETENTION_DAYS), cid
    assert ex.check("crm_retention_due", sorted(due), data=shop)
    never_ordered = set(signup.index) - set(last_order.index)
    if never_ordered & due:  # members who never ordered must be in the answer
        assert not ex.check("crm_retention_due", due - never_ordered, data=shop)


def test_stickiness_known_answer():
    """Two members in a 30-day month: A visits every day, B on one day -> mean DAU = 31/30,
    MAU = 2, DAU/MAU = 31/60 (hand computed)."""
    from crmlab import kpi

    days = pd.date_range("2024-11-01 10:00", periods=30, freq="D")
    sess = pd.DataFrame({"customer_id": [1] * 30 + [2, 2],
                         "start_ts": [*days, days[3], days[3] + pd.Timedelta(hours=2)]})
    sess["end_ts"] = sess["start_ts"] + pd.Timedelta(minutes=5)
    assert kpi.stickiness_ratio(sess, "2024-11-01", "2024-12-01") == pytest.approx(31 / 60)


def test_stickiness_check(shop):
    right = unit01.stickiness_dau_mau(shop)
    assert 0 < right < 1
    assert ex.check("crm_stickiness_dau_mau", right * (1 + 1e-8), data=shop)
    assert not ex.check("crm_stickiness_dau_mau", right * 100, data=shop)  # a percentage


def test_support_columns_least_privilege(shop):
    """Known answer from the stated policy: a support agent sees exactly the fields its policy
    shows or masks; unlisted fields (e.g. birth_month, interests) are hidden."""
    seen = unit01.support_columns(shop)
    policy = unit01.crm.FIELD_ACCESS["support_agent"]
    assert seen == {c for c, rule in policy.items() if rule in ("show", "mask")} & set(shop.customers.columns)
    assert "email" in seen and not {"birth_month", "interests", "age_band"} & seen
    assert ex.check("crm_support_columns", sorted(seen), data=shop)
    assert not ex.check("crm_support_columns", seen | {"birth_month"}, data=shop)
