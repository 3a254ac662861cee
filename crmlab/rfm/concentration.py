"""How concentrated revenue is: the Lorenz curve, the Gini coefficient and the 80/20 rule."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from crmlab.rfm.table import _amounts

__all__ = ["lorenz_curve", "gini", "pareto_share", "pareto_point"]

# --------------------------------------------------------------------------------------
# concentration: Lorenz, Gini, Pareto
# --------------------------------------------------------------------------------------


def _nonneg_values(values: Iterable[float] | pd.Series, func: str) -> np.ndarray:
    if isinstance(values, pd.DataFrame):
        raise ValueError(f"{func}: pass one column (e.g. rfm['monetary']), not a whole DataFrame.")
    s = values if isinstance(values, pd.Series) else pd.Series(np.asarray(list(values), dtype="float64"))
    arr = _amounts(s, "values", str(s.name) if s.name is not None else "values", func)
    if len(arr) == 0 or arr.sum() <= 0:
        raise ValueError(f"{func}: values must contain at least one positive number (total revenue > 0).")
    return np.sort(arr)


def lorenz_curve(values: Iterable[float] | pd.Series) -> pd.DataFrame:
    """Lorenz curve of a non-negative quantity (e.g. revenue per customer).

    Customers are sorted from the smallest to the largest value; row i gives the share of
    customers ``customer_share = i / n`` and the share of the total they hold
    ``value_share``. Starts at (0, 0) and ends at (1, 1); ``n + 1`` rows.

    Parameters
    ----------
    values : iterable of float or pd.Series
        Non-negative values, one per customer, with a positive total.

    Returns
    -------
    pd.DataFrame
        ``customer_share`` and ``value_share``, ``n + 1`` rows.
    """
    x = _nonneg_values(values, "lorenz_curve")
    n = len(x)
    cum = np.concatenate([[0.0], np.cumsum(x)])
    return pd.DataFrame({"customer_share": np.arange(n + 1) / n, "value_share": cum / cum[-1]})


def gini(values: Iterable[float] | pd.Series) -> float:
    """Gini coefficient of a non-negative quantity: 0 = everybody equal, (n-1)/n = one has all.

    Twice the area between the diagonal and the Lorenz curve, computed exactly for the
    step data: ``G = 2 * sum_i i * x_(i) / (n * sum x) - (n + 1) / n`` with ``x_(i)`` sorted
    ascending (the sample Gini; for large samples from a distribution it converges to that
    distribution's Gini, e.g. 0.5 for the exponential).

    Parameters
    ----------
    values : iterable of float or pd.Series
        Non-negative values, one per customer, with a positive total.

    Returns
    -------
    float
        The sample Gini coefficient.
    """
    x = _nonneg_values(values, "gini")
    n = len(x)
    i = np.arange(1, n + 1)
    return float(2.0 * np.sum(i * x) / (n * x.sum()) - (n + 1) / n)


def pareto_share(values: Iterable[float] | pd.Series, top: float = 0.2) -> float:
    """Share of the total held by the top ``top`` fraction of customers (e.g. top 20%).

    Read off the Lorenz curve with linear interpolation, so fractional customers count
    pro rata: ``1 - L(1 - top)``.

    Parameters
    ----------
    values : iterable of float or pd.Series
        Non-negative values, one per customer, with a positive total.
    top : float, default 0.2
        Fraction of customers at the top, in (0, 1].

    Returns
    -------
    float
        Their share of the total.
    """
    if not 0 < top <= 1:
        raise ValueError(f"pareto_share: top={top!r} must be a fraction in (0, 1], e.g. 0.2 for the top 20%.")
    curve = lorenz_curve(values)
    below = np.interp(1 - top, curve["customer_share"], curve["value_share"])
    return float(1 - below)


def pareto_point(values: Iterable[float] | pd.Series, share: float = 0.8) -> float:
    """Smallest fraction of (the best) customers that together hold ``share`` of the total.

    The inverse of :func:`pareto_share` (interpolated on the Lorenz curve); the "80/20
    rule" says ``pareto_point(revenue, 0.8)`` is about 0.2.

    Parameters
    ----------
    values : iterable of float or pd.Series
        Non-negative values, one per customer, with a positive total.
    share : float, default 0.8
        Share of the total to reach, in (0, 1].

    Returns
    -------
    float
        The fraction of customers (the best first) that hold it.
    """
    if not 0 < share <= 1:
        raise ValueError(f"pareto_point: share={share!r} must be a fraction in (0, 1], e.g. 0.8.")
    curve = lorenz_curve(values)
    # top fraction t holds 1 - L(1 - t): invert L at 1 - share (L is non-decreasing)
    x = curve["customer_share"].to_numpy()
    y = curve["value_share"].to_numpy()
    target = 1 - share
    j = int(np.searchsorted(y, target, side="right"))  # first point strictly above target
    if j >= len(y):
        return 0.0
    x0, x1, y0, y1 = x[j - 1], x[j], y[j - 1], y[j]
    at = x0 + (target - y0) / (y1 - y0) * (x1 - x0)
    return float(1 - at)
