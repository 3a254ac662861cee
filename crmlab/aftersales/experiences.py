"""What each order went through after the purchase, and who answers the order survey.

:func:`order_experiences` derives per order the candidate satisfaction drivers;
:func:`response_rates` and :func:`weighted_csat` look at non-response (無回應偏誤).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from crmlab._checks import as_frame, as_list, datetime_column, reads, require_columns
from crmlab.aftersales._validate import _groups, _numeric
from crmlab.aftersales.returns import _check_returns, late_bucket
from crmlab.aftersales.surveys import _survey_rows, csat_score
from crmlab.stats import wilson_interval

__all__ = [
    "order_experiences",
    "response_rates",
    "weighted_csat",
]


@reads(orders="order_id customer_id order_ts promised_days delivery_days", returns="", tickets="")
def order_experiences(
    orders: pd.DataFrame,
    returns: pd.DataFrame,
    tickets: pd.DataFrame,
    *,
    end: object = None,
    unresolved_hours: float = 72.0,
) -> pd.DataFrame:
    """What each order's customer went through after buying -- the candidate satisfaction drivers.

    One row per order: ``order_id``, ``customer_id``, ``order_ts``, ``late_days``
    (delivery_days - promised_days), ``late_bucket``, ``returned`` (any line returned),
    ``defect`` (a line returned as "defective" or a defect ticket about the order),
    ``support_contact`` (any ticket about the order), ``unresolved_ticket`` (a ticket about
    the order took longer than ``unresolved_hours`` to resolve, or was still open and older
    than that at ``end``).

    Parameters
    ----------
    orders, returns, tickets : pd.DataFrame
        The shop's tables (``tickets`` needs ``order_id``, ``category``, ``created_ts``,
        ``resolved_ts``).
    end : datetime-like, optional
        Observation end; default the latest ticket time stamp.
    unresolved_hours : float, default 72.0
        A ticket open longer than this counts as unresolved.

    Returns
    -------
    pd.DataFrame
        One row per order with the columns above.
    """
    o = as_frame(orders, "orders")
    require_columns(o, "orders", ["order_id", "customer_id", "order_ts", "promised_days", "delivery_days"])
    datetime_column(o, "orders", "order_ts")
    r = _check_returns(returns, o)
    require_columns(r, "returns", ["reason"])
    if unresolved_hours <= 0:
        raise ValueError(f"unresolved_hours={unresolved_hours!r} must be > 0, e.g. 72.")
    ids = o["order_id"].to_numpy()
    tk, t_order, hours = _order_tickets(tickets, ids, end)
    defect_orders = np.r_[r.loc[(r["reason"].astype("str") == "defective").to_numpy(), "order_id"].to_numpy(),
                          t_order[(tk["category"].astype("str") == "defect").to_numpy()]]
    late = _numeric(o, "orders", "delivery_days") - _numeric(o, "orders", "promised_days")
    out = pd.DataFrame({
        "order_id": ids,
        "customer_id": o["customer_id"].to_numpy(),
        "order_ts": o["order_ts"].to_numpy(),
        "late_days": late,
        "late_bucket": late_bucket(late),
        "returned": np.isin(ids, r["order_id"].to_numpy()),
        "defect": np.isin(ids, defect_orders),
        "support_contact": np.isin(ids, t_order),
        "unresolved_ticket": np.isin(ids, t_order[hours > unresolved_hours]),
    })
    return out


def _order_tickets(tickets: pd.DataFrame, ids: np.ndarray,
                   end: object) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The tickets about an order, their order ids, and the hours each took to resolve (or
    had been open at ``end``, default the latest ticket time); every order must be known."""
    t = as_frame(tickets, "tickets")
    require_columns(t, "tickets", ["order_id", "category", "created_ts", "resolved_ts"])
    created = datetime_column(t, "tickets", "created_ts")
    resolved = datetime_column(t, "tickets", "resolved_ts", allow_missing=True)
    end_ts = pd.Timestamp(end) if end is not None else max(created.max(), resolved.max())
    tk = t.loc[t["order_id"].notna().to_numpy()]
    t_order = tk["order_id"].astype("int64").to_numpy()
    unknown = ~np.isin(t_order, ids)
    if unknown.any():
        raise ValueError(f"tickets: {int(unknown.sum())} ticket(s) refer to orders not in the orders "
                         "table; load the matching orders or set their order_id to missing.")
    stop = resolved.loc[tk.index].where(resolved.loc[tk.index] <= end_ts, end_ts)
    hours = ((stop - created.loc[tk.index]).dt.total_seconds() / 3600.0).to_numpy()
    return tk, t_order, hours


def _order_csat(surveys: pd.DataFrame, experiences: pd.DataFrame, touchpoint: str | None) -> pd.DataFrame:
    """Order CSAT invitations joined to the orders' experiences (one row per invitation)."""
    s = _survey_rows(surveys, "csat")
    require_columns(s, "surveys", ["order_id"])
    if touchpoint is not None and "touchpoint" in s.columns:
        s = s.loc[(s["touchpoint"].astype("str") == touchpoint).to_numpy()]
    s = s.loc[s["order_id"].notna().to_numpy()]
    e = as_frame(experiences, "experiences")
    require_columns(e, "experiences", ["order_id"], fix="Pass the output of crmlab.aftersales.order_experiences(...).")
    merged = s.assign(order_id=s["order_id"].astype("int64")).merge(
        e, on="order_id", how="left", suffixes=("", "_order"), indicator=True)
    lost = int((merged["_merge"] != "both").sum())
    if lost:
        raise ValueError(f"surveys: {lost} invitation(s) refer to orders not in experiences; build "
                         "experiences from the same orders table.")
    return merged.drop(columns="_merge")


@reads(surveys="")
def response_rates(
    surveys: pd.DataFrame,
    experiences: pd.DataFrame,
    by: str | Sequence[str] = "late_bucket",
    *,
    touchpoint: str | None = "order",
    level: float = 0.95,
) -> pd.DataFrame:
    """Who answers the order CSAT survey? Response rate by an experience (``by``, a column of
    :func:`order_experiences`), with Wilson intervals, and the CSAT of those who answered.

    If response rates differ between groups whose satisfaction differs, the respondents are
    not a random sample of the customers (non-response bias). Columns: the keys,
    ``invited``, ``responded``, ``response_rate``, ``low``, ``high``, ``csat`` (respondents).

    Parameters
    ----------
    surveys : pd.DataFrame
        The ``surveys`` table (order CSAT invitations with ``order_id``).
    experiences : pd.DataFrame
        Output of :func:`order_experiences`.
    by : str or list of str, default "late_bucket"
        Column(s) of ``experiences`` to compare.
    touchpoint : str or None, default "order"
        Keep the invitations of this touchpoint; None keeps all.
    level : float, default 0.95
        Confidence level of the Wilson intervals.

    Returns
    -------
    pd.DataFrame
        One row per group with the columns above and ``missing_score``.
    """
    m = _order_csat(surveys, experiences, touchpoint)
    keys = as_list(by)
    require_columns(m, "experiences", keys)
    rows = []
    for key, g in _groups(m, keys):
        resp = g["_responded"].to_numpy(bool)
        row = dict(zip(keys, key, strict=True))
        c = csat_score(g.loc[resp, "score"], level=level)
        row.update({"invited": len(g), "responded": int(resp.sum()), "csat": c["csat"],
                    "missing_score": c["missing"]})
        rows.append(row)
    out = pd.DataFrame(rows)
    out["response_rate"] = out["responded"] / out["invited"]
    out["low"], out["high"] = wilson_interval(out["responded"], out["invited"], level)
    return out[[*keys, "invited", "responded", "response_rate", "low", "high", "csat", "missing_score"]]


@reads(surveys="")
def weighted_csat(
    surveys: pd.DataFrame,
    experiences: pd.DataFrame,
    cells: str | Sequence[str] = ("late_bucket", "returned"),
    *,
    touchpoint: str | None = "order",
) -> dict[str, float]:
    """CSAT re-weighted for non-response by weighting classes (加權調整).

    Each respondent counts ``invited / responded`` of their cell (e.g. delivery-delay bucket x
    returned), so every cell weighs as much as its share of the invitations. This removes
    the bias from response rates that depend on *observed* experiences; it cannot remove bias
    from response that depends on satisfaction itself (e.g. delighted and furious customers
    answering more). Returns ``raw`` and ``weighted`` CSAT, ``respondents``, ``cells``,
    ``empty_cells`` and ``invited_in_empty_cells`` (invitations that no respondent can
    represent -- reported, not hidden).

    Parameters
    ----------
    surveys : pd.DataFrame
        The ``surveys`` table (order CSAT invitations with ``order_id``).
    experiences : pd.DataFrame
        Output of :func:`order_experiences`.
    cells : str or sequence of str, default ("late_bucket", "returned")
        Column(s) of ``experiences`` that define the weighting cells.
    touchpoint : str or None, default "order"
        Keep the invitations of this touchpoint; None keeps all.

    Returns
    -------
    dict
        The figures listed above.
    """
    m = _order_csat(surveys, experiences, touchpoint)
    keys = as_list(cells)
    require_columns(m, "experiences", keys)
    resp = m["_responded"].to_numpy(bool)
    sat = pd.to_numeric(m["score"]).to_numpy(dtype=float, na_value=np.nan) >= 4
    valid = resp & m["score"].notna().to_numpy()
    work = pd.DataFrame({"invited": 1, "valid": valid.astype(int), "sat": (sat & valid).astype(int)})
    for k in keys:
        work[k] = m[k].to_numpy()
    cell = work.groupby(keys, observed=True).sum()
    full = cell.loc[cell["valid"] > 0]
    weighted = float((full["invited"] * full["sat"] / full["valid"]).sum() / full["invited"].sum()) \
        if len(full) else np.nan
    return {"raw": float(work["sat"].sum() / work["valid"].sum()) if work["valid"].sum() else np.nan,
            "weighted": weighted, "respondents": int(work["valid"].sum()), "cells": int(len(cell)),
            "empty_cells": int((cell["valid"] == 0).sum()),
            "invited_in_empty_cells": int(cell.loc[cell["valid"] == 0, "invited"].sum())}
