"""General statistics the course units share (統計工具): intervals, tests and survival curves.

A unit module asks a statistical question of its own data (a funnel step's rate, a campaign's
uplift, a complaint rate by month); the interval or test it needs is general, so it lives here
once and every unit imports it from here:

* :func:`wilson_interval` -- Wilson's (1927) score interval for one proportion;
* :func:`proportion_diff_ci` -- Newcombe's (1998) hybrid score interval (or Wald) for the
  difference of two proportions, and :func:`two_proportion_pvalue`, the pooled z-test;
* :func:`proportion_contrast_ci` -- Price and Bonett's (2004) adjusted Wald interval for a
  linear contrast of proportions (a difference-in-differences of rates is one);
* :func:`mean_diff_ci` -- Welch's interval and t-test for a difference in means;
* :func:`kaplan_meier`, :func:`km_quantiles`, :func:`median_survival`,
  :func:`survival_quantile` -- Kaplan--Meier survival curves (implemented in
  :mod:`crmlab.survival`, re-exported here);
* :func:`level_z`, :func:`check_level`, :func:`numeric_values` -- the small checks the
  intervals share (a confidence level in (0, 1), a numeric column without gaps).

Every function raises ``ValueError`` naming what is wrong and how to fix it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from crmlab.survival import kaplan_meier, km_quantiles, median_survival, survival_quantile

__all__ = [
    "check_level",
    "kaplan_meier",
    "km_quantiles",
    "level_z",
    "mean_diff_ci",
    "median_survival",
    "numeric_values",
    "proportion_contrast_ci",
    "proportion_diff_ci",
    "survival_quantile",
    "two_proportion_pvalue",
    "wilson_interval",
]


def wilson_interval(
    successes: float | np.ndarray | pd.Series,
    trials: float | np.ndarray | pd.Series,
    level: float = 0.95,
) -> tuple[np.ndarray | float, np.ndarray | float]:
    """Wilson score interval for a binomial proportion (Wilson 1927).

    The interval is the set of ``p`` that a two-sided score test at ``1 - level`` does not
    reject: ``|phat - p| <= z * sqrt(p (1 - p) / n)``. Solving that quadratic gives

    ``centre = (phat + z^2 / 2n) / (1 + z^2 / n)``,
    ``half = z / (1 + z^2 / n) * sqrt(phat (1 - phat) / n + z^2 / 4n^2)``.

    Unlike the textbook ``phat +- z se`` it stays inside [0, 1] and keeps its coverage for
    small ``n`` and rates near 0 or 1 — which is where funnel steps live. Returns
    ``(low, high)``, with the exact ends 0 at ``k = 0`` and 1 at ``k = n``; NaN where
    ``trials`` is 0.

    Parameters
    ----------
    successes : float, array-like or pd.Series
        Number of successes ``k`` (0 <= k <= n).
    trials : float, array-like or pd.Series
        Number of trials ``n``.
    level : float, default 0.95
        Confidence level, in (0, 1).

    Returns
    -------
    tuple
        ``(low, high)``: floats for scalar input, arrays otherwise.
    """
    if not 0 < level < 1:
        raise ValueError(f"wilson_interval: level={level!r} must be between 0 and 1, e.g. 0.95.")
    k = np.asarray(successes, dtype="float64")
    n = np.asarray(trials, dtype="float64")
    if np.any(np.isnan(k)) or np.any(np.isnan(n)):
        raise ValueError("wilson_interval: successes and trials must not be missing.")
    if np.any(k < 0) or np.any(n < 0) or np.any(k > n):
        raise ValueError(
            "wilson_interval: need 0 <= successes <= trials; check that each step's count is "
            "taken from the sessions of the previous step."
        )
    z = stats.norm.ppf(1 - (1 - level) / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        phat = k / n
        denom = 1 + z**2 / n
        centre = (phat + z**2 / (2 * n)) / denom
        half = z / denom * np.sqrt(phat * (1 - phat) / n + z**2 / (4 * n**2))
        low = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
        high = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    # At k = 0 (k = n) the closed form's low (high) end is exactly 0 (1); in floating point
    # centre - half can come out as 3e-17, an interval that misses its own estimate.
    low = np.where((k == 0) & (n > 0), 0.0, low)
    high = np.where((k == n) & (n > 0), 1.0, high)
    if low.ndim == 0:
        return float(low), float(high)
    return low, high


def level_z(level: float) -> float:
    """The two-sided normal quantile of a confidence level (1.96 for 0.95), after checking it.

    Parameters
    ----------
    level : float
        Confidence level, in (0, 1).

    Returns
    -------
    float
        ``z`` with ``P(|Z| <= z) = level`` for a standard normal ``Z``.
    """
    if not 0 < level < 1:
        raise ValueError(f"level={level!r} must be between 0 and 1, e.g. 0.95.")
    return float(stats.norm.ppf(0.5 + level / 2))


def check_level(level: float, func: str) -> float:
    """``level`` as a float, or a ValueError naming ``func`` when it is not in (0, 1).

    Parameters
    ----------
    level : float
        Confidence level, in (0, 1).
    func : str
        The calling function, named in the error message.

    Returns
    -------
    float
        ``level``.
    """
    if not isinstance(level, int | float) or not 0 < level < 1:
        raise ValueError(f"{func}: level={level!r} must be between 0 and 1, e.g. 0.95.")
    return float(level)


def numeric_values(values: Any, table: str, column: str, func: str, *, binary: bool = False) -> np.ndarray:
    """A numeric (or boolean) column as float64, or a ValueError naming table and column.

    Missing or infinite values are an error, not dropped; ``binary=True`` also requires 0/1.

    Parameters
    ----------
    values : array-like or pd.Series
        The column.
    table, column, func : str
        Table, column and calling function, named in the error message.
    binary : bool, default False
        Also require every value to be 0 or 1.

    Returns
    -------
    np.ndarray
        float64 values.
    """
    s = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values))
    if pd.api.types.is_bool_dtype(s):
        return s.to_numpy(dtype="float64")
    if not pd.api.types.is_numeric_dtype(s):
        raise ValueError(f"{func}: {table}.{column} must be numeric or boolean, got dtype {s.dtype}; "
                         f"convert it with pd.to_numeric.")
    arr = s.to_numpy(dtype="float64", na_value=np.nan)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{func}: {table}.{column} has {int((~np.isfinite(arr)).sum())} missing or "
                         "infinite values; fill them (0 for no purchase) or drop those contacts.")
    if binary and not np.all(np.isin(arr, (0.0, 1.0))):
        raise ValueError(f"{func}: {table}.{column} must be 0/1 (converted or not), got other values; "
                         "use a boolean conversion flag.")
    return arr


def proportion_diff_ci(k_treatment: Any, n_treatment: Any, k_control: Any, n_control: Any,
                       level: float = 0.95, method: str = "newcombe"):
    """Confidence interval for the difference of two independent proportions p_t - p_c.

    ``method="newcombe"`` (default): Newcombe's (1998) hybrid score interval, his method 10.
    With Wilson intervals ``(l_t, u_t)`` and ``(l_c, u_c)`` for each rate and ``d = p_t - p_c``:
    ``low = d - sqrt((p_t - l_t)^2 + (u_c - p_c)^2)``, ``high = d + sqrt((u_t - p_t)^2 +
    (p_c - l_c)^2)``. It keeps close to its nominal coverage with small groups and rates near
    0 -- where campaign conversion rates live -- and never leaves [-1, 1].

    ``method="wald"``: ``d +- z sqrt(p_t q_t / n_t + p_c q_c / n_c)``, the textbook interval; it
    collapses to a point when both rates are 0 and under-covers for small groups.

    Works on scalars or arrays; returns ``(low, high)``.

    Parameters
    ----------
    k_treatment, n_treatment : int or array-like
        Conversions and contacts of the treated group.
    k_control, n_control : int or array-like
        Conversions and contacts of the control group.
    level : float, default 0.95
        Confidence level, in (0, 1).
    method : {"newcombe", "wald"}, default "newcombe"
        The interval.

    Returns
    -------
    tuple
        ``(low, high)`` for ``p_t - p_c``: floats for scalar input, arrays otherwise.
    """
    func = "proportion_diff_ci"
    level = check_level(level, func)
    if method not in ("newcombe", "wald"):
        raise ValueError(f"{func}: method={method!r}; use 'newcombe' (recommended) or 'wald'.")
    kt, nt, kc, nc = (np.asarray(v, dtype="float64") for v in (k_treatment, n_treatment, k_control, n_control))
    if np.any(nt <= 0) or np.any(nc <= 0):
        raise ValueError(f"{func}: both groups need at least one contact (n_treatment and n_control "
                         "> 0); a campaign without a holdout cannot be read as an experiment.")
    if np.any(kt < 0) or np.any(kc < 0) or np.any(kt > nt) or np.any(kc > nc):
        raise ValueError(f"{func}: need 0 <= conversions <= contacts in each group.")
    pt, pc = kt / nt, kc / nc
    d = pt - pc
    if method == "wald":
        z = stats.norm.ppf(0.5 + level / 2)
        half = z * np.sqrt(pt * (1 - pt) / nt + pc * (1 - pc) / nc)
        low, high = d - half, d + half
    else:
        lt, ut = wilson_interval(kt, nt, level)
        lc, uc = wilson_interval(kc, nc, level)
        low = d - np.sqrt((pt - lt) ** 2 + (uc - pc) ** 2)
        high = d + np.sqrt((ut - pt) ** 2 + (pc - lc) ** 2)
    if np.ndim(low) == 0:
        return float(low), float(high)
    return np.asarray(low), np.asarray(high)


def proportion_contrast_ci(successes: Any, trials: Any, coefficients: Any,
                           level: float = 0.95) -> dict[str, float]:
    """Adjusted Wald interval for a linear contrast ``sum c_i p_i`` of independent proportions.

    Price and Bonett (2004): with ``m`` the number of nonzero coefficients, add ``2/m``
    successes and ``4/m`` trials to each group, ``p~_i = (k_i + 2/m) / (n_i + 4/m)``; the
    estimate is ``sum c_i p~_i`` and its standard error ``sqrt(sum c_i^2 p~_i (1 - p~_i) /
    (n_i + 4/m))``. For two groups it is Agresti and Caffo's (2000) interval. Unlike the plain
    Wald interval it does not shrink to nothing when a group's rate is 0 or 1 (a product with
    no defective return after a fix), where the plain interval counts that group's sampling
    error as 0. A difference-in-differences of rates is the contrast ``(+1, -1, -1, +1)``.

    Parameters
    ----------
    successes, trials : array-like
        Successes ``k_i`` and trials ``n_i`` of each group (same length).
    coefficients : array-like
        The contrast's coefficient of each group.
    level : float, default 0.95
        Confidence level, in (0, 1).

    Returns
    -------
    dict
        ``estimate`` (the adjusted contrast), ``se``, ``low``, ``high``, ``p_value`` (two-sided,
        of the adjusted z = estimate / se) and ``level``.
    """
    func = "proportion_contrast_ci"
    z = level_z(check_level(level, func))
    k, n, c = (np.asarray(v, dtype="float64").ravel() for v in (successes, trials, coefficients))
    if not (k.size == n.size == c.size) or k.size == 0:
        raise ValueError(f"{func}: successes, trials and coefficients need one value per group "
                         f"(got {k.size}, {n.size} and {c.size}).")
    if not (np.isfinite(k).all() and np.isfinite(n).all() and np.isfinite(c).all()):
        raise ValueError(f"{func}: successes, trials and coefficients must be finite numbers.")
    if np.any(n <= 0) or np.any(k < 0) or np.any(k > n):
        raise ValueError(f"{func}: each group needs trials > 0 and 0 <= successes <= trials.")
    m = int(np.count_nonzero(c))
    if m == 0:
        raise ValueError(f"{func}: every coefficient is 0; a contrast needs at least one nonzero "
                         "coefficient, e.g. (+1, -1, -1, +1) for a difference-in-differences.")
    n_adj = n + 4 / m
    p_adj = (k + 2 / m) / n_adj
    estimate = float(c @ p_adj)
    se = float(np.sqrt(np.sum(c**2 * p_adj * (1 - p_adj) / n_adj)))
    return {"estimate": estimate, "se": se, "low": estimate - z * se, "high": estimate + z * se,
            "p_value": float(2 * stats.norm.sf(abs(estimate) / se)), "level": float(level)}


def two_proportion_pvalue(k_treatment: Any, n_treatment: Any, k_control: Any, n_control: Any) -> Any:
    """Two-sided p-value of the pooled two-proportion z-test (the score test behind the
    sample-size formula). NaN when both groups have rate 0 or 1 (no variation).

    Parameters
    ----------
    k_treatment, n_treatment : int or array-like
        Conversions and contacts of the treated group.
    k_control, n_control : int or array-like
        Conversions and contacts of the control group.

    Returns
    -------
    float or np.ndarray
        The two-sided p-value.
    """
    kt, nt, kc, nc = (np.asarray(v, dtype="float64") for v in (k_treatment, n_treatment, k_control, n_control))
    pooled = (kt + kc) / (nt + nc)
    se = np.sqrt(pooled * (1 - pooled) * (1 / nt + 1 / nc))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (kt / nt - kc / nc) / se
        p = np.where(se > 0, 2 * stats.norm.sf(np.abs(z)), np.nan)
    return float(p) if np.ndim(p) == 0 else p


def mean_diff_ci(x_treatment: Any, x_control: Any, level: float = 0.95) -> dict[str, float]:
    """Welch's interval for the difference in means (e.g. revenue per contact), unequal variances.

    ``diff = mean_t - mean_c``, ``se = sqrt(s_t^2 / n_t + s_c^2 / n_c)`` and the
    Welch--Satterthwaite degrees of freedom ``df = se^4 / ((s_t^2/n_t)^2/(n_t-1) +
    (s_c^2/n_c)^2/(n_c-1))``; the interval is ``diff +- t_{df} se``. Revenue per contact is
    mostly zeros with a long right tail; with a few hundred contacts per arm the t interval is
    still accurate enough (central limit theorem), with a dozen it is not. Returns a dict with
    ``diff, se, df, low, high, p_value`` (NaN interval when both groups have zero variance).

    Parameters
    ----------
    x_treatment, x_control : array-like
        Values per contact (e.g. revenue) of each group, at least 2 each.
    level : float, default 0.95
        Confidence level, in (0, 1).

    Returns
    -------
    dict of str to float
        ``diff``, ``se``, ``df``, ``low``, ``high``, ``p_value``.
    """
    func = "mean_diff_ci"
    level = check_level(level, func)
    xt = numeric_values(x_treatment, "treatment group", "values", func)
    xc = numeric_values(x_control, "control group", "values", func)
    if len(xt) < 2 or len(xc) < 2:
        raise ValueError(f"{func}: Welch's interval needs at least 2 contacts per group (got "
                         f"{len(xt)} treated, {len(xc)} control); pool campaigns or wait for more data.")
    mt, mc = xt.mean(), xc.mean()
    vt, vc = xt.var(ddof=1) / len(xt), xc.var(ddof=1) / len(xc)
    se = math.sqrt(vt + vc)
    diff = float(mt - mc)
    if se == 0:
        return {"diff": diff, "se": 0.0, "df": float("nan"), "low": float("nan"),
                "high": float("nan"), "p_value": float("nan")}
    df = (vt + vc) ** 2 / (vt**2 / (len(xt) - 1) + vc**2 / (len(xc) - 1))
    t = stats.t.ppf(0.5 + level / 2, df)
    p = 2 * stats.t.sf(abs(diff) / se, df)
    return {"diff": diff, "se": se, "df": float(df), "low": float(diff - t * se),
            "high": float(diff + t * se), "p_value": float(p)}
