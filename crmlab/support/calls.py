"""The call queue: a simulated first-come-first-served queue and the shop's call log beside Erlang C.

:func:`simulate_queue` simulates M/M/c (or lognormal handling, abandonment);
:func:`queue_stats` measures a call log; :func:`call_center_by_hour` sets the shop's calls per
hour of day beside Erlang C's prediction.
"""

from __future__ import annotations

import heapq
import math

import numpy as np
import pandas as pd

from crmlab._checks import (
    Reads,
    as_frame,
    datetime_column,
    reads,
    require_columns,
)
from crmlab.support._validate import _positive
from crmlab.support.staffing import _unstable, erlang_c

__all__ = [
    "simulate_queue",
    "queue_stats",
    "call_center_by_hour",
]


def simulate_queue(
    calls_per_hour: float,
    aht_seconds: float,
    agents: int,
    *,
    n_calls: int = 50_000,
    service: str = "exponential",
    sigma: float = 0.5,
    patience_seconds: float | None = None,
    seed: int | np.random.Generator = 0,
) -> pd.DataFrame:
    """Simulate a first-come-first-served queue with ``agents`` servers (Poisson arrivals).

    ``service='exponential'`` gives M/M/c (what Erlang C assumes); ``'lognormal'`` draws
    handling times with log-sd ``sigma`` and mean ``aht_seconds`` (the shop's calls). With
    ``patience_seconds`` callers hang up after an exponential patience of that mean (then the
    line is the shop's M/G/c+M). A caller's wait is the time until the earliest server is
    free; callers who hang up take no server. Returns ``arrival_s, wait_s, abandoned,
    handle_s`` per call.
    """
    lam = _positive(calls_per_hour, "calls_per_hour") / 3600.0
    aht = _positive(aht_seconds, "aht_seconds")
    if int(agents) != agents or agents < 1:
        raise ValueError(f"agents={agents!r} must be a whole number >= 1.")
    agents = int(agents)
    if patience_seconds is None:
        _unstable(np.asarray(agents), np.asarray(lam * aht))
    if n_calls < 1:
        raise ValueError("n_calls must be >= 1.")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    arrival = np.cumsum(rng.exponential(1 / lam, n_calls))
    if service == "exponential":
        handle = rng.exponential(aht, n_calls)
    elif service == "lognormal":
        s = _positive(sigma, "sigma")
        handle = rng.lognormal(math.log(aht) - s**2 / 2, s, n_calls)
    else:
        raise ValueError(f"service={service!r} must be 'exponential' or 'lognormal'.")
    patience = (np.full(n_calls, np.inf) if patience_seconds is None
                else rng.exponential(_positive(patience_seconds, "patience_seconds"), n_calls))
    free = [0.0] * agents
    heapq.heapify(free)
    wait = np.empty(n_calls)
    abandoned = np.zeros(n_calls, dtype=bool)
    for i in range(n_calls):
        t = arrival[i]
        w = max(free[0] - t, 0.0)
        if w > patience[i]:
            wait[i], abandoned[i] = patience[i], True
            continue
        wait[i] = w
        heapq.heapreplace(free, t + w + handle[i])
    return pd.DataFrame({"arrival_s": arrival, "wait_s": wait, "abandoned": abandoned,
                         "handle_s": np.where(abandoned, 0.0, handle)})


@reads(calls="")
def queue_stats(calls: pd.DataFrame, *, target_seconds: float = 20.0, wait_col: str = "wait_s",
                abandoned_col: str = "abandoned", table: str = "calls") -> dict[str, float]:
    """Measured queue figures: ``p_wait`` (share that waited at all), ``service_level`` (answered
    within target / offered), ``asa_seconds`` (mean wait of answered calls), ``abandon_rate``."""
    df = as_frame(calls, table)
    require_columns(df, table, [wait_col, abandoned_col])
    w = df[wait_col].to_numpy(float)
    if np.isnan(w).any() or (w < 0).any():
        raise ValueError(f"{table}: column '{wait_col}' must hold waits >= 0 without missing values.")
    ab = df[abandoned_col].to_numpy(bool)
    target = _positive(target_seconds, "target_seconds", allow_zero=True)
    n = len(df)
    if n == 0:
        raise ValueError(f"{table} is empty.")
    ans = ~ab
    return {"calls": n, "p_wait": float(np.mean(w > 0)),
            "service_level": float(np.mean(ans & (w <= target))),
            "asa_seconds": float(w[ans].mean()) if ans.any() else float("nan"),
            "abandon_rate": float(ab.mean())}


@reads(calls=Reads("calls", name_arg="table", nonempty=True))
def call_center_by_hour(
    calls: pd.DataFrame,
    *,
    agents: int | None = None,
    target_seconds: float = 20.0,
    table: str = "calls",
) -> pd.DataFrame:
    """The shop's call log by hour of day beside Erlang C's prediction for the same hour.

    Per hour: ``days`` (dates in the log), ``offered_per_hour`` (calls / days), ``aht_seconds``
    (mean handling of answered calls), ``load`` (erlangs), ``agents`` (default: the number of
    distinct answering agents in the log), measured ``p_wait``, ``service_level`` (answered
    within target / offered), ``asa_seconds`` (answered calls), ``abandon_rate``, and Erlang C's
    ``erlang_p_wait``, ``erlang_service_level``, ``erlang_asa_seconds`` (NaN where the hour's
    load is not below the agents: Erlang C has no steady state there).
    """
    df = as_frame(calls, table)
    require_columns(df, table, ["arrival_ts", "wait_seconds", "abandoned", "handle_seconds"])
    ts = datetime_column(df, table, "arrival_ts")
    for col in ("wait_seconds", "handle_seconds"):
        v = df[col].to_numpy(float)
        if np.isnan(v).any() or (v < 0).any():
            raise ValueError(f"{table}: column '{col}' must hold seconds >= 0 without missing values.")
    if agents is None:
        require_columns(df, table, ["agent_id"], fix="Pass agents=<number of phone agents>.")
        agents = int(df["agent_id"].dropna().nunique())
    if agents < 1:
        raise ValueError("call_center_by_hour: no answering agents; pass agents=...")
    target = _positive(target_seconds, "target_seconds", allow_zero=True)
    days = ts.dt.normalize().nunique()
    d = pd.DataFrame({"hour": ts.dt.hour.to_numpy(), "wait": df["wait_seconds"].to_numpy(float),
                      "ab": df["abandoned"].to_numpy(bool), "handle": df["handle_seconds"].to_numpy(float)})
    d["ans"] = ~d["ab"]
    d["within"] = d["ans"] & (d["wait"] <= target)
    d["waited"] = d["wait"] > 0
    d["wait_ans"] = d["wait"].where(d["ans"])
    d["handle_ans"] = d["handle"].where(d["ans"])
    g = d.groupby("hour").agg(calls=("wait", "size"), p_wait=("waited", "mean"),
                              service_level=("within", "mean"), asa_seconds=("wait_ans", "mean"),
                              abandon_rate=("ab", "mean"), aht_seconds=("handle_ans", "mean"))
    g.insert(0, "days", days)
    g.insert(2, "offered_per_hour", g["calls"] / days)
    g["load"] = g["offered_per_hour"] * g["aht_seconds"] / 3600.0
    g["agents"] = agents
    stable = g["load"] < agents
    n = np.full(len(g), agents)
    a = np.where(stable, g["load"], 0.0)
    g["erlang_p_wait"] = np.where(stable, erlang_c(n, a), np.nan)
    g["erlang_service_level"] = np.where(stable, 1 - g["erlang_p_wait"] * np.exp(
        -(agents - a) * target / g["aht_seconds"]), np.nan)
    g["erlang_asa_seconds"] = np.where(stable, g["erlang_p_wait"] * g["aht_seconds"] / (agents - a), np.nan)
    return g.reset_index()
