"""Recorded results of unit 7's two notebooks: notebooks/12_crm_scorecard.ipynb (the
scorecard and the dashboard) and notebooks/12_end_to_end_capstone.ipynb (the capstone and the
course summary).

Two sources: the notebooks executed at the test parameters (DATA="tiny", SEED=42: 300
customers over 2024), and the committed notebooks, executed at their defaults (DATA="small",
the shipped 2,000-customer shop over 2024-2025), whose capstone has enough data for the full
story (alarm, difference-in-differences, the plan's out-of-time check).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from crmlab import kpi
from crmlab.data import get_shop
from crmlab.nb import read_results

NAME = "12_crm_scorecard"
CAPSTONE = "12_end_to_end_capstone"
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.fixture(scope="module")
def results(executed_notebook) -> dict:
    return read_results(executed_notebook(NAME))


@pytest.fixture(scope="module")
def capstone(executed_notebook) -> dict:
    return read_results(executed_notebook(CAPSTONE))


@pytest.fixture(scope="module")
def tiny():
    return get_shop("tiny", seed=42)  # the shop the test run loads


def test_scorecard(results, tiny):
    assert results["by_hand_matches"] is True  # plain pandas == crmlab.kpi for eleven indicators
    assert results["period"] == "2024-10-01/2025-01-01"  # tiny's last complete quarter
    assert results["n_indicators"] == len(kpi.INDICATORS)
    status = results["scorecard_status"]
    assert set(status) == set(kpi.INDICATORS)
    # every indicator has data in the last quarter, even on the tiny shop
    assert set(status.values()) <= {"green", "amber", "red"}
    assert all(v is not None for v in results["scorecard_values"].values())
    assert sum(results["status_counts"].values()) == len(kpi.INDICATORS)
    # the recorded numbers are the module's functions on the same shop
    assert results["scorecard_values"]["revenue"] == pytest.approx(
        kpi.revenue(tiny.orders, "2024-10-01", "2025-01-01"), rel=1e-6)
    assert results["scorecard_previous"]["churn_rate"] == pytest.approx(
        kpi.churn_rate(tiny.orders, "2024-07-01", "2024-10-01"), abs=1e-4)
    # a longer lapse window can only lower the churn rate
    churn = results["churn_by_lapse"]
    assert churn["90"] >= churn["180"] >= churn["365"]


def test_dashboard(results):
    assert results["dashboard"] == {"periods": 12, "indicators": 16}
    assert results["quarters"] == ["2024Q1", "2024Q2", "2024Q3", "2024Q4"]


def test_capstone_finds_the_planted_incident(capstone, tiny):
    results = capstone
    inc = tiny.truth["incident"]  # tiny: product 31, 2024-07-20 to 2024-08-15
    start = pd.Timestamp(inc["start"])
    # the flagged quarter is the incident's, the planning date its end
    assert results["capstone_quarter"] == str(pd.Period(start, "Q"))
    assert results["capstone_next_quarter"] == str(pd.Period(start, "Q") + 1)
    listen = results["listen"]
    assert listen["suspect_product"] == inc["product_id"]
    # feedback weeks start on Monday: the first warning comes within three weeks of the start
    watch = pd.Timestamp(listen["watch_week"])
    assert start - pd.Timedelta(days=7) <= watch <= start + pd.Timedelta(days=21)
    assert listen["top_score"] > listen["runner_up_score"]
    assert results["fix"] == inc["fix"]


def test_capstone_plan_and_service(capstone):
    results = capstone
    plan = results["plan"]
    assert 0 < plan["members"] and plan["spend"] <= plan["budget"] + 1e-6
    assert plan["extra_buyers"] > 0 and plan["net_value"] > 0
    assert sum(plan["channels"].values()) == plan["members"]
    assert all(0 <= c <= 0.15 + 1e-9 for c in results["coupon_by_category"].values())
    serve = results["serve"]
    assert serve["scheduled_agents"] >= serve["raw_agents"] >= 1
    assert serve["service_level"] >= 0.8  # Erlang C staffing meets the 80/20 target
    assert 0 < results["segment_ari"] <= 1
    assert sum(results["segments"].values()) > 0


def test_course_summary(capstone):
    summary = capstone["course_summary"]
    # read from the committed notebooks (no build in the test run), all but the capstone itself
    assert summary["source"] in ("notebook", "manifest")
    assert summary["notebooks"] >= 10 and summary["results"] > 100


def _committed(stem: str) -> dict:
    path = NOTEBOOKS / f"{stem}.ipynb"
    if not path.is_file():
        pytest.fail(f"no committed notebook {path}")
    return read_results(path)


@pytest.fixture(scope="module")
def committed() -> dict:
    return _committed(CAPSTONE)


@pytest.fixture(scope="module")
def committed_scorecard() -> dict:
    return _committed(NAME)


def test_committed_capstone_on_the_small_shop(committed):
    shop = get_shop("small")
    inc = shop.truth["incident"]  # product 91, 2025-02-06 to 2025-03-29
    assert committed["capstone_quarter"] == "2025Q1" and committed["capstone_next_quarter"] == "2025Q2"
    listen = committed["listen"]
    assert listen["suspect_product"] == inc["product_id"]
    alarm = pd.Timestamp(listen["alarm_week"])  # the alarm level is reached on the small shop
    assert pd.Timestamp(inc["start"]) - pd.Timedelta(days=7) <= alarm <= pd.Timestamp(inc["fix"])
    # the product's own scorecard: planted defect rate 0.3 during the incident, ~1% otherwise
    card = committed["product_card"]
    assert card["during"]["defect rate"] > 0.15
    assert card["after fix"]["defect rate"] < 0.05 and card["before"]["defect rate"] < 0.05
    # difference-in-differences against same-category products: the fix cut defect returns,
    # the 95% interval excludes 0
    did = committed["did"]
    assert did["estimate"] < 0 and did["high"] < 0
    # ... and the shop's scorecard shows it: defect rate red in the incident quarter, green after
    d = committed["improvement"]["defect_rate"]
    assert (d["status_before"], d["status_after"]) == ("red", "green")
    assert d["after"] < d["before"]


def test_committed_plan_checked_out_of_time(committed, committed_scorecard):
    # measured on the next quarter's randomized campaigns: the members our plan picked (made
    # with data before the planning date) responded more to a message than everyone else
    check = committed["plan_check"]
    picked, rest = check["members in our plan"], check["everyone else"]
    assert picked["contacts"] > 100 and rest["contacts"] > 100
    assert picked["conversion uplift"] > rest["conversion uplift"]
    # the last quarter's scorecard (12_crm_scorecard) keeps the defect rate green
    assert committed_scorecard["scorecard_status"]["defect_rate"] == "green"
    assert committed["course_summary"]["notebooks"] >= 10


def test_readings_are_tested(results, capstone):
    csat = results["order_csat_test"]
    assert csat["n"] > 0 and csat["n_previous"] > 0 and 0 <= csat["p_value"] <= 1
    for ci in capstone["channel_uplift_ci"].values():  # None: a channel without both arms
        assert (ci["low"] is None) == (ci["high"] is None)
        assert ci["low"] is None or ci["low"] <= ci["high"]
    serve = capstone["serve"]
    # the order forecast includes new buyers' orders (BG/NBD sees only existing buyers)
    assert 0 <= serve["orders_new_buyers"] <= serve["orders_next"]
    assert serve["orders_actual_next"] > 0


def test_committed_readings_on_the_small_shop(committed, committed_scorecard):
    # the CSAT drop of the last quarter (79% -> 53% of order answers) is beyond noise:
    # two-proportion z about -3.2
    assert committed_scorecard["order_csat_test"]["p_value"] < 0.01
    # the cluster of members without an order is named from that profile
    assert "not yet bought" in committed["segments"] and "lapsed" not in committed["segments"]
    serve = committed["serve"]
    assert serve["orders_next"] == pytest.approx(serve["orders_actual_next"], rel=0.25)
