"""Price experiments (價格實驗): Thompson sampling against explore-then-commit.

:func:`simulate_price_experiment` plays a few candidate prices against Bernoulli demand and
reports revenue and cumulative regret of each strategy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from crmlab.pricing._validation import Seed, _check_prices, _floats, _rng


def simulate_price_experiment(prices: Sequence[float], demand: Sequence[float], horizon: int,
                              policy: str = "thompson", model: str = "bernoulli",
                              explore_per_price: int | None = None,
                              seed: Seed = 0) -> pd.DataFrame:
    """Learn the best price while selling: one price is shown in each round.

    ``model="bernoulli"``: each round one visitor buys with probability ``demand[k]`` at
    ``prices[k]`` (Beta(1, 1) prior on each). ``model="poisson"``: each round (e.g. an hour)
    sells Poisson(``demand[k]``) units (Gamma(1, 1) prior on each rate). The round's revenue
    is price times units.

    ``policy="thompson"``: draw a demand for each price from its posterior and show the price
    with the highest sampled revenue. ``policy="explore_then_commit"``: show each price
    ``explore_per_price`` times in turn (default ``ceil(horizon**(2/3) / n_prices)``), then
    keep the price with the best average revenue.

    Returns one row per round: ``round``, ``price_index``, ``price``, ``units``, ``revenue``,
    ``expected_revenue`` (of the shown price), ``regret`` (best expected revenue minus that)
    and ``cum_regret``. Regret is the planted truth the shop pays for learning.

    Parameters
    ----------
    prices : sequence of float
        Candidate prices in NT$.
    demand : sequence of float
        True purchase probability (``bernoulli``) or units per round (``poisson``) at each price.
    horizon : int
        Number of rounds.
    policy : {"thompson", "explore_then_commit"}, default "thompson"
        How the next price is chosen.
    model : {"bernoulli", "poisson"}, default "bernoulli"
        How demand is drawn each round.
    explore_per_price : int, optional
        Rounds per price before committing (explore-then-commit only).
    seed : int or numpy.random.Generator, default 0
        Random seed.

    Returns
    -------
    pd.DataFrame
        One row per round, the columns above.
    """
    p, d, horizon, explore = _experiment_inputs(prices, demand, horizon, policy, model,
                                                explore_per_price)
    arms, units = _play_rounds(p, d, horizon, policy, model, explore, _rng(seed))
    expected = p * d
    best = expected.max()
    out = pd.DataFrame({
        "round": np.arange(1, horizon + 1),
        "price_index": arms,
        "price": p[arms],
        "units": units,
        "revenue": p[arms] * units,
        "expected_revenue": expected[arms],
    })
    out["regret"] = best - out["expected_revenue"]
    out["cum_regret"] = out["regret"].cumsum()
    return out


def _experiment_inputs(prices: Sequence[float], demand: Sequence[float], horizon: int,
                       policy: str, model: str,
                       explore_per_price: int | None) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Checked prices, demands, horizon and rounds of exploration per price (or a ValueError)."""
    where = "simulate_price_experiment"
    p = _check_prices(_floats(prices, "prices", where=where), where=f"{where}: prices")
    d = _floats(demand, "demand", where=where)
    if d.size != p.size:
        raise ValueError(f"{where}: need one demand per price, got {d.size} for {p.size} prices")
    if model not in ("bernoulli", "poisson"):
        raise ValueError(f"{where}: 'model' must be 'bernoulli' or 'poisson', got {model!r}")
    if policy not in ("thompson", "explore_then_commit"):
        raise ValueError(f"{where}: 'policy' must be 'thompson' or 'explore_then_commit', "
                         f"got {policy!r}")
    if model == "bernoulli" and np.any((d < 0) | (d > 1)):
        raise ValueError(f"{where}: with model='bernoulli' 'demand' holds purchase "
                         "probabilities and must be in [0, 1]")
    if np.any(d < 0):
        raise ValueError(f"{where}: 'demand' (expected units per round) must be >= 0")
    if isinstance(horizon, bool) or int(horizon) != horizon or horizon < 1:
        raise ValueError(f"{where}: 'horizon' must be a whole number of rounds >= 1")
    horizon = int(horizon)
    if explore_per_price is None:
        explore_per_price = max(1, math.ceil(horizon ** (2 / 3) / p.size))
    elif int(explore_per_price) < 1:
        raise ValueError(f"{where}: 'explore_per_price' must be >= 1")
    return p, d, horizon, int(explore_per_price)


def _play_rounds(p: np.ndarray, d: np.ndarray, horizon: int, policy: str, model: str,
                 explore_per_price: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The price shown and the units sold in each round, learning from the rounds before."""
    k = p.size
    # Posterior sufficient statistics: units sold and times shown per price.
    units_sum = np.zeros(k)
    shown = np.zeros(k)
    arms = np.empty(horizon, dtype=int)
    units = np.empty(horizon)
    committed = -1
    for t in range(horizon):
        if policy == "thompson":
            if model == "bernoulli":
                theta = rng.beta(1.0 + units_sum, 1.0 + shown - units_sum)
            else:
                theta = rng.gamma(1.0 + units_sum, 1.0 / (1.0 + shown))
            arm = int(np.argmax(p * theta))
        elif t < explore_per_price * k:
            arm = t % k
        else:
            if committed < 0:
                committed = int(np.argmax(p * units_sum / np.maximum(shown, 1)))
            arm = committed
        if model == "bernoulli":
            y = float(rng.random() < d[arm])
        else:
            y = float(rng.poisson(d[arm]))
        units_sum[arm] += y
        shown[arm] += 1
        arms[t] = arm
        units[t] = y
    return arms, units
