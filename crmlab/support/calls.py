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

from crmlab._checks import Reads, as_frame, datetime_column, reads, require_columns
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

    Parameters
    ----------
    calls_per_hour : float
        Poisson arrival rate.
    aht_seconds : float
        Mean handling time.
    agents : int
        Servers (agents on the phones).
    n_calls : int, default 50_000
        Calls to simulate.
    service : {"exponential", "lognormal"}, default "exponential"
        Distribution of handling times.
    sigma : float, default 0.5
        Log-sd of lognormal handling times.
    patience_seconds : float, optional
        Mean of the callers' exponential patience; None = nobody hangs up.
    seed : int or np.random.Generator, default 0
        Random seed or generator.

    Returns
    -------
    pd.DataFrame
        One row per call: ``arrival_s``, ``wait_s``, ``abandoned``, ``handle_s``.
    """
    lam = _positive(calls_per_hour, "calls_per_hour") / 3600.0
    aht = _positive(aht_seconds, "aht_seconds")
    agents = _check_servers(agents, n_calls, lam * aht, can_hang_up=patience_seconds is not None)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    arrival = np.cumsum(rng.exponential(1 / lam, n_calls))
    handle = _handling_times(rng, service, aht, sigma, n_calls)
    patience = (np.full(n_calls, np.inf) if patience_seconds is None
                else rng.exponential(_positive(patience_seconds, "patience_seconds"), n_calls))
    wait, abandoned = _serve_in_order(arrival, handle, patience, agents)
    return pd.DataFrame({"arrival_s": arrival, "wait_s": wait, "abandoned": abandoned,
                         "handle_s": np.where(abandoned, 0.0, handle)})


def _check_servers(agents: int, n_calls: int, load: float, *, can_hang_up: bool) -> int:
    """Whole agents >= 1, at least one call, and a stable queue unless callers hang up."""
    if int(agents) != agents or agents < 1:
        raise ValueError(f"agents={agents!r} must be a whole number >= 1.")
    if not can_hang_up:
        _unstable(np.asarray(int(agents)), np.asarray(load))
    if n_calls < 1:
        raise ValueError("n_calls must be >= 1.")
    return int(agents)


def _handling_times(rng: np.random.Generator, service: str, aht: float, sigma: float,
                    n: int) -> np.ndarray:
    """``n`` handling times of mean ``aht``: exponential, or lognormal with log-sd ``sigma``."""
    if service == "exponential":
        return rng.exponential(aht, n)
    if service == "lognormal":
        s = _positive(sigma, "sigma")
        return rng.lognormal(math.log(aht) - s**2 / 2, s, n)
    raise ValueError(f"service={service!r} must be 'exponential' or 'lognormal'.")


def _serve_in_order(arrival: np.ndarray, handle: np.ndarray, patience: np.ndarray,
                    agents: int) -> tuple[np.ndarray, np.ndarray]:
    """First come, first served with ``agents`` servers (a heap of the times each is free).

    A caller waits until the earliest server is free; one whose wait would exceed their
    patience hangs up after it and takes no server. Returns (wait, abandoned) per call.
    """
    free = [0.0] * agents
    heapq.heapify(free)
    wait = np.empty(len(arrival))
    abandoned = np.zeros(len(arrival), dtype=bool)
    for i in range(len(arrival)):
        t = arrival[i]
        w = max(free[0] - t, 0.0)
        if w > patience[i]:
            wait[i], abandoned[i] = patience[i], True
            continue
        wait[i] = w
        heapq.heapreplace(free, t + w + handle[i])
    return wait, abandoned


def _call_outcomes(calls: pd.DataFrame, target: float) -> pd.DataFrame:
    """Per call of a ``calls`` log: wait, abandoned (``ab``), handle, answered (``ans``),
    answered within ``target`` (``within``), and wait / handling of answered calls only."""
    d = pd.DataFrame({"wait": calls["wait_seconds"].to_numpy(float),
                      "ab": calls["abandoned"].to_numpy(bool),
                      "handle": calls["handle_seconds"].to_numpy(float)})
    d["ans"] = ~d["ab"]
    d["within"] = d["ans"] & (d["wait"] <= target)
    d["wait_ans"] = d["wait"].where(d["ans"])
    d["handle_ans"] = d["handle"].where(d["ans"])
    return d


@reads(calls="")
def queue_stats(calls: pd.DataFrame, *, target_seconds: float = 20.0, wait_col: str = "wait_s",
                abandoned_col: str = "abandoned", table: str = "calls") -> dict[str, float]:
    """Measured queue figures: ``p_wait`` (share that waited at all), ``service_level`` (answered
    within target / offered), ``asa_seconds`` (mean wait of answered calls), ``abandon_rate``.

    Parameters
    ----------
    calls : pd.DataFrame
        One row per call with the wait and the abandoned flag (e.g. :func:`simulate_queue`).
    target_seconds : float, default 20.0
        Answer-time target of the service level.
    wait_col, abandoned_col : str, default "wait_s", "abandoned"
        Column names.
    table : str, default "calls"
        Name of the table in error messages.

    Returns
    -------
    dict
        ``calls``, ``p_wait``, ``service_level``, ``asa_seconds``, ``abandon_rate``.
    """
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

    Parameters
    ----------
    calls : pd.DataFrame
        The shop's ``calls`` table.
    agents : int, optional
        Agents on the phones; default the distinct answering agents in the log.
    target_seconds : float, default 20.0
        Answer-time target of the service level.
    table : str, default "calls"
        Name of the table in error messages.

    Returns
    -------
    pd.DataFrame
        One row per hour of day with the columns above.
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
    d = _call_outcomes(df, target)
    d["hour"] = ts.dt.hour.to_numpy()
    d["waited"] = d["wait"] > 0
    g = d.groupby("hour").agg(calls=("wait", "size"), p_wait=("waited", "mean"),
                              service_level=("within", "mean"), asa_seconds=("wait_ans", "mean"),
                              abandon_rate=("ab", "mean"), aht_seconds=("handle_ans", "mean"))
    g.insert(0, "days", days)
    g.insert(2, "offered_per_hour", g["calls"] / days)
    g["load"] = g["offered_per_hour"] * g["aht_seconds"] / 3600.0
    g["agents"] = agents
    return _add_erlang_columns(g, agents, target).reset_index()


def _add_erlang_columns(g: pd.DataFrame, agents: int, target: float) -> pd.DataFrame:
    """Erlang C's P(wait), service level and ASA for each row's ``load`` and ``aht_seconds``
    (NaN where the load is not below ``agents``: no steady state)."""
    stable = g["load"] < agents
    n = np.full(len(g), agents)
    a = np.where(stable, g["load"], 0.0)
    g["erlang_p_wait"] = np.where(stable, erlang_c(n, a), np.nan)
    g["erlang_service_level"] = np.where(stable, 1 - g["erlang_p_wait"] * np.exp(
        -(agents - a) * target / g["aht_seconds"]), np.nan)
    g["erlang_asa_seconds"] = np.where(stable, g["erlang_p_wait"] * g["aht_seconds"] / (agents - a), np.nan)
    return g
