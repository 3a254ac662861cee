"""Recorded results of notebooks/08_offers_and_experiments.ipynb (campaigns as experiments)
and 08_uplift_and_targeting.ipynb (uplift models, policies, offer plan): executed at the test
parameters (tiny shop), and the committed runs on the shipped small shop."""

from __future__ import annotations

import math
from pathlib import Path

import nbformat
import pytest
from scipy import stats

from crmlab import offers
from crmlab.nb import read_results

NAME = "08_offers_and_experiments"
UPLIFT = "08_uplift_and_targeting"
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
#: Cost per contact by channel in the shop's campaigns table (crmlab/data/simulate/campaigns.py, CampaignConfig.cost_per_contact).
CHANNEL_COST = {"email": 0.5, "sms": 1.5, "app_push": 0.1, "line": 0.8}


@pytest.fixture(scope="module")
def results(executed_notebook) -> dict:
    return read_results(executed_notebook(NAME))


@pytest.fixture(scope="module")
def uplift(executed_notebook) -> dict:
    return read_results(executed_notebook(UPLIFT))


@pytest.fixture(scope="module")
def committed() -> dict:
    """The committed runs of both parts (their result names do not overlap)."""
    parts = [read_results(nbformat.read(NOTEBOOKS / f"{n}.ipynb", as_version=4)) for n in (NAME, UPLIFT)]
    assert not set(parts[0]) & set(parts[1])
    return {**parts[0], **parts[1]}


def test_one_campaign_intervals(results):
    big = results["largest_campaign"]
    lo, hi = big["newcombe"]
    assert lo <= big["uplift"] <= hi
    w_lo, w_hi = big["wald"]
    assert (w_lo + w_hi) / 2 == pytest.approx(big["uplift"], abs=1e-6)  # Wald is symmetric
    assert big["welch"][0] <= big["revenue_diff"] <= big["welch"][1]
    assert big["n_treatment"] > 0 and big["n_control"] > 0


def test_multiple_testing_order(results):
    sig = results["significant"]
    # Holm's rejections are a subset of BH's, which are a subset of the raw p < 0.05.
    assert sig["holm"] <= sig["bh"] <= sig["raw"] <= results["n_campaigns"]
    pooled = results["pooled_uplift"]
    assert pooled["low"] < pooled["uplift"] < pooled["high"]


def test_sample_size_plan_closed_form(results):
    plan = results["sample_size_plan"]
    pc, lift, r = plan["base"], plan["lift"], plan["ratio"]
    pt = pc + lift
    pbar = (pc + r * pt) / (1 + r)
    za, zb = stats.norm.ppf(0.975), stats.norm.ppf(0.8)
    # Fleiss, Levin & Paik (2003): n_c = [z_a sqrt(pbar qbar (1 + 1/r)) + z_b sqrt(p_c q_c +
    # p_t q_t / r)]^2 / (p_t - p_c)^2, rounded up; n_t = r n_c rounded up.
    n_c = (za * math.sqrt(pbar * (1 - pbar) * (1 + 1 / r))
           + zb * math.sqrt(pc * (1 - pc) + pt * (1 - pt) / r)) ** 2 / lift**2
    assert plan["n_control"] == math.ceil(n_c)
    assert plan["n_treatment"] == math.ceil(r * n_c)
    assert 0 < results["mde_median"] <= 1


def test_qini_and_policies_are_well_formed(uplift):
    for value in uplift["qini_normalized"].values():
        assert -1.5 < value < 1.5
    profit = uplift["policy_profit"]
    assert profit["nobody@0"] == 0
    assert {"everyone@1", "response model@0.3", "uplift model@0.3"} <= set(profit)


def test_break_even_matches_formula(results):
    be = results["break_even"]
    for channel, value in be["by_channel"].items():
        # tau* = (c + p0 r D) / (v - r D), with the notebook's measured p0, r, D and v.
        c = CHANNEL_COST[channel]
        expected = (c + be["p0"] * be["redemption"] * be["coupon"]) / (be["margin"] - be["redemption"] * be["coupon"])
        assert value == pytest.approx(expected, rel=1e-4)
        assert value == pytest.approx(offers.break_even_uplift(
            be["margin"], c, be["p0"], be["redemption"], be["coupon"]), rel=1e-4)


def test_roi_by_channel_is_a_ratio_of_sums(results):
    for row in results["roi_by_channel"].values():
        assert row["roi"] == pytest.approx(row["net_profit"] / row["spend"], rel=1e-3, abs=1e-3)


def test_offer_plan_within_budget(uplift):
    plan, budget = uplift["offer_plan"], uplift["offer_budget"]
    assert plan["milp"]["value"] >= plan["greedy"]["value"] - 0.05
    assert plan["milp"]["cost"] <= budget + 0.01 and plan["greedy"]["cost"] <= budget + 0.01


def test_truth_comparisons_recorded(results, uplift):
    # The tiny shop is simulated, so it has the truth; its recorded comparisons are sane.
    assert set(uplift["uplift_by_segment"]) == {"vip", "deal_seeker", "family", "casual"}
    truth = {k: v["truth"] for k, v in uplift["uplift_by_segment"].items()}
    assert truth["deal_seeker"] > 0 > truth["casual"]
    assert results["ci_coverage"] >= 0.6
    pooled = results["pooled_uplift"]
    assert pooled["low"] <= results["pooled_truth"] <= pooled["high"]
    for shares in uplift["picks_share"].values():
        assert sum(shares.values()) == pytest.approx(1.0, abs=1e-3)
    assert uplift["policy_true"]["nobody@0"]["incremental"] == 0


# -- the committed run (DATA = "small", the shipped shop) ------------------------------------


def test_committed_uplift_ranks_planted_segments(committed):
    # Planted: deal_seeker +0.12 (persuadables) > family +0.06 > vip +0.01 (sure things) >
    # casual -0.35 of organic orders (sleeping dogs). The two-model uplift, averaged over the
    # hidden segments, ranks deal seekers first and casual buyers last (below zero).
    two = {k: v["two models"] for k, v in committed["uplift_by_segment"].items()}
    assert max(two, key=two.get) == "deal_seeker"
    assert min(two, key=two.get) == "casual" and two["casual"] < 0
    truth = {k: v["truth"] for k, v in committed["uplift_by_segment"].items()}
    assert max(truth, key=truth.get) == "deal_seeker" and min(truth, key=truth.get) == "casual"


def test_committed_response_model_picks_sure_things(committed):
    resp = committed["response_by_segment"]
    assert max(resp, key=resp.get) == "vip"  # sure things score highest
    picks = committed["picks_share"]
    assert picks["response model"]["vip"] > picks["uplift: two models"]["vip"]
    true = committed["policy_true"]
    for k in ("0.1", "0.2", "0.3", "0.5"):
        assert true[f"uplift model@{k}"]["profit"] > true[f"response model@{k}"]["profit"]


def test_committed_intervals_cover_truth(committed):
    assert committed["ci_coverage"] >= 0.8
    pooled = committed["pooled_uplift"]
    assert pooled["low"] <= committed["pooled_truth"] <= pooled["high"]
    seg = committed["offer_segments"]
    assert seg["deal_seeker"] > seg["vip"]


def test_multiple_testing_expectation_and_qini_noise(results, uplift):
    # m tested campaigns at the 5% level: 0.05 m false positives expected if none works
    efp = results["expected_false_positives"]
    m = efp / 0.05
    assert m == pytest.approx(round(m), abs=1e-6) and 1 <= round(m) <= results["n_campaigns"]
    # the normalized Qini of shuffled scores straddles 0 (a random ranking gains nothing on average)
    lo, hi = uplift["qini_random_band"]
    assert lo < 0 < hi < 1
    # the normalized true gain is None only when no contact has a true effect (its denominator is 0)
    for value in uplift["true_gain_normalized"].values():
        assert value is None or -1.5 < value <= 1.0


# --- customised products and personalised packaging (section 4, issue 24 item 9) ---------------
# Known answers: the shop's menu and the planted take-up in crmlab.data.simulate
# (CUSTOMIZATION_OPTIONS: fee, cost, categories; P(line takes option) = CUSTOMIZATION_SEGMENT[segment]
# x CUSTOMIZATION_RATE[option], x 2 for gift wrap on November-December lines).


@pytest.mark.parametrize("which", ["results", "committed"])
def test_customization_fees_and_margin_are_count_times_the_menu(which, request):
    from crmlab.data.simulate import CUSTOMIZATION_OPTIONS

    cz = request.getfixturevalue(which)["customization"]
    for option, row in cz["uptake"].items():
        fee, cost, _ = CUSTOMIZATION_OPTIONS[option]
        assert row["fees"] == pytest.approx(row["customized"] * fee)  # every row pays the menu fee
        assert row["margin"] == pytest.approx(row["customized"] * (fee - cost))
        assert 0 <= row["customized"] <= row["eligible"]
    # the spend tiers partition the customers: their line-options add up to the options' totals
    tiers = cz["by_tier"].values()
    assert sum(t["eligible"] for t in tiers) == sum(r["eligible"] for r in cz["uptake"].values())
    assert sum(t["customized"] for t in tiers) == sum(r["customized"] for r in cz["uptake"].values())
    # gift wrap applies to every line, so both seasons together are all its eligible lines
    s = cz["season"]
    assert s["n1"] + s["n0"] == cz["uptake"]["gift_wrap"]["eligible"]
    assert s["k1"] + s["k0"] == cz["uptake"]["gift_wrap"]["customized"]
    assert s["ci"][0] < s["ratio"] < s["ci"][1]


@pytest.mark.parametrize("which", ["results", "committed"])
def test_customization_take_up_matches_the_planted_rates(which, request):
    from crmlab.data.simulate import CUSTOMIZATION_RATE, CUSTOMIZATION_SEGMENT

    rows = request.getfixturevalue(which)["customization_by_segment"]
    assert len(rows) == len(CUSTOMIZATION_RATE) * len(CUSTOMIZATION_SEGMENT)
    for r in rows:
        p = r["planted"]
        base = CUSTOMIZATION_SEGMENT[r["segment"]] * CUSTOMIZATION_RATE[r["option"]]
        if r["option"] == "gift_wrap":  # between the plain rate and the rate doubled on every line
            assert base < p < 2 * base
        else:
            assert p == pytest.approx(base)
        z = (r["customized"] - r["eligible"] * p) / math.sqrt(r["eligible"] * p * (1 - p))
        assert abs(z) < 3.5, r  # 16 binomial counts: |z| > 3.5 has chance < 0.01 for any of them


def test_gift_season_ratio_matches_the_planted_factor(results):
    """The Nov-Dec / Jan-Oct gift-wrap ratio of the test run against its planted expectation: 2 within
    a segment, weighted by each season's segment mix (computed here from the shop and its truth)."""
    from crmlab.data import get_shop

    shop = get_shop("tiny", seed=42)  # the shop the test run loads (tests/notebooks/test_params.yaml)
    ct = shop.truth["customization"]
    seg = shop.truth["customers"].set_index("customer_id")["segment"].astype(str)
    lines = shop.order_items.merge(shop.orders[["order_id", "customer_id", "order_ts"]], on="order_id")
    f = lines["customer_id"].map(seg).map(ct["segment_factor"]).astype(float) * ct["option_rate"]["gift_wrap"]
    nd = lines["order_ts"].dt.month.isin(ct["gift_season_months"]).to_numpy()
    p1, p0 = ct["gift_season_factor"] * float(f[nd].mean()), float(f[~nd].mean())
    s = results["customization"]["season"]
    assert (s["n1"], s["n0"]) == (int(nd.sum()), int((~nd).sum()))
    # SE of the log rate ratio at the planted rates: sqrt((1 - p1)/(n1 p1) + (1 - p0)/(n0 p0))
    se = math.sqrt((1 - p1) / (s["n1"] * p1) + (1 - p0) / (s["n0"] * p0))
    assert abs(math.log(s["ratio"]) - math.log(p1 / p0)) < 3.5 * se
