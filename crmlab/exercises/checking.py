"""``start`` an exercise notebook on a shop, then ``check`` answers against it.

An exercise notebook sets the context once, right after its parameters cell::

    import crmlab.exercises as ex
    ctx = ex.start("02_rfm_and_value", data=DATA, seed=SEED)
    shop = ctx.shop

and ends each exercise with ``ex.check("rfm_q1", answer)``. The expected answer is computed
by the registered answer function on *the same shop* (``ctx.shop``), so the check is right
for every data size and per-student seed.

Each check shows a friendly line (✅ or ❌ plus the question's hint) and, inside Jupyter, a
machine-readable output with mimetype :data:`CHECK_MIMETYPE` (``{"question_id", "passed"}``)
that :func:`read_checks` reads back from an executed notebook. When the environment variable
:data:`LOG_ENV` names a file, every check also appends a JSON line with the question id, the
verdict and the student's answer (serialized with :mod:`crmlab.exercises.keys`), which the
tests use to compare a solution run with an instructor's answer key.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmlab.exercises import keys
from crmlab.exercises.registry import get_question

#: Mimetype of the display output written by every :func:`check` inside IPython.
CHECK_MIMETYPE = "application/vnd.crmlab.check+json"

#: Environment variable naming a JSON-lines file that every check appends to.
LOG_ENV = "CRMLAB_EXERCISES_LOG"

#: Environment variable that switches checks to record-only (``"grading"``).
MODE_ENV = "CRMLAB_EXERCISES_MODE"

#: Modes a notebook may ``start`` in.
MODES = ("practice", "exam")


@dataclass
class ExerciseContext:
    """The shop an exercise notebook works on, and the expected answers computed on it."""

    exercise: str
    data: Any
    seed: int
    shop: Any
    mode: str = "practice"
    forms: dict[str, Any] = field(default_factory=dict, repr=False)
    _expected: dict[str, Any] = field(default_factory=dict, repr=False)
    _examples: dict[Any, Any] = field(default_factory=dict, repr=False)

    @property
    def unit(self) -> str | None:
        """Two-digit course unit taken from the exercise name (``"02_rfm"`` -> ``"02"``)."""
        head = self.exercise[:2]
        return head if head.isdigit() else None

    def expected(self, question_id: str) -> Any:
        """Expected answer of ``question_id`` on this context's shop (computed once)."""
        if question_id not in self._expected:
            self._expected[question_id] = _compute(get_question(question_id), self.shop)
        return self._expected[question_id]

    def check(self, question_id: str, answer: Any) -> bool:
        """Same as :func:`check` on this context."""
        return check(question_id, answer, data=self)


class NotAnsweredError(ValueError):
    """Raised when code uses :data:`NOT_ANSWERED` as if it were an answer."""


_NOT_ANSWERED_USE = (
    "this value is still ex.NOT_ANSWERED: the exercise that sets it is not answered yet. "
    "Answer that exercise first (or, in practice, start from the correct input: "
    "ex.provided(\"<its question id>\"))")


def _refuse(self: NotAnswered, *args: Any, **kwargs: Any) -> Any:
    raise NotAnsweredError(_NOT_ANSWERED_USE)


class NotAnswered:
    """The value of an answer not written yet: :data:`NOT_ANSWERED`, a singleton.

    A released exercise cell binds the names its ``check(...)`` reads to it (``rfm_tab =
    ex.NOT_ANSWERED``), so Run All on an unsolved notebook runs to the end: :func:`check`
    says "not answered yet" for it, and a later exercise's :func:`checkpoint` continues from
    the correct input, saying so. Using it as data (indexing, arithmetic, iterating, calling, ``if``) raises
    :class:`NotAnsweredError` saying so, instead of a puzzling error further on.
    """

    _instance: NotAnswered | None = None

    def __new__(cls) -> NotAnswered:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOT_ANSWERED"

    def __reduce__(self) -> str:  # copy/pickle keep the singleton
        return "NOT_ANSWERED"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # IPython and numpy probe for optional hooks
            raise AttributeError(name)
        raise AttributeError(f"NOT_ANSWERED has no attribute {name!r}: {_NOT_ANSWERED_USE}")

    __getitem__ = __setitem__ = __iter__ = __len__ = __call__ = __bool__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _refuse
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __pow__ = __rpow__ = _refuse
    __mod__ = __rmod__ = __neg__ = __abs__ = __lt__ = __le__ = __gt__ = __ge__ = _refuse
    __float__ = __int__ = __index__ = __array__ = __contains__ = __round__ = _refuse


#: What a released exercise binds an unanswered answer to (``answer = ex.NOT_ANSWERED``).
NOT_ANSWERED = NotAnswered()


def not_answered(value: Any) -> bool:
    """Whether ``value`` is :data:`NOT_ANSWERED` (an exercise left as released)."""
    return value is NOT_ANSWERED


def _show_not_answered(question_id: str, ctx: ExerciseContext | None) -> Any:
    """The one line of a check on :data:`NOT_ANSWERED`; logged as not answered."""
    _log(question_id, None, None, ctx, answered=False)
    _show(f"… {question_id}: not answered yet — replace ex.NOT_ANSWERED in this cell "
          "with your answer, then run the cell again.",
          {"question_id": question_id, "passed": None, "answered": False})
    return _result(False)


_CURRENT: ExerciseContext | None = None

#: Every check of this Python session as ``(question_id, passed)``, oldest first.
HISTORY: list[tuple[str, bool]] = []


def start(exercise: str, *, data: Any = "small", seed: int = 42,
          shop: Any = None, mode: str = "practice",
          forms: dict[str, Any] | None = None) -> ExerciseContext:
    """Load the shop for an exercise notebook and make it the one :func:`check` uses.

    ``data`` and ``seed`` go to :func:`crmlab.data.get_shop` (``"tiny"``, ``"small"``,
    ``"medium"``, a number of customers or a folder of parquet files). Pass ``shop`` to use
    an already loaded :class:`~crmlab.data.Shop` (``data`` and ``seed`` are then only
    labels). ``mode="exam"`` with ``forms`` (``{question_id: form}``, written into the
    notebook by an exam release) makes :func:`check` look only at the form of answers.
    Returns the :class:`ExerciseContext`; its ``shop`` is what the student works on.
    """
    global _CURRENT
    if not isinstance(exercise, str) or not exercise.strip():
        raise ValueError("start: name the exercise notebook, e.g. start('02_rfm_and_value', ...)")
    if mode not in MODES:
        raise ValueError(f"start: mode must be one of {list(MODES)}, got {mode!r}")
    if mode == "exam" and not isinstance(forms, dict):
        raise ValueError(f"start: mode='exam' needs forms={{question_id: form}}; run the "
                         f"exam-mode cell that defines EXAM_FORMS first (got {type(forms).__name__})")
    if isinstance(seed, bool) or not isinstance(seed, int):
        try:
            import numpy as np

            if isinstance(seed, np.integer):
                seed = int(seed)
            else:
                raise TypeError
        except TypeError:
            raise ValueError(f"start: SEED must be an integer, got {seed!r}") from None
    if shop is None:
        from crmlab.data import get_shop

        shop = get_shop(data, seed=seed)
    _CURRENT = ExerciseContext(exercise=exercise, data=data, seed=seed, shop=shop, mode=mode,
                               forms=dict(forms or {}))
    _use_exercise_catalog(exercise)
    return _CURRENT


def _use_exercise_catalog(exercise: str) -> None:
    """In another edition (``CRMLAB_LANG``), look hints up in the exercise's catalog
    ``locales/<lang>/exercises/<exercise>_exercises.yaml`` of the course repository (beside
    ``instructor/answers/``, which a practice check needs too), when it has one."""
    from crmlab import i18n

    lang = i18n.language()
    if lang == "en":
        return
    name = Path("locales") / lang / "exercises" / f"{exercise}_exercises.yaml"
    cwd = Path.cwd().resolve()
    for root in (Path(__file__).resolve().parents[2], cwd, *cwd.parents):
        if (root / name).is_file():
            i18n.use_catalog(root / name)
            return


def current() -> ExerciseContext:
    """The context set by the last :func:`start`; ``ValueError`` if there is none."""
    if _CURRENT is None:
        raise ValueError(
            "no exercise context yet: run the setup cell at the top of the notebook, which "
            "calls crmlab.exercises.start(...), before checking answers"
        )
    return _CURRENT


def _compute(q: Any, shop: Any) -> Any:
    try:
        return q.expected(shop)
    except Exception as exc:  # a bug on our side (or data too small): say which question
        raise RuntimeError(
            f"the answer function of {q.id!r} failed on this shop ({type(exc).__name__}: "
            f"{exc}); this is a problem in crmlab, not in your answer — tell your instructor"
        ) from exc


def _context_for(data: Any) -> ExerciseContext:
    if data is None:
        return current()
    if isinstance(data, ExerciseContext):
        return data
    return ExerciseContext(exercise="(ad hoc)", data="(given)", seed=-1, shop=data)


class CheckResult:
    """What :func:`check` returns inside Jupyter: truthy when the answer is right.

    The check has already printed its verdict line, so the result shows nothing itself (no
    extra ``True``/``False`` under the cell); ``bool(result)``, ``result == True`` and
    ``if check(...):`` work as with a plain bool.
    """

    __slots__ = ("passed",)

    def __init__(self, passed: bool) -> None:
        self.passed = bool(passed)

    def __bool__(self) -> bool:
        return self.passed

    def __eq__(self, other: object) -> bool:
        return self.passed == other

    def __hash__(self) -> int:
        return hash(self.passed)

    def __repr__(self) -> str:
        return repr(self.passed)

    def _ipython_display_(self) -> None:  # the verdict line was already shown
        return None


def _in_ipython() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency, but be safe
        return False
    return get_ipython() is not None


def _result(passed: bool) -> Any:
    """``passed`` as returned by a check: a silent :class:`CheckResult` inside Jupyter."""
    return CheckResult(passed) if _in_ipython() else bool(passed)


def diagnose(question_id: str, answer: Any, ctx: ExerciseContext) -> tuple[str, str]:
    """``(convention, mistake)``: the label of the registered other convention the answer
    follows, or else of the registered typical mistake it matches (``""`` when none)."""
    from crmlab.exercises.registry import CONVENTIONS, MISTAKES, matching

    conv = matching(CONVENTIONS, question_id, answer, ctx.shop, ctx._examples)
    if conv:
        return conv, ""
    return "", matching(MISTAKES, question_id, answer, ctx.shop, ctx._examples)


def check(question_id: str, answer: Any, *, data: Any = None) -> bool:
    """Check ``answer`` to ``question_id``; show ✅ or ❌ with a hint; return whether it is right.

    The expected answer is computed from the shop of the current exercise context (set by
    :func:`start`), or from ``data`` (a Shop or an :class:`ExerciseContext`) when given.
    Representation differences are tolerated (column order, dtypes, float tolerance; see
    :class:`~crmlab.exercises.compare.CompareOptions`); the message says what differs but
    never shows the expected answer. An answer that follows another defensible convention
    registered with :func:`~crmlab.exercises.registry.convention` passes, and the message
    names that convention; a wrong answer that matches a registered typical mistake
    (:func:`~crmlab.exercises.registry.mistake`) is told which one.

    The verdict is printed once; inside Jupyter the returned value is a silent
    :class:`CheckResult` (truthy when right), elsewhere a plain bool.

    In an exam context only the form is checked (:func:`check_exam`); while grading
    (:data:`MODE_ENV`) the answer is only recorded (:func:`record`).
    """
    if grading():
        return record(question_id, answer, data=data)
    ctx = _context_for(data)
    if not_answered(answer):
        return _show_not_answered(question_id, ctx)
    if ctx.mode == "exam":
        return check_exam(question_id, answer, ctx)
    q = get_question(question_id)
    expected = ctx.expected(question_id)
    try:
        verdict = q.judge(answer, expected)
    except Exception as exc:  # an answer of a shape nobody anticipated: say so, don't crash
        from crmlab.exercises.compare import Verdict, type_name

        verdict = Verdict(False, f"your answer ({type_name(answer)}) could not be compared "
                                 f"with the expected one ({type(exc).__name__})")
    passed = bool(verdict.ok)
    convention = mistake = ""
    if not passed:
        convention, mistake = diagnose(question_id, answer, ctx)
        passed = bool(convention)
    if passed and convention:
        message = (f"✅ {question_id}: accepted — your answer follows another defensible "
                   f"convention ({convention}); the task states the one the course uses.")
    elif passed:
        message = f"✅ {question_id}: correct — well done!"
    else:
        message = f"❌ {question_id}: not yet. {verdict.reason}.{_tolerance(q, expected)}"
        if mistake:
            message += f"\n   This looks like a typical mistake: {mistake}."
        if q.hint:
            message += f"\n   Hint: {q.hint}"
    HISTORY.append((question_id, passed))
    _log(question_id, passed, answer, ctx)
    _show(message, {"question_id": question_id, "passed": passed})
    return _result(passed)


def _has_numbers(value: Any) -> bool:
    import numbers

    import pandas as pd

    if isinstance(value, bool):
        return False
    if isinstance(value, numbers.Number):
        return True
    if isinstance(value, pd.DataFrame):
        return any(pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t)
                   for t in value.dtypes)
    if isinstance(value, pd.Series):
        return pd.api.types.is_numeric_dtype(value) and not pd.api.types.is_bool_dtype(value)
    if isinstance(value, Mapping):
        return any(_has_numbers(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_numbers(v) for v in value)
    return False


def _tolerance(q: Any, expected: Any) -> str:
    """" Numbers are checked to a relative 1e-06." for a question compared the built-in way."""
    opts = q.options
    if q.compare is not None or opts.ids or not _has_numbers(expected):
        return ""
    if opts.rtol == 0:
        return f" Numbers are checked to ±{opts.atol:g}."
    return f" Numbers are checked to a relative {opts.rtol:g} (don't round)."


def provided(question_id: str, *, data: Any = None) -> Any:
    """The correct answer to an earlier question, as a provided starting point (practice).

    An exercise that builds on an earlier one may start from the correct table instead of
    the student's own, so one wrong step does not spoil every later check::

        summary = ex.provided("clv_summary")     # exercise 1's table, computed correctly

    Only in practice mode: in an exam or while grading the answers are not available here.
    """
    if grading():
        raise ValueError(f"provided({question_id!r}): not available while a submission is "
                         "graded; start from your own result")
    ctx = _context_for(data)
    if ctx.mode == "exam":
        raise ValueError(f"provided({question_id!r}): not available in an exam; start from "
                         "your own result")
    return ctx.expected(question_id)


def checkpoint(question_id: str, value: Any, *, starts: str = "this exercise",
               source: str = "", data: Any = None) -> Any:
    """Check the input of an exercise that builds on an earlier answer; return ``value``.

    ``value`` is the student's own answer to ``question_id`` (e.g. exercise 1's ``summary``)
    that the next exercise starts from. When it differs from the correct one, a ⚠️ line
    says so — what differs, by key and column — and how to continue from the provided
    correct input (:func:`provided`), so a wrong first step does not turn every later
    check into an unexplained "too high". Prints nothing when the input is right, and does
    nothing in an exam or while grading. Never raises on a bad answer; the value is
    returned unchanged — except :data:`NOT_ANSWERED` (the earlier exercise is still open),
    for which the correct input is returned with a line saying so, so every exercise can be
    done and checked on its own.
    """
    if grading():
        return value
    ctx = _context_for(data)
    if ctx.mode == "exam":
        return value
    if not_answered(value):
        what = source or f"the answer to {question_id!r}"
        _show_text(f"… {starts} starts from {what}, which is not answered yet; it continues "
                   f"from the correct input (ex.provided({question_id!r})), so you can do it "
                   "on its own.")
        return ctx.expected(question_id)
    q = get_question(question_id)
    try:
        verdict = q.judge(value, ctx.expected(question_id))
    except Exception as exc:  # a shape nobody anticipated
        from crmlab.exercises.compare import Verdict

        verdict = Verdict(False, f"it could not be compared ({type(exc).__name__})")
    if verdict.ok:
        return value
    what = source or f"the answer to {question_id!r}"
    reason = verdict.reason.replace("your answer", "yours", 1)
    _show_text(f"⚠️ {starts} starts from {what}, which differs from the correct one: "
               f"{reason}.\n   Fix it first (check({question_id!r}, ...) helps), or continue "
               f"from the correct input: ex.provided({question_id!r}).")
    return value


def _show_text(message: str) -> None:
    from crmlab.i18n import translate_lines

    print(translate_lines(message))  # the 繁體中文 edition, as _show


def grading() -> bool:
    """Whether this Python session runs a submission for the grader (:data:`MODE_ENV`)."""
    return os.environ.get(MODE_ENV, "") == "grading"


def record(question_id: str, answer: Any, *, data: Any = None) -> bool:
    """Record ``answer`` for the grader without judging it (grading mode); returns True.

    Nothing is computed here: the answer functions are not even loaded, and the grader
    compares the logged answer with the student's key outside this kernel.
    """
    ctx = _CURRENT if data is None else _context_for(data)
    if not_answered(answer):
        return _show_not_answered(question_id, ctx)
    _log(question_id, None, answer, ctx)
    _show(f"📝 {question_id}: answer recorded for grading",
          {"question_id": question_id, "passed": None})
    return _result(True)


def check_exam(question_id: str, answer: Any, ctx: ExerciseContext) -> bool:
    """Exam mode: check only the form of ``answer`` (type, columns, kinds of values)."""
    from crmlab.exercises.exam import KIND_TEXT, check_form

    if question_id not in ctx.forms:
        import difflib

        close = difflib.get_close_matches(str(question_id), list(ctx.forms), n=3)
        tip = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"no exam question with id {question_id!r} in this notebook.{tip} "
                         "Check the id in the check(...) call against the exercise text.")
    form = ctx.forms[question_id]
    try:
        verdict = check_form(answer, form)
    except Exception as exc:  # an answer of a shape nobody anticipated: say so, don't crash
        from crmlab.exercises.compare import Verdict, type_name

        verdict = Verdict(False, f"your answer ({type_name(answer)}) could not be read "
                                 f"({type(exc).__name__})")
    passed = bool(verdict.ok)
    if passed:
        what = KIND_TEXT.get(form.get("kind", "any"), "")
        message = (f"✅ {question_id}: the form is right ({what}); your instructor grades "
                   "the value.")
    else:
        message = f"⚠️ {question_id}: not the expected form: {verdict.reason}."
    HISTORY.append((question_id, passed))
    _log(question_id, passed, answer, ctx)
    _show(message, {"question_id": question_id, "passed": passed, "form_only": True})
    return _result(passed)


def _show(message: str, payload: Mapping[str, Any]) -> None:
    from crmlab.i18n import translate_lines

    message = translate_lines(message)  # the 繁體中文 edition (CRMLAB_LANG): crmlab/locales/
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # pragma: no cover - IPython is a dependency, but be safe
        shell = None
    if shell is None:
        print(message)
        return
    from IPython.display import display

    display({CHECK_MIMETYPE: dict(payload), "text/plain": message}, raw=True)


def _log(question_id: str, passed: bool | None, answer: Any,
         ctx: ExerciseContext | None = None, *, answered: bool = True) -> None:
    """Append one JSON line to the :data:`LOG_ENV` file (if set).

    The line holds the answer (``None`` with ``"encodable": false`` and the answer's type
    when it cannot be serialized) and the context it was checked on, so the grader can
    tell "checked on another student's data" from "wrong". ``answered=False`` (a check on
    :data:`NOT_ANSWERED`) is logged as ``"answered": false`` with no answer.
    """
    path = os.environ.get(LOG_ENV)
    if not path:
        return
    try:
        encoded = keys.encode(answer)
        json.dumps(encoded, allow_nan=False)
        encodable = True
    except (ValueError, TypeError, OverflowError):
        encoded, encodable = None, False
    line = {"question_id": question_id, "passed": passed, "answer": encoded,
            "encodable": encodable, "type": type(answer).__name__}
    if not answered:
        line.update(answered=False, type="NotAnswered")
    if ctx is not None:
        line.update(exercise=ctx.exercise, seed=ctx.seed, data=_label(ctx.data), mode=ctx.mode)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(line, ensure_ascii=False, allow_nan=False) + "\n")


def _label(data: Any) -> Any:
    """``data`` as logged: numbers and names as they are, anything else as text."""
    return data if isinstance(data, int | str) and not isinstance(data, bool) else str(data)


def read_log(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Read a :data:`LOG_ENV` file: one dict per check with the decoded ``answer``."""
    entries = []
    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        if raw.strip():
            entry = json.loads(raw)
            if "answer" in entry:
                entry["answer"] = keys.decode(entry["answer"])
            entries.append(entry)
    return entries


def read_checks(notebook: str | os.PathLike | Any) -> list[dict[str, Any]]:
    """Every check output of an executed notebook, in order: ``{"question_id", "passed"}``."""
    import nbformat

    if isinstance(notebook, str | os.PathLike):
        path = Path(notebook)
        if not path.is_file():
            raise ValueError(f"read_checks: no notebook at {path}")
        nb = nbformat.read(path, as_version=4)
    else:
        nb = notebook
    found = []
    for cell in nb["cells"]:
        if cell.get("cell_type") != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") not in ("display_data", "execute_result"):
                continue
            payload = out.get("data", {}).get(CHECK_MIMETYPE)
            if payload is None:
                continue
            if isinstance(payload, str):
                payload = json.loads(payload)
            found.append(dict(payload))
    return found
