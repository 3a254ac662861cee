"""客單價 and the source's six-factor chain (journey.per_buyer_value_decomposition), issue 24.

The known answer is a hand-worked event log (counted in the comments below); on the shop the
chain must telescope to revenue / buyers exactly.
"""

from __future__ import annotations

import pandas as pd
import pytest

import crmlab.data
from crmlab import journey

T0 = pd.Timestamp("2025-03-01 10:00:00")


def s(seconds: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(seconds=seconds)


def tiny():
    rows = [  # session, customer, seconds, event, product
        (1, 1, 0, "page_view", None),
        (1, 1, 5, "product_view", 11),     # A: next event 5 s later -> not stayed
        (1, 1, 10, "product_view", 12),    # B: 50 s -> stayed
        (1, 1, 60, "add_to_cart", 12),     # attention on B ...
        (1, 1, 70, "favorite", 12),        # ... the same session and product: still one
        (1, 1, 80, "purchase", None),
        (2, 2, 0, "product_view", 11),     # customer 2 never buys: not counted
        (2, 2, 99, "add_to_cart", 11),
        (3, 1, 900, "product_view", 13),   # C: 30 s -> stayed
        (3, 1, 930, "add_to_cart", 13),    # attention on C
        (4, 3, 2000, "product_view", 14),  # D: last event of its session -> not stayed
    ]
    events = pd.DataFrame(rows, columns=["session_id", "customer_id", "sec", "event_type", "product_id"])
    events["ts"] = events["sec"].map(s)
    events["event_id"] = range(1, len(events) + 1)
    events["product_id"] = events["product_id"].astype("Int64")
    orders = pd.DataFrame({
        "order_id": [1, 2, 3], "customer_id": [1, 1, 3],
        "order_ts": [s(80), s(5000), s(2100)],
        "session_id": pd.array([1, pd.NA, 4], dtype="Int64"),  # order 2 was bought in a store
        "n_items": [2, 5, 1], "amount": [300.0, 999.0, 100.0],
    })
    return events.drop(columns="sec"), orders


def test_hand_worked_chain():
    events, orders = tiny()
    row = journey.per_buyer_value_decomposition(events, orders).iloc[0]
    # buyers {1, 3}; views A, B, C, D; stayed B, C; attention (1,B), (3,C); online orders 1, 3
    assert (row["buyers"], row["views"], row["stayed"], row["attention"], row["orders"], row["items"]) \
        == (2, 4, 2, 2, 2, 3)
    expected = {"path_length": 2.0, "stay_rate": 0.5, "attention_rate": 1.0, "purchase_rate": 1.0,
                "items_per_order": 1.5, "unit_price": 400 / 3}
    for name, value in expected.items():
        assert row[name] == pytest.approx(value), name
    assert row["per_buyer_value"] == pytest.approx(200.0)  # NT$400 / 2 buyers
    assert row["check"] == pytest.approx(200.0)
    assert row["orders_per_buyer"] * row["aov"] == pytest.approx(200.0)


def test_store_orders_are_counted_out_loud():
    events, orders = tiny()
    out = journey.per_buyer_value_decomposition(events, orders)
    assert out.attrs["n_offline_orders"] == 1


def test_dwell_threshold_moves_only_stay_and_attention():
    events, orders = tiny()
    strict = journey.per_buyer_value_decomposition(events, orders, min_dwell_seconds=40).iloc[0]
    assert strict["stayed"] == 1 and strict["attention_rate"] == pytest.approx(2.0)
    assert strict["check"] == pytest.approx(200.0)  # the product does not depend on it


@pytest.mark.parametrize("bad", [-1, float("nan"), "10"])
def test_bad_dwell_is_refused(bad):
    events, orders = tiny()
    with pytest.raises(ValueError, match="min_dwell_seconds"):
        journey.per_buyer_value_decomposition(events, orders, min_dwell_seconds=bad)


def test_bad_period_is_refused():
    events, orders = tiny()
    with pytest.raises(ValueError, match="freq"):
        journey.per_buyer_value_decomposition(events, orders, freq="MS")


def test_on_the_shop_the_chain_telescopes_per_quarter():
    shop = crmlab.data.get_shop("tiny", seed=7)
    out = journey.per_buyer_value_decomposition(shop.events, shop.orders, freq="Q")
    online = shop.orders.loc[shop.orders["session_id"].notna()]
    by_q = online.groupby(online["order_ts"].dt.to_period("Q").dt.start_time)
    expected = (by_q["amount"].sum() / by_q["customer_id"].nunique()).to_numpy()
    assert out["check"].to_numpy() == pytest.approx(expected, rel=1e-12)
    assert out["per_buyer_value"].to_numpy() == pytest.approx(expected, rel=1e-12)
    assert ((out["stay_rate"] > 0) & (out["stay_rate"] <= 1)).all()
