"""crmlab.nb: setup_notebook, record / read_results round trip, and rejected values."""

from __future__ import annotations

import datetime as dt
import json

import matplotlib
import nbformat
import numpy as np
import pandas as pd
import pytest

from crmlab import nb
from crmlab.nb import RECORD_MIMETYPE, read_results, record, setup_notebook, to_jsonable


def test_setup_notebook_seeds_and_returns_generator():
    rng = setup_notebook(7)
    assert isinstance(rng, np.random.Generator)
    # Same seed -> same stream as a fresh default_rng(7) (the notebook's randomness is reproducible).
    assert rng.integers(0, 1_000_000, 5).tolist() == np.random.default_rng(7).integers(0, 1_000_000, 5).tolist()
    # The legacy global RNG is seeded too (third-party code such as lifetimes uses it).
    first = np.random.random()
    setup_notebook(7)
    assert np.random.random() == first
    assert pd.get_option("display.max_columns") == 30
    assert tuple(matplotlib.rcParams["figure.figsize"]) == (6.4, 3.6)


@pytest.mark.parametrize("bad", [1.5, "42", None, True])
def test_setup_notebook_rejects_non_integer_seed(bad):
    with pytest.raises(ValueError, match="SEED must be an integer"):
        setup_notebook(bad)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (np.int64(3), 3),
        (np.float32(0.5), 0.5),
        (np.bool_(True), True),
        (np.array([1, 2, 3]), [1, 2, 3]),
        (np.array(2.5), 2.5),
        (pd.Timestamp("2025-11-11 10:00"), "2025-11-11T10:00:00"),
        (dt.date(2024, 1, 1), "2024-01-01"),
        (pd.NA, None),
        (pd.Series([0.25, 0.75], index=["vip", "casual"]), {"vip": 0.25, "casual": 0.75}),
        ({1: np.int64(2), "a": (1, 2)}, {"1": 2, "a": [1, 2]}),
        ({np.int64(5): "x"}, {"5": "x"}),
        ("客戶", "客戶"),
    ],
)
def test_to_jsonable_converts_numpy_and_pandas(value, expected):
    out = to_jsonable(value)
    assert out == expected
    assert json.loads(json.dumps(out, allow_nan=False)) == expected


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (float("nan"), "JSON cannot store"),
        (np.float64("inf"), "JSON cannot store"),
        ([1.0, np.nan], r"x\[1\]"),
        (pd.DataFrame({"a": [1]}), "DataFrame"),
        ({(1, 2): 3}, "key"),
        (object(), "not JSON-safe"),
        (pd.Timedelta(days=1), "timedelta"),
        ({1, 2}, "not JSON-safe"),
    ],
)
def test_to_jsonable_rejects_with_clear_message(value, match):
    with pytest.raises(ValueError, match=match):
        to_jsonable(value, _path="x")


def test_record_rejects_bad_names_and_huge_values():
    with pytest.raises(ValueError, match="identifier"):
        record("", 1)
    with pytest.raises(ValueError, match="identifier"):
        record("two words", 1)
    with pytest.raises(ValueError, match="limit"):
        record("big", list(range(50_000)))


def test_record_displays_custom_mimetype_with_text_fallback(monkeypatch):
    shown = []
    import IPython.display

    monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False: shown.append((obj, raw)))
    assert record("n_orders", np.int64(12)) is None
    (obj, raw), = shown
    assert raw is True
    assert obj[RECORD_MIMETYPE] == {"name": "n_orders", "value": 12}
    assert obj["text/plain"] == "record: n_orders = 12"


def _notebook_with_outputs(outputs_per_cell):
    notebook = nbformat.v4.new_notebook()
    for outputs in outputs_per_cell:
        cell = nbformat.v4.new_code_cell("pass")
        cell.outputs = [nbformat.v4.new_output("display_data", data=d) for d in outputs]
        notebook.cells.append(cell)
    notebook.cells.append(nbformat.v4.new_markdown_cell("# not code"))
    return notebook


def test_read_results_from_node_and_path(tmp_path):
    notebook = _notebook_with_outputs(
        [
            [{RECORD_MIMETYPE: {"name": "a", "value": 1}, "text/plain": "record: a = 1"}],
            [{"text/plain": "unrelated"}],
            [
                {RECORD_MIMETYPE: {"name": "b", "value": {"vip": 0.5}}, "text/plain": "..."},
                # Some writers store JSON mimetypes as a string.
                {RECORD_MIMETYPE: json.dumps({"name": "a", "value": 2}), "text/plain": "..."},
            ],
        ]
    )
    # The last record of a name wins, like re-assigning a variable.
    assert read_results(notebook) == {"a": 2, "b": {"vip": 0.5}}
    path = tmp_path / "nb.ipynb"
    nbformat.write(notebook, path)
    assert read_results(path) == {"a": 2, "b": {"vip": 0.5}}
    assert read_results(str(path)) == {"a": 2, "b": {"vip": 0.5}}


def test_read_results_bad_input():
    with pytest.raises(ValueError, match="no notebook"):
        read_results("does/not/exist.ipynb")
    with pytest.raises(ValueError, match="expected a notebook"):
        read_results(42)


def test_record_round_trip_through_a_real_kernel(tmp_path):
    """record() inside a kernel -> saved notebook -> read_results() gives the values back."""
    from crmlab.course.build import execute_notebook

    src = tmp_path / "rt.ipynb"
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "import numpy as np, pandas as pd\n"
            "from crmlab.nb import record\n"
            "record('count', np.int64(3))\n"
            "record('shares', pd.Series([0.2, 0.8], index=['a', 'b']))\n"
            "record('when', pd.Timestamp('2025-01-29'))"
        )
    ]
    nbformat.write(notebook, src)
    out = tmp_path / "rt_out.ipynb"
    execute_notebook(src, out)
    assert read_results(out) == {"count": 3, "shares": {"a": 0.2, "b": 0.8}, "when": "2025-01-29T00:00:00"}
    text = [o["data"]["text/plain"] for o in nbformat.read(out, 4).cells[0].outputs]
    assert text == ['record: count = 3', 'record: shares = {"a": 0.2, "b": 0.8}',
                    'record: when = "2025-01-29T00:00:00"']


def test_module_exports():
    assert nb.MAX_RECORD_CHARS >= 10_000
