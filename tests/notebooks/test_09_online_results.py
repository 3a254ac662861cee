"""Recorded results of notebooks/09_online_and_smart_service.ipynb executed at the test
parameters (DATA="tiny", SEED=42: 300 customers over 2024), checked against what the simulator
plants (crmlab/data/simulate/support.py and social.py; crmlab/data/vocab.py)."""

from __future__ import annotations

import math

import pytest

from crmlab.nb import read_results

NAME = "09_online_and_smart_service"


@pytest.fixture(scope="module")
def results(executed_notebook) -> dict:
    return read_results(executed_notebook(NAME))


def test_first_response_in_each_channels_own_unit(results):
    assert results["frt_units"]["chat"] == "seconds" and results["frt_units"]["email"] == "hours"
    # planted: chat FRT is lognormal with median 1.5 min (90 s) and sigma 0.7, so the share
    # within the 60 s standard is Phi((ln 60 - ln 90) / 0.7) = Phi(-0.579) = 0.281
    p60 = 0.5 * (1 + math.erf((math.log(60) - math.log(90)) / 0.7 / math.sqrt(2)))
    assert p60 == pytest.approx(0.281, abs=0.001)
    assert results["frt_share_met"]["chat"] == pytest.approx(p60, abs=0.15)
    assert results["frt_median"]["chat"] == pytest.approx(90, rel=0.35)
    # planted: e-mail median 6 h plus the wait for office hours; well inside a day
    assert 2 < results["frt_median"]["email"] < 24
    assert all(0 <= v <= 1 for v in results["frt_share_met"].values())


def test_script_scores_and_needs(results):
    # the three example replies are fixed text: 0 of 4, 2 of 4 and 4 of 4 needed steps
    assert results["script_scores"] == {"bare answer": 0.0, "friendly": 0.5, "full script": 1.0}
    need = results["script_needed_share"]
    assert need["greeting"] == 1.0 and need["closing"] == 1.0
    # vocab.TICKET_TEXT["presales"]: two templates ask about stock/warranty or size (answer),
    # the third about a discount for bulk orders or gift wrapping (objection and upsell)
    assert need["answer"] + need["upsell"] == pytest.approx(1.0)
    assert need["objection"] == pytest.approx(need["upsell"])
    assert 0.4 < need["answer"] < 0.95


def test_presales_conversion_against_fair_comparisons(results):
    conv = results["conversion"]
    asked_v = conv["asked, visited that day"]["rate"]
    # naive: askers are shoppers, all customers mostly are not -> a large gap
    assert asked_v - conv["all customers, same days"]["rate"] > 0.3
    # busy days (more sessions) end in an order more often, so standardising to the askers'
    # visit mix raises the visitors' rate and leaves a smaller gap than the raw comparison.
    # (Planted: asking has no effect on buying; with 20 askers at these parameters the
    # standardised gap is too noisy to test against zero, which tests/unit/test_online_service.py
    # does on the shipped shop.)
    same, raw = conv["visited, did not ask, same visits"]["rate"], conv["visited, did not ask"]["rate"]
    assert same > raw
    assert abs(asked_v - same) < abs(asked_v - raw)
    assert math.isfinite(results["presales_gap_z"])
    # planted: a chat starts at random in a visit (0.4% of sessions), so visits with a chat
    # convert like the others -- the visit-level comparison is a fair one here
    assert results["chat_visit_z"] is not None and abs(results["chat_visit_z"]) < 3
    r = results["per_buyer_ratio"]
    assert r["per_buyer_value"] == pytest.approx(r["orders_per_buyer"] * r["aov"], rel=2e-3)


def test_intent_classifier_and_bot_tradeoff(results):
    acc = results["intent_accuracy"]
    assert acc > 0.75
    t = results["tradeoff"]
    assert t["threshold"][0] == 0.0 and t["threshold"][-1] == 1.0
    # at threshold 0 every search is answered: wrong answers = 1 - accuracy
    assert t["wrong_answer_rate"][0] == pytest.approx(1 - acc, abs=1e-3)
    assert t["handoff_rate"][-1] == 1.0 and t["wrong_answer_rate"][-1] is None
    cont = t["containment_rate"]
    assert all(a >= b for a, b in zip(cont, cont[1:], strict=False))  # never rises with the threshold
    reached = t["tickets_reached"]
    assert all(0 <= v <= t["escalated"][0] for v in reached)
    chosen = results["bot_threshold"]
    assert chosen is not None
    assert t["wrong_answer_rate"][t["threshold"].index(chosen)] <= 0.02


def test_social_mentions_needing_a_reply(results):
    check = results["social_check"]
    # planted negatives are vocab.SOCIAL_TEXT["neg"] and the incident posts: each holds a
    # complaint word or reads negative to VADER, so the rule finds all and only them
    assert check["VADER or a complaint word"] == {"recall": 1.0, "precision": 1.0}
    # VADER alone misses "the shop delivery is so slow" and "customer service ... never answers"
    assert check["VADER only"]["recall"] < 0.95
    # planted incident: 2.5x the daily mention rate in extra negative posts
    assert results["social_weekly_peak_in_incident"] is True
