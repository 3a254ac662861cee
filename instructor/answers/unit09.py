"""Answers of ``exercises/09_customer_support_exercises.ipynb`` (notebook 09: customer support).

Each function computes the expected answer from the shop the student works on (or from the
fixed numbers the exercise states) through :mod:`crmlab.support`; the notebook's model
solutions take the plain pandas/numpy route, so a passing solution run cross-checks both.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from crmlab import support as S
from crmlab.exercises import mistake, question, variant
from crmlab.exercises.compare import compare_nonzero_labels

#: Numbers stated in the exercise texts (kept here so texts and answers agree).
FRT_TARGET_HOURS = {"low": 24.0, "medium": 8.0, "high": 4.0, "urgent": 1.0}
CCH = {"calls": 100, "period_minutes": 30, "aht": 180.0, "agents": 13, "target": 20.0}
PEAK_FACTOR = 3.0  # Double 11: three times the usual calls in the busiest hour
SL_TARGET, ANSWER_SECONDS, SHRINKAGE = 0.8, 20.0, 0.3


def _metrics(shop) -> pd.DataFrame:
    # tickets opened after the data end have not happened yet at end (ticket_metrics refuses
    # them, naming the fix); some seeds plant one, so a student filters them out first
    t = shop.tickets
    return S.ticket_metrics(t.loc[t["created_ts"] <= shop.end_ts], end=shop.end_ts)


@question("support_channel_share", compare=compare_nonzero_labels,
          hint="Share = tickets of the channel / all tickets (the shares add up to 1). A Series "
               "indexed by channel, e.g. value_counts(normalize=True).")
def channel_share(shop) -> pd.Series:
    s = shop.tickets["channel"].astype("str").value_counts(normalize=True)
    return s[s > 0].rename("share")


@question("support_frt_median_min", ignore_row_order=True,
          hint="First response time = first_response_ts - created_ts, in MINUTES, for tickets "
               "that got a response; then the median (not the mean) per channel. A Series "
               "indexed by channel.")
def frt_median_min(shop) -> pd.Series:
    tab = S.lifecycle_summary(_metrics(shop), by="channel")
    s = pd.Series(tab["frt_median_h"].to_numpy() * 60, index=tab["channel"].astype(str).to_numpy())
    return s.rename("frt_median_min")


@question("support_backlog_month_end", ignore_row_order=True,
          hint="For every month from shop.start to shop.end: t = the first moment of the next "
               "month (the last month: shop.end_ts). Open at t = created_ts <= t and (resolved_ts "
               "missing or > t). Keep tickets that are never resolved! Index 'YYYY-MM'.")
def backlog_month_end(shop) -> pd.Series:
    b = S.backlog(shop.tickets, freq="M", start=shop.start, end=shop.end_ts)
    return pd.Series(b["open_at_end"].to_numpy(), index=b["period"].dt.strftime("%Y-%m").to_numpy(),
                     name="open_tickets")


@question("support_fcr_rate",
          hint="A resolved ticket is first-contact resolved when it was not reopened AND the same "
               "customer opened no other ticket of the same category within 7 days after its "
               "created_ts. Rate = those tickets / RESOLVED tickets (open ones are not counted).")
def fcr_rate(shop) -> float:
    return float(_metrics(shop)["fcr"].astype("Float64").mean())


def _targets() -> pd.DataFrame:
    return pd.DataFrame({"priority": list(FRT_TARGET_HOURS),
                         "first_response_hours": list(FRT_TARGET_HOURS.values()),
                         "resolution_hours": [1e9] * len(FRT_TARGET_HOURS)})


@question("support_sla_frt", ignore_row_order=True,
          hint="Calendar hours. Met: answered within the priority's target. Breached: answered "
               "late, OR not answered and shop.end_ts - created_ts already exceeds the target. "
               "Tickets still waiting within their target are left out. Attainment = met / (met "
               "+ breached), a Series indexed by priority.")
def sla_frt(shop) -> pd.Series:
    tab = S.sla_attainment(_metrics(shop), _targets(), clock="calendar")
    return pd.Series(tab["frt_attainment"].to_numpy(), index=tab["priority"].astype(str).to_numpy(),
                     name="frt_attainment")


@question("support_erlang_cch13", rtol=1e-6,
          hint="Traffic A is in Erlangs: calls per HOUR times the handle time in hours — check "
               "which period the call count is given for. Then P(wait) from the Erlang C "
               "formula of the task, and from it the service level and the ASA.")
def erlang_cch13(shop) -> dict[str, float]:
    calls_per_hour = CCH["calls"] * 60 / CCH["period_minutes"]
    a = calls_per_hour * CCH["aht"] / 3600
    n = CCH["agents"]
    return {"p_wait": float(S.erlang_c(n, a)),
            "service_level": float(S.service_level(n, a, CCH["aht"], CCH["target"])),
            "asa_seconds": float(S.average_speed_of_answer(n, a, CCH["aht"]))}


def _peak(shop) -> tuple[float, float]:
    """Calls per hour (x PEAK_FACTOR) and AHT of the busiest hour of day in the call log."""
    by_hour = S.call_center_by_hour(shop.calls)
    top = by_hour.loc[by_hour["offered_per_hour"].idxmax()]
    return float(top["offered_per_hour"]) * PEAK_FACTOR, float(top["aht_seconds"])


@question("support_double11_agents",
          hint="Busiest hour = the hour of day (arrival_ts.dt.hour) with the most calls; calls per "
               "hour = its calls / number of distinct dates in the log, times 3; AHT = mean "
               "handle_seconds of its ANSWERED calls. Smallest N with SL(20 s) >= 80%; scheduled "
               "= ceil(N / (1 - 0.3)).")
def double11_agents(shop) -> dict[str, int]:
    calls, aht = _peak(shop)
    out = S.agents_needed(calls, aht, target_seconds=ANSWER_SECONDS,
                          service_level_target=SL_TARGET, shrinkage=SHRINKAGE)
    return {"raw_agents": int(out["raw_agents"]), "scheduled_agents": int(out["scheduled_agents"])}


@question("support_router", ignore_row_order=True,
          hint="Go through tickets by created_ts (ties: ticket_id). Before each ticket, free "
               "every agent's tickets whose resolved_ts <= its created_ts (missing resolved_ts: "
               "never freed). Candidates: agents whose skills contain the category; pick the "
               "fewest open tickets, then fewest assigned so far, then the lowest agent_id. "
               "A Series agent_id indexed by ticket_id.")
def router(shop) -> pd.Series:
    r = S.route_tickets(shop.tickets, shop.agents)
    return pd.Series(r["agent_id"].to_numpy(), index=r["ticket_id"].to_numpy(), name="agent_id")


@question("support_faq_hit1", rtol=1e-9,
          hint="TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True) fitted on title + ' ' + "
               "body of every article; score = cosine similarity (the vectors are already "
               "L2-normalised). A search hits when its best article's category == intent AND the "
               "best score is > 0 (no shared word = no result = a miss).")
def faq_hit1(shop) -> float:
    return float(S.FaqSearch().fit(shop.faq_articles).evaluate(shop.faq_searches, ks=(1,))["hit_at_1"])


# -- typical mistakes that the checks must reject (run by tests/exercises) ------------------


@mistake("support_channel_share", "counts instead of shares")
def _share_counts(shop) -> pd.Series:
    return shop.tickets["channel"].astype("str").value_counts()


@mistake("support_channel_share", "one ticket per customer (duplicates dropped)")
def _share_customers(shop) -> pd.Series:
    t = shop.tickets.drop_duplicates("customer_id")
    return t["channel"].astype("str").value_counts(normalize=True)


@variant("support_channel_share", "categorical value_counts as a one-column frame")
def _share_frame(shop) -> pd.DataFrame:
    return shop.tickets["channel"].value_counts(normalize=True).rename("share").to_frame()


@mistake("support_frt_median_min", "mean instead of median")
def _frt_mean(shop) -> pd.Series:
    t = shop.tickets
    m = (t["first_response_ts"] - t["created_ts"]).dt.total_seconds() / 60
    return m.groupby(t["channel"].astype(str)).mean()


@mistake("support_frt_median_min", "hours instead of minutes")
def _frt_hours(shop) -> pd.Series:
    return frt_median_min(shop) / 60


@mistake("support_backlog_month_end", "tickets never resolved are dropped")
def _backlog_drop_open(shop) -> pd.Series:
    t = shop.tickets.dropna(subset=["resolved_ts"])
    b = S.backlog(t, freq="M", start=shop.start, end=shop.end_ts)
    return pd.Series(b["open_at_end"].to_numpy(), index=b["period"].dt.strftime("%Y-%m").to_numpy())


@mistake("support_backlog_month_end", "counted at the start of the month, not its end")
def _backlog_month_start(shop) -> pd.Series:
    t = shop.tickets
    months = pd.period_range(shop.start, shop.end, freq="M")
    at = months.start_time
    c = np.sort(t["created_ts"].to_numpy())
    r = np.sort(t["resolved_ts"].dropna().to_numpy())
    n = np.searchsorted(c, at.to_numpy(), side="right") - np.searchsorted(r, at.to_numpy(), side="right")
    return pd.Series(n, index=months.strftime("%Y-%m"))


@mistake("support_fcr_rate", "1 - reopen rate (repeat contacts ignored)")
def _fcr_no_repeat(shop) -> float:
    t = shop.tickets.loc[shop.tickets["resolved_ts"].notna()]
    return float(1 - t["reopened"].mean())


@mistake("support_fcr_rate", "denominator includes open tickets")
def _fcr_all(shop) -> float:
    m = _metrics(shop)
    return float(m["fcr"].fillna(False).astype(bool).sum() / len(m))


@mistake("support_sla_frt", "resolution time compared with the first-response target")
def _sla_resolution(shop) -> pd.Series:
    m = _metrics(shop)
    t = _targets().assign(resolution_hours=list(FRT_TARGET_HOURS.values()))
    tab = S.sla_attainment(m, t, clock="calendar")
    return pd.Series(tab["resolution_attainment"].to_numpy(), index=tab["priority"].astype(str).to_numpy())


@mistake("support_sla_frt", "business hours instead of calendar hours")
def _sla_business(shop) -> pd.Series:
    tab = S.sla_attainment(_metrics(shop), _targets(), clock="business")
    return pd.Series(tab["frt_attainment"].to_numpy(), index=tab["priority"].astype(str).to_numpy())


@mistake("support_erlang_cch13", "100 calls taken as calls per hour (the offered load halved)")
def _cch_half(shop) -> dict[str, float]:
    a, n = CCH["calls"] * CCH["aht"] / 3600, CCH["agents"]
    return {"p_wait": float(S.erlang_c(n, a)),
            "service_level": float(S.service_level(n, a, CCH["aht"], CCH["target"])),
            "asa_seconds": float(S.average_speed_of_answer(n, a, CCH["aht"]))}


@mistake("support_erlang_cch13", "service level = 1 - P(wait) (no waiting-time term)")
def _cch_no_exp(shop) -> dict[str, float]:
    right = erlang_cch13(shop)
    return {**right, "service_level": 1 - right["p_wait"]}


@mistake("support_double11_agents", "no shrinkage: scheduled = on the phones")
def _d11_no_shrinkage(shop) -> dict[str, int]:
    right = double11_agents(shop)
    return {**right, "scheduled_agents": right["raw_agents"]}


@mistake("support_double11_agents", "usual volume (not tripled)")
def _d11_usual(shop) -> dict[str, int]:
    calls, aht = _peak(shop)
    out = S.agents_needed(calls / PEAK_FACTOR, aht, target_seconds=ANSWER_SECONDS,
                          service_level_target=SL_TARGET, shrinkage=SHRINKAGE)
    return {"raw_agents": int(out["raw_agents"]), "scheduled_agents": int(out["scheduled_agents"])}


@mistake("support_double11_agents", "agents = offered load rounded up (no queueing margin)")
def _d11_load_only(shop) -> dict[str, int]:
    calls, aht = _peak(shop)
    raw = math.ceil(calls * aht / 3600)
    return {"raw_agents": raw, "scheduled_agents": math.ceil(raw / (1 - SHRINKAGE))}


@variant("support_double11_agents", "floats instead of ints")
def _d11_float(shop) -> dict[str, float]:
    return {k: float(v) for k, v in double11_agents(shop).items()}


@mistake("support_router", "skills ignored: least-loaded agent of all")
def _router_no_skill(shop) -> pd.Series:
    agents = shop.agents.assign(skills="|".join(sorted(set(shop.tickets["category"].astype(str)))))
    r = S.route_tickets(shop.tickets, agents)
    return pd.Series(r["agent_id"].to_numpy(), index=r["ticket_id"].to_numpy())


@mistake("support_router", "tickets never released (fewest tickets ever assigned)")
def _router_no_release(shop) -> pd.Series:
    r = S.route_tickets(shop.tickets, shop.agents, release_col=None)
    return pd.Series(r["agent_id"].to_numpy(), index=r["ticket_id"].to_numpy())


@variant("support_router", "a dict ticket_id -> agent_id")
def _router_dict(shop) -> dict:
    r = S.route_tickets(shop.tickets, shop.agents)
    return dict(zip(r["ticket_id"].tolist(), r["agent_id"].tolist(), strict=True))


@mistake("support_faq_hit1", "searches with no matching word counted (argmax picks article 1)")
def _faq_zero_hits(shop) -> float:
    fs = S.FaqSearch().fit(shop.faq_articles)
    s = fs.scores(shop.faq_searches["query"].astype(str))
    best = fs.category_[np.argmax(s, axis=1)]
    return float(np.mean(best == shop.faq_searches["intent"].astype(str).to_numpy()))


@mistake("support_faq_hit1", "articles indexed by their title only")
def _faq_titles(shop) -> float:
    arts = shop.faq_articles.assign(body="")
    return float(S.FaqSearch().fit(arts).evaluate(shop.faq_searches, ks=(1,))["hit_at_1"])


# -- online service (notebook 09_online_and_smart_service, section 1) -------------------------

#: The chat standard the exercise states: first response within 60 seconds.
CHAT_TARGET_SECONDS = 60.0


def _within(shop, limit_s: float, channels: tuple[str, ...] | None = ("chat",)) -> float:
    """met / (met + missed) of the tickets of ``channels`` (None = all) against ``limit_s``."""
    t = shop.tickets
    if channels is not None:
        t = t.loc[t["channel"].astype("str").isin(channels)]
    frt = (t["first_response_ts"] - t["created_ts"]).dt.total_seconds()
    waited = (shop.end_ts - t["created_ts"]).dt.total_seconds()
    met = frt <= limit_s
    missed = (frt > limit_s) | (frt.isna() & (waited > limit_s))
    return float(met.sum() / (met.sum() + missed.sum()))


@question("support_chat_within_standard",
          hint="Only chat tickets, and the standard is in seconds. A ticket meets it when its first "
               "response came within the target; it misses it when the answer came later, or when "
               "it is still unanswered at END after waiting longer than the target; leave out the "
               "ones still waiting within it. Answer met / (met + missed), a share.")
def chat_within_standard(shop) -> float:
    std = S.RESPONSE_STANDARDS.assign(
        target=S.RESPONSE_STANDARDS["target"].where(S.RESPONSE_STANDARDS["channel"] != "chat", CHAT_TARGET_SECONDS))
    frt = S.first_response_standards(shop.tickets, std, end=shop.end_ts)
    return float(frt.set_index("channel").loc["chat", "share_met"])


@mistake("support_chat_within_standard", "the chat target read as 60 minutes, not 60 seconds")
def _chat_minutes(shop) -> float:
    return _within(shop, 60 * CHAT_TARGET_SECONDS)


@mistake("support_chat_within_standard", "tickets of every channel held to the chat standard")
def _chat_all_channels(shop) -> float:
    return _within(shop, CHAT_TARGET_SECONDS, channels=None)


# -- smart service (notebook 09_online_and_smart_service, sections 4-5) ------------------------

#: The bot's confidence threshold the exercise states.
BOT_THRESHOLD = 0.6


def bot_proba(shop) -> tuple[np.ndarray, np.ndarray]:
    """The intent classifier the exercise gives: fitted on tickets (subject + text, labelled
    by category) and FAQ articles (title + body); probabilities for every FAQ search."""
    t, a = shop.tickets, shop.faq_articles
    text = pd.concat([t["subject"] + " " + t["text"], a["title"] + " " + a["body"]], ignore_index=True)
    label = pd.concat([t["category"].astype("str"), a["category"].astype("str")], ignore_index=True)
    clf = S.IntentClassifier().fit(text, label)
    return clf.predict_proba(shop.faq_searches["query"]), np.asarray(clf.classes_)


def _bot_parts(shop) -> tuple[np.ndarray, np.ndarray]:
    proba, classes = bot_proba(shop)
    right = classes[proba.argmax(axis=1)] == shop.faq_searches["intent"].astype("str").to_numpy()
    return proba.max(axis=1) >= BOT_THRESHOLD, right


@question("support_bot_containment",
          hint="The bot answers a search when its top intent's probability reaches the threshold "
               "(>=); otherwise it hands off. Contained = answered AND the top intent is the "
               "search's true intent. Decide the denominator: every search, answered or not. "
               "A share between 0 and 1.")
def bot_containment(shop) -> float:
    proba, classes = bot_proba(shop)
    curve = S.handoff_tradeoff(proba, classes, shop.faq_searches["intent"], thresholds=[BOT_THRESHOLD])
    return float(curve.loc[0, "containment_rate"])


@mistake("support_bot_containment", "right answers over the answered searches, not over all searches")
def _bot_over_answered(shop) -> float:
    answered, right = _bot_parts(shop)
    return float((answered & right).sum() / answered.sum())


@mistake("support_bot_containment", "the hand-off rate (share sent to an agent)")
def _bot_handoff(shop) -> float:
    answered, _ = _bot_parts(shop)
    return float(1 - answered.mean())


@mistake("support_bot_containment", "the threshold ignored: every top intent counted as an answer")
def _bot_no_threshold(shop) -> float:
    _, right = _bot_parts(shop)
    return float(right.mean())


# -- pre-sales service as selling (notebook 09_online_and_smart_service, section 3) ------------

#: The inquiry-to-order window the exercise states: the question day and the 7 days after it.
INQUIRY_DAYS = 7


def _inquiry_gaps(shop) -> pd.DataFrame:
    """Every (question customer-day, order day of that customer) pair with the gap in days."""
    t = shop.tickets.loc[shop.tickets["category"].astype("str") == "presales"]
    ask = t.assign(day=t["created_ts"].dt.normalize())[["customer_id", "day"]].drop_duplicates()
    od = shop.orders.assign(order_day=shop.orders["order_ts"].dt.normalize())[["customer_id", "order_day"]]
    pairs = ask.merge(od.drop_duplicates(), on="customer_id", how="left")
    return pairs.assign(gap=(pairs["order_day"] - pairs["day"]).dt.days)


def _inquiry_rate(shop, low: int, high: float) -> float:
    p = _inquiry_gaps(shop)
    hit = p["gap"].between(low, high)
    return float(hit.groupby([p["customer_id"], p["day"]]).any().mean())


@question("support_inquiry_conversion",
          hint="The unit is a customer-day with a pre-sales ticket (several questions on one day "
               "count once). Work in calendar days: it converts when the same customer has an "
               "order on that day or on one of the next 7. A share between 0 and 1.")
def inquiry_conversion(shop) -> float:
    conv = S.inquiry_conversion(shop.tickets, shop.orders, days=INQUIRY_DAYS)
    return float(conv.set_index("group").loc["asked", "rate"])


@mistake("support_inquiry_conversion", "orders on the day of the question left out")
def _inquiry_later_only(shop) -> float:
    return _inquiry_rate(shop, 1, INQUIRY_DAYS)


@mistake("support_inquiry_conversion", "no 7-day limit: any later order counted")
def _inquiry_no_limit(shop) -> float:
    return _inquiry_rate(shop, 0, np.inf)
