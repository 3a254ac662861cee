"""Review analytics (評論分析): the star distribution, the Bayesian average and the Wilson lower bound.

Why a 5.0 from two reviews should not top the list: :func:`rating_summary` and
:func:`rank_products`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab._checks import as_frame, reads, require_columns
from crmlab.feedback.validation import _stars
from crmlab.stats import wilson_interval

__all__ = [
    "POSITIVE_STARS",
    "bayesian_average",
    "rank_products",
    "rating_distribution",
    "rating_summary",
    "wilson_lower_bound",
]


#: Stars that count as a positive review (for the Wilson lower bound and CSAT-style shares).
POSITIVE_STARS: tuple[int, ...] = (4, 5)


@reads(reviews="")
def rating_distribution(
    reviews: pd.DataFrame, by: str | None = None, *, stars_col: str = "stars"
) -> pd.DataFrame:
    """Count and share of each star rating 1..5, overall or per ``by`` (e.g. ``"product_id"``).

    Columns: [by], stars, n, share. Every star level appears (n = 0 when unused), so
    distributions of different products line up. Online ratings are typically *J-shaped*: many
    5s, some 1s, few in between (people who were delighted or angry write; the rest do not).

    Parameters
    ----------
    reviews : pd.DataFrame
        The ``reviews`` table (the stars column and ``by``).
    by : str, optional
        A column to give one distribution per value of.
    stars_col : str, default "stars"
        The column of star ratings.

    Returns
    -------
    pd.DataFrame
        One row per star level (and ``by`` value): [by], stars, n, share.
    """
    df = as_frame(reviews, "reviews")
    require_columns(df, "reviews", [stars_col, *([by] if by else [])])
    stars = _stars(df[stars_col], "reviews", stars_col)
    levels = pd.Index([1, 2, 3, 4, 5], name="stars")
    if by is None:
        n = pd.Series(stars).value_counts().reindex(levels, fill_value=0)
        out = pd.DataFrame({"stars": levels, "n": n.to_numpy().astype("int64")})
        out["share"] = out["n"] / max(len(stars), 1)
        return out
    tab = pd.crosstab(df[by].to_numpy(), stars).reindex(columns=levels, fill_value=0)
    tab.index.name = by
    out = tab.stack().rename("n").reset_index()
    out["n"] = out["n"].astype("int64")
    out["share"] = out["n"] / out.groupby(by)["n"].transform("sum")
    return out


def bayesian_average(
    stars_sum: float | np.ndarray | pd.Series,
    n: float | np.ndarray | pd.Series,
    prior_mean: float,
    prior_weight: float,
) -> float | np.ndarray:
    """Bayesian average rating ``(prior_weight * prior_mean + stars_sum) / (prior_weight + n)``.

    The product's mean is shrunk towards ``prior_mean`` (C, usually the mean of all reviews) as
    if it had ``prior_weight`` (m) extra reviews at C -- IMDb's "weighted rating"
    ``W = (v R + m C) / (v + m)``. Few reviews: W stays near C; many reviews: W -> the
    product's own mean. It is the posterior mean of a normal mean with a conjugate prior whose
    strength equals m observations.

    Parameters
    ----------
    stars_sum : float or array-like
        Sum of the stars of each product.
    n : float or array-like
        Number of reviews of each product.
    prior_mean : float
        C, the rating a product is shrunk towards (1..5).
    prior_weight : float
        m, the weight of the prior in pseudo-reviews (>= 0).

    Returns
    -------
    float or np.ndarray
        The Bayesian average(s).
    """
    if not np.isfinite(prior_mean) or not 1 <= prior_mean <= 5:
        raise ValueError(f"bayesian_average: prior_mean={prior_mean!r} must be a rating in 1..5.")
    if not np.isfinite(prior_weight) or prior_weight < 0:
        raise ValueError(f"bayesian_average: prior_weight={prior_weight!r} must be >= 0 "
                         "(a number of pseudo-reviews).")
    s = np.asarray(stars_sum, dtype=float)
    k = np.asarray(n, dtype=float)
    if np.any(k < 0) or np.any(np.isnan(k)) or np.any(np.isnan(s)):
        raise ValueError("bayesian_average: n must be >= 0 and nothing may be missing.")
    if np.any((k == 0) & (prior_weight == 0)):
        raise ValueError("bayesian_average: a product without reviews needs prior_weight > 0.")
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (prior_weight * prior_mean + s) / (prior_weight + k)
    return float(out) if out.ndim == 0 else out


def wilson_lower_bound(
    positive: float | np.ndarray | pd.Series,
    n: float | np.ndarray | pd.Series,
    level: float = 0.95,
) -> float | np.ndarray:
    """Lower end of the Wilson score interval for the share of positive reviews.

    Ranking by this bound (Evan Miller, "How Not To Sort By Average Rating", 2009) asks "given
    the reviews so far, what share of positive reviews are we fairly sure of?": 2 of 2 positive
    gives 0.34, 90 of 100 gives 0.83. Uses :func:`crmlab.stats.wilson_interval`. Products
    without reviews get 0 (nothing is known, so they rank last).

    Parameters
    ----------
    positive : float or array-like
        Number of positive reviews.
    n : float or array-like
        Number of reviews.
    level : float, default 0.95
        Confidence level of the interval.

    Returns
    -------
    float or np.ndarray
        The lower bound(s), 0 where ``n`` is 0.
    """
    k = np.asarray(positive, dtype=float)
    m = np.asarray(n, dtype=float)
    low, _ = wilson_interval(k, m, level=level)
    low = np.where(m > 0, low, 0.0)
    return float(low) if np.ndim(low) == 0 else np.asarray(low)


@reads(reviews="")
def rating_summary(
    reviews: pd.DataFrame,
    by: str = "product_id",
    *,
    stars_col: str = "stars",
    prior_mean: float | None = None,
    prior_weight: float | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """One row per ``by`` value: review count, mean stars, Bayesian average and Wilson bound.

    Columns: by, n_reviews, mean_stars, n_positive (4-5 stars), positive_share, bayes_avg,
    wilson_low, n_1 .. n_5. Defaults (documented, stored in ``out.attrs``): ``prior_mean`` C =
    the mean of all reviews, ``prior_weight`` m = the mean number of reviews per ``by`` value
    -- a product needs about as many reviews as an average product before its own mean
    outweighs C.

    Parameters
    ----------
    reviews : pd.DataFrame
        The ``reviews`` table.
    by : str, default "product_id"
        The column to summarise per value of.
    stars_col : str, default "stars"
        The column of star ratings.
    prior_mean, prior_weight : float, optional
        C and m of the Bayesian average; defaults above.
    level : float, default 0.95
        Confidence level of the Wilson bound.

    Returns
    -------
    pd.DataFrame
        One row per ``by`` value with the columns above.
    """
    df = as_frame(reviews, "reviews")
    require_columns(df, "reviews", [by, stars_col])
    stars = _stars(df[stars_col], "reviews", stars_col)
    if len(stars) == 0:
        raise ValueError("reviews: the table is empty; there is nothing to summarise.")
    work = pd.DataFrame({by: df[by].to_numpy(), "stars": stars})
    out = _review_counts(work, by)
    C = float(stars.mean()) if prior_mean is None else float(prior_mean)
    m = float(out["n_reviews"].mean()) if prior_weight is None else float(prior_weight)
    out["mean_stars"] = out["stars_sum"] / out["n_reviews"]
    out["positive_share"] = out["n_positive"] / out["n_reviews"]
    out["bayes_avg"] = bayesian_average(out["stars_sum"].to_numpy(), out["n_reviews"].to_numpy(), C, m)
    out["wilson_low"] = wilson_lower_bound(out["n_positive"].to_numpy(), out["n_reviews"].to_numpy(),
                                           level=level)
    out = out.drop(columns="stars_sum").reset_index()
    out = out[[by, "n_reviews", "mean_stars", "n_positive", "positive_share", "bayes_avg",
               "wilson_low", *[f"n_{s}" for s in range(1, 6)]]]
    out.attrs.update({"prior_mean": C, "prior_weight": m, "level": level})
    return out


def _review_counts(work: pd.DataFrame, by: str) -> pd.DataFrame:
    """Per ``by`` value: reviews, sum of stars, positive reviews and ``n_1`` .. ``n_5``."""
    g = work.groupby(by, sort=True, observed=True)["stars"]
    out = pd.DataFrame({
        "n_reviews": g.size(),
        "stars_sum": g.sum(),
        "n_positive": g.agg(lambda s: int(np.isin(s, POSITIVE_STARS).sum())),
    })
    dist = pd.crosstab(work[by], work["stars"]).reindex(columns=[1, 2, 3, 4, 5], fill_value=0)
    for s in range(1, 6):
        out[f"n_{s}"] = dist[s].reindex(out.index).astype("int64")
    return out


def rank_products(summary: pd.DataFrame, method: str = "wilson", top: int | None = None) -> pd.DataFrame:
    """Sort a :func:`rating_summary` table by ``method``: "wilson", "bayes" or "mean".

    Ties are broken by the number of reviews (more first). Adds a 1-based ``rank`` column.

    Parameters
    ----------
    summary : pd.DataFrame
        Output of :func:`rating_summary`.
    method : {"wilson", "bayes", "mean"}, default "wilson"
        The column to sort by.
    top : int, optional
        Keep only the first ``top`` rows.

    Returns
    -------
    pd.DataFrame
        The summary, sorted, with ``rank`` first.
    """
    df = as_frame(summary, "summary")
    cols = {"wilson": "wilson_low", "bayes": "bayes_avg", "mean": "mean_stars"}
    if method not in cols:
        raise ValueError(f"rank_products: method={method!r}; use one of {sorted(cols)}.")
    require_columns(df, "summary", [cols[method], "n_reviews"], fix="Pass the output of rating_summary().")
    out = df.sort_values([cols[method], "n_reviews"], ascending=[False, False], kind="stable")
    out = out.reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out if top is None else out.head(int(top))
