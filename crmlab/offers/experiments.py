"""A campaign read as an experiment (A/B 測試): uplift with confidence intervals.

:func:`ab_test` compares the treatment and holdout groups per campaign (or segment) from the
``campaign_contacts`` table, with Newcombe and Welch intervals from :mod:`crmlab.stats`;
:func:`adjust_pvalues` (Holm, Benjamini--Hochberg) and :func:`pooled_uplift`
(Mantel--Haenszel risk difference across campaigns) handle many campaigns at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from crmlab._checks import Reads, reads
from crmlab.offers._common import _columns, _frame
from crmlab.offers.groups import _require_both_arms, treatment_flags
from crmlab.stats import check_level as _level
from crmlab.stats import mean_diff_ci, proportion_diff_ci, two_proportion_pvalue
from crmlab.stats import numeric_values as _outcome


def _check_group_keys(contacts: pd.DataFrame, keys: list[str], table: str, func: str) -> None:
    """Every ``by`` column is complete and has no empty category (an empty segment has no arms)."""
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


def _read_group(gw: np.ndarray, gy: np.ndarray, gv: np.ndarray | None, level: float,
                ci_method: str) -> dict[str, Any]:
    """The A/B read of one group: arm sizes, conversion uplift with its interval and
    p-value, the value difference (Welch) and the increments."""
    n_t, n_c = int(gw.sum()), int(len(gw) - gw.sum())
    k_t, k_c = float(gy[gw].sum()), float(gy[~gw].sum())
    low, high = proportion_diff_ci(k_t, n_t, k_c, n_c, level=level, method=ci_method)
    row: dict[str, Any] = {"n_treatment": n_t, "n_control": n_c,
                           "conv_treatment": k_t / n_t, "conv_control": k_c / n_c}
    row["uplift"] = row["conv_treatment"] - row["conv_control"]
    row.update(uplift_low=low, uplift_high=high,
               p_value=two_proportion_pvalue(k_t, n_t, k_c, n_c))
    if gv is not None:
        row["value_treatment"], row["value_control"] = float(gv[gw].mean()), float(gv[~gw].mean())
        if n_t >= 2 and n_c >= 2:
            welch = mean_diff_ci(gv[gw], gv[~gw], level=level)
        else:
            welch = {"diff": row["value_treatment"] - row["value_control"], "se": np.nan,
                     "low": np.nan, "high": np.nan, "p_value": np.nan}
        row.update(value_diff=welch["diff"], value_se=welch["se"], value_low=welch["low"],
                   value_high=welch["high"], value_p_value=welch["p_value"])
    row["incremental_conversions"] = row["uplift"] * n_t
    if gv is not None:
        row["incremental_value"] = row["value_diff"] * n_t
    return row


# Long function: over half is the docstring (twenty result columns and nine arguments);
# the code checks the table and reads each group with _read_group.
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

    Parameters
    ----------
    contacts : pd.DataFrame
        One row per contact, e.g. the shop's ``campaign_contacts`` table.
    by : str, sequence of str or None, default "campaign_id"
        Column(s) defining the groups read separately; ``None`` for one read of all rows.
    treatment : str, default "group"
        The treatment column (see :func:`treatment_flags`).
    conversion : str, default "converted"
        The 0/1 outcome column.
    value : str or None, default "revenue"
        A money outcome per contact (NT$); ``None`` skips the value columns.
    level : float, default 0.95
        Confidence level of the intervals.
    ci_method : {"newcombe", "wald"}, default "newcombe"
        Interval of the uplift.
    missing_arm : {"raise", "skip"}, default "raise"
        What to do with a group that lacks an arm.
    table : str, default "campaign_contacts"
        Table name used in error messages.

    Returns
    -------
    pd.DataFrame
        One row per group with the columns above.
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
    _check_group_keys(contacts, keys, table, func)
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
        gv = g["_v"].to_numpy() if v is not None else None
        row = {**label, **_read_group(gw, g["_y"].to_numpy(), gv, level, ci_method)}
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

    Parameters
    ----------
    p_values : array-like
        The raw p-values (NaN allowed).
    method : {"holm", "bh"}, default "holm"
        Family-wise (Holm) or false discovery rate (Benjamini--Hochberg) control.

    Returns
    -------
    np.ndarray
        The adjusted p-values, in the input order.
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

    Parameters
    ----------
    ab : pd.DataFrame
        The table of :func:`ab_test`, one row per campaign.
    level : float, default 0.95
        Confidence level of the interval.

    Returns
    -------
    dict of str to float
        The pooled estimate and heterogeneity figures above.
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
