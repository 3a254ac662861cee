"""Exercise notebooks take their course labels from one source, crmlab.build.COURSE_MAP (issue 32).

Before, the headings numbered units their own way ("Unit 3b" headed a notebook subtitled
"Unit 3", 01 pointed to "(unit 8)" for notebook 08's holdouts, 02 to "(unit 3)"). Now a
heading names its notebook number and the course unit the course map gives that notebook;
any other "unit N" in an exercise notebook, an answers module docstring or the exercises
README is an error.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from crmlab.course.build import COURSE_MAP
from crmlab.exercises.labels import course_label, notebook_stem

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted([*(ROOT / "instructor" / "exercises").glob("[0-9][0-9]_*.ipynb"),
                    *(ROOT / "exercises").glob("[0-9][0-9]_*.ipynb")])
ANSWERS = sorted((ROOT / "crmlab" / "exercises" / "answers").glob("unit*.py"))
UNIT_RE = re.compile(r"\b[Uu]nits? ?\d+[a-z]?\b")


def _strip_labels(text: str) -> str:
    """The text with every course label of the map removed (what is left must not say 'unit N')."""
    for stem in COURSE_MAP:
        text = text.replace(course_label(stem + "_exercises"), "")
    return text


def test_course_label_comes_from_the_course_map():
    # the map says notebook 07 is in "3 personalization", notebook 12 in "7 evaluation + capstone"
    assert course_label("07_dynamic_pricing_exercises") == "Course unit 3 · personalization"
    assert course_label("12_crm_scorecard_exercises") == "Course unit 7 · evaluation + capstone"
    assert notebook_stem("00_warmup_exercises") == "00_welcome"
    with pytest.raises(ValueError, match="COURSE_MAP"):
        course_label("99_nothing_exercises")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.relative_to(ROOT).as_posix() for p in NOTEBOOKS])
def test_heading_names_notebook_and_course_unit(path):
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0].source
    assert first.startswith(f"# Exercises {path.stem[:2]} — "), first.splitlines()[0]
    assert f"**{course_label(path.stem)} — notebook {path.stem[:2]}**" in first
    assert f"notebooks/{notebook_stem(path.stem)}.ipynb" in first


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.relative_to(ROOT).as_posix() for p in NOTEBOOKS])
def test_no_unit_number_of_its_own(path):
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        found = UNIT_RE.findall(_strip_labels(cell.source))
        assert not found, f"{path.name} cell {i} says {found}: name the notebook (e.g. 'notebook 08')"


def test_answers_modules_and_readme_use_notebook_numbers():
    for path in ANSWERS:
        doc = path.read_text(encoding="utf-8").split('"""')[1]
        assert not UNIT_RE.findall(doc), f"{path.name}: {UNIT_RE.findall(doc)}"
        assert f"(notebook {path.stem[4:6]}:" in doc
    readme = (ROOT / "instructor" / "exercises" / "README.md").read_text(encoding="utf-8")
    assert "one per unit 1" not in readme and "unit 1–7" not in readme
    assert "COURSE_MAP" in readme
