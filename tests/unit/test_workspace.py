"""crmlab.course.workspace: a student's own copy of the course, created once, never overwritten."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from crmlab.course.workspace import update_workspace

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def course(tmp_path):
    """A small course: two notebooks, one real exercise notebook (the committed student
    version and its solution source under instructor/), docs."""
    src = tmp_path / "course"
    (src / "notebooks").mkdir(parents=True)
    (src / "exercises").mkdir()
    (src / "instructor" / "exercises").mkdir(parents=True)
    (src / "docs").mkdir()
    (src / "docs" / "glossary.md").write_text("# Glossary\n")
    for name in ("00_welcome.ipynb", "01_crm_systems.ipynb"):
        shutil.copyfile(ROOT / "notebooks" / name, src / "notebooks" / name)
    for folder in ("exercises", "instructor/exercises"):
        warmup = sorted((ROOT / folder).glob("00_*.ipynb"))[0]
        shutil.copyfile(warmup, src / folder / warmup.name)
    return src


def test_first_run_copies_the_course_without_solutions(course, tmp_path):
    ws = tmp_path / "ws"
    report = update_workspace(ws, course)
    assert sorted(p.name for p in (ws / "notebooks").iterdir()) == ["00_welcome.ipynb", "01_crm_systems.ipynb"]
    (exercise,) = (ws / "exercises").iterdir()
    source = (course / "instructor" / "exercises" / exercise.name).read_text()
    assert "### BEGIN SOLUTION" in source  # the instructor's source has solutions ...
    assert "BEGIN SOLUTION" not in exercise.read_text()  # ... the student's copy has none
    assert exercise.read_bytes() == (course / "exercises" / exercise.name).read_bytes()
    assert not (ws / "instructor").exists()
    assert (ws / "docs" / "glossary.md").read_text() == "# Glossary\n"  # links resolve
    settings = ws / ".jupyterlab-settings" / "@jupyterlab" / "docmanager-extension"
    viewers = json.loads((settings / "plugin.jupyterlab-settings").read_text())
    assert viewers == {"defaultViewers": {"markdown": "Markdown Preview"}}  # glossary rendered
    assert len(report.added) == 5 and not report.kept


def test_the_real_course_gives_every_student_exercise_and_no_source(tmp_path):
    ws = tmp_path / "ws"
    update_workspace(ws)
    names = sorted(p.name for p in (ws / "exercises").iterdir())
    assert names == sorted(p.name for p in (ROOT / "exercises").glob("[0-9][0-9]_*.ipynb"))
    assert names == sorted(p.name for p in (ROOT / "instructor" / "exercises").glob("*.ipynb"))
    for name in names:
        assert "BEGIN SOLUTION" not in (ws / "exercises" / name).read_text(encoding="utf-8")
    assert (ws / "notebooks" / "00_welcome.ipynb").is_file()
    assert sorted(p.name for p in ws.iterdir()) == [".jupyterlab-settings", "datasets", "demos",
                                                    "docs", "exercises", "notebooks"]
    # every link a lecture's navigation cell makes to a demo resolves in the workspace
    assert sorted(p.name for p in (ws / "demos").iterdir()) == sorted(
        p.name for p in (ROOT / "demos").glob("[0-9][0-9]_*.ipynb"))


def test_second_run_keeps_the_students_work_and_adds_new_notebooks(course, tmp_path):
    ws = tmp_path / "ws"
    update_workspace(ws, course)
    mine = ws / "notebooks" / "00_welcome.ipynb"
    mine.write_text('{"student": "my edits"}')
    shutil.copyfile(ROOT / "notebooks" / "02_rfm_and_value.ipynb", course / "notebooks" / "02_rfm_and_value.ipynb")
    report = update_workspace(ws, course)
    assert mine.read_text() == '{"student": "my edits"}'
    assert report.added == ["notebooks/02_rfm_and_value.ipynb"]
    assert "notebooks/00_welcome.ipynb" in report.kept
    assert "1 file(s) added" in report.summary()


def test_bad_places_are_named(course, tmp_path):
    with pytest.raises(ValueError, match="no course notebooks"):
        update_workspace(tmp_path / "ws", tmp_path / "nowhere")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="not a folder"):
        update_workspace(tmp_path / "file", course)
