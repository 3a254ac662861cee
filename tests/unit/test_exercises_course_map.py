"""The course map: README and notebook 00 show the same rows, generated from COURSE_MAP, with
links to every notebook and to the student exercise notebooks (issue 22)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from crmlab.course import course_map
from crmlab.course.build import COURSE_MAP, CourseEntry
from crmlab.course.course_map import course_map_markdown, course_rows, readme_table

ROOT = Path(__file__).resolve().parents[2]
LINK_RE = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")


def _unlinked(table: str) -> str:
    """The table with each link reduced to its text (what both maps must share)."""
    return LINK_RE.sub(r"\1", table)


def _welcome_map() -> str:
    nb = nbformat.read(ROOT / "notebooks" / "00_welcome.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and "course_map_markdown" in c.source)
    (out,) = [o for o in cell.outputs if "text/markdown" in o.get("data", {})]
    return out["data"]["text/markdown"].strip()


def test_readme_course_map_is_the_generated_one():
    assert readme_table(ROOT / "README.md") == course_map_markdown("."), (
        "README's course map is stale: run make exercises")


def test_welcome_notebook_shows_the_same_rows_with_links_from_its_folder():
    shown = _welcome_map()
    assert shown == course_map_markdown("notebooks"), (
        "00_welcome's course map is stale: run make exercises (it re-runs notebook 00)")
    assert _unlinked(shown) == _unlinked(readme_table(ROOT / "README.md"))
    assert len(shown.splitlines()) == len(COURSE_MAP) + 2  # header, rule, one row per notebook


def test_every_link_resolves_and_points_students_at_student_versions():
    for folder, table in ((ROOT, readme_table(ROOT / "README.md")),
                          (ROOT / "notebooks", _welcome_map())):
        targets = [target for _text, target in LINK_RE.findall(table)]
        assert targets, "the course map has links"
        missing = [t for t in targets if not (folder / t).is_file()]
        assert not missing, f"links to nothing: {missing}"
        exercises = [(folder / t).resolve() for t in targets if "_exercises" in t]
        assert exercises and all(p.parent == ROOT / "exercises" for p in exercises)
        for path in set(exercises):  # student versions: no solution in anything they open
            assert "BEGIN SOLUTION" not in path.read_text(encoding="utf-8")


def test_rows_come_from_the_course_map_in_order():
    rows = course_rows()
    assert [r.stem for r in rows] == list(COURSE_MAP)
    assert [r.lecture for r in rows] == [e.lecture for e in COURSE_MAP.values()]
    welcome = rows[0]
    assert (welcome.exercise, welcome.unit) == ("00_warmup_exercises.ipynb",
                                                "0 · 開始之前 (before the units)")


def _exercise(folder: Path, name: str, first_cell: str) -> None:
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": [first_cell]}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (folder / name).write_text(json.dumps(nb), encoding="utf-8")


def test_split_notebooks_share_their_numbers_exercise_notebook(tmp_path, monkeypatch):
    """Two notebooks of one number share its exercise notebook; a notebook without one of
    its own gets the one whose title names it ("shared"); one with neither gets none."""
    (tmp_path / "exercises").mkdir()
    _exercise(tmp_path / "exercises", "01_crm_exercises.ipynb", "# Exercises 01")
    _exercise(tmp_path / "exercises", "02_rfm_exercises.ipynb",
              "# Exercises 02\nGo with `notebooks/02_rfm.ipynb` and `notebooks/04_groups.ipynb`.")
    fake = {"01_crm": CourseEntry("1 CRM systems", "crmlab.profile", "1a"),
            "01_loyalty": CourseEntry("1 CRM systems", "crmlab.profile, crmlab.data", "1b"),
            "02_rfm": CourseEntry("2 data analysis", "crmlab.rfm", "2a"),
            "04_groups": CourseEntry("2 data analysis", "crmlab.segments", "2c"),
            "13_scale": CourseEntry("2 data analysis", "crmlab.scale", "2e")}
    monkeypatch.setattr(course_map, "COURSE_MAP", fake)
    rows = {r.stem: (r.exercise, r.shared) for r in course_rows(tmp_path)}
    assert rows == {"01_crm": ("01_crm_exercises.ipynb", False),
                    "01_loyalty": ("01_crm_exercises.ipynb", False),
                    "02_rfm": ("02_rfm_exercises.ipynb", False),
                    "04_groups": ("02_rfm_exercises.ipynb", True),
                    "13_scale": (None, False)}
    table = course_map_markdown(".", tmp_path).splitlines()
    assert table[3] == ("| 1b | [01_loyalty](notebooks/01_loyalty.ipynb) | 1 · CRM系統 (CRM systems) | "
                        "`crmlab.profile`, `crmlab.data` | "
                        "[01_crm_exercises](exercises/01_crm_exercises.ipynb) |")
    assert table[5].endswith("| [02_rfm_exercises](exercises/02_rfm_exercises.ipynb) (shared) |")
    assert table[6].endswith("| — (the notebook's \"Try it\" prompts) |")
    inside = course_map_markdown("notebooks", tmp_path).splitlines()[3]
    assert "[01_loyalty](01_loyalty.ipynb)" in inside
    assert "[01_crm_exercises](../exercises/01_crm_exercises.ipynb)" in inside


def test_write_and_check_commands(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{course_map.BEGIN}\nold table\n{course_map.END}\n\nafter\n",
                      encoding="utf-8")
    assert course_map.main(["--check", str(readme)]) == 1
    assert course_map.main(["--write", str(readme)]) == 0
    assert "updated" in capsys.readouterr().out
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("# x\n\n") and text.endswith(f"{course_map.END}\n\nafter\n")
    assert "old table" not in text
    assert course_map.main(["--check", str(readme)]) == 0
    assert course_map.write_readme(readme) is False  # already up to date
    readme.write_text("no markers\n", encoding="utf-8")
    with pytest.raises(ValueError, match="course-map"):
        course_map.write_readme(readme)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_exercises_regenerates_everything_that_lists_them():
    done = subprocess.run(["make", "-n", "exercises"], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    assert "crmlab exercises release --out exercises" in done.stdout
    assert "-m crmlab.course.course_map --write README.md" in done.stdout
    assert "crmlab notebooks 00_welcome --jobs 1" in done.stdout
