"""The business-hours clock (營業時間): opening hours and the business seconds between two times.

A ticket created Friday 17:00 and answered Monday 10:00 waited 2 business hours, not 65
calendar hours. :class:`BusinessHours` holds the opening hours; everything is vectorised with
:func:`numpy.busday_count`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmlab._checks import check_lengths

__all__ = [
    "BusinessHours",
    "OFFICE_HOURS",
    "business_seconds",
]


_EPOCH = np.datetime64("1970-01-01", "D")


@dataclass(frozen=True)
class BusinessHours:
    """Opening hours used for the business-hours clock.

    ``open``/``close`` as ``"HH:MM"`` (same every working day), ``weekmask`` as for
    :func:`numpy.busday_count` (``"Mon Tue Wed Thu Fri"``), optional ``holidays`` (dates).

    Parameters
    ----------
    open, close : str, default "09:00", "18:00"
        Opening and closing time, ``"HH:MM"``; ``open`` must be before ``close``.
    weekmask : str, default "Mon Tue Wed Thu Fri"
        The working days, as for :func:`numpy.busday_count`.
    holidays : tuple of str, default ()
        Dates (``"2025-01-01"``) on which the shop is closed.
    """

    open: str = "09:00"
    close: str = "18:00"
    weekmask: str = "Mon Tue Wed Thu Fri"
    holidays: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        o, c = self._seconds(self.open, "open"), self._seconds(self.close, "close")
        if not o < c:
            raise ValueError(
                f"BusinessHours: open={self.open!r} must be before close={self.close!r} "
                "(overnight shifts are not supported; use two calendars)."
            )
        try:
            self.calendar()
        except ValueError as exc:
            raise ValueError(
                f"BusinessHours: weekmask={self.weekmask!r} or holidays={self.holidays!r} is not "
                "valid; use e.g. weekmask='Mon Tue Wed Thu Fri', holidays=('2025-01-01',)."
            ) from exc

    @staticmethod
    def _seconds(hhmm: str, name: str) -> float:
        """Seconds after midnight of an HH:MM time; ValueError if it is not one."""
        try:
            h, m = str(hhmm).split(":")
            s = int(h) * 3600 + int(m) * 60
        except ValueError as exc:
            raise ValueError(f"BusinessHours: {name}={hhmm!r} must look like '09:00'.") from exc
        if not 0 <= s <= 86400:
            raise ValueError(f"BusinessHours: {name}={hhmm!r} is not a time of day.")
        return float(s)

    @property
    def open_seconds(self) -> float:
        """Opening time in seconds after midnight."""
        return self._seconds(self.open, "open")

    @property
    def close_seconds(self) -> float:
        """Closing time in seconds after midnight."""
        return self._seconds(self.close, "close")

    @property
    def seconds_per_day(self) -> float:
        """Business seconds in one working day."""
        return self.close_seconds - self.open_seconds

    def calendar(self) -> np.busdaycalendar:
        """The working days and holidays as a :class:`numpy.busdaycalendar`."""
        return np.busdaycalendar(weekmask=self.weekmask,
                                 holidays=np.array(self.holidays, dtype="datetime64[D]"))

    def cumulative_seconds(self, ts: Iterable) -> np.ndarray:
        """Business seconds from 1970-01-01 up to each timestamp (NaN for NaT).

        F(t) = (business days before t's date) x day length + the part of t's own day that
        lies inside opening hours. Business time between a and b is F(b) - F(a); everything is
        vectorised with :func:`numpy.busday_count`.
        """
        t = np.asarray(pd.to_datetime(pd.Series(ts)).to_numpy(), dtype="datetime64[ns]")
        nat = np.isnat(t)
        tt = np.where(nat, np.datetime64("1970-01-01T00:00", "ns"), t)
        day = tt.astype("datetime64[D]")
        sec = (tt - day.astype("datetime64[ns]")).astype("int64") / 1e9
        cal = self.calendar()
        full = np.busday_count(_EPOCH, day, busdaycal=cal).astype(float)
        inside = np.clip(sec - self.open_seconds, 0.0, self.seconds_per_day)
        inside = np.where(np.is_busday(day, busdaycal=cal), inside, 0.0)
        out = full * self.seconds_per_day + inside
        return np.where(nat, np.nan, out)


#: Default business hours: Monday to Friday, 09:00-18:00, no holidays.
OFFICE_HOURS = BusinessHours()


def business_seconds(start: Iterable, end: Iterable, hours: BusinessHours = OFFICE_HOURS) -> np.ndarray:
    """Seconds inside opening hours between ``start`` and ``end`` (element-wise, NaN for NaT).

    A ticket created Friday 17:00 and answered Monday 10:00 waited 2 business hours (Mon-Fri
    09-18), not 65 calendar hours. ``start`` and ``end`` must have the same length (one pair
    per ticket: a single end is not stretched over many starts), and an ``end`` before its
    ``start`` is a ValueError naming the pairs (a clock or data-entry error, not a duration).

    Parameters
    ----------
    start, end : array-like of datetime
        One start and one end per pair, same length.
    hours : BusinessHours, default OFFICE_HOURS
        The opening hours to count.

    Returns
    -------
    np.ndarray
        Business seconds per pair (float; NaN where either time is missing).
    """
    func = "business_seconds"
    _check_hours(hours, func)
    check_lengths(func, start=np.atleast_1d(np.asarray(start, dtype=object)),
                  end=np.atleast_1d(np.asarray(end, dtype=object)))
    out = hours.cumulative_seconds(end) - hours.cumulative_seconds(start)
    s_ts = pd.to_datetime(pd.Series(np.atleast_1d(np.asarray(start, dtype=object))))
    e_ts = pd.to_datetime(pd.Series(np.atleast_1d(np.asarray(end, dtype=object))))
    back = (e_ts < s_ts).to_numpy()
    if back.any():
        raise ValueError(f"{func}: {int(back.sum())} end(s) before their start (pairs "
                         f"{np.flatnonzero(back)[:5].tolist()}); fix the timestamps or drop those "
                         "rows -- a negative waiting time is a data error.")
    return out


def _check_hours(hours: object, func: str) -> None:
    """ValueError unless ``hours`` is a :class:`BusinessHours`."""
    if not isinstance(hours, BusinessHours):
        raise ValueError(f"{func}: hours must be a BusinessHours(...) object.")
