"""``crmlab exercises ...``: release student versions, list questions.

::

    crmlab exercises release --out DIR [--seed N] [--students roster.csv] [--only NN ...]
                             [--data small] [--source instructor/exercises] [--mode practice|exam]
                             [--keys DIR]
    crmlab exercises grade SUBMISSIONS --keys KEYS --out DIR [--hand hand.csv] [--jobs N]
                           [--timeout S] [--cell-timeout S] [--pending blank|zero]
    crmlab exercises gradebook DIR [--hand hand.csv] [--pending blank|zero]
    crmlab exercises list [--unit NN]

:func:`register` plugs these into the ``crmlab`` command (see :mod:`crmlab.course.cli`);
``python -m crmlab.course.exercises.cli ...`` runs them on their own.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import crmlab


def default_source() -> Path:
    """The solution sources: ``instructor/exercises/`` in the current folder, else the one
    next to the crmlab package."""
    from crmlab.course.exercises.release import SOURCE_FOLDER

    if SOURCE_FOLDER.is_dir():
        return SOURCE_FOLDER
    return repository_root() / SOURCE_FOLDER


def _data_value(text: str) -> Any:
    """``--data 500`` -> 500 customers; anything else stays a name or a path."""
    return int(text) if text.isdigit() else text


def _cmd_release(args: argparse.Namespace) -> int:
    from crmlab.course.exercises.release import release_all

    source = Path(args.source) if args.source else default_source()
    only = [item for chunk in (args.only or []) for item in chunk.split(",") if item]
    data = _data_value(args.data) if args.data is not None else None
    from crmlab.course.exercises.release import default_keys_dir

    written = release_all(source, args.out, seed=args.seed, students=args.students,
                          only=only or None, data=data, progress=not args.quiet,
                          mode=args.mode, keys_dir=args.keys)
    n_students = written["student_id"].replace("", None).nunique()
    who = f" for {n_students} students" if n_students else ""
    print(f"released {written['notebook'].nunique()} {args.mode} notebook(s){who} -> {args.out}")
    if args.students or args.seed is not None:
        key_dir = Path(args.keys) if args.keys else default_keys_dir(args.out, args.mode)
        print(f"answer keys -> {key_dir}  (keep them; grade with --keys {key_dir})")
    elif args.mode == "exam":
        print("no answer keys: pass --students roster.csv (or --seed N) to grade this exam")
    return 0


def _print_result(result: Any) -> None:
    counts = ", ".join(f"{n} {status}" for status, n in sorted(result.counts.items()))
    print(f"submissions: {counts or 'none'}")
    if result.skipped:
        print(f"skipped {result.skipped} checkpoint/__MACOSX copies")
    review = result.submissions[result.submissions["status"].isin(
        ["tampered", "wrong_variant", "timeout", "error", "unidentified", "unreadable"])]
    for r in review.itertuples(index=False):
        print(f"  review: {r.student_id or '?'} {r.notebook or r.file}: {r.status} — {r.detail}")
    if result.pending:
        print(f"{result.pending} question(s) wait for hand grading: fill in "
              f"{result.out / 'hand_grading.csv'} (rubrics and answers in hand_grading.html), "
              f"then: crmlab exercises gradebook {result.out} --hand <that file>")
    print(f"gradebook -> {result.out / 'gradebook.csv'} (Moodle, plain) and "
          f"{result.out / 'gradebook_canvas.csv'} (Canvas); feedback -> "
          f"{result.out / 'feedback'}")


def _cmd_grade(args: argparse.Namespace) -> int:
    from crmlab.course.exercises.grade import grade

    say = (lambda msg: None) if args.quiet else (lambda msg: print(msg, flush=True))
    result = grade(args.submissions, args.keys, args.out, source=args.source, hand=args.hand,
                   timeout=args.timeout, cell_timeout=args.cell_timeout, jobs=args.jobs,
                   network=args.network, pending=args.pending, progress=say)
    print(f"graded in {result.seconds:.1f} s")
    _print_result(result)
    return 0


def _cmd_gradebook(args: argparse.Namespace) -> int:
    from crmlab.course.exercises.grade import rebuild

    _print_result(rebuild(args.dir, hand=args.hand, source=args.source, pending=args.pending))
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from crmlab.exercises.registry import questions

    for q in questions(args.unit):
        print(f"{q.unit or '--'}  {q.id}")
    return 0


def _add_release(sub: Any) -> None:
    """``crmlab exercises release``: student versions, variants, answer keys."""
    r = sub.add_parser("release", help="write student versions (one folder per student with "
                                       "--students) and answer keys")
    r.add_argument("--out", required=True,
                   help="output folder, e.g. build/exercises; 'exercises' regenerates the "
                        "committed student versions (make exercises)")
    r.add_argument("--seed", type=int, default=None,
                   help="without --students: the SEED written into every notebook (and an "
                        "answer key for it); with --students: mixed into every student's seed")
    r.add_argument("--students", default=None,
                   help="roster CSV with columns student_id,name: one data variant per student")
    r.add_argument("--only", action="extend", nargs="+", metavar="NN",
                   help="only these notebooks, e.g. --only 02 05 (as crmlab build; the comma "
                        "form 02,05 and a repeated --only also work)")
    r.add_argument("--data", default=None,
                   help="DATA written into the notebooks (default: small with --students, "
                        "else unchanged)")
    r.add_argument("--source", default=None, help="folder of solution notebooks "
                                                  "(default: instructor/exercises)")
    r.add_argument("--mode", choices=("practice", "exam"), default="practice",
                   help="exam: check() looks only at the form of answers, and the keys go "
                        "next to the release folder, not inside it")
    r.add_argument("--keys", default=None,
                   help="answer-key folder (default: OUT/_answer_keys; OUT_keys in exam mode)")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    r.set_defaults(func=_cmd_release)


def _add_grade(sub: Any) -> None:
    """``crmlab exercises grade``: run and score collected submissions."""
    g = sub.add_parser("grade", help="execute collected submissions and grade them against "
                                     "each student's key")
    g.add_argument("submissions", help="folder (or .zip) of submitted notebooks: one folder "
                                       "per student, or an LMS download")
    g.add_argument("--keys", required=True, help="answer-key folder of the release "
                                                 "(with roster.csv)")
    g.add_argument("--out", required=True, help="output folder for scores, gradebooks, "
                                                "feedback")
    g.add_argument("--hand", default=None, help="filled hand_grading.csv to merge")
    g.add_argument("--source", default=None, help="folder of solution notebooks "
                                                  "(default: instructor/exercises)")
    g.add_argument("--jobs", type=int, default=1, help="notebooks run at a time (default 1)")
    g.add_argument("--timeout", type=float, default=600.0,
                   help="seconds one notebook may run in all (default 600)")
    g.add_argument("--cell-timeout", type=float, default=120.0,
                   help="seconds one cell may run before it is interrupted (default 120)")
    g.add_argument("--network", choices=("auto", "python"), default="auto",
                   help="auto: no network namespace when available, plus Python sockets "
                        "blocked; python: sockets blocked only")
    g.add_argument("--pending", choices=("blank", "zero"), default="blank",
                   help="notebooks with ungraded hand questions: empty cell (default) or 0")
    g.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    g.set_defaults(func=_cmd_grade)


def _add_gradebook_and_list(sub: Any) -> None:
    """``crmlab exercises gradebook`` (merge hand scores) and ``list``."""
    b = sub.add_parser("gradebook", help="merge hand scores into a grading run and rewrite "
                                         "its gradebooks and feedback (no re-execution)")
    b.add_argument("dir", help="the --out folder of an earlier grade run")
    b.add_argument("--hand", default=None, help="filled hand_grading.csv")
    b.add_argument("--source", default=None, help="folder of solution notebooks")
    b.add_argument("--pending", choices=("blank", "zero"), default="blank")
    b.set_defaults(func=_cmd_gradebook)

    li = sub.add_parser("list", help="list the registered questions")
    li.add_argument("--unit", default=None, help="only this unit, e.g. 02")
    li.set_defaults(func=_cmd_list)


def register(subparsers: Any) -> None:
    """Add the ``exercises`` subcommand to the ``crmlab`` command's subparsers."""
    p = subparsers.add_parser("exercises", help="student versions of the exercises, answer keys")
    sub = p.add_subparsers(dest="exercises_command", metavar="ACTION", required=True)
    _add_release(sub)
    _add_grade(sub)
    _add_gradebook_and_list(sub)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``exercises`` subcommands without the rest of the ``crmlab`` command."""
    parser = argparse.ArgumentParser(prog="crmlab")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(["exercises", *(argv if argv is not None else sys.argv[1:])])
    try:
        return int(args.func(args) or 0)
    except ValueError as exc:
        print(f"crmlab exercises: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
