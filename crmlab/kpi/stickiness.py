"""Stickiness (黏著度): how often members visit and how long they stay."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab._checks import as_frame, datetime_column, reads, require_columns
from crmlab.kpi._common import _between, _period

__all__ = ["stickiness_ratio", "time_on_site", "visits_per_visitor"]


def _period_sessions(sessions: pd.DataFrame, start: object, end: object) -> pd.DataFrame:
    """Sessions that started in ``[start, end)``, with their minutes on site."""
    sess = as_frame(sessions, "sessions")
    require_columns(sess, "sessions", ["customer_id", "start_ts", "end_ts"])
    begin = datetime_column(sess, "sessions", "start_ts")
    finish = datetime_column(sess, "sessions", "end_ts")
    minutes = (finish - begin).dt.total_seconds() / 60
    if (minutes < 0).any():
        raise ValueError(f"sessions: {int((minutes < 0).sum())} session(s) end before they start "
                         "(end_ts < start_ts); fix or drop them first.")
    s, e = _period(start, end)
    keep = _between(begin, s, e)
    return sess.loc[keep].assign(minutes=minutes[keep].to_numpy(), start_ts=begin[keep].to_numpy())


@reads(sessions="")
def visits_per_visitor(sessions: pd.DataFrame, start: object, end: object) -> float:
    """Visits per visitor (人均訪問次數): sessions / distinct members with a session in
    ``[start, end)``; NaN without sessions. A stickiness measure: how often members come back.

    Parameters
    ----------
    sessions : pd.DataFrame
        The shop's ``sessions`` (customer_id, start_ts, end_ts).
    start, end : date-like
        The period ``[start, end)`` (end exclusive).

    Returns
    -------
    float
        Sessions per visitor; NaN without sessions.
    """
    sess = _period_sessions(sessions, start, end)
    return len(sess) / sess["customer_id"].nunique() if len(sess) else float("nan")


@reads(sessions="")
def time_on_site(sessions: pd.DataFrame, start: object, end: object) -> float:
    """Median minutes on site per visit (停留時間) in ``[start, end)`` (``end_ts - start_ts``;
    the median, because a few open tabs make the mean meaningless); NaN without sessions.

    Parameters
    ----------
    sessions : pd.DataFrame
        The shop's ``sessions`` (customer_id, start_ts, end_ts).
    start, end : date-like
        The period ``[start, end)`` (end exclusive).

    Returns
    -------
    float
        Median minutes per visit; NaN without sessions.
    """
    sess = _period_sessions(sessions, start, end)
    return float(sess["minutes"].median()) if len(sess) else float("nan")


@reads(sessions="")
def stickiness_ratio(sessions: pd.DataFrame, start: object, end: object) -> float:
    """DAU/MAU (黏著度): mean daily visitors / distinct visitors of the period, in [0, 1].

    1 means every visitor of the period comes every day; 1/30 over a month means each came
    on one day. Computed over the calendar days of ``[start, end)``; NaN without sessions.

    Parameters
    ----------
    sessions : pd.DataFrame
        The shop's ``sessions`` (customer_id, start_ts, end_ts).
    start, end : date-like
        The period ``[start, end)`` (end exclusive).

    Returns
    -------
    float
        DAU/MAU in [0, 1]; NaN without sessions.
    """
    sess = _period_sessions(sessions, start, end)
    if not len(sess):
        return float("nan")
    s, e = _period(start, end)
    days = max(1, int(np.ceil((e - s) / pd.Timedelta(days=1))))
    daily = sess.assign(day=sess["start_ts"].dt.floor("D")).drop_duplicates(["day", "customer_id"])
    return float(len(daily) / days / sess["customer_id"].nunique())
