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

    Returns a sorted copy of ``events`` with the new column.
    """
    table = "events"
    events = as_frame(events, table)
    require_columns(events, table, [customer_col, ts_col])
    if unsorted not in ("sort", "raise"):
        raise ValueError(f"sessionize: unsorted={unsorted!r}; use 'sort' or 'raise'.")
    try:
        gap_td = pd.Timedelta(gap)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"sessionize: gap={gap!r} is not a duration; pass e.g. '30min'.") from exc
    if gap_td is pd.NaT or gap_td <= pd.Timedelta(0):
        raise ValueError(f"sessionize: gap={gap!r} must be a positive duration such as '30min'.")
    ts = datetime_column(events, table, ts_col)
    _no_missing(events, table, customer_col)
    if session_col in events.columns:
        raise ValueError(
            f"{table}: already has a column '{session_col}'; pass another session_col= name."
        )
    back = ts.groupby(events[customer_col], sort=False).diff()
    n_out = int((back < pd.Timedelta(0)).sum())
    if n_out and unsorted == "raise":
        raise ValueError(
            f"{table}: {n_out} events are earlier than the event before them for the same "
            f"customer (column '{ts_col}'); sort with {table}.sort_values(['{customer_col}', "
            f"'{ts_col}']) or call sessionize(..., unsorted='sort')."
        )
    out = events.sort_values([customer_col, ts_col], kind="stable").reset_index(drop=True)
    cust = out[customer_col].to_numpy()
    t = out[ts_col].to_numpy()
    new = np.ones(len(out), dtype=bool)
    if len(out) > 1:
        same = cust[1:] == cust[:-1]
        new[1:] = ~same | ((t[1:] - t[:-1]) > gap_td.to_timedelta64())
    out[session_col] = np.cumsum(new).astype(np.int64)
    out.attrs["n_out_of_order"] = n_out
    return out


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
    """
    table = "events"
    events = as_frame(events, table)
    require_columns(events, table, [session_col, customer_col, ts_col, type_col])
    steps = list(steps)
    if len(steps) < 2 or len(set(steps)) != len(steps):
        raise ValueError(
            f"session_steps: steps={steps!r} needs a visit step plus at least one event type, "
            "each named once."
        )
    ts = datetime_column(events, table, ts_col)
    _no_missing(events, table, session_col)
    types = events[type_col].astype("str")
    if types.isna().any():
        raise ValueError(
            f"{table}: column '{type_col}' has {int(types.isna().sum())} missing event types; "
            "fill or drop them first."
        )
    if known_types is not None:
        allowed = set(known_types) | set(steps[1:])
        unknown = sorted(set(types.unique()) - allowed)
        if unknown:
            raise ValueError(
                f"{table}: column '{type_col}' has unknown event types {unknown[:10]}; known "
                f"types are {sorted(allowed)}. Map them to known types (e.g. with "
                f"{table}['{type_col}'].replace({{...}})) or pass known_types=None."
            )
    grouped = events.assign(_ts=ts).groupby(session_col, sort=True)
    out = grouped.agg(
        **{customer_col: (customer_col, "first"), "start_ts": ("_ts", "min"),
           "end_ts": ("_ts", "max"), "n_events": ("_ts", "size")}
    )
    n_cust = grouped[customer_col].nunique()
    if (n_cust > 1).any():
        raise ValueError(
            f"{table}: {int((n_cust > 1).sum())} sessions in '{session_col}' hold events of "
            f"more than one '{customer_col}'; a session belongs to one visitor — re-derive "
            "sessions with sessionize()."
        )
    codes = _codes(types, steps[1:])  # -1 = not a step event
    sess_pos = out.index.get_indexer(events[session_col])
    hit = np.zeros((len(out), len(steps) - 1), dtype=bool)
    mask = codes >= 0
    hit[sess_pos[mask], codes[mask]] = True
    reached_any = np.c_[np.ones(len(out), bool), hit]
    deepest = np.where(reached_any.any(axis=1), reached_any.shape[1] - 1 - np.argmax(reached_any[:, ::-1], axis=1), 0)
    closed = np.cumprod(reached_any, axis=1).sum(axis=1) - 1
    depth = closed if strict else deepest
    for j, step in enumerate(steps[1:]):
        out[step] = hit[:, j]
    out["funnel_depth"] = pd.Categorical.from_codes(depth, categories=steps, ordered=True)
    out = out.reset_index()
    out.attrs["n_skipped_steps"] = int((closed != deepest).sum())
    return out
