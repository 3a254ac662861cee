"""The unit-02 exercise checks accept right answers written another way (the crmlab
helpers, other pandas routes) and reject typical mistakes
(exercises/02_rfm_and_value_exercises.ipynb, crmlab/exercises/answers/unit02.py). The
registered mistakes/variants run in tests/exercises/test_mistakes.py; these are extra
hand-written cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crmlab.exercises as ex
from crmlab import rfm
from crmlab.data import simulate


@pytest.fixture(scope="module")
def shop():
    return simulate("tiny", seed=11)


def test_rfm_table_by_helper_and_by_hand(shop):
    # the helper (with its extra tenure column) is a right answer
    assert ex.check("rfm_table", rfm.rfm_table(shop.orders, shop.end_ts), data=shop)
    # by hand with calendar days
    o = shop.orders
    days = (shop.end_ts.normalize() - o["order_ts"].dt.normalize()).dt.days
    by_hand = pd.DataFrame({"customer_id": o["customer_id"], "d": days, "amount": o["amount"]}).groupby(
        "customer_id").agg(recency=("d", "min"), frequency=("d", "size"), monetary=("amount", "sum"))
    assert ex.check("rfm_table", by_hand, data=shop)
    # mistake: the default snapshot of rfm_table (day after the last order) instead of shop.end_ts
    last = o["order_ts"].max().normalize()
    if last + pd.Timedelta(days=1) != shop.end_ts.normalize():
        assert not ex.check("rfm_table", rfm.rfm_table(o), data=shop)
    # mistake: members who never ordered kept with recency NaN
    members = by_hand.reindex(shop.customers["customer_id"])
    assert not ex.check("rfm_table", members, data=shop)


def test_r_score_recipe(shop):
    t = rfm.rfm_table(shop.orders, shop.end_ts)
    right = pd.qcut((-t["recency"]).rank(method="first"), 5, labels=False) + 1
    assert ex.check("rfm_r_score", pd.Series(right.to_numpy(), index=t["customer_id"]), data=shop)
    # mistake: qcut on the raw (negated) recency with duplicates dropped: fewer, uneven groups
    raw = pd.qcut(-t["recency"], 5, labels=False, duplicates="drop") + 1
    if not (raw.to_numpy() == right.to_numpy()).all():
        assert not ex.check("rfm_r_score", pd.Series(raw.to_numpy(), index=t["customer_id"]), data=shop)


def test_concentration_answers(shop):
    m = rfm.rfm_table(shop.orders, shop.end_ts)["monetary"]
    assert ex.check("rfm_gini", rfm.gini(m), data=shop)
    x = np.sort(m.to_numpy())
    n = len(x)
    closed_form = 2 * np.sum(np.arange(1, n + 1) * x) / (n * x.sum()) - (n + 1) / n
    assert ex.check("rfm_gini", closed_form, data=shop)
    assert ex.check("rfm_top20_share", rfm.pareto_share(m, 0.2), data=shop)
    # mistake: the share of customers holding 80% of revenue (the inverse question)
    assert not ex.check("rfm_top20_share", rfm.pareto_point(m, 0.8), data=shop)


def test_champions_share_by_helper_summary(shop):
    seg = rfm.rfm_segments(rfm.rfm_scores(rfm.rfm_table(shop.orders, shop.end_ts)))
    summary = rfm.segment_summary(seg).set_index("segment")
    assert ex.check("rfm_champions_revenue_share", summary.loc["Champions", "revenue_share"], data=shop)
    # mistake: scores with ties="first" move customers between segments
    first = rfm.rfm_segments(rfm.rfm_scores(rfm.rfm_table(shop.orders, shop.end_ts), ties="first"))
    share_first = first.loc[first["segment"] == "Champions", "monetary"].sum() / first["monetary"].sum()
    if abs(share_first - summary.loc["Champions", "revenue_share"]) > 1e-9:
        assert not ex.check("rfm_champions_revenue_share", share_first, data=shop)


def test_interest_ari_with_sklearn(shop):
    from sklearn.metrics import adjusted_rand_score

    c = shop.customers.set_index("customer_id").sort_index()
    t = shop.truth["customers"].set_index("customer_id").sort_index()
    first = c["interests"].str.split("|").str[0]
    assert ex.check("seg_interest_ari", adjusted_rand_score(first, t["segment"].astype(str)), data=shop)
    # mistake: the two series not aligned (truth shuffled against the members)
    shuffled = t["segment"].astype(str).sample(frac=1.0, random_state=0).to_numpy()
    assert not ex.check("seg_interest_ari", adjusted_rand_score(first, shuffled), data=shop)


# ----------------------------------------------------------------------------- issue 24: credit and
# capital value (the six-part value model, notebooks/02_rfm_and_value.ipynb section 5.1)


def test_credit_and_capital_known_answer():
    """Three hand-made customers (hand computed): 1 paid 100 and got 25 back -> credit 0.75;
    2 paid nothing -> 1; 3 paid 50, nothing back -> 1. 2 and 3 were referred by 1 -> capital
    of 1 = 0 + 50 = 50, the others 0."""
    customers = pd.DataFrame({"customer_id": [1, 2, 3], "referred_by": pd.array([None, 1, 1], dtype="Int64")})
    orders = pd.DataFrame({"customer_id": [1, 1, 3], "amount": [60.0, 40.0, 50.0]})
    returns = pd.DataFrame({"customer_id": [1], "refund_amount": [25.0]})
    empty = pd.DataFrame({"customer_id": pd.Series([], dtype="int64")})
    parts = rfm.relationship_value_parts(customers, orders, returns, empty, empty)
    assert parts["credit"].tolist() == [0.75, 1.0, 1.0]
    assert parts["capital"].tolist() == [50.0, 0.0, 0.0]


def test_credit_check_by_hand(shop):
    paid = shop.orders.groupby("customer_id")["amount"].sum()
    refunded = shop.returns.groupby("customer_id")["refund_amount"].sum()
    credit = {int(c): (1 - refunded.get(c, 0.0) / paid[c]) if paid.get(c, 0) > 0 else 1.0
              for c in shop.customers["customer_id"]}
    assert ex.check("value_credit", credit, data=shop)
    assert not ex.check("value_credit", {c: 100 * v for c, v in credit.items()}, data=shop)  # percent


def test_capital_check_by_hand(shop):
    paid = shop.orders.groupby("customer_id")["amount"].sum()
    capital = dict.fromkeys(shop.customers["customer_id"].astype(int), 0.0)
    for cid, ref in zip(shop.customers["customer_id"], shop.customers["referred_by"], strict=True):
        if not pd.isna(ref):
            capital[int(ref)] += float(paid.get(cid, 0.0))
    assert ex.check("value_capital", pd.Series(capital), data=shop)
    assert sum(capital.values()) > 0, "the tiny shop has referrals that paid"
    # capital value is money, so shifting one referrer's value by NT$1 must fail
    top = max(capital, key=capital.get)
    assert not ex.check("value_capital", pd.Series({**capital, top: capital[top] + 1}), data=shop)
    assert np.isclose(sum(capital.values()), rfm.relationship_value_parts(
        shop.customers, shop.orders, shop.returns, shop.sessions, shop.reviews)["capital"].sum())
