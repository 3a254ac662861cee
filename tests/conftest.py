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

* ``make_notebook(path, params_source, *code_cells)``: writes a small course-style notebook
  (title, tagged parameters cell, code cells) for tests of the build machinery.
* ``@pytest.mark.slow`` tests are skipped unless ``--runslow`` is given or ``-m`` selects them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
TEST_PARAMS_FILE = ROOT / "tests" / "notebooks" / "test_params.yaml"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", default=False,
                     help="also run tests marked slow (scale checks)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow") or "slow" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow or -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


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
    """The parameters the test session uses for notebook ``name`` (before filtering)."""
    table = load_test_params()
    return {**table.get("default", {}), **table.get(name, {}), **(overrides or {})}


test_parameters_for.__test__ = False  # a helper, not a test


@pytest.fixture(scope="session")
def executed_notebook(tmp_path_factory: pytest.TempPathFactory):
    """Factory: ``executed_notebook(name, **overrides) -> NotebookNode`` (cached per session)."""
    from crmlab.build import NotebookExecutionError, execute_notebook

    cache: dict[str, Any] = {}
    out_dir = tmp_path_factory.mktemp("executed_notebooks")

    def run(name: str, **overrides: Any) -> nbformat.NotebookNode:
        source = NOTEBOOKS / f"{Path(name).stem}.ipynb"
        if not source.is_file():
            pytest.fail(f"no notebook {source.relative_to(ROOT)}")
        params = test_parameters_for(source.stem, overrides)
        key = source.stem + json.dumps(overrides, sort_keys=True, default=str)
        if key not in cache:
            suffix = f"_{len(cache)}" if overrides else ""
            output = out_dir / f"{source.stem}{suffix}.ipynb"
            try:
                execute_notebook(source, output, params, cwd=NOTEBOOKS)
                cache[key] = nbformat.read(output, as_version=4)
            except NotebookExecutionError as exc:
                cache[key] = exc
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


@pytest.fixture
def make_notebook():
    """The :func:`write_notebook` helper, as a fixture."""
    return write_notebook
