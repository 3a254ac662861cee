"""RFM on an engine: :func:`crmlab.rfm.rfm_table` as one ``GROUP BY customer``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlab.scale.checks import (
    _day_to_ts,
    _fail_count,
    _int,
    _require,
    _require_datetime,
    _require_numeric,
)
from crmlab.scale.engines import _Dialect, _DuckRunner, _Runner, _session, _to_pandas
from crmlab.scale.sources import _check_source, _resolve_engine


# Long function: most of it is the docstring; the body is 40 lines: one GROUP BY
# whose input checks ride along as a flag, read by _rfm_from_groups.
def rfm_table(orders: object, snapshot: Any = None, *, engine: str | None = None, con: Any = None,
              customer_col: str = "customer_id", date_col: str = "order_ts",
              amount_col: str = "amount", order_col: str | None = None) -> pd.DataFrame:
    """:func:`crmlab.rfm.rfm_table` on an engine: recency, frequency, monetary, tenure.

    One ``GROUP BY customer`` over the order log (with ``order_col``: frequency counts
    distinct orders, for line-level exports). The input checks ride along as aggregates of
    the same query: rows with a missing date or amount, the smallest amount, a non-finite
    sum, a NULL customer group. Recency and tenure are computed from the first and last
    order dates on the summary, so the default snapshot (the day after the last order) costs
    no second pass. Returns the in-memory helper's frame and ``attrs``.

    Parameters
    ----------
    orders : source
        The order log (a Parquet path or glob, a DuckDB relation, a Spark or pandas frame).
    snapshot : date-like, optional
        The day the analysis is made (default: the day after the last order).
    engine : {"duckdb", "spark", "pandas"}, optional
        Where to aggregate (default: Spark for a Spark frame, else DuckDB).
    con : duckdb connection, optional
        The DuckDB connection to run on.
    customer_col, date_col, amount_col, order_col : str
        As in :func:`crmlab.rfm.rfm_table`.

    Returns
    -------
    pd.DataFrame
        :func:`crmlab.rfm.rfm_table`'s table and ``attrs``.
    """
    func = "scale.rfm_table"
    _check_source(orders, "orders")
    engine = _resolve_engine([orders], engine, func)
    if engine == "pandas":
        from crmlab import rfm

        return rfm.rfm_table(_to_pandas(orders, "orders"), snapshot, customer_col=customer_col,
                             date_col=date_col, amount_col=amount_col, order_col=order_col)
    needed = {customer_col: "customer_col", date_col: "date_col", amount_col: "amount_col"}
    if order_col is not None:
        needed[order_col] = "order_col"
    with _session(engine, con, {"orders": (orders, "orders")}) as (run, names, schemas):
        schema = schemas["orders"]
        _require(schema, "orders", func, needed)
        _require_datetime(schema, "orders", date_col, func)
        _require_numeric(schema, "orders", amount_col, func)
        d = run.dialect
        c, t, a = d.q(customer_col), d.q(date_col), d.q(amount_col)
        count = f"count(DISTINCT {d.q(order_col)})" if order_col else "count(*)"
        footer = (run.footer_profile(names["orders"], [date_col, customer_col, amount_col],
                                     [schema[date_col], schema[customer_col], schema[amount_col]])
                  if isinstance(run, _DuckRunner) else None)
        if footer is not None:
            return _rfm_by_footer(run, names["orders"], footer, snapshot, c, t, a, count, d,
                                  customer_col, date_col, amount_col, func)
        # one row per customer, as narrow as it can be (at 30 million customers every column
        # costs 120-240 MB in pandas): the input checks ride along as a 1-byte flag
        sql = f"""
            SELECT customer, n, monetary, CAST({d.day('first_ts')} AS INTEGER) AS first_day,
                   CAST({d.day('last_ts')} AS INTEGER) AS last_day, CAST(flags AS TINYINT) AS flags
            FROM (SELECT {c} AS customer, {count} AS n, sum(CAST({a} AS DOUBLE)) AS monetary,
                         min({t}) AS first_ts, max({t}) AS last_ts,
                         CASE WHEN count({t}) < count(*) THEN 1 ELSE 0 END
                         + CASE WHEN count({a}) < count(*) THEN 2 ELSE 0 END
                         + CASE WHEN min({a}) < 0 THEN 4 ELSE 0 END
                         + CASE WHEN {c} IS NULL THEN 8 ELSE 0 END AS flags
                  FROM {names['orders']} GROUP BY {c}) AS g
            ORDER BY customer NULLS LAST"""
        g = run.run(sql)
        if len(g) == 0:
            raise ValueError(f"{func}: the orders table is empty; there is nobody to score.")
        if g["flags"].to_numpy().any():
            _rfm_input_errors(run, names["orders"], customer_col, date_col, amount_col, func)
    return _rfm_from_groups(g, snapshot, customer_col, date_col, amount_col, func)


def _rfm_by_footer(run: _Runner, table: str, footer: pd.Series, snapshot: Any, c: str, t: str,
                   a: str, count: str, d: _Dialect, customer_col: str, date_col: str,
                   amount_col: str, func: str) -> pd.DataFrame:
    """Parquet with exact footer statistics: nulls, negative amounts and the first and last
    order day are known without reading the data, so the snapshot is fixed before the query
    and the engine returns the final columns (no check columns, no copies in pandas)."""
    from crmlab import rfm

    if _int(footer["n"]) == 0:
        raise ValueError(f"{func}: the orders table is empty; there is nobody to score.")
    if (_int(footer["n"]) > min(_int(footer["n_0"]), _int(footer["n_1"]), _int(footer["n_2"]))
            or (footer.get("min_2") is not None and footer["min_2"] < 0)):
        _rfm_input_errors(run, table, customer_col, date_col, amount_col, func)
    first_day = int(np.datetime64(pd.Timestamp(footer["lo"]).date(), "D").astype(np.int64))
    last_day = int(np.datetime64(pd.Timestamp(footer["hi"]).date(), "D").astype(np.int64))
    snap = last_day + 1 if snapshot is None else rfm.snapshot_day(snapshot, "rfm_table")
    rfm.check_snapshot(snap, first_day, last_day, "orders", date_col, func)
    g = run.run(f"""
        SELECT {c} AS customer, CAST({snap} - {d.day(f'max({t})')} AS BIGINT) AS recency,
               CAST({count} AS BIGINT) AS frequency, sum(CAST({a} AS DOUBLE)) AS monetary,
               CAST({snap} - {d.day(f'min({t})')} AS BIGINT) AS tenure
        FROM {table} GROUP BY {c} ORDER BY customer""")
    money = g["monetary"].to_numpy()
    _fail_count(int((~np.isfinite(money)).sum()),
                f"{func}: orders.{amount_col} has NaN or infinite amounts ({{n}} customers "
                "affected); fill or drop those rows first (and report how many).")
    if not (pd.api.types.is_integer_dtype(g["customer"]) and g["customer"].dtype == np.int64):
        g["customer"] = _ids(g["customer"])
    out = g.rename(columns={"customer": customer_col})
    out.attrs["snapshot"] = str(_day_to_ts(snap).date())
    out.attrs["monetary_basis"] = f"gross paid amount (orders.{amount_col}), returns not deducted"
    return out


def _rfm_input_errors(run: _Runner, table: str, customer_col: str, date_col: str,
                      amount_col: str, func: str) -> None:
    """The error path: count the offending rows exactly (one more scan) and raise."""
    d = run.dialect
    c, t, a = d.q(customer_col), d.q(date_col), d.q(amount_col)
    bad = run.run(f"SELECT count(*) - count({c}) AS ids, count(*) - count({t}) AS dates, "
                  f"count(*) - count({a}) AS amounts, count(CASE WHEN {a} < 0 THEN 1 END) AS neg "
                  f"FROM {table}").iloc[0]
    _fail_count(_int(bad["ids"]),
                f"{func}: orders.{customer_col} has {{n}} missing customer ids; drop the anonymous "
                "orders first (they cannot be scored) and report how many.")
    _fail_count(_int(bad["dates"]),
                f"{func}: orders.{date_col} has {{n}} missing dates; drop or fix those rows "
                f"first, e.g. WHERE {date_col} IS NOT NULL (and report how many).")
    _fail_count(_int(bad["amounts"]),
                f"{func}: orders.{amount_col} has {{n}} missing amounts; fill or drop those rows "
                "first (and report how many).")
    _fail_count(_int(bad["neg"]),
                f"{func}: orders.{amount_col} has {{n}} negative amounts (refunds or "
                "cancellations?); keep only orders (WHERE amount >= 0) and deduct refunds "
                "separately.")


def _rfm_from_groups(g: pd.DataFrame, snapshot: Any, customer_col: str, date_col: str,
                     amount_col: str, func: str) -> pd.DataFrame:
    """The snapshot checks and the RFM columns from the per-customer aggregates."""
    from crmlab import rfm

    money = g["monetary"].to_numpy(dtype="float64")
    _fail_count(int((~np.isfinite(money)).sum()),
                f"{func}: orders.{amount_col} has NaN or infinite amounts ({{n}} customers "
                "affected); fill or drop those rows first (and report how many).")
    first = g["first_day"].to_numpy(dtype=np.int64)
    last = g["last_day"].to_numpy(dtype=np.int64)
    first_day, last_day = int(first.min()), int(last.max())
    snap = last_day + 1 if snapshot is None else rfm.snapshot_day(snapshot, "rfm_table")
    rfm.check_snapshot(snap, first_day, last_day, "orders", date_col, func)
    out = pd.DataFrame({
        customer_col: _ids(g["customer"]),
        "recency": snap - last,
        "frequency": g["n"].to_numpy(dtype=np.int64),
        "monetary": money,
        "tenure": snap - first,
    })
    out.attrs["snapshot"] = str(_day_to_ts(snap).date())
    out.attrs["monetary_basis"] = f"gross paid amount (orders.{amount_col}), returns not deducted"
    return out


def _ids(values: pd.Series) -> Any:
    """Customer ids as int64 when they are integers, else strings (as the helpers keep them)."""
    if pd.api.types.is_integer_dtype(values) or pd.api.types.is_float_dtype(values):
        return values.to_numpy(dtype=np.int64)
    return values.astype("str").to_numpy()
