"""The unit-03 exercise checks accept right answers in other shapes and reject typical
mistakes (exercises/03_customer_journey_exercises.ipynb, crmlab/exercises/answers/unit03.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crmlab.exercises as ex
from crmlab import journey
from crmlab.data import simulate

STEPS = list(journey.FUNNEL_STEPS)


@pytest.fixture(scope="module")
def shop():
    return simulate("tiny", seed=11)


def test_funnel_counts(shop):
    depth = shop.sessions["funnel_depth"].astype(str).value_counts().reindex(STEPS, fill_value=0)
    right = depth[::-1].cumsum()[::-1]
    assert ex.check("journey_funnel_counts", right, data=shop)
    assert ex.check("journey_funnel_counts", right.astype(float).to_dict(), data=shop)
    # mistake: sessions whose deepest step is X, not sessions that reached X
    assert not ex.check("journey_funnel_counts", depth, data=shop)


def test_conversion_by_source(shop):
    s = shop.sessions
    right = s.groupby("traffic_source", observed=True)["converted"].mean()
    assert ex.check("journey_conversion_by_source", right, data=shop)
    # mistake: purchases / product-view sessions
    viewed = s.loc[s["funnel_depth"].astype(str) != "visit"]
    wrong = viewed.groupby("traffic_source", observed=True)["converted"].sum() / \
        viewed.groupby("traffic_source", observed=True).size()
    assert not ex.check("journey_conversion_by_source", wrong, data=shop)


def test_n_sessions(shop):
    ev = shop.events.sort_values(["customer_id", "ts"])
    idle = ev.groupby("customer_id")["ts"].diff()
    right = int((idle.isna() | (idle > pd.Timedelta("30min"))).sum())
    assert ex.check("journey_n_sessions_30min", right, data=shop)
    # mistakes: the shop's own session count; forgetting to sort by time first
    assert not ex.check("journey_n_sessions_30min", shop.sessions["session_id"].nunique(), data=shop)
    raw = shop.events
    gap = raw.groupby("customer_id")["ts"].diff()
    unsorted = int((gap.isna() | (gap > pd.Timedelta("30min")) | (gap < pd.Timedelta(0))).sum())
    assert unsorted != right
    assert not ex.check("journey_n_sessions_30min", unsorted, data=shop)


def test_wilson(shop):
    f = journey.funnel(shop.sessions).set_index("step")["sessions"]
    k, n = int(f["purchase"]), int(f["begin_checkout"])
    z = 1.96  # the rounded z is accepted
    p = k / n
    c = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    h = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    assert ex.check("journey_wilson_checkout", (c - h, c + h), data=shop)
    # mistake: the Wald interval p +- z se
    se = np.sqrt(p * (1 - p) / n)
    assert not ex.check("journey_wilson_checkout", [p - z * se, p + z * se], data=shop)
    # mistake: rate over all visits instead of over checkout sessions
    n_all = int(f["visit"])
    assert not ex.check("journey_wilson_checkout", list(journey.wilson_interval(k, n_all)), data=shop)


def test_last_touch(shop):
    s = shop.sessions
    right = s.loc[s["converted"], "traffic_source"].value_counts()  # categorical: zeros listed
    assert ex.check("journey_last_touch", right, data=shop)
    assert ex.check("journey_last_touch", right.astype("int64").to_dict(), data=shop)
    # mistake: counting every session's source, not the converting ones
    assert not ex.check("journey_last_touch", s["traffic_source"].value_counts(), data=shop)
    # mistake: first touch of each journey instead of the last
    jr = journey.journeys(s)
    first = jr.loc[jr["outcome"] == "conversion", "first_touch"].value_counts()
    assert not ex.check("journey_last_touch", first, data=shop)


def test_markov_social(shop):
    jr = journey.journeys(shop.sessions)
    right = journey.MarkovAttribution().fit(jr).removal_effects_["social"]
    assert ex.check("journey_markov_social", right, data=shop)
    # mistake: dropping open journeys instead of counting them as null
    dropped = journey.MarkovAttribution(open_paths="drop").fit(jr).removal_effects_["social"]
    assert not np.isclose(dropped, right, rtol=1e-6)
    assert not ex.check("journey_markov_social", dropped, data=shop)
    # mistake: reporting social's attribution share instead of its removal effect
    share = journey.MarkovAttribution().fit(jr).attribution_.set_index("channel").loc["social", "share"]
    assert not ex.check("journey_markov_social", share, data=shop)


def test_month1_retention(shop):
    cust = shop.customers.assign(cohort=shop.customers["signup_ts"].dt.to_period("M"))
    o = shop.orders.merge(cust[["customer_id", "cohort"]], on="customer_id")
    nxt = o.loc[o["order_ts"].dt.to_period("M") == o["cohort"] + 1]
    size = cust.groupby("cohort").size()
    size = size[size.index + 1 <= pd.Period(shop.end, "M")]
    right = nxt.groupby("cohort")["customer_id"].nunique().reindex(size.index, fill_value=0) / size
    right.index = right.index.strftime("%Y-%m")
    assert ex.check("journey_month1_retention", right, data=shop)
    # mistake: counting orders instead of distinct customers
    orders_count = nxt.groupby("cohort").size().reindex(size.index, fill_value=0) / size
    orders_count.index = orders_count.index.strftime("%Y-%m")
    assert (orders_count > right).any()
    assert not ex.check("journey_month1_retention", orders_count, data=shop)


def test_revenue_factors(shop):
    o, s = shop.orders, shop.sessions
    online = o.dropna(subset=["session_id"])
    visitors = s["customer_id"].nunique()

    def factors(orders):
        buyers = orders["customer_id"].nunique()
        return {"visitors": visitors, "conversion_rate": buyers / visitors,
                "orders_per_buyer": len(orders) / buyers,
                "items_per_order": orders["n_items"].mean(),
                "unit_price": orders["amount"].sum() / orders["n_items"].sum()}

    assert ex.check("journey_revenue_factors", factors(online), data=shop)
    # mistake: including store orders, which never had a visit
    assert not ex.check("journey_revenue_factors", factors(o), data=shop)
