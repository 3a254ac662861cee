"""NBD (Ehrenberg 1959): repeat buying without dropout, the benchmark the dropout models
have to beat."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from crmlab.clv.models.base import _BTYDBase, _nbd_logpmf, _pmf_table
from crmlab.clv.models.fitting import _hessian_from_grad, _minimize, _standard_errors
from crmlab.clv.summary import _as_series

__all__ = ["NBDModel"]


class NBDModel(_BTYDBase):
    """NBD model of repeat purchasing without dropout (Ehrenberg 1959; Morrison &
    Schmittlein 1988): Poisson purchasing with rate lambda ~ Gamma(r, alpha), forever.

    It is the limit of BG/NBD and MBG/NBD as a -> 0 and of Pareto/NBD as s -> 0, so it
    is the benchmark that tells whether modelling dropout is worth it on a data set: its
    likelihood is that of the same data (the purchase times through (x, t_x, T), whose
    density is ``lambda^x exp(-lambda T)``, recency dropping out), so log-likelihoods
    compare with the dropout models' (two parameters fewer). Closed forms throughout:
    ``E[Y(t) | x, T] = (r + x) t / (alpha + T)``, P(alive) = 1.

    Parameters
    ----------
    tol : float, default 1e-9
        Gradient tolerance of the optimizer on the mean log-likelihood.
    max_iter : int, default 500
        Iteration cap of the optimizer.

    Fitted attributes: ``params_`` (r, alpha), ``standard_errors_``, ``log_likelihood_``,
    ``n_customers_``, ``n_distinct_``.
    """

    param_names = ("r", "alpha")
    _name = "NBDModel"

    def __init__(self, tol: float = 1e-9, max_iter: int = 500):
        self.tol = tol
        self.max_iter = max_iter

    @staticmethod
    def _loglik_terms(params, x, tx, T):
        r, alpha = params
        return (special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
                - (r + x) * np.log(alpha + T))

    def fit(self, summary: pd.DataFrame, weights=None) -> NBDModel:
        """Maximum-likelihood fit on a ``summarize()`` table (analytic gradient).

        Parameters
        ----------
        summary : pd.DataFrame
            A :func:`~crmlab.clv.summarize` table (plain or ``_cal`` columns).
        weights : str or array-like, optional
            Customers per row (a column name or one value per row); default 1 each.

        Returns
        -------
        NBDModel
            ``self``, fitted.
        """
        x, tx, T, w, scale = self._prepare(summary, weights)
        wsum = w.sum()

        def fg(logp):
            r, alpha = np.exp(logp)
            ll = w @ self._loglik_terms((r, alpha), x, tx, T)
            g_r = w @ (special.digamma(r + x) - special.digamma(r) + np.log(alpha) - np.log(alpha + T))
            g_a = w @ (r / alpha - (r + x) / (alpha + T))
            return -ll / wsum, -np.array([g_r * r, g_a * alpha]) / wsum

        rate = max(float((w * x).sum() / (w * T).sum()), 1e-3)
        res = _minimize(fg, np.log([1.0, 1.0 / rate]), jac=True, tol=self.tol,
                        max_iter=self.max_iter, what=self._name)
        params = np.exp(res.x)
        H = _hessian_from_grad(lambda z: fg(z)[1], res.x) * wsum
        se = _standard_errors(H, params)
        params[1] /= scale
        se[1] /= scale
        self._store_fit(params, se, w @ self._loglik_terms(params, x, tx / scale, T / scale), res.n_iter, w)
        return self

    def p_alive(self, summary: pd.DataFrame) -> pd.Series:
        """Always 1: in the NBD story nobody leaves.

        Parameters
        ----------
        summary : pd.DataFrame
            A :func:`~crmlab.clv.summarize` table (plain or ``_cal`` columns).

        Returns
        -------
        pd.Series
            ``p_alive`` per customer, indexed like ``summary``.
        """
        self._arrays(summary)
        return _as_series(np.ones(len(summary)), summary, "p_alive")

    def predict_purchases(self, t, summary: pd.DataFrame) -> pd.Series:
        """E[Y(t) | x, T] = (r + x) t / (alpha + T): the posterior mean rate times t.

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
        x, _, T = self._arrays(summary)
        r, alpha = self.params_.to_numpy()
        t = np.asarray(t, dtype=float)
        if (t < 0).any():
            raise ValueError("t (the horizon in periods) must be >= 0.")
        return _as_series((r + x) / (alpha + T) * t, summary, "expected_purchases")

    def expected_purchases_new(self, t) -> np.ndarray:
        """E[X(t)] = r t / alpha for a customer just acquired.

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
        r, alpha = self.params_.to_numpy()
        return r / alpha * np.asarray(t, dtype=float)

    def probability_of_purchases(self, t, x, summary: pd.DataFrame | None = None):
        """P(X(t) = x) (the NBD) for a new customer, or P(Y(t) = x | history), the NBD
        with the posterior Gamma(r + x, alpha + T) rate.

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
        r, alpha = self.params_.to_numpy()

        def posterior(y, t_):
            xh, _, T = self._arrays(summary)
            return np.exp(_nbd_logpmf(y, t_, r + xh, alpha + T))

        return _pmf_table(lambda y, t_: np.exp(_nbd_logpmf(y, t_, r, alpha)), t, x, summary,
                          self.p_alive, posterior)
