"""Return-policy what-ifs (aftersales.return_policy_whatif), issue 24 item 6: hand-worked margins."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlab import aftersales as A


def tables():
    orders = pd.DataFrame({"order_id": [1, 2], "amount": [300.0, 200.0],
                           "delivered_ts": pd.to_datetime(["2025-01-01", "2025-01-10"])})
    items = pd.DataFrame({"order_id": [1, 1, 2], "product_id": [10, 20, 10], "quantity": [1, 1, 2]})
    products = pd.DataFrame({"product_id": [10, 20], "unit_cost": [100.0, 50.0]})
    returns = pd.DataFrame({
        "order_id": [1, 2], "product_id": [10, 10],
        "requested_ts": pd.to_datetime(["2025-01-03", "2025-01-30"]),  # 2 and 20 days after delivery
        "reason": ["size_fit", "defective"], "return_type": ["refund", "refund"], "quantity": [1, 1],
        "refund_amount": [150.0, 100.0], "shipping_cost": [0.0, 80.0], "restocking_cost": [25.0, 25.0],
    })
    return orders, items, returns, products


def margins(**policies):
    out = A.return_policy_whatif(*tables(), policies)
    return dict(zip(out["policy"], out["margin"], strict=True)), out


def test_margins_by_hand():
    P = A.ReturnPolicy
    got, out = margins(today=P(), window=P(window_days=7), exchange=P(exchange_share=1.0),
                       free=P(free_returns=True), more=P(order_change=0.1))
    # today: 500 revenue - 350 goods - 250 refunds + 100 (the size_fit item comes back) - 130 handling
    assert got["today"] == pytest.approx(-130.0)
    # 7-day window: the defective return (20 days) is refused: -150 refunds +100 back -25 handling
    assert got["window"] == pytest.approx(500 - 350 - 150 + 100 - 25)
    # exchange first: the size_fit refund becomes an exchange (revenue kept, goods swap)
    assert got["exchange"] == pytest.approx(500 - 350 - 100 - 130)
    # free returns: the shop pays the NT$80 the size_fit customer paid
    assert got["free"] == pytest.approx(-130.0 - 80.0)
    # 10% more orders with the same return rate: everything x 1.1
    assert got["more"] == pytest.approx(-130.0 * 1.1)
    assert out.set_index("policy").loc["window", "returns"] == pytest.approx(1.0)


@pytest.mark.parametrize("bad", [dict(window_days=-1), dict(exchange_share=1.5), dict(order_change=-1.0),
                                 dict(return_shipping=float("inf"))])
def test_impossible_policies_are_refused(bad):
    with pytest.raises(ValueError, match="ReturnPolicy"):
        A.ReturnPolicy(**bad)


def test_policies_must_be_return_policies():
    with pytest.raises(ValueError, match="ReturnPolicy objects"):
        A.return_policy_whatif(*tables(), {"today": {"window_days": 7}})


def test_returns_that_cannot_be_joined_are_refused():
    """Found while teaching 10_return_policy: a return of an unknown order was kept by 'today' but
    refused by every window (its delivery time was missing), and a product without a unit cost
    made the margin NaN or dropped out of the cost of goods. Both now name the table and column."""
    orders, items, returns, products = tables()
    unknown = returns.assign(order_id=[1, 99])
    with pytest.raises(ValueError, match=r"returns.order_id \[99\].*delivered_ts"):
        A.return_policy_whatif(orders, items, unknown, products, {"w": A.ReturnPolicy(window_days=30)})
    no_cost = items.assign(product_id=[10, 30, 10])
    with pytest.raises(ValueError, match=r"order_items.product_id \[30\].*unit_cost"):
        A.return_policy_whatif(orders, no_cost, returns, products, {"today": A.ReturnPolicy()})
    with pytest.raises(ValueError, match=r"returns.product_id \[77\]"):
        A.return_policy_whatif(orders, items, returns.assign(product_id=[10, 77]), products,
                               {"today": A.ReturnPolicy()})
