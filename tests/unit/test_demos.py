"""The live what-if demos (issue 27): each computation against a known answer, the widget
builders construct and redraw, and the committed demo notebooks have the course's shape.

Known answers: the closed-form optimal prices of the three demand shapes (notebook 07's table);
Call Centre Helper's Erlang C worked example (10 erlangs, 14 agents, 20 s); a hand-made RFM
table; a hand-made experiment for the targeting profit and crmlab.offers.policy_comparison on
the shop; FHL 2005's P(alive) formula and crmlab.clv.BetaGeoModel's own methods.
"""

from __future__ import annotations

import base64
import json
import math
import re
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from crmlab import clv, demos, offers, plots, pricing, rfm, support  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DEMO_NOTEBOOKS = sorted((ROOT / "demos").glob("[0-9][0-9]_*_demo.ipynb"))


@pytest.fixture(scope="module")
def shop():
    import crmlab.data

    return crmlab.data.get_shop("tiny", seed=42)


@pytest.fixture(scope="module")
def targeting_data(shop):
    """Notebook 08's cross-fitted uplift scores and money on the tiny shop (built once)."""
    return demos.targeting_demo_data(shop)


# ----------------------------------------------------------------------------- pricing


@pytest.mark.parametrize("shape", pricing.DEMAND_SHAPES)
def test_calibrated_demand_passes_through_todays_point(shape):
    d = pricing.calibrated_demand(shape, list_price=1000.0, units_per_day=2.0, elasticity=-2.5)
    assert float(d.quantity(1000.0)) == pytest.approx(2.0)
    assert float(d.point_elasticity(1000.0)) == pytest.approx(-2.5)


def test_price_what_if_closed_form_optima():
    # p0 = 1000, q0 = 2, e = -2, c = 600 (notebook 07's table of closed forms):
    # linear a = q0 (1 - e) = 6, b = -e q0 / p0 = 0.004 -> p* = (a/b + c) / 2 = 1050,
    #   profit (1050 - 600) (6 - 0.004 x 1050) = 810;
    # constant elasticity p* = c e / (1 + e) = 1200, profit 600 x 2 (1200/1000)^-2 = 833.33;
    # exponential p* = c + 1/alpha = 600 + p0 / -e = 1100, profit 500 x 2 e^(2 - 2.2) = 818.73.
    kw = dict(list_price=1000.0, unit_cost=600.0, units_per_day=2.0, elasticity=-2.0)
    expect = {"linear": (1050.0, 810.0), "constant elasticity": (1200.0, 1200 / 1.44),
              "exponential": (1100.0, 1000 * math.exp(-0.2))}
    for shape, (p_star, profit) in expect.items():
        out = pricing.price_what_if(1000.0, shape=shape, **kw)
        assert out["optimal_price"] == pytest.approx(p_star)
        assert out["optimal_profit"] == pytest.approx(profit)
        # at the list price: 2 units a day, revenue 2,000, profit 800
        assert (out["units"], out["revenue"], out["profit"]) == pytest.approx((2.0, 2000.0, 800.0))
        # no grid price beats the closed-form optimum
        assert out["curve"]["profit"].max() <= out["optimal_profit"] + 1e-9
        assert out["curve"]["price"].min() == pytest.approx(500.0)
        assert out["curve"]["price"].max() == pytest.approx(3000.0)


def test_price_what_if_without_an_optimum_and_bad_input():
    out = pricing.price_what_if(1200.0, list_price=1000.0, unit_cost=600.0, units_per_day=2.0,
                                elasticity=-0.8)  # inelastic: profit rises with the price
    assert out["optimal_price"] is None and out["optimal_profit"] is None
    assert out["revenue"] == pytest.approx(1200 * 2 * 1.2**-0.8)
    with pytest.raises(ValueError, match="shape"):
        pricing.calibrated_demand("kinked", 1000.0, 2.0, -2.0)
    with pytest.raises(ValueError, match="elasticity"):
        pricing.calibrated_demand("linear", 1000.0, 2.0, 0.5)
    with pytest.raises(ValueError, match="price"):
        pricing.price_what_if(-5.0, list_price=1000.0, unit_cost=600.0, units_per_day=2.0,
                              elasticity=-2.0)


# ----------------------------------------------------------------------------- support


def test_staffing_what_if_call_centre_helper_example():
    # Call Centre Helper's worked example (tests/unit/test_support.py cites it): 100 calls in
    # 30 minutes = 200 an hour, AHT 180 s -> 10 erlangs; 14 agents answer 88.8% within 20 s,
    # P(wait) 0.174, occupancy 0.714; ASA = C x AHT / (N - A) = 0.17413 x 180 / 4 = 7.84 s.
    out = support.staffing_what_if(14, 200, 180, target_seconds=20)
    assert out["load"] == pytest.approx(10.0)
    assert round(out["service_level"], 3) == 0.888
    assert round(out["p_wait"], 3) == 0.174
    assert round(out["occupancy"], 3) == 0.714
    assert out["asa_seconds"] == pytest.approx(0.174132 * 180 / 4, rel=1e-4)
    waits = out["waits"].set_index("wait_seconds")["answered_within"]
    assert waits.loc[0.0] == pytest.approx(1 - out["p_wait"])  # nobody waits 0 s but the queued
    assert waits.loc[20.0] == pytest.approx(out["service_level"])
    assert waits.is_monotonic_increasing
    curve = out["curve"]
    assert curve["agents"].iloc[0] == 11 and curve["service_level"].iloc[-1] >= 0.999


def test_staffing_what_if_extends_the_curve_and_refuses_an_unstable_queue():
    out = support.staffing_what_if(40, 200, 180)
    assert out["curve"]["agents"].max() == 40 and out["agents"] == 40
    with pytest.raises(ValueError, match="unstable"):
        support.staffing_what_if(10, 200, 180)
    with pytest.raises(ValueError, match="whole numbers"):
        support.staffing_what_if(12.5, 200, 180)


# ----------------------------------------------------------------------------- rfm


def test_cut_point_segments_hand_table():
    table = pd.DataFrame({"customer_id": [1, 2, 3, 4, 5, 6],
                          "recency": [10, 30, 100, 200, 20, 400],
                          "frequency": [5, 1, 3, 1, 2, 4],
                          "monetary": [500.0, 100.0, 300.0, 50.0, 200.0, 350.0]})
    out = rfm.cut_point_segments(table, recency_days=30, min_orders=2).set_index("segment")
    # recent (<= 30 days): 1, 2, 5; frequent (>= 2 orders): 1, 3, 5, 6
    assert out["customers"].to_dict() == {"recent, frequent": 2, "recent, infrequent": 1,
                                          "lapsed, frequent": 2, "lapsed, infrequent": 1}
    assert out.loc["recent, frequent", "revenue_share"] == pytest.approx(700 / 1500)
    assert out.loc["lapsed, frequent", "revenue_share"] == pytest.approx(650 / 1500)
    assert out["customer_share"].sum() == pytest.approx(1.0)
    assert out.loc["recent, infrequent", "segment_zh"] == "近期少購"
    # a cut nobody passes leaves segments empty but listed
    none = rfm.cut_point_segments(table, recency_days=0, min_orders=9).set_index("segment")
    assert none.loc["lapsed, infrequent", "customers"] == 6 and len(none) == 4


def test_cut_point_segments_sizes_sum_to_the_shops_customers(shop):
    table = rfm.rfm_table(shop.orders, shop.end_ts.normalize())
    for r_cut, f_cut in [(0, 1), (45, 2), (180, 3), (10_000, 50)]:
        out = rfm.cut_point_segments(table, r_cut, f_cut)
        assert out["customers"].sum() == len(table)
        assert out["revenue"].sum() == pytest.approx(table["monetary"].sum())


def test_cut_point_segments_bad_input():
    table = pd.DataFrame({"recency": [1], "frequency": [1], "monetary": [1.0]})
    with pytest.raises(ValueError, match="no column"):
        rfm.cut_point_segments(table.drop(columns="frequency"), 30, 2)
    with pytest.raises(ValueError, match="recency_days"):
        rfm.cut_point_segments(table, -1, 2)
    with pytest.raises(ValueError, match="min_orders"):
        rfm.cut_point_segments(table, 30, 0)
    with pytest.raises(ValueError, match="DataFrame"):
        rfm.cut_point_segments([1, 2], 30, 2)


# ----------------------------------------------------------------------------- offers


def test_targeting_profit_hand_example():
    score = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])
    treated = np.array([True, False, True, True, False, True, False, False])
    y = np.array([1, 0, 1, 0, 0, 1, 1, 0])
    out = offers.targeting_profit(y, treated, score, 0.55, value_per_conversion=100.0,
                                  cost_per_contact=2.0, cost_per_conversion=10.0)
    # top 4 (score >= 0.55): treated 1, 3, 4 convert 2 of 3; control 2 converts 0 of 1
    # uplift 2/3 - 0 -> incremental 4 x 2/3; cost 2 x 4 + 10 x (2/3) x 4
    assert out["n_targeted"] == 4 and out["share_targeted"] == pytest.approx(0.5)
    assert out["incremental"] == pytest.approx(8 / 3)
    assert out["cost"] == pytest.approx(8 + 80 / 3)
    assert out["profit"] == pytest.approx(800 / 3 - 8 - 80 / 3)
    # above every score: nobody targeted, nothing earned or spent
    top = offers.targeting_profit(y, treated, score, 2.0, value_per_conversion=100.0)
    assert (top["n_targeted"], top["profit"]) == (0, 0.0)
    # only treated contacts at the top: no estimate
    one_arm = offers.targeting_profit(y, treated, score, 0.85, value_per_conversion=100.0)
    assert one_arm["n_targeted"] == 1 and math.isnan(one_arm["profit"])
    # break-even (c + p0 r D) / (v - r D) with the holdout's conversion p0 = 1/4, r = 1
    assert out["break_even"] == pytest.approx((2 + 0.25 * 10) / (100 - 10))
    assert out["best_profit"] == pytest.approx(np.nanmax(out["curve"]["profit"]))


def test_targeting_profit_agrees_with_policy_comparison(shop):
    contacts = shop.campaign_contacts
    treated = offers.treatment_flags(contacts["group"])
    y = contacts["converted"].to_numpy()
    score = np.random.default_rng(3).normal(size=len(y))
    money = dict(value_per_conversion=420.0, cost_per_contact=3.0, cost_per_conversion=55.0)
    for thr in np.quantile(score, [0.3, 0.6, 0.9]):
        ours = offers.targeting_profit(y, treated, score, thr, **money)
        ref = offers.policy_comparison(y, treated, {"s": score},
                                       fractions=(ours["share_targeted"],), **money)
        row = ref[ref["policy"] == "s"].iloc[0]
        assert row["n_targeted"] == ours["n_targeted"]
        assert row["profit"] == pytest.approx(ours["profit"])
    with pytest.raises(ValueError, match="threshold"):
        offers.targeting_profit(y, treated, score, float("nan"), **money)


# ----------------------------------------------------------------------------- clv


def test_bgnbd_what_if_equals_the_fitted_models_methods(shop):
    summary = clv.summarize(shop.orders, freq="D", observation_end=shop.end)
    fit = clv.BetaGeoModel().fit(summary)
    out = clv.bgnbd_what_if(*fit.params_.to_numpy(), T=300.0, horizon=90.0, summary=summary)
    grid = out["grid"]
    np.testing.assert_allclose(grid["p_alive"], fit.p_alive(grid).to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(grid["expected_purchases"],
                               fit.predict_purchases(90.0, grid).to_numpy(), rtol=1e-12)
    assert out["mean_p_alive"] == pytest.approx(fit.p_alive(summary).mean())
    assert out["expected_purchases"] == pytest.approx(fit.predict_purchases(90.0, summary).sum())
    assert set(grid["frequency"]) == {1, 2, 4, 8} and grid["recency"].max() == pytest.approx(300.0)


def test_bgnbd_what_if_p_alive_by_fhls_formula():
    # FHL 2005's CDNOW estimates (weeks) and their eq. (11):
    # P(alive) = 1 / (1 + a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x)).
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    out = clv.bgnbd_what_if(r, alpha, a, b, T=39.0, horizon=39.0, frequencies=(2, 5))
    g = out["grid"]
    x, tx = g["frequency"].to_numpy(float), g["recency"].to_numpy()
    hand = 1 / (1 + a / (b + x - 1) * ((alpha + 39.0) / (alpha + tx)) ** (r + x))
    np.testing.assert_allclose(g["p_alive"], hand, rtol=1e-10)
    assert "customers" not in out
    with pytest.raises(ValueError, match="alpha"):
        clv.bgnbd_model(0.2, -1.0, 0.8, 2.4)
    with pytest.raises(ValueError, match="horizon"):
        clv.bgnbd_what_if(r, alpha, a, b, T=39.0, horizon=0.0)


# ----------------------------------------------------------------------------- widgets


def _axes_state(demo: demos.Demo) -> list:
    """What the chart shows: every axes' title and the data of its lines."""
    return [(ax.get_title(), [np.asarray(line.get_ydata(), float).round(9).tolist()
                              for line in ax.get_lines()]) for ax in demo.axes]


def _check_builder(demo: demos.Demo, change: dict) -> None:
    assert isinstance(demo, demos.Demo)
    assert demo.png.startswith(b"\x89PNG") and demo.image.value == demo.png
    assert plots.layout_problems(demo.figure) == []
    bundle = demo._repr_mimebundle_()
    assert base64.b64decode(bundle["image/png"]) == demo.png
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == demo.describe(demo.result)
    before_axes, before_png, before_text = _axes_state(demo), demo.png, demo.reading.value
    result = demo.update(**change)
    assert result is demo.result
    assert all(demo.controls[k].value == pytest.approx(v) if isinstance(v, float)
               else demo.controls[k].value == v for k, v in change.items())
    assert _axes_state(demo) != before_axes, "the chart did not change"
    assert demo.png != before_png and demo.reading.value != before_text
    assert plots.layout_problems(demo.figure) == []
    with pytest.raises(ValueError, match="no control"):
        demo.update(nonsense=1)


def test_price_demo_builds_and_updates(shop):
    demo = demos.price_demo(shop)
    d = demos.price_demo_data(shop)
    direct = pricing.price_what_if(d["list_price"], list_price=d["list_price"],
                                   unit_cost=d["unit_cost"], units_per_day=d["units_per_day"],
                                   elasticity=d["elasticity"])
    assert demo.result["profit"] == pytest.approx(direct["profit"])
    _check_builder(demo, {"price": round(1.5 * d["list_price"], 2), "elasticity": -3.0})
    demo.update(shape="linear")
    assert demo.result["shape"] == "linear"


def test_staffing_demo_builds_and_updates():
    demo = demos.staffing_demo()
    assert demo.result["agents"] == 14 and round(demo.result["service_level"], 3) == 0.888
    _check_builder(demo, {"agents": 16})
    # a slider move to too few agents keeps the chart and says why
    png = demo.png
    demo.controls["agents"].value = 9
    assert "unstable" in demo.reading.value and demo.png == png


def test_rfm_demo_builds_and_updates(shop):
    demo = demos.rfm_demo(shop)
    assert demo.result["segments"]["customers"].sum() == len(demo.result["table"])
    _check_builder(demo, {"recency_days": 200, "min_orders": 3})


def test_targeting_demo_builds_and_updates(targeting_data):
    data = targeting_data
    demo = demos.targeting_demo(data=data)
    lo, hi = np.quantile(data["score"], [0.01, 0.99])
    new = float(round(lo + 0.25 * (hi - lo), 6))
    _check_builder(demo, {"threshold": new})
    assert demo.result["n_targeted"] == int((data["score"] >= demo.controls["threshold"].value).sum())


def test_clv_demo_builds_and_updates(shop):
    demo = demos.clv_demo(shop)
    params = dict(demo.values)
    _check_builder(demo, {"a": params["a"] * 3})
    assert demo.result["params"]["a"] == pytest.approx(params["a"] * 3, rel=1e-6)


# ----------------------------------------------------------------------------- notebooks


def test_there_are_five_demo_notebooks():
    assert [p.name[:2] for p in DEMO_NOTEBOOKS] == ["02", "05", "07", "08", "09"]


@pytest.mark.parametrize("path", DEMO_NOTEBOOKS, ids=[p.stem for p in DEMO_NOTEBOOKS])
def test_demo_notebook_shape(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    # no saved widget state: viewers without the live kernel fall back to the PNG
    assert "widgets" not in nb["metadata"]
    cells = nb["cells"]
    first = "".join(cells[0]["source"])
    assert first.startswith("# ") and re.search(r"[\u4e00-\u9fff]", first.splitlines()[0]), \
        "the title carries the Chinese term"
    assert "objectives" in first.lower()
    tags = [c["metadata"].get("tags", []) for c in cells]
    assert sum("parameters" in t for t in tags) == 1
    assert any("reading" in t for t in tags), "a computed reading of the default figure"
    demo_cells = [c for c in cells if c["cell_type"] == "code"
                  and any("image/png" in o.get("data", {}) for o in c.get("outputs", []))]
    assert demo_cells, "the demo cell shows the default chart (committed with outputs)"
    bundle = next(o["data"] for o in demo_cells[0]["outputs"] if "image/png" in o.get("data", {}))
    assert "application/vnd.jupyter.widget-view+json" in bundle
    links = re.findall(r"\(\.\./notebooks/([0-9]{2}_[a-z0-9_]+\.ipynb)", json.dumps(cells))
    assert links and all((ROOT / "notebooks" / name).is_file() for name in links), links
    assert all(name.startswith(path.name[:2]) for name in links)
    errors = [o for c in cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors


def _pixels(png: bytes) -> np.ndarray:
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)


@pytest.mark.parametrize("name", ["price", "staffing", "rfm", "targeting", "clv"])
def test_a_blitted_change_shows_what_a_full_redraw_shows(name, shop, targeting_data):
    # Moving only the "moving" artists (a slider's line, a title) paints them over the kept
    # picture of the rest; the result must be the figure a full redraw gives.
    build = {"price": lambda: demos.price_demo(shop), "staffing": demos.staffing_demo,
             "rfm": lambda: demos.rfm_demo(shop),
             "targeting": lambda: demos.targeting_demo(data=targeting_data),
             "clv": lambda: demos.clv_demo(shop)}[name]
    demo = build()
    control = {"price": "price", "staffing": "agents", "rfm": "recency_days",
               "targeting": "threshold", "clv": "a"}[name]
    c = demo.controls[control]
    new = c.value * 1.1 if name == "clv" else c.min + 0.6 * (c.max - c.min)
    demo.update(**{control: type(c.value)(new)})
    memo = demo.figure._crmlab_demo
    assert memo["blit"], "a change of the moving part only should not redraw the whole figure"
    blitted = _pixels(demo.png)
    memo["background"] = None  # force a full drawing of the same state
    full = _pixels(demos._png(demo.figure))
    assert blitted.shape == full.shape
    differ = (np.abs(blitted - full).sum(axis=2) > 30).mean()
    # a missing dashed line alone would be ~0.07% of the pixels
    assert differ < 1e-4, f"{differ:.3%} of the pixels differ from a full redraw"


def test_a_change_of_the_fixed_part_redraws_the_figure(shop):
    demo = demos.price_demo(shop)
    demo.update(elasticity=-4.5)  # demand at half the list price: 2^4.5 = 23x today's units
    assert not demo.figure._crmlab_demo["blit"]
    ax_q, ax_m = demo.axes
    curve = demo.result["curve"]
    assert ax_q.get_ylim()[1] >= curve["quantity"].max()  # the new curve fits on the axes
    assert ax_m.get_ylim()[1] >= curve["revenue"].max() and ax_m.get_ylim()[0] <= curve["profit"].min()
    demo.update(price=demo.controls["price"].value * 1.05)
    assert demo.figure._crmlab_demo["blit"]
    staffing = demos.staffing_demo()
    staffing.update(calls=290.0, agents=22)  # 14.5 erlangs: a new range of agents
    assert not staffing.figure._crmlab_demo["blit"]
    agents = staffing.result["curve"]["agents"]
    lo, hi = staffing.axes[0].get_xlim()
    assert lo < agents.min() and agents.max() < hi
    assert plots.layout_problems(staffing.figure) == []
