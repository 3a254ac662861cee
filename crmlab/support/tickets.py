"""Customer support (客戶支持): tickets, SLAs, routing, triage, phone staffing and FAQ search.

Course unit 4. A CRM manages support with one record of every interaction, tickets that are
created and assigned automatically, progress tracking and performance reports. This module
holds the computations behind ``notebooks/09_customer_support.ipynb``:

* **Ticket lifecycle (工單生命週期)** -- :func:`ticket_metrics` turns the ``tickets`` table into
  one row per ticket with first response time (FRT, 首次回應時間) and resolution time (解決時間)
  on the calendar clock and on a business-hours clock (:class:`BusinessHours`, vectorised),
  first-contact resolution (FCR, 首次聯繫解決率) and reopen flags. :func:`lifecycle_summary`
  aggregates by channel, category, priority or agent (median and P90; a Kaplan-Meier median
  that counts tickets still open as censored). :func:`backlog` counts open tickets per day
  (tickets still open at the data end stay in the backlog), :func:`littles_law` checks
  L = lambda W on it, and :func:`sla_attainment` scores tickets against SLA targets per
  priority (服務水準協議; the targets are data: :data:`SLA_TARGETS`).
* **Priority and routing (優先級與派單)** -- :func:`priority_rule` looks priorities up in an
  impact x urgency matrix (:data:`PRIORITY_MATRIX`); :func:`route_tickets` replays the shop's
  tickets in time order and gives each one to the least-loaded agent who has the skill (a heap
  per skill keyed by open load). :class:`TicketTriage` predicts the category from the text
  (TF-IDF + logistic regression) so the router knows the skill before a human reads it.
* **Phone staffing (人力排班)** -- Erlang C: :func:`erlang_b`, :func:`erlang_c` (probability of
  waiting), :func:`service_level`, :func:`average_speed_of_answer`, :func:`staffing_table`
  and :func:`agents_needed` (with shrinkage and an occupancy cap). Erlang B is computed by its
  recursion, so nothing overflows for thousands of agents. :func:`simulate_queue` simulates
  the same FCFS queue (optionally with lognormal handling and abandonment, like the shop's
  call centre) and :func:`call_center_by_hour` sets the shop's call log beside Erlang C.
* **Self-service (自助服務)** -- :class:`FaqSearch` is TF-IDF retrieval over ``faq_articles``
  (hit@k against the searcher's intent) and :func:`deflection_rate` counts searches that were
  not followed by a ticket.
* **Reporting** -- :func:`support_report`: the weekly table a support manager reads, per week
  and optionally per agent.

Definitions used throughout (documented once here):

* *FRT* = ``first_response_ts - created_ts``; *resolution time* = ``resolved_ts - created_ts``.
  Hours on the calendar clock (``*_hours``) or counting only business hours
  (``*_business_hours``, default Mon-Fri 09:00-18:00).
* *Open* = no ``resolved_ts`` at the observation end (or resolved after it). Open tickets are
  right-censored: their resolution time is at least their age at the end.
* *First-contact resolution* = the ticket was resolved, was not reopened, and the customer did
  not contact support again about the same category within ``repeat_window`` (7 days) after
  opening it. FCR rate = FCR tickets / resolved tickets.
* *Reopen rate* = reopened tickets / resolved tickets.
* *SLA attainment* = met / (met + breached) per target; a ticket still waiting whose elapsed
  time already exceeds the target counts as breached, one still within its target is
  *pending* and left out (and counted).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crmlab._checks import (
    Reads,
    as_frame,
    as_list,
    as_timestamp,
    check_lengths,
    datetime_column,
    reads,
    require_columns,
)
from crmlab.survival import km_quantiles

__all__ = [
    "PRIORITY_ORDER",
    "BusinessHours",
    "OFFICE_HOURS",
    "SLA_TARGETS",
    "PRIORITY_MATRIX",
    "CATEGORY_IMPACT",
    "CHANNEL_URGENCY",
    "URGENT_PHRASES",
    "business_seconds",
    "ticket_metrics",
    "lifecycle_summary",
    "backlog",
    "littles_law",
    "sla_flags",
    "sla_attainment",
    "priority_rule",
    "route_tickets",
    "skill_match",
    "time_split",
    "TicketTriage",
    "classification_scores",
    "confusion_table",
    "erlang_b",
    "erlang_c",
    "service_level",
    "average_speed_of_answer",
    "asa_allen_cunneen",
    "staffing_table",
    "agents_needed",
    "simulate_queue",
    "queue_stats",
    "call_center_by_hour",
    "FaqSearch",
    "deflection_rate",
    "support_report",
]

PRIORITY_ORDER = ("low", "medium", "high", "urgent")
LEVELS = ("low", "medium", "high")

#: SLA targets per priority, in hours (business hours by default, see :func:`sla_flags`).
#: Typical help-desk targets: an urgent ticket gets a first answer within one business hour
#: and is solved within one business day.
SLA_TARGETS = pd.DataFrame({
    "priority": list(PRIORITY_ORDER),
    "first_response_hours": [24.0, 8.0, 4.0, 1.0],
    "resolution_hours": [72.0, 45.0, 27.0, 9.0],
})

#: ITIL-style priority matrix: rows impact, columns urgency -> priority.
PRIORITY_MATRIX = pd.DataFrame(
    [["medium", "high", "urgent"],
     ["low", "medium", "high"],
     ["low", "low", "medium"]],
    index=pd.Index(["high", "medium", "low"], name="impact"),
    columns=pd.Index(["low", "medium", "high"], name="urgency"),
)

#: Impact of an issue category: money or a broken product hurts most, a question least.
CATEGORY_IMPACT: dict[str, str] = {
    "defect": "high", "billing": "high", "delivery": "medium", "return": "medium",
    "account": "medium", "presales": "low",
}

#: Urgency from the channel: a caller on the line is waiting now, an e-mail can wait.
CHANNEL_URGENCY: dict[str, str] = {
    "phone": "high", "chat": "medium", "faq_escalation": "medium", "email": "low",
}

#: Phrases in subject/text that raise urgency one level (the customer is blocked or out of pocket).
URGENT_PHRASES: tuple[str, ...] = (
    "charged twice", "does not work", "will not power on", "never arrives", "has not arrived",
    "stopped working",
)


# --------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------


def _positive(value: float, name: str, *, allow_zero: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}={value!r} must be a number.") from exc
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        need = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name}={value!r} must be a finite number {need}.")
    return v


def _hours(delta: np.ndarray) -> np.ndarray:
    """Hours in a ``timedelta64`` array (NaN for NaT)."""
    hours = delta.astype("timedelta64[ns]").astype("int64") / 3.6e12
    return np.where(np.isnat(delta), np.nan, hours)


# --------------------------------------------------------------------------------------
# business hours
# --------------------------------------------------------------------------------------

_EPOCH = np.datetime64("1970-01-01", "D")


@dataclass(frozen=True)
class BusinessHours:
    """Opening hours used for the business-hours clock.

    ``open``/``close`` as ``"HH:MM"`` (same every working day), ``weekmask`` as for
    :func:`numpy.busday_count` (``"Mon Tue Wed Thu Fri"``), optional ``holidays`` (dates).
    """

    open: str = "09:00"
    close: str = "18:00"
    weekmask: str = "Mon Tue Wed Thu Fri"
    holidays: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        o, c = self._seconds(self.open, "open"), self._seconds(self.close, "close")
        if not o < c:
            raise ValueError(
                f"BusinessHours: open={self.open!r} must be before close={self.close!r} "
                "(overnight shifts are not supported; use two calendars)."
            )
        try:
            self.calendar()
        except ValueError as exc:
            raise ValueError(
                f"BusinessHours: weekmask={self.weekmask!r} or holidays={self.holidays!r} is not "
                "valid; use e.g. weekmask='Mon Tue Wed Thu Fri', holidays=('2025-01-01',)."
            ) from exc

    @staticmethod
    def _seconds(hhmm: str, name: str) -> float:
        try:
            h, m = str(hhmm).split(":")
            s = int(h) * 3600 + int(m) * 60
        except ValueError as exc:
            raise ValueError(f"BusinessHours: {name}={hhmm!r} must look like '09:00'.") from exc
        if not 0 <= s <= 86400:
            raise ValueError(f"BusinessHours: {name}={hhmm!r} is not a time of day.")
        return float(s)

    @property
    def open_seconds(self) -> float:
        return self._seconds(self.open, "open")

    @property
    def close_seconds(self) -> float:
        return self._seconds(self.close, "close")

    @property
    def seconds_per_day(self) -> float:
        return self.close_seconds - self.open_seconds

    def calendar(self) -> np.busdaycalendar:
        return np.busdaycalendar(weekmask=self.weekmask,
                                 holidays=np.array(self.holidays, dtype="datetime64[D]"))

    def cumulative_seconds(self, ts: Iterable) -> np.ndarray:
        """Business seconds from 1970-01-01 up to each timestamp (NaN for NaT).

        F(t) = (business days before t's date) x day length + the part of t's own day that
        lies inside opening hours. Business time between a and b is F(b) - F(a); everything is
        vectorised with :func:`numpy.busday_count`.
        """
        t = np.asarray(pd.to_datetime(pd.Series(ts)).to_numpy(), dtype="datetime64[ns]")
        nat = np.isnat(t)
        tt = np.where(nat, np.datetime64("1970-01-01T00:00", "ns"), t)
        day = tt.astype("datetime64[D]")
        sec = (tt - day.astype("datetime64[ns]")).astype("int64") / 1e9
        cal = self.calendar()
        full = np.busday_count(_EPOCH, day, busdaycal=cal).astype(float)
        inside = np.clip(sec - self.open_seconds, 0.0, self.seconds_per_day)
        inside = np.where(np.is_busday(day, busdaycal=cal), inside, 0.0)
        out = full * self.seconds_per_day + inside
        return np.where(nat, np.nan, out)


#: Default business hours: Monday to Friday, 09:00-18:00, no holidays.
OFFICE_HOURS = BusinessHours()


def business_seconds(start: Iterable, end: Iterable, hours: BusinessHours = OFFICE_HOURS) -> np.ndarray:
    """Seconds inside opening hours between ``start`` and ``end`` (element-wise, NaN for NaT).

    A ticket created Friday 17:00 and answered Monday 10:00 waited 2 business hours (Mon-Fri
    09-18), not 65 calendar hours. ``start`` and ``end`` must have the same length (one pair
    per ticket: a single end is not stretched over many starts), and an ``end`` before its
    ``start`` is a ValueError naming the pairs (a clock or data-entry error, not a duration).
    """
    func = "business_seconds"
    _check_hours(hours, func)
    check_lengths(func, start=np.atleast_1d(np.asarray(start, dtype=object)),
                  end=np.atleast_1d(np.asarray(end, dtype=object)))
    out = hours.cumulative_seconds(end) - hours.cumulative_seconds(start)
    s_ts = pd.to_datetime(pd.Series(np.atleast_1d(np.asarray(start, dtype=object))))
    e_ts = pd.to_datetime(pd.Series(np.atleast_1d(np.asarray(end, dtype=object))))
    back = (e_ts < s_ts).to_numpy()
    if back.any():
        raise ValueError(f"{func}: {int(back.sum())} end(s) before their start (pairs "
                         f"{np.flatnonzero(back)[:5].tolist()}); fix the timestamps or drop those "
                         "rows -- a negative waiting time is a data error.")
    return out


def _check_hours(hours: object, func: str) -> None:
    if not isinstance(hours, BusinessHours):
        raise ValueError(f"{func}: hours must be a BusinessHours(...) object.")


# --------------------------------------------------------------------------------------
# ticket lifecycle
# --------------------------------------------------------------------------------------

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
    """
    df = as_frame(tickets, table)
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
    if end is None:
        end_ts = max(created.max(), first.max() if first.notna().any() else created.max(),
                     resolved.max() if resolved.notna().any() else created.max())
    else:
        end_ts = as_timestamp(end, "end")
    late = created > end_ts
    if late.any():
        raise ValueError(f"{table}: {int(late.sum())} ticket(s) were created after end={end_ts}; "
                         "pass a later end or filter the tickets to the period first.")
    first = first.where(first <= end_ts)
    resolved = resolved.where(resolved <= end_ts)

    # Columns are collected first and the frame is built once: inserting ~25 columns one by
    # one costs more than the arithmetic (ticket_metrics runs once per period in reports).
    created_a, first_a, resolved_a = (ts.to_numpy() for ts in (created, first, resolved))
    end_a = np.full(len(df), end_ts.as_unit("ns").to_datetime64())
    responded, is_resolved = ~np.isnat(first_a), ~np.isnat(resolved_a)
    reopened = df["reopened"].astype(bool).to_numpy() & is_resolved
    _check_hours(hours, "ticket_metrics")
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

    # Repeat contact: the same customer opens another ticket of the same category soon after.
    window = pd.Timedelta(repeat_window)
    if window <= pd.Timedelta(0):
        raise ValueError(f"repeat_window={repeat_window!r} must be a positive duration, e.g. '7D'.")
    keys = ["customer_id", "category"] if "category" in df.columns else ["customer_id"]
    lookup = pd.DataFrame({k: cols[k] for k in [*keys, "created_ts", "ticket_id"]})
    order = lookup.sort_values([*keys, "created_ts", "ticket_id"], kind="stable")
    nxt = order.groupby(keys, observed=True, sort=False)["created_ts"].shift(-1)
    gap = nxt - order["created_ts"]
    repeat = (gap.notna() & (gap <= window)).sort_index().to_numpy(dtype=bool)
    cols["repeat_contact"] = repeat
    fcr = is_resolved & ~reopened & ~repeat
    cols["fcr"] = pd.arrays.BooleanArray(fcr, ~is_resolved)
    if "csat" in df.columns:
        cols["csat"] = pd.array(df["csat"], dtype="Float64")
    out = pd.DataFrame(cols)
    out.attrs["end"] = end_ts
    return out


def _clock_cols(clock: str) -> tuple[str, str, str]:
    if clock == "calendar":
        return "frt_hours", "resolution_hours", "hours_to_end"
    if clock == "business":
        return "frt_business_hours", "resolution_business_hours", "business_hours_to_end"
    raise ValueError(f"clock={clock!r} must be 'calendar' or 'business'.")


def _check_metrics(metrics: pd.DataFrame, table: str = "metrics") -> pd.DataFrame:
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
    """
    df = as_frame(tickets, table)
    require_columns(df, table, ["created_ts", "resolved_ts"])
    created = datetime_column(df, table, "created_ts")
    resolved = datetime_column(df, table, "resolved_ts", allow_missing=True)
    bad = resolved.notna() & (resolved < created)
    if bad.any():
        raise ValueError(f"{table}: column 'resolved_ts' is before 'created_ts' in {int(bad.sum())} "
                         "row(s); fix or drop them first (see ticket_metrics).")
    end_ts = as_timestamp(end, "end") if end is not None else df.attrs.get("end") or max(
        created.max(), resolved.max() if resolved.notna().any() else created.max())
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
    """
    df = as_frame(tickets, table)
    require_columns(df, table, ["created_ts", "resolved_ts"])
    created = datetime_column(df, table, "created_ts")
    resolved = datetime_column(df, table, "resolved_ts", allow_missing=True)
    if (resolved.notna() & (resolved < created)).any():
        raise ValueError(f"{table}: column 'resolved_ts' is before 'created_ts' in some rows; "
                         "fix or drop them first (see ticket_metrics).")
    data_end = df.attrs.get("end") or max(created.max(),
                                          resolved.max() if resolved.notna().any() else created.max())
    start_ts = as_timestamp(start, "start") if start is not None else created.min().floor("D")
    end_ts = as_timestamp(end, "end") if end is not None else data_end
    if not end_ts > start_ts:
        raise ValueError(f"littles_law: end={end_ts} must be after start={start_ts}.")
    if end_ts > data_end:
        raise ValueError(f"littles_law: end={end_ts} is after the data end {data_end}; the "
                         "backlog after it is unknown.")
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
        "window_days": float(days),
        "arrivals": n_arr,
        "arrival_rate_per_day": float(lam),
        "mean_days_in_system": w,
        "L_time_average": L,
        "L_daily": float(daily["open_at_end"].mean()),
        "lambda_W": float(lam * w),
        "relative_gap": float((L - lam * w) / L) if L > 0 else float("nan"),
    }


def _check_targets(targets: pd.DataFrame) -> pd.DataFrame:
    t = as_frame(targets, "targets")
    require_columns(t, "targets", ["priority", "first_response_hours", "resolution_hours"],
             fix="Use the layout of crmlab.support.SLA_TARGETS.")
    for col in ("first_response_hours", "resolution_hours"):
        v = pd.to_numeric(t[col], errors="coerce")
        if v.isna().any() or (v <= 0).any():
            raise ValueError(f"targets: column '{col}' must hold positive hours for every priority.")
    if t["priority"].duplicated().any():
        raise ValueError("targets: column 'priority' has duplicates; one row per priority.")
    return t


def sla_flags(
    metrics: pd.DataFrame,
    targets: pd.DataFrame = SLA_TARGETS,
    *,
    clock: str = "business",
) -> pd.DataFrame:
    """Per ticket: did it meet its priority's first-response and resolution targets?

    Columns ``ticket_id, priority, frt_target_h, frt_met, resolution_target_h,
    resolution_met``; the ``*_met`` columns are nullable booleans: True (met), False
    (breached -- including tickets still waiting that are already past the target) and NA
    (pending: still waiting, target not yet passed).
    """
    df = _check_metrics(metrics)
    require_columns(df, "metrics", ["priority"])
    t = _check_targets(targets)
    frt_col, res_col, age_col = _clock_cols(clock)
    prio = df["priority"].astype("str")
    known = set(t["priority"].astype("str"))
    unknown = sorted(set(prio.dropna()) - known)
    if unknown:
        raise ValueError(f"metrics: priorities {unknown} have no SLA target; add rows for them to "
                         "targets (columns priority, first_response_hours, resolution_hours).")
    tt = t.assign(priority=t["priority"].astype("str")).set_index("priority")
    frt_t = prio.map(tt["first_response_hours"]).to_numpy(float)
    res_t = prio.map(tt["resolution_hours"]).to_numpy(float)
    age = df[age_col].to_numpy(float)

    def judge(value: np.ndarray, target: np.ndarray) -> pd.arrays.BooleanArray:
        seen = ~np.isnan(value)
        met = np.where(seen, value <= target, False)
        breached = np.where(seen, value > target, age > target)
        pending = ~met & ~breached
        return pd.arrays.BooleanArray(met, pending)

    return pd.DataFrame({
        "ticket_id": df["ticket_id"].to_numpy(),
        "priority": df["priority"].to_numpy(),
        "frt_target_h": frt_t,
        "frt_met": judge(df[frt_col].to_numpy(float), frt_t),
        "resolution_target_h": res_t,
        "resolution_met": judge(df[res_col].to_numpy(float), res_t),
    })


def sla_attainment(
    metrics: pd.DataFrame,
    targets: pd.DataFrame = SLA_TARGETS,
    *,
    clock: str = "business",
    by: str | Sequence[str] = "priority",
) -> pd.DataFrame:
    """SLA attainment (達成率) per priority (or another grouping of the metrics).

    Columns: ``tickets``, ``frt_met``, ``frt_breached``, ``frt_pending``, ``frt_attainment``
    (= met / (met + breached)), the same four for ``resolution``, and the targets when grouped
    by priority.
    """
    flags = sla_flags(metrics, targets, clock=clock)
    keys = as_list(by)
    extra = [k for k in keys if k not in flags.columns]
    require_columns(metrics, "metrics", extra)
    for k in extra:
        flags[k] = metrics[k].to_numpy()
    rows = []
    for key, g in flags.groupby(keys, observed=True, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(keys, key, strict=True))
        row["tickets"] = len(g)
        for name in ("frt", "resolution"):
            m = g[f"{name}_met"]
            met, pend = int(m.fillna(False).sum()), int(m.isna().sum())
            br = len(g) - met - pend
            row.update({f"{name}_met": met, f"{name}_breached": br, f"{name}_pending": pend,
                        f"{name}_attainment": met / (met + br) if met + br else np.nan})
        if keys == ["priority"]:
            row["frt_target_h"] = float(g["frt_target_h"].iloc[0])
            row["resolution_target_h"] = float(g["resolution_target_h"].iloc[0])
        rows.append(row)
    out = pd.DataFrame(rows)
    if keys == ["priority"]:
        rank = {p: i for i, p in enumerate(PRIORITY_ORDER)}
        out = out.sort_values("priority", key=lambda s: s.astype(str).map(rank).fillna(99),
                              kind="stable").reset_index(drop=True)
    return out


# --------------------------------------------------------------------------------------
# priority rule and routing
# --------------------------------------------------------------------------------------


def _check_level_map(mapping: Mapping[str, str], name: str, levels: Sequence[str]) -> None:
    bad = {k: v for k, v in mapping.items() if v not in levels}
    if bad:
        raise ValueError(f"{name}: values {bad} must be one of {list(levels)}.")


@reads(tickets="")
def priority_rule(
    tickets: pd.DataFrame,
    *,
    impact: Mapping[str, str] = CATEGORY_IMPACT,
    urgency: Mapping[str, str] = CHANNEL_URGENCY,
    matrix: pd.DataFrame = PRIORITY_MATRIX,
    urgent_phrases: Sequence[str] = URGENT_PHRASES,
    table: str = "tickets",
) -> pd.DataFrame:
    """Priority = matrix[impact, urgency] (優先級矩陣).

    Impact comes from the category (``impact`` mapping), urgency from the channel
    (``urgency`` mapping), raised one level when the subject or text contains one of
    ``urgent_phrases``. All three are data, so a support lead can change the rule without code.
    Returns ``ticket_id, impact, urgency, priority``.
    """
    df = as_frame(tickets, table)
    require_columns(df, table, ["ticket_id", "category", "channel"])
    m = as_frame(matrix, "matrix")
    if set(m.index) != set(LEVELS) or set(m.columns) != set(LEVELS):
        raise ValueError("matrix: index (impact) and columns (urgency) must both be "
                         f"{list(LEVELS)}; see crmlab.support.PRIORITY_MATRIX.")
    _check_level_map(impact, "impact", LEVELS)
    _check_level_map(urgency, "urgency", LEVELS)
    cat = df["category"].astype("str")
    chan = df["channel"].astype("str")
    for col, values, mapping, name in (("category", cat, impact, "impact"),
                                       ("channel", chan, urgency, "urgency")):
        missing = sorted(set(values.dropna()) - set(mapping))
        if missing:
            raise ValueError(f"{table}: column '{col}' has values {missing} without a level in "
                             f"{name}=...; add them to the mapping.")
    imp = cat.map(dict(impact))
    urg_level = chan.map({k: LEVELS.index(v) for k, v in urgency.items()}).to_numpy(int)
    if urgent_phrases:
        text = df["subject"].astype("str") if "subject" in df.columns else pd.Series("", index=df.index)
        if "text" in df.columns:
            text = text + " " + df["text"].astype("str")
        pattern = "|".join(map(_regex_escape, urgent_phrases))
        bump = text.str.lower().str.contains(pattern, regex=True).to_numpy(bool)
        urg_level = np.minimum(urg_level + bump, len(LEVELS) - 1)
    urg = np.asarray(LEVELS, dtype=object)[urg_level]
    prio = [m.at[i, u] for i, u in zip(imp, urg, strict=True)]
    bad = sorted(set(prio) - set(PRIORITY_ORDER))
    if bad:
        raise ValueError(f"matrix: priorities {bad} must be one of {list(PRIORITY_ORDER)}.")
    return pd.DataFrame({
        "ticket_id": df["ticket_id"].to_numpy(),
        "impact": pd.Categorical(imp, categories=LEVELS),
        "urgency": pd.Categorical(urg, categories=LEVELS),
        "priority": pd.Categorical(prio, categories=PRIORITY_ORDER, ordered=True),
    })


def _regex_escape(s: str) -> str:
    import re

    return re.escape(s.lower())


def _agent_skills(agents: pd.DataFrame, skills_col: str, sep: str) -> dict[object, frozenset[str]]:
    a = as_frame(agents, "agents")
    require_columns(a, "agents", ["agent_id", skills_col])
    if a["agent_id"].duplicated().any():
        raise ValueError("agents: column 'agent_id' has duplicates; one row per agent.")
    if a[skills_col].isna().any():
        raise ValueError(f"agents: column '{skills_col}' has missing values; give every agent at "
                         "least one skill (or drop the agent).")
    return {aid: frozenset(s.strip() for s in str(sk).split(sep) if s.strip())
            for aid, sk in zip(a["agent_id"].tolist(), a[skills_col].tolist(), strict=True)}


@reads(agents="")
def skill_match(
    assignments: pd.DataFrame,
    agents: pd.DataFrame,
    *,
    agent_col: str = "agent_id",
    skill_col: str = "category",
    skills_col: str = "skills",
    sep: str = "|",
) -> pd.Series:
    """True where the assigned agent lists the ticket's category among their skills."""
    df = as_frame(assignments, "assignments")
    require_columns(df, "assignments", [agent_col, skill_col])
    skills = _agent_skills(agents, skills_col, sep)
    unknown = sorted(set(df[agent_col].dropna()) - set(skills))
    if unknown:
        raise ValueError(f"assignments: column '{agent_col}' has agents {unknown[:5]} that are not "
                         "in the agents table.")
    ok = [str(c) in skills.get(a, frozenset()) for a, c in
          zip(df[agent_col].tolist(), df[skill_col].astype("str").tolist(), strict=True)]
    return pd.Series(ok, index=df.index, name="skill_match")


@reads(tickets=Reads("tickets", name_arg="table"), agents="")
def route_tickets(
    tickets: pd.DataFrame,
    agents: pd.DataFrame,
    *,
    skill_col: str = "category",
    skills_col: str = "skills",
    sep: str = "|",
    release_col: str | None = "resolved_ts",
    work_hours: float | None = None,
    table: str = "tickets",
) -> pd.DataFrame:
    """Automatic assignment (自動派單): skill first, then the least open load, in time order.

    Tickets are replayed in order of ``created_ts``. Each goes to an agent whose ``skills``
    (joined by ``sep``) contain the ticket's ``skill_col`` value; among them the one with the
    fewest open tickets right now (ties: fewer tickets assigned so far, then the lower id).
    A ticket stays on its agent's load until ``release_col`` (its real resolution time; never
    released when missing) or, with ``work_hours``, that long after creation.

    The replay is sequential by nature -- each choice depends on the loads the earlier choices
    left -- so it loops over tickets, but keeps one heap per skill keyed by load (lazy
    deletion), which costs O(log agents) per ticket. Returns ``ticket_id``, ``skill``,
    ``agent_id`` (routed), ``open_load`` (the agent's open tickets before this one).
    Raises ``ValueError`` when some ticket's skill has no agent.
    """
    df = as_frame(tickets, table)
    require_columns(df, table, ["ticket_id", "created_ts", skill_col])
    created = datetime_column(df, table, "created_ts")
    skills = _agent_skills(agents, skills_col, sep)
    need = df[skill_col].astype("str")
    if need.isna().any():
        raise ValueError(f"{table}: column '{skill_col}' has missing values; triage those tickets "
                         "first (e.g. TicketTriage) so the router knows the skill.")
    have = set().union(*skills.values()) if skills else set()
    orphan = sorted(set(need) - have)
    if orphan:
        raise ValueError(f"{table}: no agent has the skill(s) {orphan} (agents.{skills_col}); add "
                         "the skill to at least one agent or map those tickets to another queue.")
    if work_hours is not None:
        release = created + pd.Timedelta(hours=_positive(work_hours, "work_hours"))
    elif release_col is not None:
        require_columns(df, table, [release_col])
        release = datetime_column(df, table, release_col, allow_missing=True)
    else:
        release = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")

    order = np.lexsort((df["ticket_id"].to_numpy(), created.to_numpy()))
    t_create = created.to_numpy(dtype="datetime64[ns]").astype(np.int64)[order]
    rel = release.to_numpy(dtype="datetime64[ns]")[order]
    t_release = np.where(np.isnat(rel), np.iinfo(np.int64).max, rel.astype(np.int64))
    need_o = need.to_numpy(dtype=object)[order]

    agent_ids = list(skills)
    load = dict.fromkeys(agent_ids, 0)
    done = dict.fromkeys(agent_ids, 0)
    rank = {a: i for i, a in enumerate(sorted(agent_ids))}
    heaps: dict[str, list] = {s: [] for s in have}
    for a in agent_ids:
        for s in skills[a]:
            heaps[s].append((0, 0, rank[a], a))
    for h in heaps.values():
        heapq.heapify(h)
    releases: list[tuple[int, int, object]] = []

    def push(agent: object) -> None:
        entry = (load[agent], done[agent], rank[agent], agent)
        for s in skills[agent]:
            heapq.heappush(heaps[s], entry)

    chosen = np.empty(len(order), dtype=object)
    open_load = np.empty(len(order), dtype=np.int64)
    for i in range(len(order)):
        now = t_create[i]
        while releases and releases[0][0] <= now:
            _, _, a = heapq.heappop(releases)
            load[a] -= 1
            push(a)
        h = heaps[need_o[i]]
        while True:
            ld, dn, _, a = h[0]
            if ld == load[a] and dn == done[a]:
                break
            heapq.heappop(h)  # stale entry: the agent's load changed since it was pushed
        chosen[i], open_load[i] = a, load[a]
        load[a] += 1
        done[a] += 1
        push(a)
        if t_release[i] != np.iinfo(np.int64).max:
            heapq.heappush(releases, (int(t_release[i]), i, a))
    out = pd.DataFrame({"ticket_id": df["ticket_id"].to_numpy()[order],
                        "skill": need_o.astype(str), "agent_id": chosen,
                        "open_load": open_load})
    out["skill"] = out["skill"].astype("str")
    if pd.api.types.is_integer_dtype(agents["agent_id"]):
        out["agent_id"] = out["agent_id"].astype(agents["agent_id"].dtype)
    return out.sort_values("ticket_id", kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------
# triage: text classification
# --------------------------------------------------------------------------------------


def time_split(
    df: pd.DataFrame,
    *,
    time_col: str = "created_ts",
    test_share: float = 0.3,
    table: str = "tickets",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split by time: the earliest ``1 - test_share`` of rows train, the latest test.

    A random split would let the model peek at the future (new templates, new products);
    support teams train on last month and are judged on this month.
    """
    d = as_frame(df, table)
    require_columns(d, table, [time_col])
    ts = datetime_column(d, table, time_col)
    if not 0 < test_share < 1:
        raise ValueError(f"time_split: test_share={test_share!r} must be between 0 and 1.")
    order = np.argsort(ts.to_numpy(), kind="stable")
    n_test = int(round(len(d) * test_share))
    if n_test < 1 or n_test >= len(d):
        raise ValueError(f"time_split: {len(d)} rows cannot be split with test_share={test_share}; "
                         "need at least one row on each side.")
    cut = len(d) - n_test
    return d.iloc[order[:cut]].copy(), d.iloc[order[cut:]].copy()


class TicketTriage:
    """Predict a ticket's category from its words (工單分類): TF-IDF + logistic regression.

    Parameters: ``text_cols`` joined with a space, ``ngram_range`` and ``min_df`` for the
    TF-IDF vectoriser (sublinear tf), ``C`` for the (multinomial) logistic regression.
    Learned: ``vectorizer_``, ``model_``, ``classes_``.
    """

    def __init__(self, text_cols: Sequence[str] = ("subject", "text"), ngram_range: tuple[int, int] = (1, 2),
                 min_df: int = 1, C: float = 10.0, max_iter: int = 2000) -> None:
        self.text_cols = tuple(text_cols)
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.C = C
        self.max_iter = max_iter

    def _text(self, df: pd.DataFrame) -> pd.Series:
        d = as_frame(df, "tickets")
        require_columns(d, "tickets", list(self.text_cols))
        parts = [d[c].astype("str").fillna("") for c in self.text_cols]
        text = parts[0]
        for p in parts[1:]:
            text = text + " " + p
        return text

    def fit(self, tickets: pd.DataFrame, y: Iterable | None = None) -> TicketTriage:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        text = self._text(tickets)
        if y is None:
            require_columns(tickets, "tickets", ["category"], fix="Pass y= with the labels instead.")
            y = tickets["category"]
        labels = pd.Series(y).astype("str").to_numpy()
        if len(labels) != len(text):
            raise ValueError(f"TicketTriage.fit: {len(labels)} labels for {len(text)} tickets.")
        if pd.isna(labels).any():
            raise ValueError("TicketTriage.fit: labels have missing values; drop those tickets.")
        if len(set(labels)) < 2:
            raise ValueError("TicketTriage.fit: need tickets of at least two categories to learn.")
        self.vectorizer_ = TfidfVectorizer(ngram_range=self.ngram_range, min_df=self.min_df,
                                           sublinear_tf=True)
        X = self.vectorizer_.fit_transform(text)
        self.model_ = LogisticRegression(C=self.C, max_iter=self.max_iter)
        self.model_.fit(X, labels)
        self.classes_ = self.model_.classes_
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise ValueError("TicketTriage: call fit(train_tickets) before predict.")

    def predict(self, tickets: pd.DataFrame) -> np.ndarray:
        self._check_fitted()
        return self.model_.predict(self.vectorizer_.transform(self._text(tickets)))

    def predict_proba(self, tickets: pd.DataFrame) -> pd.DataFrame:
        self._check_fitted()
        p = self.model_.predict_proba(self.vectorizer_.transform(self._text(tickets)))
        return pd.DataFrame(p, columns=self.classes_, index=tickets.index)

    def top_terms(self, n: int = 5) -> pd.DataFrame:
        """The ``n`` words with the largest weight for each category (what the model reads)."""
        self._check_fitted()
        terms = np.asarray(self.vectorizer_.get_feature_names_out())
        coef = self.model_.coef_
        if coef.shape[0] == 1:  # binary: one row for the second class
            coef = np.vstack([-coef[0], coef[0]])
        rows = []
        for k, cls in enumerate(self.classes_):
            top = np.argsort(-coef[k], kind="stable")[:n]
            rows += [{"category": cls, "rank": r + 1, "term": terms[j], "weight": float(coef[k, j])}
                     for r, j in enumerate(top)]
        return pd.DataFrame(rows)


def classification_scores(y_true: Iterable, y_pred: Iterable) -> dict[str, float]:
    """Accuracy and macro-F1 (every category counts the same, however rare)."""
    from sklearn.metrics import accuracy_score, f1_score

    t = pd.Series(list(y_true), dtype="str")
    p = pd.Series(list(y_pred), dtype="str")
    if len(t) != len(p) or len(t) == 0:
        raise ValueError(f"classification_scores: got {len(t)} true and {len(p)} predicted labels; "
                         "pass two non-empty sequences of the same length.")
    labels = sorted(set(t))
    return {"n": len(t), "accuracy": float(accuracy_score(t, p)),
            "macro_f1": float(f1_score(t, p, labels=labels, average="macro", zero_division=0))}


def confusion_table(y_true: Iterable, y_pred: Iterable, labels: Sequence[str] | None = None) -> pd.DataFrame:
    """Counts with true categories as rows and predicted ones as columns."""
    t = pd.Series(list(y_true), dtype="str", name="true")
    p = pd.Series(list(y_pred), dtype="str", name="predicted")
    if len(t) != len(p):
        raise ValueError("confusion_table: y_true and y_pred must have the same length.")
    labels = list(labels) if labels is not None else sorted(set(t) | set(p))
    tab = pd.crosstab(pd.Categorical(t, categories=labels), pd.Categorical(p, categories=labels),
                      dropna=False)
    tab.index.name, tab.columns.name = "true", "predicted"
    return tab


# --------------------------------------------------------------------------------------
# Erlang B / C
# --------------------------------------------------------------------------------------


def _check_queue(agents: object, load: object) -> tuple[np.ndarray, np.ndarray]:
    n = np.asarray(agents)
    a = np.asarray(load, dtype=float)
    if n.dtype.kind not in "iu":
        if n.dtype.kind == "f" and np.all(np.isfinite(n)) and np.all(n == np.round(n)):
            n = n.astype(np.int64)
        else:
            raise ValueError(f"agents={agents!r} must be whole numbers of agents.")
    if np.any(n < 1):
        raise ValueError(f"agents={agents!r} must be at least 1.")
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError(f"load={load!r} (offered traffic in erlangs = arrival rate x average "
                         "handling time) must be finite and >= 0.")
    return np.broadcast_arrays(n.astype(np.int64), a)


def _scalar(x: np.ndarray) -> float | np.ndarray:
    return float(x) if np.ndim(x) == 0 else x


def erlang_b(agents: int | Sequence[int], load: float | Sequence[float]) -> float | np.ndarray:
    """Erlang B blocking probability B(N, A), by the recursion B(k) = A B(k-1) / (k + A B(k-1)).

    The recursion never forms A^N or N!, so it stays exact for thousands of agents where the
    textbook formula overflows. Works element-wise on arrays.
    """
    n, a = _check_queue(agents, load)
    b = np.ones(a.shape)
    for k in range(1, int(n.max()) + 1 if n.size else 1):
        upd = k <= n
        b = np.where(upd, a * b / (k + a * b), b)
    return _scalar(b)


def _unstable(n: np.ndarray, a: np.ndarray) -> None:
    bad = a >= n
    if np.any(bad):
        i = np.flatnonzero(np.ravel(bad))[0]
        A, N = float(np.ravel(a)[i]), int(np.ravel(n)[i])
        raise ValueError(
            f"the queue is unstable: offered load A = {A:.3g} erlangs >= {N} agents, so calls "
            f"arrive faster than the agents can answer them and the queue grows without bound. "
            f"Use at least {math.floor(A) + 1} agents (or cut the calls or handling time)."
        )


def erlang_c(agents: int | Sequence[int], load: float | Sequence[float]) -> float | np.ndarray:
    """Erlang C: probability that a call has to wait, C(N, A) = N B / (N - A (1 - B)).

    ``load`` A = calls per unit time x average handling time (erlangs). Needs A < N (a stable
    queue); raises ``ValueError`` otherwise.
    """
    n, a = _check_queue(agents, load)
    _unstable(n, a)
    b = np.asarray(erlang_b(n, a), dtype=float)
    return _scalar(n * b / (n - a * (1 - b)))


def service_level(agents: int | Sequence[int], load: float | Sequence[float], aht: float,
                  target: float) -> float | np.ndarray:
    """Share of calls answered within ``target`` (same unit as ``aht``):
    SL = 1 - C(N, A) exp(-(N - A) target / aht)."""
    aht = _positive(aht, "aht")
    target = _positive(target, "target", allow_zero=True)
    n, a = _check_queue(agents, load)
    c = np.asarray(erlang_c(n, a), dtype=float)
    return _scalar(1 - c * np.exp(-(n - a) * target / aht))


def average_speed_of_answer(agents: int | Sequence[int], load: float | Sequence[float],
                            aht: float) -> float | np.ndarray:
    """Average speed of answer (ASA, mean wait over all calls): C(N, A) aht / (N - A)."""
    aht = _positive(aht, "aht")
    n, a = _check_queue(agents, load)
    c = np.asarray(erlang_c(n, a), dtype=float)
    return _scalar(c * aht / (n - a))


def asa_allen_cunneen(agents: int, load: float, aht: float, cv_service: float,
                      cv_arrival: float = 1.0) -> float:
    """Allen-Cunneen approximation of the mean wait for G/G/c: Erlang C's ASA x (ca^2 + cs^2) / 2.

    With lognormal handling of sigma 0.5 (cs = 0.53) the wait is about 64% of Erlang C's.
    """
    cs = _positive(cv_service, "cv_service", allow_zero=True)
    ca = _positive(cv_arrival, "cv_arrival", allow_zero=True)
    return float(average_speed_of_answer(agents, load, aht)) * (ca**2 + cs**2) / 2


def _offered_load(calls: float, aht_seconds: float, period_seconds: float) -> float:
    calls = _positive(calls, "calls", allow_zero=True)
    aht_seconds = _positive(aht_seconds, "aht_seconds")
    period_seconds = _positive(period_seconds, "period_seconds")
    return calls * aht_seconds / period_seconds


def staffing_table(
    calls: float,
    aht_seconds: float,
    *,
    period_seconds: float = 3600.0,
    target_seconds: float = 20.0,
    agents: Iterable[int] | None = None,
) -> pd.DataFrame:
    """Service level, ASA, P(wait) and occupancy for a range of agent counts (the staffing curve).

    ``calls`` arrive per ``period_seconds``. Default agents: from the smallest stable count
    (floor(A) + 1) until the service level passes 99.9%. Computed with one pass of the Erlang B
    recursion, so long ranges cost O(N). Columns ``agents, load, occupancy, p_wait,
    service_level, asa_seconds``.
    """
    A = _offered_load(calls, aht_seconds, period_seconds)
    target = _positive(target_seconds, "target_seconds", allow_zero=True)
    lo = math.floor(A) + 1
    wanted = None
    if agents is not None:
        wanted = sorted({int(x) for x in agents})
        if not wanted:
            raise ValueError("staffing_table: agents is empty.")
        _unstable(np.asarray(wanted[0]), np.asarray(A))
    rows = []
    b = 1.0
    n = 0
    while True:
        n += 1
        b = A * b / (n + A * b)
        if n < lo:
            continue
        c = n * b / (n - A * (1 - b))
        sl = 1 - c * math.exp(-(n - A) * target / aht_seconds)
        if wanted is None or n in wanted:
            rows.append({"agents": n, "load": A, "occupancy": A / n, "p_wait": c,
                         "service_level": sl, "asa_seconds": c * aht_seconds / (n - A)})
        if (wanted is None and sl >= 0.999 and n >= lo + 2) or (wanted is not None and n >= wanted[-1]):
            break
    return pd.DataFrame(rows)


def agents_needed(
    calls: float,
    aht_seconds: float,
    *,
    period_seconds: float = 3600.0,
    target_seconds: float = 20.0,
    service_level_target: float = 0.8,
    shrinkage: float = 0.0,
    max_occupancy: float = 1.0,
    asa_target_seconds: float | None = None,
) -> dict[str, float]:
    """Fewest agents on the phones for the target, and the staff to schedule after shrinkage.

    ``raw_agents`` is the smallest N with service level >= ``service_level_target`` (calls
    answered within ``target_seconds``), occupancy A/N <= ``max_occupancy`` and, if given,
    ASA <= ``asa_target_seconds``. ``scheduled_agents`` = ceil(raw / (1 - shrinkage)): breaks,
    training, meetings and absence take a share of paid time off the phones.
    Returns ``load, raw_agents, scheduled_agents, p_wait, service_level, asa_seconds,
    occupancy``.
    """
    if not 0 < service_level_target < 1:
        raise ValueError(f"service_level_target={service_level_target!r} must be between 0 and 1 "
                         "(e.g. 0.8 for 80% of calls within the target time).")
    if not 0 <= shrinkage < 1:
        raise ValueError(f"shrinkage={shrinkage!r} must be in [0, 1), e.g. 0.3 for 30%.")
    if not 0 < max_occupancy <= 1:
        raise ValueError(f"max_occupancy={max_occupancy!r} must be in (0, 1].")
    A = _offered_load(calls, aht_seconds, period_seconds)
    target = _positive(target_seconds, "target_seconds", allow_zero=True)
    asa_t = None if asa_target_seconds is None else _positive(asa_target_seconds, "asa_target_seconds")
    b, n = 1.0, 0
    while True:
        n += 1
        b = A * b / (n + A * b)
        if n <= A:
            continue
        c = n * b / (n - A * (1 - b))
        sl = 1 - c * math.exp(-(n - A) * target / aht_seconds)
        asa = c * aht_seconds / (n - A)
        if sl >= service_level_target and A / n <= max_occupancy and (asa_t is None or asa <= asa_t):
            break
    return {"load": A, "raw_agents": n, "scheduled_agents": int(math.ceil(n / (1 - shrinkage) - 1e-9)),
            "p_wait": c, "service_level": sl, "asa_seconds": asa, "occupancy": A / n}


# --------------------------------------------------------------------------------------
# queue simulation
# --------------------------------------------------------------------------------------


def simulate_queue(
    calls_per_hour: float,
    aht_seconds: float,
    agents: int,
    *,
    n_calls: int = 50_000,
    service: str = "exponential",
    sigma: float = 0.5,
    patience_seconds: float | None = None,
    seed: int | np.random.Generator = 0,
) -> pd.DataFrame:
    """Simulate a first-come-first-served queue with ``agents`` servers (Poisson arrivals).

    ``service='exponential'`` gives M/M/c (what Erlang C assumes); ``'lognormal'`` draws
    handling times with log-sd ``sigma`` and mean ``aht_seconds`` (the shop's calls). With
    ``patience_seconds`` callers hang up after an exponential patience of that mean (then the
    line is the shop's M/G/c+M). A caller's wait is the time until the earliest server is
    free; callers who hang up take no server. Returns ``arrival_s, wait_s, abandoned,
    handle_s`` per call.
    """
    lam = _positive(calls_per_hour, "calls_per_hour") / 3600.0
    aht = _positive(aht_seconds, "aht_seconds")
    if int(agents) != agents or agents < 1:
        raise ValueError(f"agents={agents!r} must be a whole number >= 1.")
    agents = int(agents)
    if patience_seconds is None:
        _unstable(np.asarray(agents), np.asarray(lam * aht))
    if n_calls < 1:
        raise ValueError("n_calls must be >= 1.")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    arrival = np.cumsum(rng.exponential(1 / lam, n_calls))
    if service == "exponential":
        handle = rng.exponential(aht, n_calls)
    elif service == "lognormal":
        s = _positive(sigma, "sigma")
        handle = rng.lognormal(math.log(aht) - s**2 / 2, s, n_calls)
    else:
        raise ValueError(f"service={service!r} must be 'exponential' or 'lognormal'.")
    patience = (np.full(n_calls, np.inf) if patience_seconds is None
                else rng.exponential(_positive(patience_seconds, "patience_seconds"), n_calls))
    free = [0.0] * agents
    heapq.heapify(free)
    wait = np.empty(n_calls)
    abandoned = np.zeros(n_calls, dtype=bool)
    for i in range(n_calls):
        t = arrival[i]
        w = max(free[0] - t, 0.0)
        if w > patience[i]:
            wait[i], abandoned[i] = patience[i], True
            continue
        wait[i] = w
        heapq.heapreplace(free, t + w + handle[i])
    return pd.DataFrame({"arrival_s": arrival, "wait_s": wait, "abandoned": abandoned,
                         "handle_s": np.where(abandoned, 0.0, handle)})


@reads(calls="")
def queue_stats(calls: pd.DataFrame, *, target_seconds: float = 20.0, wait_col: str = "wait_s",
                abandoned_col: str = "abandoned", table: str = "calls") -> dict[str, float]:
    """Measured queue figures: ``p_wait`` (share that waited at all), ``service_level`` (answered
    within target / offered), ``asa_seconds`` (mean wait of answered calls), ``abandon_rate``."""
    df = as_frame(calls, table)
    require_columns(df, table, [wait_col, abandoned_col])
    w = df[wait_col].to_numpy(float)
    if np.isnan(w).any() or (w < 0).any():
        raise ValueError(f"{table}: column '{wait_col}' must hold waits >= 0 without missing values.")
    ab = df[abandoned_col].to_numpy(bool)
    target = _positive(target_seconds, "target_seconds", allow_zero=True)
    n = len(df)
    if n == 0:
        raise ValueError(f"{table} is empty.")
    ans = ~ab
    return {"calls": n, "p_wait": float(np.mean(w > 0)),
            "service_level": float(np.mean(ans & (w <= target))),
            "asa_seconds": float(w[ans].mean()) if ans.any() else float("nan"),
            "abandon_rate": float(ab.mean())}


@reads(calls=Reads("calls", name_arg="table", nonempty=True))
def call_center_by_hour(
    calls: pd.DataFrame,
    *,
    agents: int | None = None,
    target_seconds: float = 20.0,
    table: str = "calls",
) -> pd.DataFrame:
    """The shop's call log by hour of day beside Erlang C's prediction for the same hour.

    Per hour: ``days`` (dates in the log), ``offered_per_hour`` (calls / days), ``aht_seconds``
    (mean handling of answered calls), ``load`` (erlangs), ``agents`` (default: the number of
    distinct answering agents in the log), measured ``p_wait``, ``service_level`` (answered
    within target / offered), ``asa_seconds`` (answered calls), ``abandon_rate``, and Erlang C's
    ``erlang_p_wait``, ``erlang_service_level``, ``erlang_asa_seconds`` (NaN where the hour's
    load is not below the agents: Erlang C has no steady state there).
    """
    df = as_frame(calls, table)
    require_columns(df, table, ["arrival_ts", "wait_seconds", "abandoned", "handle_seconds"])
    ts = datetime_column(df, table, "arrival_ts")
    for col in ("wait_seconds", "handle_seconds"):
        v = df[col].to_numpy(float)
        if np.isnan(v).any() or (v < 0).any():
            raise ValueError(f"{table}: column '{col}' must hold seconds >= 0 without missing values.")
    if agents is None:
        require_columns(df, table, ["agent_id"], fix="Pass agents=<number of phone agents>.")
        agents = int(df["agent_id"].dropna().nunique())
    if agents < 1:
        raise ValueError("call_center_by_hour: no answering agents; pass agents=...")
    target = _positive(target_seconds, "target_seconds", allow_zero=True)
    days = ts.dt.normalize().nunique()
    d = pd.DataFrame({"hour": ts.dt.hour.to_numpy(), "wait": df["wait_seconds"].to_numpy(float),
                      "ab": df["abandoned"].to_numpy(bool), "handle": df["handle_seconds"].to_numpy(float)})
    d["ans"] = ~d["ab"]
    d["within"] = d["ans"] & (d["wait"] <= target)
    d["waited"] = d["wait"] > 0
    d["wait_ans"] = d["wait"].where(d["ans"])
    d["handle_ans"] = d["handle"].where(d["ans"])
    g = d.groupby("hour").agg(calls=("wait", "size"), p_wait=("waited", "mean"),
                              service_level=("within", "mean"), asa_seconds=("wait_ans", "mean"),
                              abandon_rate=("ab", "mean"), aht_seconds=("handle_ans", "mean"))
    g.insert(0, "days", days)
    g.insert(2, "offered_per_hour", g["calls"] / days)
    g["load"] = g["offered_per_hour"] * g["aht_seconds"] / 3600.0
    g["agents"] = agents
    stable = g["load"] < agents
    n = np.full(len(g), agents)
    a = np.where(stable, g["load"], 0.0)
    g["erlang_p_wait"] = np.where(stable, erlang_c(n, a), np.nan)
    g["erlang_service_level"] = np.where(stable, 1 - g["erlang_p_wait"] * np.exp(
        -(agents - a) * target / g["aht_seconds"]), np.nan)
    g["erlang_asa_seconds"] = np.where(stable, g["erlang_p_wait"] * g["aht_seconds"] / (agents - a), np.nan)
    return g.reset_index()


# --------------------------------------------------------------------------------------
# FAQ self-service search
# --------------------------------------------------------------------------------------


class FaqSearch:
    """TF-IDF retrieval over the help centre's articles (常見問題搜尋).

    Each article is represented by its title and body; a query is scored against every
    article by cosine similarity of TF-IDF vectors. Queries that share no word with any
    article get no result (rather than an arbitrary first article).
    Parameters: ``analyzer`` ('word' or 'char_wb'), ``ngram_range``, ``stop_words``.
    Learned: ``vectorizer_``, ``matrix_``, ``article_id_``, ``category_``.
    """

    def __init__(self, analyzer: str = "word", ngram_range: tuple[int, int] = (1, 2),
                 stop_words: str | None = None) -> None:
        self.analyzer = analyzer
        self.ngram_range = ngram_range
        self.stop_words = stop_words

    def fit(self, articles: pd.DataFrame) -> FaqSearch:
        from sklearn.feature_extraction.text import TfidfVectorizer

        a = as_frame(articles, "faq_articles")
        require_columns(a, "faq_articles", ["article_id", "category", "title", "body"])
        if a.empty:
            raise ValueError("faq_articles is empty: nothing to search.")
        docs = a["title"].astype("str").fillna("") + " " + a["body"].astype("str").fillna("")
        self.vectorizer_ = TfidfVectorizer(analyzer=self.analyzer, ngram_range=self.ngram_range,
                                           stop_words=self.stop_words, sublinear_tf=True)
        self.matrix_ = self.vectorizer_.fit_transform(docs)
        self.article_id_ = a["article_id"].to_numpy()
        self.category_ = a["category"].astype("str").to_numpy()
        return self

    def scores(self, queries: Iterable[str]) -> np.ndarray:
        """Cosine similarity, one row per query and one column per article."""
        if not hasattr(self, "matrix_"):
            raise ValueError("FaqSearch: call fit(faq_articles) first.")
        q = pd.Series(list(queries) if not isinstance(queries, str) else [queries], dtype="str")
        return (self.vectorizer_.transform(q.fillna("")) @ self.matrix_.T).toarray()

    def search(self, queries: Iterable[str], k: int = 3) -> pd.DataFrame:
        """Top-``k`` articles per query: ``query_index, query, rank, article_id, category,
        score`` (only articles with a score > 0)."""
        qs = [queries] if isinstance(queries, str) else list(queries)
        s = self.scores(qs)
        k = max(1, min(int(k), s.shape[1]))
        top = np.argsort(-s, axis=1, kind="stable")[:, :k]
        rows = []
        for i, q in enumerate(qs):
            for r, j in enumerate(top[i]):
                if s[i, j] > 0:
                    rows.append({"query_index": i, "query": q, "rank": r + 1,
                                 "article_id": self.article_id_[j], "category": self.category_[j],
                                 "score": float(s[i, j])})
        out = pd.DataFrame(rows, columns=["query_index", "query", "rank", "article_id", "category",
                                          "score"])
        out["query"] = out["query"].astype("str")
        out["category"] = out["category"].astype("str")
        return out

    def evaluate(self, searches: pd.DataFrame, ks: Sequence[int] = (1, 3),
                 query_col: str = "query", intent_col: str = "intent") -> dict[str, float]:
        """hit@k: share of searches whose intent category is among the top-k articles'
        categories; ``no_result_rate``: share with no matching article at all."""
        d = as_frame(searches, "faq_searches")
        require_columns(d, "faq_searches", [query_col, intent_col])
        if d.empty:
            raise ValueError("faq_searches is empty.")
        # Score each distinct query once (search logs repeat the same few queries a lot).
        uq, inv = np.unique(d[query_col].astype("str").to_numpy(), return_inverse=True)
        s = self.scores(uq)
        order = np.argsort(-s, axis=1, kind="stable")
        ranked_cat = self.category_[order]
        ranked_ok = np.take_along_axis(s, order, axis=1) > 0
        intent = d[intent_col].astype("str").to_numpy()
        out: dict[str, float] = {"searches": len(d)}
        for k in ks:
            k = int(k)
            hit = ((ranked_cat[inv, :k] == intent[:, None]) & ranked_ok[inv, :k]).any(axis=1)
            out[f"hit_at_{k}"] = float(hit.mean())
        out["no_result_rate"] = float((~ranked_ok[inv, 0]).mean())
        return out


@reads(faq_searches="customer_id ts", tickets="customer_id created_ts")
def deflection_rate(
    faq_searches: pd.DataFrame,
    tickets: pd.DataFrame,
    *,
    window: str | pd.Timedelta = "3D",
    by: str | Sequence[str] | None = "intent",
) -> pd.DataFrame:
    """Self-service deflection (自助分流率): searches NOT followed by a ticket.

    A search is *deflected* when the same customer opens no ticket within ``window`` after
    it (found by time, as a help centre that cannot link searches to tickets would).
    Columns: the groups, ``searches``, ``followed_by_ticket``, ``deflection_rate``.
    """
    s = as_frame(faq_searches, "faq_searches")
    require_columns(s, "faq_searches", ["customer_id", "ts"])
    t = as_frame(tickets, "tickets")
    require_columns(t, "tickets", ["customer_id", "created_ts"])
    s_ts = datetime_column(s, "faq_searches", "ts")
    t_ts = datetime_column(t, "tickets", "created_ts")
    w = pd.Timedelta(window)
    if w <= pd.Timedelta(0):
        raise ValueError(f"deflection_rate: window={window!r} must be a positive duration.")
    left = pd.DataFrame({"_row": np.arange(len(s)), "customer_id": s["customer_id"].to_numpy(),
                         "ts": s_ts.to_numpy()}).sort_values("ts", kind="stable")
    right = pd.DataFrame({"customer_id": t["customer_id"].to_numpy(), "ts": t_ts.to_numpy(),
                          "_t": t_ts.to_numpy()}).sort_values("ts", kind="stable")
    left["customer_id"] = left["customer_id"].astype("int64")
    right["customer_id"] = right["customer_id"].astype("int64")
    m = pd.merge_asof(left, right, on="ts", by="customer_id", direction="forward", tolerance=w)
    followed = np.zeros(len(s), dtype=bool)
    followed[m["_row"].to_numpy()] = m["_t"].notna().to_numpy()
    d = pd.DataFrame({"followed_by_ticket": followed}, index=s.index)
    keys = as_list(by)
    require_columns(s, "faq_searches", keys)
    for k in keys:
        d[k] = s[k].astype("str") if isinstance(s[k].dtype, pd.CategoricalDtype) else s[k]
    if keys:
        g = d.groupby(keys, observed=True, sort=True)["followed_by_ticket"]
        out = g.agg(searches="size", followed_by_ticket="sum").reset_index()
    else:
        out = pd.DataFrame({"searches": [len(d)], "followed_by_ticket": [int(followed.sum())]})
    out["followed_by_ticket"] = out["followed_by_ticket"].astype(np.int64)
    out["deflection_rate"] = 1 - out["followed_by_ticket"] / out["searches"]
    return out


# --------------------------------------------------------------------------------------
# performance report
# --------------------------------------------------------------------------------------


@reads(calls=Reads("calls", optional=True))
def support_report(
    metrics: pd.DataFrame,
    *,
    calls: pd.DataFrame | None = None,
    freq: str | None = "W",
    by: str | Sequence[str] | None = None,
    targets: pd.DataFrame = SLA_TARGETS,
    clock: str = "business",
    target_seconds: float = 20.0,
) -> pd.DataFrame:
    """The support performance report (客服績效報表) per week (``freq``) and/or per ``by``.

    Tickets count in the period they were created. Columns: ``tickets``, ``resolved``,
    ``open_at_period_end`` (backlog of the group at the period's end; with ``freq``),
    ``complete`` (with ``freq``: the period ends on or before the observation end of
    ``metrics``; a partial last period has fewer days and must not be read as a full one),
    ``frt_median_min`` and ``frt_p90_h`` (calendar clock), ``resolution_median_h``,
    ``frt_sla`` and ``resolution_sla`` (attainment, ``clock`` hours, see :func:`sla_flags`),
    ``fcr_rate``, ``reopen_rate``, ``csat_mean``, ``csat_responses``. With ``calls`` (the call
    log), also ``calls_offered``, ``calls_answered``, ``call_service_level`` (answered within
    ``target_seconds`` / offered), ``abandon_rate``, ``asa_seconds``; grouped by ``agent_id``
    the call columns are the agent's answered calls and mean handling time.
    """
    df = _check_metrics(metrics)
    keys = as_list(by)
    require_columns(df, "metrics", keys)
    if freq is None and not keys:
        raise ValueError("support_report: give freq='W' (per week) and/or by='agent_id'.")
    flags = sla_flags(df, targets, clock=clock) if "priority" in df.columns else None
    d = df.copy()
    if flags is not None:
        d["frt_sla"] = flags["frt_met"].astype("Float64").to_numpy()
        d["resolution_sla"] = flags["resolution_met"].astype("Float64").to_numpy()
    group = list(keys)
    if freq is not None:
        d["_p"] = d["created_ts"].dt.to_period(freq)
        group = ["_p", *keys]
    for k in keys:
        if isinstance(d[k].dtype, pd.CategoricalDtype):
            d[k] = d[k].astype("str")
    d["fcr_f"] = d["fcr"].astype("Float64")
    d["reopen_f"] = d["reopened"].astype("Float64").where(d["resolved"])
    agg = {
        "tickets": ("ticket_id", "size"),
        "resolved": ("resolved", "sum"),
        "frt_median_min": ("frt_min", "median"),
        "resolution_median_h": ("resolution_hours", "median"),
        "fcr_rate": ("fcr_f", "mean"),
        "reopen_rate": ("reopen_f", "mean"),
    }
    if flags is not None:
        agg["frt_sla"] = ("frt_sla", "mean")
        agg["resolution_sla"] = ("resolution_sla", "mean")
    if "csat" in d.columns:
        agg["csat_mean"] = ("csat", "mean")
        agg["csat_responses"] = ("csat", "count")
    d["frt_min"] = d["frt_hours"] * 60
    grouped = d.groupby(group, observed=True, sort=True)
    out = grouped.agg(**agg)
    out.insert(out.columns.get_loc("frt_median_min") + 1, "frt_p90_h",
               grouped["frt_hours"].quantile(0.9))
    out = out.reset_index()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.Float64Dtype):
            out[col] = out[col].astype(float)
    if freq is not None:
        # Backlog of each group at the end of each period (tickets created up to then, not yet
        # resolved), cut at the observation end.
        at = (out["_p"] + 1).dt.start_time.to_numpy(dtype="datetime64[ns]")
        end_ts = df.attrs.get("end")
        if end_ts is not None:
            at = np.minimum(at, np.datetime64(pd.Timestamp(end_ts).to_datetime64(), "ns"))
        open_at = np.zeros(len(out), dtype=np.int64)
        c_all = d["created_ts"].to_numpy(dtype="datetime64[ns]")
        r_all = d["resolved_ts"].to_numpy(dtype="datetime64[ns]")
        if keys:
            rows_of = d.groupby(keys, observed=True).indices
            for key, pos in out.groupby(keys, observed=True).indices.items():
                rows = rows_of[key]
                open_at[pos] = _open_counts(c_all[rows], r_all[rows], at[pos])
        else:
            open_at[:] = _open_counts(c_all, r_all, at)
        period_end = (out["_p"] + 1).dt.start_time
        complete = (period_end <= pd.Timestamp(end_ts)).to_numpy() if end_ts is not None else True
        out.insert(0, "period", out.pop("_p").dt.start_time)
        out.insert(1, "complete", complete)
        out.insert(len(group) + 3, "open_at_period_end", open_at)
    if calls is not None:
        out = _add_call_columns(out, calls, freq=freq, keys=keys, target_seconds=target_seconds)
    return out


def _add_call_columns(out: pd.DataFrame, calls: pd.DataFrame, *, freq: str | None,
                      keys: list[str], target_seconds: float) -> pd.DataFrame:
    c = as_frame(calls, "calls")
    require_columns(c, "calls", ["arrival_ts", "wait_seconds", "abandoned", "handle_seconds"])
    ts = datetime_column(c, "calls", "arrival_ts")
    target = _positive(target_seconds, "target_seconds", allow_zero=True)
    d = pd.DataFrame({"wait": c["wait_seconds"].to_numpy(float), "ab": c["abandoned"].to_numpy(bool),
                      "handle": c["handle_seconds"].to_numpy(float)})
    d["ans"] = ~d["ab"]
    d["within"] = d["ans"] & (d["wait"] <= target)
    d["wait_ans"] = d["wait"].where(d["ans"])
    d["handle_ans"] = d["handle"].where(d["ans"])
    group = []
    if freq is not None:
        d["period"] = ts.dt.to_period(freq).dt.start_time.to_numpy()
        group.append("period")
    if keys == ["agent_id"]:
        require_columns(c, "calls", ["agent_id"])
        d["agent_id"] = c["agent_id"].to_numpy()
        d = d.loc[d["ans"] & d["agent_id"].notna()]
        d["agent_id"] = d["agent_id"].astype(out["agent_id"].dtype)
        g = d.groupby([*group, "agent_id"], sort=True).agg(
            calls_answered=("ans", "size"), aht_seconds=("handle_ans", "mean")).reset_index()
        return out.merge(g, on=[*group, "agent_id"], how="left").fillna({"calls_answered": 0})
    if keys:
        return out  # calls carry no ticket category/channel: nothing to add per group
    g = d.groupby(group, sort=True).agg(
        calls_offered=("ans", "size"), calls_answered=("ans", "sum"),
        call_service_level=("within", "mean"), abandon_rate=("ab", "mean"),
        asa_seconds=("wait_ans", "mean")).reset_index()
    return out.merge(g, on=group, how="left")


# --------------------------------------------------------------------------------------
# online customer service (網路客服) and smart service (智能客服): issue 24
# --------------------------------------------------------------------------------------


__all__ += [
    "RESPONSE_STANDARDS",
    "first_response_standards",
    "SERVICE_SCRIPT",
    "script_steps",
    "script_score",
    "inquiry_conversion",
    "assisted_orders",
    "IntentClassifier",
    "bot_decisions",
    "handoff_tradeoff",
    "SERVICE_COMPLAINT_WORDS",
    "mentions_needing_reply",
]

#: Seconds in each unit a response standard may be written in.
UNIT_SECONDS: dict[str, float] = {"seconds": 1.0, "minutes": 60.0, "hours": 3600.0}

#: The shop's first-response targets per channel, each in the channel's own unit (a chat is
#: answered in seconds, an e-mail in hours). Data, not code: the support lead edits a copy.
#: ``typical`` and ``source`` say where published norms sit; the targets are the shop's own.
RESPONSE_STANDARDS = pd.DataFrame({
    "channel": ["chat", "phone", "email", "faq_escalation"],
    "unit": ["seconds", "seconds", "hours", "hours"],
    "target": [60.0, 20.0, 24.0, 24.0],
    "typical": [
        "top teams answer live chat in under a minute; the average is 1-2 minutes",
        "80/20 service level: 80% of calls answered within 20 seconds (notebook 09)",
        "customers expect about 1 hour; the average company answers in about 12 hours",
        "an FAQ escalation is a written message, answered in the e-mail queue",
    ],
    "source": [
        "https://www.lorikeetcx.ai/articles/first-response-time-benchmark-customer-service",
        "call-centre convention (ICMI); crmlab.support.service_level",
        "https://www.superoffice.co.uk/resources/articles/customer-service-response-times",
        "the shop's own rule",
    ],
})


def _check_standards(standards: object, func: str) -> pd.DataFrame:
    s = as_frame(standards, "standards", func=func)
    require_columns(s, "standards", ["channel", "unit", "target"], func=func,
             fix="Start from a copy of crmlab.support.RESPONSE_STANDARDS.")
    bad_unit = sorted(set(s["unit"].astype("str")) - set(UNIT_SECONDS))
    if bad_unit:
        raise ValueError(f"{func}: standards.unit has {bad_unit}; use one of {list(UNIT_SECONDS)}.")
    target = pd.to_numeric(s["target"], errors="coerce")
    if target.isna().any() or (target <= 0).any():
        raise ValueError(f"{func}: standards.target must be positive numbers (in the row's unit), "
                         f"got {s['target'].tolist()}.")
    if s["channel"].astype("str").duplicated().any():
        raise ValueError(f"{func}: standards has a channel twice; keep one row per channel.")
    return s


@reads(tickets="created_ts first_response_ts")
def first_response_standards(
    tickets: pd.DataFrame,
    standards: pd.DataFrame | None = None,
    *,
    end: object = None,
) -> pd.DataFrame:
    """First response per channel, in the channel's own unit, against a standards table.

    FRT = ``first_response_ts - created_ts``. A ticket *meets* its channel's target when
    answered within it; it *misses* when answered later or still unanswered at ``end`` after
    waiting longer than the target; an unanswered ticket still within its target is
    *pending* and left out. ``share_met = met / (met + missed)``. ``median`` and ``p90`` are
    over answered tickets, in ``unit``. ``end`` defaults to the latest time stamp in
    ``tickets``. One row per channel of ``standards`` (default :data:`RESPONSE_STANDARDS`)
    that has tickets, in the standards' order.
    """
    func = "first_response_standards"
    t = as_frame(tickets, "tickets", func=func)
    require_columns(t, "tickets", ["channel", "created_ts", "first_response_ts"], func=func)
    created = datetime_column(t, "tickets", "created_ts", func=func)
    first = datetime_column(t, "tickets", "first_response_ts", allow_missing=True, func=func)
    std = _check_standards(RESPONSE_STANDARDS if standards is None else standards, func)
    channel = t["channel"].astype("str")
    unknown = sorted(set(channel.dropna()) - set(std["channel"].astype("str")))
    if unknown:
        raise ValueError(f"{func}: tickets.channel has {unknown} without a row in standards; add "
                         "a row (channel, unit, target) for each.")
    end_ts = as_timestamp(end, "end", func=func) if end is not None else max(created.max(), first.max())
    frt_s = (first - created).dt.total_seconds()
    if (frt_s < 0).any():
        raise ValueError(f"{func}: {int((frt_s < 0).sum())} tickets have first_response_ts before "
                         "created_ts; fix the time stamps or drop those tickets.")
    std_by = std.assign(channel=std["channel"].astype("str")).set_index("channel")
    unit_s = channel.map(std_by["unit"].astype("str").map(UNIT_SECONDS)).astype("float64")
    limit_s = channel.map(pd.to_numeric(std_by["target"])).astype("float64") * unit_s
    answered = frt_s.notna()
    age_s = (end_ts - created).dt.total_seconds()
    met = answered & (frt_s <= limit_s)
    missed = (answered & (frt_s > limit_s)) | (~answered & (age_s > limit_s))
    d = pd.DataFrame({"channel": channel, "frt": frt_s / unit_s, "answered": answered,
                      "pending": ~(met | missed), "met": met, "missed": missed})
    g = d.groupby("channel", observed=True)
    agg = pd.DataFrame({
        "tickets": g.size(), "answered": g["answered"].sum(), "pending": g["pending"].sum(),
        "median": g["frt"].median(), "p90": g["frt"].quantile(0.9), "met": g["met"].sum(),
        "missed": g["missed"].sum(),
    })
    with np.errstate(invalid="ignore", divide="ignore"):
        agg["share_met"] = agg["met"] / (agg["met"] + agg["missed"])
    out = (std[["channel", "unit", "target"]].assign(channel=std["channel"].astype("str"))
           .merge(agg.reset_index(), on="channel", how="inner"))
    for c in ("tickets", "answered", "pending", "met", "missed"):
        out[c] = out[c].astype("int64")
    return out


#: Service scripts (話術): the steps of a sales conversation, each with an example line, the
#: words in a customer's message that make the step necessary (``needed_when``; ``.*`` =
#: always) and the words that show an agent's reply covers it (``cues``). Regular
#: expressions, matched without regard to case. Data, not code: edit a copy.
SERVICE_SCRIPT = pd.DataFrame({
    "step": ["greeting", "answer", "objection", "upsell", "closing"],
    "step_zh": ["問候", "售前諮詢", "異議處理", "加購推薦", "結束語"],
    "example_zh": [
        "您好，歡迎光臨！我是客服小安，很高興為您服務。",
        "這款目前有現貨，享一年保固；身高165公分建議選M號。",
        "了解您的考量！商品享七天鑑賞期，不合適可以免費退換。",
        "搭配同系列收納袋一起買更划算，滿千還免運喔。",
        "請問還有其他可以幫您的嗎？祝您購物愉快！",
    ],
    "example_en": [
        "Hello, thank you for contacting us! This is An, happy to help.",
        "It is in stock with a one-year warranty; for 165 cm we suggest size M.",
        "I understand. You have 7 days to return it for free if it does not suit you.",
        "It goes well with the matching storage bag, and orders over NT$1,000 ship free.",
        "Is there anything else I can help with? Enjoy your shopping!",
    ],
    "needed_when": [
        ".*",
        r"stock|size|measurement|warranty|\bfit\b|material|colou?r",
        r"discount|price|expensive|cheaper|worried|not sure",
        r"bulk|gift|wrapping|\bsets?\b|bundle",
        ".*",
    ],
    "cues": [
        r"\b(hello|hi|welcome)\b|thank you for contacting|您好|你好|歡迎",
        r"in stock|warranty|\bsize\b|measurement|現貨|保固|尺寸|尺碼",
        r"understand|free return|return it|\d+[- ]day|guarantee|了解|鑑賞期|退換",
        r"goes well with|bundle|together|free shipping|ship free|gift wrap|搭配|加購|組合|免運",
        r"anything else|enjoy|have a (nice|great)|還有其他|祝您",
    ],
})


def _texts(texts: object, name: str, func: str) -> pd.Series:
    if isinstance(texts, str):
        raise ValueError(f"{func}: {name} must be a list or Series of texts, not one string; "
                         "wrap it in a list.")
    s = texts if isinstance(texts, pd.Series) else pd.Series(list(texts), dtype="object")  # type: ignore[call-overload]
    if s.isna().any() or not all(isinstance(v, str) for v in s):
        raise ValueError(f"{func}: {name} must hold strings only (no missing values); fill or "
                         "drop the empty ones.")
    return s.astype("str")


def script_steps(texts: object, script: pd.DataFrame | None = None, *,
                 column: str = "cues") -> pd.DataFrame:
    """Which script steps each text matches: one boolean column per step.

    ``column="cues"`` reads agents' replies (which steps a reply covers);
    ``column="needed_when"`` reads customers' messages (which steps a reply must cover).
    The index follows ``texts`` when it is a Series.
    """
    func = "script_steps"
    sc = as_frame(SERVICE_SCRIPT if script is None else script, "script", func=func)
    if column not in ("cues", "needed_when"):
        raise ValueError(f"{func}: column={column!r}; use 'cues' (replies) or 'needed_when' "
                         "(customer messages).")
    require_columns(sc, "script", ["step", column], func=func,
             fix="Start from a copy of crmlab.support.SERVICE_SCRIPT.")
    s = _texts(texts, "texts", func)
    import re

    out = {}
    for step, pattern in zip(sc["step"].astype("str"), sc[column].astype("str"), strict=True):
        try:
            rx = re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            raise ValueError(f"{func}: script.{column} of step {step!r} is not a valid regular "
                             f"expression ({exc}).") from exc
        out[step] = np.array([rx.search(t) is not None for t in s], dtype=bool)
    return pd.DataFrame(out, index=s.index)


def script_score(replies: object, messages: object = None,
                 script: pd.DataFrame | None = None) -> pd.DataFrame:
    """Quality of replies against the script: covered steps / needed steps.

    A step is *needed* when the customer's message matches its ``needed_when`` (every step
    when ``messages`` is None) and *covered* when the reply matches its ``cues``. Columns:
    ``needed``, ``covered`` (needed and covered), ``score`` = covered / needed, and
    ``missing`` (the needed steps the reply left out, comma-separated).
    """
    func = "script_score"
    cov = script_steps(replies, script, column="cues")
    if messages is None:
        need = pd.DataFrame(True, index=cov.index, columns=cov.columns)
    else:
        need = script_steps(messages, script, column="needed_when")
        if len(need) != len(cov):
            raise ValueError(f"{func}: {len(cov)} replies for {len(need)} messages; pass one "
                             "message per reply.")
        need.index = cov.index
    hit = cov & need
    steps = np.asarray(cov.columns, dtype=object)
    gap = (need & ~cov).to_numpy()
    out = pd.DataFrame({"needed": need.sum(axis=1).astype("int64"),
                        "covered": hit.sum(axis=1).astype("int64")}, index=cov.index)
    out["score"] = out["covered"] / out["needed"].where(out["needed"] > 0)
    out["missing"] = pd.array([", ".join(steps[row]) for row in gap], dtype="str")
    return out


def _days(ts: pd.Series) -> pd.Series:
    return ts.dt.normalize()


def _day_pairs(customer: pd.Series, day: pd.Series) -> pd.DataFrame:
    return (pd.DataFrame({"customer_id": customer.astype("int64").to_numpy(),
                          "day": day.to_numpy()})
            .drop_duplicates().reset_index(drop=True))


def _nearest_day(pairs: pd.DataFrame, events: pd.DataFrame, direction: str) -> pd.Series:
    """For each (customer_id, day) pair, the nearest event day of the same customer on or
    after (``forward``) / on or before (``backward``) the day; NaT when there is none."""
    left = pairs.assign(_row=np.arange(len(pairs))).sort_values("day", kind="stable")
    right = (events.assign(_hit=events["day"]).sort_values("day", kind="stable"))
    m = pd.merge_asof(left, right, on="day", by="customer_id", direction=direction)
    out = pd.Series(pd.NaT, index=np.arange(len(pairs)), dtype="datetime64[ns]")
    out.iloc[m["_row"].to_numpy()] = m["_hit"].to_numpy()
    return out


def _questions(tickets: pd.DataFrame, category: str, func: str) -> pd.DataFrame:
    t = as_frame(tickets, "tickets", func=func)
    require_columns(t, "tickets", ["customer_id", "created_ts", "category"], func=func)
    created = datetime_column(t, "tickets", "created_ts", func=func)
    ask = (t["category"].astype("str") == category).to_numpy()
    if not ask.any():
        raise ValueError(f"{func}: tickets: no ticket has category {category!r}; pass category= one of "
                         f"{sorted(set(t['category'].astype('str')))}.")
    return _day_pairs(t.loc[ask, "customer_id"], _days(created[ask]))


def _order_days(orders: pd.DataFrame, func: str) -> pd.DataFrame:
    o = as_frame(orders, "orders", func=func)
    require_columns(o, "orders", ["customer_id", "order_ts"], func=func)
    return _day_pairs(o["customer_id"], _days(datetime_column(o, "orders", "order_ts", func=func)))


def _check_days(days: object, func: str) -> int:
    if isinstance(days, bool) or not isinstance(days, int | np.integer) or days < 0:
        raise ValueError(f"{func}: days={days!r} must be a whole number of days >= 0, e.g. 7.")
    return int(days)


@reads(tickets="",
       orders="",
       sessions=Reads("sessions", optional=True),
       customers=Reads("customers", optional=True))
def inquiry_conversion(
    tickets: pd.DataFrame,
    orders: pd.DataFrame,
    sessions: pd.DataFrame | None = None,
    customers: pd.DataFrame | None = None,
    *,
    days: int = 7,
    category: str = "presales",
    visit_strata: int = 3,
) -> pd.DataFrame:
    """Inquiry-to-order conversion (詢單轉換率) beside comparison groups, by calendar day.

    A *unit* is a customer-day. It *converts* when the customer orders on that day or in the
    ``days`` days after it. Groups (rows):

    * ``asked``: the days a customer opened a ticket of ``category`` (a pre-sales question);
    * with ``sessions``: ``asked, visited that day`` (asked and had a session that day);
      ``visited, did not ask`` (a session on one of the question days, no question that
      day); and ``visited, did not ask, same visits``: the same group's rate standardised to
      the askers' mix of sessions that day (1, 2, ..., ``visit_strata`` or more; a busy
      shopping day is both likelier to hold a question and likelier to end in an order);
    * with ``customers``: ``all customers, same days`` (every customer signed up by a question
      day, who did not ask that day).

    Columns: ``group, units, converted, rate, ci_low, ci_high`` (95% Wilson interval; for the
    standardised row ``converted`` is missing and the interval is rate +- 1.96 standard
    errors). Every gap is an association: the groups differ in who they are, not only in
    whether they asked.
    """
    from crmlab.stats import wilson_interval

    func = "inquiry_conversion"
    n_days = _check_days(days, func)
    if isinstance(visit_strata, bool) or not isinstance(visit_strata, int | np.integer) \
            or visit_strata < 1:
        raise ValueError(f"{func}: visit_strata={visit_strata!r} must be a whole number >= 1, e.g. 3.")
    asked = _questions(tickets, category, func)
    od = _order_days(orders, func)

    def converted(pairs: pd.DataFrame) -> np.ndarray:
        nxt = _nearest_day(pairs, od, "forward")
        return (nxt.notna() & (nxt <= pairs["day"] + pd.Timedelta(days=n_days))).to_numpy()

    asked_conv = converted(asked)
    rows: list[tuple] = [("asked", len(asked), int(asked_conv.sum()), np.nan, np.nan)]
    q_days = np.sort(asked["day"].unique())
    asked_key = pd.MultiIndex.from_frame(asked[["customer_id", "day"]])
    if sessions is not None:
        s = as_frame(sessions, "sessions", func=func)
        require_columns(s, "sessions", ["customer_id", "start_ts"], func=func)
        day = _days(datetime_column(s, "sessions", "start_ts", func=func))
        visits = (pd.DataFrame({"customer_id": s["customer_id"].astype("int64").to_numpy(),
                                "day": day.to_numpy()})
                  .groupby(["customer_id", "day"]).size().rename("visits").reset_index())
        visits = visits.loc[visits["day"].isin(q_days)].reset_index(drop=True)
        visits["stratum"] = visits["visits"].clip(upper=int(visit_strata))
        visit_key = pd.MultiIndex.from_frame(visits[["customer_id", "day"]])
        both = asked_key.isin(visit_key)
        rows.append(("asked, visited that day", int(both.sum()), int(asked_conv[both].sum()),
                     np.nan, np.nan))
        others = visits.loc[~visit_key.isin(asked_key)].reset_index(drop=True)
        others["conv"] = converted(others[["customer_id", "day"]])
        rows.append(("visited, did not ask", len(others), int(others["conv"].sum()), np.nan, np.nan))
        mix = visits.loc[visit_key.isin(asked_key), "stratum"].value_counts(normalize=True)
        by = others.groupby("stratum")["conv"].agg(["mean", "size"]).reindex(mix.index)
        rate = float((mix * by["mean"]).sum(min_count=1)) if by["size"].notna().all() else np.nan
        se = float(np.sqrt((mix**2 * by["mean"] * (1 - by["mean"]) / by["size"]).sum()))
        rows.append(("visited, did not ask, same visits", len(others), np.nan, rate, se))
    if customers is not None:
        c = as_frame(customers, "customers", func=func)
        require_columns(c, "customers", ["customer_id", "signup_ts"], func=func)
        signup = pd.Series(_days(datetime_column(c, "customers", "signup_ts", func=func)).to_numpy(),
                           index=c["customer_id"].astype("int64").to_numpy())
        unknown = ~asked["customer_id"].isin(signup.index).to_numpy()
        if unknown.any():
            raise ValueError(f"{func}: customers: {int(unknown.sum())} question(s) come from customers "
                             "not in the customers table; pass the whole table (shop.customers).")
        eligible = np.searchsorted(np.sort(signup.to_numpy()), q_days, side="right")
        # each order day converts the question days in [order day - days, order day]
        lo = np.searchsorted(q_days, (od["day"] - pd.Timedelta(days=n_days)).to_numpy(), "left")
        hi = np.searchsorted(q_days, od["day"].to_numpy(), "right")
        k = np.repeat(np.arange(len(od)), hi - lo)
        q_idx = (np.concatenate([np.arange(a, b) for a, b in zip(lo, hi, strict=True)])
                 if len(k) else np.array([], dtype=np.int64))
        cover = pd.DataFrame({"customer_id": od["customer_id"].to_numpy()[k],
                              "day": q_days[q_idx]}).drop_duplicates()
        known = signup.reindex(cover["customer_id"].to_numpy()).to_numpy()
        n_conv = int((pd.notna(known) & (known <= cover["day"].to_numpy())).sum())
        rows.append(("all customers, same days", int(eligible.sum()) - len(asked),
                     n_conv - int(asked_conv.sum()), np.nan, np.nan))
    out = pd.DataFrame(rows, columns=["group", "units", "converted", "_rate", "_se"])
    out["group"] = out["group"].astype("str")
    out["converted"] = out["converted"].astype("Int64")
    n = out["units"].astype("float64")
    k_conv = out["converted"].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["rate"] = np.where(np.isnan(k_conv), out["_rate"], k_conv / np.where(n > 0, n, np.nan))
    plain = ~np.isnan(k_conv)
    low, high = np.full(len(out), np.nan), np.full(len(out), np.nan)
    low[plain], high[plain] = wilson_interval(k_conv[plain], n.to_numpy()[plain])
    low[~plain] = np.clip(out["_rate"][~plain] - 1.96 * out["_se"][~plain], 0, 1)
    high[~plain] = np.clip(out["_rate"][~plain] + 1.96 * out["_se"][~plain], 0, 1)
    out["ci_low"], out["ci_high"] = low, high
    return out.drop(columns=["_rate", "_se"])


@reads(tickets="", orders="customer_id order_ts")
def assisted_orders(tickets: pd.DataFrame, orders: pd.DataFrame, *, days: int = 7,
                    category: str = "presales") -> pd.Series:
    """True for each order placed on the day of a pre-sales question by the same customer or
    in the ``days`` days after it (calendar days, as :func:`inquiry_conversion` counts);
    aligned with ``orders``."""
    func = "assisted_orders"
    n_days = _check_days(days, func)
    asked = _questions(tickets, category, func)
    o = as_frame(orders, "orders", func=func)
    require_columns(o, "orders", ["customer_id", "order_ts"], func=func)
    pairs = pd.DataFrame({"customer_id": o["customer_id"].astype("int64").to_numpy(),
                          "day": _days(datetime_column(o, "orders", "order_ts", func=func)).to_numpy()})
    last_q = _nearest_day(pairs, asked, "backward")
    hit = last_q.notna() & (pairs["day"] - last_q <= pd.Timedelta(days=n_days))
    return pd.Series(hit.to_numpy(), index=o.index, name="assisted")


class IntentClassifier:
    """The intent of a short text (意圖辨識): TF-IDF words + logistic regression.

    A scikit-learn classifier: ``fit(texts, labels)``, ``predict_proba(texts)`` (one column
    per class in ``classes_``), ``predict``, ``score`` (accuracy), ``get_params`` /
    ``set_params`` (so ``sklearn.base.clone`` and grid search work). Parameters:
    ``ngram_range``, ``min_df`` (TF-IDF, sublinear tf), ``C``, ``max_iter`` (logistic
    regression). Learned: ``pipeline_``, ``classes_``, ``vocabulary_size_``. A text with no
    known word gets the class priors of the intercepts: low confidence, so a bot hands it off.
    """

    _estimator_type = "classifier"
    _params = ("ngram_range", "min_df", "C", "max_iter")

    def __init__(self, ngram_range: tuple[int, int] = (1, 1), min_df: int = 1, C: float = 10.0,
                 max_iter: int = 2000) -> None:
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.C = C
        self.max_iter = max_iter

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {p: getattr(self, p) for p in self._params}

    def set_params(self, **params: Any) -> IntentClassifier:
        bad = sorted(set(params) - set(self._params))
        if bad:
            raise ValueError(f"IntentClassifier.set_params: unknown {bad}; use {list(self._params)}.")
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def fit(self, X: object, y: object) -> IntentClassifier:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        texts = _texts(X, "X (texts)", "IntentClassifier.fit")
        labels = pd.Series(list(y) if not isinstance(y, pd.Series) else y)  # type: ignore[call-overload]
        if len(labels) != len(texts):
            raise ValueError(f"IntentClassifier.fit: {len(labels)} labels for {len(texts)} texts.")
        if labels.isna().any():
            raise ValueError("IntentClassifier.fit: labels have missing values; drop those rows.")
        labels = labels.astype("str").to_numpy()
        if len(set(labels)) < 2:
            raise ValueError("IntentClassifier.fit: need texts of at least two intents to learn.")
        self.pipeline_ = make_pipeline(
            TfidfVectorizer(ngram_range=self.ngram_range, min_df=self.min_df, sublinear_tf=True),
            LogisticRegression(C=self.C, max_iter=self.max_iter))
        self.pipeline_.fit(texts.to_numpy(), labels)
        self.classes_ = self.pipeline_.classes_
        self.vocabulary_size_ = len(self.pipeline_[0].vocabulary_)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "pipeline_"):
            raise ValueError("IntentClassifier: call fit(texts, labels) before predicting.")

    def predict_proba(self, X: object) -> np.ndarray:
        self._check_fitted()
        return self.pipeline_.predict_proba(_texts(X, "X (texts)", "IntentClassifier").to_numpy())

    def predict(self, X: object) -> np.ndarray:
        self._check_fitted()
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def score(self, X: object, y: object) -> float:
        return float(np.mean(self.predict(X) == pd.Series(list(y)).astype("str").to_numpy()))  # type: ignore[call-overload]


def _check_proba(proba: object, classes: object, func: str) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(proba, dtype="float64")
    c = np.asarray(classes, dtype=object)
    if p.ndim != 2 or p.shape[1] != len(c) or len(c) < 2:
        raise ValueError(f"{func}: proba must be a 2-D array with one column per class "
                         f"({len(c)} classes), got shape {p.shape}; pass model.predict_proba(X) "
                         "and model.classes_.")
    if not np.all(np.isfinite(p)) or (p < 0).any() or not np.allclose(p.sum(axis=1), 1, atol=1e-6):
        raise ValueError(f"{func}: every row of proba must be probabilities summing to 1.")
    return p, c


def _check_threshold(threshold: object, func: str) -> float:
    try:
        t = float(threshold)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        t = float("nan")
    if isinstance(threshold, bool) or not 0 <= t <= 1:
        raise ValueError(f"{func}: threshold={threshold!r} must be a probability in [0, 1], "
                         "e.g. 0.6.")
    return t


def bot_decisions(proba: object, classes: object, threshold: float) -> pd.DataFrame:
    """The FAQ bot's decision per query: ``intent`` (the top class), ``probability`` (its
    probability) and ``answered`` (probability >= ``threshold``; else hand off to an agent)."""
    func = "bot_decisions"
    p, c = _check_proba(proba, classes, func)
    t = _check_threshold(threshold, func)
    top = p.argmax(axis=1)
    prob = p[np.arange(len(p)), top]
    return pd.DataFrame({"intent": pd.array(c[top].astype(str), dtype="str"),
                         "probability": prob, "answered": prob >= t})


def handoff_tradeoff(
    proba: object,
    classes: object,
    true_intent: object,
    *,
    escalated: object = None,
    thresholds: Sequence[float] | None = None,
) -> pd.DataFrame:
    """The bot's threshold trade-off: one row per threshold.

    ``answer_rate`` = answered / queries and ``handoff_rate`` = 1 - answer_rate;
    ``containment_rate`` = queries answered with the right intent / queries (solved without
    an agent, if a right answer solves it); ``wrong_answer_rate`` = answered with a wrong
    intent / answered (NaN when nothing is answered). With ``escalated`` (True for queries
    that ended in a ticket): ``tickets_reached`` = escalated queries answered right (an
    upper bound on the tickets the bot saves) out of ``escalated``.
    """
    func = "handoff_tradeoff"
    p, c = _check_proba(proba, classes, func)
    truth = pd.Series(list(true_intent) if not isinstance(true_intent, pd.Series) else true_intent)  # type: ignore[call-overload]
    if len(truth) != len(p) or truth.isna().any():
        raise ValueError(f"{func}: true_intent needs one label per row of proba ({len(p)}), no "
                         f"missing values; got {len(truth)}.")
    ths = np.round(np.linspace(0, 1, 21), 2) if thresholds is None else \
        np.array([_check_threshold(t, func) for t in thresholds])
    top = p.argmax(axis=1)
    prob = p[np.arange(len(p)), top]
    right = c[top].astype(str) == truth.astype("str").to_numpy()
    esc = None
    if escalated is not None:
        esc = np.asarray(escalated, dtype=bool)
        if esc.shape != (len(p),):
            raise ValueError(f"{func}: escalated needs one True/False per query ({len(p)}).")
    rows = []
    for t in ths:
        ans = prob >= t
        n_ans = int(ans.sum())
        row = {"threshold": float(t), "answered": n_ans, "answer_rate": n_ans / len(p),
               "handoff_rate": 1 - n_ans / len(p), "containment_rate": float((ans & right).mean()),
               "wrong_answer_rate": float((ans & ~right).sum() / n_ans) if n_ans else float("nan")}
        if esc is not None:
            row["tickets_reached"] = int((ans & right & esc).sum())
            row["escalated"] = int(esc.sum())
        rows.append(row)
    return pd.DataFrame(rows)


#: Words that make a social-media mention a complaint about the service, whatever a
#: general-purpose sentiment lexicon says ("the delivery is so slow" has no negative word
#: for VADER). Matched as whole words, without regard to case.
SERVICE_COMPLAINT_WORDS: tuple[str, ...] = (
    "slow", "late", "never answers", "never answer", "no reply", "not arrived", "missing",
    "refund", "broken", "defective", "faulty",
)


@reads(mentions="")
def mentions_needing_reply(
    mentions: pd.DataFrame,
    *,
    words: Sequence[str] = SERVICE_COMPLAINT_WORDS,
    sentiment: object = None,
) -> pd.DataFrame:
    """Social mentions the support team should answer: negative sentiment OR a complaint word.

    ``sentiment``: one label per mention ("neg", "neu", "pos"); by default VADER's label
    (:func:`crmlab.feedback.vader_sentiment`). Columns (aligned with ``mentions``):
    ``sentiment``, ``word`` (the first complaint word found, "" if none) and ``needs_reply``.
    """
    import re

    func = "mentions_needing_reply"
    m = as_frame(mentions, "social_mentions", func=func)
    require_columns(m, "social_mentions", ["text"], func=func)
    text = _texts(m["text"], "social_mentions.text", func)
    if isinstance(words, str) or not all(isinstance(w, str) and w.strip() for w in words):
        raise ValueError(f"{func}: words must be a list of non-empty strings, e.g. "
                         "crmlab.support.SERVICE_COMPLAINT_WORDS.")
    if sentiment is None:
        from crmlab.feedback import vader_sentiment

        label = vader_sentiment(text, table="social_mentions")["label"].astype("str").to_numpy()
    else:
        label = pd.Series(list(sentiment)).astype("str").to_numpy()  # type: ignore[call-overload]
        if len(label) != len(m):
            raise ValueError(f"{func}: {len(label)} sentiment labels for {len(m)} mentions.")
    if words:
        pattern = r"\b(" + "|".join(re.escape(w) for w in words) + r")\b"
        found = text.str.extract(pattern, flags=re.IGNORECASE, expand=False).fillna("")
    else:
        found = pd.Series("", index=text.index)
    found = found.astype("str").str.lower()
    return pd.DataFrame({"sentiment": pd.array(label, dtype="str"), "word": found.to_numpy(),
                         "needs_reply": (label == "neg") | (found != "").to_numpy()},
                        index=m.index)


# (end of online and smart service)


# --------------------------------------------------------------------------------------
# live what-if demo: agents -> service level and waiting time (crmlab.demos.staffing_demo)
# --------------------------------------------------------------------------------------


def staffing_what_if(
    agents: int,
    calls: float,
    aht_seconds: float,
    *,
    period_seconds: float = 3600.0,
    target_seconds: float = 20.0,
    max_wait_seconds: float = 120.0,
) -> dict[str, Any]:
    """What ``agents`` on the phones give under Erlang C: service level, ASA, P(wait).

    ``calls`` arrive per ``period_seconds`` and take ``aht_seconds`` each. Returns the row of
    :func:`staffing_table` for ``agents`` (``load, agents, occupancy, p_wait, service_level,
    asa_seconds``) plus ``curve`` (the staffing table from the smallest stable count until
    the service level passes 99.9%, and at least up to ``agents``) and ``waits``: the share
    of calls answered within ``wait_seconds`` (0 to ``max_wait_seconds``) with these agents,
    from :func:`service_level`. Raises ``ValueError`` when ``agents`` cannot keep up
    (offered load >= agents).
    """
    n = _check_queue(agents, 1.0)[0]
    if n.ndim != 0:
        raise ValueError(f"agents={agents!r} must be one whole number of agents.")
    n_agents = int(n)
    table = staffing_table(calls, aht_seconds, period_seconds=period_seconds,
                           target_seconds=target_seconds)
    load = float(table["load"].iloc[0])
    _unstable(np.asarray(n_agents), np.asarray(load))
    if n_agents > int(table["agents"].iloc[-1]):
        table = staffing_table(calls, aht_seconds, period_seconds=period_seconds,
                               target_seconds=target_seconds,
                               agents=range(int(table["agents"].iloc[0]), n_agents + 1))
    top = _positive(max_wait_seconds, "max_wait_seconds")
    wait = np.linspace(0.0, top, 25)
    answered = [float(service_level(n_agents, load, aht_seconds, t)) for t in wait]
    row = table.loc[table["agents"] == n_agents].iloc[0]
    out: dict[str, Any] = {k: float(row[k]) for k in ("load", "occupancy", "p_wait",
                                                       "service_level", "asa_seconds")}
    out.update(agents=n_agents, calls=float(calls), aht_seconds=float(aht_seconds),
               target_seconds=float(target_seconds), curve=table,
               waits=pd.DataFrame({"wait_seconds": wait, "answered_within": answered}))
    return out


__all__ += ["staffing_what_if"]
