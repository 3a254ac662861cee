"""KPIs by period on an engine: revenue, active customers, average order value, purchase
frequency per full period (:mod:`crmlab.kpi`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlab.scale.checks import (
    _check_profile,
    _profile,
    _require,
    _require_datetime,
    _require_numeric,
)
from crmlab.scale.cohorts import _as_ts
from crmlab.scale.engines import _Dialect, _session, _to_pandas
from crmlab.scale.sources import _check_source, _resolve_engine

_KPI_FREQS = {"ME": "M", "M": "M", "QE": "Q", "Q": "Q", "YE": "Y", "Y": "Y", "W": "W"}


def _kpi_period_expr(d: _Dialect, col: str, pfreq: str) -> str:
    month = d.month(col)
    return {"M": month, "Q": f"CAST(floor({month} / 3) AS BIGINT)",
            "Y": f"(year({col}) - 1970)", "W": d.week(col)}[pfreq]


def _period_number(p: pd.Period, pfreq: str) -> int:
    ts = p.start_time
    month = (ts.year - 1970) * 12 + ts.month - 1
    day = int((ts - pd.Timestamp("1970-01-01")).days)
    return {"M": month, "Q": month // 3, "Y": ts.year - 1970, "W": (day + 3) // 7}[pfreq]


def _full_periods(first: pd.Timestamp, stop: pd.Timestamp, pfreq: str) -> list[pd.Period]:
    """Periods of ``pfreq`` wholly inside ``[first, stop)`` (as :func:`crmlab.kpi.full_periods`)."""
    periods = pd.period_range(first, stop - pd.Timedelta(days=1), freq=pfreq)
    return [p for p in periods if p.start_time >= first and (p + 1).start_time <= stop]


# Long function: most of it is the docstring (the indicators and full periods,
# parameters); the body is 30 lines.
def kpi_by_period(orders: object, freq: str = "ME", *, start: Any = None, end: Any = None,
                  engine: str | None = None, con: Any = None) -> pd.DataFrame:
    """Revenue, orders, active customers, AOV and purchase frequency per full period.

    The customer-value indicators of :mod:`crmlab.kpi` (``revenue``, ``active_customers``,
    ``average_order_value``, ``purchase_frequency``) for every complete ``freq`` period
    ("ME", "QE", "YE", "W") inside ``[start, end)`` (default: the first order's day to the
    day after the last order, as :func:`crmlab.kpi.full_periods` does for an order log), in
    one ``GROUP BY period``. Columns: ``period`` (label such as "2025-03"), ``start``,
    ``end`` (exclusive), ``revenue``, ``orders``, ``active_customers``,
    ``average_order_value`` (NaN without orders), ``purchase_frequency`` (NaN without orders).

    Parameters
    ----------
    orders : source
        The order log (a Parquet path or glob, a DuckDB relation, a Spark or pandas frame).
    freq : str, default "ME"
        Period: "ME"/"M" months, "QE"/"Q" quarters, "YE"/"Y" years or "W" weeks.
    start, end : date-like, optional
        Range to cover (default: the data's); partial periods are dropped.
    engine : {"duckdb", "spark", "pandas"}, optional
        Where to aggregate (default: Spark for a Spark frame, else DuckDB).
    con : duckdb connection, optional
        The DuckDB connection to run on.

    Returns
    -------
    pd.DataFrame
        One row per full period: ``period``, ``start``, ``end`` and the indicators.
    """
    func = "scale.kpi_by_period"
    _check_source(orders, "orders")
    if freq not in _KPI_FREQS:
        raise ValueError(f"{func}: freq={freq!r} must be one of {sorted(_KPI_FREQS)} (e.g. 'QE' "
                         "for quarters, 'ME' for months).")
    pfreq = _KPI_FREQS[freq]
    engine = _resolve_engine([orders], engine, func)
    if engine == "pandas":
        return _kpi_pandas(_to_pandas(orders, "orders"), pfreq, start, end, func)
    cols = ["order_ts", "customer_id", "amount"]
    with _session(engine, con, {"o": (orders, "orders")}) as (run, names, schemas):
        _require(schemas["o"], "orders", func, {c: f"(rename to) {c}" for c in cols})
        _require_datetime(schemas["o"], "orders", "order_ts", func)
        _require_numeric(schemas["o"], "orders", "amount", func)
        prof = _profile(run, names["o"], cols, schemas["o"])
        _check_profile(prof, "orders", cols, func, ["timestamps", "customer ids", "amounts"])
        first, stop = _kpi_span(prof, start, end, func)
        periods = _full_periods(first, stop, pfreq)
        if not periods:
            return _kpi_frame(periods, pd.DataFrame(columns=["per", "revenue", "n", "active"]),
                              pfreq)
        d = run.dialect
        lo, hi = periods[0].start_time, (periods[-1] + 1).start_time
        t = d.q("order_ts")
        per = _kpi_period_expr(d, t, pfreq)
        g = run.run(f"""
            SELECT {per} AS per, sum(CAST({d.q('amount')} AS DOUBLE)) AS revenue,
                   count(*) AS n, count(DISTINCT {d.q('customer_id')}) AS active
            FROM {names['o']} WHERE {t} >= {d.ts(lo)} AND {t} < {d.ts(hi)}
            GROUP BY {per}""")
    return _kpi_frame(periods, g, pfreq)


def _kpi_span(prof: pd.Series, start: Any, end: Any, func: str) -> tuple[pd.Timestamp,
                                                                          pd.Timestamp]:
    first = (pd.Timestamp(prof["lo"]).normalize() if start is None
             else _as_ts(start, "start", func))
    stop = (pd.Timestamp(prof["hi"]).normalize() + pd.Timedelta(days=1) if end is None
            else _as_ts(end, "end", func))
    if first >= stop:
        raise ValueError(f"{func}: the period [start, end) is empty: start={first} is not before "
                         f"end={stop}; pass start < end (end is exclusive).")
    return first, stop


def _kpi_frame(periods: list[pd.Period], g: pd.DataFrame, pfreq: str) -> pd.DataFrame:
    by = g.assign(per=g["per"].astype(np.int64)).set_index("per") if len(g) else None
    rows = []
    for p in periods:
        k = _period_number(p, pfreq)
        hit = by is not None and k in by.index
        revenue = float(by.at[k, "revenue"]) if hit else 0.0
        n = int(by.at[k, "n"]) if hit else 0
        active = int(by.at[k, "active"]) if hit else 0
        rows.append({"period": str(p), "start": p.start_time, "end": (p + 1).start_time,
                     "revenue": revenue, "orders": n, "active_customers": active,
                     "average_order_value": revenue / n if n else float("nan"),
                     "purchase_frequency": n / active if active else float("nan")})
    return _kpi_columns(pd.DataFrame(rows, columns=_KPI_COLUMNS))


_KPI_COLUMNS = ["period", "start", "end", "revenue", "orders", "active_customers",
                "average_order_value", "purchase_frequency"]


def _kpi_columns(out: pd.DataFrame) -> pd.DataFrame:
    return out.astype({"period": "str", "start": "datetime64[ns]", "end": "datetime64[ns]",
                       "revenue": "float64", "orders": "int64", "active_customers": "int64",
                       "average_order_value": "float64", "purchase_frequency": "float64"})


def _kpi_pandas(orders: pd.DataFrame, pfreq: str, start: Any, end: Any,
                func: str) -> pd.DataFrame:
    """The reference: crmlab.kpi's own indicator functions, period by period."""
    from crmlab import kpi

    o = kpi._orders(orders, ("customer_id", "order_ts", "amount"))
    prof = pd.Series({"lo": o["order_ts"].min(), "hi": o["order_ts"].max()})
    first, stop = _kpi_span(prof, start, end, func)
    rows = []
    for p in _full_periods(first, stop, pfreq):
        s, e = p.start_time, (p + 1).start_time
        n = int(((o["order_ts"] >= s) & (o["order_ts"] < e)).sum())
        rows.append({"period": str(p), "start": s, "end": e,
                     "revenue": kpi.revenue(o, s, e), "orders": n,
                     "active_customers": kpi.active_customers(o, s, e),
                     "average_order_value": kpi.average_order_value(o, s, e),
                     "purchase_frequency": kpi.purchase_frequency(o, s, e)})
    return _kpi_columns(pd.DataFrame(rows, columns=_KPI_COLUMNS))
