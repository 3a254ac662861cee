"""Latency of the live what-if demos (crmlab.demos): one move of a control.

What one change costs is what the class waits for after the instructor moves a slider: the
computation in the unit module, the redraw of the chart in crmlab.plots, one draw of the
figure with matplotlib's Agg backend and its PNG encoding (the image the widget shows). Each
demo is built once at the default data (the shipped shop, seed 42; notebook 09's 200 calls an
hour for staffing), with the workbook's plot theme, then the timed calls alternate between two
settings of its controls so every call changes the chart. Reported: medians of wall time
(``perf_counter``) and of CPU time (``process_time``, less sensitive to other jobs on a shared
machine), the split into compute / redraw / draw + PNG, and a floor: the Agg draw + PNG of an
empty figure of the same size and panels (the least any matplotlib chart costs here).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

TARGET_SECONDS = 0.100  # "well under 100 ms per change" (issue 27)


def _builders(shop: Any) -> list[tuple[str, str, Callable[[], Any], dict[str, list[dict]],
                                        Callable[[dict], Any]]]:
    """(name, notebook, build, {control moved: two settings}, the direct computation)."""
    import numpy as np

    from crmlab import clv, demos, offers, pricing, rfm, support

    product = demos.price_demo_data(shop)
    targeting = demos.targeting_demo_data(shop)
    lifetime = demos.clv_demo_data(shop)
    table = rfm.rfm_table(shop.orders, shop.end_ts.normalize())
    p0, fit = product["list_price"], lifetime["params"]
    lo, hi = (float(v) for v in np.quantile(targeting["score"], [0.3, 0.8]))
    money = {k: targeting[k] for k in ("value_per_conversion", "cost_per_contact",
                                       "cost_per_conversion")}
    T = float(lifetime["summary"]["T"].max())
    return [
        ("rfm", "02", lambda: demos.rfm_demo(table=table),
         {"recency and order cuts": [{"recency_days": 180, "min_orders": 3},
                                     {"recency_days": 60, "min_orders": 2}]},
         lambda v: rfm.cut_point_segments(table, v["recency_days"], v["min_orders"])["customers"].to_numpy()),
        ("clv", "05", lambda: demos.clv_demo(data=lifetime),
         {"a ×/÷ 1.25": [{"a": round(fit["a"] * 1.25, 4)}, {"a": round(fit["a"] / 1.25, 4)}],
          "r and alpha ×/÷ 3": [{"r": round(fit["r"] * 3, 4), "alpha": round(fit["alpha"] * 3, 3)},
                                {"r": round(fit["r"] / 3, 4), "alpha": round(fit["alpha"] / 3, 3)}]},
         lambda v: clv.bgnbd_what_if(**v, T=T, horizon=365.0,
                                     summary=lifetime["summary"])["mean_p_alive"]),
        ("price", "07", lambda: demos.price_demo(data=product),
         {"price": [{"price": round(1.3 * p0, 2)}, {"price": round(0.8 * p0, 2)}],
          "elasticity, one step (±0.05)": [{"elasticity": round(product["elasticity"] - 0.05, 2)},
                                           {"elasticity": round(product["elasticity"], 2)}],
          "elasticity, a jump (−3.0 / −1.6)": [{"elasticity": -3.0}, {"elasticity": -1.6}]},
         lambda v: pricing.price_what_if(v["price"], list_price=p0, unit_cost=product["unit_cost"],
                                         units_per_day=product["units_per_day"],
                                         elasticity=v["elasticity"], shape=v["shape"])["profit"]),
        ("targeting", "08", lambda: demos.targeting_demo(data=targeting),
         {"threshold": [{"threshold": round(hi, 6)}, {"threshold": round(lo, 6)}]},
         lambda v: offers.targeting_profit(targeting["y"], targeting["treatment"], targeting["score"],
                                           v["threshold"], **money)["profit"]),
        ("staffing", "09", lambda: demos.staffing_demo(),
         {"agents": [{"agents": 16}, {"agents": 13}],
          "calls per hour, one step (±2)": [{"calls": 202.0}, {"calls": 200.0}],
          "calls per hour, a jump (160 / 240)": [{"calls": 160.0}, {"calls": 240.0}]},
         lambda v: support.staffing_what_if(v["agents"], v["calls"], 180.0)["service_level"]),
    ]


def _result_figure(name: str, result: dict) -> Any:
    """The number of a demo's result that the direct computation is checked against."""
    return {"rfm": lambda r: r["segments"]["customers"].to_numpy(),
            "clv": lambda r: r["mean_p_alive"], "price": lambda r: r["profit"],
            "targeting": lambda r: r["profit"], "staffing": lambda r: r["service_level"]}[name](result)


def _floor(demo: Any, repeat: int) -> float:
    """Median seconds of an Agg draw + PNG of an empty figure with the demo's size and panels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from crmlab.demos import _png

    fig = Figure(figsize=demo.figure.get_size_inches(), dpi=demo.figure.dpi)
    FigureCanvasAgg(fig)
    fig.subplots(1, len(demo.axes))
    return harness.median(harness.timeit(lambda: _png(fig), repeat=repeat, warmup=1))


def _measure(name: str, demo: Any, settings: list[dict], repeat: int) -> dict[str, Any]:
    from crmlab.demos import _png

    wall, cpu, parts, full = [], [], [], 0
    demo.update(**settings[1])  # warm-up: every code path once
    for i in range(repeat):
        values = settings[i % 2]
        w0, c0 = time.perf_counter(), time.process_time()
        demo.update(**values)
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
        full += not demo.figure._crmlab_demo["blit"]
    for i in range(repeat):  # the same change, split into its three steps
        values = {**demo.values, **settings[i % 2]}
        t0 = time.perf_counter()
        result = demo.compute(**values)
        t1 = time.perf_counter()
        demo.draw(result, demo.axes)
        t2 = time.perf_counter()
        _png(demo.figure)
        parts.append((t1 - t0, t2 - t1, time.perf_counter() - t2))
    demo.update(**settings[(repeat - 1) % 2])  # leave the demo at the last timed setting
    return {"wall": harness.median(wall), "cpu": harness.median(cpu),
            "compute": statistics.median(p[0] for p in parts),
            "redraw": statistics.median(p[1] for p in parts),
            "png": statistics.median(p[2] for p in parts),
            "floor": _floor(demo, repeat), "full": full / repeat}


def _run(data: str, repeat: int) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import crmlab.data
    from crmlab import plots

    plots.set_theme()
    shop = crmlab.data.get_shop(data, seed=42)
    rows, agreements = [], []
    for name, nb, build, moves, direct in _builders(shop):
        demo = build()
        for label, settings in moves.items():
            m = _measure(name, demo, settings, repeat)
            agreements.append(harness.assert_same(_result_figure(name, demo.result),
                                                  direct(demo.values), rtol=1e-9,
                                                  what=f"{name} demo after moving {label}"))
            rows.append({"demo (notebook)": f"{name} ({nb})", "control moved": label,
                         "whole chart redrawn": f"{m['full']:.0%}",
                         "one change, wall": harness.fmt_seconds(m["wall"]),
                         "CPU": harness.fmt_seconds(m["cpu"]),
                         "compute": harness.fmt_seconds(m["compute"]),
                         "redraw": harness.fmt_seconds(m["redraw"]),
                         "Agg draw + PNG": harness.fmt_seconds(m["png"]),
                         "floor (empty figure)": harness.fmt_seconds(m["floor"]),
                         "< 100 ms (wall / CPU)": f"{harness.verdict(m['wall'], TARGET_SECONDS)} / "
                                                  f"{harness.verdict(m['cpu'], TARGET_SECONDS)}"})
        import matplotlib.pyplot as plt

        plt.close("all")
    return "\n".join([
        f"## Live what-if demos: latency of one change ({data} shop, {repeat} changes each)", "",
        "One move of a control at the default data: the unit module's computation, the chart's "
        "update (crmlab.plots), the Agg drawing and the PNG the widget shows, as `Demo.update` "
        "does it; medians. A control that moves only a chart's moving artists (a line, a dot, "
        "bars, a title) is blitted: they are painted over the kept picture of the rest; a "
        "control that changes the curves redraws the whole chart (the column says how often). "
        "The split columns time the three steps separately; the floor is an empty figure of "
        "the same size and panels drawn in full and encoded the same way. Wall time includes "
        "waiting for a core, so on a busy machine (see the load average above) the CPU time is "
        "what a change costs. Each demo's result is checked against its computation called "
        "directly.", "",
        *[f"- {a}" for a in agreements], "",
        harness.markdown_table(rows)])


def main(quick: bool = False) -> str:
    """The section for RESULTS.md: the five demos on the shipped shop."""
    return _run("small", repeat=7 if quick else 21)


def smoke() -> str:
    """The same code path on the tiny shop, three changes each."""
    return _run("tiny", repeat=3)
