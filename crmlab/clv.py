"""Customer lifetime value and churn early warning (顧客終身價值, 流失預警) — unit 2c.

The "buy till you die" (BTYD) family for non-contractual shops, where nobody tells
you when a customer leaves:

* ``summarize`` turns an order log into the sufficient statistics every BTYD model
  needs, per customer: ``frequency`` (repeat purchase periods), ``recency`` (age at
  the last purchase) and ``T`` (age at the end of observation), plus the mean repeat
  spend, optionally split into a calibration and a holdout part.
* ``BetaGeoModel`` (BG/NBD, Fader, Hardie & Lee 2005), ``ModifiedBetaGeoModel``
  (MBG/NBD, Batislam, Denizel & Filiztekin 2007) and ``ParetoNBDModel`` (Schmittlein,
  Morrison & Colombo 1987) model how often a customer buys while alive and when they
  silently drop out; ``NBDModel`` (no dropout) is the benchmark they must beat. Each
  gives P(alive), conditional forecasts and ``probability_of_purchases`` (P(X(t) = x)).
  ``GammaGammaModel`` (Fader & Hardie 2013) models how much they spend per purchase.
  ``clv`` combines the two into a discounted value.
* the model checks of the literature (FHL 2005 Figs. 2-4): ``calibration_histogram``,
  ``conditional_expectations`` and ``repeat_transactions_tracking`` (drawn by
  :mod:`crmlab.plots`).
* the churn early-warning helpers compare the model's P(alive) with a supervised
  classifier trained on an earlier cut-off and scored on a later one.

All fitting is maximum likelihood on the closed-form likelihood in log space with
special functions from :mod:`scipy.special`. Customers with the same
(frequency, recency, T) share one likelihood term with a weight, so the cost of a
fit grows with the number of distinct triples, not with the number of customers.
BG/NBD uses its analytic gradient and Hessian in trust-region Newton steps (a million
customers fit in seconds, see ``benchmarks/bench_bgnbd.py``); Gamma-Gamma uses its
analytic gradient; Pareto/NBD, whose likelihood needs the hypergeometric function,
uses numerical derivatives.

Time units: recency, T and every horizon are in the periods of ``summarize(freq=...)``
("W" weeks by default). Parameters such as ``alpha`` are per that unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special

from crmlab._checks import Reads, check_number, reads
from crmlab._checks import as_timestamp as _to_timestamp

__all__ = [
    "summarize",
    "operational_time",
    "BetaGeoModel",
    "ModifiedBetaGeoModel",
    "ParetoNBDModel",
    "NBDModel",
    "calibration_histogram",
    "conditional_expectations",
    "repeat_transactions_tracking",
    "GammaGammaModel",
    "clv",
    "sample_bgnbd",
    "auc",
    "top_decile_lift",
    "time_to_next_purchase",
    "churn_labels",
    "churn_features",
    "churn_early_warning",
    "ChurnWarning",
]

SUMMARY_COLUMNS = ("frequency", "recency", "T")

# --------------------------------------------------------------------------------------
# summarize: order log -> (frequency, recency, T, monetary_value)
# --------------------------------------------------------------------------------------

_FAST_FREQS = {"D": ("D", 1, 0), "W": ("D", 7, 3), "h": ("h", 1, 0)}


def _period_ordinals(dates: pd.Series, freq: str) -> np.ndarray:
    """Integer period number of each timestamp; differences are whole periods.

    Weeks run Monday..Sunday as pandas' ``to_period("W")`` does (1970-01-01 was a
    Thursday, hence the shift of 3 days).
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

    Returns one row per customer, sorted by customer id, with the customer column
    first; ``frequency`` is int64, everything else float64.
    """
    cust, dates, amount = _log_columns(transactions, customer_col, date_col, amount_col)
    if not np.isfinite(freq_multiplier) or freq_multiplier <= 0:
        raise ValueError(f"freq_multiplier={freq_multiplier!r} must be a positive number, e.g. 7.")
    end = dates.max() if observation_end is None else _to_timestamp(observation_end, "observation_end")
    cal = None if calibration_end is None else _to_timestamp(calibration_end, "calibration_end")
    if cal is not None and cal >= end:
        raise ValueError(
            f"calibration_end ({cal}) must be before observation_end ({end}); the holdout "
            "period lies between them."
        )
    cut = end if cal is None else cal
    periods = _period_ordinals(dates, freq)
    cut_period, end_period = _period_ordinals(pd.Series([cut, end]), freq)
    if periods.min() > cut_period:
        raise ValueError(
            f"transactions: every order in '{date_col}' is after "
            f"{'calibration_end' if cal is not None else 'observation_end'} ({cut}); "
            "there is nothing to summarize — move the date later."
        )

    codes, uniques = pd.factorize(cust, sort=True)
    amounts = None if amount is None else amount.to_numpy(dtype=float)
    in_cal = periods <= cut_period
    n_customers = len(uniques)
    present, first, last, n_per, repeat_spend = _customer_stats(
        codes[in_cal], periods[in_cal], None if amounts is None else amounts[in_cal], n_customers
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
    in_hold = (~in_cal) & (periods <= end_period)
    h_per = np.zeros(n_customers, dtype=np.int64)
    h_total = np.zeros(n_customers)
    if in_hold.any():
        _, _, _, h_per, _ = _customer_stats(codes[in_hold], periods[in_hold], None, n_customers)
        if amounts is not None:
            # every holdout period is a repeat purchase: mean spend = total / periods
            h_total = np.bincount(codes[in_hold], weights=amounts[in_hold], minlength=n_customers)
    out["frequency_holdout"] = h_per[present].astype(np.int64)
    if amounts is not None:
        with np.errstate(invalid="ignore", divide="ignore"):
            mvh = np.where(h_per > 0, h_total / np.maximum(h_per, 1), 0.0)
        out["monetary_value_holdout"] = mvh[present]
    out["duration_holdout"] = float(end_period - cut_period) / float(freq_multiplier)
    return out.reset_index(drop=True)


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


def _summary_arrays(summary: pd.DataFrame, *, need_repeat: bool = False):
    """Validated (x, t_x, T) arrays from a summary table."""
    cols = _summary_columns(summary)
    if len(summary) == 0:
        raise ValueError("summary is empty: there are no customers to fit or score.")
    arrays = {}
    for name, col in cols.items():
        s = summary[col]
        if not pd.api.types.is_numeric_dtype(s):
            raise ValueError(f"summary: column '{col}' must be numeric; convert it with pd.to_numeric.")
        a = s.to_numpy(dtype=float)
        if not np.isfinite(a).all():
            raise ValueError(
                f"summary: column '{col}' has {int((~np.isfinite(a)).sum())} missing or infinite "
                "values; drop those customers or recompute the summary."
            )
        arrays[name] = a
    x, tx, T = arrays["frequency"], arrays["recency"], arrays["T"]
    fcol, rcol, tcol = cols["frequency"], cols["recency"], cols["T"]
    if (x < 0).any():
        raise ValueError(
            f"summary: column '{fcol}' has {int((x < 0).sum())} negative values; frequency "
            "counts repeat purchases and must be >= 0."
        )
    if (x != np.round(x)).any():
        raise ValueError(
            f"summary: column '{fcol}' has non-integer values; frequency is a count of "
            "repeat purchase periods."
        )
    if (tx < 0).any() or (T < 0).any():
        raise ValueError(
            f"summary: columns '{rcol}' and '{tcol}' must be >= 0 (they are ages in periods)."
        )
    bad = tx > T * (1 + 1e-12) + 1e-12
    if bad.any():
        raise ValueError(
            f"summary: {int(bad.sum())} customers have '{rcol}' > '{tcol}' (last purchase after "
            "the end of observation); recompute the summary with the right observation_end."
        )
    if ((x == 0) & (tx != 0)).any():
        raise ValueError(
            f"summary: customers with '{fcol}' = 0 must have '{rcol}' = 0 (no repeat purchase, "
            "so the last purchase is the first)."
        )
    if ((x > 0) & (tx == 0)).any():
        raise ValueError(
            f"summary: customers with '{fcol}' > 0 must have '{rcol}' > 0 (repeat purchases "
            "happen in later periods than the first one)."
        )
    return x, np.minimum(tx, T), T


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


def _compress(columns: list[np.ndarray], weights: np.ndarray):
    """Distinct rows of the given columns and the summed weight of each.

    Hash-based (``pd.factorize``) so it is linear in the number of rows.
    """
    key = None
    for col in columns:
        codes, uniq = pd.factorize(col)
        if key is None:
            key = codes.astype(np.int64)
        else:
            key, _ = pd.factorize(key * len(uniq) + codes)
            key = key.astype(np.int64)
    n_groups = int(key.max()) + 1
    counts = np.bincount(key, weights=weights, minlength=n_groups)
    first = np.full(n_groups, -1, dtype=np.int64)
    first[key[::-1]] = np.arange(key.size - 1, -1, -1)
    return [c[first] for c in columns], counts


def _as_series(values: np.ndarray, summary: pd.DataFrame, name: str) -> pd.Series:
    return pd.Series(values, index=summary.index, name=name)


@dataclass
class _FitResult:
    x: np.ndarray
    fun: float
    n_iter: int
    message: str
    hess: np.ndarray | None = None


def _minimize(fun_grad, x0: np.ndarray, *, jac: bool, tol: float, max_iter: int, what: str):
    """Minimize and insist on convergence (a loose fit is a wrong answer)."""
    res = optimize.minimize(
        fun_grad, x0, jac=jac, method="BFGS" if jac else "Nelder-Mead",
        options={"gtol": tol, "maxiter": max_iter} if jac else
        {"xatol": 1e-10, "fatol": 1e-12, "maxiter": max_iter, "maxfev": 20 * max_iter},
    )
    if jac and not res.success:
        # BFGS often stops with "precision loss" exactly at the optimum; accept it when
        # the gradient is tiny, polish once with L-BFGS-B otherwise.
        grad = fun_grad(res.x)[1]
        if np.max(np.abs(grad)) > 1e-6:
            res2 = optimize.minimize(fun_grad, res.x, jac=True, method="L-BFGS-B",
                                     options={"gtol": tol, "maxiter": max_iter, "ftol": 1e-15})
            grad2 = fun_grad(res2.x)[1]
            if np.max(np.abs(grad2)) > 1e-5:
                raise RuntimeError(
                    f"{what}: the likelihood maximization did not converge ({res.message}); "
                    "the data may be too small or too regular for this model."
                )
            res = res2
    if not np.all(np.isfinite(res.x)) or np.max(np.abs(res.x)) > 30:
        raise RuntimeError(
            f"{what}: the estimates ran off to the edge of the parameter space "
            f"(log-parameters {np.round(res.x, 2).tolist()}); the data cannot identify the "
            "model — use more customers or a longer observation window."
        )
    return _FitResult(res.x, float(res.fun), int(res.get("nit", 0)), str(res.message))


def _newton(fgh, x0: np.ndarray, *, tol: float, max_iter: int, what: str,
            strict: bool = True, limit: float = 30.0) -> _FitResult | None:
    """Trust-region Newton (scipy's ``trust-exact``) on ``fgh(x, hess) -> (f, g, H)``.

    Function, gradient and Hessian come from one pass over the data, so the last
    point's values are cached for the separate ``fun``/``jac``/``hess`` calls.
    With ``strict=False`` a run that does not converge, or ends with a log-parameter
    beyond ``limit``, returns ``None`` (the caller has a fallback) instead of raising.
    """
    cache: dict[str, object] = {}

    def ev(z):
        # the Hessian costs little on top of f and g (one Gram product), so every
        # evaluation computes all three: one pass over the data per point
        key = z.tobytes()
        if cache.get("key") != key:
            f, g, H = fgh(z, hess=True)
            cache.update(key=key, f=f, g=g, H=H)
        return cache

    res = optimize.minimize(
        lambda z: ev(z)["f"], x0, method="trust-exact",
        jac=lambda z: ev(z)["g"], hess=lambda z: ev(z)["H"],
        options={"gtol": tol, "maxiter": max_iter},
    )
    last = ev(res.x)
    g = last["g"]
    ran_off = not np.all(np.isfinite(res.x)) or np.max(np.abs(res.x)) > limit
    if not strict and (ran_off or not np.all(np.isfinite(g))
                       or np.max(np.abs(g)) > max(100 * tol, 1e-6)):
        return None
    if ran_off:
        raise RuntimeError(
            f"{what}: the estimates ran off to the edge of the parameter space "
            f"(log-parameters {np.round(res.x, 2).tolist()}); the data cannot identify the "
            "model — use more customers or a longer observation window."
        )
    if np.max(np.abs(g)) > max(100 * tol, 1e-6):
        raise RuntimeError(
            f"{what}: the likelihood maximization did not converge ({res.message}); "
            "the data may be too small or too regular for this model."
        )
    return _FitResult(res.x, float(last["f"]), int(res.nit), str(res.message),
                      hess=last["H"])


def _bounded_fit(fgh, x0: np.ndarray, lower: np.ndarray, upper: np.ndarray, *, tol: float,
                 max_iter: int, what: str) -> tuple[_FitResult, np.ndarray]:
    """Maximum likelihood over a box of log-parameters (L-BFGS-B), for fits whose
    optimum lies on the edge of the parameter space (a limit of the model).

    Returns the result and a boolean mask of the parameters that ended on a bound.
    The fit is accepted when it satisfies the optimality conditions of the box: a
    free parameter has a (near) zero gradient, a parameter on its lower bound a
    gradient that pushes it down, one on its upper bound a gradient that pushes it up.
    The Hessian is that of the free parameters only (the bound ones are held fixed).
    """
    z0 = np.clip(x0, lower, upper)

    def fg(z):
        f, g, _ = fgh(z)
        return f, g

    res = optimize.minimize(fg, z0, jac=True, method="L-BFGS-B",
                            bounds=list(zip(lower, upper, strict=True)),
                            options={"maxiter": 50 * max_iter, "maxfun": 100 * max_iter,
                                     "ftol": 1e-15, "gtol": 1e-12})
    z = res.x
    edge = 1e-6 * np.maximum(1.0, np.abs(upper - lower))
    at_lo, at_hi = z <= lower + edge, z >= upper - edge
    free = ~(at_lo | at_hi)
    if free.any():
        # polish the free parameters with Newton steps (the bound ones held fixed)
        def sub(zf, hess=False):
            full = z.copy()
            full[free] = zf
            f, g, H = fgh(full, hess=hess)
            return f, g[free], (None if H is None else H[np.ix_(free, free)])

        polished = _newton(sub, z[free], tol=tol, max_iter=max_iter, what=what, strict=False,
                           limit=float(np.max(np.abs(np.r_[lower, upper]))))
        if polished is not None and np.all(polished.x >= lower[free]) \
                and np.all(polished.x <= upper[free]):
            z = z.copy()
            z[free] = polished.x
    f, g, H = fgh(z, hess=True)
    # far out in the box the likelihood is flat and its gammaln differences lose digits:
    # a gradient of 1e-5 (mean log-likelihood per unit of log-parameter) is a flat optimum
    slack = max(100 * tol, 1e-5)
    ok = (np.all(np.isfinite(g)) and np.all(np.abs(g[free]) <= slack)
          and np.all(g[at_lo] >= -slack) and np.all(g[at_hi] <= slack))
    if not ok:
        raise RuntimeError(
            f"{what}: the likelihood maximization did not converge, even within bounds "
            f"({res.message}); the data may be too small or too regular for this model."
        )
    H_free = np.full_like(H, np.nan)
    H_free[np.ix_(free, free)] = H[np.ix_(free, free)]
    return _FitResult(z, float(f), int(res.nit), str(res.message), hess=H_free), ~free


def _hessian_from_grad(grad, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Central-difference Hessian of an analytic gradient (4 x 2 evaluations)."""
    k = x.size
    H = np.empty((k, k))
    for i in range(k):
        e = np.zeros(k)
        e[i] = h
        H[:, i] = (grad(x + e) - grad(x - e)) / (2 * h)
    return (H + H.T) / 2


def _standard_errors(hess_total_nll_log: np.ndarray, params: np.ndarray) -> np.ndarray:
    """Delta-method standard errors of params from the Hessian in log-parameters.

    Rows/columns that are NaN (parameters held on a bound) get a NaN standard error;
    the others come from the Hessian of the remaining parameters.
    """
    keep = ~np.isnan(np.diag(hess_total_nll_log))
    out = np.full(params.size, np.nan)
    if not keep.any():
        return out
    try:
        cov_log = np.linalg.inv(hess_total_nll_log[np.ix_(keep, keep)])
    except np.linalg.LinAlgError:
        return out
    var_log = np.diag(cov_log)
    out[keep] = np.where(var_log > 0, params[keep] * np.sqrt(np.abs(var_log)), np.nan)
    return out


# --------------------------------------------------------------------------------------
# BG/NBD
# --------------------------------------------------------------------------------------


#: a + b above which BG/NBD forecasts integrate over the (concentrated) Beta of p
_CONCENTRATED_BETA = 1_000.0


def _expected_if_alive_by_quadrature(t, x, T, r, alpha, a, b, nodes: int = 96) -> np.ndarray:
    """E[purchases in (T, T+t] | alive at T, x] for BG/NBD, by quadrature over p.

    Given the history and being alive, lambda ~ Gamma(r + x, alpha + T) and the dropout
    probability p ~ Beta(a, b + x); an alive customer with (lambda, p) buys
    (1 - exp(-lambda p t)) / p times on average in t periods, and the expectation over
    lambda is closed form, leaving a one-dimensional integral over p. Used where the
    Beta is concentrated (a > 1, a + b large), on Gauss-Legendre nodes spanning +-12
    standard deviations around its mean with the exact Beta density as weight.
    """
    x, T, t = (np.asarray(v, dtype=float) for v in (x, T, t))
    out = np.empty(x.shape)
    gx, gl = np.polynomial.legendre.leggauss(nodes)
    for xv in np.unique(x):
        rows = x == xv
        bb = b + xv
        mean = a / (a + bb)
        sd = np.sqrt(a * bb / ((a + bb) ** 2 * (a + bb + 1)))
        lo, hi = max(mean - 12 * sd, 1e-300), min(mean + 12 * sd, 1.0 - 1e-16)
        p = lo + (hi - lo) * (gx + 1) / 2
        logpdf = (a - 1) * np.log(p) + (bb - 1) * np.log1p(-p)
        wts = gl * np.exp(logpdf - logpdf.max())
        wts = wts / wts.sum()
        k = alpha + T[rows][:, None]
        stay = np.exp((r + xv) * (np.log(k) - np.log(k + p[None, :] * t[rows][:, None])))
        out[rows] = ((1 - stay) / p[None, :]) @ wts
    return out


def _nbd_logpmf(n, t, r, alpha):
    """log P(N(t) = n) for Poisson counts with a Gamma(r, alpha) rate: the NBD."""
    n, t = np.asarray(n, dtype=float), np.asarray(t, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (special.gammaln(r + n) - special.gammaln(r) - special.gammaln(n + 1)
               + r * (np.log(alpha) - np.log(alpha + t)) + special.xlogy(n, t)
               - n * np.log(alpha + t))
    return out


def _nbd_sf(n, t, r, alpha):
    """P(N(t) >= n) for the NBD (1 for n = 0), via the regularized incomplete beta."""
    n, t = np.asarray(n, dtype=float), np.asarray(t, dtype=float)
    with np.errstate(invalid="ignore"):
        tail = special.betainc(np.maximum(n, 1), r, t / (alpha + t))
    return np.where(n <= 0, 1.0, tail)


def _bg_pmf(n, t, r, alpha, a, b, shift: int = 0):
    """P(X(t) = n) for a customer whose purchase and dropout story starts at 0.

    BG/NBD (``shift=0``; FHL 2005 eq. 8): ``B(a, b+n)/B(a, b) NBD(n) + [n>0]
    B(a+1, b+n-1)/B(a, b) P(NBD >= n)``. MBG/NBD (``shift=1``; Batislam et al. 2007),
    where the customer may also drop out right after the first purchase: ``n`` becomes
    ``n + 1`` in the Beta functions and the second term is there for every ``n``.
    All arguments broadcast, so per-customer (posterior) parameters work.
    """
    n = np.asarray(n, dtype=float)
    k = shift
    first = np.exp(special.betaln(a, b + n + k) - special.betaln(a, b) + _nbd_logpmf(n, t, r, alpha))
    with np.errstate(invalid="ignore", divide="ignore"):
        w2 = np.exp(special.betaln(a + 1, b + np.maximum(n + k, 1) - 1) - special.betaln(a, b))
    second = np.where(n + k > 0, w2 * _nbd_sf(n, t, r, alpha), 0.0)
    return first + second


_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(128)


def _pnbd_pmf(n, t, r, alpha, s, beta):
    """P(X(t) = n) for a Pareto/NBD customer alive at 0 (Fader & Hardie's P(X(t)=x)
    note 012): alive at t with n purchases, ``NBD(n; t) (beta/(beta+t))^s``, plus died at
    some tau <= t after exactly n purchases, ``int_0^t s beta^s/(beta+tau)^(s+1)
    NBD(n; tau) dtau``. The note writes the integral with Gauss hypergeometric
    functions; here it is evaluated by 128-point Gauss-Legendre quadrature on a smooth
    integrand (the tests check it against adaptive quadrature and lifetimes' closed form).
    All arguments broadcast.
    """
    n, t, r, alpha, s, beta = np.broadcast_arrays(*(np.asarray(v, dtype=float)
                                                    for v in (n, t, r, alpha, s, beta)))
    alive = np.exp(_nbd_logpmf(n, t, r, alpha) + s * (np.log(beta) - np.log(beta + t)))
    tau = (t[..., None] / 2) * (_GL_NODES + 1)
    dens = np.exp(np.log(s[..., None]) + s[..., None] * np.log(beta[..., None])
                  - (s[..., None] + 1) * np.log(beta[..., None] + tau)
                  + _nbd_logpmf(n[..., None], tau, r[..., None], alpha[..., None]))
    dead = (dens @ _GL_WEIGHTS) * t / 2
    return alive + dead


def _pmf_table(pmf_new, t, x, summary, p_alive, posterior) -> pd.Series | np.ndarray:
    """P(X(t) = x) for a new customer (``summary`` None) or P(Y(t) = x | history).

    Given the history, the customer is dead (P = [x = 0]) or alive; alive, the latent
    rates have their posterior, independent of each other, and the future is the
    model's story started afresh with those posterior parameters.
    """
    x = np.asarray(x)
    if (x < 0).any() or (x != np.round(x)).any():
        raise ValueError(f"x={x!r}: the number of purchases must be a whole number >= 0.")
    t = np.asarray(t, dtype=float)
    if (t < 0).any() or not np.isfinite(t).all():
        raise ValueError("t (the horizon in periods) must be finite and >= 0.")
    if summary is None:
        return pmf_new(x, t)
    if x.ndim or t.ndim:
        raise ValueError("with a summary, pass one x and one t (call once per value).")
    pa = p_alive(summary).to_numpy()
    out = pa * posterior(x, t) + (1 - pa) * (x == 0)
    return _as_series(out, summary, f"p_{int(x)}_purchases")


class _BTYDBase:
    """Shared plumbing for the transaction models (BG/NBD, MBG/NBD, Pareto/NBD, NBD): input
    preparation, the fitted check, per-customer log-likelihoods from ``_loglik_terms``."""

    param_names: tuple[str, ...] = ()
    _name = "model"

    def _check_fitted(self):
        if not hasattr(self, "params_"):
            raise ValueError(f"{self._name} is not fitted yet; call .fit(summary) first.")

    def _prepare(self, summary: pd.DataFrame, weights):
        x, tx, T = _summary_arrays(summary)
        w = _weights_array(summary, weights)
        keep = w > 0
        x, tx, T, w = x[keep], tx[keep], T[keep], w[keep]
        if not (x > 0).any():
            raise ValueError(
                "summary: every customer has frequency 0 (no repeat purchases), so the "
                "repeat-buying rate and dropout cannot be estimated; use a longer window "
                "or a coarser freq."
            )
        if T.max() <= 0:
            raise ValueError("summary: every customer has T = 0; observe them for at least one period.")
        (x, tx, T), w = _compress([x, tx, T], w)
        self.n_customers_ = float(w.sum())
        self.n_distinct_ = int(w.size)
        scale = 10.0 / T.max()  # internal time unit: the longest history is 10 units
        return x, tx * scale, T * scale, w, scale

    def _arrays(self, summary):
        self._check_fitted()
        return _summary_arrays(summary)

    def log_likelihood(self, summary: pd.DataFrame) -> pd.Series:
        """Each customer's log-likelihood under the fitted parameters."""
        x, tx, T = self._arrays(summary)
        return _as_series(self._loglik_terms(self.params_.to_numpy(), x, tx, T), summary,
                          "log_likelihood")

    @property
    def params(self) -> pd.Series:
        """Fitted parameters as a Series (same as ``params_``)."""
        self._check_fitted()
        return self.params_


class BetaGeoModel(_BTYDBase):
    """BG/NBD model of repeat purchasing with dropout (Fader, Hardie & Lee 2005).

    Story: while alive, a customer buys as a Poisson process with rate lambda;
    lambda ~ Gamma(r, alpha) across customers. After each repeat purchase the customer
    drops out for good with probability p; p ~ Beta(a, b) across customers.

    Parameters
    ----------
    tol : gradient tolerance of the optimizer on the mean log-likelihood.
    max_iter : iteration cap of the optimizer.

    Fitted attributes: ``params_`` (Series r, alpha, a, b), ``standard_errors_``,
    ``log_likelihood_`` (total, the number papers print), ``n_customers_``,
    ``n_distinct_`` (distinct (frequency, recency, T) triples the fit actually used),
    ``n_iter_``, ``boundary_`` and ``boundary_note_`` (below).

    **When the best fit is a limit of the model.** On a small or short data set the
    likelihood can keep rising towards the edge of the parameter space, because a
    simpler model that BG/NBD contains as a limit fits the data at least as well:

    * ``a -> 0``: nobody drops out (the NBD model); ``b`` is then not identified;
    * ``a, b -> inf`` with ``a/(a+b)`` fixed: every customer has the same dropout
      probability ``p = a/(a+b)`` after each repeat purchase;
    * ``r, alpha -> inf`` with ``r/alpha`` fixed: every customer buys at the same rate.

    The unconstrained Newton fit then either stops far out (accepted when its gradient
    vanishes) or never converges. In that case, rather than fail, ``fit`` maximizes the
    likelihood over a wide box of parameters (on the internal clock, where the longest
    history is 10 time units: ``r``, ``a``, ``b`` in ``[e^-10, e^10]``, ``alpha`` in
    ``[e^-10, e^18]``), where the bound stands for the limit (a Beta with
    ``a, b = e^10`` has a standard deviation of about 0.6% of its mean). The parameters
    that end beyond ``[e^-8, e^8]`` on the internal clock (``alpha``: ``e^16``; ``a``
    and ``b`` together when ``a + b > e^8`` or ``a < e^-8``, ``r`` and ``alpha`` when
    ``r > e^8``), where the model is numerically its limit and the likelihood is flat
    in them, are listed
    in ``boundary_`` (empty for an interior fit) and ``boundary_note_`` says in words
    which limit the data chose; their standard errors are NaN (the others are
    conditional on them). Predictions stay valid: they are those of the limit model
    (forecasts integrate over a concentrated Beta numerically). Report such a fit as
    what it is — the data cannot tell the full model from its simpler limit — not as
    estimates of four parameters.
    """

    param_names = ("r", "alpha", "a", "b")
    _name = "BetaGeoModel"
    #: box of the bounded fit, log-parameters on the internal clock (r, alpha, a, b)
    _log_lower = np.array([-10.0, -10.0, -10.0, -10.0])
    _log_upper = np.array([10.0, 18.0, 10.0, 10.0])
    #: beyond these the model is numerically its limit: such parameters are in boundary_
    _log_edge_lower = np.array([-8.0, -8.0, -8.0, -8.0])
    _log_edge_upper = np.array([8.0, 16.0, 8.0, 8.0])

    def __init__(self, tol: float = 1e-9, max_iter: int = 500):
        self.tol = tol
        self.max_iter = max_iter

    #: dropout opportunities before the first repeat purchase: 0 for BG/NBD (dropout only
    #: after a repeat purchase), 1 for MBG/NBD (also right after the first purchase)
    _shift = 0

    # ---- likelihood -----------------------------------------------------------------
    @classmethod
    def _loglik_terms(cls, params, x, tx, T):
        """Per-customer log-likelihood (FHL 2005 eq. 6; Batislam et al. 2007 eq. 3 for
        MBG/NBD, where ``x`` becomes ``x + 1`` in the dropout part), in log space."""
        r, alpha, a, b = params
        k = cls._shift
        base = (
            special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
            + special.betaln(a, b + x + k) - special.betaln(a, b)
        )
        t1 = -(r + x) * np.log(alpha + T)
        xpos = x + k > 0
        t2 = np.log(a) - np.log(b + np.maximum(x + k, 1) - 1) - (r + x) * np.log(alpha + tx)
        d = np.where(xpos, t2 - t1, -np.inf)
        return base + t1 + np.logaddexp(0.0, d)

    @classmethod
    def _make_objective(cls, x, tx, T, w):
        """Mean negative log-likelihood, its gradient and Hessian in log-parameters.

        Returns ``fgh(logp, hess=False) -> (f, g, H or None)``. The likelihood of a
        customer is ``A(x) - (r+x) log(alpha+T) + [x>0] softplus(d)`` with
        ``d = log a - log(b+x-1) - (r+x) log((alpha+t_x)/(alpha+T))``; so

        * ``A(x)`` (gamma and beta functions) is evaluated once per distinct x and
          weighted by the number of customers with that x,
        * ``(r+x) log(alpha+T)`` once per distinct T (with per-T sums of weights and of
          weight * x),
        * only the softplus term needs one pass over the distinct (x, t_x, T) rows of
          repeat buyers, and its Hessian is a single 3-column Gram product.

        For MBG/NBD (``_shift = 1``) the dropout part uses ``x + 1`` in place of ``x``
        and every customer, repeat buyer or not, has the softplus term.
        """
        k = cls._shift
        # hash-based grouping (order of the groups does not matter)
        x_inv, xs = pd.factorize(x)
        Wx = np.bincount(x_inv, weights=w, minlength=xs.size)
        T_inv, Ts = pd.factorize(T)
        W_T = np.bincount(T_inv, weights=w, minlength=Ts.size)
        X_T = np.bincount(T_inv, weights=w * x, minlength=Ts.size)
        pos = x + k > 0
        wP, xP = w[pos], x[pos]
        TinvP = T_inv[pos]
        xinvP = x_inv[pos]
        txinvP, txs = pd.factorize(tx[pos])
        xm1 = np.maximum(xs + k, 1) - 1  # b + x + k - 1 only matters for x + k >= 1
        xb = xs + k  # x in the Beta part (x + 1 for MBG/NBD)
        wsum = w.sum()
        dg, tg = special.digamma, special.polygamma

        def fgh(logp, hess=False):
            r, alpha, a, b = theta = np.exp(logp)
            # ---- parts that depend on x only
            psi_ab, psi_abx = dg(a + b), dg(a + b + xb)
            A = (special.gammaln(r + xs) - special.gammaln(r) + r * np.log(alpha)
                 + special.gammaln(b + xb) - special.gammaln(a + b + xb)
                 - special.gammaln(b) + special.gammaln(a + b))
            gA = np.array([
                Wx @ (dg(r + xs) - dg(r)) + wsum * np.log(alpha),
                wsum * r / alpha,
                Wx @ (psi_ab - psi_abx),
                Wx @ (dg(b + xb) - psi_abx - dg(b) + psi_ab),
            ])
            # ---- parts that depend on T only: -(r + x) log(alpha + T)
            lT = np.log(alpha + Ts)
            iT = 1.0 / (alpha + Ts)
            rw = r * W_T + X_T
            f_t = -(rw @ lT)
            g_t = np.array([-(W_T @ lT), -(rw @ iT), 0.0, 0.0])
            # ---- repeat buyers: softplus(d)
            ltx = np.log(alpha + txs)
            itx = 1.0 / (alpha + txs)
            delta = ltx[txinvP] - lT[TinvP]  # log((alpha+t_x)/(alpha+T)) <= 0
            itx_r, iT_r = itx[txinvP], iT[TinvP]
            e = itx_r - iT_r  # d delta / d alpha
            rx = r + xP
            ib = 1.0 / (b + xm1)
            ib_r = ib[xinvP]
            d = (np.log(a) - np.log(b + xm1))[xinvP] - rx * delta
            z = np.exp(-np.abs(d))  # one exp for both softplus and sigmoid
            sp = np.maximum(d, 0.0) + np.log1p(z)
            sig = np.where(d >= 0, 1.0, z) / (1.0 + z)
            ws = wP * sig
            D = np.empty((d.size, 3))
            D[:, 0] = -delta  # d d / d r
            D[:, 1] = -rx * e  # d d / d alpha
            D[:, 2] = -ib_r  # d d / d b   (d d / d a = 1/a for every row)
            g_s = np.array([ws @ D[:, 0], ws @ D[:, 1], ws.sum() / a, ws @ D[:, 2]])
            ll = Wx @ A + f_t + wP @ sp
            grad_theta = gA + g_t + g_s
            g_log = theta * grad_theta
            if not hess:
                return -ll / wsum, -g_log / wsum, None
            H = np.zeros((4, 4))
            # x-only parts
            tg_ab, tg_abx = tg(1, a + b), tg(1, a + b + xb)
            H[0, 0] = Wx @ (tg(1, r + xs) - tg(1, r))
            H[1, 0] = wsum / alpha
            H[1, 1] = -wsum * r / alpha ** 2
            H[2, 2] = H[3, 2] = Wx @ (tg_ab - tg_abx)
            H[3, 3] = Wx @ (tg(1, b + xb) - tg_abx - tg(1, b) + tg_ab)
            # T-only parts
            H[1, 0] += -(W_T @ iT)
            H[1, 1] += rw @ iT ** 2
            # softplus: sigma' * grad(d) grad(d)^T + sigma * hess(d)  (lower triangle)
            wv = ws * (1.0 - sig)
            G = (D * wv[:, None]).T @ D  # rows/cols: r, alpha, b
            idx = [0, 1, 3]
            for i in range(3):
                for j in range(3):
                    H[idx[i], idx[j]] += G[i, j] if i >= j else 0.0
            cross = (wv @ D) / a  # with d d / d a = 1/a
            H[2, 0] += cross[0]
            H[2, 1] += cross[1]
            H[3, 2] += cross[2]
            H[2, 2] += wv.sum() / a ** 2
            # second derivatives of d
            H[1, 0] += -(ws @ e)
            H[1, 1] += ws @ (rx * (itx_r ** 2 - iT_r ** 2))
            H[2, 2] += -ws.sum() / a ** 2
            H[3, 3] += ws @ ib_r ** 2
            H = np.tril(H) + np.tril(H, -1).T
            # chain rule to log-parameters
            H_log = theta[:, None] * H * theta[None, :] + np.diag(g_log)
            return -ll / wsum, -g_log / wsum, -H_log / wsum

        return fgh

    # ---- sklearn-style API ----------------------------------------------------------
    def fit(self, summary: pd.DataFrame, weights=None) -> BetaGeoModel:
        """Maximum-likelihood fit on a ``summarize()`` table.

        ``weights`` (column name or array) says how many customers a row stands for,
        for tables that are already compressed; by default every row is one customer.

        Newton-type trust-region steps with the exact Hessian; on large tables the
        starting point comes from a fit on 20,000 rows sampled by weight (seeded, so
        fits are reproducible), which leaves a few full-data iterations.
        """
        x, tx, T, w, scale = self._prepare(summary, weights)
        # start: r/alpha from the mean repeat rate, a=1, b=3 (a dropout chance of 1/4)
        rate = max(float((w * x).sum() / (w * T).sum()), 1e-3)
        x0 = np.log([1.0, 1.0 / rate, 1.0, 3.0])
        n_iter = 0
        lo, hi = self._log_lower, self._log_upper
        if x.size > 30_000:
            rng = np.random.default_rng(0)
            pick = rng.choice(x.size, size=20_000, p=w / w.sum())
            (xs_, txs_, Ts_), ws_ = _compress([x[pick], tx[pick], T[pick]], np.ones(pick.size))
            sub = _newton(self._make_objective(xs_, txs_, Ts_, ws_), x0, tol=1e-6,
                          max_iter=self.max_iter, what=self._name, strict=False)
            if sub is not None and np.all((sub.x >= lo) & (sub.x <= hi)):
                x0, n_iter = sub.x, sub.n_iter
        fgh = self._make_objective(x, tx, T, w)
        res = _newton(fgh, x0, tol=self.tol, max_iter=self.max_iter, what=self._name,
                      strict=False)
        on_bound = np.zeros(4, dtype=bool)
        if res is None:
            # the unconstrained optimum is a limit of the model: fit within the box
            res, on_bound = _bounded_fit(fgh, x0, lo, hi, tol=self.tol,
                                         max_iter=self.max_iter, what=self._name)
        on_bound |= self._at_limit(res.x)
        params = np.exp(res.x)
        se = _standard_errors(res.hess * w.sum(), params)
        se[on_bound] = np.nan
        params[1] /= scale
        se[1] /= scale
        self.params_ = pd.Series(params, index=list(self.param_names), name="estimate")
        self.standard_errors_ = pd.Series(se, index=list(self.param_names), name="se")
        # total log-likelihood in the caller's time unit (the papers' number): on the
        # internal clock every repeat purchase's density carries a factor 1/scale
        self.log_likelihood_ = float(-res.fun * w.sum() + (w * x).sum() * np.log(scale))
        self.n_iter_ = n_iter + res.n_iter
        self.boundary_ = tuple(n for n, b in zip(self.param_names, on_bound, strict=True) if b)
        self.boundary_note_ = self._boundary_note()
        return self

    @classmethod
    def _at_limit(cls, z: np.ndarray) -> np.ndarray:
        """Which log-parameters (internal clock) stand for a limit of the model.

        A Beta(a, b) with a + b beyond e^8 is one dropout probability, and so is a
        below e^-8 (p = 0; b then unidentified): both flag a and b. A Gamma(r, alpha)
        with r beyond e^8 is one purchase rate: flags r and alpha. Any other
        parameter beyond the edge thresholds is flagged alone.
        """
        out = (z <= cls._log_edge_lower) | (z >= cls._log_edge_upper)
        log_r, _, log_a, log_b = z
        if np.logaddexp(log_a, log_b) >= cls._log_edge_upper[2] or log_a <= cls._log_edge_lower[2]:
            out[2:] = True
        if log_r >= cls._log_edge_upper[0]:
            out[:2] = True
        return out

    def _boundary_note(self) -> str:
        """In words, which limit of the model a fit on the edge stands for."""
        if not self.boundary_:
            return ""
        r, alpha, a, b = self.params_.to_numpy()
        on = set(self.boundary_)
        parts, named = [], set()
        if {"a", "b"} <= on:
            named |= {"a", "b"}
            parts.append("a -> 0: nobody drops out (the NBD model without dropout; b is not "
                         "identified)" if a < 1 else
                         f"a, b -> infinity: every customer has the same dropout probability "
                         f"p = a/(a+b) = {a / (a + b):.3f} after each repeat purchase")
        if {"r", "alpha"} <= on:
            named |= {"r", "alpha"}
            parts.append(f"r, alpha -> infinity: every customer buys at the same rate "
                         f"r/alpha = {r / alpha:.4g} per period")
        rest = [n for n in self.param_names if n in on - named]
        if rest:
            parts.append(f"{', '.join(rest)} on the edge of the parameter space")
        return "; ".join(parts)

    def p_alive(self, summary: pd.DataFrame) -> pd.Series:
        """P(customer is still alive at T | frequency, recency, T) — FHL 2005 eq. (11).

        Customers without a repeat purchase cannot have dropped out in the BG/NBD
        story (dropout happens only right after a repeat purchase), so theirs is 1.
        """
        x, tx, T = self._arrays(summary)
        r, alpha, a, b = self.params_.to_numpy()
        k = self._shift
        log_odds_dead = (np.log(a) - np.log(b + np.maximum(x + k, 1) - 1)
                         + (r + x) * (np.log(alpha + T) - np.log(alpha + tx)))
        p = np.where(x + k > 0, special.expit(-log_odds_dead), 1.0)
        return _as_series(p, summary, "p_alive")

    def predict_purchases(self, t, summary: pd.DataFrame) -> pd.Series:
        """Expected number of purchases in the next ``t`` periods, E[Y(t) | x, t_x, T].

        FHL 2005 eq. (10). The hypergeometric factor is evaluated in the Euler-
        transformed form of Fader & Hardie's note 027 (``(1-z)^(a-1) 2F1(a+b-1-r,
        a-1; a+b+x-1; z)``), which stays finite where the textbook form overflows.
        """
        x, tx, T = self._arrays(summary)
        t = np.asarray(t, dtype=float)
        if (t < 0).any():
            raise ValueError("t (the horizon in periods) must be >= 0.")
        r, alpha, a, b = self.params_.to_numpy()
        x, T, t = np.broadcast_arrays(x, T, t)
        # given alive, p ~ Beta(a, b + x) (BG/NBD) or Beta(a, b + x + 1) (MBG/NBD): the
        # MBG/NBD forecast (Batislam et al. 2007 eq. 6) is the BG/NBD one with b -> b + 1
        bk = b + self._shift
        if a > 1 and a + bk > _CONCENTRATED_BETA:
            # a, b near the "same dropout probability for all" limit (see fit): the
            # hypergeometric form under/overflows there, the integral over p does not
            num = _expected_if_alive_by_quadrature(t, x, T, r, alpha, a, bk)
        else:
            z = t / (alpha + T + t)
            with np.errstate(over="ignore", invalid="ignore"):
                hyp = (1 - z) ** (a - 1) * special.hyp2f1(a + bk - 1 - r, a - 1, a + bk + x - 1, z)
                num = (a + bk + x - 1) / (a - 1) * (1 - hyp)
            bad = ~np.isfinite(num)
            if bad.any() and a > 1:
                num = num.copy()
                num[bad] = _expected_if_alive_by_quadrature(t[bad], x[bad], T[bad], r, alpha, a, bk)
        p_al = self.p_alive(summary).to_numpy()
        return _as_series(num * p_al, summary, "expected_purchases")

    def expected_purchases_new(self, t) -> np.ndarray:
        """E[X(t)] for a customer just acquired (FHL 2005 eq. 9): the population curve."""
        self._check_fitted()
        t = np.asarray(t, dtype=float)
        r, alpha, a, b = self.params_.to_numpy()
        z = t / (alpha + t)
        hyp = special.hyp2f1(r, b, a + b - 1, z)
        return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp)

    def prob_no_purchase(self, t, summary: pd.DataFrame) -> pd.Series:
        """P(no purchase in the next ``t`` periods | history) — a churn score.

        Dead customers never buy; an alive one's rate given the history is
        Gamma(r + x, alpha + T), so P(0 purchases | alive) = ((alpha+T)/(alpha+T+t))^(r+x).
        """
        x, tx, T = self._arrays(summary)
        r, alpha, a, b = self.params_.to_numpy()
        pa = self.p_alive(summary).to_numpy()
        stay = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + np.asarray(t, float))))
        return _as_series(1 - pa + pa * stay, summary, "p_no_purchase")

    def probability_of_purchases(self, t, x, summary: pd.DataFrame | None = None):
        """P(X(t) = x): the chance of exactly ``x`` repeat purchases in ``t`` periods.

        Without ``summary``: for a customer just acquired (FHL 2005 eq. 8; Batislam et
        al. 2007 for MBG/NBD); ``t`` and ``x`` broadcast, an array comes back. With a
        ``summary``: P(Y(t) = x | frequency, recency, T) in the next ``t`` periods for
        each customer (one ``t``, one ``x``): dead customers buy nothing, an alive one
        restarts the story with lambda ~ Gamma(r + x, alpha + T) and p ~ Beta(a, b + x)
        (``b + x + 1`` for MBG/NBD). ``x = 0`` gives :meth:`prob_no_purchase`.
        """
        self._check_fitted()
        r, alpha, a, b = self.params_.to_numpy()
        k = self._shift

        def posterior(y, t_):
            xh, _, T = self._arrays(summary)
            return _bg_pmf(y, t_, r + xh, alpha + T, a, b + xh + k, 0)

        return _pmf_table(lambda y, t_: _bg_pmf(y, t_, r, alpha, a, b, k), t, x, summary,
                          self.p_alive, posterior)

    def clv(self, summary: pd.DataFrame, spend, horizon: float, discount_rate: float,
            step: float = 1.0) -> pd.Series:
        """Discounted expected value of each customer's purchases over ``horizon``.

        See :func:`clv`; ``spend`` is a fitted :class:`GammaGammaModel` or the expected
        spend per purchase of each customer.
        """
        return clv(self, spend, summary, horizon=horizon, discount_rate=discount_rate, step=step)

    def sample(self, n_customers: int, T, seed=None) -> pd.DataFrame:
        """Simulate a summary table from the fitted model (see :func:`sample_bgnbd`)."""
        self._check_fitted()
        return sample_bgnbd(n_customers, T, *self.params_.to_numpy(), seed=seed,
                            modified=bool(self._shift))


class ModifiedBetaGeoModel(BetaGeoModel):
    """MBG/NBD model (Batislam, Denizel & Filiztekin 2007, IJRM 24(3)).

    BG/NBD lets a customer drop out only right after a *repeat* purchase, so a customer
    who never came back is alive for sure (P(alive) = 1 at x = 0), which flatters
    one-time buyers. MBG/NBD adds a dropout chance p right after the first purchase
    too: alive after x repeat purchases with probability (1 - p)^(x + 1). Everything
    else is BG/NBD's: Poisson purchasing with lambda ~ Gamma(r, alpha), p ~ Beta(a, b).

    Same interface, likelihood code, analytic gradient and Hessian, trust-region
    Newton fit and limit handling as :class:`BetaGeoModel` (its formulas with ``x + 1``
    in the dropout part; ``_shift = 1``). Published MLEs on the CDNOW sample (weeks):
    r=0.525, alpha=6.183, a=0.891, b=1.614 (Platzer's R package BTYDplus, the values
    lifetimes tests its ModifiedBetaGeoFitter against).
    """

    _shift = 1
    _name = "ModifiedBetaGeoModel"

    def expected_purchases_new(self, t) -> np.ndarray:
        """E[X(t)] for a customer just acquired (Batislam et al. 2007):
        ``b/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b+1; a+b; t/(alpha+t))]``."""
        self._check_fitted()
        t = np.asarray(t, dtype=float)
        r, alpha, a, b = self.params_.to_numpy()
        z = t / (alpha + t)
        return b / (a - 1) * (1 - (alpha / (alpha + t)) ** r * special.hyp2f1(r, b + 1, a + b, z))


# --------------------------------------------------------------------------------------
# Pareto/NBD
# --------------------------------------------------------------------------------------


class ParetoNBDModel(_BTYDBase):
    """Pareto/NBD model (Schmittlein, Morrison & Colombo 1987).

    Poisson purchasing with rate lambda ~ Gamma(r, alpha) while alive; exponential
    lifetime with rate mu ~ Gamma(s, beta). The likelihood (Fader & Hardie 2005 note,
    eq. 22) needs the Gauss hypergeometric function; it is evaluated in log space and
    maximized with Nelder-Mead then BFGS on numeric gradients, so it is slower than
    BG/NBD — fine for tens of thousands of distinct triples.

    Fitted attributes: ``params_`` (r, alpha, s, beta), ``standard_errors_``,
    ``log_likelihood_``, ``n_customers_``, ``n_distinct_``.
    """

    param_names = ("r", "alpha", "s", "beta")
    _name = "ParetoNBDModel"

    def __init__(self, tol: float = 1e-8, max_iter: int = 2000):
        self.tol = tol
        self.max_iter = max_iter

    @staticmethod
    def _log_A0_terms(params, x, tx, T):
        """log of the two likelihood parts: alive at T, and died in (t_x, T]."""
        r, alpha, s, beta = params
        rsx = r + s + x
        if alpha >= beta:
            big, b2 = alpha, s + 1
            z1 = (alpha - beta) / (alpha + tx)
            z2 = (alpha - beta) / (alpha + T)
        else:
            big, b2 = beta, r + x
            z1 = (beta - alpha) / (beta + tx)
            z2 = (beta - alpha) / (beta + T)
        # A0 = F(z1)/(big+tx)^rsx - F(z2)/(big+T)^rsx  (>= 0)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            l1 = np.log(special.hyp2f1(rsx, b2, rsx + 1, z1)) - rsx * np.log(big + tx)
            l2 = np.log(special.hyp2f1(rsx, b2, rsx + 1, z2)) - rsx * np.log(big + T)
            log_A0 = l1 + np.log1p(-np.exp(np.minimum(l2 - l1, 0.0)))
        # tx == T gives A0 = 0 exactly
        log_A0 = np.where(tx >= T, -np.inf, log_A0)
        log_alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        log_dead = np.log(s) - np.log(rsx) + log_A0
        return log_alive, log_dead

    @classmethod
    def _loglik_terms(cls, params, x, tx, T):
        r, alpha, s, beta = params
        log_alive, log_dead = cls._log_A0_terms(params, x, tx, T)
        head = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        return head + np.logaddexp(log_alive, log_dead)

    def fit(self, summary: pd.DataFrame, weights=None) -> ParetoNBDModel:
        """Maximum-likelihood fit on a ``summarize()`` table (see BetaGeoModel.fit)."""
        x, tx, T, w, scale = self._prepare(summary, weights)
        wsum = w.sum()

        def f(logp):
            val = -(w @ self._loglik_terms(np.exp(logp), x, tx, T)) / wsum
            return val if np.isfinite(val) else 1e10

        def fg(logp, h=1e-6):
            f0 = f(logp)
            g = np.empty(4)
            for i in range(4):
                e = np.zeros(4)
                e[i] = h
                g[i] = (f(logp + e) - f(logp - e)) / (2 * h)
            return f0, g

        rate = max(float((w * x).sum() / (w * T).sum()), 1e-3)
        x0 = np.log([1.0, 1.0 / rate, 1.0, 10.0])
        res0 = optimize.minimize(f, x0, method="Nelder-Mead",
                                 options={"xatol": 1e-2, "fatol": 1e-6, "maxiter": self.max_iter})
        res = _minimize(fg, res0.x, jac=True, tol=1e-7, max_iter=self.max_iter, what=self._name)
        params = np.exp(res.x)
        H = _hessian_from_grad(lambda z: fg(z)[1], res.x, h=1e-4) * wsum
        se = _standard_errors(H, params)
        params[1] /= scale
        params[3] /= scale
        se[1] /= scale
        se[3] /= scale
        self.params_ = pd.Series(params, index=list(self.param_names), name="estimate")
        self.standard_errors_ = pd.Series(se, index=list(self.param_names), name="se")
        self.log_likelihood_ = float((w * self._loglik_terms(params, x, tx / scale, T / scale)).sum())
        self.n_iter_ = res.n_iter
        return self

    def p_alive(self, summary: pd.DataFrame) -> pd.Series:
        """P(alive at T | x, t_x, T) = alive part / (alive part + died part)."""
        x, tx, T = self._arrays(summary)
        log_alive, log_dead = self._log_A0_terms(self.params_.to_numpy(), x, tx, T)
        return _as_series(special.expit(log_alive - log_dead), summary, "p_alive")

    def predict_purchases(self, t, summary: pd.DataFrame) -> pd.Series:
        """E[Y(t) | x, t_x, T] (Fader & Hardie 2005 note, eq. 23)."""
        x, tx, T = self._arrays(summary)
        r, alpha, s, beta = self.params_.to_numpy()
        t = np.asarray(t, dtype=float)
        pa = self.p_alive(summary).to_numpy()
        if abs(s - 1) < 1e-9:
            tail = np.log((beta + T + t) / (beta + T))
        else:
            tail = (beta + T) / (s - 1) * (1 - ((beta + T) / (beta + T + t)) ** (s - 1))
        out = pa * (r + x) / (alpha + T) * tail
        return _as_series(out, summary, "expected_purchases")

    def expected_purchases_new(self, t) -> np.ndarray:
        """E[X(t)] for a customer just acquired (Fader & Hardie 2005 note, eq. 17):
        ``r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)]``."""
        self._check_fitted()
        t = np.asarray(t, dtype=float)
        r, alpha, s, beta = self.params_.to_numpy()
        if abs(s - 1) < 1e-9:
            return r * beta / alpha * np.log1p(t / beta)
        return r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + t)) ** (s - 1))

    def probability_of_purchases(self, t, x, summary: pd.DataFrame | None = None):
        """P(X(t) = x) for a new customer, or P(Y(t) = x | history) with a ``summary``.

        See :func:`_pnbd_pmf` for the new customer. Given the history the customer is
        dead, or alive with lambda ~ Gamma(r + x, alpha + T) and mu ~ Gamma(s, beta + T)
        (independent), and then the story starts afresh (the same result as Fader &
        Hardie's note 028, eq. 16, which lifetimes implements; the tests compare).
        """
        self._check_fitted()
        r, alpha, s, beta = self.params_.to_numpy()

        def posterior(y, t_):
            xh, _, T = self._arrays(summary)
            return _pnbd_pmf(y, t_, r + xh, alpha + T, s, beta + T)

        return _pmf_table(lambda y, t_: _pnbd_pmf(y, t_, r, alpha, s, beta), t, x, summary,
                          self.p_alive, posterior)

    def clv(self, summary: pd.DataFrame, spend, horizon: float, discount_rate: float,
            step: float = 1.0) -> pd.Series:
        """Discounted expected value over ``horizon`` (see :func:`clv`)."""
        return clv(self, spend, summary, horizon=horizon, discount_rate=discount_rate, step=step)


# --------------------------------------------------------------------------------------
# NBD (no dropout): the benchmark the dropout models have to beat
# --------------------------------------------------------------------------------------


class NBDModel(_BTYDBase):
    """NBD model of repeat purchasing without dropout (Ehrenberg 1959; Morrison &
    Schmittlein 1988): Poisson purchasing with rate lambda ~ Gamma(r, alpha), forever.

    It is the limit of BG/NBD and MBG/NBD as a -> 0 and of Pareto/NBD as s -> 0, so it
    is the benchmark that tells whether modelling dropout is worth it on a data set: its
    likelihood is that of the same data (the purchase times through (x, t_x, T), whose
    density is ``lambda^x exp(-lambda T)``, recency dropping out), so log-likelihoods
    compare with the dropout models' (two parameters fewer). Closed forms throughout:
    ``E[Y(t) | x, T] = (r + x) t / (alpha + T)``, P(alive) = 1.

    Fitted attributes: ``params_`` (r, alpha), ``standard_errors_``, ``log_likelihood_``,
    ``n_customers_``, ``n_distinct_``.
    """

    param_names = ("r", "alpha")
    _name = "NBDModel"

    def __init__(self, tol: float = 1e-9, max_iter: int = 500):
        self.tol = tol
        self.max_iter = max_iter

    @staticmethod
    def _loglik_terms(params, x, tx, T):
        r, alpha = params
        return (special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
                - (r + x) * np.log(alpha + T))

    def fit(self, summary: pd.DataFrame, weights=None) -> NBDModel:
        """Maximum-likelihood fit on a ``summarize()`` table (analytic gradient)."""
        x, tx, T, w, scale = self._prepare(summary, weights)
        wsum = w.sum()

        def fg(logp):
            r, alpha = np.exp(logp)
            ll = w @ self._loglik_terms((r, alpha), x, tx, T)
            g_r = w @ (special.digamma(r + x) - special.digamma(r) + np.log(alpha) - np.log(alpha + T))
            g_a = w @ (r / alpha - (r + x) / (alpha + T))
            return -ll / wsum, -np.array([g_r * r, g_a * alpha]) / wsum

        rate = max(float((w * x).sum() / (w * T).sum()), 1e-3)
        res = _minimize(fg, np.log([1.0, 1.0 / rate]), jac=True, tol=self.tol,
                        max_iter=self.max_iter, what=self._name)
        params = np.exp(res.x)
        H = _hessian_from_grad(lambda z: fg(z)[1], res.x) * wsum
        se = _standard_errors(H, params)
        params[1] /= scale
        se[1] /= scale
        self.params_ = pd.Series(params, index=list(self.param_names), name="estimate")
        self.standard_errors_ = pd.Series(se, index=list(self.param_names), name="se")
        self.log_likelihood_ = float(w @ self._loglik_terms(params, x, tx / scale, T / scale))
        self.n_iter_ = res.n_iter
        return self

    def p_alive(self, summary: pd.DataFrame) -> pd.Series:
        """Always 1: in the NBD story nobody leaves."""
        self._arrays(summary)
        return _as_series(np.ones(len(summary)), summary, "p_alive")

    def predict_purchases(self, t, summary: pd.DataFrame) -> pd.Series:
        """E[Y(t) | x, T] = (r + x) t / (alpha + T): the posterior mean rate times t."""
        x, _, T = self._arrays(summary)
        r, alpha = self.params_.to_numpy()
        t = np.asarray(t, dtype=float)
        if (t < 0).any():
            raise ValueError("t (the horizon in periods) must be >= 0.")
        return _as_series((r + x) / (alpha + T) * t, summary, "expected_purchases")

    def expected_purchases_new(self, t) -> np.ndarray:
        """E[X(t)] = r t / alpha for a customer just acquired."""
        self._check_fitted()
        r, alpha = self.params_.to_numpy()
        return r / alpha * np.asarray(t, dtype=float)

    def probability_of_purchases(self, t, x, summary: pd.DataFrame | None = None):
        """P(X(t) = x) (the NBD) for a new customer, or P(Y(t) = x | history), the NBD
        with the posterior Gamma(r + x, alpha + T) rate."""
        self._check_fitted()
        r, alpha = self.params_.to_numpy()

        def posterior(y, t_):
            xh, _, T = self._arrays(summary)
            return np.exp(_nbd_logpmf(y, t_, r + xh, alpha + T))

        return _pmf_table(lambda y, t_: np.exp(_nbd_logpmf(y, t_, r, alpha)), t, x, summary,
                          self.p_alive, posterior)

    def clv(self, summary: pd.DataFrame, spend, horizon: float, discount_rate: float,
            step: float = 1.0) -> pd.Series:
        """Discounted expected value over ``horizon`` (see :func:`clv`)."""
        return clv(self, spend, summary, horizon=horizon, discount_rate=discount_rate, step=step)


# --------------------------------------------------------------------------------------
# Gamma-Gamma spend model
# --------------------------------------------------------------------------------------


def _spend_columns(summary: pd.DataFrame) -> dict[str, str]:
    """``frequency`` and ``monetary_value`` (plain, else ``_cal``): all Gamma-Gamma needs
    (recency and T carry no information on spend, so they are not required)."""
    if not isinstance(summary, pd.DataFrame):
        raise ValueError(
            f"summary must be a pandas DataFrame (the output of summarize()), got "
            f"{type(summary).__name__}."
        )
    names = ("frequency", "monetary_value")
    for suffix in ("", "_cal"):
        if all(f"{n}{suffix}" in summary.columns for n in names):
            return {n: f"{n}{suffix}" for n in names}
    missing = [n for n in names if n not in summary.columns]
    raise ValueError(
        f"summary: column(s) {missing} not found (have {list(summary.columns)}); the "
        "Gamma-Gamma model needs each customer's repeat-purchase count and mean repeat "
        "spend: build the table with crmlab.clv.summarize() or rename your columns to "
        f"{list(names)}."
    )


class GammaGammaModel:
    """Gamma-Gamma model of spend per purchase (Fader & Hardie 2013 note; Colombo &
    Jiang 1999).

    Each purchase of a customer is Gamma(p, nu); nu ~ Gamma(q, gamma) across
    customers, independent of how often they buy. Fitted on the repeat buyers
    (frequency > 0) with their mean repeat spend ``monetary_value``; customers with
    frequency 0 carry no spend information and are left out of the fit (counted in
    ``n_excluded_``), they get the population mean in ``expected_spend``.

    Fitted attributes: ``params_`` (p, q, gamma), ``standard_errors_``,
    ``log_likelihood_``, ``n_customers_``, ``n_excluded_``.
    """

    param_names = ("p", "q", "gamma")

    def __init__(self, tol: float = 1e-9, max_iter: int = 500):
        self.tol = tol
        self.max_iter = max_iter

    @staticmethod
    def _arrays(summary: pd.DataFrame):
        cols = _spend_columns(summary)
        if len(summary) == 0:
            raise ValueError("summary is empty: there are no customers to fit or score.")
        x = summary[cols["frequency"]].to_numpy(dtype=float)
        m = summary[cols["monetary_value"]].to_numpy(dtype=float)
        if not (np.isfinite(x).all() and np.isfinite(m).all()):
            raise ValueError(
                f"summary: columns '{cols['frequency']}' and '{cols['monetary_value']}' must "
                "not have missing values."
            )
        if (x < 0).any():
            raise ValueError(
                f"summary: column '{cols['frequency']}' has negative values; frequency counts "
                "repeat purchases and must be >= 0."
            )
        if ((x > 0) & (m <= 0)).any():
            raise ValueError(
                f"summary: {int(((x > 0) & (m <= 0)).sum())} repeat buyers have "
                f"'{cols['monetary_value']}' <= 0; the Gamma-Gamma model needs positive spend. "
                "If their repeat purchases were free ($0.00 lines, as in CDNOW) or fully refunded, "
                f"fit the spend model without them, summary[summary['{cols['monetary_value']}'] > 0] "
                "(and say how many), or fit on gross amounts."
            )
        return x, m, cols

    @staticmethod
    def _loglik_terms(params, x, m):
        p, q, g = params
        px = p * x
        return (special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q)
                + q * np.log(g) + px * np.log(x) + (px - 1) * np.log(m)
                - (px + q) * np.log(g + x * m))

    def fit(self, summary: pd.DataFrame, weights=None) -> GammaGammaModel:
        """Maximum-likelihood fit on the repeat buyers of a ``summarize()`` table."""
        x, m, cols = self._arrays(summary)
        w = _weights_array(summary, weights)
        use = (x > 0) & (w > 0)
        self.n_excluded_ = int((~use).sum())
        if not use.any():
            raise ValueError(
                f"summary: no customer has '{cols['frequency']}' > 0, so there is no repeat "
                "spend to fit; use a longer window or a coarser freq."
            )
        (x, m), w = _compress([x[use], m[use]], w[use])
        if np.unique(m).size < 2:
            raise ValueError(
                f"summary: every repeat buyer has the same '{cols['monetary_value']}'; the "
                "spread of spend across customers cannot be estimated."
            )
        self.n_customers_ = float(w.sum())
        scale = float(np.average(m, weights=w))
        ms = m / scale
        wsum = w.sum()
        logx = np.log(x)
        logm = np.log(ms)

        def fg(logp):
            p, q, g = np.exp(logp)
            px = p * x
            gxm = g + x * ms
            lg = np.log(gxm)
            ll = w @ (special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q)
                      + q * np.log(g) + px * logx + (px - 1) * logm - (px + q) * lg)
            psi_pq = special.digamma(px + q)
            g_p = w @ (x * (psi_pq - special.digamma(px) + logx + logm - lg))
            g_q = w @ (psi_pq - special.digamma(q) + np.log(g) - lg)
            g_g = wsum * q / g - w @ ((px + q) / gxm)
            grad = np.array([g_p * p, g_q * q, g_g * g])
            return -ll / wsum, -grad / wsum

        x0 = np.log([1.0, 2.0, 1.0])
        res = _minimize(fg, x0, jac=True, tol=self.tol, max_iter=self.max_iter,
                        what="GammaGammaModel")
        params = np.exp(res.x)
        H = _hessian_from_grad(lambda z: fg(z)[1], res.x) * wsum
        se = _standard_errors(H, params)
        params[2] *= scale
        se[2] *= scale
        self.params_ = pd.Series(params, index=list(self.param_names), name="estimate")
        self.standard_errors_ = pd.Series(se, index=list(self.param_names), name="se")
        self.log_likelihood_ = float(w @ self._loglik_terms(params, x, m))
        self.n_iter_ = res.n_iter
        return self

    def _check_fitted(self):
        if not hasattr(self, "params_"):
            raise ValueError("GammaGammaModel is not fitted yet; call .fit(summary) first.")

    @property
    def mean_spend_(self) -> float:
        """Population mean spend per purchase, p * gamma / (q - 1) (inf if q <= 1)."""
        self._check_fitted()
        p, q, g = self.params_.to_numpy()
        return float(p * g / (q - 1)) if q > 1 else float("inf")

    def expected_spend(self, summary: pd.DataFrame) -> pd.Series:
        """E[spend per purchase | x, mean repeat spend m_x]: a credibility-weighted
        average of the population mean and the customer's own mean,
        ``(q-1)/(p x+q-1) * p gamma/(q-1) + p x/(p x+q-1) * m_x``.
        """
        self._check_fitted()
        x, m, _ = self._arrays(summary)
        p, q, g = self.params_.to_numpy()
        out = p * (g + x * m) / (p * x + q - 1)
        return _as_series(out, summary, "expected_spend")

    def clv(self, summary: pd.DataFrame, transaction_model, horizon: float,
            discount_rate: float, step: float = 1.0) -> pd.Series:
        """Discounted CLV using ``transaction_model`` for purchases (see :func:`clv`)."""
        return clv(transaction_model, self, summary, horizon=horizon,
                   discount_rate=discount_rate, step=step)


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

    ``spend`` is a fitted :class:`GammaGammaModel` (its ``expected_spend``) or an
    array/Series with each customer's expected spend per purchase.
    """
    if horizon <= 0 or step <= 0:
        raise ValueError("horizon and step must be > 0 (periods of the summary).")
    # A negative rate makes later money worth more than money now (CLV explodes with the
    # horizon); a rate of 100% or more per step is not a discount rate but a typo (10 for 0.10).
    check_number(discount_rate, "discount_rate", func="clv", low=0, high=1, low_open=False,
                 example="0.01 per step (about 12.7% a year on monthly steps)")
    if isinstance(spend, GammaGammaModel):
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


def sample_bgnbd(n_customers: int, T, r: float, alpha: float, a: float, b: float,
                 seed=None, *, modified: bool = False) -> pd.DataFrame:
    """Simulate a (frequency, recency, T) table from the BG/NBD story.

    Each customer draws lambda ~ Gamma(r, rate alpha) and p ~ Beta(a, b); repeat
    purchases arrive as a Poisson process on (0, T] and after each one the customer
    leaves with probability p (``modified=True``: the MBG/NBD story, where the customer
    may also leave right after the first purchase, at time 0). ``T`` is a number or one value per customer. Given
    N(T) = n arrivals, the time of the x-th is T times the x-th of n sorted uniforms,
    i.e. T * Beta(x, n - x + 1), so no per-customer loop is needed. Returns a table
    with ``customer_id`` plus the true ``lam``, ``p`` and ``alive`` for checks.
    """
    rng = np.random.default_rng(seed)
    T = np.broadcast_to(np.asarray(T, dtype=float), (n_customers,)).copy()
    lam = rng.gamma(r, 1.0 / alpha, n_customers)
    p = rng.beta(a, b, n_customers)
    n_arrivals = rng.poisson(lam * T)
    k_drop = rng.geometric(p)  # repeat purchase after which the customer leaves
    if modified:
        k_drop = k_drop - 1  # 0: left right after the first purchase
    x = np.minimum(n_arrivals, k_drop)
    tx = np.zeros(n_customers)
    pos = x > 0
    tx[pos] = T[pos] * rng.beta(x[pos], n_arrivals[pos] - x[pos] + 1)
    return pd.DataFrame({
        "customer_id": np.arange(1, n_customers + 1),
        "frequency": x.astype(np.int64),
        "recency": tx,
        "T": T,
        "lam": lam,
        "p": p,
        "alive": k_drop > n_arrivals,
    })


# --------------------------------------------------------------------------------------
# model checks: the three charts of the BTYD literature (FHL 2005 Figs. 2-4)
# --------------------------------------------------------------------------------------


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

    Returns ``t`` (model time units since the first period), ``date`` (start of the
    next step), ``actual``, ``expected`` (cumulative), their increments
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
    periods = _period_ordinals(dates, freq)
    end_period = int(_period_ordinals(pd.Series([end]), freq)[0])
    codes, _ = pd.factorize(cust, sort=True)
    keep = periods <= end_period
    codes, periods = codes[keep], periods[keep]
    uniq = np.unique(codes.astype(np.int64) * (periods.max() - periods.min() + 1)
                     + (periods - periods.min()))
    span = periods.max() - periods.min() + 1
    u_cust, u_per = uniq // span, uniq % span + periods.min()
    first = pd.Series(u_per).groupby(u_cust).transform("min").to_numpy()
    cohort_first = pd.Series(u_per).groupby(u_cust).min()
    if cal is not None:
        cal_period = int(_period_ordinals(pd.Series([cal]), freq)[0])
        in_cohort = first <= cal_period
        u_per, first = u_per[in_cohort], first[in_cohort]
        cohort_first = cohort_first.loc[cohort_first <= cal_period]
    if cohort_first.empty:
        raise ValueError("transactions: no customer made a first purchase by calibration_end.")
    repeat = u_per[u_per > first]
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
    t = np.arange(1, n_steps + 1) * float(step)
    nxt = np.floor(last + 1).astype(np.int64)  # first period of the next step
    if freq in _FAST_FREQS:
        unit, size_, shift = _FAST_FREQS[freq]
        date = pd.to_datetime((nxt * size_ - shift).astype(f"datetime64[{unit}]")).as_unit("ns")
    else:
        date = pd.PeriodIndex.from_ordinals(nxt, freq=freq).to_timestamp().as_unit("ns")
    out = pd.DataFrame({
        "t": t, "date": date,
        "actual": actual, "expected": expected,
        "actual_step": np.diff(np.r_[0.0, actual]), "expected_step": np.diff(np.r_[0.0, expected]),
    })
    out["holdout"] = (last > cal_period) if cal is not None else False
    return out


# --------------------------------------------------------------------------------------
# churn early warning
# --------------------------------------------------------------------------------------


def auc(y_true, score) -> float:
    """Area under the ROC curve: the chance a random churner scores above a random
    stayer (ties count half) — the Mann-Whitney U statistic scaled to [0, 1]."""
    from scipy.stats import rankdata

    y = np.asarray(y_true).astype(bool)
    s = np.asarray(score, dtype=float)
    if y.shape != s.shape or y.size == 0:
        raise ValueError("y_true and score must be non-empty and of the same length.")
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("y_true needs both classes (churners and stayers) for an AUC.")
    ranks = rankdata(s)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def top_decile_lift(y_true, score, frac: float = 0.1) -> float:
    """Churn rate among the ``frac`` highest scores divided by the overall churn rate.

    Ties at the cut are broken by order of appearance after a stable sort, so the
    top group always has exactly ``ceil(frac * n)`` members.
    """
    y = np.asarray(y_true, dtype=float)
    s = np.asarray(score, dtype=float)
    if y.size == 0 or y.shape != s.shape:
        raise ValueError("y_true and score must be non-empty and of the same length.")
    if not np.isin(y, [0, 1]).all():
        raise ValueError("y_true must be 0/1 labels.")
    if not 0 < frac <= 1:
        raise ValueError("frac must be in (0, 1], e.g. 0.1 for the top decile.")
    base = y.mean()
    if base == 0:
        raise ValueError("y_true has no positives; lift is undefined.")
    k = int(np.ceil(frac * y.size))
    top = np.argsort(-s, kind="stable")[:k]
    return float(y[top].mean() / base)


def _horizon_days(horizon) -> float:
    if isinstance(horizon, pd.Timedelta | np.timedelta64):
        days = pd.Timedelta(horizon) / pd.Timedelta(days=1)
    else:
        try:
            days = float(horizon)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"horizon={horizon!r} must be a number of days or a pd.Timedelta.") from exc
    if not np.isfinite(days) or days <= 0:
        raise ValueError(f"horizon={horizon!r} must be a positive number of days.")
    return float(days)


def _order_log(orders: pd.DataFrame, customer_col: str, date_col: str, amount_col: str | None):
    cust, dates, amount = _log_columns(orders, customer_col, date_col, amount_col)
    out = pd.DataFrame({"customer": cust.to_numpy(), "ts": dates.to_numpy()})
    if amount is not None:
        out["amount"] = amount.to_numpy(dtype=float)
    return out


@reads(orders=_log_reads(amount=False))
def time_to_next_purchase(
    orders: pd.DataFrame,
    observation_end=None,
    *,
    customer_col: str = "customer_id",
    date_col: str = "order_ts",
) -> pd.DataFrame:
    """Days from each order to the same customer's next order, for survival curves.

    One row per order up to ``observation_end`` (default: the last order). When the
    customer orders again, ``duration_days`` is the gap and ``event`` is True; for
    each customer's last order the next purchase has not been seen yet, so the row
    is censored: ``duration_days`` runs to ``observation_end`` and ``event`` is False.
    Feeding these to :func:`crmlab.survival.kaplan_meier` gives the probability that
    a customer has *not* bought again t days after a purchase — the honest way to
    pick a "lapsed after N days" rule, because simply averaging observed gaps ignores
    the customers who have not come back yet. Orders at the same timestamp count once.
    """
    log = _order_log(orders, customer_col, date_col, None)
    end = log["ts"].max() if observation_end is None else _to_timestamp(observation_end, "observation_end")
    n_after = int((log["ts"] > end).sum())
    log = log.loc[log["ts"] <= end].drop_duplicates(["customer", "ts"])
    log = log.sort_values(["customer", "ts"], kind="stable").reset_index(drop=True)
    nxt = log.groupby("customer", sort=False)["ts"].shift(-1)
    event = nxt.notna().to_numpy()
    stop = nxt.fillna(end)
    out = pd.DataFrame({
        customer_col: log["customer"].to_numpy(),
        date_col: log["ts"].to_numpy(),
        "duration_days": (stop - log["ts"]).dt.total_seconds().to_numpy() / 86400.0,
        "event": event,
    })
    out.attrs["n_orders_after_end"] = n_after
    return out


@reads(orders=_log_reads(amount=False))
def churn_labels(
    orders: pd.DataFrame,
    cutoff,
    horizon=90,
    *,
    customer_col: str = "customer_id",
    date_col: str = "order_ts",
) -> pd.DataFrame:
    """Who churned after ``cutoff``: no order in (cutoff, cutoff + horizon days].

    Only customers with at least one order up to ``cutoff`` are labelled (you cannot
    lose someone who never bought). Returns ``customer_col`` and ``churned`` (bool).
    Raises if the data end before ``cutoff + horizon`` (the labels would be wrong).
    """
    log = _order_log(orders, customer_col, date_col, None)
    cut = _to_timestamp(cutoff, "cutoff")
    stop = cut + pd.Timedelta(days=_horizon_days(horizon))
    if log["ts"].max() < stop - pd.Timedelta(days=1):
        raise ValueError(
            f"orders: the last order in '{date_col}' is {log['ts'].max()}, before "
            f"cutoff + horizon ({stop}); the churn labels need the whole horizon — "
            "choose an earlier cutoff or a shorter horizon."
        )
    before = log.loc[log["ts"] <= cut, "customer"].unique()
    if before.size == 0:
        raise ValueError(f"orders: no order on or before cutoff {cut}; choose a later cutoff.")
    bought = log.loc[(log["ts"] > cut) & (log["ts"] <= stop), "customer"].unique()
    before = np.sort(before)
    return pd.DataFrame({customer_col: before, "churned": ~np.isin(before, bought)})


@reads(orders=_log_reads(),
       sessions=Reads("sessions", ("customer_id", "start_ts"), rename={"start_ts": "session_date_col"},
                      optional=True))
def churn_features(
    orders: pd.DataFrame,
    cutoff,
    *,
    sessions: pd.DataFrame | None = None,
    customer_col: str = "customer_id",
    date_col: str = "order_ts",
    amount_col: str = "amount",
    session_date_col: str = "start_ts",
) -> pd.DataFrame:
    """RFM and engagement features of every customer who bought by ``cutoff``.

    Uses only data up to ``cutoff`` (no peeking): ``recency_days`` since the last
    order, ``frequency`` (orders), ``monetary`` (total spend), ``tenure_days`` since
    the first order, ``orders_90d`` and ``spend_90d`` (last 90 days), ``mean_gap_days``
    ((last - first order) / (orders - 1); NaN for one-time buyers and for customers
    whose orders all share one timestamp, who show no gap) and ``overdue`` (recency /
    mean gap: > 1 means later than usual; NaN where the gap is). Every value is finite
    or NaN, never infinite. With ``sessions`` it adds
    ``sessions_30d``, ``sessions_90d`` and ``days_since_session`` (NaN if never).
    """
    log = _order_log(orders, customer_col, date_col, amount_col)
    cut = _to_timestamp(cutoff, "cutoff")
    log = log.loc[log["ts"] <= cut]
    if log.empty:
        raise ValueError(f"orders: no order on or before cutoff {cut}; choose a later cutoff.")
    recent = log["ts"] > cut - pd.Timedelta(days=90)
    g = log.assign(
        recent_order=recent.astype(np.int64), recent_spend=log["amount"].where(recent, 0.0)
    ).groupby("customer", sort=True)
    feats = g.agg(
        first=("ts", "min"), last=("ts", "max"), frequency=("ts", "size"),
        monetary=("amount", "sum"), orders_90d=("recent_order", "sum"),
        spend_90d=("recent_spend", "sum"),
    )
    out = pd.DataFrame({customer_col: feats.index.to_numpy()})
    day = pd.Timedelta(days=1)
    out["recency_days"] = ((cut - feats["last"]) / day).to_numpy()
    out["frequency"] = feats["frequency"].to_numpy(dtype=np.int64)
    out["monetary"] = feats["monetary"].to_numpy()
    out["tenure_days"] = ((cut - feats["first"]) / day).to_numpy()
    out["orders_90d"] = feats["orders_90d"].to_numpy(dtype=np.int64)
    out["spend_90d"] = feats["spend_90d"].to_numpy()
    span = ((feats["last"] - feats["first"]) / day).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        # a zero span (several orders at one timestamp) shows no gap: NaN, not 0, so that
        # overdue = recency / gap is never infinite
        gap = np.where((out["frequency"] > 1) & (span > 0), span / (out["frequency"] - 1), np.nan)
    out["mean_gap_days"] = gap
    out["overdue"] = out["recency_days"] / gap
    if sessions is not None:
        if session_date_col not in sessions.columns or customer_col not in sessions.columns:
            raise ValueError(
                f"sessions: columns '{customer_col}' and '{session_date_col}' are needed; pass "
                "session_date_col= naming the visit time."
            )
        st = pd.to_datetime(sessions[session_date_col])
        ses = pd.DataFrame({"customer": sessions[customer_col].to_numpy(), "ts": st.to_numpy()})
        ses = ses.loc[ses["ts"] <= cut]
        age = (cut - ses["ts"]) / day
        sg = ses.assign(s30=(age <= 30).astype(np.int64), s90=(age <= 90).astype(np.int64),
                        age=age).groupby("customer")
        sf = sg.agg(sessions_30d=("s30", "sum"), sessions_90d=("s90", "sum"),
                    days_since_session=("age", "min"))
        sf = sf.reindex(out[customer_col].to_numpy())
        out["sessions_30d"] = sf["sessions_30d"].fillna(0).to_numpy(dtype=np.int64)
        out["sessions_90d"] = sf["sessions_90d"].fillna(0).to_numpy(dtype=np.int64)
        out["days_since_session"] = sf["days_since_session"].to_numpy(dtype=float)
    return out


@dataclass
class ChurnWarning:
    """Result of :func:`churn_early_warning`.

    ``metrics``: one row per method with ``auc`` and ``top_decile_lift`` on the test
    cut-off. ``scores``: per test customer the label and every method's churn score.
    ``thresholds``: the P(alive) rule "flag when P(alive) < threshold" — share of
    customers flagged, precision (churn rate among flagged) and recall.
    ``feature_importance``: permutation importance of the classifier's features (AUC
    drop on the test cut-off).
    """

    metrics: pd.DataFrame
    scores: pd.DataFrame
    thresholds: pd.DataFrame
    feature_importance: pd.DataFrame


@reads(orders=_log_reads(), sessions=Reads("sessions", ("customer_id", "start_ts"), optional=True))
def churn_early_warning(
    orders: pd.DataFrame,
    train_cutoff,
    test_cutoff,
    horizon=90,
    *,
    sessions: pd.DataFrame | None = None,
    customer_col: str = "customer_id",
    date_col: str = "order_ts",
    amount_col: str = "amount",
    thresholds=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7),
    seed: int = 0,
) -> ChurnWarning:
    """Compare churn early-warning scores out of time (流失預警).

    * **BG/NBD**: fitted on the orders up to ``test_cutoff`` (it needs no labels);
      scores ``1 - P(alive)`` and ``P(no purchase in the horizon)``.
    * **classifier**: gradient boosting (scikit-learn's GradientBoostingClassifier) on
      :func:`churn_features` at ``train_cutoff`` with labels from the following
      ``horizon`` days, then applied to the features at ``test_cutoff``.
    * **recency rule**: days since the last order, the baseline every shop has.

    Everything is judged on the customers who had bought by ``test_cutoff`` against
    whether they ordered in (test_cutoff, test_cutoff + horizon]. ``train_cutoff +
    horizon`` must not be after ``test_cutoff`` so no test-period order leaks into
    training.
    """
    from sklearn.ensemble import GradientBoostingClassifier

    days = _horizon_days(horizon)
    tr, te = _to_timestamp(train_cutoff, "train_cutoff"), _to_timestamp(test_cutoff, "test_cutoff")
    if tr + pd.Timedelta(days=days) > te:
        raise ValueError(
            f"train_cutoff + horizon ({tr + pd.Timedelta(days=days)}) is after test_cutoff ({te}); "
            "the training labels would overlap the test period — move train_cutoff earlier."
        )
    kw = {"customer_col": customer_col, "date_col": date_col}
    y_tr = churn_labels(orders, tr, days, **kw)
    y_te = churn_labels(orders, te, days, **kw)
    for name, y in (("train", y_tr), ("test", y_te)):
        if y["churned"].nunique() < 2:
            raise ValueError(
                f"orders: at the {name} cut-off every customer has the same churn label; "
                "use more data or another horizon."
            )
    fkw = {**kw, "amount_col": amount_col, "sessions": sessions}
    X_tr = churn_features(orders, tr, **fkw).merge(y_tr, on=customer_col, validate="1:1")
    X_te = churn_features(orders, te, **fkw).merge(y_te, on=customer_col, validate="1:1")
    feat_cols = [c for c in X_tr.columns if c not in (customer_col, "churned")]
    # trees need numbers: "never" (one-time buyer's gap, no visit yet) becomes -1
    M_tr = X_tr[feat_cols].fillna(-1.0)
    M_te = X_te[feat_cols].fillna(-1.0)
    clf = GradientBoostingClassifier(n_estimators=150, max_depth=3, learning_rate=0.05,
                                     subsample=0.8, random_state=seed)
    clf.fit(M_tr, X_tr["churned"])
    gbm = clf.predict_proba(M_te)[:, 1]

    summ = summarize(orders, customer_col, date_col, None, freq="D", observation_end=te)
    bg = BetaGeoModel().fit(summ)
    summ = summ.set_index(customer_col).loc[X_te[customer_col].to_numpy()]
    p_alive = bg.p_alive(summ).to_numpy()
    p_none = bg.prob_no_purchase(days, summ).to_numpy()

    y = X_te["churned"].to_numpy().astype(int)
    scores = pd.DataFrame({
        customer_col: X_te[customer_col].to_numpy(),
        "churned": X_te["churned"].to_numpy(),
        "p_alive": p_alive,
        "bgnbd_no_purchase": p_none,
        "gradient_boosting": gbm,
        "recency_days": X_te["recency_days"].to_numpy(),
    })
    methods = {
        "BG/NBD 1 - P(alive)": 1 - p_alive,
        "BG/NBD P(no purchase in horizon)": p_none,
        "gradient boosting (RFM + engagement)": gbm,
        "recency rule (days since last order)": X_te["recency_days"].to_numpy(),
    }
    metrics = pd.DataFrame({
        "method": list(methods),
        "auc": [auc(y, s) for s in methods.values()],
        "top_decile_lift": [top_decile_lift(y, s) for s in methods.values()],
    })
    rows = []
    for thr in thresholds:
        flag = p_alive < thr
        n_flag = int(flag.sum())
        rows.append({
            "threshold": float(thr),
            "flagged_share": n_flag / y.size,
            "precision": float(y[flag].mean()) if n_flag else np.nan,
            "recall": float(y[flag].sum() / y.sum()),
        })
    # permutation importance: AUC lost when one feature is shuffled (3 shuffles each)
    rng = np.random.default_rng(seed)
    base_auc = auc(y, gbm)
    M = M_te.to_numpy(dtype=float)
    drops = []
    for j in range(M.shape[1]):
        lost = []
        for _ in range(3):
            Mp = M.copy()
            Mp[:, j] = rng.permutation(Mp[:, j])
            lost.append(base_auc - auc(y, clf.predict_proba(pd.DataFrame(Mp, columns=feat_cols))[:, 1]))
        drops.append(float(np.mean(lost)))
    importance = pd.DataFrame({"feature": feat_cols, "auc_drop": drops}) \
        .sort_values("auc_drop", ascending=False, ignore_index=True)
    return ChurnWarning(metrics=metrics, scores=scores, thresholds=pd.DataFrame(rows),
                        feature_importance=importance)


# --------------------------------------------------------------------------------------
# live what-if demo: BG/NBD parameters -> P(alive), expected purchases (crmlab.demos.clv_demo)
# --------------------------------------------------------------------------------------


def bgnbd_model(r: float, alpha: float, a: float, b: float) -> BetaGeoModel:
    """A :class:`BetaGeoModel` with the given parameters instead of fitted ones.

    For what-if questions and published parameters (e.g. FHL 2005's CDNOW r = 0.243,
    alpha = 4.414, a = 0.793, b = 2.426, in weeks): every prediction method works as after
    ``fit``; ``standard_errors_`` and the log-likelihood of a fit are absent.
    """
    values = {"r": r, "alpha": alpha, "a": a, "b": b}
    for name, value in values.items():
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"bgnbd_model: {name}={value!r} must be a number > 0.") from None
        if not np.isfinite(v) or v <= 0:
            raise ValueError(f"bgnbd_model: {name}={value!r} must be a finite number > 0 "
                             "(all four BG/NBD parameters are positive).")
    model = BetaGeoModel()
    model.params_ = pd.Series([float(v) for v in values.values()],
                              index=list(BetaGeoModel.param_names), name="given")
    model.boundary_ = ()
    model.boundary_note_ = ""
    return model


def bgnbd_what_if(r: float, alpha: float, a: float, b: float, *, T: float, horizon: float,
                  frequencies: tuple[int, ...] = (1, 2, 4, 8), n_recency: int = 40,
                  summary: pd.DataFrame | None = None) -> dict[str, object]:
    """P(alive) and expected purchases of customers seen for ``T`` periods, by history.

    ``grid``: for each repeat-purchase count in ``frequencies`` and ``n_recency`` recencies
    from ``T / n_recency`` to ``T`` (the last repeat purchase), :meth:`BetaGeoModel.p_alive`
    and :meth:`BetaGeoModel.predict_purchases` over the next ``horizon`` periods, for the
    model :func:`bgnbd_model` (r, alpha, a, b). With a ``summary`` (one row per customer,
    :func:`summarize`) also ``customers``, ``mean_p_alive`` and ``expected_purchases``
    (their total over the horizon). Time is in the unit of ``alpha``, ``T`` and ``horizon``.
    """
    model = bgnbd_model(r, alpha, a, b)
    T_, h = float(T), float(horizon)
    if not (np.isfinite(T_) and T_ > 0 and np.isfinite(h) and h > 0):
        raise ValueError(f"bgnbd_what_if: T={T!r} and horizon={horizon!r} must be numbers of "
                         "periods > 0 (the same unit as alpha).")
    xs = np.asarray(frequencies, dtype=float)
    if xs.ndim != 1 or xs.size == 0 or (xs < 0).any() or (xs != np.round(xs)).any():
        raise ValueError(f"bgnbd_what_if: frequencies={frequencies!r} must be whole numbers of "
                         "repeat purchases >= 0, e.g. (1, 2, 4, 8).")
    if int(n_recency) < 2:
        raise ValueError(f"bgnbd_what_if: n_recency={n_recency!r} must be at least 2.")
    recency = np.linspace(T_ / int(n_recency), T_, int(n_recency))
    grid = pd.DataFrame({"frequency": np.repeat(xs, recency.size).astype("int64"),
                         "recency": np.tile(recency, xs.size), "T": T_})
    grid["p_alive"] = model.p_alive(grid).to_numpy()
    grid["expected_purchases"] = model.predict_purchases(h, grid).to_numpy()
    out: dict[str, object] = {"params": model.params_.to_dict(), "T": T_, "horizon": h,
                              "grid": grid}
    if summary is not None:
        out.update(customers=len(summary),
                   mean_p_alive=float(model.p_alive(summary).mean()),
                   expected_purchases=float(model.predict_purchases(h, summary).sum()))
    return out


__all__ += ["bgnbd_model", "bgnbd_what_if"]
