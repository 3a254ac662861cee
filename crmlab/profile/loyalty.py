"""Loyalty programme (忠誠度計畫): points, tiers and the expected value of a member by tier.

:func:`points_balance`, :func:`assign_tiers`, :func:`tier_at`, :func:`tier_migration`,
:func:`breakage_rate` and :func:`points_liability` read the ``loyalty_ledger``;
:func:`markov_member_value` values the states of an absorbing Markov chain and
:func:`tier_chain` estimates that chain from the ledger and the orders (:class:`TierChain`).
The accounting of points under IFRS 15 is in :mod:`crmlab.profile.ifrs15`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crmlab._checks import Reads, check_number, frame_with, reads
from crmlab._checks import as_timestamp as _timestamp
from crmlab.data.schema import TIERS

__all__ = ["TIER_THRESHOLDS", "TierChain", "assign_tiers", "breakage_rate", "markov_member_value",
           "points_balance", "points_liability", "tier_at", "tier_chain", "tier_migration"]


TIER_THRESHOLDS: dict[str, float] = {"silver": 5000.0, "gold": 20000.0, "platinum": 60000.0}
_TIER_RANK = {t: i for i, t in enumerate(TIERS)}


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

    Parameters
    ----------
    ledger : pd.DataFrame
        The shop's ``loyalty_ledger`` (entry_id, customer_id, ts, entry_type, points, tier).
    as_of : date-like, optional
        Count entries before this moment; default all.

    Returns
    -------
    pd.DataFrame
        One row per member: customer_id, earned, redeemed, expired, balance.
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

    Parameters
    ----------
    orders : pd.DataFrame
        The shop's ``orders`` (customer_id, order_ts, amount).
    as_of : date-like
        The moment of the tier review.
    thresholds : mapping, default TIER_THRESHOLDS
        NT$ of trailing spend needed per tier (silver, gold, platinum), increasing.
    window_months : int, default 12
        Length of the spend window before ``as_of``.
    customers : pd.DataFrame, optional
        The ``customers`` table, to list members without orders too.

    Returns
    -------
    pd.DataFrame
        customer_id, spend_12m and an ordered categorical ``tier``.
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
    """Each member's tier at ``when`` from the ledger's tier_change entries (default ``member``).

    Parameters
    ----------
    ledger : pd.DataFrame
        The shop's ``loyalty_ledger``.
    when : date-like
        The moment (tier changes at or before it count).
    customers : pd.DataFrame or pd.Series, optional
        The members to list (a table with customer_id, or the ids); default every member in
        the ledger.

    Returns
    -------
    pd.DataFrame
        customer_id and an ordered categorical ``tier``.
    """
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

    Parameters
    ----------
    ledger : pd.DataFrame
        The shop's ``loyalty_ledger``.
    customers : pd.DataFrame
        The members to count (customer_id).
    start, end : date-like
        The two moments compared.
    normalize : bool, default False
        Row shares instead of counts.

    Returns
    -------
    pd.DataFrame
        Tiers at ``start`` (index ``from_tier``) by tiers at ``end`` (columns ``to_tier``).
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

    Parameters
    ----------
    ledger : pd.DataFrame
        The shop's ``loyalty_ledger``.
    as_of : date-like, optional
        The moment of measurement; default just after the last entry.
    expiry_days : int, default 365
        Days after earning at which points expire.

    Returns
    -------
    dict
        ``earned_mature``, ``expired`` and ``breakage`` (their ratio).
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

    Parameters
    ----------
    ledger : pd.DataFrame
        The shop's ``loyalty_ledger``.
    as_of : date-like, optional
        The balance date; default all entries.
    point_value : float, default 1.0
        NT$ value of one point, positive.
    breakage : float, optional
        Share of points never redeemed, in [0, 1]; default :func:`breakage_rate`.
    expiry_days : int, default 365
        Passed to :func:`breakage_rate`.

    Returns
    -------
    dict
        outstanding_points, face_value, breakage, liability.
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

    Parameters
    ----------
    transition : pd.DataFrame
        Square matrix of transition probabilities, states as index and columns.
    reward : pd.Series or mapping
        Reward per period of each transient state (0 for absorbing states).
    discount : float, optional
        Deprecated: the per-period discount factor d.
    absorbing : sequence of str, optional
        The absorbing states; default those that stay put with probability 1.
    discount_rate : float
        Discount rate per period, >= 0 (keyword only).

    Returns
    -------
    pd.DataFrame
        One row per transient state: state, reward, expected_value, expected_periods.
    """
    discount = _discount_factor(discount, discount_rate)
    P, transient, ti, r = _absorbing_chain(transition, reward, absorbing, discount)
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

def _discount_factor(discount: float | None, discount_rate: float | None) -> float:
    """The per-period discount factor d from ``discount_rate`` (or the deprecated ``discount``)."""
    if discount is not None:
        if discount_rate is not None:
            raise ValueError("markov_member_value(): pass discount_rate (the rate per period) only, not also "
                             "the deprecated discount factor.")
        warnings.warn("markov_member_value(discount=d) is deprecated: pass discount_rate=1/d - 1, the rate "
                      "per period (as tier_chain's annual_discount_rate is a rate).", DeprecationWarning,
                      stacklevel=3)
    elif discount_rate is None:
        raise ValueError("markov_member_value(): pass discount_rate, the discount rate per period (e.g. "
                         "1.10 ** 0.25 - 1 for 10% a year with quarterly periods; 0 for no discounting).")
    else:
        if not np.isfinite(discount_rate) or discount_rate < 0:
            raise ValueError(f"markov_member_value(): discount_rate={discount_rate!r} must be a rate >= 0 per "
                             "period, e.g. 0.024 for 10% a year with quarterly periods.")
        discount = 1.0 / (1.0 + discount_rate)
    return discount


def _absorbing_chain(transition: pd.DataFrame, reward: pd.Series | Mapping[str, float],
                     absorbing: Sequence[str] | None, discount: float
                     ) -> tuple[np.ndarray, list[str], list[int], pd.Series]:
    """(P, transient states, their positions, rewards) of a checked absorbing chain."""
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
    return P, transient, [states.index(s) for s in transient], r



@dataclass
class TierChain:
    """Tier transitions estimated from the data (see :func:`tier_chain`).

    Parameters
    ----------
    counts : pd.DataFrame
        Observed transitions between states (from_state x to_state).
    transition : pd.DataFrame
        The transition matrix (rows sum to 1; ``lapsed`` absorbing).
    reward : pd.Series
        Mean margin per period by state.
    values : pd.DataFrame
        :func:`markov_member_value` of the chain.
    period_months : int
        Months per period.
    discount : float
        Discount factor per period.
    reactivated : int, default 0
        Lapsed-to-active transitions seen (treated as staying lapsed).
    notes : list of str
        What the estimate left out and why.
    """

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

    Parameters
    ----------
    ledger : pd.DataFrame
        The shop's ``loyalty_ledger``.
    orders : pd.DataFrame
        The shop's ``orders`` (customer_id, order_ts, amount).
    period_months : int, default 3
        Months between period starts.
    lapse_days : int, default 365
        Days without an order after which a member is lapsed.
    annual_discount_rate : float, default 0.10
        Discount rate per year.
    margin : float, default 1.0
        Share of spend that is margin (the reward).
    start, end : date-like, optional
        The span of period starts; default the orders' span.

    Returns
    -------
    TierChain
        Counts, transition matrix, rewards and values of the chain.
    """
    frame_with(orders, "orders", ["customer_id", "order_ts", "amount"])
    led = _ledger(ledger)
    if period_months < 1 or annual_discount_rate < 0 or margin <= 0:
        raise ValueError("tier_chain(): period_months >= 1, annual_discount_rate >= 0 and margin > 0 please.")
    starts, t1 = _period_starts(orders, start, end, period_months)
    states = list(TIERS) + ["lapsed"]
    o = orders[["customer_id", "order_ts", "amount"]]
    panel = _tier_panel(led, o, starts, lapse_days, margin)
    reward = panel.dropna(subset=["spend"]).groupby("state")["spend"].mean().reindex(states).fillna(0.0)
    counts, notes = _transition_counts(panel, starts, o["order_ts"].min(), t1, lapse_days, states)
    reactivated = int(counts.loc["lapsed", [s for s in states if s != "lapsed"]].sum())
    if reactivated:
        notes.append(f"{reactivated} lapsed-to-active transitions were observed and treated as staying lapsed "
                     "(lapsed is absorbing in this chain).")
    trans, empty = _transition_matrix(counts, reward, notes)
    reward_chain = reward.copy()
    reward_chain["lapsed"] = 0.0
    discount = (1 + annual_discount_rate) ** (-period_months / 12)
    values = markov_member_value(trans, reward_chain, absorbing=["lapsed", *empty],
                                 discount_rate=(1 + annual_discount_rate) ** (period_months / 12) - 1)
    return TierChain(counts.astype("int64"), trans, reward, values, period_months, discount, reactivated, notes)


def _tier_panel(led: pd.DataFrame, o: pd.DataFrame, starts: pd.DatetimeIndex, lapse_days: int,
                margin: float) -> pd.DataFrame:
    """Every buyer's state at every period start (k, customer_id, state) and their margin in the
    period that follows (``spend``; NaN after the last start)."""
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
    return pd.concat(snaps, ignore_index=True)


def _transition_counts(panel: pd.DataFrame, starts: pd.DatetimeIndex, first_order: pd.Timestamp,
                       t1: pd.Timestamp, lapse_days: int, states: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Member transitions between consecutive period starts (from_state x to_state), counting only
    starts at which a lapse was observable, and a note on what was left out."""
    pairs = panel.merge(panel[["k", "customer_id", "state"]].assign(k=lambda x: x["k"] - 1),
                        on=["k", "customer_id"], suffixes=("", "_next"))
    # A lapse can only be seen once the data are lapse_days long: transitions into earlier
    # period starts would count "nobody lapsed" as evidence and make members look immortal.
    observable = np.flatnonzero(starts[1:] - first_order >= pd.Timedelta(days=lapse_days))
    if not len(observable):
        raise ValueError(
            f"tier_chain(): the data ({first_order.date()} to {t1.date()}) are too short to see a "
            f"member lapse after {lapse_days} days and then move on; use a smaller lapse_days or a longer history."
        )
    n_dropped = int((~pairs["k"].isin(observable)).sum())
    pairs = pairs.loc[pairs["k"].isin(observable)]
    counts = pd.crosstab(pd.Categorical(pairs["state"], categories=states),
                         pd.Categorical(pairs["state_next"], categories=states), dropna=False)
    counts.index.name, counts.columns.name = "from_state", "to_state"
    notes = [f"transitions counted from {len(observable)} period(s) in which a lapse was observable; "
             f"{n_dropped} earlier member-period transitions were left out."] if n_dropped else []
    return counts, notes


def _transition_matrix(counts: pd.DataFrame, reward: pd.Series, notes: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Row shares of ``counts`` with ``lapsed`` absorbing, and the states nobody held (kept in
    place with reward 0, so the matrix stays valid; ``reward`` and ``notes`` are updated)."""
    trans = counts.astype(float)
    trans.loc["lapsed"] = 0.0
    trans.loc["lapsed", "lapsed"] = 1.0
    empty = [s for s in counts.index if s != "lapsed" and counts.loc[s].sum() == 0]
    for s in empty:  # a tier nobody held: keep it in place so the matrix stays valid, and say so
        trans.loc[s] = 0.0
        trans.loc[s, s] = 1.0
        notes.append(f"no member was in state {s!r} at a period start; its row is a placeholder and it is left out of the values.")
        reward[s] = 0.0
    return trans.div(trans.sum(axis=1), axis=0), empty


def _period_starts(orders: pd.DataFrame, start: Any, end: Any, period_months: int
                   ) -> tuple[pd.DatetimeIndex, pd.Timestamp]:
    """The period starts of :func:`tier_chain` (at least three: two transitions) and the end."""
    t0 = _timestamp(start, "start") if start is not None else orders["order_ts"].min().normalize().replace(day=1)
    t1 = _timestamp(end, "end") if end is not None else orders["order_ts"].max()
    starts = pd.date_range(t0, t1, freq=pd.DateOffset(months=period_months))
    if len(starts) < 3:
        raise ValueError(f"tier_chain(): the orders cover {len(starts)} period start(s) between {t0.date()} and {t1.date()}; need at "
                         f"least 3 (two transitions); use shorter periods or a longer history.")
    return starts, t1
