"""Sessions (工作階段): cut the click-stream into visits and see how deep each visit went.

:func:`sessionize` starts a new session wherever a customer was inactive for longer than
``gap`` (30 minutes by default, Google Analytics' convention); :func:`session_steps` turns
events into one row per session with the funnel steps it reached.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from crmlab._checks import as_frame, datetime_column, reads, require_columns
from crmlab.data import schema
from crmlab.journey._common import _codes, _no_missing
from crmlab.journey.funnel import FUNNEL_STEPS

__all__ = ["session_steps", "sessionize"]


@reads(events="")
def sessionize(
    events: pd.DataFrame,
    gap: str | pd.Timedelta = "30min",
    *,
    customer_col: str = "customer_id",
    ts_col: str = "ts",
    session_col: str = "session",
    unsorted: Literal["sort", "raise"] = "sort",
) -> pd.DataFrame:
    """Assign sessions to an event log: a new session starts after more than ``gap`` idle.

    Vectorised: sort by (customer, time), take the time difference to the previous event
    of the same customer, and start a session wherever the customer changes or the
    difference exceeds ``gap`` (strictly greater). Session numbers are 1..n in the sorted
    order and are written to ``session_col``.

    Events out of time order within a customer are sorted (stable) and counted in
    ``result.attrs["n_out_of_order"]`` (rows whose time is earlier than the row before them
    for the same customer, in the input order); pass ``unsorted="raise"`` to get a
    ``ValueError`` instead. Missing timestamps or customer ids raise ``ValueError``.

    Parameters
    ----------
    events : pd.DataFrame
        An event log with a customer id and a timestamp per row.
    gap : str or pd.Timedelta, default "30min"
        The longest idle time inside one session; positive.
    customer_col, ts_col : str
        The columns of the customer id and the event time.
    session_col : str, default "session"
        The new column; must not exist yet.
    unsorted : {"sort", "raise"}, default "sort"
        What to do with events out of time order within a customer.

    Returns
    -------
    pd.DataFrame
        The events sorted by (customer, time) with the session number.
    """
    table = "events"
    events = as_frame(events, table)
    require_columns(events, table, [customer_col, ts_col])
    if unsorted not in ("sort", "raise"):
        raise ValueError(f"sessionize: unsorted={unsorted!r}; use 'sort' or 'raise'.")
    gap_td = _positive_gap(gap)
    ts = datetime_column(events, table, ts_col)
    _no_missing(events, table, customer_col)
    if session_col in events.columns:
        raise ValueError(
            f"{table}: already has a column '{session_col}'; pass another session_col= name."
        )
    n_out = _out_of_order(events, ts, customer_col, ts_col, raise_=unsorted == "raise")
    out = events.sort_values([customer_col, ts_col], kind="stable").reset_index(drop=True)
    out[session_col] = _session_numbers(out[customer_col].to_numpy(), out[ts_col].to_numpy(), gap_td)
    out.attrs["n_out_of_order"] = n_out
    return out


def _positive_gap(gap: str | pd.Timedelta) -> pd.Timedelta:
    """``gap`` as a positive Timedelta (an error naming the fix otherwise)."""
    try:
        gap_td = pd.Timedelta(gap)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"sessionize: gap={gap!r} is not a duration; pass e.g. '30min'.") from exc
    if gap_td is pd.NaT or gap_td <= pd.Timedelta(0):
        raise ValueError(f"sessionize: gap={gap!r} must be a positive duration such as '30min'.")
    return gap_td


def _out_of_order(events: pd.DataFrame, ts: pd.Series, customer_col: str, ts_col: str, raise_: bool) -> int:
    """How many events are earlier than the one before them for the same customer (input order)."""
    back = ts.groupby(events[customer_col], sort=False).diff()
    n_out = int((back < pd.Timedelta(0)).sum())
    if n_out and raise_:
        raise ValueError(
            f"events: {n_out} events are earlier than the event before them for the same "
            f"customer (column '{ts_col}'); sort with events.sort_values(['{customer_col}', "
            f"'{ts_col}']) or call sessionize(..., unsorted='sort')."
        )
    return n_out


def _session_numbers(cust: np.ndarray, t: np.ndarray, gap: pd.Timedelta) -> np.ndarray:
    """Session numbers 1..n of events sorted by (customer, time): a new session wherever the
    customer changes or the time since the previous event exceeds ``gap``."""
    new = np.ones(len(cust), dtype=bool)
    if len(cust) > 1:
        same = cust[1:] == cust[:-1]
        new[1:] = ~same | ((t[1:] - t[:-1]) > gap.to_timedelta64())
    return np.cumsum(new).astype(np.int64)


@reads(events="")
def session_steps(
    events: pd.DataFrame,
    *,
    session_col: str = "session_id",
    customer_col: str = "customer_id",
    ts_col: str = "ts",
    type_col: str = "event_type",
    steps: Sequence[str] = FUNNEL_STEPS,
    known_types: Sequence[str] | None = schema.EVENT_TYPES,
    strict: bool = False,
) -> pd.DataFrame:
    """One row per session: customer, start/end time, number of events, steps reached.

    ``steps[0]`` is the visit (every session has it); each later step is an event type.
    ``funnel_depth`` is the deepest step whose event occurs in the session (the schema's
    meaning). With ``strict=True`` a step only counts when every earlier step occurred too
    (a "closed" funnel); ``result.attrs["n_skipped_steps"]`` counts sessions where the two
    definitions differ. Event types outside ``known_types`` (plus the steps) raise a
    ``ValueError`` listing them — pass ``known_types=None`` to accept any type.

    Columns: ``session_col``, ``customer_col``, ``start_ts``, ``end_ts``, ``n_events``, one
    bool column per step after the visit, ``funnel_depth`` (ordered categorical of steps).

    Parameters
    ----------
    events : pd.DataFrame
        The shop's ``events`` (session_id, customer_id, ts, event_type).
    session_col, customer_col, ts_col, type_col : str
        The columns of the session, the customer, the time and the event type.
    steps : sequence of str, default FUNNEL_STEPS
        The visit step, then the event type of each later step.
    known_types : sequence of str or None, default schema.EVENT_TYPES
        The event types allowed besides the steps; None accepts any.
    strict : bool, default False
        Count a step only when every earlier step occurred too.

    Returns
    -------
    pd.DataFrame
        One row per session with the columns above.
    """
    table = "events"
    events = as_frame(events, table)
    require_columns(events, table, [session_col, customer_col, ts_col, type_col])
    steps = list(steps)
    if len(steps) < 2 or len(set(steps)) != len(steps):
        raise ValueError(f"session_steps: steps={steps!r} needs a visit step plus at least one event type, "
                         "each named once.")
    ts = datetime_column(events, table, ts_col)
    _no_missing(events, table, session_col)
    types = _event_types(events, type_col, steps, known_types)
    out = _session_rows(events.assign(_ts=ts), session_col, customer_col)
    hit, deepest, closed = _steps_reached(out.index.get_indexer(events[session_col]), types, steps, len(out))
    for j, step in enumerate(steps[1:]):
        out[step] = hit[:, j]
    out["funnel_depth"] = pd.Categorical.from_codes(closed if strict else deepest, categories=steps, ordered=True)
    out = out.reset_index()
    out.attrs["n_skipped_steps"] = int((closed != deepest).sum())
    return out


def _event_types(events: pd.DataFrame, type_col: str, steps: list[str],
                 known_types: Sequence[str] | None) -> pd.Series:
    """The event types as text, checked: none missing, none outside ``known_types`` and the steps."""
    types = events[type_col].astype("str")
    if types.isna().any():
        raise ValueError(
            f"events: column '{type_col}' has {int(types.isna().sum())} missing event types; "
            "fill or drop them first."
        )
    if known_types is not None:
        allowed = set(known_types) | set(steps[1:])
        unknown = sorted(set(types.unique()) - allowed)
        if unknown:
            raise ValueError(
                f"events: column '{type_col}' has unknown event types {unknown[:10]}; known "
                f"types are {sorted(allowed)}. Map them to known types (e.g. with "
                f"events['{type_col}'].replace({{...}})) or pass known_types=None."
            )
    return types


def _session_rows(events: pd.DataFrame, session_col: str, customer_col: str) -> pd.DataFrame:
    """One row per session (index ``session_col``): customer, start_ts, end_ts, n_events, from
    events with their time in ``_ts``; a session with two customers is an error."""
    grouped = events.groupby(session_col, sort=True)
    out = grouped.agg(
        **{customer_col: (customer_col, "first"), "start_ts": ("_ts", "min"),
           "end_ts": ("_ts", "max"), "n_events": ("_ts", "size")}
    )
    n_cust = grouped[customer_col].nunique()
    if (n_cust > 1).any():
        raise ValueError(
            f"events: {int((n_cust > 1).sum())} sessions in '{session_col}' hold events of "
            f"more than one '{customer_col}'; a session belongs to one visitor — re-derive "
            "sessions with sessionize()."
        )
    return out


def _steps_reached(sess_pos: np.ndarray, types: pd.Series, steps: list[str],
                   n_sessions: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(step events seen per session and step after the visit, deepest step reached, deepest
    step of an unbroken run from the visit) from each event's session position and type."""
    hit = np.zeros((n_sessions, len(steps) - 1), dtype=bool)
    codes = _codes(types, steps[1:])  # -1 = not a step event
    hit[sess_pos[codes >= 0], codes[codes >= 0]] = True
    reached_any = np.c_[np.ones(n_sessions, bool), hit]
    deepest = np.where(reached_any.any(axis=1), reached_any.shape[1] - 1 - np.argmax(reached_any[:, ::-1], axis=1), 0)
    closed = np.cumprod(reached_any, axis=1).sum(axis=1) - 1
    return hit, deepest, closed
