"""Every registered typical mistake is rejected and every registered variant accepted.

Answer modules register them next to the questions with ``@mistake(qid, label)`` and
``@variant(qid, label)`` (crmlab/exercises/answers/unitNN.py); this runs each one on the
tiny shop (and on the shipped small shop for the warm-up) without starting a kernel.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

import crmlab.exercises as ex
from crmlab.data import get_shop

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "instructor" / "exercises").glob("[0-9][0-9]_*.ipynb"))

from crmlab.exercises import registry  # noqa: E402

registry.load_answers()
MISTAKE_CASES = [(qid, label, fn) for qid, items in sorted(registry.MISTAKES.items())
                 for label, fn in items]
VARIANT_CASES = [(qid, label, fn) for qid, items in sorted(registry.VARIANTS.items())
                 for label, fn in items]


@pytest.fixture(scope="module")
def tiny_shop():
    return get_shop("tiny", seed=42)


@pytest.mark.parametrize("qid, label, wrong", MISTAKE_CASES,
                         ids=[f"{q}-{lab}" for q, lab, _ in MISTAKE_CASES])
def test_typical_mistake_is_rejected(qid, label, wrong, tiny_shop):
    q = ex.get_question(qid)
    expected = q.expected(tiny_shop)
    verdict = q.judge(wrong(tiny_shop), expected)
    assert not verdict.ok, f"{qid}: the mistake '{label}' passes the check"
    assert verdict.reason, "a rejection says what differs"


@pytest.mark.parametrize("qid, label, right", VARIANT_CASES,
                         ids=[f"{q}-{lab}" for q, lab, _ in VARIANT_CASES])
def test_other_right_form_is_accepted(qid, label, right, tiny_shop):
    q = ex.get_question(qid)
    verdict = q.judge(right(tiny_shop), q.expected(tiny_shop))
    assert verdict.ok, f"{qid}: the right answer '{label}' is rejected: {verdict.reason}"


def test_every_question_accepts_its_own_answer(tiny_shop):
    for q in ex.questions():
        expected = q.expected(tiny_shop)
        assert q.judge(expected, expected).ok, q.id


def test_mistakes_and_variants_name_registered_questions():
    for qid in [*registry.MISTAKES, *registry.VARIANTS]:
        ex.get_question(qid)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_each_unit_tests_a_few_typical_mistakes(path):
    """>= 3 @mistake registrations, or a unit test file of its own that exercises check()."""
    ids = ex.question_ids(nbformat.read(path, as_version=4))
    n = sum(len(registry.MISTAKES.get(qid, [])) for qid in ids)
    own_tests = ROOT / "tests" / "unit" / f"test_exercises_unit{path.stem[:2]}.py"
    if n >= 3:
        return
    assert own_tests.is_file() and any(qid in own_tests.read_text(encoding="utf-8")
                                       for qid in ids), (
        f"{path.name}: register at least 3 typical mistakes with @mistake(...) in "
        f"crmlab/exercises/answers/unit{path.stem[:2]}.py (found {n}), or test them in "
        f"{own_tests.relative_to(ROOT)}")
