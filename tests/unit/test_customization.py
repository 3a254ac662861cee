"""Customised products and personalised packaging (issue 24 item 9).

Known answers: a hand-made order log, and the shop's planted take-up (crmlab.data.simulate:
P(line takes an option) = CUSTOMIZATION_SEGMENT[segment] x CUSTOMIZATION_RATE[option] on the
lines whose category offers it; gift wrap doubles in November and December).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crmlab.data
from crmlab import offers
from crmlab.data.simulate import CUSTOMIZATION_RATE, CUSTOMIZATION_SEGMENT


def tables():
    items = pd.DataFrame({"order_id": [1, 1, 2, 3], "line_no": [1, 2, 1, 1], "product_id": [10, 20, 10, 20]})
    products = pd.DataFrame({"product_id": [10, 20], "category": ["fashion", "books"]})
    orders = pd.DataFrame({"order_id": [1, 2, 3], "customer_id": [7, 8, 8]})
    cz = pd.DataFrame({"order_id": [1, 2, 1], "line_no": [1, 1, 2], "option": ["custom_size", "custom_size", "gift_wrap"],
                       "fee": [300.0, 300.0, 50.0], "cost": [100.0, 100.0, 20.0]})
    return cz, items, products, orders


def test_take_up_by_hand():
    eligible = {"custom_size": ("fashion",), "gift_wrap": None}
    out = offers.customization_uptake(*tables(), eligible=eligible).set_index("option")
    # custom size: fashion lines (order 1 line 1, order 2 line 1) -> 2 of 2; gift wrap: 1 of 4 lines
    assert out.loc["custom_size", ["eligible_lines", "customized", "take_up", "fees", "margin"]].tolist() \
        == [2, 2, 1.0, 600.0, 400.0]
    assert out.loc["gift_wrap", ["eligible_lines", "customized", "take_up"]].tolist() == [4, 1, 0.25]
    by = offers.customization_uptake(*tables(), eligible=eligible, by=pd.Series({7: "a", 8: "b"}))
    gift = by.loc[by["option"] == "gift_wrap"].set_index("group")
    assert gift.loc["a", "take_up"] == pytest.approx(0.5) and gift.loc["b", "take_up"] == 0.0
    with pytest.raises(ValueError, match="not in `eligible`"):
        offers.customization_uptake(*tables(), eligible={"gift_wrap": None})


def test_take_up_recovers_the_planted_rates():
    shop = crmlab.data.get_shop("small", seed=42)
    seg = shop.truth["customers"].set_index("customer_id")["segment"]
    out = offers.customization_uptake(shop.customizations, shop.order_items, shop.products, shop.orders, by=seg)
    for row in out.loc[out["option"] != "gift_wrap"].itertuples():  # gift wrap mixes two seasons
        planted = CUSTOMIZATION_SEGMENT[row.group] * CUSTOMIZATION_RATE[row.option]
        se = np.sqrt(planted * (1 - planted) / row.eligible_lines)
        assert abs(row.take_up - planted) < 3.5 * se, (row.option, row.group, row.take_up, planted)


def test_a_buyer_without_a_group_label_is_refused():
    """Found while teaching notebook 08: a buyer missing from `by` became a silent group "nan"."""
    with pytest.raises(ValueError, match=r"no label for customer_id \[8\]"):
        offers.customization_uptake(*tables(), eligible={"custom_size": ("fashion",), "gift_wrap": None},
                                    by=pd.Series({7: "a"}))
