"""Check a shop (or one table) against the contract in :mod:`crmlab.data.schema`.

Every problem found is reported in one ``ValueError`` that names the table, the column,
a few offending row labels and the fix, so a broken export is repaired in one pass.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .schema import TABLES, Column, Table


def _rows(mask: pd.Series | np.ndarray, index: pd.Index, limit: int = 5) -> str:
    labels = list(index[np.asarray(mask, dtype=bool)][:limit])
    return ", ".join(str(x) for x in labels)


def _kind_ok(series: pd.Series, kind: str) -> bool:
    dtype = series.dtype
    if kind in ("int", "Int"):
        return pd.api.types.is_integer_dtype(dtype)
    if kind == "float":
        return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    if kind == "bool":
        return pd.api.types.is_bool_dtype(dtype)
    if kind == "datetime":
        return pd.api.types.is_datetime64_any_dtype(dtype)
    if kind in ("category", "str"):
        return isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype) or dtype is np.dtype(object)
    raise ValueError(f"unknown column kind {kind!r}")


FIX_BY_KIND = {
    "int": "convert with df[col].astype('int64') after removing missing values",
    "Int": "convert with df[col].astype('Int64')",
    "float": "convert with pd.to_numeric(df[col])",
    "bool": "convert with df[col].astype(bool)",
    "datetime": "convert with pd.to_datetime(df[col])",
    "category": "convert with df[col].astype('category')",
    "str": "convert with df[col].astype('str')",
}


def _check_column(table: Table, col: Column, series: pd.Series, problems: list[str]) -> None:
    where = f"table {table.name!r}, column {col.name!r}"
    if not _kind_ok(series, col.kind):
        problems.append(f"{where}: dtype {series.dtype} is not {col.kind}; fix: {FIX_BY_KIND[col.kind]}.")
        return
    missing = series.isna().to_numpy()
    if not col.nullable and missing.any():
        problems.append(
            f"{where}: {int(missing.sum())} missing value(s) in a required column (rows {_rows(missing, series.index)}); "
            f"fix: fill or remove those rows."
        )
    present = series[~missing]
    if col.kind in ("int", "Int", "float") and len(present):
        values = present.to_numpy(dtype=float)
        if col.min is not None and (values < col.min).any():
            bad = np.zeros(len(series), bool)
            bad[np.flatnonzero(~missing)[values < col.min]] = True
            problems.append(f"{where}: {int(bad.sum())} value(s) below the minimum {col.min} "
                            f"(rows {_rows(bad, series.index)}); fix: correct or remove them.")
        if col.max is not None and (values > col.max).any():
            bad = np.zeros(len(series), bool)
            bad[np.flatnonzero(~missing)[values > col.max]] = True
            problems.append(f"{where}: {int(bad.sum())} value(s) above the maximum {col.max} "
                            f"(rows {_rows(bad, series.index)}); fix: correct or remove them.")
    if col.values is not None and len(present):
        known = pd.Index(col.values)
        observed = pd.Index(pd.unique(present.astype(str)))
        unknown = observed.difference(known)
        if len(unknown):
            bad = ~missing & ~series.astype(str).isin(known).to_numpy()
            problems.append(f"{where}: unknown value(s) {list(unknown[:5])} (rows {_rows(bad, series.index)}); "
                            f"allowed: {list(col.values)}.")


def validate_table(df: pd.DataFrame, name: str) -> list[str]:
    """Problems of one table as messages (empty list when it conforms)."""
    if name not in TABLES:
        raise ValueError(f"validate(): unknown table {name!r}; known tables: {list(TABLES)}.")
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"validate(): table {name!r} must be a pandas DataFrame, got {type(df).__name__}.")
    table = TABLES[name]
    problems: list[str] = []
    missing_cols = [c for c in table.column_names if c not in df.columns]
    if missing_cols:
        problems.append(f"table {name!r}: missing column(s) {missing_cols}; fix: add them (see datasets/README.md).")
    for col in table.columns:
        if col.name in df.columns:
            _check_column(table, col, df[col.name], problems)
    if table.key is not None and not missing_cols:
        key = [table.key] if isinstance(table.key, str) else list(table.key)
        dup = df.duplicated(subset=key, keep=False).to_numpy()
        if dup.any():
            problems.append(f"table {name!r}, column(s) {key}: {int(dup.sum())} rows share a primary key "
                            f"(rows {_rows(dup, df.index)}); fix: drop duplicates or renumber.")
    return problems


def missing_references(tables: dict[str, Any]) -> list[str]:
    """Problems for tables that other tables reference but the shop lacks.

    A ``returns`` table whose ``order_id`` points at orders, in a shop without ``orders``, is
    not a smaller shop but a broken one: every join on it silently finds nothing.
    """
    problems = []
    for name, table in TABLES.items():
        if name not in tables:
            continue
        for col, target in table.foreign.items():
            t_name = target.split(".")[0]
            if t_name in tables or col not in tables[name].columns:
                continue
            if tables[name][col].notna().any():
                problems.append(f"table {name!r}, column {col!r} references {target}, but the shop has "
                                f"no {t_name!r} table; fix: add {t_name}.parquet (or the {t_name} "
                                f"table) or drop the tables that reference it.")
    return problems


def _check_foreign_keys(tables: dict[str, pd.DataFrame], problems: list[str]) -> None:
    for name, table in TABLES.items():
        if name not in tables:
            continue
        df = tables[name]
        for col, target in table.foreign.items():
            t_name, t_col = target.split(".")
            if col not in df.columns or t_name not in tables or t_col not in tables[t_name].columns:
                continue
            values = df[col]
            present = values.notna().to_numpy()
            ok = values.isin(tables[t_name][t_col]).to_numpy()
            bad = present & ~ok
            if bad.any():
                sample = list(pd.unique(values[bad])[:5])
                problems.append(
                    f"table {name!r}, column {col!r}: {int(bad.sum())} value(s) {sample} not found in "
                    f"{t_name}.{t_col} (rows {_rows(bad, df.index)}); fix: add the missing {t_name} rows "
                    f"or remove these references."
                )


def _check_relations(tables: dict[str, pd.DataFrame], problems: list[str]) -> None:
    """Cross-table rules a real shop obeys (time order, amounts)."""
    if {"orders", "order_items"} <= tables.keys():
        o, li = tables["orders"], tables["order_items"]
        if {"order_id", "amount"} <= set(o.columns) and {"order_id", "line_amount"} <= set(li.columns):
            sums = li.groupby("order_id")["line_amount"].sum()
            diff = (o.set_index("order_id")["amount"] - sums.reindex(o["order_id"]).fillna(0).to_numpy()).abs()
            bad = (diff > 0.02).to_numpy()
            if bad.any():
                problems.append(f"table 'orders', column 'amount': {int(bad.sum())} order(s) whose amount differs "
                                f"from the sum of their order_items.line_amount (order_id "
                                f"{_rows(bad, diff.index)}); fix: recompute amount from the lines.")
    if {"returns", "orders"} <= tables.keys():
        r, o = tables["returns"], tables["orders"]
        if {"order_id", "requested_ts"} <= set(r.columns) and {"order_id", "order_ts"} <= set(o.columns):
            ots = r["order_id"].map(o.set_index("order_id")["order_ts"])
            bad = (r["requested_ts"] < ots).to_numpy()
            if bad.any():
                problems.append(f"table 'returns', column 'requested_ts': {int(bad.sum())} return(s) dated before "
                                f"their order (rows {_rows(bad, r.index)}); fix: correct the dates.")
    if "tickets" in tables:
        t = tables["tickets"]
        for col in ("first_response_ts", "resolved_ts"):
            if {col, "created_ts"} <= set(t.columns):
                bad = (t[col] < t["created_ts"]).fillna(False).to_numpy()
                if bad.any():
                    problems.append(f"table 'tickets', column {col!r}: {int(bad.sum())} ticket(s) earlier than "
                                    f"created_ts (rows {_rows(bad, t.index)}); fix: correct the timestamps.")


def validate(obj: Any, name: str | None = None) -> None:
    """Validate a ``Shop`` (every table, foreign keys, cross-table rules) or one table.

    Raises ``ValueError`` listing every problem; returns ``None`` when all is well.

    Parameters
    ----------
    obj : Shop or pd.DataFrame
        A shop (every table checked, then foreign keys and cross-table rules) or one table.
    name : str, optional
        The table's name when ``obj`` is a DataFrame (e.g. ``"orders"``).
    """
    problems: list[str] = []
    if isinstance(obj, pd.DataFrame):
        if name is None:
            raise ValueError("validate(): pass the table name, e.g. validate(df, 'orders').")
        problems = validate_table(obj, name)
    elif hasattr(obj, "tables") and isinstance(obj.tables, dict):
        tables = obj.tables
        for t_name, df in tables.items():
            if t_name in TABLES:
                problems += validate_table(df, t_name)
        problems += missing_references(tables)
        if not problems:
            _check_foreign_keys(tables, problems)
            _check_relations(tables, problems)
    else:
        raise ValueError(f"validate(): expected a Shop or a DataFrame, got {type(obj).__name__}.")
    if problems:
        raise ValueError("validation failed:\n- " + "\n- ".join(problems))
