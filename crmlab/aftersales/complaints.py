"""Complaints (投訴處理): which tickets are complaints, escalation, time to resolve, repeats.

:data:`COMPLAINT_RULE` and :data:`ESCALATION_RULES` are data; :func:`complaint_metrics` gives
the complaints' lifecycle, :func:`escalate` applies the escalation policy,
:func:`resolution_curve` / :func:`resolution_summary` count open complaints as censored and
:func:`repeat_complainers` finds customers who complain again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmlab._checks import as_frame, as_list, datetime_column, reads, require_columns
from crmlab.aftersales._validate import _groups
from crmlab.support import ticket_metrics
from crmlab.survival import kaplan_meier, km_quantiles

__all__ = [
    "COMPLAINT_RULE",
    "ComplaintRule",
    "ESCALATION_RULES",
    "complaint_metrics",
    "escalate",
    "flag_complaints",
    "repeat_complainers",
    "resolution_curve",
    "resolution_summary",
]


@dataclass(frozen=True)
class ComplaintRule:
    """Which support tickets count as complaints (投訴): the definition is data, not code.

    A ticket is a complaint when its ``category`` is in ``categories`` and its ``priority``
    in ``priorities`` (a serious problem with something the shop did), or -- with
    ``include_reopened`` -- when it was reopened after being marked resolved.

    Parameters
    ----------
    categories : tuple of str, default ("defect", "delivery", "return", "billing")
        Ticket categories that can be complaints.
    priorities : tuple of str, default ("high", "urgent")
        Priorities at which such a ticket is a complaint.
    include_reopened : bool, default True
        Also count every reopened ticket as a complaint.
    """

    categories: tuple[str, ...] = ("defect", "delivery", "return", "billing")
    priorities: tuple[str, ...] = ("high", "urgent")
    include_reopened: bool = True


#: The workbook's complaint definition.
COMPLAINT_RULE = ComplaintRule()


#: Escalation policy (升級處理) as a table: a complaint escalates to ``escalate_to`` at ``level``
#: when every condition of the row holds. ``priority`` / ``category``: "*" = any, otherwise a
#: "|"-separated list; ``after_hours``: still unresolved that many calendar hours after creation
#: (0 = at once); ``reopened`` / ``repeat``: True = only reopened complaints / only customers
#: with an earlier complaint within ``repeat_window`` (see :func:`escalate`), False = no condition.
ESCALATION_RULES = pd.DataFrame([
    {"rule": "serious complaint open > 24 h", "level": 1, "escalate_to": "team lead",
     "priority": "high|urgent", "category": "*", "after_hours": 24.0, "reopened": False, "repeat": False},
    {"rule": "any complaint open > 72 h", "level": 1, "escalate_to": "team lead",
     "priority": "*", "category": "*", "after_hours": 72.0, "reopened": False, "repeat": False},
    {"rule": "reopened complaint", "level": 2, "escalate_to": "after-sales manager",
     "priority": "*", "category": "*", "after_hours": 0.0, "reopened": True, "repeat": False},
    {"rule": "urgent complaint open > 48 h", "level": 2, "escalate_to": "after-sales manager",
     "priority": "urgent", "category": "*", "after_hours": 48.0, "reopened": False, "repeat": False},
    {"rule": "any complaint open > 7 days", "level": 2, "escalate_to": "after-sales manager",
     "priority": "*", "category": "*", "after_hours": 168.0, "reopened": False, "repeat": False},
    {"rule": "repeat complainer open > 72 h", "level": 3, "escalate_to": "head of customer experience",
     "priority": "*", "category": "*", "after_hours": 72.0, "reopened": False, "repeat": True},
])


@reads(tickets="")
def flag_complaints(tickets: pd.DataFrame, rule: ComplaintRule = COMPLAINT_RULE) -> pd.DataFrame:
    """The tickets with two added columns: ``complaint`` (bool) and ``complaint_basis``
    ("priority", "reopened", "priority+reopened" or "" for other tickets).

    Parameters
    ----------
    tickets : pd.DataFrame
        The ``tickets`` table (``category``, ``priority``, ``reopened``).
    rule : ComplaintRule, default COMPLAINT_RULE
        The complaint definition.

    Returns
    -------
    pd.DataFrame
        A copy of ``tickets`` with ``complaint`` and ``complaint_basis``.
    """
    t = as_frame(tickets, "tickets")
    require_columns(t, "tickets", ["category", "priority", "reopened"])
    if not isinstance(rule, ComplaintRule):
        raise ValueError("rule must be a crmlab.aftersales.ComplaintRule, e.g. ComplaintRule("
                         "categories=('defect',), priorities=('urgent',)).")
    if t["reopened"].isna().any():
        raise ValueError("tickets: column 'reopened' has missing values; fill them with False first.")
    serious = (t["category"].astype("str").isin(list(rule.categories))
               & t["priority"].astype("str").isin(list(rule.priorities))).to_numpy()
    reopened = t["reopened"].astype(bool).to_numpy() & rule.include_reopened
    basis = np.where(serious & reopened, "priority+reopened",
                     np.where(serious, "priority", np.where(reopened, "reopened", "")))
    out = t.copy()
    out["complaint"] = serious | reopened
    out["complaint_basis"] = pd.array(basis, dtype="str")
    return out


@reads(tickets="")
def complaint_metrics(
    tickets: pd.DataFrame,
    *,
    end: object = None,
    rule: ComplaintRule = COMPLAINT_RULE,
    repeat_window: str | pd.Timedelta = "90D",
) -> pd.DataFrame:
    """One row per complaint with its lifecycle (from :func:`crmlab.support.ticket_metrics`
    at observation end ``end``) plus ``complaint_basis``, ``duration_hours`` (resolution time,
    or age at ``end`` when still open), ``event`` (1 = resolved, 0 = censored) and
    ``repeat_complaint`` (the customer complained before within ``repeat_window``).

    Parameters
    ----------
    tickets : pd.DataFrame
        The ``tickets`` table.
    end : datetime-like, optional
        Observation end (see :func:`crmlab.support.ticket_metrics`).
    rule : ComplaintRule, default COMPLAINT_RULE
        The complaint definition.
    repeat_window : str or pd.Timedelta, default "90D"
        How soon an earlier complaint of the same customer makes this one a repeat.

    Returns
    -------
    pd.DataFrame
        One row per complaint; ``attrs["end"]`` holds the observation end.
    """
    flagged = flag_complaints(tickets, rule)
    metrics = ticket_metrics(tickets, end=end)  # all tickets: repeats count non-complaints too
    is_complaint = flagged["complaint"].to_numpy()
    comp = metrics.loc[is_complaint].reset_index(drop=True)
    comp["complaint_basis"] = flagged["complaint_basis"].to_numpy()[is_complaint]
    resolved = comp["resolved"].to_numpy(bool)
    comp["duration_hours"] = np.where(resolved, comp["resolution_hours"].to_numpy(float),
                                      comp["hours_to_end"].to_numpy(float))
    comp["event"] = resolved.astype(int)
    window = pd.Timedelta(repeat_window)
    if window <= pd.Timedelta(0):
        raise ValueError(f"repeat_window={repeat_window!r} must be a positive duration, e.g. '90D'.")
    order = comp.sort_values(["customer_id", "created_ts", "ticket_id"], kind="stable")
    prev = order.groupby("customer_id", sort=False)["created_ts"].shift(1)
    comp["repeat_complaint"] = ((order["created_ts"] - prev) <= window).reindex(comp.index).to_numpy(bool)
    comp.attrs["end"] = metrics.attrs.get("end")
    return comp


def _split(value: object) -> list[str] | None:
    """A rule cell as a list of values, or None for any (a star)."""
    s = str(value).strip()
    return None if s in ("*", "", "nan") else [v.strip() for v in s.split("|")]


def _check_rules(rules: pd.DataFrame) -> pd.DataFrame:
    """An escalation-rules table with every column, hours >= 0 and levels >= 1."""
    r = as_frame(rules, "rules")
    require_columns(r, "rules", ["rule", "level", "escalate_to", "priority", "category", "after_hours",
                          "reopened", "repeat"], fix="Start from crmlab.aftersales.ESCALATION_RULES.copy().")
    hours = pd.to_numeric(r["after_hours"], errors="coerce")
    if hours.isna().any() or (hours < 0).any():
        raise ValueError("rules: column 'after_hours' must be a number of hours >= 0 on every row.")
    levels = pd.to_numeric(r["level"], errors="coerce")
    if levels.isna().any() or (levels < 1).any():
        raise ValueError("rules: column 'level' must be a positive integer on every row.")
    return r


def escalate(complaints: pd.DataFrame, rules: pd.DataFrame = ESCALATION_RULES) -> pd.DataFrame:
    """Apply escalation rules (a table, see :data:`ESCALATION_RULES`) to complaints.

    ``complaints`` is the output of :func:`complaint_metrics`. A rule fires on a complaint when
    its priority and category match, the complaint was still unresolved ``after_hours`` after
    creation (resolution time, or age at the observation end for open ones, strictly greater),
    and the ``reopened`` / ``repeat`` conditions hold. Adds ``escalation_level`` (0 = none, else
    the highest level fired), ``escalated_to``, ``escalation_rule`` and ``escalated_after_hours``
    (when the first rule of that level fired).

    Parameters
    ----------
    complaints : pd.DataFrame
        Output of :func:`complaint_metrics`.
    rules : pd.DataFrame, default ESCALATION_RULES
        The escalation policy, one rule per row.

    Returns
    -------
    pd.DataFrame
        A copy of ``complaints`` with the four escalation columns.
    """
    c = as_frame(complaints, "complaints")
    require_columns(c, "complaints", ["priority", "category", "duration_hours", "reopened", "repeat_complaint"],
             fix="Pass the output of crmlab.aftersales.complaint_metrics(tickets, end=...).")
    r = _check_rules(rules)
    n = len(c)
    level = np.zeros(n, dtype=int)
    to = np.full(n, "", dtype=object)
    name = np.full(n, "", dtype=object)
    after = np.full(n, np.nan)
    dur = c["duration_hours"].to_numpy(float)
    prio = c["priority"].astype("str").to_numpy()
    cat = c["category"].astype("str").to_numpy()
    reopened = c["reopened"].to_numpy(bool)
    repeat = c["repeat_complaint"].to_numpy(bool)
    for row in r.sort_values(["level", "after_hours"], kind="stable").to_dict("records"):
        fires = np.ones(n, dtype=bool)
        for values, col in ((_split(row["priority"]), prio), (_split(row["category"]), cat)):
            if values is not None:
                fires &= np.isin(col, values)
        hours = float(row["after_hours"])
        fires &= dur > hours if hours > 0 else np.ones(n, dtype=bool)
        if bool(row["reopened"]):
            fires &= reopened
        if bool(row["repeat"]):
            fires &= repeat
        lv = int(row["level"])
        new = fires & ((lv > level) | ((lv == level) & (hours < after)))
        level[new], to[new], name[new], after[new] = lv, row["escalate_to"], row["rule"], hours
    out = c.copy()
    out["escalation_level"] = level
    out["escalated_to"] = pd.array(to.astype(str), dtype="str")
    out["escalation_rule"] = pd.array(name.astype(str), dtype="str")
    out["escalated_after_hours"] = after
    return out


def _check_complaints(complaints: pd.DataFrame) -> pd.DataFrame:
    """``complaints`` as a frame with the columns of :func:`complaint_metrics`."""
    c = as_frame(complaints, "complaints")
    require_columns(c, "complaints", ["duration_hours", "event"],
             fix="Pass the output of crmlab.aftersales.complaint_metrics(tickets, end=...).")
    return c


def resolution_curve(
    complaints: pd.DataFrame,
    by: str | None = None,
    *,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Kaplan-Meier curve of time to resolve complaints (hours), open ones censored.

    ``survival`` at time t is the share of complaints still unresolved t hours after they
    were raised. One curve, or one per level of ``by`` (column ``by`` added). Columns as
    :func:`crmlab.survival.kaplan_meier` (time, at_risk, events, censored, survival, se,
    lower, upper).

    Parameters
    ----------
    complaints : pd.DataFrame
        Output of :func:`complaint_metrics` (``duration_hours``, ``event``).
    by : str, optional
        A column to draw one curve per value of.
    confidence : float, default 0.95
        Level of the pointwise confidence band.

    Returns
    -------
    pd.DataFrame
        The Kaplan-Meier table(s), stacked.
    """
    c = _check_complaints(complaints)
    keys = as_list(by)
    require_columns(c, "complaints", keys)
    parts = []
    for key, g in _groups(c, keys):
        km = kaplan_meier(g["duration_hours"].to_numpy(float), g["event"].to_numpy(int),
                          confidence=confidence, table="complaints")
        for k, v in zip(keys, key, strict=True):
            km.insert(0, k, v)
        parts.append(km)
    return pd.concat(parts, ignore_index=True)


def resolution_summary(
    complaints: pd.DataFrame,
    by: str | Sequence[str] | None = None,
    *,
    within_hours: float = 72.0,
) -> pd.DataFrame:
    """Per group: ``complaints``, ``open``, ``median_hours_km``, ``p90_hours_km`` (Kaplan-Meier,
    open complaints censored), ``median_hours_resolved`` (resolved ones only, the naive number)
    and ``resolved_within`` = 1 - S(``within_hours``) by Kaplan-Meier.

    Parameters
    ----------
    complaints : pd.DataFrame
        Output of :func:`complaint_metrics` (``duration_hours``, ``event``).
    by : str or list of str, optional
        Grouping column(s); None for one overall row.
    within_hours : float, default 72.0
        The horizon of ``resolved_within``.

    Returns
    -------
    pd.DataFrame
        One row per group with the columns above.
    """
    c = _check_complaints(complaints)
    keys = as_list(by)
    require_columns(c, "complaints", keys)
    rows = []
    for key, g in _groups(c, keys):
        d, e = g["duration_hours"].to_numpy(float), g["event"].to_numpy(bool)
        median_km, p90_km = km_quantiles(d, e, (0.5, 0.9), table="complaints")
        km = kaplan_meier(d, e, table="complaints")
        s_at = km.loc[km["time"] <= within_hours, "survival"]
        row = dict(zip(keys, key, strict=True))
        row.update({"complaints": len(g), "open": int((~e).sum()),
                    "median_hours_km": median_km, "p90_hours_km": p90_km,
                    "median_hours_resolved": float(np.median(d[e])) if e.any() else np.nan,
                    "resolved_within": float(1 - s_at.iloc[-1]) if len(s_at) else 0.0})
        rows.append(row)
    return pd.DataFrame(rows)


def repeat_complainers(complaints: pd.DataFrame, *, window: str | pd.Timedelta = "90D") -> pd.DataFrame:
    """Customers who complained more than once: one row per complaining customer.

    Columns: ``customer_id``, ``complaints``, ``first_ts``, ``last_ts``, ``categories``
    (distinct, "|"-joined), ``repeat`` (two complaints within ``window`` of each other),
    ``open`` (complaints still open). Sorted by ``complaints``, most first.

    Parameters
    ----------
    complaints : pd.DataFrame
        Output of :func:`complaint_metrics` (``customer_id``, ``created_ts``, ``category``,
        ``event``).
    window : str or pd.Timedelta, default "90D"
        Two complaints this close make a repeat.

    Returns
    -------
    pd.DataFrame
        One row per complaining customer, most complaints first.
    """
    c = as_frame(complaints, "complaints")
    require_columns(c, "complaints", ["customer_id", "created_ts", "category", "event"])
    datetime_column(c, "complaints", "created_ts")
    win = pd.Timedelta(window)
    if win <= pd.Timedelta(0):
        raise ValueError(f"window={window!r} must be a positive duration, e.g. '90D'.")
    s = c.sort_values(["customer_id", "created_ts"], kind="stable")
    gap = s.groupby("customer_id", sort=False)["created_ts"].diff()
    s = s.assign(_close=(gap <= win).to_numpy(bool), _open=(s["event"].to_numpy() == 0),
                 _cat=s["category"].astype("str"))
    out = s.groupby("customer_id", sort=True).agg(
        complaints=("created_ts", "size"), first_ts=("created_ts", "min"), last_ts=("created_ts", "max"),
        categories=("_cat", lambda x: "|".join(sorted(set(x)))), repeat=("_close", "any"),
        open=("_open", "sum")).reset_index()
    out["categories"] = out["categories"].astype("str")
    out["open"] = out["open"].astype("int64")
    return out.sort_values(["complaints", "customer_id"], ascending=[False, True],
                           kind="stable").reset_index(drop=True)
