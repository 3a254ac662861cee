"""Tests of crmlab.kpi: every indicator on hand-built tables (the expected numbers are worked
out in the comments), the scorecard's targets and traffic lights, periods, the shop's planted
truth, the course summary, and bad input."""

from __future__ import annotations

import json
import math

import nbformat
import numpy as np
import pandas as pd
import pytest

from crmlab import kpi, offers
from crmlab.data import Shop, get_shop, simulate
from crmlab.nb import RECORD_MIMETYPE

Q2 = ("2024-04-01", "2024-07-01")  # the period of the hand-built tests: [start, end)
T = pd.Timestamp


# --------------------------------------------------------------------------------------
# hand-built tables
# --------------------------------------------------------------------------------------


def hand_orders() -> pd.DataFrame:
    """Eight orders of five customers around Q2 2024.

    Q2 = [2024-04-01, 2024-07-01): orders 2, 3 (customer 1), 4 (customer 2), 6 (customer 4).
    Order 7 is placed exactly at the end (excluded: the end is exclusive); order 1 and 5 are
    in Q1, order 8 in December 2023.
    """
    return pd.DataFrame({
        "order_id": [1, 2, 3, 4, 5, 6, 7, 8],
        "customer_id": [1, 1, 1, 2, 3, 4, 4, 5],
        "order_ts": [T("2024-01-10"), T("2024-04-05"), T("2024-05-01"), T("2024-04-20"),
                     T("2024-02-15"), T("2024-06-30 23:00"), T("2024-07-01 00:00"),
                     T("2023-12-20")],
        "amount": [100.0, 200.0, 300.0, 400.0, 50.0, 150.0, 999.0, 80.0],
        "promised_days": [2] * 8,
        "delivery_days": [2] * 8,
    })


def hand_items() -> pd.DataFrame:
    """Order lines: order 2 has products 10 and 11; orders 1, 3, 6 product 10; order 4
    product 12."""
    return pd.DataFrame({
        "order_id": [1, 2, 2, 3, 4, 6],
        "line_no": [1, 1, 2, 1, 1, 1],
        "product_id": [10, 10, 11, 10, 12, 10],
        "quantity": [1, 1, 1, 1, 1, 1],
        "line_amount": [100.0, 150.0, 50.0, 300.0, 400.0, 150.0],
    })


def hand_returns() -> pd.DataFrame:
    """Returns: (2, 1) defective in April, (3, 1) size/fit in May, (6, 1) defective but only
    on 3 July -- after the period end, so unknown at the end of Q2 -- and (1, 1) of a Q1 order."""
    return pd.DataFrame({
        "return_id": [1, 2, 3, 4],
        "order_id": [2, 3, 6, 1],
        "line_no": [1, 1, 1, 1],
        "product_id": [10, 10, 10, 10],
        "customer_id": [1, 1, 4, 1],
        "requested_ts": [T("2024-04-10"), T("2024-05-05"), T("2024-07-03"), T("2024-01-15")],
        "reason": pd.Categorical(["defective", "size_fit", "defective", "defective"]),
        "return_type": pd.Categorical(["refund", "exchange", "refund", "refund"]),
        "quantity": [1, 1, 1, 1],
        "refund_amount": [150.0, 0.0, 150.0, 100.0],
        "shipping_cost": [60.0] * 4,
        "restocking_cost": [20.0] * 4,
    })


def hand_customers() -> pd.DataFrame:
    """Signups: customer 1 in Q1; 2-5 in Q2 (2 and 4 referred by customer 1); 6 on 1 July."""
    return pd.DataFrame({
        "customer_id": [1, 2, 3, 4, 5, 6],
        "signup_ts": [T("2024-03-30"), T("2024-04-02"), T("2024-05-10"), T("2024-06-01"),
                      T("2024-06-20"), T("2024-07-01")],
        "referred_by": pd.array([None, 1, None, 1, None, 2], dtype="Int64"),
    })


def hand_surveys() -> pd.DataFrame:
    """Order CSAT in Q2: 5, 4, 2 and one non-response (a return-CSAT 1 and a Q1 answer do not
    count). NPS in Q2: 10, 9, 7, 3, 8 (and a 0 sent on 1 July)."""
    return pd.DataFrame({
        "survey_id": range(1, 13),
        "customer_id": [1] * 12,
        "survey_type": pd.Categorical(["csat"] * 6 + ["nps"] * 6),
        "touchpoint": pd.Categorical(["order", "order", "order", "order", "return", "order"]
                                     + ["relationship"] * 6),
        "sent_ts": [T("2024-04-03"), T("2024-04-04"), T("2024-05-01"), T("2024-05-02"),
                    T("2024-05-03"), T("2024-03-31"), T("2024-04-10"), T("2024-04-11"),
                    T("2024-04-12"), T("2024-04-13"), T("2024-04-14"), T("2024-07-01")],
        "responded": [True, True, True, False, True, True, True, True, True, True, True, True],
        "score": pd.array([5, 4, 2, None, 1, 1, 10, 9, 7, 3, 8, 0], dtype="Int64"),
    })


SLA = pd.DataFrame({"priority": ["low", "high"], "first_response_hours": [24.0, 1.0],
                    "resolution_hours": [72.0, 8.0]})


def hand_tickets() -> pd.DataFrame:
    """Tickets (calendar clock, targets ``SLA``: high 1 h / 8 h, low 24 h / 72 h):

    1 high: answered after 0.5 h (met), solved after 11 h (breached);
    2 high: answered after 2 h (breached), solved after 6 h (met);
    3 low: answered after 1 h (met), still open at the end, 615 h old (> 72 h: breached);
    4 low: created 4 h before the end, not answered yet (both pending, left out);
    5: created in Q1 (not counted).
    Post-ticket CSAT in Q2: 5, 4, 3 and one missing.
    """
    NaT = pd.NaT
    return pd.DataFrame({
        "ticket_id": [1, 2, 3, 4, 5],
        "customer_id": [1, 2, 3, 4, 5],
        "created_ts": [T("2024-06-03 09:00"), T("2024-06-04 09:00"), T("2024-06-05 09:00"),
                       T("2024-06-30 20:00"), T("2024-03-30 09:00")],
        "category": pd.Categorical(["defect", "delivery", "account", "billing", "presales"]),
        "priority": pd.Categorical(["high", "high", "low", "low", "low"]),
        "first_response_ts": [T("2024-06-03 09:30"), T("2024-06-04 11:00"), T("2024-06-05 10:00"),
                              NaT, T("2024-03-30 10:00")],
        "resolved_ts": [T("2024-06-03 20:00"), T("2024-06-04 15:00"), NaT, NaT,
                        T("2024-03-30 12:00")],
        "reopened": [False] * 5,
        "csat": pd.array([5, 4, 3, None, 1], dtype="Int64"),
    })


def hand_calls() -> pd.DataFrame:
    """Q2 calls: waits 5, 20, 25, 3 (abandoned) and 0 seconds; one call in Q1."""
    return pd.DataFrame({
        "arrival_ts": [T("2024-05-01 10:00")] * 5 + [T("2024-03-01 10:00")],
        "wait_seconds": [5.0, 20.0, 25.0, 3.0, 0.0, 100.0],
        "abandoned": [False, False, False, True, False, True],
    })


def hand_reviews() -> pd.DataFrame:
    """Q2 reviews: product 10 gets 5 and 4 stars, product 11 gets 1 and 2; one in July."""
    return pd.DataFrame({
        "review_id": [1, 2, 3, 4, 5],
        "product_id": [10, 10, 11, 11, 10],
        "ts": [T("2024-04-10"), T("2024-05-10"), T("2024-05-11"), T("2024-06-11"), T("2024-07-02")],
        "stars": [5, 4, 1, 2, 1],
    })


def hand_campaigns() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Four campaigns, their contacts and the orders in their windows.

    Campaign 1 (email, 10% coupon, NT$1 a send, 5 May): treated 1 (opened, clicked, bought
    NT$90 with the coupon) and 2 (opened); holdout 3 (bought NT$50) and 4.
    Campaign 2 (sms, no coupon, NT$2 a send, 5 June): treated 1 (bought NT$200), 2 (opened,
    clicked), 3 (opened); holdout 5.
    Campaign 3 (email, 10 June): one treated contact and no holdout -- cannot be read.
    Campaign 4 (email, March): outside Q2.
    Products: 10 costs NT$30 a unit, 11 NT$20.
    """
    campaigns = pd.DataFrame({
        "campaign_id": [1, 2, 3, 4],
        "channel": pd.Categorical(["email", "sms", "email", "email"]),
        "offer": pd.Categorical(["pct_off", "free_shipping", "free_shipping", "free_shipping"]),
        "discount_pct": [0.10, 0.0, 0.0, 0.0],
        "send_ts": [T("2024-05-05 10:00"), T("2024-06-05 10:00"), T("2024-06-10 10:00"),
                    T("2024-03-05 10:00")],
        "window_days": [14] * 4,
        "cost_per_contact": [1.0, 2.0, 1.0, 1.0],
    })
    rows = [  # campaign, customer, treated, opened, clicked, converted, revenue
        (1, 1, True, True, True, True, 90.0), (1, 2, True, True, False, False, 0.0),
        (1, 3, False, False, False, True, 50.0), (1, 4, False, False, False, False, 0.0),
        (2, 1, True, False, False, True, 200.0), (2, 2, True, True, True, False, 0.0),
        (2, 3, True, True, False, False, 0.0), (2, 5, False, False, False, False, 0.0),
        (3, 4, True, True, False, False, 0.0),
        (4, 1, True, True, True, False, 0.0), (4, 2, False, False, False, False, 0.0),
    ]
    contacts = pd.DataFrame(rows, columns=["campaign_id", "customer_id", "treated", "opened",
                                           "clicked", "converted", "revenue"])
    contacts["group"] = pd.Categorical(np.where(contacts.pop("treated"), "treatment", "holdout"),
                                       categories=["treatment", "holdout"])
    contacts["sent"] = contacts["group"] == "treatment"
    orders = pd.DataFrame({
        "order_id": [101, 102, 103],
        "customer_id": [1, 3, 1],
        "order_ts": [T("2024-05-06 12:00"), T("2024-05-10 12:00"), T("2024-06-06 12:00")],
        "amount": [90.0, 50.0, 200.0],
        "campaign_id": pd.array([1, None, None], dtype="Int64"),
    })
    items = pd.DataFrame({"order_id": [101, 102, 103], "line_no": [1, 1, 1],
                          "product_id": [10, 11, 10], "quantity": [1, 1, 2]})
    products = pd.DataFrame({"product_id": [10, 11], "unit_cost": [30.0, 20.0]})
    return contacts, campaigns, orders, items, products


def hand_shop() -> Shop:
    tables = {"orders": hand_orders(), "customers": hand_customers()}
    return Shop(tables=tables, config={"start": "2024-01-01", "end": "2024-06-30"})


# --------------------------------------------------------------------------------------
# customer value
# --------------------------------------------------------------------------------------


def test_value_indicators_by_hand():
    o = hand_orders()
    # Q2 orders: 200 + 300 + 400 + 150 (order 7 at 1 July 00:00 is outside [start, end))
    assert kpi.revenue(o, *Q2) == pytest.approx(1050.0)
    assert kpi.active_customers(o, *Q2) == 3  # customers 1, 2, 4
    assert kpi.average_order_value(o, *Q2) == pytest.approx(1050 / 4)
    assert kpi.purchase_frequency(o, *Q2) == pytest.approx(4 / 3)
    # identity: revenue = active customers x frequency x AOV
    assert kpi.revenue(o, *Q2) == pytest.approx(
        kpi.active_customers(o, *Q2) * kpi.purchase_frequency(o, *Q2) * kpi.average_order_value(o, *Q2))


def test_recency_and_active_base_by_hand():
    o = hand_orders()
    # active base at 1 July with a 90-day lapse: orders in [2 April, 1 July): customer 1 (last
    # 1 May: 61 days), 2 (20 April: 72 days), 4 (30 June 23:00: 1/24 day)
    base = kpi.active_base(o, "2024-07-01", lapse_days=90)
    assert base.to_dict() == pytest.approx({1: 61.0, 2: 72.0, 4: 1 / 24})
    assert kpi.recency_days(o, *Q2, lapse_days=90) == pytest.approx((61 + 72 + 1 / 24) / 3)
    # two of the three are more than 60 days past their last order
    assert kpi.at_risk_share(o, *Q2, warn_days=60, lapse_days=90) == pytest.approx(2 / 3)


def test_empty_period_is_nan_not_an_error():
    o = hand_orders()
    period = ("2030-01-01", "2030-04-01")
    assert kpi.revenue(o, *period) == 0.0
    assert kpi.active_customers(o, *period) == 0
    for f in (kpi.average_order_value, kpi.purchase_frequency, kpi.repeat_purchase_rate,
              kpi.retention_rate, kpi.churn_rate, kpi.recency_days, kpi.at_risk_share):
        assert math.isnan(f(o, *period)), f.__name__


# --------------------------------------------------------------------------------------
# loyalty
# --------------------------------------------------------------------------------------


def test_loyalty_indicators_by_hand():
    o = hand_orders()
    # Q2 buyers 1, 2, 4: only customer 1 has more than one order before the end
    # (order 7 of customer 4 is at the end itself)
    assert kpi.repeat_purchase_rate(o, *Q2) == pytest.approx(1 / 3)
    # previous window [1 Jan, 1 April) (91 days, like Q2): buyers 1 and 3; 1 came back
    assert kpi.retention_rate(o, *Q2) == pytest.approx(1 / 2)
    # churn with a 90-day lapse: active at 1 April = orders in [2 Jan, 1 April): 1, 3;
    # active at 1 July = orders in [2 April, 1 July): 1, 2, 4 -> customer 3 lapsed
    assert kpi.churn_rate(o, *Q2, lapse_days=90) == pytest.approx(1 / 2)
    # with the default 180 days: base at 1 April also holds customer 5 (20 Dec 2023), who is
    # the only one with no order in [3 Jan, 1 July)
    assert kpi.LAPSE_DAYS == 180
    assert kpi.churn_rate(o, *Q2) == pytest.approx(1 / 3)


def test_referral_rate_by_hand():
    # Q2 signups 2, 3, 4, 5; referred: 2 and 4 (customer 6 signs up on 1 July, outside)
    assert kpi.referral_rate(hand_customers(), *Q2) == pytest.approx(0.5)
    assert math.isnan(kpi.referral_rate(hand_customers(), "2025-01-01", "2025-02-01"))


# --------------------------------------------------------------------------------------
# satisfaction
# --------------------------------------------------------------------------------------


def test_survey_indicators_by_hand():
    sv = hand_surveys()
    # order CSAT in Q2: 5, 4, 2 answered (the non-response, the return survey and the Q1
    # answer do not count) -> 2 of 3 satisfied
    assert kpi.order_csat(sv, *Q2) == pytest.approx(2 / 3)
    # the return touchpoint on its own: one answer, a 1
    assert kpi.order_csat(sv, *Q2, touchpoint="return") == 0.0
    # NPS: promoters 10, 9; passives 7, 8; detractor 3 -> 100 x (2 - 1) / 5 = 20
    assert kpi.nps(sv, *Q2) == pytest.approx(20.0)


def test_service_csat_and_rating_by_hand():
    # tickets created in Q2 answered 5, 4, 3 (one missing) -> 2 of 3 satisfied
    assert kpi.service_csat(hand_tickets(), *Q2) == pytest.approx(2 / 3)
    r = hand_reviews()
    assert kpi.product_rating(r, *Q2) == pytest.approx((5 + 4 + 1 + 2) / 4)
    assert kpi.product_rating(r, *Q2, product_ids=[10]) == pytest.approx(4.5)
    assert math.isnan(kpi.product_rating(r, "2025-01-01", "2025-02-01"))


def test_return_and_defect_rates_by_hand():
    o, oi, r = hand_orders(), hand_items(), hand_returns()
    # Q2 lines: (2,1), (2,2), (3,1), (4,1), (6,1); returned by 1 July: (2,1) defective and
    # (3,1) size/fit; (6,1) is returned on 3 July, after the period end
    assert kpi.return_rate(o, oi, r, *Q2) == pytest.approx(2 / 5)
    assert kpi.defect_rate(o, oi, r, *Q2) == pytest.approx(1 / 5)
    # one product's own rates: lines of product 10 in Q2 are (2,1), (3,1), (6,1)
    p10 = oi.loc[oi["product_id"] == 10]
    assert kpi.return_rate(o, p10, r, *Q2) == pytest.approx(2 / 3)
    assert kpi.defect_rate(o, p10, r, *Q2) == pytest.approx(1 / 3)
    # measured a week later, the (6,1) return is known: 3 of the 5 lines
    assert kpi.return_rate(o, oi, r, "2024-04-01", "2024-07-08") == pytest.approx(3 / 5)


def test_shop_wide_tables_are_not_kept_between_calls():
    # Reports compute every order line once and slice it per period; nothing may be kept
    # after the call, or a table changed in place would give stale rates.
    o, oi, r = hand_orders(), hand_items(), hand_returns()
    assert kpi.return_rate(o, oi, r, *Q2) == pytest.approx(2 / 5)
    r.loc[r["order_id"] == 6, "requested_ts"] = pd.Timestamp("2024-06-30 23:30")  # now inside Q2
    assert kpi.return_rate(o, oi, r, *Q2) == pytest.approx(3 / 5)
    assert kpi._SHARED is None


# --------------------------------------------------------------------------------------
# marketing
# --------------------------------------------------------------------------------------


def test_participation_by_hand():
    contacts, campaigns, *_ = hand_campaigns()
    # campaigns 1-3 are in Q2; sent = treated contacts: 2 + 3 + 1 = 6, opened 2 + 2 + 1 = 5,
    # clicked 1 + 1 + 0 = 2 (campaign 4 in March does not count)
    assert kpi.open_rate(contacts, campaigns, *Q2) == pytest.approx(5 / 6)
    assert kpi.click_rate(contacts, campaigns, *Q2) == pytest.approx(2 / 6)


def test_campaign_effect_by_hand():
    contacts, campaigns, *_ = hand_campaigns()
    reads = kpi.campaign_reads(contacts, campaigns, *Q2)
    assert reads["campaign_id"].tolist() == [1, 2]
    assert reads.attrs["skipped"] == [{"campaign_id": 3}]  # no holdout: not readable
    # campaign 1: 1/2 vs 1/2 -> 0, Mantel-Haenszel weight 2*2/4 = 1; campaign 2: 1/3 vs 0/1
    # -> 1/3, weight 3*1/4 = 3/4; pooled (1*0 + 0.75/3) / 1.75 = 1/7
    assert kpi.conversion_uplift(contacts, campaigns, *Q2) == pytest.approx(1 / 7)
    # revenue per contact: campaign 1 (45 - 25) x 2 = 40, campaign 2 (200/3 - 0) x 3 = 200;
    # (40 + 200) / 5 treated contacts = 48
    assert kpi.incremental_revenue_per_contact(contacts, campaigns, *Q2) == pytest.approx(48.0)
    ch = kpi.channel_effect(contacts, campaigns, *Q2).set_index("channel")
    assert ch.loc["email", "campaigns"] == 1 and ch.loc["sms", "campaigns"] == 1
    assert ch.loc["email", "conversion_uplift"] == pytest.approx(0.0)
    assert ch.loc["email", "incremental_revenue_per_contact"] == pytest.approx(20.0)
    assert ch.loc["sms", "conversion_uplift"] == pytest.approx(1 / 3)
    assert ch.loc["sms", "incremental_revenue_per_contact"] == pytest.approx(200 / 3)
    # no campaign in the period: NaN
    assert math.isnan(kpi.conversion_uplift(contacts, campaigns, "2025-01-01", "2025-02-01"))


def test_campaign_money_by_hand():
    contacts, campaigns, orders, items, products = hand_campaigns()
    # campaign 1: gross profit treated [90-30, 0] mean 30, holdout [50-20, 0] mean 15 ->
    # diff 15; sends 2 x NT$1; coupon on the NT$90 order 90 x 0.1/0.9 = 10; spend 12;
    # incremental margin 15 x 2 + 10 = 40; net 28.
    # campaign 2: treated [200-60, 0, 0] mean 140/3, holdout [0]; sends 3 x NT$2 = 6, no
    # coupon; incremental margin 140; net 134. ROI = (28 + 134) / (12 + 6) = 9.
    money = kpi.campaign_money(contacts, campaigns, orders, items, products, *Q2).set_index("campaign_id")
    assert money.loc[1, "spend"] == pytest.approx(12.0)
    assert money.loc[1, "net_profit"] == pytest.approx(28.0)
    assert money.loc[2, "incremental_margin"] == pytest.approx(140.0)
    assert kpi.campaign_roi(contacts, campaigns, orders, items, products, *Q2) == pytest.approx(9.0)
    # incremental revenue 40 + 200 over the spend 18
    assert kpi.cost_benefit_ratio(contacts, campaigns, orders, items, products, *Q2) == \
        pytest.approx(240 / 18)
    # the ROI is the ratio of sums that crmlab.offers.roi_by computes for one channel
    econ = money.reset_index().assign(channel="all")
    assert offers.roi_by(econ, by="channel")["roi"].iloc[0] == pytest.approx(9.0)


# --------------------------------------------------------------------------------------
# service
# --------------------------------------------------------------------------------------


def test_sla_by_hand():
    t = hand_tickets()
    # first response: met 1, 3; breached 2; pending 4 -> 2/3
    assert kpi.sla_first_response(t, *Q2, targets=SLA, clock="calendar") == pytest.approx(2 / 3)
    # resolution: met 2; breached 1 (11 h > 8 h) and 3 (open 615 h > 72 h); pending 4 -> 1/3
    assert kpi.sla_resolution(t, *Q2, targets=SLA, clock="calendar") == pytest.approx(1 / 3)
    assert math.isnan(kpi.sla_resolution(t, "2025-01-01", "2025-02-01", targets=SLA))


def test_call_service_level_by_hand():
    # answered within 20 s: the 5, 20 and 0 s waits; the 25 s wait and the abandoned call miss
    assert kpi.call_service_level(hand_calls(), *Q2) == pytest.approx(3 / 5)
    assert kpi.call_service_level(hand_calls(), *Q2, target_seconds=30) == pytest.approx(4 / 5)


# --------------------------------------------------------------------------------------
# traffic lights, targets, periods
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, target, tol, direction, status", [
    (0.80, 0.80, 0.05, "higher", "green"),   # meeting the target exactly is green
    (0.76, 0.80, 0.05, "higher", "amber"),
    (0.75, 0.80, 0.05, "higher", "amber"),   # the amber band includes its edge
    (0.74, 0.80, 0.05, "higher", "red"),
    (0.06, 0.07, 0.01, "lower", "green"),
    (0.08, 0.07, 0.01, "lower", "amber"),
    (0.09, 0.07, 0.01, "lower", "red"),
    (float("nan"), 0.07, 0.01, "lower", "no data"),
    (0.5, float("nan"), 0.01, "lower", "no target"),
    (0.79, 0.80, float("nan"), "higher", "red"),  # no tolerance: no amber band
])
def test_traffic_light(value, target, tol, direction, status):
    assert kpi.traffic_light(value, target, tol, direction) == status


def test_targets_are_data_and_overridable():
    d = kpi.DEFAULT_TARGETS
    assert set(d["indicator"]) == set(kpi.INDICATORS)  # every indicator has a default target
    tg = kpi._targets(pd.DataFrame({"indicator": ["nps", "revenue"], "target": [40.0, 5e6],
                                    "tolerance": [5.0, 1e5]}))
    assert kpi._target_for(tg, "nps", "QE") == (40.0, 5.0)
    # a row without freq replaces every default row of its indicator
    assert kpi._target_for(tg, "revenue", "ME") == (5e6, 1e5)
    # the others keep their defaults; freq-specific defaults apply to their freq
    assert kpi._target_for(tg, "active_customers", "QE") == (700.0, 70.0)
    assert kpi._target_for(tg, "active_customers", "ME") == (280.0, 30.0)
    # only the quarterly row given: the monthly default stays
    tq = kpi._targets(pd.DataFrame({"indicator": ["revenue"], "freq": ["QE"], "target": [1.0],
                                    "tolerance": [0.0]}))
    assert kpi._target_for(tq, "revenue", "QE") == (1.0, 0.0)
    assert kpi._target_for(tq, "revenue", "ME") == (650_000.0, 65_000.0)


def test_periods():
    assert kpi.period_bounds("2025Q4") == (T("2025-10-01"), T("2026-01-01"))
    assert kpi.period_bounds("2025-12", "ME") == (T("2025-12-01"), T("2026-01-01"))
    assert kpi.period_bounds(pd.Period("2024Q2", "Q")) == (T("2024-04-01"), T("2024-07-01"))
    assert kpi.period_bounds(("2024-04-01", "2024-05-15")) == (T("2024-04-01"), T("2024-05-15"))
    assert kpi.previous_period(T("2024-04-01"), T("2024-07-01"), "QE") == (T("2024-01-01"), T("2024-04-01"))
    assert kpi.previous_period(T("2024-03-01"), T("2024-04-01"), "ME") == (T("2024-02-01"), T("2024-03-01"))
    # not a calendar period: the window of the same length before it
    assert kpi.previous_period(T("2024-04-01"), T("2024-04-11"), "QE") == (T("2024-03-22"), T("2024-04-01"))
    shop = hand_shop()  # data from 1 Jan to 30 June 2024
    full = kpi.full_periods(shop, "QE")
    assert full["period"].tolist() == ["2024Q1", "2024Q2"]
    assert kpi.period_bounds("last", "QE", shop) == (T("2024-04-01"), T("2024-07-01"))
    assert len(kpi.full_periods(shop, "ME")) == 6


# --------------------------------------------------------------------------------------
# the scorecard
# --------------------------------------------------------------------------------------


def test_scorecard_on_hand_shop():
    shop = hand_shop()
    targets = pd.DataFrame({"indicator": ["revenue", "active_customers", "referral_rate"],
                            "target": [1000.0, 4.0, 0.6], "tolerance": [100.0, 1.0, 0.05]})
    sc = kpi.scorecard(shop, "2024Q2", targets=targets,
                       indicators=["revenue", "active_customers", "referral_rate", "nps"]).set_index("indicator")
    assert sc.attrs["previous_start"] == T("2024-01-01")
    # revenue: Q2 1050, Q1 100 + 50 = 150 -> change 900, improved, above the 1000 target
    assert sc.loc["revenue", "value"] == pytest.approx(1050.0)
    assert sc.loc["revenue", "previous"] == pytest.approx(150.0)
    assert sc.loc["revenue", "change"] == pytest.approx(900.0)
    assert sc.loc["revenue", "change_rel"] == pytest.approx(6.0)
    assert bool(sc.loc["revenue", "improved"])
    assert sc.loc["revenue", "status"] == "green"
    # 3 active customers against 4 with a tolerance of 1: amber
    assert sc.loc["active_customers", "status"] == "amber"
    # referral 0.5 against 0.6 +- 0.05: red; in Q1 the one signup was not referred (0.0)
    assert sc.loc["referral_rate", "status"] == "red"
    assert sc.loc["referral_rate", "previous"] == 0.0
    # the hand shop has no surveys: NPS cannot be computed
    assert math.isnan(sc.loc["nps", "value"]) and sc.loc["nps", "status"] == "no data"
    assert pd.isna(sc.loc["nps", "improved"])


@pytest.fixture(scope="module")
def small():
    return get_shop("small")


def test_scorecard_small_shop_last_quarter_complete(small):
    sc = kpi.scorecard(small, freq="QE")
    # the last complete quarter of the shipped shop (2024-2025) and the one before
    assert (sc.attrs["start"], sc.attrs["end"]) == (T("2025-10-01"), T("2026-01-01"))
    assert (sc.attrs["previous_start"], sc.attrs["previous_end"]) == (T("2025-07-01"), T("2025-10-01"))
    assert sc["indicator"].tolist() == list(kpi.INDICATORS)  # one row per indicator
    assert not sc[["value", "previous", "change", "target", "tolerance"]].isna().any().any()
    assert set(sc["status"]) <= {"green", "amber", "red"}
    assert set(sc["perspective"]) == set(kpi.PERSPECTIVES)
    # the scorecard reads the same functions: revenue as summed by hand
    o = small.orders
    q4 = o.loc[(o["order_ts"] >= "2025-10-01") & (o["order_ts"] < "2026-01-01"), "amount"].sum()
    assert sc.set_index("indicator").loc["revenue", "value"] == pytest.approx(q4)


def test_planted_incident_shows_in_the_defect_rate(small):
    # truth: product 91's defect rate jumps to 0.3 from 2025-02-06 to 2025-03-29; the quarter
    # of the incident has the highest defect rate of all quarters
    inc = small.truth["incident"]
    hist = kpi.kpi_history(small, "QE", indicators=["defect_rate"])
    worst = hist.loc[hist["value"].idxmax(), "period"]
    assert worst == str(pd.Period(inc["start"], "Q"))
    # and for the incident product itself, the incident months are far above the others
    p = small.order_items.loc[small.order_items["product_id"] == inc["product_id"]]
    during = kpi.defect_rate(small.orders, p, small.returns, inc["start"], inc["fix"])
    after = kpi.defect_rate(small.orders, p, small.returns, inc["fix"], "2025-09-29")
    assert during > 0.15 and after < 0.05


def test_conversion_uplift_recovers_planted_effect(small):
    # truth["contact_ite"]: the planted effect of treatment on each contact's conversion
    # (treated or not). Over all campaigns, the pooled holdout comparison must agree with
    # its mean within sampling error (3 standard errors).
    start, end = small.start, small.end_ts
    reads = kpi.campaign_reads(small.campaign_contacts, small.campaigns, start, end)
    pooled = offers.pooled_uplift(reads)
    est = kpi.conversion_uplift(small.campaign_contacts, small.campaigns, start, end)
    assert est == pytest.approx(pooled["uplift"])
    ite = small.truth["contact_ite"]
    ite = ite.loc[ite["campaign_id"].isin(reads["campaign_id"])]
    assert abs(est - ite["ite_conversion"].mean()) < 3 * pooled["se"]


def test_kpi_history_tiny_monthly():
    shop = simulate("tiny", seed=3)
    names = ["revenue", "order_csat", "churn_rate", "open_rate"]
    h = kpi.kpi_history(shop, "ME", indicators=names)
    assert len(h) == 12 * len(names)  # tiny = 2024, twelve complete months
    assert h["period"].iloc[0] == "2024-01"
    # the same function as the scorecard: March revenue
    mar = h.loc[(h["period"] == "2024-03") & (h["indicator"] == "revenue"), "value"].iloc[0]
    assert mar == pytest.approx(kpi.revenue(shop.orders, "2024-03-01", "2024-04-01"))
    # monthly targets for the totals, period-free ones otherwise
    assert set(h.loc[h["indicator"] == "revenue", "target"]) == {650_000.0}
    assert set(h["status"]) <= set(kpi.STATUS_ORDER)


def test_scorecard_tiny_last_quarter_has_values():
    shop = simulate("tiny", seed=42)
    sc = kpi.scorecard(shop)  # 2024Q4 against 2024Q3
    assert sc.attrs["start"] == T("2024-10-01")
    assert sc["value"].notna().all()


# --------------------------------------------------------------------------------------
# course summary
# --------------------------------------------------------------------------------------


def _executed_like(path, results: dict) -> None:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("record(...)")
    cell.outputs = [nbformat.v4.new_output("display_data", data={
        RECORD_MIMETYPE: {"name": k, "value": v}, "text/plain": f"record: {k}"}) for k, v in results.items()]
    nb.cells = [cell]
    nbformat.write(nb, path)


def test_course_summary_from_notebooks_and_manifest(tmp_path):
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    _executed_like(nbdir / "01_a.ipynb", {"n": 3, "rates": {"x": 0.5, "y": 0.25},
                                         "big": {"k": list(range(40))}})
    _executed_like(nbdir / "02_b.ipynb", {"auc": 0.8})
    (nbdir / "notes.ipynb").write_text("not a course notebook")  # ignored (no NN_ prefix)
    out = kpi.course_summary(nbdir, manifest=tmp_path / "missing.json")
    assert out["source"].unique().tolist() == ["notebook"]
    rows = {(r.notebook, r.result): r.value for r in out.itertuples()}
    assert rows[("01_a", "n")] == 3
    assert rows[("01_a", "rates.x")] == 0.5 and rows[("01_a", "rates.y")] == 0.25
    assert rows[("01_a", "big")].startswith('{"k": [0, 1') and rows[("01_a", "big")].endswith("...")
    assert rows[("02_b", "auc")] == 0.8
    assert kpi.course_summary(nbdir, manifest=None, exclude=["02_b"])["notebook"].unique().tolist() == ["01_a"]
    # the build manifest wins when it exists
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"notebooks": {"05_c": {"results": {"r": 1.5}}}}))
    m = kpi.course_summary(nbdir, manifest=manifest)
    assert m[["notebook", "result", "value", "source"]].values.tolist() == [["05_c", "r", 1.5, "manifest"]]


# --------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------


def test_bad_input_names_table_column_and_fix():
    o = hand_orders()
    with pytest.raises(ValueError, match=r"orders: column\(s\) \['amount'\] not found"):
        kpi.revenue(o.drop(columns="amount"), *Q2)
    with pytest.raises(ValueError, match="orders: column 'order_ts' has dtype .*, not datetime.*pd.to_datetime"):
        kpi.active_customers(o.assign(order_ts=o["order_ts"].astype(str)), *Q2)
    with pytest.raises(ValueError, match="time-zone aware"):
        kpi.revenue(o.assign(order_ts=o["order_ts"].dt.tz_localize("UTC")), *Q2)
    with pytest.raises(ValueError, match="start=.*is not before end"):
        kpi.revenue(o, "2024-07-01", "2024-04-01")
    with pytest.raises(ValueError, match="not a date"):
        kpi.revenue(o, "someday", "2024-04-01")
    with pytest.raises(ValueError, match="must be a pandas DataFrame"):
        kpi.revenue([1, 2], *Q2)
    with pytest.raises(ValueError, match="customer_id' has 1 missing"):
        kpi.active_customers(o.assign(customer_id=pd.array([1, None, 1, 2, 3, 4, 4, 5], dtype="Int64")), *Q2)
    with pytest.raises(ValueError, match="lapse_days=-5 must be a positive number"):
        kpi.churn_rate(o, *Q2, lapse_days=-5)
    with pytest.raises(ValueError, match="warn_days=200 must be below lapse_days"):
        kpi.at_risk_share(o, *Q2, warn_days=200)
    with pytest.raises(ValueError, match="customers: column.*referred_by.*not found"):
        kpi.referral_rate(hand_customers().drop(columns="referred_by"), *Q2)
    with pytest.raises(ValueError, match="reviews: column 'stars' must hold whole stars"):
        kpi.product_rating(hand_reviews().assign(stars=[5, 4, 9, 2, 1]), *Q2)
    with pytest.raises(ValueError, match="CSAT score"):  # aftersales' own check of the scale
        kpi.order_csat(hand_surveys().assign(score=pd.array([7] * 12, dtype="Int64")), *Q2)
    contacts, campaigns, *_ = hand_campaigns()
    with pytest.raises(ValueError, match="channel='fax' is not in column 'channel'"):
        kpi.conversion_uplift(contacts, campaigns, *Q2, channel="fax")
    with pytest.raises(ValueError, match="campaign_contacts.group is not binary"):
        kpi.conversion_uplift(contacts.assign(group="both"), campaigns, *Q2)


def test_bad_scorecard_input():
    shop = hand_shop()
    with pytest.raises(ValueError, match="unknown indicator"):
        kpi.scorecard(shop, "2024Q2", indicators=["happiness"])
    with pytest.raises(ValueError, match="freq='D' must be one of"):
        kpi.scorecard(shop, freq="D")
    with pytest.raises(ValueError, match="is not a QE period"):
        kpi.scorecard(shop, "spring")
    with pytest.raises(ValueError, match="targets: column 'indicator' has unknown indicators"):
        kpi.scorecard(shop, "2024Q2", targets=pd.DataFrame({"indicator": ["joy"], "target": [1.0]}))
    with pytest.raises(ValueError, match="'tolerance' must be >= 0"):
        kpi.scorecard(shop, "2024Q2", targets=pd.DataFrame({"indicator": ["nps"], "target": [1.0],
                                                            "tolerance": [-1.0]}))
    with pytest.raises(ValueError, match=r"targets: column\(s\) .* not found"):
        kpi.scorecard(shop, "2024Q2", targets=pd.DataFrame({"indicator": ["nps"]}))
    with pytest.raises(ValueError, match="expected a crmlab Shop"):
        kpi.scorecard({"orders": hand_orders()})
    with pytest.raises(ValueError, match="direction="):
        kpi.traffic_light(1.0, 1.0, 0.0, "up")
    with pytest.raises(ValueError, match="no complete period"):
        kpi.scorecard(Shop(tables={"orders": hand_orders()},
                           config={"start": "2024-01-10", "end": "2024-02-20"}), freq="QE")


def test_indicator_chinese_labels_follow_the_glossary():
    """label_zh uses docs/glossary.md's 繁體中文 terms (the scorecard shows them): no word the
    glossary avoids (顧客 -> 客戶), and the three terms its rows fix: average order value is
    平均訂單價值 (客單價 is per buying customer), retention rate 留存率."""
    from crmlab.i18n import avoided_words, glossary

    avoided = avoided_words()
    assert "顧客" in avoided  # the check below can fail
    for ind in kpi.INDICATORS.values():
        assert not [w for w in avoided if w in ind.label_zh], (ind.name, ind.label_zh)
    terms = {row["english"]: row["zh-TW"] for row in glossary()}
    assert kpi.INDICATORS["average_order_value"].label_zh == terms["average order value (AOV)"]
    assert kpi.INDICATORS["retention_rate"].label_zh == terms["retention rate"]
    assert kpi.INDICATORS["active_customers"].label_zh == "活躍客戶數"
