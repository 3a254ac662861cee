"""The conversion funnel (轉換漏斗): visit -> product view -> cart -> checkout -> purchase.

:func:`funnel` counts the sessions reaching each step, overall or by traffic source or
device, with the step rate, its Wilson score interval (:func:`crmlab.stats.wilson_interval`)
and the drop-off at every step; :func:`funnel_from_counts` builds the same table from counts
made elsewhere (e.g. in a database by :mod:`crmlab.scale`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from crmlab._checks import as_frame, as_list, reads, require_columns
from crmlab.data import schema
from crmlab.journey._common import _codes, _no_missing
from crmlab.stats import wilson_interval

__all__ = ["FUNNEL_STEPS", "funnel", "funnel_from_counts"]


#: The funnel of the shop: every session is a visit; the later steps are event types.
FUNNEL_STEPS: tuple[str, ...] = schema.FUNNEL_STEPS


@reads(sessions="")
def funnel(
    sessions: pd.DataFrame,
    by: str | Sequence[str] | None = None,
    *,
    depth_col: str = "funnel_depth",
    steps: Sequence[str] = FUNNEL_STEPS,
    level: float = 0.95,
) -> pd.DataFrame:
    """The conversion funnel from one row per session with its deepest step.

    A session reaches step ``k`` when its ``depth_col`` is step ``k`` or deeper (works on
    ``shop.sessions`` and on :func:`session_steps` output). For every group of ``by``
    (e.g. ``"traffic_source"``, ``["device"]``) and step the result has:

    ``step``, ``step_no`` (0 = visit), ``sessions`` (reaching the step), ``step_rate``
    (share of the previous step's sessions that reached this one; NaN for the visit),
    ``ci_low``/``ci_high`` (Wilson interval of the step rate at ``level``), ``overall_rate``
    (share of visits reaching the step), ``dropped`` (sessions of the previous step that did
    not reach this one) and ``drop_off_rate`` (``1 - step_rate``).

    Parameters
    ----------
    sessions : pd.DataFrame
        One row per session with its deepest step (``shop.sessions`` or :func:`session_steps`).
    by : str or sequence of str, optional
        Columns to group by.
    depth_col : str, default "funnel_depth"
        The column holding the deepest step.
    steps : sequence of str, default FUNNEL_STEPS
        The funnel's steps in order.
    level : float, default 0.95
        Confidence level of the Wilson intervals.

    Returns
    -------
    pd.DataFrame
        One row per (group,) step with the columns above.
    """
    table = "sessions"
    sessions = as_frame(sessions, table)
    by_cols = as_list(by)
    require_columns(sessions, table, [depth_col, *by_cols])
    steps = list(steps)
    for col in by_cols:
        _no_missing(sessions, table, col)
    codes = _depth_codes(sessions[depth_col], depth_col, steps)
    reached = pd.DataFrame(codes[:, None] >= np.arange(len(steps))[None, :], columns=steps,
                           index=sessions.index).astype("int64")
    if by_cols:
        for col in by_cols:
            reached[col] = sessions[col]
        counts = reached.groupby(by_cols, observed=True, sort=True)[steps].sum()
    else:
        counts = reached[steps].sum().to_frame().T
    long = counts.reset_index(names=None if by_cols else "_all").melt(
        id_vars=by_cols or ["_all"], value_vars=steps, var_name="step", value_name="sessions"
    )
    return funnel_from_counts(long, steps, by_cols, level=level)


def _depth_codes(depth: pd.Series, depth_col: str, steps: list[str]) -> np.ndarray:
    """Position of each session's deepest step in ``steps``; missing or unknown steps are errors."""
    if depth.isna().any():
        raise ValueError(
            f"sessions: column '{depth_col}' has {int(depth.isna().sum())} missing values; every "
            "session reaches at least the visit step — fill them with the first step."
        )
    codes = _codes(depth.astype("str"), steps)
    if (codes < 0).any():
        unknown = sorted(set(depth.astype("str")[codes < 0]))
        raise ValueError(
            f"sessions: column '{depth_col}' has values {unknown[:10]} that are not funnel steps "
            f"{steps}; map them or pass steps=."
        )
    return codes


def funnel_from_counts(counts: pd.DataFrame, steps: Sequence[str], by: Sequence[str] = (),
                       level: float = 0.95) -> pd.DataFrame:
    """The funnel table from the number of sessions that reached each step.

    ``counts`` has one row per step (per group of ``by``) with columns ``step`` and
    ``sessions``: what :func:`funnel` counts in memory and ``crmlab.scale.funnel`` counts in
    an engine. Returns the columns of :func:`funnel`: each step's rate from the previous step
    with its Wilson interval, the overall rate from the first step, and the drop-offs.

    Parameters
    ----------
    counts : pd.DataFrame
        ``step`` and ``sessions`` (and the ``by`` columns), one row per step and group.
    steps : sequence of str
        The funnel's steps in order.
    by : sequence of str, default ()
        The group columns.
    level : float, default 0.95
        Confidence level of the Wilson intervals.

    Returns
    -------
    pd.DataFrame
        The table of :func:`funnel`.
    """
    steps = list(steps)
    by_cols = list(by)
    keys = by_cols or ["_all"]
    long = counts if by_cols else counts.assign(_all=0)
    long = long.assign(step_no=_codes(long["step"], steps).astype("int64"))
    long = long.sort_values([*keys, "step_no"], kind="stable").reset_index(drop=True)
    prev = long.groupby(keys, observed=True, sort=False)["sessions"].shift(1)
    first = long.groupby(keys, observed=True, sort=False)["sessions"].transform("first")
    has_prev = prev.notna() & (prev > 0)
    low, high = wilson_interval(long["sessions"].where(has_prev, 0).to_numpy(),
                                prev.where(has_prev, 0).to_numpy(), level=level)
    long["sessions"] = long["sessions"].astype("int64")
    long["step_rate"] = (long["sessions"] / prev).where(has_prev).astype("float64")
    long["ci_low"] = np.where(has_prev, low, np.nan)
    long["ci_high"] = np.where(has_prev, high, np.nan)
    long["overall_rate"] = (long["sessions"] / first).where(first > 0).astype("float64")
    long["dropped"] = (prev - long["sessions"]).fillna(0).astype("int64")
    long["drop_off_rate"] = 1.0 - long["step_rate"]
    long["step"] = pd.Categorical(long["step"], categories=steps, ordered=True)
    cols = [*by_cols, "step", "step_no", "sessions", "step_rate", "ci_low", "ci_high",
            "overall_rate", "dropped", "drop_off_rate"]
    return long[cols]
