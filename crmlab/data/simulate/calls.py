"""The phone queue of the support stage: background calls plus the phone tickets' calls,
served first come, first served by square-root staffing (Erlang's rule of thumb)."""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..calendar import SUPPORT_HOUR_PROFILE
from .timeline import Timeline


@dataclass(frozen=True)
class CallConfig:
    """The call centre (``truth["call"]``).

    Parameters
    ----------
    open_hour, close_hour : int
        Lines open 09:00-21:00; phone tickets created outside are moved into opening hours
        (``callback_window_hours`` after opening).
    calls_per_1000_members : float
        Background calls a day per 1,000 members (the knob ``calls_per_day`` overrides it),
        times ``sqrt`` of the day's demand weight (``demand_exponent``), spread over the open
        hours by the support hour profile.
    known_caller_share : float
        Share of background calls from an identified member.
    handle_median_seconds, handle_sigma : float
        Lognormal handle time.
    patience_mean_seconds : float
        A caller hangs up after Exponential(mean) seconds in the queue.
    staffing_z : float
        Phone agents = ceil(load + staffing_z * sqrt(load)) at the average busiest hour.
    callback_hours : tuple of float
        A phone ticket whose call was abandoned gets its first response by a callback after
        Uniform(low, high) hours.
    """

    open_hour: int = 9
    close_hour: int = 21
    callback_window_hours: float = 3
    calls_per_1000_members: float = 60
    demand_exponent: float = 0.5
    known_caller_share: float = 0.7
    handle_median_seconds: float = 300.0
    handle_sigma: float = 0.5
    patience_mean_seconds: float = 240.0
    staffing_z: float = 0.8
    callback_hours: tuple[float, float] = (0.5, 2)


CALLS = CallConfig()


def _queue(secs: np.ndarray, handle: np.ndarray, patience: np.ndarray, servers: int) -> tuple[np.ndarray, ...]:
    """Wait, abandonment and server of each call in a FCFS queue with ``servers`` agents."""
    n_c = len(secs)
    wait = np.zeros(n_c)
    abandoned = np.zeros(n_c, bool)
    server_of = np.full(n_c, -1)
    free = [(0.0, k) for k in range(servers)]
    heapq.heapify(free)
    # The queue is sequential by nature: one pass over calls in arrival order (FCFS, c servers).
    for i in range(n_c):
        t_free, k = free[0]
        start = max(secs[i], t_free)
        wt = start - secs[i]
        if wt > patience[i]:
            wait[i], abandoned[i] = patience[i], True
            continue
        heapq.heapreplace(free, (start + handle[i], k))
        wait[i], server_of[i] = wt, k
    return wait, abandoned, server_of


def run_call_centre(rng: np.random.Generator, knobs: dict[str, Any], n_customers: int, phone_time: np.ndarray,
                    phone_cust: np.ndarray, phone_ticket: np.ndarray, front: np.ndarray, tl: Timeline,
                    cfg: CallConfig = CALLS) -> dict[str, Any]:
    """Simulate the phone line over the window.

    ``phone_time`` (days, already inside opening hours), ``phone_cust`` and ``phone_ticket``
    (row in the tickets) describe the phone tickets' calls; ``front`` are the frontline agents.
    Returns the calls sorted by arrival (``time``, ``ticket``, ``cust``, ``wait``, ``abandoned``,
    ``handle``, ``agent``; -1 = none), the phone tickets' ``phone_time`` capped at closing, the
    number of ``servers`` and the ``truth`` entry.
    """
    open_hours = np.arange(cfg.open_hour, cfg.close_hour)
    hour_w = SUPPORT_HOUR_PROFILE[open_hours] / SUPPORT_HOUR_PROFILE[open_hours].sum()
    bg_rate_day = knobs["calls_per_day"] if knobs["calls_per_day"] is not None \
        else n_customers / 1000 * cfg.calls_per_1000_members
    n_calls_day = rng.poisson(bg_rate_day * tl.demand[: tl.n_days] ** cfg.demand_exponent)
    c_day = np.repeat(np.arange(tl.n_days), n_calls_day)
    c_time = c_day + (cfg.open_hour + rng.choice(len(open_hours), len(c_day), p=hour_w)
                      + rng.random(len(c_day))) / 24
    last_second = (cfg.close_hour * 3600 - 1) / 86400  # the line closes at close_hour
    phone_time = np.minimum(phone_time, np.floor(phone_time) + last_second)
    c_time = np.minimum(c_time, np.floor(c_time) + last_second)
    call_time = np.r_[phone_time, c_time]
    call_ticket = np.r_[phone_ticket, np.full(len(c_time), -1)]
    call_cust = np.r_[phone_cust, np.where(rng.random(len(c_time)) < cfg.known_caller_share,
                                           rng.integers(0, n_customers, len(c_time)), -1)]
    order_c = np.argsort(call_time, kind="stable")
    call_time, call_ticket, call_cust = call_time[order_c], call_ticket[order_c], call_cust[order_c]
    n_c = len(call_time)
    handle = rng.lognormal(np.log(cfg.handle_median_seconds), cfg.handle_sigma, n_c)
    patience = rng.exponential(cfg.patience_mean_seconds, n_c)
    # Square-root staffing on the average busiest hour, same number of phone agents all day.
    peak_rate = (bg_rate_day * hour_w.max() + len(phone_ticket) / tl.n_days / len(open_hours)) / 3600.0
    load = peak_rate * np.exp(np.log(cfg.handle_median_seconds) + cfg.handle_sigma ** 2 / 2)
    servers = int(max(1, np.ceil(load + cfg.staffing_z * np.sqrt(load))))
    wait, abandoned, server_of = _queue(call_time * 86400.0, handle, patience, servers)
    handle = np.where(abandoned, 0.0, handle)
    phone_agents = front[: max(1, min(len(front), servers))]
    call_agent = np.where(server_of >= 0, phone_agents[np.clip(server_of, 0, None) % len(phone_agents)], -1)
    truth = {
        "open_hours": [cfg.open_hour, cfg.close_hour],
        "phone_agents": servers,
        "background_calls_per_day": float(bg_rate_day),
        "background_hour_share": {str(int(h)): float(s) for h, s in zip(open_hours, hour_w, strict=True)},
        "handle_seconds_lognormal": {"median": cfg.handle_median_seconds, "sigma": cfg.handle_sigma,
                                     "mean": float(np.exp(np.log(cfg.handle_median_seconds)
                                                          + cfg.handle_sigma ** 2 / 2))},
        "patience_seconds_mean": cfg.patience_mean_seconds,
        "note": "Arrivals = background Poisson calls (daily volume x sqrt(demand weight)) + calls of phone tickets.",
    }
    return {"time": call_time, "ticket": call_ticket, "cust": call_cust, "wait": wait, "abandoned": abandoned,
            "handle": handle, "agent": call_agent, "phone_time": phone_time, "servers": servers, "truth": truth}
