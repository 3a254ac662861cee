"""crmlab.course.build: parameters cells, filtering, execution errors, and the build outputs."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from crmlab.course.build import (
    COURSE_MAP,
    NotebookExecutionError,
    build,
    discover,
    execute_in_place,
    notebook_parameters,
    parse_parameters,
    split_parameters,
)
from crmlab.nb import read_results

ROOT = Path(__file__).resolve().parents[2]


# ----------------------------------------------------------------------------- parameters


def test_parse_parameters_literals():
    src = 'DATA = "small"  # the default shop\nSEED = 42\nALPHA: float = 0.5\nSIZES = [1, 2]\nFLAG = None\n'
    assert parse_parameters(src) == {"DATA": "small", "SEED": 42, "ALPHA": 0.5, "SIZES": [1, 2], "FLAG": None}
    assert parse_parameters("# only a comment\n") == {}


@pytest.mark.parametrize(
    ("src", "match"),
    [
        ("seed = 42", "UPPER_CASE"),
        ("SEED = 40 + 2", "literal"),
        ("import numpy as np", "not an assignment"),
        ("A = B = 1", "one plain name"),
        ("A, B = 1, 2", "one plain name"),
        ("N = len([1])", "literal"),
        ("X: int", "no value"),
        ("DATA = ", "not valid Python"),
    ],
)
def test_parse_parameters_rejects(src, match):
    with pytest.raises(ValueError, match=match):
        parse_parameters(src, where="nb")


def test_split_parameters_only_injects_defined_names():
    inject, ignored = split_parameters({"SEED": 7, "N_CUSTOMERS": 500, "DATA": "tiny"}, {"SEED", "DATA"})
    assert inject == {"SEED": 7, "DATA": "tiny"}
    assert ignored == ["N_CUSTOMERS"]


def test_notebook_parameters_reads_tagged_cell(tmp_path, make_notebook):
    path = make_notebook(tmp_path / "01_x.ipynb", "SEED = 1\nDATA = 'tiny'")
    assert notebook_parameters(path) == {"SEED": 1, "DATA": "tiny"}
    untagged = nbformat.v4.new_notebook()
    untagged.cells = [nbformat.v4.new_code_cell("SEED = 1")]
    assert notebook_parameters(untagged) == {}


def test_discover_sorted_and_only(tmp_path, make_notebook):
    for name in ["02_b", "01_a", "10_c"]:
        make_notebook(tmp_path / f"{name}.ipynb", "SEED = 1")
    (tmp_path / "scratch.ipynb").write_text("{}")  # not NN_topic: ignored
    assert [p.stem for p in discover(tmp_path)] == ["01_a", "02_b", "10_c"]
    assert [p.stem for p in discover(tmp_path, ["10", "01_a.ipynb"])] == ["10_c", "01_a"]
    with pytest.raises(ValueError, match="choose from: 01_a, 02_b, 10_c"):
        discover(tmp_path, ["99_missing"])
    with pytest.raises(ValueError, match="no notebooks folder"):
        discover(tmp_path / "nope")


# ----------------------------------------------------------------------------- build


def test_build_filters_parameters_and_writes_outputs(tmp_path, make_notebook):
    nbdir = tmp_path / "notebooks"
    make_notebook(nbdir / "01_uses_n.ipynb", "SEED = 1\nN_CUSTOMERS = 10",
                  "from crmlab.nb import record\nrecord('n', N_CUSTOMERS)\nrecord('seed', SEED)")
    # This one does not define N_CUSTOMERS: injecting it would be harmless here, but the build
    # must not inject it (and it reads a file relative to cwd = notebooks/).
    make_notebook(nbdir / "02_no_n.ipynb", "SEED = 1",
                  "from crmlab.nb import record\n"
                  "record('has_n', 'N_CUSTOMERS' in globals())\n"
                  "record('cwd_ok', open('marker.txt').read())")
    (nbdir / "marker.txt").write_text("yes")
    out = tmp_path / "build"
    manifest = build(nbdir, out, {"N_CUSTOMERS": 500, "SEED": 7}, jobs=2, progress=False,
                     slides=True)

    nbs = manifest["notebooks"]
    assert nbs["01_uses_n"]["results"] == {"n": 500, "seed": 7}
    assert nbs["01_uses_n"]["parameters"] == {"N_CUSTOMERS": 500, "SEED": 7}
    assert nbs["02_no_n"]["results"] == {"has_n": False, "cwd_ok": "yes"}
    assert nbs["02_no_n"]["ignored_parameters"] == ["N_CUSTOMERS"]
    for stem in nbs:
        assert (out / "notebooks" / f"{stem}.ipynb").is_file()
        assert (out / "site" / f"{stem}.html").is_file()
        assert nbs[stem]["seconds"] > 0
    on_disk = json.loads((out / "manifest.json").read_text())
    assert on_disk["parameters"] == {"N_CUSTOMERS": 500, "SEED": 7}
    assert on_disk["packages"]["pandas"] and on_disk["python"]
    index = (out / "site" / "index.html").read_text()
    assert 'href="01_uses_n.html"' in index and 'href="02_no_n.html"' in index
    # --slides: a deck per executed notebook, linked from the index, assets served from build/
    for stem in nbs:
        assert (out / "slides" / f"{stem}.html").is_file()
        assert f'href="../slides/{stem}.html"' in index
    assert (out / "assets" / "mathjax" / "es5" / "tex-svg-full.js").is_file()
    assert "cdnjs" not in (out / "site" / "01_uses_n.html").read_text()


def test_build_failing_cell_names_notebook_cell_and_error(tmp_path, make_notebook):
    nbdir = tmp_path / "notebooks"
    make_notebook(nbdir / "03_broken.ipynb", "SEED = 1", "x = 1", "raise KeyError('customer_id')")
    with pytest.raises(NotebookExecutionError) as info:
        build(nbdir, tmp_path / "build", {"SEED": 5}, progress=False)
    err = info.value
    # Cells: 0 title, 1 parameters, 2 "x = 1", 3 the raise. The index refers to the source
    # notebook, not papermill's copy with its injected-parameters cell.
    assert (err.notebook, err.cell, err.ename) == ("03_broken", 3, "KeyError")
    message = str(err)
    assert "03_broken: cell 3 failed with KeyError" in message
    assert "customer_id" in message and "raise KeyError" in message
    assert err.output is not None and err.output.is_file()


def test_build_failure_in_a_worker_process_keeps_the_details(tmp_path, make_notebook):
    nbdir = tmp_path / "notebooks"
    make_notebook(nbdir / "01_ok.ipynb", "SEED = 1", "SEED")
    make_notebook(nbdir / "02_broken.ipynb", "SEED = 1", "import math", "math.sqrt(-1)")
    with pytest.raises(NotebookExecutionError) as info:
        build(nbdir, tmp_path / "build", jobs=2, progress=False)
    assert (info.value.notebook, info.value.cell, info.value.ename) == ("02_broken", 3, "ValueError")
    assert "math domain error" in str(info.value)
    assert not (tmp_path / "build" / "manifest.json").exists()


def test_build_warns_about_parameters_no_notebook_defines(tmp_path, make_notebook):
    nbdir = tmp_path / "notebooks"
    make_notebook(nbdir / "01_a.ipynb", "SEED = 1")
    with pytest.warns(UserWarning, match="N_CUSTOMER"):
        build(nbdir, tmp_path / "build", {"N_CUSTOMER": 5}, progress=False)


def test_build_bad_arguments(tmp_path, make_notebook):
    nbdir = tmp_path / "notebooks"
    make_notebook(nbdir / "01_a.ipynb", "SEED = 1")
    with pytest.raises(ValueError, match="jobs"):
        build(nbdir, tmp_path / "b", jobs=0)
    with pytest.raises(ValueError, match="unknown notebooks"):
        build(nbdir, tmp_path / "b", per_notebook={"07_nope": {"SEED": 1}}, progress=False)


def test_execute_in_place_keeps_committed_notebook_when_a_cell_fails(tmp_path, make_notebook):
    path = make_notebook(tmp_path / "04_x.ipynb", "SEED = 1", "1 / 0")
    before = path.read_text()
    with pytest.raises(NotebookExecutionError, match="ZeroDivisionError"):
        execute_in_place(path, failed_dir=tmp_path / "failed")
    assert path.read_text() == before
    assert (tmp_path / "failed" / "04_x.ipynb").is_file()


def test_execute_in_place_writes_outputs_without_papermill_timestamps(tmp_path, make_notebook):
    path = make_notebook(tmp_path / "05_ok.ipynb", "SEED = 3", "SEED * 2")
    execute_in_place(path)
    done = nbformat.read(path, as_version=4)
    assert done.cells[2].outputs[0]["data"]["text/plain"] == "6"
    assert "papermill" not in done.metadata
    assert all("papermill" not in c.metadata and "execution" not in c.metadata for c in done.cells)
    assert len(done.cells) == 3  # no injected-parameters cell at the defaults


def test_course_map_matches_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for stem in COURSE_MAP:
        assert f"notebooks/{stem}.ipynb" in readme, f"README course map lacks {stem}"


def test_build_welcome_notebook_at_tiny(tmp_path):
    """The issue's check: building 00_welcome writes the executed notebook, page and manifest."""
    out = tmp_path / "build"
    manifest = build(ROOT / "notebooks", out, {"DATA": "tiny"}, only=["00_welcome"], progress=False)
    assert (out / "notebooks" / "00_welcome.ipynb").is_file()
    page = (out / "site" / "00_welcome.html").read_text(encoding="utf-8")
    assert "Welcome" in page
    assert 'href="00_welcome.html"' in (out / "site" / "index.html").read_text(encoding="utf-8")
    saved = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert saved["notebooks"]["00_welcome"]["parameters"]["DATA"] == "tiny"
    results = saved["notebooks"]["00_welcome"]["results"]
    assert results == read_results(out / "notebooks" / "00_welcome.ipynb")
    assert results["n_tables"] >= 19
    assert manifest["notebooks"]["00_welcome"]["seconds"] > 0


def test_worker_setup_keeps_notebook_validation_working():
    """worker_setup() skips jsonschema's optional IRI grammar; nbformat must still read,
    validate and reject notebooks exactly as before (checked in a fresh process)."""
    import subprocess
    import sys

    code = (
        "from crmlab.course.build import worker_setup\n"
        "worker_setup()\n"
        "import nbformat\n"
        "nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('1 + 1')])\n"
        "nbformat.validate(nb)\n"
        "nb.cells[0]['cell_type'] = 'not-a-cell-type'\n"
        "try:\n"
        "    nbformat.validate(nb)\n"
        "except nbformat.ValidationError:\n"
        "    print('rejected')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "rejected"


def test_papermill_parameter_noise_is_filtered(make_notebook, tmp_path, caplog):
    """Commented parameters cells are the course's convention; papermill's warnings about
    them ("Unable to parse line", "Passed unknown parameter") must not reach the log, while
    its other records still do."""
    import logging

    from crmlab.course.build import execute_notebook

    nb = make_notebook(tmp_path / "01_x.ipynb", 'DATA = "small"  # which shop\nSEED = 42  # seed',
                       "print(DATA, SEED)")
    with caplog.at_level(logging.INFO, logger="papermill"):
        execute_notebook(nb, tmp_path / "out.ipynb", {"DATA": "tiny"}, cwd=tmp_path)
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("papermill")]
    assert not [m for m in messages if m.startswith(("Unable to parse line", "Passed unknown parameter"))]
    assert any("Executing notebook with kernel" in m or "Working directory" in m for m in messages)


# ----------------------------------------------------------------------------- HTML pages


def _executed_notebook_with_every_output_kind(path: Path) -> Path:
    """A notebook as papermill leaves it: markdown with a raw <img>, a PNG, an HTML table,
    plain text, stderr and a cell without output (written by hand, no kernel needed)."""
    import base64

    png = base64.b64encode(bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
    )).decode()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    md = nbformat.v4.new_markdown_cell(
        '# Title 標題\n\nA figure <img src="x.png"> and one with text <img alt="logo" src="y.png">.\n\n'
        "```python\nprint('<img src=\"not-a-tag.png\">')\n```"
    )
    plot = nbformat.v4.new_code_cell("plt.plot([1, 2])", execution_count=1, outputs=[
        nbformat.v4.new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"}),
    ])
    table = nbformat.v4.new_code_cell("df", execution_count=2, outputs=[
        nbformat.v4.new_output("execute_result", execution_count=2, data={
            "text/html": '<table class="dataframe"><tr><td>1 &lt; 2</td></tr></table>',
            "text/plain": "   a\n0  1",
        }),
    ])
    text = nbformat.v4.new_code_cell("print(1); warn()", execution_count=3, outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="1\n"),
        nbformat.v4.new_output("stream", name="stderr", text="UserWarning: <careful>\n"),
    ])
    empty = nbformat.v4.new_code_cell("x = 1", execution_count=4)
    nb.cells = [md, plot, table, text, empty]
    nbformat.write(nb, path)
    return path


def test_course_pages_equal_nbconvert_pages(tmp_path):
    """The build's exporter skips nbconvert's BeautifulSoup pass and makes the same edits on
    the tags (accessible_html); the pages must parse to the same tree as nbconvert's own
    HTMLExporter output (the reference, with the course's offline template), with the same
    alt texts and focusable cells."""
    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter

    from crmlab.course.build import MISSING_ALT, _html_page, _own_html
    from crmlab.course.site import page_settings

    source = _executed_notebook_with_every_output_kind(tmp_path / "nb.ipynb")
    reference = HTMLExporter(**page_settings())
    reference.register_filter("clean_html", _own_html)
    theirs = BeautifulSoup(reference.from_filename(str(source))[0], "html.parser")
    _html_page(source, tmp_path / "nb.html")
    ours = BeautifulSoup((tmp_path / "nb.html").read_text(encoding="utf-8"), "html.parser")
    assert ours == theirs
    assert str(ours) == str(theirs)
    alts = [img.get("alt") for img in ours.find_all("img")]
    assert alts == [MISSING_ALT, "logo", MISSING_ALT]  # markdown image, own alt, the PNG
    focusable = ours.select("div.jp-Cell-inputWrapper, div.jp-OutputArea-output")
    assert len(focusable) == 5 + 4  # five inputs; image, table, stdout, stderr outputs
    assert all(div["tabindex"] == "0" for div in focusable)


def test_accessible_html_edits_only_whole_tags_and_class_tokens():
    from crmlab.course.build import MISSING_ALT, accessible_html

    page = (
        '<div class="jp-OutputArea-outputWrapper"><div class="a jp-OutputArea-output b">'
        '<IMG src="p.png"/><img alt="" src="q.png"></div>'
        '<div class="jp-Cell-inputWrapper" tabindex="-1"><pre>&lt;img src="r"&gt;</pre></div></div>'
    )
    assert accessible_html(page) == (
        '<div class="jp-OutputArea-outputWrapper"><div class="a jp-OutputArea-output b" tabindex="0">'
        f'<img alt="{MISSING_ALT}" src="p.png"/><img alt="" src="q.png"></div>'
        '<div class="jp-Cell-inputWrapper" tabindex="-1"><pre>&lt;img src="r"&gt;</pre></div></div>'
    )
