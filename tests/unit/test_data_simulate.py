"""The synthetic shop: determinism, internal consistency and planted truth recovered by simple
estimators. Known answers come from the simulator's planted parameters (shop.truth) and the
closed forms of the processes it plants (cited per test)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlab.data import get_shop, load_shop, simulate, validate
from crmlab.data.schema import TABLE_NAMES


@pytest.fixture(scope="module")
def small():
    return load_shop("small")


@pytest.fixture(scope="module")
def organic():
    """A shop with campaigns switched off: the purchase process is pure BG/NBD."""
    return simulate(4000, seed=7, campaign_uplift_scale=0.0)


def test_every_table_is_built_and_valid(small):
    assert list(small.tables) == list(TABLE_NAMES)
    validate(small)  # keys, dtypes, ranges, foreign keys, cross-table rules


def test_same_seed_same_shop_different_seed_different_shop():
    a, b, c = simulate("tiny", seed=5), simulate("tiny", seed=5), simulate("tiny", seed=6)
    for name in TABLE_NAMES:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name], obj=name)
    assert not a.orders["amount"].equals(c.orders["amount"])


def test_committed_small_shop_equals_a_fresh_simulation(small):
    fresh = simulate("small", seed=42)
    for name in TABLE_NAMES:
        pd.testing.assert_frame_equal(small.tables[name], fresh.tables[name], obj=name)
    pd.testing.assert_frame_equal(small.truth["customers"], fresh.truth["customers"])


def test_get_shop_reads_committed_files_or_simulates():
    assert get_shop("small").config["n_customers"] == 2000
    tiny = get_shop("tiny", seed=3)
    assert len(tiny.customers) == 300
    assert len(get_shop(150, seed=1).customers) == 150
    with pytest.raises(ValueError, match="neither a size"):
        get_shop("no-such-size")


def test_order_amounts_equal_their_lines_and_lines_price_history(small):
    lines = small.order_items
    sums = lines.groupby("order_id")["line_amount"].sum()
    np.testing.assert_allclose(small.orders.set_index("order_id")["amount"], sums, atol=0.02)
    # paid list price is that day's price_history price (coupon comes on top)
    day = small.orders.set_index("order_id").loc[lines["order_id"], "order_ts"].dt.normalize().to_numpy()
    ph = small.price_history.set_index(["date", "product_id"])["price"]
    looked_up = ph.loc[list(zip(day, lines["product_id"], strict=True))].to_numpy()
    np.testing.assert_allclose(lines["list_price"].to_numpy(), looked_up)
    # price_history.units = sum of order line quantities per product-day
    units = lines.assign(date=day).groupby(["date", "product_id"])["quantity"].sum()
    hist = small.price_history.set_index(["date", "product_id"])["units"]
    np.testing.assert_array_equal(hist.loc[units.index].to_numpy(), units.to_numpy())
    assert hist.sum() == lines["quantity"].sum()
    assert (small.price_history["stock"] >= 0).all()


def test_every_online_order_has_one_converting_session(small):
    online = small.orders.loc[small.orders["channel"] != "store"]
    assert online["session_id"].notna().all()
    assert small.orders.loc[small.orders["channel"] == "store", "session_id"].isna().all()
    conv = small.sessions.loc[small.sessions["converted"], "session_id"]
    assert set(conv) == set(online["session_id"].astype("int64"))
    ev = small.events
    assert ev.groupby("session_id").size().sum() == small.sessions["n_events"].sum()
    assert ev.groupby("session_id")["ts"].apply(lambda s: s.is_monotonic_increasing).all()
    purchases = ev.loc[ev["event_type"] == "purchase"]
    assert purchases["order_id"].notna().all() and len(purchases) == len(online)


def test_funnel_step_rates_match_planted_rates_by_source(small):
    # Planted: truth["funnel_rates"]; each session passes each step independently with that rate.
    planted = small.truth["funnel_rates"]
    depth = small.sessions["funnel_depth"].cat.codes.to_numpy()
    src = small.sessions["traffic_source"].astype(str).to_numpy()
    z_scores = []
    for source in planted.index:
        d = depth[src == source]
        for k, step in enumerate(planted.columns):
            at, passed = (d >= k).sum(), (d >= k + 1).sum()
            rate = planted.loc[source, step]
            z_scores.append((passed / at - rate) / np.sqrt(rate * (1 - rate) / at))
    assert np.max(np.abs(z_scores)) < 4.0, z_scores


def test_repeat_purchase_share_matches_bgnbd_closed_form(organic):
    # BG/NBD (Fader, Hardie & Lee 2005): no death before the first repeat purchase, so
    # P(no repeat within t days) = E[exp(-lam t)] = (alpha / (alpha + t))^r.
    t = 365.0
    truth = organic.truth["bgnbd"]
    expected = 1 - (truth["alpha_day"] / (truth["alpha_day"] + t)) ** truth["r"]
    o = organic.orders.sort_values("order_ts")
    first = o.groupby("customer_id")["order_ts"].min()
    eligible = first[first <= organic.end_ts - pd.Timedelta(days=t)]
    o = o.loc[o["customer_id"].isin(eligible.index)]
    gap = o["order_ts"] - o["customer_id"].map(first)
    repeat = (gap > pd.Timedelta(0)) & (gap <= pd.Timedelta(days=t))
    share = repeat.groupby(o["customer_id"]).any().mean()
    se = np.sqrt(expected * (1 - expected) / len(eligible))
    # operational time runs faster in peaks: allow 4 SE plus 0.02 for the calendar warp
    assert abs(share - expected) < 4 * se + 0.02, (share, expected)


def test_truth_alive_and_future_purchases_are_consistent(small):
    cust = small.truth["customers"]
    assert (cust.loc[cust["future_purchases"] > 0, "alive_at_end"]).all()
    assert not cust.loc[~cust["is_buyer"], "alive_at_end"].any()
    buyers = set(small.orders["customer_id"])
    assert buyers <= set(cust.loc[cust["is_buyer"], "customer_id"])


def test_mean_basket_budget_matches_gamma_gamma(organic):
    # Gamma-Gamma (Fader & Hardie): E[z] = E[p / nu] = p * gamma / (q - 1) per order.
    # Paid amounts = budget * realised ratio (recorded by the simulator), so the mean paid
    # amount divided by that ratio estimates E[z].
    gg = organic.truth["gamma_gamma"]
    expected = gg["p"] * gg["gamma"] / (gg["q"] - 1)
    budget_mean = organic.orders["amount"].mean() / gg["realised_amount_per_budget"]
    # sd of z is large (CV ~ 0.8 for these parameters); 6,000+ orders give a few % error
    assert abs(budget_mean / expected - 1) < 0.08


def test_return_rates_by_category_match_base_rates(small):
    # Planted: truth["return_base_rate"] for on-time, non-defective lines (reasons other than
    # defective/damaged); late delivery raises it, so only on-time orders are counted.
    base = small.truth["return_base_rate"]
    o = small.orders.set_index("order_id")
    lines = small.order_items.merge(small.products[["product_id", "category"]], on="product_id")
    lines["on_time"] = (o.loc[lines["order_id"], "delivery_days"].to_numpy()
                        == o.loc[lines["order_id"], "promised_days"].to_numpy())
    lines = lines.loc[lines["on_time"]]
    r = small.returns.loc[~small.returns["reason"].isin(["defective", "damaged_in_transit"])]
    key = lines.set_index(["order_id", "line_no"]).index
    returned = key.isin(r.set_index(["order_id", "line_no"]).index)
    # returns requested after the data end are not in the table: only lines delivered a month before end
    rate = pd.Series(returned, index=lines.index).groupby(lines["category"].astype(str)).mean()
    n = lines.groupby(lines["category"].astype(str)).size()
    for cat, planted in base.items():
        se = np.sqrt(planted * (1 - planted) / n[cat])
        assert abs(rate[cat] - planted) < 4 * se + 0.1 * planted, (cat, rate[cat], planted)


def test_planted_copurchase_pairs_are_bought_together(small):
    items = small.order_items
    for pair in small.truth["copurchase_pairs"]:
        with_a = set(items.loc[items["product_id"] == pair["anchor"], "order_id"])
        with_b = set(items.loc[items["product_id"] == pair["partner"], "order_id"])
        if len(with_a) < 20:
            continue
        conf = len(with_a & with_b) / len(with_a)
        se = np.sqrt(0.25 / len(with_a))
        assert conf > pair["attach_prob"] - 4 * se, (pair, conf)


def test_quality_incident_shows_in_returns_and_reviews(small):
    inc = small.truth["incident"]
    start, fix = pd.Timestamp(inc["start"]), pd.Timestamp(inc["fix"])
    items = small.order_items.merge(small.orders[["order_id", "order_ts"]], on="order_id")
    sold = items.loc[items["product_id"] == inc["product_id"]]
    during = sold["order_ts"].between(start, fix)
    r = small.returns.loc[(small.returns["product_id"] == inc["product_id"])
                          & (small.returns["reason"] == "defective")]
    r_orders = set(r["order_id"])
    rate_during = sold.loc[during, "order_id"].isin(r_orders).mean()
    rate_outside = sold.loc[~during, "order_id"].isin(r_orders).mean()
    # planted defect rate 0.30 during vs ~0.01 outside; 75% of defects are returned
    assert rate_during > 0.12 and rate_outside < 0.05


def test_late_delivery_lowers_order_csat(small):
    # Planted: satisfaction coefficient late_days < 0 (truth["satisfaction"]).
    s = small.surveys.loc[(small.surveys["survey_type"] == "csat") & (small.surveys["touchpoint"] == "order")
                          & small.surveys["responded"]]
    o = small.orders.set_index("order_id")
    late = (o.loc[s["order_id"].astype("int64"), "delivery_days"].to_numpy()
            - o.loc[s["order_id"].astype("int64"), "promised_days"].to_numpy())
    score = s["score"].astype(float).to_numpy()
    assert small.truth["satisfaction"]["coefficients"]["late_days"] < 0
    assert score[late >= 2].mean() < score[late == 0].mean() - 0.5


def test_loyalty_balances_never_go_negative(small):
    led = small.loyalty_ledger.sort_values(["customer_id", "ts", "entry_id"])
    balance = led.groupby("customer_id")["points"].cumsum()
    assert (balance >= 0).all()
    earn = led.loc[led["entry_type"] == "earn"]
    paid = small.orders.set_index("order_id").loc[earn["order_id"].astype("int64"), "amount"]
    np.testing.assert_array_equal(earn["points"].to_numpy(), np.floor(paid.to_numpy() / 100))


def test_holdout_share_is_randomized(small):
    cc = small.campaign_contacts
    share = (cc["group"] == "holdout").mean()
    assert abs(share - 0.2) < 4 * np.sqrt(0.16 / len(cc))
    assert not cc.loc[cc["group"] == "holdout", ["sent", "opened", "clicked"]].any().any()


def test_calls_queue_is_consistent(small):
    calls = small.calls
    assert (calls.loc[calls["abandoned"], "handle_seconds"] == 0).all()
    assert calls.loc[~calls["abandoned"], "agent_id"].notna().all()
    hours = calls["arrival_ts"].dt.hour
    assert hours.between(9, 20).all()  # the phone line is open 09:00-21:00


@pytest.mark.parametrize(
    "knobs, match",
    [
        ({"n_customers": 0}, "n_customers"),
        ({"r": -1.0}, "knob r"),
        ({"a": 0.0}, "knob a"),
        ({"gg_q": 1.0}, "gg_q"),
        ({"buyer_share": 1.5}, "buyer_share"),
        ({"holdout_share": 0.0}, "holdout_share"),
        ({"campaign_uplift_scale": -1}, "campaign_uplift_scale"),
        ({"incident_defect_rate": 2}, "incident_defect_rate"),
        ({"n_products": 5}, "n_products"),
        ({"calls_per_day": -3}, "calls_per_day"),
        ({"detail": "everything"}, "detail"),
        ({"r": "fast"}, "must be a number"),
        ({"colour": "blue"}, "unknown knob"),
        ({"seed": 1.5}, "seed"),
        ({"n_customers": "huge"}, "unknown size"),
        ({"end": "2024-01-15"}, "at least 60 days"),
        ({"start": "not a date"}, "dates like"),
    ],
)
def test_bad_knobs_get_clear_errors(knobs, match):
    args = {"n_customers": 50, "end": "2024-06-30"} | knobs
    with pytest.raises(ValueError, match=match):
        simulate(**args)


def test_orders_only_detail_for_large_worlds():
    shop = simulate(500, seed=3, detail="orders")
    assert {"customers", "products", "orders", "order_items", "price_history"} <= set(shop.tables)
    assert "events" not in shop.tables


def test_members_act_only_after_signup_and_journeys_mix_channels(small):
    signup = small.customers.set_index("customer_id")["signup_ts"]
    assert (small.orders["order_ts"] >= small.orders["customer_id"].map(signup)).all()
    assert (small.sessions["start_ts"] >= small.sessions["customer_id"].map(signup)).all()
    assert (small.events["ts"] < small.end_ts).all()
    # Planted journey mixes (truth["journey_first_mix"/"journey_later_mix"]): first visits are
    # discovery channels, later ones direct/email, so most buyers' visits span several sources.
    buyers = small.sessions.loc[small.sessions["converted"], "customer_id"].unique()
    multi = small.sessions.loc[small.sessions["customer_id"].isin(buyers)].groupby("customer_id")[
        "traffic_source"].nunique()
    assert (multi > 1).mean() > 0.5
    assert small.truth["journey_first_mix"]["email"].max() < small.truth["journey_later_mix"]["email"].min()


# --- The simulator's named stages and their configuration objects (issue 30). Known answers:
# the configurations' documented defaults are the planted values (truth must repeat them), and
# a stage run with a configuration that makes an outcome certain (chance 1 or 0) plants it.

def test_the_stage_configurations_are_the_planted_truth():
    import importlib

    # the package (``crmlab.data.simulate`` as an attribute is the function simulate())
    sim = importlib.import_module("crmlab.data.simulate")
    shop = simulate("tiny", seed=3)
    t = shop.truth
    np.testing.assert_array_equal(t["funnel_rates"].to_numpy(), np.array(sim.SessionConfig().funnel_rates))
    assert t["satisfaction"]["coefficients"] == sim.SatisfactionConfig().coefficients
    assert list(t["satisfaction"]["segment_base"].values()) == list(sim.SatisfactionConfig().segment_base)
    assert t["return_base_rate"] == sim.ReturnConfig().category_return_rate
    assert t["elasticity"] == sim.ProductConfig().category_elasticity
    assert list(t["loyalty"]["redeem_share"].values()) == list(sim.LoyaltyConfig().redeem_share)
    assert list(t["uplift_planted"].values()) == list(sim.CampaignConfig().segment_uplift)
    assert t["call"]["patience_seconds_mean"] == sim.CallConfig().patience_mean_seconds
    np.testing.assert_array_equal(t["category_taste"].to_numpy(), np.array(sim.SegmentConfig().taste))
    # the historical module names are the same numbers
    np.testing.assert_array_equal(sim.SEGMENT_CHANNEL, np.array(sim.OrderConfig().segment_channel))
    np.testing.assert_array_equal(sim.FUNNEL_RATES, t["funnel_rates"].to_numpy())
    assert sim.CUSTOMIZATION_RATE == t["customization"]["option_rate"]


def test_a_stage_is_a_function_of_its_inputs_and_plants_its_configuration():
    from crmlab.data.simulate.customers import CustomerConfig, draw_customers
    from crmlab.data.simulate.knobs import resolve
    from crmlab.data.simulate.timeline import Timeline

    cfg = resolve("tiny", "2024-01-01", "2025-12-31", 9, {})
    tl = Timeline.from_config(cfg)
    # The customers stage is the first to draw: run alone on the seed's stream it gives
    # exactly the customers table of simulate().
    customers = draw_customers(np.random.default_rng(9), cfg, tl)
    pd.testing.assert_frame_equal(customers.table, simulate("tiny", seed=9).customers)
    # Certain outcomes: everyone but casual members (segment 3) opts in; everyone lives in the east.
    certain = CustomerConfig(opt_in_probs=(1.0, 1.0, 1.0, 0.0), region_probs=(0.0, 0.0, 0.0, 1.0))
    drawn = draw_customers(np.random.default_rng(9), cfg, tl, certain)
    np.testing.assert_array_equal(drawn.opt_in, drawn.seg != 3)
    assert set(drawn.table["region"]) == {"east"}
    assert set(drawn.table["city"]) <= set(certain.cities[3])


def test_stage_results_and_configurations_are_frozen():
    import dataclasses

    from crmlab.data.simulate import OrderConfig
    from crmlab.data.simulate.customers import draw_customers
    from crmlab.data.simulate.knobs import resolve
    from crmlab.data.simulate.timeline import Timeline

    cfg = resolve(50, "2024-01-01", "2024-06-30", 1, {"n_products": 40})
    tl = Timeline.from_config(cfg)
    customers = draw_customers(np.random.default_rng(1), cfg, tl)
    with pytest.raises(dataclasses.FrozenInstanceError):
        customers.extra = 1  # no stage adds attributes to another's result
    with pytest.raises(dataclasses.FrozenInstanceError):
        OrderConfig().max_lines = 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        tl.n_days = 3


def test_progress_reports_every_stage_in_order():
    from crmlab.data.simulate.pipeline import DETAIL_STAGES, ORDER_STAGES

    seen: list[str] = []
    simulate("tiny", seed=1, progress=seen.append)
    assert seen == list(ORDER_STAGES + DETAIL_STAGES)
    seen.clear()
    simulate("tiny", seed=1, progress=seen.append, detail="orders")
    assert seen == list(ORDER_STAGES)
