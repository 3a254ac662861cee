"""The CRM scorecard (CRM 計分卡) of one period and the indicator history behind the dashboard."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from crmlab.kpi import _sharing
from crmlab.kpi._common import _period
from crmlab.kpi.indicators import INDICATORS
from crmlab.kpi.periods import _is_one_period, full_periods, period_bounds, previous_period
from crmlab.kpi.targets import STATUS_ORDER, _target_for, _targets, traffic_light

__all__ = ["compute_indicators", "kpi_history", "scorecard"]


def _names(indicators: Iterable[str] | None) -> list[str]:
    if indicators is None:
        return list(INDICATORS)
    if isinstance(indicators, str):
        indicators = [indicators]
    names = list(indicators)
    unknown = [n for n in names if n not in INDICATORS]
    if unknown:
        raise ValueError(f"unknown indicator(s) {unknown}; choose from {list(INDICATORS)}.")
    return names


def _check_shop(shop: Any) -> None:
    if not isinstance(getattr(shop, "tables", None), Mapping):
        raise ValueError("shop: expected a crmlab Shop (with .tables); load one with "
                         "crmlab.data.get_shop('small').")


def compute_indicators(shop: Any, start: object, end: object,
                       indicators: Iterable[str] | None = None) -> dict[str, float]:
    """``{indicator: value}`` for ``[start, end)``. An indicator whose tables the shop lacks
    (e.g. a real-data shop with orders only) is NaN.

    Parameters
    ----------
    shop : Shop
        The shop (its ``tables``).
    start, end : date-like
        The period ``[start, end)``.
    indicators : iterable of str, optional
        Names from :data:`INDICATORS`; default all.

    Returns
    -------
    dict of str to float
        Value by indicator.
    """
    _check_shop(shop)
    s, e = _period(start, end)
    out: dict[str, float] = {}
    with _sharing.sharing():
        for name in _names(indicators):
            ind = INDICATORS[name]
            if not all(t in shop.tables for t in ind.tables):
                out[name] = float("nan")
                continue
            out[name] = float(ind.compute(shop, s, e))
    return out


def scorecard(shop: Any, period: object = None, freq: str = "QE", targets: pd.DataFrame | None = None,
              indicators: Iterable[str] | None = None) -> pd.DataFrame:
    """The CRM scorecard (CRM 計分卡): one row per indicator for ``period`` beside the previous one.

    ``period``: see :func:`period_bounds` (default: the shop's last complete ``freq`` period).
    ``targets``: rows replacing :data:`DEFAULT_TARGETS` (``indicator, target[, tolerance]``).

    Columns: ``perspective, indicator, label, label_zh, unit, direction, value, previous,
    change`` (value - previous; shares in proportion points), ``change_rel`` (change /
    |previous|), ``improved`` (the change went the good way; NA without both values, False
    when unchanged), ``target, tolerance, status`` (:func:`traffic_light`) and
    ``previous_status``. ``attrs`` holds ``start, end, previous_start, previous_end``.

    Parameters
    ----------
    shop : Shop
        The shop (its ``tables``).
    period : pd.Period, str, (start, end) or None
        See :func:`period_bounds`.
    freq : str, default "QE"
        A key of :data:`FREQUENCIES`.
    targets : pd.DataFrame, optional
        Rows replacing :data:`DEFAULT_TARGETS`.
    indicators : iterable of str, optional
        Names from :data:`INDICATORS`; default all.

    Returns
    -------
    pd.DataFrame
        One row per indicator with the columns above.
    """
    _check_shop(shop)
    s, e = period_bounds(period, freq, shop)
    ps, pe = previous_period(s, e, freq)
    tfreq = freq if _is_one_period(s, e, freq) else None
    names = _names(indicators)
    with _sharing.sharing(shop_wide=True):
        now = compute_indicators(shop, s, e, names)
        before = compute_indicators(shop, ps, pe, names)
    tg = _targets(targets)
    rows = [_scorecard_row(name, now[name], before[name], *_target_for(tg, name, tfreq)) for name in names]
    out = pd.DataFrame(rows)
    out["improved"] = out["improved"].astype("boolean")
    for col in ("status", "previous_status"):
        out[col] = pd.Categorical(out[col], categories=list(STATUS_ORDER))
    out.attrs.update({"start": s, "end": e, "previous_start": ps, "previous_end": pe, "freq": freq})
    return out


def _scorecard_row(name: str, v: float, p: float, target: float, tol: float) -> dict[str, Any]:
    """One indicator's scorecard row: its value beside the previous one, the change, and both statuses."""
    ind = INDICATORS[name]
    change = v - p
    good = change > 0 if ind.direction == "higher" else change < 0
    return {
        "perspective": ind.perspective, "indicator": name, "label": ind.label,
        "label_zh": ind.label_zh, "unit": ind.unit, "direction": ind.direction,
        "value": v, "previous": p, "change": change,
        "change_rel": change / abs(p) if p not in (0.0,) and not math.isnan(p) else float("nan"),
        "improved": pd.NA if math.isnan(change) else bool(good),
        "target": target, "tolerance": tol,
        "status": traffic_light(v, target, tol, ind.direction),
        "previous_status": traffic_light(p, target, tol, ind.direction),
    }


def kpi_history(shop: Any, freq: str = "ME", indicators: Iterable[str] | None = None,
                targets: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every indicator for every complete ``freq`` period of the shop -- the data behind the
    monthly dashboard. Long (tidy) format, one row per (period, indicator): ``period, start,
    end, perspective, indicator, label, unit, direction, value, target, status``.

    Parameters
    ----------
    shop : Shop
        The shop (its ``tables``).
    freq : str, default "ME"
        A key of :data:`FREQUENCIES`.
    indicators : iterable of str, optional
        Names from :data:`INDICATORS`; default all.
    targets : pd.DataFrame, optional
        Rows replacing :data:`DEFAULT_TARGETS`.

    Returns
    -------
    pd.DataFrame
        One row per (period, indicator) with the columns above.
    """
    _check_shop(shop)
    names = _names(indicators)
    tg = _targets(targets)
    rows = []
    with _sharing.sharing(shop_wide=True):  # tables behind several indicators, once for all periods
        periods = [(per, compute_indicators(shop, per.start, per.end, names))
                   for per in full_periods(shop, freq).itertuples(index=False)]
    for per, values in periods:
        for name in names:
            ind = INDICATORS[name]
            target, tol = _target_for(tg, name, freq)
            rows.append({"period": per.period, "start": per.start, "end": per.end,
                         "perspective": ind.perspective, "indicator": name, "label": ind.label,
                         "unit": ind.unit, "direction": ind.direction, "value": values[name],
                         "target": target,
                         "status": traffic_light(values[name], target, tol, ind.direction)})
    out = pd.DataFrame(rows, columns=["period", "start", "end", "perspective", "indicator", "label",
                                      "unit", "direction", "value", "target", "status"])
    out["status"] = pd.Categorical(out["status"], categories=list(STATUS_ORDER))
    return out
