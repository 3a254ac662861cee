"""Tolerant comparison of a student's answer with the expected one.

:func:`compare` answers "is this the same result?" the way a teacher would: it ignores how
the answer is represented (column order, ``int`` vs ``float`` vs nullable dtypes, ``str``
vs ``category``, a key held as a column instead of the index, a ``list`` where a ``set`` was
expected) and is strict about what the numbers are (relative tolerance ``rtol``).

It returns a :class:`Verdict` whose ``reason`` describes *what* differs (shape, missing
columns, how many values differ, whether a number is too high or too low) but never the
expected values themselves, so the message can be shown to a student without giving the
answer away.
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class CompareOptions:
    """How strictly an answer is compared with the expected one.

    - ``rtol``, ``atol``: numbers ``a`` and ``e`` match when ``|a - e| <= atol + rtol * |e|``.
    - ``ignore_row_order``: rows (of a DataFrame/Series) may come in any order; they are
      matched by index label when ``check_index`` is true, otherwise by their values.
    - ``check_index``: the index labels must match (after moving a key column that the
      student kept as a column into the index, or the reverse). When false the index is
      dropped on both sides.
    - ``extra_columns``: extra columns in the student's table are allowed.
    - ``check_names``: a Series' ``name`` and index names must match.
    - ``ordered``: a list's order matters (sets never have order).
    - ``case_sensitive``: strings must match in case (they are always compared stripped).
    - ``ids``: the values are identifiers (product or customer ids): they are compared as
      labels, so a message never calls one "too high" or "too low".
    """

    rtol: float = 1e-6
    atol: float = 1e-9
    ignore_row_order: bool = False
    check_index: bool = True
    extra_columns: bool = False
    check_names: bool = False
    ordered: bool = True
    case_sensitive: bool = True
    ids: bool = False

    def __post_init__(self) -> None:
        if not (self.rtol >= 0 and self.atol >= 0):
            raise ValueError(
                f"CompareOptions: rtol={self.rtol!r} and atol={self.atol!r} must be >= 0"
            )


@dataclass(frozen=True)
class Verdict:
    """Outcome of a comparison: ``ok`` and, when not ok, a reason safe to show a student."""

    ok: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.ok


_OK = Verdict(True)


def _fail(reason: str) -> Verdict:
    return Verdict(False, reason)


def type_name(value: Any) -> str:
    """A short, student-friendly name for the type of ``value``."""
    if isinstance(value, pd.DataFrame):
        return "a DataFrame"
    if isinstance(value, pd.Series):
        return "a Series"
    if isinstance(value, pd.Index):
        return "an Index"
    if isinstance(value, np.ndarray):
        return "a NumPy array"
    if value is None:
        return "None"
    if isinstance(value, bool | np.bool_):
        return "a bool"
    if isinstance(value, numbers.Number):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, set | frozenset):
        return "a set"
    if isinstance(value, list | tuple):
        return f"a {type(value).__name__}"
    if isinstance(value, Mapping):
        return "a dict"
    return f"a {type(value).__name__}"


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool | np.bool_)


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(isinstance(value, float | np.floating) and math.isnan(value))
    except TypeError:
        return False


def _listlike(value: Any) -> list | None:
    """``value`` as a plain list when it is list-like (not a string, table or mapping)."""
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, set | frozenset):
        return list(value)
    if isinstance(value, pd.Series | pd.Index):
        return value.tolist()
    if isinstance(value, np.ndarray):
        return value.tolist() if value.ndim else None
    return None


def _norm_scalar(value: Any) -> Any:
    """A hashable, representation-free version of a scalar (for sets and dict keys)."""
    if isinstance(value, np.generic):
        value = value.item()
    if _is_missing(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime() if value.nanosecond == 0 else value
    if isinstance(value, str):
        return value.strip()
    return value


# ----------------------------------------------------------------------------- scalars


def _compare_number(answer: Any, expected: Any, opts: CompareOptions, where: str) -> Verdict:
    if isinstance(answer, np.ndarray) and answer.size == 1:
        answer = answer.reshape(-1)[0]
    if isinstance(answer, pd.Series | pd.DataFrame) and answer.size == 1:
        return _fail(
            f"{where} is {type_name(answer)} holding one value; a single number was expected "
            "(take it out with .item() or .iloc[0])"
        )
    if not _is_number(answer):
        return _fail(f"{where} is {type_name(answer)}; a single number was expected")
    a, e = complex(answer), complex(expected)
    if a.imag or e.imag:
        ok = abs(a - e) <= opts.atol + opts.rtol * abs(e)
        return _OK if ok else _fail(f"{where} is not the expected number")
    a, e = a.real, e.real
    if math.isnan(e) or math.isnan(a):
        if math.isnan(e) and math.isnan(a):
            return _OK
        return _fail(f"{where} is {'NaN' if math.isnan(a) else 'a number'}; "
                     f"{'NaN' if math.isnan(e) else 'a number'} was expected")
    if math.isinf(e) or math.isinf(a):
        return _OK if a == e else _fail(f"{where} is not the expected number")
    if abs(a - e) <= opts.atol + opts.rtol * abs(e):
        return _OK
    direction = "too high" if a > e else "too low"
    rel = abs(a - e) / abs(e) if e else float("inf")
    size = "slightly " if rel < 0.01 else ""
    return _fail(f"{where} is {size}{direction}")


def _compare_scalar(answer: Any, expected: Any, opts: CompareOptions, where: str) -> Verdict:
    if isinstance(expected, np.generic):
        expected = expected.item()
    if isinstance(answer, np.generic):
        answer = answer.item()
    if _is_missing(expected):
        return _OK if _is_missing(answer) else _fail(f"{where} should be missing (None/NaN)")
    if isinstance(expected, bool):
        if isinstance(answer, bool):
            return _OK if answer == expected else _fail(f"{where} is the wrong truth value")
        return _fail(f"{where} is {type_name(answer)}; True or False was expected")
    if _is_number(expected) and opts.ids:
        same = _is_number(answer) and _norm_scalar(answer) == _norm_scalar(expected)
        return _OK if same else _fail(f"{where} ({answer!r}) is not the expected item")
    if _is_number(expected):
        return _compare_number(answer, expected, opts, where)
    if isinstance(expected, str):
        if not isinstance(answer, str):
            return _fail(f"{where} is {type_name(answer)}; a string (text) was expected")
        a, e = answer.strip(), expected.strip()
        if not opts.case_sensitive:
            a, e = a.casefold(), e.casefold()
        return _OK if a == e else _fail(f"{where} is not the expected text")
    if isinstance(expected, pd.Timestamp | _dt.datetime | _dt.date | np.datetime64):
        try:
            a_ts = pd.Timestamp(answer)
        except (TypeError, ValueError):
            return _fail(f"{where} is {type_name(answer)}; a date/time was expected")
        e_ts = pd.Timestamp(expected)
        if a_ts.tz is not None and e_ts.tz is None:
            return _fail(f"{where} has a time zone; the shop's timestamps are naive local time")
        if a_ts == e_ts:
            return _OK
        return _fail(f"{where} is {'too late' if a_ts > e_ts else 'too early'}")
    if isinstance(expected, pd.Timedelta | _dt.timedelta | np.timedelta64):
        try:
            a_td = pd.Timedelta(answer)
        except (TypeError, ValueError):
            return _fail(f"{where} is {type_name(answer)}; a time span (Timedelta) was expected")
        return _compare_number(
            a_td.total_seconds(), pd.Timedelta(expected).total_seconds(), opts, where
        )
    try:
        same = bool(answer == expected)
    except Exception:  # an exotic type whose == does not return a truth value
        same = False
    return _OK if same else _fail(f"{where} is not the expected value")


# ----------------------------------------------------------------------------- columns


def _column_kind(values: pd.Series) -> str:
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "timedelta"
    if isinstance(dtype, pd.PeriodDtype):
        return "period"
    if isinstance(dtype, pd.CategoricalDtype):
        return _column_kind(pd.Series(np.asarray(values.cat.categories)))
    non_missing = values.dropna()
    if len(non_missing) and all(_is_number(v) for v in non_missing):
        return "number"
    return "object"


def _as_float(values: pd.Series) -> np.ndarray:
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    return pd.to_numeric(values.astype(object).where(values.notna(), np.nan),
                         errors="coerce").to_numpy(dtype=float)


def _mismatches(a: pd.Series, e: pd.Series, opts: CompareOptions) -> tuple[np.ndarray | None, str]:
    """Boolean array of positions where values differ, or ``(None, reason)`` if incompatible."""
    ka, ke = _column_kind(a), _column_kind(e)
    if ke == "number":
        if ka != "number":
            return None, "holds non-numbers where numbers were expected"
        av, ev = _as_float(a), _as_float(e)
        close = np.isclose(av, ev, rtol=opts.rtol, atol=opts.atol, equal_nan=True)
        return ~close, ""
    if ke in ("datetime", "timedelta"):
        if ka == "object" and ke == "datetime":
            try:
                a = pd.to_datetime(a)
                ka = "datetime"
            except (TypeError, ValueError):
                pass
        if ka != ke:
            return None, f"holds {ka} values where {ke} values were expected"
        if ke == "datetime":
            if getattr(a.dt, "tz", None) is not None and getattr(e.dt, "tz", None) is None:
                return None, "has a time zone; the shop's timestamps are naive local time"
            av = a.astype("datetime64[ns]").to_numpy()
            ev = e.astype("datetime64[ns]").to_numpy()
            both_nat = pd.isna(av) & pd.isna(ev)
            return ~((av == ev) | both_nat), ""
        av, ev = a.dt.total_seconds().to_numpy(), e.dt.total_seconds().to_numpy()
        return ~np.isclose(av, ev, rtol=opts.rtol, atol=opts.atol, equal_nan=True), ""
    if ke == "period":
        av, ev = a.astype(str).to_numpy(), e.astype(str).to_numpy()
        return av != ev, ""
    # text / mixed objects: compare normalized python values
    av = [_norm_scalar(v) for v in a.astype(object)]
    ev = [_norm_scalar(v) for v in e.astype(object)]
    if not opts.case_sensitive:
        av = [v.casefold() if isinstance(v, str) else v for v in av]
        ev = [v.casefold() if isinstance(v, str) else v for v in ev]
    return np.array([x != y for x, y in zip(av, ev, strict=True)], dtype=bool), ""


def _key_text(name: Any, value: Any) -> str:
    shown = _norm_scalar(value)
    if isinstance(value, tuple):
        shown = tuple(_norm_scalar(v) for v in value)
    return f"{name} {shown!r}" if name else repr(shown)


def _describe_positions(labels: pd.Index, bad: np.ndarray, total: int, what: str,
                        key: str = "", direction: str = "") -> str:
    """``what: n of total values differ (e.g. at customer_id 3, customer_id 8, …)``.

    ``labels`` are the row keys (customer ids, product ids, …) named ``key``; the first
    three differing ones are shown, so the student can look those rows up.
    """
    n_bad = int(bad.sum())
    shown = [_key_text("", v) for v in labels[bad][:3]]
    more = ", …" if n_bad > 3 else ""
    name = "" if key == "row" and isinstance(labels, pd.RangeIndex) else key
    where = (f" — e.g. {name + ' ' if name else 'at '}{', '.join(shown)}{more}" if shown
             else "")
    return f"{what}: {n_bad} of {total} values differ{direction}{where}"


def _direction(a: pd.Series, e: pd.Series, bad: np.ndarray) -> str:
    """", 5 too high and 2 too low" for numeric columns (nothing for text)."""
    if _column_kind(e) != "number" or _column_kind(a) != "number":
        return ""
    av, ev = _as_float(a)[bad], _as_float(e)[bad]
    high, low = int(np.sum(av > ev)), int(np.sum(av < ev))
    if high + low == 0:
        return ""
    parts = [f"{high} too high" if high else "", f"{low} too low" if low else ""]
    return " (" + ", ".join(p for p in parts if p) + ")"


def _row_key(frame: pd.DataFrame, use_index: bool) -> tuple[str, pd.Index]:
    """How to name a row: by its index labels (a key such as customer_id), by a key column
    (a unique column named ``*_id`` or the first unique text column), or by position."""
    if use_index:
        names = [n for n in frame.index.names if n is not None]
        return " / ".join(map(str, names)) if names else "row", frame.index
    for col in frame.columns:
        if str(col).endswith("_id") and frame[col].is_unique:
            return str(col), pd.Index(frame[col])
    for col in frame.columns:
        if _column_kind(frame[col]) == "object" and frame[col].is_unique:
            return str(col), pd.Index(frame[col].astype(object))
    return "row", pd.RangeIndex(len(frame))  # positions (shown as "at 0, 1, 2")


# ----------------------------------------------------------------------------- tables


def _index_names(obj: pd.DataFrame | pd.Series) -> list:
    return [n for n in obj.index.names if n is not None]


def _has_default_index(obj: pd.DataFrame | pd.Series) -> bool:
    idx = obj.index
    return (isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1
            and idx.name is None)


def _align_keys(answer: pd.DataFrame, expected: pd.DataFrame) -> pd.DataFrame:
    """Move key columns between index and columns so they sit where the expected has them."""
    exp_idx = _index_names(expected)
    if exp_idx and len(exp_idx) == expected.index.nlevels:
        if _has_default_index(answer) and all(n in answer.columns for n in exp_idx):
            return answer.set_index(exp_idx)
        ans_idx = _index_names(answer)
        if (ans_idx and set(exp_idx) == set(ans_idx) and list(exp_idx) != list(ans_idx)
                and answer.index.nlevels == len(ans_idx)):
            return answer.reorder_levels(exp_idx)
    if _has_default_index(expected):
        ans_idx = _index_names(answer)
        if ans_idx and answer.index.nlevels == len(ans_idx) and all(
            n in expected.columns and n not in answer.columns for n in ans_idx
        ):
            return answer.reset_index()
    return answer


def _missing_keys(answer: pd.DataFrame, expected: pd.DataFrame, use_index: bool) -> str:
    """"; missing e.g. customer_id 7, 9; not expected e.g. customer_id 501" (or "")."""
    key, e_lab = _row_key(expected, use_index)
    if key == "row":
        return ""
    if use_index:
        if answer.index.nlevels != expected.index.nlevels:
            return ""
        a_lab = answer.index
    elif key in answer.columns:
        a_lab = pd.Index(answer[key])
    else:
        return ""
    a_set = {_norm_scalar(v) for v in a_lab}
    e_set = {_norm_scalar(v) for v in e_lab}
    out = ""
    missing = sorted(e_set - a_set, key=str)[:3]
    extra = sorted(a_set - e_set, key=str)[:3]
    if missing:
        out += f"; missing e.g. {key} {', '.join(_key_text('', v) for v in missing)}"
    if extra:
        out += f"; not expected e.g. {key} {', '.join(_key_text('', v) for v in extra)}"
    if not out and len(a_lab) > len(set(a_set)):
        out = f"; some {key} appear more than once"
    return out


def _sort_rows(frame: pd.DataFrame, by_index: bool) -> pd.DataFrame:
    """Sort rows canonically (by index first, then by every column) to ignore row order."""
    if by_index:
        level_names = [f"__level_{i}__" for i in range(frame.index.nlevels)]
        original_names = list(frame.index.names)
        flat = frame.set_axis(frame.index.set_names(level_names), axis=0).reset_index()
    else:
        flat = frame.reset_index(drop=True)
    keys = pd.DataFrame({i: _sort_key(flat.iloc[:, i]) for i in range(flat.shape[1])})
    order = keys.sort_values(list(keys.columns), kind="stable", na_position="last").index
    out = flat.iloc[order]
    if by_index:
        out = out.set_index(level_names)
        out.index = out.index.set_names(original_names)
    return out


def _sort_key(values: pd.Series) -> pd.Series:
    """A sortable stand-in for a column: floats for numbers and times, strings otherwise."""
    kind = _column_kind(values)
    values = values.reset_index(drop=True)
    try:
        if kind == "number":
            return pd.Series(_as_float(values))
        if kind == "timedelta":
            return values.dt.total_seconds()
        if kind == "datetime":
            stamps = pd.to_datetime(values)
            if getattr(stamps.dt, "tz", None) is not None:
                stamps = stamps.dt.tz_convert(None)
            return pd.Series(stamps.to_numpy().astype("datetime64[ns]").astype("int64"),
                             dtype=float).where(stamps.notna().to_numpy())
    except (TypeError, ValueError):
        pass
    return values.astype(object).map(lambda v: "" if _is_missing(v) else str(_norm_scalar(v)))


def _index_labels_differ(answer: pd.DataFrame, expected: pd.DataFrame, opts: CompareOptions,
                         where: str) -> Verdict | None:
    """The failed verdict for the first index level whose labels differ (naming a few missing
    and unexpected keys), or None when every level agrees."""
    for level in range(expected.index.nlevels):
        a_lab = pd.Series(answer.index.get_level_values(level))
        e_lab = pd.Series(expected.index.get_level_values(level))
        bad, why = _mismatches(a_lab, e_lab, opts)
        name = expected.index.names[level]
        label = f"the index{'' if name is None else f' ({name})'}"
        if bad is None:
            return _fail(f"{where}: {label} {why}")
        if bad.any():
            hint = "" if opts.ignore_row_order else " (or the rows are in another order)"
            a_set = {_norm_scalar(v) for v in a_lab}
            e_set = {_norm_scalar(v) for v in e_lab}
            detail = ""
            missing = sorted(e_set - a_set, key=str)[:3]
            extra = sorted(a_set - e_set, key=str)[:3]
            if missing:
                detail += f"; missing e.g. {', '.join(_key_text(name, v) for v in missing)}"
            if extra:
                detail += (f"; not expected e.g. "
                           f"{', '.join(_key_text(name, v) for v in extra)}")
            return _fail(f"{where}: {int(bad.sum())} of {len(bad)} labels of {label} "
                         f"differ{hint if not detail else ''}{detail}")
    return None


def _compare_columns(answer: pd.DataFrame, expected: pd.DataFrame, opts: CompareOptions,
                     where: str, use_index: bool) -> Verdict:
    """Compare two aligned tables column by column; the first differing column is described
    (which rows, in which direction) and the count of the others."""
    exp_cols = list(expected.columns)
    key, labels = _row_key(expected, use_index)
    differing = []
    for col in exp_cols:
        a_col = answer[col].reset_index(drop=True)
        e_col = expected[col].reset_index(drop=True)
        bad, why = _mismatches(a_col, e_col, opts)
        if bad is None:
            return _fail(f"{where}: column {col!r} {why}")
        if bad.any():
            direction = "" if opts.ids or col == key else _direction(a_col, e_col, bad)
            differing.append(_describe_positions(labels, bad, len(bad),
                                                 f"{where}, column {col!r}", key, direction))
    if differing:
        more = (f"; {len(differing) - 1} other column(s) differ too" if len(differing) > 1
                else "")
        return _fail(differing[0] + more)
    return _OK


def _compare_frame(answer: Any, expected: pd.DataFrame, opts: CompareOptions, where: str) -> Verdict:
    if isinstance(answer, pd.Series) and expected.shape[1] == 1:
        answer = answer.to_frame(name=expected.columns[0])
    if not isinstance(answer, pd.DataFrame):
        return _fail(f"{where} is {type_name(answer)}; a DataFrame (table) was expected")
    if answer.columns.nlevels != expected.columns.nlevels:
        return _fail(f"{where} has {answer.columns.nlevels}-level column labels; "
                     f"{expected.columns.nlevels}-level labels were expected (flatten them?)")
    use_index = opts.check_index and not _has_default_index(expected)
    if opts.check_index:
        answer = _align_keys(answer, expected)
        if not use_index:
            # a default 0..n-1 index carries no information: only the row order counts
            answer = answer.reset_index(drop=True)
    else:
        answer = answer.reset_index(drop=True)
        expected = expected.reset_index(drop=True)
    exp_cols = list(expected.columns)
    ans_cols = list(answer.columns)
    if len(set(ans_cols)) != len(ans_cols):
        return _fail(f"{where} has duplicated column names")
    missing = [c for c in exp_cols if c not in ans_cols]
    if missing:
        return _fail(f"{where} is missing column(s) {missing}")
    extra = [c for c in ans_cols if c not in exp_cols]
    if extra and not opts.extra_columns:
        return _fail(f"{where} has unexpected column(s) {extra}; keep only {exp_cols}")
    answer = answer[exp_cols]
    if len(answer) != len(expected):
        return _fail(f"{where} has {len(answer)} rows; {len(expected)} were expected"
                     + _missing_keys(answer, expected, use_index))
    if use_index and answer.index.nlevels != expected.index.nlevels:
        return _fail(f"{where} has a {answer.index.nlevels}-level index; "
                     f"{expected.index.nlevels} level(s) were expected")
    if opts.check_names and use_index and list(answer.index.names) != list(expected.index.names):
        return _fail(f"{where} has index name(s) {list(answer.index.names)}; "
                     f"{list(expected.index.names)} were expected")
    if opts.ignore_row_order:
        answer = _sort_rows(answer, by_index=use_index)
        expected = _sort_rows(expected, by_index=use_index)
    if use_index:
        failed = _index_labels_differ(answer, expected, opts, where)
        if failed is not None:
            return failed
    return _compare_columns(answer, expected, opts, where, use_index)


def _compare_series(answer: Any, expected: pd.Series, opts: CompareOptions, where: str) -> Verdict:
    if isinstance(answer, pd.DataFrame) and answer.shape[1] == 1:
        answer = answer.iloc[:, 0]
    elif isinstance(answer, Mapping):
        answer = pd.Series(dict(answer))
    if not isinstance(answer, pd.Series):
        return _fail(f"{where} is {type_name(answer)}; a Series was expected")
    if opts.check_names and answer.name != expected.name:
        return _fail(f"{where} is named {answer.name!r}; {expected.name!r} was expected")
    col = "__values__"
    inner = replace(opts, extra_columns=False)
    verdict = _compare_frame(answer.rename(col).to_frame(), expected.rename(col).to_frame(),
                             inner, where)
    if not verdict.ok:
        return Verdict(False, verdict.reason.replace(f", column {col!r}", "")
                       .replace(f"column {col!r} ", "the values "))
    return _OK


# ----------------------------------------------------------------------------- containers


def _compare_collection(answer: Any, expected: Any, opts: CompareOptions, where: str) -> Verdict:
    items = _listlike(answer)
    if items is None:
        return _fail(f"{where} is {type_name(answer)}; a collection (list/set) was expected")
    if isinstance(expected, set | frozenset):
        a_set = {_norm_scalar(v) for v in items}
        e_set = {_norm_scalar(v) for v in expected}
        if len(a_set) != len(items) and len(items) != len(e_set):
            return _fail(f"{where} contains duplicates")
        if a_set == e_set:
            return _OK
        n_missing = len(e_set - a_set)
        n_extra = len(a_set - e_set)
        return _fail(f"{where} misses {n_missing} expected item(s) and has {n_extra} "
                     "unexpected item(s)")
    exp_items = list(expected) if not isinstance(expected, np.ndarray) else expected.tolist()
    if len(items) != len(exp_items):
        return _fail(f"{where} has {len(items)} items; {len(exp_items)} were expected")
    if not opts.ordered:
        a_count = Counter(_norm_scalar(v) for v in items)
        e_count = Counter(_norm_scalar(v) for v in exp_items)
        return _OK if a_count == e_count else _fail(f"{where} does not hold the expected items")
    if opts.ids:
        return _compare_id_list(items, exp_items, where)
    for i, (a, e) in enumerate(zip(items, exp_items, strict=True)):
        verdict = _compare(a, e, opts, f"item {i} of {where}")
        if not verdict.ok:
            if isinstance(expected, list | tuple) and Counter(map(_norm_scalar, items)) == \
                    Counter(map(_norm_scalar, exp_items)):
                return _fail(f"{where} holds the right items in the wrong order")
            return verdict
    return _OK


def _compare_id_list(items: list, exp_items: list, where: str) -> Verdict:
    """An ordered list of ids (a ranking): name the first position that differs."""
    a_ids = [_norm_scalar(v) for v in items]
    e_ids = [_norm_scalar(v) for v in exp_items]
    if a_ids == e_ids:
        return _OK
    if Counter(a_ids) == Counter(e_ids):
        return _fail(f"{where} holds the right items in the wrong order")
    n_in = len(set(a_ids) & set(e_ids))
    first = next(i for i, (a, e) in enumerate(zip(a_ids, e_ids, strict=True)) if a != e)
    return _fail(f"{where} holds {n_in} of the {len(e_ids)} expected items; the first "
                 f"difference is at position {first + 1} (you have {a_ids[first]!r} there)")


def _compare_mapping(answer: Any, expected: Mapping, opts: CompareOptions, where: str) -> Verdict:
    if isinstance(answer, pd.Series):
        answer = answer.to_dict()
    if not isinstance(answer, Mapping):
        return _fail(f"{where} is {type_name(answer)}; a dict was expected")
    a_map = {_norm_scalar(k): v for k, v in answer.items()}
    e_map = {_norm_scalar(k): v for k, v in expected.items()}
    missing = [k for k in e_map if k not in a_map]
    if missing:
        return _fail(f"{where} is missing key(s) {missing}")
    extra = [k for k in a_map if k not in e_map]
    if extra:
        return _fail(f"{where} has unexpected key(s) {extra}")
    for key, e in e_map.items():
        verdict = _compare(a_map[key], e, opts, f"{where}[{key!r}]")
        if not verdict.ok:
            return verdict
    return _OK


def _compare(answer: Any, expected: Any, opts: CompareOptions, where: str) -> Verdict:
    if isinstance(expected, pd.DataFrame):
        return _compare_frame(answer, expected, opts, where)
    if isinstance(expected, pd.Series):
        return _compare_series(answer, expected, opts, where)
    if isinstance(expected, Mapping):
        return _compare_mapping(answer, expected, opts, where)
    if isinstance(expected, set | frozenset | list | tuple | pd.Index) or (
        isinstance(expected, np.ndarray) and expected.ndim > 0
    ):
        if isinstance(expected, pd.Index):
            expected = expected.tolist()
        if isinstance(expected, np.ndarray) and expected.ndim > 1:
            a_arr = np.asarray(answer) if _listlike(answer) is not None else None
            if a_arr is None or a_arr.shape != expected.shape:
                return _fail(f"{where} should be an array of shape {expected.shape}")
            return _compare_collection(a_arr.ravel(), expected.ravel(), opts, where)
        return _compare_collection(answer, expected, opts, where)
    return _compare_scalar(answer, expected, opts, where)


def compare(answer: Any, expected: Any, options: CompareOptions | None = None,
            **overrides: Any) -> Verdict:
    """Compare ``answer`` with ``expected``; return a :class:`Verdict` (truthy when equal).

    ``options`` (or keyword ``overrides`` of its fields, e.g. ``rtol=1e-3``) say how strict
    to be; see :class:`CompareOptions`. The comparison is driven by the type of ``expected``:
    DataFrame, Series, dict, set, list/tuple/array, number, bool, string, timestamp.
    """
    opts = options or CompareOptions()
    if overrides:
        opts = replace(opts, **overrides)
    if answer is None and expected is not None:
        return _fail("your answer is None — did you assign the result to the variable "
                     "(and not just print it)?")
    return _compare(answer, expected, opts, "your answer")


def compare_nonzero_labels(answer: Any, expected: pd.Series) -> Verdict:
    """Compare per-label numbers (e.g. per channel) ignoring labels whose value is 0.

    A ``value_counts`` on a categorical column lists every category, zeros included; on a
    string column it lists only the values present. Both are right, so zero rows of the
    answer are dropped (and labels read as strings) before an order-free comparison. A
    one-column frame or a dict is read as the Series it stands for.
    """
    if isinstance(answer, pd.DataFrame) and answer.shape[1] == 1:
        answer = answer.iloc[:, 0]
    if isinstance(answer, dict):
        answer = pd.Series(answer)
    if isinstance(answer, pd.Series) and pd.api.types.is_numeric_dtype(answer):
        answer = answer[answer != 0]
        answer.index = answer.index.astype(str)
    return compare(answer, expected, CompareOptions(ignore_row_order=True))
