"""A student's own workspace: a copy of the course to work in, never overwritten.

``make lab`` opens JupyterLab on ``workspace/notebooks/00_welcome.ipynb``. The workspace is
created from the course on first run and is ignored by git, so a student's edits and saved
outputs never touch the committed notebooks (the next ``git pull`` of course updates does
not conflict with them)::

    workspace/
      notebooks/   NN_topic.ipynb, copied from notebooks/
      exercises/   the student versions of the exercises (no solutions), copied from the
                   course's exercises/ (the committed student versions)
      docs/        a link to the course's docs/ (the glossary the notebooks link to)
      datasets/    a link to the course's datasets/ (the dataset cards)
      .jupyterlab-settings/   JupyterLab settings for the course (Markdown opens rendered)

The layout mirrors the repository, so relative links between notebooks, exercises and the
glossary work in both. :func:`update_workspace` brings in course notebooks and exercises the
workspace does not have yet and leaves every existing file alone; it reports what it added
and what it kept (``crmlab workspace --update``).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

#: Folders linked (not copied) into the workspace: read-only references for the student.
LINKED = ("docs", "datasets")

#: JupyterLab's user settings of the workspace (``make lab`` points JUPYTERLAB_SETTINGS_DIR
#: here; a dot folder, hidden in the file browser): Markdown files (the glossary the notebooks
#: link to) open rendered, with working links, instead of as raw text in the editor.
SETTINGS_DIR = ".jupyterlab-settings"
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings":
        '{\n  "defaultViewers": {"markdown": "Markdown Preview"}\n}\n',
}


@dataclass
class WorkspaceReport:
    """What :func:`update_workspace` did: files added, files kept as the student left them."""

    root: Path
    added: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the terminal."""
        return (f"workspace {self.root}: {len(self.added)} file(s) added, "
                f"{len(self.kept)} kept as they were")


def _course_root() -> Path:
    from crmlab.course import repository_root

    return repository_root()


def update_workspace(out: str | os.PathLike = "workspace", course: str | os.PathLike | None = None,
                     exercises: bool = True) -> WorkspaceReport:
    """Create ``out`` or add what it lacks from the course; never overwrite a student's file.

    Notebooks are copied from ``course/notebooks``, the live demos from ``course/demos`` and the
    student versions of the exercises from ``course/exercises`` (the solution sources in ``course/instructor/`` never go into a
    workspace), each only where the workspace has no file of that name.
    """
    course = Path(course) if course is not None else _course_root()
    root = Path(out)
    notebooks = sorted((course / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        raise ValueError(f"workspace: no course notebooks in {course / 'notebooks'}; run it from the "
                         "crmlab repository (or pass course=)")
    if root.exists() and not root.is_dir():
        raise ValueError(f"workspace: {root} exists and is not a folder; choose another WORKSPACE")
    report = WorkspaceReport(root)
    # the live what-if demos too: every lecture's navigation cell may link ../demos/
    folders = ["notebooks", "exercises", "demos"] if exercises else ["notebooks", "demos"]
    for name in folders:
        files = sorted((course / name).glob("[0-9][0-9]_*.ipynb"))
        if files:
            _copy_missing(files, root / name, report)
    for name, text in LAB_SETTINGS.items():  # the student's own settings are kept
        path = root / SETTINGS_DIR / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            report.added.append(f"{SETTINGS_DIR}/{name}")
    for name in LINKED:
        target, link = course / name, root / name
        if target.is_dir() and not link.exists() and not link.is_symlink():
            link.symlink_to(os.path.relpath(target, root), target_is_directory=True)
            report.added.append(f"{name}/ (link)")
    return report


def _copy_missing(files: list[Path], folder: Path, report: WorkspaceReport) -> None:
    """Copy each file the folder does not have yet; keep the ones it has."""
    folder.mkdir(parents=True, exist_ok=True)
    for src in files:
        dest = folder / src.name
        rel = f"{folder.name}/{src.name}"
        if dest.exists():
            report.kept.append(rel)
        else:
            shutil.copyfile(src, dest)
            report.added.append(rel)
