"""RFM scores (1..5 quantile scores from ranks) and the named segments they map to."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab._checks import as_frame, require_columns
from crmlab.rfm.table import _amounts

__all__ = ["RFM_SEGMENTS", "rfm_scores", "rfm_segments", "segment_summary"]

# --------------------------------------------------------------------------------------
# scores
# --------------------------------------------------------------------------------------


def _quantile_scores(values: pd.Series, bins: int, ties: str, reverse: bool) -> np.ndarray:
    """Scores 1..bins from ranks: the same bins as ``pd.qcut(ranks, bins)`` but exact.

    With ordinal ranks r = 1..n the score is ``ceil(bins * (r - 1) / (n - 1))`` (at least
    1), which is exactly what ``pd.qcut(rank(method="first"), bins, labels=False) + 1``
    returns, computed in integers so no edge is lost to rounding and no duplicate-edge
    error can happen. One customer gets the middle score.
    """
    n = len(values)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    if n == 1:
        return np.array([(bins + 1) // 2], dtype=np.int64)
    x = -values if reverse else values
    if ties == "first":
        twice_rank = 2 * x.rank(method="first").to_numpy(dtype=np.int64)
    else:  # average ranks are multiples of 1/2: double them to stay in integers
        twice_rank = np.rint(2 * x.rank(method="average").to_numpy()).astype(np.int64)
    num = (twice_rank - 2) * bins
    den = 2 * (n - 1)
    score = -((-num) // den)  # ceil for non-negative integers
    return np.clip(score, 1, bins).astype(np.int64)


# Long function: most of it is the docstring (the two tie rules and the edge cases a
# student meets); the body is 25 lines.
def rfm_scores(
    table: pd.DataFrame,
    bins: int = 5,
    *,
    ties: str = "average",
    recency_col: str = "recency",
    frequency_col: str = "frequency",
    monetary_col: str = "monetary",
) -> pd.DataFrame:
    """Quantile scores R, F, M in 1..``bins`` (5 = best), plus the "RFM" code and sum.

    Scores come from ranks, not from the raw values, so heavy ties cannot produce
    duplicate bin edges (the classic ``pd.qcut(frequency, 5)`` error when most customers
    have one order). Recency is reversed: the most recent customers get ``bins``.

    ``ties="average"`` (default): equal values get equal scores — the score of the middle
    of their rank range — so groups can be unequal in size (when a quarter of the
    customers have exactly one order they all get F = 1). ``ties="first"`` (the usual
    tutorial recipe ``pd.qcut(x.rank(method="first"), 5)``): ties are broken by row order
    (customer id order for :func:`rfm_table` output), so the groups are equal-sized but
    identical customers can get different scores — and because ids follow signup order,
    recent one-order customers drift to F = 2 and the "New" segment empties. Notebook 02
    shows both.

    Edge cases: fewer customers than bins spread over the whole 1..bins scale (two
    customers get 1 and 5); a single customer gets the middle score (3 of 5) because
    there is nobody to compare with.

    Returns a copy of ``table`` with int64 columns ``R``, ``F``, ``M``, ``rfm_sum`` and a
    string column ``rfm_code`` (e.g. "545").

    Parameters
    ----------
    table : pd.DataFrame
        An :func:`rfm_table` (or any table with the three columns).
    bins : int, default 5
        Number of scores, 2 to 9.
    ties : {"average", "first"}, default "average"
        How equal values are scored (above).
    recency_col, frequency_col, monetary_col : str
        The three columns of ``table``.

    Returns
    -------
    pd.DataFrame
        A copy of ``table`` with ``R``, ``F``, ``M``, ``rfm_code`` and ``rfm_sum``.
    """
    func = "rfm_scores"
    as_frame(table, "rfm", func=func)
    if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or not 2 <= bins <= 9:
        raise ValueError(f"{func}: bins={bins!r} must be an integer from 2 to 9 (5 gives quintiles).")
    if ties not in ("first", "average"):
        raise ValueError(
            f"{func}: ties={ties!r}; use 'average' (equal values, equal score) or 'first' (equal-sized groups)."
        )
    cols = {recency_col: "recency_col", frequency_col: "frequency_col", monetary_col: "monetary_col"}
    require_columns(table, "rfm", func=func, columns=cols)
    for col in cols:
        _amounts(table[col], "rfm", col, func, allow_negative=(col == monetary_col))
    out = table.copy()
    out["R"] = _quantile_scores(table[recency_col], bins, ties, reverse=True)
    out["F"] = _quantile_scores(table[frequency_col], bins, ties, reverse=False)
    out["M"] = _quantile_scores(table[monetary_col], bins, ties, reverse=False)
    out["rfm_code"] = pd.array(
        out["R"].astype(str) + out["F"].astype(str) + out["M"].astype(str), dtype="str"
    )
    out["rfm_sum"] = out["R"] + out["F"] + out["M"]
    out.attrs = {**table.attrs, "bins": int(bins), "ties": ties}
    return out


# --------------------------------------------------------------------------------------
# named segments (data, not code)
# --------------------------------------------------------------------------------------

#: The eleven named RFM segments on the R x F grid of 1..5 scores, in rule order (the
#: first rule that matches a customer wins). The default rules are disjoint rectangles
#: that cover all 25 (R, F) cells, so the order only matters for overlapping custom
#: schemes. It is the common "RF code" map (e.g. "5[4-5]" -> Champions) with its low
#: corner split into Hibernating (R = 2) and Lost (R = 1). ``action`` is the usual
#: marketing playbook line for the segment.
RFM_SEGMENTS = pd.DataFrame(
    [
        ("Champions", "冠軍客戶", 5, 5, 4, 5,
         "Bought recently, buy often and spend the most.",
         "Reward them: early access, VIP perks, ask for reviews and referrals; no discounts needed."),
        ("Loyal", "忠誠客戶", 3, 4, 4, 5,
         "Buy often; not in the last weeks.",
         "Upsell higher-value products, loyalty points, ask for reviews; keep them engaged."),
        ("Potential Loyalist", "潛力忠誠客戶", 4, 5, 2, 3,
         "Recent customers with a few orders.",
         "Offer membership / loyalty programme, recommend related products."),
        ("New", "新客戶", 5, 5, 1, 1,
         "Bought for the first time very recently.",
         "Onboarding: welcome series, first-repeat coupon, make the second order easy."),
        ("Promising", "有潛力客戶", 4, 4, 1, 1,
         "Recent first-time buyers, a little longer ago.",
         "Build brand awareness, small free trials or bundles to earn the second order."),
        ("Need Attention", "需要關注", 3, 3, 3, 3,
         "Middling recency and frequency.",
         "Limited-time offers based on past purchases; reactivate before they slip."),
        ("About to Sleep", "即將沉睡", 3, 3, 1, 2,
         "Few orders, recency below average.",
         "Share popular products and reminders; a modest discount to reconnect."),
        ("Can't Lose Them", "不能失去的客戶", 1, 2, 5, 5,
         "Used to buy very often; have not returned for a long time.",
         "Win them back personally: new releases, service call, strong win-back offer."),
        ("At Risk", "流失風險客戶", 1, 2, 3, 4,
         "Bought often, but long ago.",
         "Personalised reactivation: emails with relevant products, renewal offers."),
        ("Hibernating", "冬眠客戶", 2, 2, 1, 2,
         "Last order long ago, few orders.",
         "Offer other relevant categories and special discounts; recreate brand value."),
        ("Lost", "流失客戶", 1, 1, 1, 2,
         "Lowest recency, few orders.",
         "Revive interest with a reach-out campaign, otherwise stop spending on them."),
    ],
    columns=["segment", "segment_zh", "r_min", "r_max", "f_min", "f_max", "description", "action"],
)


def _check_scheme(scheme: pd.DataFrame, func: str) -> pd.DataFrame:
    as_frame(scheme, "scheme", func=func)
    cols = {c: "scheme" for c in ("segment", "r_min", "r_max", "f_min", "f_max")}
    require_columns(scheme, "scheme", func=func, columns=cols)
    if scheme["segment"].duplicated().any():
        dup = scheme.loc[scheme["segment"].duplicated(), "segment"].tolist()
        raise ValueError(f"{func}: scheme.segment names must be unique; {dup} appear twice.")
    for col in ("r_min", "r_max", "f_min", "f_max"):
        _amounts(scheme[col], "scheme", col, func)
    if ((scheme["r_min"] > scheme["r_max"]) | (scheme["f_min"] > scheme["f_max"])).any():
        raise ValueError(f"{func}: scheme has a rule with min > max in r_min/r_max or f_min/f_max; fix the ranges.")
    return scheme


# Long function: most of it is the docstring (rule order, fallback, the F/M variant);
# the body is 35 lines of checks and one np.select.
def rfm_segments(
    scores: pd.DataFrame,
    scheme: pd.DataFrame | None = None,
    *,
    use_monetary: bool = False,
    fallback: str = "Other",
) -> pd.DataFrame:
    """Assign every customer exactly one named segment from its (R, F) scores.

    ``scheme`` is a rule table like :data:`RFM_SEGMENTS` (columns ``segment``,
    ``r_min``, ``r_max``, ``f_min``, ``f_max``, inclusive ranges on 1..5 scores). Rules
    are tried in table order and **the first rule that matches wins**; a customer no rule
    matches gets ``fallback`` (the default scheme covers every cell of the 5 x 5 grid, so
    with 5-point scores nobody falls back). ``attrs["n_fallback"]`` counts fallbacks.

    ``use_monetary=True`` puts the rounded-up mean of F and M on the frequency axis (the
    "F/M" variant of the map) instead of F alone.

    Returns a copy of ``scores`` with a categorical ``segment`` column whose categories
    follow the scheme's order (then the fallback).

    Parameters
    ----------
    scores : pd.DataFrame
        An :func:`rfm_scores` table (``R``, ``F``; ``M`` with ``use_monetary``).
    scheme : pd.DataFrame, optional
        The rule table (default :data:`RFM_SEGMENTS`).
    use_monetary : bool, default False
        Use the rounded-up mean of F and M on the frequency axis.
    fallback : str, default "Other"
        Segment of customers no rule matches.

    Returns
    -------
    pd.DataFrame
        A copy of ``scores`` with the categorical ``segment`` column.
    """
    func = "rfm_segments"
    as_frame(scores, "scores", func=func)
    need = {"R": "rfm_scores()", "F": "rfm_scores()"}
    if use_monetary:
        need["M"] = "rfm_scores()"
    missing = [c for c in need if c not in scores.columns]
    if missing:
        raise ValueError(
            f"{func}: the scores table has no column(s) {missing}; compute them first with "
            "rfm_scores(rfm_table(orders))."
        )
    rules = _check_scheme(RFM_SEGMENTS if scheme is None else scheme, func)
    bins = scores.attrs.get("bins", 5)
    if scheme is None and bins != 5:
        raise ValueError(
            f"{func}: the default segment map is defined on 1..5 scores but these scores have "
            f"bins={bins}; use rfm_scores(table, bins=5) or pass your own scheme=."
        )
    r = scores["R"].to_numpy(dtype=np.int64)
    f = scores["F"].to_numpy(dtype=np.int64)
    if use_monetary:
        f = (f + scores["M"].to_numpy(dtype=np.int64) + 1) // 2
    labels = rules["segment"].astype(str).tolist()
    if fallback in labels:
        raise ValueError(f"{func}: fallback={fallback!r} is also a segment name in the scheme; choose another.")
    conditions = [
        (r >= rmin) & (r <= rmax) & (f >= fmin) & (f <= fmax)
        for rmin, rmax, fmin, fmax in rules[["r_min", "r_max", "f_min", "f_max"]].itertuples(index=False)
    ]
    # np.select takes the first true condition: exactly the documented rule order
    codes = np.select(conditions, list(range(len(labels))), default=len(labels))
    out = scores.copy()
    out["segment"] = pd.Categorical.from_codes(codes, categories=[*labels, fallback])
    out.attrs = {**scores.attrs, "n_fallback": int((codes == len(labels)).sum())}
    return out


def segment_summary(
    segmented: pd.DataFrame,
    scheme: pd.DataFrame | None = None,
    *,
    monetary_col: str = "monetary",
) -> pd.DataFrame:
    """Per segment: customers, share of customers, mean R/F/M values, share of revenue.

    Adds the scheme's Chinese name and marketing action when the scheme has them.
    Segments with no customers are kept (0 customers) so the table always lists the map.

    Parameters
    ----------
    segmented : pd.DataFrame
        An :func:`rfm_segments` table (``segment``, ``recency``, ``frequency``, money).
    scheme : pd.DataFrame, optional
        The rule table the segments came from (default :data:`RFM_SEGMENTS`).
    monetary_col : str, default "monetary"
        The money column.

    Returns
    -------
    pd.DataFrame
        One row per segment: ``segment``, ``customers``, mean ``recency``, ``frequency``,
        ``monetary``, ``revenue``, ``customer_share``, ``revenue_share`` (and
        ``segment_zh``, ``action`` when the scheme has them).
    """
    func = "segment_summary"
    as_frame(segmented, "segmented", func=func)
    require_columns(segmented, "segmented", func=func,
                    columns={"segment": "rfm_segments()", "recency": "rfm_table()",
                             "frequency": "rfm_table()", monetary_col: "monetary_col"})
    rules = RFM_SEGMENTS if scheme is None else scheme
    g = segmented.groupby("segment", observed=False)
    out = pd.DataFrame({
        "customers": g.size(),
        "recency": g["recency"].mean(),
        "frequency": g["frequency"].mean(),
        "monetary": g[monetary_col].mean(),
        "revenue": g[monetary_col].sum(),
    })
    out["customer_share"] = out["customers"] / out["customers"].sum()
    total = out["revenue"].sum()
    out["revenue_share"] = out["revenue"] / total if total else 0.0
    extra = [c for c in ("segment_zh", "action") if c in rules.columns]
    if extra:
        out = out.join(rules.set_index("segment")[extra])
    out.index = out.index.astype(str)
    out.index.name = "segment"
    return out.reset_index()
