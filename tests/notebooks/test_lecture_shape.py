"""Every course notebook has the shape of one lecture (issue 23).

Read from the committed notebooks (nothing is executed here), except the figure check, which
reads the notebooks the session executes with ``CRMLAB_CHECK_FIGURES`` set: every figure
they show has passed :func:`crmlab.plots.layout_problems` (title, axis labels, no overlapping
tick labels, no legend on the data, no bar past the axis).

The budget of one lecture (about 90 minutes with the "Try it" prompts) is measured on the
committed notebook; ``python -m tests.notebooks.test_lecture_shape`` prints the table.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest

from crmlab.course.build import (
    COURSE_MAP,
    NAVIGATION_TAG,
    RECORD_TAG,
    is_record_cell,
    navigation_markdown,
    unit_label,
)
from crmlab.plots import FIGURE_PROBLEM_MIMETYPE

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))

#: One lecture: prose a class reads (Markdown words, Latin words and CJK characters/2), code
#: lines a class runs, and cells. 02 (the course's model lecture) sits well inside.
MAX_WORDS = 2_000
MAX_CODE_LINES = 450
MAX_CELLS = 60
#: Code cells longer than this say why in a comment starting "# Long cell:".
MAX_CELL_LINES = 25
LONG_CELL_REASON = re.compile(r"^\s*# Long cell:", re.MULTILINE)

WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")
CJK = re.compile(r"[\u4e00-\u9fff]")


def committed(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def words(text: str) -> int:
    """Latin words plus CJK characters / 2 (two characters read about like one word)."""
    return len(WORD.findall(text)) + len(CJK.findall(text)) // 2


def size(nb: nbformat.NotebookNode) -> dict[str, int]:
    """Cells, Markdown words and code lines of a notebook (record-only cells excluded)."""
    md = [c for c in nb.cells if c.cell_type == "markdown"]
    code = [c for c in nb.cells if c.cell_type == "code" and not is_record_cell(c.source)]
    return {
        "cells": len(md) + len(code),
        "words": sum(words(c.source) for c in md),
        "code_lines": sum(len([ln for ln in c.source.splitlines() if ln.strip()]) for c in code),
    }


def has_figure(cell) -> bool:
    return any("image/png" in o.get("data", {}) for o in cell.get("outputs", []))


def has_reading_output(cell) -> bool:
    """The cell's last output is prose (crmlab.nb.say), after its figure."""
    outs = [o for o in cell.get("outputs", []) if o.get("output_type") in ("display_data",
                                                                           "execute_result")]
    kinds = ["image/png" in o.get("data", {}) for o in outs]
    return bool(outs) and not kinds[-1] and "text/markdown" in outs[-1].get("data", {})


@pytest.fixture(params=PATHS, ids=[p.stem for p in PATHS])
def path(request) -> Path:
    return request.param


def test_in_the_course_map(path):
    assert path.stem in COURSE_MAP, f"add {path.stem} to crmlab.units.COURSE_MAP"


def test_heading_carries_the_unit_label_from_the_course_map(path):
    first = committed(path).cells[0].source
    label = unit_label(path.stem)
    assert f"**{label}" in first, (
        f"{path.name}: the first cell must carry the unit label '**{label}' (from "
        "crmlab.units.COURSE_MAP); write it as the bold line under the title"
    )


def test_ends_with_navigation_to_exercises_and_next_notebook(path):
    last = committed(path).cells[-1]
    assert NAVIGATION_TAG in last.get("metadata", {}).get("tags", []), (
        f"{path.name}: the last cell must be the navigation cell; run crmlab notebooks --links"
    )
    assert last.source == navigation_markdown(path.stem), (
        f"{path.name}: the navigation cell is stale; run crmlab notebooks --links"
    )


def test_record_cells_are_quiet(path):
    for i, c in enumerate(committed(path).cells):
        if c.cell_type == "code" and is_record_cell(c.source):
            meta = c.get("metadata", {})
            assert RECORD_TAG in meta.get("tags", []) and meta.get("jupyter", {}).get("outputs_hidden"), (
                f"{path.name} cell {i}: a record-only cell must be tagged 'record' and collapsed; "
                "run crmlab notebooks --links"
            )


def test_fits_one_lecture(path):
    got = size(committed(path))
    budget = {"cells": MAX_CELLS, "words": MAX_WORDS, "code_lines": MAX_CODE_LINES}
    over = {k: f"{got[k]} > {budget[k]}" for k in budget if got[k] > budget[k]}
    assert not over, (
        f"{path.name} is longer than one lecture: {over}. Split it (a second notebook with the "
        "same number), move drawing code to crmlab.plots, or cut prose that repeats"
    )


def test_code_cells_are_short_or_say_why(path):
    long = []
    for i, c in enumerate(committed(path).cells):
        if c.cell_type != "code" or is_record_cell(c.source):
            continue
        n = len(c.source.splitlines())
        if n > MAX_CELL_LINES and not LONG_CELL_REASON.search(c.source):
            long.append((i, n))
    assert not long, (
        f"{path.name}: code cells over {MAX_CELL_LINES} lines (cell, lines): {long}. Split them, "
        "move drawing into crmlab.plots, or say why in a '# Long cell: ...' comment"
    )


def test_every_figure_is_followed_by_a_reading(path):
    nb = committed(path)
    missing = []
    for i, c in enumerate(nb.cells):
        if c.cell_type != "code" or not has_figure(c) or has_reading_output(c):
            continue
        after = nb.cells[i + 1] if i + 1 < len(nb.cells) else None
        reads = after is not None and (after.cell_type == "markdown"
                                       or "reading" in after.get("metadata", {}).get("tags", []))
        if not reads:
            missing.append(i)
    assert not missing, (
        f"{path.name}: figures without a reading right after them (cells {missing}); add a "
        "Markdown cell (true in every world) or a reading cell (crmlab.nb.say) saying what it "
        "shows and what a manager does with it"
    )


def test_figures_have_no_layout_problems(path, executed_notebook):
    nb = executed_notebook(path.stem)
    problems = [(i, p) for i, c in enumerate(nb.cells) if c.cell_type == "code"
                for o in c.get("outputs", []) for p in o.get("data", {}).get(FIGURE_PROBLEM_MIMETYPE,
                                                                             {}).get("problems", [])]
    assert not problems, f"{path.name}: figure problems (cell, problem): {problems}"


def _table() -> str:
    rows = ["| notebook | cells | words | code lines | code cells > 25 lines | figures |",
            "|---|---:|---:|---:|---:|---:|"]
    for p in PATHS:
        nb = committed(p)
        s = size(nb)
        long = sum(1 for c in nb.cells if c.cell_type == "code" and not is_record_cell(c.source)
                   and len(c.source.splitlines()) > MAX_CELL_LINES)
        figs = sum(has_figure(c) for c in nb.cells)
        rows.append(f"| {p.stem} | {s['cells']} | {s['words']:,} | {s['code_lines']} | {long} | {figs} |")
    return "\n".join(rows)


if __name__ == "__main__":
    sys.stdout.write(_table() + "\n")


def test_the_template_has_the_lecture_shape(tmp_path):
    """notebooks/_template.ipynb (the start of a new notebook) runs, with readable figures, and
    has every part the course asks for."""
    from crmlab.course.build import execute_notebook

    template = NOTEBOOKS / "_template.ipynb"
    out = tmp_path / "template.ipynb"
    execute_notebook(template, out, None, cwd=NOTEBOOKS)
    nb = committed(out)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for part in ("Learning objectives", "## Summary", "Try it", "## Next"):
        assert part in text, f"the template lacks {part!r}"
    assert any("parameters" in c.metadata.get("tags", []) for c in nb.cells)
    assert NAVIGATION_TAG in nb.cells[-1].metadata.get("tags", [])
    figures = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and has_figure(c)]
    assert figures and all("reading" in nb.cells[i + 1].metadata.get("tags", []) for i in figures)
    problems = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                if FIGURE_PROBLEM_MIMETYPE in o.get("data", {})]
    assert not problems
    assert all(len(c.source.splitlines()) <= MAX_CELL_LINES for c in nb.cells if c.cell_type == "code")


def test_the_figure_check_sees_figures_in_an_executed_notebook(tmp_path, monkeypatch):
    """The check must survive the inline backend, which installs its own figure formatter at the
    first figure (it silently replaced ours once, and every figure passed)."""
    from crmlab.course.build import execute_notebook

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell("SEED = 42")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params,
                nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nfrom crmlab.nb import setup_notebook\n"
                                          "rng = setup_notebook(SEED)"),
                nbformat.v4.new_code_cell("fig, ax = plt.subplots()\nax.plot([1, 2], [3, 4])\nplt.show()"),
                nbformat.v4.new_code_cell("fig, ax = plt.subplots()\nax.plot([1, 2], [3, 4])\n"
                                          "ax.set(title='t', xlabel='x', ylabel='y')\nplt.show()")]
    source, out = tmp_path / "figures.ipynb", tmp_path / "out.ipynb"
    nbformat.write(nb, source)
    monkeypatch.setenv("CRMLAB_CHECK_FIGURES", "1")
    execute_notebook(source, out, None, cwd=tmp_path)
    cells = committed(out).cells
    found = [[p for o in c.get("outputs", []) for p in o.get("data", {}).get(FIGURE_PROBLEM_MIMETYPE, {}).get("problems", [])]
             for c in cells[2:]]
    assert any("no title" in p for p in found[0]), found
    assert found[1] == []


MONEY_SPELLING = re.compile(r"(?<=NT|US)(?<!\\\\)\\?\$")


@pytest.mark.parametrize("doc", sorted([*NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"),
                                        *(ROOT / "demos").glob("*.ipynb"),
                                        *(ROOT / "instructor" / "exercises").glob("*.ipynb"),
                                        *(ROOT / "exercises").glob("*.ipynb")]),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_money_dollars_in_markdown_are_not_math(doc):
    """``NT$200 to NT$500`` in a Markdown cell renders as a formula in JupyterLab and on the
    site; write money as ``NT\\\\$200`` (crmlab.nb.MONEY_DOLLAR, tests/browser/test_money.py)."""
    bad = [(i, m.group(0)) for i, c in enumerate(committed(doc).cells) if c.cell_type == "markdown"
           for m in MONEY_SPELLING.finditer(c.source)]
    assert not bad, (f"{doc.name}: money dollars spelled as math in Markdown cells {sorted({i for i, _ in bad})}; "
                     "write NT\\\\$")


@pytest.mark.parametrize("demo", sorted((ROOT / "demos").glob("*_demo.ipynb")), ids=lambda p: p.stem)
def test_each_demo_names_its_lecture_and_the_lecture_links_it(demo):
    """A demo's first cell links the course notebook it serves and carries that notebook's unit
    label; that notebook's navigation cell links the demo (crmlab.course.build.demo_notebooks)."""
    from crmlab.course.build import demo_notebooks

    first = committed(demo).cells[0].source
    linked = re.search(r"\.\./notebooks/([0-9a-z_]+)\.ipynb", first)
    assert linked and (NOTEBOOKS / f"{linked.group(1)}.ipynb").is_file(), (
        f"{demo.name}: the first cell must link ../notebooks/<the lecture>.ipynb")
    stem = linked.group(1)
    assert f"**{unit_label(stem)}**" in first, f"{demo.name}: heading label must be {unit_label(stem)!r}"
    assert demo.stem in demo_notebooks(stem)
    assert f"../demos/{demo.name}" in committed(NOTEBOOKS / f"{stem}.ipynb").cells[-1].source, (
        f"{stem}: its navigation cell does not link {demo.name}; run crmlab notebooks --links")


def test_course_map_order_is_the_file_order():
    """Folders, the site's previous/next and the builds list notebooks by file name; the
    navigation cells follow COURSE_MAP. The two orders must agree (a second part's name sorts
    after the first's, and its lecture label follows)."""
    course = [stem for stem in COURSE_MAP if (NOTEBOOKS / f"{stem}.ipynb").is_file()]
    assert course == sorted(course), "order COURSE_MAP by file name (and name parts to sort in course order)"
    assert {p.stem for p in PATHS} == set(course)
