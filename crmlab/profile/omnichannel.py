"""Online and offline membership (線上線下會員互通): one profile across store and web.

:func:`channel_profile` says where each member buys, :func:`expected_omnichannel_share` is
the share of members who would use both channels by chance, and :func:`omnichannel_value`
compares the kinds of members like with like (same number of orders).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from crmlab._checks import frame_with, reads

__all__ = ["CHANNEL_KINDS", "STORE_CHANNELS", "channel_profile", "expected_omnichannel_share",
           "omnichannel_value"]


STORE_CHANNELS: tuple[str, ...] = ("store",)

#: The kinds of members by where they buy.
CHANNEL_KINDS: tuple[str, ...] = ("online only", "store only", "omnichannel")


@reads(orders="customer_id order_ts amount channel")
def channel_profile(orders: pd.DataFrame, store_channels: Sequence[str] = STORE_CHANNELS) -> pd.DataFrame:
    """Where each member buys, from one order log holding store and online orders.

    One row per customer with an order: ``orders``, ``store_orders``, ``online_orders``,
    ``amount``, ``store_amount``, ``online_amount``, ``kind`` (online only / store only /
    omnichannel, :data:`CHANNEL_KINDS`), ``first_channel``, ``last_channel`` and ``switches``
    (how often consecutive orders change between store and online). Only a unified member id
    across channels (one profile) makes this table possible at all.

    Parameters
    ----------
    orders : pd.DataFrame
        The shop's ``orders`` (customer_id, order_ts, amount, channel), store and online.
    store_channels : sequence of str, default STORE_CHANNELS
        The order channels that are stores.

    Returns
    -------
    pd.DataFrame
        One row per buying member with the columns above.
    """
    frame_with(orders, "orders", ["customer_id", "order_ts", "channel", "amount"])
    if not store_channels or any(not isinstance(c, str) for c in store_channels):
        raise ValueError("channel_profile: store_channels must name the store channel(s), e.g. ('store',).")
    o = orders.sort_values(["customer_id", "order_ts"], kind="stable")
    in_store = o["channel"].astype("str").isin(store_channels)
    o = o.assign(_store=in_store, _store_amount=np.where(in_store, o["amount"], 0.0))
    g = o.groupby("customer_id", sort=True)
    out = pd.DataFrame({
        "orders": g.size(),
        "store_orders": g["_store"].sum().astype("int64"),
        "amount": g["amount"].sum(),
        "store_amount": g["_store_amount"].sum(),
        "first_channel": g["channel"].first().astype("str"),
        "last_channel": g["channel"].last().astype("str"),
    })
    out.insert(1, "online_orders", out["orders"] - out["store_orders"])
    out.insert(4, "online_amount", out["amount"] - out["store_amount"])
    changed = o["_store"].ne(o.groupby("customer_id")["_store"].shift()) & o["customer_id"].duplicated()
    out["switches"] = changed.groupby(o["customer_id"]).sum().astype("int64")
    kind = np.select([out["store_orders"] == 0, out["online_orders"] == 0],
                     ["online only", "store only"], "omnichannel")
    out["kind"] = pd.Categorical(kind, categories=list(CHANNEL_KINDS))
    return out.reset_index()


def expected_omnichannel_share(store_share: float | np.ndarray, n_orders: int | np.ndarray) -> np.ndarray:
    """Chance that a member with ``n_orders`` orders, each in a store with probability
    ``store_share`` independently, has bought in both channels: ``1 - p^n - (1 - p)^n``.

    The baseline for "omnichannel customers are worth more": members with more orders are
    more likely to have used both channels even when the channel changes nothing.

    Parameters
    ----------
    store_share : float or array
        Probability that an order is placed in a store, in [0, 1].
    n_orders : int or array
        Number of orders, >= 0.

    Returns
    -------
    np.ndarray
        The chance of having bought in both channels.
    """
    p = np.asarray(store_share, dtype="float64")
    n = np.asarray(n_orders, dtype="float64")
    if np.any((p < 0) | (p > 1)) or np.any(n < 0):
        raise ValueError("expected_omnichannel_share: store_share must be in [0, 1] and n_orders >= 0.")
    return 1.0 - p**n - (1.0 - p) ** n


def omnichannel_value(profile: pd.DataFrame, max_orders: int = 6) -> pd.DataFrame:
    """Are omnichannel members worth more, or do they just buy more often?

    From :func:`channel_profile`: per ``kind``, members, mean orders, mean amount and amount
    per order (the naive comparison); then ``amount_per_order_same_orders``: amount per order
    of each kind re-weighted to the omnichannel members' distribution of order counts
    (1 .. ``max_orders``, the rest pooled), which compares like with like. When the two
    differ, the naive gap was the order count, not the channel.

    Parameters
    ----------
    profile : pd.DataFrame
        The table of :func:`channel_profile` (orders, amount, kind).
    max_orders : int, default 6
        Order counts from this on are pooled into one stratum; >= 2.

    Returns
    -------
    pd.DataFrame
        One row per kind: members, mean_orders, mean_amount, amount_per_order,
        amount_per_order_same_orders.
    """
    frame_with(profile, "profile", ["orders", "amount", "kind"])
    if isinstance(max_orders, bool) or not isinstance(max_orders, int | np.integer) or max_orders < 2:
        raise ValueError(f"omnichannel_value: max_orders={max_orders!r} must be an integer >= 2.")
    p = profile.assign(stratum=np.minimum(profile["orders"], max_orders))
    naive = p.groupby("kind", observed=False).agg(members=("orders", "size"), mean_orders=("orders", "mean"),
                                                  mean_amount=("amount", "mean"),
                                                  amount=("amount", "sum"), n_orders=("orders", "sum"))
    naive["amount_per_order"] = naive["amount"] / naive["n_orders"]
    omni = p.loc[p["kind"] == "omnichannel", "stratum"].value_counts(normalize=True)
    per_stratum = p.groupby(["kind", "stratum"], observed=True)[["amount", "orders"]].sum()
    per_stratum = per_stratum["amount"] / per_stratum["orders"]
    standard = {}
    for kind in CHANNEL_KINDS:
        rates = per_stratum.xs(kind, level="kind") if kind in per_stratum.index.get_level_values(0) else pd.Series()
        common = omni.index.intersection(rates.index)
        standard[kind] = (float((rates[common] * omni[common]).sum() / omni[common].sum())
                          if len(common) else np.nan)
    naive["amount_per_order_same_orders"] = pd.Series(standard)
    return naive.drop(columns=["amount", "n_orders"]).reset_index()
