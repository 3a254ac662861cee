"""The feedback loop (反饋循環): defect signals from every source, scored per product-week.

:func:`defect_events` collects the signals (reviews, tickets, returns, mentions);
:func:`product_signals` scores each product-week against its own past and combines the
sources (Stouffer's method).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from crmlab._checks import Reads, as_frame, datetime_column, reads, require_columns
from crmlab.feedback.validation import _stars

__all__ = [
    "SOURCES",
    "defect_events",
    "product_signals",
]


#: Feedback sources combined by :func:`product_signals`, in this order.
SOURCES: tuple[str, ...] = ("review", "ticket", "return", "mention")


def _mask(mask: object, n: int, name: str) -> np.ndarray:
    """A boolean mask with one value per row; ValueError otherwise."""
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

    Parameters
    ----------
    reviews, tickets, order_items, returns, mentions : pd.DataFrame, optional
        The sources (``tickets`` need ``order_items``); at least one.
    review_mask, mention_mask : array-like of bool, optional
        Further restrict reviews / mentions (one flag per row).
    low_stars : int, default 2
        Highest star rating that counts as a defect signal.
    ticket_category : str, default "defect"
        The ticket category of a defect.
    return_reasons : sequence of str, default ("defective",)
        Return reasons that signal a defect.

    Returns
    -------
    pd.DataFrame
        One row per signal, in time order.
    """
    unattributed: dict[str, float] = {}
    parts = [] if reviews is None else [_review_signals(reviews, review_mask, low_stars)]
    if tickets is not None:
        parts.append(_ticket_signals(tickets, order_items, ticket_category, unattributed))
    if returns is not None:
        parts.append(_return_signals(returns, return_reasons))
    if mentions is not None:
        parts.append(_mention_signals(mentions, mention_mask, unattributed))
    if not parts:
        raise ValueError("defect_events: pass at least one source (reviews, tickets, returns, mentions).")
    out = pd.concat(parts, ignore_index=True)
    out["source"] = pd.Categorical(out["source"], categories=list(SOURCES))
    out = out.sort_values(["ts", "source"], kind="stable").reset_index(drop=True)
    out.attrs["unattributed"] = unattributed
    return out


def _signals(source: str, pid: object, ts: object, weight: object) -> pd.DataFrame:
    """Signals of one source in the common layout: source, product_id, ts, weight."""
    return pd.DataFrame({"source": source, "product_id": np.asarray(pid, dtype="int64"),
                         "ts": pd.to_datetime(np.asarray(ts)), "weight": np.asarray(weight, float)})


def _review_signals(reviews: pd.DataFrame, review_mask: object | None, low_stars: int) -> pd.DataFrame:
    """Reviews with at most ``low_stars`` stars (and in ``review_mask``), weight 1 each."""
    r = as_frame(reviews, "reviews")
    require_columns(r, "reviews", ["product_id", "ts", "stars"])
    datetime_column(r, "reviews", "ts")
    keep = _stars(r["stars"], "reviews", "stars") <= low_stars
    if review_mask is not None:
        keep &= _mask(review_mask, len(r), "review_mask")
    x = r.loc[keep]
    return _signals("review", x["product_id"], x["ts"], np.ones(len(x)))


def _ticket_signals(tickets: pd.DataFrame, order_items: pd.DataFrame | None, category: str,
                    unattributed: dict[str, float]) -> pd.DataFrame:
    """Tickets of ``category`` shared among their order's distinct products (weight 1 / number
    of products); the tickets that name no (known) order are counted in ``unattributed``."""
    t = as_frame(tickets, "tickets")
    require_columns(t, "tickets", ["ticket_id", "order_id", "created_ts", "category"])
    datetime_column(t, "tickets", "created_ts")
    if order_items is None:
        raise ValueError("defect_events: tickets need order_items to find the products of each "
                         "ticket's order; pass order_items=shop.order_items.")
    oi = as_frame(order_items, "order_items")
    require_columns(oi, "order_items", ["order_id", "product_id"])
    t = t.loc[t["category"].astype(str) == category]
    no_order = t["order_id"].isna()
    t = t.loc[~no_order, ["ticket_id", "order_id", "created_ts"]]
    t = t.assign(order_id=t["order_id"].astype("int64"))
    prods = oi[["order_id", "product_id"]].drop_duplicates()
    tt = t.merge(prods, on="order_id", how="left")
    lost = int(tt.loc[tt["product_id"].isna(), "ticket_id"].nunique())
    tt = tt.dropna(subset=["product_id"])
    weight = 1.0 / tt.groupby("ticket_id")["product_id"].transform("size").to_numpy()
    unattributed["ticket"] = int(no_order.sum()) + lost
    return _signals("ticket", tt["product_id"], tt["created_ts"], weight)


def _return_signals(returns: pd.DataFrame, reasons: Sequence[str]) -> pd.DataFrame:
    """Returns whose reason is one of ``reasons``, weight 1 each."""
    rt = as_frame(returns, "returns")
    require_columns(rt, "returns", ["product_id", "requested_ts", "reason"])
    datetime_column(rt, "returns", "requested_ts")
    x = rt.loc[rt["reason"].astype(str).isin(list(reasons))]
    return _signals("return", x["product_id"], x["requested_ts"], np.ones(len(x)))


def _mention_signals(mentions: pd.DataFrame, mention_mask: object | None,
                     unattributed: dict[str, float]) -> pd.DataFrame:
    """Mentions (in ``mention_mask``) that name a product; those in the mask that name none
    are counted in ``unattributed``."""
    m = as_frame(mentions, "mentions")
    require_columns(m, "mentions", ["product_id", "ts"])
    datetime_column(m, "mentions", "ts")
    keep = np.ones(len(m), bool) if mention_mask is None else _mask(mention_mask, len(m), "mention_mask")
    named = m["product_id"].notna().to_numpy()
    x = m.loc[keep & named]
    unattributed["mention"] = int((keep & ~named).sum())
    return _signals("mention", x["product_id"].astype("int64"), x["ts"], np.ones(len(x)))


def _week_start(ts: pd.Series) -> pd.Series:
    """The Monday of each time stamp's week."""
    d = ts.dt.normalize()
    return d - pd.to_timedelta(d.dt.day_of_week, unit="D")


# Long function: the body is a dozen lines; the docstring states the five steps of the score
# next to the parameters they use, which a reader needs in one place.
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

    Parameters
    ----------
    events : pd.DataFrame
        Output of :func:`defect_events`.
    orders, order_items : pd.DataFrame
        The shop's tables (for the units sold per week).
    products : sequence of int, optional
        Products to score even without sales or signals.
    window_weeks, baseline_weeks : int, default 4, 13
        Weeks in the window and in the baseline before it.
    prior_units : float, default 200.0
        Weight, in units, of the shop-wide rate in each product's baseline.
    min_count : float, default 2
        Fewest signals of a source for a positive z.
    cap : float, default 5.0
        Largest |z| of one source.
    threshold : float, default 3.5
        Score at which a product-week is flagged.

    Returns
    -------
    pd.DataFrame
        One row per product and week; ``attrs`` holds the settings and sources.
    """
    ev = as_frame(events, "events")
    require_columns(ev, "events", ["source", "product_id", "ts", "weight"],
             fix="Pass the output of defect_events().")
    lines = _weekly_lines(orders, order_items)
    cfg = _SignalSettings(window_weeks, baseline_weeks, prior_units, min_count, cap, threshold)
    ev = ev.assign(week=_week_start(datetime_column(ev, "events", "ts")))
    first = min(lines["week"].min(), ev["week"].min()) if len(ev) else lines["week"].min()
    last = max(lines["week"].max(), ev["week"].max()) if len(ev) else lines["week"].max()
    weeks = pd.date_range(first, last, freq="7D")
    pids = np.sort(pd.unique(np.r_[lines["product_id"].to_numpy(), ev["product_id"].to_numpy()]))
    if products is not None:
        pids = np.asarray(sorted(set(int(p) for p in products) | set(int(p) for p in pids)))
    return _score_weeks(ev, lines, pids, weeks, cfg)


@dataclass(frozen=True)
class _SignalSettings:
    """The knobs of :func:`product_signals`, checked once and passed together."""

    window_weeks: int
    baseline_weeks: int
    prior_units: float
    min_count: float
    cap: float
    threshold: float

    def __post_init__(self) -> None:
        if self.window_weeks < 1 or self.baseline_weeks < 1 or self.prior_units < 0 or self.cap <= 0:
            raise ValueError("product_signals: window_weeks and baseline_weeks must be >= 1, "
                             "prior_units >= 0 and cap > 0.")


def _weekly_lines(orders: pd.DataFrame, order_items: pd.DataFrame) -> pd.DataFrame:
    """Order lines (product, quantity) with the Monday of their order's week."""
    o = as_frame(orders, "orders")
    oi = as_frame(order_items, "order_items")
    require_columns(o, "orders", ["order_id", "order_ts"])
    require_columns(oi, "order_items", ["order_id", "product_id", "quantity"])
    datetime_column(o, "orders", "order_ts")
    lines = oi[["order_id", "product_id", "quantity"]].merge(o[["order_id", "order_ts"]], on="order_id",
                                                             how="left", validate="many_to_one")
    if lines["order_ts"].isna().any():
        raise ValueError(f"order_items: {int(lines['order_ts'].isna().sum())} line(s) belong to orders "
                         "not in the orders table; load the matching orders.")
    lines["week"] = _week_start(lines["order_ts"])
    return lines


def _grid(df: pd.DataFrame, value: str, pids: np.ndarray, weeks: pd.DatetimeIndex) -> np.ndarray:
    """Sum of ``value`` per product (rows, ``pids``) and week (columns, ``weeks``), 0 if none."""
    tab = df.groupby(["product_id", "week"])[value].sum().unstack(fill_value=0)
    return tab.reindex(index=pids, columns=weeks, fill_value=0).to_numpy(dtype=float)


def _roll(a: np.ndarray, width: int, lag: int = 0) -> np.ndarray:
    """Sum over columns t-lag-width+1 .. t-lag (zeros before the data)."""
    c = np.concatenate([np.zeros((a.shape[0], 1)), np.cumsum(a, axis=1)], axis=1)
    t = np.arange(a.shape[1])
    hi = np.clip(t - lag + 1, 0, a.shape[1])
    lo = np.clip(t - lag - width + 1, 0, a.shape[1])
    return c[:, hi] - c[:, lo]


def _score_weeks(ev: pd.DataFrame, lines: pd.DataFrame, pids: np.ndarray, weeks: pd.DatetimeIndex,
                 cfg: _SignalSettings) -> pd.DataFrame:
    """Steps 2-5 of :func:`product_signals` on the product x week grid."""
    units = _grid(lines, "quantity", pids, weeks)
    exposure = np.maximum(_roll(units, cfg.window_weeks + 1), 1.0)
    base_units = _roll(units, cfg.baseline_weeks, lag=cfg.window_weeks)
    t_idx = np.arange(len(weeks))
    has_base = (t_idx - cfg.window_weeks + 1) >= min(4, cfg.baseline_weeks)  # at least 4 baseline weeks
    out = pd.DataFrame({"product_id": np.repeat(pids, len(weeks)), "week": np.tile(weeks, len(pids)),
                        "units": units.ravel().astype("int64"), "exposure": exposure.ravel()})
    z_sum = np.zeros_like(units)
    present = [s for s in SOURCES if s in set(ev["source"].astype(str))] or list(SOURCES)
    for s in present:
        c1 = _grid(ev.loc[ev["source"].astype(str) == s], "weight", pids, weeks)
        x, e, z = _source_z(c1, exposure, base_units, cfg)
        z = np.where(has_base[None, :], z, np.nan)
        z_sum = z_sum + z
        out[f"n_{s}"] = x.ravel()
        out[f"e_{s}"] = np.where(has_base[None, :], e, np.nan).ravel()
        out[f"z_{s}"] = z.ravel()
    out["score"] = (z_sum / math.sqrt(len(present))).ravel()
    out["flag"] = (out["score"] >= cfg.threshold).fillna(False).astype(bool)
    out.attrs.update({"sources": present, "threshold": cfg.threshold,
                      "window_weeks": cfg.window_weeks, "baseline_weeks": cfg.baseline_weeks})
    return out


def _source_z(c1: np.ndarray, exposure: np.ndarray, base_units: np.ndarray,
              cfg: _SignalSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One source's signals x in the window, expected e (shrunk baseline rate x exposure) and
    the capped Poisson mid-p z (at most 0 below ``min_count``)."""
    x = _roll(c1, cfg.window_weeks)
    cb = _roll(c1, cfg.baseline_weeks, lag=cfg.window_weeks)
    pooled = cb.sum(axis=0) / np.maximum(base_units.sum(axis=0), 1.0)
    rate = (cb + cfg.prior_units * pooled) / np.maximum(base_units + cfg.prior_units, 1e-12)
    e = rate * exposure
    xf = np.floor(x + 1e-9)
    p = stats.poisson.sf(xf, e) + 0.5 * stats.poisson.pmf(xf, e)
    with np.errstate(divide="ignore"):
        z = stats.norm.isf(np.clip(p, 0.0, 1.0))
    z = np.where(x >= cfg.min_count, z, np.minimum(z, 0.0))
    return x, e, np.clip(z, -cfg.cap, cfg.cap)
