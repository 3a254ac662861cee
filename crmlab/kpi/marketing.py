"""Marketing effect (行銷成效): participation, the effect against the holdout, and the money.

Campaigns belong to the period they were sent in. Reads against the randomized holdout come
from :func:`crmlab.offers.ab_test` per campaign, money from
:func:`crmlab.offers.campaign_economics`. The functions that need the money take the five
tables the shop holds them in (contacts, campaigns, orders, order_items, products) one by one,
as every indicator takes its tables, so that the scorecard's registry can call them alike.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab import offers
from crmlab._checks import as_frame, datetime_column, reads, require_columns
from crmlab.kpi import _sharing
from crmlab.kpi._common import _between, _period

__all__ = ["campaign_money", "campaign_reads", "campaign_roi", "channel_effect", "click_rate",
           "conversion_uplift", "cost_benefit_ratio", "incremental_revenue_per_contact", "open_rate"]


def _period_campaigns(contacts: pd.DataFrame, campaigns: pd.DataFrame, start: object, end: object,
                      channel: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    cc = as_frame(contacts, "campaign_contacts")
    require_columns(cc, "campaign_contacts", ["campaign_id", "customer_id", "group"])
    cp = as_frame(campaigns, "campaigns")
    require_columns(cp, "campaigns", ["campaign_id", "send_ts"] + (["channel"] if channel is not None else []))
    s, e = _period(start, end)
    keep = _between(datetime_column(cp, "campaigns", "send_ts"), s, e)
    if channel is not None:
        known = set(cp["channel"].astype("str"))
        if channel not in known:
            raise ValueError(f"campaigns: channel={channel!r} is not in column 'channel' "
                             f"(channels: {sorted(known)}).")
        keep &= (cp["channel"].astype("str") == channel).to_numpy()
    cp = cp.loc[keep]
    return cc.loc[cc["campaign_id"].isin(cp["campaign_id"]).to_numpy()], cp


@reads(contacts="campaign_id group sent opened", campaigns="campaign_id send_ts")
def open_rate(contacts: pd.DataFrame, campaigns: pd.DataFrame, start: object, end: object) -> float:
    """Open rate (開信率): opened / sent messages of the campaigns sent in the period (treated
    contacts; the holdout gets nothing). NaN when nothing was sent.

    Parameters
    ----------
    contacts : pd.DataFrame
        The shop's ``campaign_contacts`` (campaign_id, customer_id, group, ...).
    campaigns : pd.DataFrame
        The shop's ``campaigns`` (campaign_id, send_ts, ...).
    start, end : date-like
        The period ``[start, end)`` (end exclusive).

    Returns
    -------
    float
        Opened / sent.
    """
    cc, _ = _period_campaigns(contacts, campaigns, start, end)
    require_columns(cc, "campaign_contacts", ["sent", "opened"])
    sent = cc["sent"].to_numpy(dtype=bool)
    return float(cc["opened"].to_numpy(dtype=bool)[sent].mean()) if sent.any() else float("nan")


@reads(contacts="campaign_id group sent clicked", campaigns="campaign_id send_ts")
def click_rate(contacts: pd.DataFrame, campaigns: pd.DataFrame, start: object, end: object) -> float:
    """Click rate (點擊率): clicked / sent messages of the campaigns sent in the period. NaN
    when nothing was sent.

    Parameters
    ----------
    contacts : pd.DataFrame
        The shop's ``campaign_contacts`` (campaign_id, customer_id, group, ...).
    campaigns : pd.DataFrame
        The shop's ``campaigns`` (campaign_id, send_ts, ...).
    start, end : date-like
        The period ``[start, end)`` (end exclusive).

    Returns
    -------
    float
        Clicked / sent.
    """
    cc, _ = _period_campaigns(contacts, campaigns, start, end)
    require_columns(cc, "campaign_contacts", ["sent", "clicked"])
    sent = cc["sent"].to_numpy(dtype=bool)
    return float(cc["clicked"].to_numpy(dtype=bool)[sent].mean()) if sent.any() else float("nan")


_READ_COLUMNS = ["campaign_id", "n_treatment", "n_control", "conv_treatment", "conv_control",
                 "uplift", "value_diff", "incremental_value"]


@reads(contacts="campaign_id group converted revenue", campaigns="campaign_id send_ts")
def campaign_reads(contacts: pd.DataFrame, campaigns: pd.DataFrame, start: object, end: object,
                   channel: str | None = None) -> pd.DataFrame:
    """Each campaign sent in the period (optionally on one ``channel``) read against its
    holdout: :func:`crmlab.offers.ab_test` by ``campaign_id`` on conversion and revenue.

    Campaigns without treated or without holdout contacts are skipped and listed in
    ``attrs["skipped"]`` (their effect cannot be estimated). An empty frame when no campaign
    can be read.

    Parameters
    ----------
    contacts : pd.DataFrame
        The shop's ``campaign_contacts`` (campaign_id, customer_id, group, ...).
    campaigns : pd.DataFrame
        The shop's ``campaigns`` (campaign_id, send_ts, ...).
    start, end : date-like
        The period ``[start, end)`` (end exclusive).
    channel : str, optional
        Only the campaigns sent on this channel.

    Returns
    -------
    pd.DataFrame
        One row per readable campaign: campaign_id, n_treatment, n_control, conv_treatment,
        conv_control, uplift, value_diff, incremental_value, ...
    """
    key = ("reads", id(contacts), id(campaigns), start, end, channel)
    return _sharing.shared(key, lambda: _campaign_reads_now(contacts, campaigns, start, end, channel))


def _campaign_reads_now(contacts: pd.DataFrame, campaigns: pd.DataFrame, start: object, end: object,
                        channel: str | None) -> pd.DataFrame:
    cc, _ = _period_campaigns(contacts, campaigns, start, end, channel)
    require_columns(cc, "campaign_contacts", ["converted", "revenue"])
    if len(cc) == 0:
        out = pd.DataFrame(columns=_READ_COLUMNS)
        out.attrs["skipped"] = []
        return out
    every, unreadable = _shop_reads(contacts) if _sharing.shop_wide() else _reads_of(cc)
    sent = np.unique(cc["campaign_id"].to_numpy())
    keep = every["campaign_id"].isin(sent).to_numpy() if len(every) else np.zeros(0, dtype=bool)
    out = every.loc[keep].reset_index(drop=True) if keep.any() else pd.DataFrame(columns=_READ_COLUMNS)
    out.attrs["skipped"] = [{"campaign_id": int(k)} for k in sent if k in unreadable]
    return out


def _shop_reads(contacts: pd.DataFrame) -> tuple[pd.DataFrame, set]:
    """:func:`_reads_of` every campaign, once per report (the reads and the money share it)."""
    return _sharing.shared(("reads", id(contacts)), lambda: _reads_of(contacts))


def _reads_of(contacts: pd.DataFrame) -> tuple[pd.DataFrame, set]:
    """:func:`crmlab.offers.ab_test` of each campaign in ``contacts`` with both arms, and the
    ids of those without. A campaign's read depends on its own contacts only, so a report
    reads every campaign once and each period takes its campaigns' rows."""
    cc = as_frame(contacts, "campaign_contacts")
    require_columns(cc, "campaign_contacts", ["campaign_id", "group", "converted", "revenue"])
    w = offers.treatment_flags(cc["group"], "campaign_contacts", "group", "campaign_reads")
    arms = pd.DataFrame({"campaign_id": cc["campaign_id"].to_numpy(), "w": w}).groupby("campaign_id")["w"]
    both = (arms.max() & ~arms.min()).astype(bool)
    readable = both.index[both.to_numpy()]
    unreadable = set(both.index[~both.to_numpy()].tolist())
    sub = cc.loc[cc["campaign_id"].isin(readable).to_numpy()]
    if len(sub) == 0:
        return pd.DataFrame(columns=_READ_COLUMNS), unreadable
    return offers.ab_test(sub, by="campaign_id", value="revenue"), unreadable


@reads(contacts="campaign_id group converted revenue", campaigns="campaign_id send_ts")
def conversion_uplift(contacts: pd.DataFrame, campaigns: pd.DataFrame, start: object, end: object,
                      channel: str | None = None) -> float:
    """Conversion uplift (轉換提升), as a share: the Mantel--Haenszel pooled difference between
    treated and holdout conversion over the campaigns sent in the period
    (:func:`crmlab.offers.pooled_uplift`; each campaign is its own stratum). NaN when no
    campaign has both arms.

    Parameters
    ----------
    contacts : pd.DataFrame
        The shop's ``campaign_contacts`` (campaign_id, customer_id, group, ...).
    campaigns : pd.DataFrame
        The shop's ``campaigns`` (campaign_id, send_ts, ...).
    start, end : date-like
        The period ``[start, end)`` (end exclusive).
    channel : str, optional
        Only the campaigns sent on this channel.

    Returns
    -------
    float
        Pooled difference in conversion, treated minus holdout.
    """
    reads = campaign_reads(contacts, campaigns, start, end, channel)
    return float(offers.pooled_uplift(reads)["uplift"]) if len(reads) else float("nan")


@reads(contacts="campaign_id group converted revenue", campaigns="campaign_id send_ts")
def incremental_revenue_per_contact(contacts: pd.DataFrame, campaigns: pd.DataFrame, start: object,
                                    end: object, channel: str | None = None) -> float:
    """Channel effect (渠道效果): incremental revenue per treated contact, NT$ -- each campaign's
    treated-minus-holdout revenue per contact, weighted by its treated contacts (the total
    incremental revenue / treated contacts). NaN when no campaign has both arms.

    Parameters
    ----------
    contacts : pd.DataFrame
        The shop's ``campaign_contacts`` (campaign_id, customer_id, group, ...).
    campaigns : pd.DataFrame
        The shop's ``campaigns`` (campaign_id, send_ts, ...).
    start, end : date-like
        The period ``[start, end)`` (end exclusive).
    channel : str, optional
        Only the campaigns sent on this channel.

    Returns
    -------
    float
        NT$ of incremental revenue per treated contact.
    """
    reads = campaign_reads(contacts, campaigns, start, end, channel)
    if len(reads) == 0:
        return float("nan")
    return float(reads["incremental_value"].sum() / reads["n_treatment"].sum())


@reads(contacts="campaign_id group", campaigns="campaign_id send_ts channel")
def channel_effect(contacts: pd.DataFrame, campaigns: pd.DataFrame, start: object,
                   end: object) -> pd.DataFrame:
    """Per send channel: campaigns read, treated and holdout contacts, ``conversion_uplift``
    and ``incremental_revenue_per_contact`` -- the same functions, one channel at a time.

    Parameters
    ----------
    contacts : pd.DataFrame
        The shop's ``campaign_contacts`` (campaign_id, customer_id, group, ...).
    campaigns : pd.DataFrame
        The shop's ``campaigns`` (campaign_id, send_ts, ...).
    start, end : date-like
        The period ``[start, end)`` (end exclusive).

    Returns
    -------
    pd.DataFrame
        One row per channel: channel, campaigns, n_treatment, n_control, conversion_uplift,
        incremental_revenue_per_contact.
    """
    _, cp = _period_campaigns(contacts, campaigns, start, end)
    require_columns(cp, "campaigns", ["channel"])
    rows = []
    with _sharing.sharing():  # each channel's reads once for the three columns that use them
        for ch in sorted(cp["channel"].astype("str").unique()):
            reads = campaign_reads(contacts, campaigns, start, end, ch)
            rows.append({"channel": ch, "campaigns": len(reads),
                         "n_treatment": int(reads["n_treatment"].sum()) if len(reads) else 0,
                         "n_control": int(reads["n_control"].sum()) if len(reads) else 0,
                         "conversion_uplift": conversion_uplift(contacts, campaigns, start, end, ch),
                         "incremental_revenue_per_contact":
                             incremental_revenue_per_contact(contacts, campaigns, start, end, ch)})
    return pd.DataFrame(rows, columns=["channel", "campaigns", "n_treatment", "n_control",
                                       "conversion_uplift", "incremental_revenue_per_contact"])


@reads(contacts="campaign_id group converted revenue", campaigns="campaign_id send_ts window_days cost_per_contact", orders="order_id customer_id order_ts", order_items="order_id product_id", products="product_id")
def campaign_money(contacts: pd.DataFrame, campaigns: pd.DataFrame, orders: pd.DataFrame,
                   order_items: pd.DataFrame, products: pd.DataFrame, start: object,
                   end: object) -> pd.DataFrame:
    """Per campaign sent in the period: :func:`crmlab.offers.campaign_economics` (spend, the
    incremental margin, net profit, ROI) plus ``incremental_revenue`` (treated minus holdout
    revenue per contact x treated contacts). Campaigns without both arms are left out (see
    :func:`campaign_reads`, which lists them).

    Parameters
    ----------
    contacts : pd.DataFrame
        The shop's ``campaign_contacts`` (campaign_id, customer_id, group, ...).
    campaigns : pd.DataFrame
        The shop's ``campaigns`` (campaign_id, send_ts, ...).
    orders : pd.DataFrame
        The shop's ``orders``.
    order_items : pd.DataFrame
        The shop's ``order_items``.
    products : pd.DataFrame
        The shop's ``products`` (its cost of goods gives the margin).
    start, end : date-like
        The period ``[start, end)`` (end exclusive).

    Returns
    -------
    pd.DataFrame
        One row per readable campaign: campaign_id, spend, incremental_margin, net_profit, roi,
        incremental_revenue.
    """
    key = ("money", id(contacts), id(campaigns), id(orders), id(order_items), id(products), start, end)
    return _sharing.shared(key, lambda: _campaign_money_now(contacts, campaigns, orders, order_items, products,
                                                    start, end))


_MONEY_COLUMNS = ["campaign_id", "spend", "incremental_margin", "net_profit", "roi",
                  "incremental_revenue"]


def _campaign_money_now(contacts: pd.DataFrame, campaigns: pd.DataFrame, orders: pd.DataFrame,
                        order_items: pd.DataFrame, products: pd.DataFrame, start: object,
                        end: object) -> pd.DataFrame:
    reads = campaign_reads(contacts, campaigns, start, end)
    if len(reads) == 0:
        return pd.DataFrame(columns=_MONEY_COLUMNS)
    if _sharing.shop_wide():
        key = ("money", id(contacts), id(campaigns), id(orders), id(order_items), id(products))
        every = _sharing.shared(key, lambda: _money_of(contacts, campaigns, _shop_reads(contacts)[0], orders,
                                               order_items, products))
    else:
        every = _money_of(contacts, campaigns, reads, orders, order_items, products)
    return every.loc[every["campaign_id"].isin(reads["campaign_id"]).to_numpy()].reset_index(drop=True)


def _money_of(contacts: pd.DataFrame, campaigns: pd.DataFrame, reads: pd.DataFrame,
              orders: pd.DataFrame, order_items: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """:func:`crmlab.offers.campaign_economics` of the campaigns in ``reads`` (each campaign's
    money depends on its own contacts and window only)."""
    cc = as_frame(contacts, "campaign_contacts")
    cc = cc.loc[cc["campaign_id"].isin(reads["campaign_id"]).to_numpy()]
    cp = as_frame(campaigns, "campaigns")
    require_columns(cp, "campaigns", ["window_days", "cost_per_contact"])
    cp = cp.loc[cp["campaign_id"].isin(reads["campaign_id"]).to_numpy()]
    outcomes = offers.contact_outcomes(cc, cp, orders, order_items, products)
    econ = offers.campaign_economics(outcomes, cp)
    inc = reads.set_index("campaign_id")["incremental_value"]
    econ["incremental_revenue"] = inc.reindex(econ["campaign_id"].to_numpy()).to_numpy()
    return econ


@reads(contacts="campaign_id group converted revenue", campaigns="campaign_id send_ts window_days cost_per_contact", orders="order_id customer_id order_ts", order_items="order_id product_id", products="product_id")
def campaign_roi(contacts: pd.DataFrame, campaigns: pd.DataFrame, orders: pd.DataFrame,
                 order_items: pd.DataFrame, products: pd.DataFrame, start: object, end: object) -> float:
    """Campaign ROI (行銷投資報酬率): (incremental margin - spend) / spend summed over the
    campaigns sent in the period (a ratio of sums, as :func:`crmlab.offers.roi_by`). NaN
    without a readable campaign or without spend.

    Parameters
    ----------
    contacts : pd.DataFrame
        The shop's ``campaign_contacts`` (campaign_id, customer_id, group, ...).
    campaigns : pd.DataFrame
        The shop's ``campaigns`` (campaign_id, send_ts, ...).
    orders : pd.DataFrame
        The shop's ``orders``.
    order_items : pd.DataFrame
        The shop's ``order_items``.
    products : pd.DataFrame
        The shop's ``products`` (its cost of goods gives the margin).
    start, end : date-like
        The period ``[start, end)`` (end exclusive).

    Returns
    -------
    float
        (incremental margin - spend) / spend.
    """
    econ = campaign_money(contacts, campaigns, orders, order_items, products, start, end)
    spend = float(econ["spend"].sum())
    return float(econ["net_profit"].sum()) / spend if spend > 0 else float("nan")


@reads(contacts="campaign_id group converted revenue", campaigns="campaign_id send_ts window_days cost_per_contact", orders="order_id customer_id order_ts", order_items="order_id product_id", products="product_id")
def cost_benefit_ratio(contacts: pd.DataFrame, campaigns: pd.DataFrame, orders: pd.DataFrame,
                       order_items: pd.DataFrame, products: pd.DataFrame, start: object,
                       end: object) -> float:
    """Cost-benefit ratio (成本效益比): incremental revenue / spend (sends + coupons) over the
    campaigns sent in the period -- NT$ of sales the campaigns caused per NT$ they cost.
    NaN without a readable campaign or without spend.

    Parameters
    ----------
    contacts : pd.DataFrame
        The shop's ``campaign_contacts`` (campaign_id, customer_id, group, ...).
    campaigns : pd.DataFrame
        The shop's ``campaigns`` (campaign_id, send_ts, ...).
    orders : pd.DataFrame
        The shop's ``orders``.
    order_items : pd.DataFrame
        The shop's ``order_items``.
    products : pd.DataFrame
        The shop's ``products`` (its cost of goods gives the margin).
    start, end : date-like
        The period ``[start, end)`` (end exclusive).

    Returns
    -------
    float
        Incremental revenue / spend.
    """
    econ = campaign_money(contacts, campaigns, orders, order_items, products, start, end)
    spend = float(econ["spend"].sum())
    return float(econ["incremental_revenue"].sum()) / spend if spend > 0 else float("nan")
