"""Exam mode: checks that look at the *form* of an answer, never at its value.

In an exam release (``crmlab exercises release --mode exam``) a student's ``check()`` must
not say whether an answer is right: that would turn the notebook into an oracle, and
computing the expected value needs the answer functions, which must stay with the
instructor. Instead each question gets a *form*: a small JSON-able description of what
kind of answer is wanted, derived at release time from that student's expected answer::

    {"kind": "frame", "columns": ["channel", "n_orders", "revenue"], "index": [],
     "column_kinds": {"channel": "text", "n_orders": "number", "revenue": "number"},
     "extra_columns": False}

A form says *what kind* of thing the answer is (a number, a text, a date, a list, a set, a
table with these columns holding numbers or text or dates) and nothing about values, row
counts or lengths: a row count is often the answer itself (how many channels have orders,
how many customers churned), so it is not part of the form.

:func:`form_of` derives a form, :func:`check_form` checks an answer against one (with a
message safe to show), :func:`forms_cell` writes the code cell an exam notebook starts with.
"""

from __future__ import annotations

import datetime as _dt
import numbers
import pprint
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crmlab.exercises.compare import CompareOptions, Verdict, _column_kind, type_name

#: Form kinds and how a student reads them.
KIND_TEXT = {
    "number": "a single number",
    "bool": "True or False",
    "text": "a string (text)",
    "datetime": "a date/time (Timestamp)",
    "timedelta": "a time span (Timedelta)",
    "list": "a list",
    "set": "a set (or any list-like; order does not matter)",
    "dict": "a dict",
    "array": "a NumPy array or list",
    "series": "a Series",
    "frame": "a DataFrame (table)",
    "any": "any value",
}

#: Tag of the cell an exam release adds in front of the setup cell.
FORMS_TAG = "crmlab-exam-forms"

#: Name of the variable that cell assigns (the setup cell passes it to ``start``).
FORMS_NAME = "EXAM_FORMS"


def _value_kind(value: Any) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, numbers.Number):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, pd.Timestamp | _dt.datetime | _dt.date | np.datetime64):
        return "datetime"
    if isinstance(value, pd.Timedelta | _dt.timedelta | np.timedelta64):
        return "timedelta"
    return "any"


def _kinds(frame: pd.DataFrame) -> dict[str, str]:
    """``{column: number | text | datetime | timedelta | period | object}`` of a table."""
    out = {}
    for i, col in enumerate(frame.columns):
        kind = _column_kind(frame.iloc[:, i])
        out[str(col)] = "text" if kind == "object" else kind
    return out


def _index_names(obj: pd.DataFrame | pd.Series) -> list[str]:
    return [str(n) for n in obj.index.names if n is not None]


def form_of(expected: Any, options: CompareOptions | None = None) -> dict[str, Any]:
    """The form of ``expected``: its kind and, for tables, column names and value kinds.

    ``options`` are the question's comparison options (``extra_columns`` and ``ordered``
    carry over). Values, lengths and row counts are never part of a form.
    """
    opts = options or CompareOptions()
    if isinstance(expected, pd.DataFrame):
        return {"kind": "frame", "columns": [str(c) for c in expected.columns],
                "index": _index_names(expected), "column_kinds": _kinds(expected),
                "extra_columns": bool(opts.extra_columns)}
    if isinstance(expected, pd.Series):
        kind = _column_kind(expected)
        return {"kind": "series", "index": _index_names(expected),
                "values": "text" if kind == "object" else kind}
    if isinstance(expected, Mapping):
        return {"kind": "dict"}
    if isinstance(expected, set | frozenset):
        return {"kind": "set"}
    if isinstance(expected, list | tuple | pd.Index):
        return {"kind": "list", "ordered": bool(opts.ordered)}
    if isinstance(expected, np.ndarray) and expected.ndim > 0:
        return {"kind": "array", "ndim": int(expected.ndim)}
    if expected is None or (isinstance(expected, float) and np.isnan(expected)):
        return {"kind": "any"}
    return {"kind": _value_kind(expected)}


def _is_listlike(value: Any) -> bool:
    return isinstance(value, list | tuple | set | frozenset | pd.Series | pd.Index) or (
        isinstance(value, np.ndarray) and value.ndim > 0)


def _check_table(answer: Any, form: Mapping[str, Any]) -> Verdict:
    columns = list(form.get("columns", []))
    if isinstance(answer, pd.Series) and len(columns) == 1:
        answer = answer.to_frame(name=columns[0])
    if not isinstance(answer, pd.DataFrame):
        return Verdict(False, f"your answer is {type_name(answer)}; a DataFrame (table) with "
                              f"the columns {columns} was expected")
    flat = answer.reset_index() if _index_names(answer) else answer
    have = [str(c) for c in flat.columns]
    missing = [c for c in columns + list(form.get("index", [])) if c not in have]
    if missing:
        return Verdict(False, f"your table is missing the column(s) {missing} (as columns "
                              "or as the index)")
    wanted = set(columns) | set(form.get("index", []))
    extra = [c for c in have if c not in wanted and c != "index"]
    if extra and not form.get("extra_columns", False):
        return Verdict(False, f"your table has unexpected column(s) {extra}; keep only "
                              f"{columns}")
    kinds = _kinds(flat.loc[:, ~flat.columns.duplicated()])
    for col, kind in form.get("column_kinds", {}).items():
        got = kinds.get(col)
        if got is not None and got != kind and not (kind == "text" and got in ("object",)):
            return Verdict(False, f"column {col!r} holds {got} values; {kind} values were "
                                  "expected")
    return Verdict(True)


def check_form(answer: Any, form: Mapping[str, Any]) -> Verdict:
    """Whether ``answer`` has the ``form`` (see :func:`form_of`); the reason never shows values."""
    kind = form.get("kind", "any")
    if kind == "any":
        return Verdict(True)
    if answer is None:
        return Verdict(False, "your answer is None — did you assign the result to the "
                              "variable (and not just print it)?")
    wanted = KIND_TEXT.get(kind, kind)
    if kind == "frame":
        return _check_table(answer, form)
    if kind == "series":
        if isinstance(answer, pd.DataFrame) and answer.shape[1] == 1:
            answer = answer.iloc[:, 0]
        if isinstance(answer, Mapping):
            return Verdict(True)
        if not isinstance(answer, pd.Series):
            return Verdict(False, f"your answer is {type_name(answer)}; {wanted} was expected")
        got = _column_kind(answer)
        got = "text" if got == "object" else got
        if form.get("values") not in (None, got):
            return Verdict(False, f"your Series holds {got} values; {form['values']} values "
                                  "were expected")
        return Verdict(True)
    if kind in ("list", "set", "array"):
        if not _is_listlike(answer):
            return Verdict(False, f"your answer is {type_name(answer)}; {wanted} was expected")
        if kind == "list" and form.get("ordered", True) and isinstance(answer, set | frozenset):
            return Verdict(False, "your answer is a set, which has no order; an ordered list "
                                  "was expected")
        return Verdict(True)
    if kind == "dict":
        ok = isinstance(answer, Mapping | pd.Series)
        return Verdict(ok, "" if ok else f"your answer is {type_name(answer)}; a dict was "
                                         "expected")
    if isinstance(answer, np.ndarray) and answer.size == 1:
        answer = answer.reshape(-1)[0]
    got = _value_kind(answer)
    if kind == "number" and got == "number":
        if isinstance(answer, complex):
            return Verdict(False, "your answer is a complex number; a real number was expected")
        return Verdict(True)
    if got == kind:
        if kind == "datetime" and pd.Timestamp(answer).tz is not None:
            return Verdict(False, "your answer has a time zone; the shop's timestamps are "
                                  "naive local time")
        return Verdict(True)
    return Verdict(False, f"your answer is {type_name(answer)}; {wanted} was expected")


def forms_cell(forms: Mapping[str, Mapping[str, Any]]) -> str:
    """Source of the code cell an exam notebook gets before its setup cell."""
    body = pprint.pformat(dict(forms), width=92, sort_dicts=False)
    return (
        "# Exam mode (考試模式): check(...) below looks only at the FORM of each answer (its\n"
        "# type, its columns and what kind of values they hold), never at its value. Your\n"
        "# instructor grades the values after you hand in. Run this cell; do not edit it.\n"
        f"{FORMS_NAME} = {body}\n"
    )


NOTICE_MARKDOWN = (
    "> **Exam mode (考試模式).** In this notebook `check(...)` only tells you whether an answer "
    "has the right *form* (a number, a table with the named columns, a list, …). It does not "
    "tell you whether the answer is right: your instructor grades the values after you hand "
    "the notebook in. Keep the file name and do not change the parameters cell."
)
