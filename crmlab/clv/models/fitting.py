"""Maximum likelihood for the BTYD models: optimizers that insist on convergence.

Every model minimizes its mean negative log-likelihood over log-parameters; these helpers
run scipy's optimizers, refuse a loose or runaway fit with a message that says why, and
turn the Hessian into delta-method standard errors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize


@dataclass
class _FitResult:
    x: np.ndarray
    fun: float
    n_iter: int
    message: str
    hess: np.ndarray | None = None


def _minimize(fun_grad, x0: np.ndarray, *, jac: bool, tol: float, max_iter: int, what: str):
    """Minimize and insist on convergence (a loose fit is a wrong answer)."""
    res = optimize.minimize(
        fun_grad, x0, jac=jac, method="BFGS" if jac else "Nelder-Mead",
        options={"gtol": tol, "maxiter": max_iter} if jac else
        {"xatol": 1e-10, "fatol": 1e-12, "maxiter": max_iter, "maxfev": 20 * max_iter},
    )
    if jac and not res.success:
        # BFGS often stops with "precision loss" exactly at the optimum; accept it when
        # the gradient is tiny, polish once with L-BFGS-B otherwise.
        grad = fun_grad(res.x)[1]
        if np.max(np.abs(grad)) > 1e-6:
            res2 = optimize.minimize(fun_grad, res.x, jac=True, method="L-BFGS-B",
                                     options={"gtol": tol, "maxiter": max_iter, "ftol": 1e-15})
            grad2 = fun_grad(res2.x)[1]
            if np.max(np.abs(grad2)) > 1e-5:
                raise RuntimeError(
                    f"{what}: the likelihood maximization did not converge ({res.message}); "
                    "the data may be too small or too regular for this model."
                )
            res = res2
    if not np.all(np.isfinite(res.x)) or np.max(np.abs(res.x)) > 30:
        raise RuntimeError(
            f"{what}: the estimates ran off to the edge of the parameter space "
            f"(log-parameters {np.round(res.x, 2).tolist()}); the data cannot identify the "
            "model — use more customers or a longer observation window."
        )
    return _FitResult(res.x, float(res.fun), int(res.get("nit", 0)), str(res.message))


def _newton(fgh, x0: np.ndarray, *, tol: float, max_iter: int, what: str,
            strict: bool = True, limit: float = 30.0) -> _FitResult | None:
    """Trust-region Newton (scipy's ``trust-exact``) on ``fgh(x, hess) -> (f, g, H)``.

    Function, gradient and Hessian come from one pass over the data, so the last
    point's values are cached for the separate ``fun``/``jac``/``hess`` calls.
    With ``strict=False`` a run that does not converge, or ends with a log-parameter
    beyond ``limit``, returns ``None`` (the caller has a fallback) instead of raising.
    """
    cache: dict[str, object] = {}

    def ev(z):
        # the Hessian costs little on top of f and g (one Gram product), so every
        # evaluation computes all three: one pass over the data per point
        key = z.tobytes()
        if cache.get("key") != key:
            f, g, H = fgh(z, hess=True)
            cache.update(key=key, f=f, g=g, H=H)
        return cache

    res = optimize.minimize(
        lambda z: ev(z)["f"], x0, method="trust-exact",
        jac=lambda z: ev(z)["g"], hess=lambda z: ev(z)["H"],
        options={"gtol": tol, "maxiter": max_iter},
    )
    last = ev(res.x)
    g = last["g"]
    ran_off = not np.all(np.isfinite(res.x)) or np.max(np.abs(res.x)) > limit
    if not strict and (ran_off or not np.all(np.isfinite(g))
                       or np.max(np.abs(g)) > max(100 * tol, 1e-6)):
        return None
    if ran_off:
        raise RuntimeError(
            f"{what}: the estimates ran off to the edge of the parameter space "
            f"(log-parameters {np.round(res.x, 2).tolist()}); the data cannot identify the "
            "model — use more customers or a longer observation window."
        )
    if np.max(np.abs(g)) > max(100 * tol, 1e-6):
        raise RuntimeError(
            f"{what}: the likelihood maximization did not converge ({res.message}); "
            "the data may be too small or too regular for this model."
        )
    return _FitResult(res.x, float(last["f"]), int(res.nit), str(res.message),
                      hess=last["H"])


def _bounded_fit(fgh, x0: np.ndarray, lower: np.ndarray, upper: np.ndarray, *, tol: float,
                 max_iter: int, what: str) -> tuple[_FitResult, np.ndarray]:
    """Maximum likelihood over a box of log-parameters (L-BFGS-B), for fits whose
    optimum lies on the edge of the parameter space (a limit of the model).

    Returns the result and a boolean mask of the parameters that ended on a bound.
    The fit is accepted when it satisfies the optimality conditions of the box: a
    free parameter has a (near) zero gradient, a parameter on its lower bound a
    gradient that pushes it down, one on its upper bound a gradient that pushes it up.
    The Hessian is that of the free parameters only (the bound ones are held fixed).
    """
    z0 = np.clip(x0, lower, upper)

    def fg(z):
        f, g, _ = fgh(z)
        return f, g

    res = optimize.minimize(fg, z0, jac=True, method="L-BFGS-B",
                            bounds=list(zip(lower, upper, strict=True)),
                            options={"maxiter": 50 * max_iter, "maxfun": 100 * max_iter,
                                     "ftol": 1e-15, "gtol": 1e-12})
    z = res.x
    edge = 1e-6 * np.maximum(1.0, np.abs(upper - lower))
    at_lo, at_hi = z <= lower + edge, z >= upper - edge
    free = ~(at_lo | at_hi)
    if free.any():
        # polish the free parameters with Newton steps (the bound ones held fixed)
        def sub(zf, hess=False):
            full = z.copy()
            full[free] = zf
            f, g, H = fgh(full, hess=hess)
            return f, g[free], (None if H is None else H[np.ix_(free, free)])

        polished = _newton(sub, z[free], tol=tol, max_iter=max_iter, what=what, strict=False,
                           limit=float(np.max(np.abs(np.r_[lower, upper]))))
        if polished is not None and np.all(polished.x >= lower[free]) \
                and np.all(polished.x <= upper[free]):
            z = z.copy()
            z[free] = polished.x
    f, g, H = fgh(z, hess=True)
    # far out in the box the likelihood is flat and its gammaln differences lose digits:
    # a gradient of 1e-5 (mean log-likelihood per unit of log-parameter) is a flat optimum
    slack = max(100 * tol, 1e-5)
    ok = (np.all(np.isfinite(g)) and np.all(np.abs(g[free]) <= slack)
          and np.all(g[at_lo] >= -slack) and np.all(g[at_hi] <= slack))
    if not ok:
        raise RuntimeError(
            f"{what}: the likelihood maximization did not converge, even within bounds "
            f"({res.message}); the data may be too small or too regular for this model."
        )
    H_free = np.full_like(H, np.nan)
    H_free[np.ix_(free, free)] = H[np.ix_(free, free)]
    return _FitResult(z, float(f), int(res.nit), str(res.message), hess=H_free), ~free


def _hessian_from_grad(grad, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Central-difference Hessian of an analytic gradient (4 x 2 evaluations)."""
    k = x.size
    H = np.empty((k, k))
    for i in range(k):
        e = np.zeros(k)
        e[i] = h
        H[:, i] = (grad(x + e) - grad(x - e)) / (2 * h)
    return (H + H.T) / 2


def _standard_errors(hess_total_nll_log: np.ndarray, params: np.ndarray) -> np.ndarray:
    """Delta-method standard errors of params from the Hessian in log-parameters.

    Rows/columns that are NaN (parameters held on a bound) get a NaN standard error;
    the others come from the Hessian of the remaining parameters.
    """
    keep = ~np.isnan(np.diag(hess_total_nll_log))
    out = np.full(params.size, np.nan)
    if not keep.any():
        return out
    try:
        cov_log = np.linalg.inv(hess_total_nll_log[np.ix_(keep, keep)])
    except np.linalg.LinAlgError:
        return out
    var_log = np.diag(cov_log)
    out[keep] = np.where(var_log > 0, params[keep] * np.sqrt(np.abs(var_log)), np.nan)
    return out
