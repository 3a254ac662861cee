"""Journeys and paths (顧客旅程, 路徑): each customer's sessions strung into journeys.

:func:`journeys` cuts each customer's sessions into journeys that end at a purchase (or
not), :func:`top_paths` lists the most common channel sequences, :func:`path_flows` feeds a
Sankey-style picture and :func:`time_to_convert` measures how long buying takes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmlab._checks import (
    Reads,
    as_frame,
    as_list,
    as_timestamp,
    datetime_column,
    reads,
    require_columns,
)
from crmlab.journey._common import OUTCOMES, SEP, _no_missing

__all__ = ["journeys", "path_flows", "time_to_convert", "top_paths"]


@reads(sessions="", orders=Reads("orders", optional=True))
def journeys(sessions: pd.DataFrame, orders: pd.DataFrame | None = None, *, channel_col: str = "traffic_source",
             customer_col: str = "customer_id", ts_col: str = "start_ts", converted_col: str = "converted",
             session_col: str = "session_id", end: str | pd.Timestamp | None = None,
             open_window: str | pd.Timedelta = "30D", sep: str = SEP) -> pd.DataFrame:
    """String each customer's sessions into journeys that end at a converting session.

    Sessions are ordered by time per customer; a journey is the run of sessions up to and
    including a converting one, and the next journey starts with the session after it. The
    sessions after a customer's last conversion form a final journey whose ``outcome`` is
    ``"open"`` when its last touch is within ``open_window`` of ``end`` (default: the last
    session time) — the customer may still buy, so the path has no terminal state yet — and
    ``"null"`` otherwise.

    Columns: ``customer_id``, ``journey`` (1, 2, ... per customer), ``path`` (channels joined
    by ``sep``), ``n_touches``, ``first_touch``, ``last_touch``, ``start_ts`` (first session),
    ``end_ts`` (last session's ``end_ts`` if the table has it, else its start),
    ``converted``, ``outcome`` (``conversion``/``null``/``open``), ``session_id`` of the
    converting session (``<NA>`` otherwise) and, when ``orders`` is given, ``order_id`` and
    ``value`` (the order's ``amount``; 0 for journeys without a purchase).

    Parameters
    ----------
    sessions : pd.DataFrame
        The shop's ``sessions`` (customer_id, start_ts, traffic_source, converted, session_id).
    orders : pd.DataFrame, optional
        The shop's ``orders`` (order_id, session_id, amount), for the journeys' value.
    channel_col, customer_col, ts_col, converted_col, session_col : str
        The sessions' columns of channel, customer, start time, conversion flag, session id.
    end : date-like, optional
        The end of the data; default the last session's start.
    open_window : str or pd.Timedelta, default "30D"
        How recent a last touch keeps a journey ``open``.
    sep : str, default " > "
        The separator of channels in ``path``.

    Returns
    -------
    pd.DataFrame
        One row per journey with the columns above.
    """
    cols = _SessionColumns(channel_col, customer_col, ts_col, converted_col, session_col)
    df = _touches(as_frame(sessions, "sessions"), cols, sep)
    end = df["ts"].max() if end is None else as_timestamp(end, "end")
    out = _journey_rows(df, sep, open_after=end - pd.Timedelta(open_window))
    if orders is not None:
        out = _with_orders(out, orders)
    if customer_col != "customer_id":
        out = out.rename(columns={"customer_id": customer_col})
    return out


@dataclass(frozen=True)
class _SessionColumns:
    """The sessions' columns that :func:`journeys` reads, by role."""

    channel: str
    customer: str
    ts: str
    converted: str
    session: str


def _touches(sessions: pd.DataFrame, cols: _SessionColumns, sep: str) -> pd.DataFrame:
    """The checked sessions as touches (customer_id, ts, end_ts, channel, converted, session_id),
    sorted by customer and time."""
    table = "sessions"
    channel_col, customer_col, ts_col, converted_col, session_col = (
        cols.channel, cols.customer, cols.ts, cols.converted, cols.session)
    require_columns(sessions, table, [customer_col, ts_col, channel_col, converted_col, session_col])
    ts = datetime_column(sessions, table, ts_col)
    for col in (customer_col, channel_col, converted_col):
        _no_missing(sessions, table, col)
    if not pd.api.types.is_bool_dtype(sessions[converted_col]):
        raise ValueError(
            f"{table}: column '{converted_col}' must be boolean (did the session end in a "
            f"purchase?); convert it with .astype(bool)."
        )
    channels = sessions[channel_col].astype("str")
    bad = channels.str.contains(sep.strip(), regex=False) | (channels.str.strip() == "")
    if bad.any():
        raise ValueError(
            f"{table}: column '{channel_col}' has {int(bad.sum())} empty names or names "
            f"containing the path separator {sep.strip()!r}; rename those channels."
        )
    end_col = "end_ts" if "end_ts" in sessions.columns else ts_col
    end_ts = sessions[end_col]
    if end_col != ts_col:
        end_ts = end_ts.fillna(ts)
    return pd.DataFrame({
        "customer_id": sessions[customer_col].to_numpy(),
        "ts": ts.to_numpy(),
        "end_ts": end_ts.to_numpy(),
        "channel": channels.to_numpy(),
        "converted": sessions[converted_col].to_numpy(dtype=bool),
        "session_id": sessions[session_col].to_numpy(),
    }).sort_values(["customer_id", "ts", "session_id"], kind="stable").reset_index(drop=True)


def _journey_rows(df: pd.DataFrame, sep: str, open_after: pd.Timestamp) -> pd.DataFrame:
    """One row per journey of the touches: a journey ends at a converting touch; a trailing
    journey is ``open`` when its last touch is at or after ``open_after``, else ``null``."""
    conv = df["converted"].astype("int64")
    df = df.assign(journey=df.groupby("customer_id", sort=False)["converted"].cumsum() - conv + 1)
    g = df.groupby(["customer_id", "journey"], sort=True)
    out = g.agg(
        n_touches=("channel", "size"),
        first_touch=("channel", "first"),
        last_touch=("channel", "last"),
        start_ts=("ts", "min"),
        end_ts=("end_ts", "max"),
        converted=("converted", "last"),
        last_ts=("ts", "max"),
    )
    out.insert(0, "path", g["channel"].agg(sep.join))
    conv_sess = df.loc[df["converted"]].set_index(["customer_id", "journey"])["session_id"]
    out["session_id"] = conv_sess.reindex(out.index).astype("Int64")
    outcome = np.where(out["converted"], "conversion",
                       np.where(out["last_ts"] >= open_after, "open", "null"))
    out["outcome"] = pd.Categorical(outcome, categories=list(OUTCOMES))
    return out.drop(columns="last_ts").reset_index()


def _with_orders(out: pd.DataFrame, orders: pd.DataFrame) -> pd.DataFrame:
    """The journeys with the converting session's ``order_id`` and ``value`` (0 without one)."""
    orders = as_frame(orders, "orders")
    require_columns(orders, "orders", ["order_id", "session_id", "amount"])
    online = orders.loc[orders["session_id"].notna(), ["order_id", "session_id", "amount"]]
    dup = online["session_id"].duplicated()
    if dup.any():
        raise ValueError(
            f"orders: {int(dup.sum())} sessions placed more than one order (column "
            "'session_id'); journeys expect one order per converting session."
        )
    online = online.astype({"session_id": "Int64"}).set_index("session_id")
    out["order_id"] = online["order_id"].reindex(out["session_id"]).astype("Int64").to_numpy()
    out["value"] = online["amount"].reindex(out["session_id"]).fillna(0.0).to_numpy(dtype="float64")
    return out


def _check_journeys(journeys: pd.DataFrame, path_col: str, extra: Sequence[str] = ()) -> None:
    table = "journeys"
    as_frame(journeys, table)
    require_columns(journeys, table, [path_col, "outcome", *extra],
             "Build journeys with crmlab.journey.journeys(shop.sessions, shop.orders).")
    _no_missing(journeys, table, path_col)
    empty = journeys[path_col].astype("str").str.strip() == ""
    if empty.any():
        raise ValueError(
            f"{table}: {int(empty.sum())} journeys have an empty '{path_col}'; a journey needs "
            "at least one touch — drop them (and count them)."
        )
    bad = ~journeys["outcome"].astype("str").isin(OUTCOMES)
    if bad.any():
        raise ValueError(
            f"{table}: column 'outcome' has values "
            f"{sorted(journeys['outcome'].astype('str')[bad].unique())[:5]}; use one of "
            f"{list(OUTCOMES)}."
        )


def top_paths(
    journeys: pd.DataFrame, n: int = 10, *, path_col: str = "path"
) -> pd.DataFrame:
    """The ``n`` most common paths with how often they convert.

    Columns: ``path``, ``journeys``, ``conversions``, ``conversion_rate``,
    ``share_of_journeys``, ``share_of_conversions`` and ``value`` (if the journeys have it).
    Sorted by ``journeys`` then ``conversions`` (descending) and ``path``.

    Parameters
    ----------
    journeys : pd.DataFrame
        The table of :func:`journeys` (path, outcome, optionally value).
    n : int, default 10
        How many paths to list.
    path_col : str, default "path"
        The column of the paths.

    Returns
    -------
    pd.DataFrame
        The ``n`` most common paths with the columns above.
    """
    _check_journeys(journeys, path_col)
    conv = journeys["outcome"].astype("str") == "conversion"
    agg = pd.DataFrame({"path": journeys[path_col].astype("str"), "conv": conv.astype("int64")})
    if "value" in journeys.columns:
        agg["value"] = journeys["value"].astype("float64")
    g = agg.groupby("path", sort=False)
    out = pd.DataFrame({"journeys": g.size(), "conversions": g["conv"].sum()})
    if "value" in agg.columns:
        out["value"] = g["value"].sum()
    out["conversion_rate"] = out["conversions"] / out["journeys"]
    out["share_of_journeys"] = out["journeys"] / len(agg)
    total_conv = out["conversions"].sum()
    out["share_of_conversions"] = out["conversions"] / total_conv if total_conv else 0.0
    out = out.reset_index().sort_values(["journeys", "conversions", "path"],
                                        ascending=[False, False, True], kind="stable")
    cols = ["path", "journeys", "conversions", "conversion_rate", "share_of_journeys",
            "share_of_conversions"] + (["value"] if "value" in out.columns else [])
    return out[cols].head(n).reset_index(drop=True)


def path_flows(
    journeys: pd.DataFrame,
    stages: Sequence[str] = ("first_touch", "last_touch", "outcome"),
) -> pd.DataFrame:
    """Flows between consecutive stage columns of the journeys, for a Sankey-style chart.

    One row per (``from_stage``, ``source``, ``to_stage``, ``target``) with the number of
    ``journeys``. The default stages show where journeys start, where they end, and whether
    they bought.

    Parameters
    ----------
    journeys : pd.DataFrame
        The table of :func:`journeys`.
    stages : sequence of str, default ("first_touch", "last_touch", "outcome")
        At least two columns of ``journeys``, in the order of the chart.

    Returns
    -------
    pd.DataFrame
        from_stage, source, to_stage, target, journeys.
    """
    table = "journeys"
    as_frame(journeys, table)
    stages = list(stages)
    if len(stages) < 2:
        raise ValueError("path_flows: pass at least two stage columns, e.g. ('first_touch', 'outcome').")
    require_columns(journeys, table, stages)
    parts = []
    for a, b in zip(stages[:-1], stages[1:], strict=True):
        pair = pd.DataFrame({"source": journeys[a].astype("str"), "target": journeys[b].astype("str")})
        counts = pair.value_counts().rename("journeys").reset_index()
        counts.insert(0, "from_stage", a)
        counts.insert(2, "to_stage", b)
        parts.append(counts)
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["from_stage", "source", "target"], key=None, kind="stable").reset_index(drop=True)


def time_to_convert(
    journeys: pd.DataFrame, by: str | Sequence[str] | None = None
) -> pd.DataFrame:
    """How long converting journeys take, from the first touch to the end of the buying session.

    Columns: the ``by`` groups (e.g. ``"first_touch"``), ``conversions``, ``median_days``,
    ``mean_days``, ``p90_days``, ``mean_touches`` and ``share_same_session`` (journeys that
    bought in their first session).

    Parameters
    ----------
    journeys : pd.DataFrame
        The table of :func:`journeys` (path, outcome, start_ts, end_ts, n_touches).
    by : str or sequence of str, optional
        Columns to group by.

    Returns
    -------
    pd.DataFrame
        One row per group with the columns above.
    """
    by_cols = as_list(by)
    _check_journeys(journeys, "path", ["start_ts", "end_ts", "n_touches", *by_cols])
    conv = journeys.loc[journeys["outcome"].astype("str") == "conversion"]
    days = (conv["end_ts"] - conv["start_ts"]) / pd.Timedelta(days=1)
    df = pd.DataFrame({"days": days.to_numpy(dtype="float64"),
                       "touches": conv["n_touches"].to_numpy(dtype="float64")})
    df["single"] = (conv["n_touches"].to_numpy() == 1).astype("float64")
    for col in by_cols:
        df[col] = conv[col].to_numpy()
    if by_cols:
        g = df.groupby(by_cols, observed=True, sort=True)
    else:
        g = df.assign(_all="all").groupby("_all")
    out = pd.DataFrame({
        "conversions": g.size(),
        "median_days": g["days"].median(),
        "mean_days": g["days"].mean(),
        "p90_days": g["days"].quantile(0.9),
        "mean_touches": g["touches"].mean(),
        "share_same_session": g["single"].mean(),
    })
    return out.reset_index(drop=not by_cols)
