"""The ticket lifecycle (工單生命週期): response and resolution times, backlog, Little's law.

:func:`ticket_metrics` is the base table (one row per ticket, calendar and business-hours
clocks, first-contact resolution and reopen flags); :func:`lifecycle_summary` aggregates it,
:func:`backlog` counts open tickets per period and :func:`littles_law` checks L = lambda W.
Definitions: see :mod:`crmlab.support`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
from crmlab.support.hours import OFFICE_HOURS, BusinessHours, _check_hours
from crmlab.survival import km_quantiles

__all__ = [
    "ticket_metrics",
    "lifecycle_summary",
    "backlog",
    "littles_law",
]


def _hours(delta: np.ndarray) -> np.ndarray:
    """Hours in a ``timedelta64`` array (NaN for NaT)."""
    hours = delta.astype("timedelta64[ns]").astype("int64") / 3.6e12
    return np.where(np.isnat(delta), np.nan, hours)


_PASS_THROUGH = ("channel", "category", "priority", "agent_id", "order_id")


@reads(tickets=Reads("tickets", name_arg="table"))
def ticket_metrics(
    tickets: pd.DataFrame,
    *,
    end: object = None,
    hours: BusinessHours = OFFICE_HOURS,
    repeat_window: str | pd.Timedelta = "7D",
    table: str = "tickets",
) -> pd.DataFrame:
    """One row per ticket with its lifecycle times and outcome flags.

    Needs ``ticket_id, customer_id, created_ts, first_response_ts, resolved_ts, reopened``
    (``channel, category, priority, agent_id, order_id, csat`` are carried along when present).
    ``end`` is the observation end (default: the latest timestamp in the table); anything
    after it has not happened yet, so a ticket resolved after ``end`` counts as open.

    Columns: the ids and labels, ``created_ts``, ``first_response_ts``, ``resolved_ts``,
    ``responded``, ``resolved``, ``reopened``, ``frt_hours``, ``resolution_hours`` (NaN when
    not observed), ``frt_business_hours``, ``resolution_business_hours``, ``hours_to_end``,
    ``business_hours_to_end`` (age at ``end``, for censoring), ``repeat_contact`` (same
    customer and category again within ``repeat_window``), ``fcr`` (nullable boolean, NA for
    open tickets) and ``csat``. Raises ``ValueError`` for responses or resolutions before
    creation, duplicate ids or tickets created after ``end``.

    Parameters
    ----------
    tickets : pd.DataFrame
        The shop's ``tickets`` table.
    end : datetime-like, optional
        Observation end; default the latest time stamp in ``tickets``.
    hours : BusinessHours, default OFFICE_HOURS
        Opening hours of the business-hours clock.
    repeat_window : str or pd.Timedelta, default "7D"
        How soon a second ticket of the same customer and category counts as a repeat contact.
    table : str, default "tickets"
        Name of the table in error messages.

    Returns
    -------
    pd.DataFrame
        One row per ticket with the columns above; ``attrs["end"]`` holds the observation end.
    """
    df = as_frame(tickets, table)
    created, first, resolved = _ticket_times(df, table)
    end_ts = _observation_end(created, first, resolved, end, table)
    first = first.where(first <= end_ts)
    resolved = resolved.where(resolved <= end_ts)
    _check_hours(hours, "ticket_metrics")
    cols = _lifecycle_columns(df, created, first, resolved, end_ts, hours)
    repeat = _repeat_contacts(df, cols, repeat_window)
    cols["repeat_contact"] = repeat
    is_resolved, reopened = cols["resolved"], cols["reopened"]
    cols["fcr"] = pd.arrays.BooleanArray(is_resolved & ~reopened & ~repeat, ~is_resolved)
    if "csat" in df.columns:
        cols["csat"] = pd.array(df["csat"], dtype="Float64")
    out = pd.DataFrame(cols)
    out.attrs["end"] = end_ts
    return out


def _ticket_times(df: pd.DataFrame, table: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Created, first-response and resolution times, checked: one row per ticket, nothing
    before its creation, ``reopened`` a complete True/False column."""
    require_columns(df, table, ["ticket_id", "customer_id", "created_ts", "first_response_ts",
                         "resolved_ts", "reopened"])
    if df.empty:
        raise ValueError(f"{table} is empty: pass at least one ticket.")
    if df["ticket_id"].duplicated().any():
        dup = df.loc[df["ticket_id"].duplicated(), "ticket_id"].head(5).tolist()
        raise ValueError(f"{table}: column 'ticket_id' has duplicates (e.g. {dup}); keep one row "
                         "per ticket, e.g. tickets.drop_duplicates('ticket_id').")
    created = datetime_column(df, table, "created_ts")
    first = datetime_column(df, table, "first_response_ts", allow_missing=True)
    resolved = datetime_column(df, table, "resolved_ts", allow_missing=True)
    for col, ts in (("first_response_ts", first), ("resolved_ts", resolved)):
        bad = ts.notna() & (ts < created)
        if bad.any():
            ids = df.loc[bad, "ticket_id"].head(5).tolist()
            what = "first response" if col == "first_response_ts" else "resolution"
            raise ValueError(
                f"{table}: column '{col}' is before 'created_ts' for {int(bad.sum())} ticket(s) "
                f"(e.g. ticket_id {ids}): a {what} cannot come before the ticket exists. Fix the "
                "clock (time zones?) or drop those rows and count them."
            )
    if df["reopened"].isna().any() or not pd.api.types.is_bool_dtype(df["reopened"].dropna()):
        raise ValueError(f"{table}: column 'reopened' must be True/False without missing values; "
                         f"e.g. {table}['reopened'] = {table}['reopened'].fillna(False).astype(bool).")
    return created, first, resolved


def _observation_end(created: pd.Series, first: pd.Series, resolved: pd.Series, end: object,
                     table: str) -> pd.Timestamp:
    """``end`` as a timestamp (default: the latest time in the table); no ticket after it."""
    if end is None:
        end_ts = max(created.max(), first.max() if first.notna().any() else created.max(),
                     resolved.max() if resolved.notna().any() else created.max())
    else:
        end_ts = as_timestamp(end, "end")
    late = created > end_ts
    if late.any():
        raise ValueError(f"{table}: {int(late.sum())} ticket(s) were created after end={end_ts}; "
                         "pass a later end or filter the tickets to the period first.")
    return end_ts


def _lifecycle_columns(df: pd.DataFrame, created: pd.Series, first: pd.Series,
                       resolved: pd.Series, end_ts: pd.Timestamp,
                       hours: BusinessHours) -> dict[str, Any]:
    """The ids, pass-through labels, time stamps, flags and durations on both clocks.

    Columns are collected first and the frame is built once: inserting ~25 columns one by
    one costs more than the arithmetic (ticket_metrics runs once per period in reports).
    """
    created_a, first_a, resolved_a = (ts.to_numpy() for ts in (created, first, resolved))
    end_a = np.full(len(df), end_ts.as_unit("ns").to_datetime64())
    responded, is_resolved = ~np.isnat(first_a), ~np.isnat(resolved_a)
    reopened = df["reopened"].astype(bool).to_numpy() & is_resolved
    opened = hours.cumulative_seconds(created_a)  # as business_seconds, the start computed once
    cols: dict[str, Any] = {"ticket_id": df["ticket_id"].to_numpy(),
                            "customer_id": df["customer_id"].to_numpy()}
    cols.update({col: df[col].array for col in _PASS_THROUGH if col in df.columns})
    cols.update({
        "created_ts": created_a, "first_response_ts": first_a, "resolved_ts": resolved_a,
        "responded": responded, "resolved": is_resolved, "reopened": reopened,
        "frt_hours": _hours(first_a - created_a),
        "resolution_hours": _hours(resolved_a - created_a),
        "frt_business_hours": (hours.cumulative_seconds(first_a) - opened) / 3600.0,
        "resolution_business_hours": (hours.cumulative_seconds(resolved_a) - opened) / 3600.0,
        "hours_to_end": _hours(end_a - created_a),
        "business_hours_to_end": (hours.cumulative_seconds(end_a) - opened) / 3600.0,
    })
    return cols


def _repeat_contacts(df: pd.DataFrame, cols: dict[str, Any],
                     repeat_window: str | pd.Timedelta) -> np.ndarray:
    """True where the same customer opens another ticket of the same category (when the
    table has categories) within ``repeat_window`` after this one."""
    window = pd.Timedelta(repeat_window)
    if window <= pd.Timedelta(0):
        raise ValueError(f"repeat_window={repeat_window!r} must be a positive duration, e.g. '7D'.")
    keys = ["customer_id", "category"] if "category" in df.columns else ["customer_id"]
    lookup = pd.DataFrame({k: cols[k] for k in [*keys, "created_ts", "ticket_id"]})
    order = lookup.sort_values([*keys, "created_ts", "ticket_id"], kind="stable")
    nxt = order.groupby(keys, observed=True, sort=False)["created_ts"].shift(-1)
    gap = nxt - order["created_ts"]
    return (gap.notna() & (gap <= window)).sort_index().to_numpy(dtype=bool)


def _clock_cols(clock: str) -> tuple[str, str, str]:
    """The FRT, resolution and age columns of the calendar or the business clock."""
    if clock == "calendar":
        return "frt_hours", "resolution_hours", "hours_to_end"
    if clock == "business":
        return "frt_business_hours", "resolution_business_hours", "business_hours_to_end"
    raise ValueError(f"clock={clock!r} must be 'calendar' or 'business'.")


def _check_metrics(metrics: pd.DataFrame, table: str = "metrics") -> pd.DataFrame:
    """``metrics`` as a frame with the columns of :func:`ticket_metrics`."""
    df = as_frame(metrics, table)
    require_columns(df, table, ["ticket_id", "created_ts", "resolved", "frt_hours", "resolution_hours",
                         "hours_to_end", "fcr", "reopened"],
             fix="Pass the output of crmlab.support.ticket_metrics(tickets).")
    return df


def lifecycle_summary(
    metrics: pd.DataFrame,
    by: str | Sequence[str] | None = "channel",
    *,
    clock: str = "calendar",
) -> pd.DataFrame:
    """Speed and quality per group (channel, category, priority, agent_id, ...).

    Columns: ``tickets``, ``open`` (still open at the end), ``frt_median_h``, ``frt_p90_h``
    (responded tickets), ``resolution_median_h``, ``resolution_p90_h`` (resolved tickets only:
    biased low while many are open), ``resolution_median_km_h`` (Kaplan-Meier median with open
    tickets censored at their age), ``fcr_rate``, ``reopen_rate`` (both over resolved tickets)
    and ``csat_mean`` when the metrics carry ``csat``. ``clock='business'`` uses business hours.
    P90 is the 90th percentile with linear interpolation.

    Parameters
    ----------
    metrics : pd.DataFrame
        Output of :func:`ticket_metrics`.
    by : str or list of str or None, default "channel"
        Grouping column(s); None for one overall row.
    clock : {"calendar", "business"}, default "calendar"
        Which hours to report.

    Returns
    -------
    pd.DataFrame
        One row per group with the columns above.
    """
    df = _check_metrics(metrics)
    frt_col, res_col, age_col = _clock_cols(clock)
    keys = as_list(by)
    require_columns(df, "metrics", keys)
    rows = []
    groups = df.groupby(keys, observed=True, sort=True) if keys else [((), df)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        frt = g[frt_col].dropna()
        res = g[res_col].dropna()
        resolved = g["resolved"].to_numpy(bool)
        dur = np.where(resolved, g[res_col].to_numpy(float), g[age_col].to_numpy(float))
        row = dict(zip(keys, key, strict=True))
        row.update({
            "tickets": len(g),
            "open": int((~resolved).sum()),
            "frt_median_h": float(frt.median()) if len(frt) else np.nan,
            "frt_p90_h": float(frt.quantile(0.9)) if len(frt) else np.nan,
            "resolution_median_h": float(res.median()) if len(res) else np.nan,
            "resolution_p90_h": float(res.quantile(0.9)) if len(res) else np.nan,
            "resolution_median_km_h": km_quantiles(np.maximum(dur, 0.0), resolved, table="tickets")[0],
            "fcr_rate": float(g["fcr"].astype("Float64").mean()) if resolved.any() else np.nan,
            "reopen_rate": float(g.loc[resolved, "reopened"].mean()) if resolved.any() else np.nan,
        })
        if "csat" in g.columns:
            row["csat_mean"] = float(g["csat"].mean()) if g["csat"].notna().any() else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def _open_counts(created: np.ndarray, resolved: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Number of tickets with created <= t < resolved (NaT resolved = still open) at each t."""
    c = np.sort(created)
    r = np.sort(resolved[~np.isnat(resolved)])
    return (np.searchsorted(c, at, side="right") - np.searchsorted(r, at, side="right")).astype(np.int64)


def _open_and_close(df: pd.DataFrame, table: str) -> tuple[pd.Series, pd.Series, pd.Timestamp]:
    """Creation and resolution times (no resolution before creation) and the data end: the
    ``end`` that :func:`ticket_metrics` stored, else the latest time stamp."""
    require_columns(df, table, ["created_ts", "resolved_ts"])
    created = datetime_column(df, table, "created_ts")
    resolved = datetime_column(df, table, "resolved_ts", allow_missing=True)
    bad = resolved.notna() & (resolved < created)
    if bad.any():
        raise ValueError(f"{table}: column 'resolved_ts' is before 'created_ts' in {int(bad.sum())} "
                         "row(s); fix or drop them first (see ticket_metrics).")
    data_end = df.attrs.get("end") or max(created.max(),
                                          resolved.max() if resolved.notna().any() else created.max())
    return created, resolved, data_end


@reads(tickets=Reads("tickets", nonempty=True))
def backlog(
    tickets: pd.DataFrame,
    *,
    freq: str = "D",
    start: object = None,
    end: object = None,
    table: str = "tickets",
) -> pd.DataFrame:
    """Open tickets at the end of every period (daily by default), with arrivals and resolutions.

    Works on ``tickets`` or on :func:`ticket_metrics` output (``created_ts``, ``resolved_ts``).
    A ticket is open at time t when created <= t < resolved; tickets never resolved (still open
    at the data end) stay in every later count. Columns: ``period`` (period start),
    ``period_end``, ``created``, ``resolved``, ``open_at_end``.

    Parameters
    ----------
    tickets : pd.DataFrame
        ``tickets`` or :func:`ticket_metrics` output (``created_ts``, ``resolved_ts``).
    freq : str, default "D"
        Period length (a pandas period alias: "D", "W", "M").
    start, end : datetime-like, optional
        The span to count; default the first creation and the data end.
    table : str, default "tickets"
        Name of the table in error messages.

    Returns
    -------
    pd.DataFrame
        One row per period: ``period``, ``period_end``, ``created``, ``resolved``,
        ``open_at_end``.
    """
    df = as_frame(tickets, table)
    created, resolved, data_end = _open_and_close(df, table)
    end_ts = as_timestamp(end, "end") if end is not None else data_end
    start_ts = as_timestamp(start, "start") if start is not None else created.min()
    if end_ts < start_ts:
        raise ValueError(f"backlog: end={end_ts} is before start={start_ts}.")
    resolved = resolved.where(resolved <= end_ts)
    periods = pd.period_range(start_ts, end_ts, freq=freq)
    periods = periods[(periods.start_time < end_ts) | (len(periods) == 1)]
    starts = periods.start_time
    ends = (periods + 1).start_time
    edges = ends.to_numpy(dtype="datetime64[ns]")
    cut = np.minimum(edges, np.datetime64(pd.Timestamp(end_ts).to_datetime64(), "ns"))
    c = created.to_numpy(dtype="datetime64[ns]")
    r = resolved.to_numpy(dtype="datetime64[ns]")
    open_at = _open_counts(c, r, cut)
    before = np.r_[np.datetime64(starts[0].to_datetime64(), "ns"), edges[:-1]]
    cs = np.sort(c)
    rs = np.sort(r[~np.isnat(r)])
    n_created = np.searchsorted(cs, edges, side="left") - np.searchsorted(cs, before, side="left")
    n_resolved = np.searchsorted(rs, edges, side="left") - np.searchsorted(rs, before, side="left")
    return pd.DataFrame({
        "period": starts, "period_end": pd.DatetimeIndex(cut),
        "created": n_created.astype(np.int64), "resolved": n_resolved.astype(np.int64),
        "open_at_end": open_at,
    })


@reads(tickets=Reads("tickets", nonempty=True))
def littles_law(
    tickets: pd.DataFrame,
    *,
    start: object = None,
    end: object = None,
    table: str = "tickets",
) -> dict[str, float]:
    """Little's law L = lambda W on the ticket backlog over the window [start, end).

    * ``L_time_average``: average number of open tickets in the window (exact: total
      ticket-days inside the window / window length); ``L_daily``: the mean of the
      end-of-day backlog counts (what a daily report shows);
    * ``arrival_rate_per_day`` (lambda): tickets created in the window / window days;
    * ``mean_days_in_system`` (W): mean time from creation to resolution of those tickets --
      their whole stay, also the part after the window; tickets still open at the data end
      count until then (so W is a little low when many are open);
    * ``lambda_W`` and ``relative_gap`` = (L - lambda W) / L.

    If every ticket open during the window arrives and leaves inside it, L = lambda W exactly.
    Otherwise the gap measures edge effects: tickets already open at the start add to L but not
    to lambda, the stay after the window of late arrivals adds to W but not to L. In a steady
    state the two roughly cancel, which is why the law is a useful check on backlog reports.

    Parameters
    ----------
    tickets : pd.DataFrame
        ``tickets`` or :func:`ticket_metrics` output (``created_ts``, ``resolved_ts``).
    start, end : datetime-like, optional
        The window; default the first creation day and the data end.
    table : str, default "tickets"
        Name of the table in error messages.

    Returns
    -------
    dict
        ``window_days``, ``arrivals``, ``arrival_rate_per_day``, ``mean_days_in_system``,
        ``L_time_average``, ``L_daily``, ``lambda_W``, ``relative_gap``.
    """
    df = as_frame(tickets, table)
    created, resolved, data_end = _open_and_close(df, table)
    start_ts, end_ts = _law_window(created, data_end, start, end)
    days = (end_ts - start_ts) / pd.Timedelta(days=1)
    leave = resolved.where(resolved.notna() & (resolved <= data_end), data_end)
    overlap = ((leave.clip(upper=end_ts) - created.clip(lower=start_ts)).dt.total_seconds()
               / 86400.0).clip(lower=0.0)
    inside = (created >= start_ts) & (created < end_ts)
    n_arr = int(inside.sum())
    if n_arr == 0:
        raise ValueError(f"littles_law: no tickets were created between {start_ts} and {end_ts}.")
    w = float(((leave - created).dt.total_seconds() / 86400.0)[inside].mean())
    lam = n_arr / days
    L = float(overlap.sum() / days)
    daily = backlog(df.loc[:, ["created_ts", "resolved_ts"]], start=start_ts,
                    end=end_ts - pd.Timedelta(microseconds=1))
    return {
        "window_days": float(days), "arrivals": n_arr, "arrival_rate_per_day": float(lam),
        "mean_days_in_system": w, "L_time_average": L,
        "L_daily": float(daily["open_at_end"].mean()), "lambda_W": float(lam * w),
        "relative_gap": float((L - lam * w) / L) if L > 0 else float("nan"),
    }


def _law_window(created: pd.Series, data_end: pd.Timestamp, start: object,
                end: object) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The window [start, end) of :func:`littles_law`: default the first creation day to the
    data end; it must be non-empty and end by the data end (the backlog after it is unknown)."""
    start_ts = as_timestamp(start, "start") if start is not None else created.min().floor("D")
    end_ts = as_timestamp(end, "end") if end is not None else data_end
    if not end_ts > start_ts:
        raise ValueError(f"littles_law: end={end_ts} must be after start={start_ts}.")
    if end_ts > data_end:
        raise ValueError(f"littles_law: end={end_ts} is after the data end {data_end}; the "
                         "backlog after it is unknown.")
    return start_ts, end_ts
