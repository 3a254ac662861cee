"""Course labels of the exercise notebooks, from the one source: :data:`crmlab.units.COURSE_MAP`.

An exercise notebook ``NN_topic_exercises.ipynb`` goes with ``notebooks/NN_topic.ipynb``;
its heading names the notebook number and the course unit the course map gives that notebook
(e.g. notebook 05 -> "Course unit 2 · data analysis"), never a number of its own.
``tests/unit/test_exercises_labels.py`` checks every exercise notebook against this.
"""

from __future__ import annotations

from crmlab.units import COURSE_MAP


def notebook_stem(exercise_stem: str) -> str:
    """``"05_clv_and_churn_exercises"`` -> ``"05_clv_and_churn"`` (the course notebook)."""
    stem = exercise_stem.removesuffix("_exercises")
    if stem not in COURSE_MAP and stem[:2] == "00":
        return "00_welcome"
    return stem


def course_label(exercise_stem: str) -> str:
    """The course-unit label of an exercise notebook, e.g. ``"Course unit 2 · data analysis"``
    (``"Before the units · how to use the workbook, the shop's tables"`` for notebook 00)."""
    stem = notebook_stem(exercise_stem)
    if stem not in COURSE_MAP:
        raise ValueError(f"{exercise_stem!r}: no notebook {stem!r} in crmlab.units.COURSE_MAP; "
                         "name the exercise notebook after its course notebook")
    unit = COURSE_MAP[stem][0]
    head, _, rest = unit.partition(" ")
    if head.isdigit():
        return f"Course unit {head} · {rest}"
    return f"Before the units · {unit}"
