"""Demand models and their profit-maximizing prices in closed form (需求模型與最適價格).

Three demand curves a pricing lecture meets -- linear ``q = a - b p``, constant elasticity
``q = a p^e`` and exponential ``q = a exp(-alpha p)`` -- each with its elasticity, revenue and
the price that maximizes ``(p - c) q(p)`` (:func:`optimal_price`), and the best single price
when stock is limited (:func:`capacity_constrained_price`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmlab.pricing._validation import _check_prices, _scalar


class DemandModel:
    """Deterministic demand ``q(p)``: expected units sold per period at price ``p``.

    Subclasses give ``quantity``, ``price_for_quantity``, ``elasticity`` and the closed-form
    ``optimal_price``; revenue, profit and a tidy demand curve come from here.

    Not an estimator: a demand model is a known curve with its parameters, nothing is learned
    from data (for that see :class:`~crmlab.pricing.ElasticityModel`), so it does not subclass
    :class:`crmlab.base.Estimator`.

    Parameters
    ----------
    None
        ``DemandModel`` itself takes no arguments; each subclass takes its curve's parameters.
    """

    def quantity(self, price: object) -> np.ndarray:  # pragma: no cover - abstract
        """Expected units per period.

        Parameters
        ----------
        price : float or array-like
            Prices in NT$ (> 0).

        Returns
        -------
        np.ndarray
            Units per period at each price.
        """
        raise NotImplementedError

    def price_for_quantity(self, quantity: object) -> np.ndarray:  # pragma: no cover
        """The inverse demand curve: the price that sells ``quantity``.

        Parameters
        ----------
        quantity : float or array-like
            Units per period (within the curve's range).

        Returns
        -------
        np.ndarray
            Prices in NT$.
        """
        raise NotImplementedError

    def point_elasticity(self, price: object) -> np.ndarray:  # pragma: no cover - abstract
        """The price elasticity ``(dq/dp) (p/q)`` at each price.

        Parameters
        ----------
        price : float or array-like
            Prices in NT$ (> 0).

        Returns
        -------
        np.ndarray
            Elasticities (negative).
        """
        raise NotImplementedError

    def optimal_price(self, unit_cost: float = 0.0) -> float:  # pragma: no cover
        """The profit-maximizing price in closed form.

        Parameters
        ----------
        unit_cost : float, default 0.0
            Cost of one unit in NT$ (>= 0).

        Returns
        -------
        float
            The price in NT$; a ValueError where no finite optimum exists.
        """
        raise NotImplementedError

    def revenue(self, price: object) -> np.ndarray:
        """Price times quantity.

        Parameters
        ----------
        price : float or array-like
            Prices in NT$ (> 0).

        Returns
        -------
        np.ndarray
            Revenue per period at each price.
        """
        p = _check_prices(price, where=f"{type(self).__name__}.revenue")
        return p * self.quantity(p)

    def profit(self, price: object, unit_cost: float = 0.0) -> np.ndarray:
        """(price - unit cost) times quantity.

        Parameters
        ----------
        price : float or array-like
            Prices in NT$ (> 0).
        unit_cost : float, default 0.0
            Cost of one unit in NT$ (>= 0).

        Returns
        -------
        np.ndarray
            Profit per period at each price.
        """
        c = _scalar(unit_cost, "unit_cost", where=f"{type(self).__name__}.profit", minimum=0,
                    strict=False)
        p = _check_prices(price, where=f"{type(self).__name__}.profit")
        return (p - c) * self.quantity(p)

    def curve(self, prices: object, unit_cost: float = 0.0) -> pd.DataFrame:
        """Tidy demand curve: price, quantity, revenue, profit, elasticity (one row per price).

        Parameters
        ----------
        prices : array-like
            Prices in NT$ (> 0).
        unit_cost : float, default 0.0
            Cost of one unit in NT$ (>= 0).

        Returns
        -------
        pd.DataFrame
            One row per price.
        """
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

    Parameters
    ----------
    intercept : float
        Units sold per period at a price of 0 (> 0).
    slope : float
        Units lost per NT$1 of price (> 0).
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
        """Point elasticity ``-b p / (a - b p)``; minus infinity at or above the choke price.

        Parameters
        ----------
        price : float or array-like
            Prices in NT$ (> 0).

        Returns
        -------
        np.ndarray
            Elasticities (``-inf`` at or above the choke price).
        """
        p = _check_prices(price, where="LinearDemand.elasticity")
        q = self.intercept - self.slope * p
        with np.errstate(divide="ignore"):
            return np.where(q > 0, -self.slope * p / np.where(q > 0, q, 1.0), -np.inf)

    def optimal_price(self, unit_cost: float = 0.0) -> float:
        """Profit-maximizing price ``(a/b + c) / 2``: halfway between cost and choke price.

        Parameters
        ----------
        unit_cost : float, default 0.0
            Cost of one unit in NT$ (below the choke price).

        Returns
        -------
        float
            The price in NT$.
        """
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

    Parameters
    ----------
    scale : float
        Units sold per period at a price of NT$1 (> 0).
    elasticity : float
        The (constant) price elasticity, negative, e.g. -2.
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
        """Profit-maximizing price ``c * e / (1 + e)``; needs ``e < -1`` and ``c > 0``.

        Parameters
        ----------
        unit_cost : float, default 0.0
            Cost of one unit in NT$ (> 0).

        Returns
        -------
        float
            The price in NT$.
        """
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

    Parameters
    ----------
    scale : float
        Units sold per period at a price of 0 (> 0).
    alpha : float
        Price sensitivity per NT$1 (> 0); the elasticity at price ``p`` is ``-alpha * p``.
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
        """Profit-maximizing price ``c + 1 / alpha`` (where the elasticity is ``-p/(p-c)``).

        Parameters
        ----------
        unit_cost : float, default 0.0
            Cost of one unit in NT$ (>= 0).

        Returns
        -------
        float
            The price in NT$.
        """
        c = _scalar(unit_cost, "unit_cost", where="ExponentialDemand.optimal_price", minimum=0,
                    strict=False)
        return c + 1.0 / self.alpha


def optimal_price(demand: DemandModel, unit_cost: float = 0.0) -> float:
    """Profit-maximizing price of a demand model (closed form, see each model).

    Parameters
    ----------
    demand : DemandModel
        A :class:`LinearDemand`, :class:`ConstantElasticityDemand` or :class:`ExponentialDemand`.
    unit_cost : float, default 0.0
        Cost of one unit in NT$ (>= 0).

    Returns
    -------
    float
        The price in NT$ that maximizes ``(p - unit_cost) * q(p)``.
    """
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

    Parameters
    ----------
    demand : DemandModel
        The demand curve.
    capacity : float
        Most units that can be sold (> 0).
    unit_cost : float, default 0.0
        Cost of one unit in NT$ (>= 0).

    Returns
    -------
    float
        The best single price in NT$ given the capacity.
    """
    cap = _scalar(capacity, "capacity", where="capacity_constrained_price", minimum=0)
    p_free = optimal_price(demand, unit_cost)
    if float(demand.quantity(p_free)) <= cap:
        return p_free
    return float(demand.price_for_quantity(cap))
