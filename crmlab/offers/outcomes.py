"""What happened to each contact in the campaign window (活動成效).

:func:`contact_outcomes` adds orders, revenue, gross profit and coupon value in each
campaign's window to the ``campaign_contacts`` rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab._checks import Reads, reads
from crmlab.offers._common import _columns, _frame


def _campaign_frame(campaigns: pd.DataFrame, func: str) -> pd.DataFrame:
    campaigns = _frame(campaigns, "campaigns", func)
    _columns(campaigns, "campaigns", func, ["campaign_id", "send_ts"])
    if not pd.api.types.is_datetime64_any_dtype(campaigns["send_ts"]):
        raise ValueError(f"{func}: campaigns.send_ts must be a datetime column; convert it with "
                         "pd.to_datetime(campaigns['send_ts']).")
    if campaigns["campaign_id"].duplicated().any():
        raise ValueError(f"{func}: campaigns.campaign_id has duplicates; one row per campaign.")
    return campaigns


def _check_known_campaigns(rows: pd.DataFrame, campaigns: pd.DataFrame, func: str, what: str) -> None:
    """Every ``campaign_id`` of ``rows`` is in the campaigns table (else a ValueError counting them)."""
    unknown = ~rows["campaign_id"].isin(campaigns["campaign_id"])
    if unknown.any():
        raise ValueError(f"{func}: {int(unknown.sum())} {what} refer to campaign ids missing from "
                         "campaigns.campaign_id; pass the campaigns table of the same shop.")


def _order_costs(order_items: pd.DataFrame, products: pd.DataFrame, func: str) -> pd.Series:
    """Cost of goods per order (units x unit cost, NT$), indexed by order_id."""
    order_items = _frame(order_items, "order_items", func)
    products = _frame(products, "products", func)
    _columns(order_items, "order_items", func, ["order_id", "product_id", "quantity"])
    _columns(products, "products", func, ["product_id", "unit_cost"])
    unit_cost = products.set_index("product_id")["unit_cost"]
    missing = ~order_items["product_id"].isin(unit_cost.index)
    if missing.any():
        raise ValueError(f"{func}: {int(missing.sum())} order_items rows have product ids missing "
                         "from products.product_id; pass the products table of the same shop.")
    line_cost = order_items["quantity"].to_numpy() * unit_cost.loc[order_items["product_id"]].to_numpy()
    cogs = pd.Series(line_cost).groupby(order_items["order_id"].to_numpy()).sum()
    return cogs


def _contact_windows(contacts: pd.DataFrame, campaigns: pd.DataFrame, func: str) -> pd.DataFrame:
    """One row per contact: its customer, campaign window ``[_start, _end)`` and coupon share."""
    _check_known_campaigns(contacts, campaigns, func, "contacts")
    camp = campaigns.set_index("campaign_id")
    cid = contacts["campaign_id"].to_numpy()
    start = camp.loc[cid, "send_ts"].to_numpy()
    end = start + pd.to_timedelta(camp.loc[cid, "window_days"].to_numpy(), unit="D").to_numpy()
    disc = (camp.loc[cid, "discount_pct"].to_numpy(dtype="float64") if "discount_pct" in camp
            else np.zeros(len(contacts)))
    left = pd.DataFrame({"_row": np.arange(len(contacts)), "customer_id": contacts["customer_id"].to_numpy(),
                         "_start": start, "_end": end, "_camp": cid, "_disc": disc})
    return left


def _window_sums(left: pd.DataFrame, o: pd.DataFrame, n_contacts: int) -> pd.DataFrame:
    """Per contact row: orders, revenue, coupon value (and cost of goods) inside its window."""
    m = left.merge(o, on="customer_id", how="inner")
    m = m.loc[(m["order_ts"] >= m["_start"]) & (m["order_ts"] < m["_end"])]
    redeemed = m["_coupon_camp"].to_numpy() == m["_camp"].to_numpy()
    amount = m["amount"].to_numpy(dtype="float64")
    d = m["_disc"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        coupon = np.where(redeemed & (d < 1), amount * d / (1 - d), 0.0)
    agg = pd.DataFrame({"_row": m["_row"].to_numpy(), "n_orders": 1, "window_revenue": amount,
                        "coupon_value": coupon})
    if "_cogs" in m:
        agg["cost_of_goods"] = m["_cogs"].to_numpy()
    sums = agg.groupby("_row").sum().reindex(np.arange(n_contacts), fill_value=0)
    return sums


@reads(contacts="campaign_id customer_id", campaigns="campaign_id send_ts window_days",
       orders="order_id customer_id order_ts amount",
       order_items=Reads("order_items", ("order_id", "product_id", "quantity"), optional=True),
       products=Reads("products", ("product_id", "unit_cost"), optional=True))
def contact_outcomes(contacts: pd.DataFrame, campaigns: pd.DataFrame, orders: pd.DataFrame,
                     order_items: pd.DataFrame | None = None,
                     products: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each contact's orders in its campaign window ``[send_ts, send_ts + window_days)``.

    Returns the contacts with added columns ``n_orders``, ``window_revenue`` (paid amount,
    NT$ -- equals ``campaign_contacts.revenue`` on the shop), ``coupon_value`` (value of this
    campaign's coupons redeemed on those orders: ``amount * d / (1 - d)`` for a coupon of share
    ``d``, NT$; 0 for the holdout) and, when ``order_items`` and ``products`` are given,
    ``cost_of_goods`` (units x unit_cost) and ``gross_profit = window_revenue - cost_of_goods``.
    Holdout contacts count their orders too: that is the baseline the treated are compared with.

    Parameters
    ----------
    contacts : pd.DataFrame
        The shop's ``campaign_contacts`` table (campaign_id, customer_id, ...).
    campaigns : pd.DataFrame
        The shop's ``campaigns`` table (campaign_id, send_ts, window_days, discount, ...).
    orders : pd.DataFrame
        The shop's ``orders`` table (order_id, customer_id, order_ts, amount).
    order_items, products : pd.DataFrame, optional
        Order lines and products, to add the cost of goods and gross profit.

    Returns
    -------
    pd.DataFrame
        The contacts with the columns above added.
    """
    func = "contact_outcomes"
    contacts = _frame(contacts, "campaign_contacts", func)
    _columns(contacts, "campaign_contacts", func, ["campaign_id", "customer_id"])
    campaigns = _campaign_frame(campaigns, func)
    _columns(campaigns, "campaigns", func, ["window_days"])
    orders = _frame(orders, "orders", func)
    _columns(orders, "orders", func, ["order_id", "customer_id", "order_ts", "amount"])
    left = _contact_windows(contacts, campaigns, func)
    ocols = ["order_id", "customer_id", "order_ts", "amount"]
    o = orders[ocols].copy()
    o["_coupon_camp"] = (orders["campaign_id"].astype("Float64").fillna(-1).to_numpy(dtype="float64")
                         if "campaign_id" in orders else -1.0)
    if order_items is not None and products is not None:
        cogs = _order_costs(order_items, products, func)
        o["_cogs"] = cogs.reindex(o["order_id"].to_numpy()).fillna(0.0).to_numpy()
    sums = _window_sums(left, o, len(contacts))
    out = contacts.copy()
    out["n_orders"] = sums["n_orders"].to_numpy().astype("int64")
    out["window_revenue"] = np.round(sums["window_revenue"].to_numpy(dtype="float64"), 2)
    out["coupon_value"] = sums["coupon_value"].to_numpy(dtype="float64")
    if "cost_of_goods" in sums:
        out["cost_of_goods"] = sums["cost_of_goods"].to_numpy(dtype="float64")
        out["gross_profit"] = out["window_revenue"] - out["cost_of_goods"]
    return out
