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

For authors, in ``crmlab/exercises/answers/unitNN.py`` (imported automatically)::

    from crmlab.exercises import question

    @question("rfm_q1", hint="Recency counts days from the last order to the end date.",
              rtol=1e-6, ignore_row_order=True)
    def rfm_q1(shop):
        return ...  # the expected answer, computed from the shop

    @mistake("rfm_q1", "recency from the first order")     # check must reject it
    def _(shop): ...

    @variant("rfm_q1", "customer_id as a column")          # check must accept it
    def _(shop): ...

For instructors: :func:`release` (one notebook), :func:`release_all` (a folder, optionally
one variant per student of a roster, with answer keys) and the command
``crmlab exercises release --out DIR [--seed N] [--students roster.csv] [--only NN]``.

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
from crmlab.exercises.release import (
    find_notebooks,
    question_ids,
    read_roster,
    release,
    release_all,
    strip_notebook,
    student_seed,
)

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
    "find_notebooks",
    "get_question",
    "mistake",
    "not_answered",
    "provided",
    "question",
    "question_ids",
    "questions",
    "read_checks",
    "read_key",
    "read_log",
    "read_roster",
    "release",
    "release_all",
    "start",
    "strip_notebook",
    "student_seed",
    "variant",
]
