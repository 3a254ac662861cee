"""crmlab.profile: 360° profile, sales pipeline, marketing automation, loyalty, data protection.

Where each expected number comes from is said next to it: a published worked example (IFRS 15
Illustrative Example 52; RFC 4231 HMAC test vectors), a hand computation written out in the
comment, or the truth the simulator planted (``shop.truth``).
"""

from __future__ import annotations

import hashlib
import hmac
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from crmlab import profile as P
from crmlab.data import load_shop, simulate
from crmlab.data.store import CRMStore

# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def tiny():
    return simulate("tiny", seed=11)


@pytest.fixture(scope="module")
def small():
    return load_shop("small")


def ts(s: str) -> pd.Timestamp:
    return pd.Timestamp(s)


# ============================================================================= 360° profile


def test_profile_from_shop_and_from_store_agree(tiny):
    cid = int(tiny.orders["customer_id"].value_counts().idxmax())
    a = P.customer_profile(tiny, cid)
    with CRMStore() as st:
        st.load(tiny)
        b = P.customer_profile(st, cid)
    assert a.summary == b.summary
    assert a.facts.keys() == b.facts.keys()
    for key, value in a.facts.items():
        assert (pd.isna(value) and pd.isna(b.facts[key])) or value == b.facts[key], key
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name], check_dtype=False, obj=name)
    pd.testing.assert_frame_equal(a.timeline, b.timeline)


def test_profile_facts_match_pandas(tiny):
    cid = int(tiny.orders["customer_id"].value_counts().idxmax())
    prof = P.customer_profile(tiny, cid)
    mine = tiny.orders.loc[tiny.orders["customer_id"] == cid]
    assert prof.facts["n_orders"] == len(mine)
    assert prof.facts["total_spend"] == pytest.approx(mine["amount"].sum())
    assert prof.facts["points_balance"] == tiny.loyalty_ledger.loc[tiny.loyalty_ledger["customer_id"] == cid,
                                                                  "points"].sum()
    assert prof.facts["n_tickets"] == (tiny.tickets["customer_id"] == cid).sum()
    assert prof["orders"]["customer_id"].eq(cid).all()
    assert set(prof["order_items"]["order_id"]) <= set(mine["order_id"])
    assert str(cid) in prof.summary and f"{len(mine)} orders" in prof.summary
    # every touchpoint count shows up in the timeline
    counts = prof.timeline["touchpoint"].value_counts()
    assert counts["order"] == len(mine)
    assert counts["signup"] == 1
    assert prof.timeline["ts"].is_monotonic_increasing
    if prof.facts["n_tickets"]:
        calls = tiny.calls.loc[tiny.calls["customer_id"] == cid]
        assert prof["tickets"]["n_calls"].sum() == calls["ticket_id"].notna().sum()


def test_profile_as_of_hides_the_future(tiny):
    cid = int(tiny.orders["customer_id"].value_counts().idxmax())
    mine = tiny.orders.loc[tiny.orders["customer_id"] == cid].sort_values("order_ts")
    cut = mine["order_ts"].iloc[1]  # strictly before the second order
    prof = P.customer_profile(tiny, cid, as_of=cut)
    assert prof.facts["n_orders"] == 1
    assert (prof.timeline["ts"] < cut).all()
    assert prof.facts["days_since_last_order"] == pytest.approx((cut - mine["order_ts"].iloc[0]) / pd.Timedelta(days=1))


def test_profile_bad_ids(tiny):
    with pytest.raises(ValueError, match="customer_id 999999 is not in table 'customers'"):
        P.customer_profile(tiny, 999999)
    with pytest.raises(ValueError, match="must be an integer member id"):
        P.customer_profile(tiny, "1 OR 1=1")
    with pytest.raises(ValueError, match="expected a Shop or a CRMStore"):
        P.customer_profile(42, 1)
    with pytest.raises(KeyError, match="no table 'nope'"):
        P.customer_profile(tiny, 1)["nope"]


# ============================================================================= pipeline

# A hand-built lead table. Furthest stage / outcome per lead:
#   L1 won (Chen 100k)          L2 lost at new (Chen 50k)        L3 lost at qualified (Lin 80k)
#   L4 open at proposal (Lin 200k)   L5 open at new (Chen 40k)   L6 won (Lin 60k)
#   L7 open at contacted (Chen 30k)  L8 lost at negotiation (Chen 90k)
# Step rates counting only decided leads (open ones left out of the step they sit at):
#   new->contacted 6/7, contacted->qualified 5/5, qualified->proposal 4/5,
#   proposal->negotiation 3/3, negotiation->won 2/3.
HAND_CONVERSION = [Fraction(6, 7), Fraction(5, 5), Fraction(4, 5), Fraction(3, 3), Fraction(2, 3)]


def hand_leads() -> pd.DataFrame:
    N = pd.NaT
    rows = [  # lead, owner, value, stage, created, contacted, qualified, proposal, negotiation, closed
        (1, "Chen", 100e3, "won", "2024-01-01", "2024-01-02", "2024-01-05", "2024-01-10", "2024-01-20", "2024-01-31"),
        (2, "Chen", 50e3, "lost", "2024-01-03", N, N, N, N, "2024-01-10"),
        (3, "Lin", 80e3, "lost", "2024-01-04", "2024-01-05", "2024-01-09", N, N, "2024-01-20"),
        (4, "Lin", 200e3, "proposal", "2024-02-01", "2024-02-02", "2024-02-06", "2024-02-15", N, N),
        (5, "Chen", 40e3, "new", "2024-03-01", N, N, N, N, N),
        (6, "Lin", 60e3, "won", "2024-01-10", "2024-01-11", "2024-01-20", "2024-01-25", "2024-02-10", "2024-02-29"),
        (7, "Chen", 30e3, "contacted", "2024-02-20", "2024-02-21", N, N, N, N),
        (8, "Chen", 90e3, "lost", "2024-01-15", "2024-01-16", "2024-01-18", "2024-01-22", "2024-02-01", "2024-02-20"),
    ]
    cols = ["lead_id", "owner", "value", "stage", "created_ts", "contacted_ts", "qualified_ts", "proposal_ts",
            "negotiation_ts", "closed_ts"]
    df = pd.DataFrame(rows, columns=cols)
    for c in cols[4:]:
        df[c] = pd.to_datetime(df[c]).astype("datetime64[ns]")
    df["owner"] = pd.Categorical(df["owner"], categories=["Chen", "Lin"])
    df["stage"] = pd.Categorical(df["stage"], categories=list(P.LEAD_STAGES))
    return df


def test_stage_conversion_hand_table():
    conv = P.stage_conversion(hand_leads())
    np.testing.assert_allclose(conv["conversion"], [float(f) for f in HAND_CONVERSION], rtol=1e-12)
    assert conv["passed"].tolist() == [6, 5, 4, 3, 2]
    assert conv["lost"].tolist() == [1, 0, 1, 0, 1]
    assert conv["open"].tolist() == [1, 1, 0, 1, 0]
    cum = np.cumprod([float(f) for f in HAND_CONVERSION])
    np.testing.assert_allclose(conv["cum_conversion"], cum, rtol=1e-12)
    by = P.stage_conversion(hand_leads(), by="owner").set_index(["owner", "step"])["conversion"]
    # Chen: L1 won, L2 lost at new, L5 open at new, L7 open at contacted, L8 lost at negotiation
    assert by[("Chen", "new->contacted")] == pytest.approx(3 / 4)
    assert by[("Chen", "negotiation->won")] == pytest.approx(1 / 2)
    assert by[("Lin", "qualified->proposal")] == pytest.approx(2 / 3)


def test_forecast_hand_table():
    leads = hand_leads()
    # Estimated P(win | stage) = product of the remaining hand step rates:
    # new 6/7*1*4/5*1*2/3 = 16/35, contacted 8/15, qualified 8/15, proposal 2/3.
    fc = P.pipeline_forecast(leads).set_index("lead_id")
    assert sorted(fc.index) == [4, 5, 7]
    assert fc.loc[4, "win_probability"] == pytest.approx(2 / 3)
    assert fc.loc[5, "win_probability"] == pytest.approx(16 / 35)
    assert fc.loc[7, "win_probability"] == pytest.approx(8 / 15)
    assert fc["expected_value"].sum() == pytest.approx(200e3 * 2 / 3 + 40e3 * 16 / 35 + 30e3 * 8 / 15)
    # The sales team's own stage probabilities: 200k*0.5 + 40k*0.1 + 30k*0.2 = 110,000.
    probs = {"new": 0.1, "contacted": 0.2, "qualified": 0.3, "proposal": 0.5, "negotiation": 0.75}
    assert P.pipeline_forecast(leads, probs)["expected_value"].sum() == pytest.approx(110_000)
    with pytest.raises(ValueError, match=r"lack stage\(s\) \['proposal'\]"):
        P.pipeline_forecast(leads, {"new": 0.1, "contacted": 0.2})


def test_attainment_hand_table():
    probs = {"new": 0.1, "contacted": 0.2, "qualified": 0.3, "proposal": 0.5, "negotiation": 0.75}
    att = P.attainment(hand_leads(), {"Chen": 200e3, "Lin": 100e3}, "2024-01-01", "2024-03-31", probs)
    att = att.set_index("owner")
    # Chen won L1 (100k) of 200k -> 0.5; Lin won L6 (60k) of 100k -> 0.6.
    assert att.loc["Chen", "attainment"] == pytest.approx(0.5)
    assert att.loc["Lin", "attainment"] == pytest.approx(0.6)
    # Open pipeline weighted: Chen L5 40k*0.1 + L7 30k*0.2 = 10k; Lin L4 200k*0.5 = 100k.
    assert att.loc["Chen", "weighted_pipeline"] == pytest.approx(10e3)
    assert att.loc["Lin", "projected_attainment"] == pytest.approx(1.6)
    assert att.loc["Chen", "gap"] == pytest.approx(100e3)
    assert list(att.index) == ["Lin", "Chen"]  # sorted by attainment
    # January only: L1 closed 2024-01-31 (in), L6 on 2024-02-29 (out)
    jan = P.attainment(hand_leads(), 100e3, "2024-01-01", "2024-01-31", probs).set_index("owner")
    assert jan.loc["Chen", "won_value"] == 100e3 and jan.loc["Lin", "won_value"] == 0
    with pytest.raises(ValueError, match=r"no target for owner\(s\) \['Lin'\]"):
        P.attainment(hand_leads(), {"Chen": 1.0}, "2024-01-01", "2024-03-31", probs)


def test_snapshot_as_of_and_velocity_hand_table():
    leads = hand_leads()
    snap = P.lead_snapshot(leads, as_of="2024-01-25").set_index("lead_id")
    assert 5 not in snap.index and 4 not in snap.index  # created later
    assert snap.loc[1, "status"] == "open" and snap.loc[1, "reached"] == "negotiation"
    assert snap.loc[2, "status"] == "lost" and snap.loc[6, "reached"] == "proposal"
    vel = P.sales_velocity(leads).iloc[0]
    # 3 open x (2 won / 5 closed) x 80k average won deal / 40 days average cycle (30 and 50 days)
    assert vel["open_opportunities"] == 3 and vel["win_rate"] == pytest.approx(0.4)
    assert vel["cycle_days"] == pytest.approx(40.0)
    assert vel["velocity_per_day"] == pytest.approx(3 * 0.4 * 80e3 / 40)
    dur = P.stage_durations(leads).set_index("step")
    # new->contacted gaps: L1 1, L3 1, L4 1, L6 1, L7 1, L8 1 day
    assert dur.loc["new->contacted", "mean_days"] == pytest.approx(1.0)
    # negotiation->won: L1 11 days, L6 19 days
    assert dur.loc["negotiation->won", "mean_days"] == pytest.approx(15.0)
    # its standard error: sample sd of (11, 19) = sqrt(32) over sqrt(2) = 4 days; all-equal gaps: 0
    assert dur.loc["negotiation->won", "se_days"] == pytest.approx(4.0)
    assert dur.loc["new->contacted", "se_days"] == pytest.approx(0.0)


def test_pipeline_recovers_planted_stage_conversion(small):
    # Planted (shop.truth["lead"]): P(pass step k) = base_k * skill(owner) (contacted: base only),
    # clipped at 0.97. Expected rate of a step = mean of that over the leads at risk of it.
    truth = small.truth["lead"]
    snap = P.lead_snapshot(small.leads)
    conv = P.stage_conversion(small.leads)
    for k, row in conv.iterrows():
        risk = snap[(snap["reached_idx"] >= k + 1) | ((snap["reached_idx"] == k) & (snap["status"] == "lost"))]
        skill = risk["owner"].astype(str).map(truth["owner_skill"]).to_numpy() if k > 0 else np.ones(len(risk))
        p = np.minimum(truth["stage_conversion"][row["to_stage"]] * skill, 0.97)
        se = np.sqrt(np.sum(p * (1 - p))) / len(p)
        assert abs(row["conversion"] - p.mean()) < 3.5 * se, row["step"]


def test_stage_durations_recover_planted_gaps(small):
    # Planted: exponential gaps with means truth["lead"]["stage_gap_days_mean"]; SE = mean / sqrt(n).
    dur = P.stage_durations(small.leads)
    for (_, row), mean in zip(dur.iterrows(), small.truth["lead"]["stage_gap_days_mean"], strict=True):
        assert abs(row["mean_days"] - mean) < 3.5 * mean / np.sqrt(row["n"]), row["step"]
        # the reported standard error estimates that same mean / sqrt(n) (exponential sd = mean)
        assert row["se_days"] == pytest.approx(mean / np.sqrt(row["n"]), rel=0.5), row["step"]


def test_skilled_owner_wins_more(small):
    # Planted skill: Chen 1.2 ... Wu 0.7; win chance is the product of four skill-scaled steps.
    vel = P.sales_velocity(small.leads, by="owner").set_index("owner")
    assert vel.loc["Chen", "win_rate"] > vel.loc["Wu", "win_rate"]


def test_lead_validation():
    leads = hand_leads()
    bad = leads.copy()
    bad.loc[4, "contacted_ts"] = pd.NaT  # lead 5 has no stamps; give lead 4 a gap instead
    bad.loc[3, "contacted_ts"] = pd.NaT
    with pytest.raises(ValueError, match=r"lead\(s\) \[4\] have a stage timestamp without"):
        P.lead_snapshot(bad)
    with pytest.raises(ValueError, match=r"column\(s\) .* not found"):
        P.stage_conversion(leads.drop(columns="closed_ts"))


# ============================================================================= automation


def mini_shop(campaign_day: str | None = None) -> dict[str, pd.DataFrame]:
    """Four members around 2024-04-01 (see test_automation_queue_hand_built for the story)."""
    customers = pd.DataFrame({
        "customer_id": [1, 2, 3, 4],
        "signup_ts": pd.to_datetime(["2024-03-29 10:00", "2024-03-25 08:00", "2023-12-01 09:00",
                                     "2024-01-01 12:00"]).astype("datetime64[ns]"),
        "birth_month": [4, 4, 7, 4],
        "marketing_opt_in": [True, False, True, True],
    })
    events = pd.DataFrame({
        "session_id": [10, 11, 12, 12, 13],
        "customer_id": [1, 3, 4, 4, 2],
        "ts": pd.to_datetime(["2024-03-31 09:00", "2024-03-31 12:00", "2024-03-31 15:00", "2024-03-31 15:05",
                              "2024-03-31 08:00"]).astype("datetime64[ns]"),
        "event_type": pd.Categorical(["add_to_cart"] * 5),
        "product_id": pd.array([101, 102, 103, 104, 105], dtype="Int64"),
    })
    orders = pd.DataFrame({
        "customer_id": [3, 3, 4],
        "order_ts": pd.to_datetime(["2024-01-02 10:00", "2024-03-31 20:00", "2024-01-02 10:00"]).astype("datetime64[ns]"),
    })
    ledger = pd.DataFrame({
        "entry_id": [1], "customer_id": [4], "ts": pd.to_datetime(["2024-04-01"]).astype("datetime64[ns]"),
        "entry_type": pd.Categorical(["tier_change"]), "points": [0],
        "tier": pd.Categorical(["silver"], categories=["member", "silver", "gold", "platinum"]),
    })
    shop = {"customers": customers, "events": events, "orders": orders, "loyalty_ledger": ledger}
    if campaign_day:
        shop["campaigns"] = pd.DataFrame({"campaign_id": [1], "send_ts": [pd.Timestamp(campaign_day)]})
        shop["campaign_contacts"] = pd.DataFrame({"campaign_id": [1], "customer_id": [4], "sent": [True]})
    return shop


def statuses(q: pd.DataFrame) -> dict[tuple[int, str], str]:
    return {(int(c), r): str(s) for c, r, s in zip(q["customer_id"], q["rule"], q["status"], strict=True)}


def test_automation_queue_hand_built():
    # 2024-04-01, default rules in priority order: abandoned_cart, welcome, tier_upgrade, birthday, win_back.
    # c1: cart 03-31 09:00, no order -> reminder 04-01 09:00; welcome day 3 (signed up 03-29); birthday (April).
    # c2: opted out: cart reminder, welcome day 7 (signed up 03-25), birthday - all suppressed.
    # c3: cart at 12:00 followed by an order at 20:00 -> no reminder; 01-02 order + 90 days is
    #     04-01 but the 03-31 order came first -> no win-back; born in July.
    # c4: two carts in one session -> one reminder (last item, 15:05 + 24 h); silver upgrade on 04-01;
    #     birthday; last order 01-02 + 90 days = 04-01 -> win-back.
    # Cap 1 a day: each opted-in member gets only the highest-priority message.
    q = P.automation_queue(mini_shop(), "2024-04-01", cap=P.FrequencyCap(per_day=1, per_week=3))
    assert statuses(q) == {
        (1, "abandoned_cart"): "send", (1, "welcome"): "capped_daily", (1, "birthday"): "capped_daily",
        (2, "abandoned_cart"): "opted_out", (2, "welcome"): "opted_out", (2, "birthday"): "opted_out",
        (4, "abandoned_cart"): "send", (4, "tier_upgrade"): "capped_daily", (4, "birthday"): "capped_daily",
        (4, "win_back"): "capped_daily",
    }
    cart4 = q.loc[(q["customer_id"] == 4) & (q["rule"] == "abandoned_cart")].iloc[0]
    assert cart4["trigger_ts"] == ts("2024-04-01 15:05") and "product 104" in cart4["detail"]
    assert q.loc[(q["customer_id"] == 4) & (q["rule"] == "tier_upgrade"), "detail"].item() == "member -> silver"


def test_automation_weekly_cap_counts_earlier_sends_and_campaigns():
    # per_week=2: c1's welcome step 1 went out on 03-29, so on 04-01 only one more fits (the cart);
    # c4 got a campaign on 03-30, so also only the cart fits.
    cap = P.FrequencyCap(per_day=5, per_week=2)
    q = statuses(P.automation_queue(mini_shop(campaign_day="2024-03-30 10:00"), "2024-04-01", cap=cap))
    assert q[(1, "abandoned_cart")] == "send" and q[(1, "welcome")] == "capped_weekly"
    assert q[(4, "abandoned_cart")] == "send" and q[(4, "tier_upgrade")] == "capped_weekly"
    q2 = statuses(P.automation_queue(mini_shop(campaign_day="2024-03-30 10:00"), "2024-04-01",
                                     cap=P.FrequencyCap(per_day=5, per_week=2, count_campaigns=False)))
    assert q2[(4, "tier_upgrade")] == "send"  # without the campaign, c4 has room for two
    # no suppression, no cap: every trigger is sent
    q3 = P.automation_queue(mini_shop(), "2024-04-01", cap=None, suppress_opted_out=False)
    assert (q3["status"] == "send").all() and len(q3) == 10


def test_abandoned_cart_matches_a_brute_force_loop(tiny):
    # Independent implementation: for each session's last add-to-cart, look for any order by the
    # member in the next 24 hours with a plain Python loop.
    start, end = ts("2024-05-01"), ts("2024-05-31")
    trig = P.automation_triggers(tiny, start, end, rules=[P.AbandonedCart(hours=24)])
    ev = tiny.events.loc[tiny.events["event_type"] == "add_to_cart"]
    last = ev.sort_values("ts").groupby("session_id").tail(1)
    orders = tiny.orders.groupby("customer_id")["order_ts"].apply(list).to_dict()
    expected = set()
    for cid, t in zip(last["customer_id"], last["ts"], strict=True):
        due = t + pd.Timedelta(hours=24)
        if not (start <= due < end + pd.Timedelta(days=1)):
            continue
        if any(t < o <= due for o in orders.get(cid, [])):
            continue
        expected.add((int(cid), due.normalize()))
    assert set(zip(trig["customer_id"].astype(int), trig["day"], strict=True)) == expected
    assert len(expected) > 5


def test_automation_bad_rules(tiny):
    with pytest.raises(ValueError, match="unique str .name"):
        P.automation_triggers(tiny, "2024-01-01", "2024-01-31", rules=[P.WinBack(), P.WinBack(days=30)])
    with pytest.raises(ValueError, match="no table 'events'"):
        P.automation_queue({"customers": tiny.customers, "orders": tiny.orders}, "2024-05-01")


# ============================================================================= loyalty


def test_ifrs15_illustrative_example_52():
    # IFRS 15 Illustrative Example 52 (IE267-IE270), customer loyalty programme, as reproduced in
    # the Singapore FRS 115 version (ksncs.com.sg/frs-115-specific-area-customer-loyalty-program):
    # sales CU100,000 (stand-alone price 100,000), 10,000 points of CU1, 9,500 expected to be
    # redeemed -> points SSP 9,500; allocation 100,000 x 100,000/109,500 = 91,324 and
    # 100,000 x 9,500/109,500 = 8,676. Year 1: 4,500 redeemed, still 9,500 expected ->
    # 8,676 x 4,500/9,500 = 4,110. Year 2: 8,500 redeemed in total, now 9,700 expected ->
    # 8,676 x 8,500/9,700 - 4,110 = 3,493.
    a = P.ifrs15_allocate(100_000, 100_000, 10_000, 1.0, 0.95)
    assert a["points_ssp"] == pytest.approx(9_500)
    assert round(a["goods_revenue"]) == 91_324 and round(a["points_allocated"]) == 8_676
    sched = P.ifrs15_schedule(8_676, [4_500, 8_500], [9_500, 9_700])
    assert sched["revenue"].round().tolist() == [4_110, 3_493]
    assert sched["cumulative_revenue"].round().tolist() == [4_110, 7_603]
    assert sched["contract_liability"].round().tolist() == [4_566, 1_073]
    # Same with the unrounded allocation.
    sched2 = P.ifrs15_schedule(a["points_allocated"], [4_500, 8_500], [9_500, 9_700])
    assert sched2["revenue"].round().tolist() == [4_110, 3_493]


def test_ifrs15_kpmg_variant():
    # KPMG Revenue - IFRS 15 handbook (2019) Examples 10A/10B, after IE267-IE270: 9,000 allocated to
    # points; 4,500 redeemed of 9,700 expected -> 4,175; then 8,500 of 9,900 -> 3,552 (10A) or
    # of 9,200 -> 4,140 (10B).
    assert P.ifrs15_schedule(9_000, [4_500, 8_500], [9_700, 9_900])["revenue"].round().tolist() == [4_175, 3_552]
    assert P.ifrs15_schedule(9_000, [4_500, 8_500], [9_700, 9_200])["revenue"].round().tolist() == [4_175, 4_140]
    with pytest.raises(ValueError, match="cumulative"):
        P.ifrs15_schedule(9_000, [4_500, 4_000], 9_700)
    with pytest.raises(ValueError, match="expected_redemption"):
        P.ifrs15_allocate(1, 1, 1, 1, 1.5)


def test_markov_member_value_hand_chain():
    # Two tiers + absorbing 'lapsed'. Q = [[.5, .2], [.1, .7]], r = [100, 300], discount factor
    # 0.9 = 1 / (1 + 1/9): discount_rate 1/9 per period.
    # I - 0.9Q = [[.55, -.18], [-.09, .37]], det = .1873;
    # V = adj(I - 0.9Q) r / det = [(.37*100 + .18*300), (.09*100 + .55*300)] / .1873 = [91, 174] / .1873.
    # Expected periods: (I - Q)^-1 1 = [[.3, .2], [.1, .5]] 1 / .13 = [.5, .6] / .13.
    P_ = pd.DataFrame([[0.5, 0.2, 0.3], [0.1, 0.7, 0.2], [0.0, 0.0, 1.0]],
                      index=["silver", "gold", "lapsed"], columns=["silver", "gold", "lapsed"])
    v = P.markov_member_value(P_, {"silver": 100, "gold": 300, "lapsed": 0},
                              discount_rate=1 / 9).set_index("state")
    det = Fraction(1873, 10_000)
    assert v.loc["silver", "expected_value"] == pytest.approx(float(Fraction(91) / det), rel=1e-12)
    assert v.loc["gold", "expected_value"] == pytest.approx(float(Fraction(174) / det), rel=1e-12)
    assert v.loc["silver", "expected_periods"] == pytest.approx(0.5 / 0.13)
    assert v.loc["gold", "expected_periods"] == pytest.approx(0.6 / 0.13)
    # The series definition sum_t d^t Q^t r gives the same (independent check).
    Q = P_.iloc[:2, :2].to_numpy()
    r = np.array([100.0, 300.0])
    series = sum(0.9**t * np.linalg.matrix_power(Q, t) @ r for t in range(400))
    np.testing.assert_allclose(v["expected_value"].to_numpy(), series, rtol=1e-10)
    # One state that stays with probability q: V = r / (1 - d q) (geometric series).
    one = pd.DataFrame([[0.8, 0.2], [0.0, 1.0]], index=["m", "x"], columns=["m", "x"])
    assert P.markov_member_value(one, {"m": 50.0, "x": 0.0}, discount_rate=1 / 0.95 - 1)[
        "expected_value"].item() == pytest.approx(50 / (1 - 0.95 * 0.8))
    with pytest.raises(ValueError, match="every row of transition"):
        P.markov_member_value(P_ * 2, {"silver": 1, "gold": 1}, discount_rate=0.1)
    with pytest.raises(ValueError, match="absorbing states earn nothing"):
        P.markov_member_value(P_, {"silver": 1, "gold": 1, "lapsed": 5}, discount_rate=0.1)
    # the discount factor (the former third argument) still works, with a DeprecationWarning
    # naming the new argument; a rate and a factor together, or neither, are refused
    with pytest.warns(DeprecationWarning, match="discount_rate"):
        old = P.markov_member_value(P_, {"silver": 100, "gold": 300, "lapsed": 0}, 0.9)
    np.testing.assert_allclose(old["expected_value"], v["expected_value"].to_numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="not also"):
        P.markov_member_value(P_, {"silver": 1, "gold": 1}, 0.9, discount_rate=0.1)
    with pytest.raises(ValueError, match="pass discount_rate"):
        P.markov_member_value(P_, {"silver": 1, "gold": 1})
    with pytest.raises(ValueError, match="rate >= 0"):
        P.markov_member_value(P_, {"silver": 1, "gold": 1}, discount_rate=-0.1)


def hand_ledger() -> pd.DataFrame:
    rows = [(1, 1, "2024-01-05", "earn", 50), (2, 1, "2024-02-01", "redeem", -20), (3, 2, "2024-01-07", "earn", 30),
            (4, 1, "2024-03-01", "earn", 10), (5, 2, "2025-01-07", "expire", -30), (6, 1, "2024-04-01", "tier_change", 0)]
    df = pd.DataFrame(rows, columns=["entry_id", "customer_id", "ts", "entry_type", "points"])
    df["ts"] = pd.to_datetime(df["ts"]).astype("datetime64[ns]")
    df["entry_type"] = pd.Categorical(df["entry_type"], categories=["earn", "redeem", "expire", "tier_change"])
    df["tier"] = pd.Categorical([None] * 5 + ["silver"], categories=["member", "silver", "gold", "platinum"])
    return df


def test_points_balance_and_liability_hand_ledger():
    bal = P.points_balance(hand_ledger()).set_index("customer_id")
    # member 1: +50 -20 +10 = 40; member 2: +30 then expired 30 = 0
    assert bal.loc[1, ["earned", "redeemed", "expired", "balance"]].tolist() == [60, 20, 0, 40]
    assert bal.loc[2, "balance"] == 0 and bal.loc[2, "expired"] == 30
    assert P.points_balance(hand_ledger(), as_of="2024-02-15").set_index("customer_id").loc[1, "balance"] == 30
    # Mature cohort at 2025-02-01: earned before 2024-02-02 = 50 + 30 = 80; expired by then 30 -> 3/8.
    b = P.breakage_rate(hand_ledger(), as_of="2025-02-01")
    assert b["earned_mature"] == 80 and b["expired"] == 30 and b["breakage"] == pytest.approx(0.375)
    liab = P.points_liability(hand_ledger(), as_of="2025-02-01", point_value=2.0)
    assert liab["liability"] == pytest.approx(40 * 2.0 * (1 - 0.375))
    assert P.points_liability(hand_ledger(), breakage=0.1)["liability"] == pytest.approx(40 * 0.9)
    with pytest.raises(ValueError, match="no cohort has reached its expiry"):
        P.breakage_rate(hand_ledger(), as_of="2024-06-01")
    bad = hand_ledger()
    bad.loc[1, "points"] = 20
    with pytest.raises(ValueError, match=r"entries \[2\] have the wrong sign"):
        P.points_balance(bad)


def test_breakage_recovers_planted_redemption(small):
    # Planted (simulate._stage_loyalty): each earn lot is redeemed with chance redeem_share[segment],
    # after an Exponential(120 days) delay, and only if that is within the 365-day expiry; otherwise
    # it expires. So a mature lot is redeemed with q = share * (1 - exp(-365/120)).
    led = small.loyalty_ledger
    est = P.breakage_rate(led, as_of=small.end_ts)
    seg = small.truth["customers"].set_index("customer_id")["segment"].astype(str)
    share = small.truth["loyalty"]["redeem_share"]
    lots = led.loc[(led["entry_type"] == "earn") & (led["ts"] < small.end_ts - pd.Timedelta(days=365))]
    q = lots["customer_id"].map(seg).map(share).to_numpy() * (1 - np.exp(-365 / 120))
    w = lots["points"].to_numpy(dtype=float)
    expected = 1 - (w * q).sum() / w.sum()
    se = np.sqrt((w**2 * q * (1 - q)).sum()) / w.sum()
    assert abs(est["breakage"] - expected) < 3.5 * se


def test_assign_tiers_reproduces_the_ledger(tiny):
    # Planted rule (truth["loyalty"]): tier on the 1st of each month from the 12 months' paid spend
    # before it, thresholds 5,000 / 20,000 / 60,000.
    thresholds = tiny.truth["loyalty"]["tier_thresholds_12m_spend"]
    for month in pd.date_range(tiny.start, tiny.end, freq="MS"):
        a = P.assign_tiers(tiny.orders, month, thresholds, customers=tiny.customers)
        b = P.tier_at(tiny.loyalty_ledger, month, tiny.customers)
        assert (a["tier"].astype(str) == b["tier"].astype(str)).all(), month


def test_tier_migration_and_chain(small):
    mig = P.tier_migration(small.loyalty_ledger, small.customers, "2025-01-01", "2025-12-01")
    assert mig.to_numpy().sum() == len(small.customers)
    shares = P.tier_migration(small.loyalty_ledger, small.customers, "2025-01-01", "2025-12-01", normalize=True)
    np.testing.assert_allclose(shares.dropna().sum(axis=1), 1.0)
    chain = P.tier_chain(small.loyalty_ledger, small.orders)
    np.testing.assert_allclose(chain.transition.sum(axis=1), 1.0)
    assert chain.transition.loc["lapsed", "lapsed"] == 1.0
    # values are markov_member_value of the estimated chain
    absorbing = [s for s in chain.transition.index if s not in set(chain.values["state"])]
    reward = chain.reward.copy()
    reward[absorbing] = 0.0
    # tier_chain's per-period factor (1 + annual rate)^(-months/12) is the rate (1 + annual)^(months/12) - 1
    again = P.markov_member_value(chain.transition, reward, absorbing=absorbing,
                                  discount_rate=1 / chain.discount - 1)
    np.testing.assert_allclose(again["expected_value"], chain.values["expected_value"])
    v = chain.values.set_index("state")["expected_value"]
    # On the shipped shop higher tiers are worth more (they spend more and stay longer).
    assert v["member"] < v["silver"] < v["gold"]
    assert chain.reactivated == int(chain.counts.loc["lapsed", ["member", "silver", "gold", "platinum"]].sum())


def test_tier_chain_counts_only_observable_lapses(tiny):
    # tiny covers 2024 only: no member can have gone 365 days without an order yet
    with pytest.raises(ValueError, match="too short to see a member lapse after 365 days"):
        P.tier_chain(tiny.loyalty_ledger, tiny.orders)
    chain = P.tier_chain(tiny.loyalty_ledger, tiny.orders, lapse_days=180)
    # Transitions counted: one per member (first order before t_k) for each pair of period starts
    # (t_k, t_k+1) whose destination is at least 180 days after the first order of the data.
    first = tiny.orders["order_ts"].min()
    starts = pd.date_range(first.normalize().replace(day=1), tiny.orders["order_ts"].max(),
                           freq=pd.DateOffset(months=3))
    first_order = tiny.orders.groupby("customer_id")["order_ts"].min()
    expected = sum(int((first_order < a).sum()) for a, b in zip(starts[:-1], starts[1:], strict=True)
                   if b - first >= pd.Timedelta(days=180))
    assert chain.counts.to_numpy().sum() == expected > 0
    assert any("left out" in note for note in chain.notes)


def test_loyalty_deferral_uses_ifrs15(tiny):
    d = P.loyalty_deferral(tiny.orders, tiny.loyalty_ledger, expected_redemption=0.5)
    row = d.iloc[0]
    a = P.ifrs15_allocate(row["sales"], row["sales"], row["points_issued"], 1.0, 0.5)
    assert row["points_deferred"] == pytest.approx(a["points_allocated"])
    assert row["goods_revenue"] + row["points_deferred"] == pytest.approx(row["sales"])
    assert d["sales"].sum() == pytest.approx(tiny.orders["amount"].sum())


# ============================================================================= data protection


def test_pseudonymize_rfc4231_vectors():
    # RFC 4231 test case 1 (key 0x0b x 20, "Hi There") and test case 6 (key 0xaa x 131).
    df = pd.DataFrame({"v": ["Hi There", "Test Using Larger Than Block-Size Key - Hash Key First"]})
    t1 = P.pseudonymize(df.iloc[[0]], ["v"], b"\x0b" * 20)["v"].item()
    assert t1 == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    t6 = P.pseudonymize(df.iloc[[1]], ["v"], b"\xaa" * 131)["v"].item()
    assert t6 == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"


def test_pseudonymize_properties(tiny):
    salt = "course-secret-0123456789"
    cust = P.pseudonymize(tiny.customers, ["customer_id", "email"], salt, length=16)
    orders = P.pseudonymize(tiny.orders, ["customer_id"], salt, length=16)
    assert tiny.customers["customer_id"].dtype == "int64"  # input untouched
    assert cust["customer_id"].str.len().eq(16).all() and cust["customer_id"].is_unique
    # joins survive: the same member gets the same token in both tables
    joined = orders.merge(cust[["customer_id", "email"]], on="customer_id", how="left")
    assert joined["email"].notna().all()
    expected = hmac.new(salt.encode(), b"1", hashlib.sha256).hexdigest()[:16]
    assert cust.loc[tiny.customers["customer_id"] == 1, "customer_id"].item() == expected
    other = P.pseudonymize(tiny.customers, ["customer_id"], salt + "x", length=16)
    assert not (other["customer_id"] == cust["customer_id"]).any()
    ref = P.pseudonymize(tiny.customers, ["referred_by"], salt)
    assert ref["referred_by"].isna().sum() == tiny.customers["referred_by"].isna().sum()
    with pytest.raises(ValueError, match="at least 16 bytes"):
        P.pseudonymize(tiny.customers, ["email"], "short")
    with pytest.raises(ValueError, match="not in the table"):
        P.pseudonymize(tiny.customers, ["nope"], salt)
    with pytest.raises(ValueError, match="floats"):
        P.pseudonymize(tiny.orders, ["amount"], salt)


def test_k_anonymity_hand_table():
    df = pd.DataFrame({
        "age_band": ["25-34"] * 4 + ["35-44"] * 3 + ["55+"],
        "gender": ["f", "f", "m", "m", "f", "f", "f", "m"],
        "city": ["Taipei", "Taipei", "Taipei", "Tainan", "Taipei", "Taipei", "Taipei", "Hualien"],
    })
    # classes (age, gender, city): (25-34,f,Taipei) 2, (25-34,m,Taipei) 1, (25-34,m,Tainan) 1,
    # (35-44,f,Taipei) 3, (55+,m,Hualien) 1 -> k = 1, rows at risk for k=2: 3.
    r = P.k_anonymity(df, ["age_band", "gender", "city"], k=2)
    assert r.k == 1 and r.n_classes == 5 and r.rows_at_risk == 3 and not r.satisfied
    assert sorted(r.classes["size"].tolist()) == [1, 1, 1, 2, 3]
    # Generalising (dropping city) merges classes: (25-34,f) 2, (25-34,m) 2, (35-44,f) 3, (55+,m) 1
    r2 = P.k_anonymity(df, ["age_band", "gender"], k=2)
    assert r2.k == 1 and r2.rows_at_risk == 1
    kept, removed = P.suppress_rare(df, ["age_band", "gender"], k=2)
    assert len(kept) + len(removed) == len(df) and len(removed) == 1
    assert P.k_anonymity(kept, ["age_band", "gender"], k=2).satisfied
    with pytest.raises(ValueError, match="not in the table"):
        P.k_anonymity(df, ["zip"])


def test_k_anonymity_on_the_shop(small):
    # City is too fine for export: k = 1 with age band and gender; region is coarser, more rows are safe.
    city = P.k_anonymity(small.customers, ["age_band", "gender", "city"], k=5)
    region = P.k_anonymity(small.customers, ["age_band", "gender", "region"], k=5)
    assert region.rows_at_risk < city.rows_at_risk
    assert city.classes["size"].sum() == len(small.customers)
