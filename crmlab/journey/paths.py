"""Purchase journey analysis (購買旅程分析) — unit 2b.

From the click-stream to marketing decisions, in the order the course teaches them:

* **Sessions** (工作階段): :func:`sessionize` cuts each customer's event stream wherever the
  customer was inactive for longer than ``gap`` (30 minutes by default, Google Analytics'
  convention). :func:`session_steps` turns events into one row per session with the funnel
  steps it reached.
* **Funnel** (轉換漏斗): :func:`funnel` counts sessions reaching visit -> product view ->
  cart -> checkout -> purchase, overall or by traffic source / device, with the step rate,
  its Wilson score interval (:func:`wilson_interval`) and the drop-off at every step.
* **Journeys and paths** (顧客旅程, 路徑): :func:`journeys` strings each customer's sessions
  into journeys that end at a purchase (or not), :func:`top_paths` lists the most common
  channel sequences, :func:`path_flows` feeds a Sankey-style picture and
  :func:`time_to_convert` measures how long buying takes.
* **Attribution** (歸因): :func:`touch_attribution` (first touch, last touch, linear) and the
  Markov-chain model with the removal effect (:class:`MarkovAttribution`, Anderl, Becker,
  von Wangenheim & Schumann 2016); :func:`attribution_table` puts them side by side.
* **Cohorts** (同期群留存): :func:`cohort_table` and :func:`retention_matrix` by signup month.
* **Hot products** (熱銷商品): :func:`hot_products` scores products from weekly sales, the
  share bought by first-time buyers, favourites and views (standardised, weighted).
* **Order value** (平均訂單價值, AOV): :func:`order_value_decomposition` (revenue = visitors x conversion
  x orders per buyer x items per order x unit price), :func:`traffic_decomposition` (traffic x
  stay x attention x conversion x items x price, as in the course deck) and
  :func:`decompose_change` (which factor moved revenue between two periods).

Conventions: timestamps are naive local time; a *journey* is the run of a customer's sessions
up to and including a converting session (the next journey starts after it); the trailing
sessions after a customer's last purchase form a journey with outcome ``"null"`` (did not
buy) or ``"open"`` (its last touch is so recent that the customer may still buy).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from crmlab._checks import (
    Reads,
    as_frame,
    as_list,
    as_timestamp,
    datetime_column,
    reads,
    require_columns,
)
from crmlab.data import schema
from crmlab.stats import level_z as _level_z
from crmlab.stats import wilson_interval

__all__ = [
    "FUNNEL_STEPS",
    "HOT_WEIGHTS",
    "MarkovAttribution",
    "attribution_table",
    "cohort_table",
    "decompose_change",
    "funnel",
    "hot_products",
    "journeys",
    "markov_attribution",
    "order_value_decomposition",
    "path_flows",
    "per_buyer_value_decomposition",
    "FAB",
    "keyword_pattern",
    "selling_point_conversion",
    "selling_points",
    "retention_matrix",
    "session_steps",
    "sessionize",
    "time_to_convert",
    "top_paths",
    "touch_attribution",
    "traffic_decomposition",
    "wilson_interval",
]

#: The funnel of the shop: every session is a visit; the later steps are event types.
FUNNEL_STEPS: tuple[str, ...] = schema.FUNNEL_STEPS

#: Default weights of the hot-product score (they are normalised to sum to 1).
HOT_WEIGHTS: dict[str, float] = {
    "weekly_sales": 0.4,
    "first_visitor_conversion": 0.2,
    "first_buyer_share": 0.0,
    "favorites": 0.2,
    "views": 0.2,
}

SEP = " > "
CONVERSION, NULL, OPEN, START = "(conversion)", "(null)", "(open)", "(start)"
OUTCOMES = ("conversion", "null", "open")


# --------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------


def _no_missing(df: pd.DataFrame, table: str, col: str) -> None:
    n = int(df[col].isna().sum())
    if n:
        raise ValueError(
            f"{table}: column '{col}' has {n} missing values; fill or drop those rows first "
            f"(and count what you drop)."
        )


def _codes(values: pd.Series | np.ndarray, categories: Sequence[str]) -> np.ndarray:
    """Position of each value in ``categories`` (-1 when it is not one of them)."""
    return pd.Index(list(categories)).get_indexer(np.asarray(values, dtype=object))


# --------------------------------------------------------------------------------------
# Wilson interval
# --------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------
# sessions
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# funnel
# --------------------------------------------------------------------------------------


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
    """
    table = "sessions"
    sessions = as_frame(sessions, table)
    by_cols = as_list(by)
    require_columns(sessions, table, [depth_col, *by_cols])
    steps = list(steps)
    for col in by_cols:
        _no_missing(sessions, table, col)
    depth = sessions[depth_col]
    if depth.isna().any():
        raise ValueError(
            f"{table}: column '{depth_col}' has {int(depth.isna().sum())} missing values; every "
            "session reaches at least the visit step — fill them with the first step."
        )
    codes = _codes(depth.astype("str"), steps)
    if (codes < 0).any():
        unknown = sorted(set(depth.astype("str")[codes < 0]))
        raise ValueError(
            f"{table}: column '{depth_col}' has values {unknown[:10]} that are not funnel steps "
            f"{steps}; map them or pass steps=."
        )
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


def funnel_from_counts(counts: pd.DataFrame, steps: Sequence[str], by: Sequence[str] = (),
                       level: float = 0.95) -> pd.DataFrame:
    """The funnel table from the number of sessions that reached each step.

    ``counts`` has one row per step (per group of ``by``) with columns ``step`` and
    ``sessions``: what :func:`funnel` counts in memory and ``crmlab.scale.funnel`` counts in
    an engine. Returns the columns of :func:`funnel`: each step's rate from the previous step
    with its Wilson interval, the overall rate from the first step, and the drop-offs.
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


# --------------------------------------------------------------------------------------
# journeys and paths
# --------------------------------------------------------------------------------------


@reads(sessions="", orders=Reads("orders", optional=True))
def journeys(
    sessions: pd.DataFrame,
    orders: pd.DataFrame | None = None,
    *,
    channel_col: str = "traffic_source",
    customer_col: str = "customer_id",
    ts_col: str = "start_ts",
    converted_col: str = "converted",
    session_col: str = "session_id",
    end: str | pd.Timestamp | None = None,
    open_window: str | pd.Timedelta = "30D",
    sep: str = SEP,
) -> pd.DataFrame:
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
    """
    table = "sessions"
    sessions = as_frame(sessions, table)
    require_columns(sessions, table, [customer_col, ts_col, channel_col, converted_col, session_col])
    ts = datetime_column(sessions, table, ts_col)
    for col in (customer_col, channel_col, converted_col):
        _no_missing(sessions, table, col)
    if not pd.api.types.is_bool_dtype(sessions[converted_col]):
        raise ValueError(
            f"{table}: column '{converted_col}' must be boolean (did the session end in a "
            f"purchase?); convert it with .astype(bool)."
        )
    window = pd.Timedelta(open_window)
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
    end = ts.max() if end is None else as_timestamp(end, "end")
    df = pd.DataFrame({
        "customer_id": sessions[customer_col].to_numpy(),
        "ts": ts.to_numpy(),
        "end_ts": end_ts.to_numpy(),
        "channel": channels.to_numpy(),
        "converted": sessions[converted_col].to_numpy(dtype=bool),
        "session_id": sessions[session_col].to_numpy(),
    }).sort_values(["customer_id", "ts", "session_id"], kind="stable").reset_index(drop=True)
    conv = df["converted"].astype("int64")
    df["journey"] = df.groupby("customer_id", sort=False)["converted"].cumsum() - conv + 1
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
                       np.where(out["last_ts"] >= end - window, "open", "null"))
    out["outcome"] = pd.Categorical(outcome, categories=list(OUTCOMES))
    out = out.drop(columns="last_ts").reset_index()
    if orders is not None:
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
    if customer_col != "customer_id":
        out = out.rename(columns={"customer_id": customer_col})
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


# --------------------------------------------------------------------------------------
# attribution
# --------------------------------------------------------------------------------------


def _tokens(journeys: pd.DataFrame, path_col: str, sep: str) -> pd.DataFrame:
    """Long table: one row per touch with the journey row number and position."""
    split = journeys[path_col].astype("str").str.split(sep.strip(), regex=False)
    long = split.explode().str.strip().rename("channel").to_frame()
    long["row"] = np.repeat(np.arange(len(journeys)), split.str.len().to_numpy())
    long = long.reset_index(drop=True)
    if (long["channel"] == "").any():
        raise ValueError(
            f"journeys: some paths in '{path_col}' have empty steps (e.g. 'a >  > b'); fix the "
            "path strings."
        )
    long["pos"] = long.groupby("row", sort=False).cumcount()
    long["n"] = long.groupby("row", sort=False)["channel"].transform("size")
    return long


def touch_attribution(
    journeys: pd.DataFrame,
    model: Literal["first_touch", "last_touch", "linear"] = "last_touch",
    *,
    path_col: str = "path",
    value_col: str | None = "value",
    sep: str = SEP,
) -> pd.DataFrame:
    """Rule-based attribution of converting journeys to channels.

    ``first_touch`` gives each conversion to the first channel of its path, ``last_touch``
    to the last one, ``linear`` splits it equally over all touches (a channel touched twice
    gets two shares). Columns: ``channel``, ``conversions`` (credited, fractional for
    linear), ``share`` and ``value`` (credited ``value_col``, if the journeys have it).
    """
    if model not in ("first_touch", "last_touch", "linear"):
        raise ValueError(
            f"touch_attribution: model={model!r}; use 'first_touch', 'last_touch' or 'linear' "
            "(or MarkovAttribution for the data-driven model)."
        )
    _check_journeys(journeys, path_col)
    conv = journeys.loc[journeys["outcome"].astype("str") == "conversion"].reset_index(drop=True)
    if len(conv) == 0:
        raise ValueError("journeys: no converting journeys (outcome 'conversion'); nothing to attribute.")
    has_value = value_col is not None and value_col in conv.columns
    long = _tokens(conv, path_col, sep)
    if model == "first_touch":
        long["credit"] = (long["pos"] == 0).astype("float64")
    elif model == "last_touch":
        long["credit"] = (long["pos"] == long["n"] - 1).astype("float64")
    else:
        long["credit"] = 1.0 / long["n"]
    long["value"] = long["credit"] * (conv[value_col].to_numpy(dtype="float64")[long["row"]]
                                      if has_value else 0.0)
    g = long.groupby("channel", sort=True)
    out = pd.DataFrame({"conversions": g["credit"].sum()})
    out["share"] = out["conversions"] / out["conversions"].sum()
    if has_value:
        out["value"] = g["value"].sum()
    return out.reset_index()


class MarkovAttribution:
    """First-order Markov-chain attribution with the removal effect (Anderl et al. 2016).

    Each journey becomes a path ``(start) -> c1 -> ... -> ck -> (conversion) | (null)``.
    ``fit`` counts the transitions between states, normalises them into the transition
    matrix, and solves the absorbing chain for ``P(conversion | start)``. The *removal
    effect* of channel ``c`` is the relative drop of that probability when ``c`` is removed
    (every transition into ``c`` goes to ``(null)`` instead):
    ``RE_c = 1 - P_without_c / P``. Conversions (and value) are shared in proportion to the
    removal effects.

    Input (``fit(journeys)``): one row per journey, as :func:`journeys` returns it.
    Needed columns:

    * ``path_col`` (default ``"path"``): the channels touched, in order, joined by ``sep``
      (``"search > email > direct"``);
    * ``outcome``: how the journey ended, one of ``"conversion"``, ``"null"`` (the customer
      left without buying) or ``"open"`` (the data end before either; see ``open_paths``).
      The column name is fixed: rename yours to ``outcome`` (a boolean "converted" flag maps
      to ``"conversion"``/``"null"``);
    * ``value_col`` (default ``"value"``, optional; ``None`` to skip): the converting
      journey's revenue, shared out like the conversions.

    Parameters
    ----------
    open_paths : "null", "drop" or "raise"
        What to do with journeys whose outcome is ``"open"`` (no terminal state yet):
        treat them as not converted (the default, the usual convention at the data end),
        drop them (counted in ``n_dropped_``) or raise ``ValueError``.
    collapse_repeats : bool
        Merge consecutive repeats of a channel (``a > a > b`` -> ``a > b``). Self-loops do
        not change absorption probabilities, but they change the transition counts shown.

    Learned attributes: ``states_``, ``transition_counts_``, ``transition_matrix_`` (rows sum
    to 1; absorbing states map to themselves), ``conversion_probability_``,
    ``removal_effects_`` (Series by channel), ``attribution_`` (DataFrame: ``channel``,
    ``removal_effect``, ``share``, ``conversions``, ``value``), ``n_dropped_``.
    """

    def __init__(
        self,
        open_paths: Literal["null", "drop", "raise"] = "null",
        collapse_repeats: bool = False,
        path_col: str = "path",
        value_col: str | None = "value",
        sep: str = SEP,
    ) -> None:
        self.open_paths = open_paths
        self.collapse_repeats = collapse_repeats
        self.path_col = path_col
        self.value_col = value_col
        self.sep = sep

    def fit(self, journeys: pd.DataFrame, y: None = None) -> MarkovAttribution:
        """Estimate the transition matrix and the removal effects from ``journeys``."""
        if self.open_paths not in ("null", "drop", "raise"):
            raise ValueError(
                f"MarkovAttribution: open_paths={self.open_paths!r}; use 'null', 'drop' or 'raise'."
            )
        _check_journeys(journeys, self.path_col)
        outcome = journeys["outcome"].astype("str")
        is_open = (outcome == "open").to_numpy()
        self.n_dropped_ = 0
        if is_open.any():
            if self.open_paths == "raise":
                raise ValueError(
                    f"journeys: {int(is_open.sum())} journeys are still open (outcome 'open': no "
                    "terminal state yet); pass open_paths='null' to count them as not converted "
                    "or 'drop' to leave them out."
                )
            if self.open_paths == "drop":
                self.n_dropped_ = int(is_open.sum())
                journeys = journeys.loc[~is_open]
                outcome = outcome.loc[~is_open]
        journeys = journeys.reset_index(drop=True)
        converted = (outcome == "conversion").to_numpy()
        if not converted.any():
            raise ValueError(
                "journeys: no converting journeys; the removal effect is undefined when "
                "nothing converts."
            )
        long = _tokens(journeys, self.path_col, self.sep)
        if self.collapse_repeats:
            prev = long.groupby("row", sort=False)["channel"].shift(1)
            long = long.loc[long["channel"] != prev].reset_index(drop=True)
            long["pos"] = long.groupby("row", sort=False).cumcount()
        channels = sorted(long["channel"].unique())
        states = [START, *channels, CONVERSION, NULL]
        index = {s: i for i, s in enumerate(states)}
        code = long["channel"].map(index).to_numpy(dtype=np.int64)
        row = long["row"].to_numpy()
        first = long["pos"].to_numpy() == 0
        last = np.r_[row[1:] != row[:-1], True]
        terminal = np.where(converted, index[CONVERSION], index[NULL])
        src = np.r_[np.full(int(first.sum()), index[START]), code[~last], code[last]]
        dst = np.r_[code[first], code[1:][~last[:-1]], terminal[row[last]]]
        k = len(states)
        counts = np.bincount(src * k + dst, minlength=k * k).reshape(k, k).astype("float64")
        probs = counts / np.where(counts.sum(axis=1, keepdims=True) > 0,
                                  counts.sum(axis=1, keepdims=True), 1.0)
        probs[index[CONVERSION], index[CONVERSION]] = 1.0
        probs[index[NULL], index[NULL]] = 1.0
        self.states_ = states
        self.transition_counts_ = pd.DataFrame(counts, index=states, columns=states).astype("int64")
        self.transition_matrix_ = pd.DataFrame(probs, index=states, columns=states)
        base = self._p_conversion(probs, removed=None)
        self.conversion_probability_ = base
        effects = {c: 1.0 - self._p_conversion(probs, removed=index[c]) / base for c in channels}
        self.removal_effects_ = pd.Series(effects, name="removal_effect", dtype="float64")
        self.removal_effects_.index.name = "channel"
        total = float(self.removal_effects_.sum())
        share = self.removal_effects_ / total
        out = pd.DataFrame({"removal_effect": self.removal_effects_, "share": share,
                            "conversions": share * float(converted.sum())})
        if self.value_col is not None and self.value_col in journeys.columns:
            total_value = float(journeys.loc[converted, self.value_col].sum())
            out["value"] = share * total_value
        self.attribution_ = out.reset_index()
        return self

    @staticmethod
    def _p_conversion(probs: np.ndarray, removed: int | None) -> float:
        """P(absorbed in conversion | start) of the chain, optionally with a state removed."""
        k = probs.shape[0]
        conv, null = k - 2, k - 1
        p = probs.copy()
        if removed is not None:
            p[removed, :] = 0.0
            p[removed, null] = 1.0  # entering the removed channel ends the journey unconverted
        transient = np.arange(k - 2)
        q = p[np.ix_(transient, transient)]
        r = p[transient, conv]
        x = np.linalg.solve(np.eye(len(transient)) - q, r)
        return float(x[0])

    def transform(self, journeys: pd.DataFrame | None = None) -> pd.DataFrame:
        """The fitted attribution table (``journeys`` is accepted for the sklearn shape)."""
        if not hasattr(self, "attribution_"):
            raise ValueError("MarkovAttribution: call fit(journeys) first.")
        return self.attribution_.copy()

    def fit_transform(self, journeys: pd.DataFrame, y: None = None) -> pd.DataFrame:
        """``fit(journeys)`` then return the attribution table."""
        return self.fit(journeys).transform()


def markov_attribution(journeys: pd.DataFrame, **params: object) -> pd.DataFrame:
    """Markov-chain attribution table; ``params`` go to :class:`MarkovAttribution`."""
    return MarkovAttribution(**params).fit_transform(journeys)  # type: ignore[arg-type]


def attribution_table(
    journeys: pd.DataFrame,
    *,
    path_col: str = "path",
    open_paths: Literal["null", "drop", "raise"] = "null",
    sep: str = SEP,
) -> pd.DataFrame:
    """Conversions credited to each channel by first touch, last touch, linear and Markov.

    Index ``channel``; one column per model; every column sums to the number of converting
    journeys, so the columns can be compared directly.
    """
    cols = {}
    for model in ("first_touch", "last_touch", "linear"):
        t = touch_attribution(journeys, model, path_col=path_col, value_col=None, sep=sep)
        cols[model] = t.set_index("channel")["conversions"]
    m = MarkovAttribution(open_paths=open_paths, path_col=path_col, value_col=None, sep=sep)
    cols["markov"] = m.fit(journeys).attribution_.set_index("channel")["conversions"]
    out = pd.DataFrame(cols).fillna(0.0)
    out.index.name = "channel"
    return out.sort_values("markov", ascending=False)


# --------------------------------------------------------------------------------------
# cohorts
# --------------------------------------------------------------------------------------


def _month_number(ts: pd.Series) -> np.ndarray:
    return ts.to_numpy(dtype="datetime64[M]").astype(np.int64)


@reads(customers="")
def cohort_table(
    customers: pd.DataFrame,
    activity: pd.DataFrame,
    *,
    customer_col: str = "customer_id",
    signup_col: str | None = "signup_ts",
    ts_col: str = "order_ts",
    end: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Monthly cohorts: who of each signup month was active ``period`` months later.

    The cohort of a customer is the calendar month (label: its first day, "MS") of
    ``signup_col``; with ``signup_col=None`` it is the month of their first activity
    (first-purchase cohorts). A customer is *active* in period ``k`` (months after the
    cohort month, 0 = the cohort month itself) if ``activity`` (orders, sessions, ...) has a
    row for them in that month. Periods after ``end``'s month (default: the last activity)
    are not observed and left out, so they show as NaN in :func:`retention_matrix`
    rather than as a false 0.

    Columns: ``cohort`` (Timestamp, month start), ``period``, ``cohort_size``, ``active``,
    ``retention`` (= active / cohort_size). Activity of unknown customers or before the
    signup month raises ``ValueError``.
    """
    customers = as_frame(customers, "customers")
    activity = as_frame(activity, "activity")
    require_columns(customers, "customers", [customer_col] + ([signup_col] if signup_col else []))
    require_columns(activity, "activity", [customer_col, ts_col])
    act_ts = datetime_column(activity, "activity", ts_col)
    _no_missing(activity, "activity", customer_col)
    _no_missing(customers, "customers", customer_col)
    if customers[customer_col].duplicated().any():
        raise ValueError(
            f"customers: column '{customer_col}' has duplicated ids; keep one row per customer."
        )
    cust_ids = customers[customer_col].to_numpy()
    pos = pd.Index(cust_ids).get_indexer(activity[customer_col].to_numpy())
    if (pos < 0).any():
        raise ValueError(
            f"activity: {int((pos < 0).sum())} rows belong to customers not in the customers "
            f"table (column '{customer_col}'); filter activity to known customers first."
        )
    act_month = _month_number(act_ts)
    if signup_col is not None:
        cohort_month = _month_number(datetime_column(customers, "customers", signup_col))
    else:
        first = pd.Series(act_month).groupby(pos).min()
        cohort_month = np.full(len(customers), np.iinfo(np.int64).min, dtype=np.int64)
        cohort_month[first.index.to_numpy()] = first.to_numpy()
    period = act_month - cohort_month[pos]
    if (period < 0).any():
        raise ValueError(
            f"activity: {int((period < 0).sum())} rows in '{ts_col}' fall before the customer's "
            f"signup month ('{signup_col}'); fix the dates or use signup_col=None for "
            "first-activity cohorts."
        )
    end_month = (int(act_month.max()) if end is None
                 else int(np.datetime64(as_timestamp(end, "end"), "M").astype(np.int64)))
    has_cohort = cohort_month > np.iinfo(np.int64).min
    sizes = pd.Series(cohort_month[has_cohort]).value_counts().sort_index()
    sizes = sizes[sizes.index <= end_month]
    active = (pd.DataFrame({"cohort": cohort_month[pos], "period": period, "pos": pos})
              .drop_duplicates().groupby(["cohort", "period"]).size())
    rows = []
    for c, size in sizes.items():
        n_periods = end_month - int(c) + 1
        rows.append(pd.DataFrame({"cohort": int(c), "period": np.arange(n_periods),
                                  "cohort_size": int(size)}))
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        {"cohort": pd.Series(dtype="int64"), "period": pd.Series(dtype="int64"),
         "cohort_size": pd.Series(dtype="int64")})
    key = pd.MultiIndex.from_frame(out[["cohort", "period"]])
    out["active"] = active.reindex(key, fill_value=0).to_numpy(dtype="int64")
    out["retention"] = out["active"] / out["cohort_size"]
    out["cohort"] = out["cohort"].to_numpy().astype("datetime64[M]").astype("datetime64[ns]")
    out["period"] = out["period"].astype("int64")
    return out


def retention_matrix(cohorts: pd.DataFrame, value: str = "retention") -> pd.DataFrame:
    """Wide cohort matrix (rows: cohort month, columns: period) from :func:`cohort_table`."""
    cohorts = as_frame(cohorts, "cohorts")
    require_columns(cohorts, "cohorts", ["cohort", "period", value],
             "Build it with crmlab.journey.cohort_table(customers, orders).")
    wide = cohorts.pivot(index="cohort", columns="period", values=value)
    wide.columns.name = "period"
    return wide


# --------------------------------------------------------------------------------------
# hot products
# --------------------------------------------------------------------------------------


def _zscore(values: pd.Series) -> pd.Series:
    sd = values.std(ddof=0)
    if not np.isfinite(sd) or sd == 0:
        return pd.Series(0.0, index=values.index)
    return (values - values.mean()) / sd


@reads(orders="order_id customer_id order_ts",
       order_items="order_id product_id quantity",
       events="customer_id event_type ts",
       products=Reads("products", optional=True))
def hot_products(
    orders: pd.DataFrame,
    order_items: pd.DataFrame,
    events: pd.DataFrame,
    products: pd.DataFrame | None = None,
    *,
    end: str | pd.Timestamp | None = None,
    weeks: int = 4,
    weights: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Score products on the four "hot product" signals of the course over the last ``weeks``.

    Window: the ``weeks`` weeks ending at ``end`` (default: the last order time), i.e.
    ``(end - weeks, end]``. Signals per product:

    * ``weekly_sales`` — units sold in the window / ``weeks``;
    * ``first_visitor_conversion`` — the course source's signal: of the customers who viewed
      the product for the first time ever in the window (first-time visitors of its page),
      the share who bought it after that view, by ``end``; 0 where nobody saw it for the
      first time;
    * ``first_buyer_share`` — of the window's orders containing the product, the share that
      were the customer's first order ever (does it bring in new customers?); 0 if unsold
      (weight 0 by default: a different question from the source's);
    * ``favorites`` — ``favorite`` events in the window;
    * ``views`` — ``product_view`` events in the window.

    Each signal is standardised across products (z-score, population sd; a constant signal
    scores 0) and ``score = sum_k w_k z_k`` with ``weights`` normalised to sum to 1 (default
    :data:`HOT_WEIGHTS`: sales 0.4; first-visitor conversion, favourites and views 0.2 each). Products are those of ``products``
    if given (with ``name``/``category`` when present), else every product seen in the
    window. Sorted by ``score`` (descending) with ``rank`` 1..n.
    """
    w = dict(HOT_WEIGHTS if weights is None else weights)
    unknown = set(w) - set(HOT_WEIGHTS)
    if unknown:
        raise ValueError(f"hot_products: unknown weight(s) {sorted(unknown)}; use {sorted(HOT_WEIGHTS)}.")
    if any((not np.isfinite(v)) or v < 0 for v in w.values()) or sum(w.values()) <= 0:
        raise ValueError("hot_products: weights must be non-negative numbers with a positive sum.")
    if isinstance(weeks, bool) or not isinstance(weeks, int | np.integer) or weeks < 1:
        raise ValueError(f"hot_products: weeks={weeks!r} must be a positive whole number, e.g. 4.")
    total = sum(w.values())
    w = {k: w.get(k, 0.0) / total for k in HOT_WEIGHTS}
    as_frame(orders, "orders")
    as_frame(order_items, "order_items")
    as_frame(events, "events")
    require_columns(orders, "orders", ["order_id", "customer_id", "order_ts"])
    require_columns(order_items, "order_items", ["order_id", "product_id", "quantity"])
    require_columns(events, "events", ["ts", "event_type", "product_id", "customer_id"])
    order_ts = datetime_column(orders, "orders", "order_ts")
    ev_ts = datetime_column(events, "events", "ts")
    end = order_ts.max() if end is None else as_timestamp(end, "end")
    start = end - pd.Timedelta(weeks=int(weeks))
    first_order = (orders.assign(_ts=order_ts).sort_values(["customer_id", "_ts", "order_id"])
                   .groupby("customer_id", sort=False)["order_id"].first())
    in_win = orders.loc[(order_ts > start) & (order_ts <= end), ["order_id", "customer_id"]]
    in_win = in_win.assign(is_first=in_win["order_id"].isin(first_order.to_numpy()))
    lines = order_items.merge(in_win, on="order_id", how="inner")
    per_order = lines.drop_duplicates(["order_id", "product_id"])
    sales = lines.groupby("product_id")["quantity"].sum() / weeks
    first_share = per_order.groupby("product_id")["is_first"].mean()
    ev = events.loc[(ev_ts > start) & (ev_ts <= end) & events["product_id"].notna(),
                    ["event_type", "product_id"]]
    ev_type = ev["event_type"].astype("str")
    favs = ev.loc[ev_type == "favorite"].groupby("product_id").size()
    views = ev.loc[ev_type == "product_view"].groupby("product_id").size()
    first_conv = _first_visitor_conversion(orders, order_items, events, ev_ts, start, end)
    if products is not None:
        as_frame(products, "products")
        require_columns(products, "products", ["product_id"])
        ids = pd.Index(products["product_id"].to_numpy())
    else:
        ids = pd.Index(sorted(set(sales.index) | set(favs.index) | set(views.index)))
    out = pd.DataFrame(index=ids)
    out.index.name = "product_id"
    out["weekly_sales"] = sales.reindex(ids, fill_value=0).astype("float64").to_numpy()
    out["first_visitor_conversion"] = first_conv.reindex(ids).astype("float64").fillna(0.0).to_numpy()
    out["first_buyer_share"] = first_share.reindex(ids).astype("float64").fillna(0.0).to_numpy()
    out["favorites"] = favs.reindex(ids, fill_value=0).astype("int64").to_numpy()
    out["views"] = views.reindex(ids, fill_value=0).astype("int64").to_numpy()
    score = pd.Series(0.0, index=out.index)
    for k, wk in w.items():
        out[f"z_{k}"] = _zscore(out[k].astype("float64"))
        score = score + wk * out[f"z_{k}"]
    out["score"] = score
    out = out.reset_index()
    if products is not None:
        extra = [c for c in ("name", "category") if c in products.columns]
        if extra:
            out = out.merge(products[["product_id", *extra]], on="product_id", how="left")
            out = out[["product_id", *extra, *[c for c in out.columns if c not in ("product_id", *extra)]]]
    out = out.sort_values(["score", "product_id"], ascending=[False, True], kind="stable")
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out.reset_index(drop=True)


def _first_visitor_conversion(orders: pd.DataFrame, order_items: pd.DataFrame, events: pd.DataFrame,
                              ev_ts: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """Per product: of the customers who viewed it for the first time ever in ``(start, end]``,
    the share who bought it after that view, by ``end``."""
    views = events.loc[(events["event_type"].astype("str") == "product_view") & events["product_id"].notna(),
                       ["customer_id", "product_id"]].assign(_ts=ev_ts)
    first = views.sort_values("_ts", kind="stable").drop_duplicates(["customer_id", "product_id"])
    first = first.loc[(first["_ts"] > start) & (first["_ts"] <= end)]
    lines = (orders[["order_id", "customer_id", "order_ts"]]
             .merge(order_items[["order_id", "product_id"]], on="order_id"))
    lines = lines.loc[lines["order_ts"] <= end]
    joined = first.merge(lines, on=["customer_id", "product_id"], how="left")
    joined["bought"] = joined["order_ts"] >= joined["_ts"]
    per_viewer = joined.groupby(["customer_id", "product_id"], as_index=False)["bought"].any()
    return per_viewer.groupby("product_id")["bought"].mean()


# --------------------------------------------------------------------------------------
# order value decomposition (平均訂單價值, AOV)
# --------------------------------------------------------------------------------------

ORDER_VALUE_FACTORS = ("visitors", "conversion_rate", "orders_per_buyer", "items_per_order",
                       "unit_price")
TRAFFIC_FACTORS = ("traffic", "stay_rate", "attention_rate", "conversion_rate",
                   "items_per_order", "unit_price")


def _online_orders(orders: pd.DataFrame, online_only: bool) -> tuple[pd.DataFrame, int]:
    as_frame(orders, "orders")
    require_columns(orders, "orders", ["customer_id", "order_ts", "amount", "n_items"])
    datetime_column(orders, "orders", "order_ts")
    if not online_only:
        return orders, 0
    require_columns(orders, "orders", ["session_id"], "online_only=True needs orders.session_id.")
    online = orders["session_id"].notna()
    return orders.loc[online], int((~online).sum())


def _grouped(df: pd.DataFrame, ts_col: str, freq: str | None) -> pd.core.groupby.DataFrameGroupBy:
    if freq is None:
        return df.assign(period="all").groupby("period")
    try:
        grouper = pd.Grouper(key=ts_col, freq=freq)
        return df.groupby(grouper)
    except ValueError as exc:
        raise ValueError(f"freq={freq!r} is not a pandas frequency; use e.g. 'MS' or 'W'.") from exc


@reads(sessions="customer_id start_ts", orders="")
def order_value_decomposition(
    sessions: pd.DataFrame,
    orders: pd.DataFrame,
    *,
    freq: str | None = None,
    online_only: bool = True,
) -> pd.DataFrame:
    """Revenue = visitors x conversion rate x orders per buyer x items per order x unit price.

    ``visitors`` = distinct customers with a session, ``conversion_rate`` = buyers /
    visitors (buyers = distinct customers with an order), ``orders_per_buyer``,
    ``items_per_order`` (= ``n_items`` / orders) and ``unit_price`` (= revenue / items).
    The product telescopes to ``revenue`` exactly; ``aov`` (average order value, 平均訂單價值: revenue per order) =
    items per order x unit price. With ``freq`` (e.g. ``"MS"``) one row per period (sessions
    by ``start_ts``, orders by ``order_ts``), else a single row ``"all"``.

    Only online orders (with a ``session_id``) count by default, because store orders have no
    website session; ``result.attrs["n_offline_orders"]`` says how many were left out. The column
    ``check`` is the product of the factors, which equals ``revenue``.
    """
    sessions = as_frame(sessions, "sessions")
    require_columns(sessions, "sessions", ["customer_id", "start_ts"])
    datetime_column(sessions, "sessions", "start_ts")
    orders, n_off = _online_orders(orders, online_only)
    vis = _grouped(sessions, "start_ts", freq)["customer_id"].nunique().rename("visitors")
    og = _grouped(orders, "order_ts", freq)
    counts = [
        vis,
        og["customer_id"].nunique().rename("buyers"),
        og.size().rename("orders"),
        og["n_items"].sum().rename("items"),
        og["amount"].sum().rename("revenue"),
    ]
    ratios = {"conversion_rate": ("buyers", "visitors"), "orders_per_buyer": ("orders", "buyers"),
              "items_per_order": ("items", "orders"), "unit_price": ("revenue", "items"),
              "aov": ("revenue", "orders")}
    return _factor_chain(counts, ratios, ORDER_VALUE_FACTORS, n_off)


@reads(sessions="start_ts n_events", orders="")
def traffic_decomposition(
    sessions: pd.DataFrame,
    orders: pd.DataFrame,
    *,
    freq: str | None = None,
    depth_col: str = "funnel_depth",
    attention_step: str = "product_view",
) -> pd.DataFrame:
    """The course deck's chain: traffic x stay x attention x conversion x items x price.

    On sessions: ``traffic`` = sessions; ``stay_rate`` = share of sessions that did not
    bounce (more than one event, ``n_events >= 2``); ``attention_rate`` = share of staying
    sessions that reached ``attention_step`` (looked at a product); ``conversion_rate`` =
    online orders / attentive sessions; ``items_per_order``; ``unit_price`` = revenue /
    items. The product equals online ``revenue`` (column ``check``). With ``freq`` one row
    per period.
    """
    sessions = as_frame(sessions, "sessions")
    require_columns(sessions, "sessions", ["start_ts", "n_events", depth_col])
    datetime_column(sessions, "sessions", "start_ts")
    orders, n_off = _online_orders(orders, True)
    depth = _codes(sessions[depth_col].astype("str"), FUNNEL_STEPS)
    if attention_step not in FUNNEL_STEPS:
        raise ValueError(f"traffic_decomposition: attention_step must be one of {list(FUNNEL_STEPS)}.")
    stayed = sessions["n_events"].to_numpy() >= 2
    s = pd.DataFrame({"start_ts": sessions["start_ts"], "stayed": stayed,
                      "attentive": stayed & (depth >= FUNNEL_STEPS.index(attention_step))})
    sg = _grouped(s, "start_ts", freq)
    og = _grouped(orders, "order_ts", freq)
    counts = [
        sg.size().rename("traffic"),
        sg["stayed"].sum().rename("stayed"),
        sg["attentive"].sum().rename("attentive"),
        og.size().rename("orders"),
        og["n_items"].sum().rename("items"),
        og["amount"].sum().rename("revenue"),
    ]
    ratios = {"stay_rate": ("stayed", "traffic"), "attention_rate": ("attentive", "stayed"),
              "conversion_rate": ("orders", "attentive"), "items_per_order": ("items", "orders"),
              "unit_price": ("revenue", "items")}
    return _factor_chain(counts, ratios, TRAFFIC_FACTORS, n_off)


def _factor_chain(
    counts: list[pd.Series], ratios: Mapping[str, tuple[str, str]], factors: Sequence[str], n_off: int
) -> pd.DataFrame:
    """The table of a telescoping decomposition: per-period counts (0 where a period has none;
    all but ``revenue`` are whole numbers), each ratio ``name = numerator / denominator``,
    and ``check`` = the product of ``factors``, which equals revenue when the chain telescopes."""
    out = pd.concat(counts, axis=1).fillna(0)
    for col in out.columns.drop("revenue"):
        out[col] = out[col].astype("int64")
    with np.errstate(divide="ignore", invalid="ignore"):
        for name, (numerator, denominator) in ratios.items():
            out[name] = out[numerator] / out[denominator]
    check = np.ones(len(out))
    for f in factors:
        check = check * out[f].astype("float64").to_numpy()
    out["check"] = check
    out.index.name = "period"
    out = out.reset_index()
    out.attrs["n_offline_orders"] = n_off
    return out


def decompose_change(
    before: pd.Series | Mapping[str, float],
    after: pd.Series | Mapping[str, float],
    factors: Sequence[str] = ORDER_VALUE_FACTORS,
) -> pd.DataFrame:
    """Which factor moved revenue? Log-change contributions between two periods.

    Because revenue is a product of factors, ``ln(R_after / R_before) = sum_k ln(f_k,after /
    f_k,before)``: each factor's log ratio is its additive contribution, and
    ``share_of_change`` divides by the total log change (shares sum to 1). Pass two rows of
    :func:`order_value_decomposition` (or of :func:`traffic_decomposition` with
    ``factors=TRAFFIC_FACTORS``).
    """
    rows = []
    for f in factors:
        try:
            b, a = float(before[f]), float(after[f])
        except KeyError:
            raise ValueError(f"decompose_change: factor '{f}' missing; pass rows that hold {list(factors)}.") from None
        if not (b > 0 and a > 0):
            raise ValueError(
                f"decompose_change: factor '{f}' must be positive in both periods (got {b}, {a}); "
                "pick periods with visitors and orders."
            )
        rows.append({"factor": f, "before": b, "after": a, "ratio": a / b,
                     "log_contribution": float(np.log(a / b))})
    out = pd.DataFrame(rows)
    total = out["log_contribution"].sum()
    out["share_of_change"] = out["log_contribution"] / total if total != 0 else np.nan
    return out


# --------------------------------------------------------------------------------------
# 客單價: money per buying customer, and the source's six-factor chain
# --------------------------------------------------------------------------------------

#: The source's chain for 客單價 (money per buying customer), in its order.
PER_BUYER_FACTORS = ("path_length", "stay_rate", "attention_rate", "purchase_rate",
                     "items_per_order", "unit_price")

#: Calendar periods of :func:`per_buyer_value_decomposition` (pandas period aliases).
PERIODS = ("M", "Q", "Y", "W")

#: Event types that count as "attention" (注目): the visitor marks or picks up the product.
ATTENTION_EVENTS = ("favorite", "add_to_cart")


def _product_views_with_dwell(events: pd.DataFrame) -> pd.DataFrame:
    """Product views with their dwell time: seconds until the visitor's next event in the same
    session (NaN for the last event of a session: nothing shows how long the visitor stayed)."""
    ev = events.sort_values(["session_id", "ts", "event_id"])
    nxt = ev.groupby("session_id")["ts"].shift(-1)
    ev = ev.assign(dwell_s=(nxt - ev["ts"]).dt.total_seconds())
    return ev.loc[ev["event_type"] == "product_view"]


@reads(events="event_id session_id customer_id ts event_type", orders="")
def per_buyer_value_decomposition(
    events: pd.DataFrame,
    orders: pd.DataFrame,
    *,
    min_dwell_seconds: float = 10.0,
    freq: str | None = None,
) -> pd.DataFrame:
    """客單價 (money per buying customer) as the source decomposes it, measured on the event log.

    客單價 = 動線長度 x 停留率 x 注目率 x 購買率 x 購買個數 x 商品單價, over the customers who bought
    online in the period (buyers = distinct customers with an order that has a ``session_id``):

    * ``path_length`` (動線長度) = product pages the buyers viewed / buyers;
    * ``stay_rate`` (停留率) = views where the buyer stayed at least ``min_dwell_seconds`` before
      the next event of the session / views (the last view of a session has no measured dwell
      and counts as not stayed);
    * ``attention_rate`` (注目率) = attention events (``favorite`` or ``add_to_cart``; one per
      session and product) / stayed views;
    * ``purchase_rate`` (購買率) = online orders / attention events;
    * ``items_per_order`` (購買個數) = items (``n_items``) / orders;
    * ``unit_price`` (商品單價) = revenue / items.

    The chain telescopes: the product (column ``check``) equals ``per_buyer_value`` = revenue /
    buyers exactly, which also equals ``orders_per_buyer`` x ``aov`` (the two-factor view).
    Only events of buyers in the period count, so every factor describes the same people. With
    ``freq`` (``"M"``, ``"Q"``, ``"Y"`` or ``"W"``) one row per calendar period, labelled by its
    first day (events by ``ts``, orders by ``order_ts``; buyers are counted per period).
    ``attrs["n_offline_orders"]`` counts store orders left out (no website events).
    """
    func = "per_buyer_value_decomposition"
    events = as_frame(events, "events")
    require_columns(events, "events", ["event_id", "session_id", "customer_id", "ts", "event_type",
                                "product_id"])
    datetime_column(events, "events", "ts")
    if not (isinstance(min_dwell_seconds, int | float) and np.isfinite(min_dwell_seconds)
            and min_dwell_seconds >= 0):
        raise ValueError(f"{func}: min_dwell_seconds={min_dwell_seconds!r} must be a number >= 0, e.g. 10.")
    orders, n_off = _online_orders(orders, True)
    if freq is not None and freq not in PERIODS:
        raise ValueError(f"{func}: freq={freq!r}; use None (one row) or one of {list(PERIODS)} "
                         "(month, quarter, year, week).")

    def period(ts: pd.Series) -> pd.Series:
        if freq is None:
            return pd.Series("all", index=ts.index)
        return ts.dt.to_period(freq).dt.start_time

    o = orders.assign(period=period(orders["order_ts"]))
    ev = events.assign(period=period(events["ts"]))
    buyers = o[["period", "customer_id"]].drop_duplicates()
    ev = ev.merge(buyers, on=["period", "customer_id"], how="inner")
    views = _product_views_with_dwell(ev)
    views = views.assign(stayed=views["dwell_s"] >= min_dwell_seconds)
    attention = (ev.loc[ev["event_type"].isin(ATTENTION_EVENTS), ["period", "session_id", "product_id"]]
                 .drop_duplicates())
    counts = [
        buyers.groupby("period").size().rename("buyers"),
        views.groupby("period").size().rename("views"),
        views.groupby("period")["stayed"].sum().rename("stayed"),
        attention.groupby("period").size().rename("attention"),
        o.groupby("period").size().rename("orders"),
        o.groupby("period")["n_items"].sum().rename("items"),
        o.groupby("period")["amount"].sum().rename("revenue"),
    ]
    ratios = {"path_length": ("views", "buyers"), "stay_rate": ("stayed", "views"),
              "attention_rate": ("attention", "stayed"), "purchase_rate": ("orders", "attention"),
              "items_per_order": ("items", "orders"), "unit_price": ("revenue", "items"),
              "per_buyer_value": ("revenue", "buyers"), "orders_per_buyer": ("orders", "buyers"),
              "aov": ("revenue", "orders")}
    return _factor_chain(counts, ratios, PER_BUYER_FACTORS, n_off)


# --------------------------------------------------------------------------------------
# selling points (賣點挖掘): Feature -> Advantage -> Benefit, mined from reviews
# --------------------------------------------------------------------------------------

#: The FAB ladder of the shop's selling points: a feature customers praise (found by its
#: keywords in 4-5 star reviews), the advantage it gives and the benefit the customer buys.
FAB = pd.DataFrame(
    [("durable material", ("durable", "sturdy", "build quality"), "lasts longer", "fewer replacements: better value"),
     ("true to size", ("true to size", "fits perfectly", "fits well"), "fits on the first try", "no return hassle"),
     ("gift-ready packaging", ("packaging", "wrapped", "gift box"), "ready to give", "saves time when buying gifts"),
     ("fast delivery", ("fast", "quickly", "early"), "arrives when needed", "no waiting, no worry"),
     ("good price", ("good value", "great price", "worth every"), "costs less than alternatives", "money left for more")],
    columns=["feature", "keywords", "advantage", "benefit"],
)


@reads(reviews="product_id stars text",
       events="customer_id ts event_type product_id",
       orders="order_id customer_id order_ts",
       order_items="order_id product_id")
def selling_points(
    reviews: pd.DataFrame,
    events: pd.DataFrame,
    orders: pd.DataFrame,
    order_items: pd.DataFrame,
    *,
    fab: pd.DataFrame = FAB,
    min_reviews: int = 3,
) -> pd.DataFrame:
    """Per product: how often its happy reviewers praise each selling point, and how well its
    page converts.

    ``<feature>`` columns = share of the product's 4-5 star reviews mentioning any of the
    feature's keywords (lower case); ``n_praise`` = number of those reviews; ``viewers`` =
    customers who viewed the product; ``conversion`` = share of them who bought it at some time
    after their first view. Products with fewer than ``min_reviews`` praising reviews are left
    out (their shares are noise); ``attrs["left_out"]`` counts them.
    """
    require_columns(fab, "fab", ["feature", "keywords"])  # not a shop table: checked here
    if isinstance(min_reviews, bool) or not isinstance(min_reviews, int | np.integer) or min_reviews < 1:
        raise ValueError(f"selling_points: min_reviews={min_reviews!r} must be a whole number >= 1.")
    happy = reviews.loc[reviews["stars"] >= 4, ["product_id", "text"]]
    text = happy["text"].astype("str").str.lower()
    shares = pd.DataFrame(index=happy.index)
    for feature, keywords in zip(fab["feature"], fab["keywords"], strict=True):
        shares[feature] = text.str.contains(keyword_pattern(keywords), regex=True)
    per_product = shares.groupby(happy["product_id"]).mean()
    per_product.insert(0, "n_praise", happy.groupby("product_id").size())
    kept = per_product.loc[per_product["n_praise"] >= min_reviews]
    ts = datetime_column(events, "events", "ts")
    views = events.loc[events["event_type"].astype("str") == "product_view", ["customer_id", "product_id"]].assign(_ts=ts)
    first = views.sort_values("_ts", kind="stable").drop_duplicates(["customer_id", "product_id"])
    bought = (orders[["order_id", "customer_id", "order_ts"]].merge(order_items[["order_id", "product_id"]], on="order_id")
              .groupby(["customer_id", "product_id"])["order_ts"].max().rename("last_buy").reset_index())
    first = first.merge(bought, on=["customer_id", "product_id"], how="left")
    first["bought"] = first["last_buy"] >= first["_ts"]
    conv = first.groupby("product_id").agg(viewers=("customer_id", "size"), conversion=("bought", "mean"))
    out = kept.join(conv, how="left").fillna({"viewers": 0})
    out.attrs["left_out"] = int(len(per_product) - len(kept))
    return out.reset_index()


def keyword_pattern(keywords: Sequence[str]) -> str:
    """A regular expression matching any of ``keywords`` literally, in lower case (for
    ``Series.str.lower().str.contains(pattern)``)."""
    import re

    return "|".join(re.escape(str(k).lower()) for k in keywords)


def selling_point_conversion(points: pd.DataFrame, fab: pd.DataFrame = FAB, level: float = 0.95) -> pd.DataFrame:
    """Which selling points go with conversion? Spearman's rho across products between the
    share of praise for each feature and the page conversion, with a Fisher-z interval
    (se = 1.06 / sqrt(n - 3), Fieller et al. 1957). Association, not cause: praise and sales
    may both follow from a third thing (price, category, quality)."""
    require_columns(points, "points", ["conversion", *fab["feature"]])
    z = _level_z(level)
    rows = []
    ok = points.dropna(subset=["conversion"])
    for feature, adv, ben in zip(fab["feature"], fab.get("advantage", fab["feature"]),
                                 fab.get("benefit", fab["feature"]), strict=True):
        n = len(ok)
        # a feature nobody (or everybody) praises, or a constant conversion, has no rank
        # correlation: NaN, without scipy's ConstantInputWarning
        varies = ok[feature].nunique() > 1 and ok["conversion"].nunique() > 1
        rho = float(stats.spearmanr(ok[feature], ok["conversion"]).statistic) if n > 3 and varies else float("nan")
        half = z * 1.06 / np.sqrt(n - 3) if n > 3 else float("nan")
        rows.append({"feature": feature, "advantage": adv, "benefit": ben, "products": n,
                     "mean_share": float(ok[feature].mean()), "rho": rho,
                     "low": float(np.tanh(np.arctanh(rho) - half)), "high": float(np.tanh(np.arctanh(rho) + half))})
    return pd.DataFrame(rows)
