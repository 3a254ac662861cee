"""RFM analysis, high-value customers and customer value (RFM分析, 高價值客戶, 顧客價值) — unit 2a.

Recency, Frequency and Monetary value (Hughes 1994) summarise a customer's buying history
in three numbers; scored into quintiles and mapped to named segments they tell a marketer
who to thank, who to win back and who to leave alone.

* :func:`rfm_table` turns an order log into one row per customer (recency in days,
  number of orders, money paid, tenure). It is vectorised end to end (``np.bincount`` and
  ``ufunc.at`` over integer codes; no per-customer Python) so ten million order rows take
  about a second.
* :func:`rfm_scores` gives 1..``bins`` quantile scores that cope with ties and with fewer
  customers than bins; recency is reversed (recent = high score).
* :func:`rfm_segments` maps (R, F) scores to the widely used eleven named segments
  (Champions ... Lost). The map is *data* (:data:`RFM_SEGMENTS`), applied in a documented
  rule order with a fallback label, so every customer gets exactly one segment.
* :func:`lorenz_curve`, :func:`gini`, :func:`pareto_share` and :func:`pareto_point`
  measure how concentrated revenue is (the "80/20 rule").
* :func:`customer_value` is the customer comprehensive value model (顧客綜合價值):
  current contribution, future contribution, loyalty and growth potential, each turned
  into a percentile score and combined with documented weights.

Choices that matter (and are documented where they are made):

* **Returns.** The default monetary value is the *gross paid amount* (``orders.amount``,
  what the customer paid, including orders later returned): it is what RFM tutorials and
  the DuckDB/SQL one-liners compute. Pass ``returns=shop.returns`` to get money net of
  refunds (refunds are matched to orders by ``order_id``; returns of orders that are not
  in the table are counted in ``attrs["refunds_unmatched"]``, never silently used).
  The shop has no cancelled orders; real exports that have them (e.g. Online Retail's
  "C" invoices) should be cleaned first — negative amounts are rejected here.
* **Dates.** Recency and tenure are whole calendar days between the date of an order and
  the snapshot date. The default snapshot is the day after the last order's date, so the
  most recent buyers have recency 1; an order on the snapshot day itself has recency 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from crmlab._checks import Reads, as_frame, as_timestamp, reads, require_columns

__all__ = [
    "RELATIONSHIP_PARTS",
    "SIX_PART_WEIGHTS",
    "relationship_value_parts",
    "weight_sensitivity",
    "RFM_SEGMENTS",
    "VALUE_WEIGHTS",
    "rfm_table",
    "rfm_scores",
    "rfm_segments",
    "segment_summary",
    "lorenz_curve",
    "gini",
    "pareto_share",
    "pareto_point",
    "customer_value",
]

# --------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------


#: The order log as rfm_table and customer_value read it (checked by crmlab._checks.reads):
#: the column arguments name the caller's columns; with ``order_col`` (line-level data) the
#: order id repeats on purpose, otherwise a repeated ``order_id`` is an error.
_ORDERS = Reads("orders", ("customer_id", "order_ts", "amount"),
                rename={"customer_id": "customer_col", "order_ts": "date_col", "amount": "amount_col"},
                nonempty=True)


def _day_numbers(dates: pd.Series) -> np.ndarray:
    """Calendar day numbers (days since 1970-01-01, int64) of a checked datetime column."""
    return dates.to_numpy().astype("datetime64[D]").astype(np.int64)


def _amounts(values: pd.Series, name: str, col: str, func: str, *, allow_negative: bool = False) -> np.ndarray:
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        raise ValueError(
            f"{func}: {name}.{col} must be numeric, got dtype {values.dtype}; convert it with "
            f"pd.to_numeric({name}['{col}']) (and check the rows that fail)."
        )
    arr = values.to_numpy(dtype="float64", na_value=np.nan)
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(
            f"{func}: {name}.{col} has {int(bad.sum())} missing or infinite values; fill or drop "
            "those rows first (and report how many)."
        )
    if not allow_negative and (arr < 0).any():
        raise ValueError(
            f"{func}: {name}.{col} has {int((arr < 0).sum())} negative amounts (refunds or "
            f"cancellations?); keep only orders in {name} and pass refunds with returns=."
        )
    return arr


def _snapshot_day(snapshot: Any, func: str) -> int:
    ts = as_timestamp(snapshot, "snapshot", func=func)  # a time-zone aware snapshot is refused
    return int(np.datetime64(ts.normalize().date(), "D").astype(np.int64))


def _day_to_ts(day: int) -> pd.Timestamp:
    return pd.Timestamp(np.datetime64(int(day), "D"))


def _check_snapshot(snap: int, first_day: int, last_day: int, name: str, col: str, func: str) -> None:
    if snap < first_day:
        raise ValueError(
            f"{func}: snapshot {_day_to_ts(snap).date()} is before the data ({name}.{col} starts "
            f"{_day_to_ts(first_day).date()}); pass a snapshot on or after the last order "
            f"({_day_to_ts(last_day).date()}), or leave snapshot=None for the day after it."
        )
    if snap < last_day:
        raise ValueError(
            f"{func}: {name}.{col} has orders after the snapshot {_day_to_ts(snap).date()} (up to "
            f"{_day_to_ts(last_day).date()}); to look back in time filter first, e.g. "
            f"{name}[{name}['{col}'] < snapshot], or pass a later snapshot."
        )


# --------------------------------------------------------------------------------------
# grouping core: integer codes, bincount and ufunc.at (no per-customer Python)
# --------------------------------------------------------------------------------------


def _codes(ids: pd.Series) -> tuple[np.ndarray, np.ndarray | pd.Index, bool]:
    """Integer group codes for customer ids and what they decode to.

    Non-negative integer ids that are not much sparser than the table are used directly
    as codes (no hashing: the fastest path for the usual 1..n member ids); anything else
    goes through ``pd.factorize(sort=True)``. Returns ``(codes, uniques, dense)``; for the
    dense path ``uniques`` is ``None``-like and ids equal codes.
    """
    values = ids.to_numpy()
    if values.dtype.kind in "iu" and len(values):
        lo, hi = int(values.min()), int(values.max())
        if lo >= 0 and hi <= 4 * len(values) + 1_000_000:
            return values.astype(np.int64, copy=False), np.empty(0), True
    codes, uniques = pd.factorize(ids, sort=True)
    return codes.astype(np.int64, copy=False), uniques, False


def _group_reduce(codes: np.ndarray, k: int, day: np.ndarray, amount: np.ndarray):
    count = np.bincount(codes, minlength=k)
    total = np.bincount(codes, weights=amount, minlength=k)
    last = np.full(k, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(last, codes, day)
    first = np.full(k, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, codes, day)
    return count, total, last, first


# --------------------------------------------------------------------------------------
# RFM table
# --------------------------------------------------------------------------------------


@reads(orders=Reads(**{**_ORDERS.__dict__, "lines_arg": "order_col"}),
       returns=Reads("returns", ("order_id", "refund_amount"), rename={"refund_amount": "refund_col"},
                     optional=True))
def rfm_table(
    orders: pd.DataFrame,
    snapshot: Any = None,
    *,
    customer_col: str = "customer_id",
    date_col: str = "order_ts",
    amount_col: str = "amount",
    order_col: str | None = None,
    returns: pd.DataFrame | None = None,
    refund_col: str = "refund_amount",
) -> pd.DataFrame:
    """One row per customer: recency, frequency, monetary value and tenure.

    Parameters
    ----------
    orders : the order log, one row per order (``shop.orders``). For line-level data (one
        row per order line, e.g. an invoice export) pass ``order_col`` so that frequency
        counts distinct orders instead of rows.
    snapshot : the day the analysis is made ("today"). Default: the day after the last
        order's date. Orders on the snapshot day are allowed (recency 0); a snapshot before
        some orders is an error (filter the orders first to look back in time).
    returns : optional returns table (``shop.returns``) with ``order_id`` and
        ``refund_col``. Given, ``monetary`` is net of refunds and a ``refunds`` column is
        added; refunds of orders that are not in ``orders`` are not used and are counted
        in ``attrs["refunds_unmatched"]``. Default (``None``): gross paid amount.

    Returns
    -------
    DataFrame sorted by customer id with columns ``customer_col``,
    ``recency`` (int64, days from the last order's date to the snapshot date),
    ``frequency`` (int64, number of orders), ``monetary`` (float64, NT$ paid in total —
    net of refunds when ``returns`` is given), ``tenure`` (int64, days from the first
    order's date to the snapshot date) and, with ``returns``, ``refunds`` (float64).
    ``attrs`` records the ``snapshot`` and the ``monetary_basis``.

    Raises ``ValueError`` naming the table, column and fix (the input contract of
    :func:`crmlab._checks.reads`, from the schema) for a missing column, a non-numeric,
    infinite or negative amount, missing, time-zone aware or implausible (far-future) dates,
    missing ids, a repeated ``order_id`` (each order counted twice; line-level data passes
    ``order_col``), or a snapshot before the data.
    """
    func = "rfm_table"
    if order_col is not None:
        require_columns(orders, "orders", {order_col: "order_col"}, func=func)
    ids = orders[customer_col]
    day = _day_numbers(orders[date_col])
    amount = orders[amount_col].to_numpy(dtype="float64")
    first_day, last_day = int(day.min()), int(day.max())
    snap = last_day + 1 if snapshot is None else _snapshot_day(snapshot, func)
    _check_snapshot(snap, first_day, last_day, "orders", date_col, func)

    codes, uniques, dense = _codes(ids)
    k = int(codes.max()) + 1 if dense else len(uniques)
    count, total, last, first = _group_reduce(codes, k, day, amount)
    if order_col is not None:
        # line-level data: count distinct (customer, order) pairs instead of rows
        pairs = pd.DataFrame({"c": codes, "o": orders[order_col].to_numpy()}).drop_duplicates()
        count = np.bincount(pairs["c"].to_numpy(), minlength=k)
    if dense:
        present = np.flatnonzero(count > 0)
        cust_values: Any = present
        if ids.dtype != np.int64:
            cust_values = pd.array(present).astype(ids.dtype)
    else:
        present = np.arange(k)
        cust_values = uniques
    out = pd.DataFrame({
        customer_col: cust_values,
        "recency": snap - last[present],
        "frequency": count[present].astype(np.int64),
        "monetary": total[present],
        "tenure": snap - first[present],
    })
    basis = f"gross paid amount (orders.{amount_col}), returns not deducted"
    if returns is not None:
        refunds, unmatched = _refunds_per_customer(orders, returns, customer_col, order_col, refund_col,
                                                   amount_col, out)
        out["refunds"] = refunds
        out["monetary"] = out["monetary"] - refunds
        basis = f"paid amount (orders.{amount_col}) net of refunds (returns.{refund_col})"
        out.attrs["refunds_unmatched"] = unmatched
    out.attrs["snapshot"] = str(_day_to_ts(snap).date())
    out.attrs["monetary_basis"] = basis
    return out


def _refunds_per_customer(
    orders: pd.DataFrame,
    returns: pd.DataFrame,
    customer_col: str,
    order_col: str | None,
    refund_col: str,
    amount_col: str,
    out: pd.DataFrame,
) -> tuple[np.ndarray, dict[str, float]]:
    """Refunds summed per customer of ``out`` (matched through the orders' ids)."""
    func = "rfm_table"
    key = order_col or "order_id"
    if key not in orders.columns:
        raise ValueError(
            f"{func}: to deduct returns the orders table needs an order id column ('{key}'); "
            "pass order_col= naming it, or leave returns=None for the gross paid amount."
        )
    refund = returns[refund_col].to_numpy(dtype="float64")
    per_order = pd.Series(refund).groupby(returns["order_id"].to_numpy()).sum()
    owner = orders[[key, customer_col]].drop_duplicates(subset=key).set_index(key)[customer_col]
    paid = orders.groupby(key, sort=False)[amount_col].sum()
    over = per_order.reindex(paid.index).fillna(0.0) > paid + 0.005
    if over.any():
        raise ValueError(
            f"{func}: returns refund more than was paid for {int(over.sum())} order(s) (e.g. "
            f"{key} {list(paid.index[over.to_numpy()][:3])}); a refund cannot exceed the "
            f"order's amount -- check returns.{refund_col} (a unit price entered as a total?)."
        )
    matched = per_order.index.isin(owner.index)
    per_order_matched = per_order[matched]
    by_customer = per_order_matched.groupby(owner.reindex(per_order_matched.index).to_numpy()).sum()
    refunds = by_customer.reindex(out[customer_col].to_numpy(), fill_value=0.0).to_numpy(dtype="float64")
    unmatched = {"orders": int((~matched).sum()), "amount": float(per_order[~matched].sum())}
    return refunds, unmatched


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


# --------------------------------------------------------------------------------------
# concentration: Lorenz, Gini, Pareto
# --------------------------------------------------------------------------------------


def _nonneg_values(values: Iterable[float] | pd.Series, func: str) -> np.ndarray:
    if isinstance(values, pd.DataFrame):
        raise ValueError(f"{func}: pass one column (e.g. rfm['monetary']), not a whole DataFrame.")
    s = values if isinstance(values, pd.Series) else pd.Series(np.asarray(list(values), dtype="float64"))
    arr = _amounts(s, "values", str(s.name) if s.name is not None else "values", func)
    if len(arr) == 0 or arr.sum() <= 0:
        raise ValueError(f"{func}: values must contain at least one positive number (total revenue > 0).")
    return np.sort(arr)


def lorenz_curve(values: Iterable[float] | pd.Series) -> pd.DataFrame:
    """Lorenz curve of a non-negative quantity (e.g. revenue per customer).

    Customers are sorted from the smallest to the largest value; row i gives the share of
    customers ``customer_share = i / n`` and the share of the total they hold
    ``value_share``. Starts at (0, 0) and ends at (1, 1); ``n + 1`` rows.
    """
    x = _nonneg_values(values, "lorenz_curve")
    n = len(x)
    cum = np.concatenate([[0.0], np.cumsum(x)])
    return pd.DataFrame({"customer_share": np.arange(n + 1) / n, "value_share": cum / cum[-1]})


def gini(values: Iterable[float] | pd.Series) -> float:
    """Gini coefficient of a non-negative quantity: 0 = everybody equal, (n-1)/n = one has all.

    Twice the area between the diagonal and the Lorenz curve, computed exactly for the
    step data: ``G = 2 * sum_i i * x_(i) / (n * sum x) - (n + 1) / n`` with ``x_(i)`` sorted
    ascending (the sample Gini; for large samples from a distribution it converges to that
    distribution's Gini, e.g. 0.5 for the exponential).
    """
    x = _nonneg_values(values, "gini")
    n = len(x)
    i = np.arange(1, n + 1)
    return float(2.0 * np.sum(i * x) / (n * x.sum()) - (n + 1) / n)


def pareto_share(values: Iterable[float] | pd.Series, top: float = 0.2) -> float:
    """Share of the total held by the top ``top`` fraction of customers (e.g. top 20%).

    Read off the Lorenz curve with linear interpolation, so fractional customers count
    pro rata: ``1 - L(1 - top)``.
    """
    if not 0 < top <= 1:
        raise ValueError(f"pareto_share: top={top!r} must be a fraction in (0, 1], e.g. 0.2 for the top 20%.")
    curve = lorenz_curve(values)
    below = np.interp(1 - top, curve["customer_share"], curve["value_share"])
    return float(1 - below)


def pareto_point(values: Iterable[float] | pd.Series, share: float = 0.8) -> float:
    """Smallest fraction of (the best) customers that together hold ``share`` of the total.

    The inverse of :func:`pareto_share` (interpolated on the Lorenz curve); the "80/20
    rule" says ``pareto_point(revenue, 0.8)`` is about 0.2.
    """
    if not 0 < share <= 1:
        raise ValueError(f"pareto_point: share={share!r} must be a fraction in (0, 1], e.g. 0.8.")
    curve = lorenz_curve(values)
    # top fraction t holds 1 - L(1 - t): invert L at 1 - share (L is non-decreasing)
    x = curve["customer_share"].to_numpy()
    y = curve["value_share"].to_numpy()
    target = 1 - share
    j = int(np.searchsorted(y, target, side="right"))  # first point strictly above target
    if j >= len(y):
        return 0.0
    x0, x1, y0, y1 = x[j - 1], x[j], y[j - 1], y[j]
    at = x0 + (target - y0) / (y1 - y0) * (x1 - x0)
    return float(1 - at)


# --------------------------------------------------------------------------------------
# customer comprehensive value model (顧客綜合價值)
# --------------------------------------------------------------------------------------

#: Default weights of the comprehensive value score: value now and value to come weigh
#: most, relationship strength and momentum refine the ranking.
VALUE_WEIGHTS: dict[str, float] = {"current": 0.35, "future": 0.35, "loyalty": 0.2, "growth": 0.1}

VALUE_TIERS = ("High", "Medium", "Low")

#: The three further parts of the source's six-part comprehensive value model (客戶綜合價值):
#: credit (信用度), capital value (資本價值: referrals, word of mouth) and e-value (e價值: online
#: behaviour). :func:`relationship_value_parts` measures them; pass them to
#: :func:`customer_value` as ``parts``.
RELATIONSHIP_PARTS = ("credit", "capital", "e_value")

#: Weights of the six-part model (current, potential = future, loyalty, credit, capital,
#: e-value). They state the shop's priorities, not a prediction: notebook 02 shows how the
#: ranking moves when they change (:func:`weight_sensitivity`). Momentum (``growth``) is left
#: at 0 here: the future part already looks ahead.
SIX_PART_WEIGHTS: dict[str, float] = {"current": 0.25, "future": 0.25, "loyalty": 0.15,
                                      "growth": 0.0, "credit": 0.1, "capital": 0.1, "e_value": 0.15}

#: Prior weight (days) of the population order rate in the future-value proxy.
PRIOR_DAYS = 182.0


@reads(orders=_ORDERS)
def customer_value(
    orders: pd.DataFrame,
    snapshot: Any = None,
    *,
    future: pd.Series | None = None,
    weights: Mapping[str, float] | None = None,
    parts: pd.DataFrame | None = None,
    window_days: int = 365,
    customer_col: str = "customer_id",
    date_col: str = "order_ts",
    amount_col: str = "amount",
) -> pd.DataFrame:
    """The customer comprehensive value model: four contributions, one weighted score.

    Components (raw values, per customer with at least one order):

    * ``current`` — current contribution: money paid in the last ``window_days`` before the
      snapshot (NT$).
    * ``future`` — future contribution: expected money in the next ``window_days``. Pass
      your own (e.g. CLV from :mod:`crmlab.clv`, a Series indexed by customer id); customers
      missing from it get 0. Default: a transparent proxy,
      ``rate x window_days x average order value x P(active)``. The order rate per day is
      the Gamma-Poisson posterior mean ``(frequency + r0) / (tenure + t0)``: the
      customer's own rate shrunk towards the population rate ``r0 / t0 = sum(frequency) /
      sum(tenure)`` with ``t0 = 182`` days of prior weight, so a customer seen for one day
      is not extrapolated to an order a day. ``P(active) = exp(-recency x rate)`` is the
      chance of a silence this long if they were still buying at that rate: a customer
      quiet for many of their usual gaps has probably left. (Notebook 02 compares its rank
      correlation with the planted future value against BG/NBD + Gamma-Gamma's.)
    * ``loyalty`` — number of distinct calendar months with an order (a long, steady
      relationship beats one burst).
    * ``growth`` — momentum: money paid in the recent half of the window minus the earlier
      half (NT$); positive for customers who are spending more.

    Each component becomes a percentile score in [0, 1] (average rank / n), and
    ``value_score = 100 * sum(weight * component score)``; weights (default
    :data:`VALUE_WEIGHTS`) must be non-negative and are normalised to sum 1.
    ``value_tier`` is High (top 20% of scores), Medium (next 30%) or Low (the rest).

    ``parts`` adds the source's other parts (a DataFrame indexed by customer id with columns
    from :data:`RELATIONSHIP_PARTS`, e.g. from :func:`relationship_value_parts`); every buyer
    must have a row. With ``parts`` the default weights are :data:`SIX_PART_WEIGHTS`.

    Returns one row per customer sorted by id: ``customer_col``, the raw components,
    ``<component>_score`` for each, ``value_score`` and ``value_tier``.
    """
    func = "customer_value"
    components = list(VALUE_WEIGHTS)
    if parts is not None:
        extra = _check_parts(parts, func)
        components += [c for c in RELATIONSHIP_PARTS if c in extra.columns]
    default = VALUE_WEIGHTS if parts is None else SIX_PART_WEIGHTS
    w = dict(default if weights is None else weights)
    unknown = set(w) - set(components)
    if unknown:
        raise ValueError(f"{func}: unknown weight(s) {sorted(unknown)}; use {sorted(components)}"
                         + ("" if parts is not None else " (credit, capital, e_value need parts=)") + ".")
    w = {k: float(w.get(k, 0.0)) for k in components}
    if any(not np.isfinite(v) or v < 0 for v in w.values()) or sum(w.values()) <= 0:
        raise ValueError(f"{func}: weights must be non-negative numbers with a positive sum, got {w}.")
    total_w = sum(w.values())
    w = {k: v / total_w for k, v in w.items()}
    if isinstance(window_days, bool) or not isinstance(window_days, int | np.integer) or window_days < 2:
        raise ValueError(f"{func}: window_days={window_days!r} must be an integer >= 2, e.g. 365.")

    rfm = rfm_table(orders, snapshot, customer_col=customer_col, date_col=date_col, amount_col=amount_col)
    snap = _snapshot_day(rfm.attrs["snapshot"], func)
    day = _day_numbers(orders[date_col])
    amount = orders[amount_col].to_numpy(dtype="float64")
    codes = pd.Index(rfm[customer_col]).get_indexer(orders[customer_col])
    n = len(rfm)
    age = snap - day  # days before the snapshot, >= 0
    half = window_days // 2
    recent = np.bincount(codes, weights=np.where(age < half, amount, 0.0), minlength=n)
    earlier = np.bincount(codes, weights=np.where((age >= half) & (age < 2 * half), amount, 0.0), minlength=n)
    current = np.bincount(codes, weights=np.where(age < window_days, amount, 0.0), minlength=n)
    month = orders[date_col].dt.year.to_numpy() * 12 + orders[date_col].dt.month.to_numpy()
    months = pd.DataFrame({"c": codes, "m": month}).drop_duplicates()
    loyalty = np.bincount(months["c"].to_numpy(), minlength=n)

    if future is None:
        freq = rfm["frequency"].to_numpy(dtype="float64")
        tenure = rfm["tenure"].to_numpy(dtype="float64")
        aov = rfm["monetary"].to_numpy() / freq
        t0 = PRIOR_DAYS
        r0 = freq.sum() / max(tenure.sum(), 1.0) * t0
        rate = (freq + r0) / (tenure + t0)
        p_active = np.exp(-rfm["recency"].to_numpy() * rate)
        fut = rate * window_days * aov * p_active
    else:
        if not isinstance(future, pd.Series):
            raise ValueError(
                f"{func}: future must be a pandas Series indexed by {customer_col} (e.g. CLV from "
                "crmlab.clv), or None for the built-in proxy."
            )
        fut_s = pd.Series(_amounts(future, "future", future.name or "future", func, allow_negative=True),
                          index=future.index)
        if fut_s.index.duplicated().any():
            raise ValueError(f"{func}: future has duplicated {customer_col} values in its index; keep one per customer.")
        fut = fut_s.reindex(rfm[customer_col].to_numpy(), fill_value=0.0).to_numpy(dtype="float64")

    out = pd.DataFrame({
        customer_col: rfm[customer_col].to_numpy(),
        "current": current,
        "future": fut,
        "loyalty": loyalty.astype(np.int64),
        "growth": recent - earlier,
    })
    if parts is not None:
        ids = out[customer_col].to_numpy()
        missing = pd.Index(ids).difference(extra.index)
        if len(missing):
            raise ValueError(f"{func}: parts has no row for {len(missing)} buyer(s), e.g. "
                             f"{list(missing[:3])}; compute parts for every customer "
                             "(relationship_value_parts does).")
        for comp in components[len(VALUE_WEIGHTS):]:
            out[comp] = extra[comp].reindex(ids).to_numpy(dtype="float64")
    score = np.zeros(n)
    for comp in components:
        pct = out[comp].rank(method="average", pct=True).to_numpy()
        out[f"{comp}_score"] = pct
        score += w[comp] * pct
    out["value_score"] = 100.0 * score
    rank = out["value_score"].rank(method="first", ascending=False).to_numpy() / n
    tier = np.where(rank <= 0.2, 0, np.where(rank <= 0.5, 1, 2))
    out["value_tier"] = pd.Categorical.from_codes(tier, categories=list(VALUE_TIERS), ordered=True)
    out.attrs = {"snapshot": rfm.attrs["snapshot"], "weights": w, "window_days": int(window_days),
                 "future": "given" if future is not None else "proxy"}
    return out


def _check_parts(parts: Any, func: str) -> pd.DataFrame:
    """``parts`` of :func:`customer_value`: a frame indexed by unique customer ids whose
    columns are finite numbers from :data:`RELATIONSHIP_PARTS`."""
    if not isinstance(parts, pd.DataFrame):
        raise ValueError(f"{func}: parts must be a DataFrame indexed by customer id "
                         "(see relationship_value_parts), or None.")
    unknown = set(parts.columns) - set(RELATIONSHIP_PARTS)
    if unknown or parts.empty:
        raise ValueError(f"{func}: parts columns must be among {list(RELATIONSHIP_PARTS)}, got "
                         f"{list(parts.columns)}.")
    if parts.index.duplicated().any():
        raise ValueError(f"parts: {int(parts.index.duplicated().sum())} duplicated customer id(s) in "
                         "the index; keep one row per customer.")
    for col in parts.columns:
        values = pd.to_numeric(parts[col], errors="coerce").to_numpy(dtype="float64")
        if not np.isfinite(values).all():
            raise ValueError(f"parts: column '{col}' must hold finite numbers (found missing, "
                             "text or infinite values); fill them first.")
    return parts


@reads(customers="",
       orders="",
       returns="",
       sessions="",
       reviews="",
       events=Reads("events", optional=True))
def relationship_value_parts(
    customers: pd.DataFrame,
    orders: pd.DataFrame,
    returns: pd.DataFrame,
    sessions: pd.DataFrame,
    reviews: pd.DataFrame,
    events: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The three parts of the six-part value model that past money does not show, per customer.

    * ``credit`` (信用度): 1 - refunded / paid, in [0, 1] (1 = never took money back; customers
      with no paid orders get 1: nothing to doubt yet).
    * ``capital`` (資本價值): money (NT$) paid by the customers this customer referred
      (``customers.referred_by``): the value of word of mouth the shop can trace.
    * ``e_value`` (e價值): online actions: sessions + reviews written + favourites (``events``
      of type ``favorite``, when given).

    One row per customer in ``customers``, indexed by ``customer_id``.
    """
    from crmlab._checks import require_columns

    for name, table, cols in (("customers", customers, ["customer_id", "referred_by"]),
                              ("orders", orders, ["customer_id", "amount"]),
                              ("returns", returns, ["customer_id", "refund_amount"]),
                              ("sessions", sessions, ["customer_id"]),
                              ("reviews", reviews, ["customer_id"])):
        require_columns(table, name, cols)
    ids = pd.Index(customers["customer_id"])
    if ids.has_duplicates:
        raise ValueError(f"customers: {int(ids.duplicated().sum())} duplicated customer_id(s); "
                         "keep one row per customer.")
    paid = orders.groupby("customer_id")["amount"].sum().reindex(ids, fill_value=0.0)
    refunded = returns.groupby("customer_id")["refund_amount"].sum().reindex(ids, fill_value=0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        credit = np.where(paid > 0, 1.0 - refunded / paid, 1.0)
    referrer = customers.set_index("customer_id")["referred_by"]
    spend_by_referrer = paid.groupby(referrer.reindex(ids).to_numpy()).sum()
    capital = spend_by_referrer.reindex(ids, fill_value=0.0)
    actions = (sessions.groupby("customer_id").size().reindex(ids, fill_value=0)
               + reviews.groupby("customer_id").size().reindex(ids, fill_value=0))
    if events is not None:
        require_columns(events, "events", ["customer_id", "event_type"])
        fav = events.loc[events["event_type"] == "favorite"]
        actions = actions + fav.groupby("customer_id").size().reindex(ids, fill_value=0)
    return pd.DataFrame({"credit": np.clip(credit, 0.0, 1.0), "capital": capital.to_numpy(dtype="float64"),
                         "e_value": actions.to_numpy(dtype="float64")}, index=ids)


def weight_sensitivity(value: pd.DataFrame, weight_sets: Mapping[str, Mapping[str, float]],
                       *, top: float = 0.2, customer_col: str = "customer_id") -> pd.DataFrame:
    """How the value ranking moves with the weights (weights state priorities, not a prediction).

    ``value`` is a :func:`customer_value` result; each entry of ``weight_sets`` re-weights its
    ``<component>_score`` columns. The first set is the reference. Returns one row per set:
    ``spearman`` with the reference score, ``top_overlap`` (share of the reference's top
    ``top`` customers still in this set's top) and ``top_customers`` (how many that is).
    """
    func = "weight_sensitivity"
    if not weight_sets:
        raise ValueError(f"{func}: give at least one weight set, e.g. {{'shop': SIX_PART_WEIGHTS}}.")
    if not 0 < top < 1:
        raise ValueError(f"{func}: top={top!r} must be a share between 0 and 1, e.g. 0.2.")
    scores = {}
    for name, weights in weight_sets.items():
        cols = {k: f"{k}_score" for k, v in weights.items() if v}
        absent = [c for c in cols.values() if c not in value.columns]
        if absent or any(v < 0 for v in weights.values()) or not cols:
            raise ValueError(f"{func}: weight set {name!r} needs non-negative weights on columns "
                             f"the value table has (missing: {absent}).")
        total = sum(weights[k] for k in cols)
        scores[name] = sum(weights[k] / total * value[c] for k, c in cols.items())
    k = max(1, int(round(top * len(value))))
    ref_name = next(iter(scores))
    ref_top = set(scores[ref_name].nlargest(k).index)
    rows = []
    for name, sc in scores.items():
        rows.append({"weights": name,
                     "spearman": float(sc.rank().corr(scores[ref_name].rank())),
                     "top_overlap": len(ref_top & set(sc.nlargest(k).index)) / k,
                     "top_customers": k})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------
# live what-if demo: RFM cut points -> segment sizes and revenue (crmlab.demos.rfm_demo)
# --------------------------------------------------------------------------------------

#: The four cells of a recency x frequency cut (recent = last order within the recency cut,
#: frequent = at least the order cut), in the order :func:`cut_point_segments` lists them.
CUT_POINT_SEGMENTS = pd.DataFrame({
    "segment": ["recent, frequent", "recent, infrequent", "lapsed, frequent", "lapsed, infrequent"],
    "segment_zh": ["近期常購", "近期少購", "久未購買但曾常購", "久未購買且少購"],
})


def cut_point_segments(table: pd.DataFrame, recency_days: float, min_orders: int, *,
                       monetary_col: str = "monetary") -> pd.DataFrame:
    """Split customers by two cut points and size the four segments.

    ``table`` is an :func:`rfm_table`. A customer is *recent* when ``recency <=
    recency_days`` and *frequent* when ``frequency >= min_orders``. Returns
    :func:`segment_summary` of the four :data:`CUT_POINT_SEGMENTS` (every segment listed,
    empty ones with 0 customers): ``customers``, ``customer_share``, mean ``recency``,
    ``frequency``, ``monetary``, ``revenue`` and ``revenue_share``.
    """
    func = "cut_point_segments"
    if not isinstance(table, pd.DataFrame):
        raise ValueError(f"{func}: table must be a DataFrame from rfm_table(orders), "
                         f"got {type(table).__name__}.")
    missing = [c for c in ("recency", "frequency", monetary_col) if c not in table.columns]
    if missing:
        raise ValueError(f"{func}: table has no column(s) {missing}; pass rfm_table(orders) "
                         "(or name the money column with monetary_col=).")
    if len(table) == 0:
        raise ValueError(f"{func}: table is empty; there are no customers to segment.")
    try:
        r_cut, f_cut = float(recency_days), float(min_orders)
    except (TypeError, ValueError):
        raise ValueError(f"{func}: recency_days={recency_days!r} and min_orders={min_orders!r} "
                         "must be numbers, e.g. 90 and 2.") from None
    if not np.isfinite(r_cut) or r_cut < 0:
        raise ValueError(f"{func}: recency_days={recency_days!r} must be a number of days >= 0.")
    if not np.isfinite(f_cut) or f_cut < 1 or f_cut != round(f_cut):
        raise ValueError(f"{func}: min_orders={min_orders!r} must be a whole number of orders >= 1.")
    recent = table["recency"].to_numpy(dtype="float64") <= r_cut
    frequent = table["frequency"].to_numpy(dtype="float64") >= f_cut
    codes = np.select([recent & frequent, recent & ~frequent, ~recent & frequent], [0, 1, 2], 3)
    names = CUT_POINT_SEGMENTS["segment"].tolist()
    segmented = table.assign(segment=pd.Categorical.from_codes(codes, categories=names))
    out = segment_summary(segmented, CUT_POINT_SEGMENTS, monetary_col=monetary_col)
    out.attrs = {"recency_days": r_cut, "min_orders": int(f_cut)}
    return out


__all__ += ["CUT_POINT_SEGMENTS", "cut_point_segments"]
