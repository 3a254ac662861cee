"""Service (客戶服務): SLA attainment of tickets and the call service level of a period."""

from __future__ import annotations

import pandas as pd

from crmlab import support
from crmlab._checks import as_frame, datetime_column, reads, require_columns
from crmlab.kpi import _sharing
from crmlab.kpi._common import _between, _period

__all__ = ["call_service_level", "sla_first_response", "sla_resolution"]


def _sla_table(tickets: pd.DataFrame, start: object, end: object, targets: pd.DataFrame,
               clock: str) -> pd.DataFrame | None:
    t = as_frame(tickets, "tickets")
    require_columns(t, "tickets", ["ticket_id", "created_ts", "priority"])
    s, e = _period(start, end)
    sub = t.loc[_between(datetime_column(t, "tickets", "created_ts"), s, e)]
    if len(sub) == 0:
        return None
    metrics = support.ticket_metrics(sub, end=e)
    return support.sla_attainment(metrics, targets, clock=clock, by="priority")


def _sla(tickets: pd.DataFrame, start: object, end: object, which: str,
         targets: pd.DataFrame, clock: str) -> float:
    key = ("sla", id(tickets), start, end, id(targets), clock)
    att = _sharing.shared(key, lambda: _sla_table(tickets, start, end, targets, clock))
    if att is None:
        return float("nan")
    met, breached = att[f"{which}_met"].sum(), att[f"{which}_breached"].sum()
    return float(met / (met + breached)) if met + breached else float("nan")


@reads(tickets="ticket_id created_ts priority")
def sla_first_response(tickets: pd.DataFrame, start: object, end: object,
                       targets: pd.DataFrame = support.SLA_TARGETS, clock: str = "business") -> float:
    """First-response SLA attainment (首次回應達成率): tickets created in the period answered
    within their priority's target / those answered or already past it at ``end`` (pending
    tickets left out; :func:`crmlab.support.sla_attainment`). NaN without tickets.

    Parameters
    ----------
    tickets : pd.DataFrame
        The shop's ``tickets`` (ticket_id, created_ts, priority, ...).
    start, end : date-like
        The period ``[start, end)`` (end exclusive).
    targets : pd.DataFrame, default crmlab.support.SLA_TARGETS
        Hours allowed per priority.
    clock : str, default "business"
        The clock the targets are written in: ``"business"`` or ``"calendar"``.

    Returns
    -------
    float
        Share of decided tickets that met the first-response target.
    """
    return _sla(tickets, start, end, "frt", targets, clock)


@reads(tickets="ticket_id created_ts priority")
def sla_resolution(tickets: pd.DataFrame, start: object, end: object,
                   targets: pd.DataFrame = support.SLA_TARGETS, clock: str = "business") -> float:
    """Resolution SLA attainment (解決時效達成率): like :func:`sla_first_response` for the
    resolution target. NaN without tickets.

    Parameters
    ----------
    tickets : pd.DataFrame
        The shop's ``tickets`` (ticket_id, created_ts, priority, ...).
    start, end : date-like
        The period ``[start, end)`` (end exclusive).
    targets : pd.DataFrame, default crmlab.support.SLA_TARGETS
        Hours allowed per priority.
    clock : str, default "business"
        The clock the targets are written in: ``"business"`` or ``"calendar"``.

    Returns
    -------
    float
        Share of decided tickets that met the resolution target.
    """
    return _sla(tickets, start, end, "resolution", targets, clock)


@reads(calls="arrival_ts wait_seconds abandoned")
def call_service_level(calls: pd.DataFrame, start: object, end: object,
                       target_seconds: float = 20.0) -> float:
    """Call service level (電話服務水準): share of the calls offered in the period answered
    within ``target_seconds`` (abandoned calls count as missed; :func:`crmlab.support.queue_stats`).
    NaN without calls.

    Parameters
    ----------
    calls : pd.DataFrame
        The shop's ``calls`` (arrival_ts, wait_seconds, abandoned).
    start, end : date-like
        The period ``[start, end)`` (end exclusive).
    target_seconds : float, default 20.0
        The answer-time target.

    Returns
    -------
    float
        Share of offered calls answered in time.
    """
    c = as_frame(calls, "calls")
    require_columns(c, "calls", ["arrival_ts", "wait_seconds", "abandoned"])
    s, e = _period(start, end)
    sub = c.loc[_between(datetime_column(c, "calls", "arrival_ts"), s, e)]
    if len(sub) == 0:
        return float("nan")
    return float(support.queue_stats(sub, target_seconds=target_seconds, wait_col="wait_seconds")
                 ["service_level"])
