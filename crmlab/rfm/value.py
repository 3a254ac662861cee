"""The customer comprehensive value model (顧客綜合價值): current and future contribution,
loyalty and growth (plus credit, capital and e-value in the six-part model), one score."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crmlab._checks import Reads, reads
from crmlab.rfm.table import _ORDERS, _amounts, day_numbers, rfm_table, snapshot_day

__all__ = [
    "RELATIONSHIP_PARTS",
    "SIX_PART_WEIGHTS",
    "VALUE_WEIGHTS",
    "VALUE_TIERS",
    "PRIOR_DAYS",
    "customer_value",
    "relationship_value_parts",
    "weight_sensitivity",
]

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


# Long function: most of it is the docstring that defines the four components and
# the proxy; the body is 35 lines, one helper per component.
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

    Parameters
    ----------
    orders : pd.DataFrame
        The order log (``customer_col``, ``date_col``, ``amount_col``).
    snapshot : date-like, optional
        The day the analysis is made (default: the day after the last order).
    future : pd.Series, optional
        Expected future money per customer (indexed by id); default: the proxy above.
    weights : mapping of str to float, optional
        Weight per component (default :data:`VALUE_WEIGHTS`, or :data:`SIX_PART_WEIGHTS`
        with ``parts``).
    parts : pd.DataFrame, optional
        Credit, capital and e-value per customer (:func:`relationship_value_parts`).
    window_days : int, default 365
        Length of the "current" window in days (>= 2).
    customer_col, date_col, amount_col : str
        The order log's columns.

    Returns
    -------
    pd.DataFrame
        One row per customer sorted by id: ``customer_col``, the raw components,
        ``<component>_score`` for each, ``value_score`` and ``value_tier``.
    """
    func = "customer_value"
    components, w, extra = _value_weights(weights, parts, func)
    if isinstance(window_days, bool) or not isinstance(window_days, int | np.integer) or window_days < 2:
        raise ValueError(f"{func}: window_days={window_days!r} must be an integer >= 2, e.g. 365.")
    rfm = rfm_table(orders, snapshot, customer_col=customer_col, date_col=date_col, amount_col=amount_col)
    current, loyalty, growth = _order_components(orders, rfm, window_days, customer_col, date_col,
                                                 amount_col, func)
    if future is None:
        fut = _future_proxy(rfm, window_days)
    else:
        fut = _given_future(future, rfm, customer_col, func)
    out = pd.DataFrame({
        customer_col: rfm[customer_col].to_numpy(),
        "current": current,
        "future": fut,
        "loyalty": loyalty.astype(np.int64),
        "growth": growth,
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
    _add_scores(out, components, w)
    out.attrs = {"snapshot": rfm.attrs["snapshot"], "weights": w, "window_days": int(window_days),
                 "future": "given" if future is not None else "proxy"}
    return out


def _value_weights(weights: Mapping[str, float] | None, parts: pd.DataFrame | None, func: str):
    """(components, weights normalised to sum 1, checked parts or None) of customer_value."""
    components = list(VALUE_WEIGHTS)
    extra = None
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
    return components, {k: v / total_w for k, v in w.items()}, extra


def _order_components(orders: pd.DataFrame, rfm: pd.DataFrame, window_days: int, customer_col: str,
                      date_col: str, amount_col: str, func: str):
    """Per customer of ``rfm``: money in the window (current), distinct order months
    (loyalty) and money in the recent minus the earlier half of the window (growth)."""
    snap = snapshot_day(rfm.attrs["snapshot"], func)
    day = day_numbers(orders[date_col])
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
    return current, loyalty, recent - earlier


def _future_proxy(rfm: pd.DataFrame, window_days: int) -> np.ndarray:
    """rate x window x average order value x P(active), the rate shrunk towards the
    population's with PRIOR_DAYS of prior weight (see customer_value)."""
    freq = rfm["frequency"].to_numpy(dtype="float64")
    tenure = rfm["tenure"].to_numpy(dtype="float64")
    aov = rfm["monetary"].to_numpy() / freq
    t0 = PRIOR_DAYS
    r0 = freq.sum() / max(tenure.sum(), 1.0) * t0
    rate = (freq + r0) / (tenure + t0)
    p_active = np.exp(-rfm["recency"].to_numpy() * rate)
    return rate * window_days * aov * p_active


def _given_future(future: Any, rfm: pd.DataFrame, customer_col: str, func: str) -> np.ndarray:
    """A caller's future values aligned to the customers of ``rfm`` (0 for those missing)."""
    if not isinstance(future, pd.Series):
        raise ValueError(
            f"{func}: future must be a pandas Series indexed by {customer_col} (e.g. CLV from "
            "crmlab.clv), or None for the built-in proxy."
        )
    fut_s = pd.Series(_amounts(future, "future", future.name or "future", func, allow_negative=True),
                      index=future.index)
    if fut_s.index.duplicated().any():
        raise ValueError(f"{func}: future has duplicated {customer_col} values in its index; keep one per customer.")
    return fut_s.reindex(rfm[customer_col].to_numpy(), fill_value=0.0).to_numpy(dtype="float64")


def _add_scores(out: pd.DataFrame, components: list[str], w: dict[str, float]) -> None:
    """Percentile score per component, the weighted ``value_score`` (0-100) and the tier
    (High: top 20%, Medium: next 30%, Low: the rest)."""
    n = len(out)
    score = np.zeros(n)
    for comp in components:
        pct = out[comp].rank(method="average", pct=True).to_numpy()
        out[f"{comp}_score"] = pct
        score += w[comp] * pct
    out["value_score"] = 100.0 * score
    rank = out["value_score"].rank(method="first", ascending=False).to_numpy() / n
    tier = np.where(rank <= 0.2, 0, np.where(rank <= 0.5, 1, 2))
    out["value_tier"] = pd.Categorical.from_codes(tier, categories=list(VALUE_TIERS), ordered=True)


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

    Parameters
    ----------
    customers, orders, returns, sessions, reviews : pd.DataFrame
        The shop's tables of those names.
    events : pd.DataFrame, optional
        The shop's ``events`` table (favourites count towards e-value).

    Returns
    -------
    pd.DataFrame
        ``credit``, ``capital``, ``e_value``, indexed by ``customer_id``.
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

    Parameters
    ----------
    value : pd.DataFrame
        A :func:`customer_value` result.
    weight_sets : mapping of str to mapping
        Named weight sets (component -> weight); the first is the reference.
    top : float, default 0.2
        Share of customers that counts as "top".
    customer_col : str, default "customer_id"
        The id column of ``value``.

    Returns
    -------
    pd.DataFrame
        One row per set: ``weights``, ``spearman``, ``top_overlap``, ``top_customers``.
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
