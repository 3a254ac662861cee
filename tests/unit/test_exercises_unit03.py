"""The unit-03 exercise checks accept right answers in other shapes and reject typical
mistakes (exercises/03_customer_journey_exercises.ipynb, crmlab/exercises/answers/unit03.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crmlab.exercises as ex
from crmlab import journey
from crmlab.data import simulate
from crmlab.exercises.registry import answers_module

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


# ----------------------------------------------------------------------------- issue 24: 客單價,
# its stay rate, and a selling point in review text


def test_per_buyer_value_known_answer():
    """Two buyers, three orders of 100, 200 and 300 in the quarter, one order outside it:
    客單價 = 600 / 2 = 300, AOV = 200 (hand computed)."""
    from crmlab import kpi

    orders = pd.DataFrame({"customer_id": [1, 1, 2, 2], "amount": [100.0, 200.0, 300.0, 999.0],
                           "order_ts": pd.to_datetime(["2024-10-02 00:00", "2024-11-05 00:00", "2024-12-31 23:00",
                                                       "2025-01-01 00:00"])})
    assert kpi.per_buyer_value(orders, "2024-10-01", "2025-01-01") == pytest.approx(300.0)


def test_per_buyer_value_check(shop):
    unit03 = answers_module("unit03")

    start, end = unit03.last_quarter(shop)
    assert (start, end) == (pd.Timestamp("2024-10-01"), pd.Timestamp("2025-01-01"))  # tiny = 2024
    q = shop.orders.loc[(shop.orders["order_ts"] >= start) & (shop.orders["order_ts"] < end)]
    right = q["amount"].sum() / q["customer_id"].nunique()
    assert ex.check("journey_per_buyer_value", right, data=shop)
    assert not ex.check("journey_per_buyer_value", q["amount"].mean(), data=shop)  # AOV


def test_stay_rate_known_answer():
    """One buyer, one session: views at 0 s, 5 s and 30 s, a cart at 45 s, a last view at 60 s.
    Dwells to the next event: 5 s, 25 s, 15 s, none (last event) -> 2 of 4 views stayed at
    least 10 s: stay rate 0.5 (hand computed)."""
    t0 = pd.Timestamp("2024-05-01 12:00")
    events = pd.DataFrame({
        "event_id": [1, 2, 3, 4, 5], "session_id": [7] * 5, "customer_id": [1] * 5,
        "ts": [t0 + pd.Timedelta(seconds=s) for s in (0, 5, 30, 45, 60)],
        "event_type": ["product_view", "product_view", "product_view", "add_to_cart", "product_view"],
        "product_id": [10, 11, 12, 12, 13]})
    orders = pd.DataFrame({"customer_id": [1], "order_ts": [t0 + pd.Timedelta(minutes=2)], "amount": [50.0],
                           "n_items": [1], "session_id": [7]})
    d = journey.per_buyer_value_decomposition(events, orders, min_dwell_seconds=10).iloc[0]
    assert d["views"] == 4 and d["stayed"] == 2 and d["stay_rate"] == pytest.approx(0.5)


def test_stay_rate_check(shop):
    unit03 = answers_module("unit03")

    right = unit03.stay_rate(shop)
    assert 0 < right < 1
    assert ex.check("journey_stay_rate", right, data=shop)
    assert not ex.check("journey_stay_rate", 100 * right, data=shop)  # a percentage


def test_praise_share_by_hand(shop):
    happy = shop.reviews.loc[shop.reviews["stars"] >= 4, "text"]
    hits = [any(k in t.lower() for k in ("good value", "great price", "worth every")) for t in happy]
    right = sum(hits) / len(hits)
    assert ex.check("journey_praise_share", right, data=shop)
    assert ex.check("journey_praise_share", round(right, 9), data=shop)
    assert not ex.check("journey_praise_share", sum(hits), data=shop)  # a count, not a share


def test_first_visitor_conversion_known_answer():
    """Product 5, window (Jun 1, Jun 29]: customer 1 first viewed it in May (not a first-time
    visitor), 2 first viewed it in the window and bought after, 3 viewed in the window and
    bought BEFORE the view only, 4 viewed in the window and never bought -> 1 of 3 first-time
    visitors converted: 1/3 (hand computed). first_buyer_share is another metric."""
    ts = pd.to_datetime
    events = pd.DataFrame({"customer_id": [1, 1, 2, 3, 4], "product_id": [5] * 5,
                           "event_type": ["product_view"] * 5,
                           "ts": ts(["2024-05-10 00:00", "2024-06-10 00:00", "2024-06-05 00:00",
                                     "2024-06-20 00:00", "2024-06-21 00:00"])})
    orders = pd.DataFrame({"order_id": [1, 2, 3], "customer_id": [1, 2, 3],
                           "order_ts": ts(["2024-06-11 00:00", "2024-06-06 00:00", "2024-06-02 00:00"])})
    items = pd.DataFrame({"order_id": [1, 2, 3], "product_id": [5, 5, 5], "quantity": [1, 1, 1]})
    hot = journey.hot_products(orders, items, events, end="2024-06-29", weeks=4).set_index("product_id")
    assert hot.loc[5, "first_visitor_conversion"] == pytest.approx(1 / 3)


def test_first_visitor_conversion_check(shop):
    unit03 = answers_module("unit03")

    right = unit03.first_visitor_conversion(shop)
    assert len(right) == len(shop.products) and right.between(0, 1).all()
    assert ex.check("journey_first_visitor_conversion", right.sort_values(), data=shop)  # order free
    assert not ex.check("journey_first_visitor_conversion", right.loc[right > 0], data=shop)  # zeros dropped
