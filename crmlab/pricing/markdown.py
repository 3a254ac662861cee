"""Markdown (clearance) pricing (降價出清): a finite-horizon dynamic program.

:func:`optimize_markdown` clears seasonal stock with a price ladder that may only go down,
given the expected Poisson sales rate at each price in each period.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from crmlab.pricing._validation import Seed, _check_prices, _rng, _scalar


@dataclass
class MarkdownPlan:
    """The solved markdown dynamic program (see :func:`optimize_markdown`).

    ``value[t, x, k]`` is the expected revenue from period ``t`` on with ``x`` units left when
    the current (last used) price index is ``k``; ``policy[t, x, k]`` the price index to use in
    period ``t``. Prices are sorted from high to low, so a markdown moves to a larger index.

    Parameters
    ----------
    prices : np.ndarray
        The price ladder, high to low.
    rates : np.ndarray
        Expected Poisson demand, shape (periods, len(prices)).
    stock : int
        Units at the start of the season.
    salvage : float
        Value of each unit left after the last period.
    monotone : bool
        Whether prices may only stay or go down.
    value : np.ndarray
        Expected revenue, shape (periods + 1, stock + 1, len(prices)).
    policy : np.ndarray
        Price index to use, shape (periods, stock + 1, len(prices)).
    """

    prices: np.ndarray
    rates: np.ndarray
    stock: int
    salvage: float
    monotone: bool
    value: np.ndarray
    policy: np.ndarray

    @property
    def expected_revenue(self) -> float:
        """Expected revenue from the start, with full stock, before any price was set."""
        return float(self.value[0, self.stock, 0])

    def revenue_samples(self, n_sims: int = 1000, seed: Seed = None) -> np.ndarray:
        """Revenue (including salvage of leftovers) of ``n_sims`` seasons under the policy.

        Parameters
        ----------
        n_sims : int, default 1000
            Seasons to simulate.
        seed : int or numpy.random.Generator, optional
            Random seed.

        Returns
        -------
        np.ndarray
            One revenue in NT$ per season.
        """
        rng = _rng(seed)
        n_sims = int(n_sims)
        x = np.full(n_sims, self.stock)
        k = np.zeros(n_sims, dtype=int)
        revenue = np.zeros(n_sims)
        for t in range(self.rates.shape[0]):
            k = np.where(x > 0, self.policy[t, x, k], k)
            sold = np.minimum(rng.poisson(self.rates[t, k]), x)
            revenue += sold * self.prices[k]
            x = x - sold
        return revenue + self.salvage * x

    def simulate(self, seed: Seed = None) -> pd.DataFrame:
        """One season under the optimal policy: period, price, stock_start, demand, sold, revenue.

        Parameters
        ----------
        seed : int or numpy.random.Generator, optional
            Random seed.

        Returns
        -------
        pd.DataFrame
            One row per period.
        """
        rng = _rng(seed)
        x, k = self.stock, 0
        rows = []
        for t in range(self.rates.shape[0]):
            k = int(self.policy[t, x, k]) if x > 0 else k
            d = int(rng.poisson(self.rates[t, k]))
            sold = min(d, x)
            rows.append((t, float(self.prices[k]), x, d, sold, sold * float(self.prices[k])))
            x -= sold
        out = pd.DataFrame(rows, columns=["period", "price", "stock_start", "demand", "sold",
                                          "revenue"])
        return out


def _poisson_sales_matrix(rate: float, stock: int) -> np.ndarray:
    """``P[x, s]`` = probability of selling ``s`` units with ``x`` in stock (Poisson demand)."""
    s = np.arange(stock + 1)
    pmf = stats.poisson.pmf(s, rate)
    sf = stats.poisson.sf(s - 1, rate)  # P(D >= s)
    out = np.zeros((stock + 1, stock + 1))
    for x in range(stock + 1):
        out[x, :x] = pmf[:x]
        out[x, x] = sf[x]
    return out


def _markdown_inputs(prices: Sequence[float], rates: object, stock: int,
                     salvage: float) -> tuple[np.ndarray, np.ndarray, int, float]:
    """The price ladder, demand rates, stock and salvage value, checked (or a ValueError)."""
    p = _check_prices(np.asarray(prices, dtype=float), where="optimize_markdown: prices")
    if p.ndim != 1:
        raise ValueError("optimize_markdown: 'prices' must be a flat list of prices")
    if np.any(np.diff(p) >= 0):
        raise ValueError(
            f"optimize_markdown: 'prices' must be strictly descending (list price first, then "
            f"deeper markdowns), got {p.tolist()}; sort them high to low"
        )
    r = np.asarray(rates, dtype=float)
    if r.ndim == 1:
        r = r[None, :]
    if r.ndim != 2 or r.shape[1] != p.size:
        raise ValueError(
            f"optimize_markdown: 'rates' must have shape (periods, {p.size}) -- one expected "
            f"demand per period and price -- got shape {r.shape}"
        )
    if not np.all(np.isfinite(r)) or np.any(r < 0):
        raise ValueError("optimize_markdown: 'rates' must be finite and >= 0 (expected units)")
    if isinstance(stock, bool) or int(stock) != stock or stock < 0:
        raise ValueError(f"optimize_markdown: 'stock' must be a whole number >= 0, got {stock!r}")
    stock = int(stock)
    salvage = _scalar(salvage, "salvage", where="optimize_markdown", minimum=0, strict=False)
    return p, r, stock, salvage


def optimize_markdown(prices: Sequence[float], rates: object, stock: int,
                      salvage: float = 0.0, monotone: bool = True) -> MarkdownPlan:
    """Optimal clearance pricing of ``stock`` units over a season, by dynamic programming.

    ``prices`` is the price ladder, high to low (e.g. list price, -10%, -20%, -40%);
    ``rates[t, k]`` the expected (Poisson) demand in period ``t`` at ``prices[k]`` -- shape
    (periods, len(prices)), usually falling as the season ends. Units left after the last
    period are worth ``salvage`` each (outlet value). With ``monotone=True`` the price may
    only stay or go down (a markdown is never taken back), which is how fashion retail works.

    Returns a :class:`MarkdownPlan` with the value function and the policy.

    Parameters
    ----------
    prices : sequence of float
        The price ladder in NT$, from high to low.
    rates : array-like
        Expected demand per period at each price, shape (periods, len(prices)).
    stock : int
        Units to clear (>= 1).
    salvage : float, default 0.0
        Value in NT$ of each unit left after the last period.
    monotone : bool, default True
        Allow only markdowns (a price is never raised again).

    Returns
    -------
    MarkdownPlan
        The value function and the optimal policy.
    """
    p, r, stock, salvage = _markdown_inputs(prices, rates, stock, salvage)

    n_t, n_k = r.shape
    xs = np.arange(stock + 1)
    value = np.zeros((n_t + 1, stock + 1, n_k))
    value[n_t] = (salvage * xs)[:, None]
    policy = np.zeros((n_t, stock + 1, n_k), dtype=int)
    for t in range(n_t - 1, -1, -1):
        # q[x, j]: expected revenue of using price j now with x units, then acting optimally.
        q = np.empty((stock + 1, n_k))
        for j in range(n_k):
            sales = _poisson_sales_matrix(r[t, j], stock)  # [x, s]
            s = xs[None, :]
            left = np.clip(xs[:, None] - s, 0, None)
            future = value[t + 1][left, j]
            q[:, j] = np.sum(sales * (p[j] * s + future), axis=1)
        for k in range(n_k):
            allowed = np.arange(k, n_k) if monotone else np.arange(n_k)
            best = allowed[np.argmax(q[:, allowed], axis=1)]
            policy[t, :, k] = best
            value[t, :, k] = q[xs, best]
    return MarkdownPlan(prices=p, rates=r, stock=stock, salvage=salvage, monotone=monotone,
                        value=value, policy=policy)
