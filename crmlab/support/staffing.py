"""Phone staffing (人力排班) by Erlang C: waiting probability, service level, agents needed.

Erlang B is computed by its recursion, so nothing overflows for thousands of agents.
:func:`staffing_table` is the staffing curve, :func:`agents_needed` the fewest agents for a
target (with shrinkage and an occupancy cap), :func:`staffing_what_if` the live demo's view.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmlab.support._validate import _positive

__all__ = [
    "erlang_b",
    "erlang_c",
    "service_level",
    "average_speed_of_answer",
    "asa_allen_cunneen",
    "staffing_table",
    "agents_needed",
    "staffing_what_if",
]


def _check_queue(agents: object, load: object) -> tuple[np.ndarray, np.ndarray]:
    """Agents (whole, >= 1) and load (finite, >= 0) as broadcast arrays."""
    n = np.asarray(agents)
    a = np.asarray(load, dtype=float)
    if n.dtype.kind not in "iu":
        if n.dtype.kind == "f" and np.all(np.isfinite(n)) and np.all(n == np.round(n)):
            n = n.astype(np.int64)
        else:
            raise ValueError(f"agents={agents!r} must be whole numbers of agents.")
    if np.any(n < 1):
        raise ValueError(f"agents={agents!r} must be at least 1.")
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError(f"load={load!r} (offered traffic in erlangs = arrival rate x average "
                         "handling time) must be finite and >= 0.")
    return np.broadcast_arrays(n.astype(np.int64), a)


def _scalar(x: np.ndarray) -> float | np.ndarray:
    """A 0-d array as a float, anything else unchanged."""
    return float(x) if np.ndim(x) == 0 else x


def erlang_b(agents: int | Sequence[int], load: float | Sequence[float]) -> float | np.ndarray:
    """Erlang B blocking probability B(N, A), by the recursion B(k) = A B(k-1) / (k + A B(k-1)).

    The recursion never forms A^N or N!, so it stays exact for thousands of agents where the
    textbook formula overflows. Works element-wise on arrays.

    Parameters
    ----------
    agents : int or sequence of int
        Agents on the phones (N), whole numbers >= 1.
    load : float or sequence of float
        Offered load A in erlangs (calls per unit time x average handling time).

    Returns
    -------
    float or np.ndarray
        The blocking probability (an array when the inputs are arrays).
    """
    n, a = _check_queue(agents, load)
    b = np.ones(a.shape)
    for k in range(1, int(n.max()) + 1 if n.size else 1):
        upd = k <= n
        b = np.where(upd, a * b / (k + a * b), b)
    return _scalar(b)


def _unstable(n: np.ndarray, a: np.ndarray) -> None:
    """ValueError naming the agents needed when a load is not below its agents."""
    bad = a >= n
    if np.any(bad):
        i = np.flatnonzero(np.ravel(bad))[0]
        A, N = float(np.ravel(a)[i]), int(np.ravel(n)[i])
        raise ValueError(
            f"the queue is unstable: offered load A = {A:.3g} erlangs >= {N} agents, so calls "
            f"arrive faster than the agents can answer them and the queue grows without bound. "
            f"Use at least {math.floor(A) + 1} agents (or cut the calls or handling time)."
        )


def erlang_c(agents: int | Sequence[int], load: float | Sequence[float]) -> float | np.ndarray:
    """Erlang C: probability that a call has to wait, C(N, A) = N B / (N - A (1 - B)).

    ``load`` A = calls per unit time x average handling time (erlangs). Needs A < N (a stable
    queue); raises ``ValueError`` otherwise.

    Parameters
    ----------
    agents : int or sequence of int
        Agents on the phones (N), whole numbers >= 1.
    load : float or sequence of float
        Offered load A in erlangs (calls per unit time x average handling time).

    Returns
    -------
    float or np.ndarray
        The probability that a call waits.
    """
    n, a = _check_queue(agents, load)
    _unstable(n, a)
    b = np.asarray(erlang_b(n, a), dtype=float)
    return _scalar(n * b / (n - a * (1 - b)))


def service_level(agents: int | Sequence[int], load: float | Sequence[float], aht: float,
                  target: float) -> float | np.ndarray:
    """Share of calls answered within ``target`` (same unit as ``aht``):
    SL = 1 - C(N, A) exp(-(N - A) target / aht).

    Parameters
    ----------
    agents : int or sequence of int
        Agents on the phones (N), whole numbers >= 1.
    load : float or sequence of float
        Offered load A in erlangs (calls per unit time x average handling time).
    aht : float
        Average handling time.
    target : float
        The answer-time target, in the unit of ``aht``.

    Returns
    -------
    float or np.ndarray
        Share of calls answered within ``target``.
    """
    aht = _positive(aht, "aht")
    target = _positive(target, "target", allow_zero=True)
    n, a = _check_queue(agents, load)
    c = np.asarray(erlang_c(n, a), dtype=float)
    return _scalar(1 - c * np.exp(-(n - a) * target / aht))


def average_speed_of_answer(agents: int | Sequence[int], load: float | Sequence[float],
                            aht: float) -> float | np.ndarray:
    """Average speed of answer (ASA, mean wait over all calls): C(N, A) aht / (N - A).

    Parameters
    ----------
    agents : int or sequence of int
        Agents on the phones (N), whole numbers >= 1.
    load : float or sequence of float
        Offered load A in erlangs (calls per unit time x average handling time).
    aht : float
        Average handling time.

    Returns
    -------
    float or np.ndarray
        Mean wait, in the unit of ``aht``.
    """
    aht = _positive(aht, "aht")
    n, a = _check_queue(agents, load)
    c = np.asarray(erlang_c(n, a), dtype=float)
    return _scalar(c * aht / (n - a))


def asa_allen_cunneen(agents: int, load: float, aht: float, cv_service: float,
                      cv_arrival: float = 1.0) -> float:
    """Allen-Cunneen approximation of the mean wait for G/G/c: Erlang C's ASA x (ca^2 + cs^2) / 2.

    With lognormal handling of sigma 0.5 (cs = 0.53) the wait is about 64% of Erlang C's.

    Parameters
    ----------
    agents : int
        Agents on the phones.
    load : float
        Offered load in erlangs.
    aht : float
        Average handling time.
    cv_service : float
        Coefficient of variation of handling times (1 for exponential).
    cv_arrival : float, default 1.0
        Coefficient of variation of the times between calls (1 for Poisson arrivals).

    Returns
    -------
    float
        Approximate mean wait, in the unit of ``aht``.
    """
    cs = _positive(cv_service, "cv_service", allow_zero=True)
    ca = _positive(cv_arrival, "cv_arrival", allow_zero=True)
    return float(average_speed_of_answer(agents, load, aht)) * (ca**2 + cs**2) / 2


def _offered_load(calls: float, aht_seconds: float, period_seconds: float) -> float:
    """Offered load in erlangs: calls x handling time / period."""
    calls = _positive(calls, "calls", allow_zero=True)
    aht_seconds = _positive(aht_seconds, "aht_seconds")
    period_seconds = _positive(period_seconds, "period_seconds")
    return calls * aht_seconds / period_seconds


def staffing_table(
    calls: float,
    aht_seconds: float,
    *,
    period_seconds: float = 3600.0,
    target_seconds: float = 20.0,
    agents: Iterable[int] | None = None,
) -> pd.DataFrame:
    """Service level, ASA, P(wait) and occupancy for a range of agent counts (the staffing curve).

    ``calls`` arrive per ``period_seconds``. Default agents: from the smallest stable count
    (floor(A) + 1) until the service level passes 99.9%. Computed with one pass of the Erlang B
    recursion, so long ranges cost O(N). Columns ``agents, load, occupancy, p_wait,
    service_level, asa_seconds``.

    Parameters
    ----------
    calls : float
        Calls arriving per ``period_seconds``.
    aht_seconds : float
        Average handling time in seconds.
    period_seconds : float, default 3600.0
        Length of the period ``calls`` refers to.
    target_seconds : float, default 20.0
        Answer-time target of the service level.
    agents : iterable of int, optional
        The agent counts to tabulate; default see above.

    Returns
    -------
    pd.DataFrame
        One row per agent count.
    """
    A = _offered_load(calls, aht_seconds, period_seconds)
    target = _positive(target_seconds, "target_seconds", allow_zero=True)
    lo = math.floor(A) + 1
    wanted = None
    if agents is not None:
        wanted = sorted({int(x) for x in agents})
        if not wanted:
            raise ValueError("staffing_table: agents is empty.")
        _unstable(np.asarray(wanted[0]), np.asarray(A))
    rows = []
    for n, c, sl, asa in _erlang_curve(A, aht_seconds, target):
        if wanted is None or n in wanted:
            rows.append({"agents": n, "load": A, "occupancy": A / n, "p_wait": c,
                         "service_level": sl, "asa_seconds": asa})
        if (wanted is None and sl >= 0.999 and n >= lo + 2) or (wanted is not None and n >= wanted[-1]):
            break
    return pd.DataFrame(rows)


def _erlang_curve(A: float, aht_seconds: float, target: float) -> Iterator[tuple[int, float, float, float]]:
    """Yield (N, P(wait), service level, ASA) for N = floor(A) + 1, floor(A) + 2, ... agents.

    One pass of the Erlang B recursion B(k) = A B(k-1) / (k + A B(k-1)), so a long range
    costs O(N); C = N B / (N - A (1 - B)) is Erlang C at each stable N.
    """
    b, n = 1.0, 0
    while True:
        n += 1
        b = A * b / (n + A * b)
        if n <= A:
            continue
        c = n * b / (n - A * (1 - b))
        yield n, c, 1 - c * math.exp(-(n - A) * target / aht_seconds), c * aht_seconds / (n - A)


def agents_needed(
    calls: float,
    aht_seconds: float,
    *,
    period_seconds: float = 3600.0,
    target_seconds: float = 20.0,
    service_level_target: float = 0.8,
    shrinkage: float = 0.0,
    max_occupancy: float = 1.0,
    asa_target_seconds: float | None = None,
) -> dict[str, float]:
    """Fewest agents on the phones for the target, and the staff to schedule after shrinkage.

    ``raw_agents`` is the smallest N with service level >= ``service_level_target`` (calls
    answered within ``target_seconds``), occupancy A/N <= ``max_occupancy`` and, if given,
    ASA <= ``asa_target_seconds``. ``scheduled_agents`` = ceil(raw / (1 - shrinkage)): breaks,
    training, meetings and absence take a share of paid time off the phones.
    Returns ``load, raw_agents, scheduled_agents, p_wait, service_level, asa_seconds,
    occupancy``.

    Parameters
    ----------
    calls : float
        Calls arriving per ``period_seconds``.
    aht_seconds : float
        Average handling time in seconds.
    period_seconds : float, default 3600.0
        Length of the period ``calls`` refers to.
    target_seconds : float, default 20.0
        Answer-time target of the service level.
    service_level_target : float, default 0.8
        Share of calls to answer within ``target_seconds``.
    shrinkage : float, default 0.0
        Share of paid time off the phones, in [0, 1).
    max_occupancy : float, default 1.0
        Highest acceptable A / N, in (0, 1].
    asa_target_seconds : float, optional
        Highest acceptable average speed of answer.

    Returns
    -------
    dict
        The keys listed above.
    """
    _check_shares(service_level_target, shrinkage, max_occupancy)
    A = _offered_load(calls, aht_seconds, period_seconds)
    target = _positive(target_seconds, "target_seconds", allow_zero=True)
    asa_t = None if asa_target_seconds is None else _positive(asa_target_seconds, "asa_target_seconds")
    n, c, sl, asa = next(  # the first N that meets every target
        (n, c, sl, asa) for n, c, sl, asa in _erlang_curve(A, aht_seconds, target)
        if sl >= service_level_target and A / n <= max_occupancy and (asa_t is None or asa <= asa_t))
    return {"load": A, "raw_agents": n, "scheduled_agents": int(math.ceil(n / (1 - shrinkage) - 1e-9)),
            "p_wait": c, "service_level": sl, "asa_seconds": asa, "occupancy": A / n}


def _check_shares(service_level_target: float, shrinkage: float, max_occupancy: float) -> None:
    """The three shares of :func:`agents_needed` are in their ranges."""
    if not 0 < service_level_target < 1:
        raise ValueError(f"service_level_target={service_level_target!r} must be between 0 and 1 "
                         "(e.g. 0.8 for 80% of calls within the target time).")
    if not 0 <= shrinkage < 1:
        raise ValueError(f"shrinkage={shrinkage!r} must be in [0, 1), e.g. 0.3 for 30%.")
    if not 0 < max_occupancy <= 1:
        raise ValueError(f"max_occupancy={max_occupancy!r} must be in (0, 1].")


def staffing_what_if(
    agents: int,
    calls: float,
    aht_seconds: float,
    *,
    period_seconds: float = 3600.0,
    target_seconds: float = 20.0,
    max_wait_seconds: float = 120.0,
) -> dict[str, Any]:
    """What ``agents`` on the phones give under Erlang C: service level, ASA, P(wait).

    ``calls`` arrive per ``period_seconds`` and take ``aht_seconds`` each. Returns the row of
    :func:`staffing_table` for ``agents`` (``load, agents, occupancy, p_wait, service_level,
    asa_seconds``) plus ``curve`` (the staffing table from the smallest stable count until
    the service level passes 99.9%, and at least up to ``agents``) and ``waits``: the share
    of calls answered within ``wait_seconds`` (0 to ``max_wait_seconds``) with these agents,
    from :func:`service_level`. Raises ``ValueError`` when ``agents`` cannot keep up
    (offered load >= agents).

    Parameters
    ----------
    agents : int
        Agents on the phones.
    calls : float
        Calls arriving per ``period_seconds``.
    aht_seconds : float
        Average handling time in seconds.
    period_seconds : float, default 3600.0
        Length of the period ``calls`` refers to.
    target_seconds : float, default 20.0
        Answer-time target of the service level.
    max_wait_seconds : float, default 120.0
        Longest wait on the ``waits`` curve.

    Returns
    -------
    dict
        The figures for ``agents`` with ``curve`` and ``waits`` (DataFrames).
    """
    n = _check_queue(agents, 1.0)[0]
    if n.ndim != 0:
        raise ValueError(f"agents={agents!r} must be one whole number of agents.")
    n_agents = int(n)
    table, load = _curve_through(n_agents, calls, aht_seconds, period_seconds, target_seconds)
    top = _positive(max_wait_seconds, "max_wait_seconds")
    wait = np.linspace(0.0, top, 25)
    answered = [float(service_level(n_agents, load, aht_seconds, t)) for t in wait]
    row = table.loc[table["agents"] == n_agents].iloc[0]
    out: dict[str, Any] = {k: float(row[k]) for k in ("load", "occupancy", "p_wait",
                                                       "service_level", "asa_seconds")}
    out.update(agents=n_agents, calls=float(calls), aht_seconds=float(aht_seconds),
               target_seconds=float(target_seconds), curve=table,
               waits=pd.DataFrame({"wait_seconds": wait, "answered_within": answered}))
    return out


def _curve_through(n_agents: int, calls: float, aht_seconds: float, period_seconds: float,
                   target_seconds: float) -> tuple[pd.DataFrame, float]:
    """The staffing table until 99.9% service, extended to ``n_agents`` if that is further,
    and the offered load; ``n_agents`` must keep up with the load."""
    table = staffing_table(calls, aht_seconds, period_seconds=period_seconds,
                           target_seconds=target_seconds)
    load = float(table["load"].iloc[0])
    _unstable(np.asarray(n_agents), np.asarray(load))
    if n_agents > int(table["agents"].iloc[-1]):
        table = staffing_table(calls, aht_seconds, period_seconds=period_seconds,
                               target_seconds=target_seconds,
                               agents=range(int(table["agents"].iloc[0]), n_agents + 1))
    return table, load
