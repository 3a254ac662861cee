"""The unit-06 exercise checks accept right answers computed another way and reject typical
mistakes (instructor/exercises/06_recommendations_and_baskets_exercises.ipynb,
crmlab/exercises/answers/unit06.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crmlab.exercises as ex
from crmlab.data import simulate


@pytest.fixture(scope="module")
def shop():
    return simulate("tiny", seed=11)


@pytest.fixture(scope="module")
def purchases(shop):
    return shop.order_items.merge(shop.orders[["order_id", "customer_id", "order_ts"]], on="order_id")


def test_top5_popular(shop, purchases):
    buyers = purchases.drop_duplicates(["customer_id", "product_id"])["product_id"].value_counts()
    right = buyers.sort_index().sort_values(ascending=False, kind="stable").index[:5].tolist()
    assert ex.check("rec_top5_popular", right, data=shop)
    assert ex.check("rec_top5_popular", tuple(right), data=shop)
    assert not ex.check("rec_top5_popular", right[::-1], data=shop)  # order matters


def test_textbook_lift(shop):
    # Table 6.1 of Tan, Steinbach & Kumar: s(Diapers) = 4/5, s(Beer) = 3/5, s(both) = 3/5,
    # so lift = (3/5) / (4/5 * 3/5) = 1.25.
    assert ex.check("basket_textbook_lift", 1.25, data=shop)
    assert not ex.check("basket_textbook_lift", 0.6, data=shop)  # the support


def test_top_pair_and_similarity(shop, purchases):
    lines = shop.order_items[["order_id", "product_id"]].drop_duplicates()
    onehot = pd.crosstab(lines["order_id"], lines["product_id"]).clip(upper=1).to_numpy(float)
    n = len(onehot)
    co = onehot.T @ onehot / n
    s = np.diag(co)
    lift = co / np.outer(s, s)
    np.fill_diagonal(lift, 0)
    lift[co < 0.01] = 0
    i, j = np.unravel_index(np.argmax(lift), lift.shape)
    ids = pd.crosstab(lines["order_id"], lines["product_id"]).columns
    assert ex.check("basket_top_pair_by_lift", {int(ids[i]), int(ids[j])}, data=shop)
    assert ex.check("basket_top_pair_by_lift", [int(ids[j]), int(ids[i])], data=shop)
    assert not ex.check("basket_top_pair_by_lift", {int(ids[i])}, data=shop)


def test_recall_rejects_random_lists(shop):
    right = ex.get_question("rec_popularity_recall").expected(shop)
    assert 0 < right < 1
    assert ex.check("rec_popularity_recall", np.float64(right), data=shop)
    assert not ex.check("rec_popularity_recall", right * 1.01, data=shop)


def test_breakeven_uplift_closed_form(shop):
    lines = shop.order_items.merge(shop.products[["product_id", "unit_cost"]], on="product_id")
    g = 1 - (lines["quantity"] * lines["unit_cost"]).sum() / (lines["quantity"] * lines["list_price"]).sum()
    assert ex.check("basket_breakeven_uplift", 0.1 / (g - 0.1), data=shop)
    assert not ex.check("basket_breakeven_uplift", 0.1 / g, data=shop)
