"""After-sales service (售後服務): returns and exchanges, complaints and satisfaction surveys.

Course unit 5. A clear return/exchange policy and a simple process raise satisfaction; an
efficient complaint mechanism responds fast and stops problems from escalating; regular
surveys collect the feedback that keeps service improving. This module holds the
computations behind ``notebooks/10_after_sales.ipynb``:

* **Returns and exchanges (退換貨)** -- :func:`return_lines` joins order lines with their
  returns (one row per order line, validated: no return before its order, no return of a line
  that does not exist). :func:`return_rates` gives return and exchange rates by category,
  product, delivery delay (``late_bucket``) or any column, each with a Wilson score interval
  (:func:`crmlab.journey.wilson_interval`); :func:`return_reasons` the reason mix;
  :func:`return_chi_square` tests whether return rates differ across categories
  (``scipy.stats.chi2_contingency``). :func:`return_costs` is the cost view (refunds,
  reverse shipping, restocking, replacements) and the margin left after returns per product;
  :func:`processing_times` the time to process a return, with still-open returns censored
  (Kaplan-Meier, :func:`crmlab.survival.kaplan_meier`).
* **Complaints (投訴處理)** -- :data:`COMPLAINT_RULE` defines which tickets are complaints,
  :func:`complaint_metrics` gives their lifecycle (via :func:`crmlab.support.ticket_metrics`),
  :data:`ESCALATION_RULES` is the escalation policy as a table and :func:`escalate` applies it;
  :func:`resolution_curve` / :func:`resolution_summary` estimate the time to resolve with the
  complaints still open counted as censored; :func:`repeat_complainers` finds customers who
  complain again.
* **Surveys (滿意度調查)** -- :func:`csat_score` (share of 4-5 on a 1-5 scale),
  :func:`nps_score` (% promoters 9-10 minus % detractors 0-6, with the standard error of a
  difference of multinomial proportions), :func:`ces_score` (mean on 1-7 and share "easy",
  >= 5); :func:`survey_metrics` by touchpoint and over time (``freq="QE"`` / ``"ME"``) with
  response rates; :func:`response_rates` and :func:`weighted_csat` for the non-response
  caveat.
* **Drivers (滿意度驅動因素)** -- :func:`order_experiences` derives per order what happened
  (delivery delay, return, defect, support contact, a ticket left unresolved);
  :class:`OrderedRegression` is an ordered logit/probit fitted by maximum likelihood;
  :class:`SatisfactionDrivers` ranks the standardized drivers of order CSAT and answers
  what-if questions; :func:`planted_driver_effects` puts the simulator's hidden coefficients
  on the same standardized scale.

Definitions used throughout (documented once here):

* A **return line** is an order line with a row in ``returns``. *Return rate* = returned
  lines / order lines; *exchange rate* = exchanged lines / order lines; *exchange share* =
  exchanges / returns. ``late_days`` = ``delivery_days - promised_days`` of the order.
* **Return cost** of a line, as the economics count it (``return_costs(...,
  include_refunds=False)``): reverse shipping + restocking + the unit cost of a returned unit
  that cannot be sold again (reasons outside :data:`RESELLABLE_REASONS`, or the unrecovered
  1 - ``resale_share`` of one that can), against the margin of the sales that stuck. A refund
  is not a cost: it reverses a sale. The older count (the default, ``include_refunds=True``)
  adds refund + the replacement unit of an exchange - ``resale_share`` x unit cost of a
  resellable unit, against the margin of all sales; with ``resale_share=0`` it is the
  course's "revenue - cost - return costs" with every returned unit treated as lost.
* A **complaint** (投訴) is a support ticket in one of ``COMPLAINT_RULE.categories`` (defect,
  delivery, return, billing) raised with priority high or urgent, or any ticket that was
  reopened after being marked resolved (the customer came back unhappy).
* **CSAT** = share of answers 4 or 5 on 1-5. **NPS** = 100 x (share 9-10 - share 0-6) on 0-10,
  in points from -100 to 100. **CES** = mean on 1-7 (7 = very easy) and share >= 5.
  Scores outside the scale raise ``ValueError``; missing scores are counted
  (``missing_score``) and reported, never dropped silently.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from crmlab._checks import (
    Reads,
    as_frame,
    as_list,
    datetime_column,
    reads,
    require_columns,
    z_for_level,
)
from crmlab.stats import wilson_interval
from crmlab.support import ticket_metrics
from crmlab.survival import kaplan_meier, km_quantiles

__all__ = [
    "EXCHANGEABLE_REASONS",
    "ReturnPolicy",
    "WRITE_OFF_REASONS",
    "return_policy_whatif",
    "CES_EASY",
    "COMPLAINT_RULE",
    "ComplaintRule",
    "DRIVERS",
    "ESCALATION_RULES",
    "MAX_STD_COEF",
    "MAX_STD_SE",
    "LATE_BUCKETS",
    "OrderedRegression",
    "RESELLABLE_REASONS",
    "SCALES",
    "SatisfactionDrivers",
    "ces_score",
    "complaint_metrics",
    "csat_score",
    "escalate",
    "flag_complaints",
    "late_bucket",
    "nps_score",
    "order_experiences",
    "planted_driver_effects",
    "processing_times",
    "repeat_complainers",
    "resolution_curve",
    "resolution_summary",
    "response_rates",
    "return_chi_square",
    "return_costs",
    "return_lines",
    "return_rates",
    "return_reasons",
    "survey_metrics",
    "weighted_csat",
]

#: Survey scales (inclusive): CSAT 1-5, NPS 0-10, CES 1-7 (7 = very easy).
SCALES: dict[str, tuple[int, int]] = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}

#: A CES answer at or above this value counts as "easy".
CES_EASY = 5

#: Return reasons after which the unit goes back to stock (defective and damaged units do not).
RESELLABLE_REASONS: tuple[str, ...] = ("size_fit", "changed_mind", "late_delivery", "not_as_described")

#: Labels of the delivery-delay buckets used by :func:`late_bucket`.
LATE_BUCKETS: tuple[str, ...] = ("on time", "1 day late", "2 days late", "3+ days late")

#: The experiences whose effect on order satisfaction :class:`SatisfactionDrivers` estimates.
DRIVERS: tuple[str, ...] = ("late_days", "returned", "defect", "support_contact", "unresolved_ticket")


# --------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------


def _numeric(df: pd.DataFrame, table: str, col: str, *, nonnegative: bool = True) -> np.ndarray:
    try:
        values = pd.to_numeric(df[col]).to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{table}: column '{col}' must be numeric; convert it with "
                         f"pd.to_numeric({table}['{col}']).") from exc
    if np.isnan(values).any():
        raise ValueError(f"{table}: column '{col}' has {int(np.isnan(values).sum())} missing values; "
                         "fill them (e.g. 0 for a cost that was not charged) or drop the rows.")
    if nonnegative and (values < 0).any():
        raise ValueError(f"{table}: column '{col}' has {int((values < 0).sum())} negative values; "
                         "amounts and costs must be >= 0.")
    return values


def _groups(df: pd.DataFrame, keys: list[str]):
    """(key tuple, frame) pairs; one group with an empty key when ``keys`` is empty."""
    if not keys:
        return [((), df)]
    return [((k if isinstance(k, tuple) else (k,)), g)
            for k, g in df.groupby(keys, observed=True, sort=True)]


def late_bucket(late_days: pd.Series | np.ndarray) -> pd.Categorical:
    """Delivery delay in ordered buckets: on time (<= 0), 1 day, 2 days, 3+ days late."""
    days = np.asarray(late_days, dtype=float)
    codes = np.clip(np.where(np.isnan(days), -1, np.ceil(np.maximum(days, 0))), -1, 3).astype(int)
    return pd.Categorical.from_codes(codes, categories=list(LATE_BUCKETS), ordered=True)


# --------------------------------------------------------------------------------------
# returns and exchanges
# --------------------------------------------------------------------------------------

_RETURN_COLS = ("order_id", "line_no", "requested_ts", "reason", "return_type", "refund_amount",
                "shipping_cost", "restocking_cost")


def _check_returns(returns: pd.DataFrame, orders: pd.DataFrame, table: str = "returns") -> pd.DataFrame:
    """Validate ``returns`` against ``orders``: known orders, no return before its order,
    processing not before the request, refund/exchange labels, non-negative money."""
    r = as_frame(returns, table)
    require_columns(r, table, ["order_id", "requested_ts"])
    req = datetime_column(r, table, "requested_ts")
    order_ts = orders.set_index("order_id")["order_ts"]
    placed = order_ts.reindex(r["order_id"].to_numpy())
    unknown = placed.isna().to_numpy()
    if unknown.any():
        ids = r.loc[unknown, "order_id"].head(5).tolist()
        raise ValueError(f"{table}: {int(unknown.sum())} return(s) refer to orders not in the orders "
                         f"table (e.g. order_id {ids}); load the matching orders or drop those "
                         "returns and count them.")
    early = req.to_numpy() < placed.to_numpy()
    if early.any():
        idcol = "return_id" if "return_id" in r.columns else "order_id"
        ids = r.loc[early, idcol].head(5).tolist()
        raise ValueError(f"{table}: column 'requested_ts' is before the order's 'order_ts' for "
                         f"{int(early.sum())} return(s) (e.g. {idcol} {ids}): a return cannot be "
                         "requested before the order was placed. Check the clocks (time zones?) "
                         "or the order_id join.")
    if "processed_ts" in r.columns:
        proc = datetime_column(r, table, "processed_ts", allow_missing=True)
        bad = proc.notna() & (proc < req)
        if bad.any():
            raise ValueError(f"{table}: column 'processed_ts' is before 'requested_ts' for "
                             f"{int(bad.sum())} return(s); a return is processed after it is requested.")
    if "return_type" in r.columns:
        types = r["return_type"].astype("str")
        odd = ~types.isin(["refund", "exchange"])
        if odd.any():
            raise ValueError(f"{table}: column 'return_type' must be 'refund' or 'exchange'; found "
                             f"{sorted(types[odd].unique().tolist())[:5]}.")
    for col in ("refund_amount", "shipping_cost", "restocking_cost"):
        if col in r.columns:
            _numeric(r, table, col)
    return r


@reads(orders="order_id customer_id order_ts",
       order_items="order_id line_no product_id quantity line_amount",
       returns="",
       products=Reads("products", optional=True))
def return_lines(
    orders: pd.DataFrame,
    order_items: pd.DataFrame,
    returns: pd.DataFrame,
    products: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per order line with its return (if any): the base table of the returns unit.

    Needs ``orders`` (order_id, customer_id, order_ts, promised_days, delivery_days),
    ``order_items`` (order_id, line_no, product_id, quantity, line_amount) and ``returns``
    (order_id, line_no, requested_ts, reason, return_type, refund_amount, shipping_cost,
    restocking_cost; ``processed_ts``, ``return_id`` and ``quantity`` when present).
    ``products`` adds ``category`` and ``unit_cost``.

    Columns: order_id, line_no, product_id, customer_id, order_ts, late_days, late_bucket,
    quantity, line_amount, [category, unit_cost, cogs], returned, return_type, reason,
    returned_qty, refund_amount, shipping_cost, restocking_cost, requested_ts, processed_ts.
    Money columns are 0 on lines that were not returned.

    Raises ``ValueError`` for a return dated before its order, a return of a line that is not
    in ``order_items``, two returns of the same line, more units returned than bought, or
    negative money.
    """
    o = as_frame(orders, "orders")
    oi = as_frame(order_items, "order_items")
    r = as_frame(returns, "returns")
    require_columns(o, "orders", ["order_id", "customer_id", "order_ts", "promised_days", "delivery_days"])
    require_columns(oi, "order_items", ["order_id", "line_no", "product_id", "quantity", "line_amount"])
    require_columns(r, "returns", list(_RETURN_COLS))
    datetime_column(o, "orders", "order_ts")
    if o["order_id"].duplicated().any():
        raise ValueError("orders: column 'order_id' has duplicates; keep one row per order.")
    if oi.duplicated(["order_id", "line_no"]).any():
        raise ValueError("order_items: (order_id, line_no) has duplicates; keep one row per order line.")
    r = _check_returns(r, o)
    if r.duplicated(["order_id", "line_no"]).any():
        n = int(r.duplicated(["order_id", "line_no"]).sum())
        raise ValueError(f"returns: {n} order line(s) have more than one return; keep one row per "
                         "returned line (sum the quantities) before computing rates.")
    late = _numeric(o, "orders", "delivery_days") - _numeric(o, "orders", "promised_days")
    head = pd.DataFrame({"order_id": o["order_id"].to_numpy(), "customer_id": o["customer_id"].to_numpy(),
                         "order_ts": o["order_ts"].to_numpy(), "late_days": late})
    lines = oi[["order_id", "line_no", "product_id", "quantity", "line_amount"]].merge(
        head, on="order_id", how="left", validate="many_to_one")
    if lines["customer_id"].isna().any():
        n = int(lines["customer_id"].isna().sum())
        raise ValueError(f"order_items: {n} line(s) belong to orders not in the orders table; load "
                         "the matching orders or drop those lines and count them.")
    lines["late_bucket"] = late_bucket(lines["late_days"])
    if products is not None:
        p = as_frame(products, "products")
        require_columns(p, "products", ["product_id", "category", "unit_cost"])
        lines = lines.merge(p[["product_id", "category", "unit_cost"]], on="product_id", how="left",
                            validate="many_to_one")
        if lines["unit_cost"].isna().any():
            raise ValueError("order_items: some product_id values are not in products; load the full "
                             "catalogue.")
        lines["cogs"] = lines["unit_cost"] * lines["quantity"]
    keep = ["order_id", "line_no", *[c for c in ("return_id",) if c in r.columns], "requested_ts",
            "reason", "return_type", "refund_amount", "shipping_cost", "restocking_cost",
            *[c for c in ("processed_ts", "quantity") if c in r.columns]]
    rr = r[keep].rename(columns={"quantity": "returned_qty"})
    n_before = len(lines)
    lines = lines.merge(rr, on=["order_id", "line_no"], how="left", indicator=True)
    matched = int((lines["_merge"] == "both").sum())
    if matched != len(r):
        raise ValueError(f"returns: {len(r) - matched} return(s) do not match any order line "
                         "(order_id, line_no) in order_items; fix the line numbers or drop those "
                         "returns and count them.")
    if len(lines) != n_before:  # cannot happen after the duplicate check; never hide it
        raise ValueError("returns: the join to order_items duplicated lines; check (order_id, line_no).")
    returned = (lines.pop("_merge") == "both").to_numpy()
    lines["returned"] = returned
    if "returned_qty" not in lines.columns:
        lines["returned_qty"] = np.where(returned, lines["quantity"], 0)
    lines["returned_qty"] = lines["returned_qty"].fillna(0).astype("int64")
    if (lines["returned_qty"] > lines["quantity"]).any():
        raise ValueError("returns: column 'quantity' exceeds the units bought on "
                         f"{int((lines['returned_qty'] > lines['quantity']).sum())} line(s).")
    for col in ("refund_amount", "shipping_cost", "restocking_cost"):
        lines[col] = lines[col].fillna(0.0).astype(float)
    if "processed_ts" not in lines.columns:
        lines["processed_ts"] = pd.NaT
    return lines.reset_index(drop=True)


def _check_lines(lines: pd.DataFrame, table: str = "lines", extra: Sequence[str] = ()) -> pd.DataFrame:
    df = as_frame(lines, table)
    require_columns(df, table, ["returned", "return_type", *extra],
             fix="Pass the output of crmlab.aftersales.return_lines(...).")
    return df


def return_rates(
    lines: pd.DataFrame,
    by: str | Sequence[str] | None = "category",
    *,
    level: float = 0.95,
) -> pd.DataFrame:
    """Return and exchange rates per group of order lines, with Wilson score intervals.

    ``by`` is any column of :func:`return_lines` (``category``, ``product_id``,
    ``late_bucket``, ...) or a list of them; ``None`` gives one overall row. (Only returned
    lines have a reason, so rates "by reason" are :func:`return_reasons`' ``per_1000_lines``.)

    Columns: the keys, ``lines``, ``returns``, ``return_rate``, ``low``, ``high`` (Wilson at
    ``level``), ``exchanges``, ``exchange_rate`` (exchanges / lines), ``exchange_low``,
    ``exchange_high`` and ``exchange_share`` (exchanges / returns, NaN without returns).
    """
    df = _check_lines(lines)
    keys = as_list(by)
    require_columns(df, "lines", keys)
    is_exch = (df["return_type"].astype("str") == "exchange").to_numpy()
    work = pd.DataFrame({"returned": df["returned"].to_numpy(bool), "exch": is_exch}, index=df.index)
    for k in keys:
        work[k] = df[k]
    if keys:
        agg = work.groupby(keys, observed=True, sort=True).agg(
            lines=("returned", "size"), returns=("returned", "sum"), exchanges=("exch", "sum")).reset_index()
    else:
        agg = pd.DataFrame({"lines": [len(work)], "returns": [int(work["returned"].sum())],
                            "exchanges": [int(work["exch"].sum())]})
    agg["returns"] = agg["returns"].astype("int64")
    agg["exchanges"] = agg["exchanges"].astype("int64")
    agg["return_rate"] = agg["returns"] / agg["lines"]
    agg["low"], agg["high"] = wilson_interval(agg["returns"], agg["lines"], level)
    agg["exchange_rate"] = agg["exchanges"] / agg["lines"]
    agg["exchange_low"], agg["exchange_high"] = wilson_interval(agg["exchanges"], agg["lines"], level)
    agg["exchange_share"] = (agg["exchanges"] / agg["returns"].where(agg["returns"] > 0)).astype(float)
    cols = [*keys, "lines", "returns", "return_rate", "low", "high", "exchanges", "exchange_rate",
            "exchange_low", "exchange_high", "exchange_share"]
    return agg[cols]


def return_reasons(
    lines: pd.DataFrame,
    by: str | Sequence[str] | None = None,
    *,
    level: float = 0.95,
) -> pd.DataFrame:
    """Why customers return: the reason mix of returned lines, per group (``by``) or overall.

    Columns: the keys, ``reason``, ``returns``, ``share`` (of the group's returns) with Wilson
    ``low``/``high``, ``per_1000_lines`` (returns with this reason per 1,000 order lines of the
    group) and ``exchange_share`` (share of these returns settled by an exchange).
    """
    df = _check_lines(lines, extra=["reason"])
    keys = as_list(by)
    require_columns(df, "lines", keys)
    rows = []
    for key, g in _groups(df, keys):
        ret = g.loc[g["returned"].to_numpy(bool)]
        reasons = ret["reason"].astype("str")
        counts = reasons.value_counts()
        exch = (ret["return_type"].astype("str") == "exchange").groupby(reasons).sum()
        for reason, n in counts.items():
            row = dict(zip(keys, key, strict=True))
            row.update({"reason": reason, "returns": int(n), "lines": len(g),
                        "group_returns": len(ret), "exchanges": int(exch.get(reason, 0))})
            rows.append(row)
    out = pd.DataFrame(rows, columns=[*keys, "reason", "returns", "lines", "group_returns", "exchanges"])
    out["share"] = out["returns"] / out["group_returns"]
    out["low"], out["high"] = wilson_interval(out["returns"], out["group_returns"], level)
    out["per_1000_lines"] = 1000 * out["returns"] / out["lines"]
    out["exchange_share"] = out["exchanges"] / out["returns"]
    out = out.sort_values([*keys, "returns"], ascending=[True] * len(keys) + [False], kind="stable")
    return out[[*keys, "reason", "returns", "share", "low", "high", "per_1000_lines",
                "exchange_share"]].reset_index(drop=True)


def return_chi_square(lines: pd.DataFrame, by: str = "category") -> dict[str, float]:
    """Chi-square test of independence: do return rates differ across the groups of ``by``?

    Builds the groups x (returned, kept) contingency table and runs
    ``scipy.stats.chi2_contingency`` (its default: Yates' continuity correction only when the
    table has one degree of freedom). Returns ``statistic``, ``dof``, ``p_value``, ``n``
    (lines), ``groups``, ``min_expected`` (the smallest expected count: below 5 the
    chi-square approximation is doubtful) and ``cramers_v`` (effect size, 0..1).
    """
    df = _check_lines(lines)
    require_columns(df, "lines", [by])
    table = pd.crosstab(df[by], df["returned"].astype(bool)).reindex(columns=[True, False], fill_value=0)
    table = table.loc[table.sum(axis=1) > 0]
    if len(table) < 2:
        raise ValueError(f"return_chi_square: need at least two groups of '{by}' with order lines.")
    if (table.sum(axis=0) == 0).any():
        raise ValueError("return_chi_square: every line was returned, or none was; the test needs both.")
    res = stats.chi2_contingency(table.to_numpy())
    n = int(table.to_numpy().sum())
    k = min(table.shape) - 1
    return {"statistic": float(res.statistic), "dof": int(res.dof), "p_value": float(res.pvalue),
            "n": n, "groups": int(len(table)), "min_expected": float(res.expected_freq.min()),
            "cramers_v": float(math.sqrt(res.statistic / (n * k)))}


def return_costs(
    lines: pd.DataFrame,
    by: str | Sequence[str] | None = "product_id",
    *,
    resale_share: float = 0.0,
    resellable: Sequence[str] = RESELLABLE_REASONS,
    include_refunds: bool = True,
) -> pd.DataFrame:
    """The cost of returns and the margin left after them, per product (or any grouping).

    Needs the ``unit_cost`` columns that :func:`return_lines` adds when given ``products``.
    Per group: ``lines``, ``units``, ``returns``, ``revenue`` (sum of line amounts), ``cogs``
    (unit cost x units), ``gross_margin`` = revenue - cogs, ``refunds``, ``shipping``,
    ``restocking``, ``replacement_cost`` (unit cost of the replacement sent for an exchange),
    ``resale_credit`` (``resale_share`` x unit cost of returned units that can be resold:
    reasons in ``resellable``), ``write_off`` (unit cost of returned units that are not
    resold: all of a unit whose reason is not in ``resellable``, 1 - ``resale_share`` of one
    whose reason is), ``kept_margin`` (the margin of the sales that stuck: revenue - refunds -
    unit cost x the units the customers kept), ``return_cost``, ``margin_after_returns``,
    ``return_cost_share`` and ``margin_eaten`` (returns cost at least the whole margin).
    Sorted by ``return_cost_share``, largest first.

    ``include_refunds`` chooses what a return costs:

    * ``False`` -- the economics. A refund is not a cost: it *reverses a sale* (the money goes
      back, the unit comes back), so it only removes that sale from the margin. What a return
      costs on top is the reverse shipping, the restocking and the units that cannot be sold
      again: ``return_cost`` = shipping + restocking + write_off, measured against the margin
      of the sales that stuck: ``margin_after_returns`` = kept_margin - return_cost and
      ``return_cost_share`` = return_cost / kept_margin. An exchange keeps its sale; its
      replacement takes the returned unit's place in stock, so only an unsellable returned
      unit is a cost. With ``resale_share=1`` this is the count of exercise
      ``after_return_cost_share``.
    * ``True`` (the default, kept for the earlier tables and the exercise's "refund counted
      as a cost" mistake) -- ``return_cost`` = refunds + shipping + restocking +
      replacement_cost - resale_credit against the gross margin of *all* sales. It counts a
      refunded sale twice (its margin stays in the base and its refund is a cost), so its
      share overstates what returns cost; the margin after returns is the same as above only
      when ``resale_share`` = 1.
    """
    df = _check_lines(lines, extra=["unit_cost", "quantity", "line_amount", "refund_amount",
                                    "shipping_cost", "restocking_cost", "returned_qty", "reason"])
    if not 0 <= resale_share <= 1:
        raise ValueError(f"resale_share={resale_share!r} must be between 0 and 1 (share of the unit "
                         "cost recovered when a returned unit is resold).")
    keys = as_list(by)
    require_columns(df, "lines", keys)
    unit_cost = _numeric(df, "lines", "unit_cost")
    ret_units = df["returned_qty"].to_numpy(float)
    is_exch = (df["return_type"].astype("str") == "exchange").to_numpy()
    can_resell = df["reason"].astype("str").isin(list(resellable)).to_numpy() & df["returned"].to_numpy(bool)
    work = pd.DataFrame({
        "lines": 1,
        "units": df["quantity"].to_numpy(),
        "returns": df["returned"].to_numpy(bool).astype(int),
        "revenue": df["line_amount"].to_numpy(float),
        "cogs": unit_cost * df["quantity"].to_numpy(float),
        "refunds": df["refund_amount"].to_numpy(float),
        "shipping": df["shipping_cost"].to_numpy(float),
        "restocking": df["restocking_cost"].to_numpy(float),
        "replacement_cost": np.where(is_exch, unit_cost * ret_units, 0.0),
        "resale_credit": np.where(can_resell, resale_share * unit_cost * ret_units, 0.0),
        "write_off": np.where(df["returned"].to_numpy(bool),
                              np.where(can_resell, 1 - resale_share, 1.0) * unit_cost * ret_units, 0.0),
        # the units the customers kept: all but the refunded ones (an exchange keeps its sale)
        "kept_cogs": unit_cost * (df["quantity"].to_numpy(float)
                                  - np.where(df["returned"].to_numpy(bool) & ~is_exch, ret_units, 0.0)),
    }, index=df.index)
    for k in keys:
        work[k] = df[k]
    out = (work.groupby(keys, observed=True, sort=True).sum().reset_index() if keys
           else work.sum().to_frame().T)
    out["gross_margin"] = out["revenue"] - out["cogs"]
    out["kept_margin"] = out["revenue"] - out["refunds"] - out["kept_cogs"]
    if include_refunds:
        out["return_cost"] = (out["refunds"] + out["shipping"] + out["restocking"] + out["replacement_cost"]
                              - out["resale_credit"])
        base = out["gross_margin"]
    else:
        out["return_cost"] = out["shipping"] + out["restocking"] + out["write_off"]
        base = out["kept_margin"]
    out["margin_after_returns"] = base - out["return_cost"]
    gm = base.where(base > 0)
    out["return_cost_share"] = (out["return_cost"] / gm).astype(float)
    out["margin_eaten"] = (out["margin_after_returns"] <= 0) & (out["returns"] > 0)
    cols = [*keys, "lines", "units", "returns", "revenue", "cogs", "gross_margin", "refunds", "shipping",
            "restocking", "replacement_cost", "resale_credit", "write_off", "kept_margin", "return_cost",
            "margin_after_returns", "return_cost_share", "margin_eaten"]
    out = out[cols].sort_values("return_cost_share", ascending=False, na_position="last", kind="stable")
    return out.reset_index(drop=True)


@reads(returns="")
def processing_times(
    returns: pd.DataFrame,
    end: object,
    by: str | Sequence[str] | None = "return_type",
) -> pd.DataFrame:
    """How long returns take to process (days), with returns still open at ``end`` censored.

    Needs ``requested_ts`` and ``processed_ts`` (NaT = still open). A return processed after
    ``end`` counts as open at ``end``. Columns: the keys, ``returns``, ``open``,
    ``median_days_km`` and ``p90_days_km`` (Kaplan-Meier, open returns censored at their age),
    ``median_days_closed`` and ``mean_days_closed`` (processed returns only: biased low when
    many are open).
    """
    r = as_frame(returns, "returns")
    require_columns(r, "returns", ["requested_ts", "processed_ts"])
    req = datetime_column(r, "returns", "requested_ts")
    proc = datetime_column(r, "returns", "processed_ts", allow_missing=True)
    end_ts = pd.Timestamp(end)
    if (req > end_ts).any():
        raise ValueError(f"returns: {int((req > end_ts).sum())} return(s) were requested after "
                         f"end={end_ts}; pass a later end or filter the returns first.")
    bad = proc.notna() & (proc < req)
    if bad.any():
        raise ValueError(f"returns: column 'processed_ts' is before 'requested_ts' for {int(bad.sum())} "
                         "return(s).")
    closed = (proc.notna() & (proc <= end_ts)).to_numpy()
    stop = proc.where(pd.Series(closed, index=r.index), end_ts)
    days = ((stop - req).dt.total_seconds() / 86400.0).to_numpy()
    keys = as_list(by)
    require_columns(r, "returns", keys)
    work = pd.DataFrame({"days": days, "closed": closed}, index=r.index)
    for k in keys:
        work[k] = r[k]
    rows = []
    for key, g in _groups(work, keys):
        d, e = g["days"].to_numpy(), g["closed"].to_numpy()
        median_km, p90_km = km_quantiles(d, e, (0.5, 0.9), table="returns")
        row = dict(zip(keys, key, strict=True))
        row.update({"returns": len(g), "open": int((~e).sum()), "median_days_km": median_km,
                    "p90_days_km": p90_km,
                    "median_days_closed": float(np.median(d[e])) if e.any() else np.nan,
                    "mean_days_closed": float(d[e].mean()) if e.any() else np.nan})
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------
# complaints
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComplaintRule:
    """Which support tickets count as complaints (投訴): the definition is data, not code.

    A ticket is a complaint when its ``category`` is in ``categories`` and its ``priority``
    in ``priorities`` (a serious problem with something the shop did), or -- with
    ``include_reopened`` -- when it was reopened after being marked resolved.
    """

    categories: tuple[str, ...] = ("defect", "delivery", "return", "billing")
    priorities: tuple[str, ...] = ("high", "urgent")
    include_reopened: bool = True


#: The workbook's complaint definition.
COMPLAINT_RULE = ComplaintRule()

#: Escalation policy (升級處理) as a table: a complaint escalates to ``escalate_to`` at ``level``
#: when every condition of the row holds. ``priority`` / ``category``: "*" = any, otherwise a
#: "|"-separated list; ``after_hours``: still unresolved that many calendar hours after creation
#: (0 = at once); ``reopened`` / ``repeat``: True = only reopened complaints / only customers
#: with an earlier complaint within ``repeat_window`` (see :func:`escalate`), False = no condition.
ESCALATION_RULES = pd.DataFrame([
    {"rule": "serious complaint open > 24 h", "level": 1, "escalate_to": "team lead",
     "priority": "high|urgent", "category": "*", "after_hours": 24.0, "reopened": False, "repeat": False},
    {"rule": "any complaint open > 72 h", "level": 1, "escalate_to": "team lead",
     "priority": "*", "category": "*", "after_hours": 72.0, "reopened": False, "repeat": False},
    {"rule": "reopened complaint", "level": 2, "escalate_to": "after-sales manager",
     "priority": "*", "category": "*", "after_hours": 0.0, "reopened": True, "repeat": False},
    {"rule": "urgent complaint open > 48 h", "level": 2, "escalate_to": "after-sales manager",
     "priority": "urgent", "category": "*", "after_hours": 48.0, "reopened": False, "repeat": False},
    {"rule": "any complaint open > 7 days", "level": 2, "escalate_to": "after-sales manager",
     "priority": "*", "category": "*", "after_hours": 168.0, "reopened": False, "repeat": False},
    {"rule": "repeat complainer open > 72 h", "level": 3, "escalate_to": "head of customer experience",
     "priority": "*", "category": "*", "after_hours": 72.0, "reopened": False, "repeat": True},
])


@reads(tickets="")
def flag_complaints(tickets: pd.DataFrame, rule: ComplaintRule = COMPLAINT_RULE) -> pd.DataFrame:
    """The tickets with two added columns: ``complaint`` (bool) and ``complaint_basis``
    ("priority", "reopened", "priority+reopened" or "" for other tickets)."""
    t = as_frame(tickets, "tickets")
    require_columns(t, "tickets", ["category", "priority", "reopened"])
    if not isinstance(rule, ComplaintRule):
        raise ValueError("rule must be a crmlab.aftersales.ComplaintRule, e.g. ComplaintRule("
                         "categories=('defect',), priorities=('urgent',)).")
    if t["reopened"].isna().any():
        raise ValueError("tickets: column 'reopened' has missing values; fill them with False first.")
    serious = (t["category"].astype("str").isin(list(rule.categories))
               & t["priority"].astype("str").isin(list(rule.priorities))).to_numpy()
    reopened = t["reopened"].astype(bool).to_numpy() & rule.include_reopened
    basis = np.where(serious & reopened, "priority+reopened",
                     np.where(serious, "priority", np.where(reopened, "reopened", "")))
    out = t.copy()
    out["complaint"] = serious | reopened
    out["complaint_basis"] = pd.array(basis, dtype="str")
    return out


@reads(tickets="")
def complaint_metrics(
    tickets: pd.DataFrame,
    *,
    end: object = None,
    rule: ComplaintRule = COMPLAINT_RULE,
    repeat_window: str | pd.Timedelta = "90D",
) -> pd.DataFrame:
    """One row per complaint with its lifecycle (from :func:`crmlab.support.ticket_metrics`
    at observation end ``end``) plus ``complaint_basis``, ``duration_hours`` (resolution time,
    or age at ``end`` when still open), ``event`` (1 = resolved, 0 = censored) and
    ``repeat_complaint`` (the customer complained before within ``repeat_window``)."""
    flagged = flag_complaints(tickets, rule)
    metrics = ticket_metrics(tickets, end=end)  # all tickets: repeats count non-complaints too
    is_complaint = flagged["complaint"].to_numpy()
    comp = metrics.loc[is_complaint].reset_index(drop=True)
    comp["complaint_basis"] = flagged["complaint_basis"].to_numpy()[is_complaint]
    resolved = comp["resolved"].to_numpy(bool)
    comp["duration_hours"] = np.where(resolved, comp["resolution_hours"].to_numpy(float),
                                      comp["hours_to_end"].to_numpy(float))
    comp["event"] = resolved.astype(int)
    window = pd.Timedelta(repeat_window)
    if window <= pd.Timedelta(0):
        raise ValueError(f"repeat_window={repeat_window!r} must be a positive duration, e.g. '90D'.")
    order = comp.sort_values(["customer_id", "created_ts", "ticket_id"], kind="stable")
    prev = order.groupby("customer_id", sort=False)["created_ts"].shift(1)
    comp["repeat_complaint"] = ((order["created_ts"] - prev) <= window).reindex(comp.index).to_numpy(bool)
    comp.attrs["end"] = metrics.attrs.get("end")
    return comp


def _split(value: object) -> list[str] | None:
    s = str(value).strip()
    return None if s in ("*", "", "nan") else [v.strip() for v in s.split("|")]


def _check_rules(rules: pd.DataFrame) -> pd.DataFrame:
    r = as_frame(rules, "rules")
    require_columns(r, "rules", ["rule", "level", "escalate_to", "priority", "category", "after_hours",
                          "reopened", "repeat"], fix="Start from crmlab.aftersales.ESCALATION_RULES.copy().")
    hours = pd.to_numeric(r["after_hours"], errors="coerce")
    if hours.isna().any() or (hours < 0).any():
        raise ValueError("rules: column 'after_hours' must be a number of hours >= 0 on every row.")
    levels = pd.to_numeric(r["level"], errors="coerce")
    if levels.isna().any() or (levels < 1).any():
        raise ValueError("rules: column 'level' must be a positive integer on every row.")
    return r


def escalate(complaints: pd.DataFrame, rules: pd.DataFrame = ESCALATION_RULES) -> pd.DataFrame:
    """Apply escalation rules (a table, see :data:`ESCALATION_RULES`) to complaints.

    ``complaints`` is the output of :func:`complaint_metrics`. A rule fires on a complaint when
    its priority and category match, the complaint was still unresolved ``after_hours`` after
    creation (resolution time, or age at the observation end for open ones, strictly greater),
    and the ``reopened`` / ``repeat`` conditions hold. Adds ``escalation_level`` (0 = none, else
    the highest level fired), ``escalated_to``, ``escalation_rule`` and ``escalated_after_hours``
    (when the first rule of that level fired).
    """
    c = as_frame(complaints, "complaints")
    require_columns(c, "complaints", ["priority", "category", "duration_hours", "reopened", "repeat_complaint"],
             fix="Pass the output of crmlab.aftersales.complaint_metrics(tickets, end=...).")
    r = _check_rules(rules)
    n = len(c)
    level = np.zeros(n, dtype=int)
    to = np.full(n, "", dtype=object)
    name = np.full(n, "", dtype=object)
    after = np.full(n, np.nan)
    dur = c["duration_hours"].to_numpy(float)
    prio = c["priority"].astype("str").to_numpy()
    cat = c["category"].astype("str").to_numpy()
    reopened = c["reopened"].to_numpy(bool)
    repeat = c["repeat_complaint"].to_numpy(bool)
    for row in r.sort_values(["level", "after_hours"], kind="stable").to_dict("records"):
        fires = np.ones(n, dtype=bool)
        for values, col in ((_split(row["priority"]), prio), (_split(row["category"]), cat)):
            if values is not None:
                fires &= np.isin(col, values)
        hours = float(row["after_hours"])
        fires &= dur > hours if hours > 0 else np.ones(n, dtype=bool)
        if bool(row["reopened"]):
            fires &= reopened
        if bool(row["repeat"]):
            fires &= repeat
        lv = int(row["level"])
        new = fires & ((lv > level) | ((lv == level) & (hours < after)))
        level[new], to[new], name[new], after[new] = lv, row["escalate_to"], row["rule"], hours
    out = c.copy()
    out["escalation_level"] = level
    out["escalated_to"] = pd.array(to.astype(str), dtype="str")
    out["escalation_rule"] = pd.array(name.astype(str), dtype="str")
    out["escalated_after_hours"] = after
    return out


def _check_complaints(complaints: pd.DataFrame) -> pd.DataFrame:
    c = as_frame(complaints, "complaints")
    require_columns(c, "complaints", ["duration_hours", "event"],
             fix="Pass the output of crmlab.aftersales.complaint_metrics(tickets, end=...).")
    return c


def resolution_curve(
    complaints: pd.DataFrame,
    by: str | None = None,
    *,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Kaplan-Meier curve of time to resolve complaints (hours), open ones censored.

    ``survival`` at time t is the share of complaints still unresolved t hours after they
    were raised. One curve, or one per level of ``by`` (column ``by`` added). Columns as
    :func:`crmlab.survival.kaplan_meier` (time, at_risk, events, censored, survival, se,
    lower, upper).
    """
    c = _check_complaints(complaints)
    keys = as_list(by)
    require_columns(c, "complaints", keys)
    parts = []
    for key, g in _groups(c, keys):
        km = kaplan_meier(g["duration_hours"].to_numpy(float), g["event"].to_numpy(int),
                          confidence=confidence, table="complaints")
        for k, v in zip(keys, key, strict=True):
            km.insert(0, k, v)
        parts.append(km)
    return pd.concat(parts, ignore_index=True)


def resolution_summary(
    complaints: pd.DataFrame,
    by: str | Sequence[str] | None = None,
    *,
    within_hours: float = 72.0,
) -> pd.DataFrame:
    """Per group: ``complaints``, ``open``, ``median_hours_km``, ``p90_hours_km`` (Kaplan-Meier,
    open complaints censored), ``median_hours_resolved`` (resolved ones only, the naive number)
    and ``resolved_within`` = 1 - S(``within_hours``) by Kaplan-Meier."""
    c = _check_complaints(complaints)
    keys = as_list(by)
    require_columns(c, "complaints", keys)
    rows = []
    for key, g in _groups(c, keys):
        d, e = g["duration_hours"].to_numpy(float), g["event"].to_numpy(bool)
        median_km, p90_km = km_quantiles(d, e, (0.5, 0.9), table="complaints")
        km = kaplan_meier(d, e, table="complaints")
        s_at = km.loc[km["time"] <= within_hours, "survival"]
        row = dict(zip(keys, key, strict=True))
        row.update({"complaints": len(g), "open": int((~e).sum()),
                    "median_hours_km": median_km, "p90_hours_km": p90_km,
                    "median_hours_resolved": float(np.median(d[e])) if e.any() else np.nan,
                    "resolved_within": float(1 - s_at.iloc[-1]) if len(s_at) else 0.0})
        rows.append(row)
    return pd.DataFrame(rows)


def repeat_complainers(complaints: pd.DataFrame, *, window: str | pd.Timedelta = "90D") -> pd.DataFrame:
    """Customers who complained more than once: one row per complaining customer.

    Columns: ``customer_id``, ``complaints``, ``first_ts``, ``last_ts``, ``categories``
    (distinct, "|"-joined), ``repeat`` (two complaints within ``window`` of each other),
    ``open`` (complaints still open). Sorted by ``complaints``, most first.
    """
    c = as_frame(complaints, "complaints")
    require_columns(c, "complaints", ["customer_id", "created_ts", "category", "event"])
    datetime_column(c, "complaints", "created_ts")
    win = pd.Timedelta(window)
    if win <= pd.Timedelta(0):
        raise ValueError(f"window={window!r} must be a positive duration, e.g. '90D'.")
    s = c.sort_values(["customer_id", "created_ts"], kind="stable")
    gap = s.groupby("customer_id", sort=False)["created_ts"].diff()
    s = s.assign(_close=(gap <= win).to_numpy(bool), _open=(s["event"].to_numpy() == 0),
                 _cat=s["category"].astype("str"))
    out = s.groupby("customer_id", sort=True).agg(
        complaints=("created_ts", "size"), first_ts=("created_ts", "min"), last_ts=("created_ts", "max"),
        categories=("_cat", lambda x: "|".join(sorted(set(x)))), repeat=("_close", "any"),
        open=("_open", "sum")).reset_index()
    out["categories"] = out["categories"].astype("str")
    out["open"] = out["open"].astype("int64")
    return out.sort_values(["complaints", "customer_id"], ascending=[False, True],
                           kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------
# survey metrics
# --------------------------------------------------------------------------------------


def _scale(survey_type: str) -> tuple[int, int]:
    if survey_type not in SCALES:
        raise ValueError(f"survey_type={survey_type!r} must be one of {sorted(SCALES)}.")
    return SCALES[survey_type]


def _scores(scores: object, survey_type: str, table: str = "scores",
            column: str = "score") -> tuple[np.ndarray, int]:
    """(valid scores as float array, number of missing scores). ValueError for anything that
    is not a whole number on the survey's scale."""
    lo, hi = _scale(survey_type)
    try:
        arr = pd.to_numeric(pd.Series(scores, dtype="object") if not isinstance(scores, pd.Series)
                            else scores).to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{table}: column '{column}' must hold numbers on the {survey_type.upper()} "
                         f"scale {lo}-{hi}; convert text answers first.") from exc
    missing = np.isnan(arr)
    valid = arr[~missing]
    out_of = (valid < lo) | (valid > hi)
    if out_of.any():
        bad = sorted(set(valid[out_of].tolist()))[:5]
        raise ValueError(f"{table}: column '{column}' has {int(out_of.sum())} {survey_type.upper()} "
                         f"score(s) outside the scale {lo}-{hi} (e.g. {bad}). Fix the coding (was "
                         "the survey on another scale?) or drop those rows and count them.")
    frac = valid != np.round(valid)
    if frac.any():
        raise ValueError(f"{table}: column '{column}' has {int(frac.sum())} non-integer "
                         f"{survey_type.upper()} score(s) (e.g. {valid[frac][:3].tolist()}); answers "
                         "are whole scale points.")
    return valid, int(missing.sum())


def csat_score(scores: object, *, level: float = 0.95) -> dict[str, float]:
    """CSAT (顧客滿意度): share of answers 4 or 5 on the 1-5 scale, with a Wilson interval.

    Returns ``n`` (valid answers), ``missing`` (NaN answers, counted and left out),
    ``satisfied``, ``csat``, ``low``, ``high`` and ``mean_score``.
    """
    valid, missing = _scores(scores, "csat")
    n = valid.size
    k = int((valid >= 4).sum())
    low, high = wilson_interval(k, n, level) if n else (np.nan, np.nan)
    return {"n": n, "missing": missing, "satisfied": k, "csat": k / n if n else np.nan,
            "low": float(low), "high": float(high), "mean_score": float(valid.mean()) if n else np.nan}


def _nps_counts(counts: object) -> tuple[int, int, int]:
    """(promoters, passives, detractors) from counts by group or by score 0-10."""
    groups = ("promoters", "passives", "detractors")
    if isinstance(counts, pd.Series):
        counts = counts.to_dict()
    if isinstance(counts, Mapping) and counts and set(counts) <= set(groups):
        keys: list[object] = list(groups)
        values = [counts.get(g, 0) for g in groups]
    else:
        if isinstance(counts, Mapping):
            keys, values = list(counts.keys()), list(counts.values())
        else:
            values = list(np.asarray(counts, dtype="object").ravel())
            if len(values) != 11:
                raise ValueError(f"nps_score(counts=...): a sequence of counts needs 11 values, one per score "
                                 f"0-10; got {len(values)}. Or pass a mapping score -> count, or "
                                 "{'promoters': .., 'passives': .., 'detractors': ..}.")
            keys = list(range(11))
        bad = [k for k in keys if not (isinstance(k, int | np.integer) and 0 <= k <= 10)]
        if bad:
            raise ValueError("nps_score(counts=...): the keys must be the scores 0-10 (or 'promoters', "
                             f"'passives', 'detractors'); got {bad[:5]}.")
    whole = []
    for k, v in zip(keys, values, strict=True):
        try:
            f = float(v)
        except (TypeError, ValueError):
            f = float("nan")
        if not np.isfinite(f) or f < 0 or f != round(f):
            raise ValueError(f"nps_score(counts=...): the count for {k!r} must be a whole number >= 0, "
                             f"got {v!r}.")
        whole.append(int(f))
    if keys == list(groups):
        return whole[0], whole[1], whole[2]
    by_score = dict(zip(keys, whole, strict=True))
    return (sum(n for k, n in by_score.items() if k >= 9),
            sum(n for k, n in by_score.items() if 7 <= k <= 8),
            sum(n for k, n in by_score.items() if k <= 6))


def nps_score(scores: object = None, *, counts: object = None, level: float = 0.95,
              method: str = "wald") -> dict[str, float]:
    """Net Promoter Score (淨推薦值) with its standard error and confidence interval.

    NPS = 100 x (p_P - p_D) with p_P the share of promoters (9-10) and p_D of detractors
    (0-6). (p_P, p_passive, p_D) is multinomial, so
    Var(p_P - p_D) = [p_P + p_D - (p_P - p_D)^2] / n (Var p_P + Var p_D - 2 Cov, with
    Cov(p_P, p_D) = -p_P p_D / n) -- the same as the variance of the mean of scores coded
    +1 / 0 / -1. ``method="wald"`` uses it as is; ``"adjusted"`` is the adjusted-Wald of
    Rocks (2016, The American Statistician): add 3/4 to promoters and to detractors and 3 to n
    first (better coverage for small n, never a zero-width interval). The interval is
    clipped to [-100, 100].

    Input: the raw 0-10 answers (``scores``), or ``counts`` (keyword) when only a tally is at
    hand, as published reports give it: ``{"promoters": 50, "passives": 30, "detractors": 20}``,
    a mapping score -> count, or 11 counts for the scores 0..10.

    Returns ``n``, ``missing``, ``promoters``, ``passives``, ``detractors``, ``nps``, ``se``,
    ``low``, ``high`` (points).
    """
    if (scores is None) == (counts is None):
        raise ValueError("nps_score(): pass either the raw 0-10 scores or counts= (by group or by score), "
                         "exactly one of them.")
    z = z_for_level(level)
    if counts is not None:
        prom, passive, det = _nps_counts(counts)
        n, missing = prom + passive + det, 0
    else:
        valid, missing = _scores(scores, "nps")
        n = valid.size
        prom = int((valid >= 9).sum())
        det = int((valid <= 6).sum())
    if method not in ("wald", "adjusted"):
        raise ValueError(f"method={method!r} must be 'wald' or 'adjusted'.")
    nps = 100 * (prom - det) / n if n else np.nan
    if method == "adjusted":
        n_a, p, d = n + 3, (prom + 0.75) / (n + 3), (det + 0.75) / (n + 3)
        centre = 100 * (p - d)
    else:
        n_a = n
        p, d = (prom / n, det / n) if n else (np.nan, np.nan)
        centre = nps
    se = 100 * math.sqrt(max(p + d - (p - d) ** 2, 0.0) / n_a) if n_a else np.nan
    return {"n": n, "missing": missing, "promoters": prom, "passives": n - prom - det, "detractors": det,
            "nps": nps, "se": se, "low": max(centre - z * se, -100.0) if n_a else np.nan,
            "high": min(centre + z * se, 100.0) if n_a else np.nan}


def ces_score(scores: object, *, level: float = 0.95, easy: int = CES_EASY) -> dict[str, float]:
    """Customer Effort Score (顧客費力度) on 1-7 (7 = very easy): the mean with a t interval
    and the share of "easy" answers (>= ``easy``) with a Wilson interval.

    Returns ``n``, ``missing``, ``mean``, ``sd``, ``se``, ``low``, ``high``, ``easy_share``,
    ``easy_low``, ``easy_high``.
    """
    valid, missing = _scores(scores, "ces")
    z_for_level(level)
    n = valid.size
    k = int((valid >= easy).sum())
    el, eh = wilson_interval(k, n, level) if n else (np.nan, np.nan)
    mean = float(valid.mean()) if n else np.nan
    sd = float(valid.std(ddof=1)) if n > 1 else np.nan
    se = sd / math.sqrt(n) if n > 1 else np.nan
    t = stats.t.ppf(0.5 + level / 2, n - 1) if n > 1 else np.nan
    return {"n": n, "missing": missing, "mean": mean, "sd": sd, "se": se,
            "low": mean - t * se if n > 1 else np.nan, "high": mean + t * se if n > 1 else np.nan,
            "easy_share": k / n if n else np.nan, "easy_low": float(el), "easy_high": float(eh)}


_METRIC = {"csat": csat_score, "nps": nps_score, "ces": ces_score}


def _survey_rows(surveys: pd.DataFrame, survey_type: str, table: str = "surveys") -> pd.DataFrame:
    """The invitations of one survey type, validated (scale, responded vs score)."""
    s = as_frame(surveys, table)
    require_columns(s, table, ["score"])
    _scale(survey_type)
    if "survey_type" in s.columns:
        s = s.loc[(s["survey_type"].astype("str") == survey_type).to_numpy()]
    score = s["score"]
    _scores(score, survey_type, table)  # raises on out-of-scale answers (responded or not)
    if "responded" in s.columns:
        if s["responded"].isna().any():
            raise ValueError(f"{table}: column 'responded' has missing values; it must be True/False.")
        resp = s["responded"].astype(bool).to_numpy()
        stray = score.notna().to_numpy() & ~resp
        if stray.any():
            raise ValueError(f"{table}: {int(stray.sum())} row(s) have a score but responded=False; "
                             "fix the responded flag (or the score) so that the response rate is right.")
    else:
        resp = score.notna().to_numpy()
    return s.assign(_responded=resp)


@reads(surveys="")
def survey_metrics(
    surveys: pd.DataFrame,
    survey_type: str,
    *,
    by: str | Sequence[str] | None = None,
    freq: str | None = None,
    ts_col: str = "sent_ts",
    level: float = 0.95,
    method: str = "wald",
) -> pd.DataFrame:
    """CSAT, NPS or CES per group (e.g. ``by="touchpoint"``) and/or per period (``freq="QE"``,
    ``"ME"``, on ``ts_col``), with response rates.

    Columns: the keys, ``period`` (period end, with ``freq``), ``invited`` (rows),
    ``responded``, ``response_rate``, ``missing_score`` (responded but no usable score --
    counted and left out, never silently), ``n`` (valid scores) and the metric's fields
    (:func:`csat_score`, :func:`nps_score` or :func:`ces_score`). Without a ``responded``
    column a missing score means no response.
    """
    s = _survey_rows(surveys, survey_type)
    keys = as_list(by)
    require_columns(s, "surveys", keys)
    groupers: list = list(keys)
    if freq is not None:
        require_columns(s, "surveys", [ts_col])
        datetime_column(s, "surveys", ts_col)
        groupers.append(pd.Grouper(key=ts_col, freq=freq))
    metric = _METRIC[survey_type]
    kwargs = {"method": method} if survey_type == "nps" else {}
    rows = []
    grouped = s.groupby(groupers, observed=True, sort=True) if groupers else [((), s)]
    for key, g in grouped:
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(keys, key[: len(keys)], strict=True))
        if freq is not None:
            row["period"] = key[-1]
        resp = g["_responded"].to_numpy(bool)
        answered = g.loc[resp, "score"]
        m = metric(answered, level=level, **kwargs)
        row.update({"invited": len(g), "responded": int(resp.sum()),
                    "response_rate": resp.mean() if len(g) else np.nan,
                    "missing_score": m.pop("missing")})
        row.update(m)
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------
# order experiences and non-response
# --------------------------------------------------------------------------------------


@reads(orders="order_id customer_id order_ts promised_days delivery_days", returns="", tickets="")
def order_experiences(
    orders: pd.DataFrame,
    returns: pd.DataFrame,
    tickets: pd.DataFrame,
    *,
    end: object = None,
    unresolved_hours: float = 72.0,
) -> pd.DataFrame:
    """What each order's customer went through after buying -- the candidate satisfaction drivers.

    One row per order: ``order_id``, ``customer_id``, ``order_ts``, ``late_days``
    (delivery_days - promised_days), ``late_bucket``, ``returned`` (any line returned),
    ``defect`` (a line returned as "defective" or a defect ticket about the order),
    ``support_contact`` (any ticket about the order), ``unresolved_ticket`` (a ticket about
    the order took longer than ``unresolved_hours`` to resolve, or was still open and older
    than that at ``end``).
    """
    o = as_frame(orders, "orders")
    require_columns(o, "orders", ["order_id", "customer_id", "order_ts", "promised_days", "delivery_days"])
    datetime_column(o, "orders", "order_ts")
    r = _check_returns(returns, o)
    require_columns(r, "returns", ["reason"])
    t = as_frame(tickets, "tickets")
    require_columns(t, "tickets", ["order_id", "category", "created_ts", "resolved_ts"])
    created = datetime_column(t, "tickets", "created_ts")
    resolved = datetime_column(t, "tickets", "resolved_ts", allow_missing=True)
    if unresolved_hours <= 0:
        raise ValueError(f"unresolved_hours={unresolved_hours!r} must be > 0, e.g. 72.")
    end_ts = pd.Timestamp(end) if end is not None else max(created.max(), resolved.max())
    ids = o["order_id"].to_numpy()
    tk = t.loc[t["order_id"].notna().to_numpy()]
    t_order = tk["order_id"].astype("int64").to_numpy()
    unknown = ~np.isin(t_order, ids)
    if unknown.any():
        raise ValueError(f"tickets: {int(unknown.sum())} ticket(s) refer to orders not in the orders "
                         "table; load the matching orders or set their order_id to missing.")
    stop = resolved.loc[tk.index].where(resolved.loc[tk.index] <= end_ts, end_ts)
    hours = ((stop - created.loc[tk.index]).dt.total_seconds() / 3600.0).to_numpy()
    defect_orders = np.r_[r.loc[(r["reason"].astype("str") == "defective").to_numpy(), "order_id"].to_numpy(),
                          t_order[(tk["category"].astype("str") == "defect").to_numpy()]]
    late = _numeric(o, "orders", "delivery_days") - _numeric(o, "orders", "promised_days")
    out = pd.DataFrame({
        "order_id": ids,
        "customer_id": o["customer_id"].to_numpy(),
        "order_ts": o["order_ts"].to_numpy(),
        "late_days": late,
        "late_bucket": late_bucket(late),
        "returned": np.isin(ids, r["order_id"].to_numpy()),
        "defect": np.isin(ids, defect_orders),
        "support_contact": np.isin(ids, t_order),
        "unresolved_ticket": np.isin(ids, t_order[hours > unresolved_hours]),
    })
    return out


def _order_csat(surveys: pd.DataFrame, experiences: pd.DataFrame, touchpoint: str | None) -> pd.DataFrame:
    """Order CSAT invitations joined to the orders' experiences (one row per invitation)."""
    s = _survey_rows(surveys, "csat")
    require_columns(s, "surveys", ["order_id"])
    if touchpoint is not None and "touchpoint" in s.columns:
        s = s.loc[(s["touchpoint"].astype("str") == touchpoint).to_numpy()]
    s = s.loc[s["order_id"].notna().to_numpy()]
    e = as_frame(experiences, "experiences")
    require_columns(e, "experiences", ["order_id"], fix="Pass the output of crmlab.aftersales.order_experiences(...).")
    merged = s.assign(order_id=s["order_id"].astype("int64")).merge(
        e, on="order_id", how="left", suffixes=("", "_order"), indicator=True)
    lost = int((merged["_merge"] != "both").sum())
    if lost:
        raise ValueError(f"surveys: {lost} invitation(s) refer to orders not in experiences; build "
                         "experiences from the same orders table.")
    return merged.drop(columns="_merge")


@reads(surveys="")
def response_rates(
    surveys: pd.DataFrame,
    experiences: pd.DataFrame,
    by: str | Sequence[str] = "late_bucket",
    *,
    touchpoint: str | None = "order",
    level: float = 0.95,
) -> pd.DataFrame:
    """Who answers the order CSAT survey? Response rate by an experience (``by``, a column of
    :func:`order_experiences`), with Wilson intervals, and the CSAT of those who answered.

    If response rates differ between groups whose satisfaction differs, the respondents are
    not a random sample of the customers (non-response bias). Columns: the keys,
    ``invited``, ``responded``, ``response_rate``, ``low``, ``high``, ``csat`` (respondents).
    """
    m = _order_csat(surveys, experiences, touchpoint)
    keys = as_list(by)
    require_columns(m, "experiences", keys)
    rows = []
    for key, g in _groups(m, keys):
        resp = g["_responded"].to_numpy(bool)
        row = dict(zip(keys, key, strict=True))
        c = csat_score(g.loc[resp, "score"], level=level)
        row.update({"invited": len(g), "responded": int(resp.sum()), "csat": c["csat"],
                    "missing_score": c["missing"]})
        rows.append(row)
    out = pd.DataFrame(rows)
    out["response_rate"] = out["responded"] / out["invited"]
    out["low"], out["high"] = wilson_interval(out["responded"], out["invited"], level)
    return out[[*keys, "invited", "responded", "response_rate", "low", "high", "csat", "missing_score"]]


@reads(surveys="")
def weighted_csat(
    surveys: pd.DataFrame,
    experiences: pd.DataFrame,
    cells: str | Sequence[str] = ("late_bucket", "returned"),
    *,
    touchpoint: str | None = "order",
) -> dict[str, float]:
    """CSAT re-weighted for non-response by weighting classes (加權調整).

    Each respondent counts ``invited / responded`` of their cell (e.g. delivery-delay bucket x
    returned), so every cell weighs as much as its share of the invitations. This removes
    the bias from response rates that depend on *observed* experiences; it cannot remove bias
    from response that depends on satisfaction itself (e.g. delighted and furious customers
    answering more). Returns ``raw`` and ``weighted`` CSAT, ``respondents``, ``cells``,
    ``empty_cells`` and ``invited_in_empty_cells`` (invitations that no respondent can
    represent -- reported, not hidden).
    """
    m = _order_csat(surveys, experiences, touchpoint)
    keys = as_list(cells)
    require_columns(m, "experiences", keys)
    resp = m["_responded"].to_numpy(bool)
    sat = pd.to_numeric(m["score"]).to_numpy(dtype=float, na_value=np.nan) >= 4
    valid = resp & m["score"].notna().to_numpy()
    work = pd.DataFrame({"invited": 1, "valid": valid.astype(int), "sat": (sat & valid).astype(int)})
    for k in keys:
        work[k] = m[k].to_numpy()
    cell = work.groupby(keys, observed=True).sum()
    full = cell.loc[cell["valid"] > 0]
    weighted = float((full["invited"] * full["sat"] / full["valid"]).sum() / full["invited"].sum()) \
        if len(full) else np.nan
    return {"raw": float(work["sat"].sum() / work["valid"].sum()) if work["valid"].sum() else np.nan,
            "weighted": weighted, "respondents": int(work["valid"].sum()), "cells": int(len(cell)),
            "empty_cells": int((cell["valid"] == 0).sum()),
            "invited_in_empty_cells": int(cell.loc[cell["valid"] == 0, "invited"].sum())}


# --------------------------------------------------------------------------------------
# ordered regression and driver analysis
# --------------------------------------------------------------------------------------


class OrderedRegression:
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
    """

    def __init__(self, link: str = "logit", max_iter: int = 500, tol: float = 1e-8):
        self.link = link
        self.max_iter = max_iter
        self.tol = tol

    def _dist(self):
        if self.link == "logit":
            return stats.logistic
        if self.link == "probit":
            return stats.norm
        raise ValueError(f"link={self.link!r} must be 'logit' or 'probit'.")

    @staticmethod
    def _matrix(X: object, name: str = "X") -> tuple[np.ndarray, list[str] | None]:
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
        beta = theta[:p]
        cuts = np.cumsum(np.r_[theta[p], np.exp(theta[p + 1:])])
        return beta, cuts

    def _nll_grad(self, theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
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

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise ValueError("OrderedRegression is not fitted yet; call fit(X, y) first.")

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


class SatisfactionDrivers:
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
    """

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
        if not hasattr(self, "table_"):
            raise ValueError("SatisfactionDrivers is not fitted yet; call fit(experiences, surveys) first.")
        e = as_frame(experiences, "experiences")
        require_columns(e, "experiences", self.used_)
        return ((e[self.used_].astype(float) - self.mean_) / self.sd_).to_numpy()

    def predict_csat(self, experiences: pd.DataFrame) -> float:
        """Predicted CSAT (share of 4-5) averaged over the given orders (ordered models only)."""
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


# --------------------------------------------------------------------------------------
# return-policy design (退換貨政策): what-ifs on orders, return rate and margin
# --------------------------------------------------------------------------------------

#: Reasons where the goods are fine, so a customer may accept an exchange instead of a refund.
EXCHANGEABLE_REASONS: tuple[str, ...] = ("size_fit", "changed_mind", "not_as_described")

#: Reasons where the returned goods cannot be sold again (written off).
WRITE_OFF_REASONS: tuple[str, ...] = ("defective", "damaged_in_transit")


@dataclass(frozen=True)
class ReturnPolicy:
    """A return policy to try. ``window_days``: returns asked for later than this many days
    after delivery are refused (None = no limit); ``free_returns``: the shop pays the return
    shipping that customers pay today (``return_shipping`` NT$ per return);
    ``exchange_share``: share of refunds for an exchangeable reason that become exchanges;
    ``order_change`` and ``return_change``: the behaviour the policy is *assumed* to cause
    (relative change in orders and in the return rate, e.g. 0.03 = +3%). The shop's data
    cannot measure these two (it never changed its policy); they are assumptions to vary."""

    window_days: float | None = None
    free_returns: bool = False
    exchange_share: float = 0.0
    return_shipping: float = 80.0
    order_change: float = 0.0
    return_change: float = 0.0

    def __post_init__(self) -> None:
        if self.window_days is not None and not (np.isfinite(self.window_days) and self.window_days >= 0):
            raise ValueError(f"ReturnPolicy: window_days={self.window_days!r} must be >= 0 days or None.")
        if not 0 <= self.exchange_share <= 1:
            raise ValueError(f"ReturnPolicy: exchange_share={self.exchange_share!r} must be a share in [0, 1].")
        if not (np.isfinite(self.return_shipping) and self.return_shipping >= 0):
            raise ValueError("ReturnPolicy: return_shipping must be a non-negative amount (NT$).")
        if self.order_change <= -1 or self.return_change <= -1:
            raise ValueError("ReturnPolicy: order_change and return_change are relative changes > -1.")


@reads(orders="order_id amount delivered_ts",
       order_items="order_id product_id quantity",
       returns="order_id product_id requested_ts reason return_type quantity refund_amount "
               "shipping_cost restocking_cost",
       products="product_id unit_cost")
def return_policy_whatif(
    orders: pd.DataFrame,
    order_items: pd.DataFrame,
    returns: pd.DataFrame,
    products: pd.DataFrame,
    policies: Mapping[str, ReturnPolicy],
) -> pd.DataFrame:
    """Orders, return rate and margin (NT$) of the shop under each return policy.

    Margin = revenue - cost of goods sold - refunds + cost of goods that come back sellable
    - cost of replacement goods for write-offs exchanged - handling (return shipping the shop
    pays + restocking). Today's returns are replayed under each policy: refused if asked for
    after ``window_days`` (the customer keeps goods and money), turned into exchanges at
    ``exchange_share``, shipping paid by the shop under ``free_returns``; then scaled by the
    assumed behaviour (orders x (1 + order_change), returns x (1 + return_change)). Expected
    values: no randomness. One row per policy, in the order given.
    """
    func = "return_policy_whatif"
    if not policies or not all(isinstance(p, ReturnPolicy) for p in policies.values()):
        raise ValueError(f"{func}: policies must map names to ReturnPolicy objects, e.g. "
                         "{'today': ReturnPolicy()}.")
    cost = products.set_index("product_id")["unit_cost"]
    for table, frame in (("order_items", order_items), ("returns", returns)):
        unit_cost = frame["product_id"].map(cost)
        if unit_cost.isna().any():  # a missing cost would drop out of the sums silently
            ids = frame.loc[unit_cost.isna(), "product_id"].drop_duplicates().head(5).tolist()
            raise ValueError(f"{func}: {table}.product_id {ids} have no unit_cost in products; add their "
                             "cost to the products table or leave those rows out.")
    delivered = returns["order_id"].map(orders.set_index("order_id")["delivered_ts"])
    if delivered.isna().any():  # unknown order or no delivery time: no window could be applied
        ids = returns.loc[delivered.isna(), "order_id"].head(5).tolist()
        raise ValueError(f"{func}: returns.order_id {ids} have no delivered_ts in orders (unknown order or "
                         "missing delivery time); load the matching orders or leave those returns out.")
    cogs = float((order_items["quantity"] * order_items["product_id"].map(cost)).sum())
    revenue = float(orders["amount"].sum())
    days_after = (returns["requested_ts"] - delivered).dt.total_seconds() / 86400
    goods = (returns["quantity"] * returns["product_id"].map(cost)).to_numpy(dtype="float64")
    write_off = returns["reason"].astype("str").isin(WRITE_OFF_REASONS).to_numpy()
    refund = (returns["return_type"].astype("str") == "refund").to_numpy()
    exchangeable = refund & returns["reason"].astype("str").isin(EXCHANGEABLE_REASONS).to_numpy()
    rows = []
    for name, pol in policies.items():
        kept = np.ones(len(returns)) if pol.window_days is None else (days_after <= pol.window_days).to_numpy(float)
        to_exchange = np.where(exchangeable, pol.exchange_share, 0.0)
        p_refund = np.where(refund, 1.0 - to_exchange, 0.0)
        shipping = returns["shipping_cost"].to_numpy(dtype="float64")
        if pol.free_returns:
            shipping = np.where(shipping == 0, pol.return_shipping, shipping)
        scale_r = kept * (1.0 + pol.return_change) * (1.0 + pol.order_change)
        refunds = float((scale_r * p_refund * returns["refund_amount"].to_numpy(dtype="float64")).sum())
        recovered = float((scale_r * p_refund * np.where(write_off, 0.0, goods)).sum())
        replacement = float((scale_r * (1.0 - p_refund) * np.where(write_off, goods, 0.0)).sum())
        handling = float((scale_r * (shipping + returns["restocking_cost"].to_numpy(dtype="float64"))).sum())
        n_orders = len(orders) * (1.0 + pol.order_change)
        rev = revenue * (1.0 + pol.order_change)
        sold_cost = cogs * (1.0 + pol.order_change)
        rows.append({"policy": name, "orders": n_orders, "returns": float(scale_r.sum()),
                     "return_rate": float(scale_r.sum()) / n_orders if n_orders else float("nan"),  # lines per order
                     "revenue": rev, "refunds": refunds, "handling": handling,
                     "margin": rev - sold_cost - refunds + recovered - replacement - handling})
    return pd.DataFrame(rows)
