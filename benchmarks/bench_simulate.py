"""Benchmark: how fast the synthetic shop is simulated, and its peak memory.

Targets (issue 16): the small shop (2,000 customers, every table) in <= 3 s; 1,000,000
customers' orders (``detail="orders"``: customers, products, orders, order_items and
price_history only) in <= 30 s. There is no peer: the figure is absolute, on this machine.

Peak memory is the max RSS of a fresh Python process that imports crmlab and simulates once
(see ``harness.peak_rss``), with the baseline after imports shown beside it.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

from crmlab.data import simulate  # noqa: E402


@dataclass(frozen=True)
class Case:
    label: str
    size: str | int
    detail: str
    repeat: int
    target_s: float | None = None


FULL = [
    Case("small (2,000 customers, every table)", "small", "full", 5, 3.0),
    Case("medium (20,000 customers, every table)", "medium", "full", 3),
    Case("1,000,000 customers, orders only", 1_000_000, "orders", 3, 30.0),
]
QUICK = [
    Case("small (2,000 customers, every table)", "small", "full", 3, 3.0),
    Case("medium (20,000 customers, every table)", "medium", "full", 1),
    Case("100,000 customers, orders only", 100_000, "orders", 1),
]
SMOKE = [Case("tiny (300 customers, every table)", "tiny", "full", 1)]

SEED = 42


def stage_seconds(marks: list[tuple[str, float]]) -> dict[str, float]:
    """CPU seconds per simulator stage from ``(stage starting, process_time)`` marks."""
    return {name: nxt - t for (name, t), (_, nxt) in zip(marks, marks[1:], strict=False)}


def _run(cases: list[Case], memory: bool = True) -> str:
    rows = []
    notes = []
    for case in cases:
        cpu: list[float] = []
        marks: list[tuple[str, float]] = []

        def once(case: Case = case, cpu: list[float] = cpu, marks: list = marks):
            marks.clear()
            start = time.process_time()
            shop = simulate(case.size, seed=SEED, detail=case.detail,
                            progress=lambda stage: marks.append((stage, time.process_time())))
            end = time.process_time()
            marks.append(("truth + tables", end))
            cpu.append(end - start)
            return shop

        times, shop = harness.timeit_result(once, repeat=case.repeat, warmup=0)
        med = harness.median(times)
        n_orders = len(shop.orders)
        n_lines = len(shop.order_items)
        n_events = len(shop.tables["events"]) if "events" in shop.tables else 0
        peak = harness.peak_rss("crmlab.data:simulate", case.size, seed=SEED,
                                detail=case.detail) if memory else None
        target = "—"
        if case.target_s is not None:
            cpu_med = harness.median(cpu)
            target = (f"≤ {case.target_s:g} s: wall {harness.verdict(med, case.target_s)}, "
                      f"CPU {harness.verdict(cpu_med, case.target_s)}")
        rows.append({
            "workload": case.label,
            "tables": len(shop.tables),
            "orders": f"{n_orders:,}",
            "order lines": f"{n_lines:,}",
            "events": f"{n_events:,}" if n_events else "—",
            "median": harness.fmt_seconds(med),
            "CPU time": harness.fmt_seconds(harness.median(cpu)),
            "runs": f"{len(times)} (min {harness.fmt_seconds(min(times))}, "
                    f"max {harness.fmt_seconds(max(times))})",
            "target": target,
            "peak memory": peak.describe() if peak else "—",
        })
        stages = stage_seconds(marks)
        top = sorted(stages.items(), key=lambda kv: -kv[1])[:4]
        notes.append(f"- {case.label}, CPU seconds by stage (last run): "
                     + ", ".join(f"{name} {sec:.2f}" for name, sec in top)
                     + f" (of {sum(stages.values()):.2f}).")
        if case.detail == "orders":
            notes.append(f"- {case.label}: {med / max(n_orders, 1) * 1e6:.1f} s per million "
                         f"orders ({n_orders / len(shop.customers):.2f} orders per customer).")
        del shop
    text = [
        "## Simulating the shop (`crmlab.data.simulate`)",
        "",
        "Seconds to build the world from scratch with `seed=42`; `detail=\"orders\"` builds "
        "only customers, products, orders, order_items and price_history (the knob for "
        "large worlds). No peer: the targets are absolute. Peak memory: max resident set "
        "size of a fresh Python process running one simulation (`VmHWM`, see `harness.peak_rss`), "
        "including the interpreter and imported libraries; the baseline after imports is "
        "given so the growth is visible. CPU time (user + system of this process, median) "
        "is what the wall time would be on an idle machine (the simulator is "
        "single-threaded and does no I/O); when other jobs load the machine, judge the "
        "target on it.",
        "",
        harness.markdown_table(rows),
    ]
    if notes:
        text += ["", *notes]
    return "\n".join(text)


def main(quick: bool = False) -> str:
    """Full: small ×5, medium ×3, 1M customers' orders ×3. Quick: small ×3, medium, 100k."""
    return _run(QUICK if quick else FULL)


def smoke() -> str:
    """The tiny shop once, with its peak memory (a few seconds)."""
    return _run(SMOKE)


if __name__ == "__main__":
    print(main(quick="--quick" in sys.argv))
