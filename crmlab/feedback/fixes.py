"""Measuring a fix: defect-return rates before / during / after, and difference-in-differences.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from crmlab._checks import (
    as_frame,
    as_timestamp,
    datetime_column,
    reads,
    require_columns,
    z_for_level,
)
from crmlab.stats import proportion_contrast_ci, wilson_interval

__all__ = [
    "defect_return_lines",
    "diff_in_diff",
    "period_rates",
]


@reads(orders="", order_items="", returns="", products="")
def defect_return_lines(
    orders: pd.DataFrame,
    order_items: pd.DataFrame,
    returns: pd.DataFrame,
    products: pd.DataFrame,
    *,
    reasons: Sequence[str] = ("defective",),
) -> pd.DataFrame:
    """Order lines with ``defect_return`` (returned for one of ``reasons``), via
    :func:`crmlab.aftersales.return_lines` (validated join; one row per order line).

    Columns of ``return_lines`` plus defect_return (bool). The defect is decided when the
    unit is made and shipped, so rates are by *order date*: a line ordered during an incident
    and returned after the fix still belongs to the incident.

    Parameters
    ----------
    orders, order_items, returns, products : pd.DataFrame
        The shop's tables, as for :func:`crmlab.aftersales.return_lines`.
    reasons : sequence of str, default ("defective",)
        Return reasons that count as a defect return.

    Returns
    -------
    pd.DataFrame
        One row per order line.
    """
    from crmlab.aftersales import return_lines

    lines = return_lines(orders, order_items, returns, products)
    reason = lines["reason"].astype("str").fillna("")
    lines["defect_return"] = (lines["returned"].to_numpy() & reason.isin(list(reasons)).to_numpy())
    return lines


def _periods(periods: Mapping[str, tuple[object, object]], lo: pd.Timestamp, hi: pd.Timestamp,
             ) -> dict[str, tuple[pd.Timestamp, pd.Timestamp]]:
    """``periods`` as named (start, end) timestamps inside the data."""
    if not isinstance(periods, Mapping) or not periods:
        raise ValueError("periods must be a dict like {'before': ('2024-11-01', '2025-02-06'), ...}.")
    out = {}
    for name, bounds in periods.items():
        if not isinstance(bounds, tuple | list) or len(bounds) != 2:
            raise ValueError(f"periods['{name}'] must be a (start, end) pair of dates.")
        a, b = as_timestamp(bounds[0], f"periods['{name}'] start"), as_timestamp(bounds[1], f"periods['{name}'] end")
        if not a < b:
            raise ValueError(f"periods['{name}']: start {a.date()} must be before end {b.date()}.")
        if a < lo or b > hi + pd.Timedelta(days=1):
            raise ValueError(f"periods['{name}'] {a.date()}..{b.date()} is outside the data "
                             f"({lo.date()}..{hi.date()}); shorten it.")
        out[str(name)] = (a, b)
    return out


def period_rates(
    lines: pd.DataFrame,
    product_id: int,
    periods: Mapping[str, tuple[object, object]],
    *,
    outcome: str = "defect_return",
    ts_col: str = "order_ts",
    control: object | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Rate of ``outcome`` per period for the affected product and its controls.

    ``periods`` maps names to [start, end) date pairs (e.g. before / during / after an
    incident). Controls are the rows where ``control`` is True (default: every other
    product; pass e.g. ``lines['category'] == 'home'`` for the same category). Columns:
    period, group ("affected" / "controls"), n, events, rate, low, high (Wilson interval).
    Periods outside the data raise ``ValueError``.

    Parameters
    ----------
    lines : pd.DataFrame
        Order lines with ``product_id``, ``ts_col`` and ``outcome`` (e.g.
        :func:`defect_return_lines`).
    product_id : int
        The affected product.
    periods : mapping of str to (start, end)
        The periods, each [start, end).
    outcome : str, default "defect_return"
        Boolean column counted as the event.
    ts_col : str, default "order_ts"
        The time column the periods cut.
    control : array-like of bool, optional
        Rows of the control group; default every other product.
    level : float, default 0.95
        Confidence level of the Wilson intervals.

    Returns
    -------
    pd.DataFrame
        One row per period and group.
    """
    df = as_frame(lines, "lines")
    require_columns(df, "lines", ["product_id", ts_col, outcome])
    ts = datetime_column(df, "lines", ts_col)
    per = _periods(periods, ts.min().normalize(), ts.max().normalize())
    y = df[outcome].to_numpy()
    if y.dtype != bool:
        raise ValueError(f"lines: column '{outcome}' must be boolean (event or not).")
    affected = (df["product_id"] == product_id).to_numpy()
    if not affected.any():
        raise ValueError(f"lines: product_id {product_id} has no rows; check the id.")
    ctrl = ~affected if control is None else (np.asarray(control, bool) & ~affected)
    rows = []
    for name, (a, b) in per.items():
        inside = ((ts >= a) & (ts < b)).to_numpy()
        rows += [_rate_row(name, group, y[inside & g], level)
                 for group, g in (("affected", affected), ("controls", ctrl))]
    return pd.DataFrame(rows)


def _rate_row(period: str, group: str, events: np.ndarray, level: float) -> dict[str, object]:
    """Count, events and their rate with a Wilson interval for one period and group."""
    n, k = len(events), int(events.sum())
    low, high = wilson_interval(k, n, level=level)
    return {"period": period, "group": group, "n": n, "events": k,
            "rate": k / n if n else float("nan"), "low": low, "high": high}


# Long function: most of it is the docstring (the estimator, its standard error, the adjusted
# interval for rates and what each returned key holds); the body is 20 lines.
def diff_in_diff(
    data: pd.DataFrame,
    outcome: str,
    treated: str = "treated",
    post: str = "post",
    *,
    level: float = 0.95,
) -> dict[str, object]:
    """Difference-in-differences of the mean of ``outcome`` with a normal confidence interval.

    DiD = (treated post - treated pre) - (control post - control pre): the change in the
    affected group minus the change the unaffected group shows over the same time (the
    common trend), so a shop-wide shift (season, a new courier) is not credited to the fix.
    The standard error is sqrt(sum over the four cells of s^2 / n) with the sample variance
    s^2 (ddof 1); it equals the HC2 heteroskedasticity-robust standard error of the
    interaction in the regression y ~ treated + post + treated:post. Assumes independent rows
    and parallel trends (without the fix, both groups would have moved alike).

    When the outcome is a 0/1 rate (a defective return, a conversion) a cell whose lines are
    all alike (0 defective returns after a fix) has sample variance 0, and the normal interval
    above counts its sampling error as nothing: too narrow. ``adjusted`` then holds the
    adjusted Wald interval for the contrast (+1, -1, -1, +1) of the four rates
    (:func:`crmlab.stats.proportion_contrast_ci`, Price & Bonett 2004: half a success and one
    trial added to each cell), which keeps every cell's uncertainty; None for other outcomes.

    Returns {"estimate", "se", "low", "high", "p_value", "level", "table", "adjusted"} where
    table holds the four cells (treated, post, n, mean, var) and ``adjusted`` is the dict of
    :func:`~crmlab.stats.proportion_contrast_ci` (estimate, se, low, high, p_value, level) or
    None.

    Parameters
    ----------
    data : pd.DataFrame
        One row per unit (e.g. order line).
    outcome : str
        Numeric or boolean column whose mean is compared.
    treated, post : str, default "treated", "post"
        Boolean columns: affected group, later period.
    level : float, default 0.95
        Confidence level of the interval.

    Returns
    -------
    dict
        The figures listed above.
    """
    df = as_frame(data, "data")
    require_columns(df, "data", [outcome, treated, post])
    z = z_for_level(level)
    y = _outcome_values(df, outcome)
    flags = {}
    for col in (treated, post):
        v = df[col]
        if v.isna().any() or not pd.api.types.is_bool_dtype(v):
            raise ValueError(f"data: column '{col}' must be boolean without missing values "
                             f"(True for the {'affected group' if col == treated else 'later period'}).")
        flags[col] = v.to_numpy(dtype=bool)
    table = _did_cells(y, flags[treated], flags[post])
    mean = {(r.treated, r.post): r.mean for r in table.itertuples()}
    est = (mean[(True, True)] - mean[(True, False)]) - (mean[(False, True)] - mean[(False, False)])
    se = float(np.sqrt((table["var"] / table["n"]).sum()))
    p = float(2 * stats.norm.sf(abs(est) / se)) if se > 0 else float("nan")
    adjusted = None
    if np.isin(y, (0.0, 1.0)).all():  # cells in the table's order: (F, F), (F, T), (T, F), (T, T)
        adjusted = proportion_contrast_ci(np.rint(table["mean"] * table["n"]), table["n"],
                                          [1, -1, -1, 1], level)
    return {"estimate": float(est), "se": se, "low": float(est - z * se), "high": float(est + z * se),
            "p_value": p, "level": level, "table": table, "adjusted": adjusted}


def _outcome_values(df: pd.DataFrame, outcome: str) -> np.ndarray:
    """The outcome as floats (booleans count 0/1); ValueError for text or missing values."""
    try:
        y = pd.to_numeric(df[outcome]).to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"data: column '{outcome}' must be numeric or boolean.") from exc
    if np.isnan(y).any():
        raise ValueError(f"data: column '{outcome}' has {int(np.isnan(y).sum())} missing values; "
                         "drop (and count) them first.")
    return y


def _did_cells(y: np.ndarray, treated: np.ndarray, post: np.ndarray) -> pd.DataFrame:
    """The four cells (treated x post): n, mean and sample variance; each needs 2 rows."""
    rows = []
    for tr in (False, True):
        for po in (False, True):
            m = (treated == tr) & (post == po)
            n = int(m.sum())
            if n < 2:
                raise ValueError(f"diff_in_diff: the cell treated={tr}, post={po} has {n} row(s); "
                                 "each of the four cells needs at least 2.")
            rows.append({"treated": tr, "post": po, "n": n, "mean": float(y[m].mean()),
                         "var": float(y[m].var(ddof=1))})
    return pd.DataFrame(rows)
