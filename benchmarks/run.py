"""Run the benchmarks and assemble benchmarks/RESULTS.md.

::

    python benchmarks/run.py [--quick] [--only NAME ...] [--list] [--no-assemble]

Every ``benchmarks/bench_<name>.py`` exposes ``main(quick: bool) -> str`` (a Markdown
section starting with ``## <title>``). Each is run in turn; its section is written to
``benchmarks/results/<name>.md`` with a line saying when and in which mode it ran, and
``RESULTS.md`` is assembled from every section file (so ``--only`` refreshes one section and
keeps the others). A failing script is reported, the others still run, and the exit code
is 1. ``make bench`` / ``make bench QUICK=1`` call this.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib.util
import os
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

import harness  # noqa: E402  (the benchmarks folder is put on the path just above)


def discover(bench_dir: Path = BENCH_DIR) -> dict[str, Path]:
    """``{name: path}`` of every ``bench_<name>.py``, sorted by name."""
    return {p.stem.removeprefix("bench_"): p for p in sorted(bench_dir.glob("bench_*.py"))}


def load(path: Path) -> ModuleType:
    """Import a bench script as a module (its folder is on ``sys.path``)."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ValueError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


#: Where quick (smoke) runs write: never over the committed full results.
QUICK_DIR = BENCH_DIR.parent / "build" / "bench-quick"


def stamp(markdown: str, name: str, quick: bool, seconds: float) -> str:
    """Put ``_run: <date>, <mode> mode, <seconds>_`` under the section's ``##`` heading."""
    text = markdown.strip()
    if not text.startswith("## "):
        text = f"## {name}\n\n{text}"
    heading, _, body = text.partition("\n")
    when = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    mode = "quick" if quick else "full"
    load = f", load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the end" \
        if hasattr(os, "getloadavg") else ""
    line = (f"_Run {when} in {mode} mode (`python benchmarks/run.py{' --quick' if quick else ''}"
            f" --only {name}`), {seconds:.0f} s{load}._")
    return f"{heading}\n\n{line}\n{body}"


def run(names: Sequence[str] | None = None, quick: bool = False, assemble: bool = True,
        results_dir: Path | None = None) -> int:
    """Run the named benchmarks (all by default); return the number that failed.

    A quick (smoke) run writes its sections to ``build/bench-quick/results/`` and its
    ``build/bench-quick/RESULTS.md``, so it never overwrites the committed full-run figures in
    ``benchmarks/``. Another ``results_dir`` gets its RESULTS.md beside it.
    """
    if quick and results_dir is None:
        results_dir = QUICK_DIR / "results"
    available = discover()
    wanted = list(names) if names else list(available)
    unknown = [n for n in wanted if n.removeprefix("bench_") not in available]
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {unknown}; available: {list(available)}")
    failures = 0
    for name in (n.removeprefix("bench_") for n in wanted):
        print(f"== {name} ({'quick' if quick else 'full'})", flush=True)
        start = time.perf_counter()
        try:
            module = load(available[name])
            section = module.main(quick=quick)
        except Exception:  # report and go on: one broken script must not hide the others
            failures += 1
            print(f"!! {name} failed:\n{traceback.format_exc()}", file=sys.stderr, flush=True)
            continue
        seconds = time.perf_counter() - start
        path = harness.write_section(name, stamp(section, name, quick, seconds), results_dir)
        print(f"   {seconds:.0f} s -> {path}", flush=True)
    if assemble:
        out = harness.assemble(results_dir,
                               out=None if results_dir is None else Path(results_dir).parent / "RESULTS.md")
        print(f"assembled {out}")
    return failures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repetitions")
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help="only these benchmarks (e.g. simulate course_build)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--no-assemble", action="store_true", help="do not rewrite RESULTS.md")
    args = parser.parse_args(argv)
    if args.list:
        for name, path in discover().items():
            print(f"{name:20s} {path.name}")
        return 0
    failures = run(args.only, quick=args.quick, assemble=not args.no_assemble)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
