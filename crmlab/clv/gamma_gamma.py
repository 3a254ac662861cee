"""The Gamma-Gamma model of spend per purchase (Fader & Hardie 2013; Colombo & Jiang 1999)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from crmlab.base import Estimator
from crmlab.clv.compress import _compress
from crmlab.clv.models.fitting import _hessian_from_grad, _minimize, _standard_errors
from crmlab.clv.summary import _as_series, _weights_array
from crmlab.clv.value import clv

__all__ = ["GammaGammaModel"]


def _spend_columns(summary: pd.DataFrame) -> dict[str, str]:
    """``frequency`` and ``monetary_value`` (plain, else ``_cal``): all Gamma-Gamma needs
    (recency and T carry no information on spend, so they are not required)."""
    if not isinstance(summary, pd.DataFrame):
        raise ValueError(
            f"summary must be a pandas DataFrame (the output of summarize()), got "
            f"{type(summary).__name__}."
        )
    names = ("frequency", "monetary_value")
    for suffix in ("", "_cal"):
        if all(f"{n}{suffix}" in summary.columns for n in names):
            return {n: f"{n}{suffix}" for n in names}
    missing = [n for n in names if n not in summary.columns]
    raise ValueError(
        f"summary: column(s) {missing} not found (have {list(summary.columns)}); the "
        "Gamma-Gamma model needs each customer's repeat-purchase count and mean repeat "
        "spend: build the table with crmlab.clv.summarize() or rename your columns to "
        f"{list(names)}."
    )


def _objective(x: np.ndarray, ms: np.ndarray, w: np.ndarray):
    """Mean negative log-likelihood and its analytic gradient in log-parameters, for
    repeat buyers with ``x`` repeat purchases and mean spend ``ms`` (rescaled to mean 1)."""
    wsum = w.sum()
    logx = np.log(x)
    logm = np.log(ms)

    def fg(logp):
        p, q, g = np.exp(logp)
        px = p * x
        gxm = g + x * ms
        lg = np.log(gxm)
        ll = w @ (special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q)
                  + q * np.log(g) + px * logx + (px - 1) * logm - (px + q) * lg)
        psi_pq = special.digamma(px + q)
        g_p = w @ (x * (psi_pq - special.digamma(px) + logx + logm - lg))
        g_q = w @ (psi_pq - special.digamma(q) + np.log(g) - lg)
        g_g = wsum * q / g - w @ ((px + q) / gxm)
        grad = np.array([g_p * p, g_q * q, g_g * g])
        return -ll / wsum, -grad / wsum

    return fg


class GammaGammaModel(Estimator):
    """Gamma-Gamma model of spend per purchase (Fader & Hardie 2013 note; Colombo &
    Jiang 1999).

    Each purchase of a customer is Gamma(p, nu); nu ~ Gamma(q, gamma) across
    customers, independent of how often they buy. Fitted on the repeat buyers
    (frequency > 0) with their mean repeat spend ``monetary_value``; customers with
    frequency 0 carry no spend information and are left out of the fit (counted in
    ``n_excluded_``), they get the population mean in ``expected_spend``.

    Parameters
    ----------
    tol : float, default 1e-9
        Gradient tolerance of the optimizer on the mean log-likelihood.
    max_iter : int, default 500
        Iteration cap of the optimizer.

    Attributes
    ----------
    params_ : pd.Series
        Fitted ``p``, ``q``, ``gamma`` (``gamma`` in the unit of the spend).
    standard_errors_ : pd.Series
        Their delta-method standard errors.
    log_likelihood_ : float
        Total log-likelihood of the repeat buyers' mean spends.
    n_customers_ : float
        Customers (summed weights) the fit used; ``n_excluded_`` rows were left out.
    """

    param_names = ("p", "q", "gamma")
    _fit_call = "fit(summary)"

    def __init__(self, tol: float = 1e-9, max_iter: int = 500):
        self.tol = tol
        self.max_iter = max_iter

    @staticmethod
    def _arrays(summary: pd.DataFrame):
        cols = _spend_columns(summary)
        if len(summary) == 0:
            raise ValueError("summary is empty: there are no customers to fit or score.")
        x = summary[cols["frequency"]].to_numpy(dtype=float)
        m = summary[cols["monetary_value"]].to_numpy(dtype=float)
        if not (np.isfinite(x).all() and np.isfinite(m).all()):
            raise ValueError(
                f"summary: columns '{cols['frequency']}' and '{cols['monetary_value']}' must "
                "not have missing values."
            )
        if (x < 0).any():
            raise ValueError(
                f"summary: column '{cols['frequency']}' has negative values; frequency counts "
                "repeat purchases and must be >= 0."
            )
        if ((x > 0) & (m <= 0)).any():
            raise ValueError(
                f"summary: {int(((x > 0) & (m <= 0)).sum())} repeat buyers have "
                f"'{cols['monetary_value']}' <= 0; the Gamma-Gamma model needs positive spend. "
                "If their repeat purchases were free ($0.00 lines, as in CDNOW) or fully refunded, "
                f"fit the spend model without them, summary[summary['{cols['monetary_value']}'] > 0] "
                "(and say how many), or fit on gross amounts."
            )
        return x, m, cols

    @staticmethod
    def _loglik_terms(params, x, m):
        p, q, g = params
        px = p * x
        return (special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q)
                + q * np.log(g) + px * np.log(x) + (px - 1) * np.log(m)
                - (px + q) * np.log(g + x * m))

    def fit(self, summary: pd.DataFrame, weights=None) -> GammaGammaModel:
        """Maximum-likelihood fit on the repeat buyers of a ``summarize()`` table.

        Parameters
        ----------
        summary : pd.DataFrame
            A :func:`~crmlab.clv.summarize` table (plain or ``_cal`` columns).
        weights : str or array-like, optional
            Customers per row (a column name or one value per row); default 1 each.

        Returns
        -------
        GammaGammaModel
            ``self``, fitted.
        """
        x, m, cols = self._arrays(summary)
        w = _weights_array(summary, weights)
        use = (x > 0) & (w > 0)
        if not use.any():
            raise ValueError(
                f"summary: no customer has '{cols['frequency']}' > 0, so there is no repeat "
                "spend to fit; use a longer window or a coarser freq."
            )
        (x, m), w = _compress([x[use], m[use]], w[use])
        if np.unique(m).size < 2:
            raise ValueError(
                f"summary: every repeat buyer has the same '{cols['monetary_value']}'; the "
                "spread of spend across customers cannot be estimated."
            )
        scale = float(np.average(m, weights=w))
        fg = _objective(x, m / scale, w)
        x0 = np.log([1.0, 2.0, 1.0])
        res = _minimize(fg, x0, jac=True, tol=self.tol, max_iter=self.max_iter,
                        what="GammaGammaModel")
        params = np.exp(res.x)
        H = _hessian_from_grad(lambda z: fg(z)[1], res.x) * w.sum()
        se = _standard_errors(H, params)
        params[2] *= scale
        se[2] *= scale
        self.params_ = pd.Series(params, index=list(self.param_names), name="estimate")
        self.standard_errors_ = pd.Series(se, index=list(self.param_names), name="se")
        self.log_likelihood_ = float(w @ self._loglik_terms(params, x, m))
        self.n_iter_ = res.n_iter
        self.n_customers_ = float(w.sum())
        self.n_excluded_ = int((~use).sum())
        return self

    @property
    def mean_spend_(self) -> float:
        """Population mean spend per purchase, p * gamma / (q - 1) (inf if q <= 1)."""
        self._check_fitted()
        p, q, g = self.params_.to_numpy()
        return float(p * g / (q - 1)) if q > 1 else float("inf")

    def expected_spend(self, summary: pd.DataFrame) -> pd.Series:
        """E[spend per purchase | x, mean repeat spend m_x]: a credibility-weighted
        average of the population mean and the customer's own mean,
        ``(q-1)/(p x+q-1) * p gamma/(q-1) + p x/(p x+q-1) * m_x``.

        Parameters
        ----------
        summary : pd.DataFrame
            A :func:`~crmlab.clv.summarize` table (``frequency``, ``monetary_value``).

        Returns
        -------
        pd.Series
            ``expected_spend`` per customer, indexed like ``summary``.
        """
        self._check_fitted()
        x, m, _ = self._arrays(summary)
        p, q, g = self.params_.to_numpy()
        out = p * (g + x * m) / (p * x + q - 1)
        return _as_series(out, summary, "expected_spend")

    def clv(self, summary: pd.DataFrame, transaction_model, horizon: float,
            discount_rate: float, step: float = 1.0) -> pd.Series:
        """Discounted CLV using ``transaction_model`` for purchases (see :func:`clv`).

        Parameters
        ----------
        summary : pd.DataFrame
            The customers to value (a :func:`~crmlab.clv.summarize` table).
        transaction_model : BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel or NBDModel
            A fitted transaction model.
        horizon, discount_rate, step : float
            As in :func:`~crmlab.clv.clv`.

        Returns
        -------
        pd.Series
            ``clv`` per customer.
        """
        return clv(transaction_model, self, summary, horizon=horizon,
                   discount_rate=discount_rate, step=step)
