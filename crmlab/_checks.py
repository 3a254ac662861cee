"""Input checks shared by the unit modules: one wording for one mistake, everywhere.

Every public function of crmlab validates its tables before doing any work, so a student
who passes the wrong frame reads *which table, which column and what to do* instead of a
stack trace from deep inside pandas -- or, worse, a wrong answer.

**The input contract.** A public function that takes a shop table declares it beside its
signature: ``@reads(orders="customer_id order_ts amount")`` (or :class:`Reads` for renamed
columns, optional tables, line-level data). :func:`check_table` then checks every call
against the table schema (:mod:`crmlab.data.schema`, the single source of column kinds,
nullability and ranges) and settles, in one place and one wording: the columns are there;
ids have no missing values; numbers are numeric, finite and within the schema's min/max;
timestamps are naive ``datetime64`` within the plausible range (no 2099 typo, no epoch
integers); booleans are boolean or 0/1, never "yes"/"no"; the table's key is unique (a
repeated ``order_id`` would be counted twice). ``tests/unit/test_input_contract.py`` walks
every public function and finds its declaration; ``tests/robustness`` feeds every declared
function damaged tables generated from the schema.

The smaller helpers below serve the same messages for what is not a shop table (a frame
with given columns, a date argument, a confidence level, a numeric parameter, arrays that
must have equal lengths); the unit modules add their own domain checks on top.

``func`` (optional everywhere) prefixes the message with the public function that was
called, e.g. ``"rfm_table: orders: column(s) ['amount'] not found ..."``.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from scipy import stats

F = TypeVar("F", bound=Callable[..., Any])

#: The default fix for a missing column: where the expected names are documented.
SCHEMA_FIX = ("Rename your columns to the shop's schema (datasets/README.md) or pass the arguments "
              "that name them (e.g. customer_col=).")


def _prefix(func: str | None) -> str:
    return f"{func}: " if func else ""


def as_frame(df: object, table: str, *, func: str | None = None) -> pd.DataFrame:
    """``df`` itself if it is a DataFrame; otherwise a ValueError naming the table to pass."""
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"{_prefix(func)}{table} must be a pandas DataFrame, got "
                         f"{type(df).__name__}; pass e.g. shop.{table}.")
    return df


def require_columns(
    df: pd.DataFrame,
    table: str,
    columns: Sequence[str] | Mapping[str, str],
    fix: str = "",
    *,
    func: str | None = None,
) -> pd.DataFrame:
    """``df`` if it has ``columns``; else a ValueError listing the missing ones, what it has, and
    the fix.

    ``columns`` may map each column to the keyword argument that names it (e.g.
    ``{"amount": "amount_col"}``); the default fix then says which arguments to pass.
    """
    missing = [c for c in columns if c not in df.columns]
    if not missing:
        return df
    if not fix and isinstance(columns, Mapping):
        fix = "Rename your columns or pass " + ", ".join(f"{columns[c]}=" for c in missing) + " naming them."
    raise ValueError(f"{_prefix(func)}{table}: column(s) {missing} not found (it has "
                     f"{list(df.columns)}). {fix or SCHEMA_FIX}")


def frame_with(
    df: object, table: str, columns: Sequence[str], fix: str = "", *, func: str | None = None
) -> pd.DataFrame:
    """``df`` if it is a DataFrame with ``columns`` (:func:`as_frame`, then
    :func:`require_columns`): the check for tables that are not shop tables (a model's
    output, an interaction log); shop tables go through :func:`check_table`."""
    return require_columns(as_frame(df, table, func=func), table, list(columns), fix, func=func)


_NS = np.dtype("datetime64[ns]")  # a dtype object: comparing with the string parses it each time


def datetime_column(
    df: pd.DataFrame, table: str, col: str, *, allow_missing: bool = False, func: str | None = None
) -> pd.Series:
    """Column ``col`` as naive ``datetime64[ns]``.

    ValueError when it is not datetime (the fix is ``pd.to_datetime``), when it is time-zone
    aware (the shop's clocks are naive local time), when a date lies outside the plausible
    range (:data:`crmlab.data.schema.EARLIEST_DATE` to ``latest_plausible_date()``), or,
    unless ``allow_missing``, when it has missing timestamps (a row without a time cannot be placed on the timeline). With
    ``allow_missing`` an all-missing column of any dtype is read as all NaT.
    """
    values = df[col]
    if allow_missing and not pd.api.types.is_datetime64_any_dtype(values.dtype) and values.isna().all():
        return pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]", name=col)
    _check_dates(values, table, col, allow_missing, func)
    dtype = values.dtype
    return values if dtype == _NS else values.astype(_NS)


def as_timestamp(value: object, name: str, *, func: str | None = None) -> pd.Timestamp:
    """A date argument (``as_of``, ``start``, ...) as a naive Timestamp, or a ValueError saying
    what to pass."""
    where = _prefix(func)
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}{name}={value!r} is not a date; pass e.g. '2025-06-30'.") from exc
    if ts is pd.NaT:
        raise ValueError(f"{where}{name} is missing (NaT); pass a date such as '2025-06-30'.")
    if ts.tzinfo is not None:
        raise ValueError(f"{where}{name}={value!r} is time-zone aware; the shop uses naive local time.")
    return ts


def z_for_level(level: float, *, func: str | None = None) -> float:
    """The two-sided normal quantile for a confidence ``level`` (1.96 for 0.95)."""
    try:
        value = float(level)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        value = float("nan")
    if isinstance(level, bool) or not 0 < value < 1:
        raise ValueError(f"{_prefix(func)}level={level!r} must be between 0 and 1, e.g. 0.95.")
    return float(stats.norm.ppf(0.5 + value / 2))


def as_list(by: str | Sequence[str] | None) -> list[str]:
    """A grouping argument (None, one column name or several) as a list of column names."""
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


# --------------------------------------------------------------------------------------
# The input contract: which shop tables and columns a public function reads, checked
# against the table schema (crmlab.data.schema) by one piece of code.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reads:
    """What one argument of a public function must be: (part of) a shop table.

    ``table`` names the schema table (:data:`crmlab.data.schema.TABLES`) whose contract
    applies; ``columns`` are the schema columns the function reads (each checked for its
    kind, missing values and range); ``rename`` maps a schema column to the keyword argument
    that lets a caller name their own column (``{"amount": "amount_col"}``). The table's
    primary key, when all its columns are present, must be unique, unless ``unique`` is
    False or the argument named by ``lines_arg`` is given (line-level data repeats the key
    on purpose). ``optional``: the argument may be None. ``nonempty``: an empty frame is an
    error. ``extra`` lists columns that must exist but whose values are not checked.
    ``name_arg``: the argument that names the table in messages (e.g. ``table=``); by default
    messages use the argument's name (the schema's name for an alias such as ``contacts``).
    """

    table: str
    columns: tuple[str, ...] = ()
    rename: Mapping[str, str] = field(default_factory=dict)
    unique: bool = True
    lines_arg: str | None = None
    optional: bool = False
    nonempty: bool = False
    extra: tuple[str, ...] = ()
    name_arg: str | None = None


def reads(**params: Reads | str) -> Callable[[F], F]:
    """Declare (and enforce) the shop tables a public function reads.

    ``@reads(orders="customer_id order_ts amount")`` says: the argument ``orders`` is the
    shop's ``orders`` table, and the function reads these three columns. Before the body
    runs, :func:`check_table` checks each declared argument against the schema; the
    declaration is kept on the function as ``__contract__`` (a dict argument -> :class:`Reads`),
    so a test can walk every public function and find it. A string names the columns of
    the table called like the argument (or its alias, :data:`~crmlab.data.schema.TABLE_ALIASES`);
    ``"table: col col"`` names another table.
    """
    from crmlab.data.schema import TABLE_ALIASES

    contract = {name: _as_reads(name, spec) for name, spec in params.items()}

    def decorate(fn: F) -> F:
        sig = inspect.signature(fn)
        for name, spec in contract.items():
            if name not in sig.parameters:
                raise TypeError(f"reads(): {fn.__name__} has no argument {name!r}")
            for arg in [*spec.rename.values(), spec.lines_arg, spec.name_arg]:
                if arg is not None and arg not in sig.parameters:
                    raise TypeError(f"reads(): {fn.__name__} has no argument {arg!r}")

        @functools.wraps(fn)
        def checked(*args: Any, **kwargs: Any) -> Any:
            try:
                bound = sig.bind(*args, **kwargs)
            except TypeError:
                return fn(*args, **kwargs)  # let Python word the wrong call
            bound.apply_defaults()
            values = bound.arguments
            for name, spec in contract.items():
                df = values[name]
                if df is None and spec.optional:
                    continue
                names = {col: values[arg] for col, arg in spec.rename.items()}
                named_by = {col: arg for col, arg in spec.rename.items()}
                columns = [c for c in spec.columns if names.get(c, c) is not None]  # col=None: not read
                unique = spec.unique and (spec.lines_arg is None or values[spec.lines_arg] is None)
                label = values[spec.name_arg] if spec.name_arg else (
                    spec.table if name in TABLE_ALIASES else name)
                check_table(df, spec.table, columns, func=fn.__name__, names=names,
                            args=named_by, unique=unique, nonempty=spec.nonempty, extra=spec.extra,
                            label=str(label))
            return fn(*args, **kwargs)

        checked.__contract__ = contract  # type: ignore[attr-defined]
        return checked  # type: ignore[return-value]

    return decorate


def _as_reads(name: str, spec: Reads | str) -> Reads:
    from crmlab.data.schema import TABLE_ALIASES, TABLES

    if isinstance(spec, str):
        table, sep, cols = spec.partition(":")
        if not sep:
            table, cols = TABLE_ALIASES.get(name, name), spec
        spec = Reads(table.strip(), tuple(cols.split()))
    if spec.table not in TABLES:
        raise TypeError(f"reads(): {spec.table!r} is not a table of the schema")
    for col in (*spec.columns, *spec.rename):
        TABLES[spec.table].column(col)  # KeyError for a column the schema does not have
    return spec


def contract_of(fn: Callable[..., Any]) -> dict[str, Reads] | None:
    """The tables ``fn`` declares it reads (see :func:`reads`), or None."""
    return getattr(fn, "__contract__", None)


# Inside trusting(): the tables already checked, each kept alive (so that no other frame can
# take its id() during the report).
_TRUSTED: dict[tuple, pd.DataFrame] | None = None


@contextmanager
def trusting() -> Iterator[None]:
    """Check each (table, argument) once while inside: a report that calls many indicators on
    the same unchanged shop tables (:func:`crmlab.kpi.kpi_history`) pays for the contract once."""
    global _TRUSTED
    outer = _TRUSTED
    if outer is None:
        _TRUSTED = {}
    try:
        yield
    finally:
        if outer is None:
            _TRUSTED = None


def check_table(
    df: object,
    table: str,
    columns: Sequence[str] = (),
    *,
    func: str | None = None,
    names: Mapping[str, str] | None = None,
    args: Mapping[str, str] | None = None,
    unique: bool = True,
    nonempty: bool = False,
    extra: Sequence[str] = (),
    label: str | None = None,
) -> pd.DataFrame:
    """Check ``df`` against the schema of shop table ``table``; return it unchanged.

    For each schema column in ``columns`` (called ``names[col]`` in ``df`` when renamed):
    present; of its kind -- ids without missing values, numbers numeric, finite and within
    the schema's min/max, timestamps naive ``datetime64`` within the plausible range
    (:func:`crmlab.data.schema.latest_plausible_date`), booleans boolean (or 0/1); missing
    values only where the schema allows them. The table's primary key, when its columns are
    present, must be unique (``unique=False`` for line-level data). Every failure is a
    ValueError that names ``func``, the table, the column and the fix.
    """
    from crmlab.data.schema import TABLES, key_columns

    memo = None
    if _TRUSTED is not None and isinstance(df, pd.DataFrame):
        memo = (id(df), table, tuple(columns), tuple(sorted((names or {}).items())), unique,
                nonempty, tuple(extra), label, func)
        if _TRUSTED.get(memo) is df:
            return df
    shown = label or table
    frame = as_frame(df, shown, func=func)
    schema = TABLES[table]
    names = dict(names or {})
    actual = {col: names.get(col, col) for col in columns}
    missing = [c for c in [*columns, *extra] if actual.get(c, c) not in frame.columns]
    if missing:
        named = [f"{(args or {})[c]}=" for c in missing if c in (args or {})]
        fix = ("Rename your columns or pass " + ", ".join(named) + " naming them."
               if len(named) == len(missing) else SCHEMA_FIX)
        require_columns(frame, shown, [actual.get(c, c) for c in missing], fix, func=func)
    if nonempty and len(frame) == 0:
        raise ValueError(f"{_prefix(func)}the {shown} table is empty; pass at least one row.")
    for col in columns:
        _check_column(frame, shown, schema.column(col), actual[col], func)
    if unique:
        key = [names.get(c, c) for c in key_columns(table)]
        if key and all(c in frame.columns for c in key):
            _check_unique(frame, shown, key, func)
    if memo is not None and _TRUSTED is not None:
        _TRUSTED[memo] = df
    return frame


def _check_column(frame: pd.DataFrame, table: str, col: Any, name: str, func: str | None) -> None:
    """One column against its schema entry ``col`` (a :class:`crmlab.data.schema.Column`)."""
    p = _prefix(func)
    values = frame[name]
    if values.ndim != 1:
        raise ValueError(f"{p}{table}: column name '{name}' appears more than once; rename the copies.")
    kind = col.kind
    if kind == "datetime":
        _check_dates(values, table, name, col.nullable, func)
    elif kind == "bool":
        _check_bool(values, table, name, col.nullable, func)
    elif kind in ("int", "Int", "float"):
        is_id = name.endswith("_id") or col.name.endswith("_id")
        if is_id and not pd.api.types.is_numeric_dtype(values.dtype):
            n_missing = int(values.isna().sum())  # ids may be labels (strings)
            if n_missing and not col.nullable:
                raise ValueError(_missing_ids(p, table, name, n_missing))
            return
        _check_number(values, table, name, col, is_id, func)
    elif not col.nullable and len(values):
        n_missing = int(values.isna().sum())
        if n_missing:
            raise ValueError(f"{p}{table}: column '{name}' has {n_missing} missing values; every "
                             f"row needs one -- fill them (e.g. 'unknown') or drop those rows.")


def _missing_ids(p: str, table: str, name: str, n: int) -> str:
    noun = name[:-3].replace("_", " ") if name.endswith("_id") else name
    return (f"{p}{table}: column '{name}' has {n} missing values; every row needs one "
            f"(missing {noun} ids cannot be counted) -- drop or fix those rows first and report "
            "how many.")


def _check_number(values: pd.Series, table: str, name: str, col: Any, is_id: bool,
                  func: str | None) -> None:
    p = _prefix(func)
    dtype = values.dtype
    if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        raise ValueError(f"{p}{table}.{name} must be numeric, got dtype {dtype}; convert it with "
                         f"pd.to_numeric({table}['{name}']) (and check the rows that fail).")
    arr = values.to_numpy(dtype="float64", na_value=np.nan)
    missing = np.isnan(arr)
    if missing.any() and not col.nullable:
        if is_id:
            raise ValueError(_missing_ids(p, table, name, int(missing.sum())))
        raise ValueError(f"{p}{table}.{name} has {int(missing.sum())} missing values; fill or drop "
                         f"those rows first (and report how many), e.g. {table}.dropna(subset=['{name}']).")
    present = arr[~missing]
    inf = np.isinf(present)
    if inf.any():
        raise ValueError(f"{p}{table}.{name} has {int(inf.sum())} infinite values; an amount or "
                         "count is a finite number -- fix or drop those rows (an overflow in an "
                         "export or a division by zero upstream).")
    if col.kind in ("int", "Int") and col.min is not None and col.max is not None:
        off = (present < col.min) | (present > col.max) | (present != np.round(present))
        if off.any():
            raise ValueError(f"{p}{table}: column '{name}' must hold whole {name} from {col.min:g} "
                             f"to {col.max:g}; {int(off.sum())} value(s) do not (e.g. "
                             f"{present[off][0]!r}) -- fix or drop those rows first.")
    if col.kind in ("int", "Int") and len(present) and not pd.api.types.is_integer_dtype(dtype):
        frac = present != np.round(present)
        if frac.any():
            raise ValueError(f"{p}{table}.{name} has {int(frac.sum())} non-whole values (e.g. "
                             f"{present[frac][0]!r}); {name} counts whole units -- fix those rows "
                             f"or round them on purpose first.")
    if col.min is not None and (present < col.min).any():
        n_bad = int((present < col.min).sum())
        what = "negative amounts" if col.min == 0 and col.kind == "float" else "values"
        raise ValueError(f"{p}{table}.{name} has {n_bad} {what} below the minimum {col.min:g}"
                         f"{_hint(table, name)}; fix or remove those rows.")
    if col.max is not None and (present > col.max).any():
        n_bad = int((present > col.max).sum())
        raise ValueError(f"{p}{table}.{name} has {n_bad} values above the maximum {col.max:g}; "
                         "fix or remove those rows.")


#: What a value outside the schema's range usually is, by column.
HINTS = {
    "amount": " (refunds or cancellations? keep only orders in the table and pass refunds "
              "with returns=)",
    "revenue": " (refunds? revenue per contact is what the contact paid, 0 or more)",
    "quantity": " (returns or cancellations? keep them in their own table)",
    "value": " (a deal value is 0 or more, NT$)",
}


def _hint(table: str, name: str) -> str:
    return HINTS.get(name, "")


def _check_dates(values: pd.Series, table: str, name: str, nullable: bool, func: str | None) -> None:
    from crmlab.data.schema import EARLIEST_DATE, FUTURE_YEARS, latest_plausible_date

    p = _prefix(func)
    dtype = values.dtype
    if not pd.api.types.is_datetime64_any_dtype(dtype):
        if nullable and len(values) and values.isna().all():
            return
        hint = ""
        if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
            hint = (f" (numbers are not dates: epoch seconds? use pd.to_datetime({table}['{name}'], "
                    "unit='s'))")
        raise ValueError(f"{p}{table}: column '{name}' has dtype {dtype}, not datetime{hint}; "
                         f"convert it with {table}['{name}'] = pd.to_datetime({table}['{name}']).")
    if isinstance(dtype, pd.DatetimeTZDtype):
        raise ValueError(f"{p}{table}: column '{name}' is time-zone aware; the shop uses naive "
                         f"local time. Convert with {table}['{name}'].dt.tz_convert("
                         "'Asia/Taipei').dt.tz_localize(None).")
    arr = values.to_numpy()
    nat = np.isnat(arr)
    if nat.any() and not nullable:
        raise ValueError(f"{p}{table}: column '{name}' has {int(nat.sum())} missing timestamps "
                         "(NaT); every row needs one. Drop them and count them first, e.g. "
                         f"{table} = {table}.dropna(subset=['{name}']).")
    present = arr[~nat]
    if not len(present):
        return
    lo, hi = present.min(), present.max()
    latest = latest_plausible_date()
    if hi > latest.to_datetime64():
        n_bad = int((present > latest.to_datetime64()).sum())
        raise ValueError(f"{p}{table}.{name} has {n_bad} date(s) after {latest.date()} (up to "
                         f"{pd.Timestamp(hi)}), more than {FUTURE_YEARS} years ahead: a typo such "
                         "as 2099 for 2025 would move every default snapshot -- fix or drop those "
                         f"rows, e.g. {table}[{table}['{name}'] <= '{latest.date()}'].")
    if lo < EARLIEST_DATE.to_datetime64():
        n_bad = int((present < EARLIEST_DATE.to_datetime64()).sum())
        raise ValueError(f"{p}{table}.{name} has {n_bad} date(s) before {EARLIEST_DATE.date()} "
                         f"(from {pd.Timestamp(lo)}): numbers read as dates (epoch integers) or "
                         "placeholders -- parse them with pd.to_datetime(..., unit='s') or drop "
                         "those rows.")


def _check_bool(values: pd.Series, table: str, name: str, nullable: bool, func: str | None) -> None:
    p = _prefix(func)
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        if not nullable and values.isna().any():
            raise ValueError(f"{p}{table}.{name} has {int(values.isna().sum())} missing values; "
                             "fill them (False?) or drop those rows.")
        return
    if pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_float_dtype(dtype):
        arr = values.to_numpy(dtype="float64", na_value=np.nan)
        if np.isin(arr, (0.0, 1.0)).all():
            return
        raise ValueError(f"{p}{table}.{name} must be boolean (True/False or 0/1), got other values "
                         f"{sorted(set(arr[~np.isin(arr, (0.0, 1.0))].tolist()))[:5]}; fix those rows.")
    if pd.api.types.is_object_dtype(dtype) and values.map(lambda v: isinstance(v, bool | np.bool_)).all():
        return
    sample = list(pd.unique(values.dropna().astype(str)))[:4]
    raise ValueError(f"{p}{table}.{name} must be boolean, got dtype {dtype} (e.g. {sample}); text "
                     f"such as 'yes'/'no' is not a boolean -- convert it explicitly, e.g. "
                     f"{table}['{name}'] = {table}['{name}'].map({{'yes': True, 'no': False}}).")


def _check_unique(frame: pd.DataFrame, table: str, key: list[str], func: str | None) -> None:
    if len(frame) < 2:
        return
    if len(key) == 1:
        arr = frame[key[0]].to_numpy()
        if arr.dtype.kind in "iu" and bool((np.diff(arr) > 0).all()):
            return  # sorted and strictly increasing: unique, in one pass
        dup = frame[key[0]].duplicated(keep=False).to_numpy()
    else:
        dup = frame.duplicated(subset=key, keep=False).to_numpy()
    if not dup.any():
        return
    repeated = frame.loc[dup, key].drop_duplicates()
    n_rows = int(dup.sum())
    n_extra = n_rows - len(repeated)
    example = repeated.head(3).to_dict("records")
    what = "duplicated ids" if len(key) == 1 else "duplicated keys"
    raise ValueError(
        f"{_prefix(func)}{table}: {n_extra} extra row(s) with duplicated ids in key {key} "
        f"({len(repeated)} key value(s) appear more than once, e.g. {example}); each must "
        f"appear once or it is counted twice -- find where the copies came from (a join? a "
        f"double export?) and drop them, e.g. {table}.drop_duplicates(subset={key})."
        .replace("duplicated ids", what))


def check_lengths(func: str, **arrays: Any) -> None:
    """ValueError unless every array has the same length (no silent broadcasting)."""
    sizes = {name: int(np.size(a)) for name, a in arrays.items()}
    if len(set(sizes.values())) > 1:
        shown = ", ".join(f"{k} has {v}" for k, v in sizes.items())
        raise ValueError(f"{func}: the arrays must have the same length ({shown}); pass one value "
                         "per row, e.g. two columns of the same table.")


def check_number(
    value: object, name: str, *, func: str, low: float | None = None, high: float | None = None,
    low_open: bool = False, integer: bool = False, example: str = "",
) -> float:
    """A numeric parameter within [low, high] (``low_open``: strictly above ``low``); a
    ValueError naming the parameter, the allowed range and an example otherwise."""
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    num = float(value) if ok else float("nan")  # type: ignore[arg-type]
    if ok and integer and num != round(num):
        ok = False
    if ok and np.isfinite(num):
        ok = (low is None or (num > low if low_open else num >= low)) and (high is None or num <= high)
    else:
        ok = False
    if not ok:
        lo = "" if low is None else (f"> {low:g}" if low_open else f">= {low:g}")
        hi = "" if high is None else f"<= {high:g}"
        rng = " and ".join(x for x in (lo, hi) if x) or "finite"
        kind = "an integer" if integer else "a number"
        raise ValueError(f"{func}: {name}={value!r} must be {kind} {rng}"
                         f"{', e.g. ' + example if example else ''}.")
    return num


def out_folder(out: str | os.PathLike, option: str = "--out") -> Path:
    """``out`` if it is a folder or can become one; a ValueError naming the option otherwise.

    Parameters
    ----------
    out : str or os.PathLike
        The output folder a command was given (created later if missing).
    option : str, default "--out"
        The command-line option that gave it, named in the error.

    Returns
    -------
    Path
        ``out`` as a path.
    """
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{option} {path} is a file, not a folder; pass a folder path (it is "
                         "created if missing), e.g. {option} build".replace("{option}", option))
    for parent in path.resolve().parents:
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(f"{option} {path}: {parent} is a file, not a folder; pass a path "
                                 "under a folder")
            break
    return path
