"""The course map as a Markdown table, from one source: :data:`crmlab.units.COURSE_MAP`.

The README (between the two ``course-map`` marker comments) and notebook 00's course-map
cell show the same rows, with links to every notebook and to the *student* version of its
exercise notebook (``exercises/``; the solution sources are in ``instructor/``). Links are
relative to the page that shows the table, so they work on GitHub, in JupyterLab and in a
student's workspace (same layout)::

    python -m crmlab.course.course_map --write README.md    # regenerate the README's table
    python -m crmlab.course.course_map --check README.md    # exit 1 when it is stale

Several notebooks of one number (``01_crm_systems``, ``01_loyalty_and_privacy``) share the
number's exercise notebook; a notebook without one of its own (04) gets the exercise notebook
whose title cell names it, marked "shared".

In the 繁體中文 edition (``CRMLAB_LANG=zh-TW``, notebook 00 run by ``crmlab build --lang zh-TW``)
the table's headers and words come from the ``course map|`` entries of
``crmlab/locales/zh-TW.yaml`` and the unit column is the unit's Chinese name only; the README is
always written in English.
"""

from __future__ import annotations

import argparse
import posixpath
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from crmlab.course.build import exercise_notebook, shared_exercise_notebook
from crmlab.units import COURSE_MAP, UNIT_NAMES

#: The README lines that enclose the generated table (kept; everything between is replaced).
BEGIN = ("<!-- course-map: generated from crmlab.units.COURSE_MAP by "
         "`python -m crmlab.course.course_map --write README.md`; do not edit by hand -->")
END = "<!-- /course-map -->"

HEADER = ("| lecture | notebook | unit | crmlab module(s) | exercises |\n"
          "|---|---|---|---|---|")
#: What a row says when the notebook has no exercise notebook (English; translated by tr).
NO_EXERCISES = "— (the notebook's \"Try it\" prompts)"


@dataclass(frozen=True)
class CourseRow:
    """One notebook of the course map."""

    lecture: str  #: e.g. "2a"
    stem: str  #: the notebook, e.g. "02_rfm_and_value"
    unit: str  #: e.g. "2 · 客戶數據分析 (customer data analysis)"
    modules: str  #: e.g. "crmlab.rfm"
    exercise: str | None  #: the exercise notebook's file name in exercises/, or None
    shared: bool  #: the exercise notebook is another number's (its title cell names this one)


def _root() -> Path:
    from crmlab.course import repository_root

    return repository_root()


def course_rows(root: Path | None = None) -> list[CourseRow]:
    """The rows of the course map, in course order, from :data:`COURSE_MAP` and the student
    exercise notebooks in ``root/exercises`` (``root``: the repository)."""
    root = root or _root()
    rows = []
    for stem, entry in COURSE_MAP.items():
        exercise = exercise_notebook(stem, root)
        shared = False
        if exercise is None:
            exercise = shared_exercise_notebook(stem, root)
            shared = exercise is not None
        number = entry.lecture.rstrip("abcdefgh")
        zh, en = UNIT_NAMES[number]
        rows.append(CourseRow(entry.lecture, stem, f"{number} · {zh} ({en})", entry.modules,
                              exercise, shared))
    return rows


def course_map_markdown(folder: str = ".", root: Path | None = None, lang: str | None = None) -> str:
    """The course map as a Markdown table for a page in ``folder`` (relative to the
    repository: ``"."`` for the README, ``"notebooks"`` for notebook 00), in ``lang``
    (default: the edition's, :func:`crmlab.i18n.language`)."""
    from crmlab.i18n import language, tr

    lang = lang or language()

    def link(text: str, path: str) -> str:
        return f"[{text}]({posixpath.relpath(path, folder)})"

    head, rule = HEADER.split("\n")
    lines = [tr(head, lang, context="course map"), rule]
    for row in course_rows(root):
        modules = ", ".join(f"`{m.strip()}`" for m in row.modules.split(","))
        if row.exercise:
            exercise = link(row.exercise.removesuffix(".ipynb"), f"exercises/{row.exercise}")
            exercise += tr(" (shared)", lang, context="course map") if row.shared else ""
        else:
            exercise = tr(NO_EXERCISES, lang, context="course map")
        unit = row.unit
        if lang != "en":  # the unit's Chinese name only: "2 · 客戶數據分析"
            number = row.lecture.rstrip("abcdefgh")
            unit = f"{number} · {UNIT_NAMES[number][0]}"
        lines.append(f"| {row.lecture} | {link(row.stem, f'notebooks/{row.stem}.ipynb')} | "
                     f"{unit} | {modules} | {exercise} |")
    return "\n".join(lines)


def _split(text: str, path: Path) -> tuple[str, str, str]:
    """``text`` as (before and BEGIN, the table, END and after)."""
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise ValueError(f"{path}: needs one '{BEGIN}' line and one '{END}' line after it "
                         "around the course map; add them where the table goes")
    head, rest = text.split(BEGIN, 1)
    body, tail = rest.split(END, 1)
    return head + BEGIN, body, END + tail


def write_readme(path: str | Path) -> bool:
    """Regenerate the course map between the markers of ``path``; True when it changed."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    head, body, tail = _split(text, path)
    new = f"{head}\n{course_map_markdown('.', path.resolve().parent, lang='en')}\n{tail}"
    if new == text:
        return False
    path.write_text(new, encoding="utf-8")
    return True


def readme_table(path: str | Path) -> str:
    """The course map as it stands in ``path`` (between the markers)."""
    path = Path(path)
    return _split(path.read_text(encoding="utf-8"), path)[1].strip("\n")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m crmlab.course.course_map [--write | --check] README.md`` (no option: print it)."""
    parser = argparse.ArgumentParser(prog="python -m crmlab.course.course_map", description=__doc__
                                     .splitlines()[0])
    parser.add_argument("readme", nargs="?", default="README.md")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="regenerate the table in README")
    mode.add_argument("--check", action="store_true", help="exit 1 when README's table is stale")
    args = parser.parse_args(argv)
    readme = Path(args.readme)
    if args.write:
        changed = write_readme(readme)
        print(f"{readme}: course map {'updated' if changed else 'already up to date'}")
        return 0
    if args.check:
        stale = readme_table(readme) != course_map_markdown(".", readme.resolve().parent, lang="en")
        print(f"{readme}: course map {'stale: run make exercises' if stale else 'up to date'}")
        return int(stale)
    print(course_map_markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
