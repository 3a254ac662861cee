"""The support performance report (客服績效報表): the weekly table a support manager reads.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from crmlab._checks import Reads, as_frame, as_list, datetime_column, reads, require_columns
from crmlab.support._validate import _positive
from crmlab.support.calls import _call_outcomes
from crmlab.support.sla import SLA_TARGETS, sla_flags
from crmlab.support.tickets import _check_metrics, _open_counts

__all__ = [
    "support_report",
]


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

    Parameters
    ----------
    metrics : pd.DataFrame
        Output of :func:`ticket_metrics`.
    calls : pd.DataFrame, optional
        The ``calls`` table, for the call columns.
    freq : str or None, default "W"
        Period of the report; None for no periods (then ``by`` is needed).
    by : str or list of str, optional
        Grouping column(s) of ``metrics``, e.g. "agent_id".
    targets : pd.DataFrame, default SLA_TARGETS
        SLA targets per priority (see :func:`sla_flags`).
    clock : {"business", "calendar"}, default "business"
        The clock of the SLA targets.
    target_seconds : float, default 20.0
        Answer-time target of the call service level.

    Returns
    -------
    pd.DataFrame
        One row per period and group with the columns above.
    """
    df = _check_metrics(metrics)
    keys = as_list(by)
    require_columns(df, "metrics", keys)
    if freq is None and not keys:
        raise ValueError("support_report: give freq='W' (per week) and/or by='agent_id'.")
    flags = sla_flags(df, targets, clock=clock) if "priority" in df.columns else None
    d = _report_rows(df, flags, keys, freq)
    group = ["_p", *keys] if freq is not None else list(keys)
    out = _aggregate(d, group, with_sla=flags is not None)
    if freq is not None:
        out = _add_period_columns(out, d, keys, len(group), df.attrs.get("end"))
    if calls is not None:
        out = _add_call_columns(out, calls, freq=freq, keys=keys, target_seconds=target_seconds)
    return out


def _report_rows(df: pd.DataFrame, flags: pd.DataFrame | None, keys: list[str],
                 freq: str | None) -> pd.DataFrame:
    """The metrics with the columns the report averages: SLA met (0/1/NA), FCR, reopened
    (resolved tickets only), FRT in minutes, and the period ``_p`` of creation."""
    d = df.copy()
    if flags is not None:
        d["frt_sla"] = flags["frt_met"].astype("Float64").to_numpy()
        d["resolution_sla"] = flags["resolution_met"].astype("Float64").to_numpy()
    if freq is not None:
        d["_p"] = d["created_ts"].dt.to_period(freq)
    for k in keys:
        if isinstance(d[k].dtype, pd.CategoricalDtype):
            d[k] = d[k].astype("str")
    d["fcr_f"] = d["fcr"].astype("Float64")
    d["reopen_f"] = d["reopened"].astype("Float64").where(d["resolved"])
    d["frt_min"] = d["frt_hours"] * 60
    return d


def _aggregate(d: pd.DataFrame, group: list[str], *, with_sla: bool) -> pd.DataFrame:
    """One row per group: counts, medians, P90 of FRT, rates (and SLA, CSAT when present)."""
    agg = {
        "tickets": ("ticket_id", "size"),
        "resolved": ("resolved", "sum"),
        "frt_median_min": ("frt_min", "median"),
        "resolution_median_h": ("resolution_hours", "median"),
        "fcr_rate": ("fcr_f", "mean"),
        "reopen_rate": ("reopen_f", "mean"),
    }
    if with_sla:
        agg["frt_sla"] = ("frt_sla", "mean")
        agg["resolution_sla"] = ("resolution_sla", "mean")
    if "csat" in d.columns:
        agg["csat_mean"] = ("csat", "mean")
        agg["csat_responses"] = ("csat", "count")
    grouped = d.groupby(group, observed=True, sort=True)
    out = grouped.agg(**agg)
    out.insert(out.columns.get_loc("frt_median_min") + 1, "frt_p90_h",
               grouped["frt_hours"].quantile(0.9))
    out = out.reset_index()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.Float64Dtype):
            out[col] = out[col].astype(float)
    return out


def _add_period_columns(out: pd.DataFrame, d: pd.DataFrame, keys: list[str], n_group: int,
                        end_ts: object) -> pd.DataFrame:
    """``period`` (start), ``complete`` (ends by the observation end) and the backlog of each
    group at the period's end (tickets created up to then, not yet resolved), cut at the
    observation end."""
    at = (out["_p"] + 1).dt.start_time.to_numpy(dtype="datetime64[ns]")
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
    out.insert(n_group + 3, "open_at_period_end", open_at)
    return out


def _add_call_columns(out: pd.DataFrame, calls: pd.DataFrame, *, freq: str | None,
                      keys: list[str], target_seconds: float) -> pd.DataFrame:
    """The call log's figures per period (or per agent: answered calls and handling time)."""
    c = as_frame(calls, "calls")
    require_columns(c, "calls", ["arrival_ts", "wait_seconds", "abandoned", "handle_seconds"])
    ts = datetime_column(c, "calls", "arrival_ts")
    d = _call_outcomes(c, _positive(target_seconds, "target_seconds", allow_zero=True))
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
