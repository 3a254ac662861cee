"""Customized offers, campaigns and experiments (個性化優惠, 行銷活動成效, 提升模型).

Course unit 3 (personalization) asks which customers should get which offer and how to tell
whether a campaign worked; unit 7 (evaluation) asks for campaign participation, the
cost-benefit ratio and the effect of each channel. This module holds the computation behind
notebook ``08_offers_and_experiments``:

* **A campaign read as an experiment** -- every shop campaign keeps a randomized holdout, so
  the difference between the treatment and holdout groups is the campaign's causal effect.
  :func:`proportion_diff_ci` (Newcombe's hybrid score interval, or Wald) and
  :func:`mean_diff_ci` (Welch) put confidence intervals on the difference in conversion and
  in revenue per contact; :func:`ab_test` does it per campaign (or segment) from the
  ``campaign_contacts`` table; :func:`adjust_pvalues` (Holm, Benjamini--Hochberg) and
  :func:`pooled_uplift` (Mantel--Haenszel risk difference across campaigns) handle many
  campaigns at once.
* **Power and sample size** for two proportions in closed form (:func:`sample_size_two_proportions`,
  :func:`power_two_proportions`, :func:`minimum_detectable_uplift`).
* **What happened to each contact** (:func:`contact_outcomes`: orders, revenue, gross profit and
  coupon value in the campaign window) and **what we knew before sending**
  (:func:`customer_features`, :func:`contact_features`: RFM, channel habits, loyalty use,
  demographics and past campaign response, from rows strictly before the send time).
* **Uplift models** (提升模型) in scikit-learn's shape: the two-model approach
  (:class:`TwoModelUplift`, also called the T-learner; its treated-group model is the classic
  *response model*) and the class transformation of Jaskowski & Jaroszewicz (2012)
  (:class:`ClassTransformationUplift`), with honest out-of-fold scores (:func:`cross_fit_uplift`).
* **Evaluation**: Qini and uplift curves with their areas and the normalized Qini coefficient
  (:func:`uplift_curves`, :func:`qini_coefficient`), and targeting policies compared on the
  randomized data (:func:`policy_comparison`: everyone, nobody, top-k by a response model,
  top-k by an uplift model).
* **Money**: break-even uplift (:func:`break_even_uplift`), return on marketing spend per
  campaign and per channel (:func:`campaign_roi`, :func:`campaign_economics`, :func:`roi_by`)
  and an offer-assignment helper that gives each customer at most one offer under a budget
  (:func:`assign_offers`, greedy or an exact integer program with ``scipy.optimize.milp``).

Conventions: a *contact* is one (campaign, customer) row of ``campaign_contacts``; the
treatment column may be boolean, 0/1, or the shop's ``"treatment"``/``"holdout"`` labels
(``"control"`` is accepted for ``"holdout"``). Money is in NT$. Every random step takes
``seed``. Bad input raises ``ValueError`` naming the table, the column and the fix.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import optimize, sparse, stats
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from crmlab._checks import Reads, as_frame, as_timestamp, datetime_column, reads, require_columns
from crmlab.stats import check_level as _level
from crmlab.stats import mean_diff_ci, proportion_diff_ci, two_proportion_pvalue
from crmlab.stats import numeric_values as _outcome

__all__ = [
    "ClassTransformationUplift",
    "TwoModelUplift",
    "ab_test",
    "adjust_pvalues",
    "assign_offers",
    "break_even_uplift",
    "campaign_economics",
    "campaign_roi",
    "contact_features",
    "contact_outcomes",
    "cross_fit_uplift",
    "customer_features",
    "default_uplift_estimator",
    "mean_diff_ci",
    "minimum_detectable_uplift",
    "policy_comparison",
    "pooled_uplift",
    "power_two_proportions",
    "proportion_diff_ci",
    "qini_coefficient",
    "roi_by",
    "sample_size_two_proportions",
    "treatment_flags",
    "two_proportion_pvalue",
    "uplift_curves",
]

Seed = int | np.random.Generator | None

#: Labels of the treatment column that mean "treated" / "control".
TREATED_LABELS = ("treatment", "treated")
CONTROL_LABELS = ("holdout", "control")


# ---------------------------------------------------------------------------------------
# validation helpers
# ---------------------------------------------------------------------------------------


def _rng(seed: Seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def _frame(table: Any, name: str, func: str) -> pd.DataFrame:
    return as_frame(table, name, func=func)


def _columns(table: pd.DataFrame, name: str, func: str, columns: Sequence[str]) -> None:
    require_columns(table, name, columns, func=func)


def _prob(value: float, name: str, func: str, *, open_interval: bool = True) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{func}: {name}={value!r} must be a number between 0 and 1") from err
    ok = (0 < v < 1) if open_interval else (0 <= v <= 1)
    if not ok or not math.isfinite(v):
        bounds = "strictly between 0 and 1" if open_interval else "between 0 and 1"
        raise ValueError(f"{func}: {name}={value!r} must be {bounds}, e.g. 0.05.")
    return v


def treatment_flags(values: Any, table: str = "campaign_contacts", column: str = "group",
                    func: str = "treatment_flags") -> np.ndarray:
    """The treatment column as a boolean array (True = treated), or a ValueError.

    Accepts booleans, the integers 0/1, or the labels ``"treatment"``/``"treated"`` and
    ``"holdout"``/``"control"`` (as str or category). Anything else -- a third group, a 2,
    missing values -- is not a two-arm experiment and raises a ValueError naming the column.
    """
    s = pd.Series(values) if not isinstance(values, pd.Series) else values
    if len(s) == 0:
        raise ValueError(f"{func}: {table}.{column} is empty; pass the contacts of at least one "
                         "campaign (treatment and holdout rows).")
    if s.isna().any():
        raise ValueError(
            f"{func}: {table}.{column} has {int(s.isna().sum())} missing values; every contact "
            "must be either treated or held out -- fix or drop those rows (and report how many).")
    if pd.api.types.is_bool_dtype(s):
        return s.to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(s):
        arr = s.to_numpy(dtype="float64")
        bad = ~np.isin(arr, (0.0, 1.0))
        if bad.any():
            raise ValueError(
                f"{func}: {table}.{column} is not binary: it holds {sorted(set(arr[bad].tolist()))[:5]} "
                "besides 0/1; code treatment as 1 (or True) and control as 0 (or False).")
        return arr == 1.0
    labels = s.astype("str").str.strip().str.lower()
    known = set(TREATED_LABELS) | set(CONTROL_LABELS)
    bad = ~labels.isin(known)
    if bad.any():
        raise ValueError(
            f"{func}: {table}.{column} is not binary: it holds {sorted(labels[bad].unique().tolist())[:5]}; "
            "use 'treatment' and 'holdout' (or True/False, 1/0) -- a third arm needs its own "
            "comparison against the holdout.")
    return labels.isin(TREATED_LABELS).to_numpy()


def _require_both_arms(w: np.ndarray, table: str, column: str, func: str, where: str = "") -> None:
    n_t = int(w.sum())
    n_c = int(len(w) - n_t)
    if n_c == 0:
        raise ValueError(
            f"{func}: {table}.{column} has no control (holdout) rows{where}; without a randomized "
            "holdout the campaign's effect cannot be estimated -- keep a holdout group (e.g. 10-20% "
            "of the target list) or drop this campaign from the analysis.")
    if n_t == 0:
        raise ValueError(
            f"{func}: {table}.{column} has no treated rows{where}; there is nothing to compare "
            "the holdout with -- check the treatment labels or drop this group.")


# ---------------------------------------------------------------------------------------
# confidence intervals and tests
# ---------------------------------------------------------------------------------------


@reads(contacts=Reads("campaign_contacts", name_arg="table"))
def ab_test(contacts: pd.DataFrame, by: str | Sequence[str] | None = "campaign_id",
            treatment: str = "group", conversion: str = "converted", value: str | None = "revenue",
            level: float = 0.95, ci_method: str = "newcombe", missing_arm: str = "raise",
            table: str = "campaign_contacts") -> pd.DataFrame:
    """Read each campaign (or segment) as a randomized experiment: treatment vs holdout.

    One row per group of ``by`` (one row in all if ``by=None``) with the columns

    * ``n_treatment, n_control`` -- contacts per arm; ``conv_treatment, conv_control`` --
      conversion rates; ``uplift`` = their difference (the campaign's effect on the chance to
      buy in the window), ``uplift_low, uplift_high`` its interval (``ci_method``: Newcombe's
      hybrid score, or Wald) and ``p_value`` (pooled two-proportion z-test);
    * ``value_treatment, value_control`` -- mean ``value`` per contact (e.g. revenue, NT$),
      ``value_diff`` with its standard error ``value_se``, Welch's interval ``value_low,
      value_high`` and ``value_p_value`` (NaN interval with fewer than 2 contacts in an arm);
    * ``incremental_conversions = uplift * n_treatment`` and ``incremental_value =
      value_diff * n_treatment`` -- what the sends added, beyond what the treated would
      have done anyway; ``ci_method`` -- which interval the uplift uses.

    A group without a holdout (or without treated rows) raises a ValueError naming it; pass
    ``missing_arm="skip"`` to leave such groups out -- their keys are then listed in
    ``result.attrs["skipped"]``. With a categorical ``by`` every category must be present
    (an empty segment raises; drop unused categories first if that is what you mean).
    A contact listed twice (a repeated ``campaign_id, customer_id``) is a ValueError naming
    the key and the count: counted twice it would double n and shrink the p-values.
    """
    func = "ab_test"
    contacts = _frame(contacts, table, func)
    level = _level(level, func)
    if missing_arm not in ("raise", "skip"):
        raise ValueError(f"{func}: missing_arm={missing_arm!r}; use 'raise' or 'skip'.")
    keys = [] if by is None else ([by] if isinstance(by, str) else list(by))
    cols = [treatment, conversion] + keys + ([value] if value else [])
    _columns(contacts, table, func, cols)
    w = treatment_flags(contacts[treatment], table, treatment, func)
    _require_both_arms(w, table, treatment, func)
    y = _outcome(contacts[conversion], table, conversion, func, binary=True)
    v = _outcome(contacts[value], table, value, func) if value else None
    for key in keys:
        col = contacts[key]
        if isinstance(col.dtype, pd.CategoricalDtype):
            empty = [c for c in col.cat.categories if not (col == c).any()]
            if empty:
                raise ValueError(
                    f"{func}: {table}.{key} has empty groups {empty[:5]} (categories without any "
                    f"contact); every segment needs treated and holdout contacts -- merge the "
                    f"segment into another one, or drop it with {table}['{key}'].cat."
                    "remove_unused_categories() if it should not be reported.")
        if col.isna().any():
            raise ValueError(f"{func}: {table}.{key} has {int(col.isna().sum())} missing values; "
                             "fill them (e.g. 'unknown') or drop those contacts.")
    frame = pd.DataFrame({"_w": w, "_y": y})
    if v is not None:
        frame["_v"] = v
    for key in keys:
        frame[key] = contacts[key].to_numpy()
    groups = frame.groupby(keys, sort=True, observed=True) if keys else [((), frame)]
    rows, skipped = [], []
    for name, g in groups:
        name = name if isinstance(name, tuple) else (name,)
        gw = g["_w"].to_numpy()
        n_t, n_c = int(gw.sum()), int(len(gw) - gw.sum())
        label = dict(zip(keys, name, strict=True))
        if n_t == 0 or n_c == 0:
            if missing_arm == "skip":
                skipped.append(label)
                continue
            _require_both_arms(gw, table, treatment, func, where=f" for {label}")
        gy = g["_y"].to_numpy()
        k_t, k_c = float(gy[gw].sum()), float(gy[~gw].sum())
        low, high = proportion_diff_ci(k_t, n_t, k_c, n_c, level=level, method=ci_method)
        row: dict[str, Any] = {**label, "n_treatment": n_t, "n_control": n_c,
                               "conv_treatment": k_t / n_t, "conv_control": k_c / n_c}
        row["uplift"] = row["conv_treatment"] - row["conv_control"]
        row.update(uplift_low=low, uplift_high=high,
                   p_value=two_proportion_pvalue(k_t, n_t, k_c, n_c))
        if v is not None:
            gv = g["_v"].to_numpy()
            row["value_treatment"], row["value_control"] = float(gv[gw].mean()), float(gv[~gw].mean())
            if n_t >= 2 and n_c >= 2:
                welch = mean_diff_ci(gv[gw], gv[~gw], level=level)
            else:
                welch = {"diff": row["value_treatment"] - row["value_control"], "se": np.nan,
                         "low": np.nan, "high": np.nan, "p_value": np.nan}
            row.update(value_diff=welch["diff"], value_se=welch["se"], value_low=welch["low"],
                       value_high=welch["high"], value_p_value=welch["p_value"])
        row["incremental_conversions"] = row["uplift"] * n_t
        if v is not None:
            row["incremental_value"] = row["value_diff"] * n_t
        row["ci_method"] = ci_method
        rows.append(row)
    out = pd.DataFrame(rows)
    if "ci_method" in out:
        out["ci_method"] = out["ci_method"].astype("str")
    out.attrs["skipped"] = skipped
    return out


def adjust_pvalues(p_values: Any, method: str = "holm") -> np.ndarray:
    """Multiple-testing adjusted p-values.

    ``"holm"`` (Holm 1979) controls the family-wise error rate: sort ascending, multiply the
    i-th smallest (1-based) by ``m - i + 1``, take the running maximum, cap at 1.
    ``"bh"`` (Benjamini & Hochberg 1995) controls the false discovery rate: multiply the
    i-th smallest by ``m / i`` and take the running minimum from the largest down.
    With 20 campaigns tested at 5% one "significant" campaign is expected by chance alone.
    NaN p-values stay NaN and are not counted in ``m``.
    """
    if method not in ("holm", "bh"):
        raise ValueError(f"adjust_pvalues: method={method!r}; use 'holm' or 'bh'.")
    p = np.asarray(p_values, dtype="float64")
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    if np.any((q < 0) | (q > 1)):
        raise ValueError("adjust_pvalues: p-values must lie between 0 and 1.")
    m = len(q)
    if m == 0:
        return out
    order = np.argsort(q, kind="stable")
    ranked = q[order]
    i = np.arange(1, m + 1)
    if method == "holm":
        adj = np.maximum.accumulate(np.minimum(ranked * (m - i + 1), 1.0))
    else:
        adj = np.minimum.accumulate((ranked * m / i)[::-1])[::-1]
        adj = np.minimum(adj, 1.0)
    res = np.empty(m)
    res[order] = adj
    out[ok] = res
    return out


def pooled_uplift(ab: pd.DataFrame, level: float = 0.95) -> dict[str, float]:
    """Mantel--Haenszel risk difference across campaigns (strata), with Sato's variance.

    Each campaign is its own randomized experiment, so the campaigns are strata: the pooled
    effect ``RD = sum w_k d_k / sum w_k`` with ``w_k = n_tk n_ck / N_k`` never compares the
    treated of one campaign with the holdout of another (their base rates differ). The
    variance is Sato's (1989) estimator, valid both for a few large and many small strata;
    for a single campaign it equals the Wald variance. ``ab`` is the output of :func:`ab_test`
    (columns ``n_treatment, n_control, conv_treatment, conv_control``). Returns ``uplift,
    se, low, high, p_value, n_strata`` and Cochran's ``q`` with ``i2`` (heterogeneity: are
    the campaigns' effects alike?).
    """
    func = "pooled_uplift"
    level = _level(level, func)
    ab = _frame(ab, "ab_test result", func)
    _columns(ab, "ab_test result", func, ["n_treatment", "n_control", "conv_treatment", "conv_control"])
    if len(ab) == 0:
        raise ValueError(f"{func}: no campaigns to pool; pass the output of ab_test().")
    n1 = ab["n_treatment"].to_numpy(dtype="float64")
    n0 = ab["n_control"].to_numpy(dtype="float64")
    if np.any(n1 <= 0) or np.any(n0 <= 0):
        raise ValueError(f"{func}: every campaign needs treated and holdout contacts.")
    y1 = ab["conv_treatment"].to_numpy(dtype="float64") * n1
    y0 = ab["conv_control"].to_numpy(dtype="float64") * n0
    big_n = n1 + n0
    w = n1 * n0 / big_n
    d = y1 / n1 - y0 / n0
    rd = float((w * d).sum() / w.sum())
    p_term = (n1**2 * y0 - n0**2 * y1 + n1 * n0 * (n0 - n1) / 2) / big_n**2
    q_term = (y1 * (n0 - y0) + y0 * (n1 - y1)) / (2 * big_n)
    var = float((rd * p_term.sum() + q_term.sum()) / w.sum() ** 2)
    se = math.sqrt(max(var, 0.0))
    z = stats.norm.ppf(0.5 + level / 2)
    p_value = float(2 * stats.norm.sf(abs(rd) / se)) if se > 0 else float("nan")
    # Cochran's Q with inverse Wald variances (strata with zero variance are left out of Q).
    vk = (y1 / n1) * (1 - y1 / n1) / n1 + (y0 / n0) * (1 - y0 / n0) / n0
    ok = vk > 0
    if ok.sum() >= 2:
        iw = 1 / vk[ok]
        fixed = (iw * d[ok]).sum() / iw.sum()
        q = float((iw * (d[ok] - fixed) ** 2).sum())
        i2 = max(0.0, (q - (ok.sum() - 1)) / q) if q > 0 else 0.0
    else:
        q, i2 = float("nan"), float("nan")
    return {"uplift": rd, "se": se, "low": rd - z * se, "high": rd + z * se, "p_value": p_value,
            "n_strata": int(len(ab)), "q": q, "i2": float(i2)}


# ---------------------------------------------------------------------------------------
# power and sample size
# ---------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------
# what happened in each campaign window
# ---------------------------------------------------------------------------------------


def _campaign_frame(campaigns: pd.DataFrame, func: str) -> pd.DataFrame:
    campaigns = _frame(campaigns, "campaigns", func)
    _columns(campaigns, "campaigns", func, ["campaign_id", "send_ts"])
    if not pd.api.types.is_datetime64_any_dtype(campaigns["send_ts"]):
        raise ValueError(f"{func}: campaigns.send_ts must be a datetime column; convert it with "
                         "pd.to_datetime(campaigns['send_ts']).")
    if campaigns["campaign_id"].duplicated().any():
        raise ValueError(f"{func}: campaigns.campaign_id has duplicates; one row per campaign.")
    return campaigns


@reads(contacts="campaign_id customer_id", campaigns="campaign_id send_ts window_days",
       orders="order_id customer_id order_ts amount",
       order_items=Reads("order_items", ("order_id", "product_id", "quantity"), optional=True),
       products=Reads("products", ("product_id", "unit_cost"), optional=True))
def contact_outcomes(contacts: pd.DataFrame, campaigns: pd.DataFrame, orders: pd.DataFrame,
                     order_items: pd.DataFrame | None = None,
                     products: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each contact's orders in its campaign window ``[send_ts, send_ts + window_days)``.

    Returns the contacts with added columns ``n_orders``, ``window_revenue`` (paid amount,
    NT$ -- equals ``campaign_contacts.revenue`` on the shop), ``coupon_value`` (value of this
    campaign's coupons redeemed on those orders: ``amount * d / (1 - d)`` for a coupon of share
    ``d``, NT$; 0 for the holdout) and, when ``order_items`` and ``products`` are given,
    ``cost_of_goods`` (units x unit_cost) and ``gross_profit = window_revenue - cost_of_goods``.
    Holdout contacts count their orders too: that is the baseline the treated are compared with.
    """
    func = "contact_outcomes"
    contacts = _frame(contacts, "campaign_contacts", func)
    _columns(contacts, "campaign_contacts", func, ["campaign_id", "customer_id"])
    campaigns = _campaign_frame(campaigns, func)
    _columns(campaigns, "campaigns", func, ["window_days"])
    orders = _frame(orders, "orders", func)
    _columns(orders, "orders", func, ["order_id", "customer_id", "order_ts", "amount"])
    unknown = ~contacts["campaign_id"].isin(campaigns["campaign_id"])
    if unknown.any():
        raise ValueError(f"{func}: {int(unknown.sum())} contacts refer to campaign ids missing from "
                         "campaigns.campaign_id; pass the campaigns table of the same shop.")
    camp = campaigns.set_index("campaign_id")
    cid = contacts["campaign_id"].to_numpy()
    start = camp.loc[cid, "send_ts"].to_numpy()
    end = start + pd.to_timedelta(camp.loc[cid, "window_days"].to_numpy(), unit="D").to_numpy()
    disc = (camp.loc[cid, "discount_pct"].to_numpy(dtype="float64") if "discount_pct" in camp
            else np.zeros(len(contacts)))
    left = pd.DataFrame({"_row": np.arange(len(contacts)), "customer_id": contacts["customer_id"].to_numpy(),
                         "_start": start, "_end": end, "_camp": cid, "_disc": disc})
    ocols = ["order_id", "customer_id", "order_ts", "amount"]
    o = orders[ocols].copy()
    o["_coupon_camp"] = (orders["campaign_id"].astype("Float64").fillna(-1).to_numpy(dtype="float64")
                         if "campaign_id" in orders else -1.0)
    if order_items is not None and products is not None:
        order_items = _frame(order_items, "order_items", func)
        products = _frame(products, "products", func)
        _columns(order_items, "order_items", func, ["order_id", "product_id", "quantity"])
        _columns(products, "products", func, ["product_id", "unit_cost"])
        unit_cost = products.set_index("product_id")["unit_cost"]
        missing = ~order_items["product_id"].isin(unit_cost.index)
        if missing.any():
            raise ValueError(f"{func}: {int(missing.sum())} order_items rows have product ids missing "
                             "from products.product_id; pass the products table of the same shop.")
        line_cost = order_items["quantity"].to_numpy() * unit_cost.loc[order_items["product_id"]].to_numpy()
        cogs = pd.Series(line_cost).groupby(order_items["order_id"].to_numpy()).sum()
        o["_cogs"] = cogs.reindex(o["order_id"].to_numpy()).fillna(0.0).to_numpy()
    m = left.merge(o, on="customer_id", how="inner")
    m = m.loc[(m["order_ts"] >= m["_start"]) & (m["order_ts"] < m["_end"])]
    redeemed = m["_coupon_camp"].to_numpy() == m["_camp"].to_numpy()
    amount = m["amount"].to_numpy(dtype="float64")
    d = m["_disc"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        coupon = np.where(redeemed & (d < 1), amount * d / (1 - d), 0.0)
    agg = pd.DataFrame({"_row": m["_row"].to_numpy(), "n_orders": 1, "window_revenue": amount,
                        "coupon_value": coupon})
    if "_cogs" in m:
        agg["cost_of_goods"] = m["_cogs"].to_numpy()
    sums = agg.groupby("_row").sum().reindex(np.arange(len(contacts)), fill_value=0)
    out = contacts.copy()
    out["n_orders"] = sums["n_orders"].to_numpy().astype("int64")
    out["window_revenue"] = np.round(sums["window_revenue"].to_numpy(dtype="float64"), 2)
    out["coupon_value"] = sums["coupon_value"].to_numpy(dtype="float64")
    if "cost_of_goods" in sums:
        out["cost_of_goods"] = sums["cost_of_goods"].to_numpy(dtype="float64")
        out["gross_profit"] = out["window_revenue"] - out["cost_of_goods"]
    return out


# ---------------------------------------------------------------------------------------
# features known at send time
# ---------------------------------------------------------------------------------------

#: Categorical customer attributes one-hot encoded as demographics (no segment, no truth).
DEMOGRAPHICS = ("age_band", "gender", "region", "device")


def _as_of(as_of: Any, func: str) -> np.datetime64:
    return as_timestamp(as_of, "as_of", func=func).to_datetime64().astype("datetime64[ns]")


def _ts(frame: pd.DataFrame, table: str, col: str, func: str) -> np.ndarray:
    """A timestamp column as naive datetime64[ns] (time-zone aware ones are refused, as
    everywhere: which clock the days are cut on is not guessed)."""
    return datetime_column(frame, table, col, func=func).to_numpy()


def _levels(col: pd.Series) -> tuple[list[str], np.ndarray]:
    """Level names and integer codes (-1 = missing) of a label column."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return [str(c) for c in col.cat.categories], col.cat.codes.to_numpy().astype(np.int64)
    vals = col.astype("str")
    levels = sorted(vals.dropna().unique().tolist())
    codes = pd.Categorical(vals, categories=levels).codes.astype(np.int64)
    return levels, codes


class _History:
    """The tables behind the features as numpy arrays, built once and sliced per send time."""

    def __init__(self, customers: pd.DataFrame, orders: pd.DataFrame, sessions: pd.DataFrame | None,
                 loyalty_ledger: pd.DataFrame | None, func: str) -> None:
        customers = _frame(customers, "customers", func)
        _columns(customers, "customers", func, ["customer_id", "signup_ts"])
        if customers["customer_id"].duplicated().any():
            raise ValueError(f"{func}: customers.customer_id has duplicates; one row per customer.")
        orders = _frame(orders, "orders", func)
        _columns(orders, "orders", func, ["customer_id", "order_ts", "amount"])
        self.index = pd.Index(customers["customer_id"].to_numpy())
        self.signup = _ts(customers, "customers", "signup_ts", func)
        self.demo = {col: _levels(customers[col]) for col in DEMOGRAPHICS if col in customers}
        self.o_pos = self.index.get_indexer(orders["customer_id"].to_numpy())
        if (self.o_pos < 0).any():
            raise ValueError(f"{func}: {int((self.o_pos < 0).sum())} orders belong to customer ids missing "
                             "from customers.customer_id; pass the customers table of the same shop.")
        self.o_ts = _ts(orders, "orders", "order_ts", func)
        self.o_amount = _outcome(orders["amount"], "orders", "amount", func)
        has_disc = {"discount", "gross_amount"} <= set(orders.columns)
        self.o_discount = _outcome(orders["discount"], "orders", "discount", func) if has_disc else None
        self.o_gross = _outcome(orders["gross_amount"], "orders", "gross_amount", func) if has_disc else None
        self.o_coupon = orders["campaign_id"].notna().to_numpy() if "campaign_id" in orders else None
        self.o_channel = _levels(orders["channel"]) if "channel" in orders else None
        self.s = None
        if sessions is not None:
            sessions = _frame(sessions, "sessions", func)
            _columns(sessions, "sessions", func, ["customer_id", "start_ts", "traffic_source"])
            pos = self.index.get_indexer(sessions["customer_id"].to_numpy())
            self.s = (pos, _ts(sessions, "sessions", "start_ts", func), _levels(sessions["traffic_source"]))
        self.led = None
        if loyalty_ledger is not None:
            led = _frame(loyalty_ledger, "loyalty_ledger", func)
            _columns(led, "loyalty_ledger", func, ["customer_id", "ts", "entry_type", "points"])
            kind = led["entry_type"].astype("str").to_numpy()
            pts = _outcome(led["points"], "loyalty_ledger", "points", func)
            self.led = (self.index.get_indexer(led["customer_id"].to_numpy()), _ts(led, "loyalty_ledger", "ts", func),
                        np.where(kind == "earn", pts, 0.0), np.where(kind == "redeem", -pts, 0.0))

    def positions(self, customer_ids: Any, func: str) -> np.ndarray:
        ids = self.index.to_numpy() if customer_ids is None else np.asarray(customer_ids)
        pos = self.index.get_indexer(ids)
        if (pos < 0).any():
            raise ValueError(f"{func}: {int((pos < 0).sum())} customer ids are not in customers.customer_id "
                             f"(e.g. {ids[pos < 0][:3].tolist()}); pass the customers table of the same shop.")
        return pos

    def features(self, t: np.datetime64, pos: np.ndarray) -> pd.DataFrame:
        """Features at time ``t`` for the customers at positions ``pos`` (rows before ``t`` only)."""
        n_all = len(self.index)
        day = np.timedelta64(1, "D")
        out: dict[str, np.ndarray] = {}

        def per_customer(p: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
            return np.bincount(p, weights=weights, minlength=n_all).astype("float64")[pos]

        def share(num: np.ndarray, den: np.ndarray) -> np.ndarray:
            return np.divide(num, den, out=np.zeros_like(num), where=den > 0)

        tenure = (t - self.signup[pos]) / day
        out["tenure_days"] = tenure
        before = self.o_ts < t
        p = self.o_pos[before]
        age = (t - self.o_ts[before]) / day
        amount = self.o_amount[before]
        n_orders = per_customer(p)
        out["n_orders"] = n_orders
        out["orders_90d"] = per_customer(p[age <= 90])
        out["orders_365d"] = per_customer(p[age <= 365])
        last = np.full(n_all, np.inf)
        np.minimum.at(last, p, age)
        last = last[pos]
        out["recency_days"] = np.where(np.isfinite(last), last, tenure)
        out["spend_365d"] = per_customer(p[age <= 365], amount[age <= 365])
        out["avg_order_value"] = share(per_customer(p, amount), n_orders)
        if self.o_discount is not None:
            out["discount_share"] = share(per_customer(p, self.o_discount[before]),
                                          per_customer(p, self.o_gross[before]))
        if self.o_coupon is not None:
            out["coupon_share"] = share(per_customer(p, self.o_coupon[before].astype("float64")), n_orders)
        if self.o_channel is not None:
            levels, codes = self.o_channel
            c = codes[before]
            for k, lv in enumerate(levels):
                out[f"share_{lv}"] = share(per_customer(p[c == k]), n_orders)
        if self.s is not None:
            s_pos, s_ts, (levels, codes) = self.s
            keep = (s_ts < t) & (s_pos >= 0)
            sp = s_pos[keep]
            s_age = (t - s_ts[keep]) / day
            out["sessions_90d"] = per_customer(sp[s_age <= 90])
            n_s = per_customer(sp)
            c = codes[keep]
            for k, lv in enumerate(levels):
                out[f"source_{lv}"] = share(per_customer(sp[c == k]), n_s)
        if self.led is not None:
            l_pos, l_ts, earn, redeem = self.led
            keep = (l_ts < t) & (l_pos >= 0)
            earned = per_customer(l_pos[keep], earn[keep])
            out["points_earned"] = earned
            out["redeem_ratio"] = share(per_customer(l_pos[keep], redeem[keep]), earned)
        for col, (levels, codes) in self.demo.items():
            c = codes[pos]
            for k, lv in enumerate(levels):
                out[f"{col}_{lv}"] = (c == k).astype("float64")
        return pd.DataFrame(out, index=pd.Index(self.index.to_numpy()[pos], name="customer_id"))


@reads(customers="customer_id signup_ts", orders="customer_id order_ts",
       sessions=Reads("sessions", ("customer_id", "start_ts"), optional=True),
       loyalty_ledger=Reads("loyalty_ledger", ("customer_id", "ts"), optional=True))
def customer_features(as_of: Any, customers: pd.DataFrame, orders: pd.DataFrame,
                      sessions: pd.DataFrame | None = None,
                      loyalty_ledger: pd.DataFrame | None = None,
                      customer_ids: Sequence[int] | None = None) -> pd.DataFrame:
    """What the shop knew about each customer at ``as_of``: only rows strictly before it.

    One row per customer (``customer_ids`` in that order, or all customers), indexed by
    ``customer_id``, all columns float:

    * RFM as of ``as_of``: ``tenure_days`` (since signup), ``n_orders``, ``orders_90d``,
      ``orders_365d``, ``recency_days`` (since the last order; ``tenure_days`` if none),
      ``spend_365d``, ``avg_order_value``;
    * price habits: ``discount_share`` (discount / gross amount), ``coupon_share`` (share of
      orders paid with a campaign coupon);
    * channel habits: ``share_<channel>`` of orders (web, app, marketplace, store) and, with
      ``sessions``, ``sessions_90d`` and ``source_<traffic source>`` shares of visits;
    * loyalty, with ``loyalty_ledger``: ``points_earned``, ``redeem_ratio`` (redeemed / earned);
    * demographics (one-hot): age band, gender, region, device -- no segment and nothing
      from ``shop.truth``.

    Rows at exactly ``as_of`` count as *after* it (a campaign sent at 10:00 cannot know an
    order placed at 10:00), so features for a campaign never see the campaign's own window.
    """
    func = "customer_features"
    t = _as_of(as_of, func)
    hist = _History(customers, orders, sessions, loyalty_ledger, func)
    return hist.features(t, hist.positions(customer_ids, func))


@reads(contacts=Reads("campaign_contacts", ("campaign_id", "customer_id"), nonempty=True),
       campaigns="campaign_id send_ts", customers="customer_id signup_ts", orders="customer_id order_ts",
       sessions=Reads("sessions", ("customer_id", "start_ts"), optional=True),
       loyalty_ledger=Reads("loyalty_ledger", ("customer_id", "ts"), optional=True))
def contact_features(contacts: pd.DataFrame, campaigns: pd.DataFrame, customers: pd.DataFrame,
                     orders: pd.DataFrame, sessions: pd.DataFrame | None = None,
                     loyalty_ledger: pd.DataFrame | None = None,
                     history: pd.DataFrame | None = None) -> pd.DataFrame:
    """Features of every contact as of its campaign's send time (no look-ahead).

    Rows align with ``contacts`` (same order; columns ``campaign_id, customer_id`` then the
    features). Each campaign gets :func:`customer_features` at its ``send_ts`` plus the
    customer's *past campaign response*, counted only over earlier campaigns whose window had
    closed by this send time (``send_ts + window_days <= this send_ts``): ``past_contacts``,
    ``past_treated``, ``past_treated_conversions``, ``past_holdout_conversions``,
    ``past_opens``, ``past_clicks``, ``past_open_rate`` (opens / treated, 0 if never treated).

    ``history`` is the contact table the past response is counted from (default:
    ``contacts`` itself). To score a campaign not sent yet, add it to ``campaigns``, pass its
    planned contacts as ``contacts`` and ``history=shop.campaign_contacts``.
    """
    func = "contact_features"
    contacts = _frame(contacts, "campaign_contacts", func)
    _columns(contacts, "campaign_contacts", func, ["campaign_id", "customer_id"])
    campaigns = _campaign_frame(campaigns, func)
    unknown = ~contacts["campaign_id"].isin(campaigns["campaign_id"])
    if unknown.any():
        raise ValueError(f"{func}: {int(unknown.sum())} contacts refer to campaign ids missing from "
                         "campaigns.campaign_id; pass the campaigns table of the same shop.")
    hist = _History(customers, orders, sessions, loyalty_ledger, func)
    send = _ts(campaigns, "campaigns", "send_ts", func)
    window = (campaigns["window_days"].to_numpy(dtype="float64") if "window_days" in campaigns
              else np.zeros(len(campaigns)))
    closes = pd.Series(send + (window * 86400e9).astype("timedelta64[ns]"),
                       index=campaigns["campaign_id"].to_numpy())
    send_of = dict(zip(campaigns["campaign_id"].tolist(), send, strict=True))
    cid = contacts["campaign_id"].to_numpy()
    pos = hist.positions(contacts["customer_id"].to_numpy(), func)
    past = contacts if history is None else _frame(history, "history", func)
    _columns(past, "history", func, ["campaign_id", "customer_id"])
    missing = ~past["campaign_id"].isin(campaigns["campaign_id"])
    if missing.any():
        raise ValueError(f"{func}: {int(missing.sum())} history rows refer to campaign ids missing from "
                         "campaigns.campaign_id; pass the campaigns table of the same shop.")
    n = len(past)
    h_pos = hist.positions(past["customer_id"].to_numpy(), func)
    treated = (treatment_flags(past["group"], "history", "group", func) if "group" in past
               else np.ones(n, bool))

    def flag(col: str) -> np.ndarray:
        return past[col].to_numpy(dtype=bool) if col in past else np.zeros(n, bool)

    conv, opened, clicked = flag("converted"), flag("opened"), flag("clicked")
    c_close = closes.loc[past["campaign_id"].to_numpy()].to_numpy()
    past_cols = {"past_contacts": np.ones(n), "past_treated": treated.astype("float64"),
                 "past_treated_conversions": (treated & conv).astype("float64"),
                 "past_holdout_conversions": (~treated & conv).astype("float64"),
                 "past_opens": opened.astype("float64"), "past_clicks": clicked.astype("float64")}
    blocks = []
    n_all = len(hist.index)
    for k in pd.unique(cid):
        rows = np.flatnonzero(cid == k)
        t = send_of[k]
        f = hist.features(t, pos[rows])
        done = c_close <= t
        for name, vals in past_cols.items():
            f[name] = np.bincount(h_pos[done], weights=vals[done], minlength=n_all)[pos[rows]]
        f["past_open_rate"] = np.divide(f["past_opens"].to_numpy(), f["past_treated"].to_numpy(),
                                        out=np.zeros(len(rows)), where=f["past_treated"].to_numpy() > 0)
        f = f.reset_index()
        f.insert(0, "campaign_id", k)
        f.index = rows
        blocks.append(f)
    out = pd.concat(blocks).sort_index().reset_index(drop=True)
    out["campaign_id"] = out["campaign_id"].astype("int64")
    out["customer_id"] = out["customer_id"].astype("int64")
    return out


# ---------------------------------------------------------------------------------------
# uplift models
# ---------------------------------------------------------------------------------------


def default_uplift_estimator(C: float = 0.1) -> Pipeline:
    """The base classifier used when none is given: standardized features and an
    L2-regularized logistic regression (``C=0.1``). Uplift is a small difference between two
    noisy rates, so the models must be smooth rather than sharp; on the shop this simple model
    ranks the planted segments in the right order, is deterministic and fits in a blink. Pass
    any scikit-learn classifier (e.g. gradient boosting) to the uplift models to compare."""
    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))


def _xy(X: Any, y: Any, treatment: Any, func: str) -> tuple[Any, np.ndarray, np.ndarray]:
    if isinstance(X, pd.DataFrame):
        nonnum = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
        if nonnum:
            raise ValueError(f"{func}: feature columns {nonnum[:5]} are not numeric; one-hot encode "
                             "them (customer_features does) or drop them.")
    arr = np.asarray(X, dtype="float64")
    if arr.ndim != 2 or len(arr) == 0:
        raise ValueError(f"{func}: X must be a non-empty 2-d table of features.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{func}: X has missing or infinite values; fill them (e.g. 0) first.")
    w = treatment_flags(treatment, "contacts", "treatment", func)
    yy = _outcome(y, "contacts", "y", func, binary=True)
    if not (len(arr) == len(w) == len(yy)):
        raise ValueError(f"{func}: X ({len(arr)} rows), y ({len(yy)}) and treatment ({len(w)}) must "
                         "have the same length.")
    _require_both_arms(w, "contacts", "treatment", func)
    return arr, yy.astype(int), w


def _proba(model: Any, X: np.ndarray) -> np.ndarray:
    proba = model.predict_proba(X)
    classes = list(model.classes_)
    if 1 in classes:
        return proba[:, classes.index(1)]
    return np.zeros(len(X))


class _ConstantClassifier:
    """Stands in when one arm has a single class (e.g. no holdout conversions): P(y=1) = rate."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.classes_ = np.array([0, 1])

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = np.full(len(X), self.rate)
        return np.column_stack([1 - p, p])


def _fit_classifier(estimator: Any, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None):
    if len(np.unique(y)) < 2:
        return _ConstantClassifier(float(y.mean()))
    model = clone(estimator)
    if sample_weight is None:
        return model.fit(X, y)
    if isinstance(model, Pipeline):  # route the weights to the final step
        kwargs = {f"{model.steps[-1][0]}__sample_weight": sample_weight}
    else:
        kwargs = {"sample_weight": sample_weight}
    try:
        return model.fit(X, y, **kwargs)
    except TypeError as err:
        raise ValueError(f"ClassTransformationUplift: {type(estimator).__name__}.fit does not take "
                         "sample_weight, which balancing treatment and control needs; use an "
                         "estimator that does (e.g. LogisticRegression, HistGradientBoostingClassifier) "
                         "or balance=False with a 50/50 experiment.") from err


class TwoModelUplift(BaseEstimator):
    """Two-model uplift (T-learner): one classifier per arm, uplift = P(y|x, treated) - P(y|x, control).

    ``fit(X, y, treatment)`` fits ``model_treated_`` on the treated contacts and
    ``model_control_`` on the holdout; :meth:`predict_uplift` returns the difference of their
    predicted conversion probabilities. :meth:`predict_response` is the treated model alone --
    exactly the classic *response model* ("who buys when we send?"), which ranks customers who
    buy anyway (sure things) at the top. Simple and flexible; its weakness is that each model
    chases its own noise, so the difference is noisier than either.
    """

    def __init__(self, estimator: Any = None, estimator_control: Any = None) -> None:
        self.estimator = estimator
        self.estimator_control = estimator_control

    def fit(self, X: Any, y: Any, treatment: Any) -> TwoModelUplift:
        arr, yy, w = _xy(X, y, treatment, "TwoModelUplift.fit")
        base = self.estimator if self.estimator is not None else default_uplift_estimator()
        base_c = self.estimator_control if self.estimator_control is not None else base
        self.model_treated_ = _fit_classifier(base, arr[w], yy[w])
        self.model_control_ = _fit_classifier(base_c, arr[~w], yy[~w])
        self.n_features_in_ = arr.shape[1]
        self.treated_share_ = float(w.mean())
        return self

    def _check(self, X: Any) -> np.ndarray:
        if not hasattr(self, "model_treated_"):
            raise ValueError("TwoModelUplift: call fit(X, y, treatment) before predicting.")
        arr = np.asarray(X, dtype="float64")
        if arr.ndim != 2 or arr.shape[1] != self.n_features_in_:
            raise ValueError(f"TwoModelUplift: X must have {self.n_features_in_} feature columns, "
                             f"got shape {arr.shape}; build it the same way as for fit.")
        return arr

    def predict_response(self, X: Any) -> np.ndarray:
        """P(convert | x, treated): the response model."""
        return _proba(self.model_treated_, self._check(X))

    def predict_control(self, X: Any) -> np.ndarray:
        """P(convert | x, not treated): the baseline."""
        return _proba(self.model_control_, self._check(X))

    def predict_uplift(self, X: Any) -> np.ndarray:
        """Estimated individual uplift P(y|x,T) - P(y|x,C)."""
        arr = self._check(X)
        return _proba(self.model_treated_, arr) - _proba(self.model_control_, arr)

    predict = predict_uplift


class ClassTransformationUplift(BaseEstimator):
    """Class-transformation uplift model (Jaskowski & Jaroszewicz 2012).

    Define ``z = 1`` for treated converters and for control non-converters, else ``z = 0``.
    In a 50/50 experiment ``P(z=1 | x) = (1 + uplift(x)) / 2``, so one classifier for ``z``
    gives ``uplift = 2 P(z=1|x) - 1``. The shop holds out only 20%; with ``balance=True``
    (default) each arm is reweighted to half the total weight (treated ``1 / (2 p)``,
    control ``1 / (2 (1-p))``, ``p`` = treated share), which restores the identity.
    One model, one set of hyperparameters, and it targets the uplift directly.
    """

    def __init__(self, estimator: Any = None, balance: bool = True) -> None:
        self.estimator = estimator
        self.balance = balance

    def fit(self, X: Any, y: Any, treatment: Any) -> ClassTransformationUplift:
        arr, yy, w = _xy(X, y, treatment, "ClassTransformationUplift.fit")
        z = (yy == w.astype(int)).astype(int)
        p = float(w.mean())
        weight = np.where(w, 0.5 / p, 0.5 / (1 - p)) if self.balance else None
        base = self.estimator if self.estimator is not None else default_uplift_estimator()
        self.model_ = _fit_classifier(base, arr, z, sample_weight=weight)
        self.n_features_in_ = arr.shape[1]
        self.treated_share_ = p
        return self

    def predict_uplift(self, X: Any) -> np.ndarray:
        if not hasattr(self, "model_"):
            raise ValueError("ClassTransformationUplift: call fit(X, y, treatment) before predicting.")
        arr = np.asarray(X, dtype="float64")
        if arr.ndim != 2 or arr.shape[1] != self.n_features_in_:
            raise ValueError(f"ClassTransformationUplift: X must have {self.n_features_in_} feature "
                             f"columns, got shape {arr.shape}.")
        return 2 * _proba(self.model_, arr) - 1

    predict = predict_uplift


def cross_fit_uplift(model: Any, X: Any, y: Any, treatment: Any, groups: Any = None,
                     n_splits: int = 5, seed: Seed = 0) -> pd.DataFrame:
    """Out-of-fold uplift scores: every contact is scored by a model that never saw it.

    Folds are drawn at random by ``groups`` (e.g. customer_id), so a customer's contacts in
    other campaigns do not leak into the fold that scores them. Returns a DataFrame aligned
    with ``X`` with ``uplift`` and ``fold`` (plus ``response`` and ``control`` for a
    :class:`TwoModelUplift`). Qini curves and policy comparisons must use these scores --
    in-sample uplift scores look far better than they are.
    """
    func = "cross_fit_uplift"
    arr, yy, w = _xy(X, y, treatment, func)
    if not isinstance(n_splits, int) or n_splits < 2:
        raise ValueError(f"{func}: n_splits={n_splits!r} must be an integer >= 2.")
    g = np.arange(len(arr)) if groups is None else np.asarray(groups)
    if len(g) != len(arr):
        raise ValueError(f"{func}: groups must have one value per row of X.")
    uniq, inv = np.unique(g, return_inverse=True)
    if len(uniq) < n_splits:
        raise ValueError(f"{func}: only {len(uniq)} groups for {n_splits} folds; use fewer folds.")
    perm = _rng(seed).permutation(len(uniq))
    fold_of_group = np.empty(len(uniq), dtype=int)
    fold_of_group[perm] = np.arange(len(uniq)) % n_splits
    fold = fold_of_group[inv]
    out = pd.DataFrame({"uplift": np.nan, "fold": fold}, index=getattr(X, "index", None))
    two = isinstance(model, TwoModelUplift)
    if two:
        out["response"] = np.nan
        out["control"] = np.nan
    for k in range(n_splits):
        test = fold == k
        train = ~test
        if w[train].all() or not w[train].any():
            raise ValueError(f"{func}: fold {k} leaves no treated or no holdout contacts to train on; "
                             "use fewer folds or more contacts.")
        fitted = clone(model).fit(arr[train], yy[train], w[train])
        out.loc[out.index[test], "uplift"] = fitted.predict_uplift(arr[test])
        if two:
            out.loc[out.index[test], "response"] = fitted.predict_response(arr[test])
            out.loc[out.index[test], "control"] = fitted.predict_control(arr[test])
    return out


# ---------------------------------------------------------------------------------------
# Qini and uplift curves
# ---------------------------------------------------------------------------------------


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

    def evaluate(name: str, fraction: float, targeted: np.ndarray) -> dict[str, Any]:
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
        cost = cost_per_contact * m + cost_per_conversion * conv_t * m
        row = {"policy": name, "fraction": fraction, "n_targeted": m,
               "n_treatment": int(wt.sum()), "n_control": int(m - wt.sum()),
               "conv_treatment": conv_t, "uplift": uplift, "incremental": uplift * m,
               "cost": cost, "profit": uplift * m * value_per_conversion - cost}
        if tr is not None:
            row["true_incremental"] = float(tr[targeted].sum())
        return row

    rows = [evaluate("nobody", 0.0, np.zeros(n, bool)), evaluate("everyone", 1.0, np.ones(n, bool))]
    for name, score in scores.items():
        s = np.asarray(score, dtype="float64")
        if len(s) != n or not np.all(np.isfinite(s)):
            raise ValueError(f"{func}: score {name!r} must hold one finite number per contact ({n}).")
        order = np.argsort(-s, kind="stable")
        for k in fractions:
            m = int(round(k * n))
            targeted = np.zeros(n, bool)
            targeted[order[:m]] = True
            rows.append(evaluate(str(name), float(k), targeted))
    out = pd.DataFrame(rows)
    out["policy"] = out["policy"].astype("str")
    return out


# ---------------------------------------------------------------------------------------
# money: break-even, ROI, offer assignment
# ---------------------------------------------------------------------------------------


def break_even_uplift(value_per_conversion: float, cost_per_contact: float, base_rate: float = 0.0,
                      redemption_rate: float = 0.0, discount_per_redemption: float = 0.0) -> float:
    """The uplift (in conversion probability) at which a send just pays for itself.

    Per treated contact the shop earns ``uplift * v`` (``v`` = margin of one extra conversion)
    and pays the send ``c`` plus the coupon on every redeemed order -- including the orders of
    customers who would have bought anyway (rate ``p0``): ``(p0 + uplift) * r * D``. Setting
    profit to 0:

    ``uplift* = (c + p0 r D) / (v - r D)``.

    With no coupon this is the familiar ``c / v``. The coupon on baseline buyers is why
    discount campaigns to frequent buyers rarely pay. Raises ValueError when ``v <= r D``
    (each extra conversion costs more in coupons than it earns: no uplift breaks even).
    """
    func = "break_even_uplift"
    v, c = float(value_per_conversion), float(cost_per_contact)
    p0 = _prob(base_rate, "base_rate", func, open_interval=False)
    r = _prob(redemption_rate, "redemption_rate", func, open_interval=False)
    d = float(discount_per_redemption)
    if c < 0 or d < 0:
        raise ValueError(f"{func}: costs must be non-negative (cost_per_contact={c}, "
                         f"discount_per_redemption={d}).")
    if v <= r * d:
        raise ValueError(f"{func}: value_per_conversion={v} does not exceed the expected coupon per "
                         f"conversion ({r * d:g}); no uplift makes this offer pay -- lower the discount.")
    return (c + p0 * r * d) / (v - r * d)


def campaign_roi(incremental_margin: Any, spend: Any) -> Any:
    """Return on marketing spend: ``(incremental_margin - spend) / spend``.

    ``incremental_margin`` is the gross margin the campaign *caused* before marketing costs
    (from the treatment-vs-holdout difference, never from all orders of the treated), and
    ``spend`` what it cost (sends + coupons). ROI 0.5 = every NT$1 spent came back with NT$0.50
    profit; ROI -1 = the campaign earned nothing.
    """
    m = np.asarray(incremental_margin, dtype="float64")
    s = np.asarray(spend, dtype="float64")
    if np.any(s <= 0):
        raise ValueError("campaign_roi: spend must be positive (a campaign that cost nothing has "
                         "no return on spend; report its incremental margin instead).")
    out = (m - s) / s
    return float(out) if out.ndim == 0 else out


@reads(campaigns="campaign_id cost_per_contact")
def campaign_economics(outcomes: pd.DataFrame, campaigns: pd.DataFrame, treatment: str = "group",
                       profit: str = "gross_profit", level: float = 0.95) -> pd.DataFrame:
    """Per campaign: the A/B read of gross profit per contact, the spend and the ROI.

    ``outcomes`` is :func:`contact_outcomes` (with ``gross_profit`` and ``coupon_value``).
    Columns: ``campaign_id, channel, offer, n_treatment, n_control``, ``profit_diff`` (gross
    profit per contact, treated - holdout, NT$; net of coupons since revenue is paid amount)
    with Welch ``profit_low, profit_high``; ``contact_cost = cost_per_contact * n_treatment``;
    ``coupon_cost`` (coupons redeemed by the treated); ``spend = contact_cost + coupon_cost``;
    ``incremental_margin = profit_diff * n_treatment + coupon_cost`` (margin caused before
    marketing costs); ``net_profit = incremental_margin - spend`` (which equals
    ``profit_diff * n_treatment - contact_cost``) with its interval ``net_profit_low,
    net_profit_high``, and ``roi = net_profit / spend``. ``profit_se`` is the standard error
    of ``profit_diff``.
    """
    func = "campaign_economics"
    outcomes = _frame(outcomes, "contact outcomes", func)
    _columns(outcomes, "contact outcomes", func, ["campaign_id", treatment, profit, "coupon_value"])
    campaigns = _campaign_frame(campaigns, func)
    _columns(campaigns, "campaigns", func, ["cost_per_contact"])
    if "converted" not in outcomes:
        raise ValueError(f"{func}: contact outcomes need a 'converted' column; pass "
                         "contact_outcomes(shop.campaign_contacts, ...).")
    ab = ab_test(outcomes, by="campaign_id", treatment=treatment, conversion="converted",
                 value=profit, level=level, table="contact outcomes")
    w = treatment_flags(outcomes[treatment], "contact outcomes", treatment, func)
    coupons = pd.Series(outcomes["coupon_value"].to_numpy() * w).groupby(
        outcomes["campaign_id"].to_numpy()).sum()
    camp = campaigns.set_index("campaign_id")
    out = pd.DataFrame({"campaign_id": ab["campaign_id"].to_numpy()})
    for col in ("channel", "offer"):
        if col in camp:
            out[col] = camp.loc[out["campaign_id"], col].to_numpy()
    out["n_treatment"] = ab["n_treatment"].to_numpy()
    out["n_control"] = ab["n_control"].to_numpy()
    out["profit_diff"] = ab["value_diff"].to_numpy()
    out["profit_se"] = ab["value_se"].to_numpy()
    out["profit_low"] = ab["value_low"].to_numpy()
    out["profit_high"] = ab["value_high"].to_numpy()
    out["contact_cost"] = camp.loc[out["campaign_id"], "cost_per_contact"].to_numpy() * out["n_treatment"]
    out["coupon_cost"] = coupons.reindex(out["campaign_id"]).fillna(0.0).to_numpy()
    out["spend"] = out["contact_cost"] + out["coupon_cost"]
    out["incremental_margin"] = out["profit_diff"] * out["n_treatment"] + out["coupon_cost"]
    out["net_profit"] = out["incremental_margin"] - out["spend"]
    out["net_profit_low"] = out["profit_low"] * out["n_treatment"] - out["contact_cost"]
    out["net_profit_high"] = out["profit_high"] * out["n_treatment"] - out["contact_cost"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["roi"] = np.where(out["spend"] > 0, out["net_profit"] / out["spend"], np.nan)
    return out


def roi_by(economics: pd.DataFrame, by: str = "channel", level: float = 0.95) -> pd.DataFrame:
    """Sum a :func:`campaign_economics` table by ``by`` (e.g. channel) and recompute the ROI
    from the sums (a ratio of sums, not a mean of ratios: big campaigns weigh more).

    ``net_profit_low, net_profit_high``: a normal interval for the summed net profit, with
    the campaigns' independent errors added in quadrature (``se = sqrt(sum (n_t se_k)^2)``);
    campaigns without a standard error (no variation at all) add none.
    """
    func = "roi_by"
    level = _level(level, func)
    economics = _frame(economics, "campaign economics", func)
    _columns(economics, "campaign economics", func, [by, "n_treatment", "spend", "incremental_margin",
                                                      "net_profit", "profit_se"])
    key = economics[by].astype("str") if isinstance(economics[by].dtype, pd.CategoricalDtype) else economics[by]
    var = (economics["profit_se"].fillna(0.0) * economics["n_treatment"]) ** 2
    g = economics.assign(_var=var.to_numpy()).groupby(key.to_numpy(), sort=True).agg(
        campaigns=("n_treatment", "size"), n_treatment=("n_treatment", "sum"),
        spend=("spend", "sum"), incremental_margin=("incremental_margin", "sum"),
        net_profit=("net_profit", "sum"), _var=("_var", "sum"))
    z = stats.norm.ppf(0.5 + level / 2)
    se = np.sqrt(g.pop("_var"))
    g["net_profit_low"] = g["net_profit"] - z * se
    g["net_profit_high"] = g["net_profit"] + z * se
    g["roi"] = np.where(g["spend"] > 0, g["net_profit"] / g["spend"], np.nan)
    return g.rename_axis(by).reset_index()


def _hull_steps(cost: np.ndarray, value: np.ndarray, rows: np.ndarray) -> list[tuple[float, float, int]]:
    """Upgrade steps (extra cost, extra value, row) along one customer's upper convex hull of
    (cost, value) from the origin; the steps' value-per-cost ratios decrease."""
    order = np.lexsort((-value, cost))
    hull: list[tuple[float, float, int]] = [(0.0, 0.0, -1)]
    for i in order:
        ci, vi = float(cost[i]), float(value[i])
        if vi <= hull[-1][1]:
            continue  # dearer but not better than the last kept offer
        if ci == hull[-1][0] and hull[-1][2] != -1:
            hull.pop()  # same cost, more value: replace
        while len(hull) >= 2:
            (c0, v0, _), (c1, v1, _) = hull[-2], hull[-1]
            # hull[-1] is dominated when the chord hull[-2] -> i lies above it
            if (v1 - v0) * (ci - c0) <= (vi - v0) * (c1 - c0):
                hull.pop()
            else:
                break
        hull.append((ci, vi, int(rows[i])))
    return [(hull[j][0] - hull[j - 1][0], hull[j][1] - hull[j - 1][1], hull[j][2])
            for j in range(1, len(hull))]


def _mckp_greedy(codes: np.ndarray, value: np.ndarray, cost: np.ndarray, budget: float,
                 rows: np.ndarray) -> np.ndarray:
    """Row numbers chosen by the multiple-choice knapsack greedy (see :func:`assign_offers`)."""
    steps = []  # (ratio, customer, step number, extra cost, row)
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.r_[True, codes[order][1:] != codes[order][:-1], True])
    for a, z in zip(bounds[:-1], bounds[1:], strict=True):
        idx = order[a:z]
        for k, (dc, dv, row) in enumerate(_hull_steps(cost[idx], value[idx], rows[idx])):
            ratio = math.inf if dc <= 0 else dv / dc
            steps.append((-ratio, int(codes[idx[0]]), k, dc, row))
    steps.sort()
    left = budget
    current: dict[int, tuple[int, int]] = {}
    blocked: set[int] = set()
    for _, cust, k, dc, row in steps:
        if cust in blocked or k != (0 if cust not in current else current[cust][1] + 1):
            continue
        if dc > left + 1e-9:
            blocked.add(cust)  # the next upgrade does not fit: stay at the current offer
            continue
        left -= dc
        current[cust] = (row, k)
    return np.array([row for row, _ in current.values()], dtype=np.int64)


def assign_offers(candidates: pd.DataFrame, budget: float, method: str = "greedy",
                  customer: str = "customer_id", offer: str = "offer", value: str = "value",
                  cost: str = "cost") -> pd.DataFrame:
    """Give each customer at most one offer, maximizing total expected value within a budget.

    ``candidates`` has one row per (customer, offer) with the offer's expected incremental
    ``value`` (e.g. uplift x margin, NT$) and its ``cost`` (NT$). Rows with ``value <= 0``
    are never chosen (an offer that loses money, or a sleeping dog, gets nothing).

    * ``method="greedy"``: the classic greedy for this *multiple-choice knapsack* (Sinha &
      Zoltners 1979). Per customer, order the offers by cost and keep only those on the upper
      convex hull of (cost, value) starting at (0, 0) -- an offer that a mix of its cheaper
      and dearer neighbours beats is never worth it. Each hull step is an *upgrade* (the
      first step: from no offer to the cheapest offer) with its extra value per extra NT$.
      Take upgrades in order of that ratio while they fit the budget; a customer whose next
      upgrade does not fit stays at their current offer. Fast and easy to explain, nearly
      optimal when single offers are small against the budget, but not always optimal.
    * ``method="milp"``: the exact 0/1 program -- maximize ``sum value x`` subject to
      ``sum cost x <= budget`` and ``sum_offers x <= 1`` per customer -- solved with
      ``scipy.optimize.milp`` (HiGHS).

    Returns the chosen rows (original columns) sorted by customer; ``result.attrs`` holds
    ``total_value``, ``total_cost`` and ``budget``.
    """
    func = "assign_offers"
    candidates = _frame(candidates, "candidates", func)
    _columns(candidates, "candidates", func, [customer, offer, value, cost])
    if method not in ("greedy", "milp"):
        raise ValueError(f"{func}: method={method!r}; use 'greedy' or 'milp'.")
    b = float(budget)
    if not math.isfinite(b) or b < 0:
        raise ValueError(f"{func}: budget={budget!r} must be a non-negative number (NT$).")
    v = _outcome(candidates[value], "candidates", value, func)
    c = _outcome(candidates[cost], "candidates", cost, func)
    if np.any(c < 0):
        raise ValueError(f"{func}: candidates.{cost} has negative costs; costs are NT$ >= 0.")
    if candidates.duplicated([customer, offer]).any():
        raise ValueError(f"{func}: candidates has duplicate ({customer}, {offer}) rows; one row per pair.")
    keep = np.flatnonzero(v > 0)
    chosen = np.zeros(len(candidates), bool)
    if len(keep):
        cust_codes = pd.factorize(candidates[customer])[0]
        if method == "greedy":
            chosen[_mckp_greedy(cust_codes[keep], v[keep], c[keep], b, keep)] = True
        else:
            kc = cust_codes[keep]
            uniq, row_of = np.unique(kc, return_inverse=True)
            m = len(keep)
            a_cust = sparse.csr_array((np.ones(m), (row_of, np.arange(m))), shape=(len(uniq), m))
            a_budget = sparse.csr_array(c[keep].reshape(1, -1))
            cons = [optimize.LinearConstraint(a_cust, -np.inf, 1.0),
                    optimize.LinearConstraint(a_budget, -np.inf, b)]
            res = optimize.milp(-v[keep], constraints=cons, integrality=np.ones(m),
                                bounds=optimize.Bounds(0, 1))
            if res.x is None:
                raise ValueError(f"{func}: the integer program found no solution ({res.message}).")
            chosen[keep[res.x > 0.5]] = True
    out = candidates.loc[chosen].sort_values([customer, offer], kind="stable")
    out.attrs = {"total_value": float(v[chosen].sum()), "total_cost": float(c[chosen].sum()),
                 "budget": b, "method": method}
    return out


# ---------------------------------------------------------------------------------------
# live what-if demo: targeting threshold -> incremental profit (crmlab.demos.targeting_demo)
# ---------------------------------------------------------------------------------------


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
    """
    func = "targeting_profit"
    yy, w, s = _curve_inputs(y, treatment, score, func)
    try:
        thr = float(threshold)
    except (TypeError, ValueError):
        raise ValueError(f"{func}: threshold={threshold!r} must be a number (a score).") from None
    if math.isnan(thr):
        raise ValueError(f"{func}: threshold is NaN; pass a score, e.g. 0.0.")
    v, c, d = float(value_per_conversion), float(cost_per_contact), float(cost_per_conversion)
    if min(c, d) < 0:
        raise ValueError(f"{func}: costs must be non-negative (cost_per_contact={c}, "
                         f"cost_per_conversion={d}).")
    steps = uplift_curves(yy, w, s)
    n, n_t, n_c = (steps[k].to_numpy() for k in ("n", "n_treatment", "n_control"))
    with np.errstate(divide="ignore", invalid="ignore"):
        conv_t = np.where(n_t > 0, steps["y_treatment"].to_numpy() / n_t, 0.0)
        both = (n_t > 0) & (n_c > 0)
        incremental = np.where(n == 0, 0.0, np.where(both, steps["uplift"].to_numpy(), np.nan))
    cost = c * n + d * conv_t * n
    profit = incremental * v - cost
    curve = pd.DataFrame({"threshold": np.r_[np.inf, np.unique(s)[::-1]], "n_targeted": n,
                          "share_targeted": steps["fraction"].to_numpy(),
                          "incremental": incremental, "cost": cost, "profit": profit})
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


__all__ += ["targeting_profit"]


# --------------------------------------------------------------------------------------
# customised products and personalised packaging (定制化產品、個性化包裝)
# --------------------------------------------------------------------------------------


@reads(customizations="", order_items="", products="", orders="")
def customization_uptake(
    customizations: pd.DataFrame,
    order_items: pd.DataFrame,
    products: pd.DataFrame,
    orders: pd.DataFrame,
    *,
    eligible: Mapping[str, Sequence[str] | None] | None = None,
    by: pd.Series | None = None,
) -> pd.DataFrame:
    """Who takes paid customisation, and what it is worth.

    Per option (and per group of ``by``, a Series customer id -> label such as a segment):
    ``eligible_lines`` (order lines whose product category offers the option: ``eligible``
    maps option -> categories, None = every category; default the shop's catalogue,
    :data:`crmlab.data.simulate.CUSTOMIZATION_OPTIONS`), ``customized``, ``take_up`` =
    customized / eligible, ``fees`` and ``margin`` (fees - cost), NT$.
    """
    if eligible is None:
        from crmlab.data.simulate import CUSTOMIZATION_OPTIONS

        eligible = {k: v[2] for k, v in CUSTOMIZATION_OPTIONS.items()}
    require_columns(customizations, "customizations", ["order_id", "line_no", "option", "fee", "cost"])
    require_columns(order_items, "order_items", ["order_id", "line_no", "product_id"])
    require_columns(products, "products", ["product_id", "category"])
    require_columns(orders, "orders", ["order_id", "customer_id"])
    unknown = set(customizations["option"].astype("str")) - set(eligible)
    if unknown:
        raise ValueError(f"customization_uptake: options {sorted(unknown)} are not in `eligible`; "
                         "say which categories offer them.")
    lines = (order_items[["order_id", "line_no", "product_id"]]
             .merge(products[["product_id", "category"]], on="product_id", how="left")
             .merge(orders[["order_id", "customer_id"]], on="order_id", how="left"))
    if by is None:
        lines["group"] = "all"
    else:
        group = lines["customer_id"].map(by)
        if group.isna().any():  # astype("str") would have made them a silent group "nan"
            ids = lines.loc[group.isna(), "customer_id"].drop_duplicates().head(5).tolist()
            raise ValueError(f"customization_uptake: `by` has no label for customer_id {ids} (orders."
                             "customer_id of order lines); label every buyer, e.g. by.reindex(ids).fillna('unknown').")
        lines["group"] = group.astype("str")
    cz = customizations.merge(lines[["order_id", "line_no", "group"]], on=["order_id", "line_no"], how="left")
    if cz["group"].isna().any():
        raise ValueError(f"customizations: {int(cz['group'].isna().sum())} row(s) name an order line "
                         "that order_items does not have; fix the ids first.")
    rows = []
    for option, cats in eligible.items():
        ok = lines if cats is None else lines.loc[lines["category"].astype("str").isin(list(cats))]
        mine = cz.loc[cz["option"].astype("str") == option]
        n_elig = ok.groupby("group").size()
        for group, n in n_elig.items():
            g = mine.loc[mine["group"] == group]
            rows.append({"option": option, "group": group, "eligible_lines": int(n),
                         "customized": len(g), "take_up": len(g) / n if n else float("nan"),
                         "fees": float(g["fee"].sum()), "margin": float((g["fee"] - g["cost"]).sum())})
    out = pd.DataFrame(rows)
    return out.drop(columns="group") if by is None else out


__all__ += ["customization_uptake"]
