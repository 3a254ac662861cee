"""Online and offline membership (線上線下會員互通), issue 24 item 7.

Known answers: a hand-worked order log, the closed form 1 - p^n - (1-p)^n, and the shop's
planted channel mix (crmlab.data.simulate.SEGMENT_CHANNEL: each order's channel is drawn
independently from the customer's segment's mix), which predicts how many members end up
omnichannel.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crmlab.data
from crmlab import profile
from crmlab.data.simulate import SEGMENT_CHANNEL, SEGMENT_LABELS


def orders():
    return pd.DataFrame({
        "customer_id": [1, 1, 1, 2, 2, 3, 4, 4, 4],
        "order_ts": pd.to_datetime(["2025-01-01", "2025-02-01", "2025-03-01", "2025-01-05",
                                    "2025-01-20", "2025-02-02", "2025-01-01", "2025-01-02", "2025-01-03"]),
        "channel": ["web", "store", "app", "store", "store", "app", "store", "web", "web"],
        "amount": [100.0, 50.0, 30.0, 20.0, 40.0, 10.0, 60.0, 10.0, 10.0],
    })


def test_channel_profile_by_hand():
    cp = profile.channel_profile(orders()).set_index("customer_id")
    assert cp["kind"].astype(str).tolist() == ["omnichannel", "store only", "online only", "omnichannel"]
    assert cp["store_orders"].tolist() == [1, 2, 0, 1]
    assert cp["store_amount"].tolist() == [50.0, 60.0, 0.0, 60.0]
    assert cp["online_amount"].tolist() == [130.0, 0.0, 10.0, 20.0]
    # customer 1: web -> store -> app switches twice; customer 4: store -> web once
    assert cp["switches"].tolist() == [2, 0, 0, 1]
    assert cp.loc[4, "first_channel"] == "store" and cp.loc[4, "last_channel"] == "web"


def test_expected_share_closed_form():
    assert profile.expected_omnichannel_share(0.5, 2) == pytest.approx(0.5)
    assert profile.expected_omnichannel_share(0.2, 1) == pytest.approx(0.0)
    assert profile.expected_omnichannel_share(0.1, 3) == pytest.approx(1 - 0.001 - 0.729)
    with pytest.raises(ValueError):
        profile.expected_omnichannel_share(1.5, 2)


def test_value_compares_like_with_like_by_hand():
    cp = profile.channel_profile(orders())
    v = profile.omnichannel_value(cp, max_orders=3).set_index("kind")
    assert v.loc["omnichannel", "members"] == 2 and v.loc["online only", "members"] == 1
    assert v.loc["omnichannel", "amount_per_order"] == pytest.approx((180 + 80) / 6)
    # omnichannel members both have 3 orders: only that stratum counts; the online-only
    # member (1 order) has no member in it -> NaN, the store-only one (2 orders) neither
    assert v.loc["omnichannel", "amount_per_order_same_orders"] == pytest.approx(260 / 6)
    assert np.isnan(v.loc["online only", "amount_per_order_same_orders"])


def test_omnichannel_count_matches_the_planted_channel_mix():
    shop = crmlab.data.get_shop("small", seed=42)
    cp = profile.channel_profile(shop.orders)
    seg = shop.truth["customers"].set_index("customer_id")["segment"].reindex(cp["customer_id"])
    p_store = np.array([SEGMENT_CHANNEL[list(SEGMENT_LABELS).index(s), 3] for s in seg])
    expected = profile.expected_omnichannel_share(p_store, cp["orders"].to_numpy())
    se = np.sqrt((expected * (1 - expected)).sum())
    observed = int((cp["kind"] == "omnichannel").sum())
    assert abs(observed - expected.sum()) < 3 * se, (observed, expected.sum(), se)
