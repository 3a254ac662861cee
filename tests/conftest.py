"""Shared test fixtures and options.

* ``executed_notebook(name, **overrides)``: executes ``notebooks/<name>.ipynb`` once per test
  session with papermill at the test parameters and returns the executed
  ``nbformat.NotebookNode``. Parameters come from ``tests/notebooks/test_params.yaml``
  (``default`` for every notebook, merged with the notebook's own entry, then ``overrides``);
  only names that the notebook's ``parameters`` cell defines are injected. Use it with
  ``crmlab.nb.read_results``::

      def test_rfm_results(executed_notebook):
          results = read_results(executed_notebook("02_rfm_and_value"))
          assert results["n_customers"] > 0

  Notebooks that the collected tests will ask for (the parametrized ``path`` of
  tests/notebooks/test_notebooks.py and ``tests/notebooks/test_NN_*.py`` files) start
  executing as soon as collection ends, ``CRMLAB_TEST_JOBS`` (default 2; 0 = inline, on
  demand) at a time in worker processes, overlapping with the unit tests.
* ``make_notebook(path, params_source, *code_cells)``: writes a small course-style notebook
  (title, tagged parameters cell, code cells) for tests of the build machinery.
* ``@pytest.mark.slow`` tests are skipped unless ``--runslow`` is given or ``-m`` selects them.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
# Notebooks executed by the tests check every figure they show (crmlab.plots.layout_problems);
# tests/notebooks/test_lecture_shape.py fails on the problems they report.
os.environ.setdefault("CRMLAB_CHECK_FIGURES", "1")
TEST_PARAMS_FILE = ROOT / "tests" / "notebooks" / "test_params.yaml"
AHEAD = pytest.StashKey["_AheadOfTime"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", default=False,
                     help="also run tests marked slow (scale checks)")


def _wanted_notebooks(items: list[pytest.Item]) -> list[str]:
    """Stems of the notebooks the collected tests will execute through ``executed_notebook``."""
    stems = {p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")}
    wanted: list[str] = []
    for item in items:
        if "executed_notebook" not in getattr(item, "fixturenames", ()):
            continue
        callspec = getattr(item, "callspec", None)
        param = callspec.params.get("path") if callspec else None
        if isinstance(param, Path) and param.stem in stems:
            wanted.append(param.stem)
            continue
        match = re.match(r"test_(\d\d)_", Path(str(item.fspath)).name)
        if match:
            wanted += sorted(s for s in stems if s.startswith(match.group(1) + "_"))
    return list(dict.fromkeys(wanted))


class _AheadOfTime:
    """Executes the notebooks the session will need in worker processes, from the moment
    collection ends, so kernels run on the second core while the unit tests run on the first."""

    def __init__(self, stems: list[str], jobs: int):
        self.out_dir = Path(tempfile.mkdtemp(prefix="crmlab-nbtests-"))
        from crmlab.course.build import worker_setup

        self.pool = cf.ProcessPoolExecutor(max_workers=jobs, initializer=worker_setup)
        self.futures: dict[str, cf.Future] = {}
        for stem in stems:
            source = NOTEBOOKS / f"{stem}.ipynb"
            self.futures[stem] = self.pool.submit(
                _execute, source, self.out_dir / source.name, test_parameters_for(stem)
            )

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        failed = [f for f in self.futures.values()
                  if f.done() and not f.cancelled() and f.result() is not None]
        if not failed:  # keep partly executed notebooks that error messages point to
            shutil.rmtree(self.out_dir, ignore_errors=True)


def _xdist_workers(config: pytest.Config) -> int:
    """How many pytest-xdist workers this run uses (0 without xdist)."""
    if not config.pluginmanager.hasplugin("xdist"):
        return 0
    return int(getattr(config.option, "numprocesses", 0) or 0)


def _under_xdist(config: pytest.Config) -> bool:
    """True in the controller and in the workers of a ``pytest -n N`` run."""
    return _xdist_workers(config) > 0 or "PYTEST_XDIST_WORKER" in os.environ


def pytest_collection_finish(session: pytest.Session) -> None:
    """After selection (-k, -m, skips): start executing the notebooks the tests will ask for.

    Not under pytest-xdist: there the workers are the parallelism, every test that needs a
    notebook is in that notebook's ``xdist_group`` (see below), and the notebook runs once,
    on demand, in the worker that holds the group.
    """
    jobs = int(os.environ.get("CRMLAB_TEST_JOBS", "2"))
    if session.config.option.collectonly or jobs < 1 or _under_xdist(session.config):
        return
    runnable = [i for i in session.items if not i.get_closest_marker("skip")]
    stems = _wanted_notebooks(runnable)
    if stems:
        from crmlab.course.build import code_size

        stems.sort(key=lambda stem: -code_size(NOTEBOOKS / f"{stem}.ipynb"))  # longest first
        session.config.stash[AHEAD] = _AheadOfTime(stems, jobs)


def pytest_sessionfinish(session: pytest.Session) -> None:
    ahead = session.config.stash.get(AHEAD, None)
    if ahead is not None:
        ahead.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _under_xdist(config):
        _longest_groups_first(items)
    if config.getoption("--runslow") or "slow" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow or -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def xdist_scope(nodeid: str) -> str:
    """The unit of work of a test under ``pytest -n N --dist loadgroup`` (see below).

    * every test of ``tests/notebooks/test_NN_*.py`` and of one notebook's parametrization of
      ``tests/notebooks/test_notebooks.py``: ``notebook:NN``, so the notebook is executed once,
      in one worker (the session fixture caches it per process);
    * one exercise notebook's tests in ``tests/exercises/test_exercise_notebooks.py``:
      ``exercise:NN`` (its solution is executed once per module and worker);
    * every test of ``tests/unit/test_scale_spark.py``: ``spark:scale``, so one worker starts one
      Spark session (a JVM) for all of them;
    * every test of ``tests/browser/``: ``browser:site``, so one worker builds the test site and
      starts Chromium once;
    * any other test is a unit of its own.
    """
    path, _, rest = nodeid.partition("::")
    name = Path(path).name
    numbered = re.match(r"test_(\d\d)_", name)
    param = re.search(r"\[(\d\d)_[^\]]*\]$", rest)
    if numbered and Path(path).parent.name == "notebooks":
        return f"notebook:{numbered.group(1)}"
    if name == "test_notebooks.py" and param:
        return f"notebook:{param.group(1)}"
    if name == "test_scale_spark.py":
        return "spark:scale"
    if Path(path).parent.name == "browser":
        return "browser:site"
    if name == "test_exercise_notebooks.py" and param:
        return f"exercise:{param.group(1)}"
    world = re.search(r"\[([\w.-]+)-(\d\d)_[^\]]*\]$", rest)
    if name == "test_worlds.py" and world:
        return f"world:{world.group(1)}:{world.group(2)}"
    return nodeid


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup`` groups by :func:`xdist_scope` (by notebook), not by xdist_group marks.

    pytest 9.2's structured node ids broke xdist 3.8's loadgroup, which appends the group to
    ``item._nodeid`` (pytest-dev/pytest-xdist#1386): marked tests were silently spread over
    the workers and notebooks executed once per worker. This scheduler derives the group from
    the node id itself, so it works with any pytest.
    """
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class NotebookScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return xdist_scope(nodeid)

    return NotebookScheduling(config, log)


def _longest_groups_first(items: list[pytest.Item]) -> None:
    """Put the notebook and exercise groups first, longest notebook first, so no long
    notebook starts last while the other worker idles (the scheduler keeps this order)."""
    from crmlab.course.build import code_size

    sizes: dict[str, int] = {}

    def weight(item: pytest.Item) -> int:
        scope = xdist_scope(item.nodeid)
        if scope == item.nodeid:
            return -1
        if scope not in sizes:
            kind, number = scope.split(":", 1)
            number = number.rsplit(":", 1)[-1]  # world:<name>:NN
            folder = ROOT / "exercises" if kind == "exercise" else NOTEBOOKS
            found = sorted(folder.glob(f"{number}_*.ipynb"))
            sizes[scope] = code_size(found[0]) if found else 0
        return sizes[scope]

    order = {id(item): i for i, item in enumerate(items)}
    items.sort(key=lambda item: (-weight(item), order[id(item)]))


def load_test_params(path: Path = TEST_PARAMS_FILE) -> dict[str, dict[str, Any]]:
    """Read the per-notebook test parameters file (``default`` + one entry per notebook)."""
    if not path.is_file():
        return {"default": {"DATA": "tiny"}}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ValueError(f"{path}: expected `default:` and `<notebook>:` mappings of NAME: value")
    data.setdefault("default", {"DATA": "tiny"})
    return data


def test_parameters_for(name: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The parameters the test session uses for notebook ``name`` (before filtering).

    ``CRMLAB_TEST_WORLD=<world>`` (a name from ``crmlab.course.worlds.WORLDS`` without knobs, e.g.
    ``tiny-7``) runs the whole notebook tier in that world instead of the default one.
    """
    table = load_test_params()
    world = os.environ.get("CRMLAB_TEST_WORLD")
    world_params: dict[str, Any] = {}
    if world:
        from crmlab.course.worlds import world as find_world

        chosen = find_world(world)
        if chosen.knobs:
            raise ValueError(f"CRMLAB_TEST_WORLD={world}: worlds with knobs run through make worlds")
        world_params = dict(chosen.parameters)
    return {**table.get("default", {}), **world_params, **table.get(name, {}), **(overrides or {})}


test_parameters_for.__test__ = False  # a helper, not a test


def _execute(source: Path, output: Path, params: dict[str, Any]):
    """Run one notebook; return the error instead of raising (for worker processes)."""
    from crmlab.course.build import NotebookExecutionError, execute_notebook

    try:
        execute_notebook(source, output, params, cwd=NOTEBOOKS)
    except NotebookExecutionError as exc:
        return exc
    return None


@pytest.fixture(scope="session")
def executed_notebook(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest):
    """Factory: ``executed_notebook(name, **overrides) -> NotebookNode`` (cached per session)."""
    cache: dict[str, Any] = {}
    out_dir = tmp_path_factory.mktemp("executed_notebooks")
    ahead = request.config.stash.get(AHEAD, None)

    def run(name: str, **overrides: Any) -> nbformat.NotebookNode:
        source = NOTEBOOKS / f"{Path(name).stem}.ipynb"
        if not source.is_file():
            pytest.fail(f"no notebook {source.relative_to(ROOT)}")
        params = test_parameters_for(source.stem, overrides)
        key = source.stem + json.dumps(overrides, sort_keys=True, default=str)
        if key not in cache:
            if not overrides and ahead is not None and source.stem in ahead.futures:
                error = ahead.futures[source.stem].result()
                output = ahead.out_dir / source.name
            else:
                output = out_dir / f"{source.stem}_{len(cache)}.ipynb"
                error = _execute(source, output, params)
            cache[key] = error if error is not None else nbformat.read(output, as_version=4)
        result = cache[key]
        if isinstance(result, Exception):
            pytest.fail(f"executing {source.name} at {params}:\n{result}", pytrace=False)
        return result

    return run


def write_notebook(path: Path, params: str, *cells: str, title: str = "# Test 測試") -> Path:
    """Write a small course-style notebook: title, tagged parameters cell, then code cells."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    pcell = nbformat.v4.new_code_cell(params)
    pcell.metadata["tags"] = ["parameters"]
    notebook.cells = [nbformat.v4.new_markdown_cell(title), pcell]
    notebook.cells += [nbformat.v4.new_code_cell(src) for src in cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


def lifetimes_data_file(name: str) -> Path:
    """A CDNOW file shipped in the ``lifetimes`` wheel (a dev dependency), or skip the test.

    The tests read the real CDNOW files from there: nothing is downloaded at run time.
    """
    import importlib.metadata

    try:
        dist = importlib.metadata.distribution("lifetimes")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("lifetimes is not installed (pip install -e '.[dev]'); CDNOW ships in its wheel")
    for f in dist.files or []:
        if f.name == name and "datasets" in f.parts:
            path = Path(dist.locate_file(f))
            if path.is_file():
                return path
    pytest.skip(f"the lifetimes distribution has no datasets/{name}")


@pytest.fixture(scope="session")
def lifetimes_file():
    """The :func:`lifetimes_data_file` helper, as a fixture."""
    return lifetimes_data_file


@pytest.fixture
def make_notebook():
    """The :func:`write_notebook` helper, as a fixture."""
    return write_notebook
