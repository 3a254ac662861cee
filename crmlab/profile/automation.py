"""Marketing automation (行銷自動化): trigger rules, opt-out suppression and frequency caps.

Each rule (:class:`WelcomeSeries`, :class:`AbandonedCart`, :class:`WinBack`,
:class:`BirthdayOffer`, :class:`TierUpgrade`) finds the moments its message is due in the
event log; :func:`automation_triggers` collects them, :func:`automation_schedule` applies
opt-out suppression and the :class:`FrequencyCap`, and :func:`automation_queue` is one
day's send queue. A rule is any object with a unique ``name`` and a
``triggers(data, start, end)`` method returning customer_id, trigger_ts and detail.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crmlab._checks import as_timestamp as _timestamp
from crmlab._checks import frame_with
from crmlab.profile.loyalty import _TIER_RANK
from crmlab.profile.unified import _empty

__all__ = ["DEFAULT_RULES", "AbandonedCart", "BirthdayOffer", "FrequencyCap", "TierUpgrade",
           "WelcomeSeries", "WinBack", "automation_queue", "automation_schedule", "automation_triggers"]


@dataclass(frozen=True)
class WelcomeSeries:
    """Welcome messages ``steps`` days after sign-up (day 0 = the sign-up day).

    With ``stop_after_purchase`` later steps are skipped once the member has ordered.

    Parameters
    ----------
    steps : tuple of int, default (0, 3, 7)
        Days after sign-up of each message.
    stop_after_purchase : bool, default True
        Skip the later steps once the member has ordered.
    name : str, default "welcome"
        The rule's name in the schedule.
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
    """A reminder ``hours`` after a session's last add-to-cart when no order followed in between.

    Parameters
    ----------
    hours : float, default 24.0
        Hours after the session's last add-to-cart at which the reminder goes out.
    name : str, default "abandoned_cart"
        The rule's name in the schedule.
    """

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
    """A win-back offer on the day a buyer reaches ``days`` days without an order.

    Parameters
    ----------
    days : int, default 90
        Days without an order after which the offer goes out.
    name : str, default "win_back"
        The rule's name in the schedule.
    """

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
    """A birthday offer on day ``day_of_month`` of the member's birth month (only the month is known).

    Parameters
    ----------
    day_of_month : int, default 1
        Day of the birth month on which the offer goes out.
    name : str, default "birthday"
        The rule's name in the schedule.
    """

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
    """A thank-you offer when a member moves up to one of ``tiers``.

    Parameters
    ----------
    tiers : tuple of str, default ("silver", "gold", "platinum")
        The tiers whose reaching triggers the message.
    name : str, default "tier_upgrade"
        The rule's name in the schedule.
    """

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

    Parameters
    ----------
    per_day : int, default 1
        Most automated messages a member gets on one day.
    per_week : int, default 3
        Most messages in any 7 days.
    count_campaigns : bool, default True
        Count campaign sends towards the weekly cap.
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

    Parameters
    ----------
    shop : Shop or mapping of tables
        Needs ``customers``, ``orders``, ``events`` and ``loyalty_ledger``.
    start, end : date-like
        First and last day, both included.
    rules : sequence of rules, default DEFAULT_RULES
        Objects with a unique ``name`` and ``triggers(data, start, end)``, in priority order.

    Returns
    -------
    pd.DataFrame
        One row per (day, customer, rule): day, customer_id, rule, priority, trigger_ts, detail.
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

    Parameters
    ----------
    shop : Shop or mapping of tables
        As for :func:`automation_triggers`.
    start, end : date-like
        First and last day, both included.
    rules : sequence of rules, default DEFAULT_RULES
        The trigger rules in priority order.
    cap : FrequencyCap or None, default FrequencyCap()
        The frequency cap; None for no cap.
    suppress_opted_out : bool, default True
        Mark members without marketing consent ``opted_out``.

    Returns
    -------
    pd.DataFrame
        The triggers with a categorical ``status``: send, opted_out, capped_daily, capped_weekly.
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

    Parameters
    ----------
    shop : Shop or mapping of tables
        As for :func:`automation_triggers`.
    day : date-like
        The day of the queue.
    rules, cap, suppress_opted_out
        As for :func:`automation_schedule`.
    warmup_days : int, default 28
        Days of schedule before ``day`` whose sends count towards the cap.

    Returns
    -------
    pd.DataFrame
        The schedule's rows of ``day``.
    """
    d = _timestamp(day, "day").normalize()
    if warmup_days < 0:
        raise ValueError("automation_queue(): warmup_days must be >= 0.")
    sched = automation_schedule(shop, d - pd.Timedelta(days=int(warmup_days)), d, rules, cap, suppress_opted_out)
    return sched.loc[sched["day"] == d].reset_index(drop=True)
