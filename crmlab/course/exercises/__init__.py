"""The instructor's side of the exercises: releases, per-student variants, answer keys, grading.

- :mod:`~crmlab.course.exercises.release`: student versions of ``instructor/exercises/``
  (solutions stripped), one variant per student of a roster, answer keys computed by the
  answer functions in ``instructor/answers/``;
- :mod:`~crmlab.course.exercises.collect`, :mod:`~crmlab.course.exercises.runner`,
  :mod:`~crmlab.course.exercises.grade`: collect submissions, run them in a kernel that only
  records answers, score them against the keys;
- :mod:`~crmlab.course.exercises.rubric`, :mod:`~crmlab.course.exercises.feedback`,
  :mod:`~crmlab.course.exercises.gradebook`: hand grading, feedback pages, LMS gradebooks;
- :mod:`~crmlab.course.exercises.cli`: ``crmlab exercises ...``.

What a student's notebook needs at run time (``start``, ``check``, the comparison, the
question registry) is the library's :mod:`crmlab.exercises`.
"""

from crmlab.course.exercises.release import (
    find_notebooks,
    question_ids,
    read_roster,
    release,
    release_all,
    strip_notebook,
    student_seed,
)

__all__ = ["find_notebooks", "question_ids", "read_roster", "release", "release_all",
           "strip_notebook", "student_seed"]
