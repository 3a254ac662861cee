"""The question registry: question id -> the function that computes its answer from a shop.

Answer functions live on the instructor's side of the repository, in
``instructor/answers/unitNN.py`` (not in the installed library), and register themselves::

    from crmlab.exercises import question

    @question("warmup_n_customers", hint="Each row of shop.customers is one member.")
    def n_customers(shop):
        return len(shop.customers)

The expected answer is always *computed* from the shop the student is using (never a stored
constant), so the same exercise works for every data size and every per-student variant.
:func:`load_answers` finds that folder (:func:`answers_folder`) and imports it as the package
:data:`ANSWERS_PACKAGE`; a student install without the repository (an exam machine) has none,
and only a practice check, which needs them, says so.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from types import ModuleType
from typing import Any

from crmlab.exercises.compare import CompareOptions, Verdict, compare

#: A custom comparison: ``(answer, expected) -> bool`` or ``(bool, reason)`` or a Verdict.
CompareFn = Callable[[Any, Any], Any]

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Question:
    """One registered question.

    ``func(shop)`` computes the expected answer; ``hint`` is shown when a check fails;
    ``options`` say how tolerant the comparison is; ``compare`` (optional) replaces the
    built-in comparison; ``unit`` is the two-digit course unit (from the module name
    ``answers/unitNN.py`` unless given).
    """

    id: str
    func: Callable[[Any], Any]
    hint: str
    options: CompareOptions
    compare: CompareFn | None
    unit: str | None

    def expected(self, shop: Any) -> Any:
        """Compute the expected answer on ``shop``."""
        return self.func(shop)

    def judge(self, answer: Any, expected: Any) -> Verdict:
        """Compare ``answer`` with ``expected`` the way this question wants."""
        if self.compare is None:
            return compare(answer, expected, self.options)
        result = self.compare(answer, expected)
        if isinstance(result, Verdict):
            return result
        if isinstance(result, tuple):
            ok, reason = result
            return Verdict(bool(ok), "" if ok else str(reason))
        return Verdict(bool(result), "" if result else "your answer is not the expected one")


#: Every registered question by id.
QUESTIONS: dict[str, Question] = {}

_OPTION_NAMES = {f.name for f in fields(CompareOptions)}


def _unit_of(module: str) -> str | None:
    match = re.search(r"unit(\d{2})", module)
    return match.group(1) if match else None


def question(
    question_id: str,
    *,
    hint: str = "",
    compare: CompareFn | None = None,
    unit: str | None = None,
    **options: Any,
) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    """Register the decorated ``func(shop) -> answer`` as the answer to ``question_id``.

    Keyword ``options`` are fields of :class:`~crmlab.exercises.compare.CompareOptions`
    (``rtol``, ``atol``, ``ignore_row_order``, ``check_index``, ``extra_columns``,
    ``check_names``, ``ordered``, ``case_sensitive``). ``compare`` replaces the built-in
    comparison entirely: it gets ``(answer, expected)`` and returns a bool, a
    ``(bool, reason)`` pair or a :class:`Verdict`; its reason must not reveal the answer.

    Ids are lowercase ``snake_case`` and unique across the course (prefix them with the
    topic, e.g. ``rfm_q1``). Registering the same id twice from different functions is an
    error; re-registering from the same module (a reload) replaces the old entry.
    """
    if not isinstance(question_id, str) or not _ID_RE.match(question_id):
        raise ValueError(
            f"question id {question_id!r} must be lowercase snake_case starting with a letter, "
            "e.g. 'rfm_q1'"
        )
    unknown = set(options) - _OPTION_NAMES
    if unknown:
        raise ValueError(
            f"question {question_id!r}: unknown option(s) {sorted(unknown)}; "
            f"use {sorted(_OPTION_NAMES)}"
        )
    opts = CompareOptions(**options)
    if compare is not None and not callable(compare):
        raise ValueError(f"question {question_id!r}: compare must be a callable (answer, expected)")

    def decorator(func: Callable[[Any], Any]) -> Callable[[Any], Any]:
        if not callable(func):
            raise ValueError(f"question {question_id!r}: decorate a function (shop) -> answer")
        module = getattr(func, "__module__", "") or ""
        old = QUESTIONS.get(question_id)
        if old is not None and (
            old.func.__module__ != module or old.func.__qualname__ != func.__qualname__
        ):
            raise ValueError(
                f"question id {question_id!r} is registered twice ({old.func.__module__}."
                f"{old.func.__qualname__} and {module}.{func.__qualname__}); ids must be unique"
            )
        QUESTIONS[question_id] = Question(
            id=question_id,
            func=func,
            hint=hint,
            options=opts,
            compare=compare,
            unit=unit if unit is not None else _unit_of(module),
        )
        return func

    return decorator


#: Typical wrong answers per question id: ``[(label, func(shop) -> wrong answer), ...]``.
MISTAKES: dict[str, list[tuple[str, Callable[[Any], Any]]]] = {}

#: Right answers in another representation: ``[(label, func(shop) -> answer), ...]``.
VARIANTS: dict[str, list[tuple[str, Callable[[Any], Any]]]] = {}

#: Other defensible conventions per question id: ``[(label, func(shop) -> answer), ...]``.
#: ``check`` accepts an answer that matches one and says which convention it follows.
CONVENTIONS: dict[str, list[tuple[str, Callable[[Any], Any]]]] = {}


def _example(table: dict, kind: str, question_id: str, label: str):
    if not isinstance(label, str) or not label.strip():
        raise ValueError(f"{kind}({question_id!r}, label): describe the {kind} in a few words")

    def decorator(func: Callable[[Any], Any]) -> Callable[[Any], Any]:
        entries = table.setdefault(question_id, [])
        entries[:] = [(lab, f) for lab, f in entries if lab != label]  # reload-safe
        entries.append((label, func))
        return func

    return decorator


def mistake(question_id: str, label: str) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    """Register ``func(shop) -> a typical wrong answer`` that ``check`` must reject.

    ``tests/exercises`` runs every registered mistake on the tiny shop and asserts that the
    question's comparison rejects it (and that the message gives nothing away)::

        @mistake("rfm_q1", "recency counted from the first order")
        def _(shop):
            ...
    """
    return _example(MISTAKES, "mistake", question_id, label)


def variant(question_id: str, label: str) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    """Register ``func(shop) -> a right answer in another form`` that ``check`` must accept
    (e.g. the key as a column instead of the index, ``float`` instead of ``int``)."""
    return _example(VARIANTS, "variant", question_id, label)


def convention(question_id: str,
               label: str) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    """Register ``func(shop) -> the answer under another defensible convention``.

    The task states one convention (e.g. "whole calendar days", "z = 1.959964"); an answer
    that follows a registered other convention (e.g. "exact timestamps", "z rounded to
    1.96") is accepted, and the message names the difference (``label``) so the student
    knows which convention they used. ``tests/exercises/test_mistakes.py`` checks that each
    convention differs from the stated answer on the tiny shop or is at least accepted::

        @convention("clv_km_median_days", "gaps from exact timestamps (fractional days)")
        def _(shop): ...
    """
    return _example(CONVENTIONS, "convention", question_id, label)


def matching(table: dict[str, list[tuple[str, Callable[[Any], Any]]]], question_id: str,
             answer: Any, shop: Any, cache: dict | None = None) -> str:
    """The label of the first entry of ``table`` (:data:`MISTAKES` or :data:`CONVENTIONS`)
    for ``question_id`` whose value on ``shop`` the answer matches, or ``""``.

    Values are computed once per ``cache`` (a dict owned by the caller, e.g. the exercise
    context); an entry that cannot be computed on this shop is skipped.
    """
    entries = table.get(question_id)
    if not entries:
        return ""
    q = get_question(question_id)
    cache = {} if cache is None else cache
    key = (id(table), question_id)
    if key not in cache:
        values = []
        for label, func in entries:
            try:
                values.append((label, func(shop)))
            except Exception:  # a mistake that cannot be made on this shop: skip it
                continue
        cache[key] = values
    for label, value in cache[key]:
        try:
            if q.judge(answer, value).ok:
                return label
        except Exception:
            continue
    return ""


#: Environment variable naming the folder of the answer functions (overrides the search).
ANSWERS_ENV = "CRMLAB_ANSWERS"

#: Where the answer functions live, relative to the repository root.
ANSWERS_FOLDER = Path("instructor") / "answers"

#: The name the answer folder is imported under (``crmlab_answers.unit02``).
ANSWERS_PACKAGE = "crmlab_answers"


def answers_folder() -> Path | None:
    """The folder of the answer functions, or None when this install has none.

    :data:`ANSWERS_ENV` when set; else ``instructor/answers/`` of the repository crmlab is
    installed from (an editable install, as ``make install`` makes), else of the current
    folder or one above it (a notebook run inside a course checkout).
    """
    env = os.environ.get(ANSWERS_ENV)
    if env:
        return Path(env) if (Path(env) / "__init__.py").is_file() else None
    here = Path(__file__).resolve().parents[2]
    cwd = Path.cwd().resolve()
    for root in (here, cwd, *cwd.parents):
        folder = root / ANSWERS_FOLDER
        if (folder / "__init__.py").is_file():
            return folder
    return None


def answers_package() -> ModuleType:
    """The package of answer functions (:data:`ANSWERS_PACKAGE`), imported once from
    :func:`answers_folder`; ``ValueError`` saying so when this install has none."""
    if ANSWERS_PACKAGE in sys.modules:
        loaded = sys.modules[ANSWERS_PACKAGE]
        if loaded is None:  # blocked, as the import system reads it (tests do this)
            raise ModuleNotFoundError(f"import of {ANSWERS_PACKAGE} halted; None in sys.modules")
        return loaded
    folder = answers_folder()
    if folder is None:
        raise ValueError(
            "the exercise answer functions are not here: they live in instructor/answers/ of "
            "the course repository, not in the installed package. Run the notebook inside the "
            f"course's folder (make lab), or set {ANSWERS_ENV} to that folder")
    spec = importlib.util.spec_from_file_location(
        ANSWERS_PACKAGE, folder / "__init__.py", submodule_search_locations=[str(folder)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[ANSWERS_PACKAGE] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[ANSWERS_PACKAGE]
        raise
    return module


def answers_module(name: str) -> ModuleType:
    """One module of answer functions, e.g. ``answers_module("unit02")`` (imported once)."""
    answers_package()
    return importlib.import_module(f"{ANSWERS_PACKAGE}.{name}")


def load_answers() -> None:
    """Import every ``instructor/answers/unit*.py`` so their questions register."""
    answers_package().import_all()


def get_question(question_id: str) -> Question:
    """The registered question ``question_id``; ``ValueError`` with close matches if unknown."""
    if question_id not in QUESTIONS:
        load_answers()
    try:
        return QUESTIONS[question_id]
    except KeyError:
        close = difflib.get_close_matches(str(question_id), list(QUESTIONS), n=3)
        tip = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(
            f"no exercise question with id {question_id!r}.{tip} Check the id in the "
            "check(...) call against the exercise text."
        ) from None


def questions(unit: str | int | None = None) -> list[Question]:
    """All registered questions (of one unit, e.g. ``"02"`` or ``2``), in registration order."""
    load_answers()
    if unit is None:
        return list(QUESTIONS.values())
    unit = f"{int(unit):02d}" if isinstance(unit, int) or str(unit).isdigit() else str(unit)
    return [q for q in QUESTIONS.values() if q.unit == unit]
