"""Satisfaction surveys (滿意度調查): CSAT, NPS and CES with their intervals, per touchpoint and period.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from crmlab._checks import as_frame, as_list, datetime_column, reads, require_columns, z_for_level
from crmlab.stats import wilson_interval

__all__ = [
    "CES_EASY",
    "SCALES",
    "ces_score",
    "csat_score",
    "nps_score",
    "survey_metrics",
]


#: Survey scales (inclusive): CSAT 1-5, NPS 0-10, CES 1-7 (7 = very easy).
SCALES: dict[str, tuple[int, int]] = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}


#: A CES answer at or above this value counts as "easy".
CES_EASY = 5


def _scale(survey_type: str) -> tuple[int, int]:
    """The (low, high) scale of a survey type."""
    if survey_type not in SCALES:
        raise ValueError(f"survey_type={survey_type!r} must be one of {sorted(SCALES)}.")
    return SCALES[survey_type]


def _scores(scores: object, survey_type: str, table: str = "scores",
            column: str = "score") -> tuple[np.ndarray, int]:
    """(valid scores as float array, number of missing scores). ValueError for anything that
    is not a whole number on the survey's scale."""
    lo, hi = _scale(survey_type)
    try:
        arr = pd.to_numeric(pd.Series(scores, dtype="object") if not isinstance(scores, pd.Series)
                            else scores).to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{table}: column '{column}' must hold numbers on the {survey_type.upper()} "
                         f"scale {lo}-{hi}; convert text answers first.") from exc
    missing = np.isnan(arr)
    valid = arr[~missing]
    out_of = (valid < lo) | (valid > hi)
    if out_of.any():
        bad = sorted(set(valid[out_of].tolist()))[:5]
        raise ValueError(f"{table}: column '{column}' has {int(out_of.sum())} {survey_type.upper()} "
                         f"score(s) outside the scale {lo}-{hi} (e.g. {bad}). Fix the coding (was "
                         "the survey on another scale?) or drop those rows and count them.")
    frac = valid != np.round(valid)
    if frac.any():
        raise ValueError(f"{table}: column '{column}' has {int(frac.sum())} non-integer "
                         f"{survey_type.upper()} score(s) (e.g. {valid[frac][:3].tolist()}); answers "
                         "are whole scale points.")
    return valid, int(missing.sum())


def csat_score(scores: object, *, level: float = 0.95) -> dict[str, float]:
    """CSAT (顧客滿意度): share of answers 4 or 5 on the 1-5 scale, with a Wilson interval.

    Returns ``n`` (valid answers), ``missing`` (NaN answers, counted and left out),
    ``satisfied``, ``csat``, ``low``, ``high`` and ``mean_score``.

    Parameters
    ----------
    scores : array-like or pd.Series
        The answers (NaN = no usable answer, counted as ``missing``).
    level : float, default 0.95
        Confidence level of the interval(s).

    Returns
    -------
    dict
        The figures listed above.
    """
    valid, missing = _scores(scores, "csat")
    n = valid.size
    k = int((valid >= 4).sum())
    low, high = wilson_interval(k, n, level) if n else (np.nan, np.nan)
    return {"n": n, "missing": missing, "satisfied": k, "csat": k / n if n else np.nan,
            "low": float(low), "high": float(high), "mean_score": float(valid.mean()) if n else np.nan}


def _nps_counts(counts: object) -> tuple[int, int, int]:
    """(promoters, passives, detractors) from counts by group or by score 0-10."""
    groups = ("promoters", "passives", "detractors")
    if isinstance(counts, pd.Series):
        counts = counts.to_dict()
    if isinstance(counts, Mapping) and counts and set(counts) <= set(groups):
        keys: list[object] = list(groups)
        values = [counts.get(g, 0) for g in groups]
    else:
        if isinstance(counts, Mapping):
            keys, values = list(counts.keys()), list(counts.values())
        else:
            values = list(np.asarray(counts, dtype="object").ravel())
            if len(values) != 11:
                raise ValueError(f"nps_score(counts=...): a sequence of counts needs 11 values, one per score "
                                 f"0-10; got {len(values)}. Or pass a mapping score -> count, or "
                                 "{'promoters': .., 'passives': .., 'detractors': ..}.")
            keys = list(range(11))
        bad = [k for k in keys if not (isinstance(k, int | np.integer) and 0 <= k <= 10)]
        if bad:
            raise ValueError("nps_score(counts=...): the keys must be the scores 0-10 (or 'promoters', "
                             f"'passives', 'detractors'); got {bad[:5]}.")
    whole = []
    for k, v in zip(keys, values, strict=True):
        try:
            f = float(v)
        except (TypeError, ValueError):
            f = float("nan")
        if not np.isfinite(f) or f < 0 or f != round(f):
            raise ValueError(f"nps_score(counts=...): the count for {k!r} must be a whole number >= 0, "
                             f"got {v!r}.")
        whole.append(int(f))
    if keys == list(groups):
        return whole[0], whole[1], whole[2]
    by_score = dict(zip(keys, whole, strict=True))
    return (sum(n for k, n in by_score.items() if k >= 9),
            sum(n for k, n in by_score.items() if 7 <= k <= 8),
            sum(n for k, n in by_score.items() if k <= 6))


def nps_score(scores: object = None, *, counts: object = None, level: float = 0.95,
              method: str = "wald") -> dict[str, float]:
    """Net Promoter Score (淨推薦值) with its standard error and confidence interval.

    NPS = 100 x (p_P - p_D) with p_P the share of promoters (9-10) and p_D of detractors
    (0-6). (p_P, p_passive, p_D) is multinomial, so
    Var(p_P - p_D) = [p_P + p_D - (p_P - p_D)^2] / n (Var p_P + Var p_D - 2 Cov, with
    Cov(p_P, p_D) = -p_P p_D / n) -- the same as the variance of the mean of scores coded
    +1 / 0 / -1. ``method="wald"`` uses it as is; ``"adjusted"`` is the adjusted-Wald of
    Rocks (2016, The American Statistician): add 3/4 to promoters and to detractors and 3 to n
    first (better coverage for small n, never a zero-width interval). The interval is
    clipped to [-100, 100].

    Input: the raw 0-10 answers (``scores``), or ``counts`` (keyword) when only a tally is at
    hand, as published reports give it: ``{"promoters": 50, "passives": 30, "detractors": 20}``,
    a mapping score -> count, or 11 counts for the scores 0..10.

    Returns ``n``, ``missing``, ``promoters``, ``passives``, ``detractors``, ``nps``, ``se``,
    ``low``, ``high`` (points).

    Parameters
    ----------
    scores : array-like or pd.Series, optional
        The raw 0-10 answers.
    counts : mapping or sequence, optional
        A tally instead of ``scores`` (see above); exactly one of the two.
    level : float, default 0.95
        Confidence level of the interval.
    method : {"wald", "adjusted"}, default "wald"
        The interval's method.

    Returns
    -------
    dict
        The figures listed above (NPS, SE and bounds in points).
    """
    if (scores is None) == (counts is None):
        raise ValueError("nps_score(): pass either the raw 0-10 scores or counts= (by group or by score), "
                         "exactly one of them.")
    z = z_for_level(level)
    if counts is not None:
        prom, passive, det = _nps_counts(counts)
        n, missing = prom + passive + det, 0
    else:
        valid, missing = _scores(scores, "nps")
        n = valid.size
        prom = int((valid >= 9).sum())
        det = int((valid <= 6).sum())
    nps = 100 * (prom - det) / n if n else np.nan
    se, low, high = _nps_interval(prom, det, n, z, method)
    return {"n": n, "missing": missing, "promoters": prom, "passives": n - prom - det, "detractors": det,
            "nps": nps, "se": se, "low": low, "high": high}


def _nps_interval(prom: int, det: int, n: int, z: float, method: str) -> tuple[float, float, float]:
    """(SE, low, high) of the NPS in points: Wald, or Rocks' adjusted Wald (3/4 added to
    promoters and detractors, 3 to n); the interval is clipped to [-100, 100]."""
    if method not in ("wald", "adjusted"):
        raise ValueError(f"method={method!r} must be 'wald' or 'adjusted'.")
    if method == "adjusted":
        n_a, p, d = n + 3, (prom + 0.75) / (n + 3), (det + 0.75) / (n + 3)
    else:
        n_a = n
        p, d = (prom / n, det / n) if n else (np.nan, np.nan)
    centre = 100 * (p - d) if method == "adjusted" else (100 * (prom - det) / n if n else np.nan)
    se = 100 * math.sqrt(max(p + d - (p - d) ** 2, 0.0) / n_a) if n_a else np.nan
    if not n_a:
        return se, np.nan, np.nan
    return se, max(centre - z * se, -100.0), min(centre + z * se, 100.0)


def ces_score(scores: object, *, level: float = 0.95, easy: int = CES_EASY) -> dict[str, float]:
    """Customer Effort Score (顧客費力度) on 1-7 (7 = very easy): the mean with a t interval
    and the share of "easy" answers (>= ``easy``) with a Wilson interval.

    Returns ``n``, ``missing``, ``mean``, ``sd``, ``se``, ``low``, ``high``, ``easy_share``,
    ``easy_low``, ``easy_high``.

    Parameters
    ----------
    scores : array-like or pd.Series
        The answers (NaN = no usable answer, counted as ``missing``).
    level : float, default 0.95
        Confidence level of the interval(s).
    easy : int, default CES_EASY
        Lowest answer that counts as easy.

    Returns
    -------
    dict
        The figures listed above.
    """
    valid, missing = _scores(scores, "ces")
    z_for_level(level)
    n = valid.size
    k = int((valid >= easy).sum())
    el, eh = wilson_interval(k, n, level) if n else (np.nan, np.nan)
    mean = float(valid.mean()) if n else np.nan
    sd = float(valid.std(ddof=1)) if n > 1 else np.nan
    se = sd / math.sqrt(n) if n > 1 else np.nan
    t = stats.t.ppf(0.5 + level / 2, n - 1) if n > 1 else np.nan
    return {"n": n, "missing": missing, "mean": mean, "sd": sd, "se": se,
            "low": mean - t * se if n > 1 else np.nan, "high": mean + t * se if n > 1 else np.nan,
            "easy_share": k / n if n else np.nan, "easy_low": float(el), "easy_high": float(eh)}


_METRIC = {"csat": csat_score, "nps": nps_score, "ces": ces_score}


def _survey_rows(surveys: pd.DataFrame, survey_type: str, table: str = "surveys") -> pd.DataFrame:
    """The invitations of one survey type, validated (scale, responded vs score)."""
    s = as_frame(surveys, table)
    require_columns(s, table, ["score"])
    _scale(survey_type)
    if "survey_type" in s.columns:
        s = s.loc[(s["survey_type"].astype("str") == survey_type).to_numpy()]
    score = s["score"]
    _scores(score, survey_type, table)  # raises on out-of-scale answers (responded or not)
    if "responded" in s.columns:
        if s["responded"].isna().any():
            raise ValueError(f"{table}: column 'responded' has missing values; it must be True/False.")
        resp = s["responded"].astype(bool).to_numpy()
        stray = score.notna().to_numpy() & ~resp
        if stray.any():
            raise ValueError(f"{table}: {int(stray.sum())} row(s) have a score but responded=False; "
                             "fix the responded flag (or the score) so that the response rate is right.")
    else:
        resp = score.notna().to_numpy()
    return s.assign(_responded=resp)


@reads(surveys="")
def survey_metrics(
    surveys: pd.DataFrame,
    survey_type: str,
    *,
    by: str | Sequence[str] | None = None,
    freq: str | None = None,
    ts_col: str = "sent_ts",
    level: float = 0.95,
    method: str = "wald",
) -> pd.DataFrame:
    """CSAT, NPS or CES per group (e.g. ``by="touchpoint"``) and/or per period (``freq="QE"``,
    ``"ME"``, on ``ts_col``), with response rates.

    Columns: the keys, ``period`` (period end, with ``freq``), ``invited`` (rows),
    ``responded``, ``response_rate``, ``missing_score`` (responded but no usable score --
    counted and left out, never silently), ``n`` (valid scores) and the metric's fields
    (:func:`csat_score`, :func:`nps_score` or :func:`ces_score`). Without a ``responded``
    column a missing score means no response.

    Parameters
    ----------
    surveys : pd.DataFrame
        The ``surveys`` table (``score``; ``survey_type``, ``responded`` and ``ts_col`` when
        used).
    survey_type : {"csat", "nps", "ces"}
        Which survey's rows and metric.
    by : str or list of str, optional
        Grouping column(s), e.g. "touchpoint".
    freq : str, optional
        Period alias ("QE", "ME") for one row per period.
    ts_col : str, default "sent_ts"
        The time column the periods are cut on.
    level : float, default 0.95
        Confidence level of the intervals.
    method : {"wald", "adjusted"}, default "wald"
        NPS interval method (see :func:`nps_score`).

    Returns
    -------
    pd.DataFrame
        One row per group and period with the columns above.
    """
    s = _survey_rows(surveys, survey_type)
    keys = as_list(by)
    require_columns(s, "surveys", keys)
    groupers: list = list(keys)
    if freq is not None:
        require_columns(s, "surveys", [ts_col])
        datetime_column(s, "surveys", ts_col)
        groupers.append(pd.Grouper(key=ts_col, freq=freq))
    kwargs = {"method": method} if survey_type == "nps" else {}
    rows = []
    for key, g in (s.groupby(groupers, observed=True, sort=True) if groupers else [((), s)]):
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(keys, key[: len(keys)], strict=True))
        if freq is not None:
            row["period"] = key[-1]
        row.update(_survey_row(g, _METRIC[survey_type], level, kwargs))
        rows.append(row)
    return pd.DataFrame(rows)


def _survey_row(g: pd.DataFrame, metric: Callable[..., dict[str, float]], level: float,
                kwargs: dict[str, str]) -> dict[str, float]:
    """Invitations, responses and the metric's fields for one group of survey rows."""
    resp = g["_responded"].to_numpy(bool)
    m = metric(g.loc[resp, "score"], level=level, **kwargs)
    row = {"invited": len(g), "responded": int(resp.sum()),
           "response_rate": resp.mean() if len(g) else np.nan, "missing_score": m.pop("missing")}
    row.update(m)
    return row
