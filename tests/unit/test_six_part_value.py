"""The six-part comprehensive value model (客戶綜合價值), issue 24 item 2.

Known answers: hand-worked tables (counted in the comments) and identities of the scoring
(weights on one part give that part's percentile; identical weight sets agree perfectly).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlab import rfm


def tables():
    customers = pd.DataFrame({"customer_id": [1, 2, 3, 4],
                              "referred_by": pd.array([pd.NA, 1, 1, 2], dtype="Int64")})
    orders = pd.DataFrame({
        "order_id": [10, 11, 12, 13, 14],
        "customer_id": [1, 1, 2, 3, 4],
        "order_ts": pd.to_datetime(["2025-01-05", "2025-03-01", "2025-02-01", "2025-02-10", "2025-03-20"]),
        "amount": [100.0, 300.0, 200.0, 50.0, 80.0],
    })
    returns = pd.DataFrame({"customer_id": [1, 3], "refund_amount": [40.0, 50.0]})
    sessions = pd.DataFrame({"customer_id": [1, 1, 1, 2, 4]})
    reviews = pd.DataFrame({"customer_id": [1, 3]})
    events = pd.DataFrame({"customer_id": [2, 2, 3], "event_type": ["favorite", "favorite", "page_view"]})
    return customers, orders, returns, sessions, reviews, events


def test_parts_by_hand():
    parts = rfm.relationship_value_parts(*tables())
    # credit: 1 - 40/400, 1 - 0/200, 1 - 50/50, 1 - 0/80
    assert parts["credit"].tolist() == pytest.approx([0.9, 1.0, 0.0, 1.0])
    # capital: customer 1 referred 2 and 3 (200 + 50); customer 2 referred 4 (80)
    assert parts["capital"].tolist() == pytest.approx([250.0, 80.0, 0.0, 0.0])
    # e-value: sessions + reviews + favourites: 3+1+0, 1+0+2, 0+1+0, 1+0+0
    assert parts["e_value"].tolist() == pytest.approx([4.0, 3.0, 1.0, 1.0])


def test_weights_on_one_part_give_its_percentile():
    customers, orders, *rest = tables()
    parts = rfm.relationship_value_parts(customers, orders, *rest)
    value = rfm.customer_value(orders, parts=parts, weights={"capital": 1.0})
    expected = 100 * value["capital"].rank(method="average", pct=True)
    assert value["value_score"].to_numpy() == pytest.approx(expected.to_numpy())
    assert value.attrs["weights"]["capital"] == 1.0


def test_default_weights_with_parts_are_the_six_part_ones():
    customers, orders, *rest = tables()
    value = rfm.customer_value(orders, parts=rfm.relationship_value_parts(customers, orders, *rest))
    assert value.attrs["weights"] == pytest.approx(rfm.SIX_PART_WEIGHTS)
    assert {f"{p}_score" for p in rfm.RELATIONSHIP_PARTS} <= set(value.columns)


def test_without_parts_the_four_part_model_is_unchanged():
    _, orders, *_ = tables()
    assert list(rfm.customer_value(orders).attrs["weights"]) == list(rfm.VALUE_WEIGHTS)
    with pytest.raises(ValueError, match="need parts="):
        rfm.customer_value(orders, weights={"credit": 1.0})


def test_parts_must_cover_every_buyer_and_be_finite():
    customers, orders, *rest = tables()
    parts = rfm.relationship_value_parts(customers, orders, *rest)
    with pytest.raises(ValueError, match="no row for 1 buyer"):
        rfm.customer_value(orders, parts=parts.drop(index=4))
    bad = parts.assign(credit=[np.nan, 1, 1, 1])
    with pytest.raises(ValueError, match="'credit'"):
        rfm.customer_value(orders, parts=bad)


def test_weight_sensitivity_known_answers():
    customers, orders, *rest = tables()
    value = rfm.customer_value(orders, parts=rfm.relationship_value_parts(customers, orders, *rest))
    out = rfm.weight_sensitivity(value, {"a": rfm.SIX_PART_WEIGHTS, "same": dict(rfm.SIX_PART_WEIGHTS),
                                         "credit only": {"credit": 1}}, top=0.5)
    assert out.loc[out["weights"] == "same", ["spearman", "top_overlap"]].to_numpy().tolist() == [[1.0, 1.0]]
    assert out["top_customers"].eq(2).all()
    with pytest.raises(ValueError, match="weight set 'x'"):
        rfm.weight_sensitivity(value, {"x": {"nothing": 1}})
