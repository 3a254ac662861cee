"""Service-level agreements (服務水準協議): targets per priority and their attainment.

The targets are data (:data:`SLA_TARGETS`); :func:`sla_flags` judges each ticket (met,
breached, pending) and :func:`sla_attainment` counts per priority.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from crmlab._checks import as_frame, as_list, require_columns
from crmlab.support.tickets import _check_metrics, _clock_cols

__all__ = [
    "PRIORITY_ORDER",
    "SLA_TARGETS",
    "sla_flags",
    "sla_attainment",
]


PRIORITY_ORDER = ("low", "medium", "high", "urgent")


#: SLA targets per priority, in hours (business hours by default, see :func:`sla_flags`).
#: Typical help-desk targets: an urgent ticket gets a first answer within one business hour
#: and is solved within one business day.
SLA_TARGETS = pd.DataFrame({
    "priority": list(PRIORITY_ORDER),
    "first_response_hours": [24.0, 8.0, 4.0, 1.0],
    "resolution_hours": [72.0, 45.0, 27.0, 9.0],
})


def _check_targets(targets: pd.DataFrame) -> pd.DataFrame:
    """An SLA-targets table: positive hours, one row per priority."""
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

    Parameters
    ----------
    metrics : pd.DataFrame
        Output of :func:`ticket_metrics` (with ``priority``).
    targets : pd.DataFrame, default SLA_TARGETS
        One row per priority: ``priority``, ``first_response_hours``, ``resolution_hours``.
    clock : {"business", "calendar"}, default "business"
        The clock the targets are written in.

    Returns
    -------
    pd.DataFrame
        One row per ticket with the columns above.
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

    Parameters
    ----------
    metrics : pd.DataFrame
        Output of :func:`ticket_metrics` (with ``priority``).
    targets : pd.DataFrame, default SLA_TARGETS
        Targets per priority, as for :func:`sla_flags`.
    clock : {"business", "calendar"}, default "business"
        The clock the targets are written in.
    by : str or list of str, default "priority"
        Grouping column(s) of ``metrics``.

    Returns
    -------
    pd.DataFrame
        One row per group, priorities in the order low, medium, high, urgent.
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
