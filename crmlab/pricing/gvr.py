"""Gallego--van Ryzin dynamic pricing: ``n`` units, ``t`` time left, exponential demand.

Demand arrives as a Poisson process with rate ``lambda(p) = a * exp(-alpha * p)``. This
module has the deterministic bound (:func:`gvr_deterministic_price`,
:func:`gvr_deterministic_revenue`), the closed-form stochastic value function and optimal
price (:func:`gvr_value`, :func:`gvr_price`), and a discrete-time dynamic program that also
allows demand to change over time (:func:`gvr_dynamic_program`, :class:`GvRProgram`) with
its Monte Carlo check (:func:`simulate_gvr`, :func:`gvr_revenue_samples`).

Reference: Gallego, G. & van Ryzin, G. (1994). Optimal dynamic pricing of inventories with
stochastic demand over finite horizons. *Management Science* 40(8), 999-1020.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from crmlab.pricing._validation import Seed, _check_positive, _check_prices, _rng, _scalar


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

    Parameters
    ----------
    inventory : int or array-like
        Units left ``n``.
    time_left : float or array-like, optional
        Time left ``t`` (with ``scale``).
    scale : float, optional
        Demand rate ``a`` at a price of 0.
    alpha : float
        Price sensitivity (> 0).
    lambda_t : float or array-like, optional
        ``a t / e`` instead of ``time_left`` and ``scale``.

    Returns
    -------
    np.ndarray
        The price for each ``(n, t)``.
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

    Parameters
    ----------
    inventory : int or array-like
        Units left ``n``.
    time_left : float or array-like, optional
        Time left ``t`` (with ``scale``).
    scale : float, optional
        Demand rate ``a`` at a price of 0.
    alpha : float
        Price sensitivity (> 0).
    lambda_t : float or array-like, optional
        ``a t / e`` instead of ``time_left`` and ``scale``.

    Returns
    -------
    np.ndarray
        The deterministic revenue for each ``(n, t)``.
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

    Parameters
    ----------
    inventory : int or array-like
        Units left ``n``.
    time_left : float or array-like, optional
        Time left ``t`` (with ``scale``).
    scale : float, optional
        Demand rate ``a`` at a price of 0.
    alpha : float
        Price sensitivity (> 0).
    lambda_t : float or array-like, optional
        ``a t / e`` instead of ``time_left`` and ``scale``.

    Returns
    -------
    np.ndarray
        ``J*(n, t)`` in NT$ for each ``(n, t)``.
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

    Parameters
    ----------
    inventory : int or array-like
        Units left ``n``.
    time_left : float or array-like, optional
        Time left ``t`` (with ``scale``).
    scale : float, optional
        Demand rate ``a`` at a price of 0.
    alpha : float
        Price sensitivity (> 0).
    lambda_t : float or array-like, optional
        ``a t / e`` instead of ``time_left`` and ``scale``.

    Returns
    -------
    np.ndarray
        The optimal price in NT$ for each ``(n, t)``.
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

    Parameters
    ----------
    inventory : int
        Units at the start.
    horizon : float
        Length of the season.
    steps : int
        Number of time steps.
    dt : float
        Length of one step (``horizon / steps``).
    salvage : float
        Value of each unit left at the end.
    scale, alpha : np.ndarray
        Demand parameters per step (index = steps left).
    value, price, sale_prob : np.ndarray
        The solved tables, shape (steps + 1, inventory + 1).
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
        """Time left (in horizon units) with ``k`` steps left.

        Parameters
        ----------
        k : int or array-like
            Steps left.

        Returns
        -------
        np.ndarray
            ``k * dt``.
        """
        return np.asarray(k, dtype=float) * self.dt

    def price_table(self) -> pd.DataFrame:
        """Tidy optimal prices: steps_left, time_left, inventory, price, sale_prob.

        Returns
        -------
        pd.DataFrame
            One row per (steps left, units left).
        """
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


def _program_inputs(inventory: int, horizon: float, scale: object, alpha: object, steps: int,
                    salvage: float) -> tuple[int, int, float, float, np.ndarray, np.ndarray, float]:
    """Checked units, steps, horizon, slot length, per-step demand and salvage (or a ValueError)."""
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
    return n, steps, h, dt, a, al, sv


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

    Parameters
    ----------
    inventory : int
        Units to sell (>= 1).
    horizon : float
        Length of the season (> 0).
    scale : float or sequence of float
        Demand rate at a price of 0, one value or one per step.
    alpha : float or sequence of float
        Price sensitivity, one value or one per step.
    steps : int, default 500
        Time slots; keep ``scale * dt`` well below 1.
    salvage : float, default 0.0
        Value in NT$ of each unit left at the end.

    Returns
    -------
    GvRProgram
        The value function and the optimal prices.
    """
    n, steps, h, dt, a, al, sv = _program_inputs(inventory, horizon, scale, alpha, steps, salvage)
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

    Parameters
    ----------
    program : GvRProgram
        A solved program from :func:`gvr_dynamic_program`.
    n_sims : int, default 1000
        Seasons to simulate.
    policy : {"dynamic", "fixed"}, default "dynamic"
        Price policy (see :func:`simulate_gvr`).
    fixed_price : float, optional
        The price of ``policy="fixed"``.
    seed : int or numpy.random.Generator, default 0
        Random seed.

    Returns
    -------
    np.ndarray
        One revenue in NT$ per simulated season.
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

    Parameters
    ----------
    program : GvRProgram
        A solved program from :func:`gvr_dynamic_program`.
    policy : {"dynamic", "fixed"}, default "dynamic"
        Price policy.
    fixed_price : float, optional
        The price of ``policy="fixed"``.
    seed : int or numpy.random.Generator, default 0
        Random seed.

    Returns
    -------
    pd.DataFrame
        One row per step, the columns above.
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
