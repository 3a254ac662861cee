"""Customer lifetime value: expected purchases times expected spend, discounted."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab._checks import check_number
from crmlab.clv.summary import _as_series

__all__ = ["clv"]


def clv(transaction_model, spend, summary: pd.DataFrame, *, horizon: float,
        discount_rate: float, step: float = 1.0) -> pd.Series:
    """Customer lifetime value over a finite horizon with discrete discounting.

    The horizon (in summary periods) is cut into ``ceil(horizon / step)`` steps of
    ``step`` periods (e.g. ``step=4`` for four-week "months" on weekly data). Step k
    contributes the expected purchases in it, E[Y(k step)] - E[Y((k-1) step)], times
    the expected spend per purchase, discounted by ``(1 + discount_rate) ** k`` —
    ``discount_rate`` is per step, and cash from step k is counted at its end (the
    convention of lifetimes' ``customer_lifetime_value``). With ``discount_rate=0``
    CLV is simply expected purchases over the horizon times expected spend.

    Parameters
    ----------
    transaction_model : BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel or NBDModel
        A fitted transaction model; its ``predict_purchases(t, summary)`` gives the
        expected purchases up to each step.
    spend : GammaGammaModel or array-like
        A fitted :class:`~crmlab.clv.GammaGammaModel` (any fitted model with an
        ``expected_spend(summary)`` method), or each customer's expected spend per
        purchase, one value per row of ``summary``.
    summary : pd.DataFrame
        The customers to value: a :func:`~crmlab.clv.summarize` table.
    horizon : float
        How far ahead to count purchases, in periods of the summary.
    discount_rate : float
        Discount rate per step, in [0, 1] (0.01 per four-week step is about 12.7% a year).
    step : float, default 1.0
        Length of one discounting step in periods of the summary.

    Returns
    -------
    pd.Series
        ``clv``: each customer's discounted expected value, indexed like ``summary``.
    """
    if horizon <= 0 or step <= 0:
        raise ValueError("horizon and step must be > 0 (periods of the summary).")
    # A negative rate makes later money worth more than money now (CLV explodes with the
    # horizon); a rate of 100% or more per step is not a discount rate but a typo (10 for 0.10).
    check_number(discount_rate, "discount_rate", func="clv", low=0, high=1, low_open=False,
                 example="0.01 per step (about 12.7% a year on monthly steps)")
    if callable(getattr(spend, "expected_spend", None)):  # a fitted GammaGammaModel
        s = spend.expected_spend(summary).to_numpy()
    else:
        s = np.asarray(spend, dtype=float)
        if s.shape != (len(summary),):
            raise ValueError(
                f"spend must have one value per summary row ({len(summary)}), got shape {s.shape}."
            )
    n_steps = int(np.ceil(horizon / step - 1e-12))
    value = np.zeros(len(summary))
    prev = np.zeros(len(summary))
    for k in range(1, n_steps + 1):
        cum = transaction_model.predict_purchases(min(k * step, horizon), summary).to_numpy()
        value += (cum - prev) / (1 + discount_rate) ** k
        prev = cum
    return _as_series(value * s, summary, "clv")
