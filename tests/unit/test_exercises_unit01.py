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
from crmlab.exercises.answers import unit01


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
