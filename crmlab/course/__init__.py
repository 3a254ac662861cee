"""The course layer: the tools that make the workbook a course, apart from the library.

``crmlab`` as a library is the analysis a researcher imports (``crmlab.rfm``, ``crmlab.clv``,
...). This subpackage holds what a course needs on top of it, and nothing in the library
imports it (``tests/unit/test_code_layout.py`` enforces that):

- :mod:`crmlab.course.build` executes the notebooks with papermill and writes the manifest;
- :mod:`crmlab.course.site` and :mod:`crmlab.course.slides` publish the offline site and decks;
- :mod:`crmlab.course.course_map` writes the course map (README, notebook 00);
- :mod:`crmlab.course.worlds` runs the course in many worlds (seeds, sizes, real shops);
- :mod:`crmlab.course.workspace` makes a student's own copy (``make lab``);
- :mod:`crmlab.course.exercises` releases the exercise notebooks and grades submissions;
- :mod:`crmlab.course.course_summary` gathers every notebook's recorded results;
- :mod:`crmlab.course.cli` is the ``crmlab`` command.

The course structure itself (which notebook is which lecture of which unit) is data the
notebooks read at run time, so it lives in the library: :mod:`crmlab.units`.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["repository_root"]


def repository_root() -> Path:
    """The repository crmlab was installed from (holds ``notebooks/``, ``exercises/``,
    ``instructor/``): two folders above this package."""
    return Path(__file__).resolve().parents[2]
