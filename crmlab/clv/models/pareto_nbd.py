"""Pareto/NBD (Schmittlein, Morrison & Colombo 1987): repeat buying while alive, an
exponential lifetime that may end at any moment."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, special

from crmlab.clv.models.base import _BTYDBase, _nbd_logpmf, _pmf_table
from crmlab.clv.models.fitting import _hessian_from_grad, _minimize, _standard_errors
from crmlab.clv.summary import _as_series

__all__ = ["ParetoNBDModel"]


_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(128)


def _pnbd_pmf(n, t, r, alpha, s, beta):
    """P(X(t) = n) for a Pareto/NBD customer alive at 0 (Fader & Hardie's P(X(t)=x)
    note 012): alive at t with n purchases, ``NBD(n; t) (beta/(beta+t))^s``, plus died at
    some tau <= t after exactly n purchases, ``int_0^t s beta^s/(beta+tau)^(s+1)
    NBD(n; tau) dtau``. The note writes the integral with Gauss hypergeometric
    functions; here it is evaluated by 128-point Gauss-Legendre quadrature on a smooth
    integrand (the tests check it against adaptive quadrature and lifetimes' closed form).
    All arguments broadcast.
    """
    n, t, r, alpha, s, beta = np.broadcast_arrays(*(np.asarray(v, dtype=float)
                                                    for v in (n, t, r, alpha, s, beta)))
    alive = np.exp(_nbd_logpmf(n, t, r, alpha) + s * (np.log(beta) - np.log(beta + t)))
    tau = (t[..., None] / 2) * (_GL_NODES + 1)
    dens = np.exp(np.log(s[..., None]) + s[..., None] * np.log(beta[..., None])
                  - (s[..., None] + 1) * np.log(beta[..., None] + tau)
                  + _nbd_logpmf(n[..., None], tau, r[..., None], alpha[..., None]))
    dead = (dens @ _GL_WEIGHTS) * t / 2
    return alive + dead


class ParetoNBDModel(_BTYDBase):
    """Pareto/NBD model (Schmittlein, Morrison & Colombo 1987).

    Poisson purchasing with rate lambda ~ Gamma(r, alpha) while alive; exponential
    lifetime with rate mu ~ Gamma(s, beta). The likelihood (Fader & Hardie 2005 note,
    eq. 22) needs the Gauss hypergeometric function; it is evaluated in log space and
    maximized with Nelder-Mead then BFGS on numeric gradients, so it is slower than
    BG/NBD — fine for tens of thousands of distinct triples.

    Parameters
    ----------
    tol : float, default 1e-8
        Gradient tolerance of the optimizer on the mean log-likelihood.
    max_iter : int, default 2000
        Iteration cap of the optimizer.

    Fitted attributes: ``params_`` (r, alpha, s, beta), ``standard_errors_``,
    ``log_likelihood_``, ``n_customers_``, ``n_distinct_``.
    """

    param_names = ("r", "alpha", "s", "beta")
    _name = "ParetoNBDModel"

    def __init__(self, tol: float = 1e-8, max_iter: int = 2000):
        self.tol = tol
        self.max_iter = max_iter

    @staticmethod
    def _log_A0_terms(params, x, tx, T):
        """log of the two likelihood parts: alive at T, and died in (t_x, T]."""
        r, alpha, s, beta = params
        rsx = r + s + x
        if alpha >= beta:
            big, b2 = alpha, s + 1
            z1 = (alpha - beta) / (alpha + tx)
            z2 = (alpha - beta) / (alpha + T)
        else:
            big, b2 = beta, r + x
            z1 = (beta - alpha) / (beta + tx)
            z2 = (beta - alpha) / (beta + T)
        # A0 = F(z1)/(big+tx)^rsx - F(z2)/(big+T)^rsx  (>= 0)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            l1 = np.log(special.hyp2f1(rsx, b2, rsx + 1, z1)) - rsx * np.log(big + tx)
            l2 = np.log(special.hyp2f1(rsx, b2, rsx + 1, z2)) - rsx * np.log(big + T)
            log_A0 = l1 + np.log1p(-np.exp(np.minimum(l2 - l1, 0.0)))
        # tx == T gives A0 = 0 exactly
        log_A0 = np.where(tx >= T, -np.inf, log_A0)
        log_alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        log_dead = np.log(s) - np.log(rsx) + log_A0
        return log_alive, log_dead

    @classmethod
    def _loglik_terms(cls, params, x, tx, T):
        r, alpha, s, beta = params
        log_alive, log_dead = cls._log_A0_terms(params, x, tx, T)
        head = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        return head + np.logaddexp(log_alive, log_dead)

    def fit(self, summary: pd.DataFrame, weights=None) -> ParetoNBDModel:
        """Maximum-likelihood fit on a ``summarize()`` table (see BetaGeoModel.fit).

        Parameters
        ----------
        summary : pd.DataFrame
            A :func:`~crmlab.clv.summarize` table (plain or ``_cal`` columns).
        weights : str or array-like, optional
            Customers per row (a column name or one value per row); default 1 each.

        Returns
        -------
        ParetoNBDModel
            ``self``, fitted.
        """
        x, tx, T, w, scale = self._prepare(summary, weights)
        wsum = w.sum()

        def f(logp):
            # a search step may reach parameters where the terms overflow to inf or nan;
            # such a point scores 1e10 and the search steps back, so no warning is due
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                val = -(w @ self._loglik_terms(np.exp(logp), x, tx, T)) / wsum
            return val if np.isfinite(val) else 1e10

        def fg(logp, h=1e-6):
            f0 = f(logp)
            g = np.empty(4)
            for i in range(4):
                e = np.zeros(4)
                e[i] = h
                g[i] = (f(logp + e) - f(logp - e)) / (2 * h)
            return f0, g

        rate = max(float((w * x).sum() / (w * T).sum()), 1e-3)
        x0 = np.log([1.0, 1.0 / rate, 1.0, 10.0])
        res0 = optimize.minimize(f, x0, method="Nelder-Mead",
                                 options={"xatol": 1e-2, "fatol": 1e-6, "maxiter": self.max_iter})
        res = _minimize(fg, res0.x, jac=True, tol=1e-7, max_iter=self.max_iter, what=self._name)
        params = np.exp(res.x)
        H = _hessian_from_grad(lambda z: fg(z)[1], res.x, h=1e-4) * wsum
        se = _standard_errors(H, params)
        params[1] /= scale
        params[3] /= scale
        se[1] /= scale
        se[3] /= scale
        self._store_fit(params, se, (w * self._loglik_terms(params, x, tx / scale, T / scale)).sum(), res.n_iter, w)
        return self

    def p_alive(self, summary: pd.DataFrame) -> pd.Series:
        """P(alive at T | x, t_x, T) = alive part / (alive part + died part).

        Parameters
        ----------
        summary : pd.DataFrame
            A :func:`~crmlab.clv.summarize` table (plain or ``_cal`` columns).

        Returns
        -------
        pd.Series
            ``p_alive`` per customer, indexed like ``summary``.
        """
        x, tx, T = self._arrays(summary)
        log_alive, log_dead = self._log_A0_terms(self.params_.to_numpy(), x, tx, T)
        return _as_series(special.expit(log_alive - log_dead), summary, "p_alive")

    def predict_purchases(self, t, summary: pd.DataFrame) -> pd.Series:
        """E[Y(t) | x, t_x, T] (Fader & Hardie 2005 note, eq. 23).

        Parameters
        ----------
        t : float or array-like
            Horizon in periods of the summary (broadcast against the customers).
        summary : pd.DataFrame
            A :func:`~crmlab.clv.summarize` table.

        Returns
        -------
        pd.Series
            ``expected_purchases`` per customer, indexed like ``summary``.
        """
        x, tx, T = self._arrays(summary)
        r, alpha, s, beta = self.params_.to_numpy()
        t = np.asarray(t, dtype=float)
        pa = self.p_alive(summary).to_numpy()
        if abs(s - 1) < 1e-9:
            tail = np.log((beta + T + t) / (beta + T))
        else:
            tail = (beta + T) / (s - 1) * (1 - ((beta + T) / (beta + T + t)) ** (s - 1))
        out = pa * (r + x) / (alpha + T) * tail
        return _as_series(out, summary, "expected_purchases")

    def expected_purchases_new(self, t) -> np.ndarray:
        """E[X(t)] for a customer just acquired (Fader & Hardie 2005 note, eq. 17):
        ``r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)]``.

        Parameters
        ----------
        t : float or array-like
            Time since acquisition, in periods.

        Returns
        -------
        np.ndarray
            Expected repeat purchases by ``t``.
        """
        self._check_fitted()
        t = np.asarray(t, dtype=float)
        r, alpha, s, beta = self.params_.to_numpy()
        if abs(s - 1) < 1e-9:
            return r * beta / alpha * np.log1p(t / beta)
        return r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + t)) ** (s - 1))

    def probability_of_purchases(self, t, x, summary: pd.DataFrame | None = None):
        """P(X(t) = x) for a new customer, or P(Y(t) = x | history) with a ``summary``.

        See :func:`_pnbd_pmf` for the new customer. Given the history the customer is
        dead, or alive with lambda ~ Gamma(r + x, alpha + T) and mu ~ Gamma(s, beta + T)
        (independent), and then the story starts afresh (the same result as Fader &
        Hardie's note 028, eq. 16, which lifetimes implements; the tests compare).

        Parameters
        ----------
        t : float or array-like
            Horizon in periods (one value with a ``summary``).
        x : int or array-like
            Number of repeat purchases (one value with a ``summary``).
        summary : pd.DataFrame, optional
            Customers to condition on (a :func:`~crmlab.clv.summarize` table).

        Returns
        -------
        np.ndarray or pd.Series
            P(X(t) = x) (an array), or per customer ``p_<x>_purchases`` with a ``summary``.
        """
        self._check_fitted()
        r, alpha, s, beta = self.params_.to_numpy()

        def posterior(y, t_):
            xh, _, T = self._arrays(summary)
            return _pnbd_pmf(y, t_, r + xh, alpha + T, s, beta + T)

        return _pmf_table(lambda y, t_: _pnbd_pmf(y, t_, r, alpha, s, beta), t, x, summary,
                          self.p_alive, posterior)
