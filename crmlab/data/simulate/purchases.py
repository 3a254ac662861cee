"""Stage 3, organic purchases: BG/NBD repeat buying with dropout, in operational time.

The planted process (Fader, Hardie & Lee 2005) is set by the knobs ``r, alpha`` (purchase
rate ``lam ~ Gamma(r, rate alpha)`` per average day, drawn in :mod:`.customers`) and
``a, b`` (dropout ``p ~ Beta(a, b)`` after each repeat purchase); it runs past ``end`` by
``FUTURE_DAYS`` so that the truth knows who is alive and how many purchases come next.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._arrays import _group_rank
from .customers import Customers
from .timeline import Timeline


@dataclass(frozen=True)
class Purchases:
    """Purchase events and the per-customer truth of the process.

    ``log`` has one row per purchase: ``cust`` (0-based), ``day`` (float), ``first``,
    ``incremental`` (added by a campaign). ``alive_at_end``, ``future_purchases`` and
    ``death_k`` (the repeat purchase after which a buyer drops out) are per customer.
    """

    log: pd.DataFrame
    alive_at_end: np.ndarray
    future_purchases: np.ndarray
    death_k: np.ndarray


def draw_purchases(rng: np.random.Generator, customers: Customers, tl: Timeline) -> Purchases:
    """Organic repeat-buying with dropout (BG/NBD) in operational time, past `end` too."""
    n = customers.n
    buyers = np.flatnonzero(customers.buyer)
    first_day = customers.first_day[buyers]
    op0 = tl.clock.to_operational(first_day)
    op_end = tl.clock.to_operational(np.array([float(tl.horizon_days)]))[0]
    span = op_end - op0
    n_events = rng.poisson(customers.lam[buyers] * span)
    k_death = rng.geometric(customers.p_drop[buyers])  # dies right after its k-th repeat purchase
    # Uniform event positions sorted within each customer: sort owner + u once (u in [0, 1)).
    slot = np.sort(np.repeat(np.arange(len(buyers), dtype=np.float64), n_events) + rng.random(int(n_events.sum())))
    owner = slot.astype(np.int64)
    u = slot - owner
    op = op0[owner] + u * span[owner]
    rank = _group_rank(owner)
    keep = rank < k_death[owner]
    owner, op = owner[keep], op[keep]
    repeat_day = tl.clock.to_calendar(op)
    # Customers alive at end: made fewer than k repeat purchases by the end of the data.
    in_window = repeat_day < tl.n_days
    made = np.bincount(owner[in_window], minlength=len(buyers))
    future = np.bincount(owner[~in_window], minlength=len(buyers))
    # All purchases: first + repeats (customer index into all customers).
    log = pd.DataFrame({"cust": np.r_[buyers, buyers[owner]], "day": np.r_[first_day, repeat_day],
                        "first": np.r_[np.ones(len(buyers), bool), np.zeros(len(owner), bool)],
                        "incremental": False})
    alive_at_end = np.zeros(n, dtype=bool)
    alive_at_end[buyers] = made < k_death
    future_purchases = np.zeros(n, dtype=np.int64)
    future_purchases[buyers] = future
    death_k = np.zeros(n, dtype=np.int64)
    death_k[buyers] = k_death
    return Purchases(log=log, alive_at_end=alive_at_end, future_purchases=future_purchases, death_k=death_k)
