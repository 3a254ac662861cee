"""What we knew about a customer before the send (發送前的特徵).

:func:`customer_features` and :func:`contact_features` build RFM, channel habits, loyalty
use, demographics and past campaign response from rows strictly before the send time, so a
model never sees the future.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmlab._checks import Reads, as_timestamp, datetime_column, reads
from crmlab.offers._common import _columns, _frame
from crmlab.offers.groups import treatment_flags
from crmlab.offers.outcomes import _campaign_frame, _check_known_campaigns
from crmlab.stats import numeric_values as _outcome

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

    Parameters
    ----------
    as_of : timestamp-like
        The moment the features describe (exclusive).
    customers : pd.DataFrame
        The shop's ``customers`` table.
    orders : pd.DataFrame
        The shop's ``orders`` table.
    sessions : pd.DataFrame, optional
        The shop's ``sessions`` table, for visit features.
    loyalty_ledger : pd.DataFrame, optional
        The shop's ``loyalty_ledger`` table, for loyalty features.
    customer_ids : sequence of int, optional
        The customers wanted, in this order (default all).

    Returns
    -------
    pd.DataFrame
        One row per customer, indexed by ``customer_id``.
    """
    func = "customer_features"
    t = _as_of(as_of, func)
    hist = _History(customers, orders, sessions, loyalty_ledger, func)
    return hist.features(t, hist.positions(customer_ids, func))


def _past_response(past: pd.DataFrame, closes: pd.Series,
                   func: str) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Per history row: the response counts it adds to later campaigns, and when its window closed."""
    n = len(past)
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
    return past_cols, c_close


def _campaign_times(campaigns: pd.DataFrame, func: str) -> tuple[pd.Series, dict[Any, np.datetime64]]:
    """When each campaign's window closes (by campaign_id), and each campaign's send time."""
    send = _ts(campaigns, "campaigns", "send_ts", func)
    window = (campaigns["window_days"].to_numpy(dtype="float64") if "window_days" in campaigns
              else np.zeros(len(campaigns)))
    closes = pd.Series(send + (window * 86400e9).astype("timedelta64[ns]"),
                       index=campaigns["campaign_id"].to_numpy())
    send_of = dict(zip(campaigns["campaign_id"].tolist(), send, strict=True))
    return closes, send_of


def _campaign_block(hist: _History, k: Any, rows: np.ndarray, t: np.datetime64, pos: np.ndarray,
                    h_pos: np.ndarray, past_cols: dict[str, np.ndarray],
                    c_close: np.ndarray) -> pd.DataFrame:
    """The features of one campaign's contacts (``rows``) at its send time ``t``."""
    f = hist.features(t, pos[rows])
    done = c_close <= t
    for name, vals in past_cols.items():
        f[name] = np.bincount(h_pos[done], weights=vals[done], minlength=len(hist.index))[pos[rows]]
    f["past_open_rate"] = np.divide(f["past_opens"].to_numpy(), f["past_treated"].to_numpy(),
                                    out=np.zeros(len(rows)), where=f["past_treated"].to_numpy() > 0)
    f = f.reset_index()
    f.insert(0, "campaign_id", k)
    f.index = rows
    return f


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

    Parameters
    ----------
    contacts : pd.DataFrame
        The contacts to describe (campaign_id, customer_id).
    campaigns : pd.DataFrame
        The shop's ``campaigns`` table (campaign_id, send_ts, window_days).
    customers, orders : pd.DataFrame
        The shop's ``customers`` and ``orders`` tables.
    sessions, loyalty_ledger : pd.DataFrame, optional
        The shop's ``sessions`` and ``loyalty_ledger`` tables.
    history : pd.DataFrame, optional
        Contacts the past response is counted from (default ``contacts``).

    Returns
    -------
    pd.DataFrame
        One row per contact, in the order of ``contacts``.
    """
    func = "contact_features"
    contacts = _frame(contacts, "campaign_contacts", func)
    _columns(contacts, "campaign_contacts", func, ["campaign_id", "customer_id"])
    campaigns = _campaign_frame(campaigns, func)
    _check_known_campaigns(contacts, campaigns, func, "contacts")
    hist = _History(customers, orders, sessions, loyalty_ledger, func)
    closes, send_of = _campaign_times(campaigns, func)
    cid = contacts["campaign_id"].to_numpy()
    pos = hist.positions(contacts["customer_id"].to_numpy(), func)
    past = contacts if history is None else _frame(history, "history", func)
    _columns(past, "history", func, ["campaign_id", "customer_id"])
    _check_known_campaigns(past, campaigns, func, "history rows")
    h_pos = hist.positions(past["customer_id"].to_numpy(), func)
    past_cols, c_close = _past_response(past, closes, func)
    blocks = [_campaign_block(hist, k, np.flatnonzero(cid == k), send_of[k], pos, h_pos,
                              past_cols, c_close) for k in pd.unique(cid)]
    out = pd.concat(blocks).sort_index().reset_index(drop=True)
    out["campaign_id"] = out["campaign_id"].astype("int64")
    out["customer_id"] = out["customer_id"].astype("int64")
    return out
