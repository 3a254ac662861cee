"""Selling points (賣點挖掘, FAB) mined from reviews, and their association with conversion
(issue 24 item 3): hand-made reviews, views and orders, counted in the comments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from crmlab import journey as J

FAB = pd.DataFrame({"feature": ["durable", "packaging"], "keywords": [("durable",), ("gift box", "wrapped")],
                    "advantage": ["lasts", "ready"], "benefit": ["value", "time"]})


def tables():
    reviews = pd.DataFrame({
        "product_id": [1, 1, 1, 2, 2, 2, 2, 3],
        "stars": [5, 4, 5, 5, 4, 2, 5, 5],
        "text": ["Durable!", "nicely wrapped", "durable and in a gift box", "meh", "WRAPPED well",
                 "not durable", "durable", "durable"],
    })
    t = pd.Timestamp("2025-01-01")
    events = pd.DataFrame({"customer_id": [1, 2, 3, 1, 2], "ts": [t] * 5,
                           "event_type": ["product_view"] * 5, "product_id": [1, 1, 1, 2, 2]})
    orders = pd.DataFrame({"order_id": [10, 11], "customer_id": [1, 2],
                           "order_ts": [t + pd.Timedelta(days=1), t - pd.Timedelta(days=1)]})
    items = pd.DataFrame({"order_id": [10, 11], "product_id": [1, 2]})
    return reviews, events, orders, items


def test_praise_shares_and_conversion_by_hand():
    out = J.selling_points(*tables(), fab=FAB, min_reviews=3).set_index("product_id")
    # product 1: praise = its three 4-5 star reviews; durable in 2 of 3, packaging in 2 of 3
    # product 2: praise = "meh", "WRAPPED well", "durable" (the 2-star one is not praise)
    # product 3: one praising review < min_reviews -> left out
    assert list(out.index) == [1, 2] and out.attrs["left_out"] == 1
    assert out.loc[1, ["durable", "packaging"]].tolist() == pytest.approx([2 / 3, 2 / 3])
    assert out.loc[2, ["durable", "packaging"]].tolist() == pytest.approx([1 / 3, 1 / 3])
    # viewers of 1: customers 1, 2, 3; customer 1 bought it after viewing -> 1/3
    # viewers of 2: customers 1, 2; customer 2 bought it the day BEFORE viewing -> 0
    assert out.loc[1, ["viewers", "conversion"]].tolist() == pytest.approx([3, 1 / 3])
    assert out.loc[2, ["viewers", "conversion"]].tolist() == pytest.approx([2, 0.0])


def test_association_is_spearman_with_a_fisher_interval():
    rng = np.random.default_rng(0)
    points = pd.DataFrame({"durable": rng.random(40), "packaging": rng.random(40)})
    points["conversion"] = points["durable"] + rng.normal(0, 0.1, 40)
    out = J.selling_point_conversion(points, fab=FAB).set_index("feature")
    rho = stats.spearmanr(points["durable"], points["conversion"]).statistic
    half = stats.norm.ppf(0.975) * 1.06 / np.sqrt(37)
    assert out.loc["durable", "rho"] == pytest.approx(rho)
    assert out.loc["durable", ["low", "high"]].tolist() == pytest.approx(
        [np.tanh(np.arctanh(rho) - half), np.tanh(np.arctanh(rho) + half)])
    assert out.loc["packaging", "rho"] == pytest.approx(stats.spearmanr(points["packaging"], points["conversion"]).statistic)
    assert out.loc["durable", "low"] > 0.8  # conversion was built from durable


def test_a_feature_nobody_praises_has_no_correlation_and_no_warning():
    # found on the tiny shop (seed 2027): no 4-5 star review said "true to size", so its share
    # is 0 for every product; Spearman's rho is undefined there and must come back NaN quietly
    import warnings

    points = pd.DataFrame({"durable": [0.0, 0.0, 0.0, 0.0, 0.0], "packaging": [0.1, 0.5, 0.2, 0.9, 0.4],
                           "conversion": [0.1, 0.3, 0.2, 0.4, 0.25]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = J.selling_point_conversion(points, fab=FAB).set_index("feature")
    assert np.isnan(out.loc["durable", ["rho", "low", "high"]].astype(float)).all()
    # packaging and conversion rank the five products in the same order: rho = 1 exactly
    assert out.loc["packaging", "rho"] == pytest.approx(1.0)
