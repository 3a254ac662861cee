"""The unified customer profile (統一客戶檔案, the 360° view): one member's rows of every table.

:func:`customer_profile` gathers one member's identity, orders, sessions, campaign contacts,
tickets with their phone calls and help-centre searches, returns, surveys, reviews and
loyalty account from a :class:`~crmlab.data.Shop` or a :class:`~crmlab.data.store.CRMStore`,
as it stood on a given day, into a :class:`CustomerProfile` with a time-ordered timeline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crmlab._checks import as_timestamp as _timestamp
from crmlab._checks import frame_with
from crmlab.data.schema import TABLES

__all__ = ["CustomerProfile", "customer_profile"]


def _customer_id(value: Any) -> int:
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise ValueError(
            f"customer_id must be an integer member id, got {value!r} ({type(value).__name__}); "
            "e.g. customer_profile(shop, 42)."
        )
    return int(value)


def _empty(name: str) -> pd.DataFrame:
    """An empty table with the contract's columns (for shops that lack a table)."""
    return pd.DataFrame({c.name: pd.Series(dtype="object") for c in TABLES[name].columns})


@dataclass
class CustomerProfile:
    """One member's unified profile (統一客戶檔案).

    ``identity`` is the customers row; ``tables`` holds the member's rows of every table
    (``orders``, ``order_items``, ``sessions``, ``campaigns``, ``tickets``, ``calls``,
    ``faq_searches``, ``returns``, ``surveys``, ``reviews``, ``loyalty``); ``timeline`` is
    every touchpoint in time order; ``facts`` the headline numbers; ``summary`` one line.
    ``profile["orders"]`` is short for ``profile.tables["orders"]``.

    Parameters
    ----------
    customer_id : int
        The member's id.
    as_of : pd.Timestamp
        The moment the profile shows (later rows are left out).
    identity : pd.Series
        The member's row of ``customers``.
    tables : dict of str to pd.DataFrame
        The member's rows of each table, by name.
    timeline : pd.DataFrame
        Every touchpoint: ts, touchpoint, ref_id, detail; oldest first.
    facts : dict
        Headline numbers (n_orders, total_spend, tier, points_balance, ...).
    summary : str
        The profile in one line.
    """

    customer_id: int
    as_of: pd.Timestamp
    identity: pd.Series
    tables: dict[str, pd.DataFrame]
    timeline: pd.DataFrame
    facts: dict[str, Any]
    summary: str

    def __getitem__(self, key: str) -> pd.DataFrame:
        if key not in self.tables:
            raise KeyError(f"profile has no table {key!r}; tables: {sorted(self.tables)}")
        return self.tables[key]

    def __repr__(self) -> str:
        return f"CustomerProfile({self.summary})"


_CUSTOMER_TABLES = ("sessions", "orders", "campaign_contacts", "loyalty_ledger", "tickets", "calls",
                    "faq_searches", "returns", "surveys", "reviews")
_TIME_COLUMN = {"sessions": "start_ts", "orders": "order_ts", "loyalty_ledger": "ts", "tickets": "created_ts",
                "calls": "arrival_ts", "faq_searches": "ts", "returns": "requested_ts", "surveys": "sent_ts",
                "reviews": "ts"}


def _profile_rows(source: Any, cid: int) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], pd.DataFrame,
                                                   pd.DataFrame, pd.Timestamp]:
    """(customers row, member rows per table, campaigns, products, as_of) from a Shop or CRMStore."""
    from crmlab.data.store import CRMStore

    if isinstance(source, CRMStore):
        ident = source.rows_of("customers", customer_id=cid)
        loaded = set(source.loaded_tables())
        rows = {t: (source.rows_of(t, customer_id=cid) if t in loaded else _empty(t)) for t in _CUSTOMER_TABLES}
        if "order_items" in loaded:
            rows["order_items"] = source.query(
                "SELECT oi.* FROM order_items AS oi JOIN orders AS o ON o.order_id = oi.order_id "
                "WHERE o.customer_id = ? ORDER BY oi.order_id, oi.line_no", [cid], like="order_items")
        else:
            rows["order_items"] = _empty("order_items")
        campaigns = source.table("campaigns") if "campaigns" in loaded else _empty("campaigns")
        products = source.table("products") if "products" in loaded else _empty("products")
        end = source.config.get("end")
        n_ids = source.query("SELECT COUNT(*) AS n, MIN(customer_id) AS lo, MAX(customer_id) AS hi FROM customers")
        id_range = (int(n_ids["n"].iloc[0]), n_ids["lo"].iloc[0], n_ids["hi"].iloc[0])
    else:
        tables = getattr(source, "tables", None)
        if not isinstance(tables, Mapping) or "customers" not in tables:
            raise ValueError(
                f"customer_profile(): expected a Shop or a CRMStore with a customers table, got {type(source).__name__}."
            )
        customers = frame_with(tables["customers"], "customers", ["customer_id"])
        ident = customers.loc[customers["customer_id"] == cid]
        rows = {}
        for t in _CUSTOMER_TABLES:
            df = tables.get(t)
            rows[t] = _empty(t) if df is None else df.loc[df["customer_id"] == cid].reset_index(drop=True)
        items = tables.get("order_items")
        rows["order_items"] = (_empty("order_items") if items is None else
                               items.loc[items["order_id"].isin(rows["orders"]["order_id"])].reset_index(drop=True))
        campaigns = tables.get("campaigns", _empty("campaigns"))
        products = tables.get("products", _empty("products"))
        end = (getattr(source, "config", {}) or {}).get("end")
        id_range = (len(customers), customers["customer_id"].min(), customers["customer_id"].max())
    if ident.empty:
        raise ValueError(
            f"customer_profile(): customer_id {cid} is not in table 'customers' ({id_range[0]} members, "
            f"ids {id_range[1]}..{id_range[2]}); pass an existing id."
        )
    if end is None:
        times = [df[_TIME_COLUMN[t]].max() for t, df in rows.items() if t in _TIME_COLUMN and len(df)]
        as_of = max([pd.Timestamp(x) for x in times if pd.notna(x)], default=pd.Timestamp("today").normalize())
        as_of = as_of.normalize() + pd.Timedelta(days=1)
    else:
        as_of = pd.Timestamp(end) + pd.Timedelta(days=1)
    return ident.reset_index(drop=True), rows, campaigns, products, as_of


def _count(n: int, noun: str) -> str:
    """``1 ticket``, ``3 tickets``: a count with its noun in the right number."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _fmt_money(x: float) -> str:
    return f"NT${x:,.0f}"


def customer_profile(source: Any, customer_id: int, as_of: Any = None) -> CustomerProfile:
    """The 360° view of one member from a :class:`~crmlab.data.Shop` or a ``CRMStore``.

    ``as_of`` (default: the end of the data) hides everything that happened later, so the
    profile shows what an agent would have seen that day. An id that is not a member raises
    ``ValueError``.

    Parameters
    ----------
    source : Shop or CRMStore
        The shop's tables (a :class:`~crmlab.data.Shop`, or any object with a ``tables``
        mapping holding ``customers``) or a :class:`~crmlab.data.store.CRMStore`.
    customer_id : int
        The member's ``customer_id``.
    as_of : date-like, optional
        Show the member as on this moment (rows dated at or after it are left out); default
        the day after the data end.

    Returns
    -------
    CustomerProfile
        Identity, the member's rows of every table, the timeline, headline facts and a
        one-line summary.
    """
    cid = _customer_id(customer_id)
    ident, rows, campaigns, products, end = _profile_rows(source, cid)
    as_of_ts = end if as_of is None else _timestamp(as_of, "as_of")
    identity = ident.iloc[0]
    tables = _member_tables(rows, campaigns, products, as_of_ts)
    facts = _facts(cid, identity, tables, as_of_ts)
    timeline = _timeline(identity, tables, products)
    timeline = timeline.loc[timeline["ts"] < as_of_ts].reset_index(drop=True)
    return CustomerProfile(cid, as_of_ts, identity, tables, timeline, facts, _summary(identity, facts))


def _upto(df: pd.DataFrame, col: str, as_of: pd.Timestamp) -> pd.DataFrame:
    """The rows of ``df`` dated before ``as_of`` by ``col``, oldest first (what was known then)."""
    if df.empty:
        return df.reset_index(drop=True)
    return df.loc[df[col] < as_of].sort_values(col, kind="stable").reset_index(drop=True)


def _member_tables(rows: dict[str, pd.DataFrame], campaigns: pd.DataFrame, products: pd.DataFrame,
                   as_of: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """The member's tables as of ``as_of``: order lines with product names, contacts with their
    campaign, tickets with their calls, searches and status."""
    orders = _upto(rows["orders"], "order_ts", as_of)
    items = rows["order_items"]
    items = items.loc[items["order_id"].isin(orders["order_id"])].reset_index(drop=True)
    if len(items) and len(products):
        items = items.merge(products[["product_id", "name", "category"]], on="product_id", how="left")
    contacts = rows["campaign_contacts"]
    if len(contacts):
        contacts = contacts.merge(campaigns[["campaign_id", "name", "channel", "offer", "send_ts"]]
                                  .rename(columns={"channel": "send_channel"}), on="campaign_id", how="left")
        contacts = _upto(contacts, "send_ts", as_of)
    calls = _upto(rows["calls"], "arrival_ts", as_of)
    searches = _upto(rows["faq_searches"], "ts", as_of)
    tickets = _tickets_with_contacts(_upto(rows["tickets"], "created_ts", as_of), calls, searches, as_of)
    return {"orders": orders, "order_items": items, "sessions": _upto(rows["sessions"], "start_ts", as_of),
            "campaigns": contacts, "tickets": tickets, "calls": calls, "faq_searches": searches,
            "returns": _upto(rows["returns"], "requested_ts", as_of),
            "surveys": _upto(rows["surveys"], "sent_ts", as_of), "reviews": _upto(rows["reviews"], "ts", as_of),
            "loyalty": _upto(rows["loyalty_ledger"], "ts", as_of)}


def _tickets_with_contacts(tickets: pd.DataFrame, calls: pd.DataFrame, searches: pd.DataFrame,
                           as_of: pd.Timestamp) -> pd.DataFrame:
    """Each ticket with its number of phone calls and help-centre searches and its status then."""
    if not len(tickets):
        return tickets
    n_calls = calls["ticket_id"].value_counts() if len(calls) else pd.Series(dtype="int64")
    n_search = searches["ticket_id"].value_counts() if len(searches) else pd.Series(dtype="int64")
    return tickets.assign(
        n_calls=tickets["ticket_id"].map(n_calls).fillna(0).astype("int64"),
        n_faq_searches=tickets["ticket_id"].map(n_search).fillna(0).astype("int64"),
        status=np.where(tickets["resolved_ts"].notna() & (tickets["resolved_ts"] < as_of), "resolved", "open"),
    )


def _facts(cid: int, identity: pd.Series, t: dict[str, pd.DataFrame], as_of: pd.Timestamp) -> dict[str, Any]:
    """The headline numbers of the profile (orders, spend, recency, service, loyalty, consent)."""
    orders, tickets, surveys, reviews, ledger = t["orders"], t["tickets"], t["surveys"], t["reviews"], t["loyalty"]
    tier_rows = ledger.loc[ledger["entry_type"] == "tier_change"] if len(ledger) else ledger
    spend = float(orders["amount"].sum()) if len(orders) else 0.0
    last_order = orders["order_ts"].iloc[-1] if len(orders) else pd.NaT
    answered = surveys.loc[surveys["responded"]] if len(surveys) else surveys
    return {
        "customer_id": cid,
        "member_since": identity["signup_ts"],
        "n_orders": len(orders),
        "total_spend": spend,
        "avg_order_value": spend / len(orders) if len(orders) else np.nan,
        "first_order": orders["order_ts"].iloc[0] if len(orders) else pd.NaT,
        "last_order": last_order,
        "days_since_last_order": (as_of - last_order) / pd.Timedelta(days=1) if len(orders) else np.nan,
        "n_sessions": len(t["sessions"]),
        "n_campaigns_received": int(t["campaigns"]["sent"].sum()) if len(t["campaigns"]) else 0,
        "n_tickets": len(tickets),
        "open_tickets": int((tickets["status"] == "open").sum()) if len(tickets) else 0,
        "n_returns": len(t["returns"]),
        "refunded": float(t["returns"]["refund_amount"].sum()) if len(t["returns"]) else 0.0,
        "n_surveys_answered": len(answered),
        "n_reviews": len(reviews),
        "mean_stars": float(reviews["stars"].mean()) if len(reviews) else np.nan,
        "points_balance": int(ledger["points"].sum()) if len(ledger) else 0,
        "tier": str(tier_rows["tier"].iloc[-1]) if len(tier_rows) else "member",
        "marketing_opt_in": bool(identity["marketing_opt_in"]),
    }


def _summary(identity: pd.Series, f: dict[str, Any]) -> str:
    """The profile in one line: who, since when, orders and spend, tier, tickets, consent."""
    n = f["n_orders"]
    last = f"last {f['last_order']:%Y-%m-%d}, {f['days_since_last_order']:.0f} days ago" if n else "no orders"
    return (
        f"Customer {f['customer_id']} · {identity['gender']} {identity['age_band']}, {identity['city']} "
        f"({identity['region']}) · member since {identity['signup_ts']:%Y-%m-%d} · {_count(n, 'order')}, "
        f"{_fmt_money(f['total_spend'])} ({last}) · {f['tier']} tier, {f['points_balance']:,} points · "
        f"{_count(f['n_tickets'], 'ticket')} ({f['open_tickets']} open) · "
        f"{'opted in to' if f['marketing_opt_in'] else 'opted out of'} marketing"
    )


def _touches(df: pd.DataFrame, ts: str, kind: str, ref: str, detail: Any) -> list[pd.DataFrame]:
    """One timeline row per row of ``df`` (none for an empty table)."""
    if not len(df):
        return []
    return [pd.DataFrame({"ts": df[ts].to_numpy(), "touchpoint": kind,
                          "ref_id": df[ref].astype("int64").to_numpy(), "detail": np.asarray(detail)})]


def _shopping_touches(t: dict[str, pd.DataFrame]) -> list[pd.DataFrame]:
    """Timeline rows of visits, orders and campaign messages."""
    s, o, c = t["sessions"], t["orders"], t["campaigns"]
    parts = []
    if len(s):
        parts += _touches(s, "start_ts", "session", "session_id",
                          "visit from " + s["traffic_source"].astype(str) + " on " + s["device"].astype(str)
                          + ", reached " + s["funnel_depth"].astype(str))
    if len(o):
        parts += _touches(o, "order_ts", "order", "order_id",
                          o["channel"].astype(str) + " order, " + o["n_items"].astype(str) + " items, NT$"
                          + o["amount"].round(0).astype("int64").astype(str))
    if len(c):
        c = c.loc[c["sent"]]
        parts += _touches(c, "send_ts", "campaign", "campaign_id",
                          c["name"].astype(str) + " (" + c["send_channel"].astype(str) + ")"
                          + np.where(c["clicked"], ", clicked", np.where(c["opened"], ", opened", ", not opened")))
    return parts


def _service_touches(t: dict[str, pd.DataFrame]) -> list[pd.DataFrame]:
    """Timeline rows of tickets, phone calls, help-centre searches and returns."""
    k, cl, fs, r = t["tickets"], t["calls"], t["faq_searches"], t["returns"]
    parts = []
    if len(k):
        parts += _touches(k, "created_ts", "ticket", "ticket_id",
                          k["channel"].astype(str) + " ticket [" + k["category"].astype(str) + "] "
                          + k["subject"].astype(str) + " (" + k["status"] + ")")
    if len(cl):
        parts += _touches(cl, "arrival_ts", "call", "call_id",
                          pd.Series(np.where(cl["abandoned"], "phone call abandoned after ", "phone call answered after "))
                          + cl["wait_seconds"].round(0).astype("int64").astype(str).to_numpy() + " s wait")
    if len(fs):
        parts += _touches(fs, "ts", "help_search", "search_id", "searched help centre: " + fs["query"].astype(str))
    if len(r):
        parts += _touches(r, "requested_ts", "return", "return_id",
                          r["return_type"].astype(str) + " of order " + r["order_id"].astype(str)
                          + " (" + r["reason"].astype(str) + ")")
    return parts


def _opinion_touches(t: dict[str, pd.DataFrame]) -> list[pd.DataFrame]:
    """Timeline rows of surveys, reviews and loyalty entries."""
    sv, rv, lg = t["surveys"], t["reviews"], t["loyalty"]
    parts = []
    if len(sv):
        score = sv["score"].astype("Float64").round(0).astype("Int64").astype(str).where(sv["responded"], "no answer")
        parts += _touches(sv, "sent_ts", "survey", "survey_id",
                          sv["survey_type"].astype(str) + " survey (" + sv["touchpoint"].astype(str) + "): " + score)
    if len(rv):
        parts += _touches(rv, "ts", "review", "review_id", rv["stars"].astype(str) + " stars: " + rv["title"].astype(str))
    if len(lg):
        parts += _touches(lg, "ts", "loyalty", "entry_id",
                          np.where(lg["entry_type"] == "tier_change", "tier -> " + lg["tier"].astype(str),
                                   lg["entry_type"].astype(str) + " " + lg["points"].astype(str) + " points"))
    return parts


def _timeline(identity: pd.Series, t: dict[str, pd.DataFrame], products: pd.DataFrame) -> pd.DataFrame:
    """Every touchpoint of the member as rows (ts, touchpoint, ref_id, detail), oldest first."""
    signup = pd.DataFrame({
        "ts": [identity["signup_ts"]], "touchpoint": ["signup"], "ref_id": [int(identity["customer_id"])],
        "detail": [f"signed up via {identity['acquisition_channel']} on {identity['device']}"]})
    out = pd.concat([signup, *_shopping_touches(t), *_service_touches(t), *_opinion_touches(t)], ignore_index=True)
    out["touchpoint"] = out["touchpoint"].astype("category")
    out["detail"] = out["detail"].astype("str")
    return out.sort_values(["ts", "touchpoint"], kind="stable").reset_index(drop=True)
