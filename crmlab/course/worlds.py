"""The world sweep: the whole course executed in many simulated worlds (``make worlds``).

Instructors regenerate the course with other seeds and sizes, so every notebook must run,
and every reading it prints must hold, in any world, not only in the shipped default. A
*world* is a set of notebook parameters (``DATA``, ``SEED``) and, optionally, simulator knobs
(a shop simulated with those knobs is saved to a folder and passed as ``DATA``).

:func:`sweep` executes every notebook in every world, ``jobs`` at a time, and returns one
row per (world, notebook): ``ok`` or the failing cell and error, the seconds it took, how many
results it recorded and how many claims (:func:`crmlab.nb.claim`) took their alternative
reading. :func:`matrix_markdown` renders the worlds x notebooks matrix that ``make worlds``
writes to ``benchmarks/results/worlds.md``.

Two worlds hold **real data** (``real``): ``cdnow`` (the CDNOW sample of Fader & Hardie, the
copy shipped in the ``lifetimes`` dev dependency, read by :func:`crmlab.data.read_cdnow`) and
``online-retail`` (a deterministic sample in the UCI Online Retail II format,
:func:`crmlab.data.readers.online_retail_sample`, written to CSV and read by
:func:`crmlab.data.read_online_retail`). :meth:`World.prepare` writes each shop with
:func:`crmlab.data.save_shop` to ``<out>/shops/<world>/`` (what a researcher does with their own
file, see datasets/README.md) and the world passes that folder as ``DATA``. Real data have no
planted truth and only the tables a transaction log gives (customers, orders, order_items,
products), so a real-data world runs only the notebooks listed in its ``notebooks`` (the ones
that say in one line what they skip, :func:`crmlab.nb.skipped`); ``pending`` names notebooks
that should run on real data but do not yet. The matrix marks the others ``not run`` and the
pending ones ``pending``.

The seeds are arbitrary and chosen once; the notebooks are not tuned to them. CI runs
:data:`CI_WORLDS` (two seeds other than the default, at ``tiny``) through
``tests/worlds/``; the full sweep (:data:`WORLDS`) is the slow tier.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import datetime as _dt
import json
import os
import platform
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class World:
    """One world: notebook parameters, plus simulator knobs when it needs its own shop."""

    name: str
    description: str
    parameters: Mapping[str, Any]
    knobs: Mapping[str, Any] = field(default_factory=dict)
    #: ``"cdnow"`` or ``"online-retail"``: the world's shop is read from real data (:data:`REAL_SOURCES`).
    real: str = ""
    #: Notebook number prefixes this world runs (e.g. ``("04", "05")``); empty = every notebook.
    notebooks: tuple[str, ...] = ()
    #: Notebooks that should run in this world but do not yet (marked ``pending`` in the matrix).
    pending: tuple[str, ...] = ()

    def notebook_parameters(self, shops_dir: Path) -> dict[str, Any]:
        """The parameters to inject; a world with knobs or real data reads its shop from ``shops_dir``."""
        params = dict(self.parameters)
        if self.knobs or self.real:
            params["DATA"] = str((shops_dir / self.name).resolve())
        return params

    def runs(self, stem: str) -> bool:
        """Whether this world runs the notebook ``stem`` (all of them unless ``notebooks`` says)."""
        return not self.notebooks or stem.startswith(self.notebooks)

    def prepare(self, shops_dir: Path) -> None:
        """Write this world's shop when it has knobs or real data (once; reused after)."""
        if not (self.knobs or self.real):
            return
        from crmlab.data import save_shop, simulate

        folder = shops_dir / self.name
        if (folder / "config.json").exists():
            return
        if self.real:
            save_shop(real_shop(self.real, shops_dir), folder)
            return
        size = self.parameters.get("DATA", "small")
        size = int(size) if isinstance(size, str) and size.isdigit() else size
        shop = simulate(size, seed=int(self.parameters.get("SEED", 42)), **self.knobs)
        save_shop(shop, folder)


#: The notebooks that run on real data (a transaction log without truth), by number prefix.
REAL_DATA_NOTEBOOKS: tuple[str, ...] = ("02", "04", "05", "06")
#: The real-data sources a world can name in ``real``.
REAL_SOURCES: tuple[str, ...] = ("cdnow", "online-retail")


def lifetimes_cdnow_file(name: str = "CDNOW_sample.txt") -> Path:
    """The CDNOW file shipped in the ``lifetimes`` package (a dev dependency); nothing is downloaded."""
    import importlib.metadata

    try:
        dist = importlib.metadata.distribution("lifetimes")
    except importlib.metadata.PackageNotFoundError:
        raise ValueError("worlds: the cdnow world reads CDNOW from the lifetimes package; install the dev "
                         "dependencies (pip install -e '.[dev]')") from None
    for f in dist.files or []:
        if f.name == name and "datasets" in f.parts and Path(dist.locate_file(f)).is_file():
            return Path(dist.locate_file(f))
    raise ValueError(f"worlds: the lifetimes distribution has no datasets/{name}; reinstall lifetimes")


def real_shop(source: str, work_dir: Path) -> Any:
    """The shop of a real-data world: ``"cdnow"`` or ``"online-retail"`` (its CSV written to ``work_dir``)."""
    from crmlab.data import read_cdnow, read_online_retail
    from crmlab.data.readers import online_retail_sample

    if source == "cdnow":
        return read_cdnow(lifetimes_cdnow_file())
    if source == "online-retail":
        work_dir.mkdir(parents=True, exist_ok=True)
        csv = work_dir / "online_retail_II_sample.csv"
        online_retail_sample().to_csv(csv, index=False)
        return read_online_retail(csv)
    raise ValueError(f"worlds: unknown real-data source {source!r}; choose from {list(REAL_SOURCES)}")


#: The full sweep: several seeds at the shipped size, the test size, a bigger size, a custom
#: customer count, and a shop whose campaigns change nothing.
WORLDS: tuple[World, ...] = (
    World("small-42", "the shipped default shop", {"DATA": "small", "SEED": 42}),
    World("small-7", "another seed at the shipped size", {"DATA": "small", "SEED": 7}),
    World("small-2027", "another seed at the shipped size", {"DATA": "small", "SEED": 2027}),
    World("small-314", "another seed at the shipped size", {"DATA": "small", "SEED": 314}),
    World("tiny-42", "the test size (300 members, one year)", {"DATA": "tiny", "SEED": 42}),
    World("tiny-7", "the test size, another seed", {"DATA": "tiny", "SEED": 7}),
    World("tiny-2027", "the test size, another seed", {"DATA": "tiny", "SEED": 2027}),
    World("n900-11", "a custom member count (900 over two years)", {"DATA": "900", "SEED": 11}),
    World("medium-42", "the medium shop (20,000 members)", {"DATA": "medium", "SEED": 42}),
    World("no-uplift-5", "campaigns change nothing (campaign_uplift_scale=0)",
          {"DATA": "small", "SEED": 5}, {"campaign_uplift_scale": 0.0}),
    World("cdnow", "real data: the CDNOW sample (2,357 CD buyers, 1997-98; no truth, one product)",
          {"SEED": 42}, real="cdnow", notebooks=REAL_DATA_NOTEBOOKS),
    World("online-retail", "real data: an Online Retail II sample (no truth, no visits or campaigns)",
          {"SEED": 42}, real="online-retail", notebooks=REAL_DATA_NOTEBOOKS),
)

#: The worlds CI runs (tests/worlds): two seeds other than the default, at the test size.
CI_WORLDS: tuple[str, ...] = ("tiny-7", "tiny-2027")


def world(name: str) -> World:
    """The world called ``name`` (see :data:`WORLDS`)."""
    for w in WORLDS:
        if w.name == name:
            return w
    raise ValueError(f"unknown world {name!r}; choose from {[w.name for w in WORLDS]}")


@dataclass
class Outcome:
    """What happened to one notebook in one world."""

    world: str
    notebook: str
    ok: bool
    seconds: float
    cell: int | None = None
    error: str = ""
    n_results: int = 0
    n_claims: int = 0
    alternatives: list[str] = field(default_factory=list)


def _run_one(source: Path, output: Path, params: dict[str, Any], world_name: str,
             timeout: int | None) -> Outcome:
    """Execute one notebook in one world (in a worker process); never raises."""
    from crmlab.course.build import NotebookExecutionError, execute_notebook
    from crmlab.nb import _load_notebook, read_claims, read_results

    start = time.perf_counter()
    try:
        execute_notebook(source, output, params, cwd=source.parent, timeout=timeout)
    except NotebookExecutionError as exc:
        return Outcome(world_name, source.stem, False, time.perf_counter() - start,
                       cell=exc.cell, error=f"{exc.ename}: {exc.evalue}"[:300])
    except Exception as exc:  # a dead kernel or a timeout: report it in the matrix
        return Outcome(world_name, source.stem, False, time.perf_counter() - start,
                       error=f"{type(exc).__name__}: {exc}"[:300])
    executed = _load_notebook(output, "worlds")  # read once for results and claims
    claims = read_claims(executed)
    return Outcome(
        world_name, source.stem, True, time.perf_counter() - start,
        n_results=len(read_results(executed)), n_claims=len(claims),
        alternatives=[c["name"] or f"cell {c['cell']}" for c in claims if not c["holds"]],
    )


def sweep(
    worlds: Iterable[World] = WORLDS,
    notebooks_dir: str | os.PathLike = "notebooks",
    out_dir: str | os.PathLike = "build/worlds",
    only: Iterable[str] | None = None,
    jobs: int = 2,
    per_notebook: Mapping[str, Mapping[str, Any]] | None = None,
    timeout: int | None = 1800,
    progress: bool = True,
) -> list[Outcome]:
    """Execute the course notebooks in every world; return one :class:`Outcome` per pair.

    Executed notebooks go to ``out_dir/<world>/``; shops of worlds with knobs to
    ``out_dir/shops/``. ``per_notebook`` adds parameters to one notebook in every world
    (e.g. the lighter Monte Carlo of tests/notebooks/test_params.yaml). A failing notebook
    does not stop the sweep.
    """
    from crmlab.course.build import discover, worker_setup

    worlds = list(worlds)
    out = Path(out_dir).resolve()
    shops = out / "shops"
    sources = discover(notebooks_dir, only)
    if not sources:
        raise ValueError(f"worlds: no NN_topic.ipynb notebooks in {notebooks_dir}")
    for w in worlds:
        w.prepare(shops)
    per_notebook = per_notebook or {}
    tasks = []
    for w in worlds:
        for src in (s for s in sources if w.runs(s.stem)):
            params = {**w.notebook_parameters(shops), **per_notebook.get(src.stem, {})}
            tasks.append((src.resolve(), out / w.name / src.name, params, w.name, timeout))
    # big worlds first, then long notebooks, so both workers stay busy to the end
    from crmlab.course.build import code_size

    weight = {"medium": 10, "small": 3}
    tasks.sort(key=lambda t: -(weight.get(str(t[2].get("DATA")), 2) * code_size(t[0])))
    outcomes: list[Outcome] = []
    with cf.ProcessPoolExecutor(max_workers=max(1, jobs), initializer=worker_setup) as pool:
        futures = [pool.submit(_run_one, *t) for t in tasks]
        for fut in cf.as_completed(futures):
            o = fut.result()
            outcomes.append(o)
            if progress:
                status = "ok" if o.ok else f"FAILED cell {o.cell}: {o.error[:100]}"
                print(f"[{len(outcomes)}/{len(tasks)}] {o.world} {o.notebook}: {status} "
                      f"({o.seconds:.0f} s)", flush=True)
    order = {w.name: i for i, w in enumerate(worlds)}
    outcomes.sort(key=lambda o: (order[o.world], o.notebook))
    return outcomes


def _column(stem: str) -> str:
    """A notebook's column heading: its number and lecture label (``01 (1b)``), so the parts of
    a split lecture are told apart."""
    from crmlab.units import COURSE_MAP

    number = stem.split("_", 1)[0]
    return f"{number} ({COURSE_MAP[stem].lecture})" if stem in COURSE_MAP else number


def matrix_markdown(outcomes: list[Outcome], worlds: Iterable[World] = WORLDS) -> str:
    """The worlds x notebooks matrix as Markdown: ok (seconds) or the failing cell."""
    worlds = [w for w in worlds if any(o.world == w.name for o in outcomes)]
    notebooks = sorted({o.notebook for o in outcomes})
    cell = {(o.world, o.notebook): o for o in outcomes}
    n_ok = sum(o.ok for o in outcomes)
    lines = [
        "# The course in many worlds",
        "",
        "Written by `make worlds` (`crmlab worlds`, `crmlab/course/worlds.py`): every notebook executed "
        "in every world. A cell shows `ok` and the seconds the notebook took, or the cell that "
        "failed; `alt n` counts the claims (`crmlab.nb.claim`) that took their alternative "
        "reading in that world, which is how a notebook stays true there.",
        "",
        f"{_dt.date.today().isoformat()}, {platform.python_version()} on {platform.machine()}: "
        f"**{n_ok} of {len(outcomes)}** notebook runs ok.",
        "",
        "| world | what it is | parameters | " + " | ".join(_column(n) for n in notebooks) + " |",
        "|---|---|---|" + "---|" * len(notebooks),
    ]
    for w in worlds:
        params = ", ".join(f"{k}={v}" for k, v in w.parameters.items())
        if w.real:
            params += f"; DATA=<{w.real} shop folder>"
        if w.knobs:
            params += "; knobs " + ", ".join(f"{k}={v}" for k, v in w.knobs.items())
        row = []
        for nb in notebooks:
            o = cell.get((w.name, nb))
            if o is None:
                row.append("pending" if nb.startswith(w.pending) else "" if w.runs(nb) else "not run")
            elif o.ok:
                alt = f", alt {len(o.alternatives)}" if o.alternatives else ""
                row.append(f"ok {o.seconds:.0f} s{alt}")
            else:
                row.append(f"**failed** cell {o.cell}")
        lines.append(f"| `{w.name}` | {w.description} | {params} | " + " | ".join(row) + " |")
    failures = [o for o in outcomes if not o.ok]
    lines += ["", "Notebooks: " + ", ".join(f"`{n}`" for n in notebooks) + "."]
    if failures:
        lines += ["", "## Failures", ""]
        lines += [f"- `{o.world}` / `{o.notebook}` cell {o.cell}: {o.error}" for o in failures]
    lines += _alternatives_markdown(outcomes, [w.name for w in worlds])
    return "\n".join(lines) + "\n"


def _alternatives_markdown(outcomes: list[Outcome], world_names: list[str]) -> list[str]:
    """Per notebook and claim, the worlds that took the alternative reading.

    A claim whose alternative is taken in every world is worth a look by the author: its first
    reading is never what the course says.
    """
    taken: dict[str, dict[str, list[str]]] = {}
    for o in outcomes:
        for name in o.alternatives:
            taken.setdefault(o.notebook, {}).setdefault(name, []).append(o.world)
    if not taken:
        return []
    lines = ["", "## Alternative readings taken", "",
             "Per notebook, each claim (`crmlab.nb.claim` / `choose` name) whose alternative reading "
             "was printed, and in which worlds.", ""]
    ran = {(o.world, o.notebook) for o in outcomes if o.ok}
    for nb in sorted(taken):
        n_ran = sum((w, nb) in ran for w in world_names)
        parts = []
        for name, worlds in sorted(taken[nb].items()):
            where = f"every world, {n_ran}" if len(worlds) == n_ran else ", ".join(f"`{w}`" for w in worlds)
            parts.append(f"`{name}` ({where})")
        lines.append(f"- `{nb}`: " + "; ".join(parts))
    return lines


def save_outcomes(outcomes: list[Outcome], path: str | os.PathLike) -> Path:
    """Write outcomes as JSON (what :func:`load_outcomes` and ``--merge`` read back)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([dataclasses.asdict(o) for o in outcomes], indent=1) + "\n",
                    encoding="utf-8")
    return path


def load_outcomes(path: str | os.PathLike) -> list[Outcome]:
    """Outcomes saved by :func:`save_outcomes`; an empty list when the file does not exist."""
    path = Path(path)
    if not path.is_file():
        return []
    try:
        return [Outcome(**row) for row in json.loads(path.read_text(encoding="utf-8"))]
    except (ValueError, TypeError) as exc:
        raise ValueError(f"worlds: {path} is not a saved sweep ({exc}); delete it and sweep again") from None


def merge_outcomes(previous: list[Outcome], new: list[Outcome]) -> list[Outcome]:
    """``previous`` with every (world, notebook) that ``new`` ran replaced by the new run."""
    ran = {(o.world, o.notebook) for o in new}
    merged = [o for o in previous if (o.world, o.notebook) not in ran] + list(new)
    order = {w.name: i for i, w in enumerate(WORLDS)}
    merged.sort(key=lambda o: (order.get(o.world, len(order)), o.notebook))
    return merged
