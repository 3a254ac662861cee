"""Power and sample size (檢定力與樣本數) for two proportions, in closed form.

:func:`sample_size_two_proportions`, :func:`power_two_proportions` and
:func:`minimum_detectable_uplift` answer "how many contacts do we need" and "what could this
holdout have detected" before a campaign is sent.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, stats

from crmlab.offers._common import _prob


def _z_alpha(alpha: float, two_sided: bool) -> float:
    return float(stats.norm.ppf(1 - alpha / 2 if two_sided else 1 - alpha))


def sample_size_two_proportions(p_control: float, p_treatment: float, alpha: float = 0.05,
                                power: float = 0.8, ratio: float = 1.0, two_sided: bool = True,
                                continuity: bool = False) -> dict[str, float]:
    """Contacts needed to detect ``p_control -> p_treatment`` with a two-proportion z-test.

    The closed form of Fleiss, Levin & Paik (2003, *Statistical Methods for Rates and
    Proportions*, 3rd ed., section 4.2), with ``ratio = n_treatment / n_control`` (the shop's
    20% holdout is ``ratio=4``), ``pbar = (p_c + ratio p_t) / (1 + ratio)``:

    ``n_c = [z_a sqrt(pbar qbar (1 + 1/ratio)) + z_b sqrt(p_c q_c + p_t q_t / ratio)]^2 / (p_t - p_c)^2``

    where ``z_a`` is the normal quantile of ``1 - alpha/2`` (two-sided) and ``z_b`` that of
    ``power``. ``continuity=True`` applies the Fleiss, Tytun & Ury (1980) correction
    ``n_c' = n_c / 4 [1 + sqrt(1 + 2 (ratio + 1) / (ratio n_c |p_t - p_c|))]^2``.
    Returns the exact ``n_control_exact`` and the rounded-up ``n_control, n_treatment, total``.

    Parameters
    ----------
    p_control, p_treatment : float
        Conversion rates of the holdout and of the treated (between 0 and 1, not equal).
    alpha : float, default 0.05
        Significance level.
    power : float, default 0.8
        Chance to detect the difference.
    ratio : float, default 1.0
        ``n_treatment / n_control``.
    two_sided : bool, default True
        Two-sided test.
    continuity : bool, default False
        Apply the continuity correction.

    Returns
    -------
    dict of str to float
        ``n_control_exact``, ``n_control``, ``n_treatment`` and ``total``.
    """
    func = "sample_size_two_proportions"
    pc = _prob(p_control, "p_control", func)
    pt = _prob(p_treatment, "p_treatment", func)
    a = _prob(alpha, "alpha", func)
    b = _prob(power, "power", func)
    if pc == pt:
        raise ValueError(f"{func}: p_treatment equals p_control ({pc}); no sample detects a zero "
                         "effect -- state the smallest uplift worth detecting.")
    if not isinstance(ratio, int | float) or ratio <= 0:
        raise ValueError(f"{func}: ratio={ratio!r} (n_treatment / n_control) must be positive, e.g. 4 "
                         "for a 20% holdout.")
    r = float(ratio)
    delta = abs(pt - pc)
    pbar = (pc + r * pt) / (1 + r)
    za, zb = _z_alpha(a, two_sided), float(stats.norm.ppf(b))
    root = za * math.sqrt(pbar * (1 - pbar) * (1 + 1 / r)) + zb * math.sqrt(pc * (1 - pc) + pt * (1 - pt) / r)
    n_c = root**2 / delta**2
    if continuity:
        n_c = n_c / 4 * (1 + math.sqrt(1 + 2 * (r + 1) / (r * n_c * delta))) ** 2
    n_control = math.ceil(n_c - 1e-9)
    n_treatment = math.ceil(r * n_c - 1e-9)
    return {"n_control_exact": n_c, "n_control": n_control, "n_treatment": n_treatment,
            "total": n_control + n_treatment}


def power_two_proportions(p_control: float, p_treatment: float, n_control: float,
                          n_treatment: float, alpha: float = 0.05, two_sided: bool = True) -> float:
    """Power of the pooled two-proportion z-test (normal approximation, both tails).

    ``power = Phi((|d| - z_a se0) / se1) [+ Phi((-|d| - z_a se0) / se1) if two-sided]`` with the
    null standard error ``se0 = sqrt(pbar qbar (1/n_c + 1/n_t))`` and the alternative one
    ``se1 = sqrt(p_c q_c / n_c + p_t q_t / n_t)`` -- the inverse of
    :func:`sample_size_two_proportions` up to the tiny far tail.

    Parameters
    ----------
    p_control, p_treatment : float
        Conversion rates of the holdout and of the treated.
    n_control, n_treatment : float
        Contacts in each arm.
    alpha : float, default 0.05
        Significance level.
    two_sided : bool, default True
        Two-sided test.

    Returns
    -------
    float
        The power, between 0 and 1.
    """
    func = "power_two_proportions"
    pc = _prob(p_control, "p_control", func)
    pt = _prob(p_treatment, "p_treatment", func)
    a = _prob(alpha, "alpha", func)
    if n_control <= 0 or n_treatment <= 0:
        raise ValueError(f"{func}: n_control and n_treatment must be positive.")
    return _power(pc, pt, float(n_control), float(n_treatment), _z_alpha(a, two_sided), two_sided)


def _normal_cdf(x: float) -> float:
    """Phi(x) from the error function: the same number as ``scipy.stats.norm.cdf`` for one
    float, without scipy's per-call overhead (the sample-size solver calls it thousands of times)."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def _power(pc: float, pt: float, n_control: float, n_treatment: float, za: float,
           two_sided: bool) -> float:
    """:func:`power_two_proportions` on checked inputs, with the critical value ``za`` given."""
    pbar = (n_control * pc + n_treatment * pt) / (n_control + n_treatment)
    se0 = math.sqrt(pbar * (1 - pbar) * (1 / n_control + 1 / n_treatment))
    se1 = math.sqrt(pc * (1 - pc) / n_control + pt * (1 - pt) / n_treatment)
    d = abs(pt - pc)
    power = _normal_cdf((d - za * se0) / se1)
    if two_sided:
        power += _normal_cdf((-d - za * se0) / se1)
    return float(power)


def minimum_detectable_uplift(p_control: ArrayLike, n_control: ArrayLike, n_treatment: ArrayLike,
                              alpha: float = 0.05, power: float = 0.8,
                              two_sided: bool = True) -> float | np.ndarray:
    """Smallest uplift ``p_t - p_c > 0`` detected with the given power (solved numerically).

    The question to ask *before* a campaign: with this holdout, which effects could we
    possibly see? A campaign whose plausible uplift is below this number cannot be judged by
    its own A/B read -- pool campaigns or enlarge the holdout.

    ``p_control``, ``n_control`` and ``n_treatment`` may be numbers or arrays (broadcast
    together, e.g. one row per campaign); arrays give an array of the same shape. NaN where
    not even a jump to 100% conversion would be detected.

    Parameters
    ----------
    p_control : float or array-like
        Conversion rate of the holdout.
    n_control, n_treatment : float or array-like
        Contacts in each arm.
    alpha : float, default 0.05
        Significance level.
    power : float, default 0.8
        Required chance to detect the uplift.
    two_sided : bool, default True
        Two-sided test.

    Returns
    -------
    float or np.ndarray
        The smallest detectable uplift (a difference of rates), shaped like the inputs.
    """
    func = "minimum_detectable_uplift"
    target = _prob(power, "power", func)
    za = _z_alpha(_prob(alpha, "alpha", func), two_sided)
    try:
        pcs, ncs, nts = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in
                                              (p_control, n_control, n_treatment)))
    except (TypeError, ValueError) as err:
        raise ValueError(f"{func}: p_control, n_control and n_treatment must be numbers or arrays "
                         f"of the same length ({err}).") from err
    bad = ~((pcs > 0) & (pcs < 1))
    if bad.any():
        first = float(pcs.flat[int(np.flatnonzero(bad.ravel())[0])])
        raise ValueError(f"{func}: p_control={first!r} must be strictly between 0 and 1 "
                         f"({int(bad.sum())} value(s)); clip rates of 0 or 1, e.g. to [0.01, 0.95].")
    if not ((ncs > 0) & (nts > 0)).all():
        raise ValueError(f"{func}: n_control and n_treatment must be positive (group sizes).")

    def solve(pc: float, nc: float, nt: float) -> float:
        def gap(delta: float) -> float:
            return _power(pc, pc + delta, nc, nt, za, two_sided) - target

        hi = 1 - pc - 1e-9
        if gap(hi) < 0:
            return float("nan")  # not even a jump to 100% conversion is detectable
        return float(optimize.brentq(gap, 1e-9, hi, xtol=1e-10))

    out = np.array([solve(*args) for args in zip(pcs.ravel().tolist(), ncs.ravel().tolist(),
                                                  nts.ravel().tolist(), strict=True)])
    return float(out[0]) if pcs.ndim == 0 else out.reshape(pcs.shape)
