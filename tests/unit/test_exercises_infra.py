"""Unit tests of crmlab.exercises: tolerant comparison, registry, check, keys, release, CLI.

No kernels here (fast); executing the exercise notebooks is tests/exercises/.
"""

from __future__ import annotations

import hashlib
import json
from types import SimpleNamespace

import nbformat
import numpy as np
import pandas as pd
import pytest

import crmlab.exercises as ex
from crmlab.course.exercises.release import (
    CODE_STUB,
    STUB_RE,
    set_parameters,
    strip_notebook,
)
from crmlab.exercises import checking, compare, keys, registry
from crmlab.exercises.registry import answers_module

unit00 = answers_module("unit00")

# ----------------------------------------------------------------------------- compare


@pytest.fixture
def table():
    return pd.DataFrame({
        "channel": ["web", "app", "store"],
        "n_orders": np.array([10, 7, 3], dtype="int64"),
        "revenue": [1000.5, 700.25, 300.0],
    })


def test_frame_column_order_and_dtypes_are_tolerated(table):
    answer = table[["revenue", "channel", "n_orders"]].astype(
        {"n_orders": "float64", "channel": "category"})
    assert compare(answer, table).ok
    assert compare(table.astype({"n_orders": "Int64", "channel": "object"}), table).ok


def test_frame_wrong_value_fails_without_revealing_it(table):
    wrong = table.assign(revenue=[1000.5, 701.25, 300.0])
    verdict = compare(wrong, table)
    assert not verdict.ok
    assert "'revenue'" in verdict.reason and "1 of 3" in verdict.reason
    assert "700.25" not in verdict.reason and "701.25" not in verdict.reason


def test_frame_float_tolerance(table):
    assert compare(table.assign(revenue=table["revenue"] * (1 + 1e-9)), table).ok
    assert not compare(table.assign(revenue=table["revenue"] * (1 + 1e-4)), table).ok
    assert compare(table.assign(revenue=table["revenue"] * (1 + 1e-4)), table, rtol=1e-3).ok


def test_frame_missing_extra_columns_and_rows(table):
    assert "missing column(s) ['revenue']" in compare(table.drop(columns="revenue"), table).reason
    extra = table.assign(aov=1.0)
    assert "unexpected column(s) ['aov']" in compare(extra, table).reason
    assert compare(extra, table, extra_columns=True).ok
    assert "2 rows; 3 were expected" in compare(table.head(2), table).reason


def test_frame_row_order_only_when_told(table):
    shuffled = table.iloc[[2, 0, 1]]
    assert not compare(shuffled, table).ok
    assert compare(shuffled, table, ignore_row_order=True).ok
    # the default 0..n-1 index carries no information: a sorted answer keeps its old labels
    assert compare(shuffled.sort_values("n_orders", ascending=False), table).ok


def test_key_as_column_or_index_is_tolerated(table):
    keyed = table.set_index("channel")
    assert compare(table, keyed).ok          # expected keyed, answer kept it as a column
    assert compare(keyed, table).ok          # the reverse
    wrong_keys = keyed.rename(index={"store": "marketplace"})
    assert "labels of the index (channel) differ" in compare(wrong_keys, keyed).reason
    shuffled = keyed.iloc[[1, 2, 0]]
    assert compare(shuffled, keyed, ignore_row_order=True).ok
    assert not compare(shuffled, keyed).ok


def test_series_and_single_column_frames():
    expected = pd.Series([3, 1], index=pd.Index(["a", "b"], name="k"), name="count")
    assert compare(expected.astype(float).rename("whatever"), expected).ok
    assert compare(expected.to_frame(), expected).ok
    assert compare({"a": 3, "b": 1}, expected).ok
    assert not compare(expected.rename("x"), expected, check_names=True).ok
    assert "1 of 2 values differ" in compare(expected.replace(1, 2), expected).reason


def test_scalars_off_by_one_and_representation():
    assert compare(np.int64(2000), 2000).ok
    assert compare(2000.0, 2000).ok
    off = compare(1999, 2000)
    assert not off.ok and "too low" in off.reason and "2000" not in off.reason
    assert "too high" in compare(2500, 2000).reason
    assert compare(0.1 + 0.2, 0.3).ok
    assert not compare(True, 1).ok            # a bool is not a count
    assert not compare("2000", 2000).ok
    assert ".item()" in compare(pd.Series([2000]), 2000).reason
    assert compare(np.array([2000.0]), 2000).ok
    assert compare(float("nan"), float("nan")).ok
    assert not compare(1.0, float("nan")).ok


def test_strings_dates_and_none():
    assert compare(" fashion ", "fashion").ok
    assert not compare("Fashion", "fashion").ok
    assert compare("Fashion", "fashion", case_sensitive=False).ok
    assert compare("2024-03-01", pd.Timestamp("2024-03-01")).ok
    assert "too late" in compare(pd.Timestamp("2024-03-02"), pd.Timestamp("2024-03-01")).reason
    assert compare(pd.Timedelta(days=1), pd.Timedelta(hours=24)).ok
    assert "None" in compare(None, 5).reason


def test_collections():
    assert compare([3, 1, 2], [3, 1, 2]).ok
    assert compare(np.array([3, 1, 2]), [3, 1, 2]).ok
    assert compare(pd.Index([3, 1, 2]), [3, 1, 2]).ok
    assert "wrong order" in compare([1, 2, 3], [3, 1, 2]).reason
    assert compare([1, 2, 3], [3, 1, 2], ordered=False).ok
    assert "3 items; 2 were expected" in compare([1, 2, 3], [1, 2]).reason
    assert compare([2, 1, np.int64(3)], {1, 2, 3}).ok
    assert "misses 1 expected item(s) and has 1 unexpected" in compare({1, 2, 4}, {1, 2, 3}).reason
    assert compare({"a": 1.0, "b": [1, 2]}, {"a": 1, "b": [1, 2]}).ok
    assert "missing key(s) ['b']" in compare({"a": 1}, {"a": 1, "b": 2}).reason
    assert compare(pd.Series({"a": 1, "b": 2}), {"a": 1, "b": 2}).ok


def test_compare_options_validate():
    with pytest.raises(ValueError, match="rtol"):
        compare(1, 1, rtol=-1)


# ----------------------------------------------------------------------------- registry


def test_question_registration_rules():
    with pytest.raises(ValueError, match="snake_case"):
        ex.question("Bad Id")
    with pytest.raises(ValueError, match="unknown option"):
        ex.question("some_q", tolerance=1)

    @ex.question("zz_test_square", hint="square it", unit="99")
    def square(shop):
        return shop.x ** 2

    try:
        q = ex.get_question("zz_test_square")
        assert q.unit == "99" and q.hint == "square it"
        with pytest.raises(ValueError, match="registered twice"):
            @ex.question("zz_test_square")
            def other(shop):
                return 0
    finally:
        registry.QUESTIONS.pop("zz_test_square", None)


def test_unknown_question_suggests_close_ids():
    with pytest.raises(ValueError, match="Did you mean 'warmup_aov'"):
        ex.get_question("warmup_aovv")


def test_unit_is_taken_from_the_module_name():
    assert ex.get_question("warmup_aov").unit == "00"
    assert {q.id for q in ex.questions("00")} >= {"warmup_n_customers", "warmup_aov"}
    assert ex.questions(0) == ex.questions("00")


def test_custom_compare_function():
    @ex.question("zz_test_parity", compare=lambda a, e: (a % 2 == e % 2, "wrong parity"),
                 unit="99")
    def parity(shop):
        return 4

    try:
        shop = SimpleNamespace()
        assert ex.check("zz_test_parity", 10, data=shop) is True
        assert ex.check("zz_test_parity", 3, data=shop) is False
    finally:
        registry.QUESTIONS.pop("zz_test_parity", None)


# ----------------------------------------------------------------------------- check


def _hand_shop() -> SimpleNamespace:
    """A shop small enough to answer every warm-up question by hand (numbers below)."""
    customers = pd.DataFrame({"customer_id": [1, 2, 3, 4]})
    orders = pd.DataFrame({
        "order_id": [10, 11, 12, 13, 14],
        "customer_id": [1, 1, 2, 3, 1],
        "channel": pd.Categorical(["web", "app", "web", "web", "app"],
                                  categories=["web", "app", "marketplace", "store"]),
        "amount": [100.0, 50.0, 400.0, 20.0, 30.0],
    })
    order_items = pd.DataFrame({
        "order_id": [10, 10, 11, 12, 13, 14],
        "line_no": [1, 2, 1, 1, 1, 1],
        "product_id": [7, 8, 7, 9, 8, 5],
        "line_amount": [60.0, 40.0, 50.0, 400.0, 20.0, 30.0],
    })
    products = pd.DataFrame({
        "product_id": [5, 7, 8, 9],
        "category": pd.Categorical(["books", "books", "home", "electronics"]),
    })
    return SimpleNamespace(customers=customers, orders=orders, order_items=order_items,
                           products=products)


def test_warmup_answers_on_a_hand_computed_shop():
    shop = _hand_shop()
    # counted by hand from _hand_shop: 4 members; web 3 orders = 520, app 2 orders = 80
    assert unit00.n_customers(shop) == 4
    by_channel = unit00.orders_per_channel(shop).set_index("channel")
    assert by_channel.loc["web"].tolist() == [3, 520.0]
    assert by_channel.loc["app"].tolist() == [2, 80.0]
    assert len(by_channel) == 2  # channels without orders are left out
    assert unit00.average_order_value(shop) == pytest.approx(600 / 5)
    # electronics 400 > books 60+50+30=140 > home 60
    assert unit00.top_category(shop) == "electronics"
    # spend: 2 -> 400, 1 -> 180, 3 -> 20 (customer 4 never ordered)
    assert unit00.top5_customers(shop) == [2, 1, 3]
    assert unit00.top_customer_products(shop) == {9}
    # buyers 1, 2, 3; only customer 1 ordered twice or more
    assert unit00.repeat_share(shop) == pytest.approx(1 / 3)


def test_check_prints_friendly_messages_and_returns_bool(capsys):
    shop = _hand_shop()
    assert ex.check("warmup_n_customers", 4, data=shop) is True
    out = capsys.readouterr().out
    assert out.startswith("✅ warmup_n_customers")
    assert ex.check("warmup_n_customers", 5, data=shop) is False
    out = capsys.readouterr().out
    assert out.startswith("❌ warmup_n_customers") and "too high" in out
    assert "Hint: Every row of shop.customers" in out
    assert checking.HISTORY[-2:] == [("warmup_n_customers", True), ("warmup_n_customers", False)]


def test_check_typical_mistakes_on_warmup():
    shop = _hand_shop()
    right = (shop.orders.groupby("channel", observed=True)
             .agg(n_orders=("order_id", "size"), revenue=("amount", "sum")))
    assert ex.check("warmup_orders_per_channel", right, data=shop)               # key as index
    assert ex.check("warmup_orders_per_channel", right.reset_index()[["revenue", "n_orders",
                                                                      "channel"]], data=shop)
    # observed=False keeps channels with no orders: two extra rows
    with_empty = shop.orders.groupby("channel", observed=False).agg(
        n_orders=("order_id", "size"), revenue=("amount", "sum"))
    assert not ex.check("warmup_orders_per_channel", with_empty, data=shop)
    # gross instead of net / mean of line amounts instead of orders
    assert not ex.check("warmup_aov", shop.order_items["line_amount"].mean(), data=shop)
    # off by one: counting order rows, not members
    assert not ex.check("warmup_n_customers", 3, data=shop)
    # top-5 as a Series of spend instead of a list of ids
    spend = shop.orders.groupby("customer_id")["amount"].sum().sort_values(ascending=False)
    assert not ex.check("warmup_top5_customers", spend, data=shop)
    assert ex.check("warmup_top5_customers", spend.index, data=shop)
    # repeat share over all members (4) instead of buyers (3)
    assert not ex.check("warmup_repeat_share", 1 / 4, data=shop)


def test_check_needs_a_context():
    saved = checking._CURRENT
    checking._CURRENT = None
    try:
        with pytest.raises(ValueError, match="run the setup cell"):
            ex.check("warmup_aov", 1.0)
    finally:
        checking._CURRENT = saved


def test_start_with_a_given_shop_and_log(tmp_path, monkeypatch):
    log = tmp_path / "checks.jsonl"
    monkeypatch.setenv(ex.LOG_ENV, str(log))
    ctx = ex.start("00_warmup", shop=_hand_shop(), seed=7)
    assert ctx.unit == "00" and ex.current() is ctx
    assert ex.check("warmup_top5_customers", [2, 1, 3])
    assert not ex.check("warmup_top_category", "books")
    entries = ex.read_log(log)
    assert [(e["question_id"], e["passed"]) for e in entries] == [
        ("warmup_top5_customers", True), ("warmup_top_category", False)]
    assert entries[0]["answer"] == [2, 1, 3]
    with pytest.raises(ValueError, match="SEED must be an integer"):
        ex.start("00_warmup", shop=_hand_shop(), seed="7")


def test_answer_function_failure_is_reported_as_ours():
    with pytest.raises(RuntimeError, match="problem in crmlab"):
        ex.check("warmup_aov", 1.0, data=SimpleNamespace())


# ----------------------------------------------------------------------------- keys


@pytest.mark.parametrize("value", [
    7, 2.5, "fashion", True, None, pd.Timestamp("2024-05-01 10:00"), pd.Timedelta(hours=3),
    [1, 2, 3], (1, "a"), {3, 1, 2}, {"a": 1.5, "b": [1, 2]}, np.arange(6).reshape(2, 3),
    pd.Series([1.5, np.nan], index=pd.Index(["x", "y"], name="k"), name="v"),
    pd.DataFrame({"c": pd.Categorical(["a", "b"]), "t": pd.to_datetime(["2024-01-01", None]),
                  "n": pd.array([1, None], dtype="Int64"), "f": [0.1, 0.2]},
                 index=pd.Index([5, 6], name="customer_id")),
    pd.DataFrame({"a": [1, 2]}),
])
def test_key_round_trip(value):
    back = keys.loads(keys.dumps(value))
    assert compare(back, value).ok if value is not None else back is None
    assert isinstance(keys.summary(value), str)


def test_key_rejects_unknown_types():
    with pytest.raises(ValueError, match="cannot serialize"):
        keys.dumps(object())


# ----------------------------------------------------------------------------- release


def _source_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('DATA = "small"  # size\nSEED = 42')
    params.metadata["tags"] = ["parameters"]
    setup = nbformat.v4.new_code_cell("import crmlab.exercises as ex")
    solved = nbformat.v4.new_code_cell(
        "def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n"
        "check('q', f(1))")
    solved.outputs = [nbformat.v4.new_output("stream", text="✅ q")]
    solved.execution_count = 3
    hidden_region = nbformat.v4.new_code_cell(
        "x = 1\n### BEGIN HIDDEN TESTS\nassert secret_answer == 2\n### END HIDDEN TESTS")
    hidden_cell = nbformat.v4.new_code_cell("assert secret_cell")
    hidden_cell.metadata["tags"] = ["hidden"]
    rubric = nbformat.v4.new_markdown_cell(
        "Explain.\n\n### BEGIN SOLUTION\nmodel answer text\n### END SOLUTION\n\n"
        "=== BEGIN MARK SCHEME ===\n2 points for rubric text\n=== END MARK SCHEME ===\nThanks.")
    answer = nbformat.v4.new_code_cell(
        "### BEGIN SOLUTION\nspend = 2\ntotal, share = spend * 3, 0.5\n### END SOLUTION\n"
        "check('q2', total)\ncarried = ex.checkpoint('q3', share)")
    nb.cells = [params, setup, solved, hidden_region, hidden_cell, rubric, answer]
    return nb


def test_strip_notebook_removes_every_kind_of_solution():
    student, counts = strip_notebook(_source_notebook())
    assert counts == {"solutions": 3, "hidden_cells": 1, "hidden_regions": 1, "mark_schemes": 1}
    text = "\n".join(c.source for c in student.cells)
    for secret in ("return x + 1", "secret_answer", "secret_cell", "model answer text",
                   "rubric text", "BEGIN", "END", "spend"):
        assert secret not in text
    stub = CODE_STUB[0] + CODE_STUB[1]
    # a function body returns the sentinel, so check('q', f(1)) says "not answered yet"
    assert student.cells[2].source == (
        f"def f(x):\n    {stub}\n    return ex.NOT_ANSWERED\ncheck('q', f(1))")
    assert student.cells[2].outputs == [] and student.cells[2].execution_count is None
    assert student.cells[3].source == "x = 1"
    assert "YOUR ANSWER HERE" in student.cells[4].source and "Thanks." in student.cells[4].source
    # the checked name and the name a checkpoint carries on are bound; `spend` is not
    assert student.cells[5].source == (f"{stub}\ntotal = ex.NOT_ANSWERED\nshare = ex.NOT_ANSWERED\n"
                                       "check('q2', total)\ncarried = ex.checkpoint('q3', share)")
    assert [m.group(0) for m in STUB_RE.finditer(student.cells[5].source)] == [
        f"{stub}\ntotal = ex.NOT_ANSWERED\nshare = ex.NOT_ANSWERED"]
    assert len(student.cells) == 6


def test_stubs_need_the_ex_import_and_open_cells_get_only_the_comment():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("### BEGIN SOLUTION\na = 1\n### END SOLUTION\ncheck('q', a)")]
    with pytest.raises(ValueError, match="import crmlab.exercises as ex"):
        strip_notebook(nb, where="nb.ipynb")
    nb.cells = [nbformat.v4.new_code_cell("# your analysis\n### BEGIN SOLUTION\nprint(1)\n"
                                          "### END SOLUTION"),
                nbformat.v4.new_code_cell("if True:\n    ### BEGIN SOLUTION\n    y = 2\n"
                                          "    ### END SOLUTION")]
    student, _ = strip_notebook(nb)
    assert student.cells[0].source == f"# your analysis\n{CODE_STUB[0]}"
    assert student.cells[1].source == f"if True:\n    {CODE_STUB[0]}\n    pass"


@pytest.mark.parametrize("source, problem", [
    ("## BEGIN SOLUTION\nx = 1\n## END SOLUTION", "looks like a marker"),
    ("x = 1\n# begin solution", "looks like a marker"),
    ("### BEGIN SOLUTION\nx = 1", "never closed"),
    ("x = 1\n### END SOLUTION", "without a matching"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "inside another region"),
])
def test_unbalanced_markers_are_errors(source, problem):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    with pytest.raises(ValueError, match=problem):
        strip_notebook(nb, where="nb.ipynb")


def test_set_parameters_keeps_comments_and_rejects_unknown_names():
    nb = _source_notebook()
    set_parameters(nb, {"SEED": 123, "DATA": "tiny"})
    assert nb.cells[0].source == "DATA = 'tiny'  # size\nSEED = 123"
    with pytest.raises(ValueError, match="does not assign \\['N_CUSTOMERS'\\]"):
        set_parameters(nb, {"N_CUSTOMERS": 5})


def test_student_seed_is_stable_and_distinct():
    # the documented recipe: SHA-256 of "crmlab-exercises:<base>:<id>", first 8 bytes,
    # mod (2**31 - 1), plus 1 — recomputed here from hashlib, not from the function
    digest = hashlib.sha256(b"crmlab-exercises:0:s001").digest()
    assert ex.student_seed("s001") == int.from_bytes(digest[:8], "big") % (2**31 - 1) + 1
    assert ex.student_seed("s001") == ex.student_seed(" s001 ")
    assert ex.student_seed("s001") != ex.student_seed("s002")
    assert ex.student_seed("s001", 2025) != ex.student_seed("s001")


@pytest.mark.parametrize("csv, problem", [
    ("id,name\ns1,A\n", "missing column"),
    ("student_id,name\ns1,A\ns1,B\n", "duplicated"),
    ("student_id,name\n,A\n", "empty id"),
    ("student_id,name\na/b,A\n", "cannot be folder names"),
])
def test_roster_validation(tmp_path, csv, problem):
    path = tmp_path / "roster.csv"
    path.write_text(csv, encoding="utf-8")
    with pytest.raises(ValueError, match=problem):
        ex.read_roster(path)


def test_cli_release_with_roster(tmp_path):
    """Two students, tiny data: folders, seeds in the notebooks, keys that differ."""
    from crmlab.course.exercises.cli import main

    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name\ns001,Amy Lin\ns002,Bo Chen\n", encoding="utf-8")
    out = tmp_path / "out"
    code = main(["release", "--out", str(out), "--students", str(roster), "--only", "00",
                 "--data", "tiny", "-q"])
    assert code == 0
    seeds = pd.read_csv(out / "_answer_keys" / "roster.csv").set_index("student_id")["seed"]
    assert seeds.to_dict() == {"s001": ex.student_seed("s001"), "s002": ex.student_seed("s002")}
    for sid in ("s001", "s002"):
        nb = nbformat.read(out / sid / "00_warmup_exercises.ipynb", as_version=4)
        params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        assert f"SEED = {seeds[sid]}" in params.source and "DATA = 'tiny'" in params.source
        assert "BEGIN SOLUTION" not in json.dumps(nb)
    k1 = ex.read_key(out / "_answer_keys" / "s001.csv")
    k2 = ex.read_key(out / "_answer_keys" / "s002.csv")
    source = ex.find_notebooks(_exercises_dir(), ["00"])[0]
    assert set(k1) == set(k2) == set(ex.question_ids(source))
    assert any(not compare(k1[q], k2[q]).ok for q in k1)  # different data, different answers


def _exercises_dir():
    from crmlab.course.exercises.cli import default_source

    return default_source()


def test_cli_release_errors_are_clean(tmp_path, capsys):
    from crmlab.course.exercises.cli import main

    assert main(["release", "--out", str(tmp_path), "--only", "99"]) == 1
    assert "no exercise notebook" in capsys.readouterr().err


def test_check_survives_an_answer_that_breaks_the_comparison(capsys):
    class Weird:
        def __eq__(self, other):
            raise TypeError("no comparisons")

    # the built-in comparison reports the type mismatch
    assert ex.check("warmup_top_category", Weird(), data=_hand_shop()) is False
    assert "your answer is a Weird; a string (text) was expected" in capsys.readouterr().out

    # a custom comparison that raises is reported as "could not be compared", not a crash
    @ex.question("zz_test_eq", compare=lambda a, e: a == e, unit="99")
    def eq(shop):
        return "x"

    try:
        assert ex.check("zz_test_eq", Weird(), data=SimpleNamespace()) is False
        assert "could not be compared" in capsys.readouterr().out
    finally:
        registry.QUESTIONS.pop("zz_test_eq", None)


def test_crmlab_command_has_the_exercises_subcommand(capsys):
    from crmlab.course.cli import main

    assert main(["exercises", "list", "--unit", "00"]) == 0
    assert "warmup_aov" in capsys.readouterr().out


def test_answers_live_outside_the_installed_package(monkeypatch, tmp_path):
    """The answer functions and their registered mistakes are in instructor/answers/ of the
    repository, never in the package a student installs (issue 30): no module of crmlab
    registers a question, pyproject's package discovery finds no answers, and an install
    without the folder says where the answers are instead of failing obscurely."""
    import re
    import sys
    import tomllib
    from pathlib import Path

    from setuptools import find_packages

    root = Path(__file__).resolve().parents[2]
    assert registry.answers_folder() == root / "instructor" / "answers"
    assert {"unit00", "unit12"} <= {p.stem for p in registry.answers_folder().glob("unit*.py")}
    registering = re.compile(r"^@(question|mistake|variant|convention)\(", re.M)
    assert [p for p in (root / "crmlab").rglob("*.py")
            if registering.search(p.read_text(encoding="utf-8"))] == []
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    found = config["tool"]["setuptools"]["packages"]["find"]
    packages = find_packages(str(root), include=found["include"])
    assert "crmlab.course" in packages and not [p for p in packages if "answers" in p]

    monkeypatch.setenv(registry.ANSWERS_ENV, str(tmp_path))  # a folder without answers
    monkeypatch.delitem(sys.modules, registry.ANSWERS_PACKAGE, raising=False)
    assert registry.answers_folder() is None
    with pytest.raises(ValueError, match="instructor/answers/ of the course repository"):
        registry.answers_package()
