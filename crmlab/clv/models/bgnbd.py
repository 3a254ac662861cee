"""BG/NBD (Fader, Hardie & Lee 2005) and MBG/NBD (Batislam, Denizel & Filiztekin 2007):
repeat buying while alive, dropout right after a purchase."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from crmlab.clv.compress import _compress
from crmlab.clv.models.base import _BTYDBase, _nbd_logpmf, _nbd_sf, _pmf_table
from crmlab.clv.models.fitting import _bounded_fit, _newton, _standard_errors
from crmlab.clv.summary import _as_series

__all__ = ["BetaGeoModel", "ModifiedBetaGeoModel", "sample_bgnbd"]

#: a + b above which BG/NBD forecasts integrate over the (concentrated) Beta of p
_CONCENTRATED_BETA = 1_000.0


def _expected_if_alive_by_quadrature(t, x, T, r, alpha, a, b, nodes: int = 96) -> np.ndarray:
    """E[purchases in (T, T+t] | alive at T, x] for BG/NBD, by quadrature over p.

    Given the history and being alive, lambda ~ Gamma(r + x, alpha + T) and the dropout
    probability p ~ Beta(a, b + x); an alive customer with (lambda, p) buys
    (1 - exp(-lambda p t)) / p times on average in t periods, and the expectation over
    lambda is closed form, leaving a one-dimensional integral over p. Used where the
    Beta is concentrated (a > 1, a + b large), on Gauss-Legendre nodes spanning +-12
    standard deviations around its mean with the exact Beta density as weight.
    """
    x, T, t = (np.asarray(v, dtype=float) for v in (x, T, t))
    out = np.empty(x.shape)
    gx, gl = np.polynomial.legendre.leggauss(nodes)
    for xv in np.unique(x):
        rows = x == xv
        bb = b + xv
        mean = a / (a + bb)
        sd = np.sqrt(a * bb / ((a + bb) ** 2 * (a + bb + 1)))
        lo, hi = max(mean - 12 * sd, 1e-300), min(mean + 12 * sd, 1.0 - 1e-16)
        p = lo + (hi - lo) * (gx + 1) / 2
        logpdf = (a - 1) * np.log(p) + (bb - 1) * np.log1p(-p)
        wts = gl * np.exp(logpdf - logpdf.max())
        wts = wts / wts.sum()
        k = alpha + T[rows][:, None]
        stay = np.exp((r + xv) * (np.log(k) - np.log(k + p[None, :] * t[rows][:, None])))
        out[rows] = ((1 - stay) / p[None, :]) @ wts
    return out


def _bg_pmf(n, t, r, alpha, a, b, shift: int = 0):
    """P(X(t) = n) for a customer whose purchase and dropout story starts at 0.

    BG/NBD (``shift=0``; FHL 2005 eq. 8): ``B(a, b+n)/B(a, b) NBD(n) + [n>0]
    B(a+1, b+n-1)/B(a, b) P(NBD >= n)``. MBG/NBD (``shift=1``; Batislam et al. 2007),
    where the customer may also drop out right after the first purchase: ``n`` becomes
    ``n + 1`` in the Beta functions and the second term is there for every ``n``.
    All arguments broadcast, so per-customer (posterior) parameters work.
    """
    n = np.asarray(n, dtype=float)
    k = shift
    first = np.exp(special.betaln(a, b + n + k) - special.betaln(a, b) + _nbd_logpmf(n, t, r, alpha))
    with np.errstate(invalid="ignore", divide="ignore"):
        w2 = np.exp(special.betaln(a + 1, b + np.maximum(n + k, 1) - 1) - special.betaln(a, b))
    second = np.where(n + k > 0, w2 * _nbd_sf(n, t, r, alpha), 0.0)
    return first + second


class BetaGeoModel(_BTYDBase):
    """BG/NBD model of repeat purchasing with dropout (Fader, Hardie & Lee 2005).

    Story: while alive, a customer buys as a Poisson process with rate lambda;
    lambda ~ Gamma(r, alpha) across customers. After each repeat purchase the customer
    drops out for good with probability p; p ~ Beta(a, b) across customers.

    Parameters
    ----------
    tol : float, default 1e-9
        Gradient tolerance of the optimizer on the mean log-likelihood.
    max_iter : int, default 500
        Iteration cap of the optimizer.

    Attributes
    ----------
    params_ : pd.Series
        Fitted ``r``, ``alpha``, ``a``, ``b`` (``alpha`` in periods of the summary).
    standard_errors_ : pd.Series
        Their delta-method standard errors (NaN for parameters in ``boundary_``).
    log_likelihood_ : float
        Total log-likelihood (the number papers print).
    n_customers_, n_distinct_ : float, int
        Customers fitted, and the distinct (frequency, recency, T) triples the fit used.
    n_iter_ : int
        Optimizer iterations.
    boundary_, boundary_note_ : tuple of str, str
        Parameters that ended on a limit of the model, and that limit in words (below).

    **When the best fit is a limit of the model.** On a small or short data set the
    likelihood can keep rising towards the edge of the parameter space, because a
    simpler model that BG/NBD contains as a limit fits the data at least as well:

    * ``a -> 0``: nobody drops out (the NBD model); ``b`` is then not identified;
    * ``a, b -> inf`` with ``a/(a+b)`` fixed: every customer has the same dropout
      probability ``p = a/(a+b)`` after each repeat purchase;
    * ``r, alpha -> inf`` with ``r/alpha`` fixed: every customer buys at the same rate.

    The unconstrained Newton fit then either stops far out (accepted when its gradient
    vanishes) or never converges. In that case, rather than fail, ``fit`` maximizes the
    likelihood over a wide box of parameters (on the internal clock, where the longest
    history is 10 time units: ``r``, ``a``, ``b`` in ``[e^-10, e^10]``, ``alpha`` in
    ``[e^-10, e^18]``), where the bound stands for the limit (a Beta with
    ``a, b = e^10`` has a standard deviation of about 0.6% of its mean). The parameters
    that end beyond ``[e^-8, e^8]`` on the internal clock (``alpha``: ``e^16``; ``a``
    and ``b`` together when ``a + b > e^8`` or ``a < e^-8``, ``r`` and ``alpha`` when
    ``r > e^8``), where the model is numerically its limit and the likelihood is flat
    in them, are listed
    in ``boundary_`` (empty for an interior fit) and ``boundary_note_`` says in words
    which limit the data chose; their standard errors are NaN (the others are
    conditional on them). Predictions stay valid: they are those of the limit model
    (forecasts integrate over a concentrated Beta numerically). Report such a fit as
    what it is — the data cannot tell the full model from its simpler limit — not as
    estimates of four parameters.
    """

    param_names = ("r", "alpha", "a", "b")
    _name = "BetaGeoModel"
    #: box of the bounded fit, log-parameters on the internal clock (r, alpha, a, b)
    _log_lower = np.array([-10.0, -10.0, -10.0, -10.0])
    _log_upper = np.array([10.0, 18.0, 10.0, 10.0])
    #: beyond these the model is numerically its limit: such parameters are in boundary_
    _log_edge_lower = np.array([-8.0, -8.0, -8.0, -8.0])
    _log_edge_upper = np.array([8.0, 16.0, 8.0, 8.0])

    def __init__(self, tol: float = 1e-9, max_iter: int = 500):
        self.tol = tol
        self.max_iter = max_iter

    #: dropout opportunities before the first repeat purchase: 0 for BG/NBD (dropout only
    #: after a repeat purchase), 1 for MBG/NBD (also right after the first purchase)
    _shift = 0

    # ---- likelihood -----------------------------------------------------------------
    @classmethod
    def _loglik_terms(cls, params, x, tx, T):
        """Per-customer log-likelihood (FHL 2005 eq. 6; Batislam et al. 2007 eq. 3 for
        MBG/NBD, where ``x`` becomes ``x + 1`` in the dropout part), in log space."""
        r, alpha, a, b = params
        k = cls._shift
        base = (
            special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
            + special.betaln(a, b + x + k) - special.betaln(a, b)
        )
        t1 = -(r + x) * np.log(alpha + T)
        xpos = x + k > 0
        t2 = np.log(a) - np.log(b + np.maximum(x + k, 1) - 1) - (r + x) * np.log(alpha + tx)
        d = np.where(xpos, t2 - t1, -np.inf)
        return base + t1 + np.logaddexp(0.0, d)

    # Long function: the analytic gradient and Hessian of FHL 2005 eq. 6, derived
    # term by term in one place (x-only, T-only and softplus parts share the grouping set up
    # here); split up, the derivation could no longer be read against the paper.
    @classmethod
    def _make_objective(cls, x, tx, T, w):
        """Mean negative log-likelihood, its gradient and Hessian in log-parameters.

        Returns ``fgh(logp, hess=False) -> (f, g, H or None)``. The likelihood of a
        customer is ``A(x) - (r+x) log(alpha+T) + [x>0] softplus(d)`` with
        ``d = log a - log(b+x-1) - (r+x) log((alpha+t_x)/(alpha+T))``; so

        * ``A(x)`` (gamma and beta functions) is evaluated once per distinct x and
          weighted by the number of customers with that x,
        * ``(r+x) log(alpha+T)`` once per distinct T (with per-T sums of weights and of
          weight * x),
        * only the softplus term needs one pass over the distinct (x, t_x, T) rows of
          repeat buyers, and its Hessian is a single 3-column Gram product.

        For MBG/NBD (``_shift = 1``) the dropout part uses ``x + 1`` in place of ``x``
        and every customer, repeat buyer or not, has the softplus term.
        """
        k = cls._shift
        # hash-based grouping (order of the groups does not matter)
        x_inv, xs = pd.factorize(x)
        Wx = np.bincount(x_inv, weights=w, minlength=xs.size)
        T_inv, Ts = pd.factorize(T)
        W_T = np.bincount(T_inv, weights=w, minlength=Ts.size)
        X_T = np.bincount(T_inv, weights=w * x, minlength=Ts.size)
        pos = x + k > 0
        wP, xP = w[pos], x[pos]
        TinvP = T_inv[pos]
        xinvP = x_inv[pos]
        txinvP, txs = pd.factorize(tx[pos])
        xm1 = np.maximum(xs + k, 1) - 1  # b + x + k - 1 only matters for x + k >= 1
        xb = xs + k  # x in the Beta part (x + 1 for MBG/NBD)
        wsum = w.sum()
        dg, tg = special.digamma, special.polygamma

        # Long function: one pass computing f, gradient and Hessian together (the
        # parts reuse each other's intermediate arrays; splitting would recompute or pass a dozen).
        def fgh(logp, hess=False):
            r, alpha, a, b = theta = np.exp(logp)
            # ---- parts that depend on x only
            psi_ab, psi_abx = dg(a + b), dg(a + b + xb)
            A = (special.gammaln(r + xs) - special.gammaln(r) + r * np.log(alpha)
                 + special.gammaln(b + xb) - special.gammaln(a + b + xb)
                 - special.gammaln(b) + special.gammaln(a + b))
            gA = np.array([
                Wx @ (dg(r + xs) - dg(r)) + wsum * np.log(alpha),
                wsum * r / alpha,
                Wx @ (psi_ab - psi_abx),
                Wx @ (dg(b + xb) - psi_abx - dg(b) + psi_ab),
            ])
            # ---- parts that depend on T only: -(r + x) log(alpha + T)
            lT = np.log(alpha + Ts)
            iT = 1.0 / (alpha + Ts)
            rw = r * W_T + X_T
            f_t = -(rw @ lT)
            g_t = np.array([-(W_T @ lT), -(rw @ iT), 0.0, 0.0])
            # ---- repeat buyers: softplus(d)
            ltx = np.log(alpha + txs)
            itx = 1.0 / (alpha + txs)
            delta = ltx[txinvP] - lT[TinvP]  # log((alpha+t_x)/(alpha+T)) <= 0
            itx_r, iT_r = itx[txinvP], iT[TinvP]
            e = itx_r - iT_r  # d delta / d alpha
            rx = r + xP
            ib = 1.0 / (b + xm1)
            ib_r = ib[xinvP]
            d = (np.log(a) - np.log(b + xm1))[xinvP] - rx * delta
            z = np.exp(-np.abs(d))  # one exp for both softplus and sigmoid
            sp = np.maximum(d, 0.0) + np.log1p(z)
            sig = np.where(d >= 0, 1.0, z) / (1.0 + z)
            ws = wP * sig
            D = np.empty((d.size, 3))
            D[:, 0] = -delta  # d d / d r
            D[:, 1] = -rx * e  # d d / d alpha
            D[:, 2] = -ib_r  # d d / d b   (d d / d a = 1/a for every row)
            g_s = np.array([ws @ D[:, 0], ws @ D[:, 1], ws.sum() / a, ws @ D[:, 2]])
            ll = Wx @ A + f_t + wP @ sp
            grad_theta = gA + g_t + g_s
            g_log = theta * grad_theta
            if not hess:
                return -ll / wsum, -g_log / wsum, None
            H = np.zeros((4, 4))
            # x-only parts
            tg_ab, tg_abx = tg(1, a + b), tg(1, a + b + xb)
            H[0, 0] = Wx @ (tg(1, r + xs) - tg(1, r))
            H[1, 0] = wsum / alpha
            H[1, 1] = -wsum * r / alpha ** 2
            H[2, 2] = H[3, 2] = Wx @ (tg_ab - tg_abx)
            H[3, 3] = Wx @ (tg(1, b + xb) - tg_abx - tg(1, b) + tg_ab)
            # T-only parts
            H[1, 0] += -(W_T @ iT)
            H[1, 1] += rw @ iT ** 2
            # softplus: sigma' * grad(d) grad(d)^T + sigma * hess(d)  (lower triangle)
            wv = ws * (1.0 - sig)
            G = (D * wv[:, None]).T @ D  # rows/cols: r, alpha, b
            idx = [0, 1, 3]
            for i in range(3):
                for j in range(3):
                    H[idx[i], idx[j]] += G[i, j] if i >= j else 0.0
            cross = (wv @ D) / a  # with d d / d a = 1/a
            H[2, 0] += cross[0]
            H[2, 1] += cross[1]
            H[3, 2] += cross[2]
            H[2, 2] += wv.sum() / a ** 2
            # second derivatives of d
            H[1, 0] += -(ws @ e)
            H[1, 1] += ws @ (rx * (itx_r ** 2 - iT_r ** 2))
            H[2, 2] += -ws.sum() / a ** 2
            H[3, 3] += ws @ ib_r ** 2
            H = np.tril(H) + np.tril(H, -1).T
            # chain rule to log-parameters
            H_log = theta[:, None] * H * theta[None, :] + np.diag(g_log)
            return -ll / wsum, -g_log / wsum, -H_log / wsum

        return fgh

    # ---- sklearn-style API ----------------------------------------------------------
    def fit(self, summary: pd.DataFrame, weights=None) -> BetaGeoModel:
        """Maximum-likelihood fit on a ``summarize()`` table.

        ``weights`` (column name or array) says how many customers a row stands for,
        for tables that are already compressed; by default every row is one customer.

        Newton-type trust-region steps with the exact Hessian; on large tables the
        starting point comes from a fit on 20,000 rows sampled by weight (seeded, so
        fits are reproducible), which leaves a few full-data iterations.

        Parameters
        ----------
        summary : pd.DataFrame
            A :func:`~crmlab.clv.summarize` table (plain or ``_cal`` columns).
        weights : str or array-like, optional
            Customers per row (a column name or one value per row); default 1 each.

        Returns
        -------
        BetaGeoModel
            ``self``, fitted.
        """
        x, tx, T, w, scale = self._prepare(summary, weights)
        lo, hi = self._log_lower, self._log_upper
        x0, n_iter = self._start(x, tx, T, w)
        fgh = self._make_objective(x, tx, T, w)
        res = _newton(fgh, x0, tol=self.tol, max_iter=self.max_iter, what=self._name,
                      strict=False)
        on_bound = np.zeros(4, dtype=bool)
        if res is None:
            # the unconstrained optimum is a limit of the model: fit within the box
            res, on_bound = _bounded_fit(fgh, x0, lo, hi, tol=self.tol,
                                         max_iter=self.max_iter, what=self._name)
        on_bound |= self._at_limit(res.x)
        params = np.exp(res.x)
        se = _standard_errors(res.hess * w.sum(), params)
        se[on_bound] = np.nan
        params[1] /= scale
        se[1] /= scale
        # total log-likelihood in the caller's time unit (the papers' number): on the
        # internal clock every repeat purchase's density carries a factor 1/scale
        self._store_fit(params, se, -res.fun * w.sum() + (w * x).sum() * np.log(scale),
                        n_iter + res.n_iter, w)
        self.boundary_ = tuple(n for n, b in zip(self.param_names, on_bound, strict=True) if b)
        self.boundary_note_ = self._boundary_note()
        return self

    def _start(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray, w: np.ndarray):
        """Starting log-parameters and the iterations spent finding them.

        r/alpha from the mean repeat rate, a=1, b=3 (a dropout chance of 1/4); on more than
        30,000 distinct rows, refined by a loose fit on 20,000 rows drawn by weight (seed 0).
        """
        rate = max(float((w * x).sum() / (w * T).sum()), 1e-3)
        x0 = np.log([1.0, 1.0 / rate, 1.0, 3.0])
        if x.size <= 30_000:
            return x0, 0
        rng = np.random.default_rng(0)
        pick = rng.choice(x.size, size=20_000, p=w / w.sum())
        (xs_, txs_, Ts_), ws_ = _compress([x[pick], tx[pick], T[pick]], np.ones(pick.size))
        sub = _newton(self._make_objective(xs_, txs_, Ts_, ws_), x0, tol=1e-6,
                      max_iter=self.max_iter, what=self._name, strict=False)
        if sub is not None and np.all((sub.x >= self._log_lower) & (sub.x <= self._log_upper)):
            return sub.x, sub.n_iter
        return x0, 0

    @classmethod
    def _at_limit(cls, z: np.ndarray) -> np.ndarray:
        """Which log-parameters (internal clock) stand for a limit of the model.

        A Beta(a, b) with a + b beyond e^8 is one dropout probability, and so is a
        below e^-8 (p = 0; b then unidentified): both flag a and b. A Gamma(r, alpha)
        with r beyond e^8 is one purchase rate: flags r and alpha. Any other
        parameter beyond the edge thresholds is flagged alone.
        """
        out = (z <= cls._log_edge_lower) | (z >= cls._log_edge_upper)
        log_r, _, log_a, log_b = z
        if np.logaddexp(log_a, log_b) >= cls._log_edge_upper[2] or log_a <= cls._log_edge_lower[2]:
            out[2:] = True
        if log_r >= cls._log_edge_upper[0]:
            out[:2] = True
        return out

    def _boundary_note(self) -> str:
        """In words, which limit of the model a fit on the edge stands for."""
        if not self.boundary_:
            return ""
        r, alpha, a, b = self.params_.to_numpy()
        on = set(self.boundary_)
        parts, named = [], set()
        if {"a", "b"} <= on:
            named |= {"a", "b"}
            parts.append("a -> 0: nobody drops out (the NBD model without dropout; b is not "
                         "identified)" if a < 1 else
                         f"a, b -> infinity: every customer has the same dropout probability "
                         f"p = a/(a+b) = {a / (a + b):.3f} after each repeat purchase")
        if {"r", "alpha"} <= on:
            named |= {"r", "alpha"}
            parts.append(f"r, alpha -> infinity: every customer buys at the same rate "
                         f"r/alpha = {r / alpha:.4g} per period")
        rest = [n for n in self.param_names if n in on - named]
        if rest:
            parts.append(f"{', '.join(rest)} on the edge of the parameter space")
        return "; ".join(parts)

    def p_alive(self, summary: pd.DataFrame) -> pd.Series:
        """P(customer is still alive at T | frequency, recency, T) — FHL 2005 eq. (11).

        Customers without a repeat purchase cannot have dropped out in the BG/NBD
        story (dropout happens only right after a repeat purchase), so theirs is 1.

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
        r, alpha, a, b = self.params_.to_numpy()
        k = self._shift
        log_odds_dead = (np.log(a) - np.log(b + np.maximum(x + k, 1) - 1)
                         + (r + x) * (np.log(alpha + T) - np.log(alpha + tx)))
        p = np.where(x + k > 0, special.expit(-log_odds_dead), 1.0)
        return _as_series(p, summary, "p_alive")

    def predict_purchases(self, t, summary: pd.DataFrame) -> pd.Series:
        """Expected number of purchases in the next ``t`` periods, E[Y(t) | x, t_x, T].

        FHL 2005 eq. (10). The hypergeometric factor is evaluated in the Euler-
        transformed form of Fader & Hardie's note 027 (``(1-z)^(a-1) 2F1(a+b-1-r,
        a-1; a+b+x-1; z)``), which stays finite where the textbook form overflows.

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
        t = np.asarray(t, dtype=float)
        if (t < 0).any():
            raise ValueError("t (the horizon in periods) must be >= 0.")
        r, alpha, a, b = self.params_.to_numpy()
        x, T, t = np.broadcast_arrays(x, T, t)
        # given alive, p ~ Beta(a, b + x) (BG/NBD) or Beta(a, b + x + 1) (MBG/NBD): the
        # MBG/NBD forecast (Batislam et al. 2007 eq. 6) is the BG/NBD one with b -> b + 1
        bk = b + self._shift
        if a > 1 and a + bk > _CONCENTRATED_BETA:
            # a, b near the "same dropout probability for all" limit (see fit): the
            # hypergeometric form under/overflows there, the integral over p does not
            num = _expected_if_alive_by_quadrature(t, x, T, r, alpha, a, bk)
        else:
            z = t / (alpha + T + t)
            with np.errstate(over="ignore", invalid="ignore"):
                hyp = (1 - z) ** (a - 1) * special.hyp2f1(a + bk - 1 - r, a - 1, a + bk + x - 1, z)
                num = (a + bk + x - 1) / (a - 1) * (1 - hyp)
            bad = ~np.isfinite(num)
            if bad.any() and a > 1:
                num = num.copy()
                num[bad] = _expected_if_alive_by_quadrature(t[bad], x[bad], T[bad], r, alpha, a, bk)
        p_al = self.p_alive(summary).to_numpy()
        return _as_series(num * p_al, summary, "expected_purchases")

    def expected_purchases_new(self, t) -> np.ndarray:
        """E[X(t)] for a customer just acquired (FHL 2005 eq. 9): the population curve.

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
        r, alpha, a, b = self.params_.to_numpy()
        z = t / (alpha + t)
        hyp = special.hyp2f1(r, b, a + b - 1, z)
        return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp)

    def prob_no_purchase(self, t, summary: pd.DataFrame) -> pd.Series:
        """P(no purchase in the next ``t`` periods | history) — a churn score.

        Dead customers never buy; an alive one's rate given the history is
        Gamma(r + x, alpha + T), so P(0 purchases | alive) = ((alpha+T)/(alpha+T+t))^(r+x).

        Parameters
        ----------
        t : float
            Horizon in periods of the summary.
        summary : pd.DataFrame
            A :func:`~crmlab.clv.summarize` table.

        Returns
        -------
        pd.Series
            ``p_no_purchase`` per customer, indexed like ``summary``.
        """
        x, tx, T = self._arrays(summary)
        r, alpha, a, b = self.params_.to_numpy()
        pa = self.p_alive(summary).to_numpy()
        stay = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + np.asarray(t, float))))
        return _as_series(1 - pa + pa * stay, summary, "p_no_purchase")

    def probability_of_purchases(self, t, x, summary: pd.DataFrame | None = None):
        """P(X(t) = x): the chance of exactly ``x`` repeat purchases in ``t`` periods.

        Without ``summary``: for a customer just acquired (FHL 2005 eq. 8; Batislam et
        al. 2007 for MBG/NBD); ``t`` and ``x`` broadcast, an array comes back. With a
        ``summary``: P(Y(t) = x | frequency, recency, T) in the next ``t`` periods for
        each customer (one ``t``, one ``x``): dead customers buy nothing, an alive one
        restarts the story with lambda ~ Gamma(r + x, alpha + T) and p ~ Beta(a, b + x)
        (``b + x + 1`` for MBG/NBD). ``x = 0`` gives :meth:`prob_no_purchase`.

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
        r, alpha, a, b = self.params_.to_numpy()
        k = self._shift

        def posterior(y, t_):
            xh, _, T = self._arrays(summary)
            return _bg_pmf(y, t_, r + xh, alpha + T, a, b + xh + k, 0)

        return _pmf_table(lambda y, t_: _bg_pmf(y, t_, r, alpha, a, b, k), t, x, summary,
                          self.p_alive, posterior)

    def sample(self, n_customers: int, T, seed=None) -> pd.DataFrame:
        """Simulate a summary table from the fitted model (see :func:`sample_bgnbd`).

        Parameters
        ----------
        n_customers : int
            Customers to simulate.
        T : float or array-like
            Their ages at the end of observation, in periods.
        seed : int, optional
            Seed of the draws.

        Returns
        -------
        pd.DataFrame
            As :func:`~crmlab.clv.sample_bgnbd`.
        """
        self._check_fitted()
        return sample_bgnbd(n_customers, T, *self.params_.to_numpy(), seed=seed,
                            modified=bool(self._shift))


class ModifiedBetaGeoModel(BetaGeoModel):
    """MBG/NBD model (Batislam, Denizel & Filiztekin 2007, IJRM 24(3)).

    BG/NBD lets a customer drop out only right after a *repeat* purchase, so a customer
    who never came back is alive for sure (P(alive) = 1 at x = 0), which flatters
    one-time buyers. MBG/NBD adds a dropout chance p right after the first purchase
    too: alive after x repeat purchases with probability (1 - p)^(x + 1). Everything
    else is BG/NBD's: Poisson purchasing with lambda ~ Gamma(r, alpha), p ~ Beta(a, b).

    Same interface, likelihood code, analytic gradient and Hessian, trust-region
    Newton fit and limit handling as :class:`BetaGeoModel` (its formulas with ``x + 1``
    in the dropout part; ``_shift = 1``). Published MLEs on the CDNOW sample (weeks):
    r=0.525, alpha=6.183, a=0.891, b=1.614 (Platzer's R package BTYDplus, the values
    lifetimes tests its ModifiedBetaGeoFitter against).

    Parameters
    ----------
    tol : float, default 1e-9
        Gradient tolerance of the optimizer on the mean log-likelihood.
    max_iter : int, default 500
        Iteration cap of the optimizer.
    """

    _shift = 1
    _name = "ModifiedBetaGeoModel"

    def expected_purchases_new(self, t) -> np.ndarray:
        """E[X(t)] for a customer just acquired (Batislam et al. 2007):
        ``b/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b+1; a+b; t/(alpha+t))]``.

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
        r, alpha, a, b = self.params_.to_numpy()
        z = t / (alpha + t)
        return b / (a - 1) * (1 - (alpha / (alpha + t)) ** r * special.hyp2f1(r, b + 1, a + b, z))


def sample_bgnbd(n_customers: int, T, r: float, alpha: float, a: float, b: float,
                 seed=None, *, modified: bool = False) -> pd.DataFrame:
    """Simulate a (frequency, recency, T) table from the BG/NBD story.

    Each customer draws lambda ~ Gamma(r, rate alpha) and p ~ Beta(a, b); repeat
    purchases arrive as a Poisson process on (0, T] and after each one the customer
    leaves with probability p (``modified=True``: the MBG/NBD story, where the customer
    may also leave right after the first purchase, at time 0). ``T`` is a number or one value per customer. Given
    N(T) = n arrivals, the time of the x-th is T times the x-th of n sorted uniforms,
    i.e. T * Beta(x, n - x + 1), so no per-customer loop is needed. Returns a table
    with ``customer_id`` plus the true ``lam``, ``p`` and ``alive`` for checks.

    Parameters
    ----------
    n_customers : int
        Customers to simulate.
    T : float or array-like
        Each customer's age at the end of observation, in periods.
    r, alpha, a, b : float
        The BG/NBD (or MBG/NBD) parameters.
    seed : int or numpy Generator, optional
        Seed of the random draws.
    modified : bool, default False
        Simulate the MBG/NBD story.

    Returns
    -------
    pd.DataFrame
        ``customer_id``, ``frequency``, ``recency``, ``T``, ``lam``, ``p``, ``alive``.
    """
    rng = np.random.default_rng(seed)
    T = np.broadcast_to(np.asarray(T, dtype=float), (n_customers,)).copy()
    lam = rng.gamma(r, 1.0 / alpha, n_customers)
    p = rng.beta(a, b, n_customers)
    n_arrivals = rng.poisson(lam * T)
    k_drop = rng.geometric(p)  # repeat purchase after which the customer leaves
    if modified:
        k_drop = k_drop - 1  # 0: left right after the first purchase
    x = np.minimum(n_arrivals, k_drop)
    tx = np.zeros(n_customers)
    pos = x > 0
    tx[pos] = T[pos] * rng.beta(x[pos], n_arrivals[pos] - x[pos] + 1)
    return pd.DataFrame({
        "customer_id": np.arange(1, n_customers + 1),
        "frequency": x.astype(np.int64),
        "recency": tx,
        "T": T,
        "lam": lam,
        "p": p,
        "alive": k_drop > n_arrivals,
    })
