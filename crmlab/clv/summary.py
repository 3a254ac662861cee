"""From an order log to the BTYD summary table (RFM in model form) — and its checks.

``summarize`` turns the order log into each customer's ``frequency``, ``recency`` and
``T`` (plus mean repeat spend), the sufficient statistics every BTYD model reads;
``operational_time`` re-times timestamps on a seasonal clock first. The private helpers
below check a summary table before a model fits or scores it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab._checks import Reads, reads
from crmlab._checks import as_timestamp as _to_timestamp
from crmlab.clv.compress import blocks

__all__ = ["SUMMARY_COLUMNS", "summarize", "operational_time", "period_ordinals"]


SUMMARY_COLUMNS = ("frequency", "recency", "T")

# --------------------------------------------------------------------------------------
# summarize: order log -> (frequency, recency, T, monetary_value)
# --------------------------------------------------------------------------------------

_FAST_FREQS = {"D": ("D", 1, 0), "W": ("D", 7, 3), "h": ("h", 1, 0)}


def period_ordinals(dates: pd.Series, freq: str) -> np.ndarray:
    """Integer period number of each timestamp; differences are whole periods.

    Weeks run Monday..Sunday as pandas' ``to_period("W")`` does (1970-01-01 was a
    Thursday, hence the shift of 3 days). :mod:`crmlab.scale` numbers periods the same way.

    Parameters
    ----------
    dates : pd.Series
        Naive timestamps.
    freq : str
        "D", "W", "h" (fast paths) or any pandas period alias.

    Returns
    -------
    np.ndarray
        int64 period ordinals (pandas' ``Period.ordinal`` for the alias).
    """
    if freq in _FAST_FREQS:
        unit, size, shift = _FAST_FREQS[freq]
        ticks = dates.to_numpy(dtype=f"datetime64[{unit}]").astype(np.int64)
        return (ticks + shift) // size
    return pd.PeriodIndex(dates, freq=freq).asi8


#: An order log as the BTYD helpers read it (crmlab._checks.reads): the column arguments
#: name the caller's columns (``amount_col=None``: no amounts read).
_LOG = {"customer_id": "customer_col", "order_ts": "date_col", "amount": "amount_col"}


def _log_reads(arg: str = "transactions", amount: bool = True) -> Reads:
    cols = ("customer_id", "order_ts", "amount") if amount else ("customer_id", "order_ts")
    return Reads("orders", cols, rename={c: _LOG[c] for c in cols}, nonempty=True)


def _log_columns(
    transactions: pd.DataFrame, customer_col: str, date_col: str, amount_col: str | None
) -> tuple[pd.Series, pd.Series, pd.Series | None]:
    """(customer, date, amount) columns of an order log its function's contract checked."""
    amount = transactions[amount_col] if amount_col else None
    return transactions[customer_col], transactions[date_col], amount


def _customer_stats(
    codes: np.ndarray, periods: np.ndarray, amounts: np.ndarray | None, n_customers: int
):
    """Per customer: first and last purchase period, number of distinct purchase
    periods and the sum of spend in the periods after the first one.

    Purchases in the same period are merged (their amounts summed), as in the field's
    tools: a customer who orders twice in one week has one purchase that week.
    """
    p0 = periods.min()
    span = int(periods.max() - p0) + 1
    key = codes.astype(np.int64) * span + (periods - p0)
    order = np.argsort(key, kind="stable")
    key_sorted = key[order]
    new = np.empty(key_sorted.size, dtype=bool)
    new[0] = True
    np.not_equal(key_sorted[1:], key_sorted[:-1], out=new[1:])
    uniq_key = key_sorted[new]
    cust_u = uniq_key // span
    per_u = uniq_key % span + p0
    if amounts is not None:
        group = np.cumsum(new) - 1
        spend_u = np.bincount(group, weights=amounts[order], minlength=uniq_key.size)
    n_periods = np.bincount(cust_u, minlength=n_customers)
    present = n_periods > 0
    first = np.full(n_customers, -1, dtype=np.int64)
    last = np.full(n_customers, -1, dtype=np.int64)
    # cust_u is sorted ascending, so the first/last occurrence gives min/max period
    starts = np.flatnonzero(np.r_[True, cust_u[1:] != cust_u[:-1]])
    ends = np.r_[starts[1:], cust_u.size] - 1
    first[cust_u[starts]] = per_u[starts]
    last[cust_u[ends]] = per_u[ends]
    repeat_spend = None
    if amounts is not None:
        total = np.bincount(cust_u, weights=spend_u, minlength=n_customers)
        first_spend = np.zeros(n_customers)
        first_spend[cust_u[starts]] = spend_u[starts]
        repeat_spend = total - first_spend
    return present, first, last, n_periods, repeat_spend


# Long function: most of it is the docstring that defines the table (lifetimes'
# conventions, cut-offs, the holdout part); the body is one 45-line pipeline.
@reads(transactions=_log_reads())
def summarize(
    transactions: pd.DataFrame,
    customer_col: str = "customer_id",
    date_col: str = "order_ts",
    amount_col: str | None = "amount",
    freq: str = "W",
    calibration_end=None,
    observation_end=None,
    freq_multiplier: float = 1,
) -> pd.DataFrame:
    """Per-customer sufficient statistics for the BTYD models (RFM in model form).

    Same semantics as ``lifetimes.utils.summary_data_from_transaction_data`` so that
    results compare with the field's tools:

    * time is cut into periods of ``freq`` ("D", "W" = Monday..Sunday weeks, "h", or
      any pandas period alias such as "M"); purchases in the same period are merged
      into one purchase whose amount is their sum;
    * ``frequency`` = number of periods with a purchase after the first one (repeat
      purchases), ``recency`` = last purchase period - first purchase period,
      ``T`` = period of ``observation_end`` - first purchase period (all in periods);
    * ``monetary_value`` = mean spend of the repeat purchase periods (0 when
      ``frequency`` is 0); the first purchase is left out because the Gamma-Gamma
      model describes repeat spend.

    ``freq_multiplier`` divides recency, T and duration_holdout, as in lifetimes:
    ``freq="D", freq_multiplier=7`` measures in weeks at daily resolution (how the
    published CDNOW tables are made), ``freq="h", freq_multiplier=24`` in days at
    hourly resolution. Coarse periods merge purchases and bias the models (a heavy
    buyer's two orders in one week count once), so prefer a fine ``freq`` with a
    multiplier over a coarse ``freq``.

    Cut-offs work on whole periods, like lifetimes does for ``observation_end``: an
    order counts if its period is not after the period containing the cut-off date,
    so ``observation_end="2025-12-31"`` with ``freq="D"`` includes that whole day.
    ``observation_end`` defaults to the last order.

    With ``calibration_end`` the table is the calibration/holdout split used to test
    a model out of sample: the calibration part (columns ``frequency_cal``,
    ``recency_cal``, ``T_cal``, ``monetary_value_cal``) is the summary of orders up
    to the period of ``calibration_end``; customers whose first order comes later are
    not in the table (the model can say nothing about them). The holdout part counts,
    for those customers, ``frequency_holdout`` = periods with a purchase after the
    calibration period up to the period of ``observation_end``,
    ``monetary_value_holdout`` = their mean per-period spend, and ``duration_holdout``
    = holdout length in periods. (lifetimes averages single orders in the holdout and
    cuts it at the exact calibration timestamp; we keep whole periods so the holdout
    compares with the calibration part. The two agree when each holdout period has
    one order and the cut-off is a period boundary, e.g. daily data.)

    Parameters
    ----------
    transactions : pd.DataFrame
        The order log, one row per order (the shop's ``orders`` table).
    customer_col, date_col : str
        Its customer id and order timestamp columns.
    amount_col : str or None, default "amount"
        Its order value column; None: no spend columns.
    freq : str, default "W"
        Period length ("D", "W", "h" or any pandas period alias).
    calibration_end : date-like, optional
        End of the calibration period; gives the calibration/holdout table.
    observation_end : date-like, optional
        End of observation (default: the last order).
    freq_multiplier : float, default 1
        Periods per reported time unit (7 with ``freq="D"``: weeks).

    Returns
    -------
    pd.DataFrame
        One row per customer, sorted by customer id, with the customer column first;
        ``frequency`` is int64, everything else float64.
    """
    cust, dates, amount = _log_columns(transactions, customer_col, date_col, amount_col)
    cut, end, cal = _cutoffs(dates, freq_multiplier, calibration_end, observation_end)
    periods = period_ordinals(dates, freq)
    cut_period, end_period = period_ordinals(pd.Series([cut, end]), freq)
    if periods.min() > cut_period:
        raise ValueError(
            f"transactions: every order in '{date_col}' is after "
            f"{'calibration_end' if cal is not None else 'observation_end'} ({cut}); "
            "there is nothing to summarize — move the date later."
        )
    codes, uniques = pd.factorize(cust, sort=True)
    amounts = None if amount is None else amount.to_numpy(dtype=float)
    in_cal = periods <= cut_period
    present, first, last, n_per, repeat_spend = _customer_stats(
        codes[in_cal], periods[in_cal], None if amounts is None else amounts[in_cal], len(uniques)
    )
    frequency = n_per[present] - 1
    out = pd.DataFrame(
        {
            customer_col: uniques[present],
            "frequency": frequency.astype(np.int64),
            "recency": (last[present] - first[present]) / float(freq_multiplier),
            "T": (cut_period - first[present]) / float(freq_multiplier),
        }
    )
    if amounts is not None:
        with np.errstate(invalid="ignore", divide="ignore"):
            mv = np.where(frequency > 0, repeat_spend[present] / np.maximum(frequency, 1), 0.0)
        out["monetary_value"] = mv
    if cal is None:
        return out.reset_index(drop=True)
    out = out.rename(columns={c: f"{c}_cal" for c in out.columns if c != customer_col})
    hold = (~in_cal) & (periods <= end_period)
    h_per, h_mean = _holdout_stats(codes, periods, amounts, hold, len(uniques))
    out["frequency_holdout"] = h_per[present].astype(np.int64)
    if amounts is not None:
        out["monetary_value_holdout"] = h_mean[present]
    out["duration_holdout"] = float(end_period - cut_period) / float(freq_multiplier)
    return out.reset_index(drop=True)


def _cutoffs(dates: pd.Series, freq_multiplier: float, calibration_end, observation_end):
    """Checked (cut, end, cal): the calibration cut (``end`` without one), the end of
    observation (default the last order) and ``calibration_end`` as a Timestamp or None."""
    if not np.isfinite(freq_multiplier) or freq_multiplier <= 0:
        raise ValueError(f"freq_multiplier={freq_multiplier!r} must be a positive number, e.g. 7.")
    end = dates.max() if observation_end is None else _to_timestamp(observation_end, "observation_end")
    cal = None if calibration_end is None else _to_timestamp(calibration_end, "calibration_end")
    if cal is not None and cal >= end:
        raise ValueError(
            f"calibration_end ({cal}) must be before observation_end ({end}); the holdout "
            "period lies between them."
        )
    return (end if cal is None else cal), end, cal


def _holdout_stats(codes: np.ndarray, periods: np.ndarray, amounts: np.ndarray | None,
                   hold: np.ndarray, n_customers: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Per customer: purchase periods in the holdout (rows ``hold``) and their mean spend
    per period (0 without purchases; None without amounts)."""
    h_per = np.zeros(n_customers, dtype=np.int64)
    h_total = np.zeros(n_customers)
    if hold.any():
        _, _, _, h_per, _ = _customer_stats(codes[hold], periods[hold], None, n_customers)
        if amounts is not None:
            # every holdout period is a repeat purchase: mean spend = total / periods
            h_total = np.bincount(codes[hold], weights=amounts[hold], minlength=n_customers)
    if amounts is None:
        return h_per, None
    with np.errstate(invalid="ignore", divide="ignore"):
        return h_per, np.where(h_per > 0, h_total / np.maximum(h_per, 1), 0.0)


def operational_time(dates, weights: pd.Series) -> pd.Series:
    """Re-time timestamps on a seasonal clock that runs ``weight(day)`` times faster.

    BTYD models assume a steady purchase rate, but shops have weekdays, Double 11 and
    Lunar New Year. If demand on a day is ``weight`` times the average, a purchase
    process with a constant rate in *operational* time reproduces the peaks. Mapping
    each timestamp to ``first day + sum of the weights of the days before it`` (plus
    the elapsed part of its own day) removes the seasonality before summarizing.

    ``weights``: one positive value per calendar day, indexed by the day's date
    (e.g. ``shop.truth["calendar"].set_index("date")["weight"]`` for the synthetic
    shop, or daily order counts / their mean for a real one). Returns timestamps
    (same index as ``dates``) that ``summarize`` can use as the date column; the
    clock starts at the first day of ``weights``.

    Parameters
    ----------
    dates : array-like of datetime
        The timestamps to re-time (e.g. the ``order_ts`` column).
    weights : pd.Series
        Demand multiple per calendar day, indexed by consecutive daily dates.

    Returns
    -------
    pd.Series
        ``operational_ts``: the re-timed timestamps, indexed like ``dates``.
    """
    if not isinstance(weights, pd.Series) or not isinstance(weights.index, pd.DatetimeIndex):
        raise ValueError("weights must be a pandas Series indexed by daily dates (DatetimeIndex).")
    w = weights.sort_index().to_numpy(dtype=float)
    if w.size == 0 or not np.isfinite(w).all() or (w <= 0).any():
        raise ValueError("weights must be non-empty, finite and > 0 (demand multiple per day).")
    day0 = weights.index.min().normalize()
    expected = pd.date_range(day0, periods=w.size, freq="D")
    if not weights.sort_index().index.normalize().equals(expected):
        raise ValueError("weights must have exactly one value per consecutive calendar day.")
    d = pd.Series(pd.to_datetime(dates))
    day = ((d - day0) / pd.Timedelta(days=1)).to_numpy()
    if np.isnan(day).any() or (day < 0).any() or (day >= w.size).any():
        raise ValueError(
            f"dates must fall inside the weights' calendar ({day0.date()} to "
            f"{expected[-1].date()}); extend the weights."
        )
    cum = np.r_[0.0, np.cumsum(w)]
    whole = np.floor(day).astype(np.int64)
    op = cum[whole] + (day - whole) * w[whole]
    out = day0 + pd.to_timedelta(op, unit="D")
    return pd.Series(out, index=getattr(dates, "index", None), name="operational_ts")



# --------------------------------------------------------------------------------------
# input checks for the models
# --------------------------------------------------------------------------------------


def _summary_columns(summary: pd.DataFrame, extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Map model names to the summary's columns: plain names, else the ``_cal`` ones."""
    if not isinstance(summary, pd.DataFrame):
        raise ValueError(
            f"summary must be a pandas DataFrame (the output of summarize()), got "
            f"{type(summary).__name__}."
        )
    names = SUMMARY_COLUMNS + extra
    if all(n in summary.columns for n in names):
        return {n: n for n in names}
    if all(f"{n}_cal" in summary.columns for n in names):
        return {n: f"{n}_cal" for n in names}
    missing = [n for n in names if n not in summary.columns]
    raise ValueError(
        f"summary: column(s) {missing} not found (have {list(summary.columns)}); "
        "build the table with crmlab.clv.summarize() or rename your columns to "
        f"{list(names)}."
    )


def _summary_arrays(summary: pd.DataFrame, *, need_repeat: bool = False,
                    native: bool = False):
    """Validated (x, t_x, T) arrays from a summary table.

    The checks run block by block (:func:`crmlab.clv.compress.blocks`), so a summary of
    tens of millions of customers is checked without full-size temporaries; float columns
    come back as read-only views of the table. ``native`` keeps integer columns as they
    are instead of converting them to float (a full-size copy the caller may not need).
    """
    cols = _summary_columns(summary)
    if len(summary) == 0:
        raise ValueError("summary is empty: there are no customers to fit or score.")
    x, tx, T = (_finite_column(summary, cols[name], native) for name in SUMMARY_COLUMNS)
    found = _summary_problems(x, tx, T)
    fcol, rcol, tcol = cols["frequency"], cols["recency"], cols["T"]
    if found["negative frequency"]:
        raise ValueError(
            f"summary: column '{fcol}' has {found['negative frequency']} negative values; "
            "frequency counts repeat purchases and must be >= 0."
        )
    if found["fractional frequency"]:
        raise ValueError(
            f"summary: column '{fcol}' has non-integer values; frequency is a count of "
            "repeat purchase periods."
        )
    if found["negative age"]:
        raise ValueError(
            f"summary: columns '{rcol}' and '{tcol}' must be >= 0 (they are ages in periods)."
        )
    if found["recency after T"]:
        raise ValueError(
            f"summary: {found['recency after T']} customers have '{rcol}' > '{tcol}' (last "
            "purchase after the end of observation); recompute the summary with the right "
            "observation_end."
        )
    if found["recency without repeat"]:
        raise ValueError(
            f"summary: customers with '{fcol}' = 0 must have '{rcol}' = 0 (no repeat purchase, "
            "so the last purchase is the first)."
        )
    if found["repeat without recency"]:
        raise ValueError(
            f"summary: customers with '{fcol}' > 0 must have '{rcol}' > 0 (repeat purchases "
            "happen in later periods than the first one)."
        )
    # recency may exceed T by rounding (within the tolerance above): clip it to T
    return x, (np.minimum(tx, T) if found["rounding above T"] else tx), T


def _finite_column(summary: pd.DataFrame, col: str, native: bool = False) -> np.ndarray:
    """A numeric summary column as float64 (``native``: integers kept as they are), with a
    clear error for text, NaN or inf."""
    s = summary[col]
    if not pd.api.types.is_numeric_dtype(s):
        raise ValueError(f"summary: column '{col}' must be numeric; convert it with pd.to_numeric.")
    if native and s.dtype.kind in "iu":
        return s.to_numpy()
    a = s.to_numpy(dtype=float)
    bad = sum(int((~np.isfinite(a[rows])).sum()) for rows in blocks(a.size))
    if bad:
        raise ValueError(
            f"summary: column '{col}' has {bad} missing or infinite values; drop those "
            "customers or recompute the summary."
        )
    return a


def _summary_problems(x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> dict[str, int]:
    """How many rows break each rule of a summary table, counted block by block."""
    found = dict.fromkeys(["negative frequency", "fractional frequency", "negative age",
                           "recency after T", "recency without repeat",
                           "repeat without recency", "rounding above T"], 0)
    for rows in blocks(x.size):
        xb, txb, Tb = x[rows], tx[rows], T[rows]
        found["negative frequency"] += int((xb < 0).sum())
        if xb.dtype.kind == "f":
            found["fractional frequency"] += int((xb != np.round(xb)).sum())
        found["negative age"] += int(((txb < 0) | (Tb < 0)).sum())
        found["recency after T"] += int((txb > Tb * (1 + 1e-12) + 1e-12).sum())
        found["recency without repeat"] += int(((xb == 0) & (txb != 0)).sum())
        found["repeat without recency"] += int(((xb > 0) & (txb == 0)).sum())
        found["rounding above T"] += int((txb > Tb).sum())
    return found


def _weights_array(summary: pd.DataFrame, weights) -> np.ndarray:
    n = len(summary)
    if weights is None:
        return np.ones(n)
    w = summary[weights] if isinstance(weights, str) else weights
    w = np.asarray(w, dtype=float)
    if w.shape != (n,):
        raise ValueError(f"weights must have one value per summary row ({n}), got shape {w.shape}.")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("weights must be finite and >= 0 (number of customers per row).")
    if w.sum() <= 0:
        raise ValueError("weights sum to 0: there are no customers to fit.")
    return w


def _as_series(values: np.ndarray, summary: pd.DataFrame, name: str) -> pd.Series:
    return pd.Series(values, index=summary.index, name=name)
