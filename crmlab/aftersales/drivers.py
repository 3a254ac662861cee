"""Satisfaction drivers (滿意度驅動因素): an ordered logit/probit and the standardized driver analysis.

:class:`OrderedRegression` is fitted by maximum likelihood; :class:`SatisfactionDrivers` ranks
the standardized drivers of order CSAT and answers what-if questions;
:func:`planted_driver_effects` puts the simulator's hidden coefficients on the same scale.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats

from crmlab._checks import as_frame, require_columns, z_for_level
from crmlab.aftersales.experiences import _order_csat
from crmlab.base import Estimator

__all__ = [
    "DRIVERS",
    "MAX_STD_COEF",
    "MAX_STD_SE",
    "OrderedRegression",
    "SatisfactionDrivers",
    "planted_driver_effects",
]


#: The experiences whose effect on order satisfaction :class:`SatisfactionDrivers` estimates.
DRIVERS: tuple[str, ...] = ("late_days", "returned", "defect", "support_contact", "unresolved_ticket")


class OrderedRegression(Estimator):
    """Ordered logit (proportional odds) or ordered probit, fitted by maximum likelihood.

    The model for an answer y on ordered levels 1..K: a latent y* = x'beta + e (e logistic or
    standard normal) and y = k when c_{k-1} < y* <= c_k, so
    P(y <= k | x) = F(c_k - x'beta). Higher x'beta means higher answers. There is no intercept
    (the cut points c_1 < ... < c_{K-1} absorb it). Fitted by BFGS on the exact gradient,
    with cut points parameterised as c_1 and log increments so their order holds; standard
    errors from the inverse of a numerical Hessian of the log-likelihood.

    Learned attributes: ``classes_`` (the observed levels), ``coef_``, ``thresholds_``,
    ``se_`` and ``cov_`` (of ``coef_``), ``loglik_``, ``n_iter_``, ``converged_``,
    ``feature_names_in_`` (for DataFrame input).

    Parameters
    ----------
    link : {"logit", "probit"}, default "logit"
        Distribution of the latent error.
    max_iter : int, default 500
        Iterations of BFGS.
    tol : float, default 1e-8
        Gradient tolerance of BFGS.
    """

    _fit_call = "fit(X, y)"

    def __init__(self, link: str = "logit", max_iter: int = 500, tol: float = 1e-8):
        self.link = link
        self.max_iter = max_iter
        self.tol = tol

    def _dist(self):
        """The latent error's distribution (scipy) for ``link``."""
        if self.link == "logit":
            return stats.logistic
        if self.link == "probit":
            return stats.norm
        raise ValueError(f"link={self.link!r} must be 'logit' or 'probit'.")

    @staticmethod
    def _matrix(X: object, name: str = "X") -> tuple[np.ndarray, list[str] | None]:
        """``X`` as a finite 2-D float array and its column names."""
        names = list(map(str, X.columns)) if isinstance(X, pd.DataFrame) else None
        try:
            arr = np.asarray(X, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be numeric (convert booleans/categories to numbers).") from exc
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2:
            raise ValueError(f"{name} must be two-dimensional (rows = answers, columns = drivers).")
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} has missing or infinite values; fill or drop them first.")
        return arr, names

    def _unpack(self, theta: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
        """Coefficients and ordered cut points from the parameter vector."""
        beta = theta[:p]
        cuts = np.cumsum(np.r_[theta[p], np.exp(theta[p + 1:])])
        return beta, cuts

    def _nll_grad(self, theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """Negative log-likelihood and its exact gradient at ``theta``."""
        dist = self._dist()
        p = X.shape[1]
        beta, cuts = self._unpack(theta, p)
        K = cuts.size + 1
        eta = X @ beta
        upper = np.r_[cuts, np.inf][y] - eta
        lower = np.r_[-np.inf, cuts][y] - eta
        # P = F(upper) - F(lower), computed on the side where it does not cancel.
        use_sf = lower > 0
        prob = np.where(use_sf, dist.sf(lower) - dist.sf(upper), dist.cdf(upper) - dist.cdf(lower))
        prob = np.maximum(prob, 1e-300)
        f_up, f_lo = dist.pdf(upper), dist.pdf(lower)
        nll = -np.log(prob).sum()
        # d log P / d eta = -(f_up - f_lo) / P ; d log P / d c_y = f_up / P ; / d c_{y-1} = -f_lo / P
        g_eta = -(f_up - f_lo) / prob
        g_beta = -(X.T @ g_eta)
        g_cut = np.zeros(K - 1)
        np.add.at(g_cut, y[y < K - 1], f_up[y < K - 1] / prob[y < K - 1])
        np.add.at(g_cut, y[y > 0] - 1, -f_lo[y > 0] / prob[y > 0])
        g_cut = -g_cut
        # chain rule: c_j = theta_p + sum_{i<=j, i>=1} exp(theta_{p+i})
        g_theta_cut = np.empty(K - 1)
        tail = np.cumsum(g_cut[::-1])[::-1]  # sum_{j >= i} dNLL/dc_j
        g_theta_cut[0] = tail[0]
        g_theta_cut[1:] = tail[1:] * np.exp(theta[p + 1:])
        return float(nll), np.r_[g_beta, g_theta_cut]

    def fit(self, X: object, y: object) -> OrderedRegression:
        """Fit on drivers ``X`` (n x p) and ordered answers ``y`` (n, integers or ordered labels)."""
        Xa, names = self._matrix(X)
        ys = pd.Series(np.asarray(y))
        if ys.isna().any():
            raise ValueError("y has missing answers; count and drop them first (see csat_score).")
        if len(ys) != Xa.shape[0]:
            raise ValueError(f"X has {Xa.shape[0]} rows but y has {len(ys)} answers.")
        classes = np.sort(ys.unique())
        if classes.size < 2:
            raise ValueError("y has a single level; an ordered model needs at least two different answers.")
        yi = np.searchsorted(classes, ys.to_numpy())
        self._dist()
        p = Xa.shape[1]
        share = np.cumsum(np.bincount(yi, minlength=classes.size))[:-1] / yi.size
        start_cuts = self._dist().ppf(np.clip(share, 1e-4, 1 - 1e-4))
        theta0 = np.r_[np.zeros(p), start_cuts[0], np.log(np.maximum(np.diff(start_cuts), 1e-3))]
        res = optimize.minimize(self._nll_grad, theta0, args=(Xa, yi), jac=True, method="BFGS",
                                options={"maxiter": self.max_iter, "gtol": self.tol})
        theta = res.x
        beta, cuts = self._unpack(theta, p)
        # Numerical Hessian of the NLL (central differences of the exact gradient). The
        # coefficient block of its inverse does not depend on how the cut points are
        # parameterised, so theta space is fine for the standard errors of coef_.
        k = theta.size
        H = np.empty((k, k))
        for j in range(k):
            h = 1e-5 * max(1.0, abs(theta[j]))
            e = np.zeros(k)
            e[j] = h
            H[:, j] = (self._nll_grad(theta + e, Xa, yi)[1] - self._nll_grad(theta - e, Xa, yi)[1]) / (2 * h)
        H = (H + H.T) / 2
        try:
            cov = np.linalg.inv(H)[:p, :p]
        except np.linalg.LinAlgError:
            cov = np.full((p, p), np.nan)
        self.classes_ = classes
        self.coef_ = beta
        self.thresholds_ = cuts
        self.cov_ = cov
        self.se_ = np.sqrt(np.clip(np.diag(cov)[:p], 0, None))
        self.loglik_ = -float(res.fun)
        self.n_iter_ = int(res.nit)
        self.converged_ = bool(res.success) or float(np.max(np.abs(res.jac))) < 1e-4 * max(1, yi.size)
        self.feature_names_in_ = names
        self.n_samples_ = yi.size
        return self

    def predict_proba(self, X: object) -> np.ndarray:
        """P(y = each of ``classes_``) per row (n x K)."""
        self._check_fitted()
        Xa, _ = self._matrix(X)
        if Xa.shape[1] != self.coef_.size:
            raise ValueError(f"X has {Xa.shape[1]} columns; the model was fitted on {self.coef_.size}.")
        cdf = self._dist().cdf(self.thresholds_[None, :] - (Xa @ self.coef_)[:, None])
        cum = np.c_[np.zeros(len(Xa)), cdf, np.ones(len(Xa))]
        return np.diff(cum, axis=1)

    def predict(self, X: object) -> np.ndarray:
        """The most likely level per row."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def _ols(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """OLS with intercept: (slopes, their classical standard errors)."""
    A = np.c_[np.ones(len(X)), X]
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    resid = y - A @ coef
    dof = max(len(y) - A.shape[1], 1)
    sigma2 = resid @ resid / dof
    cov = sigma2 * np.linalg.pinv(A.T @ A)
    return coef[1:], np.sqrt(np.diag(cov)[1:])


#: Largest standard error of a standardized driver coefficient that still counts as estimated
#: (real ones are 0.1-0.5 even on a few dozen answers; a separated driver's runs to thousands).
MAX_STD_SE = 10.0


#: Largest |standardized coefficient| that still counts as estimated: +1 SD of a driver moving
#: latent satisfaction by 5 (logit) units already decides every answer; the planted effects are < 1.
MAX_STD_COEF = 5.0


class SatisfactionDrivers(Estimator):
    """Which experiences move order CSAT? Standardized driver analysis (滿意度驅動因素分析).

    ``fit(experiences, surveys)`` joins the answered order-CSAT surveys to
    :func:`order_experiences`, standardizes each driver (z = (x - mean) / sd over the
    respondents) and fits ``method``: ``"ordered_logit"`` / ``"ordered_probit"``
    (:class:`OrderedRegression` on the 1-5 answers) or ``"linear"`` (OLS of the score).
    A standardized coefficient is the change in the latent satisfaction (or in the score)
    for a one-standard-deviation change of the driver, so drivers measured in days and
    yes/no drivers compare on one scale.

    Learned: ``table_`` (driver, mean, sd, coef = per unit of the driver, std_coef, se, low,
    high, rank by |std_coef|, share of the total |std_coef|, identified), ``model_``, ``data_``
    (the respondents), ``n_``, ``dropped_`` (drivers without variation among respondents, left
    out and listed), ``mean_``, ``sd_``.

    A driver is ``identified`` when its standardized coefficient is at most
    :data:`MAX_STD_COEF` in size and its standard error positive and at most
    :data:`MAX_STD_SE`. On a few answers a rare driver can separate the answers (every order
    with a defect answered 1): its maximum-likelihood coefficient runs off towards infinity and
    its standard error is huge or, where the likelihood is flat, numerically 0. Such a driver is
    not ranked by its meaningless size: it comes after every identified driver and gets share 0.

    Parameters
    ----------
    drivers : sequence of str, default DRIVERS
        Columns of :func:`order_experiences` to use as drivers.
    method : {"ordered_logit", "ordered_probit", "linear"}, default "ordered_logit"
        The model.
    touchpoint : str or None, default "order"
        The survey touchpoint whose answers are explained.
    level : float, default 0.95
        Confidence level of ``low``/``high``.
    min_responses : int, default 30
        Fewest answered surveys to fit on.
    """

    _fit_call = "fit(experiences, surveys)"

    def __init__(self, drivers: Sequence[str] = DRIVERS, method: str = "ordered_logit",
                 touchpoint: str | None = "order", level: float = 0.95, min_responses: int = 30):
        self.drivers = drivers
        self.method = method
        self.touchpoint = touchpoint
        self.level = level
        self.min_responses = min_responses

    def fit(self, experiences: pd.DataFrame, surveys: pd.DataFrame) -> SatisfactionDrivers:
        """Fit on the respondents of the order CSAT survey."""
        if self.method not in ("ordered_logit", "ordered_probit", "linear"):
            raise ValueError(f"method={self.method!r} must be 'ordered_logit', 'ordered_probit' or 'linear'.")
        z = z_for_level(self.level)
        drivers = list(self.drivers)
        m = _order_csat(surveys, experiences, self.touchpoint)
        require_columns(m, "experiences", drivers)
        answered = m.loc[m["_responded"].to_numpy(bool)]
        self.missing_scores_ = int(answered["score"].isna().sum())
        data = answered.loc[answered["score"].notna().to_numpy()]
        if len(data) < self.min_responses:
            raise ValueError(f"surveys: only {len(data)} answered order CSAT surveys; driver analysis "
                             f"needs at least min_responses={self.min_responses} (use a bigger shop).")
        X = data[drivers].astype(float)
        sd = X.std(ddof=1)
        self.dropped_ = [d for d in drivers if not sd[d] > 0]
        used = [d for d in drivers if d not in self.dropped_]
        if not used:
            raise ValueError("experiences: no driver varies among the respondents.")
        mean = X[used].mean()
        Z = (X[used] - mean) / sd[used]
        y = pd.to_numeric(data["score"]).to_numpy(dtype=float)
        if self.method == "linear":
            coef, se = _ols(Z.to_numpy(), y)
            self.model_ = None
        else:
            model = OrderedRegression(link="logit" if self.method == "ordered_logit" else "probit")
            model.fit(Z, y.astype(int))
            coef, se = model.coef_, model.se_
            self.model_ = model
        table = pd.DataFrame({"driver": used, "mean": mean.to_numpy(), "sd": sd[used].to_numpy(),
                              "std_coef": coef, "se": se})
        table["coef"] = table["std_coef"] / table["sd"]
        table["low"] = table["std_coef"] - z * table["se"]
        table["high"] = table["std_coef"] + z * table["se"]
        table["identified"] = (np.isfinite(table["std_coef"]) & (table["std_coef"].abs() <= MAX_STD_COEF)
                               & np.isfinite(table["se"]) & (table["se"] > 0) & (table["se"] <= MAX_STD_SE))
        size = table["std_coef"].abs().where(table["identified"], -1.0)  # not identified: ranked last
        table["rank"] = size.rank(ascending=False, method="first").astype(int)
        table["share"] = size.clip(lower=0) / size.clip(lower=0).sum() if (size > 0).any() else 0.0
        self.table_ = table.sort_values("rank").reset_index(drop=True)[
            ["driver", "mean", "sd", "coef", "std_coef", "se", "low", "high", "rank", "share", "identified"]]
        self.data_ = data
        self.n_ = len(data)
        self.mean_, self.sd_, self.used_ = mean, sd[used], used
        self._coef = coef
        return self

    def _z(self, experiences: pd.DataFrame) -> np.ndarray:
        """The drivers of ``experiences`` standardized with the fitted mean and sd."""
        self._check_fitted("table_")
        e = as_frame(experiences, "experiences")
        require_columns(e, "experiences", self.used_)
        return ((e[self.used_].astype(float) - self.mean_) / self.sd_).to_numpy()

    def predict_csat(self, experiences: pd.DataFrame) -> float:
        """Predicted CSAT (share of 4-5) averaged over the given orders (ordered models only)."""
        self._check_fitted("table_")
        if self.model_ is None:
            raise ValueError("predict_csat needs an ordered model; fit with method='ordered_logit' "
                             "or 'ordered_probit'.")
        proba = self.model_.predict_proba(self._z(experiences))
        top = self.model_.classes_ >= 4
        return float(proba[:, top].sum(axis=1).mean())

    def what_if(self, experiences: pd.DataFrame,
                changes: Mapping[str, float | Callable[[pd.Series], pd.Series]]) -> dict[str, float]:
        """Predicted CSAT of ``experiences`` now and after ``changes`` (driver -> new value or a
        function of the old column), e.g. ``{"late_days": lambda d: d.clip(upper=1)}``. A model
        prediction, not a causal guarantee: it assumes the fitted effects hold."""
        e = as_frame(experiences, "experiences").copy()
        before = self.predict_csat(e)
        for col, change in changes.items():
            require_columns(e, "experiences", [col])
            e[col] = change(e[col]) if callable(change) else change
        after = self.predict_csat(e)
        return {"baseline": before, "scenario": after, "change": after - before, "orders": len(e)}


def planted_driver_effects(coefficients: Mapping[str, float], experiences: pd.DataFrame,
                           drivers: Sequence[str] | None = None) -> pd.DataFrame:
    """Planted (true) driver effects on the standardized scale: coefficient x sd(driver).

    ``coefficients`` maps driver -> effect on latent satisfaction per unit (the shop's
    ``truth["satisfaction"]["coefficients"]``); ``sd`` is taken over ``experiences`` (all
    orders). Columns: driver, planted_coef, sd, planted_std_effect, planted_rank (by
    |planted_std_effect|).

    Parameters
    ----------
    coefficients : mapping
        Driver -> planted effect per unit.
    experiences : pd.DataFrame
        Output of :func:`order_experiences`.
    drivers : sequence of str, optional
        The drivers to list; default every key of ``coefficients``.

    Returns
    -------
    pd.DataFrame
        One row per driver, largest planted effect first.
    """
    e = as_frame(experiences, "experiences")
    names = list(drivers) if drivers is not None else list(coefficients)
    require_columns(e, "experiences", names)
    missing = [d for d in names if d not in coefficients]
    if missing:
        raise ValueError(f"coefficients: no planted value for {missing}.")
    sd = e[names].astype(float).std(ddof=1)
    out = pd.DataFrame({"driver": names, "planted_coef": [float(coefficients[d]) for d in names],
                        "sd": sd.to_numpy()})
    out["planted_std_effect"] = out["planted_coef"] * out["sd"]
    out["planted_rank"] = out["planted_std_effect"].abs().rank(ascending=False, method="first").astype(int)
    return out.sort_values("planted_rank").reset_index(drop=True)
