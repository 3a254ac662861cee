"""The model checks of the BTYD literature (FHL 2005 Figs. 2-4), as tables that
:mod:`crmlab.plots` draws: in-sample histogram, conditional expectations, tracking."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab._checks import as_timestamp as _to_timestamp
from crmlab._checks import reads
from crmlab.clv.summary import (
    _FAST_FREQS,
    _log_columns,
    _log_reads,
    _summary_arrays,
    period_ordinals,
)

__all__ = ["calibration_histogram", "conditional_expectations", "repeat_transactions_tracking"]


def _check_transaction_model(model) -> None:
    for attr in ("probability_of_purchases", "predict_purchases", "expected_purchases_new"):
        if not hasattr(model, attr):
            raise ValueError(
                f"model: a fitted BTYD transaction model is needed (BetaGeoModel, "
                f"ModifiedBetaGeoModel, ParetoNBDModel or NBDModel); {type(model).__name__} "
                f"has no {attr}()."
            )
    model._check_fitted()


def calibration_histogram(model, summary: pd.DataFrame, max_x: int = 7) -> pd.DataFrame:
    """Customers by number of repeat purchases in the calibration period, actual vs
    expected (FHL 2005 Fig. 2): the in-sample check of a transaction model.

    ``expected`` for ``x`` is the sum over customers of P(X(T_i) = x) at each customer's
    own age ``T_i`` (new-customer formula); the last row, labelled ``"{max_x}+"``, holds
    everyone with ``max_x`` or more, so both columns add up to the number of customers.
    Returns ``frequency`` (label), ``actual``, ``expected``.

    Parameters
    ----------
    model : BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel or NBDModel
        A fitted transaction model.
    summary : pd.DataFrame
        The :func:`summarize` table it was fitted on.
    max_x : int, default 7
        Repeat-purchase count of the last, open-ended row.

    Returns
    -------
    pd.DataFrame
        ``max_x + 1`` rows: ``frequency`` (label), ``actual``, ``expected``.
    """
    _check_transaction_model(model)
    if int(max_x) != max_x or max_x < 1:
        raise ValueError(f"max_x={max_x!r} must be a whole number >= 1 (e.g. 7).")
    max_x = int(max_x)
    x, _, T = _summary_arrays(summary)
    Ts, counts = np.unique(T, return_counts=True)
    expected = np.zeros(max_x + 1)
    for k in range(max_x):
        expected[k] = counts @ np.asarray(model.probability_of_purchases(Ts, k), dtype=float)
    expected[max_x] = len(x) - expected[:max_x].sum()
    actual = np.bincount(np.minimum(x, max_x).astype(np.int64), minlength=max_x + 1)
    labels = [str(k) for k in range(max_x)] + [f"{max_x}+"]
    return pd.DataFrame({"frequency": pd.array(labels, dtype="str"),
                         "actual": actual.astype(np.int64), "expected": expected})


def conditional_expectations(model, summary: pd.DataFrame, max_x: int = 7) -> pd.DataFrame:
    """Mean holdout purchases by calibration frequency, actual vs the model's conditional
    expectation (FHL 2005 Fig. 4): the out-of-sample check that matters for targeting.

    ``summary`` is a calibration/holdout table from ``summarize(..., calibration_end=)``
    (``frequency_holdout`` and ``duration_holdout`` are needed). Customers with ``max_x``
    or more calibration purchases share the last row (``"{max_x}+"``). Returns
    ``frequency`` (label), ``customers``, ``actual`` and ``expected`` (means per
    customer) and the totals ``actual_total``, ``expected_total``.

    Parameters
    ----------
    model : BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel or NBDModel
        A transaction model fitted on the calibration part.
    summary : pd.DataFrame
        A calibration/holdout :func:`summarize` table.
    max_x : int, default 7
        Calibration frequency of the last, open-ended row.

    Returns
    -------
    pd.DataFrame
        One row per calibration frequency with customers: ``frequency``, ``customers``,
        ``actual``, ``expected``, ``actual_total``, ``expected_total``.
    """
    _check_transaction_model(model)
    need = ["frequency_holdout", "duration_holdout"]
    missing = [c for c in need if c not in summary.columns]
    if missing:
        raise ValueError(
            f"summary: column(s) {missing} not found; build a calibration/holdout table with "
            "crmlab.clv.summarize(..., calibration_end=...)."
        )
    if int(max_x) != max_x or max_x < 1:
        raise ValueError(f"max_x={max_x!r} must be a whole number >= 1 (e.g. 7).")
    max_x = int(max_x)
    x, _, _ = _summary_arrays(summary)
    dur = summary["duration_holdout"].to_numpy(dtype=float)
    expected = model.predict_purchases(dur, summary).to_numpy()
    actual = summary["frequency_holdout"].to_numpy(dtype=float)
    group = np.minimum(x, max_x).astype(np.int64)
    n = np.bincount(group, minlength=max_x + 1)
    act = np.bincount(group, weights=actual, minlength=max_x + 1)
    exp_ = np.bincount(group, weights=expected, minlength=max_x + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = pd.DataFrame({
            "frequency": pd.array([str(k) for k in range(max_x)] + [f"{max_x}+"], dtype="str"),
            "customers": n.astype(np.int64),
            "actual": act / n, "expected": exp_ / n,
            "actual_total": act, "expected_total": exp_,
        })
    return out.loc[out["customers"] > 0].reset_index(drop=True)


# Long function: most of it is the docstring (the chart's definition and
# its parameters); the body is 35 lines, with the cohort step in _cohort_repeats.
@reads(transactions=_log_reads(amount=False))
def repeat_transactions_tracking(
    model,
    transactions: pd.DataFrame,
    customer_col: str = "customer_id",
    date_col: str = "order_ts",
    *,
    freq: str = "D",
    freq_multiplier: float = 7,
    calibration_end=None,
    observation_end=None,
    step: int = 1,
) -> pd.DataFrame:
    """Cumulative repeat purchases of the cohort over time, actual vs expected
    (FHL 2005 Fig. 3): the aggregate forecast a manager sees, in and out of sample.

    Purchases are cut into periods as in :func:`summarize` (same ``freq`` and
    ``freq_multiplier`` as the summary the model was fitted on; same-period purchases
    count once). The cohort is every customer whose first purchase is on or before
    ``calibration_end`` (default: everyone). Every ``step`` model time units (a week
    for ``freq="D", freq_multiplier=7``) from the cohort's first period, ``actual`` is
    the cohort's repeat purchases so far and ``expected`` sums ``E[X(t - t0_i)]`` (the
    new-customer curve) over customers from their own first purchase ``t0_i``.

    Parameters
    ----------
    model : BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel or NBDModel
        A fitted transaction model (its ``expected_purchases_new`` curve is summed).
    transactions : pd.DataFrame
        The order log (``customer_col``, ``date_col``).
    customer_col, date_col : str
        Its customer and timestamp columns.
    freq : str, default "D"
        Period of the summary the model was fitted on (see :func:`summarize`).
    freq_multiplier : float, default 7
        Periods per model time unit (7 days: the model counts weeks).
    calibration_end, observation_end : date-like, optional
        End of the calibration period (default: none, everyone is in the cohort) and of
        observation (default: the last order).
    step : int, default 1
        Model time units per row.

    Returns
    -------
    pd.DataFrame
        One row per step: ``t`` (model time units since the first period), ``date``
        (start of the next step), ``actual``, ``expected`` (cumulative), their increments
        ``actual_step`` and ``expected_step``, and ``holdout`` (True after
        ``calibration_end``).
    """
    _check_transaction_model(model)
    cust, dates, _ = _log_columns(transactions, customer_col, date_col, None)
    if not np.isfinite(freq_multiplier) or freq_multiplier <= 0:
        raise ValueError(f"freq_multiplier={freq_multiplier!r} must be a positive number, e.g. 7.")
    if int(step) != step or step < 1:
        raise ValueError(f"step={step!r} must be a whole number of model time units >= 1.")
    end = dates.max() if observation_end is None else _to_timestamp(observation_end, "observation_end")
    cal = None if calibration_end is None else _to_timestamp(calibration_end, "calibration_end")
    periods = period_ordinals(dates, freq)
    end_period = int(period_ordinals(pd.Series([end]), freq)[0])
    cal_period = None if cal is None else int(period_ordinals(pd.Series([cal]), freq)[0])
    codes, _ = pd.factorize(cust, sort=True)
    keep = periods <= end_period
    repeat, cohort_first = _cohort_repeats(codes[keep], periods[keep], cal_period)
    p0 = int(cohort_first.min())
    size = float(freq_multiplier) * step  # periods per step
    n_steps = int(np.floor((end_period - p0 + 1) / size + 1e-9))
    if n_steps < 1:
        raise ValueError("transactions: the observation window is shorter than one step.")
    last = p0 + np.arange(1, n_steps + 1) * size - 1  # last period included in each step
    actual = np.searchsorted(np.sort(repeat), last, side="right").astype(float)
    f_vals, f_counts = np.unique(cohort_first.to_numpy(), return_counts=True)
    age = (last[:, None] - f_vals[None, :]) / float(freq_multiplier)
    curve = np.where(age >= 0, model.expected_purchases_new(np.maximum(age, 0.0)), 0.0)
    expected = curve @ f_counts
    out = pd.DataFrame({
        "t": np.arange(1, n_steps + 1) * float(step),
        "date": _period_starts(np.floor(last + 1).astype(np.int64), freq),
        "actual": actual, "expected": expected,
        "actual_step": np.diff(np.r_[0.0, actual]), "expected_step": np.diff(np.r_[0.0, expected]),
    })
    out["holdout"] = (last > cal_period) if cal is not None else False
    return out


def _cohort_repeats(codes: np.ndarray, periods: np.ndarray, cal_period: int | None):
    """Repeat purchase periods of the cohort (same-period purchases merged) and each cohort
    member's first period; the cohort is everyone first seen by ``cal_period`` (if given)."""
    span = periods.max() - periods.min() + 1
    uniq = np.unique(codes.astype(np.int64) * span + (periods - periods.min()))
    u_cust, u_per = uniq // span, uniq % span + periods.min()
    first = pd.Series(u_per).groupby(u_cust).transform("min").to_numpy()
    cohort_first = pd.Series(u_per).groupby(u_cust).min()
    if cal_period is not None:
        in_cohort = first <= cal_period
        u_per, first = u_per[in_cohort], first[in_cohort]
        cohort_first = cohort_first.loc[cohort_first <= cal_period]
    if cohort_first.empty:
        raise ValueError("transactions: no customer made a first purchase by calibration_end.")
    return u_per[u_per > first], cohort_first


def _period_starts(ordinals: np.ndarray, freq: str) -> pd.DatetimeIndex:
    """Start timestamps (ns) of the periods with the given ordinals (inverse of
    :func:`period_ordinals`)."""
    if freq in _FAST_FREQS:
        unit, size, shift = _FAST_FREQS[freq]
        return pd.to_datetime((ordinals * size - shift).astype(f"datetime64[{unit}]")).as_unit("ns")
    return pd.PeriodIndex.from_ordinals(ordinals, freq=freq).to_timestamp().as_unit("ns")
