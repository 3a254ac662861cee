"""Answer functions of the exercises, one module per course unit: ``unitNN.py``.

They live on the instructor's side of the repository, not in the installed ``crmlab``
package: :func:`crmlab.exercises.registry.load_answers` finds this folder and imports it as
the package ``crmlab_answers`` (so ``crmlab_answers.unit02``). Importing the package does
nothing by itself; :func:`import_all` (called by :func:`crmlab.exercises.registry.get_question`
the first time an id is looked up) imports every ``unit*.py`` module here, so a new unit only
has to drop its file in this folder. The release computes the answer keys from them.

While a submission is graded (``CRMLAB_EXERCISES_MODE=grading`` in the kernel's
environment) nothing may compute expected answers inside the student's kernel, so importing
this package there is refused and logged: the grader marks the submission ``tampered``.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
from pathlib import Path


def _refuse_while_grading() -> None:
    """Log and refuse an import of the answer functions inside a grading kernel."""
    if os.environ.get("CRMLAB_EXERCISES_MODE", "") != "grading":
        return
    log = os.environ.get("CRMLAB_EXERCISES_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"event": "answers_imported"}) + "\n")
    raise ImportError("the exercise answer functions are not available while a submission "
                      "is graded")


_refuse_while_grading()

_LOADED = False


def unit_modules() -> list[str]:
    """Names of the ``unitNN`` modules in this package, sorted."""
    here = Path(__file__).parent
    return sorted(
        info.name for info in pkgutil.iter_modules([str(here)])
        if info.name.startswith("unit") and not info.ispkg
    )


def import_all() -> None:
    """Import every ``unitNN`` module once (an import error in one of them is raised)."""
    global _LOADED
    if _LOADED:
        return
    for name in unit_modules():
        importlib.import_module(f"{__name__}.{name}")
    _LOADED = True
