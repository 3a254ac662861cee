"""Dynamic pricing (動態定價): demand, elasticity, optimal prices and revenue management.

Course unit 3 (personalization) asks how a shop should price "by purchase history and
current demand" and whether prices may float freely. This module holds the computation
behind notebook ``07_dynamic_pricing``:

* **Demand models** -- linear, constant elasticity and exponential -- with their
  profit-maximizing prices in closed form (:class:`LinearDemand`,
  :class:`ConstantElasticityDemand`, :class:`ExponentialDemand`), and the best single price
  when stock is limited (:func:`capacity_constrained_price`).
* **Markdowns** -- a finite-horizon dynamic program that clears seasonal stock with a price
  ladder that may only go down (:func:`optimize_markdown`).
* **Revenue management for perishable capacity** (seats, rooms, tickets): Littlewood's
  two-fare rule (:func:`littlewood`), EMSR-a/EMSR-b protection levels for many fare classes
  (:func:`emsr_b`), the exact optimal protection levels by dynamic programming
  (:func:`optimal_protection_levels`) and a Monte Carlo check of any set of protection
  levels (:func:`simulate_nested_booking`).
* **Gallego--van Ryzin** optimal price for ``n`` units with ``t`` time left under exponential
  demand ``lambda(p) = a * exp(-alpha * p)``: the deterministic bound, the closed-form
  stochastic value function, and a discrete-time dynamic program that also allows demand to
  change over time (:func:`gvr_dynamic_program`, :func:`simulate_gvr`).
* **Surge pricing**: the market-clearing multiplier with a cap (:func:`surge_multiplier`).
* **Price experiments**: Thompson sampling against explore-then-commit, with cumulative
  regret (:func:`simulate_price_experiment`).
* **Elasticity estimation** from the shop's ``price_history``: log-log OLS and Poisson
  regression with product and time fixed effects (:class:`ElasticityModel`), and a small
  market where price responds to demand to show endogeneity and the instrumental-variable
  fix (:func:`simulate_endogenous_market`, :func:`iv_elasticity`).
* **Fairness**: personalized prices with caps and a report of what each customer group pays
  (:func:`personalized_prices`, :func:`price_policy_report`).

Conventions: prices and money in NT$; every random function takes ``seed`` (an int or a
``numpy.random.Generator``); bad input raises ``ValueError`` naming the argument or
table/column and the fix.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from crmlab._checks import reads

__all__ = [
    "ConstantElasticityDemand",
    "DemandModel",
    "ElasticityModel",
    "ExponentialDemand",
    "GvRProgram",
    "LinearDemand",
    "MarkdownPlan",
    "capacity_constrained_price",
    "emsr_a",
    "emsr_b",
    "gvr_deterministic_price",
    "gvr_deterministic_revenue",
    "gvr_dynamic_program",
    "gvr_price",
    "gvr_revenue_samples",
    "gvr_value",
    "iv_elasticity",
    "littlewood",
    "optimal_price",
    "optimal_protection_levels",
    "optimize_markdown",
    "personalized_prices",
    "price_policy_report",
    "pricing_panel",
    "simulate_endogenous_market",
    "simulate_gvr",
    "simulate_nested_booking",
    "simulate_price_experiment",
    "surge_multiplier",
    "surge_pricing",
    "uniform_optimal_price",
]

Seed = int | np.random.Generator | None


# ---------------------------------------------------------------------------------------
# validation helpers
# ---------------------------------------------------------------------------------------


def _rng(seed: Seed) -> np.random.Generator:
    """A Generator from an int seed (or pass a Generator through)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def _floats(values: object, name: str, *, where: str = "input") -> np.ndarray:
    """``values`` as a 1-d float array, or a ValueError naming ``name``."""
    try:
        arr = np.atleast_1d(np.asarray(values, dtype=float))
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where}: '{name}' must be numbers, got {values!r}") from err
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{where}: '{name}' must be a non-empty list of numbers, got {values!r}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{where}: '{name}' contains NaN or infinity; remove or fill those values")
    return arr


def _check_positive(arr: np.ndarray, name: str, *, where: str = "input", fix: str = "") -> None:
    if np.any(arr <= 0):
        bad = arr[arr <= 0][:3].tolist()
        hint = fix or f"pass {name} > 0"
        raise ValueError(f"{where}: '{name}' must be positive, got {bad}; {hint}")


def _check_prices(price: object, *, where: str = "price") -> np.ndarray:
    """Prices as a float array; non-positive, NaN or infinite prices raise ValueError."""
    arr = np.asarray(price, dtype=float)
    if arr.size == 0:
        raise ValueError(f"{where}: no prices given; pass at least one price > 0")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{where}: prices contain NaN or infinity; pass finite prices > 0")
    if np.any(arr <= 0):
        bad = arr[arr <= 0].ravel()[:3].tolist()
        raise ValueError(
            f"{where}: prices must be positive (a price of 0 or less is not a price), got {bad}; "
            "pass prices > 0 in NT$"
        )
    return arr


def _scalar(value: float, name: str, *, where: str, minimum: float | None = None,
            strict: bool = True) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where}: '{name}' must be a number, got {value!r}") from err
    if not math.isfinite(out):
        raise ValueError(f"{where}: '{name}' must be finite, got {value!r}")
    if minimum is not None and (out <= minimum if strict else out < minimum):
        sign = ">" if strict else ">="
        raise ValueError(f"{where}: '{name}' must be {sign} {minimum}, got {value!r}")
    return out


# ---------------------------------------------------------------------------------------
# demand models and closed-form optimal prices
# ---------------------------------------------------------------------------------------


class DemandModel:
    """Deterministic demand ``q(p)``: expected units sold per period at price ``p``.

    Subclasses give ``quantity``, ``price_for_quantity``, ``elasticity`` and the closed-form
    ``optimal_price``; revenue, profit and a tidy demand curve come from here.
    """

    def quantity(self, price: object) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def price_for_quantity(self, quantity: object) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def point_elasticity(self, price: object) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def optimal_price(self, unit_cost: float = 0.0) -> float:  # pragma: no cover
        raise NotImplementedError

    def revenue(self, price: object) -> np.ndarray:
        """Price times quantity."""
        p = _check_prices(price, where=f"{type(self).__name__}.revenue")
        return p * self.quantity(p)

    def profit(self, price: object, unit_cost: float = 0.0) -> np.ndarray:
        """(price - unit cost) times quantity."""
        c = _scalar(unit_cost, "unit_cost", where=f"{type(self).__name__}.profit", minimum=0,
                    strict=False)
        p = _check_prices(price, where=f"{type(self).__name__}.profit")
        return (p - c) * self.quantity(p)

    def curve(self, prices: object, unit_cost: float = 0.0) -> pd.DataFrame:
        """Tidy demand curve: price, quantity, revenue, profit, elasticity (one row per price)."""
        p = _check_prices(np.ravel(np.asarray(prices, dtype=float)),
                          where=f"{type(self).__name__}.curve")
        return pd.DataFrame({
            "price": p,
            "quantity": self.quantity(p),
            "revenue": self.revenue(p),
            "profit": self.profit(p, unit_cost),
            "elasticity": self.point_elasticity(p),
        })


@dataclass(frozen=True)
class LinearDemand(DemandModel):
    """``q(p) = max(intercept - slope * p, 0)``.

    ``intercept`` is demand at a zero price, ``slope`` the units lost per NT$1. The
    *choke price* ``intercept / slope`` sells nothing.
    """

    intercept: float
    slope: float

    def __post_init__(self) -> None:
        _scalar(self.intercept, "intercept", where="LinearDemand", minimum=0)
        _scalar(self.slope, "slope", where="LinearDemand", minimum=0)

    @property
    def choke_price(self) -> float:
        """The price at which demand reaches zero."""
        return self.intercept / self.slope

    def quantity(self, price: object) -> np.ndarray:
        p = _check_prices(price, where="LinearDemand.quantity")
        return np.maximum(self.intercept - self.slope * p, 0.0)

    def price_for_quantity(self, quantity: object) -> np.ndarray:
        q = np.asarray(quantity, dtype=float)
        if np.any((q < 0) | (q > self.intercept)):
            raise ValueError(
                f"LinearDemand.price_for_quantity: quantity must be in [0, {self.intercept}] "
                "(0 up to demand at a zero price)"
            )
        return (self.intercept - q) / self.slope

    def point_elasticity(self, price: object) -> np.ndarray:
        """Point elasticity ``-b p / (a - b p)``; minus infinity at or above the choke price."""
        p = _check_prices(price, where="LinearDemand.elasticity")
        q = self.intercept - self.slope * p
        with np.errstate(divide="ignore"):
            return np.where(q > 0, -self.slope * p / np.where(q > 0, q, 1.0), -np.inf)

    def optimal_price(self, unit_cost: float = 0.0) -> float:
        """Profit-maximizing price ``(a/b + c) / 2``: halfway between cost and choke price."""
        c = _scalar(unit_cost, "unit_cost", where="LinearDemand.optimal_price", minimum=0,
                    strict=False)
        if c >= self.choke_price:
            raise ValueError(
                f"LinearDemand.optimal_price: unit_cost {c:g} is at or above the choke price "
                f"{self.choke_price:g} (intercept/slope), so no price sells at a profit; "
                "lower the unit cost or raise the demand intercept"
            )
        return 0.5 * (self.choke_price + c)


@dataclass(frozen=True)
class ConstantElasticityDemand(DemandModel):
    """``q(p) = scale * p ** elasticity`` (a straight line on log-log axes).

    The elasticity is the same at every price. For ``elasticity < -1`` the profit-maximizing
    price is the markup rule ``c * e / (1 + e)`` (Lerner: ``(p - c) / p = -1 / e``).
    """

    scale: float
    elasticity: float

    def __post_init__(self) -> None:
        _scalar(self.scale, "scale", where="ConstantElasticityDemand", minimum=0)
        e = _scalar(self.elasticity, "elasticity", where="ConstantElasticityDemand")
        if e >= 0:
            raise ValueError(
                f"ConstantElasticityDemand: elasticity must be negative (demand falls as price "
                f"rises), got {e:g}; pass e.g. elasticity=-2"
            )

    def quantity(self, price: object) -> np.ndarray:
        p = _check_prices(price, where="ConstantElasticityDemand.quantity")
        return self.scale * p ** self.elasticity

    def price_for_quantity(self, quantity: object) -> np.ndarray:
        q = np.asarray(quantity, dtype=float)
        if np.any(q <= 0):
            raise ValueError("ConstantElasticityDemand.price_for_quantity: quantity must be > 0")
        return (q / self.scale) ** (1.0 / self.elasticity)

    def point_elasticity(self, price: object) -> np.ndarray:
        p = _check_prices(price, where="ConstantElasticityDemand.elasticity")
        return np.full_like(p, self.elasticity, dtype=float)

    def optimal_price(self, unit_cost: float = 0.0) -> float:
        """Profit-maximizing price ``c * e / (1 + e)``; needs ``e < -1`` and ``c > 0``."""
        e = self.elasticity
        if e >= -1:
            raise ValueError(
                f"ConstantElasticityDemand.optimal_price: elasticity {e:g} is >= -1 (inelastic "
                "demand). Then revenue p * q = scale * p ** (1 + e) never falls as the price "
                "rises, and the unit margin keeps growing, so profit rises forever with price: "
                "no finite optimal price exists. Real demand becomes elastic at high prices; "
                "use an elasticity < -1 or a linear/exponential model with a choke price"
            )
        c = _scalar(unit_cost, "unit_cost", where="ConstantElasticityDemand.optimal_price",
                    minimum=0, strict=False)
        if c == 0:
            raise ValueError(
                "ConstantElasticityDemand.optimal_price: with unit_cost 0 and elasticity "
                f"{e:g} < -1, revenue scale * p ** (1 + e) falls as the price rises, so the "
                "'best' price is arbitrarily close to 0; pass the product's unit_cost > 0"
            )
        return c * e / (1.0 + e)


@dataclass(frozen=True)
class ExponentialDemand(DemandModel):
    """``q(p) = scale * exp(-alpha * p)``: elasticity ``-alpha * p`` grows with the price.

    This is the demand of the Gallego--van Ryzin model. The profit-maximizing price is
    ``c + 1/alpha``.
    """

    scale: float
    alpha: float

    def __post_init__(self) -> None:
        _scalar(self.scale, "scale", where="ExponentialDemand", minimum=0)
        _scalar(self.alpha, "alpha", where="ExponentialDemand", minimum=0)

    def quantity(self, price: object) -> np.ndarray:
        p = _check_prices(price, where="ExponentialDemand.quantity")
        return self.scale * np.exp(-self.alpha * p)

    def price_for_quantity(self, quantity: object) -> np.ndarray:
        q = np.asarray(quantity, dtype=float)
        if np.any((q <= 0) | (q > self.scale)):
            raise ValueError(
                f"ExponentialDemand.price_for_quantity: quantity must be in (0, {self.scale}] "
                "(demand at a zero price is 'scale')"
            )
        return np.log(self.scale / q) / self.alpha

    def point_elasticity(self, price: object) -> np.ndarray:
        p = _check_prices(price, where="ExponentialDemand.elasticity")
        return -self.alpha * p

    def optimal_price(self, unit_cost: float = 0.0) -> float:
        """Profit-maximizing price ``c + 1 / alpha`` (where the elasticity is ``-p/(p-c)``)."""
        c = _scalar(unit_cost, "unit_cost", where="ExponentialDemand.optimal_price", minimum=0,
                    strict=False)
        return c + 1.0 / self.alpha


def optimal_price(demand: DemandModel, unit_cost: float = 0.0) -> float:
    """Profit-maximizing price of a demand model (closed form, see each model)."""
    if not isinstance(demand, DemandModel):
        raise ValueError(
            f"optimal_price: 'demand' must be a LinearDemand, ConstantElasticityDemand or "
            f"ExponentialDemand, got {type(demand).__name__}"
        )
    return demand.optimal_price(unit_cost)


def capacity_constrained_price(demand: DemandModel, capacity: float,
                               unit_cost: float = 0.0) -> float:
    """The profit-maximizing single price when at most ``capacity`` units can be sold.

    If the unconstrained optimum already sells no more than ``capacity`` it is kept;
    otherwise the best price is the one that sells exactly the capacity (profit is concave
    in quantity for all three models, so the constraint binds at the clearing price). With
    little stock and high demand the price goes up -- the e-commerce "low stock" rule.
    """
    cap = _scalar(capacity, "capacity", where="capacity_constrained_price", minimum=0)
    p_free = optimal_price(demand, unit_cost)
    if float(demand.quantity(p_free)) <= cap:
        return p_free
    return float(demand.price_for_quantity(cap))


# ---------------------------------------------------------------------------------------
# markdown (clearance) pricing
# ---------------------------------------------------------------------------------------


@dataclass
class MarkdownPlan:
    """The solved markdown dynamic program (see :func:`optimize_markdown`).

    ``value[t, x, k]`` is the expected revenue from period ``t`` on with ``x`` units left when
    the current (last used) price index is ``k``; ``policy[t, x, k]`` the price index to use in
    period ``t``. Prices are sorted from high to low, so a markdown moves to a larger index.
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
        """Revenue (including salvage of leftovers) of ``n_sims`` seasons under the policy."""
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
        """One season under the optimal policy: period, price, stock_start, demand, sold, revenue."""
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


def optimize_markdown(prices: Sequence[float], rates: object, stock: int,
                      salvage: float = 0.0, monotone: bool = True) -> MarkdownPlan:
    """Optimal clearance pricing of ``stock`` units over a season, by dynamic programming.

    ``prices`` is the price ladder, high to low (e.g. list price, -10%, -20%, -40%);
    ``rates[t, k]`` the expected (Poisson) demand in period ``t`` at ``prices[k]`` -- shape
    (periods, len(prices)), usually falling as the season ends. Units left after the last
    period are worth ``salvage`` each (outlet value). With ``monotone=True`` the price may
    only stay or go down (a markdown is never taken back), which is how fashion retail works.

    Returns a :class:`MarkdownPlan` with the value function and the policy.
    """
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


# ---------------------------------------------------------------------------------------
# revenue management for perishable capacity: Littlewood, EMSR, exact protection levels
# ---------------------------------------------------------------------------------------


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
    """
    f, m, s = _fare_inputs(fares, means, sds, where="simulate_nested_booking")
    y = _floats(protection_levels, "protection_levels", where="simulate_nested_booking")
    if y.size not in (f.size - 1, f.size):
        raise ValueError(
            f"simulate_nested_booking: need {f.size - 1} protection levels (one per class "
            f"except the lowest), got {y.size}"
        )
    y = y[: f.size - 1]
    if np.any(np.diff(y) < 0) or np.any(y < 0):
        raise ValueError("simulate_nested_booking: protection levels must be >= 0 and "
                         "non-decreasing (y_1 <= y_2 <= ...)")
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


# ---------------------------------------------------------------------------------------
# Gallego--van Ryzin: n units, t time left, exponential demand lambda(p) = a exp(-alpha p)
# ---------------------------------------------------------------------------------------


def _gvr_inputs(inventory: object, time_left: object, scale: float | None, alpha: float | None,
                where: str, lambda_t: object = None) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Validated (n, t, a, alpha). With ``lambda_t`` (lambda* t, the literature's load) the
    clock is set so that ``a t / e = lambda_t``: ``a = e`` and ``t = lambda_t``."""
    if alpha is None:
        raise ValueError(f"{where}: 'alpha' (the price sensitivity of lambda(p) = a exp(-alpha p)) "
                         "is needed.")
    if lambda_t is not None:
        if scale is not None or time_left is not None:
            raise ValueError(
                f"{where}: pass either time_left and scale, or lambda_t (= scale * time_left / e, "
                "the expected demand over the time left at the price 1/alpha), not both."
            )
        lt = np.asarray(lambda_t, dtype=float)
        if np.any(lt < 0) or not np.all(np.isfinite(lt)):
            raise ValueError(f"{where}: 'lambda_t' must be finite and >= 0, got {lambda_t!r}")
        time_left, scale = lt, math.e
    if scale is None or time_left is None:
        raise ValueError(
            f"{where}: pass time_left and scale (demand rate a at price 0 in lambda(p) = a exp(-alpha p)), "
            "or lambda_t=lambda* t as Gallego & van Ryzin (1994) state their results."
        )
    a = _scalar(scale, "scale", where=where, minimum=0)
    al = _scalar(alpha, "alpha", where=where, minimum=0)
    n = np.asarray(inventory, dtype=float)
    t = np.asarray(time_left, dtype=float)
    if np.any(n < 0) or np.any(n != np.floor(n)):
        raise ValueError(f"{where}: 'inventory' must be whole numbers >= 0, got {inventory!r}")
    if np.any(t < 0) or not np.all(np.isfinite(t)):
        raise ValueError(f"{where}: 'time_left' must be finite and >= 0, got {time_left!r}")
    return n, t, a, al


def gvr_deterministic_price(inventory: object, time_left: object = None, scale: float | None = None,
                            alpha: float | None = None, *, lambda_t: object = None) -> np.ndarray:
    """Fixed price of the deterministic (fluid) Gallego--van Ryzin problem.

    Sell at the revenue-maximizing ``1/alpha`` if that would not sell out (``n >= a t / e``);
    otherwise at the run-out price ``ln(a t / n) / alpha`` that sells exactly ``n`` in ``t``.
    Infinite when nothing is left to sell.

    The demand may be given as ``time_left`` and ``scale`` (``a``), or as ``lambda_t``
    (keyword only): ``lambda* t = a t / e``, the expected number of buyers over the time left
    at the revenue-maximizing price ``1/alpha`` -- the quantity Gallego & van Ryzin (1994)
    state their results in (``gvr_value(n, alpha=alpha, lambda_t=x)``).
    """
    n, t, a, al = _gvr_inputs(inventory, time_left, scale, alpha, "gvr_deterministic_price", lambda_t)
    with np.errstate(divide="ignore"):
        runout = np.where(n > 0, np.log(np.where(n > 0, a * t / np.where(n > 0, n, 1), 1.0)),
                          np.inf) / al
    return np.where(n > 0, np.maximum(1.0 / al, runout), np.inf)


def gvr_deterministic_revenue(inventory: object, time_left: object = None, scale: float | None = None,
                              alpha: float | None = None, *, lambda_t: object = None) -> np.ndarray:
    """Revenue of the deterministic problem, ``p_D * min(n, a t / e)``.

    Gallego & van Ryzin (1994, Theorem 1) show it is an upper bound on the expected revenue
    of any pricing policy for the stochastic problem.

    The demand may be given as ``time_left`` and ``scale`` (``a``), or as ``lambda_t``
    (keyword only): ``lambda* t = a t / e``, the expected number of buyers over the time left
    at the revenue-maximizing price ``1/alpha`` -- the quantity Gallego & van Ryzin (1994)
    state their results in (``gvr_value(n, alpha=alpha, lambda_t=x)``).
    """
    n, t, a, al = _gvr_inputs(inventory, time_left, scale, alpha, "gvr_deterministic_revenue", lambda_t)
    n, t = np.broadcast_arrays(n, t)
    active = (n > 0) & (t > 0)
    sold = np.minimum(n, a * t / math.e)
    price = gvr_deterministic_price(np.where(active, n, 1.0), np.where(active, t, 1.0), a, al)
    return np.where(active, price * sold, 0.0)


def gvr_value(inventory: object, time_left: object = None, scale: float | None = None,
              alpha: float | None = None, *, lambda_t: object = None) -> np.ndarray:
    """Optimal expected revenue ``J*(n, t)`` of the stochastic problem (continuous time).

    Closed form for exponential demand (Gallego & van Ryzin 1994, section 3):
    ``J*(n, t) = (1/alpha) * ln( sum_{i=0}^{n} (lambda* t)^i / i! )`` with
    ``lambda* = a / e`` the demand rate at the revenue-maximizing price ``1/alpha``.

    The demand may be given as ``time_left`` and ``scale`` (``a``), or as ``lambda_t``
    (keyword only): ``lambda* t = a t / e``, the expected number of buyers over the time left
    at the revenue-maximizing price ``1/alpha`` -- the quantity Gallego & van Ryzin (1994)
    state their results in (``gvr_value(n, alpha=alpha, lambda_t=x)``).
    """
    n, t, a, al = _gvr_inputs(inventory, time_left, scale, alpha, "gvr_value", lambda_t)
    lam_t = a * t / math.e

    def one(n_i: float, lt: float) -> float:
        if n_i == 0 or lt == 0:
            return 0.0
        i = np.arange(int(n_i) + 1)
        return float(special.logsumexp(i * math.log(lt) - special.gammaln(i + 1)) / al)

    return np.vectorize(one, otypes=[float])(n, lam_t)


def gvr_price(inventory: object, time_left: object = None, scale: float | None = None,
              alpha: float | None = None, *, lambda_t: object = None) -> np.ndarray:
    """Optimal price ``p*(n, t) = 1/alpha + J*(n, t) - J*(n - 1, t)`` (continuous time).

    Falls as more units are left, rises as more time is left. Infinite when ``n = 0``.

    The demand may be given as ``time_left`` and ``scale`` (``a``), or as ``lambda_t``
    (keyword only): ``lambda* t = a t / e``, the expected number of buyers over the time left
    at the revenue-maximizing price ``1/alpha`` -- the quantity Gallego & van Ryzin (1994)
    state their results in (``gvr_value(n, alpha=alpha, lambda_t=x)``).
    """
    n, t, a, al = _gvr_inputs(inventory, time_left, scale, alpha, "gvr_price", lambda_t)
    safe = np.maximum(n, 1)
    delta = gvr_value(safe, t, a, al) - gvr_value(safe - 1, t, a, al)
    return np.where(n > 0, 1.0 / al + delta, np.inf)


@dataclass
class GvRProgram:
    """Solved discrete-time pricing program (see :func:`gvr_dynamic_program`).

    ``value[k, x]``: optimal expected revenue with ``k`` steps and ``x`` units left (including
    the salvage value of what is left at the end);
    ``price[k, x]``: optimal price then (NaN when ``k = 0`` or ``x = 0``);
    ``sale_prob[k, x]``: probability of a sale in that step at that price.
    ``scale[k]`` and ``alpha[k]`` are the demand parameters of the step with ``k`` steps
    left (index 0 unused).
    """

    inventory: int
    horizon: float
    steps: int
    dt: float
    salvage: float
    scale: np.ndarray
    alpha: np.ndarray
    value: np.ndarray
    price: np.ndarray
    sale_prob: np.ndarray

    @property
    def expected_revenue(self) -> float:
        """Optimal expected revenue from the start (full inventory, full horizon)."""
        return float(self.value[self.steps, self.inventory])

    def time_left(self, k: object) -> np.ndarray:
        """Time left (in horizon units) with ``k`` steps left."""
        return np.asarray(k, dtype=float) * self.dt

    def price_table(self) -> pd.DataFrame:
        """Tidy optimal prices: steps_left, time_left, inventory, price, sale_prob."""
        k, x = np.meshgrid(np.arange(1, self.steps + 1), np.arange(1, self.inventory + 1),
                           indexing="ij")
        return pd.DataFrame({
            "steps_left": k.ravel(),
            "time_left": k.ravel() * self.dt,
            "inventory": x.ravel(),
            "price": self.price[1:, 1:].ravel(),
            "sale_prob": self.sale_prob[1:, 1:].ravel(),
        })


def _per_step(values: object, steps: int, name: str) -> np.ndarray:
    """A scalar or a per-step array (first element = first step sold) as index-by-steps-left."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 0:
        arr = np.full(steps, float(arr))
    if arr.shape != (steps,):
        raise ValueError(
            f"gvr_dynamic_program: '{name}' must be one number or one per step ({steps}), "
            f"got shape {arr.shape}"
        )
    _check_positive(arr, name, where="gvr_dynamic_program")
    # arr[0] is the first step of the season (steps left = steps); store by steps left.
    return np.concatenate([[np.nan], arr[::-1]])


def gvr_dynamic_program(inventory: int, horizon: float, scale: object, alpha: object,
                        steps: int = 500, salvage: float = 0.0) -> GvRProgram:
    """Optimal dynamic price for ``inventory`` units over ``horizon`` time, by backward induction.

    Time is cut into ``steps`` slots of length ``dt``; in each slot at most one customer buys,
    with probability ``lambda(p) dt = scale * exp(-alpha * p) * dt``. The recursion is

    ``V_k(x) = max_p { lambda(p) dt (p + V_{k-1}(x-1)) + (1 - lambda(p) dt) V_{k-1}(x) }``

    whose maximizer is ``p = 1/alpha + V_{k-1}(x) - V_{k-1}(x-1)`` (price = marginal value of a
    unit plus the markup ``1/alpha``). ``scale`` and ``alpha`` may be one value or one per step
    (listed from the start of the season), e.g. business travellers who arrive late and are
    less price sensitive. As ``steps`` grows, the value converges to :func:`gvr_value`.

    ``salvage`` is what each unit left at the end is worth (0 for a seat after departure; the
    unit cost for a product whose leftovers roll into the next restock cycle). Prices then
    never fall below ``salvage + 1/alpha``.
    """
    if isinstance(inventory, bool) or int(inventory) != inventory or inventory < 0:
        raise ValueError(f"gvr_dynamic_program: 'inventory' must be a whole number >= 0, "
                         f"got {inventory!r}")
    if isinstance(steps, bool) or int(steps) != steps or steps < 1:
        raise ValueError(f"gvr_dynamic_program: 'steps' must be a whole number >= 1, got {steps!r}")
    n, steps = int(inventory), int(steps)
    h = _scalar(horizon, "horizon", where="gvr_dynamic_program", minimum=0)
    dt = h / steps
    a = _per_step(scale, steps, "scale")
    al = _per_step(alpha, steps, "alpha")
    worst = float(np.nanmax(a[1:] * dt / math.e))
    if worst > 1:
        raise ValueError(
            f"gvr_dynamic_program: a slot is too long -- the sale probability scale*dt/e reaches "
            f"{worst:.2f} > 1; use more steps (at least {math.ceil(steps * worst)})"
        )
    sv = _scalar(salvage, "salvage", where="gvr_dynamic_program", minimum=0, strict=False)
    value = np.zeros((steps + 1, n + 1))
    value[0] = sv * np.arange(n + 1)
    price = np.full((steps + 1, n + 1), np.nan)
    prob = np.zeros((steps + 1, n + 1))
    for k in range(1, steps + 1):
        delta = value[k - 1, 1:] - value[k - 1, :-1]  # marginal value of the x-th unit
        p = 1.0 / al[k] + delta
        q = a[k] * dt * np.exp(-al[k] * p)
        price[k, 1:] = p
        prob[k, 1:] = q
        value[k, 0] = 0.0
        value[k, 1:] = value[k - 1, 1:] + q * (p - delta)
    return GvRProgram(inventory=n, horizon=h, steps=steps, dt=dt, salvage=sv, scale=a, alpha=al,
                      value=value, price=price, sale_prob=prob)


def _gvr_fixed_price(program: GvRProgram, fixed_price: float | None) -> float:
    if fixed_price is None:
        fixed_price = float(gvr_deterministic_price(program.inventory, program.horizon,
                                                    program.scale[-1], program.alpha[-1]))
    return float(_check_prices(fixed_price, where="simulate_gvr: fixed_price"))


def gvr_revenue_samples(program: GvRProgram, n_sims: int = 1000, policy: str = "dynamic",
                        fixed_price: float | None = None, seed: Seed = 0) -> np.ndarray:
    """Revenue of ``n_sims`` simulated seasons, plus the salvage value of unsold units.

    Vectorized over seasons; the policies are those of :func:`simulate_gvr`.
    """
    if policy not in ("dynamic", "fixed"):
        raise ValueError(f"gvr_revenue_samples: 'policy' must be 'dynamic' or 'fixed', "
                         f"got {policy!r}")
    rng = _rng(seed)
    n_sims = int(n_sims)
    p_fixed = _gvr_fixed_price(program, fixed_price) if policy == "fixed" else np.nan
    x = np.full(n_sims, program.inventory)
    revenue = np.zeros(n_sims)
    for k in range(program.steps, 0, -1):
        p = program.price[k, np.maximum(x, 1)] if policy == "dynamic" else np.full(n_sims, p_fixed)
        q = program.scale[k] * program.dt * np.exp(-program.alpha[k] * p)
        sold = (rng.random(n_sims) < q) & (x > 0)
        revenue += np.where(sold, p, 0.0)
        x = x - sold
    return revenue + program.salvage * x


def simulate_gvr(program: GvRProgram, policy: str = "dynamic", fixed_price: float | None = None,
                 seed: Seed = 0) -> pd.DataFrame:
    """Simulate one selling season of a solved :class:`GvRProgram`.

    ``policy="dynamic"`` uses the optimal price for each (time left, units left);
    ``policy="fixed"`` holds one price all season (default: the deterministic price
    :func:`gvr_deterministic_price` for the full inventory and horizon, valid when demand
    parameters are constant). Returns one row per step: ``step``, ``time``, ``time_left``,
    ``inventory`` (before the step), ``price`` (NaN once sold out), ``sold`` (0/1),
    ``revenue`` and ``cum_revenue``.
    """
    if policy not in ("dynamic", "fixed"):
        raise ValueError(f"simulate_gvr: 'policy' must be 'dynamic' or 'fixed', got {policy!r}")
    rng = _rng(seed)
    if policy == "fixed":
        fixed_price = _gvr_fixed_price(program, fixed_price)
    x = program.inventory
    u = rng.random(program.steps)
    rows = np.zeros((program.steps, 5))
    for i, k in enumerate(range(program.steps, 0, -1)):
        if x == 0:
            rows[i] = (i, k * program.dt, x, np.nan, 0.0)
            continue
        if policy == "dynamic":
            p = program.price[k, x]
        else:
            p = fixed_price
        q = program.scale[k] * program.dt * math.exp(-program.alpha[k] * p)
        sold = float(u[i] < q)
        rows[i] = (i, k * program.dt, x, p, sold)
        x -= int(sold)
    out = pd.DataFrame(rows, columns=["step", "time_left", "inventory", "price", "sold"])
    out["step"] = out["step"].astype("int64")
    out["inventory"] = out["inventory"].astype("int64")
    out.insert(1, "time", program.horizon - out["time_left"])
    out["revenue"] = np.where(out["sold"] > 0, out["price"], 0.0)
    out["cum_revenue"] = out["revenue"].cumsum()
    return out


# ---------------------------------------------------------------------------------------
# surge pricing
# ---------------------------------------------------------------------------------------


def _surge_args(demand_elasticity: float, supply_elasticity: float, cap: float | None,
                where: str) -> tuple[float, float, float]:
    ed = _scalar(demand_elasticity, "demand_elasticity", where=where)
    es = _scalar(supply_elasticity, "supply_elasticity", where=where)
    c = math.inf if cap is None else _scalar(cap, "cap", where=where)
    if ed >= 0:
        raise ValueError(f"{where}: 'demand_elasticity' must be < 0 (riders ask for fewer rides "
                         f"when the price rises), got {ed:g}")
    if es < 0:
        raise ValueError(f"{where}: 'supply_elasticity' must be >= 0 (drivers do not log off "
                         f"when fares rise), got {es:g}")
    if c < 1:
        raise ValueError(f"{where}: 'cap' must be >= 1 (1 = no surge allowed), got {c:g}")
    return ed, es, c


def surge_multiplier(demand: object, supply: object, demand_elasticity: float = -0.5,
                     supply_elasticity: float = 0.5, cap: float | None = 3.0) -> np.ndarray:
    """Market-clearing price multiplier, floored at 1 and capped at ``cap``.

    At multiplier ``m`` riders request ``demand * m**demand_elasticity`` rides and drivers offer
    ``supply * m**supply_elasticity``; they balance at
    ``m* = (demand / supply) ** (1 / (supply_elasticity - demand_elasticity))``. The platform
    never prices below the base fare (``m >= 1``) and a regulator or the platform's own trust
    policy caps the surge (``m <= cap``; ``cap=None`` for no cap).
    """
    ed, es, c = _surge_args(demand_elasticity, supply_elasticity, cap, "surge_multiplier")
    d = np.asarray(demand, dtype=float)
    s = np.asarray(supply, dtype=float)
    if np.any(~np.isfinite(d)) or np.any(d < 0):
        raise ValueError("surge_multiplier: 'demand' (ride requests at the base fare) must be >= 0")
    if np.any(~np.isfinite(s)) or np.any(s <= 0):
        raise ValueError("surge_multiplier: 'supply' (drivers at the base fare) must be > 0")
    with np.errstate(divide="ignore"):
        clearing = np.where(d > 0, (np.where(d > 0, d, 1.0) / s) ** (1.0 / (es - ed)), 0.0)
    return np.clip(clearing, 1.0, c)


def surge_pricing(frame: pd.DataFrame, demand_col: str = "requests", supply_col: str = "drivers",
                  demand_elasticity: float = -0.5, supply_elasticity: float = 0.5,
                  cap: float | None = 3.0) -> pd.DataFrame:
    """Surge multipliers for a table of periods/zones, and who gets served.

    Adds ``clearing_multiplier`` (uncapped, floored at 1), ``multiplier`` (capped),
    ``requests_at_price``, ``drivers_at_price``, ``rides`` (the smaller of the two),
    ``unserved`` (riders willing to pay the capped price but finding no car -- the cost of
    the cap) and ``priced_out`` (requests lost because of the surge price).
    """
    for col in (demand_col, supply_col):
        if col not in frame.columns:
            raise ValueError(
                f"surge_pricing: table has no column '{col}'; pass demand_col=/supply_col= "
                f"naming your columns (have {list(frame.columns)})"
            )
    ed, es, c = _surge_args(demand_elasticity, supply_elasticity, cap, "surge_pricing")
    d = frame[demand_col].to_numpy(dtype=float)
    s = frame[supply_col].to_numpy(dtype=float)
    out = frame.copy()
    out["clearing_multiplier"] = surge_multiplier(d, s, ed, es, cap=None)
    m = surge_multiplier(d, s, ed, es, cap=c)
    out["multiplier"] = m
    out["requests_at_price"] = d * m ** ed
    out["drivers_at_price"] = s * m ** es
    out["rides"] = np.minimum(out["requests_at_price"], out["drivers_at_price"])
    out["unserved"] = out["requests_at_price"] - out["rides"]
    out["priced_out"] = d - out["requests_at_price"]
    return out


# ---------------------------------------------------------------------------------------
# price experiments: Thompson sampling vs explore-then-commit
# ---------------------------------------------------------------------------------------


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
    """
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
    k = p.size
    if explore_per_price is None:
        explore_per_price = max(1, math.ceil(horizon ** (2 / 3) / k))
    elif int(explore_per_price) < 1:
        raise ValueError(f"{where}: 'explore_per_price' must be >= 1")
    explore_per_price = int(explore_per_price)
    rng = _rng(seed)

    expected = p * d
    best = expected.max()
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


# ---------------------------------------------------------------------------------------
# elasticity estimation: log-log OLS and Poisson regression with fixed effects
# ---------------------------------------------------------------------------------------


@reads(price_history="", products="")
def pricing_panel(price_history: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """The shop's ``price_history`` joined with each product's category, list price and cost.

    Adds ``log_price``, ``rel_price`` (price / list price), ``week`` and ``month`` (period
    start dates) so fixed effects and time controls can be named by column. One row per
    product-day, as in ``price_history``.
    """
    need_ph = ["date", "product_id", "price", "units"]
    need_pr = ["product_id", "category", "list_price", "unit_cost"]
    for table, frame, need in (("price_history", price_history, need_ph),
                               ("products", products, need_pr)):
        missing = [c for c in need if c not in frame.columns]
        if missing:
            raise ValueError(
                f"pricing_panel: table '{table}' lacks column(s) {missing}; pass the shop's "
                f"{table} table (see crmlab/data/schema.py)"
            )
    _check_prices(price_history["price"].to_numpy(dtype=float),
                  where="pricing_panel: table 'price_history', column 'price'")
    unknown = ~price_history["product_id"].isin(products["product_id"])
    if unknown.any():
        raise ValueError(
            f"pricing_panel: table 'price_history' has {int(unknown.sum())} rows whose "
            "product_id is not in 'products'; pass the products table of the same shop"
        )
    out = price_history.merge(products[need_pr], on="product_id", how="left", validate="m:1")
    out["log_price"] = np.log(out["price"].to_numpy(dtype=float))
    out["rel_price"] = out["price"] / out["list_price"]
    out["week"] = out["date"].dt.to_period("W").dt.start_time
    out["month"] = out["date"].dt.to_period("M").dt.start_time
    return out


def _codes(frame: pd.DataFrame, spec: str | tuple[str, ...]) -> np.ndarray:
    """Integer level codes of a fixed effect (one column, or the interaction of several)."""
    cols = [spec] if isinstance(spec, str) else list(spec)
    if len(cols) == 1:
        return pd.factorize(frame[cols[0]], sort=True)[0]
    return frame.groupby(cols, observed=True, sort=True).ngroup().to_numpy()


def _demean(matrix: np.ndarray, codes: list[np.ndarray], weights: np.ndarray,
            tol: float = 1e-10, max_iter: int = 10_000) -> np.ndarray:
    """Weighted within transformation: remove all fixed effects by alternating projections.

    Each sweep subtracts the weighted group means of every fixed effect in turn (the method
    of alternating projections; Gaure 2013). The result is the residual of a weighted
    regression of each column on all the fixed-effect dummies (Frisch--Waugh--Lovell).
    """
    out = np.array(np.asarray(matrix, dtype=float).T, order="C", copy=True)  # one row per column
    sums = [np.bincount(c, weights=weights) for c in codes]
    scale = 1.0 + np.abs(out).max()
    for _ in range(max_iter):
        change = 0.0
        for c, sw in zip(codes, sums, strict=True):
            for col in out:
                means = np.bincount(c, weights=weights * col, minlength=sw.size) / sw
                col -= means[c]
                change = max(change, float(np.abs(means).max()))
        if len(codes) == 1 or change < tol * scale:
            return out.T
    raise RuntimeError("fixed effects did not converge; check for disconnected groups")


class ElasticityModel:
    """Price elasticity of demand from a product-day panel, with fixed effects.

    ``method="poisson"`` (default): Poisson regression ``E[units] = exp(FE + e_g * log price)``
    fitted by iteratively reweighted least squares with the fixed effects absorbed (the
    PPML-HDFE approach; no statsmodels needed). Zero-sales days are kept, which is what makes
    it the right tool for sparse daily sales. With product and category x day fixed effects
    it is the conditional logit of which product a category's buyers choose -- exactly the
    shop's choice model, so it recovers the planted elasticity.

    ``method="ols"``: least squares of ``log(units)`` on ``log(price)``. The log of zero is
    undefined, so zero-sales rows are dropped (and counted in ``dropped_``); on sparse data this
    selection biases the slope -- the notebook shows it.

    ``by``: a column whose groups each get their own elasticity (e.g. ``"category"``), or
    ``None`` for one pooled elasticity. ``fixed_effects``: column names, or tuples of columns
    for interactions, e.g. ``("product_id", ("category", "date"))``; an empty tuple fits a
    naive pooled regression with only an intercept (the endogeneity trap: sitewide sale days
    are both low-price and high-demand days).

    Fitted attributes: ``elasticities_`` (one row per group: ``group``, ``elasticity``,
    ``std_error`` (heteroskedasticity-robust), ``ci_low``, ``ci_high``, ``n_obs``, ``units``),
    ``coef_``, ``n_obs_``, ``dropped_`` (rows removed and why), ``n_iter_``.
    """

    def __init__(self, method: str = "poisson", by: str | None = "category",
                 fixed_effects: Sequence[str | tuple[str, ...]] = ("product_id", "date"),
                 price_col: str = "price", units_col: str = "units",
                 max_iter: int = 100, tol: float = 1e-9) -> None:
        self.method = method
        self.by = by
        self.fixed_effects = fixed_effects
        self.price_col = price_col
        self.units_col = units_col
        self.max_iter = max_iter
        self.tol = tol

    # -- helpers -------------------------------------------------------------------------
    def _validate(self, frame: pd.DataFrame) -> None:
        if self.method not in ("poisson", "ols"):
            raise ValueError(f"ElasticityModel: method must be 'poisson' or 'ols', got "
                             f"{self.method!r}")
        if not isinstance(frame, pd.DataFrame):
            raise ValueError("ElasticityModel.fit: pass a DataFrame (e.g. pricing_panel(...))")
        cols = [self.price_col, self.units_col] + ([self.by] if self.by else [])
        for fe in self.fixed_effects:
            cols += [fe] if isinstance(fe, str) else list(fe)
        missing = sorted({c for c in cols if c not in frame.columns})
        if missing:
            raise ValueError(
                f"ElasticityModel.fit: table lacks column(s) {missing}; build the panel with "
                "pricing_panel(shop.price_history, shop.products) or pass existing column names"
            )
        _check_prices(frame[self.price_col].to_numpy(dtype=float),
                      where=f"ElasticityModel.fit: column '{self.price_col}'")
        units = frame[self.units_col].to_numpy(dtype=float)
        if not np.all(np.isfinite(units)) or np.any(units < 0):
            raise ValueError(f"ElasticityModel.fit: column '{self.units_col}' must hold "
                             "counts >= 0 (units sold); fix or drop the bad rows first")
        if len(frame) == 0:
            raise ValueError("ElasticityModel.fit: the table is empty")

    def _design(self, frame: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
        logp = np.log(frame[self.price_col].to_numpy(dtype=float))
        if self.by is None:
            return logp[:, None], ["all"]
        groups = frame[self.by].astype("str").to_numpy()
        levels = sorted(pd.unique(groups))
        X = np.column_stack([np.where(groups == g, logp, 0.0) for g in levels])
        return X, list(levels)

    def _fe_codes(self, frame: pd.DataFrame) -> list[np.ndarray]:
        codes = [_codes(frame, fe) for fe in self.fixed_effects]
        return codes or [np.zeros(len(frame), dtype=np.int64)]  # intercept only

    # -- fitting -------------------------------------------------------------------------
    def fit(self, frame: pd.DataFrame) -> ElasticityModel:
        """Estimate the elasticities; see the class docstring for the fitted attributes."""
        self._validate(frame)
        data = frame
        dropped: dict[str, int] = {}
        units = data[self.units_col].to_numpy(dtype=float)
        if self.method == "ols":
            keep = units > 0
            dropped["zero_units (log undefined)"] = int((~keep).sum())
            data = data.loc[keep]
        else:
            # Fixed-effect groups that never sell have an MLE at minus infinity (they carry
            # no information about the slope): drop them until none is left.
            n_before = len(data)
            for _ in range(50):
                keep = np.ones(len(data), dtype=bool)
                y = data[self.units_col].to_numpy(dtype=float)
                for code in self._fe_codes(data) if self.fixed_effects else []:
                    totals = np.bincount(code, weights=y)
                    keep &= totals[code] > 0
                if keep.all():
                    break
                data = data.loc[keep]
            dropped["fixed-effect groups with zero total units"] = n_before - len(data)
        if len(data) == 0:
            raise ValueError("ElasticityModel.fit: no rows left after dropping zero-sales "
                             "rows/groups; the data has (almost) no sales")
        X, names = self._design(data)
        y = data[self.units_col].to_numpy(dtype=float)
        codes = self._fe_codes(data)
        if self.method == "ols":
            beta, eta, vcov, n_iter = self._fit_ols(np.log(y), X, codes)
        else:
            beta, eta, vcov, n_iter = self._fit_poisson(y, X, codes)
        se = np.sqrt(np.diag(vcov))
        groups = (data[self.by].astype("str").to_numpy() if self.by is not None
                  else np.full(len(data), "all"))
        stats_rows = pd.DataFrame({"group": groups, "units": y}).groupby("group").agg(
            n_obs=("units", "size"), units=("units", "sum"))
        z = stats.norm.ppf(0.975)
        self.elasticities_ = pd.DataFrame({
            "group": names,
            "elasticity": beta,
            "std_error": se,
            "ci_low": beta - z * se,
            "ci_high": beta + z * se,
        }).merge(stats_rows, left_on="group", right_index=True, how="left")
        self.elasticities_["units"] = self.elasticities_["units"].astype(float)
        self.coef_ = beta
        self.n_obs_ = len(data)
        self.dropped_ = dropped
        self.n_iter_ = n_iter
        self.feature_names_ = names
        # Fixed-effect values (for predict): split eta - X beta into one effect per level.
        self._store_effects(data, eta - X @ beta)
        return self

    def _fit_ols(self, y: np.ndarray, X: np.ndarray,
                 codes: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        w = np.ones_like(y)
        M = _demean(np.column_stack([y, X]), codes, w)
        yt, Xt = M[:, 0], M[:, 1:]
        bread = Xt.T @ Xt
        beta = np.linalg.solve(bread, Xt.T @ yt)
        resid = yt - Xt @ beta
        eta = y - resid
        vcov = self._sandwich(bread, Xt, resid)
        return beta, eta, vcov, 1

    def _fit_poisson(self, y: np.ndarray, X: np.ndarray,
                     codes: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        mu = 0.5 * (y + y.mean())
        eta = np.log(mu)
        dev_old = np.inf
        beta = np.zeros(X.shape[1])
        Xt = X
        n_iter = 0
        for _ in range(self.max_iter):
            n_iter += 1
            z = eta + (y - mu) / mu
            M = _demean(np.column_stack([z, X]), codes, mu, tol=min(1e-8, self.tol * 10))
            zt, Xt = M[:, 0], M[:, 1:]
            bread = Xt.T @ (mu[:, None] * Xt)
            beta = np.linalg.solve(bread, Xt.T @ (mu * zt))
            eta = z - (zt - Xt @ beta)
            mu = np.exp(eta)
            with np.errstate(divide="ignore", invalid="ignore"):
                term = np.where(y > 0, y * np.log(y / mu), 0.0)
            dev = 2.0 * float(np.sum(term - (y - mu)))
            if abs(dev - dev_old) / (abs(dev) + 0.1) < self.tol:
                break
            dev_old = dev
        bread = Xt.T @ (mu[:, None] * Xt)
        vcov = self._sandwich(bread, Xt, y - mu)
        return beta, eta, vcov, n_iter

    @staticmethod
    def _sandwich(bread: np.ndarray, Xt: np.ndarray, score_resid: np.ndarray) -> np.ndarray:
        """Heteroskedasticity-robust (HC0) covariance of the slopes."""
        inv = np.linalg.inv(bread)
        meat = Xt.T @ (Xt * (score_resid ** 2)[:, None])
        return inv @ meat @ inv

    def _store_effects(self, data: pd.DataFrame, fe_part: np.ndarray) -> None:
        specs = list(self.fixed_effects) or ["_intercept"]
        codes = self._fe_codes(data)
        effects = [np.zeros(c.max() + 1) for c in codes]
        for _ in range(1000):
            change = 0.0
            for g, c in enumerate(codes):
                other = sum((effects[h][codes[h]] for h in range(len(codes)) if h != g),
                            np.zeros(len(fe_part)))
                new = np.bincount(c, weights=fe_part - other) / np.bincount(c)
                change = max(change, float(np.abs(new - effects[g]).max()))
                effects[g] = new
            if len(codes) == 1 or change < 1e-10:
                break
        self._effects = []
        for spec, c, eff in zip(specs, codes, effects, strict=True):
            cols = [spec] if isinstance(spec, str) else list(spec)
            if spec == "_intercept":
                self._effects.append((None, {(): float(eff[0])}))
                continue
            keys = data[cols].iloc[np.unique(c, return_index=True)[1]]
            table = {tuple(row): float(eff[i]) for i, row in
                     enumerate(keys.itertuples(index=False, name=None))}
            self._effects.append((cols, table))

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Expected units (Poisson) or the fitted log-units' exponent (OLS) for each row.

        Rows must use fixed-effect levels seen in ``fit`` (e.g. known products and days);
        change the price column to ask "what if".
        """
        if not hasattr(self, "coef_"):
            raise ValueError("ElasticityModel.predict: call fit() first")
        X, names = self._design(frame)
        if names != self.feature_names_:
            extra = set(names) - set(self.feature_names_)
            if extra:
                raise ValueError(f"ElasticityModel.predict: groups {sorted(extra)} were not seen "
                                 "in fit")
            X = np.column_stack([X[:, names.index(g)] if g in names else np.zeros(len(frame))
                                 for g in self.feature_names_])
        eta = X @ self.coef_
        for cols, table in self._effects:
            if cols is None:
                eta = eta + table[()]
                continue
            keys = list(frame[cols].itertuples(index=False, name=None))
            unseen = [k for k in keys if k not in table]
            if unseen:
                raise ValueError(f"ElasticityModel.predict: fixed-effect levels of {cols} not seen "
                                 f"in fit, e.g. {unseen[0]}; predict only for fitted rows")
            eta = eta + np.array([table[k] for k in keys])
        return np.exp(eta)


# ---------------------------------------------------------------------------------------
# endogeneity: a market where the seller raises prices when demand is high
# ---------------------------------------------------------------------------------------


def simulate_endogenous_market(n_periods: int = 365, elasticity: float = -2.0,
                               price_response: float = 0.6, base_price: float = 100.0,
                               base_units: float = 40.0, demand_shock_sd: float = 0.35,
                               cost_shock_sd: float = 0.10, seed: Seed = 0) -> pd.DataFrame:
    """A single product whose price responds to demand the analyst cannot see.

    Each period has a demand shock ``u`` (weather, a TV mention, payday) that the seller sees
    and the analyst does not, and a cost shock ``v`` (supplier price) that only moves the
    price. The seller sets ``log p = log base_price + price_response * u + v`` and sells
    ``Poisson(base_units * (p / base_price) ** elasticity * exp(u))`` units. Because high
    prices coincide with high demand, regressing units on price mixes the demand curve with
    the seller's pricing rule: the slope is biased towards zero (even positive). The cost
    shock is a valid instrument (it moves price, not demand): see :func:`iv_elasticity`.

    Returns ``period``, ``demand_shock``, ``cost_shock``, ``price``, ``units``.
    """
    where = "simulate_endogenous_market"
    if isinstance(n_periods, bool) or int(n_periods) != n_periods or n_periods < 10:
        raise ValueError(f"{where}: 'n_periods' must be a whole number >= 10")
    e = _scalar(elasticity, "elasticity", where=where)
    k = _scalar(price_response, "price_response", where=where)
    bp = _scalar(base_price, "base_price", where=where, minimum=0)
    bu = _scalar(base_units, "base_units", where=where, minimum=0)
    su = _scalar(demand_shock_sd, "demand_shock_sd", where=where, minimum=0, strict=False)
    sv = _scalar(cost_shock_sd, "cost_shock_sd", where=where, minimum=0, strict=False)
    rng = _rng(seed)
    n = int(n_periods)
    u = rng.normal(0.0, su, n)
    v = rng.normal(0.0, sv, n)
    price = bp * np.exp(k * u + v)
    units = rng.poisson(bu * (price / bp) ** e * np.exp(u))
    return pd.DataFrame({"period": np.arange(1, n + 1), "demand_shock": u, "cost_shock": v,
                         "price": np.round(price, 2), "units": units.astype(np.int64)})


def iv_elasticity(frame: pd.DataFrame, instrument: str, price_col: str = "price",
                  units_col: str = "units") -> dict[str, float]:
    """Two-stage least squares elasticity of ``log(units)`` on ``log(price)``.

    First stage: ``log price`` on the instrument (a cost shifter: it moves the price but not
    demand). Second stage: ``log units`` on the fitted log price. Rows with zero units are
    dropped (log undefined) and counted. Returns ``elasticity``, ``std_error`` (robust),
    ``ols_elasticity`` (the naive slope on the same rows, for comparison) with its robust
    ``ols_std_error``, ``first_stage_f``
    (instrument strength; below 10 means a weak instrument) and ``n_dropped_zero_units``.
    """
    for col in (instrument, price_col, units_col):
        if col not in frame.columns:
            raise ValueError(f"iv_elasticity: table lacks column '{col}'; have {list(frame.columns)}")
    _check_prices(frame[price_col].to_numpy(dtype=float),
                  where=f"iv_elasticity: column '{price_col}'")
    units = frame[units_col].to_numpy(dtype=float)
    if np.any(units < 0) or not np.all(np.isfinite(units)):
        raise ValueError(f"iv_elasticity: column '{units_col}' must hold counts >= 0")
    keep = units > 0
    y = np.log(units[keep])
    x = np.log(frame[price_col].to_numpy(dtype=float)[keep])
    z = frame[instrument].to_numpy(dtype=float)[keep]
    if len(y) < 10:
        raise ValueError("iv_elasticity: fewer than 10 rows with units > 0; need more data")
    Z = np.column_stack([np.ones_like(z), z])
    X = np.column_stack([np.ones_like(x), x])
    g, *_ = np.linalg.lstsq(Z, x, rcond=None)
    resid1 = x - Z @ g
    s2 = resid1 @ resid1 / (len(x) - 2)
    f_stat = float(g[1] ** 2 / (s2 / np.sum((z - z.mean()) ** 2)))
    xhat = Z @ g
    Xh = np.column_stack([np.ones_like(xhat), xhat])
    b = np.linalg.solve(Xh.T @ Xh, Xh.T @ y)
    resid = y - X @ b  # structural residuals use the real price
    inv = np.linalg.inv(Xh.T @ Xh)
    vcov = inv @ (Xh.T @ (Xh * resid[:, None] ** 2)) @ inv
    ols = np.linalg.lstsq(X, y, rcond=None)[0]
    inv_x = np.linalg.inv(X.T @ X)
    vcov_ols = inv_x @ (X.T @ (X * (y - X @ ols)[:, None] ** 2)) @ inv_x  # HC0, like the IV
    return {"elasticity": float(b[1]), "std_error": float(math.sqrt(vcov[1, 1])),
            "ols_elasticity": float(ols[1]), "ols_std_error": float(math.sqrt(vcov_ols[1, 1])),
            "first_stage_f": f_stat,
            "n_dropped_zero_units": int((~keep).sum())}


# ---------------------------------------------------------------------------------------
# fairness: personalized prices, caps, and who pays what
# ---------------------------------------------------------------------------------------


def personalized_prices(elasticity: object, unit_cost: float, floor: float | None = None,
                        cap: float | None = None) -> np.ndarray:
    """Each customer's profit-maximizing price under constant elasticity, within [floor, cap].

    ``p_i = c * e_i / (1 + e_i)``: the less price sensitive the customer, the higher the price
    (first-degree price discrimination). ``cap`` (and ``floor``) are the guard rails a shop
    or a regulator puts on it; with ``cap`` equal to the uniform price nobody pays more than
    under one price for all.
    """
    e = _floats(elasticity, "elasticity", where="personalized_prices")
    c = _scalar(unit_cost, "unit_cost", where="personalized_prices", minimum=0)
    if np.any(e >= -1):
        n_bad = int(np.sum(e >= -1))
        raise ValueError(
            f"personalized_prices: {n_bad} customer(s) have elasticity >= -1; for them profit "
            "rises forever with the price (no finite optimum). Cap those prices with a "
            "business rule or use a demand model with a choke price"
        )
    p = c * e / (1.0 + e)
    lo = -np.inf if floor is None else _scalar(floor, "floor", where="personalized_prices",
                                                minimum=0)
    hi = np.inf if cap is None else _scalar(cap, "cap", where="personalized_prices", minimum=0)
    if lo > hi:
        raise ValueError(f"personalized_prices: floor {lo:g} is above cap {hi:g}")
    return np.clip(p, lo, hi)


def uniform_optimal_price(scale: object, elasticity: object, unit_cost: float) -> float:
    """The single price that maximizes total profit over customers with different elasticities.

    Total profit ``sum_i scale_i * p ** e_i * (p - c)`` is maximized numerically on
    ``(c, c * max_i e_i/(1+e_i)]`` -- the optimum lies between the most and least price
    sensitive customer's own best price.
    """
    a = _floats(scale, "scale", where="uniform_optimal_price")
    e = _floats(elasticity, "elasticity", where="uniform_optimal_price")
    if a.size != e.size:
        raise ValueError("uniform_optimal_price: need one scale per elasticity")
    own = personalized_prices(e, unit_cost)
    c = float(unit_cost)

    def neg_profit(p: float) -> float:
        return -float(np.sum(a * p ** e * (p - c)))

    res = optimize.minimize_scalar(neg_profit, bounds=(own.min() * 0.999, own.max() * 1.001),
                                   method="bounded", options={"xatol": 1e-8 * own.max()})
    return float(res.x)


def price_policy_report(frame: pd.DataFrame, by: str | Sequence[str],
                        price_cols: Sequence[str]) -> pd.DataFrame:
    """Average price each customer group pays under each pricing policy.

    ``frame`` has one row per customer with a price column per policy (the first is the
    reference, e.g. the uniform price). Returns one row per group: ``n_customers``,
    ``mean_<policy>`` for each policy, ``ratio_<policy>`` (group mean / reference group
    mean) and ``share_above_<policy>`` (share of the group paying more than the reference
    price). A fair policy keeps ratios close to 1 across protected groups such as age band.
    """
    keys = [by] if isinstance(by, str) else list(by)
    cols = list(price_cols)
    missing = [c for c in keys + cols if c not in frame.columns]
    if missing:
        raise ValueError(f"price_policy_report: table lacks column(s) {missing}; have "
                         f"{list(frame.columns)}")
    if len(cols) < 1:
        raise ValueError("price_policy_report: pass at least one price column")
    for col in cols:
        _check_prices(frame[col].to_numpy(dtype=float),
                      where=f"price_policy_report: column '{col}'")
    ref = cols[0]
    g = frame.groupby(keys, observed=True)
    out = g.size().rename("n_customers").to_frame()
    for col in cols:
        out[f"mean_{col}"] = g[col].mean()
    for col in cols[1:]:
        out[f"ratio_{col}"] = out[f"mean_{col}"] / out[f"mean_{ref}"]
        above = (frame[col] > frame[ref] * (1 + 1e-9)).groupby(
            [frame[k] for k in keys], observed=True).mean()
        out[f"share_above_{col}"] = above
    return out.reset_index()


# ---------------------------------------------------------------------------------------
# live what-if demo: price -> demand, revenue and profit (crmlab.demos.price_demo)
# ---------------------------------------------------------------------------------------

#: The demand shapes of notebook 07, section 1, by the name the notebook uses.
DEMAND_SHAPES: tuple[str, ...] = ("linear", "constant elasticity", "exponential")


def calibrated_demand(shape: str, list_price: float, units_per_day: float,
                      elasticity: float) -> DemandModel:
    """The demand curve of ``shape`` through today's point: it sells ``units_per_day`` at
    ``list_price`` and has point elasticity ``elasticity`` there (notebook 07, section 1).

    linear ``a - b p`` with ``a = q0 (1 - e)``, ``b = -e q0 / p0``; constant elasticity
    ``A p^e`` with ``A = q0 / p0^e``; exponential ``A exp(-alpha p)`` with
    ``A = q0 exp(-e)``, ``alpha = -e / p0``.
    """
    where = "calibrated_demand"
    p0 = _scalar(list_price, "list_price", where=where, minimum=0)
    q0 = _scalar(units_per_day, "units_per_day", where=where, minimum=0)
    e = _scalar(elasticity, "elasticity", where=where)
    if e >= 0:
        raise ValueError(f"{where}: 'elasticity' must be negative (demand falls as the price "
                         f"rises), got {e:g}; pass e.g. elasticity=-2")
    if shape == "linear":
        return LinearDemand(intercept=q0 * (1 - e), slope=-e * q0 / p0)
    if shape == "constant elasticity":
        return ConstantElasticityDemand(scale=q0 / p0**e, elasticity=e)
    if shape == "exponential":
        return ExponentialDemand(scale=q0 * math.exp(-e), alpha=-e / p0)
    raise ValueError(f"{where}: 'shape' must be one of {list(DEMAND_SHAPES)}, got {shape!r}")


def price_what_if(price: float, *, list_price: float, unit_cost: float, units_per_day: float,
                  elasticity: float, shape: str = "constant elasticity",
                  min_price_ratio: float = 0.5, max_price_ratio: float = 3.0,
                  n_grid: int = 150) -> dict[str, Any]:
    """What one price does: units per day, revenue and profit, and where the optimum is.

    The demand curve is :func:`calibrated_demand` (today's point and elasticity); the optimum
    is the shape's closed form (:meth:`DemandModel.optimal_price`), ``None`` where none exists
    (constant elasticity >= -1, or the unit cost at or above a linear curve's choke price).
    Returns ``price, units, revenue, profit, elasticity`` at ``price``, ``optimal_price``,
    ``optimal_profit``, ``list_price``, ``unit_cost``, ``shape`` and ``curve`` (the same
    figures on ``n_grid`` prices from ``min_price_ratio`` to ``max_price_ratio`` x the list
    price).
    """
    where = "price_what_if"
    demand = calibrated_demand(shape, list_price, units_per_day, elasticity)
    p = _scalar(price, "price", where=where, minimum=0)
    c = _scalar(unit_cost, "unit_cost", where=where, minimum=0, strict=False)
    low = _scalar(min_price_ratio, "min_price_ratio", where=where, minimum=0) * float(list_price)
    top = _scalar(max_price_ratio, "max_price_ratio", where=where, minimum=0) * float(list_price)
    if top <= low:
        raise ValueError(f"{where}: 'max_price_ratio' must exceed 'min_price_ratio', got "
                         f"{max_price_ratio!r} <= {min_price_ratio!r}")
    if int(n_grid) < 2:
        raise ValueError(f"{where}: 'n_grid' must be at least 2, got {n_grid!r}")
    try:
        best: float | None = demand.optimal_price(c)
    except ValueError:  # no finite optimum for this shape and cost (see the docstring)
        best = None
    at = demand.curve([p], c).iloc[0]
    return {
        "shape": shape, "list_price": float(list_price), "unit_cost": c, "price": p,
        "units": float(at["quantity"]), "revenue": float(at["revenue"]),
        "profit": float(at["profit"]), "elasticity": float(at["elasticity"]),
        "optimal_price": best,
        "optimal_profit": None if best is None else float(demand.profit(best, c)),
        "curve": demand.curve(np.linspace(low, top, int(n_grid)), c),
    }


__all__ += ["DEMAND_SHAPES", "calibrated_demand", "price_what_if"]
