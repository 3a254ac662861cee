"""Evaluating uplift scores (提升模型評估): Qini and uplift curves, targeting policies.

:func:`uplift_curves` and :func:`qini_coefficient` give the curves, their areas and the
normalized Qini coefficient; :func:`policy_comparison` compares targeting policies on the
randomized data (everyone, nobody, top-k by a response model, top-k by an uplift model);
:func:`targeting_profit` is the live demo's incremental profit at one score threshold.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crmlab.offers.economics import break_even_uplift
from crmlab.offers.groups import _require_both_arms, treatment_flags
from crmlab.stats import numeric_values as _outcome


def _curve_inputs(y: Any, treatment: Any, score: Any, func: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    w = treatment_flags(treatment, "contacts", "treatment", func)
    yy = _outcome(y, "contacts", "y", func)
    s = np.asarray(score, dtype="float64")
    if not (len(w) == len(yy) == len(s)):
        raise ValueError(f"{func}: y ({len(yy)}), treatment ({len(w)}) and score ({len(s)}) must have "
                         "the same length.")
    if not np.all(np.isfinite(s)):
        raise ValueError(f"{func}: score has missing or infinite values; score every contact.")
    _require_both_arms(w, "contacts", "treatment", func)
    return yy, w, s


def uplift_curves(y: Any, treatment: Any, score: Any) -> pd.DataFrame:
    """Qini and uplift curves of a ranking (highest ``score`` targeted first).

    At each distinct score (ties are one step: targeting half of a tie is as good as a random
    half of it, which the straight line between steps represents), with ``n`` contacts
    targeted, ``N_T, N_C`` of them treated / control and ``Y_T, Y_C`` their conversions:

    * Qini (Radcliffe 2007): ``Y_T - Y_C * N_T / N_C`` -- incremental conversions among the
      treated targeted, scaling the control conversions to the treated count (0 terms where
      ``N_C = 0``);
    * uplift curve: ``(Y_T / N_T - Y_C / N_C) * n`` -- incremental conversions if all ``n``
      targeted were treated.

    Returns ``fraction`` (n / all, starting at 0), ``n``, ``n_treatment``, ``n_control``,
    ``y_treatment``, ``y_control``, ``qini``, ``uplift``. ``y`` may be any outcome (0/1 for
    conversions, NT$ for revenue).

    Parameters
    ----------
    y : array-like
        The outcome per contact.
    treatment : array-like
        The treatment column.
    score : array-like
        The ranking score (higher = targeted first).

    Returns
    -------
    pd.DataFrame
        One row per step of the curve (plus the start at 0).
    """
    yy, w, s = _curve_inputs(y, treatment, score, "uplift_curves")
    order = np.argsort(-s, kind="stable")
    s_sorted, w_sorted, y_sorted = s[order], w[order], yy[order]
    n_t = np.cumsum(w_sorted)
    n_c = np.cumsum(~w_sorted)
    y_t = np.cumsum(y_sorted * w_sorted)
    y_c = np.cumsum(y_sorted * ~w_sorted)
    last_of_tie = np.r_[s_sorted[1:] != s_sorted[:-1], True]
    n_t, n_c, y_t, y_c = (a[last_of_tie].astype("float64") for a in (n_t, n_c, y_t, y_c))
    n = n_t + n_c
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled_c = np.where(n_c > 0, y_c * n_t / n_c, 0.0)
        rate_t = np.where(n_t > 0, y_t / n_t, 0.0)
        rate_c = np.where(n_c > 0, y_c / n_c, 0.0)
    qini = y_t - scaled_c
    upl = (rate_t - rate_c) * n
    total = float(len(yy))
    return pd.DataFrame({
        "fraction": np.r_[0.0, n / total], "n": np.r_[0.0, n], "n_treatment": np.r_[0.0, n_t],
        "n_control": np.r_[0.0, n_c], "y_treatment": np.r_[0.0, y_t], "y_control": np.r_[0.0, y_c],
        "qini": np.r_[0.0, qini], "uplift": np.r_[0.0, upl]})


def _area(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2))


def qini_coefficient(y: Any, treatment: Any, score: Any, curve: str = "qini") -> dict[str, float]:
    """Area under the Qini (or uplift) curve and the normalized Qini coefficient.

    Areas are over the fraction targeted (x from 0 to 1; trapezoids, so units are the
    curve's: incremental conversions). The *random* ranking is the straight line from 0 to the
    curve's end value; the *perfect* ranking (Radcliffe 2007) puts treated converters first and
    control converters last (everyone else in between, tied). Returns ``area``,
    ``random_area``, ``perfect_area``, ``coefficient = area - random_area`` (Radcliffe's q)
    and ``normalized = coefficient / (perfect_area - random_area)`` -- 1 for the perfect
    ranking, about 0 for a random one, negative when the ranking is worse than random.

    Parameters
    ----------
    y, treatment, score : array-like
        As in :func:`uplift_curves`.
    curve : {"qini", "uplift"}, default "qini"
        Which curve's area.

    Returns
    -------
    dict of str to float
        The areas and coefficients above.
    """
    if curve not in ("qini", "uplift"):
        raise ValueError(f"qini_coefficient: curve={curve!r}; use 'qini' or 'uplift'.")
    yy, w, s = _curve_inputs(y, treatment, score, "qini_coefficient")
    model = uplift_curves(yy, w, s)
    perfect_score = yy * np.where(w, 1.0, -1.0)
    best = uplift_curves(yy, w, perfect_score)
    x, v = model["fraction"].to_numpy(), model[curve].to_numpy()
    area = _area(x, v)
    random_area = float(v[-1]) / 2
    perfect_area = _area(best["fraction"].to_numpy(), best[curve].to_numpy())
    coefficient = area - random_area
    denom = perfect_area - random_area
    normalized = coefficient / denom if denom != 0 else float("nan")
    return {"area": area, "random_area": random_area, "perfect_area": perfect_area,
            "coefficient": coefficient, "normalized": float(normalized)}


# ---------------------------------------------------------------------------------------
# targeting policies
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Money:
    """The money settings of a targeting policy (NT$), grouped because they go together.

    ``cost = cost_per_contact * n + cost_per_conversion * conv_treatment * n`` (the coupon is
    paid on every treated conversion) and ``profit = incremental * value_per_conversion -
    cost``: :func:`policy_comparison` and :func:`targeting_profit` use these two formulas.
    """

    value_per_conversion: float
    cost_per_contact: float = 0.0
    cost_per_conversion: float = 0.0

    def cost(self, n: Any, conv_treatment: Any) -> Any:
        """Sends plus coupons on the treated conversions of ``n`` targeted contacts."""
        return self.cost_per_contact * n + self.cost_per_conversion * conv_treatment * n

    def profit(self, incremental: Any, cost: Any) -> Any:
        """Value of the incremental conversions minus the cost."""
        return incremental * self.value_per_conversion - cost


def _policy_row(name: str, fraction: float, targeted: np.ndarray, w: np.ndarray, yy: np.ndarray,
                tr: np.ndarray | None, money: _Money) -> dict[str, Any]:
    """One policy's read on the randomized data: the uplift among the contacts it targets,
    the incremental conversions, cost and profit."""
    m = int(targeted.sum())
    wt, yt = w[targeted], yy[targeted]
    if m == 0:
        uplift, conv_t = 0.0, 0.0
    elif wt.all() or not wt.any():
        uplift = float("nan")  # the targeted group has only one arm: no estimate
        conv_t = float(yt[wt].mean()) if wt.any() else float("nan")
    else:
        uplift = float(yt[wt].mean() - yt[~wt].mean())
        conv_t = float(yt[wt].mean())
    cost = money.cost(m, conv_t)
    row = {"policy": name, "fraction": fraction, "n_targeted": m,
           "n_treatment": int(wt.sum()), "n_control": int(m - wt.sum()),
           "conv_treatment": conv_t, "uplift": uplift, "incremental": uplift * m,
           "cost": cost, "profit": money.profit(uplift * m, cost)}
    if tr is not None:
        row["true_incremental"] = float(tr[targeted].sum())
    return row


# Long function: over half is the docstring (the holdout-based read and its money formula);
# the code, 34 lines, checks the inputs and ranks each score once.
def policy_comparison(y: Any, treatment: Any, scores: Mapping[str, Any],
                      fractions: Sequence[float] = (0.1, 0.2, 0.3, 0.5),
                      value_per_conversion: float = 1.0, cost_per_contact: float = 0.0,
                      cost_per_conversion: float = 0.0, truth: Any = None) -> pd.DataFrame:
    """Compare targeting policies on the randomized data (holdout-based estimate).

    For each named score and fraction ``k``: target the top ``k`` of contacts by that score
    (highest first; ties at the cut kept in score order). Among the targeted contacts the
    experiment still has treated and holdout members, so ``uplift = mean y (treated) - mean y
    (holdout)`` estimates the effect *on the people this policy would target*, and
    ``incremental = uplift * n_targeted`` what sending to all of them would add. Two fixed
    policies are added: ``everyone`` (k = 1) and ``nobody`` (k = 0: adds and costs nothing).

    Money: ``cost = cost_per_contact * n_targeted + cost_per_conversion * conv_treatment *
    n_targeted`` -- the send, plus the coupon paid on *every* conversion of a treated customer
    (``conv_treatment`` = conversion rate of the targeted treated), including those who would
    have bought anyway -- and ``profit = incremental * value_per_conversion - cost``.

    ``truth`` (optional, e.g. the shop's individual treatment effects, one per contact) adds
    ``true_incremental`` = the sum of true effects over the targeted contacts. Scores must be
    out-of-fold (see :func:`cross_fit_uplift`). Returns one row per (policy, fraction).

    Parameters
    ----------
    y, treatment : array-like
        Outcome and treatment column per contact.
    scores : mapping of str to array-like
        Named out-of-fold scores, one per contact each.
    fractions : sequence of float, default (0.1, 0.2, 0.3, 0.5)
        Shares of contacts to target.
    value_per_conversion : float, default 1.0
        Margin of one extra conversion, NT$.
    cost_per_contact, cost_per_conversion : float, default 0.0
        Cost of a send and of the coupon on a treated conversion, NT$.
    truth : array-like, optional
        True individual effects, one per contact.

    Returns
    -------
    pd.DataFrame
        One row per (policy, fraction).
    """
    func = "policy_comparison"
    w = treatment_flags(treatment, "contacts", "treatment", func)
    yy = _outcome(y, "contacts", "y", func)
    _require_both_arms(w, "contacts", "treatment", func)
    n = len(yy)
    tr = None if truth is None else np.asarray(truth, dtype="float64")
    if tr is not None and len(tr) != n:
        raise ValueError(f"{func}: truth must have one value per contact ({n}).")
    if len(w) != n:
        raise ValueError(f"{func}: y and treatment must have the same length.")
    for k in fractions:
        if not isinstance(k, int | float) or not 0 < k <= 1:
            raise ValueError(f"{func}: fractions must be in (0, 1], got {k!r}.")

    money = _Money(value_per_conversion, cost_per_contact, cost_per_conversion)
    rows = [_policy_row("nobody", 0.0, np.zeros(n, bool), w, yy, tr, money),
            _policy_row("everyone", 1.0, np.ones(n, bool), w, yy, tr, money)]
    for name, score in scores.items():
        s = np.asarray(score, dtype="float64")
        if len(s) != n or not np.all(np.isfinite(s)):
            raise ValueError(f"{func}: score {name!r} must hold one finite number per contact ({n}).")
        order = np.argsort(-s, kind="stable")
        for k in fractions:
            m = int(round(k * n))
            targeted = np.zeros(n, bool)
            targeted[order[:m]] = True
            rows.append(_policy_row(str(name), float(k), targeted, w, yy, tr, money))
    out = pd.DataFrame(rows)
    out["policy"] = out["policy"].astype("str")
    return out


def _threshold(threshold: float, func: str) -> float:
    """The score threshold as a float (a ValueError for text or NaN)."""
    try:
        thr = float(threshold)
    except (TypeError, ValueError):
        raise ValueError(f"{func}: threshold={threshold!r} must be a number (a score).") from None
    if math.isnan(thr):
        raise ValueError(f"{func}: threshold is NaN; pass a score, e.g. 0.0.")
    return thr


def _profit_curve(yy: np.ndarray, w: np.ndarray, s: np.ndarray, money: _Money) -> pd.DataFrame:
    """Targeted count, incremental conversions, cost and profit at every distinct score threshold."""
    steps = uplift_curves(yy, w, s)
    n, n_t, n_c = (steps[k].to_numpy() for k in ("n", "n_treatment", "n_control"))
    with np.errstate(divide="ignore", invalid="ignore"):
        conv_t = np.where(n_t > 0, steps["y_treatment"].to_numpy() / n_t, 0.0)
        both = (n_t > 0) & (n_c > 0)
        incremental = np.where(n == 0, 0.0, np.where(both, steps["uplift"].to_numpy(), np.nan))
    cost = money.cost(n, conv_t)
    profit = money.profit(incremental, cost)
    curve = pd.DataFrame({"threshold": np.r_[np.inf, np.unique(s)[::-1]], "n_targeted": n,
                          "share_targeted": steps["fraction"].to_numpy(),
                          "incremental": incremental, "cost": cost, "profit": profit})
    return curve


def targeting_profit(y: Any, treatment: Any, score: Any, threshold: float, *,
                     value_per_conversion: float, cost_per_contact: float = 0.0,
                     cost_per_conversion: float = 0.0) -> dict[str, Any]:
    """Incremental profit of sending to every contact whose (uplift) ``score`` >= ``threshold``.

    The experiment evaluates the policy as :func:`policy_comparison` does: among the targeted
    contacts, ``uplift = conversion (treated) - conversion (holdout)`` and ``incremental =
    uplift x n_targeted``; ``cost = cost_per_contact x n + cost_per_conversion x conversion
    (treated) x n`` (the coupon is paid on every treated conversion); ``profit = incremental x
    value_per_conversion - cost``. Where the targeted group holds only one arm there is no
    estimate (NaN); targeting nobody earns 0.

    Returns the figures at ``threshold`` (``n_targeted``, ``share_targeted``, ``incremental``,
    ``cost``, ``profit``), the best threshold on the data (``best_threshold``,
    ``best_profit``), ``break_even`` (:func:`break_even_uplift` with the holdout's conversion
    rate as base rate and every treated buyer redeeming, or NaN when no uplift pays) and
    ``curve``: the same figures for every distinct score, highest first (from
    :func:`uplift_curves`).

    Parameters
    ----------
    y, treatment, score : array-like
        Outcome, treatment column and (out-of-fold) score per contact.
    threshold : float
        Target every contact with ``score >= threshold``.
    value_per_conversion : float
        Margin of one extra conversion, NT$.
    cost_per_contact, cost_per_conversion : float, default 0.0
        Cost of a send and of the coupon on a treated conversion, NT$.

    Returns
    -------
    dict
        The figures above.
    """
    func = "targeting_profit"
    yy, w, s = _curve_inputs(y, treatment, score, func)
    thr = _threshold(threshold, func)
    v, c, d = float(value_per_conversion), float(cost_per_contact), float(cost_per_conversion)
    if min(c, d) < 0:
        raise ValueError(f"{func}: costs must be non-negative (cost_per_contact={c}, "
                         f"cost_per_conversion={d}).")
    curve = _profit_curve(yy, w, s, _Money(v, c, d))
    n, profit = curve["n_targeted"].to_numpy(), curve["profit"].to_numpy()
    i = int(np.searchsorted(n, int((s >= thr).sum())))  # ties are one step: an exact match
    best = int(np.nanargmax(profit))
    base_rate = float(yy[~w].mean())
    try:
        be = break_even_uplift(v, c, base_rate=min(max(base_rate, 0.0), 1.0),
                               redemption_rate=1.0, discount_per_redemption=d)
    except ValueError:  # each extra conversion costs more in coupons than it earns
        be = float("nan")
    out: dict[str, Any] = {k: float(curve[k].iloc[i]) for k in ("share_targeted", "incremental",
                                                                 "cost", "profit")}
    out.update(threshold=thr, n_targeted=int(n[i]), best_threshold=float(curve["threshold"].iloc[best]),
               best_profit=float(profit[best]), break_even=float(be), curve=curve)
    return out
