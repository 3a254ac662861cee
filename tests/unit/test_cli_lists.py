"""One convention for lists on the command line (issue 33): `--only 02 05` everywhere, the
older comma form still accepted."""

from __future__ import annotations

import pytest

from crmlab.course.cli import make_parser


@pytest.mark.parametrize("argv", [["--only", "02", "05"], ["--only", "02,05"], ["--only", "02", "--only", "05"]])
def test_exercises_release_takes_the_space_separated_list(argv):
    args = make_parser().parse_args(["exercises", "release", "--out", "x", *argv])
    assert [i for chunk in args.only for i in chunk.split(",") if i] == ["02", "05"]


def test_build_and_worlds_take_the_same_form():
    assert make_parser().parse_args(["build", "--only", "02", "05"]).only == ["02", "05"]
    assert make_parser().parse_args(["worlds", "--only", "02", "05"]).only == ["02", "05"]
