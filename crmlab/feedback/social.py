"""Social listening (社群聆聽): daily mentions and two alarms (rolling z-score, p-chart).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab._checks import as_frame, as_timestamp, datetime_column, reads, require_columns

__all__ = [
    "alert_summary",
    "daily_mentions",
    "proportion_chart",
    "rolling_zscore",
]


@reads(mentions="")
def daily_mentions(
    mentions: pd.DataFrame,
    negative: object | None = None,
    *,
    start: object | None = None,
    end: object | None = None,
    ts_col: str = "ts",
) -> pd.DataFrame:
    """Mentions per day: n_mentions, n_negative, negative_share (NaN on days without mentions).

    ``negative`` is a boolean per mention (e.g. ``vader_sentiment(...)["label"] == "neg"``);
    without it n_negative is 0. The days run from ``start`` to ``end`` (default: the first and
    last mention), days without mentions included with 0 -- a quiet day is data. Mentions
    outside [start, end] raise ``ValueError`` (filter them first) instead of being dropped.

    Parameters
    ----------
    mentions : pd.DataFrame
        The ``social_mentions`` table (``ts_col``).
    negative : array-like of bool, optional
        One flag per mention.
    start, end : datetime-like, optional
        First and last day of the calendar.
    ts_col : str, default "ts"
        The time column.

    Returns
    -------
    pd.DataFrame
        One row per day: date, n_mentions, n_negative, negative_share.
    """
    df = as_frame(mentions, "mentions")
    require_columns(df, "mentions", [ts_col])
    ts = datetime_column(df, "mentions", ts_col)
    if len(df) == 0 and (start is None or end is None):
        raise ValueError("mentions: the table is empty; pass start and end to get a calendar of zeros.")
    neg = np.zeros(len(df), bool)
    if negative is not None:
        neg = np.asarray(negative)
        if neg.dtype != bool or len(neg) != len(df):
            raise ValueError(f"daily_mentions: negative must be a boolean array with one value per "
                             f"mention ({len(df)}), got dtype {neg.dtype} and length {len(neg)}.")
    day = ts.dt.normalize()
    lo = as_timestamp(start, "start").normalize() if start is not None else day.min()
    hi = as_timestamp(end, "end").normalize() if end is not None else day.max()
    if lo > hi:
        raise ValueError(f"daily_mentions: start {lo.date()} is after end {hi.date()}.")
    outside = int(((day < lo) | (day > hi)).sum())
    if outside:
        raise ValueError(f"mentions: {outside} mention(s) fall outside {lo.date()}..{hi.date()}; "
                         "filter them first (and count them) or widen start/end.")
    days = pd.date_range(lo, hi, freq="D")
    work = pd.DataFrame({"date": day.to_numpy(), "neg": neg})
    g = work.groupby("date")
    out = pd.DataFrame({"n_mentions": g.size(), "n_negative": g["neg"].sum()})
    out = out.reindex(days, fill_value=0).astype("int64")
    out.index.name = "date"
    out["negative_share"] = out["n_negative"] / out["n_mentions"].where(out["n_mentions"] > 0)
    return out.reset_index()


def _series(values: object, name: str) -> pd.Series:
    """Daily counts as a float Series: numeric, complete, >= 0."""
    if isinstance(values, pd.DataFrame):
        raise ValueError(f"{name}: pass one column (a Series), not a DataFrame.")
    s = pd.Series(values)
    try:
        arr = pd.to_numeric(s).to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: values must be numbers (daily counts).") from exc
    if np.isnan(arr).any():
        raise ValueError(f"{name}: {int(np.isnan(arr).sum())} missing values; a day without data is "
                         "0 mentions -- fill with 0 (daily_mentions does).")
    if (arr < 0).any():
        raise ValueError(f"{name}: counts must be >= 0.")
    return pd.Series(arr, index=s.index)


def rolling_zscore(
    values: object,
    *,
    window: int = 28,
    guard: int = 7,
    threshold: float = 3.0,
    min_count: float = 3,
) -> pd.DataFrame:
    """Alarm on a daily count: z = (today - baseline mean) / baseline sd.

    The baseline is the ``window`` days ending ``guard`` days before today (a guard band, as in
    the CDC's EARS C2 method: Hutwagner et al. 2003), so a slowly growing problem does not
    leak into its own baseline. The sd is floored at sqrt(mean) (the Poisson sd; a run of
    zeros must not make one mention look infinite) and at 0.5. Alert when z >= ``threshold``
    and today's count >= ``min_count``. Needs at least ``window // 2`` baseline days (NaN
    before). Columns: value, baseline_mean, baseline_sd, z, alert.

    Parameters
    ----------
    values : array-like or pd.Series
        Daily counts (no missing values).
    window : int, default 28
        Days in the baseline.
    guard : int, default 7
        Days between the baseline and today.
    threshold : float, default 3.0
        z at which to alert.
    min_count : float, default 3
        Fewest counts today for an alert.

    Returns
    -------
    pd.DataFrame
        One row per day, aligned with ``values``.
    """
    x = _series(values, "values")
    if window < 2 or guard < 1:
        raise ValueError("rolling_zscore: window must be >= 2 days and guard >= 1 day.")
    base = x.shift(guard).rolling(window, min_periods=max(window // 2, 2))
    mean, sd = base.mean(), base.std()
    sd = np.maximum(np.maximum(sd, np.sqrt(mean.clip(lower=0))), 0.5).where(mean.notna())
    z = (x - mean) / sd
    alert = (z >= threshold) & (x >= min_count)
    return pd.DataFrame({"value": x, "baseline_mean": mean, "baseline_sd": sd, "z": z,
                         "alert": alert.fillna(False).astype(bool)})


def proportion_chart(
    counts: object,
    totals: object,
    *,
    window: int = 56,
    guard: int = 7,
    L: float = 3.0,
    min_count: float = 3,
) -> pd.DataFrame:
    """Shewhart p-chart on a daily share (e.g. negative mentions / all mentions).

    Baseline share p0 = sum of counts / sum of totals over the ``window`` days ending
    ``guard`` days before today (with half a pseudo-event in one pseudo-mention so p0 is never
    exactly 0). Today's limit is UCL = p0 + L sqrt(p0 (1 - p0) / n_today): it widens on quiet
    days and narrows on busy ones, so sale days with many mentions do not look alarming just
    because they are busy (a count chart would fire on Double 11). z = (share - p0) /
    sqrt(p0 (1 - p0) / n). Alert when z >= ``L`` and today's count >= ``min_count``.
    Columns: count, total, share, p0, ucl, z, alert.

    Parameters
    ----------
    counts, totals : array-like or pd.Series
        Daily events and the daily totals they are part of, aligned.
    window : int, default 56
        Days in the baseline.
    guard : int, default 7
        Days between the baseline and today.
    L : float, default 3.0
        Width of the control limit in standard errors.
    min_count : float, default 3
        Fewest events today for an alert.

    Returns
    -------
    pd.DataFrame
        One row per day, aligned with ``counts``.
    """
    k = _series(counts, "counts")
    n = _series(totals, "totals")
    if len(k) != len(n) or not k.index.equals(n.index):
        raise ValueError("proportion_chart: counts and totals must be aligned (same days).")
    if (k > n).any():
        raise ValueError("proportion_chart: counts exceed totals on "
                         f"{int((k > n).sum())} day(s); counts must be a subset of totals.")
    if window < 2 or guard < 1:
        raise ValueError("proportion_chart: window must be >= 2 days and guard >= 1 day.")
    mp = max(window // 2, 2)
    bk = k.shift(guard).rolling(window, min_periods=mp).sum()
    bn = n.shift(guard).rolling(window, min_periods=mp).sum()
    p0 = (bk + 0.5) / (bn + 1.0)
    share = k / n.where(n > 0)
    se = np.sqrt(p0 * (1 - p0) / n.where(n > 0))
    z = (share - p0) / se
    alert = (z >= L) & (k >= min_count)
    return pd.DataFrame({"count": k, "total": n, "share": share, "p0": p0, "ucl": p0 + L * se,
                         "z": z, "alert": alert.fillna(False).astype(bool)})


def alert_summary(
    alerts: pd.Series,
    event_start: object,
    event_end: object | None = None,
    *,
    quiet_days: int = 30,
) -> dict[str, object]:
    """How an alarm did against a known event (e.g. a planted incident from start to fix).

    ``alerts`` is a boolean Series indexed by day. Returns first_alert (first alert on or after
    ``event_start``, None if none), delay_days (days from event_start to it), alerts_before
    (alerts before the event: false alarms of the worst kind -- crying wolf), false_alarms
    (alert days before the event or more than ``quiet_days`` after ``event_end``; the
    event's after-glow is not counted either way), n_alert_days and days_monitored.
    ``ValueError`` when the event dates are outside the monitored days.

    Parameters
    ----------
    alerts : pd.Series of bool
        Alerts indexed by day.
    event_start : datetime-like
        First day of the known event.
    event_end : datetime-like, optional
        Last day of the event; default ``event_start``.
    quiet_days : int, default 30
        Days after the event in which alerts count neither way.

    Returns
    -------
    dict
        The figures listed above.
    """
    if not isinstance(alerts, pd.Series) or not isinstance(alerts.index, pd.DatetimeIndex):
        raise ValueError("alert_summary: alerts must be a boolean Series indexed by day "
                         "(e.g. chart.set_index('date')['alert']).")
    a = alerts.astype(bool)
    lo, hi = a.index.min(), a.index.max()
    s = as_timestamp(event_start, "event_start")
    e = as_timestamp(event_end, "event_end") if event_end is not None else s
    for name, t in (("event_start", s), ("event_end", e)):
        if not lo <= t <= hi:
            raise ValueError(f"alert_summary: {name} {t.date()} is outside the monitored days "
                             f"{lo.date()}..{hi.date()}.")
    if e < s:
        raise ValueError(f"alert_summary: event_end {e.date()} is before event_start {s.date()}.")
    days = a.index[a.to_numpy()]
    after = days[days >= s]
    first = after[0] if len(after) else None
    before = int((days < s).sum())
    late = int((days > e + pd.Timedelta(days=quiet_days)).sum())
    return {"first_alert": None if first is None else str(first.date()),
            "delay_days": None if first is None else int((first - s).days),
            "alerts_before": before, "false_alarms": before + late,
            "n_alert_days": int(len(days)), "days_monitored": int(len(a))}
