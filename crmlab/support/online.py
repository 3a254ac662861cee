"""Online customer service (網路客服): response standards, service scripts, inquiry conversion.

:func:`first_response_standards` measures first response per channel in the channel's own
unit; :func:`script_steps` / :func:`script_score` read replies against the service script
(:data:`SERVICE_SCRIPT`); :func:`inquiry_conversion` and :func:`assisted_orders` link pre-sales
questions to orders by calendar day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmlab._checks import Reads, as_frame, as_timestamp, datetime_column, reads, require_columns
from crmlab.stats import wilson_interval
from crmlab.support._validate import _texts

__all__ = [
    "RESPONSE_STANDARDS",
    "first_response_standards",
    "SERVICE_SCRIPT",
    "script_steps",
    "script_score",
    "inquiry_conversion",
    "assisted_orders",
]


#: Seconds in each unit a response standard may be written in.
UNIT_SECONDS: dict[str, float] = {"seconds": 1.0, "minutes": 60.0, "hours": 3600.0}


#: The shop's first-response targets per channel, each in the channel's own unit (a chat is
#: answered in seconds, an e-mail in hours). Data, not code: the support lead edits a copy.
#: ``typical`` and ``source`` say where published norms sit; the targets are the shop's own.
RESPONSE_STANDARDS = pd.DataFrame({
    "channel": ["chat", "phone", "email", "faq_escalation"],
    "unit": ["seconds", "seconds", "hours", "hours"],
    "target": [60.0, 20.0, 24.0, 24.0],
    "typical": [
        "top teams answer live chat in under a minute; the average is 1-2 minutes",
        "80/20 service level: 80% of calls answered within 20 seconds (notebook 09)",
        "customers expect about 1 hour; the average company answers in about 12 hours",
        "an FAQ escalation is a written message, answered in the e-mail queue",
    ],
    "source": [
        "https://www.lorikeetcx.ai/articles/first-response-time-benchmark-customer-service",
        "call-centre convention (ICMI); crmlab.support.service_level",
        "https://www.superoffice.co.uk/resources/articles/customer-service-response-times",
        "the shop's own rule",
    ],
})


def _check_standards(standards: object, func: str) -> pd.DataFrame:
    """A response-standards table with known units, positive targets, one row per channel."""
    s = as_frame(standards, "standards", func=func)
    require_columns(s, "standards", ["channel", "unit", "target"], func=func,
             fix="Start from a copy of crmlab.support.RESPONSE_STANDARDS.")
    bad_unit = sorted(set(s["unit"].astype("str")) - set(UNIT_SECONDS))
    if bad_unit:
        raise ValueError(f"{func}: standards.unit has {bad_unit}; use one of {list(UNIT_SECONDS)}.")
    target = pd.to_numeric(s["target"], errors="coerce")
    if target.isna().any() or (target <= 0).any():
        raise ValueError(f"{func}: standards.target must be positive numbers (in the row's unit), "
                         f"got {s['target'].tolist()}.")
    if s["channel"].astype("str").duplicated().any():
        raise ValueError(f"{func}: standards has a channel twice; keep one row per channel.")
    return s


@reads(tickets="created_ts first_response_ts")
def first_response_standards(
    tickets: pd.DataFrame,
    standards: pd.DataFrame | None = None,
    *,
    end: object = None,
) -> pd.DataFrame:
    """First response per channel, in the channel's own unit, against a standards table.

    FRT = ``first_response_ts - created_ts``. A ticket *meets* its channel's target when
    answered within it; it *misses* when answered later or still unanswered at ``end`` after
    waiting longer than the target; an unanswered ticket still within its target is
    *pending* and left out. ``share_met = met / (met + missed)``. ``median`` and ``p90`` are
    over answered tickets, in ``unit``. ``end`` defaults to the latest time stamp in
    ``tickets``. One row per channel of ``standards`` (default :data:`RESPONSE_STANDARDS`)
    that has tickets, in the standards' order.

    Parameters
    ----------
    tickets : pd.DataFrame
        The ``tickets`` table (``channel``, ``created_ts``, ``first_response_ts``).
    standards : pd.DataFrame, optional
        ``channel``, ``unit`` ("seconds", "minutes", "hours") and ``target`` per channel;
        default :data:`RESPONSE_STANDARDS`.
    end : datetime-like, optional
        Observation end.

    Returns
    -------
    pd.DataFrame
        ``channel, unit, target, tickets, answered, pending, median, p90, met, missed,
        share_met``.
    """
    func = "first_response_standards"
    t = as_frame(tickets, "tickets", func=func)
    require_columns(t, "tickets", ["channel", "created_ts", "first_response_ts"], func=func)
    created = datetime_column(t, "tickets", "created_ts", func=func)
    first = datetime_column(t, "tickets", "first_response_ts", allow_missing=True, func=func)
    std = _check_standards(RESPONSE_STANDARDS if standards is None else standards, func)
    channel = t["channel"].astype("str")
    unknown = sorted(set(channel.dropna()) - set(std["channel"].astype("str")))
    if unknown:
        raise ValueError(f"{func}: tickets.channel has {unknown} without a row in standards; add "
                         "a row (channel, unit, target) for each.")
    end_ts = as_timestamp(end, "end", func=func) if end is not None else max(created.max(), first.max())
    frt_s = (first - created).dt.total_seconds()
    if (frt_s < 0).any():
        raise ValueError(f"{func}: {int((frt_s < 0).sum())} tickets have first_response_ts before "
                         "created_ts; fix the time stamps or drop those tickets.")
    d = _frt_outcomes(channel, frt_s, (end_ts - created).dt.total_seconds(), std)
    return _per_channel(d, std)


def _per_channel(d: pd.DataFrame, std: pd.DataFrame) -> pd.DataFrame:
    """Counts, median and P90 FRT and the share met per channel, in the standards' order."""
    g = d.groupby("channel", observed=True)
    agg = pd.DataFrame({
        "tickets": g.size(), "answered": g["answered"].sum(), "pending": g["pending"].sum(),
        "median": g["frt"].median(), "p90": g["frt"].quantile(0.9), "met": g["met"].sum(),
        "missed": g["missed"].sum(),
    })
    with np.errstate(invalid="ignore", divide="ignore"):
        agg["share_met"] = agg["met"] / (agg["met"] + agg["missed"])
    out = (std[["channel", "unit", "target"]].assign(channel=std["channel"].astype("str"))
           .merge(agg.reset_index(), on="channel", how="inner"))
    for c in ("tickets", "answered", "pending", "met", "missed"):
        out[c] = out[c].astype("int64")
    return out


def _frt_outcomes(channel: pd.Series, frt_s: pd.Series, age_s: pd.Series,
                  std: pd.DataFrame) -> pd.DataFrame:
    """Per ticket: FRT in its channel's unit and whether it met, missed or is pending against
    its channel's target (unanswered tickets miss once their age passes the target)."""
    std_by = std.assign(channel=std["channel"].astype("str")).set_index("channel")
    unit_s = channel.map(std_by["unit"].astype("str").map(UNIT_SECONDS)).astype("float64")
    limit_s = channel.map(pd.to_numeric(std_by["target"])).astype("float64") * unit_s
    answered = frt_s.notna()
    met = answered & (frt_s <= limit_s)
    missed = (answered & (frt_s > limit_s)) | (~answered & (age_s > limit_s))
    return pd.DataFrame({"channel": channel, "frt": frt_s / unit_s, "answered": answered,
                         "pending": ~(met | missed), "met": met, "missed": missed})


#: Service scripts (話術): the steps of a sales conversation, each with an example line, the
#: words in a customer's message that make the step necessary (``needed_when``; ``.*`` =
#: always) and the words that show an agent's reply covers it (``cues``). Regular
#: expressions, matched without regard to case. Data, not code: edit a copy.
SERVICE_SCRIPT = pd.DataFrame({
    "step": ["greeting", "answer", "objection", "upsell", "closing"],
    "step_zh": ["問候", "售前諮詢", "異議處理", "加購推薦", "結束語"],
    "example_zh": [
        "您好，歡迎光臨！我是客服小安，很高興為您服務。",
        "這款目前有現貨，享一年保固；身高165公分建議選M號。",
        "了解您的考量！商品享七天鑑賞期，不合適可以免費退換。",
        "搭配同系列收納袋一起買更划算，滿千還免運喔。",
        "請問還有其他可以幫您的嗎？祝您購物愉快！",
    ],
    "example_en": [
        "Hello, thank you for contacting us! This is An, happy to help.",
        "It is in stock with a one-year warranty; for 165 cm we suggest size M.",
        "I understand. You have 7 days to return it for free if it does not suit you.",
        "It goes well with the matching storage bag, and orders over NT$1,000 ship free.",
        "Is there anything else I can help with? Enjoy your shopping!",
    ],
    "needed_when": [
        ".*",
        r"stock|size|measurement|warranty|\bfit\b|material|colou?r",
        r"discount|price|expensive|cheaper|worried|not sure",
        r"bulk|gift|wrapping|\bsets?\b|bundle",
        ".*",
    ],
    "cues": [
        r"\b(hello|hi|welcome)\b|thank you for contacting|您好|你好|歡迎",
        r"in stock|warranty|\bsize\b|measurement|現貨|保固|尺寸|尺碼",
        r"understand|free return|return it|\d+[- ]day|guarantee|了解|鑑賞期|退換",
        r"goes well with|bundle|together|free shipping|ship free|gift wrap|搭配|加購|組合|免運",
        r"anything else|enjoy|have a (nice|great)|還有其他|祝您",
    ],
})


def script_steps(texts: object, script: pd.DataFrame | None = None, *,
                 column: str = "cues") -> pd.DataFrame:
    """Which script steps each text matches: one boolean column per step.

    ``column="cues"`` reads agents' replies (which steps a reply covers);
    ``column="needed_when"`` reads customers' messages (which steps a reply must cover).
    The index follows ``texts`` when it is a Series.

    Parameters
    ----------
    texts : list or pd.Series of str
        Replies (``column="cues"``) or customer messages (``column="needed_when"``).
    script : pd.DataFrame, optional
        The script (``step`` and ``column``); default :data:`SERVICE_SCRIPT`.
    column : {"cues", "needed_when"}, default "cues"
        Which patterns to match.

    Returns
    -------
    pd.DataFrame
        One boolean column per step, one row per text.
    """
    func = "script_steps"
    sc = as_frame(SERVICE_SCRIPT if script is None else script, "script", func=func)
    if column not in ("cues", "needed_when"):
        raise ValueError(f"{func}: column={column!r}; use 'cues' (replies) or 'needed_when' "
                         "(customer messages).")
    require_columns(sc, "script", ["step", column], func=func,
             fix="Start from a copy of crmlab.support.SERVICE_SCRIPT.")
    s = _texts(texts, "texts", func)
    import re

    out = {}
    for step, pattern in zip(sc["step"].astype("str"), sc[column].astype("str"), strict=True):
        try:
            rx = re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            raise ValueError(f"{func}: script.{column} of step {step!r} is not a valid regular "
                             f"expression ({exc}).") from exc
        out[step] = np.array([rx.search(t) is not None for t in s], dtype=bool)
    return pd.DataFrame(out, index=s.index)


def script_score(replies: object, messages: object = None,
                 script: pd.DataFrame | None = None) -> pd.DataFrame:
    """Quality of replies against the script: covered steps / needed steps.

    A step is *needed* when the customer's message matches its ``needed_when`` (every step
    when ``messages`` is None) and *covered* when the reply matches its ``cues``. Columns:
    ``needed``, ``covered`` (needed and covered), ``score`` = covered / needed, and
    ``missing`` (the needed steps the reply left out, comma-separated).

    Parameters
    ----------
    replies : list or pd.Series of str
        The agents' replies.
    messages : list or pd.Series of str, optional
        The customer message each reply answers; None = every step is needed.
    script : pd.DataFrame, optional
        The script; default :data:`SERVICE_SCRIPT`.

    Returns
    -------
    pd.DataFrame
        One row per reply: ``needed``, ``covered``, ``score``, ``missing``.
    """
    func = "script_score"
    cov = script_steps(replies, script, column="cues")
    if messages is None:
        need = pd.DataFrame(True, index=cov.index, columns=cov.columns)
    else:
        need = script_steps(messages, script, column="needed_when")
        if len(need) != len(cov):
            raise ValueError(f"{func}: {len(cov)} replies for {len(need)} messages; pass one "
                             "message per reply.")
        need.index = cov.index
    hit = cov & need
    steps = np.asarray(cov.columns, dtype=object)
    gap = (need & ~cov).to_numpy()
    out = pd.DataFrame({"needed": need.sum(axis=1).astype("int64"),
                        "covered": hit.sum(axis=1).astype("int64")}, index=cov.index)
    out["score"] = out["covered"] / out["needed"].where(out["needed"] > 0)
    out["missing"] = pd.array([", ".join(steps[row]) for row in gap], dtype="str")
    return out


def _days(ts: pd.Series) -> pd.Series:
    """Time stamps cut to their calendar day."""
    return ts.dt.normalize()


def _day_pairs(customer: pd.Series, day: pd.Series) -> pd.DataFrame:
    """Distinct (customer_id, day) pairs."""
    return (pd.DataFrame({"customer_id": customer.astype("int64").to_numpy(),
                          "day": day.to_numpy()})
            .drop_duplicates().reset_index(drop=True))


def _nearest_day(pairs: pd.DataFrame, events: pd.DataFrame, direction: str) -> pd.Series:
    """For each (customer_id, day) pair, the nearest event day of the same customer on or
    after (``forward``) / on or before (``backward``) the day; NaT when there is none."""
    left = pairs.assign(_row=np.arange(len(pairs))).sort_values("day", kind="stable")
    right = (events.assign(_hit=events["day"]).sort_values("day", kind="stable"))
    m = pd.merge_asof(left, right, on="day", by="customer_id", direction=direction)
    out = pd.Series(pd.NaT, index=np.arange(len(pairs)), dtype="datetime64[ns]")
    out.iloc[m["_row"].to_numpy()] = m["_hit"].to_numpy()
    return out


def _questions(tickets: pd.DataFrame, category: str, func: str) -> pd.DataFrame:
    """The customer-days with a ticket of ``category`` (a pre-sales question)."""
    t = as_frame(tickets, "tickets", func=func)
    require_columns(t, "tickets", ["customer_id", "created_ts", "category"], func=func)
    created = datetime_column(t, "tickets", "created_ts", func=func)
    ask = (t["category"].astype("str") == category).to_numpy()
    if not ask.any():
        raise ValueError(f"{func}: tickets: no ticket has category {category!r}; pass category= one of "
                         f"{sorted(set(t['category'].astype('str')))}.")
    return _day_pairs(t.loc[ask, "customer_id"], _days(created[ask]))


def _order_days(orders: pd.DataFrame, func: str) -> pd.DataFrame:
    """The customer-days with an order."""
    o = as_frame(orders, "orders", func=func)
    require_columns(o, "orders", ["customer_id", "order_ts"], func=func)
    return _day_pairs(o["customer_id"], _days(datetime_column(o, "orders", "order_ts", func=func)))


def _check_days(days: object, func: str) -> int:
    """``days`` as a whole number >= 0."""
    if isinstance(days, bool) or not isinstance(days, int | np.integer) or days < 0:
        raise ValueError(f"{func}: days={days!r} must be a whole number of days >= 0, e.g. 7.")
    return int(days)


@reads(tickets="",
       orders="",
       sessions=Reads("sessions", optional=True),
       customers=Reads("customers", optional=True))
def inquiry_conversion(
    tickets: pd.DataFrame,
    orders: pd.DataFrame,
    sessions: pd.DataFrame | None = None,
    customers: pd.DataFrame | None = None,
    *,
    days: int = 7,
    category: str = "presales",
    visit_strata: int = 3,
) -> pd.DataFrame:
    """Inquiry-to-order conversion (詢單轉換率) beside comparison groups, by calendar day.

    A *unit* is a customer-day. It *converts* when the customer orders on that day or in the
    ``days`` days after it. Groups (rows):

    * ``asked``: the days a customer opened a ticket of ``category`` (a pre-sales question);
    * with ``sessions``: ``asked, visited that day`` (asked and had a session that day);
      ``visited, did not ask`` (a session on one of the question days, no question that
      day); and ``visited, did not ask, same visits``: the same group's rate standardised to
      the askers' mix of sessions that day (1, 2, ..., ``visit_strata`` or more; a busy
      shopping day is both likelier to hold a question and likelier to end in an order);
    * with ``customers``: ``all customers, same days`` (every customer signed up by a question
      day, who did not ask that day).

    Columns: ``group, units, converted, rate, ci_low, ci_high`` (95% Wilson interval; for the
    standardised row ``converted`` is missing and the interval is rate +- 1.96 standard
    errors). Every gap is an association: the groups differ in who they are, not only in
    whether they asked.

    Parameters
    ----------
    tickets : pd.DataFrame
        The ``tickets`` table (``customer_id``, ``created_ts``, ``category``).
    orders : pd.DataFrame
        The ``orders`` table (``customer_id``, ``order_ts``).
    sessions : pd.DataFrame, optional
        The ``sessions`` table (``customer_id``, ``start_ts``), for the visitor rows.
    customers : pd.DataFrame, optional
        The ``customers`` table (``customer_id``, ``signup_ts``), for the all-customers row.
    days : int, default 7
        Days after the question day in which an order counts.
    category : str, default "presales"
        The ticket category of a pre-sales question.
    visit_strata : int, default 3
        Sessions per day are grouped 1, 2, ..., ``visit_strata`` or more for standardising.

    Returns
    -------
    pd.DataFrame
        One row per group with the columns above.
    """
    func = "inquiry_conversion"
    n_days, strata = _check_days(days, func), _check_strata(visit_strata, func)
    asked, od = _questions(tickets, category, func), _order_days(orders, func)
    q = _Questions(asked, _converted(asked, od, n_days), od, n_days)
    rows: list[tuple] = [("asked", len(asked), int(q.converted.sum()), np.nan, np.nan)]
    rows += [] if sessions is None else _visitor_rows(sessions, q, strata, func)
    if customers is not None:
        rows.append(_all_customers_row(customers, q, func))
    return _conversion_table(rows)


@dataclass(frozen=True)
class _Questions:
    """The pre-sales questions as customer-days, whether each converted, the customers'
    order days and the conversion window: what every comparison row of
    :func:`inquiry_conversion` is measured against."""

    asked: pd.DataFrame
    converted: np.ndarray
    order_days: pd.DataFrame
    n_days: int


def _check_strata(visit_strata: object, func: str) -> int:
    """The number of visit strata: a whole number >= 1."""
    if isinstance(visit_strata, bool) or not isinstance(visit_strata, int | np.integer) \
            or visit_strata < 1:
        raise ValueError(f"{func}: visit_strata={visit_strata!r} must be a whole number >= 1, e.g. 3.")
    return int(visit_strata)


def _converted(pairs: pd.DataFrame, order_days: pd.DataFrame, n_days: int) -> np.ndarray:
    """True where the customer orders on the pair's day or in the ``n_days`` days after it."""
    nxt = _nearest_day(pairs, order_days, "forward")
    return (nxt.notna() & (nxt <= pairs["day"] + pd.Timedelta(days=n_days))).to_numpy()


def _visitor_rows(sessions: pd.DataFrame, q: _Questions, visit_strata: int, func: str) -> list[tuple]:
    """The three session-based rows of :func:`inquiry_conversion` (askers who visited,
    visitors who did not ask, and the latter standardised to the askers' visit mix)."""
    asked, asked_conv = q.asked, q.converted
    s = as_frame(sessions, "sessions", func=func)
    require_columns(s, "sessions", ["customer_id", "start_ts"], func=func)
    day = _days(datetime_column(s, "sessions", "start_ts", func=func))
    visits = (pd.DataFrame({"customer_id": s["customer_id"].astype("int64").to_numpy(),
                            "day": day.to_numpy()})
              .groupby(["customer_id", "day"]).size().rename("visits").reset_index())
    visits = visits.loc[visits["day"].isin(np.sort(asked["day"].unique()))].reset_index(drop=True)
    visits["stratum"] = visits["visits"].clip(upper=visit_strata)
    asked_key = pd.MultiIndex.from_frame(asked[["customer_id", "day"]])
    visit_key = pd.MultiIndex.from_frame(visits[["customer_id", "day"]])
    both = asked_key.isin(visit_key)
    others = visits.loc[~visit_key.isin(asked_key)].reset_index(drop=True)
    others["conv"] = _converted(others[["customer_id", "day"]], q.order_days, q.n_days)
    mix = visits.loc[visit_key.isin(asked_key), "stratum"].value_counts(normalize=True)
    by = others.groupby("stratum")["conv"].agg(["mean", "size"]).reindex(mix.index)
    rate = float((mix * by["mean"]).sum(min_count=1)) if by["size"].notna().all() else np.nan
    se = float(np.sqrt((mix**2 * by["mean"] * (1 - by["mean"]) / by["size"]).sum()))
    return [("asked, visited that day", int(both.sum()), int(asked_conv[both].sum()), np.nan, np.nan),
            ("visited, did not ask", len(others), int(others["conv"].sum()), np.nan, np.nan),
            ("visited, did not ask, same visits", len(others), np.nan, rate, se)]


def _all_customers_row(customers: pd.DataFrame, q: _Questions, func: str) -> tuple:
    """Every customer signed up by a question day who did not ask that day: units and
    conversions, counted without listing all customer-days."""
    asked, asked_conv, od, n_days = q.asked, q.converted, q.order_days, q.n_days
    c = as_frame(customers, "customers", func=func)
    require_columns(c, "customers", ["customer_id", "signup_ts"], func=func)
    signup = pd.Series(_days(datetime_column(c, "customers", "signup_ts", func=func)).to_numpy(),
                       index=c["customer_id"].astype("int64").to_numpy())
    unknown = ~asked["customer_id"].isin(signup.index).to_numpy()
    if unknown.any():
        raise ValueError(f"{func}: customers: {int(unknown.sum())} question(s) come from customers "
                         "not in the customers table; pass the whole table (shop.customers).")
    q_days = np.sort(asked["day"].unique())
    eligible = np.searchsorted(np.sort(signup.to_numpy()), q_days, side="right")
    # each order day converts the question days in [order day - days, order day]
    lo = np.searchsorted(q_days, (od["day"] - pd.Timedelta(days=n_days)).to_numpy(), "left")
    hi = np.searchsorted(q_days, od["day"].to_numpy(), "right")
    k = np.repeat(np.arange(len(od)), hi - lo)
    q_idx = (np.concatenate([np.arange(a, b) for a, b in zip(lo, hi, strict=True)])
             if len(k) else np.array([], dtype=np.int64))
    cover = pd.DataFrame({"customer_id": od["customer_id"].to_numpy()[k],
                          "day": q_days[q_idx]}).drop_duplicates()
    known = signup.reindex(cover["customer_id"].to_numpy()).to_numpy()
    n_conv = int((pd.notna(known) & (known <= cover["day"].to_numpy())).sum())
    return ("all customers, same days", int(eligible.sum()) - len(asked),
            n_conv - int(asked_conv.sum()), np.nan, np.nan)


def _conversion_table(rows: list[tuple]) -> pd.DataFrame:
    """Rates with 95% intervals: Wilson where a row has counts, rate +- 1.96 SE (clipped to
    [0, 1]) for the standardised row, which has a rate and a standard error instead."""
    out = pd.DataFrame(rows, columns=["group", "units", "converted", "_rate", "_se"])
    out["group"] = out["group"].astype("str")
    out["converted"] = out["converted"].astype("Int64")
    n = out["units"].astype("float64")
    k_conv = out["converted"].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["rate"] = np.where(np.isnan(k_conv), out["_rate"], k_conv / np.where(n > 0, n, np.nan))
    plain = ~np.isnan(k_conv)
    low, high = np.full(len(out), np.nan), np.full(len(out), np.nan)
    low[plain], high[plain] = wilson_interval(k_conv[plain], n.to_numpy()[plain])
    low[~plain] = np.clip(out["_rate"][~plain] - 1.96 * out["_se"][~plain], 0, 1)
    high[~plain] = np.clip(out["_rate"][~plain] + 1.96 * out["_se"][~plain], 0, 1)
    out["ci_low"], out["ci_high"] = low, high
    return out.drop(columns=["_rate", "_se"])


@reads(tickets="", orders="customer_id order_ts")
def assisted_orders(tickets: pd.DataFrame, orders: pd.DataFrame, *, days: int = 7,
                    category: str = "presales") -> pd.Series:
    """True for each order placed on the day of a pre-sales question by the same customer or
    in the ``days`` days after it (calendar days, as :func:`inquiry_conversion` counts);
    aligned with ``orders``.

    Parameters
    ----------
    tickets : pd.DataFrame
        The ``tickets`` table (``customer_id``, ``created_ts``, ``category``).
    orders : pd.DataFrame
        The ``orders`` table (``customer_id``, ``order_ts``).
    days : int, default 7
        Days after the question day in which an order counts as assisted.
    category : str, default "presales"
        The ticket category of a pre-sales question.

    Returns
    -------
    pd.Series
        Boolean, aligned with ``orders``, named ``assisted``.
    """
    func = "assisted_orders"
    n_days = _check_days(days, func)
    asked = _questions(tickets, category, func)
    o = as_frame(orders, "orders", func=func)
    require_columns(o, "orders", ["customer_id", "order_ts"], func=func)
    pairs = pd.DataFrame({"customer_id": o["customer_id"].astype("int64").to_numpy(),
                          "day": _days(datetime_column(o, "orders", "order_ts", func=func)).to_numpy()})
    last_q = _nearest_day(pairs, asked, "backward")
    hit = last_q.notna() & (pairs["day"] - last_q <= pd.Timedelta(days=n_days))
    return pd.Series(hit.to_numpy(), index=o.index, name="assisted")
