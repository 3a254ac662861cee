"""Revenue management for perishable capacity (營收管理): seats, rooms, tickets.

Littlewood's two-fare rule (:func:`littlewood`), EMSR-a/EMSR-b protection levels for many
fare classes (:func:`emsr_a`, :func:`emsr_b`), the exact optimal protection levels by
dynamic programming (:func:`optimal_protection_levels`) and a Monte Carlo check of any set
of protection levels (:func:`simulate_nested_booking`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from crmlab.pricing._validation import Seed, _check_positive, _floats, _rng, _scalar


def _fare_inputs(fares: Sequence[float], means: Sequence[float], sds: Sequence[float],
                 where: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validated fare classes: fares strictly descending and > 0, means >= 0, sds >= 0."""
    f = _floats(fares, "fares", where=where)
    m = _floats(means, "means", where=where)
    s = _floats(sds, "sds", where=where)
    if not (f.size == m.size == s.size):
        raise ValueError(
            f"{where}: 'fares', 'means' and 'sds' need one value per fare class, got lengths "
            f"{f.size}, {m.size}, {s.size}"
        )
    if f.size < 2:
        raise ValueError(f"{where}: need at least two fare classes, got {f.size}")
    _check_positive(f, "fares", where=where, fix="fares are prices in NT$ and must be > 0")
    if np.any(np.diff(f) >= 0):
        raise ValueError(
            f"{where}: 'fares' must be strictly descending (class 1 = highest fare), got "
            f"{f.tolist()}; sort the classes from the highest to the lowest fare"
        )
    if np.any(m < 0) or np.any(s < 0):
        raise ValueError(f"{where}: demand 'means' and 'sds' must be >= 0")
    return f, m, s


def littlewood(fare_high: float, fare_low: float, mean_high: float, sd_high: float) -> float:
    """Littlewood's rule: seats to protect for the high fare from low-fare demand.

    Accept a low-fare request only while the expected marginal revenue of a protected seat,
    ``fare_high * P(D_high >= y)``, is below ``fare_low``. With normal high-fare demand the
    protection level is ``y = mean + sd * z`` with ``z = Phi^{-1}(1 - fare_low / fare_high)``.

    Parameters
    ----------
    fare_high, fare_low : float
        The two fares in NT$ (``fare_high > fare_low > 0``).
    mean_high, sd_high : float
        Mean and standard deviation of high-fare demand (normal).

    Returns
    -------
    float
        The protection level: seats kept for the high fare.
    """
    f, m, s = _fare_inputs([fare_high, fare_low], [mean_high, 0.0], [sd_high, 0.0],
                           where="littlewood")
    if s[0] == 0:
        return float(m[0])
    return float(m[0] + s[0] * stats.norm.ppf(1.0 - f[1] / f[0]))


def _protection_table(f: np.ndarray, m: np.ndarray, s: np.ndarray, y: np.ndarray,
                      capacity: float | None) -> pd.DataFrame:
    n = f.size
    out = pd.DataFrame({
        "fare_class": np.arange(1, n + 1),
        "fare": f,
        "mean": m,
        "sd": s,
        "protection_level": np.append(y, np.nan),
    })
    if capacity is not None:
        cap = _scalar(capacity, "capacity", where="emsr", minimum=0, strict=False)
        prot = np.clip(np.concatenate([[0.0], y]), 0.0, cap)
        out["protection_level"] = np.append(np.clip(y, 0.0, cap), cap)
        out["booking_limit"] = cap - prot
    return out


def emsr_b(fares: Sequence[float], means: Sequence[float], sds: Sequence[float],
           capacity: float | None = None) -> pd.DataFrame:
    """EMSR-b protection levels for ``n`` nested fare classes with normal demand.

    For each class ``j + 1`` the classes ``1..j`` above it are pooled into one artificial
    class with demand ``sum(means)``, standard deviation ``sqrt(sum(sds**2))`` and the
    demand-weighted average fare; Littlewood's rule between that pool and fare ``j + 1``
    gives the protection level ``y_j`` (Talluri & van Ryzin 2004, section 2.2.4).

    Returns one row per class (highest fare first): ``fare_class``, ``fare``, ``mean``,
    ``sd``, ``protection_level`` (seats kept for this class and all higher ones; NaN for the
    lowest class, or the capacity if given) and, with ``capacity``, ``booking_limit``
    (``capacity - y_{j-1}``: how many seats this class may sell).

    Parameters
    ----------
    fares : sequence of float
        Fares in NT$, highest first.
    means, sds : sequence of float
        Mean and standard deviation of each class's (normal) demand.
    capacity : float, optional
        Seats on sale; adds booking limits.

    Returns
    -------
    pd.DataFrame
        One row per class, as described above.
    """
    f, m, s = _fare_inputs(fares, means, sds, where="emsr_b")
    y = np.empty(f.size - 1)
    for j in range(1, f.size):
        mu = m[:j].sum()
        sigma = math.sqrt(float(np.sum(s[:j] ** 2)))
        if mu == 0:
            y[j - 1] = 0.0
            continue
        fbar = float(np.sum(f[:j] * m[:j]) / mu)
        y[j - 1] = mu + sigma * stats.norm.ppf(1.0 - f[j] / fbar)
    return _protection_table(f, m, s, np.maximum(y, 0.0), capacity)


def emsr_a(fares: Sequence[float], means: Sequence[float], sds: Sequence[float],
           capacity: float | None = None) -> pd.DataFrame:
    """EMSR-a protection levels: the sum of pairwise Littlewood levels of each higher class.

    Same table as :func:`emsr_b`. EMSR-a ignores the pooling of uncertainty across classes and
    usually protects too few seats when there are many classes.

    Parameters
    ----------
    fares : sequence of float
        Fares in NT$, highest first.
    means, sds : sequence of float
        Mean and standard deviation of each class's (normal) demand.
    capacity : float, optional
        Seats on sale; adds booking limits.

    Returns
    -------
    pd.DataFrame
        One row per class, the columns of :func:`emsr_b`.
    """
    f, m, s = _fare_inputs(fares, means, sds, where="emsr_a")
    y = np.empty(f.size - 1)
    for j in range(1, f.size):
        z = stats.norm.ppf(1.0 - f[j] / f[:j])
        y[j - 1] = np.sum(np.maximum(m[:j] + s[:j] * z, 0.0))
    return _protection_table(f, m, s, y, capacity)


def _discrete_normal(mean: float, sd: float, upper: int) -> np.ndarray:
    """Probabilities of integer demand 0..upper for a normal rounded to the nearest integer.

    Negative demand is put at 0 and demand above ``upper`` at ``upper`` (only its
    ``min(D, capacity)`` matters).
    """
    if sd == 0:
        pmf = np.zeros(upper + 1)
        pmf[min(max(int(round(mean)), 0), upper)] = 1.0
        return pmf
    edges = np.arange(upper + 1) + 0.5
    cdf = stats.norm.cdf(edges, mean, sd)
    pmf = np.diff(np.concatenate([[0.0], cdf]))
    pmf[-1] += 1.0 - cdf[-1]
    return pmf


def optimal_protection_levels(fares: Sequence[float], means: Sequence[float],
                              sds: Sequence[float], capacity: int) -> pd.DataFrame:
    """Exactly optimal nested protection levels by dynamic programming (static model).

    Classes arrive lowest fare first; demand of each class is normal, rounded to whole
    seats. With ``V_j(x)`` the optimal expected revenue from classes ``1..j`` with ``x`` seats
    left, the optimal protection level is ``y_j = max{y : V_j(y) - V_j(y - 1) > fare_{j+1}}``
    and ``V_{j+1}(x) = E[fare_{j+1} u + V_j(x - u)]`` with ``u = min(D_{j+1}, (x - y_j)^+)``
    (Talluri & van Ryzin 2004, section 2.2.2). This is the benchmark EMSR-b approximates.

    Returns the :func:`emsr_b` table with integer protection levels and booking limits, plus
    the attribute-free column ``expected_revenue`` (``V_j(capacity)``: revenue from classes
    ``1..j`` alone, so the last row is the optimal expected revenue of the flight).

    Parameters
    ----------
    fares : sequence of float
        Fares in NT$, highest first.
    means, sds : sequence of float
        Mean and standard deviation of each class's (normal) demand.
    capacity : int
        Seats on sale.

    Returns
    -------
    pd.DataFrame
        One row per class with ``protection_level``, ``booking_limit`` and ``expected_revenue``.
    """
    f, m, s = _fare_inputs(fares, means, sds, where="optimal_protection_levels")
    if isinstance(capacity, bool) or int(capacity) != capacity or capacity < 1:
        raise ValueError(
            f"optimal_protection_levels: 'capacity' must be a whole number of seats >= 1, "
            f"got {capacity!r}"
        )
    cap = int(capacity)
    xs = np.arange(cap + 1)
    # V_1(x) = fare_1 * E[min(D_1, x)]
    pmf = _discrete_normal(m[0], s[0], cap)
    sf = 1.0 - np.cumsum(pmf)  # P(D > k) for k = 0..cap
    v = f[0] * np.concatenate([[0.0], np.cumsum(sf[:-1])])  # E[min(D, x)] = sum_{k<x} P(D > k)
    y = np.zeros(f.size - 1)
    revenue = [float(v[cap])]
    for j in range(1, f.size):
        marginal = np.diff(v)  # marginal[y-1] = V_j(y) - V_j(y-1)
        above = np.nonzero(marginal > f[j])[0]
        y_j = int(above[-1] + 1) if above.size else 0
        y[j - 1] = y_j
        pmf = _discrete_normal(m[j], s[j], cap)
        d = np.arange(cap + 1)
        u = np.minimum(d[None, :], np.maximum(xs[:, None] - y_j, 0))  # [x, d]
        v = np.sum(pmf[None, :] * (f[j] * u + v[xs[:, None] - u]), axis=1)
        revenue.append(float(v[cap]))
    out = _protection_table(f, m, s, y, cap)
    out["expected_revenue"] = revenue
    return out


def _booking_levels(protection_levels: Sequence[float], n_classes: int) -> np.ndarray:
    """The ``n_classes - 1`` protection levels, checked: >= 0 and non-decreasing."""
    y = _floats(protection_levels, "protection_levels", where="simulate_nested_booking")
    if y.size not in (n_classes - 1, n_classes):
        raise ValueError(
            f"simulate_nested_booking: need {n_classes - 1} protection levels (one per class "
            f"except the lowest), got {y.size}"
        )
    y = y[: n_classes - 1]
    if np.any(np.diff(y) < 0) or np.any(y < 0):
        raise ValueError("simulate_nested_booking: protection levels must be >= 0 and "
                         "non-decreasing (y_1 <= y_2 <= ...)")
    return y


def simulate_nested_booking(fares: Sequence[float], means: Sequence[float],
                            sds: Sequence[float], protection_levels: Sequence[float],
                            capacity: int, n_sims: int = 20_000,
                            seed: Seed = 0, return_samples: bool = False) -> dict[str, Any]:
    """Monte Carlo revenue of nested protection levels (lowest class books first).

    Demand of each class is drawn normal, rounded, floored at 0. Class ``j`` may book while
    more than ``y_{j-1}`` seats are left (``y_0 = 0``). Returns ``mean_revenue``,
    ``se_revenue`` (standard error), ``mean_load_factor`` and ``n_sims``. Pass the same seed
    to compare two policies on the same demand draws (common random numbers); with
    ``return_samples=True`` the dict also holds ``revenue_samples`` (one revenue per draw)
    and ``load_factor_samples``, so the difference of two policies gets its own paired
    standard error.

    Parameters
    ----------
    fares : sequence of float
        Fares in NT$, highest first.
    means, sds : sequence of float
        Mean and standard deviation of each class's (normal) demand.
    protection_levels : sequence of float
        ``y_1 .. y_{n-1}`` (seats kept for classes ``1..j``), e.g. from :func:`emsr_b`.
    capacity : int
        Seats on sale.
    n_sims : int, default 20_000
        Simulated booking horizons.
    seed : int or numpy.random.Generator, default 0
        Random seed.
    return_samples : bool, default False
        Also return the per-draw revenues and load factors.

    Returns
    -------
    dict
        ``mean_revenue``, ``se_revenue``, ``mean_load_factor``, ``n_sims`` (and the samples).
    """
    f, m, s = _fare_inputs(fares, means, sds, where="simulate_nested_booking")
    y = _booking_levels(protection_levels, f.size)
    cap = _scalar(capacity, "capacity", where="simulate_nested_booking", minimum=0)
    rng = _rng(seed)
    demand = np.maximum(np.rint(rng.normal(m, s, size=(int(n_sims), f.size))), 0.0)
    left = np.full(int(n_sims), float(cap))
    revenue = np.zeros(int(n_sims))
    prot = np.concatenate([[0.0], y])
    for j in range(f.size - 1, -1, -1):
        sold = np.minimum(demand[:, j], np.maximum(left - np.floor(prot[j]), 0.0))
        revenue += f[j] * sold
        left -= sold
    out: dict[str, Any] = {
        "mean_revenue": float(revenue.mean()),
        "se_revenue": float(revenue.std(ddof=1) / math.sqrt(n_sims)),
        "mean_load_factor": float(1.0 - left.mean() / cap),
        "n_sims": int(n_sims),
    }
    if return_samples:
        out["revenue_samples"] = revenue
        out["load_factor_samples"] = 1.0 - left / cap
    return out
