"""Exercises that check themselves, student releases and per-student variants (issue 15).

For students, in an exercise notebook::

    import crmlab.exercises as ex
    ctx = ex.start("02_rfm_and_value", data=DATA, seed=SEED)   # loads the shop once
    shop = ctx.shop
    ...
    ex.check("rfm_q1", answer)        # ✅ / ❌ with a hint (and a named typical mistake);
                                      # "not answered yet" while answer is ex.NOT_ANSWERED
    rfm = ex.checkpoint("rfm_q1", rfm, starts="Exercise 2", source="exercise 1's `rfm`")
    rfm = ex.provided("rfm_q1")       # or start the next exercise from the correct table

For authors, in ``instructor/answers/unitNN.py`` of the repository (found and imported
automatically by :func:`~crmlab.exercises.registry.load_answers`; not part of the installed
package)::

    from crmlab.exercises import question

    @question("rfm_q1", hint="Recency counts days from the last order to the end date.",
              rtol=1e-6, ignore_row_order=True)
    def rfm_q1(shop):
        return ...  # the expected answer, computed from the shop

    @mistake("rfm_q1", "recency from the first order")     # check must reject it
    def _(shop): ...

    @variant("rfm_q1", "customer_id as a column")          # check must accept it
    def _(shop): ...

For instructors (the course layer, :mod:`crmlab.course.exercises`): ``release`` (one
notebook), ``release_all`` (a folder, optionally one variant per student of a roster, with
answer keys), grading, and the command
``crmlab exercises release --out DIR [--seed N] [--students roster.csv] [--only NN]``.
Their old names here (``crmlab.exercises.release_all`` ...) still work: they are looked up in
the course layer when first used, never when a student's notebook imports this package.

See ``instructor/exercises/README.md`` for the notebook conventions (the solution sources
live in ``instructor/exercises/``; ``exercises/`` holds the released student versions).
"""

from crmlab.exercises.checking import (
    CHECK_MIMETYPE,
    HISTORY,
    LOG_ENV,
    NOT_ANSWERED,
    CheckResult,
    ExerciseContext,
    NotAnswered,
    NotAnsweredError,
    check,
    checkpoint,
    current,
    not_answered,
    provided,
    read_checks,
    read_log,
    start,
)
from crmlab.exercises.compare import CompareOptions, Verdict, compare
from crmlab.exercises.keys import read_key
from crmlab.exercises.registry import (
    CONVENTIONS,
    MISTAKES,
    QUESTIONS,
    VARIANTS,
    Question,
    convention,
    get_question,
    mistake,
    question,
    questions,
    variant,
)

#: Instructor tools that moved to the course layer: old name -> where it lives now. Only
#: :func:`__getattr__` reads it, so importing this package never loads the course layer.
__moved_names__ = {name: "crmlab.course.exercises.release" for name in (
    "find_notebooks", "question_ids", "read_roster", "release", "release_all",
    "strip_notebook", "student_seed")}


def __getattr__(name: str) -> object:
    """The old names of the instructor tools (:data:`__moved_names__`), from the course layer."""
    if name in __moved_names__:
        import importlib

        return getattr(importlib.import_module(__moved_names__[name]), name)
    raise AttributeError(f"module 'crmlab.exercises' has no attribute {name!r}")


__all__ = [
    "CHECK_MIMETYPE",
    "CONVENTIONS",
    "HISTORY",
    "LOG_ENV",
    "MISTAKES",
    "NOT_ANSWERED",
    "QUESTIONS",
    "VARIANTS",
    "CheckResult",
    "CompareOptions",
    "ExerciseContext",
    "NotAnswered",
    "NotAnsweredError",
    "Question",
    "Verdict",
    "check",
    "checkpoint",
    "compare",
    "convention",
    "current",
    "get_question",
    "mistake",
    "not_answered",
    "provided",
    "question",
    "questions",
    "read_checks",
    "read_key",
    "read_log",
    "start",
    "variant",
]
