"""Open-ended questions: find them and their rubric in a solution notebook, and a student's answer.

An open-ended exercise is a ``## Exercise N ...`` section whose cells hold a mark scheme
(``=== BEGIN MARK SCHEME ===`` … ``=== END MARK SCHEME ===``) stating its points, e.g.
``Rubric (4 points):``. Its id in score tables is ``exercise_N``. A student's answer is
everything in that section of the submitted notebook (their markdown and code with its text
outputs), however many cells they added.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from crmlab.course.exercises.release import BEGIN_MARK_SCHEME, END_MARK_SCHEME

_HEADING_RE = re.compile(r"^##\s+Exercise\s+(\d+)\b(.*)$", re.M)
_ANY_H2_RE = re.compile(r"^##\s", re.M)
_POINTS_RE = re.compile(r"\((\d+(?:\.\d+)?)\s+points?\)", re.I)


@dataclass(frozen=True)
class OpenQuestion:
    """An open-ended exercise of one notebook, graded by hand."""

    notebook: str
    question_id: str
    number: int
    title: str
    max_points: float
    rubric: str


def _text(cell: Any) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _sections(nb: Any) -> list[tuple[int, str, list[Any]]]:
    """``(exercise number, heading text, cells of the section)`` in notebook order."""
    sections: list[tuple[int, str, list[Any]]] = []
    for cell in nb.get("cells", []) if isinstance(nb, dict) else nb.cells:
        text = _text(cell)
        heading = _HEADING_RE.search(text) if cell.get("cell_type") == "markdown" else None
        if heading:
            sections.append((int(heading.group(1)), heading.group(0).lstrip("# ").strip(),
                             [cell]))
        elif cell.get("cell_type") == "markdown" and _ANY_H2_RE.search(text):
            sections.append((-1, "", [cell]))  # another section ends the exercise
        elif sections:
            sections[-1][2].append(cell)
    return [s for s in sections if s[0] >= 0]


def open_questions(nb: Any, notebook: str) -> list[OpenQuestion]:
    """Open-ended questions of a *solution* notebook (sections with a mark scheme).

    Raises ``ValueError`` when a mark scheme does not state its points, because the
    gradebook needs each question's maximum.
    """
    found = []
    for number, title, cells in _sections(nb):
        text = "\n".join(_text(c) for c in cells if c.get("cell_type") == "markdown")
        if BEGIN_MARK_SCHEME not in text:
            continue
        rubric = text.split(BEGIN_MARK_SCHEME, 1)[1].split(END_MARK_SCHEME, 1)[0].strip()
        points = _POINTS_RE.search(rubric)
        if points is None:
            raise ValueError(f"{notebook}, Exercise {number}: the mark scheme does not state "
                             "its points; write e.g. 'Rubric (4 points):' on its first line")
        found.append(OpenQuestion(notebook=notebook, question_id=f"exercise_{number}",
                                  number=number, title=title,
                                  max_points=float(points.group(1)), rubric=rubric))
    return found


def _outputs_text(cell: Any) -> str:
    parts = []
    for out in cell.get("outputs", []) or []:
        if out.get("output_type") == "stream":
            parts.append(_text({"source": out.get("text", "")}))
        elif out.get("output_type") in ("execute_result", "display_data"):
            plain = out.get("data", {}).get("text/plain")
            if plain is not None:
                parts.append(_text({"source": plain}))
        elif out.get("output_type") == "error":
            parts.append(f"{out.get('ename', '')}: {out.get('evalue', '')}")
    return "\n".join(p.rstrip() for p in parts if p.strip())


def student_answer(nb: Any, number: int) -> list[dict[str, str]]:
    """The cells of exercise ``number`` in a submission after its heading:
    ``[{"kind": "markdown" | "code", "text", "output"}]`` (empty when the section is gone)."""
    for num, _title, cells in _sections(nb):
        if num != number:
            continue
        answer = []
        for cell in cells[1:]:
            text = _text(cell)
            if not text.strip():
                continue
            kind = cell.get("cell_type", "")
            answer.append({"kind": kind, "text": text,
                           "output": _outputs_text(cell) if kind == "code" else ""})
        return answer
    return []


def answered(answer: list[dict[str, str]]) -> bool:
    """Whether a student wrote anything beyond the released placeholder text."""
    for part in answer:
        text = part["text"].replace("YOUR ANSWER HERE", "").replace("**Your answer:**", "")
        lines = [ln for ln in text.splitlines()
                 if ln.strip() and not ln.lstrip().startswith("#")]
        if lines:
            return True
    return False
