"""``crmlab exercises ...``: release student versions, list questions.

::

    crmlab exercises release --out DIR [--seed N] [--students roster.csv] [--only NN ...]
                             [--data small] [--source exercises]
    crmlab exercises list [--unit NN]

:func:`register` plugs these into the ``crmlab`` command (see :mod:`crmlab.cli`);
``python -m crmlab.exercises.cli ...`` runs them on their own.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import crmlab


def default_source() -> Path:
    """``exercises/`` in the current folder, else the one next to the crmlab package."""
    here = Path("exercises")
    if here.is_dir():
        return here
    return Path(crmlab.__file__).resolve().parent.parent / "exercises"


def _data_value(text: str) -> Any:
    """``--data 500`` -> 500 customers; anything else stays a name or a path."""
    return int(text) if text.isdigit() else text


def _cmd_release(args: argparse.Namespace) -> int:
    from crmlab.exercises.release import release_all

    source = Path(args.source) if args.source else default_source()
    only = [item for chunk in (args.only or []) for item in chunk.split(",") if item]
    data = _data_value(args.data) if args.data is not None else None
    written = release_all(source, args.out, seed=args.seed, students=args.students,
                          only=only or None, data=data, progress=not args.quiet)
    n_students = written["student_id"].replace("", None).nunique()
    who = f" for {n_students} students" if n_students else ""
    print(f"released {written['notebook'].nunique()} notebook(s){who} -> {args.out}")
    if args.students or args.seed is not None:
        print(f"answer keys -> {Path(args.out) / '_answer_keys'}")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from crmlab.exercises.registry import questions

    for q in questions(args.unit):
        print(f"{q.unit or '--'}  {q.id}")
    return 0


def register(subparsers: Any) -> None:
    """Add the ``exercises`` subcommand to the ``crmlab`` command's subparsers."""
    p = subparsers.add_parser("exercises", help="student versions of the exercises, answer keys")
    sub = p.add_subparsers(dest="exercises_command", metavar="ACTION", required=True)

    r = sub.add_parser("release", help="write student versions (one folder per student with "
                                       "--students) and answer keys")
    r.add_argument("--out", required=True, help="output folder, e.g. build/exercises")
    r.add_argument("--seed", type=int, default=None,
                   help="without --students: the SEED written into every notebook (and an "
                        "answer key for it); with --students: mixed into every student's seed")
    r.add_argument("--students", default=None,
                   help="roster CSV with columns student_id,name: one data variant per student")
    r.add_argument("--only", action="append", metavar="NN",
                   help="only these notebooks (two-digit unit or name; repeatable or comma list)")
    r.add_argument("--data", default=None,
                   help="DATA written into the notebooks (default: small with --students, "
                        "else unchanged)")
    r.add_argument("--source", default=None, help="folder of solution notebooks "
                                                  "(default: exercises)")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    r.set_defaults(func=_cmd_release)

    li = sub.add_parser("list", help="list the registered questions")
    li.add_argument("--unit", default=None, help="only this unit, e.g. 02")
    li.set_defaults(func=_cmd_list)


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
