"""Priority and routing (優先級與派單): the impact x urgency matrix and skill-based assignment.

:func:`priority_rule` looks priorities up in :data:`PRIORITY_MATRIX`; :func:`route_tickets`
replays the tickets in time order and gives each to the least-loaded agent with the skill.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from crmlab._checks import Reads, as_frame, datetime_column, reads, require_columns
from crmlab.support._validate import _positive
from crmlab.support.sla import PRIORITY_ORDER

__all__ = [
    "PRIORITY_MATRIX",
    "CATEGORY_IMPACT",
    "CHANNEL_URGENCY",
    "URGENT_PHRASES",
    "priority_rule",
    "route_tickets",
    "skill_match",
]


LEVELS = ("low", "medium", "high")


#: ITIL-style priority matrix: rows impact, columns urgency -> priority.
PRIORITY_MATRIX = pd.DataFrame(
    [["medium", "high", "urgent"],
     ["low", "medium", "high"],
     ["low", "low", "medium"]],
    index=pd.Index(["high", "medium", "low"], name="impact"),
    columns=pd.Index(["low", "medium", "high"], name="urgency"),
)


#: Impact of an issue category: money or a broken product hurts most, a question least.
CATEGORY_IMPACT: dict[str, str] = {
    "defect": "high", "billing": "high", "delivery": "medium", "return": "medium",
    "account": "medium", "presales": "low",
}


#: Urgency from the channel: a caller on the line is waiting now, an e-mail can wait.
CHANNEL_URGENCY: dict[str, str] = {
    "phone": "high", "chat": "medium", "faq_escalation": "medium", "email": "low",
}


#: Phrases in subject/text that raise urgency one level (the customer is blocked or out of pocket).
URGENT_PHRASES: tuple[str, ...] = (
    "charged twice", "does not work", "will not power on", "never arrives", "has not arrived",
    "stopped working",
)


def _check_level_map(mapping: Mapping[str, str], name: str, levels: Sequence[str]) -> None:
    """ValueError unless every value of ``mapping`` is one of ``levels``."""
    bad = {k: v for k, v in mapping.items() if v not in levels}
    if bad:
        raise ValueError(f"{name}: values {bad} must be one of {list(levels)}.")


@reads(tickets="")
def priority_rule(
    tickets: pd.DataFrame,
    *,
    impact: Mapping[str, str] = CATEGORY_IMPACT,
    urgency: Mapping[str, str] = CHANNEL_URGENCY,
    matrix: pd.DataFrame = PRIORITY_MATRIX,
    urgent_phrases: Sequence[str] = URGENT_PHRASES,
    table: str = "tickets",
) -> pd.DataFrame:
    """Priority = matrix[impact, urgency] (優先級矩陣).

    Impact comes from the category (``impact`` mapping), urgency from the channel
    (``urgency`` mapping), raised one level when the subject or text contains one of
    ``urgent_phrases``. All three are data, so a support lead can change the rule without code.
    Returns ``ticket_id, impact, urgency, priority``.

    Parameters
    ----------
    tickets : pd.DataFrame
        ``ticket_id``, ``category``, ``channel`` (``subject`` and ``text`` when present).
    impact : mapping, default CATEGORY_IMPACT
        Category -> impact level ("low", "medium", "high").
    urgency : mapping, default CHANNEL_URGENCY
        Channel -> urgency level.
    matrix : pd.DataFrame, default PRIORITY_MATRIX
        Priority by impact (rows) and urgency (columns).
    urgent_phrases : sequence of str, default URGENT_PHRASES
        Phrases that raise urgency one level; empty for none.
    table : str, default "tickets"
        Name of the table in error messages.

    Returns
    -------
    pd.DataFrame
        ``ticket_id``, ``impact``, ``urgency``, ``priority`` (ordered categorical).
    """
    df = as_frame(tickets, table)
    require_columns(df, table, ["ticket_id", "category", "channel"])
    m = as_frame(matrix, "matrix")
    cat = df["category"].astype("str")
    chan = df["channel"].astype("str")
    _check_priority_rule(m, impact, urgency, cat, chan, table)
    imp = cat.map(dict(impact))
    urg_level = chan.map({k: LEVELS.index(v) for k, v in urgency.items()}).to_numpy(int)
    if urgent_phrases:
        urg_level = np.minimum(urg_level + _mentions_any(df, urgent_phrases), len(LEVELS) - 1)
    urg = np.asarray(LEVELS, dtype=object)[urg_level]
    prio = [m.at[i, u] for i, u in zip(imp, urg, strict=True)]
    bad = sorted(set(prio) - set(PRIORITY_ORDER))
    if bad:
        raise ValueError(f"matrix: priorities {bad} must be one of {list(PRIORITY_ORDER)}.")
    return pd.DataFrame({
        "ticket_id": df["ticket_id"].to_numpy(),
        "impact": pd.Categorical(imp, categories=LEVELS),
        "urgency": pd.Categorical(urg, categories=LEVELS),
        "priority": pd.Categorical(prio, categories=PRIORITY_ORDER, ordered=True),
    })


def _check_priority_rule(m: pd.DataFrame, impact: Mapping[str, str], urgency: Mapping[str, str],
                         cat: pd.Series, chan: pd.Series, table: str) -> None:
    """The matrix covers every impact x urgency level, the mappings give known levels, and
    every category and channel of the tickets has one."""
    if set(m.index) != set(LEVELS) or set(m.columns) != set(LEVELS):
        raise ValueError("matrix: index (impact) and columns (urgency) must both be "
                         f"{list(LEVELS)}; see crmlab.support.PRIORITY_MATRIX.")
    _check_level_map(impact, "impact", LEVELS)
    _check_level_map(urgency, "urgency", LEVELS)
    for col, values, mapping, name in (("category", cat, impact, "impact"),
                                       ("channel", chan, urgency, "urgency")):
        missing = sorted(set(values.dropna()) - set(mapping))
        if missing:
            raise ValueError(f"{table}: column '{col}' has values {missing} without a level in "
                             f"{name}=...; add them to the mapping.")


def _mentions_any(df: pd.DataFrame, phrases: Sequence[str]) -> np.ndarray:
    """True where the ticket's subject or text contains one of ``phrases`` (any case)."""
    text = df["subject"].astype("str") if "subject" in df.columns else pd.Series("", index=df.index)
    if "text" in df.columns:
        text = text + " " + df["text"].astype("str")
    pattern = "|".join(map(_regex_escape, phrases))
    return text.str.lower().str.contains(pattern, regex=True).to_numpy(bool)


def _regex_escape(s: str) -> str:
    """A phrase, lower case, escaped for use in a regular expression."""
    import re

    return re.escape(s.lower())


def _agent_skills(agents: pd.DataFrame, skills_col: str, sep: str) -> dict[object, frozenset[str]]:
    """Each agent's set of skills (one row per agent, at least one skill each)."""
    a = as_frame(agents, "agents")
    require_columns(a, "agents", ["agent_id", skills_col])
    if a["agent_id"].duplicated().any():
        raise ValueError("agents: column 'agent_id' has duplicates; one row per agent.")
    if a[skills_col].isna().any():
        raise ValueError(f"agents: column '{skills_col}' has missing values; give every agent at "
                         "least one skill (or drop the agent).")
    return {aid: frozenset(s.strip() for s in str(sk).split(sep) if s.strip())
            for aid, sk in zip(a["agent_id"].tolist(), a[skills_col].tolist(), strict=True)}


@reads(agents="")
def skill_match(
    assignments: pd.DataFrame,
    agents: pd.DataFrame,
    *,
    agent_col: str = "agent_id",
    skill_col: str = "category",
    skills_col: str = "skills",
    sep: str = "|",
) -> pd.Series:
    """True where the assigned agent lists the ticket's category among their skills.

    Parameters
    ----------
    assignments : pd.DataFrame
        One row per ticket with the assigned agent and the ticket's category.
    agents : pd.DataFrame
        The ``agents`` table (``agent_id`` and the skills column).
    agent_col, skill_col : str, default "agent_id", "category"
        Columns of ``assignments`` with the agent and the skill needed.
    skills_col : str, default "skills"
        Column of ``agents`` listing each agent's skills.
    sep : str, default "|"
        Separator of the skills list.

    Returns
    -------
    pd.Series
        Boolean, aligned with ``assignments``, named ``skill_match``.
    """
    df = as_frame(assignments, "assignments")
    require_columns(df, "assignments", [agent_col, skill_col])
    skills = _agent_skills(agents, skills_col, sep)
    unknown = sorted(set(df[agent_col].dropna()) - set(skills))
    if unknown:
        raise ValueError(f"assignments: column '{agent_col}' has agents {unknown[:5]} that are not "
                         "in the agents table.")
    ok = [str(c) in skills.get(a, frozenset()) for a, c in
          zip(df[agent_col].tolist(), df[skill_col].astype("str").tolist(), strict=True)]
    return pd.Series(ok, index=df.index, name="skill_match")


@reads(tickets=Reads("tickets", name_arg="table"), agents="")
def route_tickets(
    tickets: pd.DataFrame,
    agents: pd.DataFrame,
    *,
    skill_col: str = "category",
    skills_col: str = "skills",
    sep: str = "|",
    release_col: str | None = "resolved_ts",
    work_hours: float | None = None,
    table: str = "tickets",
) -> pd.DataFrame:
    """Automatic assignment (自動派單): skill first, then the least open load, in time order.

    Tickets are replayed in order of ``created_ts``. Each goes to an agent whose ``skills``
    (joined by ``sep``) contain the ticket's ``skill_col`` value; among them the one with the
    fewest open tickets right now (ties: fewer tickets assigned so far, then the lower id).
    A ticket stays on its agent's load until ``release_col`` (its real resolution time; never
    released when missing) or, with ``work_hours``, that long after creation.

    The replay is sequential by nature -- each choice depends on the loads the earlier choices
    left -- so it loops over tickets, but keeps one heap per skill keyed by load (lazy
    deletion), which costs O(log agents) per ticket. Returns ``ticket_id``, ``skill``,
    ``agent_id`` (routed), ``open_load`` (the agent's open tickets before this one).
    Raises ``ValueError`` when some ticket's skill has no agent.

    Parameters
    ----------
    tickets : pd.DataFrame
        ``ticket_id``, ``created_ts`` and the skill column (``release_col`` when used).
    agents : pd.DataFrame
        The ``agents`` table (``agent_id`` and the skills column).
    skill_col : str, default "category"
        Column of ``tickets`` naming the skill a ticket needs.
    skills_col, sep : str, default "skills", "|"
        Column of ``agents`` listing each agent's skills, and the separator of that list.
    release_col : str or None, default "resolved_ts"
        When a ticket leaves its agent's load; None keeps every ticket on the load.
    work_hours : float, optional
        Release each ticket this many hours after creation instead of ``release_col``.
    table : str, default "tickets"
        Name of the table in error messages.

    Returns
    -------
    pd.DataFrame
        One row per ticket, sorted by ``ticket_id``.
    """
    df = as_frame(tickets, table)
    require_columns(df, table, ["ticket_id", "created_ts", skill_col])
    created = datetime_column(df, table, "created_ts")
    skills = _agent_skills(agents, skills_col, sep)
    need = _needed_skills(df, skills, table, skill_col, skills_col)
    release = _release_times(df, created, table, release_col, work_hours)
    return _route(df["ticket_id"], created, release, need, skills, agents["agent_id"].dtype)


def _route(ticket_id: pd.Series, created: pd.Series, release: pd.Series, need: pd.Series,
           skills: dict[object, frozenset[str]], agent_dtype: object) -> pd.DataFrame:
    """Replay the tickets in time order (ties by id) and tabulate who got each one."""
    order = np.lexsort((ticket_id.to_numpy(), created.to_numpy()))
    rel = release.to_numpy(dtype="datetime64[ns]")[order]
    need_o = need.to_numpy(dtype=object)[order]
    chosen, open_load = _replay_least_loaded(
        need_o, created.to_numpy(dtype="datetime64[ns]").astype(np.int64)[order],
        np.where(np.isnat(rel), _NEVER, rel.astype(np.int64)), skills)
    out = pd.DataFrame({"ticket_id": ticket_id.to_numpy()[order],
                        "skill": need_o.astype(str), "agent_id": chosen,
                        "open_load": open_load})
    out["skill"] = out["skill"].astype("str")
    if pd.api.types.is_integer_dtype(agent_dtype):
        out["agent_id"] = out["agent_id"].astype(agent_dtype)
    return out.sort_values("ticket_id", kind="stable").reset_index(drop=True)


#: Release time of a ticket that never leaves its agent's load.
_NEVER = np.iinfo(np.int64).max


def _needed_skills(df: pd.DataFrame, skills: dict[object, frozenset[str]], table: str,
                   skill_col: str, skills_col: str) -> pd.Series:
    """The skill each ticket needs, as text; every ticket's skill must have an agent."""
    need = df[skill_col].astype("str")
    if need.isna().any():
        raise ValueError(f"{table}: column '{skill_col}' has missing values; triage those tickets "
                         "first (e.g. TicketTriage) so the router knows the skill.")
    have = set().union(*skills.values()) if skills else set()
    orphan = sorted(set(need) - have)
    if orphan:
        raise ValueError(f"{table}: no agent has the skill(s) {orphan} (agents.{skills_col}); add "
                         "the skill to at least one agent or map those tickets to another queue.")
    return need


def _release_times(df: pd.DataFrame, created: pd.Series, table: str, release_col: str | None,
                   work_hours: float | None) -> pd.Series:
    """When each ticket leaves its agent's load: ``work_hours`` after creation, else at
    ``release_col`` (NaT = never), else never."""
    if work_hours is not None:
        return created + pd.Timedelta(hours=_positive(work_hours, "work_hours"))
    if release_col is not None:
        require_columns(df, table, [release_col])
        return datetime_column(df, table, release_col, allow_missing=True)
    return pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")


def _replay_least_loaded(need: np.ndarray, t_create: np.ndarray, t_release: np.ndarray,
                         skills: dict[object, frozenset[str]]) -> tuple[np.ndarray, np.ndarray]:
    """Replay tickets (in time order) and give each to the least-loaded agent with its skill.

    One heap per skill keyed by (open load, tickets so far, id rank), with lazy deletion: an
    entry whose load no longer matches the agent's is stale and skipped. Returns the chosen
    agent and its open load before the ticket, per ticket.
    """
    agent_ids = list(skills)
    load = dict.fromkeys(agent_ids, 0)
    done = dict.fromkeys(agent_ids, 0)
    rank = {a: i for i, a in enumerate(sorted(agent_ids))}
    heaps: dict[str, list] = {s: [] for s in set().union(*skills.values())}
    for a in agent_ids:
        for s in skills[a]:
            heaps[s].append((0, 0, rank[a], a))
    for h in heaps.values():
        heapq.heapify(h)
    releases: list[tuple[int, int, object]] = []

    def push(agent: object) -> None:
        entry = (load[agent], done[agent], rank[agent], agent)
        for s in skills[agent]:
            heapq.heappush(heaps[s], entry)

    chosen = np.empty(len(need), dtype=object)
    open_load = np.empty(len(need), dtype=np.int64)
    for i in range(len(need)):
        while releases and releases[0][0] <= t_create[i]:
            _, _, a = heapq.heappop(releases)
            load[a] -= 1
            push(a)
        h = heaps[need[i]]
        while True:
            ld, dn, _, a = h[0]
            if ld == load[a] and dn == done[a]:
                break
            heapq.heappop(h)  # stale entry: the agent's load changed since it was pushed
        chosen[i], open_load[i] = a, load[a]
        load[a] += 1
        done[a] += 1
        push(a)
        if t_release[i] != _NEVER:
            heapq.heappush(releases, (int(t_release[i]), i, a))
    return chosen, open_load
