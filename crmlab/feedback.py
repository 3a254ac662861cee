"""User feedback and the closed feedback loop (用戶反饋與反饋循環) — course unit 6.

Feedback reaches a shop through product reviews and star ratings (評論與評分), social media
(社群聆聽), support tickets and returns. This module holds the computations behind
``notebooks/11_feedback_loop.ipynb``, in the order of the loop *collect -> analyse -> act ->
measure*:

* **Review analytics (評論分析)** -- :func:`rating_distribution` (how the 1-5 stars spread,
  usually J-shaped), :func:`rating_summary` with the **Bayesian average** (:func:`bayesian_average`)
  and the **Wilson lower bound** of the share of positive (4-5 star) reviews
  (:func:`wilson_lower_bound`), and :func:`rank_products`: why a 5.0 from two reviews should
  not top the list.
* **Sentiment (情感分析)** -- :func:`vader_sentiment` scores English text with VADER (Hutto &
  Gilbert 2014; the ``vaderSentiment`` package ships its lexicon, no network), and
  :class:`StarSentimentClassifier` learns sentiment from the shop's own star ratings (TF-IDF +
  logistic regression). :func:`time_split` splits by time so the model is tested on reviews
  written after the ones it learned from; :func:`score_sentiment` gives accuracy and macro-F1
  against any reference labels (the shop's planted sentiment in the course).
* **Topics (主題模型)** -- :class:`TopicModel` (NMF or LDA on TF-IDF / counts) with
  :meth:`TopicModel.top_words`, and :func:`match_topics`, which maps model topics to known
  labels with the Hungarian algorithm (``scipy.optimize.linear_sum_assignment``) and reports
  the recovery accuracy.
* **Social listening (社群聆聽)** -- :func:`daily_mentions` (volume, negative mentions and their
  share per day), two alarms -- :func:`rolling_zscore` on a daily count and the Shewhart
  :func:`proportion_chart` (p-chart) on the daily negative share -- and :func:`alert_summary`
  (first alert after an event, alerts before it, false alarms elsewhere).
* **The loop (反饋循環)** -- :func:`defect_events` collects defect signals about products from
  every source (1-2 star reviews on a defect topic, defect tickets, defective returns,
  negative product mentions), :func:`product_signals` scores each product-week against its
  own past and combines the sources, :func:`defect_return_lines` and :func:`period_rates` give
  the before / during / after defect-return rates, and :func:`diff_in_diff` measures the
  effect of a fix against unaffected products of the same category, with a confidence
  interval.

Conventions: a review is **positive** with 4-5 stars, **neutral** with 3, **negative** with
1-2 (:func:`stars_to_sentiment`); sentiment labels are ``"neg"``, ``"neu"``, ``"pos"``. Weeks
start on Monday. Timestamps are naive local time. Texts must be non-empty strings; anything
else raises ``ValueError`` naming the table and column (nothing is dropped silently).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from crmlab._checks import (
    Reads,
    as_frame,
    as_timestamp,
    datetime_column,
    reads,
    require_columns,
    z_for_level,
)
from crmlab.journey import keyword_pattern
from crmlab.stats import wilson_interval

__all__ = [
    "REQUEST_THEMES",
    "change_effect",
    "prioritize_requests",
    "tag_requests",
    "POSITIVE_STARS",
    "SENTIMENTS",
    "SOURCES",
    "StarSentimentClassifier",
    "TopicMatch",
    "TopicModel",
    "alert_summary",
    "bayesian_average",
    "daily_mentions",
    "defect_events",
    "defect_return_lines",
    "diff_in_diff",
    "match_topics",
    "period_rates",
    "product_signals",
    "proportion_chart",
    "rank_products",
    "rating_distribution",
    "rating_summary",
    "rolling_zscore",
    "score_sentiment",
    "stars_to_sentiment",
    "time_split",
    "vader_sentiment",
    "validate_texts",
    "wilson_lower_bound",
]

#: Stars that count as a positive review (for the Wilson lower bound and CSAT-style shares).
POSITIVE_STARS: tuple[int, ...] = (4, 5)

#: Sentiment labels, negative to positive.
SENTIMENTS: tuple[str, ...] = ("neg", "neu", "pos")

#: Feedback sources combined by :func:`product_signals`, in this order.
SOURCES: tuple[str, ...] = ("review", "ticket", "return", "mention")

#: VADER's recommended thresholds on the compound score (vaderSentiment README, "About the
#: Scoring"): positive >= 0.05, negative <= -0.05, neutral in between.
VADER_THRESHOLDS: tuple[float, float] = (-0.05, 0.05)


# --------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------


def _stars(values: object, table: str, col: str) -> np.ndarray:
    """Star ratings as int64; ValueError for missing, fractional or out-of-scale values."""
    try:
        arr = pd.to_numeric(pd.Series(values)).to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{table}: column '{col}' must hold star ratings 1..5 (numbers).") from exc
    if np.isnan(arr).any():
        raise ValueError(f"{table}: column '{col}' has {int(np.isnan(arr).sum())} missing ratings; "
                         "drop those rows (and count them) first.")
    bad = (arr < 1) | (arr > 5) | (arr != np.round(arr))
    if bad.any():
        raise ValueError(f"{table}: column '{col}' has {int(bad.sum())} value(s) that are not whole "
                         f"stars 1..5 (e.g. {arr[bad][0]!r}).")
    return arr.astype(np.int64)


def validate_texts(texts: object, table: str = "texts", column: str = "text") -> list[str]:
    """The texts as a list of ``str``; ``ValueError`` for anything that is not text.

    Accepts a Series, list, tuple or 1-d array. Raises for an empty collection, missing values
    (None/NaN), non-strings (numbers, bytes, ...) and empty or whitespace-only strings -- a
    sentiment or topic score of "no text" would be a made-up number, so such rows must be
    dropped (and counted) by the caller.
    """
    if isinstance(texts, str):
        raise ValueError(f"{table}: '{column}' must be a collection of texts, got a single string; "
                         f"wrap it in a list: [{texts[:30]!r}].")
    if isinstance(texts, pd.DataFrame):
        raise ValueError(f"{table}: pass the text column ({table}['{column}']), not the whole table.")
    if isinstance(texts, pd.Series | pd.Index | np.ndarray):
        values = list(np.asarray(texts, dtype=object).ravel())
    elif isinstance(texts, Iterable):
        values = list(texts)
    else:
        raise ValueError(f"{table}: '{column}' must be a list or Series of strings, got "
                         f"{type(texts).__name__}.")
    if not values:
        raise ValueError(f"{table}: column '{column}' is empty; there is no text to analyse.")
    not_str = [i for i, v in enumerate(values) if not isinstance(v, str)]
    if not_str:
        i = not_str[0]
        raise ValueError(
            f"{table}: column '{column}' has {len(not_str)} value(s) that are not text (first at "
            f"position {i}: {values[i]!r} of type {type(values[i]).__name__}); drop missing texts "
            f"and count them, or convert with {table}['{column}'].astype(str) if numbers are meant "
            "as text."
        )
    empty = [i for i, v in enumerate(values) if not v.strip()]
    if empty:
        raise ValueError(
            f"{table}: column '{column}' has {len(empty)} empty text(s) (first at position "
            f"{empty[0]}); drop them and count them, e.g. "
            f"{table} = {table}[{table}['{column}'].str.strip() != ''], before scoring."
        )
    return values


# --------------------------------------------------------------------------------------
# review analytics
# --------------------------------------------------------------------------------------


@reads(reviews="")
def rating_distribution(
    reviews: pd.DataFrame, by: str | None = None, *, stars_col: str = "stars"
) -> pd.DataFrame:
    """Count and share of each star rating 1..5, overall or per ``by`` (e.g. ``"product_id"``).

    Columns: [by], stars, n, share. Every star level appears (n = 0 when unused), so
    distributions of different products line up. Online ratings are typically *J-shaped*: many
    5s, some 1s, few in between (people who were delighted or angry write; the rest do not).
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
    gives 0.34, 90 of 100 gives 0.83. Uses :func:`crmlab.journey.wilson_interval`. Products
    without reviews get 0 (nothing is known, so they rank last).
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
    """
    df = as_frame(reviews, "reviews")
    require_columns(df, "reviews", [by, stars_col])
    stars = _stars(df[stars_col], "reviews", stars_col)
    if len(stars) == 0:
        raise ValueError("reviews: the table is empty; there is nothing to summarise.")
    work = pd.DataFrame({by: df[by].to_numpy(), "stars": stars})
    g = work.groupby(by, sort=True, observed=True)["stars"]
    out = pd.DataFrame({
        "n_reviews": g.size(),
        "stars_sum": g.sum(),
        "n_positive": g.agg(lambda s: int(np.isin(s, POSITIVE_STARS).sum())),
    })
    C = float(stars.mean()) if prior_mean is None else float(prior_mean)
    m = float(out["n_reviews"].mean()) if prior_weight is None else float(prior_weight)
    out["mean_stars"] = out["stars_sum"] / out["n_reviews"]
    out["positive_share"] = out["n_positive"] / out["n_reviews"]
    out["bayes_avg"] = bayesian_average(out["stars_sum"].to_numpy(), out["n_reviews"].to_numpy(), C, m)
    out["wilson_low"] = wilson_lower_bound(out["n_positive"].to_numpy(), out["n_reviews"].to_numpy(),
                                           level=level)
    dist = pd.crosstab(work[by], work["stars"]).reindex(columns=[1, 2, 3, 4, 5], fill_value=0)
    for s in range(1, 6):
        out[f"n_{s}"] = dist[s].reindex(out.index).astype("int64")
    out = out.drop(columns="stars_sum").reset_index()
    out = out[[by, "n_reviews", "mean_stars", "n_positive", "positive_share", "bayes_avg",
               "wilson_low", *[f"n_{s}" for s in range(1, 6)]]]
    out.attrs.update({"prior_mean": C, "prior_weight": m, "level": level})
    return out


def rank_products(summary: pd.DataFrame, method: str = "wilson", top: int | None = None) -> pd.DataFrame:
    """Sort a :func:`rating_summary` table by ``method``: "wilson", "bayes" or "mean".

    Ties are broken by the number of reviews (more first). Adds a 1-based ``rank`` column.
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


# --------------------------------------------------------------------------------------
# sentiment
# --------------------------------------------------------------------------------------


def stars_to_sentiment(stars: object) -> np.ndarray:
    """Star ratings -> "neg" (1-2), "neu" (3), "pos" (4-5), as an object array of ``str``."""
    s = _stars(stars, "stars", "stars")
    return np.where(s >= 4, "pos", np.where(s == 3, "neu", "neg")).astype(object)


def _vader():
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError as exc:  # pragma: no cover - exercised only without the package
        raise ImportError(
            "vader_sentiment needs the 'vaderSentiment' package (it ships its lexicon; no "
            "download at run time): pip install vaderSentiment"
        ) from exc
    return SentimentIntensityAnalyzer()


def vader_sentiment(
    texts: object,
    *,
    neg_threshold: float = VADER_THRESHOLDS[0],
    pos_threshold: float = VADER_THRESHOLDS[1],
    table: str = "texts",
    column: str = "text",
) -> pd.DataFrame:
    """Score English texts with VADER (Hutto & Gilbert 2014): one row per text.

    Columns: neg, neu, pos (shares of the text's lexical weight), compound (normalised sum of
    valences in [-1, 1]) and label ("pos" if compound >= ``pos_threshold``, "neg" if <=
    ``neg_threshold``, else "neu"; the thresholds are VADER's recommended +-0.05). VADER needs
    no training: its human-rated lexicon plus rules for negation ("not good"), boosters
    ("very"), capitals and "!" transfer to any English short text -- but it knows nothing of
    a shop's own vocabulary ("arrived late" has no lexicon word).
    """
    if not neg_threshold < pos_threshold:
        raise ValueError("vader_sentiment: neg_threshold must be below pos_threshold.")
    values = validate_texts(texts, table, column)
    analyzer = _vader()
    scores = [analyzer.polarity_scores(t) for t in values]
    out = pd.DataFrame(scores, columns=["neg", "neu", "pos", "compound"]).astype(float)
    c = out["compound"].to_numpy()
    out["label"] = pd.array(np.where(c >= pos_threshold, "pos", np.where(c <= neg_threshold, "neg", "neu")),
                            dtype="str")
    if isinstance(texts, pd.Series):
        out.index = texts.index
    return out


class StarSentimentClassifier:
    """Sentiment learned from star ratings: TF-IDF words and word pairs + logistic regression.

    ``fit(texts, stars)`` turns the stars into labels with :func:`stars_to_sentiment` (the
    customer labelled their own text), ``predict(texts)`` returns "neg"/"neu"/"pos" and
    ``predict_proba`` the class probabilities (columns in ``classes_``). Learned attributes:
    ``vectorizer_`` (a fitted ``TfidfVectorizer``), ``model_`` (``LogisticRegression``),
    ``classes_``. Parameters: ``ngram_range`` (1-2 catches "not worth"), ``min_df``,
    ``C`` (inverse regularisation strength), ``class_weight`` ("balanced" so that the rare
    neutral class is not ignored) and ``max_iter``.
    """

    def __init__(self, ngram_range: tuple[int, int] = (1, 2), min_df: int = 1, C: float = 10.0,
                 class_weight: str | None = "balanced", max_iter: int = 2000) -> None:
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter

    def fit(self, texts: object, stars: object) -> StarSentimentClassifier:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        values = validate_texts(texts, "train", "text")
        labels = stars_to_sentiment(stars)
        if len(labels) != len(values):
            raise ValueError(f"StarSentimentClassifier.fit: {len(values)} texts but {len(labels)} "
                             "star ratings; pass one rating per text.")
        if len(set(labels)) < 2:
            raise ValueError("StarSentimentClassifier.fit: the training reviews have a single "
                             f"sentiment ({labels[0]!r}); a classifier needs at least two.")
        self.vectorizer_ = TfidfVectorizer(ngram_range=self.ngram_range, min_df=self.min_df,
                                           sublinear_tf=True)
        X = self.vectorizer_.fit_transform(values)
        self.model_ = LogisticRegression(C=self.C, class_weight=self.class_weight,
                                         max_iter=self.max_iter)
        self.model_.fit(X, labels)
        self.classes_ = np.asarray(self.model_.classes_, dtype=object)
        return self

    def _check(self) -> None:
        if not hasattr(self, "model_"):
            raise ValueError("StarSentimentClassifier: call fit(texts, stars) before predicting.")

    def predict(self, texts: object) -> np.ndarray:
        self._check()
        X = self.vectorizer_.transform(validate_texts(texts, "texts", "text"))
        return np.asarray(self.model_.predict(X), dtype=object)

    def predict_proba(self, texts: object) -> pd.DataFrame:
        self._check()
        X = self.vectorizer_.transform(validate_texts(texts, "texts", "text"))
        return pd.DataFrame(self.model_.predict_proba(X), columns=list(self.classes_))

    def top_terms(self, n: int = 8) -> pd.DataFrame:
        """The ``n`` words/pairs with the largest coefficient for each class (what it learned)."""
        self._check()
        words = np.asarray(self.vectorizer_.get_feature_names_out(), dtype=object)
        coef = self.model_.coef_
        if coef.shape[0] == 1:  # binary: one row for the second class
            coef = np.vstack([-coef[0], coef[0]])
        rows = []
        for ci, label in enumerate(self.classes_):
            order = np.argsort(-coef[ci], kind="stable")[:n]
            rows += [{"label": label, "rank": r + 1, "term": words[j], "weight": float(coef[ci, j])}
                     for r, j in enumerate(order)]
        return pd.DataFrame(rows)


def time_split(
    df: pd.DataFrame, ts_col: str = "ts", *, test_share: float = 0.3, table: str = "reviews"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split rows by time: the latest ``test_share`` of rows (by ``ts_col``) are the test set.

    A random split would let the model learn from reviews written after the ones it is
    tested on; a time split mimics deployment (train on the past, score what comes next).
    Rows at the cut time go to the test set. Returns (train, test), each sorted by time.
    """
    d = as_frame(df, table)
    require_columns(d, table, [ts_col])
    datetime_column(d, table, ts_col)
    if not 0 < test_share < 1:
        raise ValueError(f"time_split: test_share={test_share!r} must be between 0 and 1.")
    if len(d) < 2:
        raise ValueError(f"{table}: need at least 2 rows to split, have {len(d)}.")
    d = d.sort_values(ts_col, kind="stable")
    cut = d[ts_col].iloc[min(int(round(len(d) * (1 - test_share))), len(d) - 1)]
    train, test = d.loc[d[ts_col] < cut], d.loc[d[ts_col] >= cut]
    if train.empty:
        raise ValueError(f"{table}: every row shares the first timestamp; nothing is left to train on.")
    return train, test


def score_sentiment(y_true: object, y_pred: object) -> dict[str, float]:
    """Accuracy and macro-F1 of predicted against reference sentiment labels.

    Macro-F1 averages the F1 of "neg", "neu" and "pos" with equal weight (labels present in
    either input), so a scorer that never says "neu" is penalised even though neutral reviews
    are rare. Returns {"n", "accuracy", "macro_f1", "f1_neg", "f1_neu", "f1_pos"} (F1 of a
    label absent from both inputs is NaN).
    """
    from sklearn.metrics import f1_score

    t = np.asarray(pd.Series(y_true).astype(str), dtype=object)
    p = np.asarray(pd.Series(y_pred).astype(str), dtype=object)
    if len(t) != len(p) or len(t) == 0:
        raise ValueError(f"score_sentiment: need the same, non-zero number of labels "
                         f"(got {len(t)} and {len(p)}).")
    unknown = (set(t) | set(p)) - set(SENTIMENTS)
    if unknown:
        raise ValueError(f"score_sentiment: unknown label(s) {sorted(unknown)}; use {SENTIMENTS}.")
    present = [s for s in SENTIMENTS if s in set(t) | set(p)]
    f1 = f1_score(t, p, labels=present, average=None, zero_division=0.0)
    out = {"n": int(len(t)), "accuracy": float(np.mean(t == p)), "macro_f1": float(np.mean(f1))}
    for s in SENTIMENTS:
        out[f"f1_{s}"] = float(f1[present.index(s)]) if s in present else float("nan")
    return out


# --------------------------------------------------------------------------------------
# topics
# --------------------------------------------------------------------------------------


class TopicModel:
    """Topics of short texts: NMF on TF-IDF (default) or LDA on word counts.

    ``fit(texts)`` learns ``n_topics`` topics; ``transform`` gives each text's topic weights
    (rows sum to 1), ``predict`` its main topic (0-based), :meth:`top_words` the words that
    define each topic. Learned attributes: ``vectorizer_``, ``model_``, ``components_``
    (topics x words), ``vocabulary_`` (the words). NMF (non-negative matrix factorisation)
    works well on short texts; LDA (latent Dirichlet allocation) is the probabilistic
    classic and needs raw counts. English stop words ("the", "and") are removed by default;
    ``max_df`` < 1 also drops words that occur in more than that share of texts.
    Deterministic given ``seed``.
    """

    def __init__(self, n_topics: int = 7, method: str = "nmf", *, stop_words: str | None = "english",
                 min_df: int = 1, max_df: float = 1.0, max_iter: int = 500, seed: int = 0) -> None:
        self.n_topics = n_topics
        self.method = method
        self.stop_words = stop_words
        self.min_df = min_df
        self.max_df = max_df
        self.max_iter = max_iter
        self.seed = seed

    def fit(self, texts: object) -> TopicModel:
        from sklearn.decomposition import NMF, LatentDirichletAllocation
        from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

        if self.method not in ("nmf", "lda"):
            raise ValueError(f"TopicModel: method={self.method!r}; use 'nmf' or 'lda'.")
        if not isinstance(self.n_topics, int | np.integer) or self.n_topics < 1:
            raise ValueError(f"TopicModel: n_topics={self.n_topics!r} must be a positive integer.")
        values = validate_texts(texts, "texts", "text")
        if len(values) < self.n_topics:
            raise ValueError(f"TopicModel: {len(values)} texts cannot make {self.n_topics} topics; "
                             "use fewer topics or more texts.")
        vec_cls = TfidfVectorizer if self.method == "nmf" else CountVectorizer
        self.vectorizer_ = vec_cls(stop_words=self.stop_words, min_df=self.min_df, max_df=self.max_df)
        X = self.vectorizer_.fit_transform(values)
        if X.shape[1] < self.n_topics:
            raise ValueError(f"TopicModel: only {X.shape[1]} distinct words after stop-word removal; "
                             "too few for the topics asked for.")
        if self.method == "nmf":
            self.model_ = NMF(int(self.n_topics), init="nndsvda", max_iter=self.max_iter,
                              random_state=self.seed)
        else:
            self.model_ = LatentDirichletAllocation(int(self.n_topics), learning_method="batch",
                                                    max_iter=min(self.max_iter, 100),
                                                    random_state=self.seed)
        self.model_.fit(X)
        self.components_ = self.model_.components_
        self.vocabulary_ = np.asarray(self.vectorizer_.get_feature_names_out(), dtype=object)
        return self

    def _check(self) -> None:
        if not hasattr(self, "model_"):
            raise ValueError("TopicModel: call fit(texts) first.")

    def transform(self, texts: object) -> np.ndarray:
        """Topic weights per text (rows sum to 1; a text with no known word gets equal weights)."""
        self._check()
        W = self.model_.transform(self.vectorizer_.transform(validate_texts(texts, "texts", "text")))
        total = W.sum(axis=1, keepdims=True)
        return np.where(total > 0, W / np.where(total > 0, total, 1.0), 1.0 / W.shape[1])

    def predict(self, texts: object) -> np.ndarray:
        """Main topic (0-based) of each text."""
        return np.argmax(self.transform(texts), axis=1)

    def top_words(self, n: int = 8) -> pd.DataFrame:
        """The ``n`` heaviest words of each topic: columns topic, rank, word, weight."""
        self._check()
        rows = []
        for k, comp in enumerate(self.components_):
            order = np.argsort(-comp, kind="stable")[:n]
            rows += [{"topic": k, "rank": r + 1, "word": self.vocabulary_[j], "weight": float(comp[j])}
                     for r, j in enumerate(order)]
        return pd.DataFrame(rows)


@dataclass(frozen=True)
class TopicMatch:
    """Result of :func:`match_topics`.

    ``mapping``: model topic -> label; ``accuracy``: share of texts whose mapped topic equals
    their label; ``one_to_one_accuracy``: the same counting only the Hungarian (one topic per
    label) pairs; ``table``: the topic x label contingency table.
    """

    mapping: dict[int, str]
    accuracy: float
    one_to_one_accuracy: float
    table: pd.DataFrame


def match_topics(predicted: object, labels: object) -> TopicMatch:
    """Map model topics to known labels with the Hungarian algorithm and score the recovery.

    Builds the topic x label table of counts and finds the one-to-one assignment with the
    largest total agreement (``scipy.optimize.linear_sum_assignment`` on the negated table:
    Kuhn 1955). Topic numbers are arbitrary, so this is how a fitted topic model is compared
    with planted topics. When there are more topics than labels, each topic left over is
    merged into the label it overlaps most (so two "quality" topics both count as quality);
    with fewer topics than labels some labels stay unmatched and count as errors.
    """
    p = np.asarray(predicted)
    y = np.asarray(pd.Series(labels).astype(str), dtype=object)
    if len(p) != len(y) or len(p) == 0:
        raise ValueError(f"match_topics: need the same, non-zero number of topics and labels "
                         f"(got {len(p)} and {len(y)}).")
    table = pd.crosstab(pd.Series(p, name="topic"), pd.Series(y, name="label"))
    rows, cols = optimize.linear_sum_assignment(-table.to_numpy())
    mapping = {int(table.index[r]): str(table.columns[c]) for r, c in zip(rows, cols, strict=True)}
    one_to_one = float(table.to_numpy()[rows, cols].sum() / len(p))
    for t in table.index:
        if int(t) not in mapping:
            mapping[int(t)] = str(table.columns[int(np.argmax(table.loc[t].to_numpy()))])
    mapped = np.array([mapping[int(t)] for t in p], dtype=object)
    return TopicMatch(mapping=dict(sorted(mapping.items())), accuracy=float(np.mean(mapped == y)),
                      one_to_one_accuracy=one_to_one, table=table)


# --------------------------------------------------------------------------------------
# social listening
# --------------------------------------------------------------------------------------


@reads(mentions="")
def daily_mentions(
    mentions: pd.DataFrame,
    negative: object | None = None,
    *,
    start: object | None = None,
    end: object | None = None,
    ts_col: str = "ts",
) -> pd.DataFrame:
    """Mentions per day: n_mentions, n_negative, negative_share (NaN on days without mentions).

    ``negative`` is a boolean per mention (e.g. ``vader_sentiment(...)["label"] == "neg"``);
    without it n_negative is 0. The days run from ``start`` to ``end`` (default: the first and
    last mention), days without mentions included with 0 -- a quiet day is data. Mentions
    outside [start, end] raise ``ValueError`` (filter them first) instead of being dropped.
    """
    df = as_frame(mentions, "mentions")
    require_columns(df, "mentions", [ts_col])
    ts = datetime_column(df, "mentions", ts_col)
    if len(df) == 0 and (start is None or end is None):
        raise ValueError("mentions: the table is empty; pass start and end to get a calendar of zeros.")
    neg = np.zeros(len(df), bool)
    if negative is not None:
        neg = np.asarray(negative)
        if neg.dtype != bool or len(neg) != len(df):
            raise ValueError(f"daily_mentions: negative must be a boolean array with one value per "
                             f"mention ({len(df)}), got dtype {neg.dtype} and length {len(neg)}.")
    day = ts.dt.normalize()
    lo = as_timestamp(start, "start").normalize() if start is not None else day.min()
    hi = as_timestamp(end, "end").normalize() if end is not None else day.max()
    if lo > hi:
        raise ValueError(f"daily_mentions: start {lo.date()} is after end {hi.date()}.")
    outside = int(((day < lo) | (day > hi)).sum())
    if outside:
        raise ValueError(f"mentions: {outside} mention(s) fall outside {lo.date()}..{hi.date()}; "
                         "filter them first (and count them) or widen start/end.")
    days = pd.date_range(lo, hi, freq="D")
    work = pd.DataFrame({"date": day.to_numpy(), "neg": neg})
    g = work.groupby("date")
    out = pd.DataFrame({"n_mentions": g.size(), "n_negative": g["neg"].sum()})
    out = out.reindex(days, fill_value=0).astype("int64")
    out.index.name = "date"
    out["negative_share"] = out["n_negative"] / out["n_mentions"].where(out["n_mentions"] > 0)
    return out.reset_index()


def _series(values: object, name: str) -> pd.Series:
    if isinstance(values, pd.DataFrame):
        raise ValueError(f"{name}: pass one column (a Series), not a DataFrame.")
    s = pd.Series(values)
    try:
        arr = pd.to_numeric(s).to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: values must be numbers (daily counts).") from exc
    if np.isnan(arr).any():
        raise ValueError(f"{name}: {int(np.isnan(arr).sum())} missing values; a day without data is "
                         "0 mentions -- fill with 0 (daily_mentions does).")
    if (arr < 0).any():
        raise ValueError(f"{name}: counts must be >= 0.")
    return pd.Series(arr, index=s.index)


def rolling_zscore(
    values: object,
    *,
    window: int = 28,
    guard: int = 7,
    threshold: float = 3.0,
    min_count: float = 3,
) -> pd.DataFrame:
    """Alarm on a daily count: z = (today - baseline mean) / baseline sd.

    The baseline is the ``window`` days ending ``guard`` days before today (a guard band, as in
    the CDC's EARS C2 method: Hutwagner et al. 2003), so a slowly growing problem does not
    leak into its own baseline. The sd is floored at sqrt(mean) (the Poisson sd; a run of
    zeros must not make one mention look infinite) and at 0.5. Alert when z >= ``threshold``
    and today's count >= ``min_count``. Needs at least ``window // 2`` baseline days (NaN
    before). Columns: value, baseline_mean, baseline_sd, z, alert.
    """
    x = _series(values, "values")
    if window < 2 or guard < 1:
        raise ValueError("rolling_zscore: window must be >= 2 days and guard >= 1 day.")
    base = x.shift(guard).rolling(window, min_periods=max(window // 2, 2))
    mean, sd = base.mean(), base.std()
    sd = np.maximum(np.maximum(sd, np.sqrt(mean.clip(lower=0))), 0.5).where(mean.notna())
    z = (x - mean) / sd
    alert = (z >= threshold) & (x >= min_count)
    return pd.DataFrame({"value": x, "baseline_mean": mean, "baseline_sd": sd, "z": z,
                         "alert": alert.fillna(False).astype(bool)})


def proportion_chart(
    counts: object,
    totals: object,
    *,
    window: int = 56,
    guard: int = 7,
    L: float = 3.0,
    min_count: float = 3,
) -> pd.DataFrame:
    """Shewhart p-chart on a daily share (e.g. negative mentions / all mentions).

    Baseline share p0 = sum of counts / sum of totals over the ``window`` days ending
    ``guard`` days before today (with half a pseudo-event in one pseudo-mention so p0 is never
    exactly 0). Today's limit is UCL = p0 + L sqrt(p0 (1 - p0) / n_today): it widens on quiet
    days and narrows on busy ones, so sale days with many mentions do not look alarming just
    because they are busy (a count chart would fire on Double 11). z = (share - p0) /
    sqrt(p0 (1 - p0) / n). Alert when z >= ``L`` and today's count >= ``min_count``.
    Columns: count, total, share, p0, ucl, z, alert.
    """
    k = _series(counts, "counts")
    n = _series(totals, "totals")
    if len(k) != len(n) or not k.index.equals(n.index):
        raise ValueError("proportion_chart: counts and totals must be aligned (same days).")
    if (k > n).any():
        raise ValueError("proportion_chart: counts exceed totals on "
                         f"{int((k > n).sum())} day(s); counts must be a subset of totals.")
    if window < 2 or guard < 1:
        raise ValueError("proportion_chart: window must be >= 2 days and guard >= 1 day.")
    mp = max(window // 2, 2)
    bk = k.shift(guard).rolling(window, min_periods=mp).sum()
    bn = n.shift(guard).rolling(window, min_periods=mp).sum()
    p0 = (bk + 0.5) / (bn + 1.0)
    share = k / n.where(n > 0)
    se = np.sqrt(p0 * (1 - p0) / n.where(n > 0))
    z = (share - p0) / se
    alert = (z >= L) & (k >= min_count)
    return pd.DataFrame({"count": k, "total": n, "share": share, "p0": p0, "ucl": p0 + L * se,
                         "z": z, "alert": alert.fillna(False).astype(bool)})


def alert_summary(
    alerts: pd.Series,
    event_start: object,
    event_end: object | None = None,
    *,
    quiet_days: int = 30,
) -> dict[str, object]:
    """How an alarm did against a known event (e.g. a planted incident from start to fix).

    ``alerts`` is a boolean Series indexed by day. Returns first_alert (first alert on or after
    ``event_start``, None if none), delay_days (days from event_start to it), alerts_before
    (alerts before the event: false alarms of the worst kind -- crying wolf), false_alarms
    (alert days before the event or more than ``quiet_days`` after ``event_end``; the
    event's after-glow is not counted either way), n_alert_days and days_monitored.
    ``ValueError`` when the event dates are outside the monitored days.
    """
    if not isinstance(alerts, pd.Series) or not isinstance(alerts.index, pd.DatetimeIndex):
        raise ValueError("alert_summary: alerts must be a boolean Series indexed by day "
                         "(e.g. chart.set_index('date')['alert']).")
    a = alerts.astype(bool)
    lo, hi = a.index.min(), a.index.max()
    s = as_timestamp(event_start, "event_start")
    e = as_timestamp(event_end, "event_end") if event_end is not None else s
    for name, t in (("event_start", s), ("event_end", e)):
        if not lo <= t <= hi:
            raise ValueError(f"alert_summary: {name} {t.date()} is outside the monitored days "
                             f"{lo.date()}..{hi.date()}.")
    if e < s:
        raise ValueError(f"alert_summary: event_end {e.date()} is before event_start {s.date()}.")
    days = a.index[a.to_numpy()]
    after = days[days >= s]
    first = after[0] if len(after) else None
    before = int((days < s).sum())
    late = int((days > e + pd.Timedelta(days=quiet_days)).sum())
    return {"first_alert": None if first is None else str(first.date()),
            "delay_days": None if first is None else int((first - s).days),
            "alerts_before": before, "false_alarms": before + late,
            "n_alert_days": int(len(days)), "days_monitored": int(len(a))}


# --------------------------------------------------------------------------------------
# the loop: combined product signals
# --------------------------------------------------------------------------------------


def _mask(mask: object, n: int, name: str) -> np.ndarray:
    m = np.asarray(mask)
    if m.dtype != bool or m.shape != (n,):
        raise ValueError(f"defect_events: {name} must be a boolean array with one value per row "
                         f"({n}), got dtype {m.dtype} and shape {m.shape}.")
    return m


@reads(reviews=Reads("reviews", optional=True),
       tickets=Reads("tickets", optional=True),
       order_items=Reads("order_items", optional=True),
       returns=Reads("returns", optional=True),
       mentions=Reads("social_mentions", optional=True))
def defect_events(
    *,
    reviews: pd.DataFrame | None = None,
    review_mask: object | None = None,
    tickets: pd.DataFrame | None = None,
    order_items: pd.DataFrame | None = None,
    returns: pd.DataFrame | None = None,
    mentions: pd.DataFrame | None = None,
    mention_mask: object | None = None,
    low_stars: int = 2,
    ticket_category: str = "defect",
    return_reasons: Sequence[str] = ("defective",),
) -> pd.DataFrame:
    """Defect signals about products from every feedback source, one row per signal.

    * review: reviews with at most ``low_stars`` stars, further restricted by ``review_mask``
      (e.g. "main topic is the defect topic");
    * ticket: tickets of ``ticket_category``; a ticket names an order, not a product, so it is
      shared among the distinct products of that order (weight 1 / number of products);
      tickets without an order cannot be attributed;
    * return: returns whose reason is in ``return_reasons``;
    * mention: mentions that name a product, restricted by ``mention_mask`` (e.g. negative).

    Columns: source, product_id, ts, weight. What could not be attributed to a product is
    counted in ``out.attrs["unattributed"]`` ({source: count}), not dropped silently.
    """
    parts: list[pd.DataFrame] = []
    unattributed: dict[str, float] = {}

    def add(source: str, pid: object, ts: object, weight: object) -> None:
        parts.append(pd.DataFrame({"source": source, "product_id": np.asarray(pid, dtype="int64"),
                                   "ts": pd.to_datetime(np.asarray(ts)), "weight": np.asarray(weight, float)}))

    if reviews is not None:
        r = as_frame(reviews, "reviews")
        require_columns(r, "reviews", ["product_id", "ts", "stars"])
        datetime_column(r, "reviews", "ts")
        keep = _stars(r["stars"], "reviews", "stars") <= low_stars
        if review_mask is not None:
            keep &= _mask(review_mask, len(r), "review_mask")
        x = r.loc[keep]
        add("review", x["product_id"], x["ts"], np.ones(len(x)))
    if tickets is not None:
        t = as_frame(tickets, "tickets")
        require_columns(t, "tickets", ["ticket_id", "order_id", "created_ts", "category"])
        datetime_column(t, "tickets", "created_ts")
        if order_items is None:
            raise ValueError("defect_events: tickets need order_items to find the products of each "
                             "ticket's order; pass order_items=shop.order_items.")
        oi = as_frame(order_items, "order_items")
        require_columns(oi, "order_items", ["order_id", "product_id"])
        t = t.loc[t["category"].astype(str) == ticket_category]
        no_order = t["order_id"].isna()
        unattributed["ticket"] = int(no_order.sum())
        t = t.loc[~no_order, ["ticket_id", "order_id", "created_ts"]]
        t = t.assign(order_id=t["order_id"].astype("int64"))
        prods = oi[["order_id", "product_id"]].drop_duplicates()
        tt = t.merge(prods, on="order_id", how="left")
        lost = int(tt.loc[tt["product_id"].isna(), "ticket_id"].nunique())
        unattributed["ticket"] += lost
        tt = tt.dropna(subset=["product_id"])
        weight = 1.0 / tt.groupby("ticket_id")["product_id"].transform("size").to_numpy()
        add("ticket", tt["product_id"], tt["created_ts"], weight)
    if returns is not None:
        rt = as_frame(returns, "returns")
        require_columns(rt, "returns", ["product_id", "requested_ts", "reason"])
        datetime_column(rt, "returns", "requested_ts")
        x = rt.loc[rt["reason"].astype(str).isin(list(return_reasons))]
        add("return", x["product_id"], x["requested_ts"], np.ones(len(x)))
    if mentions is not None:
        m = as_frame(mentions, "mentions")
        require_columns(m, "mentions", ["product_id", "ts"])
        datetime_column(m, "mentions", "ts")
        keep = np.ones(len(m), bool) if mention_mask is None else _mask(mention_mask, len(m), "mention_mask")
        named = m["product_id"].notna().to_numpy()
        unattributed["mention"] = int((keep & ~named).sum())
        x = m.loc[keep & named]
        add("mention", x["product_id"].astype("int64"), x["ts"], np.ones(len(x)))
    if not parts:
        raise ValueError("defect_events: pass at least one source (reviews, tickets, returns, mentions).")
    out = pd.concat(parts, ignore_index=True)
    out["source"] = pd.Categorical(out["source"], categories=list(SOURCES))
    out = out.sort_values(["ts", "source"], kind="stable").reset_index(drop=True)
    out.attrs["unattributed"] = unattributed
    return out


def _week_start(ts: pd.Series) -> pd.Series:
    d = ts.dt.normalize()
    return d - pd.to_timedelta(d.dt.day_of_week, unit="D")


@reads(orders="order_id order_ts",
       order_items="order_id product_id quantity",
       products=Reads("products", optional=True))
def product_signals(
    events: pd.DataFrame,
    orders: pd.DataFrame,
    order_items: pd.DataFrame,
    *,
    products: Sequence[int] | None = None,
    window_weeks: int = 4,
    baseline_weeks: int = 13,
    prior_units: float = 200.0,
    min_count: float = 2,
    cap: float = 5.0,
    threshold: float = 3.5,
) -> pd.DataFrame:
    """Weekly defect score per product from all feedback sources together.

    For each product, week w and source s (``events`` from :func:`defect_events`):

    1. x = the source's signals in the ``window_weeks`` weeks ending with w (a problem needs a
       few weeks to show up in a small shop);
    2. exposure u = units of the product sold in those weeks and the week before (feedback
       lags the order), at least 1;
    3. the product's usual rate per unit comes from the ``baseline_weeks`` weeks before the
       window, shrunk towards the all-product rate of the same weeks with the weight of
       ``prior_units`` units (so a product with little history borrows the shop's rate);
       expected e = rate x u;
    4. z = the Poisson mid-p surprise of x given e, turned into a normal score
       (P(X > x) + P(X = x) / 2 = 1 - Phi(z)); it is set to at most 0 when x < ``min_count``
       (one defective unit makes a review, a ticket *and* a return from the same customer --
       not three independent alarms) and clipped to [-cap, cap] (no single source can raise
       the alarm on its own);
    5. score = sum of the source z's / sqrt(number of sources) (Stouffer's method); flag when
       score >= ``threshold``.

    Scores start once a baseline exists (NaN before). Only past weeks are used at each week:
    the score could have been computed on that day. Columns: product_id, week, units,
    exposure, and per source n_<s> (signals), e_<s> (expected), z_<s>; score, flag.
    """
    ev = as_frame(events, "events")
    require_columns(ev, "events", ["source", "product_id", "ts", "weight"],
             fix="Pass the output of defect_events().")
    o = as_frame(orders, "orders")
    oi = as_frame(order_items, "order_items")
    require_columns(o, "orders", ["order_id", "order_ts"])
    require_columns(oi, "order_items", ["order_id", "product_id", "quantity"])
    datetime_column(o, "orders", "order_ts")
    if window_weeks < 1 or baseline_weeks < 1 or prior_units < 0 or cap <= 0:
        raise ValueError("product_signals: window_weeks and baseline_weeks must be >= 1, "
                         "prior_units >= 0 and cap > 0.")
    lines = oi[["order_id", "product_id", "quantity"]].merge(o[["order_id", "order_ts"]], on="order_id",
                                                             how="left", validate="many_to_one")
    if lines["order_ts"].isna().any():
        raise ValueError(f"order_items: {int(lines['order_ts'].isna().sum())} line(s) belong to orders "
                         "not in the orders table; load the matching orders.")
    lines["week"] = _week_start(lines["order_ts"])
    ev = ev.assign(week=_week_start(datetime_column(ev, "events", "ts")))
    first = min(lines["week"].min(), ev["week"].min()) if len(ev) else lines["week"].min()
    last = max(lines["week"].max(), ev["week"].max()) if len(ev) else lines["week"].max()
    weeks = pd.date_range(first, last, freq="7D")
    pids = np.sort(pd.unique(np.r_[lines["product_id"].to_numpy(), ev["product_id"].to_numpy()]))
    if products is not None:
        pids = np.asarray(sorted(set(int(p) for p in products) | set(int(p) for p in pids)))

    def grid(df: pd.DataFrame, value: str) -> np.ndarray:
        tab = df.groupby(["product_id", "week"])[value].sum().unstack(fill_value=0)
        return tab.reindex(index=pids, columns=weeks, fill_value=0).to_numpy(dtype=float)

    def roll(a: np.ndarray, width: int, lag: int = 0) -> np.ndarray:
        """Sum over columns t-lag-width+1 .. t-lag (zeros before the data)."""
        c = np.concatenate([np.zeros((a.shape[0], 1)), np.cumsum(a, axis=1)], axis=1)
        t = np.arange(a.shape[1])
        hi = np.clip(t - lag + 1, 0, a.shape[1])
        lo = np.clip(t - lag - width + 1, 0, a.shape[1])
        return c[:, hi] - c[:, lo]

    units = grid(lines, "quantity")
    exposure = np.maximum(roll(units, window_weeks + 1), 1.0)
    base_units = roll(units, baseline_weeks, lag=window_weeks)
    t_idx = np.arange(len(weeks))
    has_base = (t_idx - window_weeks + 1) >= min(4, baseline_weeks)  # at least 4 baseline weeks
    out = pd.DataFrame({"product_id": np.repeat(pids, len(weeks)), "week": np.tile(weeks, len(pids)),
                        "units": units.ravel().astype("int64"), "exposure": exposure.ravel()})
    z_sum = np.zeros_like(units)
    present = [s for s in SOURCES if s in set(ev["source"].astype(str))] or list(SOURCES)
    for s in present:
        c1 = grid(ev.loc[ev["source"].astype(str) == s], "weight")
        x = roll(c1, window_weeks)
        cb = roll(c1, baseline_weeks, lag=window_weeks)
        pooled = cb.sum(axis=0) / np.maximum(base_units.sum(axis=0), 1.0)
        rate = (cb + prior_units * pooled) / np.maximum(base_units + prior_units, 1e-12)
        e = rate * exposure
        xf = np.floor(x + 1e-9)
        p = stats.poisson.sf(xf, e) + 0.5 * stats.poisson.pmf(xf, e)
        with np.errstate(divide="ignore"):
            z = stats.norm.isf(np.clip(p, 0.0, 1.0))
        z = np.where(x >= min_count, z, np.minimum(z, 0.0))
        z = np.clip(z, -cap, cap)
        z = np.where(has_base[None, :], z, np.nan)
        z_sum = z_sum + z
        out[f"n_{s}"] = x.ravel()
        out[f"e_{s}"] = np.where(has_base[None, :], e, np.nan).ravel()
        out[f"z_{s}"] = z.ravel()
    out["score"] = (z_sum / math.sqrt(len(present))).ravel()
    out["flag"] = (out["score"] >= threshold).fillna(False).astype(bool)
    out.attrs.update({"sources": present, "threshold": threshold, "window_weeks": window_weeks,
                      "baseline_weeks": baseline_weeks})
    return out


# --------------------------------------------------------------------------------------
# measuring the fix
# --------------------------------------------------------------------------------------


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
    """
    from crmlab.aftersales import return_lines

    lines = return_lines(orders, order_items, returns, products)
    reason = lines["reason"].astype("str").fillna("")
    lines["defect_return"] = (lines["returned"].to_numpy() & reason.isin(list(reasons)).to_numpy())
    return lines


def _periods(periods: Mapping[str, tuple[object, object]], lo: pd.Timestamp, hi: pd.Timestamp,
             ) -> dict[str, tuple[pd.Timestamp, pd.Timestamp]]:
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
        for group, g in (("affected", affected), ("controls", ctrl)):
            m = inside & g
            n, k = int(m.sum()), int(y[m].sum())
            low, high = wilson_interval(k, n, level=level)
            rows.append({"period": name, "group": group, "n": n, "events": k,
                         "rate": k / n if n else float("nan"), "low": low, "high": high})
    return pd.DataFrame(rows)


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

    Returns {"estimate", "se", "low", "high", "p_value", "level", "table"} where table holds
    the four cells (treated, post, n, mean, var).
    """
    df = as_frame(data, "data")
    require_columns(df, "data", [outcome, treated, post])
    z = z_for_level(level)
    try:
        y = pd.to_numeric(df[outcome]).to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"data: column '{outcome}' must be numeric or boolean.") from exc
    if np.isnan(y).any():
        raise ValueError(f"data: column '{outcome}' has {int(np.isnan(y).sum())} missing values; "
                         "drop (and count) them first.")
    flags = {}
    for col in (treated, post):
        v = df[col]
        if v.isna().any() or not pd.api.types.is_bool_dtype(v):
            raise ValueError(f"data: column '{col}' must be boolean without missing values "
                             f"(True for the {'affected group' if col == treated else 'later period'}).")
        flags[col] = v.to_numpy(dtype=bool)
    rows = []
    for tr in (False, True):
        for po in (False, True):
            m = (flags[treated] == tr) & (flags[post] == po)
            n = int(m.sum())
            if n < 2:
                raise ValueError(f"diff_in_diff: the cell treated={tr}, post={po} has {n} row(s); "
                                 "each of the four cells needs at least 2.")
            rows.append({"treated": tr, "post": po, "n": n, "mean": float(y[m].mean()),
                         "var": float(y[m].var(ddof=1))})
    table = pd.DataFrame(rows)
    mean = {(r.treated, r.post): r.mean for r in table.itertuples()}
    est = (mean[(True, True)] - mean[(True, False)]) - (mean[(False, True)] - mean[(False, False)])
    se = float(np.sqrt((table["var"] / table["n"]).sum()))
    p = float(2 * stats.norm.sf(abs(est) / se)) if se > 0 else float("nan")
    return {"estimate": float(est), "se": se, "low": float(est - z * se), "high": float(est + z * se),
            "p_value": p, "level": level, "table": table}


# --------------------------------------------------------------------------------------
# feedback into product development (回饋用於產品開發): tag, prioritise, track to a change
# --------------------------------------------------------------------------------------

#: Keyword rules for the shop's feature-request themes (a request takes the first theme whose
#: keyword it contains, lower case). Data: a shop writes its own as new themes appear.
REQUEST_THEMES: dict[str, tuple[str, ...]] = {
    "eco_packaging": ("plastic", "packaging"),
    "same_day_delivery": ("same-day", "same day"),
    "larger_sizes": ("sizes above", "larger size", "xl"),
    "longer_battery": ("battery",),
    "refill_packs": ("refill",),
    "bulk_discount": ("bulk",),
    "wishlist_sharing": ("wishlist",),
}


def tag_requests(requests: pd.DataFrame, themes: Mapping[str, Sequence[str]] = REQUEST_THEMES,
                 text_col: str = "text") -> pd.DataFrame:
    """Give each feature request a ``theme`` by keyword rules (first match in ``themes`` order;
    ``"other"`` when none matches, so nothing is dropped). Returns a copy with ``theme``."""
    require_columns(requests, "feature_requests", [text_col])
    if not themes or any(not kws for kws in themes.values()):
        raise ValueError("tag_requests: every theme needs at least one keyword, e.g. {'refills': ('refill',)}.")
    text = requests[text_col].astype("str").str.lower()
    theme = pd.Series("other", index=requests.index, dtype="str")
    done = pd.Series(False, index=requests.index)
    for name, keywords in themes.items():
        hit = ~done & text.str.contains(keyword_pattern(keywords), regex=True)
        theme[hit] = name
        done |= hit
    return requests.assign(theme=theme)


@reads(orders="customer_id amount")
def prioritize_requests(tagged: pd.DataFrame, orders: pd.DataFrame,
                        effort: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Rank the themes a product team could work on: per ``theme``, ``requests``, ``reach``
    (distinct customers asking), ``requester_spend`` (what those customers paid, NT$: whose
    wish it is) and, when ``effort`` (person-weeks per theme) is given, ``score`` =
    requester spend / effort (NT$ of the customers served per week of work, a RICE-style
    value for effort; themes without an effort estimate get no score). Sorted by score, else
    by reach."""
    require_columns(tagged, "feature_requests", ["customer_id", "theme"])
    require_columns(orders, "orders", ["customer_id", "amount"])
    spend = orders.groupby("customer_id")["amount"].sum()
    g = tagged.groupby("theme")
    out = pd.DataFrame({"requests": g.size(), "reach": g["customer_id"].nunique()})
    out["requester_spend"] = [float(spend.reindex(ids.unique()).fillna(0).sum())
                              for _, ids in g["customer_id"]]
    if effort is not None:
        bad = {k: v for k, v in effort.items() if not (np.isfinite(v) and v > 0)}
        if bad:
            raise ValueError(f"prioritize_requests: effort must be positive person-weeks, got {bad}.")
        weeks = pd.Series(effort, dtype="float64").reindex(out.index)
        out["effort_weeks"] = weeks
        out["score"] = out["requester_spend"] / weeks
        out = out.sort_values(["score", "reach"], ascending=False, na_position="last")
    else:
        out = out.sort_values("reach", ascending=False)
    return out.reset_index()


def change_effect(tagged: pd.DataFrame, changes: pd.DataFrame, *, end: object,
                  start: object = None, level: float = 0.95) -> pd.DataFrame:
    """Did a shipped change answer the requests? Per change: requests a day on its theme before
    and after ``shipped_ts``, the rate ratio after / before and its exact interval (conditional
    binomial: given n requests in total, the number after is Binomial(n, p) with
    p = r t_after / (t_before + r t_after); Clopper-Pearson on p, mapped back to r).

    A ratio well below 1 closes the loop (the need was met); near 1, the change did not answer
    what customers asked. ``start``/``end`` bound the observation (default start: the first
    request).
    """
    require_columns(tagged, "feature_requests", ["ts", "theme"])
    require_columns(changes, "product_changes", ["change_id", "theme", "shipped_ts"])
    ts = datetime_column(tagged, "feature_requests", "ts")
    t1 = as_timestamp(end, "end")
    t0 = ts.min() if start is None else as_timestamp(start, "start")
    alpha = 1 - level
    rows = []
    for ch in changes.itertuples(index=False):
        shipped = pd.Timestamp(ch.shipped_ts)
        if not (t0 < shipped < t1):
            raise ValueError(f"change_effect: change {ch.change_id} shipped {shipped} outside the "
                             f"observed window ({t0} .. {t1}); widen start/end.")
        own = ts[(tagged["theme"] == ch.theme).to_numpy() & (ts >= t0).to_numpy() & (ts <= t1).to_numpy()]
        before_days = (shipped - t0) / pd.Timedelta(days=1)
        after_days = (t1 - shipped) / pd.Timedelta(days=1)
        n_after = int((own >= shipped).sum())
        n = len(own)
        ratio = (n_after / after_days) / ((n - n_after) / before_days) if n > n_after else float("inf")
        lo_p = stats.beta.ppf(alpha / 2, n_after, n - n_after + 1) if n_after > 0 else 0.0
        hi_p = stats.beta.ppf(1 - alpha / 2, n_after + 1, n - n_after) if n_after < n else 1.0
        rows.append({"change_id": ch.change_id, "theme": ch.theme, "shipped_ts": shipped,
                     "per_day_before": (n - n_after) / before_days, "per_day_after": n_after / after_days,
                     "rate_ratio": ratio, "low": _odds_to_rate_ratio(lo_p, before_days, after_days),
                     "high": _odds_to_rate_ratio(hi_p, before_days, after_days), "level": level})
    return pd.DataFrame(rows)


def _odds_to_rate_ratio(p: float, before_days: float, after_days: float) -> float:
    """Share of requests after the change -> rate ratio after / before (exposure-adjusted)."""
    return (p / (1 - p)) * before_days / after_days if p < 1 else float("inf")
