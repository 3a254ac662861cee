"""Recorded results of notebooks/03_customer_journey.ipynb executed at the test parameters
(DATA="tiny": 300 customers over 2024), checked against closed forms and planted truth."""

from __future__ import annotations

import math

import pytest

from crmlab.nb import read_claims, read_results

NAME = "03_customer_journey"


@pytest.fixture(scope="module")
def results(executed_notebook):
    return read_results(executed_notebook(NAME))


def test_funnel_recovers_planted_rates(results):
    # Planted: simulate.FUNNEL_RATES (truth["funnel_rates"]), 6 sources x 4 steps. Rule from
    # the notebook: misses of the 99% Wilson intervals ~ Binomial(24, 0.01); at most c allowed,
    # the smallest c with P(misses > c) <= 0.01, i.e. c = 2 (P(>= 3) = 0.0017), and every planted
    # rate inside its family-wise (Bonferroni) interval.
    assert results["n_funnel_intervals"] == 24
    assert results["check_level"] == pytest.approx(0.99)
    assert results["misses_allowed"] == 2
    # closed form: P(X >= 3) = 1 - sum_{k<=2} C(24,k) 0.01^k 0.99^(24-k)
    tail = 1 - sum(math.comb(24, k) * 0.01**k * 0.99 ** (24 - k) for k in range(3))
    assert results["miss_tail_probability"] == pytest.approx(tail, rel=1e-9)
    assert round(tail, 4) == 0.0017
    assert 24 - results["planted_inside"] <= results["misses_allowed"]
    assert results["planted_inside_family"] == 24


def test_funnel_rates_are_proportions_in_the_planted_range(results):
    rates = results["funnel_step_rates"]
    assert set(rates) == {"product_view", "add_to_cart", "begin_checkout", "purchase"}
    # planted per-source rates span 0.62-0.85, 0.22-0.40, 0.48-0.62, 0.62-0.78; the pooled
    # rate is a mixture of them, so it lies inside the span (with sampling room).
    spans = {"product_view": (0.62, 0.85), "add_to_cart": (0.22, 0.40),
             "begin_checkout": (0.48, 0.62), "purchase": (0.62, 0.78)}
    for step, (lo, hi) in spans.items():
        assert lo - 0.05 <= rates[step] <= hi + 0.05, step
    overall = results["funnel_overall_conversion"]
    assert overall == pytest.approx(math.prod(rates.values()), rel=1e-3)


def test_sessions_and_journeys_are_consistent(results):
    # A 30-minute gap only merges sessions, never splits them.
    assert 0 < results["n_derived_sessions"] <= results["n_sessions"]
    # Every online order has exactly one converting session, hence one converting journey.
    assert results["n_conversions"] == results["n_online_orders"]
    assert results["n_conversions"] <= results["n_journeys"]
    assert 0 <= results["share_multichannel"] <= 1
    assert 0 <= results["share_multivisit"] <= 1
    # the simulator draws a journey's first visit from discovery channels (no e-mail, no
    # direct) and later visits from returning channels, so a multi-visit journey usually mixes
    # channels: multichannel journeys can only be multi-visit ones
    assert results["share_multichannel"] <= results["share_multivisit"]


def test_attribution(results):
    # Hand-computed in the notebook and tests/unit/test_journey.py: RE_A = 1/2, RE_B = 1.
    assert results["toy_removal_effects"] == pytest.approx({"A": 0.5, "B": 1.0})
    shares = results["attribution_shares"]
    assert set(shares) == {"first_touch", "last_touch", "linear", "markov"}
    for model, by_channel in shares.items():
        assert sum(by_channel.values()) == pytest.approx(1.0, abs=1e-3), model
    effects = results["markov_removal_effects"]
    assert set(effects) == set(shares["markov"])
    assert all(0 < v <= 1 for v in effects.values())
    # Identity (flow conservation): the chain fitted by transition counts reproduces the
    # observed share of converting journeys exactly (see the unit test for the algebra).
    assert results["markov_conversion_probability"] == pytest.approx(
        results["n_conversions"] / results["n_journeys"], rel=1e-9)


def test_decompositions_multiply_to_revenue(results):
    assert results["revenue_check_rel_error"] < 1e-9
    assert results["traffic_check_rel_error"] < 1e-9
    assert results["change_log_sum_error"] < 1e-9
    assert results["aov"] > 0 and results["revenue_online"] > 0


def test_retention(results):
    # hot products moved to 03_transaction_value_and_selling_points (test_03_value_results)
    assert 0 <= results["retention_month1"] <= results["retention_month0"] <= 1


def test_claims_follow_the_recorded_numbers(executed_notebook, results):
    # World-proof: each named claim took the branch its recorded numbers call for.
    claims = {c["name"]: c["holds"] for c in read_claims(executed_notebook(NAME))}
    misses = results["n_funnel_intervals"] - results["planted_inside"]
    assert claims["funnel_recovers_planted"] == (
        misses <= results["misses_allowed"] and results["planted_inside_family"] == results["n_funnel_intervals"])
    assert claims["journeys_mix_channels"] == (results["share_multichannel"] >= 0.5)
    assert claims["purchases_take_several_visits"] == (results["share_multivisit"] >= 0.5)
