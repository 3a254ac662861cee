"""Stage 8, customer service: issues raised by experiences, FAQ self-service (deflection),
tickets with channel, priority, agent and response times, and the phone line (:mod:`.calls`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import schema, vocab
from ..calendar import SUPPORT_HOUR_PROFILE, sample_hours
from ._arrays import _cat, _categorical_draw, _codes, _ts
from .calls import CALLS, CallConfig, run_call_centre
from .customers import Customers
from .orders import Orders
from .returns import DAMAGED, DEFECTIVE, Returns
from .sessions import Sessions
from .timeline import Timeline

CATEGORIES = schema.TICKET_CATEGORIES
#: Ticket category codes (indices into schema.TICKET_CATEGORIES).
DELIVERY, DEFECT, RETURN, ACCOUNT, BILLING, PRESALES = range(6)
#: Ticket channel codes (indices into schema.TICKET_CHANNELS).
CHAT, PHONE, EMAIL, FAQ_ESCALATION = range(4)
#: Priority codes (indices into schema.PRIORITIES).
LOW, MEDIUM, HIGH, URGENT = range(4)


@dataclass(frozen=True)
class SupportConfig:
    """Planted support behaviour (``truth["faq"]`` and the tickets' times).

    Parameters
    ----------
    late_days, late_issue : int, float
        Orders at least ``late_days`` late raise a delivery issue with chance ``late_issue``,
        half a day after the promised day.
    defect_issue, other_return_issue : float
        Chance a defect return / another return raises an issue (defects 0.1-1 day before the
        request, others ``return_issue_days`` after it).
    background_per_member_year : float
        Other issues (account, billing, presales, shares ``background_mix``) per member a year.
    deflection : tuple of float
        Chance the FAQ resolves an issue of each category when its searcher clicks an
        article, times ``click_share`` (``truth["faq"]["deflection_prob_given_click"]`` is
        ``deflection / click_share``).
    search_share, click_share : float
        Share of issues whose customer searches the FAQ first, and of searches with a click.
    browse_searches_per_member_year, browse_click : float
        FAQ searches unrelated to an issue, and their click rate.
    chat_base, chat_mobile, chat_older : float
        Chance of chat: base, plus for a mobile device, minus for members aged 45+.
    phone_base, phone_older, phone_defect_billing, email_min : float
        Chance of phone; e-mail takes the rest (at least ``email_min``).
    older_band, mobile_devices : int
        Age band code from which a member counts as older; device codes that are mobile.
    escalation : float
        Chance a searcher who was not deflected escalates from the FAQ page.
    callback_window_hours : float
        Phone tickets outside opening hours move to the next opening plus Uniform(0, this).
    priority_default, priority_nudge, urgent_account : int, float, float
        Priority = impact x urgency: defects, billing and deliveries at least
        ``late_high_priority_days`` late are high, presales low, account medium (the default);
        nudged up or down with chance ``priority_nudge``; account issues become urgent with
        chance ``urgent_account``.
    members_per_agent, min_agents, specialist_every, min_specialists : int
        Team size: one agent per ``members_per_agent`` members, a quarter specialists.
    evening_every : int
        Every this-many-th agent works the evening shift.
    hire_days : tuple of int
        Agents were hired Uniform[low, high) days before start.
    first_response_minutes : tuple of float
        Median first response by channel (phone: set by the queue), lognormal ``response_sigma``.
    office_open, office_close : int
        E-mail and FAQ escalations wait for office hours.
    resolution_hours, priority_speed : tuple of float
        Median resolution hours by category, times a factor by priority (lognormal
        ``resolution_sigma``).
    reopen_defect, reopen_other : float
        Chance a resolved ticket is reopened.
    unresolved_days : float
        A ticket open longer than this hurts satisfaction (``unresolved_ticket``).
    right_article : float
        Chance a search clicks an article of the right category.
    """

    late_days: int = 2
    late_issue: float = 0.55
    defect_issue: float = 0.65
    other_return_issue: float = 0.25
    return_issue_days: tuple[float, float] = (1, 6)
    defect_issue_days: tuple[float, float] = (0.1, 1.0)
    background_per_member_year: float = 0.12
    background_categories: tuple[int, ...] = (ACCOUNT, BILLING, PRESALES)
    background_mix: tuple[float, ...] = (0.45, 0.25, 0.30)
    deflection: tuple[float, ...] = (0.45, 0.08, 0.35, 0.55, 0.35, 0.5)
    search_share: float = 0.35
    click_share: float = 0.75
    browse_searches_per_member_year: float = 0.15
    browse_click: float = 0.6
    chat_base: float = 0.35
    chat_mobile: float = 0.2
    chat_older: float = 0.15
    phone_base: float = 0.2
    phone_older: float = 0.2
    phone_defect_billing: float = 0.15
    email_min: float = 0.05
    older_band: int = 3
    mobile_devices: int = 1
    escalation: float = 0.6
    callback_window_hours: float = 3
    priority_default: int = MEDIUM
    late_high_priority_days: int = 4
    priority_nudge: float = 0.08
    urgent_account: float = 0.1
    members_per_agent: int = 180
    min_agents: int = 8
    specialist_every: int = 4
    min_specialists: int = 2
    evening_every: int = 3
    hire_days: tuple[int, int] = (30, 1500)
    first_response_minutes: tuple[float, ...] = (1.5, 0.0, 360.0, 240.0)
    response_floor_minutes: float = 0.5
    response_sigma: float = 0.7
    office_open: int = 9
    office_close: int = 18
    resolution_hours: tuple[float, ...] = (20.0, 60.0, 80.0, 2.0, 24.0, 0.5)
    priority_speed: tuple[float, ...] = (1.3, 1.0, 0.8, 0.6)
    resolution_sigma: float = 0.8
    reopen_defect: float = 0.15
    reopen_other: float = 0.06
    unresolved_days: float = 3.0
    right_article: float = 0.8


SUPPORT = SupportConfig()


@dataclass(frozen=True)
class Support:
    """The support tables (``faq_articles``, ``agents``, ``tickets``, ``calls``,
    ``faq_searches``), per-ticket facts for satisfaction (``ticket_info``) and the truth."""

    faq_articles: pd.DataFrame
    agents: pd.DataFrame
    tickets: pd.DataFrame
    calls: pd.DataFrame
    faq_searches: pd.DataFrame
    ticket_info: pd.DataFrame
    call_truth: dict[str, Any]
    faq_truth: dict[str, Any]


def _issues(rng: np.random.Generator, o: pd.DataFrame, returns: Returns, chat: pd.DataFrame, n_cust: int,
            signup_day: np.ndarray, tl: Timeline, cfg: SupportConfig) -> pd.DataFrame:
    """Issues that may become tickets: (customer, order, day, category, from_chat), by day."""
    n_o = len(o)
    o_cust, o_time, o_deliv, o_delay = (o[c].to_numpy() for c in ("cust", "time", "delivered", "delay"))
    late_o = np.flatnonzero((o_delay >= cfg.late_days) & (rng.random(n_o) < cfg.late_issue))
    # Half a day after the promised delivery day (the arithmetic kept as first written).
    d_late = o_time[late_o] + o_deliv[late_o] * 0 + (o_deliv[late_o] - o_time[late_o]) - o_delay[late_o] + 0.5
    rl = returns.lines
    defect_lines = rl.loc[rl["reason"].isin([DEFECTIVE, DAMAGED])]
    def_pick = rng.random(len(defect_lines)) < cfg.defect_issue
    ret_other = rl.loc[~rl["reason"].isin([DEFECTIVE, DAMAGED])]
    ret_pick = rng.random(len(ret_other)) < cfg.other_return_issue
    n_bg = rng.poisson(n_cust * tl.n_days / 365 * cfg.background_per_member_year)
    bg_cust = rng.integers(0, n_cust, n_bg)
    bg_day = signup_day[bg_cust] + rng.random(n_bg) * (tl.n_days - signup_day[bg_cust])
    bg_cat = rng.choice(list(cfg.background_categories), size=n_bg, p=cfg.background_mix)
    chat_day = ((chat["start_ts"] - tl.start) / pd.Timedelta(days=1)).to_numpy()
    def_order, other_order = defect_lines["order"].to_numpy()[def_pick], ret_other["order"].to_numpy()[ret_pick]
    issues = pd.DataFrame({
        "cust": np.r_[o_cust[late_o], o_cust[def_order], o_cust[other_order], bg_cust,
                      chat["customer_id"].to_numpy() - 1],
        "order": np.r_[late_o, def_order, other_order, np.full(n_bg, -1), np.full(len(chat), -1)],
        "day": np.r_[d_late, defect_lines["req"].to_numpy()[def_pick] - rng.uniform(*cfg.defect_issue_days,
                                                                                       def_pick.sum()),
                     ret_other["req"].to_numpy()[ret_pick] + rng.uniform(*cfg.return_issue_days, ret_pick.sum()),
                     bg_day, chat_day],
        "cat": np.r_[np.full(len(late_o), DELIVERY), np.full(def_pick.sum(), DEFECT), np.full(ret_pick.sum(), RETURN),
                     bg_cat, np.full(len(chat), PRESALES)],
        "from_chat": np.r_[np.zeros(len(late_o) + def_pick.sum() + ret_pick.sum() + n_bg, bool),
                           np.ones(len(chat), bool)],
    })
    return issues.loc[issues["day"] < tl.n_days - 0.01].sort_values("day", kind="stable").reset_index(drop=True)


def _self_service(rng: np.random.Generator, issues: pd.DataFrame, n_cust: int, signup_day: np.ndarray,
                  tl: Timeline, cfg: SupportConfig) -> dict[str, np.ndarray]:
    """Some search the FAQ first and articles resolve some issues (deflection); plus browsing searches."""
    n_i = len(issues)
    deflect_p = np.array(cfg.deflection)[issues["cat"].to_numpy()]
    searched = (rng.random(n_i) < cfg.search_share) & ~issues["from_chat"].to_numpy()
    clicked = searched & (rng.random(n_i) < cfg.click_share)
    deflected = clicked & (rng.random(n_i) < deflect_p / cfg.click_share)
    n_x = rng.poisson(n_cust * tl.n_days / 365 * cfg.browse_searches_per_member_year)
    x_cust = rng.integers(0, n_cust, n_x)
    x_day = signup_day[x_cust] + rng.random(n_x) * (tl.n_days - signup_day[x_cust])
    x_cat = rng.integers(0, len(CATEGORIES), n_x)
    x_click = rng.random(n_x) < cfg.browse_click
    return {"searched": searched, "clicked": clicked, "deflected": deflected, "x_cust": x_cust, "x_day": x_day,
            "x_cat": x_cat, "x_click": x_click}


def faq_articles() -> tuple[pd.DataFrame, dict[int, list[int]]]:
    """The ``faq_articles`` table (two per category, from :mod:`crmlab.data.vocab`) and the
    article ids of each category code."""
    art_rows, art_id = [], {}
    for c, cname in enumerate(CATEGORIES):
        for title, body in vocab.FAQ_ARTICLES[cname]:
            art_rows.append((len(art_rows) + 1, cname, title, body))
            art_id.setdefault(c, []).append(len(art_rows))
    faq = pd.DataFrame(art_rows, columns=["article_id", "category", "title", "body"])
    faq["category"] = _cat(faq["category"], CATEGORIES)
    faq["title"] = faq["title"].astype("str")
    faq["body"] = faq["body"].astype("str")
    return faq, art_id


def _channels(rng: np.random.Generator, issues: pd.DataFrame, ss: dict[str, np.ndarray], customers: Customers,
              cfg: SupportConfig) -> np.ndarray:
    """Ticket channel: escalated from the FAQ, or chat/phone/e-mail by age, device and category."""
    cust, icat = issues["cust"].to_numpy(), issues["cat"].to_numpy()
    older = customers.age[cust] >= cfg.older_band
    mobile = customers.device[cust] <= cfg.mobile_devices
    p_chat = cfg.chat_base + cfg.chat_mobile * mobile - cfg.chat_older * older
    p_phone = cfg.phone_base + cfg.phone_older * older + cfg.phone_defect_billing * np.isin(icat, [DEFECT, BILLING])
    p_email = np.clip(1 - p_chat - p_phone, cfg.email_min, None)
    chan = _categorical_draw(rng, np.c_[p_chat, p_phone, p_email] / (p_chat + p_phone + p_email)[:, None])
    escalate = ss["searched"] & ~ss["deflected"] & (rng.random(len(issues)) < cfg.escalation)
    chan = np.where(escalate, FAQ_ESCALATION, chan)
    return np.where(issues["from_chat"].to_numpy(), CHAT, chan)


def _created(rng: np.random.Generator, t_day: np.ndarray, t_chan: np.ndarray, open_hour: int, close_hour: int,
             cfg: SupportConfig) -> np.ndarray:
    """Created time: an hour from the support profile on the issue's day; phone tickets moved
    into opening hours."""
    n_t = len(t_day)
    t_created = np.floor(t_day) + sample_hours(rng, n_t, SUPPORT_HOUR_PROFILE) / 24.0
    t_created = np.maximum(t_created, t_day)
    hour = (t_created % 1) * 24
    phone = t_chan == PHONE
    t_created = np.where(phone & (hour < open_hour),
                         np.floor(t_created) + (open_hour + rng.random(n_t) * cfg.callback_window_hours) / 24,
                         t_created)
    return np.where(phone & (hour >= close_hour),
                    np.floor(t_created) + 1 + (open_hour + rng.random(n_t) * cfg.callback_window_hours) / 24,
                    t_created)


def _priority(rng: np.random.Generator, t_cat: np.ndarray, late_days: np.ndarray, cfg: SupportConfig) -> np.ndarray:
    """Priority = impact x urgency, nudged at random; some account issues urgent."""
    n_t = len(t_cat)
    prio = np.select(
        [t_cat == DEFECT, (t_cat == DELIVERY) & (late_days >= cfg.late_high_priority_days), t_cat == BILLING,
         t_cat == PRESALES, t_cat == ACCOUNT],
        [HIGH, HIGH, HIGH, LOW, MEDIUM], cfg.priority_default)
    prio = np.clip(prio + (rng.random(n_t) < cfg.priority_nudge) - (rng.random(n_t) < cfg.priority_nudge),
                   LOW, URGENT)
    return np.where((t_cat == ACCOUNT) & (rng.random(n_t) < cfg.urgent_account), URGENT, prio)


def _agents(rng: np.random.Generator, n_cust: int, tl: Timeline, cfg: SupportConfig) -> tuple[pd.DataFrame, np.ndarray]:
    """The ``agents`` table and each agent's team (0 frontline, 1 specialist)."""
    n_agents = int(max(cfg.min_agents, round(n_cust / cfg.members_per_agent)))
    n_spec = max(cfg.min_specialists, n_agents // cfg.specialist_every)
    team = np.r_[np.zeros(n_agents - n_spec, int), np.ones(n_spec, int)]
    shift = np.where(np.arange(n_agents) % cfg.evening_every == cfg.evening_every - 1, 1, 0)
    agents = pd.DataFrame({
        "agent_id": np.arange(1, n_agents + 1),
        "name": pd.array([f"Agent {i:03d}" for i in range(1, n_agents + 1)], dtype="str"),
        "team": _cat(np.where(team == 0, "frontline", "specialist"), ("frontline", "specialist")),
        "skills": pd.array(np.where(team == 0, "delivery|return|account|presales",
                                    "defect|billing|return|account").astype(str), dtype="str"),
        "shift": _cat(np.where(shift == 0, "day", "evening"), ("day", "evening")),
        "hire_date": _ts(tl.start, -rng.integers(*cfg.hire_days, n_agents).astype(float)),
    })
    return agents, team


def _response_times(rng: np.random.Generator, t_created: np.ndarray, t_chan: np.ndarray, t_cat: np.ndarray,
                    prio: np.ndarray, cfg: SupportConfig) -> tuple[np.ndarray, np.ndarray]:
    """First response and resolution times (days); e-mail and FAQ escalations created at night
    wait for office hours."""
    frt_median_min = np.array(cfg.first_response_minutes)[t_chan]
    frt = rng.lognormal(np.log(np.maximum(frt_median_min, cfg.response_floor_minutes)), cfg.response_sigma) / 1440.0
    t_hour = (t_created % 1) * 24
    office = (t_chan >= EMAIL) & ((t_hour < cfg.office_open) | (t_hour >= cfg.office_close))
    next_open = np.floor(t_created) + np.where(t_hour >= cfg.office_close, 1, 0) + cfg.office_open / 24
    frt = np.where(office, next_open - t_created + frt, frt)
    res_median_h = np.array(cfg.resolution_hours)[t_cat] * np.array(cfg.priority_speed)[prio]
    res = np.maximum(frt, rng.lognormal(np.log(res_median_h), cfg.resolution_sigma) / 24.0)
    return frt, res


def _ticket_texts(rng: np.random.Generator, t_cat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Subject and text of each ticket from its category's templates."""
    subj = np.empty(len(t_cat), dtype=object)
    text = np.empty(len(t_cat), dtype=object)
    for c, cname in enumerate(CATEGORIES):
        m = np.flatnonzero(t_cat == c)
        tmpl = vocab.TICKET_TEXT[cname]
        k = rng.integers(0, len(tmpl), len(m))
        subj[m] = [tmpl[j][0] for j in k]
        text[m] = [tmpl[j][1] for j in k]
    return subj, text


def _tickets_table(t: dict[str, np.ndarray], subj: np.ndarray, text: np.ndarray, tl: Timeline) -> pd.DataFrame:
    """The ``tickets`` table (``csat`` is filled by the satisfaction stage)."""
    n_t, order_of = len(t["cust"]), t["order"]
    first_resp, resolved = t["created"] + t["frt"], t["created"] + t["res"]
    return pd.DataFrame({
        "ticket_id": t["id"],
        "customer_id": t["cust"] + 1,
        "order_id": pd.arrays.IntegerArray(np.clip(order_of, 0, None) + 1, order_of < 0),
        "created_ts": _ts(tl.start, t["created"]),
        "channel": _codes(t["chan"], schema.TICKET_CHANNELS),
        "category": _codes(t["cat"], CATEGORIES),
        "priority": _codes(t["prio"], schema.PRIORITIES),
        "subject": pd.array(subj.astype(str), dtype="str"),
        "text": pd.array(text.astype(str), dtype="str"),
        "agent_id": t["agent"] + 1,
        "first_response_ts": pd.Series(_ts(tl.start, first_resp)).where(~(first_resp >= tl.n_days), pd.NaT),
        "resolved_ts": pd.Series(_ts(tl.start, resolved)).where(~t["open"], pd.NaT),
        "reopened": t["reopened"],
        "csat": pd.arrays.IntegerArray(np.ones(n_t, dtype=np.int64), np.ones(n_t, bool)),
    }).sort_values("ticket_id").reset_index(drop=True)


def _calls_table(calls: dict[str, Any], ticket_id: np.ndarray, tl: Timeline) -> pd.DataFrame:
    """The ``calls`` table: calls that arrived inside the window."""
    keep = calls["time"] < tl.n_days
    call_ticket = calls["ticket"]
    call_ticket_id = np.where(call_ticket >= 0, ticket_id[np.clip(call_ticket, 0, None)], -1)[keep]
    cust, agent = calls["cust"][keep], calls["agent"][keep]
    return pd.DataFrame({
        "call_id": np.arange(1, keep.sum() + 1),
        "arrival_ts": _ts(tl.start, calls["time"][keep]),
        "customer_id": pd.arrays.IntegerArray(cust + 1, cust < 0),
        "ticket_id": pd.arrays.IntegerArray(np.clip(call_ticket_id, 0, None), call_ticket_id < 0),
        "wait_seconds": np.round(calls["wait"][keep], 1),
        "abandoned": calls["abandoned"][keep],
        "handle_seconds": np.round(calls["handle"][keep], 1),
        "agent_id": pd.arrays.IntegerArray(agent + 1, agent < 0),
    })


def _faq_searches(rng: np.random.Generator, issues: pd.DataFrame, ss: dict[str, np.ndarray], ticket_pos: np.ndarray,
                  art_id: dict[int, list[int]], tl: Timeline, cfg: SupportConfig) -> pd.DataFrame:
    """FAQ searches: issue searches (linked to a ticket when escalated) + browsing searches."""
    s_idx = np.flatnonzero(ss["searched"])
    s_cat = np.r_[issues["cat"].to_numpy()[s_idx], ss["x_cat"]]
    n_s, n_cat = len(s_cat), len(CATEGORIES)
    q = np.empty(n_s, dtype=object)
    for c, cname in enumerate(CATEGORIES):
        m = np.flatnonzero(s_cat == c)
        q[m] = vocab.pick(rng, vocab.FAQ_QUERIES[cname], len(m))
    s_click = np.r_[ss["clicked"][s_idx], ss["x_click"]]
    # Clicked article: the right category's article most of the time.
    right = rng.random(n_s) < cfg.right_article
    art_cat = np.where(right, s_cat, rng.integers(0, n_cat, n_s))
    art = np.array([art_id[c][0] for c in range(n_cat)])[art_cat] + rng.integers(0, 2, n_s)
    s_ticket = np.r_[ticket_pos[s_idx], np.full(len(ss["x_cat"]), -1)]
    s_day = np.r_[issues["day"].to_numpy()[s_idx] - 0.01, ss["x_day"]]
    s_cust = np.r_[issues["cust"].to_numpy()[s_idx], ss["x_cust"]]
    srt = np.argsort(s_day, kind="stable")
    return pd.DataFrame({
        "search_id": np.arange(1, n_s + 1),
        "customer_id": s_cust[srt] + 1,
        "ts": _ts(tl.start, np.maximum(s_day[srt], 0)),
        "query": pd.array(q[srt].astype(str), dtype="str"),
        "intent": _codes(s_cat[srt], CATEGORIES),
        "clicked_article_id": pd.arrays.IntegerArray(art[srt], ~s_click[srt]),
        "ticket_id": pd.arrays.IntegerArray(np.clip(s_ticket[srt], 0, None), s_ticket[srt] < 0),
    })


def _phone_answers(rng: np.random.Generator, t: dict[str, np.ndarray], calls: dict[str, Any],
                   call_cfg: CallConfig) -> None:
    """Phone tickets: first response when the call is answered (or a callback), the answering
    agent, and resolution no sooner than the call ends (updates ``t`` in place)."""
    pos = np.flatnonzero(calls["ticket"] >= 0)
    tk = calls["ticket"][pos]
    abandoned = calls["abandoned"][pos]
    t["frt"][tk] = np.where(abandoned, rng.uniform(*call_cfg.callback_hours, len(pos)) / 24,
                            calls["wait"][pos] / 86400.0)
    t["agent"][tk] = np.where(calls["agent"][pos] >= 0, calls["agent"][pos], t["agent"][tk])
    t["res"][tk] = np.maximum(t["res"][tk], t["frt"][tk] + calls["handle"][pos] / 86400.0)


def draw_support(rng: np.random.Generator, knobs: dict[str, Any], customers: Customers, orders: Orders,
                 returns: Returns, sessions: Sessions, tl: Timeline, cfg: SupportConfig = SUPPORT,
                 call_cfg: CallConfig = CALLS) -> Support:
    """FAQ searches, tickets (triggered by experiences), agents and the phone queue."""
    n_cust = customers.n
    issues = _issues(rng, orders.frame, returns, sessions.chat, n_cust, customers.signup_day, tl, cfg)
    ss = _self_service(rng, issues, n_cust, customers.signup_day, tl, cfg)
    faq, art_id = faq_articles()
    chan = _channels(rng, issues, ss, customers, cfg)
    t_idx = np.flatnonzero(~ss["deflected"])
    t = {"cat": issues["cat"].to_numpy()[t_idx], "chan": chan[t_idx], "cust": issues["cust"].to_numpy()[t_idx],
         "order": issues["order"].to_numpy()[t_idx]}
    n_t = len(t_idx)
    t["created"] = _created(rng, issues["day"].to_numpy()[t_idx], t["chan"], call_cfg.open_hour,
                            call_cfg.close_hour, cfg)
    delay = orders.frame["delay"].to_numpy()
    late_days = np.where(t["order"] >= 0, delay[np.clip(t["order"], 0, None)], 0)
    t["prio"] = _priority(rng, t["cat"], late_days, cfg)
    agents, team = _agents(rng, n_cust, tl, cfg)
    front, spec = np.flatnonzero(team == 0), np.flatnonzero(team == 1)
    to_spec = np.isin(t["cat"], [DEFECT, BILLING])
    t["agent"] = np.where(to_spec, spec[rng.integers(0, len(spec), n_t)], front[rng.integers(0, len(front), n_t)])
    t["frt"], t["res"] = _response_times(rng, t["created"], t["chan"], t["cat"], t["prio"], cfg)
    phone = np.flatnonzero(t["chan"] == PHONE)
    calls = run_call_centre(rng, knobs, n_cust, t["created"][phone], t["cust"][phone], phone, front, tl, call_cfg)
    t["created"][phone] = calls["phone_time"]
    _phone_answers(rng, t, calls, call_cfg)
    t["open"] = t["created"] + t["res"] >= tl.n_days
    t["reopened"] = ~t["open"] & (rng.random(n_t) < np.where(t["cat"] == DEFECT, cfg.reopen_defect, cfg.reopen_other))
    t_order = np.argsort(t["created"], kind="stable")  # ticket ids in creation order
    t["id"] = np.empty(n_t, dtype=np.int64)
    t["id"][t_order] = np.arange(1, n_t + 1)
    subj, text = _ticket_texts(rng, t["cat"])
    ticket_info = pd.DataFrame({"cust": t["cust"], "order": t["order"], "created": t["created"],
                                "unresolved_3d": t["res"] > cfg.unresolved_days, "res_days": t["res"],
                                "open": t["open"], "reopened": t["reopened"], "chan": t["chan"],
                                "ticket_id": t["id"]})
    tickets = _tickets_table(t, subj, text, tl)
    ticket_pos = np.full(len(issues), -1)
    ticket_pos[t_idx] = t["id"]
    faq_truth = {"deflection_prob_given_click": dict(zip(
        CATEGORIES, (np.array(cfg.deflection) / cfg.click_share).round(4).tolist(), strict=True)),
        "search_share_of_issues": cfg.search_share}
    return Support(faq_articles=faq, agents=agents, tickets=tickets, calls=_calls_table(calls, t["id"], tl),
                   faq_searches=_faq_searches(rng, issues, ss, ticket_pos, art_id, tl, cfg),
                   ticket_info=ticket_info, call_truth=calls["truth"], faq_truth=faq_truth)
