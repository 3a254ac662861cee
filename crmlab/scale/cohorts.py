"""Cohort tables on an engine: :func:`crmlab.journey.cohort_table`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlab.scale.checks import (
    _check_profile,
    _fail_count,
    _int,
    _profile,
    _require,
    _require_datetime,
)
from crmlab.scale.engines import _session, _to_pandas
from crmlab.scale.sources import _check_source, _resolve_engine


# Long function: most of it is the docstring; the body is 35 lines, the checks and
# the SQL in _check_customers and _active_sql.
def cohort_table(customers: object, activity: object, *, customer_col: str = "customer_id",
                 signup_col: str | None = "signup_ts", ts_col: str = "order_ts",
                 end: Any = None, engine: str | None = None, con: Any = None) -> pd.DataFrame:
    """:func:`crmlab.journey.cohort_table` on an engine: monthly cohorts and who came back.

    The engine computes each customer's cohort month, the distinct (customer, activity
    month) pairs, and from their join the number active per (cohort, period); rows of
    unknown customers and rows before the signup month are counted in the same query (and
    raise, as the helper does). The grid of periods is laid out on the small result.

    Parameters
    ----------
    customers : source
        The customers table (a Parquet path or glob, a DuckDB relation, a Spark or pandas
        frame), with ``customer_col`` and ``signup_col``.
    activity : source
        The activity log (e.g. orders) with ``customer_col`` and ``ts_col``.
    customer_col, signup_col, ts_col : str
        Column names (``signup_col=None``: the cohort is the first active month).
    end : date-like, optional
        Last month of the grid (default: the last activity).
    engine : {"duckdb", "spark", "pandas"}, optional
        Where to aggregate (default: Spark for Spark frames, else DuckDB).
    con : duckdb connection, optional
        The DuckDB connection to run on.

    Returns
    -------
    pd.DataFrame
        :func:`crmlab.journey.cohort_table`'s table.
    """
    func = "scale.cohort_table"
    for obj, table in ((customers, "customers"), (activity, "activity")):
        _check_source(obj, table)
    engine = _resolve_engine([customers, activity], engine, func)
    if engine == "pandas":
        from crmlab import journey

        return journey.cohort_table(_to_pandas(customers, "customers"),
                                    _to_pandas(activity, "activity"), customer_col=customer_col,
                                    signup_col=signup_col, ts_col=ts_col, end=end)
    sources = {"cust": (customers, "customers"), "act": (activity, "activity")}
    with _session(engine, con, sources) as (run, names, schemas):
        need_c = {customer_col: "customer_col", **({signup_col: "signup_col"} if signup_col
                                                   else {})}
        _require(schemas["cust"], "customers", func, need_c)
        _require(schemas["act"], "activity", func, {customer_col: "customer_col",
                                                    ts_col: "ts_col"})
        _require_datetime(schemas["act"], "activity", ts_col, func)
        if signup_col:
            _require_datetime(schemas["cust"], "customers", signup_col, func)
        d = run.dialect
        c = d.q(customer_col)
        prof = _profile(run, names["act"], [ts_col, customer_col])
        _check_profile(prof, "activity", [ts_col, customer_col], func, ["timestamps", "values"])
        _check_customers(run, names["cust"], customer_col, signup_col, func)
        cohort_of = (f"SELECT {c} AS customer, {d.month(d.q(signup_col))} AS cohort "
                     f"FROM {names['cust']}" if signup_col else
                     "SELECT customer, min(m) AS cohort FROM a GROUP BY customer")
        sql = _active_sql(d, names["act"], names["cust"], c, ts_col, cohort_of)
        active = run.run(sql)
        sizes = run.run(f"WITH a AS (SELECT DISTINCT {c} AS customer, "
                        f"{d.month(d.q(ts_col))} AS m FROM {names['act']}), co AS "
                        f"({cohort_of}) SELECT cohort, count(*) AS size FROM co "
                        "WHERE cohort IS NOT NULL GROUP BY cohort")
        end_month = (int(_month_of(pd.Timestamp(prof["hi"]))) if end is None else
                     int(_month_of(_as_ts(end, "end", func))))
    return _cohort_grid(active, sizes, end_month, customer_col, signup_col, ts_col, func)


def _check_customers(run: Any, table: str, customer_col: str, signup_col: str | None,
                     func: str) -> None:
    """The customers table's ids present and unique and its signup times present (one
    count query), as the in-memory helper requires."""
    d = run.dialect
    c = d.q(customer_col)
    cprof = run.run(
        f"SELECT count(*) AS n, count({c}) AS n_ids, count(DISTINCT {c}) AS n_distinct"
        + (f", count({d.q(signup_col)}) AS n_signup" if signup_col else "")
        + f" FROM {table}").iloc[0]
    _fail_count(_int(cprof["n"]) - _int(cprof["n_ids"]),
                f"{func}: customers: column '{customer_col}' has {{n}} missing values; fill "
                "or drop those rows first (and count what you drop).")
    _fail_count(_int(cprof["n_ids"]) - _int(cprof["n_distinct"]),
                f"{func}: customers: column '{customer_col}' has {{n}} duplicated ids; keep "
                "one row per customer.")
    if signup_col:
        _fail_count(_int(cprof["n"]) - _int(cprof["n_signup"]),
                    f"{func}: customers: column '{signup_col}' has {{n}} missing timestamps; "
                    "every row needs one. Drop them and count them first.")


def _active_sql(d: Any, act: str, cust: str, c: str, ts_col: str, cohort_of: str) -> str:
    """Customers active per (cohort, period), split by whether the customer is known, with
    the activity rows behind them (unknown ones raise later, as in the helper)."""
    return f"""
            WITH a AS (SELECT {c} AS customer, {d.month(d.q(ts_col))} AS m, count(*) AS n_rows
                       FROM {act} GROUP BY {c}, {d.month(d.q(ts_col))}),
                 k AS (SELECT {c} AS customer FROM {cust}),
                 co AS ({cohort_of})
            SELECT co.cohort AS cohort, a.m - co.cohort AS period,
                   (k.customer IS NULL) AS unknown, count(*) AS active,
                   sum(a.n_rows) AS n_rows
            FROM a LEFT JOIN k ON a.customer = k.customer
                   LEFT JOIN co ON a.customer = co.customer
            GROUP BY co.cohort, a.m - co.cohort, (k.customer IS NULL)"""


def _month_of(ts: pd.Timestamp) -> int:
    """Months since 1970-01 of a timestamp."""
    return (ts.year - 1970) * 12 + ts.month - 1


def _as_ts(value: Any, name: str, func: str) -> pd.Timestamp:
    from crmlab._checks import as_timestamp

    return as_timestamp(value, name, func=func)


def _cohort_grid(active: pd.DataFrame, sizes: pd.DataFrame, end_month: int, customer_col: str,
                 signup_col: str | None, ts_col: str, func: str) -> pd.DataFrame:
    unknown = active["unknown"].astype(bool)
    _fail_count(active.loc[unknown, "n_rows"].sum(),
                f"{func}: activity: {{n}} rows belong to customers not in the customers table "
                f"(column '{customer_col}'); filter activity to known customers first.")
    known = active.loc[~unknown]
    _fail_count(known.loc[known["period"] < 0, "n_rows"].sum(),
                f"{func}: activity: {{n}} rows in '{ts_col}' fall before the customer's signup "
                f"month ('{signup_col}'); fix the dates or use signup_col=None for "
                "first-activity cohorts.")
    sizes = sizes.assign(cohort=sizes["cohort"].astype(np.int64)).sort_values("cohort")
    sizes = sizes[sizes["cohort"] <= end_month]
    rows = [pd.DataFrame({"cohort": int(co), "period": np.arange(end_month - int(co) + 1),
                          "cohort_size": int(n)})
            for co, n in zip(sizes["cohort"], sizes["size"], strict=True)]
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        {"cohort": pd.Series(dtype="int64"), "period": pd.Series(dtype="int64"),
         "cohort_size": pd.Series(dtype="int64")})
    counts = known.groupby([known["cohort"].astype(np.int64),
                            known["period"].astype(np.int64)])["active"].sum()
    key = pd.MultiIndex.from_frame(out[["cohort", "period"]])
    out["active"] = counts.reindex(key, fill_value=0).to_numpy(dtype="int64")
    out["retention"] = out["active"] / out["cohort_size"]
    out["cohort"] = out["cohort"].to_numpy().astype("datetime64[M]").astype("datetime64[ns]")
    out["period"] = out["period"].astype("int64")
    return out
