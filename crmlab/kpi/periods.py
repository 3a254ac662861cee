"""Periods of a report: the complete months or quarters of the data, a label's bounds, the one before."""

from __future__ import annotations

from typing import Any

import pandas as pd

from crmlab.kpi._common import _orders, _period

__all__ = ["FREQUENCIES", "full_periods", "period_bounds", "previous_period"]


#: Scorecard frequencies -> pandas Period frequency.
FREQUENCIES: dict[str, str] = {"QE": "Q", "Q": "Q", "ME": "M", "M": "M", "YE": "Y", "Y": "Y",
                               "W": "W"}


def _period_freq(freq: str) -> str:
    if freq not in FREQUENCIES:
        raise ValueError(f"freq={freq!r} must be one of {sorted(FREQUENCIES)} (e.g. 'QE' for quarters, "
                         "'ME' for months).")
    return FREQUENCIES[freq]


def _span(shop: Any) -> tuple[pd.Timestamp, pd.Timestamp]:
    """[first day, day after the last day) of the shop's data."""
    try:
        return pd.Timestamp(shop.start).normalize(), pd.Timestamp(shop.end_ts)
    except (AttributeError, KeyError, TypeError):
        o = _orders(shop.tables["orders"])
        return o["order_ts"].min().normalize(), o["order_ts"].max().normalize() + pd.Timedelta(days=1)


def full_periods(shop: Any, freq: str = "QE") -> pd.DataFrame:
    """The complete periods of ``freq`` inside the shop's data span: ``period`` (label),
    ``start`` and ``end`` (exclusive), oldest first. A period cut by the data start or end is
    left out.

    Parameters
    ----------
    shop : Shop
        The shop (its span, or its orders' span).
    freq : str, default "QE"
        A key of :data:`FREQUENCIES`.

    Returns
    -------
    pd.DataFrame
        period, start, end.
    """
    pf = _period_freq(freq)
    first, stop = _span(shop)
    periods = pd.period_range(first, stop - pd.Timedelta(days=1), freq=pf)
    rows = [(str(p), p.start_time, (p + 1).start_time) for p in periods
            if p.start_time >= first and (p + 1).start_time <= stop]
    return pd.DataFrame(rows, columns=["period", "start", "end"])


def period_bounds(period: object, freq: str = "QE", shop: Any = None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``(start, end)`` of a period given as a ``pd.Period``, a label such as ``"2025Q4"`` or
    ``"2025-12"`` (read with ``freq``), a ``(start, end)`` pair, or ``None`` / ``"last"`` for
    the shop's last complete period of ``freq``.

    Parameters
    ----------
    period : pd.Period, str, (start, end) or None
        The period, or None / ``"last"`` for the shop's last complete one.
    freq : str, default "QE"
        A key of :data:`FREQUENCIES`.
    shop : Shop, optional
        Needed for ``"last"``.

    Returns
    -------
    tuple of pd.Timestamp
        ``(start, end)``, end exclusive.
    """
    pf = _period_freq(freq)
    if period is None or (isinstance(period, str) and period == "last"):
        if shop is None:
            raise ValueError("period='last' needs the shop; pass shop= or a period such as '2025Q4'.")
        full = full_periods(shop, freq)
        if full.empty:
            raise ValueError(f"the shop's data hold no complete period of freq={freq!r}; pass "
                             "(start, end) explicitly or a shorter freq.")
        return full["start"].iloc[-1], full["end"].iloc[-1]
    if isinstance(period, tuple | list):
        if len(period) != 2:
            raise ValueError(f"period={period!r}: pass (start, end) with end exclusive.")
        return _period(*period)
    if isinstance(period, pd.Period):
        p = period
    else:
        try:
            p = pd.Period(str(period), freq=pf)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"period={period!r} is not a {freq} period; pass e.g. '2025Q4' for "
                             "quarters, '2025-12' for months, or (start, end).") from exc
    return p.start_time, (p + 1).start_time


def _is_one_period(start: pd.Timestamp, end: pd.Timestamp, freq: str) -> bool:
    p = pd.Period(start, freq=_period_freq(freq))
    return bool(p.start_time == start and (p + 1).start_time == end)


def previous_period(start: object, end: object, freq: str | None = "QE") -> tuple[pd.Timestamp, pd.Timestamp]:
    """The period before ``[start, end)``: the previous calendar period of ``freq`` when
    ``[start, end)`` is exactly one such period, otherwise the window of the same length
    ending at ``start``.

    Parameters
    ----------
    start, end : date-like
        The period ``[start, end)``.
    freq : str or None, default "QE"
        The calendar frequency to step back by; None for the same length.

    Returns
    -------
    tuple of pd.Timestamp
        ``(start, end)`` of the previous period.
    """
    s, e = _period(start, end)
    if freq is not None and _is_one_period(s, e, freq):
        return (pd.Period(s, freq=_period_freq(freq)) - 1).start_time, s
    return s - (e - s), s
