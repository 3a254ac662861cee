"""Small survival-analysis helpers shared by the course units (存活分析).

Kaplan–Meier is all the workbook needs (time to next purchase in unit 2c, time to
resolution in the support unit), so it is written here in numpy rather than pulling
in a survival library. ``kaplan_meier`` returns the usual life table with Greenwood
standard errors and log-log confidence limits; ``survival_quantile`` reads a quantile
(``median_survival`` the median) off it, and ``km_quantiles`` goes straight from
durations to quantiles (the support and after-sales units' "median time to resolve").
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["kaplan_meier", "km_quantiles", "median_survival", "survival_quantile"]


def _as_float_array(values, name: str, table: str) -> np.ndarray:
    kind = getattr(getattr(values, "dtype", None), "kind", None) or np.asarray(values).dtype.kind
    if kind in "mM":
        raise ValueError(
            f"{table}: column '{name}' holds {'timedeltas' if kind == 'm' else 'timestamps'}, "
            "whose unit would be read as nanoseconds; convert it to a number in the unit you "
            f"mean, e.g. {name} / pd.Timedelta(days=1) for days."
        )
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{table}: column '{name}' must be numeric; convert it with pd.to_numeric first."
        ) from exc
    if arr.ndim != 1:
        raise ValueError(f"{table}: column '{name}' must be one-dimensional.")
    return arr


def kaplan_meier(
    durations,
    events=None,
    *,
    confidence: float = 0.95,
    table: str = "durations",
) -> pd.DataFrame:
    """Kaplan–Meier estimate of the survival function S(t) = P(T > t).

    ``durations`` are the observed times; ``events`` is 1/True where the event
    happened at that time and 0/False where the observation was censored (still
    "alive" when observation stopped). Without ``events`` every duration is an event.
    Ties follow the usual convention: at a time with both events and censorings the
    events are counted first, the censored units leave the risk set just after.

    Parameters
    ----------
    durations : array-like of float
        Observed times (>= 0, no missing values; timedeltas must be converted first).
    events : array-like of bool or 0/1, optional
        True where the event happened, False where the observation was censored.
    confidence : float, default 0.95
        Level of the confidence limits.
    table : str, default "durations"
        Name of the data, used in error messages.

    Returns
    -------
    pd.DataFrame
        One row per distinct time (starting with a row at t = 0) with columns ``time``,
        ``at_risk`` (n_i), ``events`` (d_i), ``censored``, ``survival`` (prod (1 - d_i /
        n_i)), ``se`` (Greenwood), ``lower`` and ``upper`` (log(-log) confidence limits,
        which stay inside [0, 1]).
    """
    t, e = _checked_durations(durations, events, confidence, table)
    times, inverse = np.unique(t, return_inverse=True)
    d = np.bincount(inverse, weights=e, minlength=times.size)
    n_all = np.bincount(inverse, minlength=times.size).astype(float)
    c = n_all - d
    # at risk just before time t_i: everyone whose duration is >= t_i
    at_risk = n_all[::-1].cumsum()[::-1]
    surv, se, lower, upper = _km_estimates(d, at_risk, confidence)
    out = pd.DataFrame({
        "time": times, "at_risk": at_risk.astype(np.int64), "events": d.astype(np.int64),
        "censored": c.astype(np.int64), "survival": surv, "se": se, "lower": lower, "upper": upper,
    })
    if times[0] > 0:  # the curve starts at S(0) = 1 with everyone at risk
        start = pd.DataFrame([[0.0, t.size, 0, 0, 1.0, 0.0, 1.0, 1.0]], columns=out.columns)
        out = pd.concat([start.astype(out.dtypes.to_dict()), out], ignore_index=True)
    return out


def _checked_durations(durations, events, confidence: float, table: str) -> tuple[np.ndarray, np.ndarray]:
    """Durations as floats and event flags as bools, or a ValueError naming the column."""
    t = _as_float_array(durations, "duration", table)
    if t.size == 0:
        raise ValueError(f"{table} is empty: pass at least one duration.")
    if events is None:
        e = np.ones(t.size, dtype=bool)
    else:
        e_raw = np.asarray(events)
        if e_raw.shape != t.shape:
            raise ValueError(
                f"{table}: 'event' has {e_raw.size} values but 'duration' has {t.size}; "
                "pass one event flag per duration."
            )
        if not np.isin(e_raw, [0, 1, True, False]).all():
            raise ValueError(f"{table}: column 'event' must hold 0/1 (or False/True) only.")
        e = e_raw.astype(bool)
    if np.isnan(t).any():
        raise ValueError(
            f"{table}: column 'duration' has {int(np.isnan(t).sum())} missing values; "
            "drop or fill them first."
        )
    if (t < 0).any():
        raise ValueError(
            f"{table}: column 'duration' has {int((t < 0).sum())} negative values; "
            "durations are elapsed times and must be >= 0."
        )
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1, e.g. 0.95.")
    return t, e


def _km_estimates(d: np.ndarray, at_risk: np.ndarray, confidence: float):
    """Survival, Greenwood standard error and log(-log) limits at each distinct time."""
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = 1.0 - d / at_risk
        surv = np.cumprod(factor)
        green_terms = np.where(at_risk > d, d / (at_risk * (at_risk - d)), np.inf)
        green_terms = np.where(d > 0, green_terms, 0.0)
        green = np.cumsum(green_terms)
        se = surv * np.sqrt(green)
        z = stats.norm.ppf(0.5 + confidence / 2)
        log_s = np.log(surv)
        # log(-log S) interval (Kalbfleisch & Prentice): S^(exp(+-z * sd))
        sd_loglog = np.sqrt(green) / np.abs(log_s)
        lower = surv ** np.exp(z * sd_loglog)
        upper = surv ** np.exp(-z * sd_loglog)
    ok = (surv > 0) & (surv < 1) & np.isfinite(sd_loglog)
    lower = np.where(ok, lower, np.where(surv >= 1, 1.0, 0.0))
    upper = np.where(ok, upper, np.where(surv >= 1, 1.0, 0.0))
    se = np.where(np.isfinite(se), se, np.nan)
    return surv, se, lower, upper


def survival_quantile(km: pd.DataFrame, q: float) -> float:
    """Smallest time by which a share ``q`` has had the event: the first time the Kaplan–Meier
    survival drops to ``1 - q`` or below (``q=0.5``: the median; ``q=0.9``: the 90th percentile).

    Returns ``inf`` when the curve never gets there (too many still survive at the last
    observed time), the usual convention. A tolerance of 1e-12 keeps ``1 - 0.9`` from
    missing a survival of exactly 0.1 by rounding.

    Parameters
    ----------
    km : pd.DataFrame
        A :func:`kaplan_meier` table (``time``, ``survival``).
    q : float
        Share that has had the event, in (0, 1).

    Returns
    -------
    float
        The time (``inf`` if never reached).
    """
    for col in ("time", "survival"):
        if col not in km.columns:
            raise ValueError(
                f"km table: column '{col}' is missing; pass the output of kaplan_meier()."
            )
    if not 0 < q < 1:
        raise ValueError(f"q={q!r} must be between 0 and 1 (0.5 for the median).")
    below = km.loc[km["survival"] <= 1 - q + 1e-12, "time"]
    return float(below.iloc[0]) if len(below) else float("inf")


def median_survival(km: pd.DataFrame) -> float:
    """Smallest time at which the Kaplan–Meier survival drops to 0.5 or below (``inf`` if never).

    Parameters
    ----------
    km : pd.DataFrame
        A :func:`kaplan_meier` table.

    Returns
    -------
    float
        The median time (``inf`` if the curve never drops to 0.5).
    """
    return survival_quantile(km, 0.5)


def km_quantiles(
    durations, events, quantiles: tuple[float, ...] = (0.5,), *, table: str = "durations"
) -> list[float]:
    """Kaplan–Meier quantiles of durations with censoring (``events`` False = still open).

    One float per entry of ``quantiles``: ``inf`` when not reached, NaN when there are no
    durations at all (an empty group has no median, which is not the same as a long one).

    Parameters
    ----------
    durations : array-like of float
        Observed times.
    events : array-like of bool or 0/1
        True where the event happened, False where still open (censored).
    quantiles : tuple of float, default (0.5,)
        Shares that have had the event.
    table : str, default "durations"
        Name of the data, used in error messages.

    Returns
    -------
    list of float
        One time per quantile (``inf`` not reached, NaN without durations).
    """
    if np.asarray(durations).size == 0:
        return [float("nan")] * len(quantiles)
    km = kaplan_meier(durations, events, table=table)
    return [survival_quantile(km, q) for q in quantiles]
