"""The BTYD summary on an engine: :func:`crmlab.clv.summarize` and its distinct triples."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlab._checks import as_timestamp
from crmlab.scale.checks import (
    _check_profile,
    _int,
    _profile,
    _require,
    _require_datetime,
    _require_numeric,
)
from crmlab.scale.engines import _Dialect, _session, _to_pandas
from crmlab.scale.rfm import _ids
from crmlab.scale.sources import _check_source, _resolve_engine

_BTYD_FREQS = ("D", "W", "h", "M")


def _period_expr(d: _Dialect, col: str, freq: str) -> str:
    return {"D": d.day, "W": d.week, "h": d.hour, "M": d.month}[freq](col)


def _next_period_start(ts: pd.Timestamp, freq: str) -> pd.Timestamp:
    """The first instant after the period of ``freq`` that holds ``ts``."""
    alias = {"D": "D", "W": "W-SUN", "h": "h", "M": "M"}[freq]
    return (pd.Period(ts, freq=alias) + 1).start_time


# Long function: most of it is the docstring (the two queries, the triples option,
# parameters); the body is 35 lines, checks and periods in helpers.
def btyd_summary(transactions: object, customer_col: str = "customer_id",
                 date_col: str = "order_ts", amount_col: str | None = "amount",
                 freq: str = "W", calibration_end: Any = None, observation_end: Any = None,
                 freq_multiplier: float = 1, *, engine: str | None = None,
                 con: Any = None, triples: bool = False) -> pd.DataFrame:
    """:func:`crmlab.clv.summarize` on an engine (same arguments, same output).

    ``triples=True`` returns :func:`btyd_triples` of that summary instead, grouped in the
    engine (one more ``GROUP BY`` over the per-customer rows, which never reach pandas): the
    distinct (frequency, recency, T) rows (``_cal`` names with a holdout) with ``weight``, the
    number of customers, and with a holdout ``frequency_holdout``, their holdout purchases
    summed. This is the table to fit BG/NBD or Pareto/NBD on for tens of millions of
    customers: ``BetaGeoModel().fit(t, weights="weight")``.

    Two queries: a profile (row and null counts, the first and last timestamp, which fixes
    ``observation_end`` when it is not given) and one aggregation: purchases merged per
    (customer, period), then per customer the calibration part (first and last period,
    number of periods, spend, spend of the first period) and the holdout part as
    conditional aggregates of the same ``GROUP BY``. ``freq`` is one of ``"D"``, ``"W"``
    (Monday..Sunday), ``"h"``, ``"M"`` in the engines; any pandas alias with
    ``engine="pandas"``.

    Parameters
    ----------
    transactions : source
        The order log: a Parquet path or glob, a DuckDB relation, a Spark or pandas frame.
    customer_col, date_col, amount_col, freq, calibration_end, observation_end, freq_multiplier
        As in :func:`crmlab.clv.summarize`.
    engine : {"duckdb", "spark", "pandas"}, optional
        Where to aggregate (default: Spark for a Spark frame, else DuckDB).
    con : duckdb connection, optional
        The DuckDB connection to run on.
    triples : bool, default False
        Return the distinct triples with their ``weight`` instead of one row per customer.

    Returns
    -------
    pd.DataFrame
        The :func:`crmlab.clv.summarize` table (or :func:`btyd_triples` of it).
    """
    from crmlab import clv

    func = "scale.btyd_summary"
    _check_source(transactions, "transactions")
    engine = _resolve_engine([transactions], engine, func)
    if engine == "pandas":
        summary = clv.summarize(_to_pandas(transactions, "transactions"), customer_col,
                                date_col, amount_col, freq, calibration_end, observation_end,
                                freq_multiplier)
        return btyd_triples(summary) if triples else summary
    if freq not in _BTYD_FREQS:
        raise ValueError(f"{func}: freq={freq!r} is not available in the engines; use one of "
                         f"{list(_BTYD_FREQS)} (or engine='pandas' for other pandas periods).")
    if not np.isfinite(freq_multiplier) or freq_multiplier <= 0:
        raise ValueError(f"{func}: freq_multiplier={freq_multiplier!r} must be a positive "
                         "number, e.g. 7.")
    needed = {customer_col: "customer_col", date_col: "date_col"}
    if amount_col:
        needed[amount_col] = "amount_col"
    with _session(engine, con, {"tx": (transactions, "transactions")}) as (run, names, schemas):
        prof = _checked_profile(run, names["tx"], schemas["tx"], customer_col, date_col,
                                amount_col, needed, func)
        last_ts = pd.Timestamp(prof["hi"])
        cal, cut_period, end_period = _cut_periods(pd.Timestamp(prof["lo"]), last_ts,
                                                   calibration_end, observation_end, freq,
                                                   date_col, func)
        end = last_ts if observation_end is None else as_timestamp(observation_end, "observation_end")
        sql = _btyd_sql(run.dialect, names["tx"], customer_col, date_col,
                        None if triples else amount_col, freq, cut_period, end, last_ts,
                        cal is not None)
        if triples:
            return _triples_frame(run.run(_triples_sql(sql, cut_period,
                                                       float(freq_multiplier),
                                                       cal is not None)), cal is not None)
        g = run.run(_btyd_final_sql(sql, cut_period, float(freq_multiplier),
                                    amount_col is not None, cal is not None),
                    max_rows=_int(prof["n"]))  # at most one customer per order
    return _btyd_frame(g, customer_col, cal, cut_period, end_period, float(freq_multiplier))


def _checked_profile(run: Any, table: str, schema: dict, customer_col: str, date_col: str,
                     amount_col: str | None, needed: dict, func: str) -> pd.Series:
    """The log's schema checked and its profile (row and null counts, first and last
    timestamp) made and checked: the first of btyd_summary's two queries."""
    _require(schema, "transactions", func, needed)
    _require_datetime(schema, "transactions", date_col, func)
    if amount_col:
        _require_numeric(schema, "transactions", amount_col, func)
    cols = [date_col, customer_col] + ([amount_col] if amount_col else [])
    prof = _profile(run, table, cols, schema)
    _check_profile(prof, "transactions", cols, func,
                   ["dates", "customer ids", "amounts"][:len(cols)])
    return prof


def _cut_periods(first_ts: pd.Timestamp, last_ts: pd.Timestamp, calibration_end: Any,
                 observation_end: Any, freq: str, date_col: str, func: str):
    """(calibration_end or None, cut period, end period), checked as clv.summarize does."""
    from crmlab import clv

    end = last_ts if observation_end is None else as_timestamp(observation_end, "observation_end")
    cal = None if calibration_end is None else as_timestamp(calibration_end, "calibration_end")
    if cal is not None and cal >= end:
        raise ValueError(
            f"{func}: calibration_end ({cal}) must be before observation_end ({end}); the "
            "holdout period lies between them.")
    cut = end if cal is None else cal
    cut_period, end_period = (int(v) for v in clv.period_ordinals(pd.Series([cut, end]), freq))
    first_period = int(clv.period_ordinals(pd.Series([first_ts]), freq)[0])
    if first_period > cut_period:
        raise ValueError(
            f"{func}: transactions: every order in '{date_col}' is after "
            f"{'calibration_end' if cal is not None else 'observation_end'} ({cut}); there "
            "is nothing to summarize — move the date later.")
    return cal, cut_period, end_period


def _btyd_sql(d: _Dialect, table: str, customer_col: str, date_col: str,
              amount_col: str | None, freq: str, cut_period: int, end: pd.Timestamp,
              last_ts: pd.Timestamp, holdout: bool) -> str:
    c, t = d.q(customer_col), d.q(date_col)
    per = _period_expr(d, t, freq)
    spend = f", sum(CAST({d.q(amount_col)} AS DOUBLE)) AS spend" if amount_col else ""
    stop = _next_period_start(end, freq)
    where = "" if stop > last_ts else f"WHERE {t} < {d.ts(stop)}"
    cal = f"per <= {cut_period}"
    hold = f"NOT ({cal})"
    # narrow columns (INTEGER periods, no holdout columns without a holdout): at 30 million
    # customers each column is 120-240 MB in pandas
    parts = ["CAST(min(per) AS INTEGER) AS first_per",
             f"CAST(max(CASE WHEN {cal} THEN per END) AS INTEGER) AS last_per",
             f"CAST(count(CASE WHEN {cal} THEN 1 END) AS INTEGER) AS n_per"]
    if amount_col:
        parts += [f"sum(CASE WHEN {cal} THEN spend END) AS total",
                  "min_by(spend, per) AS first_spend"]
    if holdout:
        parts.append(f"CAST(count(CASE WHEN {hold} THEN 1 END) AS INTEGER) AS h_per")
        if amount_col:
            parts.append(f"sum(CASE WHEN {hold} THEN spend END) AS h_total")
    return f"""
        WITH p AS (SELECT {c} AS customer, {per} AS per{spend}
                   FROM {table} {where} GROUP BY {c}, {per})
        SELECT customer, {', '.join(parts)}
        FROM p GROUP BY customer HAVING min(per) <= {cut_period}
        ORDER BY customer"""


def _btyd_final_sql(per_customer: str, cut_period: int, mult: float, money: bool,
                    holdout: bool) -> str:
    """The summary's columns computed in the engine (the same IEEE operations as
    ``clv.summarize``), so that pandas receives the final table once and copies nothing."""
    inner = per_customer.replace("ORDER BY customer", "")
    cols = ["CAST(n_per - 1 AS BIGINT) AS frequency",
            f"CAST(last_per - first_per AS DOUBLE) / {mult!r} AS recency",
            f"CAST({cut_period} - first_per AS DOUBLE) / {mult!r} AS T"]
    if money:
        cols.append("CASE WHEN n_per > 1 THEN (total - first_spend) / CAST(n_per - 1 AS DOUBLE) "
                    "ELSE 0.0 END AS monetary_value")
    if holdout:
        cols.append("CAST(h_per AS BIGINT) AS frequency_holdout")
        if money:
            cols.append("CASE WHEN h_per > 0 THEN h_total / CAST(h_per AS DOUBLE) ELSE 0.0 END "
                        "AS monetary_value_holdout")
    return f"SELECT customer, {', '.join(cols)} FROM ({inner}) AS s ORDER BY customer"


def _btyd_frame(g: pd.DataFrame, customer_col: str, cal: pd.Timestamp | None,
                cut_period: int, end_period: int, mult: float) -> pd.DataFrame:
    if not (pd.api.types.is_integer_dtype(g["customer"]) and g["customer"].dtype == np.int64):
        g["customer"] = _ids(g["customer"])
    if cal is None:
        return g.rename(columns={"customer": customer_col})
    names = {"customer": customer_col, "frequency": "frequency_cal", "recency": "recency_cal",
             "T": "T_cal", "monetary_value": "monetary_value_cal"}
    out = g.rename(columns=names)
    out["duration_holdout"] = float(end_period - cut_period) / mult
    return out


def _triples_sql(per_customer: str, cut_period: int, mult: float, holdout: bool) -> str:
    """Group the per-customer summary query into distinct triples (in the engine)."""
    inner = per_customer.replace("ORDER BY customer", "")
    hold = ", sum(h_per) AS frequency_holdout" if holdout else ""
    return f"""
        SELECT frequency, recency, T, count(*) AS weight{hold}
        FROM (SELECT n_per - 1 AS frequency,
                     CAST(last_per - first_per AS DOUBLE) / {mult!r} AS recency,
                     CAST({cut_period} - first_per AS DOUBLE) / {mult!r} AS T{
                     ', h_per' if holdout else ''}
              FROM ({inner}) AS s) AS c
        GROUP BY frequency, recency, T
        ORDER BY frequency, recency, T"""


def _triples_frame(g: pd.DataFrame, holdout: bool) -> pd.DataFrame:
    out = pd.DataFrame({"frequency": g["frequency"].to_numpy(dtype=np.int64),
                        "recency": g["recency"].to_numpy(dtype=float),
                        "T": g["T"].to_numpy(dtype=float),
                        "weight": g["weight"].to_numpy(dtype=np.int64)})
    if holdout:
        out = out.rename(columns={"frequency": "frequency_cal", "recency": "recency_cal",
                                  "T": "T_cal"})
        out["frequency_holdout"] = g["frequency_holdout"].to_numpy(dtype=np.int64)
    return out


def btyd_triples(summary: pd.DataFrame) -> pd.DataFrame:
    """Distinct (frequency, recency, T) rows of a BTYD summary with their ``weight``.

    Customers with the same triple share one likelihood term, so a 30-million-customer
    summary becomes a few hundred thousand weighted rows (with a holdout, the customers'
    ``frequency_holdout`` is summed per row):
    ``BetaGeoModel().fit(btyd_triples(s), weights="weight")`` gives the same parameters as
    the fit on ``s`` (the models compress internally too; this also makes the table small
    enough to keep or send). Works on plain and on calibration (``_cal``) columns.

    Parameters
    ----------
    summary : pd.DataFrame
        A :func:`crmlab.clv.summarize` table (plain or calibration/holdout).

    Returns
    -------
    pd.DataFrame
        The distinct triples with ``weight`` (and ``frequency_holdout`` summed).
    """
    if not isinstance(summary, pd.DataFrame):
        raise ValueError("btyd_triples: summary must be a pandas DataFrame (the output of "
                         "btyd_summary or crmlab.clv.summarize).")
    cols = ["frequency", "recency", "T"]
    if not all(c in summary.columns for c in cols):
        cal = [f"{c}_cal" for c in cols]
        if not all(c in summary.columns for c in cal):
            raise ValueError(f"btyd_triples: summary: column(s) {cols} not found (it has "
                             f"{list(summary.columns)}); build it with btyd_summary().")
        cols = cal
    grouped = summary.groupby(cols, sort=True)
    out = grouped.size().rename("weight").reset_index()
    out["weight"] = out["weight"].astype(np.int64)
    if cols[0].endswith("_cal") and "frequency_holdout" in summary.columns:
        out["frequency_holdout"] = grouped["frequency_holdout"].sum().to_numpy(dtype=np.int64)
    return out
