"""Data governance beyond pseudonymization: who may see which field, retention and consent.

:data:`FIELD_ACCESS` is the shop's field policy by role and :func:`view_for_role` applies it;
:func:`retention_due` lists members whose data has passed its retention period and
:func:`consent_filter` keeps the members who may be contacted for a purpose.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crmlab._checks import Reads, frame_with, reads

__all__ = ["FIELD_ACCESS", "consent_filter", "retention_due", "view_for_role"]


FIELD_ACCESS: dict[str, dict[str, str]] = {
    "analyst": {"customer_id": "show", "signup_ts": "show", "acquisition_channel": "show",
                "age_band": "show", "region": "show", "device": "show", "interests": "show",
                "marketing_opt_in": "show", "email": "hide", "city": "hide", "gender": "show",
                "birth_month": "hide", "referred_by": "show"},
    "support_agent": {"customer_id": "show", "signup_ts": "show", "email": "mask", "city": "show",
                      "region": "show", "device": "show", "marketing_opt_in": "show"},
    "marketer": {"customer_id": "show", "age_band": "show", "region": "show", "interests": "show",
                 "marketing_opt_in": "show", "email": "mask", "birth_month": "show"},
    "dpo": {},  # the data protection officer sees everything: an empty policy means all "show"
}


def _mask(value: object) -> object:
    """``alice@example.com`` -> ``a***@example.com``; other text keeps its first character."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return value
    text = str(value)
    local, at, domain = text.partition("@")
    return f"{local[:1]}***{at}{domain}" if at else f"{text[:1]}***"


@reads(customers="")
def view_for_role(customers: pd.DataFrame, role: str,
                  policy: Mapping[str, Mapping[str, str]] | None = None) -> pd.DataFrame:
    """The customer table as ``role`` may see it under ``policy`` (default :data:`FIELD_ACCESS`):
    "show" keeps a column, "mask" keeps its first character (and an e-mail's domain), "hide"
    and unlisted columns are dropped. An empty policy for a role shows every column.

    Parameters
    ----------
    customers : pd.DataFrame
        The shop's ``customers`` table.
    role : str
        A role of the policy (analyst, support_agent, marketer, dpo).
    policy : mapping, optional
        role -> field -> "show" / "mask" / "hide"; default :data:`FIELD_ACCESS`.

    Returns
    -------
    pd.DataFrame
        The columns the role may see, masked where the policy says so.
    """
    rules = FIELD_ACCESS if policy is None else policy
    if role not in rules:
        raise ValueError(f"view_for_role: unknown role {role!r}; the policy has {sorted(rules)}.")
    allowed = rules[role]
    bad = {v for v in allowed.values()} - {"show", "mask", "hide"}
    if bad:
        raise ValueError(f"view_for_role: policy for {role!r} uses {sorted(bad)}; use show, mask or hide.")
    if not allowed:
        return customers.copy()
    keep = [c for c in customers.columns if allowed.get(c, "hide") != "hide"]
    out = customers[keep].copy()
    for col in keep:
        if allowed[col] == "mask":
            out[col] = out[col].map(_mask).astype("str")
    return out


@reads(customers="customer_id signup_ts", orders="customer_id order_ts")
def retention_due(customers: pd.DataFrame, orders: pd.DataFrame, as_of: Any,
                  keep_days: int = 3 * 365) -> pd.DataFrame:
    """Members whose personal data has passed its retention period at ``as_of``: no order and
    no signup in the last ``keep_days`` days (the purpose, serving them, has ended). Returns
    ``customer_id``, ``last_activity`` and ``days_inactive``, longest first. What to do next
    (delete or anonymise) is the shop's policy; the law asks that it is stated and followed.

    Parameters
    ----------
    customers : pd.DataFrame
        The shop's ``customers`` (customer_id, signup_ts).
    orders : pd.DataFrame
        The shop's ``orders`` (customer_id, order_ts).
    as_of : date-like
        The day of the review.
    keep_days : int, default 3 * 365
        The retention period in days.

    Returns
    -------
    pd.DataFrame
        customer_id, last_activity, days_inactive; longest inactive first.
    """
    frame_with(customers, "customers", ["customer_id", "signup_ts"])
    frame_with(orders, "orders", ["customer_id", "order_ts"])
    if isinstance(keep_days, bool) or not isinstance(keep_days, int | np.integer) or keep_days < 1:
        raise ValueError(f"retention_due: keep_days={keep_days!r} must be a positive whole number of days.")
    when = pd.Timestamp(as_of)
    last_order = orders.loc[orders["order_ts"] <= when].groupby("customer_id")["order_ts"].max()
    signup = customers.set_index("customer_id")["signup_ts"]
    last = pd.concat([signup, last_order.reindex(signup.index)], axis=1).max(axis=1)
    idle = (when - last).dt.days
    due = idle[idle > keep_days].sort_values(ascending=False, kind="stable")
    return pd.DataFrame({"customer_id": due.index, "last_activity": last[due.index].to_numpy(),
                         "days_inactive": due.to_numpy()})


# marketing_opt_in may be missing here: a missing consent means no (see the docstring)
@reads(customers=Reads("customers", ("customer_id",), extra=("marketing_opt_in",)))
def consent_filter(customers: pd.DataFrame, purpose: str = "marketing") -> pd.DataFrame:
    """Members who may be contacted for ``purpose`` ("marketing": ``marketing_opt_in`` is
    True). Consent is per purpose: a member who gave no answer (missing) is not contacted.

    Parameters
    ----------
    customers : pd.DataFrame
        The shop's ``customers`` (customer_id, marketing_opt_in).
    purpose : str, default "marketing"
        The purpose of the contact (only "marketing" is recorded).

    Returns
    -------
    pd.DataFrame
        The rows of the members who consented.
    """
    if purpose != "marketing":
        raise ValueError(f"consent_filter: purpose {purpose!r}; the shop records consent for 'marketing'.")
    frame_with(customers, "customers", ["customer_id", "marketing_opt_in"])
    return customers.loc[customers["marketing_opt_in"].fillna(False).astype(bool)]
