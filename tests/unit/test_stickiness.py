"""客單價 per buyer and the stickiness measures (issue 24 items 1 and 11), on hand-worked logs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlab import kpi


def sessions():
    start = pd.to_datetime(["2025-01-01 10:00", "2025-01-01 18:00", "2025-01-02 09:00",
                            "2025-01-03 12:00", "2025-02-01 00:00"])
    minutes = [10, 2, 4, 30, 5]
    return pd.DataFrame({"customer_id": [1, 1, 1, 2, 3], "start_ts": start,
                         "end_ts": start + pd.to_timedelta(minutes, unit="min")})


def test_visits_and_time_on_site_by_hand():
    # January: member 1 has 3 visits, member 2 one -> 4 / 2; minutes 10, 2, 4, 30 -> median 7
    assert kpi.visits_per_visitor(sessions(), "2025-01-01", "2025-02-01") == pytest.approx(2.0)
    assert kpi.time_on_site(sessions(), "2025-01-01", "2025-02-01") == pytest.approx(7.0)
    assert np.isnan(kpi.visits_per_visitor(sessions(), "2024-01-01", "2024-02-01"))


def test_dau_over_mau_by_hand():
    # Jan 1-4 (3 days): member-days (1, Jan 1), (1, Jan 2), (2, Jan 3) -> 3 / 3 days = 1 a day,
    # over 2 distinct visitors -> 0.5
    assert kpi.stickiness_ratio(sessions(), "2025-01-01", "2025-01-04") == pytest.approx(0.5)
    # a member who comes every day of the period -> 1
    daily = pd.DataFrame({"customer_id": [7] * 5,
                          "start_ts": pd.date_range("2025-03-01 08:00", periods=5, freq="D")})
    daily["end_ts"] = daily["start_ts"] + pd.Timedelta(minutes=3)
    assert kpi.stickiness_ratio(daily, "2025-03-01", "2025-03-06") == pytest.approx(1.0)


def test_sessions_ending_before_they_start_are_refused():
    bad = sessions()
    bad.loc[0, "end_ts"] = bad.loc[0, "start_ts"] - pd.Timedelta(minutes=1)
    with pytest.raises(ValueError, match="end before they start"):
        kpi.time_on_site(bad, "2025-01-01", "2025-02-01")


def test_per_buyer_value_is_frequency_times_aov():
    orders = pd.DataFrame({"customer_id": [1, 1, 2], "order_ts": pd.to_datetime(["2025-01-02", "2025-01-09", "2025-01-05"]),
                           "amount": [100.0, 300.0, 200.0]})
    # NT$600 from 2 buyers = 300 = 1.5 orders per buyer x NT$200 per order
    assert kpi.per_buyer_value(orders, "2025-01-01", "2025-02-01") == pytest.approx(300.0)
    assert kpi.per_buyer_value(orders, "2025-01-01", "2025-02-01") == pytest.approx(
        kpi.purchase_frequency(orders, "2025-01-01", "2025-02-01")
        * kpi.average_order_value(orders, "2025-01-01", "2025-02-01"))
