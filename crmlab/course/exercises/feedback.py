"""HTML pages from a grading run: one feedback page per student, one hand-grading sheet.

``DIR/feedback/<student_id>.html`` tells a student, per notebook and question, what was
right, what was wrong and why (the comparison's reason, the typical mistake it matched,
the question's hint), the points, and the instructor's comments on open-ended answers. It
never shows expected values, so pages can be returned before a retake.

``DIR/hand_grading.html`` is for the instructor: per open-ended question its rubric and
every student's answer (their text and code with its printed output) next to each other,
to fill in ``hand_grading.csv``.

Pages are static, self-contained (inline CSS, no scripts) and escape everything students
wrote.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from crmlab.course.exercises.collect import Submission
from crmlab.course.exercises.rubric import OpenQuestion, student_answer

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans TC",sans-serif;max-width:60rem;
margin:2rem auto;padding:0 1rem;color:#1f2328;line-height:1.45}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}
th,td{border:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa} .num{text-align:right;white-space:nowrap}
.status{white-space:nowrap} pre{background:#f6f8fa;padding:.5rem;overflow-x:auto;
white-space:pre-wrap} .muted{color:#59636e} .box{border:1px solid #d0d7de;padding:.5rem 1rem;
margin:.5rem 0} h2{border-bottom:1px solid #d0d7de;padding-bottom:.2rem}
"""

_ICONS = {"correct": "✅", "wrong": "❌", "unanswered": "⬜", "error": "⚠️", "timeout": "⏱️",
          "unreadable_answer": "⚠️", "missing": "⬜", "held": "⏸️", "hand": "✍️",
          "hand_graded": "✍️", "adjusted": "✍️"}

_SAYS = {"correct": "correct", "wrong": "not right", "unanswered": "not answered",
         "error": "the cell failed", "timeout": "ran out of time",
         "unreadable_answer": "answer not readable", "missing": "no answer",
         "held": "under review", "hand": "to be marked by your instructor",
         "hand_graded": "marked by your instructor", "adjusted": "adjusted by your instructor"}


def _e(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value))


def _num(value: float) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:g}"


def _page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_e(title)}</title><style>{_CSS}</style></head>\n<body>\n{body}\n"
            "</body></html>\n")


def _answer_html(answer: list[dict[str, str]]) -> str:
    if not answer:
        return "<p class=\"muted\">(nothing in this section)</p>"
    parts = []
    for part in answer:
        parts.append(f"<pre>{_e(part['text'])}</pre>")
        if part.get("output"):
            parts.append(f"<p class=\"muted\">output:</p><pre>{_e(part['output'])}</pre>")
    return "\n".join(parts)


def _question_rows(rows: pd.DataFrame) -> str:
    out = ["<table><tr><th>question</th><th>result</th><th class=\"num\">points</th>"
           "<th>feedback</th></tr>"]
    for r in rows.itertuples(index=False):
        notes = []
        if r.reason:
            notes.append(_e(r.reason))
        if r.mistake:
            notes.append(f"<b>This looks like a typical mistake:</b> {_e(r.mistake)}.")
        if r.status not in ("correct", "hand_graded", "adjusted") and r.hint:
            notes.append(f"<span class=\"muted\">Hint: {_e(r.hint)}</span>")
        if r.comment:
            notes.append(f"<b>Instructor:</b> {_e(r.comment)}")
        out.append(f"<tr><td>{_e(r.question_id)}</td><td class=\"status\">"
                   f"{_ICONS.get(r.status, '')} {_e(_SAYS.get(r.status, r.status))}</td>"
                   f"<td class=\"num\">{_num(r.points)} / {_num(r.max_points)}</td>"
                   f"<td>{'<br>'.join(notes)}</td></tr>")
    out.append("</table>")
    return "\n".join(out)


def student_page(student_id: str, name: str, scores: pd.DataFrame,
                 submissions: pd.DataFrame, graded: Mapping[str, Submission],
                 opens: Mapping[str, list[OpenQuestion]]) -> str:
    """The feedback page of one student."""
    body = [f"<h1>Feedback · {_e(name)} ({_e(student_id)})</h1>"]
    mine = scores[scores["student_id"] == student_id]
    for notebook, rows in mine.groupby("notebook", sort=False):
        subs = submissions[(submissions["student_id"] == student_id)
                           & (submissions["notebook"] == notebook)
                           & (submissions["status"] != "duplicate")]
        status = subs["status"].iloc[0] if len(subs) else "missing"
        detail = subs["detail"].iloc[0] if len(subs) else ""
        points, possible = rows["points"].sum(min_count=1), rows["max_points"].sum()
        pending = rows["points"].isna().any()
        mark = f"{_num(points)} / {_num(possible)}" + (" (some marks still pending)"
                                                       if pending else "")
        body.append(f"<h2>{_e(notebook)}</h2><p><b>{mark}</b> · submission: {_e(status)}"
                    f"{' — ' + _e(detail) if detail else ''}</p>")
        body.append(_question_rows(rows))
        sub = graded.get(notebook)
        for oq in opens.get(notebook, []):
            if sub is None or sub.nb is None:
                continue
            body.append(f"<div class=\"box\"><p><b>{_e(oq.title)}</b> — your answer:</p>"
                        f"{_answer_html(student_answer(sub.nb, oq.number))}</div>")
    return _page(f"Feedback {student_id}", "\n".join(body))


def write_feedback(scores: pd.DataFrame, submissions: pd.DataFrame,
                   subs: Iterable[Submission], opens: Mapping[str, list[OpenQuestion]],
                   out: str | Path) -> list[Path]:
    """Write ``out/feedback/<student_id>.html`` for every student with scores."""
    folder = Path(out) / "feedback"
    folder.mkdir(parents=True, exist_ok=True)
    by_student: dict[str, dict[str, Submission]] = {}
    for sub in subs:
        if sub.status not in ("duplicate", "unidentified") and sub.student_id:
            by_student.setdefault(sub.student_id, {})[sub.notebook] = sub
    written = []
    names = scores.drop_duplicates("student_id").set_index("student_id")["name"]
    for sid, name in names.items():
        page = student_page(sid, name, scores, submissions, by_student.get(sid, {}), opens)
        path = folder / f"{sid}.html"
        path.write_text(page, encoding="utf-8")
        written.append(path)
    return written


def write_hand_sheet(subs: Iterable[Submission], opens: Mapping[str, list[OpenQuestion]],
                     scores: pd.DataFrame, path: str | Path) -> Path:
    """Write the instructor's hand-grading page: rubric, then every student's answer."""
    subs = [s for s in subs if s.status not in ("duplicate", "unidentified") and s.student_id]
    names = scores.drop_duplicates("student_id").set_index("student_id")["name"].to_dict()
    body = ["<h1>Hand grading</h1><p>Fill in <code>hand_grading.csv</code> (points, comment) "
            "and merge it with <code>crmlab exercises gradebook DIR --hand "
            "hand_grading.csv</code>.</p>"]
    for notebook, questions in opens.items():
        for oq in questions:
            body.append(f"<h2>{_e(notebook)} · {_e(oq.question_id)} ({_num(oq.max_points)} "
                        f"points)</h2><p><b>{_e(oq.title)}</b></p><pre>{_e(oq.rubric)}</pre>")
            for sub in subs:
                if sub.notebook != notebook:
                    continue
                answer = student_answer(sub.nb, oq.number) if sub.nb else []
                body.append(f"<div class=\"box\"><p><b>{_e(names.get(sub.student_id, ''))} "
                            f"({_e(sub.student_id)})</b> · {_e(sub.status)}</p>"
                            f"{_answer_html(answer)}</div>")
    held = scores[scores["status"] == "held"].drop_duplicates(["student_id", "notebook"])
    if len(held):
        body.append("<h2>Held submissions (review before giving points)</h2><ul>")
        for r in held.itertuples(index=False):
            body.append(f"<li>{_e(r.student_id)} · {_e(r.notebook)}: see submissions.csv and "
                        f"executed/{_e(r.student_id)}/{_e(r.notebook)}.ipynb</li>")
        body.append("</ul>")
    path = Path(path)
    path.write_text(_page("Hand grading", "\n".join(body)), encoding="utf-8")
    return path
