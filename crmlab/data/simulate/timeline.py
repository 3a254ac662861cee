"""The simulated window: days, the demand calendar and the operational clock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..calendar import OperationalClock, daily_weights

#: Days simulated past ``end`` (26 weeks), kept only in the truth (future purchases).
FUTURE_DAYS = 182
#: The shortest window ``simulate()`` accepts, in days after ``start``.
MIN_WINDOW_DAYS = 60


@dataclass(frozen=True)
class Timeline:
    """The window the stages share, read-only.

    Parameters
    ----------
    start, end : pd.Timestamp
        First and last day of data (midnight; the data end at ``end`` 23:59:59).
    n_days : int
        Days of data (``end - start + 1``).
    horizon_days : int
        ``n_days`` plus ``FUTURE_DAYS`` simulated for the truth only.
    calendar : pd.DataFrame
        One row per horizon day: demand ``weight`` (averages 1), ``sale_discount``, events.
    clock : OperationalClock
        Maps calendar days to operational time (busy days run faster).
    """

    start: pd.Timestamp
    end: pd.Timestamp
    n_days: int
    horizon_days: int
    calendar: pd.DataFrame
    clock: OperationalClock

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> Timeline:
        """The timeline of a resolved configuration (``start``, ``end``); ValueError when the
        window is shorter than ``MIN_WINDOW_DAYS``."""
        start = pd.Timestamp(cfg["start"]).normalize()
        end = pd.Timestamp(cfg["end"]).normalize()
        if end <= start + pd.Timedelta(days=MIN_WINDOW_DAYS):
            raise ValueError(
                f"simulate(): end={cfg['end']!r} must be at least {MIN_WINDOW_DAYS} days after "
                f"start={cfg['start']!r}."
            )
        n_days = int((end - start).days) + 1
        horizon_days = n_days + FUTURE_DAYS
        calendar = daily_weights(pd.date_range(start, periods=horizon_days, freq="D"))
        clock = OperationalClock(calendar["weight"].to_numpy())
        return cls(start, end, n_days, horizon_days, calendar, clock)

    def day_of(self, ts: pd.Timestamp) -> float:
        """Float days from ``start`` to ``ts``."""
        return (pd.Timestamp(ts) - self.start) / pd.Timedelta(days=1)

    @property
    def demand(self) -> np.ndarray:
        """The daily demand weights over the horizon."""
        return self.calendar["weight"].to_numpy()
