"""Unit 1 — what a CRM system does: 統一客戶檔案, 銷售自動化, 行銷自動化, 忠誠度計畫.

Five jobs of a CRM system, each as small functions on the shop's tables (DataFrame in,
DataFrame out):

* **Unified customer profile** (統一客戶檔案, the 360° view): :func:`customer_profile` gathers
  one member's identity, orders, sessions, campaign contacts, tickets with their phone calls
  and help-centre searches, returns, surveys, reviews and loyalty account from a
  :class:`~crmlab.data.Shop` or a :class:`~crmlab.data.store.CRMStore`.
* **Sales automation** (銷售自動化): the lead pipeline — :func:`lead_snapshot`,
  :func:`stage_conversion` (censoring-aware step rates), :func:`stage_durations`,
  :func:`sales_velocity`, :func:`pipeline_forecast` (stage-probability weighted pipeline) and
  :func:`attainment` against targets by owner.
* **Marketing automation** (行銷自動化): trigger rules (:class:`WelcomeSeries`,
  :class:`AbandonedCart`, :class:`WinBack`, :class:`BirthdayOffer`, :class:`TierUpgrade`)
  evaluated against the event log by :func:`automation_queue`, with opt-out suppression and
  frequency caps (:class:`FrequencyCap`).
* **Loyalty** (忠誠度計畫): :func:`points_balance`, :func:`assign_tiers`, :func:`tier_at`,
  :func:`tier_migration`, :func:`breakage_rate`, :func:`points_liability`, the IFRS 15
  relative stand-alone selling price allocation (:func:`ifrs15_allocate`,
  :func:`ifrs15_schedule`, :func:`loyalty_deferral`) and the expected value of a member by
  tier from an absorbing Markov chain (:func:`markov_member_value`, :func:`tier_chain`).
* **Data protection** (個資保護): :func:`pseudonymize` (keyed HMAC-SHA256) and
  :func:`k_anonymity` / :func:`suppress_rare` for quasi-identifiers before a table is shared.
"""

from __future__ import annotations

import hashlib
import hmac
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crmlab._checks import Reads, check_number, frame_with, reads
from crmlab._checks import as_timestamp as _timestamp
from crmlab.data.schema import LEAD_STAGES, TABLES, TIERS

__all__ = [
    "FIELD_ACCESS",
    "consent_filter",
    "retention_due",
    "view_for_role",
    "CHANNEL_KINDS",
    "STORE_CHANNELS",
    "channel_profile",
    "expected_omnichannel_share",
    "omnichannel_value",
    "DEFAULT_RULES",
    "PIPELINE_STAGES",
    "TIER_THRESHOLDS",
    "AbandonedCart",
    "BirthdayOffer",
    "CustomerProfile",
    "FrequencyCap",
    "KAnonymityReport",
    "TierChain",
    "TierUpgrade",
    "WelcomeSeries",
    "WinBack",
    "assign_tiers",
    "attainment",
    "automation_queue",
    "automation_schedule",
    "automation_triggers",
    "breakage_rate",
    "customer_profile",
    "ifrs15_allocate",
    "ifrs15_schedule",
    "k_anonymity",
    "lead_snapshot",
    "loyalty_deferral",
    "markov_member_value",
    "pipeline_forecast",
    "points_balance",
    "points_liability",
    "pseudonymize",
    "sales_velocity",
    "stage_conversion",
    "stage_durations",
    "suppress_rare",
    "tier_at",
    "tier_chain",
    "tier_migration",
]

#: Pipeline stages in order (``lost`` is an outcome, not a stage).
PIPELINE_STAGES: tuple[str, ...] = ("new", "contacted", "qualified", "proposal", "negotiation", "won")
_STAGE_TS = {"new": "created_ts", "contacted": "contacted_ts", "qualified": "qualified_ts",
             "proposal": "proposal_ts", "negotiation": "negotiation_ts"}

#: The shop's tier rules: trailing 12-month spend (NT$) needed for each tier.
TIER_THRESHOLDS: dict[str, float] = {"silver": 5000.0, "gold": 20000.0, "platinum": 60000.0}
_TIER_RANK = {t: i for i, t in enumerate(TIERS)}


# =============================================================================== helpers


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


# =============================================================================== 360° profile


@dataclass
class CustomerProfile:
    """One member's unified profile (統一客戶檔案).

    ``identity`` is the customers row; ``tables`` holds the member's rows of every table
    (``orders``, ``order_items``, ``sessions``, ``campaigns``, ``tickets``, ``calls``,
    ``faq_searches``, ``returns``, ``surveys``, ``reviews``, ``loyalty``); ``timeline`` is
    every touchpoint in time order; ``facts`` the headline numbers; ``summary`` one line.
    ``profile["orders"]`` is short for ``profile.tables["orders"]``.
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
    """
    cid = _customer_id(customer_id)
    ident, rows, campaigns, products, end = _profile_rows(source, cid)
    as_of_ts = end if as_of is None else _timestamp(as_of, "as_of")
    identity = ident.iloc[0]

    def upto(df: pd.DataFrame, col: str) -> pd.DataFrame:
        if df.empty:
            return df.reset_index(drop=True)
        return df.loc[df[col] < as_of_ts].sort_values(col, kind="stable").reset_index(drop=True)

    orders = upto(rows["orders"], "order_ts")
    items = rows["order_items"]
    items = items.loc[items["order_id"].isin(orders["order_id"])].reset_index(drop=True)
    if len(items) and len(products):
        items = items.merge(products[["product_id", "name", "category"]], on="product_id", how="left")
    sessions = upto(rows["sessions"], "start_ts")
    contacts = rows["campaign_contacts"]
    if len(contacts):
        contacts = contacts.merge(campaigns[["campaign_id", "name", "channel", "offer", "send_ts"]]
                                  .rename(columns={"channel": "send_channel"}), on="campaign_id", how="left")
        contacts = upto(contacts, "send_ts")
    tickets = upto(rows["tickets"], "created_ts")
    calls = upto(rows["calls"], "arrival_ts")
    searches = upto(rows["faq_searches"], "ts")
    returns = upto(rows["returns"], "requested_ts")
    surveys = upto(rows["surveys"], "sent_ts")
    reviews = upto(rows["reviews"], "ts")
    ledger = upto(rows["loyalty_ledger"], "ts")
    if len(tickets):
        n_calls = calls["ticket_id"].value_counts() if len(calls) else pd.Series(dtype="int64")
        n_search = searches["ticket_id"].value_counts() if len(searches) else pd.Series(dtype="int64")
        tickets = tickets.assign(
            n_calls=tickets["ticket_id"].map(n_calls).fillna(0).astype("int64"),
            n_faq_searches=tickets["ticket_id"].map(n_search).fillna(0).astype("int64"),
            status=np.where(tickets["resolved_ts"].notna() & (tickets["resolved_ts"] < as_of_ts), "resolved", "open"),
        )
    balance = int(ledger["points"].sum()) if len(ledger) else 0
    tier_rows = ledger.loc[ledger["entry_type"] == "tier_change"] if len(ledger) else ledger
    tier = str(tier_rows["tier"].iloc[-1]) if len(tier_rows) else "member"

    spend = float(orders["amount"].sum()) if len(orders) else 0.0
    last_order = orders["order_ts"].iloc[-1] if len(orders) else pd.NaT
    answered = surveys.loc[surveys["responded"]] if len(surveys) else surveys
    facts: dict[str, Any] = {
        "customer_id": cid,
        "member_since": identity["signup_ts"],
        "n_orders": len(orders),
        "total_spend": spend,
        "avg_order_value": spend / len(orders) if len(orders) else np.nan,
        "first_order": orders["order_ts"].iloc[0] if len(orders) else pd.NaT,
        "last_order": last_order,
        "days_since_last_order": (as_of_ts - last_order) / pd.Timedelta(days=1) if len(orders) else np.nan,
        "n_sessions": len(sessions),
        "n_campaigns_received": int(contacts["sent"].sum()) if len(contacts) else 0,
        "n_tickets": len(tickets),
        "open_tickets": int((tickets["status"] == "open").sum()) if len(tickets) else 0,
        "n_returns": len(returns),
        "refunded": float(returns["refund_amount"].sum()) if len(returns) else 0.0,
        "n_surveys_answered": len(answered),
        "n_reviews": len(reviews),
        "mean_stars": float(reviews["stars"].mean()) if len(reviews) else np.nan,
        "points_balance": balance,
        "tier": tier,
        "marketing_opt_in": bool(identity["marketing_opt_in"]),
    }
    last = f"last {last_order:%Y-%m-%d}, {facts['days_since_last_order']:.0f} days ago" if len(orders) else "no orders"
    summary = (
        f"Customer {cid} · {identity['gender']} {identity['age_band']}, {identity['city']} ({identity['region']}) · "
        f"member since {identity['signup_ts']:%Y-%m-%d} · {_count(len(orders), 'order')}, {_fmt_money(spend)} ({last}) · "
        f"{tier} tier, {balance:,} points · {_count(len(tickets), 'ticket')} ({facts['open_tickets']} open) · "
        f"{'opted in to' if facts['marketing_opt_in'] else 'opted out of'} marketing"
    )
    tables = {"orders": orders, "order_items": items, "sessions": sessions, "campaigns": contacts,
              "tickets": tickets, "calls": calls, "faq_searches": searches, "returns": returns,
              "surveys": surveys, "reviews": reviews, "loyalty": ledger}
    timeline = _timeline(identity, tables, products)
    timeline = timeline.loc[timeline["ts"] < as_of_ts].reset_index(drop=True)
    return CustomerProfile(cid, as_of_ts, identity, tables, timeline, facts, summary)


def _timeline(identity: pd.Series, t: dict[str, pd.DataFrame], products: pd.DataFrame) -> pd.DataFrame:
    """Every touchpoint of the member as rows (ts, touchpoint, ref_id, detail), oldest first."""
    parts: list[pd.DataFrame] = [pd.DataFrame({
        "ts": [identity["signup_ts"]], "touchpoint": ["signup"], "ref_id": [int(identity["customer_id"])],
        "detail": [f"signed up via {identity['acquisition_channel']} on {identity['device']}"]})]

    def add(df: pd.DataFrame, ts: str, kind: str, ref: str, detail: pd.Series) -> None:
        if len(df):
            parts.append(pd.DataFrame({"ts": df[ts].to_numpy(), "touchpoint": kind,
                                       "ref_id": df[ref].astype("int64").to_numpy(), "detail": detail.to_numpy()}))

    s = t["sessions"]
    if len(s):
        add(s, "start_ts", "session", "session_id",
            "visit from " + s["traffic_source"].astype(str) + " on " + s["device"].astype(str)
            + ", reached " + s["funnel_depth"].astype(str))
    o = t["orders"]
    if len(o):
        add(o, "order_ts", "order", "order_id",
            o["channel"].astype(str) + " order, " + o["n_items"].astype(str) + " items, NT$"
            + o["amount"].round(0).astype("int64").astype(str))
    c = t["campaigns"]
    if len(c):
        c = c.loc[c["sent"]]
        add(c, "send_ts", "campaign", "campaign_id",
            c["name"].astype(str) + " (" + c["send_channel"].astype(str) + ")"
            + np.where(c["clicked"], ", clicked", np.where(c["opened"], ", opened", ", not opened")))
    k = t["tickets"]
    if len(k):
        add(k, "created_ts", "ticket", "ticket_id",
            k["channel"].astype(str) + " ticket [" + k["category"].astype(str) + "] " + k["subject"].astype(str)
            + " (" + k["status"] + ")")
    cl = t["calls"]
    if len(cl):
        add(cl, "arrival_ts", "call", "call_id",
            pd.Series(np.where(cl["abandoned"], "phone call abandoned after ", "phone call answered after "))
            + cl["wait_seconds"].round(0).astype("int64").astype(str).to_numpy() + " s wait")
    fs = t["faq_searches"]
    if len(fs):
        add(fs, "ts", "help_search", "search_id", "searched help centre: " + fs["query"].astype(str))
    r = t["returns"]
    if len(r):
        add(r, "requested_ts", "return", "return_id",
            r["return_type"].astype(str) + " of order " + r["order_id"].astype(str) + " (" + r["reason"].astype(str) + ")")
    sv = t["surveys"]
    if len(sv):
        score = sv["score"].astype("Float64").round(0).astype("Int64").astype(str).where(sv["responded"], "no answer")
        add(sv, "sent_ts", "survey", "survey_id",
            sv["survey_type"].astype(str) + " survey (" + sv["touchpoint"].astype(str) + "): " + score)
    rv = t["reviews"]
    if len(rv):
        add(rv, "ts", "review", "review_id", rv["stars"].astype(str) + " stars: " + rv["title"].astype(str))
    lg = t["loyalty"]
    if len(lg):
        detail = np.where(lg["entry_type"] == "tier_change", "tier -> " + lg["tier"].astype(str),
                          lg["entry_type"].astype(str) + " " + lg["points"].astype(str) + " points")
        add(lg, "ts", "loyalty", "entry_id", pd.Series(detail))
    out = pd.concat(parts, ignore_index=True)
    out["touchpoint"] = out["touchpoint"].astype("category")
    out["detail"] = out["detail"].astype("str")
    return out.sort_values(["ts", "touchpoint"], kind="stable").reset_index(drop=True)


# =============================================================================== sales pipeline


_LEAD_COLUMNS = ["lead_id", "created_ts", "owner", "value", "stage", "contacted_ts", "qualified_ts",
                 "proposal_ts", "negotiation_ts", "closed_ts"]


@reads(leads=Reads("leads", ("lead_id", "created_ts", "owner", "value", "stage", "contacted_ts",
                              "qualified_ts", "proposal_ts", "negotiation_ts", "closed_ts")))
def lead_snapshot(leads: pd.DataFrame, as_of: Any = None) -> pd.DataFrame:
    """Each lead's position in the pipeline, as the data end or as it stood at ``as_of``.

    Columns: lead_id, owner, value, created_ts, ``reached`` (furthest stage reached, one of
    :data:`PIPELINE_STAGES`), ``reached_idx`` (0 = new ... 5 = won), ``status`` (open / won /
    lost), ``stage_ts`` (when the current stage was entered) and ``closed_ts``. Leads created
    after ``as_of`` are left out (they did not exist yet); with ``as_of`` the timestamps after
    it are ignored, so a lead won later is still open on that day.
    """
    frame_with(leads, "leads", _LEAD_COLUMNS)
    bad_stage = ~leads["stage"].astype(str).isin(LEAD_STAGES)
    if bad_stage.any():
        raise ValueError(f"table 'leads', column 'stage': unknown value(s) "
                         f"{sorted(leads.loc[bad_stage, 'stage'].astype(str).unique())[:5]}; allowed: {list(LEAD_STAGES)}.")
    cut = None if as_of is None else _timestamp(as_of, "as_of")
    df = leads if cut is None else leads.loc[leads["created_ts"] <= cut]
    stamps = np.column_stack([df[_STAGE_TS[s]].to_numpy(dtype="datetime64[ns]") for s in PIPELINE_STAGES[:-1]])
    seen = ~np.isnat(stamps)
    if cut is not None:
        seen &= stamps <= np.datetime64(cut, "ns")
    # A stage cannot be reached without the ones before it.
    gaps = seen[:, 1:] & ~seen[:, :-1]
    if gaps.any():
        rows = df["lead_id"].to_numpy()[gaps.any(axis=1)][:5].tolist()
        raise ValueError(f"table 'leads': lead(s) {rows} have a stage timestamp without the earlier stages'; "
                         "fix: fill contacted_ts/qualified_ts/... for every stage a lead passed.")
    reached = seen.sum(axis=1) - 1
    closed = df["closed_ts"].to_numpy(dtype="datetime64[ns]")
    is_closed = ~np.isnat(closed)
    if cut is not None:
        is_closed &= closed <= np.datetime64(cut, "ns")
    final = df["stage"].astype(str).to_numpy()
    won = is_closed & (final == "won")
    lost = is_closed & (final != "won")
    if (is_closed & ~np.isin(final, ["won", "lost"])).any():
        rows = df["lead_id"].to_numpy()[is_closed & ~np.isin(final, ["won", "lost"])][:5].tolist()
        raise ValueError(f"table 'leads': lead(s) {rows} have closed_ts but stage is neither won nor lost; "
                         "fix: set stage to 'won' or 'lost', or clear closed_ts.")
    reached = np.where(won, 5, reached)
    status = np.where(won, "won", np.where(lost, "lost", "open"))
    stage_ts = stamps[np.arange(len(df)), np.clip(reached, 0, 4)]
    stage_ts = np.where(won, closed, stage_ts)
    return pd.DataFrame({
        "lead_id": df["lead_id"].to_numpy(),
        "owner": df["owner"].reset_index(drop=True),
        "value": df["value"].to_numpy(dtype=float),
        "created_ts": df["created_ts"].to_numpy(),
        "reached": pd.Categorical(np.asarray(PIPELINE_STAGES, dtype=object)[reached], categories=list(PIPELINE_STAGES),
                                  ordered=True),
        "reached_idx": reached.astype(np.int64),
        "status": pd.Categorical(status, categories=["open", "won", "lost"]),
        "stage_ts": stage_ts,
        "closed_ts": np.where(is_closed, closed, np.datetime64("NaT", "ns")),
    })


@reads(leads="")
def stage_conversion(leads: pd.DataFrame, by: str | None = None, as_of: Any = None) -> pd.DataFrame:
    """Step conversion rates of the pipeline, counting only leads whose step is decided.

    For the step from stage k-1 to stage k: ``passed`` leads reached k; ``lost`` leads were
    lost while at k-1; leads still open at k-1 have not had their chance yet and are left
    out of the rate (counted in ``open``), otherwise a young pipeline would look like a bad
    one. ``conversion = passed / (passed + lost)`` with its binomial standard error ``se``;
    ``cum_conversion`` multiplies the steps (share of new leads that would be won).
    ``by="owner"`` gives one block per owner.
    """
    snap = lead_snapshot(leads, as_of)
    if by is not None and by not in snap.columns:
        if by not in leads.columns:
            raise ValueError(f"stage_conversion(): table 'leads' has no column {by!r} to group by.")
        snap[by] = leads.set_index("lead_id").loc[snap["lead_id"], by].to_numpy()
    groups = [(None, snap)] if by is None else list(snap.groupby(by, observed=True, sort=True))
    out = []
    for key, g in groups:
        r = g["reached_idx"].to_numpy()
        st = g["status"].astype(str).to_numpy()
        cum = 1.0
        for k in range(1, len(PIPELINE_STAGES)):
            passed = int((r >= k).sum())
            lost = int(((r == k - 1) & (st == "lost")).sum())
            still = int(((r == k - 1) & (st == "open")).sum())
            n = passed + lost
            p = passed / n if n else np.nan
            cum = cum * p if n else np.nan
            row = {"step": f"{PIPELINE_STAGES[k - 1]}->{PIPELINE_STAGES[k]}", "from_stage": PIPELINE_STAGES[k - 1],
                   "to_stage": PIPELINE_STAGES[k], "reached_from": passed + lost + still, "passed": passed,
                   "lost": lost, "open": still, "conversion": p,
                   "se": float(np.sqrt(p * (1 - p) / n)) if n else np.nan, "cum_conversion": cum}
            if by is not None:
                row = {by: key, **row}
            out.append(row)
    return pd.DataFrame(out)


@reads(leads="")
def stage_durations(leads: pd.DataFrame) -> pd.DataFrame:
    """Days spent between consecutive stages (n, mean, median, se), for leads that made the step.

    ``se_days`` is the standard error of the mean (sample standard deviation / sqrt(n); NaN
    below two leads), so a mean can be compared with a planted or target gap without reading
    noise as a difference. Steps still in progress at the data end are not counted (their
    duration is unknown), so long steps in a young pipeline are slightly under-represented.
    """
    frame_with(leads, "leads", _LEAD_COLUMNS)
    cols = ["created_ts", "contacted_ts", "qualified_ts", "proposal_ts", "negotiation_ts"]
    won_close = leads["closed_ts"].where(leads["stage"].astype(str) == "won")
    out = []
    for k in range(5):
        a = leads[cols[k]]
        b = leads[cols[k + 1]] if k < 4 else won_close
        days = ((b - a) / pd.Timedelta(days=1)).dropna()
        out.append({"step": f"{PIPELINE_STAGES[k]}->{PIPELINE_STAGES[k + 1]}", "n": len(days),
                    "mean_days": float(days.mean()) if len(days) else np.nan,
                    "median_days": float(days.median()) if len(days) else np.nan,
                    "se_days": float(days.std(ddof=1) / np.sqrt(len(days))) if len(days) > 1 else np.nan})
    return pd.DataFrame(out)


@reads(leads="")
def sales_velocity(leads: pd.DataFrame, by: str | None = None, as_of: Any = None) -> pd.DataFrame:
    """The sales-velocity equation: open opportunities x win rate x average deal / cycle length.

    Columns: open_opportunities, win_rate (won / closed), avg_won_value, cycle_days (mean days
    from enquiry to a won close) and ``velocity_per_day`` = NT$ of revenue the current
    pipeline produces per day at these rates. ``by="owner"`` for one row per sales rep.
    """
    snap = lead_snapshot(leads, as_of)
    snap["cycle_days"] = (snap["closed_ts"] - snap["created_ts"]) / pd.Timedelta(days=1)
    groups = [("all", snap)] if by is None else list(snap.groupby(by, observed=True, sort=True))
    rows = []
    for key, g in groups:
        won = g.loc[g["status"] == "won"]
        closed = int((g["status"] != "open").sum())
        win_rate = len(won) / closed if closed else np.nan
        avg = float(won["value"].mean()) if len(won) else np.nan
        cycle = float(won["cycle_days"].mean()) if len(won) else np.nan
        n_open = int((g["status"] == "open").sum())
        vel = n_open * win_rate * avg / cycle if len(won) and cycle > 0 else np.nan
        rows.append({by or "group": key, "open_opportunities": n_open, "won": len(won), "closed": closed,
                     "win_rate": win_rate, "avg_won_value": avg, "cycle_days": cycle, "velocity_per_day": vel})
    return pd.DataFrame(rows)


def win_probability_by_stage(conversion: pd.DataFrame) -> pd.Series:
    """P(won | the lead is currently at stage s) = product of the remaining step conversions."""
    frame_with(conversion, "conversion", ["from_stage", "conversion"])
    p = conversion.set_index("from_stage")["conversion"]
    probs = {}
    for i, s in enumerate(PIPELINE_STAGES[:-1]):
        probs[s] = float(np.prod([p[t] for t in PIPELINE_STAGES[i:-1]]))
    probs["won"] = 1.0
    return pd.Series(probs, name="win_probability")


@reads(leads="")
def pipeline_forecast(leads: pd.DataFrame, probabilities: Mapping[str, float] | pd.Series | None = None,
                      as_of: Any = None) -> pd.DataFrame:
    """Weighted pipeline: each open lead's value times the chance its stage ends in a win.

    ``probabilities`` maps stage -> P(win) (e.g. the sales team's standard 10/25/50/75%);
    by default they are estimated from the leads already decided at ``as_of`` with
    :func:`stage_conversion`. Returns one row per open lead: lead_id, owner, stage, value,
    win_probability and expected_value; sum ``expected_value`` for the forecast.
    """
    snap = lead_snapshot(leads, as_of)
    if probabilities is None:
        conv = stage_conversion(leads, as_of=as_of)
        if conv["conversion"].isna().any():
            raise ValueError("pipeline_forecast(): some steps have no decided leads yet, so their conversion is "
                             "unknown; pass probabilities={'new': ..., 'contacted': ..., ...}.")
        probs = win_probability_by_stage(conv)
    else:
        probs = pd.Series(dict(probabilities), dtype=float)
        open_stages = set(snap.loc[snap["status"] == "open", "reached"].astype(str))
        missing = sorted(open_stages - set(probs.index))
        if missing:
            raise ValueError(f"pipeline_forecast(): probabilities lack stage(s) {missing} that open leads are in.")
        if ((probs < 0) | (probs > 1)).any():
            raise ValueError("pipeline_forecast(): probabilities must lie in [0, 1].")
    op = snap.loc[snap["status"] == "open"].reset_index(drop=True)
    p = op["reached"].astype(str).map(probs).to_numpy(dtype=float)
    return pd.DataFrame({"lead_id": op["lead_id"], "owner": op["owner"], "stage": op["reached"],
                         "value": op["value"], "win_probability": p, "expected_value": op["value"] * p})


@reads(leads="")
def attainment(leads: pd.DataFrame, targets: Mapping[str, float] | pd.Series | float, start: Any, end: Any,
               probabilities: Mapping[str, float] | pd.Series | None = None) -> pd.DataFrame:
    """Quota attainment by owner for deals closed in [start, end], plus the weighted open pipeline.

    Columns: owner, target, won_deals, won_value, attainment (won_value / target), gap
    (target - won_value, negative when over target), weighted_pipeline (open at ``end``,
    from :func:`pipeline_forecast`) and projected_attainment ((won + weighted) / target).
    ``targets`` is one number for everyone or a mapping owner -> target; an owner with
    leads but no target is an error (nothing is dropped silently).
    """
    frame_with(leads, "leads", _LEAD_COLUMNS)
    t0, t1 = _timestamp(start, "start"), _timestamp(end, "end")
    if t1 < t0:
        raise ValueError(f"attainment(): end {t1.date()} is before start {t0.date()}.")
    period_end = t1 + pd.Timedelta(days=1) if t1 == t1.normalize() else t1  # a date means the whole day
    owners = sorted(leads["owner"].astype(str).unique())
    if isinstance(targets, int | float | np.integer | np.floating) and not isinstance(targets, bool):
        tgt = pd.Series(float(targets), index=owners)
    else:
        tgt = pd.Series(dict(targets), dtype=float)
        missing = [o for o in owners if o not in tgt.index]
        if missing:
            raise ValueError(f"attainment(): no target for owner(s) {missing}; pass targets for every owner "
                             "in table 'leads', column 'owner' (or one number for all).")
    if (tgt <= 0).any():
        raise ValueError("attainment(): targets must be positive NT$ amounts.")
    won = leads.loc[(leads["stage"].astype(str) == "won") & (leads["closed_ts"] >= t0) & (leads["closed_ts"] < period_end)]
    won_by = won.groupby(won["owner"].astype(str))["value"].agg(["size", "sum"])
    fc = pipeline_forecast(leads, probabilities, as_of=period_end - pd.Timedelta(seconds=1))
    pipe = fc.groupby(fc["owner"].astype(str))["expected_value"].sum()
    out = pd.DataFrame({"owner": tgt.index.astype(str), "target": tgt.to_numpy()})
    out["won_deals"] = out["owner"].map(won_by["size"]).fillna(0).astype("int64")
    out["won_value"] = out["owner"].map(won_by["sum"]).fillna(0.0)
    out["attainment"] = out["won_value"] / out["target"]
    out["gap"] = out["target"] - out["won_value"]
    out["weighted_pipeline"] = out["owner"].map(pipe).fillna(0.0)
    out["projected_attainment"] = (out["won_value"] + out["weighted_pipeline"]) / out["target"]
    return out.sort_values("attainment", ascending=False, kind="stable").reset_index(drop=True)


# =============================================================================== marketing automation


@dataclass(frozen=True)
class WelcomeSeries:
    """Welcome messages ``steps`` days after sign-up (day 0 = the sign-up day).

    With ``stop_after_purchase`` later steps are skipped once the member has ordered.
    """

    steps: tuple[int, ...] = (0, 3, 7)
    stop_after_purchase: bool = True
    name: str = "welcome"

    def triggers(self, data: dict[str, pd.DataFrame], start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
        c = data["customers"]
        parts = []
        for i, d in enumerate(self.steps):
            at = c["signup_ts"] + pd.Timedelta(days=d)
            parts.append(pd.DataFrame({"customer_id": c["customer_id"].to_numpy(), "trigger_ts": at.to_numpy(),
                                       "detail": f"welcome step {i + 1} of {len(self.steps)} (day {d})",
                                       "step": i}))
        t = pd.concat(parts, ignore_index=True)
        t = t.loc[(t["trigger_ts"] >= start) & (t["trigger_ts"] < end)]
        if self.stop_after_purchase and len(t):
            first = data["orders"].groupby("customer_id")["order_ts"].min()
            bought = t["customer_id"].map(first)
            t = t.loc[(t["step"] == 0) | bought.isna() | (bought > t["trigger_ts"])]
        return t.drop(columns="step")


@dataclass(frozen=True)
class AbandonedCart:
    """A reminder ``hours`` after a session's last add-to-cart when no order followed in between."""

    hours: float = 24.0
    name: str = "abandoned_cart"

    def triggers(self, data: dict[str, pd.DataFrame], start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
        ev = data["events"]
        carts = ev.loc[ev["event_type"] == "add_to_cart", ["session_id", "customer_id", "ts", "product_id"]]
        if carts.empty:
            return pd.DataFrame(columns=["customer_id", "trigger_ts", "detail"])
        last = carts.sort_values(["session_id", "ts"], kind="stable").groupby("session_id", sort=False).tail(1)
        wait = pd.Timedelta(hours=self.hours)
        last = last.assign(trigger_ts=last["ts"] + wait)
        last = last.loc[(last["trigger_ts"] >= start) & (last["trigger_ts"] < end)]
        if last.empty:
            return pd.DataFrame(columns=["customer_id", "trigger_ts", "detail"])
        orders = data["orders"][["customer_id", "order_ts"]].sort_values(["customer_id", "order_ts"])
        # First order strictly after the cart time, per cart (merge_asof forward within customer).
        probe = last.sort_values("ts")[["customer_id", "ts", "trigger_ts", "product_id", "session_id"]]
        nxt = pd.merge_asof(probe, orders.sort_values("order_ts").rename(columns={"order_ts": "next_order"}),
                            left_on="ts", right_on="next_order", by="customer_id", direction="forward",
                            allow_exact_matches=False)
        abandoned = nxt.loc[nxt["next_order"].isna() | (nxt["next_order"] > nxt["trigger_ts"])]
        return pd.DataFrame({"customer_id": abandoned["customer_id"].to_numpy(),
                             "trigger_ts": abandoned["trigger_ts"].to_numpy(),
                             "detail": ("cart left in session " + abandoned["session_id"].astype(str)
                                        + ", last item product " + abandoned["product_id"].astype(str)).to_numpy()})


@dataclass(frozen=True)
class WinBack:
    """A win-back offer on the day a buyer reaches ``days`` days without an order."""

    days: int = 90
    name: str = "win_back"

    def triggers(self, data: dict[str, pd.DataFrame], start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
        o = data["orders"][["customer_id", "order_ts"]].sort_values(["customer_id", "order_ts"], kind="stable")
        nxt = o.groupby("customer_id")["order_ts"].shift(-1)
        at = o["order_ts"] + pd.Timedelta(days=self.days)
        lapsed = nxt.isna() | (nxt > at)
        t = pd.DataFrame({"customer_id": o["customer_id"].to_numpy(), "trigger_ts": at.to_numpy(),
                          "detail": f"no order for {self.days} days (last order "
                          + o["order_ts"].dt.strftime("%Y-%m-%d").to_numpy() + ")"})
        t = t.loc[lapsed.to_numpy()]
        return t.loc[(t["trigger_ts"] >= start) & (t["trigger_ts"] < end)]


@dataclass(frozen=True)
class BirthdayOffer:
    """A birthday offer on day ``day_of_month`` of the member's birth month (only the month is known)."""

    day_of_month: int = 1
    name: str = "birthday"

    def triggers(self, data: dict[str, pd.DataFrame], start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
        c = data["customers"]
        days = pd.date_range(start.normalize(), end, freq="D", inclusive="left")
        days = days[(days.day == self.day_of_month) & (days >= start)]
        parts = []
        for d in days:
            who = c.loc[(c["birth_month"] == d.month) & (c["signup_ts"] < d), "customer_id"]
            parts.append(pd.DataFrame({"customer_id": who.to_numpy(), "trigger_ts": d,
                                       "detail": f"birthday month {d.month}"}))
        if not parts:
            return pd.DataFrame(columns=["customer_id", "trigger_ts", "detail"])
        return pd.concat(parts, ignore_index=True)


@dataclass(frozen=True)
class TierUpgrade:
    """A thank-you offer when a member moves up to one of ``tiers``."""

    tiers: tuple[str, ...] = ("silver", "gold", "platinum")
    name: str = "tier_upgrade"

    def triggers(self, data: dict[str, pd.DataFrame], start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
        led = data["loyalty_ledger"]
        ch = led.loc[led["entry_type"] == "tier_change", ["customer_id", "ts", "tier"]].sort_values(
            ["customer_id", "ts"], kind="stable")
        new = ch["tier"].astype(str)
        prev = new.groupby(ch["customer_id"]).shift(1).fillna("member")
        up = new.map(_TIER_RANK) > prev.map(_TIER_RANK)
        t = ch.loc[up & new.isin(self.tiers)]
        t = t.loc[(t["ts"] >= start) & (t["ts"] < end)]
        return pd.DataFrame({"customer_id": t["customer_id"].to_numpy(), "trigger_ts": t["ts"].to_numpy(),
                             "detail": (prev.loc[t.index] + " -> " + new.loc[t.index]).to_numpy()})


#: The shop's standard automation rules, in priority order (first wins under a cap).
DEFAULT_RULES: tuple[Any, ...] = (AbandonedCart(), WelcomeSeries(), TierUpgrade(), BirthdayOffer(), WinBack())


@dataclass(frozen=True)
class FrequencyCap:
    """At most ``per_day`` automated messages a day and ``per_week`` in any 7 days per member.

    Campaign sends (``campaign_contacts.sent``) count towards the weekly cap when
    ``count_campaigns`` is true: members feel the total, not each system's share.
    """

    per_day: int = 1
    per_week: int = 3
    count_campaigns: bool = True


def _automation_data(shop: Any) -> dict[str, pd.DataFrame]:
    tables = getattr(shop, "tables", shop)
    if not isinstance(tables, Mapping):
        raise ValueError(f"automation: expected a Shop (or dict of tables), got {type(shop).__name__}.")
    need = {"customers": ["customer_id", "signup_ts", "birth_month", "marketing_opt_in"],
            "orders": ["customer_id", "order_ts"],
            "events": ["session_id", "customer_id", "ts", "event_type", "product_id"],
            "loyalty_ledger": ["customer_id", "ts", "entry_type", "tier"]}
    data = {}
    for name, cols in need.items():
        if name not in tables:
            raise ValueError(f"automation: the shop has no table {name!r}; simulate with detail='full'.")
        data[name] = frame_with(tables[name], name, cols)
    for name in ("campaign_contacts", "campaigns"):
        data[name] = tables.get(name, _empty(name))
    return data


def automation_triggers(shop: Any, start: Any, end: Any, rules: Sequence[Any] = DEFAULT_RULES) -> pd.DataFrame:
    """Every message the rules would trigger between ``start`` and ``end`` (dates, inclusive).

    One row per (day, customer, rule): rules that fire several times for a member on one day
    (two abandoned carts) send one message, the latest trigger. Columns: day, customer_id,
    rule, priority (0 = first rule), trigger_ts, detail. No suppression or caps yet: see
    :func:`automation_queue`.
    """
    data = _automation_data(shop)
    t0 = _timestamp(start, "start").normalize()
    t1 = _timestamp(end, "end").normalize() + pd.Timedelta(days=1)
    if t1 <= t0:
        raise ValueError(f"automation_triggers(): end {end} is before start {start}.")
    names = [getattr(r, "name", None) for r in rules]
    if any(not isinstance(n, str) for n in names) or len(set(names)) != len(names):
        raise ValueError(f"automation: every rule needs a unique str .name, got {names}.")
    parts = []
    for prio, rule in enumerate(rules):
        t = rule.triggers(data, t0, t1)
        if len(t):
            parts.append(t.assign(rule=rule.name, priority=prio))
    cols = ["day", "customer_id", "rule", "priority", "trigger_ts", "detail"]
    if not parts:
        return pd.DataFrame({c: [] for c in cols})
    out = pd.concat(parts, ignore_index=True)
    out["trigger_ts"] = pd.to_datetime(out["trigger_ts"]).astype("datetime64[ns]")
    out["day"] = out["trigger_ts"].dt.normalize()
    out["customer_id"] = out["customer_id"].astype("int64")
    out = (out.sort_values(["day", "customer_id", "priority", "trigger_ts"], kind="stable")
           .groupby(["day", "customer_id", "rule"], sort=False).tail(1))
    out["detail"] = out["detail"].astype("str")
    return out[cols].sort_values(["day", "priority", "customer_id"], kind="stable").reset_index(drop=True)


def automation_schedule(shop: Any, start: Any, end: Any, rules: Sequence[Any] = DEFAULT_RULES,
                        cap: FrequencyCap | None = FrequencyCap(), suppress_opted_out: bool = True) -> pd.DataFrame:
    """Every automated message from ``start`` to ``end`` (inclusive) with its delivery status.

    The rules' triggers (:func:`automation_triggers`) go through, in order of day and rule
    priority: opt-out suppression (``marketing_opt_in`` false -> ``opted_out``), then the
    frequency cap counting what was already sent that day and in the 6 days before,
    including campaign sends (-> ``capped_daily`` / ``capped_weekly``). Everything else is
    ``send``. Every candidate stays in the result, so nothing is dropped silently.
    """
    trig = automation_triggers(shop, start, end, rules)
    data = _automation_data(shop)
    t0 = _timestamp(start, "start").normalize()
    opted = data["customers"].set_index("customer_id")["marketing_opt_in"]
    status = np.full(len(trig), "send", dtype=object)
    if suppress_opted_out:
        ok = trig["customer_id"].map(opted).fillna(False).astype(bool).to_numpy()
        status[~ok] = "opted_out"
    if cap is not None:
        if cap.per_day < 0 or cap.per_week < 0:
            raise ValueError("FrequencyCap: per_day and per_week must be >= 0.")
        sent_log: dict[int, list[pd.Timestamp]] = {}
        if cap.count_campaigns and len(data["campaign_contacts"]):
            cc = data["campaign_contacts"].loc[data["campaign_contacts"]["sent"]]
            send = cc["campaign_id"].map(data["campaigns"].set_index("campaign_id")["send_ts"]).dt.normalize()
            keep = (send >= t0 - pd.Timedelta(days=6)).to_numpy()
            for cid, sday in zip(cc["customer_id"].to_numpy()[keep], send.to_numpy()[keep], strict=True):
                sent_log.setdefault(int(cid), []).append(pd.Timestamp(sday))
        week = pd.Timedelta(days=6)
        for i, (cid, tday) in enumerate(zip(trig["customer_id"].to_numpy(), trig["day"], strict=True)):
            if status[i] != "send":
                continue
            log = sent_log.setdefault(int(cid), [])
            if sum(1 for x in log if x == tday) >= cap.per_day:
                status[i] = "capped_daily"
            elif sum(1 for x in log if tday - week <= x <= tday) >= cap.per_week:
                status[i] = "capped_weekly"
            else:
                log.append(tday)
    out = trig.copy()
    out["status"] = pd.Categorical(status, categories=["send", "opted_out", "capped_daily", "capped_weekly"])
    return out


def automation_queue(shop: Any, day: Any, rules: Sequence[Any] = DEFAULT_RULES,
                     cap: FrequencyCap | None = FrequencyCap(), suppress_opted_out: bool = True,
                     warmup_days: int = 28) -> pd.DataFrame:
    """The message queue of one ``day``: :func:`automation_schedule` run from ``warmup_days``
    before it (so the week's earlier sends count towards the cap), rows of ``day`` only.

    Columns: day, customer_id, rule, priority, trigger_ts, detail, status (``send``,
    ``opted_out``, ``capped_daily``, ``capped_weekly``); the queue to send is
    ``status == "send"``.
    """
    d = _timestamp(day, "day").normalize()
    if warmup_days < 0:
        raise ValueError("automation_queue(): warmup_days must be >= 0.")
    sched = automation_schedule(shop, d - pd.Timedelta(days=int(warmup_days)), d, rules, cap, suppress_opted_out)
    return sched.loc[sched["day"] == d].reset_index(drop=True)


# =============================================================================== loyalty


_LEDGER_COLUMNS = ["entry_id", "customer_id", "ts", "entry_type", "points", "tier"]


def _ledger(ledger: pd.DataFrame, as_of: Any = None) -> pd.DataFrame:
    frame_with(ledger, "loyalty_ledger", _LEDGER_COLUMNS)
    et = ledger["entry_type"].astype(str)
    pts = ledger["points"]
    bad = ((et == "earn") & (pts < 0)) | (et.isin(["redeem", "expire"]) & (pts > 0)) | ((et == "tier_change") & (pts != 0))
    if bad.any():
        raise ValueError(f"table 'loyalty_ledger', column 'points': entries {ledger.loc[bad, 'entry_id'].tolist()[:5]} "
                         "have the wrong sign (earn >= 0, redeem/expire <= 0, tier_change = 0); fix the sign.")
    if as_of is None:
        return ledger
    return ledger.loc[ledger["ts"] < _timestamp(as_of, "as_of")]


@reads(ledger="")
def points_balance(ledger: pd.DataFrame, as_of: Any = None) -> pd.DataFrame:
    """Points per member from the ledger: earned, redeemed, expired (positive numbers) and balance.

    ``as_of`` counts entries strictly before that moment. Members without entries are absent;
    join to ``customers`` and fill 0 for a full list.
    """
    led = _ledger(ledger, as_of)
    et = led["entry_type"].astype(str)
    g = pd.DataFrame({"customer_id": led["customer_id"].to_numpy(),
                      "earned": np.where(et == "earn", led["points"], 0),
                      "redeemed": np.where(et == "redeem", -led["points"], 0),
                      "expired": np.where(et == "expire", -led["points"], 0)})
    out = g.groupby("customer_id", sort=True)[["earned", "redeemed", "expired"]].sum().astype("int64")
    out["balance"] = out["earned"] - out["redeemed"] - out["expired"]
    if (out["balance"] < 0).any():
        bad = out.index[out["balance"] < 0].tolist()[:5]
        raise ValueError(f"table 'loyalty_ledger': members {bad} redeem or expire more points than they earned; "
                         "fix the ledger (is an earn entry missing?).")
    return out.reset_index()


@reads(orders="customer_id order_ts amount",
       customers=Reads("customers", ("customer_id",), optional=True))
def assign_tiers(orders: pd.DataFrame, as_of: Any, thresholds: Mapping[str, float] = TIER_THRESHOLDS,
                 window_months: int = 12, customers: pd.DataFrame | None = None) -> pd.DataFrame:
    """Tier of each member at ``as_of`` from paid spend in the ``window_months`` before it.

    The shop's rule: trailing 12-month spend of NT$5,000 makes silver, 20,000 gold, 60,000
    platinum (``thresholds``); below that a member is ``member``. Returns customer_id,
    spend_12m, tier (every member of ``customers`` if given, else every buyer).
    Thresholds are finite positive NT$ amounts; ``window_months`` a whole number >= 1.
    """
    t = _timestamp(as_of, "as_of")
    if set(thresholds) - set(TIERS[1:]):
        raise ValueError(f"assign_tiers(): thresholds keys must be among {list(TIERS[1:])}.")
    for k, v in thresholds.items():
        check_number(v, f"thresholds[{k!r}]", func="assign_tiers", low=0, low_open=True,
                     example="5000 (NT$ of 12-month spend)")
    check_number(window_months, "window_months", func="assign_tiers", low=1, integer=True, example="12")
    lo = t - pd.DateOffset(months=window_months)
    w = orders.loc[(orders["order_ts"] >= lo) & (orders["order_ts"] < t)]
    spend = w.groupby("customer_id")["amount"].sum()
    ids = customers["customer_id"] if customers is not None else pd.Series(np.sort(orders["customer_id"].unique()))
    out = pd.DataFrame({"customer_id": ids.to_numpy()})
    out["spend_12m"] = out["customer_id"].map(spend).fillna(0.0)
    names = ["member"] + [k for k in TIERS[1:] if k in thresholds]
    cuts = np.array([thresholds[k] for k in names[1:]], dtype=float)
    if np.any(np.diff(cuts) <= 0):
        raise ValueError("assign_tiers(): thresholds must increase from silver to platinum.")
    idx = np.searchsorted(cuts, out["spend_12m"].to_numpy(), side="right")
    out["tier"] = pd.Categorical(np.asarray(names, dtype=object)[idx], categories=list(TIERS), ordered=True)
    return out


@reads(ledger="")
def tier_at(ledger: pd.DataFrame, when: Any, customers: pd.DataFrame | pd.Series | None = None) -> pd.DataFrame:
    """Each member's tier at ``when`` from the ledger's tier_change entries (default ``member``)."""
    led = _ledger(ledger)
    t = _timestamp(when, "when")
    ch = led.loc[(led["entry_type"] == "tier_change") & (led["ts"] <= t), ["customer_id", "ts", "tier"]]
    last = ch.sort_values(["customer_id", "ts"], kind="stable").groupby("customer_id").tail(1).set_index("customer_id")["tier"]
    if customers is None:
        ids = pd.Series(np.sort(led["customer_id"].unique()))
    else:
        ids = customers["customer_id"] if isinstance(customers, pd.DataFrame) else pd.Series(customers)
    mapped = ids.map(last.astype(str)).astype(object)
    tier = np.where(mapped.isna().to_numpy(), "member", mapped.to_numpy())
    return pd.DataFrame({"customer_id": ids.to_numpy(),
                         "tier": pd.Categorical(tier, categories=list(TIERS), ordered=True)})


@reads(ledger="")
def tier_migration(ledger: pd.DataFrame, customers: pd.DataFrame, start: Any, end: Any,
                   normalize: bool = False) -> pd.DataFrame:
    """Tier migration matrix: members by tier at ``start`` (rows) and at ``end`` (columns).

    ``normalize=True`` gives row shares (the transition probabilities of the period).
    """
    a = tier_at(ledger, start, customers)
    b = tier_at(ledger, end, customers)
    m = pd.crosstab(a["tier"], b["tier"], dropna=False).reindex(index=list(TIERS), columns=list(TIERS), fill_value=0)
    m.index.name, m.columns.name = "from_tier", "to_tier"
    if normalize:
        m = m.div(m.sum(axis=1).replace(0, np.nan), axis=0)
    return m


@reads(ledger="")
def breakage_rate(ledger: pd.DataFrame, as_of: Any = None, expiry_days: int = 365) -> dict[str, float]:
    """Share of issued points that expire unused, from cohorts old enough to have expired.

    Points expire ``expiry_days`` after they are earned, so every point earned before
    ``as_of - expiry_days`` has met its fate by ``as_of``: breakage = points expired by
    ``as_of`` / points earned by that cutoff. Returns earned_mature, expired, breakage.
    Raises ``ValueError`` when no cohort is mature yet (e.g. a shop shorter than the expiry).
    """
    led = _ledger(ledger)
    t = led["ts"].max() + pd.Timedelta(seconds=1) if as_of is None else _timestamp(as_of, "as_of")
    cutoff = t - pd.Timedelta(days=expiry_days)
    et = led["entry_type"].astype(str)
    earned = float(led.loc[(et == "earn") & (led["ts"] < cutoff), "points"].sum())
    expired = float(-led.loc[(et == "expire") & (led["ts"] < t), "points"].sum())
    if earned <= 0:
        raise ValueError(
            f"breakage_rate(): loyalty_ledger has no points earned before {cutoff.date()} (as_of minus {expiry_days} days), so no "
            "cohort has reached its expiry; use a longer history or pass an assumed breakage to points_liability()."
        )
    return {"earned_mature": earned, "expired": expired, "breakage": expired / earned}


@reads(ledger="")
def points_liability(ledger: pd.DataFrame, as_of: Any = None, point_value: float = 1.0,
                     breakage: float | None = None, expiry_days: int = 365) -> dict[str, float]:
    """The points liability: outstanding points x value per point x expected redemption share.

    ``breakage`` (share of points that will never be redeemed) defaults to the mature-cohort
    estimate of :func:`breakage_rate`. Returns outstanding_points, face_value (every point
    redeemed), breakage and liability (expected redemptions, the IFRS 15 contract liability
    measured at the points' stand-alone selling price).
    """
    if point_value <= 0:
        raise ValueError("points_liability(): point_value must be a positive NT$ amount per point.")
    bal = points_balance(ledger, as_of)
    if breakage is None:
        breakage = breakage_rate(ledger, as_of, expiry_days)["breakage"]
    if not 0 <= breakage <= 1:
        raise ValueError(f"points_liability(): breakage={breakage} must lie in [0, 1].")
    outstanding = float(bal["balance"].sum())
    return {"outstanding_points": outstanding, "face_value": outstanding * point_value, "breakage": float(breakage),
            "liability": outstanding * point_value * (1 - breakage)}


def ifrs15_allocate(transaction_price: float, goods_ssp: float, points: float, point_value: float,
                    expected_redemption: float) -> pd.Series:
    """IFRS 15 relative stand-alone selling price allocation between goods and loyalty points.

    The points' stand-alone selling price is points x value x expected redemption share
    (IFRS 15.B42); the transaction price is split in proportion to the two stand-alone
    prices. Returns goods_ssp, points_ssp, goods_revenue and points_allocated (the contract
    liability recognised at the sale). IFRS 15 Illustrative Example 52: 100,000 of sales,
    10,000 points worth CU1, 95% expected redemption -> 91,324 and 8,676.
    """
    for name, v in (("transaction_price", transaction_price), ("goods_ssp", goods_ssp), ("points", points),
                    ("point_value", point_value)):
        if not np.isfinite(v) or v < 0:
            raise ValueError(f"ifrs15_allocate(): {name}={v!r} must be a finite number >= 0.")
    if not 0 <= expected_redemption <= 1:
        raise ValueError(f"ifrs15_allocate(): expected_redemption={expected_redemption!r} must lie in [0, 1].")
    points_ssp = points * point_value * expected_redemption
    total = goods_ssp + points_ssp
    if total <= 0:
        raise ValueError("ifrs15_allocate(): the stand-alone selling prices add up to 0; nothing to allocate.")
    return pd.Series({"goods_ssp": float(goods_ssp), "points_ssp": float(points_ssp),
                      "goods_revenue": transaction_price * goods_ssp / total,
                      "points_allocated": transaction_price * points_ssp / total})


def ifrs15_schedule(points_allocated: float, cumulative_redeemed: Sequence[float],
                    expected_total: Sequence[float] | float) -> pd.DataFrame:
    """Revenue from loyalty points period by period (IFRS 15 Example 52's method).

    Cumulative revenue at the end of a period = allocated x points redeemed so far / points
    expected to be redeemed in total (the estimate of that period, so a revised estimate
    changes the current period only, a change in estimate under IAS 8). Columns: period,
    cumulative_redeemed, expected_total, cumulative_revenue, revenue, contract_liability.
    """
    cum = np.asarray(cumulative_redeemed, dtype=float)
    exp = np.broadcast_to(np.asarray(expected_total, dtype=float), cum.shape).astype(float)
    if cum.ndim != 1 or not len(cum):
        raise ValueError("ifrs15_schedule(): cumulative_redeemed must be a non-empty list, one number per period.")
    if np.any(np.diff(cum) < 0) or np.any(cum < 0):
        raise ValueError("ifrs15_schedule(): cumulative_redeemed must be cumulative (never decreasing, >= 0).")
    if np.any(exp <= 0):
        raise ValueError("ifrs15_schedule(): expected_total must be positive in every period.")
    share = np.minimum(cum / exp, 1.0)
    cumrev = points_allocated * share
    return pd.DataFrame({"period": np.arange(1, len(cum) + 1), "cumulative_redeemed": cum, "expected_total": exp,
                         "cumulative_revenue": cumrev, "revenue": np.diff(np.r_[0.0, cumrev]),
                         "contract_liability": points_allocated - cumrev})


@reads(orders="order_ts amount", ledger="")
def loyalty_deferral(orders: pd.DataFrame, ledger: pd.DataFrame, expected_redemption: float,
                     point_value: float = 1.0, freq: str = "YS") -> pd.DataFrame:
    """IFRS 15 allocation of each period's sales between goods and the points they earned.

    Per period (``freq``, default calendar years): sales (paid amounts), points_issued (earn
    entries), points_ssp, goods_revenue and points_deferred (revenue deferred to the points
    and recognised later as they are redeemed).
    """
    frame_with(orders, "orders", ["order_ts", "amount"])
    led = _ledger(ledger)
    sales = orders.groupby(pd.Grouper(key="order_ts", freq=freq))["amount"].sum()
    earn = led.loc[led["entry_type"] == "earn"]
    issued = earn.groupby(pd.Grouper(key="ts", freq=freq))["points"].sum()
    idx = sales.index.union(issued.index)
    rows = []
    for p in idx:
        s = float(sales.get(p, 0.0))
        n = float(issued.get(p, 0.0))
        a = ifrs15_allocate(s, s, n, point_value, expected_redemption) if s + n > 0 else None
        rows.append({"period": p, "sales": s, "points_issued": n,
                     "points_ssp": 0.0 if a is None else a["points_ssp"],
                     "goods_revenue": 0.0 if a is None else a["goods_revenue"],
                     "points_deferred": 0.0 if a is None else a["points_allocated"]})
    return pd.DataFrame(rows)


def markov_member_value(transition: pd.DataFrame, reward: pd.Series | Mapping[str, float],
                        discount: float | None = None, absorbing: Sequence[str] | None = None, *,
                        discount_rate: float | None = None) -> pd.DataFrame:
    """Expected discounted value of a member in each state of an absorbing Markov chain.

    ``transition`` is a square matrix of period-to-period probabilities (rows sum to 1) over
    states; ``absorbing`` states (default: those that stay put with probability 1, e.g.
    ``lapsed``) earn nothing and never leave. With Q the transient block, r the reward per
    period and d = 1 / (1 + ``discount_rate``) the discount factor per period, the value of
    starting in each transient state is V = sum_t d^t Q^t r = (I - dQ)^(-1) r (the reward of
    the current period included). Also returned: ``expected_periods`` before absorption,
    N 1 with N = (I - Q)^(-1) the fundamental matrix (infinite when absorption is not certain).

    ``discount_rate`` is the rate per period, like :func:`tier_chain`'s
    ``annual_discount_rate`` (for 10% a year and quarterly periods: ``1.10 ** 0.25 - 1``).
    The former ``discount`` (the factor d itself) still works but is deprecated.
    """
    if discount is not None:
        if discount_rate is not None:
            raise ValueError("markov_member_value(): pass discount_rate (the rate per period) only, not also "
                             "the deprecated discount factor.")
        warnings.warn("markov_member_value(discount=d) is deprecated: pass discount_rate=1/d - 1, the rate "
                      "per period (as tier_chain's annual_discount_rate is a rate).", DeprecationWarning,
                      stacklevel=2)
    elif discount_rate is None:
        raise ValueError("markov_member_value(): pass discount_rate, the discount rate per period (e.g. "
                         "1.10 ** 0.25 - 1 for 10% a year with quarterly periods; 0 for no discounting).")
    else:
        if not np.isfinite(discount_rate) or discount_rate < 0:
            raise ValueError(f"markov_member_value(): discount_rate={discount_rate!r} must be a rate >= 0 per "
                             "period, e.g. 0.024 for 10% a year with quarterly periods.")
        discount = 1.0 / (1.0 + discount_rate)
    if not isinstance(transition, pd.DataFrame) or list(transition.index) != list(transition.columns):
        raise ValueError("markov_member_value(): transition must be a square DataFrame with the same states as "
                         "index and columns.")
    P = transition.to_numpy(dtype=float)
    if np.any(P < -1e-12) or not np.allclose(P.sum(axis=1), 1.0, atol=1e-9):
        raise ValueError("markov_member_value(): every row of transition must be probabilities summing to 1.")
    if not 0 < discount <= 1:
        raise ValueError(f"markov_member_value(): discount={discount!r} is a per-period factor in (0, 1], e.g. "
                         "1 / (1 + 0.10) ** 0.25 for 10% a year with quarterly periods.")
    states = list(transition.index)
    if absorbing is None:
        absorbing = [s for i, s in enumerate(states) if np.isclose(P[i, i], 1.0)]
    unknown = [s for s in absorbing if s not in states]
    if unknown:
        raise ValueError(f"markov_member_value(): absorbing state(s) {unknown} are not in the transition matrix.")
    r = pd.Series(reward, dtype=float)
    transient = [s for s in states if s not in absorbing]
    miss = [s for s in transient if s not in r.index]
    if miss:
        raise ValueError(f"markov_member_value(): reward lacks state(s) {miss}.")
    if any(abs(float(r.get(s, 0.0))) > 0 for s in absorbing):
        raise ValueError("markov_member_value(): absorbing states earn nothing; set their reward to 0.")
    ti = [states.index(s) for s in transient]
    Q = P[np.ix_(ti, ti)]
    eye = np.eye(len(ti))
    try:
        V = np.linalg.solve(eye - discount * Q, r.loc[transient].to_numpy())
    except np.linalg.LinAlgError:
        raise ValueError("markov_member_value(): with discount_rate=0 the chain never ends (no absorbing state "
                         "is reachable); use a discount rate above 0.") from None
    try:
        steps = np.linalg.solve(eye - Q, np.ones(len(ti)))
        if np.any(steps < 0) or not np.all(np.isfinite(steps)):
            steps = np.full(len(ti), np.inf)
    except np.linalg.LinAlgError:
        steps = np.full(len(ti), np.inf)
    return pd.DataFrame({"state": transient, "reward": r.loc[transient].to_numpy(), "expected_value": V,
                         "expected_periods": steps})


@dataclass
class TierChain:
    """Tier transitions estimated from the data (see :func:`tier_chain`)."""

    counts: pd.DataFrame
    transition: pd.DataFrame
    reward: pd.Series
    values: pd.DataFrame
    period_months: int
    discount: float
    reactivated: int = 0
    notes: list[str] = field(default_factory=list)


@reads(ledger=Reads("loyalty_ledger", nonempty=True),
       orders=Reads("orders", ("customer_id", "order_ts", "amount"), nonempty=True))
def tier_chain(ledger: pd.DataFrame, orders: pd.DataFrame, period_months: int = 3, lapse_days: int = 365,
               annual_discount_rate: float = 0.10, margin: float = 1.0, start: Any = None,
               end: Any = None) -> TierChain:
    """Expected member value by tier from the observed tier chain (an absorbing Markov chain).

    At each period start (every ``period_months`` months) every member who has bought before
    is in a state: their ledger tier, or ``lapsed`` when their last order is ``lapse_days`` or
    more in the past (absorbing: the chain assumes lapsed members do not come back; how many
    did is reported in ``reactivated``). Transition counts between consecutive period starts
    give the matrix; the reward of a state is the mean ``margin`` x spend in the following
    period. Only transitions into period starts at least ``lapse_days`` after the first order
    of the data are counted (before that nobody *can* be lapsed, which would make the chain
    believe that nobody ever leaves). Values come from :func:`markov_member_value` with the
    per-period discount factor ``(1 + annual_discount_rate) ** (-period_months / 12)``.
    """
    frame_with(orders, "orders", ["customer_id", "order_ts", "amount"])
    led = _ledger(ledger)
    if period_months < 1 or annual_discount_rate < 0 or margin <= 0:
        raise ValueError("tier_chain(): period_months >= 1, annual_discount_rate >= 0 and margin > 0 please.")
    t0 = _timestamp(start, "start") if start is not None else orders["order_ts"].min().normalize().replace(day=1)
    t1 = _timestamp(end, "end") if end is not None else orders["order_ts"].max()
    starts = pd.date_range(t0, t1, freq=pd.DateOffset(months=period_months))
    if len(starts) < 3:
        raise ValueError(f"tier_chain(): the orders cover {len(starts)} period start(s) between {t0.date()} and {t1.date()}; need at "
                         f"least 3 (two transitions); use shorter periods or a longer history.")
    states = list(TIERS) + ["lapsed"]
    o = orders[["customer_id", "order_ts", "amount"]]
    first = o.groupby("customer_id")["order_ts"].min()
    snaps = []
    for k, t in enumerate(starts):
        members = first.index[first < t]
        last = o.loc[o["order_ts"] < t].groupby("customer_id")["order_ts"].max().reindex(members)
        tier = tier_at(led, t, pd.Series(members))
        state = tier["tier"].astype(str).to_numpy(dtype=object)
        state[((t - last) / pd.Timedelta(days=1)).to_numpy() >= lapse_days] = "lapsed"
        if k + 1 < len(starts):  # spend in the full period that follows (none after the last start)
            nxt = starts[k + 1]
            spend = o.loc[(o["order_ts"] >= t) & (o["order_ts"] < nxt)].groupby("customer_id")["amount"].sum()
            period_spend = pd.Series(members).map(spend).fillna(0.0).to_numpy() * margin
        else:
            period_spend = np.full(len(members), np.nan)
        snaps.append(pd.DataFrame({"k": k, "customer_id": members.to_numpy(), "state": state,
                                   "spend": period_spend}))
    panel = pd.concat(snaps, ignore_index=True)
    reward = panel.dropna(subset=["spend"]).groupby("state")["spend"].mean().reindex(states).fillna(0.0)
    pairs = panel.merge(panel[["k", "customer_id", "state"]].assign(k=lambda x: x["k"] - 1),
                        on=["k", "customer_id"], suffixes=("", "_next"))
    # A lapse can only be seen once the data are lapse_days long: transitions into earlier
    # period starts would count "nobody lapsed" as evidence and make members look immortal.
    observable = np.flatnonzero(starts[1:] - o["order_ts"].min() >= pd.Timedelta(days=lapse_days))
    if not len(observable):
        raise ValueError(
            f"tier_chain(): the data ({o['order_ts'].min().date()} to {t1.date()}) are too short to see a "
            f"member lapse after {lapse_days} days and then move on; use a smaller lapse_days or a longer history."
        )
    n_dropped = int((~pairs["k"].isin(observable)).sum())
    pairs = pairs.loc[pairs["k"].isin(observable)]
    counts = pd.crosstab(pd.Categorical(pairs["state"], categories=states),
                         pd.Categorical(pairs["state_next"], categories=states), dropna=False)
    counts.index.name, counts.columns.name = "from_state", "to_state"
    reactivated = int(counts.loc["lapsed", [s for s in states if s != "lapsed"]].sum())
    notes = [f"transitions counted from {len(observable)} period(s) in which a lapse was observable; "
             f"{n_dropped} earlier member-period transitions were left out."] if n_dropped else []
    if reactivated:
        notes.append(f"{reactivated} lapsed-to-active transitions were observed and treated as staying lapsed "
                     "(lapsed is absorbing in this chain).")
    trans = counts.astype(float)
    trans.loc["lapsed"] = 0.0
    trans.loc["lapsed", "lapsed"] = 1.0
    empty = [s for s in states if s != "lapsed" and counts.loc[s].sum() == 0]
    for s in empty:  # a tier nobody held: keep it in place so the matrix stays valid, and say so
        trans.loc[s] = 0.0
        trans.loc[s, s] = 1.0
        notes.append(f"no member was in state {s!r} at a period start; its row is a placeholder and it is left out of the values.")
        reward[s] = 0.0
    trans = trans.div(trans.sum(axis=1), axis=0)
    reward_chain = reward.copy()
    reward_chain["lapsed"] = 0.0
    discount = (1 + annual_discount_rate) ** (-period_months / 12)
    values = markov_member_value(trans, reward_chain, absorbing=["lapsed", *empty],
                                 discount_rate=(1 + annual_discount_rate) ** (period_months / 12) - 1)
    return TierChain(counts.astype("int64"), trans, reward, values, period_months, discount, reactivated, notes)


# =============================================================================== data protection


#: The shortest token :func:`pseudonymize` makes (hex characters); shorter ones collide.
MIN_TOKEN_LENGTH = 16


def pseudonymize(df: pd.DataFrame, columns: Sequence[str], salt: str | bytes, length: int | None = None) -> pd.DataFrame:
    """Replace identifying columns by keyed hashes (HMAC-SHA256 with ``salt`` as the key).

    The same value gives the same token in every table hashed with the same salt, so joins
    still work, but without the salt nobody can recompute the tokens from a list of ids or
    e-mail addresses (a plain unsalted hash of a member id is reversed by hashing 1..n).
    Values are encoded as their text (``str(value)``, UTF-8); missing values stay missing.
    ``length`` keeps the first hex characters (64 = all). Keep the salt secret and separate.
    """
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"pseudonymize(): expected a DataFrame, got {type(df).__name__}.")
    if isinstance(columns, str):
        columns = [columns]
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"pseudonymize(): column(s) {missing} are not in the table; columns: {list(df.columns)}.")
    key = salt.encode("utf-8") if isinstance(salt, str) else salt
    if not isinstance(key, bytes) or len(key) < 16:
        raise ValueError("pseudonymize(): salt must be a secret of at least 16 bytes, e.g. secrets.token_hex(16); "
                         "a short key can be guessed and the tokens reversed.")
    if length is not None:
        # 16 hex characters (64 bits): two of a million ids share a token with probability
        # about 3e-8; 2 characters (256 tokens) merge customers in every join.
        check_number(length, "length", func="pseudonymize", low=MIN_TOKEN_LENGTH, high=64,
                     integer=True, example="16 (or None for all 64 hex characters)")
        length = int(length)
    out = df.copy()
    for col in columns:
        s = df[col]
        if pd.api.types.is_float_dtype(s.dtype):
            raise ValueError(f"pseudonymize(): column {col!r} holds floats, whose text is ambiguous (1 vs 1.0); "
                             "convert to int or str first.")
        values = s.astype(object).to_numpy()
        miss = s.isna().to_numpy()
        tokens = [None if m else hmac.new(key, str(v).encode("utf-8"), hashlib.sha256).hexdigest()[:length]
                  for v, m in zip(values, miss, strict=True)]
        out[col] = pd.array(tokens, dtype="str")
    return out


@dataclass
class KAnonymityReport:
    """Result of :func:`k_anonymity`.

    ``k`` is the size of the smallest group of rows sharing the same quasi-identifiers (the
    table is k-anonymous for that k); ``classes`` lists every combination with its size,
    ``violations`` those smaller than the required ``k_required``.
    """

    quasi_identifiers: list[str]
    k_required: int
    k: int
    n_rows: int
    n_classes: int
    rows_at_risk: int
    classes: pd.DataFrame
    violations: pd.DataFrame

    @property
    def satisfied(self) -> bool:
        return self.k >= self.k_required

    def __repr__(self) -> str:
        return (f"KAnonymityReport(k={self.k}, required {self.k_required}: "
                f"{'OK' if self.satisfied else 'NOT k-anonymous'}; {self.n_classes} classes, "
                f"{self.rows_at_risk} of {self.n_rows} rows in classes smaller than {self.k_required})")


def k_anonymity(df: pd.DataFrame, quasi_identifiers: Sequence[str], k: int = 5) -> KAnonymityReport:
    """Check k-anonymity: does every combination of quasi-identifiers cover at least ``k`` rows?

    Quasi-identifiers are columns that are not names or ids but single people out in
    combination (age band, gender, city, birth month...). Missing values count as a value.
    """
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"k_anonymity(): expected a DataFrame, got {type(df).__name__}.")
    qi = [quasi_identifiers] if isinstance(quasi_identifiers, str) else list(quasi_identifiers)
    if not qi:
        raise ValueError("k_anonymity(): name at least one quasi-identifier column.")
    missing = [c for c in qi if c not in df.columns]
    if missing:
        raise ValueError(f"k_anonymity(): column(s) {missing} are not in the table; columns: {list(df.columns)}.")
    if int(k) < 1:
        raise ValueError("k_anonymity(): k must be >= 1.")
    if df.empty:
        raise ValueError("k_anonymity(): the table is empty.")
    classes = (df.groupby(qi, observed=True, dropna=False, sort=True).size().rename("size").reset_index()
               .sort_values(["size", *qi], kind="stable").reset_index(drop=True))
    small = classes.loc[classes["size"] < k].reset_index(drop=True)
    return KAnonymityReport(qi, int(k), int(classes["size"].min()), len(df), len(classes), int(small["size"].sum()),
                            classes, small)


def suppress_rare(df: pd.DataFrame, quasi_identifiers: Sequence[str], k: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a table into the rows whose quasi-identifier class has >= k rows and the rest.

    Returns ``(kept, removed)`` so that the suppression is visible and counted; ``kept`` is
    k-anonymous for these quasi-identifiers. Generalising (city -> region) first keeps more.
    """
    report = k_anonymity(df, quasi_identifiers, k)
    qi = report.quasi_identifiers
    size = df.groupby(qi, observed=True, dropna=False, sort=False)[qi[0]].transform("size")
    keep = (size >= k).to_numpy()
    return df.loc[keep], df.loc[~keep]


# --------------------------------------------------------------------------------------
# online and offline membership (線上線下會員互通): one profile across channels
# --------------------------------------------------------------------------------------

#: Order channels that are physical stores; every other channel is online.
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


# --------------------------------------------------------------------------------------
# data security beyond pseudonymization: who may see which fields, retention, consent
# --------------------------------------------------------------------------------------

#: Who may see which customer field (role -> field -> "show", "mask" or "hide"). Data, not
#: code: a shop states its own policy. Fields not listed are hidden ("least privilege").
FIELD_ACCESS: dict[str, dict[str, str]] = {
    "analyst": {"customer_id": "show", "signup_ts": "show", "acquisition_channel": "show",
                "age_band": "show", "region": "show", "device": "show", "interests": "show",
                "marketing_opt_in": "show", "email": "hide", "city": "hide", "gender": "show",
                "birth_month": "hide", "referred_by": "show"},
    "support_agent": {"customer_id": "show", "signup_ts": "show", "email": "mask", "city": "show",
                      "region": "show", "device": "show", "marketing_opt_in": "show"},
    "marketer": {"customer_id": "show", "age_band": "show", "region": "show", "interests": "show",
                 "marketing_opt_in": "show", "email": "mask", "birth_month": "show"},
    "dpo": {},  # the data protection officer sees everything: an empty policy means all "show"
}


def _mask(value: object) -> object:
    """``alice@example.com`` -> ``a***@example.com``; other text keeps its first character."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return value
    text = str(value)
    local, at, domain = text.partition("@")
    return f"{local[:1]}***{at}{domain}" if at else f"{text[:1]}***"


@reads(customers="")
def view_for_role(customers: pd.DataFrame, role: str,
                  policy: Mapping[str, Mapping[str, str]] | None = None) -> pd.DataFrame:
    """The customer table as ``role`` may see it under ``policy`` (default :data:`FIELD_ACCESS`):
    "show" keeps a column, "mask" keeps its first character (and an e-mail's domain), "hide"
    and unlisted columns are dropped. An empty policy for a role shows every column."""
    rules = FIELD_ACCESS if policy is None else policy
    if role not in rules:
        raise ValueError(f"view_for_role: unknown role {role!r}; the policy has {sorted(rules)}.")
    allowed = rules[role]
    bad = {v for v in allowed.values()} - {"show", "mask", "hide"}
    if bad:
        raise ValueError(f"view_for_role: policy for {role!r} uses {sorted(bad)}; use show, mask or hide.")
    if not allowed:
        return customers.copy()
    keep = [c for c in customers.columns if allowed.get(c, "hide") != "hide"]
    out = customers[keep].copy()
    for col in keep:
        if allowed[col] == "mask":
            out[col] = out[col].map(_mask).astype("str")
    return out


@reads(customers="customer_id signup_ts", orders="customer_id order_ts")
def retention_due(customers: pd.DataFrame, orders: pd.DataFrame, as_of: Any,
                  keep_days: int = 3 * 365) -> pd.DataFrame:
    """Members whose personal data has passed its retention period at ``as_of``: no order and
    no signup in the last ``keep_days`` days (the purpose, serving them, has ended). Returns
    ``customer_id``, ``last_activity`` and ``days_inactive``, longest first. What to do next
    (delete or anonymise) is the shop's policy; the law asks that it is stated and followed."""
    frame_with(customers, "customers", ["customer_id", "signup_ts"])
    frame_with(orders, "orders", ["customer_id", "order_ts"])
    if isinstance(keep_days, bool) or not isinstance(keep_days, int | np.integer) or keep_days < 1:
        raise ValueError(f"retention_due: keep_days={keep_days!r} must be a positive whole number of days.")
    when = pd.Timestamp(as_of)
    last_order = orders.loc[orders["order_ts"] <= when].groupby("customer_id")["order_ts"].max()
    signup = customers.set_index("customer_id")["signup_ts"]
    last = pd.concat([signup, last_order.reindex(signup.index)], axis=1).max(axis=1)
    idle = (when - last).dt.days
    due = idle[idle > keep_days].sort_values(ascending=False, kind="stable")
    return pd.DataFrame({"customer_id": due.index, "last_activity": last[due.index].to_numpy(),
                         "days_inactive": due.to_numpy()})


# marketing_opt_in may be missing here: a missing consent means no (see the docstring)
@reads(customers=Reads("customers", ("customer_id",), extra=("marketing_opt_in",)))
def consent_filter(customers: pd.DataFrame, purpose: str = "marketing") -> pd.DataFrame:
    """Members who may be contacted for ``purpose`` ("marketing": ``marketing_opt_in`` is
    True). Consent is per purpose: a member who gave no answer (missing) is not contacted."""
    if purpose != "marketing":
        raise ValueError(f"consent_filter: purpose {purpose!r}; the shop records consent for 'marketing'.")
    frame_with(customers, "customers", ["customer_id", "marketing_opt_in"])
    return customers.loc[customers["marketing_opt_in"].fillna(False).astype(bool)]
