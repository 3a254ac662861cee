"""Recorded results of notebooks/09_customer_support.ipynb (tickets) and
09_staffing_and_queues.ipynb (Erlang C, the call log, FAQ) executed at the test parameters
(DATA="tiny", SEED=42: 300 customers over 2024)."""

from __future__ import annotations

import math

import pytest

from crmlab.nb import read_results

NAME = "09_customer_support"
QUEUES = "09_staffing_and_queues"


@pytest.fixture(scope="module")
def results(executed_notebook) -> dict:
    return read_results(executed_notebook(NAME))


@pytest.fixture(scope="module")
def queues(executed_notebook) -> dict:
    return read_results(executed_notebook(QUEUES))


def test_ticket_volume_and_channels(results):
    assert results["n_tickets"] > 50
    share = results["channel_share"]
    assert set(share) == {"chat", "phone", "email", "faq_escalation"}
    assert sum(share.values()) == pytest.approx(1.0, abs=1e-3)
    # planted: chat's first response is lognormal with a median of 1.5 minutes; phone tickets
    # are answered with the call (median wait 0); e-mail waits hours (median 6 h + office hours)
    frt = results["frt_median_min_by_channel"]
    assert frt["chat"] == pytest.approx(1.5, rel=0.35)
    assert frt["phone"] < 1.0
    assert frt["email"] > 120


def test_lifecycle_quality(results):
    # planted reopen chance: 6% (15% for defects) -> the overall rate lies between
    assert 0.02 < results["reopen_rate"] < 0.2
    assert 0.6 < results["fcr_rate"] < 1.0
    # few tickets are open at the end, so the Kaplan-Meier median (open tickets censored) is
    # close to the naive median of resolved tickets
    assert results["resolution_median_km_h"] == pytest.approx(results["resolution_median_h"], rel=0.2)


def test_littles_law(results):
    little = results["little"]
    # L = lambda W up to edge effects over half a year
    assert abs(little["relative_gap"]) < 0.15
    assert little["lambda_W"] == pytest.approx(little["arrival_rate_per_day"]
                                               * little["mean_days_in_system"], rel=1e-3)


def test_sla_and_priority(results):
    sla = results["sla_business"]
    assert set(sla) <= {"low", "medium", "high", "urgent"}
    for row in sla.values():
        assert all(0 <= v <= 1 for v in row.values())
    # the impact x urgency rule is a different policy from the shop's: partial agreement
    assert 0.2 < results["priority_rule_agreement"] < 0.9


def test_routing_and_triage(results):
    assert results["skill_match_router"] == 1.0  # the router never lacks the skill
    assert results["skill_match_shop"] <= 1.0
    # planted: templated ticket text -> near-perfect triage; dropping words hurts
    assert results["triage_macro_f1"] > 0.85
    assert results["triage_macro_f1_noisy"] <= results["triage_macro_f1"] + 1e-9
    assert results["routing_accuracy"] > 0.85


def test_erlang_c_published_example(queues):
    # Call Centre Helper worked example (100 calls / 30 min, AHT 180 s, 80/20, shrinkage 30%):
    # 14 agents on the phones, 20 scheduled; SL 0.888, occupancy 0.714, P(wait) 0.174 (see
    # tests/unit/test_support.py for the sources).
    cch = queues["cch_example"]
    assert (cch["raw_agents"], cch["scheduled_agents"]) == (14, 20)
    assert cch["service_level"] == pytest.approx(0.888, abs=5e-4)
    assert cch["occupancy"] == pytest.approx(0.714, abs=5e-4)
    assert cch["p_wait"] == pytest.approx(0.174, abs=5e-4)


def test_simulation_matches_erlang_c(queues):
    for row in queues["sim_check"]:
        assert row["p_wait (sim)"] == pytest.approx(row["p_wait (Erlang C)"], abs=0.03)
        assert row["SL (sim)"] == pytest.approx(row["SL (Erlang C)"], abs=0.03)
        assert row["ASA (sim)"] == pytest.approx(row["ASA (Erlang C)"], rel=0.25)
        # the simulation plays Erlang C's assumptions: the gap is noise, within a few batch-means
        # standard errors (4 SE: the SE is itself estimated from 20 batches)
        assert 0 < row["ASA SE (sim)"] < row["ASA (sim)"]
        assert abs(row["ASA (sim)"] - row["ASA (Erlang C)"]) < 4 * row["ASA SE (sim)"]
        assert abs(row["SL (sim)"] - row["SL (Erlang C)"]) < 4 * row["SL SE (sim)"]


def test_shop_call_centre(queues):
    # planted: the phone agents and the lognormal handling time (mean 300 e^(0.5^2/2) = 339.9 s)
    assert queues["phone_agents_in_log"] == queues["phone_agents_planted"]
    assert queues["call_aht_mean"] == pytest.approx(300 * math.exp(0.125), rel=0.05)
    # Erlang C ignores hang-ups and overstates handling variability: pessimistic for the shop
    assert queues["call_sl_measured_mean"] >= queues["call_sl_erlang_mean"] - 0.02
    peak = queues["peak_models"]
    log_asa = peak["the shop's call log"]["asa_seconds"]
    sim_asa = peak["simulated: lognormal + hang-ups"]["asa_seconds"]
    erlang_asa = peak["Erlang C (formula)"]["asa_seconds"]
    assert abs(sim_asa - log_asa) < abs(erlang_asa - log_asa)
    assert queues["staffing_plan_peak_scheduled"] >= queues["phone_agents_in_log"]


def test_faq_and_deflection(queues):
    ev = queues["faq_eval"]
    assert 0.5 < ev["hit_at_1"] <= ev["hit_at_3"] <= 1.0
    assert 0 < queues["deflection_overall"] < 1
    assert all(0 <= v <= 1 for v in queues["deflection_by_intent"].values())


def test_weekly_report(results):
    assert results["report_tickets_total"] == results["n_tickets"]
    assert 40 <= results["report_weeks"] <= 53
    # only the last week can end after the data end (tiny ends on Tuesday 2024-12-31, so its
    # last week is partial when a ticket was created in it)
    assert results["report_partial_weeks"] in (0, 1)


def test_period_filter(results):
    # tickets, calls and searches dated after the data end are left out and counted
    assert set(results["left_out_after_end"]) == {"tickets", "calls", "FAQ searches"}
    assert all(v >= 0 for v in results["left_out_after_end"].values())
