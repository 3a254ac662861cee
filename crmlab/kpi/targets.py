"""Targets and traffic lights: the management's goals and the status of a value against them."""

from __future__ import annotations

import pandas as pd

from crmlab._checks import as_frame, require_columns
from crmlab.kpi.indicators import INDICATORS
from crmlab.kpi.periods import _period_freq

__all__ = ["DEFAULT_TARGETS", "STATUS_ORDER", "traffic_light"]


#: Traffic-light statuses, best first.
STATUS_ORDER: tuple[str, ...] = ("green", "amber", "red", "no data", "no target")


#: Default targets: the goals of the shop's management (set as a business would, from its
#: plan and industry marks, not fitted to the data), with the amber ``tolerance`` in the
#: indicator's unit. ``freq`` is empty for targets that hold for any period length and
#: ``Q``/``M`` for the indicators that grow with it (revenue, active customers, orders per
#: customer, retention and churn). Rationale: order CSAT 70% and service CSAT 75% (retail
#: "good" marks are near 80%; the shop starts lower), a 3.6-star average and a positive NPS;
#: returns under 7% of lines (fashion-heavy shops run higher) and defects under 1%; 70% of
#: buyers coming back, half of last quarter's buyers (a third of last month's) retained,
#: churn under 20% of the active base per quarter (8% per month) and under 30% at risk; 5%
#: of new members referred; campaigns must beat their holdout (2
#: points of conversion, NT$50 per contact), pay back their spend (ROI >= 0) and bring NT$3
#: of sales per NT$1; 95% of tickets within SLA and 80% of calls answered in 20 s (the 80/20
#: call-centre rule). Override any row by passing a frame with the same columns.
DEFAULT_TARGETS = pd.DataFrame([
    ("order_csat", None, 0.70, 0.05),
    ("service_csat", None, 0.75, 0.05),
    ("product_rating", None, 3.6, 0.15),
    ("nps", None, 0.0, 10.0),
    ("return_rate", None, 0.07, 0.01),
    ("defect_rate", None, 0.01, 0.003),
    ("repeat_purchase_rate", None, 0.70, 0.05),
    ("retention_rate", "Q", 0.50, 0.05),
    ("retention_rate", "M", 0.33, 0.05),
    ("churn_rate", "Q", 0.20, 0.05),
    ("churn_rate", "M", 0.08, 0.02),
    ("at_risk_share", None, 0.30, 0.05),
    ("referral_rate", None, 0.05, 0.01),
    ("revenue", "Q", 2_000_000.0, 200_000.0),
    ("revenue", "M", 650_000.0, 65_000.0),
    ("active_customers", "Q", 700.0, 70.0),
    ("active_customers", "M", 280.0, 30.0),
    ("average_order_value", None, 1_700.0, 100.0),
    ("purchase_frequency", "Q", 1.7, 0.1),
    ("purchase_frequency", "M", 1.25, 0.05),
    ("recency_days", None, 60.0, 10.0),
    ("open_rate", None, 0.50, 0.05),
    ("click_rate", None, 0.10, 0.02),
    ("conversion_uplift", None, 0.02, 0.02),
    ("incremental_revenue_per_contact", None, 50.0, 50.0),
    ("campaign_roi", None, 0.0, 0.5),
    ("cost_benefit_ratio", None, 3.0, 1.0),
    ("sla_first_response", None, 0.95, 0.03),
    ("sla_resolution", None, 0.95, 0.03),
    ("call_service_level", None, 0.80, 0.05),
], columns=["indicator", "freq", "target", "tolerance"]).astype({"indicator": "str", "freq": "str"})


# --------------------------------------------------------------------------------------
# targets and traffic lights
# --------------------------------------------------------------------------------------


def traffic_light(value: float, target: float, tolerance: float, direction: str) -> str:
    """Status of one value against its target (see the module notes for the thresholds).

    ``green``: meets the target (``value >= target`` when higher is better, ``<=`` when lower
    is better); ``amber``: misses it by at most ``tolerance``; ``red``: misses by more;
    ``no data`` for a NaN value; ``no target`` for a NaN target.

    Parameters
    ----------
    value : float
        The indicator's value (NaN: no data).
    target : float
        Its target (NaN: no target).
    tolerance : float
        Width of the amber band, >= 0 (NaN: 0).
    direction : {"higher", "lower"}
        Which way is better.

    Returns
    -------
    str
        ``green``, ``amber``, ``red``, ``no data`` or ``no target``.
    """
    if direction not in ("higher", "lower"):
        raise ValueError(f"direction={direction!r} must be 'higher' or 'lower' (is better).")
    if value is None or pd.isna(value):
        return "no data"
    if target is None or pd.isna(target):
        return "no target"
    tol = 0.0 if tolerance is None or pd.isna(tolerance) else float(tolerance)
    if tol < 0:
        raise ValueError(f"tolerance={tolerance!r} must be >= 0 (the width of the amber band).")
    eps = 1e-12 * max(1.0, abs(float(target)))
    shortfall = (target - value) if direction == "higher" else (value - target)
    if shortfall <= eps:
        return "green"
    return "amber" if shortfall <= tol + eps else "red"


def _freq_key(value: object) -> str:
    """Canonical target frequency: '' (any period), or 'Q', 'M', 'Y', 'W'."""
    if value is None or pd.isna(value) or str(value) in ("", "None", "nan", "<NA>"):
        return ""
    return _period_freq(str(value))


def _targets(targets: pd.DataFrame | None) -> pd.DataFrame:
    """DEFAULT_TARGETS with ``targets`` laid over them, indexed by (indicator, freq key).

    A row of ``targets`` replaces the default row with the same indicator and freq; a row
    without ``freq`` replaces every default row of its indicator.
    """
    base = DEFAULT_TARGETS.assign(freq=[_freq_key(f) for f in DEFAULT_TARGETS["freq"]])
    if targets is not None:
        t = as_frame(targets, "targets")
        require_columns(t, "targets", ["indicator", "target"],
                 fix="Use the layout of crmlab.kpi.DEFAULT_TARGETS (indicator, [freq,] target, "
                     "tolerance).")
        t = t.assign(indicator=t["indicator"].astype("str"),
                     freq=[_freq_key(f) for f in t["freq"]] if "freq" in t else "")
        unknown = sorted(set(t["indicator"]) - set(INDICATORS))
        if unknown:
            raise ValueError(f"targets: column 'indicator' has unknown indicators {unknown}; use names "
                             f"from crmlab.kpi.INDICATORS, e.g. {list(INDICATORS)[:3]}.")
        if t.duplicated(["indicator", "freq"]).any():
            raise ValueError("targets: (indicator, freq) has duplicates; one row per indicator "
                             "(and frequency).")
        for col in [c for c in ("target", "tolerance") if c in t.columns]:
            if not pd.api.types.is_numeric_dtype(t[col]):
                raise ValueError(f"targets: column '{col}' must be numeric (NaN for no target).")
        if "tolerance" in t.columns and (t["tolerance"].dropna() < 0).any():
            raise ValueError("targets: column 'tolerance' must be >= 0 (the width of the amber band).")
        if "tolerance" not in t.columns:
            t = t.assign(tolerance=float("nan"))
        replaced = set(t.loc[t["freq"] == "", "indicator"])
        keep = ~base["indicator"].isin(replaced) & ~base.set_index(["indicator", "freq"]).index.isin(
            t.set_index(["indicator", "freq"]).index)
        base = pd.concat([base.loc[keep.to_numpy()], t[["indicator", "freq", "target", "tolerance"]]],
                         ignore_index=True)
    return base.set_index(["indicator", "freq"])[["target", "tolerance"]]


def _target_for(tg: pd.DataFrame, name: str, freq: str | None) -> tuple[float, float]:
    """(target, tolerance) of an indicator for a period of ``freq`` (NaN, NaN if none)."""
    for key in ([_freq_key(freq)] if freq is not None else []) + [""]:
        if (name, key) in tg.index:
            row = tg.loc[(name, key)]
            return float(row["target"]), float(row["tolerance"])
    return float("nan"), float("nan")
