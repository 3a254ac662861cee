"""Every course notebook in notebooks/ follows the conventions and runs at test parameters.

Parametrized over the folder at collection time, so a new notebook is tested without editing
this file. Execution goes through the session fixture ``executed_notebook`` (tests/conftest.py),
so each notebook runs once per session however many tests read it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

from crmlab.course.build import parameters_cell, parse_parameters
from crmlab.nb import read_results

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
CJK = re.compile(r"[\u4e00-\u9fff]")
MAX_BYTES = 2_000_000  # committed notebooks stay small enough to diff, review and load fast

pytestmark = pytest.mark.skipif(not PATHS, reason="no notebooks yet")


def committed(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


@pytest.fixture(params=PATHS, ids=[p.stem for p in PATHS])
def path(request) -> Path:
    return request.param


def test_file_name_is_nn_topic(path):
    assert re.fullmatch(r"\d\d_[a-z0-9_]+", path.stem), "name notebooks NN_topic.ipynb (lower case)"


def test_kernelspec_is_python3(path):
    spec = committed(path).metadata.get("kernelspec", {})
    assert spec.get("name") == "python3", f"{path.name}: kernelspec name must be python3, got {spec}"
    assert spec.get("language", "python") == "python"


def test_first_cell_is_markdown_title_with_chinese_term(path):
    first = committed(path).cells[0]
    assert first.cell_type == "markdown", f"{path.name}: the first cell must be markdown (the title)"
    title = next((ln for ln in first.source.splitlines() if ln.startswith("# ")), None)
    assert title is not None, f"{path.name}: the first cell must start with a '# Title' heading"
    assert CJK.search(title), f"{path.name}: the title must carry the Chinese term, got {title!r}"
    assert re.search(r"learning objectives|學習目標", first.source, re.IGNORECASE), (
        f"{path.name}: the first cell must list the learning objectives"
    )


def test_parameters_cell_literal_upper_case(path):
    nb = committed(path)
    found = parameters_cell(nb)
    assert found is not None, f"{path.name}: no code cell tagged 'parameters'"
    index, cell = found
    params = parse_parameters(cell.source, where=f"{path.name} cell {index}")  # raises if not literal
    assert "SEED" in params and "DATA" in params, f"{path.name}: parameters must include SEED and DATA"
    # Every statement is a plain assignment (parse_parameters checked it; this double-checks
    # with ast directly so the convention is explicit here).
    assert all(isinstance(n, ast.Assign | ast.AnnAssign) for n in ast.parse(cell.source).body)


def test_committed_with_outputs_and_no_errors(path):
    nb = committed(path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert any(c.outputs for c in code), f"{path.name}: commit the notebook WITH outputs (make notebooks)"
    unexecuted = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()
                  and c.execution_count is None]
    assert not unexecuted, f"{path.name}: cells {unexecuted} were not executed; run make notebooks NB={path.stem}"
    errors = [
        (i, o.get("ename"))
        for i, c in enumerate(nb.cells) if c.cell_type == "code"
        for o in c.outputs if o.output_type == "error"
    ]
    assert not errors, f"{path.name}: committed error outputs in cells {errors}"
    assert path.stat().st_size < MAX_BYTES, f"{path.name} is {path.stat().st_size:,} bytes (limit 2 MB)"


def test_reading_cells_render_prose(path):
    """Cells tagged ``reading`` (crmlab.nb.say) show prose: code hidden, a Markdown output."""
    nb = committed(path)
    for i, c in enumerate(nb.cells):
        if "reading" not in c.get("metadata", {}).get("tags", []):
            continue
        assert c.cell_type == "code" and "say(" in c.source, f"{path.name} cell {i}: a reading cell calls say()"
        assert c.metadata.get("jupyter", {}).get("source_hidden"), (
            f"{path.name} cell {i}: set metadata jupyter.source_hidden so JupyterLab shows the prose"
        )
        assert any("text/markdown" in o.get("data", {}) for o in c.outputs), (
            f"{path.name} cell {i}: the reading has no Markdown output; re-execute the notebook"
        )


def test_committed_notebook_records_results(path):
    assert read_results(committed(path)), f"{path.name}: the committed outputs have no record(...) results"


def test_executes_at_test_parameters_and_records_results(path, executed_notebook):
    nb = executed_notebook(path.stem)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.output_type == "error"]
    assert not errors
    results = read_results(nb)
    assert results, f"{path.name}: no record(...) results when executed at the test parameters"
    # Names recorded at the test parameters also appear in the committed notebook, so
    # tests written against one size keep meaning something at the other.
    assert set(results) <= set(read_results(committed(path)))
