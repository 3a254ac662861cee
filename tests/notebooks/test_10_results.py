"""Recorded results of notebooks/10_after_sales.ipynb (returns, their cost, complaints),
10_return_policy.ipynb (return window, free returns, exchange first, the sensitivity grid) and
10_satisfaction_surveys.ipynb (surveys, drivers, policy) executed at the test parameters
(DATA="tiny", SEED=42: 300 customers over 2024)."""

from __future__ import annotations

import math

import pytest

from crmlab.nb import read_results

NAME = "10_after_sales"
SURVEYS = "10_satisfaction_surveys"
POLICY = "10_return_policy"
Z95 = 1.959963984540054


@pytest.fixture(scope="module")
def results(executed_notebook) -> dict:
    return read_results(executed_notebook(NAME))


@pytest.fixture(scope="module")
def policy(executed_notebook) -> dict:
    return read_results(executed_notebook(POLICY))


@pytest.fixture(scope="module")
def surveys(executed_notebook) -> dict:
    return read_results(executed_notebook(SURVEYS))


def test_return_rates_and_intervals(results):
    rates = results["return_rate_by_category"]
    wilson = results["return_wilson_by_category"]
    assert set(rates) == set(wilson)
    for cat, rate in rates.items():
        low, high = wilson[cat]
        assert 0 <= low <= rate <= high <= 1, cat
    # planted base rates: fashion 0.17 is far above every other category (<= 0.07), and the
    # observed ranking shows it even on the tiny shop
    planted = results["return_base_rate_planted"]
    assert max(planted, key=planted.get) == "fashion"
    assert max(rates, key=rates.get) == "fashion"
    assert min(rates.values()) < results["return_rate_overall"] < max(rates.values())


def test_chi_square_across_categories(results):
    chi = results["return_chi_square"]
    assert chi["dof"] == chi["groups"] - 1 == 7
    assert chi["n"] == results["n_lines"]
    assert chi["p_value"] < 0.01  # categories differ (planted base rates 1%..17%)
    assert chi["cramers_v"] == pytest.approx(math.sqrt(chi["statistic"] / chi["n"]), rel=1e-4)


def test_late_deliveries_are_returned_more(results):
    # planted: non-defect return chance x (1 + 0.25 x days late)
    by_delay = results["return_rate_by_delay"]
    assert by_delay["on time"] == min(by_delay.values())


def test_exchanges_and_processing(results):
    assert 0.1 < results["exchange_share"] < 0.5
    med = results["processing_median_days"]
    # planted lognormal processing times: median 6 days for exchanges, 4 for refunds
    assert med["exchange"] == pytest.approx(6.0, abs=1.5)
    assert med["refund"] == pytest.approx(4.0, abs=1.0)
    cost = results["return_cost"]
    assert cost["total"] > 0 and 0 < cost["share_of_kept_margin"] < 1
    # issue 32: a refund reverses a sale. Counting it as a cost (against the margin of all
    # sales) overstates the share: with resold units at cost both counts leave the same profit,
    # and old = (new cost + D) / (kept margin + D) with D = refunds - cost of refunded units > 0,
    # which exceeds new cost / kept margin whenever that is below 1.
    assert cost["share_refund_counted"] > cost["share_of_kept_margin"]


def test_complaints_and_escalation(results):
    comp = results["complaints"]
    assert sum(comp["by_basis"].values()) == comp["n"] <= comp["tickets"]
    assert sum(results["escalation_levels"].values()) == comp["n"]
    res = results["complaint_resolution"]
    assert 0 < res["median_hours_km"] < 24 * 7 and 0 < res["resolved_within_72h"] <= 1
    rep = results["complaint_report"]
    # issue 32: the weekly report flags complaints by category and priority only (a reopening
    # is known only later), so it holds every complaint except those flagged only as reopened
    assert rep["complaints"] == comp["n"] - comp["by_basis"].get("reopened", 0)
    # The weekly report: resolved-only numbers flatter the team (the long cases are still
    # open); Kaplan-Meier at report time is closer to what the complete data show.
    assert rep["open_at_report"] > 0
    assert rep["naive_within_72h"] >= rep["final_within_72h"]
    assert abs(rep["km_within_72h"] - rep["final_within_72h"]) < abs(rep["naive_within_72h"] -
                                                                      rep["final_within_72h"])
    assert rep["naive_mean_hours"] < rep["final_mean_hours"]


def test_nps_and_its_standard_error(surveys):
    nps = surveys["nps"]
    n, p, d = nps["n"], nps["promoters"], nps["detractors"]
    assert p + nps["passives"] + d == n
    assert nps["nps"] == pytest.approx(100 * (p - d) / n, abs=1e-3)
    # Var(p_P - p_D) = [p_P + p_D - (p_P - p_D)^2] / n (multinomial)
    pp, pd_ = p / n, d / n
    assert nps["se"] == pytest.approx(100 * math.sqrt((pp + pd_ - (pp - pd_) ** 2) / n), abs=1e-3)
    assert nps["low"] == pytest.approx(max(nps["nps"] - Z95 * nps["se"], -100), abs=1e-3)
    quarterly = surveys["nps_quarterly"]
    assert sum(q["n"] for q in quarterly) == n
    assert all(q["period"].endswith(("03-31", "06-30", "09-30", "12-31")) for q in quarterly)


def test_csat_ces_and_non_response(surveys):
    csat = surveys["csat_by_touchpoint"]
    assert set(csat) == {"order", "return"}
    assert all(0 <= v["csat"] <= 1 and v["n"] <= v["invited"] for v in csat.values())
    assert 1 <= surveys["ces"]["mean"] <= 7
    wc = surveys["weighted_csat"]
    assert wc["raw"] == pytest.approx(csat["order"]["csat"], abs=1e-4)
    assert wc["respondents"] == surveys["n_csat_responses"] == csat["order"]["n"]
    assert all(0 <= r <= 1 for r in surveys["response_rate_by_delay"].values())
    # the planted-model reconstruction agrees with what the respondents actually said
    sim = surveys["response_bias_simulation"]
    assert abs(sim["csat_respondents"] - sim["observed_csat"]) < 0.15


def test_drivers_rank_delivery_delay_first(surveys):
    # Planted standardized effects (coefficient x sd over the respondents): late_days is the
    # strongest; the ordered logit puts it first even on the tiny shop's ~40 answers.
    assert surveys["drivers_planted_rank"]["late_days"] == 1
    assert surveys["top_driver"] == "late_days"
    assert surveys["drivers"]["late_days"]["std_coef"] < 0
    # the logit and probit fits of the same answers differ by the links' scale factor (the
    # logistic error has SD pi/sqrt(3) = 1.81; the best-matching factor is about 1.6-1.8)
    assert 1.4 < surveys["logit_probit_ratio"] < 2.2
    policy = surveys["policy_csat_change_points"]
    capped = next(v for k, v in policy.items() if k.startswith("no order more than 1 day late"))
    assert capped > 0


def test_period_filter(results, surveys):
    # tickets, returns and survey invitations dated after the data end are left out and counted
    assert set(results["left_out_after_end"]) == {"tickets", "returns"}
    assert set(surveys["left_out_after_end"]) == {"tickets", "returns", "survey invitations"}
    assert surveys["left_out_after_end"]["tickets"] == results["left_out_after_end"]["tickets"]
    for part in (results, surveys):
        assert all(v >= 0 for v in part["left_out_after_end"].values())


# --- 10_return_policy (issue 24 item 6) ---------------------------------------------------------
# Known answers: crmlab/data/simulate/returns.py (draw_returns) asks for a return Exponential(mean 4 days)
# after delivery, clipped to [0.05, 30] days, so a w-day window (w < 30) refuses exp(-w/4) of the
# returns and a 30-day window none; customers pay the NT$80 parcel of size_fit / changed_mind
# refunds, the shop every other one. The margin grid has the closed form (1 + o)(G - (1 + r)C).


def test_window_refuses_the_exponential_tail(policy):
    n = policy["n_returns"]
    for w, share in policy["window_refused"].items():
        w = float(w)
        planted = math.exp(-w / 4.0) if w < 30 else 0.0
        se = math.sqrt(max(planted * (1 - planted), 1e-4) / n)
        # returns asked for after the data end are cut, which shortens the tail a little: + 0.01
        assert abs(share - planted) < 4 * se + 0.01, (w, share, planted)
    assert policy["longest_request_days"] <= 30 + 1e-6


def test_margin_parts_add_up_and_the_levers_match_their_arithmetic(policy):
    m = policy["margin_today"]
    assert sum(m["parts"].values()) == pytest.approx(m["margin"])
    assert m["parts"]["revenue"] == m["revenue"] and m["parts"]["cost of goods sold"] == -m["cogs"]
    w = policy["policy_whatif"]
    assert w["today"]["margin"] == pytest.approx(m["margin"])
    # free returns: the shop pays NT$80 (the notebook's RETURN_SHIPPING) for each parcel customers paid for
    assert w["free returns"]["margin"] - w["today"]["margin"] == pytest.approx(-80.0 * policy["customer_paid_parcels"])
    # a window only removes returns: 7-day <= 14-day <= 30-day = all of today's (none asked after 30 days)
    assert w["7-day window"]["returns"] <= w["14-day window"]["returns"] <= w["30-day window"]["returns"]
    assert w["30-day window"]["margin"] == pytest.approx(w["today"]["margin"])
    assert w["7-day window"]["returns"] == pytest.approx(policy["n_returns"] * (1 - policy["window_refused"]["7"]))
    # exchange first keeps the sale on refunds that become exchanges; the returns themselves stay
    assert w["exchange first"]["returns"] == w["today"]["returns"]


def test_sensitivity_grid_is_the_closed_form(policy):
    m0 = policy["margin_today"]["margin"]
    gross = policy["margin_today"]["revenue"] - policy["margin_today"]["cogs"]
    c_free = gross - policy["policy_whatif"]["free returns"]["margin"]
    g = policy["free_returns_grid"]
    for i, r in enumerate(g["return_changes"]):
        for j, o in enumerate(g["order_changes"]):
            assert g["margin_change"][i][j] == pytest.approx((1 + o) * (gross - (1 + r) * c_free) - m0, abs=0.05)
        # break-even: M(o*, r) = M0; the grid wins exactly to the right of it
        o_star = g["break_even_orders"][str(r)]
        assert (1 + o_star) * (gross - (1 + r) * c_free) == pytest.approx(m0)
        for j, o in enumerate(g["order_changes"]):
            if abs(o - o_star) > 1e-6:
                assert (g["margin_change"][i][j] > 0) == (o > o_star)
    # more returns need more orders to pay for them
    need = [g["break_even_orders"][str(r)] for r in g["return_changes"]]
    assert need == sorted(need)


def test_exchange_first_gains_its_share_of_the_swapped_refunds(policy):
    # notebook default EXCHANGE_SHARE = 0.5: half of (refunds - units back in stock) of exchangeable refunds
    w = policy["policy_whatif"]
    assert policy["exchange_swap_gain"] > 0  # a refund exceeds the unit cost it puts back in stock
    assert w["exchange first"]["margin"] - w["today"]["margin"] == pytest.approx(0.5 * policy["exchange_swap_gain"])
    both = w["free returns + exchange first"]["margin"] - w["today"]["margin"]
    assert both == pytest.approx(0.5 * policy["exchange_swap_gain"] - 80.0 * policy["customer_paid_parcels"])
