"""The shop's calendar: daily demand weights (weekday x season) and hour-of-day profiles.

Purchases run on *operational time*: a customer with purchase rate ``lam`` (per average
day) buys at the times of a Poisson process whose clock runs faster on busy days.  The
daily weights average exactly 1 over the simulated horizon, so ``lam`` keeps its meaning
of "purchases per average day" while Double 11 still gets its spike.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Lunar New Year's Day (first day of the first lunar month).
LUNAR_NEW_YEAR = {
    2020: "2020-01-25", 2021: "2021-02-12", 2022: "2022-02-01", 2023: "2023-01-22",
    2024: "2024-02-10", 2025: "2025-01-29", 2026: "2026-02-17", 2027: "2027-02-06",
    2028: "2028-01-26", 2029: "2029-02-13", 2030: "2030-02-03",
}

# Monday .. Sunday purchase multipliers (weekend browsing and evening shopping).
WEEKDAY_WEIGHT = np.array([0.95, 0.92, 0.95, 1.0, 1.05, 1.12, 1.08])

# Share of purchases / sessions by hour of day (lunch break and evening peaks).
HOUR_PROFILE = np.array([
    1.2, 0.6, 0.3, 0.2, 0.2, 0.3, 0.8, 1.5, 2.5, 3.5, 4.5, 5.0,
    6.0, 5.5, 4.5, 4.5, 4.5, 4.5, 5.0, 6.0, 7.5, 8.5, 8.0, 4.5,
])
HOUR_PROFILE = HOUR_PROFILE / HOUR_PROFILE.sum()

# Support contacts follow office life more closely (fewer at night).
SUPPORT_HOUR_PROFILE = np.array([
    0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 3.5, 6.5, 8.0, 8.0,
    6.5, 7.0, 7.5, 7.5, 7.0, 6.0, 5.0, 5.0, 5.5, 5.0, 3.0, 1.0,
])
SUPPORT_HOUR_PROFILE = SUPPORT_HOUR_PROFILE / SUPPORT_HOUR_PROFILE.sum()


def black_friday(year: int) -> pd.Timestamp:
    """The fourth Friday of November."""
    first = pd.Timestamp(year=year, month=11, day=1)
    offset = (4 - first.weekday()) % 7
    return first + pd.Timedelta(days=offset + 21)


def peak_events(start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Seasonal peaks in [start, end]: name, first day, last day, demand multiplier, sale discount."""
    rows = []
    for year in range(start.year, end.year + 1):
        if year in LUNAR_NEW_YEAR:
            lny = pd.Timestamp(LUNAR_NEW_YEAR[year])
            rows.append(("lunar_new_year_shopping", lny - pd.Timedelta(days=21),
                         lny - pd.Timedelta(days=3), 1.35, 0.0))
            rows.append(("lunar_new_year_holiday", lny - pd.Timedelta(days=1),
                         lny + pd.Timedelta(days=5), 0.6, 0.0))
        rows.append(("618", pd.Timestamp(year=year, month=6, day=10),
                     pd.Timestamp(year=year, month=6, day=18), 1.9, 0.10))
        rows.append(("double_11", pd.Timestamp(year=year, month=11, day=1),
                     pd.Timestamp(year=year, month=11, day=11), 2.6, 0.15))
        bf = black_friday(year)
        rows.append(("black_friday", bf, bf + pd.Timedelta(days=3), 1.8, 0.12))
        rows.append(("christmas", pd.Timestamp(year=year, month=12, day=10),
                     pd.Timestamp(year=year, month=12, day=24), 1.25, 0.0))
    events = pd.DataFrame(rows, columns=["event", "first_day", "last_day", "multiplier", "sale_discount"])
    keep = (events["last_day"] >= start) & (events["first_day"] <= end)
    return events.loc[keep].reset_index(drop=True)


def daily_weights(days: pd.DatetimeIndex) -> pd.DataFrame:
    """Demand weight per day (weekday x peaks), normalised to mean 1, plus the sale discount.

    Double 11's own day gets an extra spike on top of its ramp.
    """
    weight = WEEKDAY_WEIGHT[days.day_of_week].copy()
    sale = np.zeros(len(days))
    event_name = np.full(len(days), "", dtype=object)
    for ev in peak_events(days[0], days[-1]).itertuples(index=False):
        inside = (days >= ev.first_day) & (days <= ev.last_day)
        weight[inside] *= ev.multiplier
        sale[inside] = np.maximum(sale[inside], ev.sale_discount)
        event_name[inside] = ev.event
    spike = (days.month == 11) & (days.day == 11)
    weight[spike] *= 2.5
    spike618 = (days.month == 6) & (days.day == 18)
    weight[spike618] *= 1.8
    weight = weight / weight.mean()
    return pd.DataFrame(
        {"date": days, "weight": weight, "sale_discount": sale,
         "event": pd.array(event_name.astype(str), dtype="str")}
    )


class OperationalClock:
    """Maps calendar days (float days since start) to operational time and back."""

    def __init__(self, weights: np.ndarray):
        self.grid_days = np.arange(len(weights) + 1, dtype=float)
        self.grid_op = np.concatenate([[0.0], np.cumsum(weights)])

    def to_operational(self, day: np.ndarray) -> np.ndarray:
        return np.interp(day, self.grid_days, self.grid_op)

    def to_calendar(self, op: np.ndarray) -> np.ndarray:
        return np.interp(op, self.grid_op, self.grid_days)


def sample_hours(rng: np.random.Generator, n: int, profile: np.ndarray = HOUR_PROFILE) -> np.ndarray:
    """Fractional hour of day (0..24) drawn from an hour profile."""
    hours = rng.choice(24, size=n, p=profile)
    return hours + rng.random(n)
