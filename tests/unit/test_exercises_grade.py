"""Grading and exam mode without kernels: collection, scoring, hand scores, gradebooks, forms.

The kernel-level run (a class of five executed and graded) is tests/exercises/test_grading.py.
Expected values here are built by hand in each test (a roster of two, answers made from the
tiny shop's own key), so every number is traceable.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

import crmlab.exercises as ex
from crmlab.course.exercises import gradebook
from crmlab.course.exercises.collect import Submission, collect, tamper_reasons, unpack
from crmlab.course.exercises.grade import Variant, score_submission
from crmlab.course.exercises.runner import TIMEOUT_ENAME, RunResult
from crmlab.exercises import checking, registry
from crmlab.exercises.exam import check_form, form_of
from crmlab.exercises.registry import answers_module

ROOT = Path(__file__).resolve().parents[2]
EXERCISES = ROOT / "instructor" / "exercises"  # the solution sources
NB = "00_warmup_exercises"


def _roster() -> pd.DataFrame:
    return pd.DataFrame({"student_id": ["a1", "b2"], "name": ["Amy", "Bo"], "seed": [11, 22],
                         "data": ["tiny", "tiny"]})


def _nb(student_id: str = "", seed: int | None = None, code: str = "x = 1",
        notebook: str = NB) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(code)]
    if student_id or seed is not None:
        nb.metadata["crmlab"] = {"notebook": notebook, "student_id": student_id, "seed": seed}
    return nb


def _put(root: Path, rel: str, nb: nbformat.NotebookNode | str, mtime: float = 1e9) -> Path:
    import os

    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(nb, str):
        path.write_text(nb, encoding="utf-8")
    else:
        nbformat.write(nb, path)
    os.utime(path, (mtime, mtime))
    return path


# ----------------------------------------------------------------------------- collect


def test_collect_names_every_kind_of_file(tmp_path):
    root = tmp_path / "subs"
    _put(root, f"a1/{NB}.ipynb", _nb("a1", 11))
    _put(root, f"a1/{NB} (1).ipynb", _nb("a1", 11), mtime=2e9)        # newer: graded
    _put(root, f"a1/.ipynb_checkpoints/{NB}-checkpoint.ipynb", _nb("a1", 11))
    _put(root, "b2/homework.ipynb", _nb("a1", 11))                    # a1's copy in b2's folder
    _put(root, "canvas/bo_123_456_whatever.ipynb", _nb("zz", 5))       # nobody on the roster
    _put(root, "broken.ipynb", "{not json")
    subs, skipped = collect(root, _roster(), [NB])
    got = [(s.student_id, s.path.name if s.path else None, s.status, sorted(s.flags))
           for s in subs]
    assert got == [
        ("a1", f"{NB} (1).ipynb", "ok", ["renamed"]),
        ("a1", f"{NB}.ipynb", "duplicate", []),
        ("b2", "homework.ipynb", "ok", ["renamed", "wrong_variant"]),
        ("", "bo_123_456_whatever.ipynb", "unidentified", []),  # its exercise is known
        ("", "broken.ipynb", "unreadable", []),
    ]
    assert skipped == 1
    assert "released to a1 (seed 11)" in subs[2].detail and "seed 22" in subs[2].detail


def test_collect_lists_missing_and_reads_flat_and_zip_layouts(tmp_path):
    import zipfile

    root = tmp_path / "flat"
    _put(root, f"b2_{NB}.ipynb", _nb())                # id first in the file name, no metadata
    archive = tmp_path / "subs.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(root / f"b2_{NB}.ipynb", f"download/b2_{NB}.ipynb")
    for folder in (root, unpack(archive, tmp_path / "work")):
        subs, _ = collect(folder, _roster(), [NB])
        assert [(s.student_id, s.status) for s in subs] == [("a1", "missing"), ("b2", "ok")]
        assert not subs[1].flags


def test_unpack_rejects_what_is_not_a_folder_or_zip(tmp_path):
    bad = tmp_path / "x.txt"
    bad.write_text("x")
    with pytest.raises(ValueError, match="not a folder or a .zip"):
        unpack(bad, tmp_path)


def test_released_notebook_has_no_tamper_pattern_and_tampering_is_seen(tmp_path):
    ex.release(EXERCISES / f"{NB}.ipynb", tmp_path / "s.ipynb")
    released = json.loads((tmp_path / "s.ipynb").read_text(encoding="utf-8"))
    assert tamper_reasons(released) == []
    assert released["metadata"]["crmlab"]["notebook"] == NB
    for code, why in [("from crmlab.exercises.answers import unit00", "imports the answer"),
                      ("import crmlab_answers.unit00", "imports the answer"),
                      ("u = answers_module('unit00')", "imports the answer"),
                      ("v = ctx.expected('warmup_aov')", "reads expected answers"),
                      ("import os; os.environ['CRMLAB_EXERCISES_MODE'] = ''", "grading log"),
                      ("def check(q, a):\n    return True", "replaces check()"),
                      ("check = lambda *a: True", "replaces check()")]:
        assert any(why in r for r in tamper_reasons(_nb(code=code))), code
    assert tamper_reasons(_nb(code="ok = check('warmup_aov', aov) == True")) == []


# ----------------------------------------------------------------------------- scoring


@pytest.fixture(scope="module")
def tiny_variant():
    """Student a1's expected answers on the tiny shop with seed 11 (the release's key)."""
    from crmlab.course.exercises.release import expected_values
    from crmlab.data import get_shop

    values = expected_values([EXERCISES / f"{NB}.ipynb"], get_shop("tiny", seed=11))
    return Variant("a1", "Amy", 11, "tiny", values)


def _entry(qid: str, answer, seed: int = 11, **extra) -> dict:
    from crmlab.exercises import keys

    return {"question_id": qid, "answer": keys.encode(answer), "encodable": True,
            "seed": seed, "data": "tiny", **extra}


def _sub(code: str = "") -> Submission:
    """a1's submission: one code cell per checked question, plus ``code``."""
    cells = [{"cell_type": "code", "source": f'check("{q}", x)'}
             for q in ex.question_ids(EXERCISES / f"{NB}.ipynb")]
    cells.append({"cell_type": "code", "source": code})
    return Submission(student_id="a1", notebook=NB, path=Path("a1.ipynb"), nb={"cells": cells})


def test_score_submission_statuses(tiny_variant):
    exp = tiny_variant.expected[NB]
    log = [_entry("warmup_n_customers", exp["warmup_n_customers"] + 1),   # wrong
           _entry("warmup_n_customers", float(exp["warmup_n_customers"])),  # last one counts
           _entry("warmup_aov", exp["warmup_aov"] * 100),
           {"question_id": "warmup_top_category", "answer": None, "encodable": False,
            "type": "Weird", "seed": 11, "data": "tiny"}]
    errors = [{"cell": 5, "ename": "NotImplementedError", "evalue": "",
               "source": 'raise NotImplementedError()\ncheck("warmup_top5_customers", t)'},
              {"cell": 6, "ename": TIMEOUT_ENAME, "evalue": "",
               "source": 'check("warmup_top_customer_products", p)'},
              {"cell": 7, "ename": "KeyError", "evalue": "'x'",
               "source": 'check("warmup_repeat_share", r)'}]
    sub = _sub()
    rows = score_submission(sub, tiny_variant, RunResult(executed=None, log=log,
                                                         cell_errors=errors))
    status = {r["question_id"]: (r["status"], r["points"]) for r in rows}
    assert status == {
        "warmup_n_customers": ("correct", 1.0),
        "warmup_orders_per_channel": ("missing", 0.0),
        "warmup_aov": ("wrong", 0.0),
        "warmup_top_category": ("unreadable_answer", 0.0),
        "warmup_top5_customers": ("unanswered", 0.0),
        "warmup_top_customer_products": ("timeout", 0.0),
        "warmup_repeat_share": ("error", 0.0),
    }
    assert sub.status == "timeout"  # most severe of timeout and error
    assert "KeyError" in sub.detail


def test_checks_on_other_data_are_a_wrong_variant(tiny_variant):
    exp = tiny_variant.expected[NB]
    sub = _sub()
    run = RunResult(executed=None, log=[_entry("warmup_aov", exp["warmup_aov"], seed=42)])
    rows = score_submission(sub, tiny_variant, run)
    assert sub.status == "wrong_variant" and "seed 42" in sub.detail
    assert next(r for r in rows if r["question_id"] == "warmup_aov")["status"] == "correct"


def test_tampered_submission_is_held_with_a_suggestion(tiny_variant):
    exp = tiny_variant.expected[NB]
    sub = _sub(code="from crmlab_answers import unit00")
    rows = score_submission(sub, tiny_variant, RunResult(
        executed=None, log=[_entry("warmup_aov", exp["warmup_aov"])]))
    assert sub.status == "tampered"
    assert {r["status"] for r in rows} == {"held"}
    assert all(math.isnan(r["points"]) for r in rows)
    assert sum(r["suggested"] for r in rows) == 1.0


# ----------------------------------------------------------------------------- hand, books


def _scores() -> pd.DataFrame:
    rows = []
    for sid, name, q1, open_pts in (("a1", "Amy", 1.0, math.nan), ("b2", "Bo", 0.0, math.nan)):
        rows.append({"student_id": sid, "name": name, "notebook": NB, "question_id": "q1",
                     "kind": "auto", "status": "correct" if q1 else "wrong", "points": q1,
                     "max_points": 1.0, "suggested": math.nan})
        rows.append({"student_id": sid, "name": name, "notebook": NB,
                     "question_id": "exercise_8", "kind": "hand", "status": "hand",
                     "points": open_pts, "max_points": 4.0, "suggested": math.nan})
    return pd.DataFrame(rows)


def test_hand_template_merge_and_gradebooks(tmp_path):
    scores = _scores()
    template = gradebook.write_hand_template(scores, tmp_path / "hand.csv")
    assert template["question_id"].tolist() == ["exercise_8", "exercise_8"]
    filled = pd.read_csv(tmp_path / "hand.csv", dtype=str, keep_default_na=False)
    filled["points"] = ["3.5", ""]                      # b2 not graded yet
    filled.to_csv(tmp_path / "hand.csv", index=False)
    merged = gradebook.merge_hand(scores, gradebook.read_hand(tmp_path / "hand.csv", scores))
    roster = pd.DataFrame({"student_id": ["a1", "b2"], "name": ["Amy", "Bo"]})
    book = gradebook.write_gradebooks(merged, roster, [NB], tmp_path)
    assert book[NB].tolist()[0] == 4.5 and math.isnan(book[NB].tolist()[1])  # 1 + 3.5; pending
    book0 = gradebook.write_gradebooks(merged, roster, [NB], tmp_path, pending="zero")
    assert book0[NB].tolist() == [4.5, 0.0] and book0["total"].tolist() == [4.5, 0.0]
    canvas = (tmp_path / "gradebook_canvas.csv").read_text(encoding="utf-8").splitlines()
    assert canvas[:3] == ["Student,ID,SIS User ID,SIS Login ID,Section,00_warmup_exercises",
                          "    Points Possible,,,,,5", "Amy,,a1,,,4.5"]


@pytest.mark.parametrize("rows, problem", [
    ("student_id,notebook,question_id,points\nzz,00_warmup_exercises,exercise_8,1\n",
     "line 2: no question 'exercise_8' of '00_warmup_exercises' for student 'zz'"),
    ("student_id,notebook,question_id,points\na1,00_warmup_exercises,exercise_8,lots\n",
     "line 2, column points: 'lots' is not a number"),
    ("student_id,notebook,question_id,points\na1,00_warmup_exercises,exercise_8,5\n",
     "column points: 5 is outside 0..4"),
    ("student_id,notebook,question_id,points\na1,00_warmup_exercises,exercise_8,1\n"
     "a1,00_warmup_exercises,exercise_8,2\n", "graded twice"),
    ("student_id,question_id,points\na1,exercise_8,1\n", r"missing column\(s\) \['notebook'\]"),
])
def test_hand_scores_are_validated(tmp_path, rows, problem):
    path = tmp_path / "hand.csv"
    path.write_text(rows, encoding="utf-8")
    with pytest.raises(ValueError, match=problem):
        gradebook.read_hand(path, _scores())


def test_load_keys_errors_name_the_fix(tmp_path):
    from crmlab.course.exercises.grade import load_keys

    with pytest.raises(ValueError, match="no roster.csv"):
        load_keys(tmp_path)
    (tmp_path / "roster.csv").write_text("student_id,name,seed,data\na1,Amy,11,tiny\n")
    with pytest.raises(ValueError, match="no key a1.csv for student a1"):
        load_keys(tmp_path)


# ----------------------------------------------------------------------------- exam mode


def test_forms_say_what_kind_never_the_value():
    table = pd.DataFrame({"channel": ["app", "web"], "n_orders": [3, 4]})
    form = form_of(table)
    assert form == {"kind": "frame", "columns": ["channel", "n_orders"], "index": [],
                    "column_kinds": {"channel": "text", "n_orders": "number"},
                    "extra_columns": False}
    assert check_form(table.set_index("channel").iloc[::-1] * 1, form).ok  # other values ok
    assert "missing the column(s) ['n_orders']" in check_form(table[["channel"]], form).reason
    assert "holds text values" in check_form(table.astype(str), form).reason
    assert check_form(123.0, form_of(7)).ok and not check_form("7", form_of(7)).ok
    assert check_form([3, 1], form_of({1, 2})).ok
    assert "a set, which has no order" in check_form({1, 2}, form_of([1, 2])).reason
    assert check_form(pd.Timestamp("2020-01-01"), form_of(pd.Timestamp("2024-05-01"))).ok


def test_exam_check_never_loads_answer_functions(monkeypatch, capsys):
    from crmlab.data import get_shop

    def no_answers(qid):
        raise AssertionError(f"exam check looked up the answer of {qid}")

    monkeypatch.setattr(checking, "get_question", no_answers)
    monkeypatch.setitem(sys.modules, registry.ANSWERS_PACKAGE, None)  # not importable
    shop = get_shop("tiny", seed=3)
    forms = {"warmup_aov": {"kind": "number"}}
    ex.start("00_warmup", shop=shop, mode="exam", forms=forms)
    try:
        assert ex.check("warmup_aov", 12345.0) is True          # a wrong value: form only
        assert "the form is right" in capsys.readouterr().out
        assert ex.check("warmup_aov", "12345") is False
        assert "not the expected form" in capsys.readouterr().out
        with pytest.raises(ValueError, match="no exam question"):
            ex.check("warmup_aovv", 1.0)
    finally:
        checking._CURRENT = None
    with pytest.raises(ValueError, match="needs forms"):
        ex.start("00_warmup", shop=shop, mode="exam")


def test_grading_mode_only_records(monkeypatch, tmp_path):
    log = tmp_path / "log.jsonl"
    monkeypatch.setenv(ex.LOG_ENV, str(log))
    monkeypatch.setenv(checking.MODE_ENV, "grading")
    monkeypatch.setattr(checking, "get_question", lambda q: pytest.fail("no answers"))
    ex.start("00_warmup", shop=object(), seed=9, data="tiny")
    try:
        assert ex.check("warmup_aov", object()) is True
        entry = json.loads(log.read_text().splitlines()[0])
        assert entry == {"question_id": "warmup_aov", "passed": None, "answer": None,
                         "encodable": False, "type": "object", "exercise": "00_warmup",
                         "seed": 9, "data": "tiny", "mode": "practice"}
        with pytest.raises(ImportError, match="not available while a submission is graded"):
            registry.answers_package()._refuse_while_grading()
        assert json.loads(log.read_text().splitlines()[-1]) == {"event": "answers_imported"}
    finally:
        checking._CURRENT = None


def test_exam_release_has_no_answer_code_and_keys_stay_outside(tmp_path):
    import ast
    import inspect

    unit00 = answers_module("unit00")

    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name\na1,Amy\nb2,Bo\n", encoding="utf-8")
    out = tmp_path / "exam"
    ex.release_all(EXERCISES, out, students=roster, only=["00"], data="tiny", mode="exam")
    keys_dir = tmp_path / "exam_keys"
    assert sorted(p.name for p in keys_dir.iterdir()) == ["a1.csv", "b2.csv", "roster.csv"]
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == [f"a1/{NB}.ipynb", f"b2/{NB}.ipynb"]
    text = "\n".join((out / f).read_text(encoding="utf-8") for f in files)
    # no line of any answer function body, no solution marker, no expected value
    tree = ast.parse(inspect.getsource(unit00))
    bodies = {ast.unparse(stmt).strip() for fn in ast.walk(tree)
              if isinstance(fn, ast.FunctionDef) for stmt in fn.body}
    leaked = [b for b in bodies if len(b) > 25 and b in text]
    assert not leaked, leaked[:3]
    assert "BEGIN SOLUTION" not in text and "MARK SCHEME" not in text
    key = ex.read_key(keys_dir / "a1.csv")
    assert repr(key["warmup_aov"]) not in text and str(key["warmup_n_customers"]) not in text
    nb = nbformat.read(out / "a1" / f"{NB}.ipynb", as_version=4)
    assert nb.metadata["crmlab"]["mode"] == "exam" and nb.metadata["crmlab"]["student_id"] == "a1"
    setup = next(c.source for c in nb.cells if "ex.start(" in c.source)
    assert 'mode="exam", forms=EXAM_FORMS)' in setup
    forms_cell = next(c for c in nb.cells if "crmlab-exam-forms" in c.metadata.get("tags", []))
    namespace: dict = {}
    exec(forms_cell.source, namespace)
    assert set(namespace["EXAM_FORMS"]) == set(key)
    with pytest.raises(ValueError, match="would sit inside"):
        ex.release_all(EXERCISES, out, students=roster, only=["00"], data="tiny", mode="exam",
                       keys_dir=out / "k")
