"""The benchmark harness: timing, peak memory, agreement checks, result sections.

Every ``benchmarks/bench_<name>.py`` uses these helpers and exposes

- ``main(quick: bool = False) -> str``: run the workload (ours and the peer, in the same
  run) and return a Markdown section starting with ``## <title>``; ``benchmarks/run.py``
  writes it to ``benchmarks/results/<name>.md`` and assembles ``benchmarks/RESULTS.md``;
- ``smoke() -> str``: the same code path on tiny inputs in a few seconds (the test tier runs
  it so the script cannot rot; it must not write files).

Timing: :func:`timeit` runs ``warmup`` untimed calls, then ``repeat`` timed calls
(``time.perf_counter``, garbage collected before each) and returns the seconds; report
:func:`median`. :func:`compare` times ours and the peer alternately in one run and returns
medians and the ratio.

Peak memory, honestly labelled:

- :func:`peak_rss` runs a function in a *fresh Python subprocess* and reports the process's
  peak resident set size (Linux ``VmHWM`` from ``/proc/self/status``; elsewhere
  ``ru_maxrss``): everything the OS gave the process, including the interpreter and
  imported libraries, and the same figure just before the call (the baseline after
  imports); the difference is the workload's growth of the high-water mark.
- :func:`traced_peak` reports ``tracemalloc``'s peak of memory allocated through Python's
  allocators during a call (NumPy buffers included, Arrow buffers not); it slows pure-Python
  code down, so never time under it.

Results count only when outputs agree: :func:`assert_same` (and the typed helpers
:func:`assert_same_frame`, :func:`assert_same_params`, :func:`assert_same_itemsets`) raise
``AssertionError`` when ours and the peer's differ beyond ``rtol``, and otherwise return a
one-line description of the agreement to print in the section.
"""

from __future__ import annotations

import datetime as _dt
import gc
import importlib.metadata
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
RESULTS_FILE = BENCH_DIR / "RESULTS.md"
CACHE_DIR = BENCH_DIR / ".cache"

#: Packages whose versions head RESULTS.md.
PACKAGES = ("crmlab", "numpy", "pandas", "scipy", "scikit-learn", "mlxtend", "duckdb",
            "lifetimes", "pyarrow", "papermill", "seaborn")

#: Order of sections in RESULTS.md (others follow alphabetically).
SECTION_ORDER = ("course_build", "bgnbd", "rfm", "basket", "recommend", "simulate")


# ----------------------------------------------------------------------------- timing


def _timed(fn: Callable[[], Any], repeat: int, warmup: int) -> tuple[list[float], Any]:
    if repeat < 1 or warmup < 0:
        raise ValueError(f"timeit: repeat={repeat} must be >= 1 and warmup={warmup} >= 0")
    result = None
    for _ in range(warmup):
        result = fn()
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return times, result


def timeit(fn: Callable[[], Any], repeat: int = 5, warmup: int = 1) -> list[float]:
    """Seconds of ``repeat`` calls of ``fn()`` after ``warmup`` untimed calls."""
    return _timed(fn, repeat, warmup)[0]


def timeit_result(fn: Callable[[], Any], repeat: int = 5,
                  warmup: int = 1) -> tuple[list[float], Any]:
    """Like :func:`timeit`, also returning the last call's result (to check agreement)."""
    return _timed(fn, repeat, warmup)


def median(values: Sequence[float]) -> float:
    """The median of ``values`` (the figure every section reports)."""
    if not values:
        raise ValueError("median of no timings")
    return float(statistics.median(values))


@dataclass
class Comparison:
    """Ours vs the peer on one workload: medians in seconds and ``ratio`` = ours / peer."""

    ours: list[float]
    peer: list[float]
    ours_result: Any = field(default=None, repr=False)
    peer_result: Any = field(default=None, repr=False)

    @property
    def ours_median(self) -> float:
        return median(self.ours)

    @property
    def peer_median(self) -> float:
        return median(self.peer)

    @property
    def ratio(self) -> float:
        """Our median time over the peer's (< 1 means we are faster)."""
        return self.ours_median / self.peer_median

    @property
    def speedup(self) -> float:
        """The peer's median time over ours (> 1 means we are faster)."""
        return self.peer_median / self.ours_median


def compare(ours: Callable[[], Any], peer: Callable[[], Any], *, repeat: int = 5,
            warmup: int = 1) -> Comparison:
    """Time ``ours`` and ``peer`` alternately (so machine load hits both alike).

    Each gets ``warmup`` untimed calls, then ``repeat`` timed calls interleaved
    ours, peer, ours, peer, … . The last results are kept for :func:`assert_same`.
    """
    if repeat < 1 or warmup < 0:
        raise ValueError(f"compare: repeat={repeat} must be >= 1 and warmup={warmup} >= 0")
    ours_result = peer_result = None
    for _ in range(warmup):
        ours_result = ours()
        peer_result = peer()
    t_ours, t_peer = [], []
    for _ in range(repeat):
        t, ours_result = _timed(ours, 1, 0)
        t_ours += t
        t, peer_result = _timed(peer, 1, 0)
        t_peer += t
    return Comparison(t_ours, t_peer, ours_result, peer_result)


# ----------------------------------------------------------------------------- memory


_PEAK_SCRIPT = r"""
import importlib, json, resource, sys, time
sys.path[:0] = {paths!r}

def high_water_kib():
    # VmHWM: peak RSS of this address space (Linux). ru_maxrss would also count the parent's
    # pages before exec (Linux keeps the larger of the two), so prefer VmHWM where it exists.
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    scale = 1024 if sys.platform == "darwin" else 1  # macOS reports bytes
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // scale

module = importlib.import_module({module!r})
fn = getattr(module, {function!r})
args, kwargs = json.loads({payload!r})
base = high_water_kib()
start = time.perf_counter()
fn(*args, **kwargs)
seconds = time.perf_counter() - start
peak = high_water_kib()
print("@@PEAK@@" + json.dumps({{"baseline_kib": base, "peak_kib": peak, "seconds": seconds}}))
"""


@dataclass(frozen=True)
class PeakMemory:
    """Max RSS of a fresh process running one call (MiB), and its baseline after imports."""

    peak_mib: float
    baseline_mib: float
    seconds: float

    @property
    def growth_mib(self) -> float:
        return self.peak_mib - self.baseline_mib

    def describe(self) -> str:
        return (f"{self.peak_mib:,.0f} MiB max RSS ({self.growth_mib:,.0f} MiB above the "
                f"{self.baseline_mib:,.0f} MiB after imports)")


def peak_rss(target: str, *args: Any, timeout: float = 1800, **kwargs: Any) -> PeakMemory:
    """Run ``module:function(*args, **kwargs)`` in a fresh Python and measure its max RSS.

    ``target`` names an importable function (``"crmlab.data:simulate"``, or a bench
    module's helper such as ``"bench_simulate:_simulate_orders"``: the benchmarks folder is
    on the path). Arguments must be JSON-serialisable.
    """
    if ":" not in target:
        raise ValueError(f"peak_rss: target {target!r} must look like 'module:function'")
    module, function = target.split(":", 1)
    script = _PEAK_SCRIPT.format(paths=[str(BENCH_DIR)], module=module, function=function,
                                 payload=json.dumps([list(args), kwargs]))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=timeout, check=False)
    # The marker may share its line with text the call left without a newline (DuckDB's
    # progress bar writes "\r[====]" to stdout on long queries), so look for it anywhere.
    line = next((ln[ln.index("@@PEAK@@"):] for ln in proc.stdout.splitlines()
                 if "@@PEAK@@" in ln), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"peak_rss({target}) failed (exit {proc.returncode}):\n"
                           f"{proc.stderr[-2000:]}")
    data = json.loads(line.removeprefix("@@PEAK@@"))
    return PeakMemory(peak_mib=data["peak_kib"] / 1024, baseline_mib=data["baseline_kib"] / 1024,
                      seconds=data["seconds"])


def traced_peak(fn: Callable[[], Any]) -> tuple[float, Any]:
    """``(peak MiB allocated via Python/NumPy during fn(), result)`` using tracemalloc."""
    import tracemalloc

    gc.collect()
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    try:
        result = fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return (peak - before) / 2**20, result


# ----------------------------------------------------------------------------- agreement


def _rel_diff(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    both_nan = np.isnan(a) & np.isnan(b)
    denom = np.maximum(np.abs(b), 1e-12)
    diff = np.where(both_nan, 0.0, np.abs(a - b) / denom)
    if np.isnan(diff).any():
        return math.inf
    return float(diff.max()) if diff.size else 0.0


def assert_same_frame(ours: pd.DataFrame, peer: pd.DataFrame, rtol: float = 1e-3, *,
                      ignore_row_order: bool = True, what: str = "table") -> str:
    """Same columns (any order), same rows (any order unless told), numbers within ``rtol``.

    Index labels count when they are meaningful (not a default 0..n-1 index); a key kept
    as a column on one side and as the index on the other is accepted.
    """
    from crmlab.exercises.compare import compare as _compare

    if not isinstance(ours, pd.DataFrame) or not isinstance(peer, pd.DataFrame):
        raise AssertionError(f"{what}: expected two DataFrames, got "
                             f"{type(ours).__name__} and {type(peer).__name__}")
    verdict = _compare(ours, peer, rtol=rtol, atol=0.0, ignore_row_order=ignore_row_order)
    if not verdict.ok:
        raise AssertionError(f"{what}: ours differs from the peer's: "
                             f"{verdict.reason.replace('your answer', 'ours')}")
    shape = f"{len(peer):,} rows × {peer.shape[1]} columns"
    worst = _frame_worst_rel_diff(ours, peer) if ignore_row_order else None
    if worst is None:
        return f"same {what}: {shape}"
    return f"same {what}: {shape}, max relative difference {worst:.1e}"


def _frame_worst_rel_diff(ours: pd.DataFrame, peer: pd.DataFrame) -> float | None:
    """Largest relative difference of numeric columns after aligning rows (best effort)."""

    def flat(frame: pd.DataFrame) -> pd.DataFrame:
        idx = frame.index
        default = isinstance(idx, pd.RangeIndex) and idx.name is None
        return frame.reset_index(drop=default)

    try:
        o, p = flat(ours), flat(peer)
        cols = [c for c in p.columns if c in o.columns]
        numeric = [c for c in cols if pd.api.types.is_numeric_dtype(p[c])
                   and not pd.api.types.is_bool_dtype(p[c])]
        if not numeric or not len(p):
            return None
        keys = [c for c in cols if c not in numeric] + numeric
        o = o[cols].sort_values(keys, kind="stable").reset_index(drop=True)
        p = p[cols].sort_values(keys, kind="stable").reset_index(drop=True)
        return max(_rel_diff(o[c].to_numpy(float), p[c].to_numpy(float)) for c in numeric)
    except (TypeError, ValueError, KeyError):
        return None


def assert_same_params(ours: Mapping[str, float], peer: Mapping[str, float],
                       rtol: float = 1e-3, *, what: str = "parameters") -> str:
    """Same parameter names, every value within ``rtol`` relative of the peer's."""
    ours, peer = dict(ours), dict(peer)
    if set(ours) != set(peer):
        raise AssertionError(f"{what}: names differ: ours {sorted(ours)}, peer {sorted(peer)}")
    worst_name, worst = None, 0.0
    for name, p in peer.items():
        rel = _rel_diff(np.array([ours[name]]), np.array([p]))
        if rel > worst:
            worst_name, worst = name, rel
    if worst > rtol:
        raise AssertionError(f"{what}: {worst_name} differs by {worst:.2e} relative "
                             f"(ours {ours[worst_name]!r}, peer {peer[worst_name]!r}; "
                             f"allowed {rtol:g})")
    return f"same {what} ({', '.join(sorted(peer))}): max relative difference {worst:.1e}"


def _itemset_map(itemsets: Any) -> dict[frozenset, float | None]:
    if isinstance(itemsets, pd.DataFrame):
        if "itemsets" not in itemsets.columns:
            raise AssertionError("itemsets frame needs an 'itemsets' column (mlxtend format)")
        support = itemsets["support"] if "support" in itemsets.columns else [None] * len(itemsets)
        return {frozenset(s): (None if v is None else float(v))
                for s, v in zip(itemsets["itemsets"], support, strict=True)}
    if isinstance(itemsets, Mapping):
        return {frozenset(k): (None if v is None else float(v)) for k, v in itemsets.items()}
    return {frozenset(s): None for s in itemsets}


def assert_same_itemsets(ours: Any, peer: Any, rtol: float = 1e-3, *,
                         what: str = "itemsets") -> str:
    """Same frequent itemsets (as sets of items) and supports within ``rtol``.

    Accepts mlxtend frames (``support``, ``itemsets``), ``{itemset: support}`` dicts or
    plain collections of itemsets.
    """
    a, b = _itemset_map(ours), _itemset_map(peer)
    missing, extra = set(b) - set(a), set(a) - set(b)
    if missing or extra:
        raise AssertionError(f"{what}: ours misses {len(missing)} and adds {len(extra)} "
                             f"itemsets (of the peer's {len(b)}); e.g. "
                             f"{sorted(map(sorted, list(missing or extra)[:2]))}")
    pairs = [(a[k], b[k]) for k in b if a[k] is not None and b[k] is not None]
    worst = _rel_diff(np.array([x for x, _ in pairs]), np.array([y for _, y in pairs])) \
        if pairs else 0.0
    if worst > rtol:
        raise AssertionError(f"{what}: supports differ by up to {worst:.2e} relative")
    return f"same {what}: {len(b):,} itemsets, max relative support difference {worst:.1e}"


def assert_same(ours: Any, peer: Any, rtol: float = 1e-3, *, what: str = "output") -> str:
    """Dispatch on type: frames, parameter dicts, arrays, numbers, else exact equality."""
    if isinstance(peer, pd.DataFrame) and "itemsets" in peer.columns:
        return assert_same_itemsets(ours, peer, rtol, what=what)
    if isinstance(peer, pd.DataFrame):
        return assert_same_frame(ours, peer, rtol, what=what)
    if isinstance(peer, pd.Series):
        return assert_same_frame(pd.Series(ours).to_frame("value"), peer.to_frame("value"),
                                 rtol, ignore_row_order=False, what=what)
    if isinstance(peer, Mapping) and all(isinstance(v, int | float | np.number)
                                         for v in peer.values()):
        return assert_same_params(ours, peer, rtol, what=what)
    if isinstance(peer, np.ndarray | list | tuple) and np.asarray(peer).dtype.kind in "fiub":
        a, b = np.asarray(ours, dtype=float), np.asarray(peer, dtype=float)
        if a.shape != b.shape:
            raise AssertionError(f"{what}: shapes differ: ours {a.shape}, peer {b.shape}")
        worst = _rel_diff(a, b)
        if worst > rtol:
            raise AssertionError(f"{what}: max relative difference {worst:.2e} > {rtol:g}")
        return f"same {what}: {b.size:,} values, max relative difference {worst:.1e}"
    if isinstance(peer, int | float | np.number):
        return assert_same_params({what: ours}, {what: peer}, rtol, what=what)
    if ours != peer:
        raise AssertionError(f"{what}: ours differs from the peer's")
    return f"same {what}"


# ----------------------------------------------------------------------------- reporting


def fmt_seconds(seconds: float) -> str:
    """``0.0123`` -> ``12.3 ms``; ``3.4`` -> ``3.40 s``; ``75`` -> ``75.0 s``."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    if seconds < 10:
        return f"{seconds:.2f} s"
    return f"{seconds:.1f} s"


def markdown_table(rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """A GitHub Markdown table from dicts (columns from the first row unless given)."""
    rows = list(rows)
    if not rows:
        return "_(no rows)_"
    columns = list(columns or rows[0].keys())
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(str(row.get(c, "")) for c in columns) + " |")
    return "\n".join(lines)


def verdict(value: float, target: float, *, lower_is_better: bool = True) -> str:
    """``"✅ meets"`` / ``"❌ misses"`` the target (for the sections' target column)."""
    ok = value <= target if lower_is_better else value >= target
    return "✅ meets" if ok else "❌ misses"


def write_section(name: str, markdown: str, results_dir: Path | None = None) -> Path:
    """Write ``benchmarks/results/<name>.md`` (one section of RESULTS.md)."""
    if not name or not name.replace("_", "").isalnum():
        raise ValueError(f"write_section: name {name!r} must be letters, digits and '_'")
    folder = Path(results_dir) if results_dir is not None else RESULTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.md"
    path.write_text(markdown.rstrip() + "\n", encoding="utf-8")
    return path


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return None


def package_versions(names: Iterable[str] = PACKAGES) -> dict[str, str]:
    """Installed versions (``"not installed"`` when absent)."""
    out = {}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def machine_description() -> str:
    """Markdown: CPU model, cores, RAM, OS, Python and package versions."""
    cores = os.cpu_count()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = cores
    ram = _ram_gib()
    try:
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        load = "n/a"
    lines = [
        f"- CPU: {_cpu_model()}, {cores} logical cores ({usable} usable by this process)",
        f"- RAM: {ram:.1f} GiB" if ram else "- RAM: unknown",
        f"- OS: {platform.platform()}",
        f"- Python: {platform.python_version()} ({platform.python_implementation()})",
        f"- load average when assembled (1/5/15 min): {load}",
        "- packages: " + ", ".join(f"{k} {v}" for k, v in package_versions().items()),
    ]
    return "\n".join(lines)


def _section_key(path: Path) -> tuple[int, str]:
    name = path.stem
    return (SECTION_ORDER.index(name) if name in SECTION_ORDER else len(SECTION_ORDER), name)


def assemble(results_dir: Path | None = None, out: Path | None = None) -> Path:
    """Write ``benchmarks/RESULTS.md``: the machine, then every section in results/."""
    folder = Path(results_dir) if results_dir is not None else RESULTS_DIR
    out = Path(out) if out is not None else RESULTS_FILE
    sections = sorted(folder.glob("*.md"), key=_section_key) if folder.is_dir() else []
    now = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    parts = [
        "# Benchmark results",
        "",
        f"Assembled {now} by `python benchmarks/run.py` (`make bench`). Each section says when "
        "and in which mode (quick/full) it was run; a section is only rewritten when its "
        "script runs. Times are medians of repeated runs on this machine; ratios compare "
        "ours with the peer measured in the same run. A result counts only when our output "
        "equals the peer's (each section says how that was checked).",
        "",
        "## Machine",
        "",
        machine_description(),
        "",
    ]
    for path in sections:
        parts += [path.read_text(encoding="utf-8").rstrip(), ""]
    if not sections:
        parts += ["_No sections yet: run `python benchmarks/run.py`._", ""]
    out.write_text("\n".join(parts), encoding="utf-8")
    return out
