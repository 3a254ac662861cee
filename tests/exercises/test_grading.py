"""End to end: a fake class of five is released, submits, and is graded (issue 29).

Roster (tiny data, warm-up notebook 00, 7 checked questions of 1 point + Exercise 8
open-ended worth 4 points by its rubric = 11 points):

- s01 right: the model solutions of the solution notebook -> 7/7 auto;
- s02 wrong: three registered typical mistakes (order rows for members, order-line mean
  for AOV, a percentage for a share) -> 4/7, each mistake named; plus an older copy with
  nothing answered (a duplicate that must not be graded);
- s03 partly right: three right, one wrong text, three left unanswered, file renamed to
  "my homework.ipynb" -> 3/7, status renamed;
- s04 failing: exercise 2 raises KeyError, exercise 3 loops forever (cut by the cell time
  limit), the rest right -> 5/7, status timeout;
- s05 tampered: imports the answer functions for exercise 3 -> held, status tampered;
- s06 never submits -> missing, 0.

Plus a file that is not a notebook (unreadable) and a Jupyter checkpoint copy (skipped).
The expected marks above follow from what each submission does; the hand scores the test
"types in" are listed in HAND. The whole class is graded once (module fixture, two at a
time); each test reads that run.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest

import crmlab.exercises as ex
from crmlab.course.exercises.release import CHECK_CALL_RE, SOURCE_FOLDER, STUB_RE

ROOT = Path(__file__).resolve().parents[2]
EXERCISES = ROOT / SOURCE_FOLDER
WARMUP = EXERCISES / "00_warmup_exercises.ipynb"
NB = "00_warmup_exercises"
ROSTER = ("student_id,name\ns01,Ann Right\ns02,Ben Wrong\ns03,Cy Partly\ns04,Di Failing\n"
          "s05,Ed Tampered\ns06,Flo Missing\n")

#: Hand scores for Exercise 8 (out of 4), and the instructor's review of s05: keep the
#: grader's suggestion except exercise 3, where the answer functions were imported.
HAND = {"s01": 4, "s02": 2, "s03": 1, "s04": 3, "s05": 2}

#: Expected auto points (see the module docstring) and the resulting gradebook.
AUTO = {"s01": 7, "s02": 4, "s03": 3, "s04": 5, "s05": 6, "s06": 0}
EXPECTED_BOOK = pd.DataFrame({
    "student_id": ["s01", "s02", "s03", "s04", "s05", "s06"],
    "name": ["Ann Right", "Ben Wrong", "Cy Partly", "Di Failing", "Ed Tampered", "Flo Missing"],
    NB: [11.0, 6.0, 4.0, 8.0, 8.0, 0.0],
})


def _solutions() -> dict[str, str]:
    """The model solution of every checked question, from the solution notebook."""
    nb = nbformat.read(WARMUP, as_version=4)
    found = {}
    for cell in nb.cells:
        ids = CHECK_CALL_RE.findall(cell.source)
        region = re.search(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", cell.source, re.S)
        if ids and region:
            found[ids[0]] = region.group(1)
    return found


def _fill(released: Path, answers: dict[str, str], open_text: str | None) -> nbformat.NotebookNode:
    """A student's notebook: the released one with some exercises answered."""
    nb = nbformat.read(released, as_version=4)
    for cell in nb.cells:
        stub = STUB_RE.search(cell.source) if cell.cell_type == "code" else None
        if stub:
            ids = CHECK_CALL_RE.findall(cell.source)
            if ids and ids[0] in answers:
                answer = answers[ids[0]].rstrip("\n")
            elif not ids and open_text:
                answer = "n_customers"
            else:
                continue  # left as released: its answer stays ex.NOT_ANSWERED
            cell.source = cell.source[:stub.start()] + answer + cell.source[stub.end():]
        if cell.cell_type == "markdown" and "YOUR ANSWER HERE" in cell.source and open_text:
            cell.source = cell.source.replace("YOUR ANSWER HERE", open_text)
    return nb


def _write(nb: nbformat.NotebookNode, path: Path, mtime: float | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def _submissions(release: Path, out: Path) -> None:
    sol = _solutions()
    rel = {sid: release / sid / f"{NB}.ipynb" for sid in ("s01", "s02", "s03", "s04", "s05")}
    text = "Grow the app channel: highest AOV (NT$) and 30 % of revenue; costs are unknown."
    _write(_fill(rel["s01"], sol, text), out / "s01" / f"{NB}.ipynb", 2e9)
    _write(_fill(rel["s01"], {}, None),
           out / "s01" / ".ipynb_checkpoints" / f"{NB}-checkpoint.ipynb")
    wrong = dict(sol, warmup_n_customers="n_customers = len(orders)\n",
                 warmup_aov='aov = order_items["line_amount"].mean()\n',
                 warmup_repeat_share='repeat_share = 100 * (orders["customer_id"]'
                                     '.value_counts() > 1).mean()\n')
    _write(_fill(rel["s02"], wrong, text), out / "s02" / f"{NB}.ipynb", 2e9)
    _write(_fill(rel["s02"], {}, None), out / "s02" / f"{NB}_old.ipynb", 1e9)
    part = {q: sol[q] for q in ("warmup_n_customers", "warmup_orders_per_channel",
                                "warmup_aov")}
    part["warmup_top_category"] = 'top_category = "not a category"\n'
    _write(_fill(rel["s03"], part, "Maybe the web?"), out / "s03" / "my homework.ipynb", 2e9)
    failing = dict(sol, warmup_orders_per_channel='by_channel = orders["chanel"]\n',
                   warmup_aov="while True:\n    pass\n")
    _write(_fill(rel["s04"], failing, text), out / "s04" / f"{NB}.ipynb", 2e9)
    tampered = dict(sol, warmup_aov="from crmlab.exercises.registry import answers_module\n"
                                    "aov = answers_module('unit00').average_order_value(shop)\n")
    _write(_fill(rel["s05"], tampered, text), out / "s05" / f"{NB}.ipynb", 2e9)
    (out / "notes.ipynb").write_text("this is not a notebook", encoding="utf-8")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Release for the roster, build the submissions, grade them once (two at a time)."""
    from crmlab.course.exercises.grade import grade

    base = tmp_path_factory.mktemp("grading")
    roster = base / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    ex.release_all(EXERCISES, base / "release", students=roster, only=["00"], data="tiny")
    _submissions(base / "release", base / "submissions")
    result = grade(base / "submissions", base / "release" / "_answer_keys", base / "graded",
                   source=EXERCISES, jobs=2, cell_timeout=4, timeout=240)
    return base, result


def _by(frame: pd.DataFrame, **where) -> pd.DataFrame:
    mask = pd.Series(True, index=frame.index)
    for col, value in where.items():
        mask &= frame[col] == value
    return frame[mask]


def test_every_file_ends_with_a_named_status(graded):
    _base, result = graded
    subs = result.submissions
    status = {(r.student_id, r.file): r.status for r in subs.itertuples(index=False)}
    assert status == {
        ("s01", f"s01/{NB}.ipynb"): "ok",
        ("s02", f"s02/{NB}.ipynb"): "ok",
        ("s02", f"s02/{NB}_old.ipynb"): "duplicate",
        ("s03", "s03/my homework.ipynb"): "renamed",
        ("s04", f"s04/{NB}.ipynb"): "timeout",
        ("s05", f"s05/{NB}.ipynb"): "tampered",
        ("s06", ""): "missing",
        ("", "notes.ipynb"): "unreadable",
    }
    assert result.skipped == 1  # the checkpoint copy
    tampered = _by(subs, student_id="s05")["detail"].iloc[0]
    assert "imports the answer functions" in tampered
    assert "tried to import the answer functions while graded" in tampered


def test_auto_points_and_question_statuses(graded):
    _base, result = graded
    auto = result.scores[result.scores["kind"] == "auto"]
    points = auto.groupby("student_id")["points"].sum()
    suggested = auto.groupby("student_id")["suggested"].sum()
    got = {sid: (suggested[sid] if sid == "s05" else points[sid]) for sid in AUTO}
    assert got == AUTO
    status = {(r.student_id, r.question_id): r.status for r in auto.itertuples(index=False)}
    assert status[("s03", "warmup_top5_customers")] == "unanswered"
    assert status[("s03", "warmup_top_category")] == "wrong"
    assert status[("s04", "warmup_orders_per_channel")] == "error"
    assert status[("s04", "warmup_aov")] == "timeout"
    assert status[("s04", "warmup_top5_customers")] == "correct"  # after the loop
    assert {s for (sid, _q), s in status.items() if sid == "s05"} == {"held"}
    assert {s for (sid, _q), s in status.items() if sid == "s06"} == {"missing"}


def test_typical_mistakes_are_named(graded):
    _base, result = graded
    wrong = _by(result.scores, student_id="s02", status="wrong").set_index("question_id")
    assert wrong["mistake"].to_dict() == {
        "warmup_n_customers": "counted order rows instead of members",
        "warmup_aov": "mean of order-line amounts instead of orders",
        "warmup_repeat_share": "a percentage instead of a share",
    }
    assert wrong.loc["warmup_aov", "reason"] == "your answer is too low"


def test_without_hand_scores_nothing_provisional_is_imported(graded):
    base, _result = graded
    book = pd.read_csv(base / "graded" / "gradebook.csv", dtype={"student_id": str})
    assert book.columns.tolist() == ["student_id", "name", NB, "total"]
    assert book[NB].isna().tolist() == [True] * 5 + [False]  # only the missing one is final
    hand = pd.read_csv(base / "graded" / "hand_grading.csv", dtype=str, keep_default_na=False)
    assert len(hand) == 5 + 7  # Exercise 8 of the five who submitted + s05's held questions
    assert set(hand["question_id"]) == {"exercise_8", *ex.question_ids(WARMUP)}


def test_hand_scores_merge_into_the_expected_gradebook(graded):
    from crmlab.course.exercises.cli import main

    base, _result = graded
    out = base / "graded"
    hand = pd.read_csv(out / "hand_grading.csv", dtype=str, keep_default_na=False)
    for i, row in hand.iterrows():
        if row["question_id"] == "exercise_8":
            hand.loc[i, "points"] = str(HAND[row["student_id"]])
            hand.loc[i, "comment"] = "Quotes two numbers; no limitation named."
        else:  # s05 reviewed: the suggestion stands, except the imported answer
            hand.loc[i, "points"] = "0" if row["question_id"] == "warmup_aov" else row["suggested"]
    hand.to_csv(base / "hand_filled.csv", index=False)
    assert main(["gradebook", str(out), "--hand", str(base / "hand_filled.csv"),
                 "--source", str(EXERCISES)]) == 0
    book = pd.read_csv(out / "gradebook.csv", dtype={"student_id": str})
    pd.testing.assert_frame_equal(book[["student_id", "name", NB]], EXPECTED_BOOK,
                                  check_dtype=False)
    assert book["total"].tolist() == EXPECTED_BOOK[NB].tolist()

    canvas = pd.read_csv(out / "gradebook_canvas.csv", dtype=str, keep_default_na=False)
    assert canvas.columns.tolist() == ["Student", "ID", "SIS User ID", "SIS Login ID",
                                       "Section", NB]
    assert canvas.iloc[0]["Student"].strip() == "Points Possible" and canvas.iloc[0][NB] == "11"
    assert canvas["SIS User ID"].tolist()[1:] == EXPECTED_BOOK["student_id"].tolist()
    assert canvas[NB].tolist()[1:] == ["11", "6", "4", "8", "8", "0"]

    page = (out / "feedback" / "s02.html").read_text(encoding="utf-8")
    assert "counted order rows instead of members" in page
    assert "Quotes two numbers" in page
    key = ex.read_key(base / "release" / "_answer_keys" / "s02.csv")
    assert f">{key['warmup_n_customers']}<" not in page  # the expected count is not shown


def test_feedback_and_hand_sheet_pages(graded):
    base, _result = graded
    out = base / "graded"
    assert sorted(p.name for p in (out / "feedback").glob("*.html")) == [
        f"s0{i}.html" for i in range(1, 7)]
    sheet = (out / "hand_grading.html").read_text(encoding="utf-8")
    assert "Rubric (4 points)" in sheet and "Grow the app channel" in sheet
    assert "Maybe the web?" in sheet  # s03's answer, from the renamed file
    s04 = (out / "feedback" / "s04.html").read_text(encoding="utf-8")
    assert "ran out of time" in s04 and "KeyError" in s04
