"""Tests of crmlab.aftersales: hand-built tables worked out by hand, published numbers (Wilson
intervals, a chi-square table, the Kaplan-Meier 6-MP example), closed forms (NPS variance, the
2x2 ordered logit), the shop's planted truth, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from crmlab import aftersales as A
from crmlab.data import get_shop, simulate
from crmlab.exercises.registry import answers_module

T0 = pd.Timestamp("2024-03-04 10:00")


def ts(hours: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(hours=hours)


@pytest.fixture(scope="module")
def small():
    return get_shop("small")


@pytest.fixture(scope="module")
def tiny():
    return simulate("tiny", seed=3)


# --------------------------------------------------------------------------------------
# hand-built returns world
# --------------------------------------------------------------------------------------


def hand_world():
    """Three orders, five lines, two returns (worked out by hand in the tests below).

    order 1 (on time): line 1 fashion 2 x 500 (cost 300 each), line 2 books 1 x 200 (cost 120)
    order 2 (2 days late): line 1 fashion 1 x 600 (cost 350), line 2 grocery 3 x 100 (cost 60)
    order 3 (on time): line 1 fashion 1 x 500 (cost 300)
    returns: order 1 line 1, size_fit, exchange of 1 unit (shipping 80, restock 25, refund 0);
             order 2 line 1, defective, refund 600 (shipping 80, restock 25), still open.
    """
    orders = pd.DataFrame({
        "order_id": [1, 2, 3], "customer_id": [10, 20, 10],
        "order_ts": [ts(0), ts(5), ts(400)],
        "promised_days": [2, 2, 1], "delivery_days": [2, 4, 1],
    })
    items = pd.DataFrame({
        "order_id": [1, 1, 2, 2, 3], "line_no": [1, 2, 1, 2, 1], "product_id": [101, 201, 102, 301, 101],
        "quantity": [2, 1, 1, 3, 1], "line_amount": [1000.0, 200.0, 600.0, 300.0, 500.0],
    })
    products = pd.DataFrame({
        "product_id": [101, 102, 201, 301],
        "category": pd.Categorical(["fashion", "fashion", "books", "grocery"]),
        "unit_cost": [300.0, 350.0, 120.0, 60.0],
    })
    returns = pd.DataFrame({
        "return_id": [1, 2], "order_id": [1, 2], "line_no": [1, 1], "product_id": [101, 102],
        "customer_id": [10, 20], "requested_ts": [ts(100), ts(150)],
        "reason": pd.Categorical(["size_fit", "defective"]),
        "return_type": pd.Categorical(["exchange", "refund"], categories=["refund", "exchange"]),
        "quantity": [1, 1], "refund_amount": [0.0, 600.0], "shipping_cost": [80.0, 80.0],
        "restocking_cost": [25.0, 25.0], "processed_ts": [ts(250), pd.NaT],
    })
    return orders, items, products, returns


def test_return_lines_join():
    orders, items, products, returns = hand_world()
    lines = A.return_lines(orders, items, returns, products)
    assert len(lines) == 5
    assert lines["returned"].sum() == 2
    row = lines.set_index(["order_id", "line_no"]).loc[(1, 1)]
    assert row["returned_qty"] == 1 and row["return_type"] == "exchange" and row["cogs"] == 600.0
    assert lines.set_index(["order_id", "line_no"]).loc[(2, 2), "refund_amount"] == 0.0
    assert lines.groupby("order_id")["late_days"].first().tolist() == [0, 2, 0]
    assert lines["late_bucket"].astype(str).tolist() == ["on time", "on time", "2 days late",
                                                         "2 days late", "on time"]


def test_return_rates_by_hand():
    orders, items, products, returns = hand_world()
    lines = A.return_lines(orders, items, returns, products)
    rates = A.return_rates(lines, "category").set_index("category")
    # fashion: 3 lines, 2 returned, 1 exchanged; books and grocery: 1 line each, none returned
    assert rates.loc["fashion", ["lines", "returns", "exchanges"]].tolist() == [3, 2, 1]
    assert rates.loc["fashion", "return_rate"] == pytest.approx(2 / 3)
    assert rates.loc["fashion", "exchange_share"] == pytest.approx(0.5)
    assert np.isnan(rates.loc["books", "exchange_share"])
    # Wilson closed form, z = 1.959964: centre (p + z^2/2n)/(1 + z^2/n), half z/(1+z^2/n) sqrt(...)
    z, k, n = stats.norm.ppf(0.975), 2, 3
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    assert rates.loc["fashion", "low"] == pytest.approx(centre - half)
    assert rates.loc["fashion", "high"] == pytest.approx(centre + half)
    overall = A.return_rates(lines, None).iloc[0]
    assert overall["lines"] == 5 and overall["return_rate"] == pytest.approx(0.4)
    late = A.return_rates(lines, "late_bucket").set_index("late_bucket")
    assert late.loc["2 days late", "return_rate"] == pytest.approx(0.5)


def test_wilson_matches_newcombe_published_values():
    # Newcombe (1998), Statistics in Medicine 17:857-872, Table II, method 3 (Wilson score):
    # 81/263 -> 0.2553-0.3662, 15/148 -> 0.0624-0.1605, 0/20 -> 0-0.1611, 1/29 -> 0.0061-0.1718.
    published = {(81, 263): (0.2553, 0.3662), (15, 148): (0.0624, 0.1605), (0, 20): (0.0, 0.1611),
                 (1, 29): (0.0061, 0.1718)}
    lines = pd.DataFrame({
        "group": np.concatenate([np.full(n, f"{k}/{n}") for k, n in published]),
        "returned": np.concatenate([np.arange(n) < k for k, n in published]),
        "return_type": pd.Series([None] * sum(n for _, n in published), dtype="str"),
    })
    rates = A.return_rates(lines, "group").set_index("group")
    for (k, n), (lo, hi) in published.items():
        assert round(rates.loc[f"{k}/{n}", "low"], 4) == lo
        assert round(rates.loc[f"{k}/{n}", "high"], 4) == hi


def test_return_reasons_by_hand():
    orders, items, products, returns = hand_world()
    lines = A.return_lines(orders, items, returns, products)
    reasons = A.return_reasons(lines).set_index("reason")
    assert reasons["returns"].to_dict() == {"size_fit": 1, "defective": 1}
    assert reasons.loc["size_fit", "share"] == 0.5
    assert reasons.loc["size_fit", "per_1000_lines"] == pytest.approx(200.0)
    assert reasons.loc["size_fit", "exchange_share"] == 1.0


def test_chi_square_agresti_party_identification():
    # Agresti (2007), An Introduction to Categorical Data Analysis, 2nd ed., Table 2.5: party
    # identification by gender (GSS). Females 762/327/468, males 484/239/477 (Dem/Ind/Rep);
    # Pearson X^2 = 30.1 with df = 2 (section 2.4.3). "returned" plays the role of gender.
    counts = {("Dem", True): 762, ("Ind", True): 327, ("Rep", True): 468,
              ("Dem", False): 484, ("Ind", False): 239, ("Rep", False): 477}
    lines = pd.DataFrame([(g, r) for (g, r), n in counts.items() for _ in range(n)],
                         columns=["party", "returned"]).assign(return_type=pd.NA)
    res = A.return_chi_square(lines, by="party")
    assert res["statistic"] == pytest.approx(30.07, abs=0.01)
    assert res["dof"] == 2 and res["n"] == 2757 and res["groups"] == 3
    assert res["p_value"] == pytest.approx(stats.chi2.sf(res["statistic"], 2))
    assert res["cramers_v"] == pytest.approx(math.sqrt(res["statistic"] / 2757))


def test_return_costs_by_hand():
    orders, items, products, returns = hand_world()
    lines = A.return_lines(orders, items, returns, products)
    costs = A.return_costs(lines, by="product_id").set_index("product_id")
    # product 101: revenue 1000 + 500, cogs 600 + 300 -> gross margin 600; one exchanged unit:
    # shipping 80 + restocking 25 + replacement unit 300 = 405 -> margin after returns 195.
    p101 = costs.loc[101]
    assert p101["gross_margin"] == pytest.approx(600.0)
    assert p101["return_cost"] == pytest.approx(405.0)
    assert p101["margin_after_returns"] == pytest.approx(195.0)
    assert p101["return_cost_share"] == pytest.approx(405 / 600)
    # product 102: revenue 600, cogs 350, refund 600 + 80 + 25 -> return cost 705, margin -455
    assert costs.loc[102, "margin_after_returns"] == pytest.approx(-455.0)
    assert bool(costs.loc[102, "margin_eaten"]) and not bool(costs.loc[101, "margin_eaten"])
    assert costs.index[0] == 102  # sorted by return_cost_share, largest first
    # resale: the exchanged size_fit unit goes back to stock (credit 300); the defective does not
    resale = A.return_costs(lines, by="product_id", resale_share=1.0).set_index("product_id")
    assert resale.loc[101, "return_cost"] == pytest.approx(105.0)
    assert resale.loc[102, "return_cost"] == pytest.approx(705.0)
    total = A.return_costs(lines, by=None).iloc[0]
    assert total["revenue"] == pytest.approx(2600.0) and total["return_cost"] == pytest.approx(1110.0)


def test_return_costs_without_refunds_by_hand():
    """A refund reverses a sale: the economics count shipping, restocking and unsellable units
    against the margin of the sales that stuck (hand_world, worked out by hand)."""
    orders, items, products, returns = hand_world()
    lines = A.return_lines(orders, items, returns, products)
    costs = A.return_costs(lines, by="product_id", include_refunds=False, resale_share=1.0).set_index("product_id")
    # product 101: no refund, 3 units kept -> kept margin 1500 - 900 = 600; the exchanged
    # size_fit unit goes back to stock (resellable, resale 1): cost = shipping 80 + restock 25.
    assert costs.loc[101, "kept_margin"] == pytest.approx(600.0)
    assert costs.loc[101, "return_cost"] == pytest.approx(105.0)
    assert costs.loc[101, "return_cost_share"] == pytest.approx(105 / 600)
    # product 102: the sale of 600 is refunded (kept margin 600 - 600 - 0 = 0); the defective
    # unit cannot be resold: cost = 80 + 25 + unit cost 350 = 455; no margin left to share.
    assert costs.loc[102, "kept_margin"] == pytest.approx(0.0)
    assert costs.loc[102, "write_off"] == pytest.approx(350.0)
    assert costs.loc[102, "return_cost"] == pytest.approx(455.0)
    assert costs.loc[102, "margin_after_returns"] == pytest.approx(-455.0)
    assert np.isnan(costs.loc[102, "return_cost_share"])
    # fashion (101 + 102): kept margin 400 + 0 + 200 = 600, return cost 105 + 455 = 560
    fashion = A.return_costs(lines, by="category", include_refunds=False, resale_share=1.0)
    fashion = fashion.set_index(fashion["category"].astype(str)).loc["fashion"]
    assert fashion["return_cost_share"] == pytest.approx(560 / 600)
    # with nothing resold (resale 0) the exchanged unit is written off too: 101 costs 80 + 25 + 300
    lost = A.return_costs(lines, by="product_id", include_refunds=False).set_index("product_id")
    assert lost.loc[101, "return_cost"] == pytest.approx(405.0)
    # the refund is reported but not counted; the old count (default) adds it
    assert costs.loc[102, "refunds"] == pytest.approx(600.0)
    old = A.return_costs(lines, by="product_id", resale_share=1.0).set_index("product_id")
    assert old.loc[102, "return_cost"] - costs.loc[102, "return_cost"] == pytest.approx(600 - 350)
    # the profit after returns is the same both ways when resellable units are resold at cost
    total_new = A.return_costs(lines, by=None, include_refunds=False, resale_share=1.0).iloc[0]
    total_old = A.return_costs(lines, by=None, resale_share=1.0).iloc[0]
    assert total_new["margin_after_returns"] == pytest.approx(total_old["margin_after_returns"])
    assert total_new["return_cost_share"] < total_old["return_cost_share"]


def test_return_costs_match_the_exercise_answer(tiny):
    """The notebook's count and exercise after_return_cost_share are one convention."""
    unit10 = answers_module("unit10")

    lines = A.return_lines(tiny.orders, tiny.order_items, tiny.returns, tiny.products)
    costs = A.return_costs(lines, by="category", include_refunds=False, resale_share=1.0)
    mine = pd.Series(costs["return_cost_share"].to_numpy(), index=costs["category"].astype(str).to_numpy())
    answer = unit10.return_cost_share(tiny)
    assert mine.reindex(answer.index).to_numpy() == pytest.approx(answer.to_numpy(), rel=1e-9)


def test_processing_times_censor_open_returns():
    orders, items, products, returns = hand_world()
    end = ts(150 + 24 * 5)  # the refund has been open 5 days at the end
    out = A.processing_times(returns, end).set_index("return_type")
    assert out.loc["exchange", "median_days_km"] == pytest.approx(150 / 24)
    assert out.loc["refund", "open"] == 1
    assert out.loc["refund", "median_days_km"] == float("inf")  # never observed to finish
    assert np.isnan(out.loc["refund", "median_days_closed"])


def test_processing_times_kaplan_meier_six_mp():
    # The 6-MP arm of Freireich et al. (1963) as return processing times in days (+ = still
    # open): Kaplan-Meier median 23 (Klein & Moeschberger 2003, Table 4.1A; S(22) = 0.538,
    # S(23) = 0.448). The naive median of the 9 processed returns is 10.
    times = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
    event = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
    end = pd.Timestamp("2025-01-01")
    req = [end - pd.Timedelta(days=60) if e else end - pd.Timedelta(days=t) for t, e in zip(times, event, strict=True)]
    proc = [r + pd.Timedelta(days=t) if e else pd.NaT for r, t, e in zip(req, times, event, strict=True)]
    r = pd.DataFrame({"requested_ts": req, "processed_ts": proc})
    out = A.processing_times(r, end, by=None).iloc[0]
    assert out["returns"] == 21 and out["open"] == 12
    assert out["median_days_km"] == pytest.approx(23.0)
    assert out["median_days_closed"] == pytest.approx(10.0)


# --------------------------------------------------------------------------------------
# bad input: returns
# --------------------------------------------------------------------------------------


def test_return_before_its_order_is_rejected():
    orders, items, products, returns = hand_world()
    bad = returns.assign(requested_ts=[ts(-1), ts(150)])
    with pytest.raises(ValueError, match=r"returns: column 'requested_ts' is before the order's 'order_ts'"):
        A.return_lines(orders, items, bad, products)
    with pytest.raises(ValueError, match="before the order"):
        A.order_experiences(orders, bad, pd.DataFrame({"order_id": pd.array([], dtype="Int64"),
                                                       "category": [], "created_ts": pd.to_datetime([]),
                                                       "resolved_ts": pd.to_datetime([])}))


@pytest.mark.parametrize("change, match", [
    (lambda r: r.assign(line_no=[1, 5]), "do not match any order line"),
    (lambda r: r.assign(order_id=[1, 99]), "orders not in the orders table"),
    (lambda r: pd.concat([r, r.iloc[[0]]], ignore_index=True),  # the input contract (issue 25)
     r"returns: 1 extra row\(s\) with duplicated ids in key \['return_id'\]"),
    (lambda r: pd.concat([r, r.iloc[[0]].assign(return_id=99)], ignore_index=True), "more than one return"),
    (lambda r: r.assign(processed_ts=[ts(50), pd.NaT]), "'processed_ts' is before 'requested_ts'"),
    (lambda r: r.assign(refund_amount=[0.0, -5.0]), "negative"),
    (lambda r: r.assign(return_type=["swap", "refund"]), "'refund' or 'exchange'"),
    (lambda r: r.assign(quantity=[5, 1]), "exceeds the units bought"),
    (lambda r: r.drop(columns="reason"), r"column\(s\) \['reason'\] not found"),
    (lambda r: r.assign(requested_ts=["2024-03-05", "2024-03-06"]), "not datetime"),
])
def test_bad_returns(change, match):
    orders, items, products, returns = hand_world()
    with pytest.raises(ValueError, match=match):
        A.return_lines(orders, items, change(returns), products)


def test_return_costs_need_unit_costs():
    orders, items, _, returns = hand_world()
    lines = A.return_lines(orders, items, returns)
    with pytest.raises(ValueError, match="unit_cost"):
        A.return_costs(lines)
    with pytest.raises(ValueError, match="resale_share"):
        A.return_costs(A.return_lines(*hand_world()[:2], hand_world()[3], hand_world()[2]), resale_share=2)


# --------------------------------------------------------------------------------------
# complaints
# --------------------------------------------------------------------------------------


def complaint_tickets() -> pd.DataFrame:
    """Six tickets. 1: defect/high (complaint), 2: delivery/medium (not), 3: presales/low but
    reopened (complaint), 4: billing/urgent still open (complaint), 5: same customer as 1,
    defect/urgent 10 days later (repeat complaint), 6: account/high (not: category)."""
    NaT = pd.NaT
    return pd.DataFrame({
        "ticket_id": [1, 2, 3, 4, 5, 6],
        "customer_id": [10, 20, 30, 40, 10, 50],
        "order_id": pd.array([1, 2, pd.NA, 4, 5, pd.NA], dtype="Int64"),
        "created_ts": [ts(0), ts(1), ts(2), ts(10), ts(240), ts(3)],
        "channel": pd.Categorical(["chat", "email", "chat", "phone", "email", "chat"]),
        "category": pd.Categorical(["defect", "delivery", "presales", "billing", "defect", "account"]),
        "priority": pd.Categorical(["high", "medium", "low", "urgent", "urgent", "high"]),
        "agent_id": [1, 1, 2, 2, 3, 3],
        "first_response_ts": [ts(1), ts(2), ts(3), ts(11), ts(241), ts(4)],
        "resolved_ts": [ts(30), ts(5), ts(4), NaT, ts(300), ts(5)],
        "reopened": [False, False, True, False, False, False],
    })


def test_flag_and_metrics_of_complaints():
    t = complaint_tickets()
    flagged = A.flag_complaints(t)
    assert flagged["complaint"].tolist() == [True, False, True, True, True, False]
    assert flagged["complaint_basis"].tolist() == ["priority", "", "reopened", "priority", "priority", ""]
    # the rule is data: drop the reopened clause and only priority-based complaints remain
    no_reopen = A.flag_complaints(t, A.ComplaintRule(include_reopened=False))
    assert no_reopen["complaint"].sum() == 3
    comp = A.complaint_metrics(t, end=ts(310)).set_index("ticket_id")
    assert comp.index.tolist() == [1, 3, 4, 5]
    assert comp.loc[1, "duration_hours"] == pytest.approx(30.0) and comp.loc[1, "event"] == 1
    assert comp.loc[4, "duration_hours"] == pytest.approx(300.0) and comp.loc[4, "event"] == 0
    assert comp["repeat_complaint"].tolist() == [False, False, False, True]


def test_escalation_rules_as_data():
    comp = A.escalate(A.complaint_metrics(complaint_tickets(), end=ts(310))).set_index("ticket_id")
    # 1: high, open 30 h > 24 h -> level 1; 3: reopened -> level 2; 4: urgent open 300 h -> level 2
    # (urgent > 48 h fires before "> 7 days"); 5: repeat complainer, urgent, open 60 h -> level 2
    # (urgent > 48 h), but not level 3 (needs > 72 h).
    assert comp["escalation_level"].to_dict() == {1: 1, 3: 2, 4: 2, 5: 2}
    assert comp.loc[4, "escalation_rule"] == "urgent complaint open > 48 h"
    assert comp.loc[4, "escalated_after_hours"] == 48.0
    assert comp.loc[1, "escalated_to"] == "team lead"
    # a stricter policy: repeat complainers go to the top after 24 h
    rules = A.ESCALATION_RULES.copy()
    rules.loc[rules["repeat"], "after_hours"] = 24.0
    stricter = A.escalate(A.complaint_metrics(complaint_tickets(), end=ts(310)), rules).set_index("ticket_id")
    assert stricter.loc[5, "escalation_level"] == 3
    assert stricter.loc[5, "escalated_to"] == "head of customer experience"
    bad = rules.assign(after_hours=-1)
    with pytest.raises(ValueError, match="after_hours"):
        A.escalate(A.complaint_metrics(complaint_tickets(), end=ts(310)), bad)


def six_mp_complaints() -> pd.DataFrame:
    """The 6-MP remission times of Freireich et al. (1963) as complaint resolution times in
    hours: resolved complaints were raised at T0, still-open ones (+) t hours before the end."""
    times = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
    event = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
    end = ts(100)
    created = [ts(0) if e else end - pd.Timedelta(hours=t) for t, e in zip(times, event, strict=True)]
    n = len(times)
    return pd.DataFrame({
        "ticket_id": np.arange(1, n + 1), "customer_id": np.arange(1, n + 1),
        "created_ts": created,
        "category": pd.Categorical(["defect"] * n), "priority": pd.Categorical(["high"] * n),
        "first_response_ts": [c + pd.Timedelta(minutes=5) for c in created],
        "resolved_ts": [c + pd.Timedelta(hours=t) if e else pd.NaT
                        for c, t, e in zip(created, times, event, strict=True)],
        "reopened": [False] * n,
    }), end


def test_resolution_curve_six_mp_textbook():
    # Klein & Moeschberger (2003), Survival Analysis, 2nd ed., Table 4.1A (6-MP arm; also
    # Kleinbaum & Klein's self-learning text): S(t) and Greenwood s.e. at the event times.
    printed = {6: (0.857, 0.0764), 7: (0.807, 0.0869), 10: (0.753, 0.0963), 13: (0.690, 0.1068),
               16: (0.627, 0.1141), 22: (0.538, 0.1282), 23: (0.448, 0.1346)}
    tickets, end = six_mp_complaints()
    comp = A.complaint_metrics(tickets, end=end)
    assert comp["event"].sum() == 9 and (comp["event"] == 0).sum() == 12
    curve = A.resolution_curve(comp)
    curve["time"] = curve["time"].round(6)
    curve = curve.set_index("time")
    for t, (s, se) in printed.items():
        assert round(curve.loc[t, "survival"], 3) == s
        assert round(curve.loc[t, "se"], 4) == se
    summary = A.resolution_summary(comp, within_hours=16).iloc[0]
    assert summary["median_hours_km"] == pytest.approx(23.0)
    assert summary["median_hours_resolved"] == pytest.approx(10.0)  # naive: biased low
    assert summary["resolved_within"] == pytest.approx(1 - 0.627, abs=5e-4)
    by_cat = A.resolution_curve(comp, by="category")
    assert (by_cat["category"] == "defect").all()


def test_repeat_complainers():
    comp = A.complaint_metrics(complaint_tickets(), end=ts(310))
    rc = A.repeat_complainers(comp, window="30D").set_index("customer_id")
    assert rc.loc[10, "complaints"] == 2 and bool(rc.loc[10, "repeat"])
    assert rc.loc[10, "categories"] == "defect"
    assert rc.index[0] == 10
    assert not A.repeat_complainers(comp, window="5D").set_index("customer_id").loc[10, "repeat"]
    assert rc.loc[40, "open"] == 1


# --------------------------------------------------------------------------------------
# surveys
# --------------------------------------------------------------------------------------


def test_nps_hand_built_distribution():
    # 50 promoters, 30 passives, 20 detractors: NPS = 30; Var = (0.5 + 0.2 - 0.3^2) / 100 = 0.0061
    scores = [10] * 25 + [9] * 25 + [8] * 15 + [7] * 15 + [6] * 10 + [0] * 10
    out = A.nps_score(scores)
    assert (out["promoters"], out["passives"], out["detractors"]) == (50, 30, 20)
    assert out["nps"] == pytest.approx(30.0)
    assert out["se"] == pytest.approx(100 * math.sqrt(0.0061))  # 7.81 points
    z = stats.norm.ppf(0.975)
    assert out["low"] == pytest.approx(30 - z * 7.8102, abs=1e-3)  # 14.69
    assert out["high"] == pytest.approx(30 + z * 7.8102, abs=1e-3)  # 45.31
    # same variance as the mean of +1/0/-1 codes (population variance / n)
    codes = np.array([1] * 50 + [0] * 30 + [-1] * 20)
    assert out["se"] == pytest.approx(100 * codes.std() / math.sqrt(100))
    # adjusted-Wald (Rocks 2016): n + 3, promoters and detractors + 3/4
    adj = A.nps_score(scores, method="adjusted")
    p, d = 50.75 / 103, 20.75 / 103
    assert adj["se"] == pytest.approx(100 * math.sqrt((p + d - (p - d) ** 2) / 103))
    assert adj["low"] == pytest.approx(100 * (p - d) - z * adj["se"])
    assert adj["nps"] == pytest.approx(30.0)  # the reported NPS is the raw one


def test_nps_standard_error_matches_simulation():
    # Closed form vs the spread of NPS over 20,000 multinomial samples of n = 200.
    rng = np.random.default_rng(7)
    probs, n = np.array([0.35, 0.40, 0.25]), 200  # promoters, passives, detractors
    draws = rng.multinomial(n, probs, size=20_000)
    sim_nps = 100 * (draws[:, 0] - draws[:, 2]) / n
    closed = 100 * math.sqrt((0.35 + 0.25 - 0.1**2) / n)
    assert sim_nps.std() == pytest.approx(closed, rel=0.03)
    # and the Wald interval covers the true NPS (10) about 95% of the time
    cover = 0
    for row in draws[:800]:
        out = A.nps_score([10] * row[0] + [8] * row[1] + [3] * row[2])
        cover += out["low"] <= 10 <= out["high"]
    assert 0.925 < cover / 800 < 0.975


def test_adjusted_nps_interval_is_never_degenerate():
    wald = A.nps_score([10, 10, 9])
    assert wald["se"] == 0 and wald["low"] == wald["high"] == 100
    adj = A.nps_score([10, 10, 9], method="adjusted")
    assert adj["se"] > 0 and adj["low"] < 100


def test_csat_and_ces_by_hand():
    out = A.csat_score([5, 4, 4, 3, 1, np.nan, 5, 2])
    assert out["n"] == 7 and out["missing"] == 1 and out["satisfied"] == 4
    assert out["csat"] == pytest.approx(4 / 7)
    assert out["mean_score"] == pytest.approx(24 / 7)
    ces = A.ces_score([7, 6, 5, 5, 3, 2, 1, 4])
    assert ces["mean"] == pytest.approx(33 / 8)
    assert ces["easy_share"] == pytest.approx(4 / 8)
    lo, hi = stats.t.interval(0.95, 7, loc=33 / 8, scale=stats.sem([7, 6, 5, 5, 3, 2, 1, 4]))
    assert ces["low"] == pytest.approx(lo) and ces["high"] == pytest.approx(hi)


@pytest.mark.parametrize("func, scores, match", [
    (A.nps_score, [10, 11, 9], r"outside the scale 0-10"),
    (A.nps_score, [-1, 5], r"outside the scale 0-10"),
    (A.csat_score, [0, 3, 5], r"outside the scale 1-5"),
    (A.csat_score, [6], r"outside the scale 1-5"),
    (A.ces_score, [8, 7], r"outside the scale 1-7"),
    (A.csat_score, [4.5, 3], "non-integer"),
    (A.csat_score, ["good", 3], "must hold numbers"),
])
def test_scores_outside_the_scale(func, scores, match):
    with pytest.raises(ValueError, match=match):
        func(scores)


def survey_table() -> pd.DataFrame:
    """Ten CSAT invitations over two quarters; one respondent's score is missing (NaN)."""
    return pd.DataFrame({
        "survey_id": np.arange(1, 11),
        "survey_type": pd.Categorical(["csat"] * 10),
        "touchpoint": pd.Categorical(["order"] * 6 + ["return"] * 4),
        "order_id": pd.array([1, 2, 3, 4, 5, 6, 1, 2, 3, 4], dtype="Int64"),
        "sent_ts": pd.to_datetime(["2024-01-10", "2024-02-10", "2024-03-10", "2024-04-10", "2024-05-10",
                                   "2024-06-10", "2024-01-20", "2024-02-20", "2024-04-20", "2024-05-20"]),
        "responded": [True, True, False, True, True, False, True, True, True, False],
        "score": pd.array([5, 2, pd.NA, 4, pd.NA, pd.NA, 3, 5, 4, pd.NA], dtype="Int64"),
    })


def test_survey_metrics_counts_missing_scores():
    s = survey_table()
    out = A.survey_metrics(s, "csat", by="touchpoint").set_index("touchpoint")
    # order: 6 invited, 4 responded, one of them without a score -> n = 3 (5, 2, 4)
    assert out.loc["order", ["invited", "responded", "missing_score", "n"]].tolist() == [6, 4, 1, 3]
    assert out.loc["order", "csat"] == pytest.approx(2 / 3)
    assert out.loc["return", "response_rate"] == pytest.approx(0.75)
    q = A.survey_metrics(s, "csat", freq="QE")
    assert q["period"].dt.strftime("%Y-%m-%d").tolist() == ["2024-03-31", "2024-06-30"]
    assert q["invited"].tolist() == [5, 5] and q["n"].tolist() == [4, 2]
    assert q["missing_score"].tolist() == [0, 1]
    # without a responded column a missing score means no response
    out2 = A.survey_metrics(s.drop(columns="responded"), "csat")
    assert out2.loc[0, "responded"] == 6 and out2.loc[0, "missing_score"] == 0


def test_survey_metrics_bad_input():
    s = survey_table()
    with pytest.raises(ValueError, match="outside the scale 1-5"):
        A.survey_metrics(s.assign(score=pd.array([5, 2, pd.NA, 4, 7, pd.NA, 3, 5, 4, pd.NA],
                                                 dtype="Int64")), "csat")
    with pytest.raises(ValueError, match="score but responded=False"):
        A.survey_metrics(s.assign(responded=False), "csat")
    with pytest.raises(ValueError, match="survey_type"):
        A.survey_metrics(s, "stars")


# --------------------------------------------------------------------------------------
# experiences, non-response
# --------------------------------------------------------------------------------------


def test_order_experiences_by_hand():
    orders, items, products, returns = hand_world()
    tickets = pd.DataFrame({
        "order_id": pd.array([2, 2, 3, pd.NA], dtype="Int64"),
        "category": pd.Categorical(["delivery", "defect", "billing", "account"]),
        "created_ts": [ts(60), ts(150), ts(401), ts(1)],
        "resolved_ts": [ts(70), ts(300), pd.NaT, ts(2)],
    })
    e = A.order_experiences(orders, returns, tickets, end=ts(500)).set_index("order_id")
    assert e["late_days"].tolist() == [0, 2, 0]
    assert e["returned"].tolist() == [True, True, False]
    assert e["defect"].tolist() == [False, True, False]
    assert e["support_contact"].tolist() == [False, True, True]
    # order 2: a ticket took 150 h (> 72); order 3: open for 99 h at the end (> 72)
    assert e["unresolved_ticket"].tolist() == [False, True, True]
    e2 = A.order_experiences(orders, returns, tickets, end=ts(450))
    assert e2["unresolved_ticket"].tolist() == [False, True, False]  # open only 49 h at ts(450)


def test_weighted_csat_by_hand():
    # Cell A (on time): 8 invited, 4 answered, 3 satisfied. Cell B (late): 2 invited, 2 answered,
    # 0 satisfied. Raw CSAT = 3/6; weighted = (8 * 3/4 + 2 * 0/2) / 10 = 0.6.
    exp = pd.DataFrame({"order_id": np.arange(1, 11), "late_bucket": ["on time"] * 8 + ["late"] * 2})
    scores = [5, 4, 4, 2] + [pd.NA] * 4 + [1, 2]
    s = pd.DataFrame({"survey_type": "csat", "touchpoint": "order", "order_id": np.arange(1, 11),
                      "responded": [True] * 4 + [False] * 4 + [True] * 2,
                      "score": pd.array(scores, dtype="Int64")})
    out = A.weighted_csat(s, exp, cells="late_bucket")
    assert out["raw"] == pytest.approx(0.5) and out["weighted"] == pytest.approx(0.6)
    assert out["empty_cells"] == 0
    rr = A.response_rates(s, exp, by="late_bucket").set_index("late_bucket")
    assert rr.loc["on time", "response_rate"] == 0.5 and rr.loc["late", "csat"] == 0.0


# --------------------------------------------------------------------------------------
# ordered regression
# --------------------------------------------------------------------------------------


def test_ordered_logit_two_levels_is_the_log_odds_ratio():
    # With two answer levels and one binary driver the ordered logit is a logistic regression,
    # whose MLE slope is the sample log odds ratio log(ad / bc), s.e. sqrt(1/a + 1/b + 1/c + 1/d).
    a, b, c, d = 30, 10, 15, 25  # x=1: 30 high, 10 low; x=0: 15 high, 25 low
    x = np.r_[np.ones(a + b), np.zeros(c + d)]
    y = np.r_[np.ones(a), np.zeros(b), np.ones(c), np.zeros(d)].astype(int)
    m = A.OrderedRegression().fit(x[:, None], y)
    assert m.coef_[0] == pytest.approx(math.log(a * d / (b * c)), abs=1e-5)
    assert m.se_[0] == pytest.approx(math.sqrt(1 / a + 1 / b + 1 / c + 1 / d), rel=1e-4)
    # the cut point is minus the intercept: logit P(high | x=0) = log(15/25)
    assert m.thresholds_[0] == pytest.approx(-math.log(c / d), abs=1e-5)


@pytest.mark.parametrize("link", ["logit", "probit"])
def test_ordered_regression_recovers_planted_parameters(link):
    rng = np.random.default_rng(11)
    n = 6000
    X = np.c_[rng.normal(size=n), rng.random(n) < 0.3]
    beta, cuts = np.array([-0.8, 0.5]), np.array([-1.5, -0.5, 0.4, 1.6])
    noise = rng.logistic(size=n) if link == "logit" else rng.normal(size=n)
    y = 1 + np.searchsorted(cuts, X @ beta + noise)
    m = A.OrderedRegression(link=link).fit(X, y)
    assert m.converged_
    assert np.all(np.abs(m.coef_ - beta) < 4 * m.se_)
    assert np.allclose(m.thresholds_, cuts, atol=0.15)
    proba = m.predict_proba(X[:5])
    assert proba.shape == (5, 5) and np.allclose(proba.sum(axis=1), 1)
    assert set(m.predict(X)) <= set(range(1, 6))


@pytest.mark.parametrize("link", ["logit", "probit"])
def test_ordered_regression_gradient_is_exact(link):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 2))
    y = rng.integers(0, 4, 200)
    m = A.OrderedRegression(link=link)
    theta = np.r_[0.3, -0.2, -0.5, np.log(0.7), np.log(0.9)]
    err = optimize.check_grad(lambda t: m._nll_grad(t, X, y)[0], lambda t: m._nll_grad(t, X, y)[1], theta)
    assert err < 1e-4


def test_ordered_regression_bad_input():
    with pytest.raises(ValueError, match="single level"):
        A.OrderedRegression().fit(np.ones((5, 1)), [3] * 5)
    with pytest.raises(ValueError, match="missing"):
        A.OrderedRegression().fit(np.array([[1.0], [np.nan]]), [1, 2])
    with pytest.raises(ValueError, match="link"):
        A.OrderedRegression(link="cloglog").fit(np.ones((2, 1)), [1, 2])
    with pytest.raises(ValueError, match="not fitted"):
        A.OrderedRegression().predict_proba(np.ones((2, 1)))


# --------------------------------------------------------------------------------------
# the shop's planted truth
# --------------------------------------------------------------------------------------


def test_return_rates_recover_planted_base_rates(small):
    lines = A.return_lines(small.orders, small.order_items, small.returns, small.products)
    base = pd.Series(small.truth["return_base_rate"])
    # On-time lines, returns for non-defect reasons: the planted category base rate (returns of
    # defective units come on top; "damaged in transit" is left out as it mixes both).
    on_time = lines.loc[lines["late_days"] == 0]
    plain = on_time["returned"] & ~on_time["reason"].astype("str").isin(["defective", "damaged_in_transit"])
    est = plain.groupby(on_time["category"].astype("str")).mean()
    assert (est - base.reindex(est.index)).abs().max() < 0.025
    assert est.idxmax() == "fashion" and est.idxmin() == "grocery"
    assert stats.spearmanr(est, base.reindex(est.index)).statistic > 0.85
    # categories differ (chi-square), and late deliveries are returned more (planted x(1 + 0.25 d))
    assert A.return_chi_square(lines)["p_value"] < 1e-20
    late = A.return_rates(lines, "late_bucket").set_index("late_bucket")
    assert late.loc["3+ days late", "low"] > late.loc["on time", "high"]


def test_drivers_rank_the_planted_strongest_driver_first(small):
    exp = A.order_experiences(small.orders, small.returns, small.tickets, end=small.end_ts)
    planted = A.planted_driver_effects(small.truth["satisfaction"]["coefficients"], exp, A.DRIVERS)
    # Planted standardized effects (coefficient x sd over the small shop's orders): late_days
    # -0.55 x 0.84 = -0.46 is by far the strongest; returned -0.45 x 0.37 = -0.17, defect
    # -0.9 x 0.17 = -0.15, unresolved_ticket -0.7 x 0.16 = -0.11, support_contact -0.2 x 0.29.
    assert planted.iloc[0]["driver"] == "late_days"
    assert planted.iloc[0]["planted_std_effect"] == pytest.approx(-0.46, abs=0.03)
    for method in ("ordered_logit", "ordered_probit", "linear"):
        drivers = A.SatisfactionDrivers(method=method).fit(exp, small.surveys)
        table = drivers.table_.set_index("driver")
        assert table["rank"].idxmin() == "late_days", method
        assert (table.loc[["late_days", "returned", "defect"], "std_coef"] < 0).all(), method
        assert table.loc["late_days", "high"] < 0, method  # significant
    # the recovered ranking agrees with the planted one
    merged = planted.merge(drivers.table_, on="driver")
    assert stats.spearmanr(merged["planted_rank"], merged["rank"]).statistic >= 0.7
    # what-if: deliveries on time raise predicted CSAT
    model = A.SatisfactionDrivers().fit(exp, small.surveys)
    wi = model.what_if(exp, {"late_days": 0})
    assert wi["change"] > 0.05


def test_drivers_guard_small_samples(tiny):
    exp = A.order_experiences(tiny.orders, tiny.returns, tiny.tickets, end=tiny.end_ts)
    with pytest.raises(ValueError, match="min_responses"):
        A.SatisfactionDrivers(min_responses=10_000).fit(exp, tiny.surveys)
    fitted = A.SatisfactionDrivers(min_responses=10).fit(exp, tiny.surveys)
    assert set(fitted.table_["driver"]) | set(fitted.dropped_) == set(A.DRIVERS)


def test_driver_models_follow_the_sklearn_shape(tiny):
    # crmlab.base.Estimator (issue 30): get_params/clone, and an unfitted model -- also one
    # whose fit stopped for too few answers -- says which call is missing.
    from sklearn.base import clone

    assert clone(A.OrderedRegression(link="probit")).get_params() == {
        "link": "probit", "max_iter": 500, "tol": 1e-8}
    fresh = A.SatisfactionDrivers(method="ordered_probit")
    with pytest.raises(ValueError, match=r"SatisfactionDrivers is not fitted yet; call fit\(experiences"):
        fresh.predict_csat(pd.DataFrame({"late_days": [0.0]}))
    exp = A.order_experiences(tiny.orders, tiny.returns, tiny.tickets, end=tiny.end_ts)
    with pytest.raises(ValueError, match="min_responses"):
        fresh.set_params(min_responses=10_000).fit(exp, tiny.surveys)
    with pytest.raises(ValueError, match="not fitted"):
        fresh.what_if(exp, {"late_days": 0})


def test_tiny_shop_runs_end_to_end(tiny):
    lines = A.return_lines(tiny.orders, tiny.order_items, tiny.returns, tiny.products)
    assert A.return_rates(lines)["lines"].sum() == len(tiny.order_items)
    comp = A.complaint_metrics(tiny.tickets, end=tiny.end_ts)
    assert len(A.escalate(comp)) == len(comp)
    nps = A.survey_metrics(tiny.surveys, "nps", freq="QE")
    assert nps["invited"].sum() == int((tiny.surveys["survey_type"] == "nps").sum())


def test_drivers_rank_a_separated_driver_last(tiny):
    # Every answered order with a defect says 1: the defect coefficient runs off to -infinity
    # (separation); its standard error is huge or numerically 0. It must not be ranked the
    # "strongest" driver.
    exp = A.order_experiences(tiny.orders, tiny.returns, tiny.tickets, end=tiny.end_ts)
    defect_orders = exp.loc[exp["defect"], "order_id"]
    surveys = tiny.surveys.copy()
    hit = ((surveys["survey_type"] == "csat") & surveys["responded"]
           & surveys["order_id"].isin(defect_orders)).to_numpy()
    assert hit.sum() >= 1
    surveys.loc[hit, "score"] = 1
    table = A.SatisfactionDrivers(min_responses=10).fit(exp, surveys).table_.set_index("driver")
    assert not table.loc["defect", "identified"]
    assert table.loc["defect", "std_coef"] < -A.MAX_STD_COEF or not 0 < table.loc["defect", "se"] <= A.MAX_STD_SE
    assert table.loc["defect", "rank"] > table["identified"].sum() and table.loc["defect", "share"] == 0
    assert table.loc[table["identified"], "share"].sum() == pytest.approx(1.0)
    assert table.loc[table["identified"], "rank"].max() == int(table["identified"].sum())


def test_nps_from_counts_equals_the_raw_scores():
    # the hand-built distribution above, given as a tally (as reports publish it)
    raw_scores = [10] * 25 + [9] * 25 + [8] * 15 + [7] * 15 + [6] * 10 + [0] * 10
    keys = ("n", "promoters", "passives", "detractors", "nps", "se", "low", "high")
    for method in ("wald", "adjusted"):
        raw = A.nps_score(raw_scores, method=method)
        for counts in ({"promoters": 50, "passives": 30, "detractors": 20},
                       {10: 25, 9: 25, 8: 15, 7: 15, 6: 10, 0: 10},
                       [10, 0, 0, 0, 0, 0, 10, 15, 15, 25, 25],
                       pd.Series({0: 10, 6: 10, 7: 15, 8: 15, 9: 25, 10: 25}),
                       pd.Series({"promoters": 50, "passives": 30, "detractors": 20})):
            out = A.nps_score(counts=counts, method=method)
            for key in keys:
                assert out[key] == pytest.approx(raw[key]), (method, counts, key)
    with pytest.raises(ValueError, match="exactly one"):
        A.nps_score()
    with pytest.raises(ValueError, match="exactly one"):
        A.nps_score(raw_scores, counts={"promoters": 1})
    with pytest.raises(ValueError, match="whole number >= 0"):
        A.nps_score(counts={"promoters": -1, "passives": 3, "detractors": 2})
    with pytest.raises(ValueError, match="whole number >= 0"):
        A.nps_score(counts={10: -1, 9: 5, 3: 2})
    with pytest.raises(ValueError, match="11 values"):
        A.nps_score(counts=[1, 2, 3])
    with pytest.raises(ValueError, match="scores 0-10"):
        A.nps_score(counts={11: 4, 10: 2})
