"""Stage 6, sessions and events: every online order ends a journey of visits; failed visits
drop off at the planted funnel step rates of their traffic source."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import schema
from ._arrays import _categorical_draw, _codes, _ts
from .customers import Customers
from .orders import STORE, Orders
from .products import ChoiceModel
from .segments import SEGMENTS, SegmentConfig
from .timeline import Timeline

Matrix = tuple[tuple[float, ...], ...]
#: Event types in the order a session's events are laid out (indices into schema.EVENT_TYPES).
_TYPE_ORDER = np.array([0, 7, 8, 2, 1, 6, 3, 4, 5])
#: Event types that carry a product: product_view, add_to_cart, favorite.
_PRODUCT_EVENTS = [1, 3, 6]
_ADD_TO_CART, _PURCHASE = 3, 5
#: Funnel depth codes (indices into schema.FUNNEL_STEPS): 4 = purchase, 3 = checkout, 2 = cart.
_CART, _CHECKOUT, _BOUGHT = 2, 3, 4


@dataclass(frozen=True)
class SessionConfig:
    """Purchase journeys, the funnel and the events of a session.

    Parameters
    ----------
    discovery_mix, returning_mix : tuple of float
        Traffic-source mixes (columns ``schema.TRAFFIC_SOURCES``) of a journey's first visit
        (search, social, referral) and of later visits (direct, email). A segment's journey
        mix is ``segment_weight * segment source + (1 - segment_weight) * mix``
        (``truth["journey_first_mix"]``, ``truth["journey_later_mix"]``).
    segment_weight, mix_weight : float
        The two weights of that blend.
    funnel_rates : tuple of tuples
        Step rates visit->product_view, ->add_to_cart, ->begin_checkout, ->purchase by
        traffic source (``truth["funnel_rates"]``). Each visit converts with the product of its
        source's rates, so measured step rates per source equal the planted ones (Wald's identity).
    max_visits : int
        A journey converts at the latest on this visit (a guard; never reached in practice).
    journey_days : float
        Visits spread over at most this many days before the purchase (from the previous order
        or signup), at ``visit_jitter`` within their slot.
    browse_sessions_mean : float
        Members who never buy have Poisson(mean) browsing sessions after signup.
    extra_product_views_mean : float
        A session that views products views 1 + Poisson(mean) of them.
    faq_view, chat_start, search, favorite : float
        Chance a session has each of these events.
    gap_median_seconds, gap_sigma, gap_cap_seconds : float
        Lognormal gaps between a session's events, capped so that the usual 30-minute
        inactivity rule never splits a planted session.
    """

    discovery_mix: tuple[float, ...] = (0.32, 0.25, 0.33, 0.0, 0.0, 0.10)
    returning_mix: tuple[float, ...] = (0.12, 0.08, 0.08, 0.32, 0.38, 0.02)
    segment_weight: float = 0.4
    mix_weight: float = 0.6
    funnel_rates: Matrix = (
        (0.72, 0.30, 0.55, 0.70),  # organic_search
        (0.80, 0.26, 0.50, 0.66),  # paid_search
        (0.62, 0.22, 0.48, 0.62),  # social
        (0.85, 0.38, 0.60, 0.74),  # email
        (0.78, 0.40, 0.62, 0.78),  # direct
        (0.82, 0.36, 0.58, 0.72),  # referral
    )
    max_visits: int = 400
    journey_days: float = 30.0
    visit_jitter: tuple[float, float] = (0.1, 0.9)
    browse_sessions_mean: float = 3.0
    extra_product_views_mean: float = 1.6
    faq_view: float = 0.03
    chat_start: float = 0.004
    search: float = 0.3
    favorite: float = 0.08
    gap_median_seconds: float = 35.0
    gap_sigma: float = 0.8
    gap_cap_seconds: float = 1200.0

    def journey_mixes(self, seg_cfg: SegmentConfig = SEGMENTS) -> tuple[np.ndarray, np.ndarray]:
        """The first-visit and later-visit source mixes per segment (segments x sources)."""
        source = np.array(seg_cfg.source)
        return (self.segment_weight * source + self.mix_weight * np.array(self.discovery_mix),
                self.segment_weight * source + self.mix_weight * np.array(self.returning_mix))


SESSIONS = SessionConfig()


@dataclass(frozen=True)
class Sessions:
    """The ``sessions`` and ``events`` tables, each order's session id (<NA> for store
    orders) and the sessions that opened a chat (they become support issues)."""

    sessions: pd.DataFrame
    events: pd.DataFrame
    order_session_id: pd.arrays.IntegerArray
    chat: pd.DataFrame


def _journeys(rng: np.random.Generator, seg_of: np.ndarray, cfg: SessionConfig,
              seg_cfg: SegmentConfig) -> dict[str, np.ndarray]:
    """Visit trials until each journey converts: one vectorised round per visit number."""
    first_mix, later_mix = cfg.journey_mixes(seg_cfg)
    conv_total = np.array(cfg.funnel_rates).prod(axis=1)
    n_conv = len(seg_of)
    t_owner, t_round, t_src, t_ok = [], [], [], []
    active = np.arange(n_conv)
    k = 0
    while active.size:
        src = _categorical_draw(rng, first_mix if k == 0 else later_mix, seg_of[active])
        ok = (rng.random(len(active)) < conv_total[src]) | (k >= cfg.max_visits)
        t_owner.append(active)
        t_round.append(np.full(len(active), k))
        t_src.append(src)
        t_ok.append(ok)
        active = active[~ok]
        k += 1
    t_owner, t_round = np.concatenate(t_owner), np.concatenate(t_round)
    t_src, t_ok = np.concatenate(t_src), np.concatenate(t_ok)
    conv_src = np.empty(n_conv, dtype=np.int64)
    conv_src[t_owner[t_ok]] = t_src[t_ok]
    return {"owner": t_owner, "round": t_round, "src": t_src, "ok": t_ok, "conv_src": conv_src,
            "n_visits": np.bincount(t_owner, minlength=n_conv)}


def _failed_visit_times(rng: np.random.Generator, j: dict[str, np.ndarray], o: pd.DataFrame, online: np.ndarray,
                        signup_day: np.ndarray, conv_cust: np.ndarray, cfg: SessionConfig) -> np.ndarray:
    """Failed visits spread evenly (with jitter) over the journey window: from the previous
    order (or signup) up to the purchase, at most ``journey_days``."""
    o_time, o_cust = o["time"].to_numpy(), o["cust"].to_numpy()
    by_cust = np.lexsort((o_time, o_cust))
    prev = np.full(len(o_time), -np.inf)
    same = o_cust[by_cust][1:] == o_cust[by_cust][:-1]
    prev[by_cust[1:][same]] = o_time[by_cust][:-1][same]
    t_hi = o_time[online]
    t_lo = np.maximum(np.maximum(prev[online], signup_day[conv_cust]), t_hi - cfg.journey_days)
    window = np.maximum(t_hi - t_lo, 0.0)
    fail = ~j["ok"]
    fail_owner, fail_round = j["owner"][fail], j["round"][fail]
    frac = (fail_round + rng.uniform(*cfg.visit_jitter, len(fail_round))) / j["n_visits"][fail_owner]
    return t_hi[fail_owner] - window[fail_owner] * (1 - frac)


def _browsing(rng: np.random.Generator, customers: Customers, tl: Timeline, cfg: SessionConfig,
              seg_cfg: SegmentConfig) -> tuple[np.ndarray, ...]:
    """Browsers who never bought: a few failed sessions after signup (customer, source, time)."""
    never = np.flatnonzero(~customers.buyer)
    n_browse = rng.poisson(cfg.browse_sessions_mean, len(never))
    b_cust = np.repeat(never, n_browse)
    b_src = _categorical_draw(rng, np.array(seg_cfg.source), customers.seg[b_cust])
    signup = customers.signup_day[b_cust]
    b_time = signup + rng.uniform(0, 1, len(b_cust)) * (tl.n_days - 0.05 - signup)
    return b_cust, b_src, b_time


def _stop_depth(rng: np.random.Generator, f_src: np.ndarray, cfg: SessionConfig) -> np.ndarray:
    """Step a failed session stops at: P(stop at k) ∝ prod_{j<k} r_j (1 - r_k); 0 visit .. 3 checkout."""
    r = np.array(cfg.funnel_rates)[f_src]
    reach = np.c_[np.ones(len(f_src)), np.cumprod(r, axis=1)[:, :-1]]
    stop = reach * (1 - r)
    stop /= stop.sum(axis=1, keepdims=True)
    return _categorical_draw(rng, stop)


def _event_counts(rng: np.random.Generator, s_depth: np.ndarray, s_order: np.ndarray, lines_per_order: np.ndarray,
                  cfg: SessionConfig) -> np.ndarray:
    """Counts of each event type per session (columns in ``_TYPE_ORDER``)."""
    n_s = len(s_depth)
    n_pv = np.where(s_depth >= 1, 1 + rng.poisson(cfg.extra_product_views_mean, n_s), 0)
    n_cart = np.where(s_depth >= _CART, 1, 0)
    n_cart = np.where(s_depth == _BOUGHT, lines_per_order[np.clip(s_order, 0, None)], n_cart)
    n_pv = np.maximum(n_pv, n_cart)
    return np.c_[
        np.ones(n_s, dtype=np.int64),  # page_view
        (rng.random(n_s) < cfg.faq_view).astype(np.int64),  # faq_view
        (rng.random(n_s) < cfg.chat_start).astype(np.int64),  # chat_start
        (rng.random(n_s) < cfg.search).astype(np.int64),  # search
        n_pv,  # product_view
        (rng.random(n_s) < cfg.favorite) & (n_pv > 0),  # favorite
        n_cart,  # add_to_cart
        (s_depth >= _CHECKOUT).astype(np.int64),  # begin_checkout
        (s_depth == _BOUGHT).astype(np.int64),  # purchase
    ].astype(np.int64)


def _event_offsets(rng: np.random.Generator, n_ev: np.ndarray, cfg: SessionConfig) -> tuple[np.ndarray, ...]:
    """Session of each event, its offset (days) from the session start, and session durations."""
    ev_sess = np.repeat(np.arange(len(n_ev)), n_ev)
    gaps = np.minimum(rng.lognormal(np.log(cfg.gap_median_seconds), cfg.gap_sigma, len(ev_sess)),
                      cfg.gap_cap_seconds) / 86400.0
    first_of = np.r_[0, np.cumsum(n_ev)[:-1]]
    gaps[first_of] = 0.0
    cum = np.cumsum(gaps)
    offset = cum - cum[first_of][ev_sess]
    return ev_sess, offset, offset[np.cumsum(n_ev) - 1]


def _event_products(rng: np.random.Generator, ev: dict[str, np.ndarray], s: dict[str, np.ndarray],
                    customers: Customers, orders: Orders, online: np.ndarray, choice: ChoiceModel,
                    tl: Timeline) -> np.ndarray:
    """Products on events: the purchased lines for converting carts, the choice model otherwise."""
    ev_sess, ev_type, ev_ts = ev["sess"], ev["type"], ev["ts"]
    ev_prod = np.full(len(ev_sess), -1, dtype=np.int64)
    needs = np.isin(ev_type, _PRODUCT_EVENTS)
    ev_seg = customers.seg[s["cust"][ev_sess]]
    ev_day = np.clip(np.floor(ev_ts).astype(np.int64), 0, tl.horizon_days - 1)
    ev_cat = _categorical_draw(rng, customers.taste, s["cust"][ev_sess[needs]])
    ev_prod[needs] = choice.choose(rng, ev_seg[needs], ev_day[needs], ev_cat)
    conv_cart = (ev_type == _ADD_TO_CART) & (s["order"][ev_sess] >= 0)
    # Lines sorted by order; carts of converting sessions sorted by order id too.
    cart_idx = np.flatnonzero(conv_cart)
    cart_sorted = cart_idx[np.argsort(s["order"][ev_sess[cart_idx]], kind="stable")]
    ln = orders.lines
    online_lines = ln.loc[np.isin(ln["order"].to_numpy(), online)].sort_values(["order"], kind="stable")
    ev_prod[cart_sorted] = online_lines["prod"].to_numpy()
    return ev_prod


def _session_tables(s: dict[str, np.ndarray], ev: dict[str, np.ndarray], customers: Customers,
                    tl: Timeline) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``events`` and ``sessions`` tables, sessions numbered by start time."""
    ev_sess, new_id = ev["sess"], s["id"]
    ev_order = np.where(ev["type"] == _PURCHASE, s["order"][ev_sess], -1)  # purchase events carry the order
    srt = np.lexsort((ev["ts"], new_id[ev_sess]))
    events = pd.DataFrame({
        "event_id": np.arange(1, len(ev_sess) + 1),
        "session_id": new_id[ev_sess][srt],
        "customer_id": s["cust"][ev_sess][srt] + 1,
        "ts": _ts(tl.start, ev["ts"][srt]),
        "event_type": _codes(ev["type"][srt], schema.EVENT_TYPES),
        "product_id": pd.arrays.IntegerArray(ev["prod"][srt] + 1, ev["prod"][srt] < 0),
        "order_id": pd.arrays.IntegerArray(ev_order[srt] + 1, ev_order[srt] < 0),
    })
    sessions = pd.DataFrame({
        "session_id": new_id,
        "customer_id": s["cust"] + 1,
        "start_ts": _ts(tl.start, s["start"]),
        "end_ts": _ts(tl.start, s["start"] + s["duration"]),
        "traffic_source": _codes(s["src"], schema.TRAFFIC_SOURCES),
        "device": _codes(customers.device[s["cust"]], schema.DEVICES),
        "funnel_depth": _codes(s["depth"], schema.FUNNEL_STEPS),
        "n_events": s["n_ev"],
        "converted": s["depth"] == _BOUGHT,
    }).sort_values("session_id").reset_index(drop=True)
    return events, sessions


def draw_sessions(rng: np.random.Generator, customers: Customers, orders: Orders, choice: ChoiceModel,
                  tl: Timeline, cfg: SessionConfig = SESSIONS, seg_cfg: SegmentConfig = SEGMENTS) -> Sessions:
    """Sessions and events: every online order has a converting session; failed sessions
    drop off at the planted step rates of their traffic source."""
    o = orders.frame
    online = np.flatnonzero(o["channel"].to_numpy() != STORE)
    conv_cust = o["cust"].to_numpy()[online]
    n_conv = len(online)
    j = _journeys(rng, customers.seg[conv_cust], cfg, seg_cfg)
    fail = ~j["ok"]
    fail_time = _failed_visit_times(rng, j, o, online, customers.signup_day, conv_cust, cfg)
    b_cust, b_src, b_time = _browsing(rng, customers, tl, cfg, seg_cfg)
    f_cust = np.r_[conv_cust[j["owner"][fail]], b_cust]
    f_src = np.r_[j["src"][fail], b_src]
    f_time = np.r_[fail_time, b_time]
    f_depth = _stop_depth(rng, f_src, cfg)
    s = {"cust": np.r_[conv_cust, f_cust], "src": np.r_[j["conv_src"], f_src],
         "depth": np.r_[np.full(n_conv, _BOUGHT), f_depth], "order": np.r_[online, np.full(len(f_cust), -1)]}
    lines_per_order = np.bincount(orders.lines["order"].to_numpy(), minlength=len(o))
    counts = _event_counts(rng, s["depth"], s["order"], lines_per_order, cfg)
    # Session timing: events spaced by lognormal gaps; converting sessions end at the order.
    s["n_ev"] = counts.sum(axis=1)
    n_s = len(s["cust"])
    ev = {"type": np.repeat(np.tile(_TYPE_ORDER, n_s), counts.ravel())}
    ev["sess"], offset, s["duration"] = _event_offsets(rng, s["n_ev"], cfg)
    s_start = np.where(s["order"] >= 0, o["time"].to_numpy()[np.clip(s["order"], 0, None)] - s["duration"],
                       np.r_[np.zeros(n_conv), f_time])
    s["start"] = np.maximum(s_start, customers.signup_day[s["cust"]])
    # Sort sessions by start time to number them chronologically.
    s["id"] = np.empty(n_s, dtype=np.int64)
    s["id"][np.argsort(s["start"], kind="stable")] = np.arange(1, n_s + 1)
    ev["ts"] = s["start"][ev["sess"]] + offset
    ev["prod"] = _event_products(rng, ev, s, customers, orders, online, choice, tl)
    events, sessions = _session_tables(s, ev, customers, tl)
    sid = np.zeros(len(o), dtype=np.int64)
    sid[online] = s["id"][:n_conv]
    has = np.zeros(len(o), dtype=bool)
    has[online] = True
    chatted = events.loc[events["event_type"] == "chat_start", "session_id"]
    return Sessions(sessions=sessions, events=events, order_session_id=pd.arrays.IntegerArray(sid, ~has),
                    chat=sessions.loc[sessions["session_id"].isin(chatted)])
