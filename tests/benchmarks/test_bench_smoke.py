"""Tiny smoke runs of every benchmarks/bench_*.py (so they cannot rot), and harness tests.

Each bench script must expose ``main(quick: bool) -> str`` and ``smoke() -> str``; the smoke
run goes through the same code path on tiny inputs and returns a Markdown section.
"""

from __future__ import annotations

import inspect
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH_DIR = ROOT / "benchmarks"
sys.path.insert(0, str(BENCH_DIR))

import harness  # noqa: E402
import run as bench_run  # noqa: E402

SCRIPTS = sorted(BENCH_DIR.glob("bench_*.py"))


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_bench_script_smoke(path):
    module = bench_run.load(path)
    assert callable(getattr(module, "main", None)), f"{path.name} needs main(quick: bool) -> str"
    assert "quick" in inspect.signature(module.main).parameters
    assert callable(getattr(module, "smoke", None)), (
        f"{path.name} needs smoke() -> str: a tiny run of the same code path (benchmarks/README.md)")
    before = {p.name for p in (BENCH_DIR / "results").glob("*.md")} \
        if (BENCH_DIR / "results").is_dir() else set()
    section = module.smoke()
    assert isinstance(section, str) and section.startswith("## "), "a section starts with '## '"
    assert "|" in section, "the section reports a table"
    after = {p.name for p in (BENCH_DIR / "results").glob("*.md")} \
        if (BENCH_DIR / "results").is_dir() else set()
    assert after == before, "smoke() must not write result files"


def test_discover_finds_every_script():
    assert set(bench_run.discover()) == {p.stem.removeprefix("bench_") for p in SCRIPTS}


# ----------------------------------------------------------------------------- harness


def test_timeit_counts_repeats_and_measures_sleep():
    calls = []
    times = harness.timeit(lambda: (calls.append(1), time.sleep(0.01)), repeat=3, warmup=2)
    assert len(times) == 3 and len(calls) == 5
    assert all(t >= 0.009 for t in times)
    assert harness.median([3.0, 1.0, 2.0]) == 2.0
    with pytest.raises(ValueError):
        harness.timeit(lambda: None, repeat=0)


def test_compare_interleaves_and_computes_ratios():
    order = []
    cmp = harness.compare(lambda: order.append("o") or "ours", lambda: order.append("p") or "peer",
                          repeat=3, warmup=1)
    assert "".join(order) == "op" * 4  # one warm-up pair, then three interleaved timed pairs
    assert len(cmp.ours) == len(cmp.peer) == 3
    assert (cmp.ours_result, cmp.peer_result) == ("ours", "peer")
    fixed = harness.Comparison(ours=[1.0, 2.0, 9.0], peer=[4.0, 4.0, 5.0])
    # medians 2 and 4: ours takes half the peer's time
    assert fixed.ratio == 0.5 and fixed.speedup == 2.0


def test_assert_same_frames_params_itemsets():
    a = pd.DataFrame({"customer_id": [1, 2, 3], "monetary": [10.0, 20.0, 30.0]})
    b = a.iloc[::-1].assign(monetary=lambda d: d["monetary"] * (1 + 1e-5))
    assert "max relative difference 1.0e-05" in harness.assert_same_frame(b, a)
    with pytest.raises(AssertionError, match="monetary"):
        harness.assert_same_frame(a.assign(monetary=[10.0, 20.0, 31.0]), a)
    assert harness.assert_same(a.set_index("customer_id"), a).startswith("same")

    assert "max relative difference" in harness.assert_same_params(
        {"r": 0.2430, "alpha": 4.414}, {"r": 0.2425, "alpha": 4.414}, rtol=3e-3)
    with pytest.raises(AssertionError, match="r differs"):
        harness.assert_same_params({"r": 0.25, "alpha": 4.414}, {"r": 0.2425, "alpha": 4.414})
    with pytest.raises(AssertionError, match="names differ"):
        harness.assert_same_params({"r": 1.0}, {"s": 1.0})

    ours = pd.DataFrame({"support": [0.5, 0.2], "itemsets": [frozenset({1}), frozenset({1, 2})]})
    peer = pd.DataFrame({"support": [0.2, 0.5], "itemsets": [frozenset({2, 1}), frozenset({1})]})
    assert "2 itemsets" in harness.assert_same(ours, peer)
    with pytest.raises(AssertionError, match="misses 1"):
        harness.assert_same_itemsets(ours.iloc[:1], peer)
    assert harness.assert_same(np.array([1.0, 2.0]), [1.0, 2.0 + 1e-6]).startswith("same")
    with pytest.raises(AssertionError):
        harness.assert_same(3.0, 3.1)


def test_peak_rss_sees_a_big_allocation():
    small = harness.peak_rss("numpy:zeros", 10)
    # numpy.ones writes every page: 400 MB of float64 must raise the high-water mark by ~381 MiB
    big = harness.peak_rss("numpy:ones", 50_000_000)
    assert big.growth_mib > 300 and small.growth_mib < 50
    assert "MiB max RSS" in big.describe()
    with pytest.raises(ValueError, match="module:function"):
        harness.peak_rss("numpy.zeros")


def test_traced_peak_counts_numpy_buffers():
    peak, arr = harness.traced_peak(lambda: np.ones(2_000_000))  # 16 MB
    assert 14 < peak < 40 and arr.size == 2_000_000


def test_sections_assemble_with_machine_description(tmp_path):
    harness.write_section("simulate", "## Sim\n\n| a |\n|---|\n| 1 |", tmp_path)
    harness.write_section("zzz", "## Last", tmp_path)
    harness.write_section("course_build", "## Build", tmp_path)
    out = harness.assemble(tmp_path, tmp_path / "RESULTS.md")
    text = out.read_text(encoding="utf-8")
    assert "## Machine" in text and "CPU:" in text and "pandas" in text and "lifetimes" in text
    assert text.index("## Build") < text.index("## Sim") < text.index("## Last")
    with pytest.raises(ValueError):
        harness.write_section("../evil", "x", tmp_path)


def test_stamp_adds_the_run_line():
    text = bench_run.stamp("## Title\n\nbody", "simulate", quick=True, seconds=12.3)
    lines = text.splitlines()
    assert lines[0] == "## Title" and "quick mode" in lines[2] and "--only simulate" in lines[2]
    assert bench_run.stamp("no heading", "x", quick=False, seconds=1).startswith("## x")


def test_quick_runs_never_overwrite_the_committed_results(tmp_path, monkeypatch):
    """Issue 33: `make bench QUICK=1` wrote smoke figures over RESULTS.md and results/*.md."""
    committed = {p: p.read_bytes() for p in [harness.RESULTS_FILE, *harness.RESULTS_DIR.glob("*.md")]}
    monkeypatch.setattr(bench_run, "QUICK_DIR", tmp_path / "quick")
    fake = tmp_path / "bench_fake.py"
    fake.write_text("def main(quick):\n    return '## Fake\\n\\nquick' if quick else '## Fake\\n\\nfull'\n")
    monkeypatch.setattr(bench_run, "discover", lambda: {"fake": fake})
    assert bench_run.run(["fake"], quick=True) == 0
    assert (tmp_path / "quick" / "results" / "fake.md").is_file()
    assert "## Fake" in (tmp_path / "quick" / "RESULTS.md").read_text()
    assert {p: p.read_bytes() for p in committed} == committed
    assert not (harness.RESULTS_DIR / "fake.md").exists()
