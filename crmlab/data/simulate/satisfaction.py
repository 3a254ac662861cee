"""Stage 9, satisfaction: a hidden score per order from its experiences, then the surveys that
measure it (order and return CSAT, support CES, relationship NPS) and the tickets' CSAT."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import vocab
from ._arrays import _codes, _ts
from .customers import Customers
from .orders import Orders
from .returns import Returns
from .support import FAQ_ESCALATION, Support
from .timeline import Timeline

#: Survey type and touchpoint codes.
CSAT, NPS, CES = 0, 1, 2
SURVEY_TYPES = ("csat", "nps", "ces")
TOUCHPOINTS = ("order", "support", "return", "relationship")


@dataclass(frozen=True)
class SatisfactionConfig:
    """The hidden satisfaction model and the surveys (``truth["satisfaction"]``).

    Parameters
    ----------
    segment_base : tuple of float
        Satisfaction of a flawless order by segment.
    coefficients : dict
        Effect of each experience on an order's satisfaction: per day late, returned, defect,
        support contact, ticket unresolved after 3 days.
    noise_sd : float
        Normal noise on an order's satisfaction.
    csat_cuts : tuple of float
        Satisfaction cut points of CSAT 1..5.
    order_invite, response_base, response_extreme, extreme : float
        Order CSAT: share invited the day after delivery; response rate, plus
        ``response_extreme`` when ``|satisfaction| > extreme`` (extremes answer more often).
    ces_base, ces_per_log_hour, ces_reopened, ces_escalated, ces_sd : float
        Support CES (1..7, 7 very easy): base minus log resolution hours, reopening, FAQ escalation.
    ces_invite, ces_delay_days, ces_response : float
        CES survey after a resolved ticket.
    ticket_unresolved, ticket_reopened, ticket_sd, ticket_answer : float
        Ticket CSAT (quick rating): effects, noise, and the share of closed tickets rated.
    return_invite, return_delay_days, return_response, return_lift : float
        Return CSAT a week after the request (a processed return lifts the score a little).
    nps_first_days, nps_offset_days, nps_share, nps_tenure_days, nps_recent_days : int, float
        Quarterly relationship NPS: from ``nps_first_days`` after start, ``nps_offset_days``
        into the quarter, to a share of members with that tenure, from their mean satisfaction
        over the recent days (``nps_no_orders`` below the segment base without orders).
    nps_intercept, nps_slope, nps_sd, nps_response : float
        NPS = round(intercept + slope x satisfaction + N(0, sd)), clipped to 0..10.
    comment_share : float
        Share of respondents who leave a comment; its sentiment follows the score
        (``positive`` / ``negative`` thresholds per survey type).
    """

    segment_base: tuple[float, ...] = (0.8, 0.25, 0.5, 0.2)
    coefficients: dict[str, float] = field(default_factory=lambda: {
        "late_days": -0.55,  # per day of delivery beyond the promise
        "returned": -0.45,
        "defect": -0.9,
        "support_contact": -0.2,
        "unresolved_ticket": -0.7,  # ticket still open 3 days after creation
    })
    noise_sd: float = 0.6
    csat_cuts: tuple[float, ...] = (-1.6, -0.9, -0.2, 0.6)
    order_invite: float = 0.3
    response_base: float = 0.16
    response_extreme: float = 0.12
    extreme: float = 1.0
    ces_base: float = 5.6
    ces_per_log_hour: float = 0.25
    ces_reopened: float = 1.2
    ces_escalated: float = 0.5
    ces_sd: float = 0.9
    ces_invite: float = 0.8
    ces_delay_days: float = 0.1
    ces_response: float = 0.25
    ticket_unresolved: float = 0.8
    ticket_reopened: float = 0.6
    ticket_sd: float = 0.7
    ticket_answer: float = 0.3
    return_invite: float = 0.5
    return_delay_days: float = 7
    return_response: float = 0.3
    return_lift: float = 0.3
    nps_first_days: int = 80
    nps_offset_days: float = 14
    nps_share: float = 0.25
    nps_tenure_days: float = 30
    nps_recent_days: float = 180
    nps_no_orders: float = 0.4
    nps_intercept: float = 7.3
    nps_slope: float = 1.9
    nps_sd: float = 1.1
    nps_response: float = 0.22
    comment_share: float = 0.4
    positive: tuple[int, ...] = (4, 9, 6)
    negative: tuple[int, ...] = (2, 6, 3)


SATISFACTION = SatisfactionConfig()


@dataclass(frozen=True)
class Satisfaction:
    """Hidden satisfaction per order, the ``surveys`` table, the tickets' ``csat`` column (in
    ticket-id order) and the survey truth."""

    order_sat: np.ndarray
    surveys: pd.DataFrame
    ticket_csat: pd.arrays.IntegerArray
    truth: dict[str, Any]


def _order_satisfaction(rng: np.random.Generator, o: pd.DataFrame, ti: pd.DataFrame, returns: Returns,
                        cfg: SatisfactionConfig) -> np.ndarray:
    """Hidden satisfaction of each order from its experiences."""
    n_o = len(o)
    contact = np.zeros(n_o, bool)
    unres = np.zeros(n_o, bool)
    has_o = ti["order"].to_numpy() >= 0
    contact[ti["order"].to_numpy()[has_o]] = True
    unres[ti["order"].to_numpy()[has_o & ti["unresolved_3d"].to_numpy()]] = True
    late = o["delay"].to_numpy().astype(float)
    cf = cfg.coefficients
    return (np.array(cfg.segment_base)[o["seg"].to_numpy()] + cf["late_days"] * late
            + cf["returned"] * returns.order_returned + cf["defect"] * returns.order_defect
            + cf["support_contact"] * contact + cf["unresolved_ticket"] * unres
            + rng.normal(0, cfg.noise_sd, n_o))


def _frame(cust: Any, typ: int, touch: int, order: Any, ticket: Any, sent: Any, resp: Any, score: Any) -> pd.DataFrame:
    """Survey rows of one kind (customer, type, touchpoint, order, ticket, sent day, responded, score)."""
    return pd.DataFrame({"cust": cust, "type": typ, "touch": touch, "order": order, "ticket": ticket,
                         "sent": sent, "resp": resp, "score": score})


def _order_csat(rng: np.random.Generator, o: pd.DataFrame, sat: np.ndarray, cuts: np.ndarray, n_days: int,
                cfg: SatisfactionConfig) -> pd.DataFrame:
    """CSAT after orders: invited the day after delivery; extremes answer more often."""
    n_o = len(o)
    deliv = o["delivered"].to_numpy()
    inv = np.flatnonzero((rng.random(n_o) < cfg.order_invite) & (deliv + 1 < n_days))
    p_resp = cfg.response_base + cfg.response_extreme * (np.abs(sat[inv]) > cfg.extreme)
    resp = rng.random(len(inv)) < p_resp
    return _frame(o["cust"].to_numpy()[inv], CSAT, 0, inv, -1, deliv[inv] + 1, resp, 1 + np.searchsorted(cuts, sat)[inv])


def _support_ces(rng: np.random.Generator, ti: pd.DataFrame, n_days: int, cfg: SatisfactionConfig) -> pd.DataFrame:
    """CES after resolved support tickets (1..7, 7 = very easy)."""
    res_t = ti.loc[~ti["open"].to_numpy()]
    ease = cfg.ces_base - cfg.ces_per_log_hour * np.log1p(res_t["res_days"].to_numpy() * 24) \
        - cfg.ces_reopened * res_t["reopened"].to_numpy() \
        - cfg.ces_escalated * (res_t["chan"].to_numpy() == FAQ_ESCALATION) + rng.normal(0, cfg.ces_sd, len(res_t))
    ces = np.clip(np.round(ease), 1, 7).astype(int)
    inv_t = rng.random(len(res_t)) < cfg.ces_invite
    sent_t = res_t["created"].to_numpy() + res_t["res_days"].to_numpy() + cfg.ces_delay_days
    ok = inv_t & (sent_t < n_days)
    return _frame(res_t["cust"].to_numpy()[ok], CES, 1, res_t["order"].to_numpy()[ok],
                  res_t["ticket_id"].to_numpy()[ok], sent_t[ok], rng.random(ok.sum()) < cfg.ces_response, ces[ok])


def _ticket_csat(rng: np.random.Generator, ti: pd.DataFrame, seg: np.ndarray, cuts: np.ndarray,
                 cfg: SatisfactionConfig) -> pd.arrays.IntegerArray:
    """The tickets' quick CSAT rating, in ticket-id order (<NA>: not rated)."""
    t_sat = (np.array(cfg.segment_base)[seg[ti["cust"].to_numpy()]]
             - cfg.ticket_unresolved * ti["unresolved_3d"].to_numpy()
             - cfg.ticket_reopened * ti["reopened"].to_numpy() + rng.normal(0, cfg.ticket_sd, len(ti)))
    t_csat = 1 + np.searchsorted(cuts, t_sat)
    t_ans = (~ti["open"].to_numpy()) & (rng.random(len(ti)) < cfg.ticket_answer)
    ordr = np.argsort(ti["ticket_id"].to_numpy())
    return pd.arrays.IntegerArray(t_csat[ordr].astype(np.int64), ~t_ans[ordr])


def _return_csat(rng: np.random.Generator, o: pd.DataFrame, rl: pd.DataFrame, sat: np.ndarray, cuts: np.ndarray,
                 n_days: int, cfg: SatisfactionConfig) -> pd.DataFrame:
    """CSAT after processed returns."""
    r_sat = sat[rl["order"].to_numpy()]
    r_inv = rng.random(len(rl)) < cfg.return_invite
    r_sent = rl["req"].to_numpy() + cfg.return_delay_days
    ok = r_inv & (r_sent < n_days)
    return _frame(o["cust"].to_numpy()[rl["order"].to_numpy()[ok]], CSAT, 2, rl["order"].to_numpy()[ok], -1,
                  r_sent[ok], rng.random(ok.sum()) < cfg.return_response,
                  1 + np.searchsorted(cuts, r_sat[ok] + cfg.return_lift))


def _relationship_nps(rng: np.random.Generator, o: pd.DataFrame, sat: np.ndarray, customers: Customers,
                      tl: Timeline, cfg: SatisfactionConfig) -> list[pd.DataFrame]:
    """Relationship NPS each quarter to a share of members, from their recent satisfaction."""
    quarters = pd.date_range(tl.start + pd.Timedelta(days=cfg.nps_first_days), tl.end, freq="QS")
    cust_all = np.arange(customers.n)
    o_cust, o_day = o["cust"].to_numpy(), o["time"].to_numpy()
    no_orders = np.array(cfg.segment_base)[customers.seg] - cfg.nps_no_orders
    parts = []
    for qd in quarters:
        d = tl.day_of(qd) + cfg.nps_offset_days
        if d >= tl.n_days:
            continue
        members = cust_all[(customers.signup_day < d - cfg.nps_tenure_days) & (rng.random(len(cust_all)) < cfg.nps_share)]
        recent = (o_day < d) & (o_day >= d - cfg.nps_recent_days)
        tot = np.bincount(o_cust[recent], weights=sat[recent], minlength=len(cust_all))
        cnt = np.bincount(o_cust[recent], minlength=len(cust_all))
        x = np.where(cnt > 0, tot / np.maximum(cnt, 1), no_orders)[members]
        nps = np.clip(np.round(cfg.nps_intercept + cfg.nps_slope * x + rng.normal(0, cfg.nps_sd, len(members))),
                      0, 10).astype(int)
        parts.append(_frame(members, NPS, 3, -1, -1, d + rng.random(len(members)),
                            rng.random(len(members)) < cfg.nps_response, nps))
    return parts


def _surveys_table(rng: np.random.Generator, parts: list[pd.DataFrame], tl: Timeline,
                   cfg: SatisfactionConfig) -> pd.DataFrame:
    """The ``surveys`` table by sent time, with comments whose sentiment follows the score."""
    sv = pd.concat(parts, ignore_index=True)
    sv = sv.sort_values("sent", kind="stable").reset_index(drop=True)
    n_sv = len(sv)
    resp = sv["resp"].to_numpy()
    score = sv["score"].to_numpy().astype(np.int64)
    typ = sv["type"].to_numpy()
    kinds = [typ == CSAT, typ == NPS, typ == CES]
    pos = np.select(kinds, [score >= cut for cut in cfg.positive])
    neg = np.select(kinds, [score <= cut for cut in cfg.negative])
    sent = np.where(pos, "pos", np.where(neg, "neg", "neu"))
    comment = np.empty(n_sv, dtype=object)
    for s in ("pos", "neu", "neg"):
        m = np.flatnonzero(sent == s)
        comment[m] = vocab.pick(rng, vocab.SURVEY_COMMENTS[s], len(m))
    has_comment = resp & (rng.random(n_sv) < cfg.comment_share)
    order, ticket = sv["order"].to_numpy(), sv["ticket"].to_numpy()
    return pd.DataFrame({
        "survey_id": np.arange(1, n_sv + 1),
        "customer_id": sv["cust"].to_numpy() + 1,
        "survey_type": _codes(typ, SURVEY_TYPES),
        "touchpoint": _codes(sv["touch"].to_numpy(), TOUCHPOINTS),
        "order_id": pd.arrays.IntegerArray(np.clip(order, 0, None) + 1, order < 0),
        "ticket_id": pd.arrays.IntegerArray(np.clip(ticket, 0, None), ticket < 0),
        "sent_ts": _ts(tl.start, sv["sent"].to_numpy()),
        "responded": resp,
        "score": pd.arrays.IntegerArray(score, ~resp),
        "comment": pd.Series(comment.astype(str), dtype="str").where(has_comment, None),
    })


def draw_satisfaction(rng: np.random.Generator, customers: Customers, orders: Orders, returns: Returns,
                      support: Support, tl: Timeline, cfg: SatisfactionConfig = SATISFACTION) -> Satisfaction:
    """Hidden satisfaction per order, then CSAT/NPS/CES surveys and ticket CSAT."""
    o, ti = orders.frame, support.ticket_info
    sat = _order_satisfaction(rng, o, ti, returns, cfg)
    cuts = np.array(cfg.csat_cuts)
    parts = [_order_csat(rng, o, sat, cuts, tl.n_days, cfg), _support_ces(rng, ti, tl.n_days, cfg)]
    ticket_csat = _ticket_csat(rng, ti, customers.seg, cuts, cfg)
    parts.append(_return_csat(rng, o, returns.lines, sat, cuts, tl.n_days, cfg))
    parts += _relationship_nps(rng, o, sat, customers, tl, cfg)
    surveys = _surveys_table(rng, parts, tl, cfg)
    extreme_rate = cfg.response_base + cfg.response_extreme
    truth = {"csat_cut_points": cuts.tolist(),
             "nps_formula": f"round({cfg.nps_intercept} + {cfg.nps_slope} * mean recent satisfaction + "
                            f"N(0, {cfg.nps_sd})), clipped to 0..10",
             "response_bias": f"order CSAT: respondents with |satisfaction| > {cfg.extreme:g} answer with "
                              f"{extreme_rate:.2f} vs {cfg.response_base}"}
    return Satisfaction(order_sat=sat, surveys=surveys, ticket_csat=ticket_csat, truth=truth)
