"""Tests of crmlab.journey: known answers (textbook values, closed forms, hand-computed
examples, the simulator's planted funnel rates) and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from crmlab import journey as J
from crmlab.data import get_shop, simulate

T0 = pd.Timestamp("2024-03-01 10:00")


def ts(minutes: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(minutes=minutes)


@pytest.fixture(scope="module")
def tiny():
    return simulate("tiny", seed=3)


@pytest.fixture(scope="module")
def small():
    return get_shop("small")


# --------------------------------------------------------------------------------------
# Wilson interval
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        # Newcombe (1998), "Two-sided confidence intervals for the single proportion",
        # Statistics in Medicine 17:857-872, Table I, method 3 (Wilson score, no continuity
        # correction), 95% intervals for the four worked examples.
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_matches_newcombe_table(k, n, low, high):
    lo, hi = J.wilson_interval(k, n, level=0.95)
    assert lo == pytest.approx(low, abs=5e-5)
    assert hi == pytest.approx(high, abs=5e-5)


def test_wilson_endpoints_solve_the_score_equation():
    # Closed form: the Wilson limits are the p with |phat - p| = z sqrt(p (1 - p) / n).
    k = np.array([3, 40, 250, 999])
    n = np.array([10, 100, 400, 1000])
    z = stats.norm.ppf(0.995)
    lo, hi = J.wilson_interval(k, n, level=0.99)
    for p in (lo, hi):
        assert np.allclose(np.abs(k / n - p), z * np.sqrt(p * (1 - p) / n), rtol=1e-10)
    assert np.all(lo < k / n) and np.all(k / n < hi)


def test_wilson_exact_ends_at_zero_and_all_successes():
    # closed form: at k = 0, centre = half exactly, so low = 0; at k = n, high = 1. In floating
    # point centre - half came out as ~3e-17 for some n (an interval missing its own estimate)
    n = np.arange(1, 400)
    lo, _ = J.wilson_interval(np.zeros_like(n), n)
    _, hi = J.wilson_interval(n, n)
    assert np.all(lo == 0.0) and np.all(hi == 1.0)
    assert J.wilson_interval(0, 7)[0] == 0.0 and J.wilson_interval(7, 7)[1] == 1.0


def test_wilson_zero_trials_and_bad_input():
    lo, hi = J.wilson_interval(np.array([0, 1]), np.array([0, 2]))
    assert np.isnan(lo[0]) and np.isnan(hi[0]) and 0 < lo[1] < 0.5 < hi[1] < 1
    with pytest.raises(ValueError, match="successes <= trials"):
        J.wilson_interval(5, 3)
    with pytest.raises(ValueError, match="level"):
        J.wilson_interval(1, 3, level=95)


# --------------------------------------------------------------------------------------
# sessionize
# --------------------------------------------------------------------------------------


def hand_log() -> pd.DataFrame:
    """Customer 1: 10:00, 10:10, 10:45 (35 min idle -> new), 10:50, 11:20 (exactly 30 min
    idle -> same session, the rule is 'more than gap'). Customer 2: 10:05, 11:06 (61 min ->
    new). Expected sessions (sorted by customer, time): 1,1,2,2,2 | 3,4."""
    return pd.DataFrame({
        "customer_id": [1, 1, 1, 1, 1, 2, 2],
        "ts": [ts(0), ts(10), ts(45), ts(50), ts(80), ts(5), ts(66)],
        "event_type": ["page_view"] * 7,
    })


def test_sessionize_hand_written_log():
    out = J.sessionize(hand_log(), gap="30min")
    assert out["session"].tolist() == [1, 1, 2, 2, 2, 3, 4]
    assert out.attrs["n_out_of_order"] == 0
    # a shorter gap splits 10:50 -> 11:20 (30 min > 20 min)
    assert J.sessionize(hand_log(), gap="20min")["session"].tolist() == [1, 1, 2, 2, 3, 4, 5]


def test_sessionize_out_of_order_is_sorted_and_counted_or_raises():
    log = hand_log()
    shuffled = log.iloc[[4, 0, 5, 2, 1, 6, 3]].reset_index(drop=True)
    out = J.sessionize(shuffled)
    assert out["session"].tolist() == [1, 1, 2, 2, 2, 3, 4]
    assert out["ts"].tolist() == log["ts"].tolist()
    # in the shuffled order customer 1's minutes go 80, 0, 45, 10, 50: two steps back in
    # time (0 after 80, 10 after 45); customer 2 goes 5, 66: none.
    assert out.attrs["n_out_of_order"] == 2
    with pytest.raises(ValueError, match="earlier than the event before"):
        J.sessionize(shuffled, unsorted="raise")


def test_sessionize_bad_input():
    log = hand_log()
    log.loc[2, "ts"] = pd.NaT
    with pytest.raises(ValueError, match=r"events: column 'ts' has 1 missing timestamps"):
        J.sessionize(log)
    with pytest.raises(ValueError, match="not datetime"):
        J.sessionize(hand_log().assign(ts=lambda d: d["ts"].astype(str)))
    with pytest.raises(ValueError, match="positive duration"):
        J.sessionize(hand_log(), gap="-5min")
    with pytest.raises(ValueError, match=r"column\(s\) \['customer_id'\] not found"):
        J.sessionize(hand_log().drop(columns="customer_id"))


def test_sessionize_on_the_shop_never_splits_a_session(tiny):
    # The simulator spaces events within a session by seconds to minutes, so a 30-minute
    # gap can merge two of a customer's sessions but never cut one.
    ev = tiny.events
    within = ev.groupby("session_id")["ts"].diff().max()
    assert within < pd.Timedelta("30min")
    out = J.sessionize(ev, "30min")
    assert (out.groupby("session_id")["session"].nunique() == 1).all()
    assert out["session"].max() <= ev["session_id"].nunique()
    # and consecutive derived sessions of a customer are more than 30 minutes apart
    first = out.groupby("session").agg(c=("customer_id", "first"), a=("ts", "min"), b=("ts", "max"))
    same = first["c"].to_numpy()[1:] == first["c"].to_numpy()[:-1]
    idle = first["a"].to_numpy()[1:] - first["b"].to_numpy()[:-1]
    assert (idle[same] > np.timedelta64(30, "m")).all()


# --------------------------------------------------------------------------------------
# session_steps and funnel
# --------------------------------------------------------------------------------------


def hand_events() -> pd.DataFrame:
    rows = [
        (1, 1, 0, "page_view"), (1, 1, 1, "product_view"), (1, 1, 2, "add_to_cart"),
        (1, 1, 3, "begin_checkout"), (1, 1, 4, "purchase"),             # purchase
        (2, 1, 60, "page_view"),                                         # visit only
        (3, 2, 0, "page_view"), (3, 2, 1, "search"), (3, 2, 2, "product_view"),  # product_view
        (4, 2, 90, "add_to_cart"), (4, 2, 91, "faq_view"),               # cart without a view
    ]
    return pd.DataFrame(rows, columns=["session_id", "customer_id", "m", "event_type"]).assign(
        ts=lambda d: d["m"].map(ts)).drop(columns="m")


def test_session_steps_hand_events():
    out = J.session_steps(hand_events())
    assert out["funnel_depth"].astype(str).tolist() == ["purchase", "visit", "product_view", "add_to_cart"]
    assert out["n_events"].tolist() == [5, 1, 3, 2]
    assert out["product_view"].tolist() == [True, False, True, False]
    assert out.attrs["n_skipped_steps"] == 1  # session 4 reached the cart without a view
    strict = J.session_steps(hand_events(), strict=True)
    assert strict["funnel_depth"].astype(str).tolist() == ["purchase", "visit", "product_view", "visit"]


def test_session_steps_unknown_event_type_and_nat():
    ev = hand_events()
    ev.loc[1, "event_type"] = "wishlist_add"
    with pytest.raises(ValueError, match=r"unknown event types \['wishlist_add'\]"):
        J.session_steps(ev)
    assert len(J.session_steps(ev, known_types=None)) == 4
    ev = hand_events()
    ev.loc[0, "ts"] = pd.NaT
    with pytest.raises(ValueError, match="missing timestamps"):
        J.session_steps(ev)


def test_session_steps_reproduce_the_shops_funnel_depth(tiny):
    steps = J.session_steps(tiny.events)
    merged = steps.merge(tiny.sessions[["session_id", "funnel_depth"]], on="session_id",
                         suffixes=("", "_shop"))
    assert len(merged) == len(tiny.sessions)
    assert (merged["funnel_depth"].astype(str) == merged["funnel_depth_shop"].astype(str)).all()


def test_funnel_hand_counts():
    # 10 sessions: depths visit x3, product_view x3, add_to_cart x1, begin_checkout x1,
    # purchase x2 -> reached: visit 10, view 7, cart 4, checkout 3, purchase 2.
    depth = ["visit"] * 3 + ["product_view"] * 3 + ["add_to_cart", "begin_checkout"] + ["purchase"] * 2
    sessions = pd.DataFrame({"funnel_depth": depth, "device": ["a"] * 5 + ["b"] * 5})
    f = J.funnel(sessions)
    assert f["sessions"].tolist() == [10, 7, 4, 3, 2]
    assert f["step_rate"].iloc[1:].tolist() == pytest.approx([0.7, 4 / 7, 0.75, 2 / 3])
    assert f["overall_rate"].tolist() == pytest.approx([1, 0.7, 0.4, 0.3, 0.2])
    assert f["dropped"].tolist() == [0, 3, 3, 1, 1]
    lo, hi = J.wilson_interval(4, 7)
    assert f.loc[2, "ci_low"] == pytest.approx(lo) and f.loc[2, "ci_high"] == pytest.approx(hi)
    assert np.isnan(f.loc[0, "step_rate"])
    by = J.funnel(sessions, by="device")
    # device a: visit x3, view x2 -> 5, 2, 0, 0, 0; the checkout rate has 0 trials -> NaN
    a = by.loc[by["device"] == "a"]
    assert a["sessions"].tolist() == [5, 2, 0, 0, 0]
    assert np.isnan(a["step_rate"].iloc[3]) and np.isnan(a["ci_low"].iloc[3])
    with pytest.raises(ValueError, match="not funnel steps"):
        J.funnel(sessions.assign(funnel_depth=["basket"] * 10))


def test_funnel_recovers_planted_rates_on_the_small_shop(small):
    """Planted truth: truth['funnel_rates'] (6 sources x 4 steps, simulate.FUNNEL_RATES).

    Multiple comparisons rule: 24 intervals are tested. With 99% Wilson intervals the number
    of misses is ~Binomial(24, 0.01) if the estimator is unbiased: P(>= 3 misses) = 0.0016,
    so we allow at most 2. Each planted rate must also lie inside the Bonferroni-adjusted
    interval at level 1 - 0.01/24 (family-wise 99%). Never-buyers' browsing sessions (a few
    percent, all non-converting) bias the measured rates slightly down; the rule has room.
    """
    planted = small.truth["funnel_rates"]
    f = J.funnel(small.sessions, by="traffic_source", level=0.99)
    fam = J.funnel(small.sessions, by="traffic_source", level=1 - 0.01 / 24)
    misses = 0
    for src in planted.index:
        for step in planted.columns:
            row = f.loc[(f["traffic_source"] == src) & (f["step"] == step)].iloc[0]
            frow = fam.loc[(fam["traffic_source"] == src) & (fam["step"] == step)].iloc[0]
            truth = planted.loc[src, step]
            misses += not (row["ci_low"] <= truth <= row["ci_high"])
            assert frow["ci_low"] <= truth <= frow["ci_high"], (src, step, frow["step_rate"], truth)
    assert misses <= 2
    # ... and the data have the power to tell sources apart: social's product-view rate
    # interval (planted 0.62) excludes email's planted 0.85.
    social = f.loc[(f["traffic_source"] == "social") & (f["step"] == "product_view")].iloc[0]
    assert social["ci_high"] < planted.loc["email", "product_view"]


# --------------------------------------------------------------------------------------
# journeys, paths, time to convert
# --------------------------------------------------------------------------------------


def hand_sessions() -> pd.DataFrame:
    """Customer 1: social, email (buys, order 11), direct (buys, order 12), social (last
    touch 2 days before the end -> open). Customer 2: paid, paid (60 days before the end,
    never buys -> null). Customer 3: direct (buys, order 13)."""
    d = pd.Timestamp("2024-06-01")
    rows = [
        (1, 1, d, "social", False), (2, 1, d + pd.Timedelta(days=1), "email", True),
        (3, 1, d + pd.Timedelta(days=5), "direct", True),
        (4, 1, d + pd.Timedelta(days=88), "social", False),
        (5, 2, d, "paid_search", False), (6, 2, d + pd.Timedelta(days=30), "paid_search", False),
        (7, 3, d + pd.Timedelta(days=10), "direct", True),
    ]
    out = pd.DataFrame(rows, columns=["session_id", "customer_id", "start_ts", "traffic_source",
                                      "converted"])
    out["end_ts"] = out["start_ts"] + pd.Timedelta(minutes=10)
    return out.iloc[::-1].reset_index(drop=True)  # reversed on purpose: journeys sorts


def hand_orders() -> pd.DataFrame:
    return pd.DataFrame({"order_id": [11, 12, 13, 14], "session_id": pd.array([2, 3, 7, None], "Int64"),
                         "amount": [100.0, 50.0, 80.0, 999.0]})


def test_journeys_hand_sessions():
    end = pd.Timestamp("2024-08-30")  # 2024-06-01 + 90 days
    jr = J.journeys(hand_sessions(), hand_orders(), end=end)
    assert jr["path"].tolist() == ["social > email", "direct", "social", "paid_search > paid_search", "direct"]
    assert jr["outcome"].astype(str).tolist() == ["conversion", "conversion", "open", "null", "conversion"]
    assert jr["journey"].tolist() == [1, 2, 3, 1, 1]
    assert jr["n_touches"].tolist() == [2, 1, 1, 2, 1]
    assert jr["order_id"].fillna(-1).tolist() == [11, 12, -1, -1, 13]
    assert jr["value"].tolist() == [100.0, 50.0, 0.0, 0.0, 80.0]
    assert jr["first_touch"].tolist() == ["social", "direct", "social", "paid_search", "direct"]
    # time to convert: journey 1 took 1 day + 10 minutes; the others 10 minutes
    ttc = J.time_to_convert(jr)
    assert ttc["conversions"].iloc[0] == 3
    assert ttc["median_days"].iloc[0] == pytest.approx(10 / 1440)
    assert ttc["mean_days"].iloc[0] == pytest.approx((1 + 3 * 10 / 1440) / 3)
    assert ttc["share_same_session"].iloc[0] == pytest.approx(2 / 3)
    # a shorter open window turns the trailing social touch (2 days before the end) into null
    jr2 = J.journeys(hand_sessions(), end=end, open_window="1D")
    assert jr2["outcome"].astype(str).tolist()[2] == "null"
    assert "value" not in jr2.columns


def test_journeys_bad_input():
    s = hand_sessions()
    with pytest.raises(ValueError, match="must be boolean"):
        J.journeys(s.assign(converted=s["converted"].astype("int64")))
    bad = s.copy()
    bad.loc[0, "traffic_source"] = "a > b"
    with pytest.raises(ValueError, match="path separator"):
        J.journeys(bad)
    bad = s.copy()
    bad.loc[0, "start_ts"] = pd.NaT
    with pytest.raises(ValueError, match="missing timestamps"):
        J.journeys(bad)


def test_top_paths_and_flows():
    jr = J.journeys(hand_sessions(), hand_orders(), end="2024-08-30")
    tp = J.top_paths(jr, n=3)
    # sorted by journeys, then conversions (descending), then path
    assert tp["path"].tolist() == ["direct", "social > email", "paid_search > paid_search"]
    assert tp["journeys"].tolist() == [2, 1, 1]
    assert tp["conversions"].tolist() == [2, 1, 0]
    assert tp["share_of_conversions"].iloc[0] == pytest.approx(2 / 3)
    assert tp["value"].iloc[0] == pytest.approx(130.0)
    flows = J.path_flows(jr)
    assert flows.groupby("from_stage")["journeys"].sum().tolist() == [len(jr), len(jr)]
    row = flows.loc[(flows["from_stage"] == "last_touch") & (flows["source"] == "direct")]
    assert row["target"].tolist() == ["conversion"] and row["journeys"].tolist() == [2]


# --------------------------------------------------------------------------------------
# attribution
# --------------------------------------------------------------------------------------


def paths(*items: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame(items, columns=["path", "outcome"])


def test_rule_based_attribution_hand_paths():
    jr = paths(("A > B", "conversion"), ("A", "null"), ("B", "conversion"),
               ("C > A > B > B", "conversion"))
    first = J.touch_attribution(jr, "first_touch").set_index("channel")["conversions"]
    last = J.touch_attribution(jr, "last_touch").set_index("channel")["conversions"]
    lin = J.touch_attribution(jr, "linear").set_index("channel")["conversions"]
    assert first.to_dict() == {"A": 1.0, "B": 1.0, "C": 1.0}
    assert last.to_dict() == {"A": 0.0, "B": 3.0, "C": 0.0}  # every touched channel is listed
    # linear: A > B -> 1/2 each; B -> 1; C > A > B > B -> 1/4 each touch (B twice)
    assert lin.to_dict() == pytest.approx({"A": 0.75, "B": 2.0, "C": 0.25})


def test_markov_removal_effects_by_hand():
    """Paths: A > B -> conv, A -> null, B -> conv.
    Transitions: start->A 2, start->B 1; A->B 1, A->null 1; B->conv 2.
    P(conv) = P(s->A) P(A->B) P(B->conv) + P(s->B) P(B->conv) = 2/3 * 1/2 * 1 + 1/3 * 1 = 2/3.
    Remove A (start->A goes to null): P = 1/3 * 1 = 1/3 -> RE_A = 1 - (1/3)/(2/3) = 1/2.
    Remove B: nothing reaches conversion, P = 0 -> RE_B = 1.
    Shares: A 0.5/1.5 = 1/3, B 2/3; of 2 conversions: A 2/3, B 4/3."""
    jr = paths(("A > B", "conversion"), ("A", "null"), ("B", "conversion"))
    m = J.MarkovAttribution().fit(jr)
    assert m.conversion_probability_ == pytest.approx(2 / 3)
    assert m.removal_effects_.to_dict() == pytest.approx({"A": 0.5, "B": 1.0})
    att = m.attribution_.set_index("channel")
    assert att["conversions"].to_dict() == pytest.approx({"A": 2 / 3, "B": 4 / 3})
    tm = m.transition_matrix_
    assert tm.loc["(start)", "A"] == pytest.approx(2 / 3) and tm.loc["A", "(null)"] == pytest.approx(0.5)
    assert np.allclose(tm.sum(axis=1), 1.0)
    assert m.transition_counts_.loc["B", "(conversion)"] == 2


def test_markov_with_a_cycle_by_hand():
    """Paths: A > B > A -> conv, B -> null, A > B -> null.
    Transitions: start->A 2, start->B 1; A->B 2, A->conv 1; B->A 1, B->null 2.
    a = P(conv | A) = 1/3 + 2/3 b, b = P(conv | B) = 1/3 a  =>  a = 3/7, b = 1/7.
    P = 2/3 * 3/7 + 1/3 * 1/7 = 7/21 = 1/3.
    Remove A: every route to conversion passes A, P = 0 -> RE_A = 1.
    Remove B: a' = 1/3 (A->B now ends), P = 2/3 * 1/3 = 2/9 -> RE_B = 1 - (2/9)/(1/3) = 1/3.
    Shares: A 1/(4/3) = 3/4, B 1/4 of the single conversion."""
    jr = paths(("A > B > A", "conversion"), ("B", "null"), ("A > B", "null"))
    m = J.MarkovAttribution().fit(jr)
    assert m.conversion_probability_ == pytest.approx(1 / 3)
    assert m.removal_effects_.to_dict() == pytest.approx({"A": 1.0, "B": 1 / 3})
    assert m.attribution_.set_index("channel")["share"].to_dict() == pytest.approx({"A": 0.75, "B": 0.25})


def test_markov_repeats_do_not_change_removal_effects():
    # A self-loop only delays absorption, so the removal effects are the same with or
    # without collapsing 'A > A'; the transition counts differ.
    jr = paths(("A > A > B", "conversion"), ("A", "null"), ("B > B", "conversion"))
    raw = J.MarkovAttribution().fit(jr)
    col = J.MarkovAttribution(collapse_repeats=True).fit(jr)
    assert raw.removal_effects_.to_dict() == pytest.approx(col.removal_effects_.to_dict())
    assert raw.transition_counts_.loc["A", "A"] == 1 and col.transition_counts_.loc["A", "A"] == 0


def test_markov_chain_reproduces_the_observed_conversion_share():
    """Closed form: with visits v_i = transitions out of state i = transitions into it, the
    absorption probabilities h satisfy v_i h_i = sum_j n_ij h_j. Summing over transient
    states, every channel's inflow cancels its outflow, leaving N h_start = C (N journeys, C
    conversions): P(conversion | start) = C / N for any set of paths."""
    rng = np.random.default_rng(7)
    chans = np.array(list("ABCD"))
    rows = []
    for _ in range(300):
        k = rng.integers(1, 6)
        touches = chans[rng.integers(0, 4, k)]
        rows.append((" > ".join(touches), "conversion" if rng.random() < 0.3 + 0.1 * k else "null"))
    jr = paths(*rows)
    m = J.MarkovAttribution().fit(jr)
    assert m.conversion_probability_ == pytest.approx((jr["outcome"] == "conversion").mean(), rel=1e-12)


def test_markov_open_paths_and_bad_input():
    base = [("A > B", "conversion"), ("A", "null"), ("B", "conversion")]
    with_open = paths(*base, ("A", "open"))
    as_null = paths(*base, ("A", "null"))
    # default: an open path (no terminal state yet) counts as null
    assert (J.MarkovAttribution().fit(with_open).removal_effects_.to_dict()
            == pytest.approx(J.MarkovAttribution().fit(as_null).removal_effects_.to_dict()))
    dropped = J.MarkovAttribution(open_paths="drop").fit(with_open)
    assert dropped.n_dropped_ == 1
    assert dropped.removal_effects_.to_dict() == pytest.approx({"A": 0.5, "B": 1.0})
    with pytest.raises(ValueError, match="still open"):
        J.MarkovAttribution(open_paths="raise").fit(with_open)
    with pytest.raises(ValueError, match="no converting journeys"):
        J.MarkovAttribution().fit(paths(("A", "null")))
    with pytest.raises(ValueError, match="empty 'path'"):
        J.MarkovAttribution().fit(paths(("", "conversion")))
    with pytest.raises(ValueError, match="column 'outcome' has values"):
        J.MarkovAttribution().fit(paths(("A", "bought")))
    with pytest.raises(ValueError, match=r"column\(s\) \['outcome'\]"):
        J.MarkovAttribution().fit(pd.DataFrame({"path": ["A"]}))



def test_markov_follows_the_estimator_shape():
    # crmlab.base.Estimator (issue 30): parameters round-trip through get_params/clone, the
    # table before a fit is an error naming the call, a failed fit leaves the model unfitted
    from sklearn.base import clone

    from crmlab.base import NotFittedError

    m = J.MarkovAttribution(open_paths="drop", collapse_repeats=True)
    assert clone(m).get_params() == {"open_paths": "drop", "collapse_repeats": True, "path_col": "path",
                                     "value_col": "value", "sep": " > "}
    with pytest.raises(NotFittedError, match=r"call fit\(journeys\)"):
        m.transform()
    with pytest.raises(ValueError, match="no converting journeys"):
        m.fit(paths(("A", "null")))
    assert not hasattr(m, "n_dropped_")
    # the hand example of test_markov_removal_effects_by_hand through fit_transform: RE_A = 1/2, RE_B = 1
    table = m.fit_transform(paths(("A > B", "conversion"), ("A", "null"), ("B", "conversion")))
    assert table.set_index("channel")["removal_effect"].to_dict() == pytest.approx({"A": 0.5, "B": 1.0})

def test_attribution_table_columns_sum_to_conversions(tiny):
    jr = J.journeys(tiny.sessions, tiny.orders)
    table = J.attribution_table(jr)
    n_conv = int((jr["outcome"] == "conversion").sum())
    assert list(table.columns) == ["first_touch", "last_touch", "linear", "markov"]
    assert np.allclose(table.sum(), n_conv)
    # every converting journey maps to one online order
    assert n_conv == int(tiny.orders["session_id"].notna().sum())


# --------------------------------------------------------------------------------------
# cohorts
# --------------------------------------------------------------------------------------


def test_cohort_table_tiny_hand_table():
    """Cohorts: Jan = customers 1, 2; Feb = customer 3. Orders: c1 Jan, Feb, Mar;
    c2 Jan, Mar (twice in March counts once); c3 Mar. Data end: March.
    Jan cohort (2): period 0 -> 2/2, 1 -> 1/2, 2 -> 2/2. Feb cohort (1): 0 -> 0, 1 -> 1.
    Feb period 2 (April) is not observed -> NaN in the matrix."""
    customers = pd.DataFrame({"customer_id": [1, 2, 3],
                              "signup_ts": pd.to_datetime(["2024-01-05", "2024-01-31", "2024-02-10"])})
    orders = pd.DataFrame({"customer_id": [1, 1, 1, 2, 2, 2, 3],
                           "order_ts": pd.to_datetime(["2024-01-06", "2024-02-01", "2024-03-31",
                                                       "2024-01-31", "2024-03-01", "2024-03-02",
                                                       "2024-03-15"])})
    long = J.cohort_table(customers, orders)
    assert long["cohort_size"].tolist() == [2, 2, 2, 1, 1]
    assert long["active"].tolist() == [2, 1, 2, 0, 1]
    wide = J.retention_matrix(long)
    assert list(wide.index) == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")]
    assert wide.loc["2024-01-01"].tolist() == [1.0, 0.5, 1.0]
    assert wide.loc["2024-02-01", 0] == 0.0 and wide.loc["2024-02-01", 1] == 1.0
    assert np.isnan(wide.loc["2024-02-01", 2])
    # first-purchase cohorts: c3's first order is in March -> its own March cohort
    first = J.retention_matrix(J.cohort_table(customers, orders, signup_col=None))
    assert first.loc["2024-03-01", 0] == 1.0 and first.loc["2024-01-01"].tolist() == [1.0, 0.5, 1.0]


def test_cohort_table_bad_input():
    customers = pd.DataFrame({"customer_id": [1], "signup_ts": pd.to_datetime(["2024-02-05"])})
    with pytest.raises(ValueError, match="before the customer's signup month"):
        J.cohort_table(customers, pd.DataFrame({"customer_id": [1],
                                                "order_ts": pd.to_datetime(["2024-01-30"])}))
    with pytest.raises(ValueError, match="not in the customers table"):
        J.cohort_table(customers, pd.DataFrame({"customer_id": [9],
                                                "order_ts": pd.to_datetime(["2024-03-01"])}))


def test_cohort_matrix_on_the_shop_is_consistent(tiny):
    long = J.cohort_table(tiny.customers, tiny.orders)
    # period-0 actives of each cohort = members who ordered in their signup month (plain pandas)
    o = tiny.orders.merge(tiny.customers[["customer_id", "signup_ts"]], on="customer_id")
    same = o.loc[o["order_ts"].dt.to_period("M") == o["signup_ts"].dt.to_period("M")]
    expect = same.groupby(same["signup_ts"].dt.to_period("M").dt.start_time)["customer_id"].nunique()
    p0 = long.loc[long["period"] == 0].set_index("cohort")["active"]
    assert p0[p0 > 0].to_dict() == expect.to_dict()
    assert long["cohort_size"].groupby(long["cohort"]).first().sum() == len(tiny.customers)


# --------------------------------------------------------------------------------------
# hot products
# --------------------------------------------------------------------------------------


def test_hot_products_hand_example():
    """One-week window (2024-05-01, 2024-05-08]. Customer 10's first order (05-02) has 3 x
    product 1; customer 11 (first order 04-20, outside the window) buys 1 x product 1 on
    05-05 and 2 x product 2 on 05-08; product 3 sold only on 04-01 (outside). Events in the
    window: product 1 viewed 3 times; product 3 viewed 3 times and favourited once.
    weekly_sales 4, 2, 0: mean 2, population sd sqrt(8/3) -> z = sqrt(1.5), 0, -sqrt(1.5).
    first_buyer_share 1/2, 0, 0: mean 1/6, sd sqrt(2)/6 -> z = sqrt(2), -sqrt(2)/2, -sqrt(2)/2.
    favorites 0, 0, 1 -> z = -sqrt(2)/2, -sqrt(2)/2, sqrt(2);
    views 3, 0, 3 -> z = sqrt(2)/2, -sqrt(2), sqrt(2)/2.
    first_visitor_conversion 1/2, 0, 0: the same z as first_buyer_share.
    Score of product 1 (weights 0.4 sales, 0.2 first-visitor conversion, 0.2, 0.2):
    0.4 sqrt(1.5) + 0.2 (sqrt(2) - sqrt(2)/2 + sqrt(2)/2) = 0.4 sqrt(1.5) + 0.2 sqrt(2)."""
    orders = pd.DataFrame({
        "order_id": [1, 2, 3, 4, 5],
        "customer_id": [10, 11, 11, 12, 11],
        "order_ts": pd.to_datetime(["2024-05-02", "2024-04-20", "2024-05-05", "2024-04-01",
                                    "2024-05-08"]),
    })
    items = pd.DataFrame({"order_id": [1, 2, 3, 4, 5], "product_id": [1, 3, 1, 3, 2],
                          "quantity": [3, 1, 1, 5, 2]})
    events = pd.DataFrame({"ts": pd.to_datetime(["2024-05-04"] * 7 + ["2024-04-01"]),
                           "event_type": ["product_view"] * 3 + ["favorite"] + ["product_view"] * 4,
                           "product_id": pd.array([1, 1, 1, 3, 3, 3, 3, 2], "Int64"),
                           "customer_id": [10, 10, 11, 12, 12, 12, 13, 11]})
    products = pd.DataFrame({"product_id": [1, 2, 3], "name": ["a", "b", "c"]})
    hp = J.hot_products(orders, items, events, products, end="2024-05-08", weeks=1)
    hp = hp.set_index("product_id").sort_index()
    assert hp["weekly_sales"].tolist() == [4.0, 2.0, 0.0]
    assert hp["first_buyer_share"].tolist() == [0.5, 0.0, 0.0]
    # First-time viewers in the window: product 1 by 10 (who bought it on 05-02, before the
    # view: not a conversion) and 11 (bought it on 05-05: a conversion) -> 1/2; product 3 by
    # 12 and 13, neither buys it afterwards -> 0; product 2's only view is before the window.
    assert hp["first_visitor_conversion"].tolist() == [0.5, 0.0, 0.0]
    assert hp["favorites"].tolist() == [0, 0, 1] and hp["views"].tolist() == [3, 0, 3]
    s2 = np.sqrt(2)
    assert hp["z_weekly_sales"].tolist() == pytest.approx([np.sqrt(1.5), 0, -np.sqrt(1.5)])
    assert hp["z_first_buyer_share"].tolist() == pytest.approx([s2, -s2 / 2, -s2 / 2])
    assert hp["z_first_visitor_conversion"].tolist() == pytest.approx([s2, -s2 / 2, -s2 / 2])
    assert hp["z_views"].tolist() == pytest.approx([s2 / 2, -s2, s2 / 2])
    assert hp.loc[1, "score"] == pytest.approx(0.4 * np.sqrt(1.5) + 0.2 * s2)
    assert hp.loc[1, "rank"] == 1 and hp["name"].tolist() == ["a", "b", "c"]
    only_views = J.hot_products(orders, items, events, products, end="2024-05-08", weeks=1,
                                weights={"views": 1})
    assert only_views["score"].tolist() == pytest.approx(only_views["z_views"].tolist())
    with pytest.raises(ValueError, match="unknown weight"):
        J.hot_products(orders, items, events, weights={"likes": 1})
    with pytest.raises(ValueError, match="weeks"):
        J.hot_products(orders, items, events, weeks=0)


def test_hot_products_signals_agree_on_the_shop(small):
    # Views and sales are both driven by the same planted popularity x taste choice model,
    # so across products they are strongly rank-correlated.
    hp = J.hot_products(small.orders, small.order_items, small.events, small.products, weeks=8)
    rho = stats.spearmanr(hp["views"], hp["weekly_sales"]).statistic
    assert rho > 0.6
    assert len(hp) == len(small.products)


# --------------------------------------------------------------------------------------
# order value decomposition
# --------------------------------------------------------------------------------------


def test_order_value_decomposition_hand_example():
    # 4 visitors; 2 buyers placing 3 online orders with 2 + 1 + 3 items for 100 + 50 + 150;
    # a store order (no session) is left out and counted.
    sessions = pd.DataFrame({"customer_id": [1, 1, 2, 3, 4],
                             "start_ts": pd.to_datetime(["2024-01-01"] * 5)})
    orders = pd.DataFrame({"customer_id": [1, 1, 2, 5], "order_ts": pd.to_datetime(["2024-01-02"] * 4),
                           "session_id": pd.array([1, 2, 3, None], "Int64"),
                           "n_items": [2, 1, 3, 9], "amount": [100.0, 50.0, 150.0, 900.0]})
    ov = J.order_value_decomposition(sessions, orders).iloc[0]
    assert (ov["visitors"], ov["buyers"], ov["orders"], ov["items"]) == (4, 2, 3, 6)
    assert ov["conversion_rate"] == 0.5 and ov["orders_per_buyer"] == 1.5
    assert ov["items_per_order"] == 2 and ov["unit_price"] == 50 and ov["aov"] == 100
    assert ov["check"] == pytest.approx(ov["revenue"]) and ov["revenue"] == 300
    assert J.order_value_decomposition(sessions, orders).attrs["n_offline_orders"] == 1


def test_decompositions_multiply_to_revenue_on_the_shop(small):
    ov = J.order_value_decomposition(small.sessions, small.orders, freq="MS")
    assert np.allclose(ov["check"], ov["revenue"], rtol=1e-9)
    assert np.allclose(ov["aov"], ov["items_per_order"] * ov["unit_price"], rtol=1e-9)
    online = small.orders.loc[small.orders["session_id"].notna(), "amount"].sum()
    assert ov["revenue"].sum() == pytest.approx(online)
    td = J.traffic_decomposition(small.sessions, small.orders)
    assert td["check"].iloc[0] == pytest.approx(td["revenue"].iloc[0], rel=1e-9)
    assert td["traffic"].iloc[0] == len(small.sessions)
    # change between two months: contributions add up to the log revenue ratio
    a, b = ov.iloc[12], ov.iloc[23]
    ch = J.decompose_change(a, b)
    assert ch["log_contribution"].sum() == pytest.approx(np.log(b["revenue"] / a["revenue"]))
    assert ch["share_of_change"].sum() == pytest.approx(1.0)
    empty = b.copy()
    empty["visitors"] = 0
    with pytest.raises(ValueError, match="must be positive"):
        J.decompose_change(a, empty)
