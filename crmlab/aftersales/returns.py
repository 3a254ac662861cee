"""Returns and exchanges (退換貨): the line table, rates, reasons, costs and processing times.

:func:`return_lines` joins order lines with their returns (validated); :func:`return_rates`
and :func:`return_reasons` give rates and the reason mix with Wilson intervals;
:func:`return_chi_square` tests whether rates differ across groups; :func:`return_costs` is
the cost view and :func:`processing_times` the time to process a return (Kaplan-Meier).
Definitions: see :mod:`crmlab.aftersales`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from crmlab._checks import Reads, as_frame, as_list, datetime_column, reads, require_columns
from crmlab.aftersales._validate import _groups, _numeric
from crmlab.stats import wilson_interval
from crmlab.survival import km_quantiles

__all__ = [
    "LATE_BUCKETS",
    "RESELLABLE_REASONS",
    "late_bucket",
    "processing_times",
    "return_chi_square",
    "return_costs",
    "return_lines",
    "return_rates",
    "return_reasons",
]


#: Return reasons after which the unit goes back to stock (defective and damaged units do not).
RESELLABLE_REASONS: tuple[str, ...] = ("size_fit", "changed_mind", "late_delivery", "not_as_described")


#: Labels of the delivery-delay buckets used by :func:`late_bucket`.
LATE_BUCKETS: tuple[str, ...] = ("on time", "1 day late", "2 days late", "3+ days late")


def late_bucket(late_days: pd.Series | np.ndarray) -> pd.Categorical:
    """Delivery delay in ordered buckets: on time (<= 0), 1 day, 2 days, 3+ days late.

    Parameters
    ----------
    late_days : pd.Series or np.ndarray
        Days late (delivery_days - promised_days); NaN stays missing.

    Returns
    -------
    pd.Categorical
        Ordered buckets :data:`LATE_BUCKETS`.
    """
    days = np.asarray(late_days, dtype=float)
    codes = np.clip(np.where(np.isnan(days), -1, np.ceil(np.maximum(days, 0))), -1, 3).astype(int)
    return pd.Categorical.from_codes(codes, categories=list(LATE_BUCKETS), ordered=True)


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

    Parameters
    ----------
    orders, order_items, returns : pd.DataFrame
        The shop's tables, with the columns listed above.
    products : pd.DataFrame, optional
        The ``products`` table, for ``category``, ``unit_cost`` and ``cogs``.

    Returns
    -------
    pd.DataFrame
        One row per order line with the columns listed above.
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
    lines = _order_lines(o, oi, products)
    return _attach_returns(lines, r).reset_index(drop=True)


def _order_lines(o: pd.DataFrame, oi: pd.DataFrame, products: pd.DataFrame | None) -> pd.DataFrame:
    """Order lines with their order's customer, time and delivery delay (and, with
    ``products``, category, unit cost and cost of goods); every line must have its order."""
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
    return lines


def _attach_returns(lines: pd.DataFrame, r: pd.DataFrame) -> pd.DataFrame:
    """Join the (checked, one per line) returns to their lines: every return must match a
    line, no line may be duplicated, and money is 0 on lines that were not returned."""
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
    return lines


def _check_lines(lines: pd.DataFrame, table: str = "lines", extra: Sequence[str] = ()) -> pd.DataFrame:
    """``lines`` as a frame with the columns of :func:`return_lines`."""
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

    Parameters
    ----------
    lines : pd.DataFrame
        Output of :func:`return_lines`.
    by : str or list of str or None, default "category"
        Grouping column(s); None for one overall row.
    level : float, default 0.95
        Confidence level of the Wilson intervals.

    Returns
    -------
    pd.DataFrame
        One row per group with the columns above.
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

    Parameters
    ----------
    lines : pd.DataFrame
        Output of :func:`return_lines`.
    by : str or list of str, optional
        Grouping column(s); None for the overall mix.
    level : float, default 0.95
        Confidence level of the Wilson intervals.

    Returns
    -------
    pd.DataFrame
        One row per group and reason, most frequent reason first.
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

    Parameters
    ----------
    lines : pd.DataFrame
        Output of :func:`return_lines`.
    by : str, default "category"
        The column whose groups are compared.

    Returns
    -------
    dict
        The test's figures listed above.
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


# Long function: its body is under 20 lines; the rest is the docstring, which explains the two
# ways to count what a return costs (include_refunds) and is better read in one place.
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

    Parameters
    ----------
    lines : pd.DataFrame
        Output of :func:`return_lines` with ``products`` (for ``unit_cost``).
    by : str or list of str or None, default "product_id"
        Grouping column(s); None for one overall row.
    resale_share : float, default 0.0
        Share of the unit cost recovered when a returned unit is resold, in [0, 1].
    resellable : sequence of str, default RESELLABLE_REASONS
        Return reasons after which a unit can be resold.
    include_refunds : bool, default True
        Count refunds as a cost (see above).

    Returns
    -------
    pd.DataFrame
        One row per group, largest ``return_cost_share`` first.
    """
    df = _check_lines(lines, extra=["unit_cost", "quantity", "line_amount", "refund_amount",
                                    "shipping_cost", "restocking_cost", "returned_qty", "reason"])
    if not 0 <= resale_share <= 1:
        raise ValueError(f"resale_share={resale_share!r} must be between 0 and 1 (share of the unit "
                         "cost recovered when a returned unit is resold).")
    keys = as_list(by)
    require_columns(df, "lines", keys)
    work = _line_costs(df, resale_share, resellable)
    for k in keys:
        work[k] = df[k]
    out = (work.groupby(keys, observed=True, sort=True).sum().reset_index() if keys
           else work.sum().to_frame().T)
    out = _cost_of_returns(out, include_refunds)
    cols = [*keys, "lines", "units", "returns", "revenue", "cogs", "gross_margin", "refunds", "shipping",
            "restocking", "replacement_cost", "resale_credit", "write_off", "kept_margin", "return_cost",
            "margin_after_returns", "return_cost_share", "margin_eaten"]
    out = out[cols].sort_values("return_cost_share", ascending=False, na_position="last", kind="stable")
    return out.reset_index(drop=True)


def _line_costs(df: pd.DataFrame, resale_share: float, resellable: Sequence[str]) -> pd.DataFrame:
    """Per order line, the money that :func:`return_costs` adds up (revenue, costs of goods,
    refunds, handling, replacement, resale credit, write-off, cost of the units kept)."""
    unit_cost = _numeric(df, "lines", "unit_cost")
    ret_units = df["returned_qty"].to_numpy(float)
    is_exch = (df["return_type"].astype("str") == "exchange").to_numpy()
    returned = df["returned"].to_numpy(bool)
    can_resell = df["reason"].astype("str").isin(list(resellable)).to_numpy() & returned
    return pd.DataFrame({
        "lines": 1,
        "units": df["quantity"].to_numpy(),
        "returns": returned.astype(int),
        "revenue": df["line_amount"].to_numpy(float),
        "cogs": unit_cost * df["quantity"].to_numpy(float),
        "refunds": df["refund_amount"].to_numpy(float),
        "shipping": df["shipping_cost"].to_numpy(float),
        "restocking": df["restocking_cost"].to_numpy(float),
        "replacement_cost": np.where(is_exch, unit_cost * ret_units, 0.0),
        "resale_credit": np.where(can_resell, resale_share * unit_cost * ret_units, 0.0),
        "write_off": np.where(returned,
                              np.where(can_resell, 1 - resale_share, 1.0) * unit_cost * ret_units, 0.0),
        # the units the customers kept: all but the refunded ones (an exchange keeps its sale)
        "kept_cogs": unit_cost * (df["quantity"].to_numpy(float)
                                  - np.where(returned & ~is_exch, ret_units, 0.0)),
    }, index=df.index)


def _cost_of_returns(out: pd.DataFrame, include_refunds: bool) -> pd.DataFrame:
    """Margins, the return cost by the chosen count, what is left and its share."""
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
    return out


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

    Parameters
    ----------
    returns : pd.DataFrame
        The ``returns`` table (``requested_ts``, ``processed_ts`` and the ``by`` columns).
    end : datetime-like
        Observation end.
    by : str or list of str or None, default "return_type"
        Grouping column(s); None for one overall row.

    Returns
    -------
    pd.DataFrame
        One row per group with the columns above.
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
