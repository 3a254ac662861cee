"""Hand scores and gradebooks: from the score table to files an LMS imports.

- :func:`write_hand_template` writes ``hand_grading.csv``: one row per question a person
  must grade (open-ended questions, and every question of a ``tampered`` submission, with
  the grader's ``suggested`` points), with empty ``points`` and ``comment`` columns.
- :func:`read_hand` reads it back once filled in (validated: known students, notebooks and
  questions, numbers between 0 and the question's maximum, no duplicates); empty ``points``
  mean "not graded yet". A row may also override an auto-graded question's points.
- :func:`merge_hand` puts the hand points into the score table.
- :func:`write_gradebooks` writes ``gradebook.csv`` (``student_id, name``, one column per
  notebook, ``total``: map ``student_id`` to Moodle's "ID number" on import) and
  ``gradebook_canvas.csv`` (Canvas's layout: ``Student, ID, SIS User ID, SIS Login ID,
  Section``, a ``Points Possible`` row, one column per notebook; Canvas totals itself).

A notebook whose questions are not all graded yet (hand questions without points, held
questions) has an empty cell with ``pending="blank"`` (the default: an LMS leaves empty cells
alone, so nothing provisional is imported) or counts the missing points as 0 with
``pending="zero"``.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

#: How ungraded (hand or held) questions enter a notebook's mark.
PENDING = ("blank", "zero")

HAND_COLUMNS = ["student_id", "name", "notebook", "question_id", "max_points", "suggested",
                "points", "comment", "why"]


def write_hand_template(scores: pd.DataFrame, path: str | Path) -> pd.DataFrame:
    """Write the rows a person must grade (points empty) to ``path``; return them."""
    todo = scores[scores["status"].isin(["hand", "held"])]
    frame = pd.DataFrame({
        "student_id": todo["student_id"], "name": todo["name"], "notebook": todo["notebook"],
        "question_id": todo["question_id"], "max_points": todo["max_points"],
        "suggested": todo["suggested"] if "suggested" in todo else math.nan,
        "points": "", "comment": "",
        "why": todo["status"].map({"hand": "open-ended: grade with the rubric "
                                           "(hand_grading.html)",
                                   "held": "held: the submission looks tampered; review "
                                           "it, then give the points"}),
    }, columns=HAND_COLUMNS)
    frame.to_csv(path, index=False, encoding="utf-8")
    return frame


def read_hand(path: str | Path, scores: pd.DataFrame) -> pd.DataFrame:
    """Read a filled hand-grading CSV: ``student_id, notebook, question_id, points[, comment]``.

    Rows with empty ``points`` are skipped (not graded yet). Raises ``ValueError`` naming
    the row, the column and the fix for unknown ids, non-numbers, points outside
    ``[0, max_points]`` and duplicated rows. Returns ``student_id, notebook, question_id,
    points, comment``.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"hand scores {path} do not exist; fill in DIR/hand_grading.csv "
                         "from the grade run and pass that file")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.columns = [str(c).strip() for c in frame.columns]
    need = [c for c in ("student_id", "notebook", "question_id", "points")
            if c not in frame.columns]
    if need:
        raise ValueError(f"hand scores {path}: missing column(s) {need}; keep the header of "
                         "hand_grading.csv (student_id, notebook, question_id, points, comment)")
    if "comment" not in frame.columns:
        frame["comment"] = ""
    frame = frame.apply(lambda col: col.str.strip())
    maxima = {(r.student_id, r.notebook, r.question_id): float(r.max_points)
              for r in scores.itertuples(index=False)}
    rows = []
    for i, row in enumerate(frame.itertuples(index=False), start=2):  # line 1 is the header
        where = f"hand scores {path}, line {i}"
        key = (row.student_id, row.notebook, row.question_id)
        if key not in maxima:
            raise ValueError(f"{where}: no question {row.question_id!r} of {row.notebook!r} "
                             f"for student {row.student_id!r} in this grading run; copy the "
                             "three id columns from hand_grading.csv or scores.csv")
        if row.points == "":
            continue
        try:
            points = float(row.points)
        except ValueError:
            raise ValueError(f"{where}, column points: {row.points!r} is not a number; write "
                             "e.g. 3 or 2.5 (or leave it empty if not graded yet)") from None
        if not (0 <= points <= maxima[key]) or math.isnan(points):
            raise ValueError(f"{where}, column points: {points:g} is outside 0..{maxima[key]:g} "
                             f"for {row.question_id}")
        rows.append({"student_id": row.student_id, "notebook": row.notebook,
                     "question_id": row.question_id, "points": points,
                     "comment": row.comment})
    out = pd.DataFrame(rows, columns=["student_id", "notebook", "question_id", "points",
                                      "comment"])
    dup = out[out.duplicated(["student_id", "notebook", "question_id"], keep=False)]
    if len(dup):
        first = dup.iloc[0]
        raise ValueError(f"hand scores {path}: {first['question_id']} of {first['notebook']} "
                         f"for {first['student_id']} is graded twice; keep one row")
    return out


def merge_hand(scores: pd.DataFrame, hand: pd.DataFrame | None) -> pd.DataFrame:
    """Scores with hand points filled in (status ``hand_graded``, or ``adjusted`` for an
    auto-graded question the instructor overrode) and the instructor's ``comment``."""
    merged = scores.copy()
    merged["comment"] = ""
    if hand is None or hand.empty:
        return merged
    index = {(r.student_id, r.notebook, r.question_id): i for i, r in
             zip(merged.index, merged.itertuples(index=False), strict=True)}
    for row in hand.itertuples(index=False):
        i = index[(row.student_id, row.notebook, row.question_id)]
        before = merged.at[i, "status"]
        merged.at[i, "points"] = row.points
        merged.at[i, "comment"] = row.comment
        merged.at[i, "status"] = "hand_graded" if before in ("hand", "held") else "adjusted"
    return merged


def notebook_marks(scores: pd.DataFrame, pending: str = "blank") -> pd.DataFrame:
    """Points per student and notebook (NaN while a question is ungraded and ``blank``)."""
    if pending not in PENDING:
        raise ValueError(f"pending must be one of {list(PENDING)}, got {pending!r}")
    grouped = scores.groupby(["student_id", "notebook"], sort=False)
    marks = grouped["points"].sum(min_count=0)
    if pending == "blank":
        open_any = grouped["points"].apply(lambda s: bool(s.isna().any()))
        marks = marks.mask(open_any)
    return marks.unstack("notebook")


def write_gradebooks(scores: pd.DataFrame, roster: pd.DataFrame, notebooks: list[str],
                     out: str | Path, pending: str = "blank") -> pd.DataFrame:
    """Write ``gradebook.csv`` and ``gradebook_canvas.csv`` under ``out``; return the first."""
    out = Path(out)
    marks = notebook_marks(scores, pending).reindex(index=roster["student_id"],
                                                    columns=notebooks)
    book = pd.DataFrame({"student_id": roster["student_id"].to_numpy(),
                         "name": roster["name"].to_numpy()})
    for stem in notebooks:
        book[stem] = marks[stem].to_numpy()
    total = marks.sum(axis=1, min_count=1).to_numpy()
    book["total"] = total
    book.loc[marks.isna().any(axis=1).to_numpy(), "total"] = math.nan
    book.to_csv(out / "gradebook.csv", index=False, encoding="utf-8", float_format="%g")
    possible = scores.drop_duplicates(["notebook", "question_id"]).groupby(
        "notebook", sort=False)["max_points"].sum().reindex(notebooks)
    canvas = pd.DataFrame({"Student": roster["name"].to_numpy(), "ID": "",
                           "SIS User ID": roster["student_id"].to_numpy(),
                           "SIS Login ID": "", "Section": ""})
    for stem in notebooks:
        canvas[stem] = marks[stem].to_numpy()
    header = pd.DataFrame([{"Student": "    Points Possible", "ID": "", "SIS User ID": "",
                            "SIS Login ID": "", "Section": "",
                            **{stem: possible[stem] for stem in notebooks}}])
    rows = pd.concat([header, canvas], ignore_index=True)
    for stem in notebooks:  # "%g" by hand: the columns mix text and numbers
        rows[stem] = rows[stem].map(lambda v: "" if pd.isna(v) else f"{float(v):g}")
    rows.to_csv(out / "gradebook_canvas.csv", index=False, encoding="utf-8")
    possible.rename("points_possible").rename_axis("notebook").reset_index().to_csv(
        out / "points_possible.csv", index=False, encoding="utf-8", float_format="%g")
    return book
