"""The feedback loop (反饋循環): defect signals from every source, scored per product-week.

:func:`defect_events` collects the signals (reviews, tickets, returns, mentions);
:func:`product_signals` scores each product-week against its own past and combines the
sources (Stouffer's method).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from crmlab._checks import (
    Reads,
    as_frame,
    datetime_column,
    reads,
    require_columns,
)
from crmlab.feedback.validation import _stars

__all__ = [
    "SOURCES",
    "defect_events",
    "product_signals",
]


#: Feedback sources combined by :func:`product_signals`, in this order.
SOURCES: tuple[str, ...] = ("review", "ticket", "return", "mention")


def _mask(mask: object, n: int, name: str) -> np.ndarray:
    m = np.asarray(mask)
    if m.dtype != bool or m.shape != (n,):
        raise ValueError(f"defect_events: {name} must be a boolean array with one value per row "
                         f"({n}), got dtype {m.dtype} and shape {m.shape}.")
    return m


@reads(reviews=Reads("reviews", optional=True),
       tickets=Reads("tickets", optional=True),
       order_items=Reads("order_items", optional=True),
       returns=Reads("returns", optional=True),
       mentions=Reads("social_mentions", optional=True))
def defect_events(
    *,
    reviews: pd.DataFrame | None = None,
    review_mask: object | None = None,
    tickets: pd.DataFrame | None = None,
    order_items: pd.DataFrame | None = None,
    returns: pd.DataFrame | None = None,
    mentions: pd.DataFrame | None = None,
    mention_mask: object | None = None,
    low_stars: int = 2,
    ticket_category: str = "defect",
    return_reasons: Sequence[str] = ("defective",),
) -> pd.DataFrame:
    """Defect signals about products from every feedback source, one row per signal.

    * review: reviews with at most ``low_stars`` stars, further restricted by ``review_mask``
      (e.g. "main topic is the defect topic");
    * ticket: tickets of ``ticket_category``; a ticket names an order, not a product, so it is
      shared among the distinct products of that order (weight 1 / number of products);
      tickets without an order cannot be attributed;
    * return: returns whose reason is in ``return_reasons``;
    * mention: mentions that name a product, restricted by ``mention_mask`` (e.g. negative).

    Columns: source, product_id, ts, weight. What could not be attributed to a product is
    counted in ``out.attrs["unattributed"]`` ({source: count}), not dropped silently.
    """
    parts: list[pd.DataFrame] = []
    unattributed: dict[str, float] = {}

    def add(source: str, pid: object, ts: object, weight: object) -> None:
        parts.append(pd.DataFrame({"source": source, "product_id": np.asarray(pid, dtype="int64"),
                                   "ts": pd.to_datetime(np.asarray(ts)), "weight": np.asarray(weight, float)}))

    if reviews is not None:
        r = as_frame(reviews, "reviews")
        require_columns(r, "reviews", ["product_id", "ts", "stars"])
        datetime_column(r, "reviews", "ts")
        keep = _stars(r["stars"], "reviews", "stars") <= low_stars
        if review_mask is not None:
            keep &= _mask(review_mask, len(r), "review_mask")
        x = r.loc[keep]
        add("review", x["product_id"], x["ts"], np.ones(len(x)))
    if tickets is not None:
        t = as_frame(tickets, "tickets")
        require_columns(t, "tickets", ["ticket_id", "order_id", "created_ts", "category"])
        datetime_column(t, "tickets", "created_ts")
        if order_items is None:
            raise ValueError("defect_events: tickets need order_items to find the products of each "
                             "ticket's order; pass order_items=shop.order_items.")
        oi = as_frame(order_items, "order_items")
        require_columns(oi, "order_items", ["order_id", "product_id"])
        t = t.loc[t["category"].astype(str) == ticket_category]
        no_order = t["order_id"].isna()
        unattributed["ticket"] = int(no_order.sum())
        t = t.loc[~no_order, ["ticket_id", "order_id", "created_ts"]]
        t = t.assign(order_id=t["order_id"].astype("int64"))
        prods = oi[["order_id", "product_id"]].drop_duplicates()
        tt = t.merge(prods, on="order_id", how="left")
        lost = int(tt.loc[tt["product_id"].isna(), "ticket_id"].nunique())
        unattributed["ticket"] += lost
        tt = tt.dropna(subset=["product_id"])
        weight = 1.0 / tt.groupby("ticket_id")["product_id"].transform("size").to_numpy()
        add("ticket", tt["product_id"], tt["created_ts"], weight)
    if returns is not None:
        rt = as_frame(returns, "returns")
        require_columns(rt, "returns", ["product_id", "requested_ts", "reason"])
        datetime_column(rt, "returns", "requested_ts")
        x = rt.loc[rt["reason"].astype(str).isin(list(return_reasons))]
        add("return", x["product_id"], x["requested_ts"], np.ones(len(x)))
    if mentions is not None:
        m = as_frame(mentions, "mentions")
        require_columns(m, "mentions", ["product_id", "ts"])
        datetime_column(m, "mentions", "ts")
        keep = np.ones(len(m), bool) if mention_mask is None else _mask(mention_mask, len(m), "mention_mask")
        named = m["product_id"].notna().to_numpy()
        unattributed["mention"] = int((keep & ~named).sum())
        x = m.loc[keep & named]
        add("mention", x["product_id"].astype("int64"), x["ts"], np.ones(len(x)))
    if not parts:
        raise ValueError("defect_events: pass at least one source (reviews, tickets, returns, mentions).")
    out = pd.concat(parts, ignore_index=True)
    out["source"] = pd.Categorical(out["source"], categories=list(SOURCES))
    out = out.sort_values(["ts", "source"], kind="stable").reset_index(drop=True)
    out.attrs["unattributed"] = unattributed
    return out


def _week_start(ts: pd.Series) -> pd.Series:
    d = ts.dt.normalize()
    return d - pd.to_timedelta(d.dt.day_of_week, unit="D")


@reads(orders="order_id order_ts",
       order_items="order_id product_id quantity",
       products=Reads("products", optional=True))
def product_signals(
    events: pd.DataFrame,
    orders: pd.DataFrame,
    order_items: pd.DataFrame,
    *,
    products: Sequence[int] | None = None,
    window_weeks: int = 4,
    baseline_weeks: int = 13,
    prior_units: float = 200.0,
    min_count: float = 2,
    cap: float = 5.0,
    threshold: float = 3.5,
) -> pd.DataFrame:
    """Weekly defect score per product from all feedback sources together.

    For each product, week w and source s (``events`` from :func:`defect_events`):

    1. x = the source's signals in the ``window_weeks`` weeks ending with w (a problem needs a
       few weeks to show up in a small shop);
    2. exposure u = units of the product sold in those weeks and the week before (feedback
       lags the order), at least 1;
    3. the product's usual rate per unit comes from the ``baseline_weeks`` weeks before the
       window, shrunk towards the all-product rate of the same weeks with the weight of
       ``prior_units`` units (so a product with little history borrows the shop's rate);
       expected e = rate x u;
    4. z = the Poisson mid-p surprise of x given e, turned into a normal score
       (P(X > x) + P(X = x) / 2 = 1 - Phi(z)); it is set to at most 0 when x < ``min_count``
       (one defective unit makes a review, a ticket *and* a return from the same customer --
       not three independent alarms) and clipped to [-cap, cap] (no single source can raise
       the alarm on its own);
    5. score = sum of the source z's / sqrt(number of sources) (Stouffer's method); flag when
       score >= ``threshold``.

    Scores start once a baseline exists (NaN before). Only past weeks are used at each week:
    the score could have been computed on that day. Columns: product_id, week, units,
    exposure, and per source n_<s> (signals), e_<s> (expected), z_<s>; score, flag.
    """
    ev = as_frame(events, "events")
    require_columns(ev, "events", ["source", "product_id", "ts", "weight"],
             fix="Pass the output of defect_events().")
    o = as_frame(orders, "orders")
    oi = as_frame(order_items, "order_items")
    require_columns(o, "orders", ["order_id", "order_ts"])
    require_columns(oi, "order_items", ["order_id", "product_id", "quantity"])
    datetime_column(o, "orders", "order_ts")
    if window_weeks < 1 or baseline_weeks < 1 or prior_units < 0 or cap <= 0:
        raise ValueError("product_signals: window_weeks and baseline_weeks must be >= 1, "
                         "prior_units >= 0 and cap > 0.")
    lines = oi[["order_id", "product_id", "quantity"]].merge(o[["order_id", "order_ts"]], on="order_id",
                                                             how="left", validate="many_to_one")
    if lines["order_ts"].isna().any():
        raise ValueError(f"order_items: {int(lines['order_ts'].isna().sum())} line(s) belong to orders "
                         "not in the orders table; load the matching orders.")
    lines["week"] = _week_start(lines["order_ts"])
    ev = ev.assign(week=_week_start(datetime_column(ev, "events", "ts")))
    first = min(lines["week"].min(), ev["week"].min()) if len(ev) else lines["week"].min()
    last = max(lines["week"].max(), ev["week"].max()) if len(ev) else lines["week"].max()
    weeks = pd.date_range(first, last, freq="7D")
    pids = np.sort(pd.unique(np.r_[lines["product_id"].to_numpy(), ev["product_id"].to_numpy()]))
    if products is not None:
        pids = np.asarray(sorted(set(int(p) for p in products) | set(int(p) for p in pids)))

    def grid(df: pd.DataFrame, value: str) -> np.ndarray:
        tab = df.groupby(["product_id", "week"])[value].sum().unstack(fill_value=0)
        return tab.reindex(index=pids, columns=weeks, fill_value=0).to_numpy(dtype=float)

    def roll(a: np.ndarray, width: int, lag: int = 0) -> np.ndarray:
        """Sum over columns t-lag-width+1 .. t-lag (zeros before the data)."""
        c = np.concatenate([np.zeros((a.shape[0], 1)), np.cumsum(a, axis=1)], axis=1)
        t = np.arange(a.shape[1])
        hi = np.clip(t - lag + 1, 0, a.shape[1])
        lo = np.clip(t - lag - width + 1, 0, a.shape[1])
        return c[:, hi] - c[:, lo]

    units = grid(lines, "quantity")
    exposure = np.maximum(roll(units, window_weeks + 1), 1.0)
    base_units = roll(units, baseline_weeks, lag=window_weeks)
    t_idx = np.arange(len(weeks))
    has_base = (t_idx - window_weeks + 1) >= min(4, baseline_weeks)  # at least 4 baseline weeks
    out = pd.DataFrame({"product_id": np.repeat(pids, len(weeks)), "week": np.tile(weeks, len(pids)),
                        "units": units.ravel().astype("int64"), "exposure": exposure.ravel()})
    z_sum = np.zeros_like(units)
    present = [s for s in SOURCES if s in set(ev["source"].astype(str))] or list(SOURCES)
    for s in present:
        c1 = grid(ev.loc[ev["source"].astype(str) == s], "weight")
        x = roll(c1, window_weeks)
        cb = roll(c1, baseline_weeks, lag=window_weeks)
        pooled = cb.sum(axis=0) / np.maximum(base_units.sum(axis=0), 1.0)
        rate = (cb + prior_units * pooled) / np.maximum(base_units + prior_units, 1e-12)
        e = rate * exposure
        xf = np.floor(x + 1e-9)
        p = stats.poisson.sf(xf, e) + 0.5 * stats.poisson.pmf(xf, e)
        with np.errstate(divide="ignore"):
            z = stats.norm.isf(np.clip(p, 0.0, 1.0))
        z = np.where(x >= min_count, z, np.minimum(z, 0.0))
        z = np.clip(z, -cap, cap)
        z = np.where(has_base[None, :], z, np.nan)
        z_sum = z_sum + z
        out[f"n_{s}"] = x.ravel()
        out[f"e_{s}"] = np.where(has_base[None, :], e, np.nan).ravel()
        out[f"z_{s}"] = z.ravel()
    out["score"] = (z_sum / math.sqrt(len(present))).ravel()
    out["flag"] = (out["score"] >= threshold).fillna(False).astype(bool)
    out.attrs.update({"sources": present, "threshold": threshold, "window_weeks": window_weeks,
                      "baseline_weeks": baseline_weeks})
    return out
