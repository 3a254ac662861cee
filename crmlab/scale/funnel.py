"""The funnel on an engine: :func:`crmlab.journey.funnel`'s counts where the sessions live."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmlab.scale.checks import _fail_count, _require
from crmlab.scale.engines import _session, _to_pandas
from crmlab.scale.sources import _check_source, _resolve_engine


def funnel(sessions: object, by: str | Sequence[str] | None = None, *,
           depth_col: str = "funnel_depth", steps: Sequence[str] | None = None,
           level: float = 0.95, engine: str | None = None, con: Any = None) -> pd.DataFrame:
    """:func:`crmlab.journey.funnel` on an engine: sessions per deepest step counted there.

    The engine returns one row per (group, deepest step) with its count; the steps reached,
    rates, Wilson intervals and drop-offs are then computed as the helper does. Group
    columns come back as strings, rows sorted by group and step.

    Parameters
    ----------
    sessions : source
        The sessions (a Parquet path or glob, a DuckDB relation, a Spark or pandas frame).
    by : str or sequence of str, optional
        Columns to split the funnel by.
    depth_col : str, default "funnel_depth"
        Deepest step reached per session.
    steps : sequence of str, optional
        The funnel's steps in order (default :data:`crmlab.journey.FUNNEL_STEPS`).
    level : float, default 0.95
        Confidence level of the Wilson intervals.
    engine : {"duckdb", "spark", "pandas"}, optional
        Where to count (default: Spark for a Spark frame, else DuckDB).
    con : duckdb connection, optional
        The DuckDB connection to run on.

    Returns
    -------
    pd.DataFrame
        :func:`crmlab.journey.funnel`'s table.
    """
    from crmlab import journey

    func = "scale.funnel"
    _check_source(sessions, "sessions")
    steps = list(journey.FUNNEL_STEPS if steps is None else steps)
    engine = _resolve_engine([sessions], engine, func)
    by_cols = [] if by is None else [by] if isinstance(by, str) else list(by)
    if engine == "pandas":
        return journey.funnel(_to_pandas(sessions, "sessions"), by, depth_col=depth_col,
                              steps=steps, level=level)
    with _session(engine, con, {"s": (sessions, "sessions")}) as (run, names, schemas):
        _require(schemas["s"], "sessions", func, {col: "by" for col in by_cols}
                 | {depth_col: "depth_col"})
        d = run.dialect
        keys = [d.q(col) for col in by_cols] + [f"CAST({d.q(depth_col)} AS STRING)"
                                                if d.name == "spark" else
                                                f"CAST({d.q(depth_col)} AS VARCHAR)"]
        select = ", ".join(f"{k} AS g{i}" for i, k in enumerate(keys))
        counts = run.run(f"SELECT {select}, count(*) AS n FROM {names['s']} "
                         f"GROUP BY {', '.join(keys)}")
    counts.columns = [*by_cols, depth_col, "n"]
    return _funnel_from_counts(counts, by_cols, depth_col, steps, level, func)


def _funnel_from_counts(counts: pd.DataFrame, by_cols: list[str], depth_col: str,
                        steps: list[str], level: float, func: str) -> pd.DataFrame:
    from crmlab.journey import funnel_from_counts

    for col in by_cols:
        _fail_count(counts.loc[counts[col].isna(), "n"].sum(),
                    f"{func}: sessions: column '{col}' has {{n}} missing values; fill or drop "
                    "those rows first (and count what you drop).")
    _fail_count(counts.loc[counts[depth_col].isna(), "n"].sum(),
                f"{func}: sessions: column '{depth_col}' has {{n}} missing values; every "
                "session reaches at least the visit step — fill them with the first step.")
    code = pd.Index(steps).get_indexer(counts[depth_col].astype(str))
    if (code < 0).any():
        unknown = sorted(set(counts[depth_col].astype(str)[code < 0]))
        raise ValueError(f"{func}: sessions: column '{depth_col}' has values {unknown[:10]} that "
                         f"are not funnel steps {steps}; map them or pass steps=.")
    hit = np.zeros((len(counts), len(steps)), dtype=np.int64)
    n = counts["n"].to_numpy(dtype=np.int64)
    for k in range(len(steps)):
        hit[:, k] = np.where(code >= k, n, 0)
    keys = by_cols or ["_all"]
    wide = pd.DataFrame(hit, columns=steps)
    for col in by_cols:
        wide[col] = counts[col].astype("str").to_numpy()
    if not by_cols:
        wide["_all"] = 0
    totals = wide.groupby(keys, sort=True)[steps].sum().reset_index()
    long = totals.melt(id_vars=keys, value_vars=steps, var_name="step", value_name="sessions")
    return funnel_from_counts(long.drop(columns=["_all"], errors="ignore"), steps, by_cols,
                              level=level)
