"""Hot products (熱銷商品): products scored on the course's four signals.

:func:`hot_products` standardises weekly sales, first-visitor conversion, favourites and
views (and optionally the share bought by first-time buyers) across products and weights
them (:data:`HOT_WEIGHTS`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from crmlab._checks import Reads, as_frame, as_timestamp, datetime_column, reads, require_columns

__all__ = ["HOT_WEIGHTS", "hot_products"]


#: Default weights of the hot-product score (they are normalised to sum to 1).
HOT_WEIGHTS: dict[str, float] = {
    "weekly_sales": 0.4,
    "first_visitor_conversion": 0.2,
    "first_buyer_share": 0.0,
    "favorites": 0.2,
    "views": 0.2,
}


def _zscore(values: pd.Series) -> pd.Series:
    sd = values.std(ddof=0)
    if not np.isfinite(sd) or sd == 0:
        return pd.Series(0.0, index=values.index)
    return (values - values.mean()) / sd


@reads(orders="order_id customer_id order_ts",
       order_items="order_id product_id quantity",
       events="customer_id event_type ts",
       products=Reads("products", optional=True))
def hot_products(orders: pd.DataFrame, order_items: pd.DataFrame, events: pd.DataFrame,
                 products: pd.DataFrame | None = None, *, end: str | pd.Timestamp | None = None, weeks: int = 4,
                 weights: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Score products on the four "hot product" signals of the course over the last ``weeks``.

    Window: the ``weeks`` weeks ending at ``end`` (default: the last order time), i.e.
    ``(end - weeks, end]``. Signals per product:

    * ``weekly_sales`` — units sold in the window / ``weeks``;
    * ``first_visitor_conversion`` — the course source's signal: of the customers who viewed
      the product for the first time ever in the window (first-time visitors of its page),
      the share who bought it after that view, by ``end``; 0 where nobody saw it for the
      first time;
    * ``first_buyer_share`` — of the window's orders containing the product, the share that
      were the customer's first order ever (does it bring in new customers?); 0 if unsold
      (weight 0 by default: a different question from the source's);
    * ``favorites`` — ``favorite`` events in the window;
    * ``views`` — ``product_view`` events in the window.

    Each signal is standardised across products (z-score, population sd; a constant signal
    scores 0) and ``score = sum_k w_k z_k`` with ``weights`` normalised to sum to 1 (default
    :data:`HOT_WEIGHTS`: sales 0.4; first-visitor conversion, favourites and views 0.2 each). Products are those of ``products``
    if given (with ``name``/``category`` when present), else every product seen in the
    window. Sorted by ``score`` (descending) with ``rank`` 1..n.

    Parameters
    ----------
    orders, order_items, events : pd.DataFrame
        The shop's tables of those names.
    products : pd.DataFrame, optional
        The shop's ``products``: the products to score, with name and category.
    end : date-like, optional
        The end of the window; default the last order time.
    weeks : int, default 4
        The window's length in weeks.
    weights : mapping, optional
        Weight per signal (keys of :data:`HOT_WEIGHTS`), non-negative; default HOT_WEIGHTS.

    Returns
    -------
    pd.DataFrame
        One row per product, best first: rank, product_id, the signals, their z-scores, score.
    """
    w = _hot_weights(weights, weeks)
    order_ts, ev_ts = _checked_times(orders, order_items, events)
    end = order_ts.max() if end is None else as_timestamp(end, "end")
    start = end - pd.Timedelta(weeks=int(weeks))
    sales, first_share = _sales_signals(orders, order_ts, order_items, start, end, weeks)
    favs, views = _event_counts(events, ev_ts, start, end)
    first_conv = _first_visitor_conversion(orders, order_items, events, ev_ts, start, end)
    ids = _product_ids(products, sales, favs, views)
    out = pd.DataFrame({"weekly_sales": sales.reindex(ids, fill_value=0).astype("float64").to_numpy(),
                        "first_visitor_conversion": first_conv.reindex(ids).astype("float64").fillna(0.0).to_numpy(),
                        "first_buyer_share": first_share.reindex(ids).astype("float64").fillna(0.0).to_numpy(),
                        "favorites": favs.reindex(ids, fill_value=0).astype("int64").to_numpy(),
                        "views": views.reindex(ids, fill_value=0).astype("int64").to_numpy()},
                       index=ids.rename("product_id"))
    return _scored(out, w, products)


def _checked_times(orders: pd.DataFrame, order_items: pd.DataFrame, events: pd.DataFrame
                   ) -> tuple[pd.Series, pd.Series]:
    """The order and event times, after checking the three tables' columns."""
    as_frame(orders, "orders")
    as_frame(order_items, "order_items")
    as_frame(events, "events")
    require_columns(orders, "orders", ["order_id", "customer_id", "order_ts"])
    require_columns(order_items, "order_items", ["order_id", "product_id", "quantity"])
    require_columns(events, "events", ["ts", "event_type", "product_id", "customer_id"])
    return datetime_column(orders, "orders", "order_ts"), datetime_column(events, "events", "ts")


def _event_counts(events: pd.DataFrame, ev_ts: pd.Series, start: pd.Timestamp,
                  end: pd.Timestamp) -> tuple[pd.Series, pd.Series]:
    """Per product: ``favorite`` and ``product_view`` events in ``(start, end]``."""
    ev = events.loc[(ev_ts > start) & (ev_ts <= end) & events["product_id"].notna(), ["event_type", "product_id"]]
    favs = ev.loc[ev["event_type"].astype("str") == "favorite"].groupby("product_id").size()
    views = ev.loc[ev["event_type"].astype("str") == "product_view"].groupby("product_id").size()
    return favs, views


def _product_ids(products: pd.DataFrame | None, *signals: pd.Series) -> pd.Index:
    """The products to score: those of ``products`` if given, else every product with a signal."""
    if products is None:
        return pd.Index(sorted(set().union(*(set(s.index) for s in signals))))
    as_frame(products, "products")
    require_columns(products, "products", ["product_id"])
    return pd.Index(products["product_id"].to_numpy())


def _hot_weights(weights: Mapping[str, float] | None, weeks: int) -> dict[str, float]:
    """The weights of every signal, normalised to sum to 1 (and ``weeks`` checked)."""
    w = dict(HOT_WEIGHTS if weights is None else weights)
    unknown = set(w) - set(HOT_WEIGHTS)
    if unknown:
        raise ValueError(f"hot_products: unknown weight(s) {sorted(unknown)}; use {sorted(HOT_WEIGHTS)}.")
    if any((not np.isfinite(v)) or v < 0 for v in w.values()) or sum(w.values()) <= 0:
        raise ValueError("hot_products: weights must be non-negative numbers with a positive sum.")
    if isinstance(weeks, bool) or not isinstance(weeks, int | np.integer) or weeks < 1:
        raise ValueError(f"hot_products: weeks={weeks!r} must be a positive whole number, e.g. 4.")
    total = sum(w.values())
    return {k: w.get(k, 0.0) / total for k in HOT_WEIGHTS}


def _sales_signals(orders: pd.DataFrame, order_ts: pd.Series, order_items: pd.DataFrame,
                   start: pd.Timestamp, end: pd.Timestamp, weeks: int) -> tuple[pd.Series, pd.Series]:
    """Per product sold in ``(start, end]``: units per week, and the share of its orders that
    were the customer's first order ever."""
    first_order = (orders.assign(_ts=order_ts).sort_values(["customer_id", "_ts", "order_id"])
                   .groupby("customer_id", sort=False)["order_id"].first())
    in_win = orders.loc[(order_ts > start) & (order_ts <= end), ["order_id", "customer_id"]]
    in_win = in_win.assign(is_first=in_win["order_id"].isin(first_order.to_numpy()))
    lines = order_items.merge(in_win, on="order_id", how="inner")
    per_order = lines.drop_duplicates(["order_id", "product_id"])
    return (lines.groupby("product_id")["quantity"].sum() / weeks,
            per_order.groupby("product_id")["is_first"].mean())


def _scored(out: pd.DataFrame, w: Mapping[str, float], products: pd.DataFrame | None) -> pd.DataFrame:
    """The signals with their z-scores, the weighted ``score``, product names and ``rank``."""
    score = pd.Series(0.0, index=out.index)
    for k, wk in w.items():
        out[f"z_{k}"] = _zscore(out[k].astype("float64"))
        score = score + wk * out[f"z_{k}"]
    out["score"] = score
    out = out.reset_index()
    if products is not None:
        extra = [c for c in ("name", "category") if c in products.columns]
        if extra:
            out = out.merge(products[["product_id", *extra]], on="product_id", how="left")
            out = out[["product_id", *extra, *[c for c in out.columns if c not in ("product_id", *extra)]]]
    out = out.sort_values(["score", "product_id"], ascending=[False, True], kind="stable")
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out.reset_index(drop=True)


def _first_visitor_conversion(orders: pd.DataFrame, order_items: pd.DataFrame, events: pd.DataFrame,
                              ev_ts: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """Per product: of the customers who viewed it for the first time ever in ``(start, end]``,
    the share who bought it after that view, by ``end``."""
    views = events.loc[(events["event_type"].astype("str") == "product_view") & events["product_id"].notna(),
                       ["customer_id", "product_id"]].assign(_ts=ev_ts)
    first = views.sort_values("_ts", kind="stable").drop_duplicates(["customer_id", "product_id"])
    first = first.loc[(first["_ts"] > start) & (first["_ts"] <= end)]
    lines = (orders[["order_id", "customer_id", "order_ts"]]
             .merge(order_items[["order_id", "product_id"]], on="order_id"))
    lines = lines.loc[lines["order_ts"] <= end]
    joined = first.merge(lines, on=["customer_id", "product_id"], how="left")
    joined["bought"] = joined["order_ts"] >= joined["_ts"]
    per_viewer = joined.groupby(["customer_id", "product_id"], as_index=False)["bought"].any()
    return per_viewer.groupby("product_id")["bought"].mean()
