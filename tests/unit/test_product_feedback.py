"""Feedback into product development (issue 24 item 8): tag, prioritise, track to a change.

Known answers: hand-made requests, the exact conditional-binomial interval, and the shop's
planted themes and shipped changes (crmlab.data.simulate.PRODUCT_CHANGES: eco packaging cut
its requests by 70%, the wishlist button changed nothing).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import crmlab.data
from crmlab import feedback as F
from crmlab.data.simulate import PRODUCT_CHANGES


def requests():
    return pd.DataFrame({
        "request_id": [1, 2, 3, 4, 5],
        "customer_id": [1, 1, 2, 3, 3],
        "ts": pd.to_datetime(["2025-01-01", "2025-01-05", "2025-01-10", "2025-01-20", "2025-01-25"]),
        "text": ["Less PLASTIC please", "more plastic-free packaging", "A bigger battery", "hello", "battery!"],
    })


def test_tagging_first_rule_wins_and_nothing_is_dropped():
    t = F.tag_requests(requests(), {"eco": ("plastic",), "battery": ("battery",)})
    assert t["theme"].tolist() == ["eco", "eco", "battery", "other", "battery"]
    with pytest.raises(ValueError, match="keyword"):
        F.tag_requests(requests(), {"eco": ()})


def test_priorities_by_hand():
    t = F.tag_requests(requests(), {"eco": ("plastic",), "battery": ("battery",)})
    orders = pd.DataFrame({"customer_id": [1, 2, 3, 3], "amount": [100.0, 50.0, 20.0, 30.0]})
    out = F.prioritize_requests(t, orders, effort={"eco": 2.0, "battery": 1.0}).set_index("theme")
    # eco: customer 1 twice -> reach 1, spend 100, /2 weeks = 50; battery: customers 2 and 3,
    # spend 50 + 50 = 100, /1 week = 100
    assert out.loc["eco", ["requests", "reach", "requester_spend", "score"]].tolist() == [2, 1, 100.0, 50.0]
    assert out.loc["battery", ["requests", "reach", "requester_spend", "score"]].tolist() == [2, 2, 100.0, 100.0]
    assert out.index[0] == "battery" and np.isnan(out.loc["other", "score"])


def test_change_effect_interval_is_the_exact_one():
    days = pd.date_range("2025-01-01", periods=100, freq="D")
    ts = list(days[:40:2]) + list(days[60::4])  # 20 requests in the 50 days before, 10 after
    tagged = pd.DataFrame({"ts": ts, "theme": "eco"})
    changes = pd.DataFrame({"change_id": [1], "theme": ["eco"], "shipped_ts": [days[50]]})
    row = F.change_effect(tagged, changes, start=days[0], end=days[0] + pd.Timedelta(days=100)).iloc[0]
    assert row["per_day_before"] == pytest.approx(20 / 50) and row["per_day_after"] == pytest.approx(10 / 50)
    assert row["rate_ratio"] == pytest.approx(0.5)
    lo_p, hi_p = stats.beta.ppf(0.025, 10, 21), stats.beta.ppf(0.975, 11, 20)
    assert row["low"] == pytest.approx(lo_p / (1 - lo_p)) and row["high"] == pytest.approx(hi_p / (1 - hi_p))


def test_on_the_shop_tags_and_changes_match_what_was_planted():
    shop = crmlab.data.get_shop("small", seed=42)
    tagged = F.tag_requests(shop.feature_requests)
    assert (tagged["theme"].to_numpy() == shop.truth["feature_requests"]["theme"].to_numpy()).all()
    effect = F.change_effect(tagged, shop.product_changes, end=shop.end_ts).set_index("theme")
    for theme, _, planted, _ in PRODUCT_CHANGES:
        assert effect.loc[theme, "low"] <= 1 + planted <= effect.loc[theme, "high"], theme
    assert effect.loc["eco_packaging", "high"] < 1  # the change that worked is told apart
