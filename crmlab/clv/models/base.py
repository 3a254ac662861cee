"""What the BTYD transaction models share: the NBD building block, P(X(t) = x) tables and
the base class (input preparation, fitted check, per-customer log-likelihood)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from crmlab.base import Estimator
from crmlab.clv.compress import _compress
from crmlab.clv.summary import _as_series, _summary_arrays, _weights_array
from crmlab.clv.value import clv


def _nbd_logpmf(n, t, r, alpha):
    """log P(N(t) = n) for Poisson counts with a Gamma(r, alpha) rate: the NBD."""
    n, t = np.asarray(n, dtype=float), np.asarray(t, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (special.gammaln(r + n) - special.gammaln(r) - special.gammaln(n + 1)
               + r * (np.log(alpha) - np.log(alpha + t)) + special.xlogy(n, t)
               - n * np.log(alpha + t))
    return out


def _nbd_sf(n, t, r, alpha):
    """P(N(t) >= n) for the NBD (1 for n = 0), via the regularized incomplete beta."""
    n, t = np.asarray(n, dtype=float), np.asarray(t, dtype=float)
    with np.errstate(invalid="ignore"):
        tail = special.betainc(np.maximum(n, 1), r, t / (alpha + t))
    return np.where(n <= 0, 1.0, tail)


def _pmf_table(pmf_new, t, x, summary, p_alive, posterior) -> pd.Series | np.ndarray:
    """P(X(t) = x) for a new customer (``summary`` None) or P(Y(t) = x | history).

    Given the history, the customer is dead (P = [x = 0]) or alive; alive, the latent
    rates have their posterior, independent of each other, and the future is the
    model's story started afresh with those posterior parameters.
    """
    x = np.asarray(x)
    if (x < 0).any() or (x != np.round(x)).any():
        raise ValueError(f"x={x!r}: the number of purchases must be a whole number >= 0.")
    t = np.asarray(t, dtype=float)
    if (t < 0).any() or not np.isfinite(t).all():
        raise ValueError("t (the horizon in periods) must be finite and >= 0.")
    if summary is None:
        return pmf_new(x, t)
    if x.ndim or t.ndim:
        raise ValueError("with a summary, pass one x and one t (call once per value).")
    pa = p_alive(summary).to_numpy()
    out = pa * posterior(x, t) + (1 - pa) * (x == 0)
    return _as_series(out, summary, f"p_{int(x)}_purchases")


class _BTYDBase(Estimator):
    """Shared plumbing for the transaction models (BG/NBD, MBG/NBD, Pareto/NBD, NBD): input
    preparation, storing a fit, per-customer log-likelihoods from ``_loglik_terms``.

    The fitted check is :meth:`crmlab.base.Estimator._check_fitted` ("... is not fitted
    yet; call fit(summary) first."); a fit sets its attributes only once it has succeeded.
    """

    param_names: tuple[str, ...] = ()
    _name = "model"
    _fit_call = "fit(summary)"

    def _prepare(self, summary: pd.DataFrame, weights):
        """Checked, compressed (x, t_x, T, weight) arrays on the internal clock, and its scale.

        Rows with weight 0 are dropped and equal triples merged (the fit's cost grows with
        the number of distinct triples); time is rescaled so the longest history is 10
        units, which keeps the optimizer's log-parameters near 0.
        """
        x, tx, T = _summary_arrays(summary, native=True)
        w = None if weights is None else _weights_array(summary, weights)
        (x, tx, T), w = _compress([x, tx, T], w, drop_zero=True)
        x, tx, T = (a.astype(float, copy=False) for a in (x, tx, T))
        if not (x > 0).any():
            raise ValueError(
                "summary: every customer has frequency 0 (no repeat purchases), so the "
                "repeat-buying rate and dropout cannot be estimated; use a longer window "
                "or a coarser freq."
            )
        if T.max() <= 0:
            raise ValueError("summary: every customer has T = 0; observe them for at least one period.")
        scale = 10.0 / T.max()  # internal time unit: the longest history is 10 units
        return x, tx * scale, T * scale, w, scale

    def clv(self, summary: pd.DataFrame, spend, horizon: float, discount_rate: float,
            step: float = 1.0) -> pd.Series:
        """Discounted expected value of each customer's purchases over ``horizon``.

        See :func:`clv`; ``spend`` is a fitted :class:`GammaGammaModel` or the expected
        spend per purchase of each customer.

        Parameters
        ----------
        summary : pd.DataFrame
            The customers to value (a :func:`~crmlab.clv.summarize` table).
        spend : GammaGammaModel or array-like
            A fitted spend model, or expected spend per purchase per customer.
        horizon, discount_rate, step : float
            As in :func:`~crmlab.clv.clv`.

        Returns
        -------
        pd.Series
            ``clv`` per customer.
        """
        return clv(self, spend, summary, horizon=horizon, discount_rate=discount_rate, step=step)

    def _store_fit(self, params: np.ndarray, se: np.ndarray, log_likelihood: float,
                   n_iter: int, w: np.ndarray) -> None:
        """Set the fitted attributes (in the caller's time unit) once the fit succeeded."""
        self.params_ = pd.Series(params, index=list(self.param_names), name="estimate")
        self.standard_errors_ = pd.Series(se, index=list(self.param_names), name="se")
        self.log_likelihood_ = float(log_likelihood)
        self.n_iter_ = n_iter
        self.n_customers_ = float(w.sum())
        self.n_distinct_ = int(w.size)

    def _arrays(self, summary):
        """The summary's checked (x, t_x, T) arrays, after checking the model is fitted."""
        self._check_fitted()
        return _summary_arrays(summary)

    def log_likelihood(self, summary: pd.DataFrame) -> pd.Series:
        """Each customer's log-likelihood under the fitted parameters.

        Parameters
        ----------
        summary : pd.DataFrame
            A :func:`~crmlab.clv.summarize` table (plain or ``_cal`` columns).

        Returns
        -------
        pd.Series
            ``log_likelihood`` per customer, indexed like ``summary``.
        """
        x, tx, T = self._arrays(summary)
        return _as_series(self._loglik_terms(self.params_.to_numpy(), x, tx, T), summary,
                          "log_likelihood")

    @property
    def params(self) -> pd.Series:
        """Fitted parameters as a Series (same as ``params_``)."""
        self._check_fitted()
        return self.params_
