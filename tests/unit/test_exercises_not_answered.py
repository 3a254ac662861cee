"""ex.NOT_ANSWERED: an exercise left as released says "not answered yet" and Run All goes on
(issue 22). No kernels here; tests/exercises runs every student notebook end to end."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import pytest

import crmlab.exercises as ex
from crmlab.course.exercises.collect import Submission
from crmlab.course.exercises.grade import Variant, score_submission
from crmlab.course.exercises.runner import RunResult
from crmlab.exercises import checking
from tests.unit.test_exercises_infra import _hand_shop


@pytest.fixture
def ctx():
    saved = checking._CURRENT
    yield ex.start("00_warmup", shop=_hand_shop(), seed=7)
    checking._CURRENT = saved


def test_a_check_on_not_answered_says_so_once_and_judges_nothing(ctx, capsys, tmp_path,
                                                                  monkeypatch):
    log = tmp_path / "log.jsonl"
    monkeypatch.setenv(ex.LOG_ENV, str(log))
    before = list(checking.HISTORY)
    result = ex.check("warmup_aov", ex.NOT_ANSWERED)
    out = capsys.readouterr().out
    assert out.splitlines() == [out.strip()]  # one line, no traceback
    assert "warmup_aov: not answered yet" in out and "ex.NOT_ANSWERED" in out
    assert not result and checking.HISTORY == before  # not counted as a wrong try
    (entry,) = ex.read_log(log)
    assert entry["answered"] is False and entry["passed"] is None and entry["answer"] is None


def test_not_answered_is_one_value_that_refuses_to_be_used():
    na = ex.NOT_ANSWERED
    assert ex.NotAnswered() is na and repr(na) == "NOT_ANSWERED"
    assert copy.deepcopy(na) is na and pickle.loads(pickle.dumps(na)) is na
    assert ex.not_answered(na) and not ex.not_answered(None)
    for use in (lambda: na["monetary"], lambda: na + 1, lambda: len(na), lambda: list(na),
                lambda: bool(na), lambda: na(), lambda: float(na), lambda: na < 3):
        with pytest.raises(ex.NotAnsweredError, match="not answered yet"):
            use()
    with pytest.raises(AttributeError, match="not answered yet"):
        na.sort_values()


def test_a_checkpoint_on_not_answered_continues_from_the_correct_input(ctx, capsys):
    got = ex.checkpoint("warmup_top5_customers", ex.NOT_ANSWERED, starts="Exercise 6",
                        source="Exercise 5's `top5`")
    # the hand shop's spend: customer 2 -> 400, 1 -> 180, 3 -> 20
    assert got == [2, 1, 3]
    out = capsys.readouterr().out
    assert "Exercise 6 starts from Exercise 5's `top5`, which is not answered yet" in out
    assert "ex.provided('warmup_top5_customers')" in out


def test_exam_and_grading_say_not_answered_too(ctx, capsys, monkeypatch, tmp_path):
    exam = ex.start("00_warmup", shop=_hand_shop(), seed=7, mode="exam",
                    forms={"warmup_aov": {"kind": "number"}})
    assert not ex.check("warmup_aov", ex.NOT_ANSWERED, data=exam)
    assert "not answered yet" in capsys.readouterr().out
    log = tmp_path / "graded.jsonl"
    monkeypatch.setenv(ex.LOG_ENV, str(log))
    monkeypatch.setenv(checking.MODE_ENV, "grading")
    ex.check("warmup_aov", ex.NOT_ANSWERED)
    assert ex.checkpoint("warmup_top5_customers", ex.NOT_ANSWERED) is ex.NOT_ANSWERED
    assert [e["answered"] for e in ex.read_log(log)] == [False]


def test_the_grader_scores_not_answered_as_unanswered():
    variant = Variant("a1", "Amy", 7, "tiny", {"00_warmup_exercises": {"warmup_aov": 1.0}})
    sub = Submission(student_id="a1", notebook="00_warmup_exercises", path=Path("a1.ipynb"),
                     nb={"cells": [{"cell_type": "code", "source": 'check("warmup_aov", aov)'}]})
    log = [{"question_id": "warmup_aov", "passed": None, "answer": None, "encodable": True,
            "answered": False, "seed": 7, "data": "tiny"}]
    (row,) = score_submission(sub, variant, RunResult(executed=None, log=log, cell_errors=[]))
    assert (row["status"], row["points"]) == ("unanswered", 0.0)
    assert "NOT_ANSWERED" in row["reason"]
