"""Recorded results of notebooks/03_transaction_value_and_selling_points.ipynb executed at the
test parameters (DATA="tiny"), checked against identities that hold in every shop and the
closed form of the add-on what-if."""

from __future__ import annotations

import math

import pytest

from crmlab.data import simulate
from crmlab.nb import read_claims, read_results

NAME = "03_transaction_value_and_selling_points"


@pytest.fixture(scope="module")
def results(executed_notebook):
    return read_results(executed_notebook(NAME))


def test_per_buyer_value_is_orders_per_buyer_times_aov(results):
    # revenue / buyers = (orders / buyers) x (revenue / orders): an identity
    assert results["per_buyer_value"] == pytest.approx(results["orders_per_buyer_x_aov"], rel=1e-12)


def test_the_six_factor_chain_telescopes_to_revenue_per_buyer(results):
    # the source's chain: each denominator is the previous numerator, so the product is
    # online revenue / online buyers exactly (tests/unit/test_per_buyer_value.py by hand)
    chain = results["chain"]
    assert set(chain) == {"path_length", "stay_rate", "attention_rate", "purchase_rate",
                          "items_per_order", "unit_price"}
    assert math.prod(chain.values()) == pytest.approx(results["chain_product"], rel=1e-12)
    assert results["chain_product"] == pytest.approx(results["online_revenue"] / results["online_buyers"],
                                                     rel=1e-12)
    assert 0 < chain["stay_rate"] <= 1 and chain["items_per_order"] >= 1
    assert results["quarter_check_max_rel_error"] < 1e-9


def test_what_if_matches_the_closed_form(results):
    # one extra item at the add-on's price per new attach: gain = n (s - c) p_Y / revenue;
    # the bundle also pays d (p_X + p_Y) on all n s bundles
    x = results["what_if_inputs"]
    c, s = results["attach_now"], results["what_if_share"]
    assert 0 <= c < s <= 1
    extra = x["n_anchor_orders"] * (s - c) * x["price_add_on"]
    assert results["what_if_gain"] == pytest.approx(extra / results["online_revenue"], rel=1e-9)
    cost = x["discount"] * x["n_anchor_orders"] * s * (x["price_anchor"] + x["price_add_on"])
    assert results["what_if_bundle_gain"] == pytest.approx((extra - cost) / results["online_revenue"], rel=1e-9)
    assert results["what_if_bundle_gain"] < results["what_if_gain"]


def test_hot_products(results):
    tiny = simulate("tiny", seed=42, detail="orders")
    ids = set(tiny.products["product_id"])
    assert len(results["top_hot_products"]) == 5 and set(results["top_hot_products"]) <= ids
    # views and sales come from the same popularity x taste choice model
    assert results["hot_views_sales_rho"] > 0.3


def test_selling_point_correlations_are_correlations(results):
    for feature, rho in results["selling_point_rho"].items():
        assert rho is None or -1 <= rho <= 1, feature


def test_readings_are_rendered(results, executed_notebook):
    names = {c["name"] for c in read_claims(executed_notebook(NAME))}
    assert {"bundle_break_even", "hot_definitions_differ", "views_track_sales",
            "selling_point_association"} <= names
