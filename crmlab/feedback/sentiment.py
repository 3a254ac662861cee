"""Sentiment (情感分析): VADER's lexicon and a classifier learned from the shop's own stars.

:func:`vader_sentiment` needs no training; :class:`StarSentimentClassifier` learns from star
ratings; :func:`time_split` tests on reviews written later; :func:`score_sentiment` scores.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab._checks import as_frame, datetime_column, require_columns
from crmlab.base import Estimator
from crmlab.feedback.validation import _stars, validate_texts

__all__ = [
    "SENTIMENTS",
    "StarSentimentClassifier",
    "score_sentiment",
    "stars_to_sentiment",
    "time_split",
    "vader_sentiment",
]


#: Sentiment labels, negative to positive.
SENTIMENTS: tuple[str, ...] = ("neg", "neu", "pos")


#: VADER's recommended thresholds on the compound score (vaderSentiment README, "About the
#: Scoring"): positive >= 0.05, negative <= -0.05, neutral in between.
VADER_THRESHOLDS: tuple[float, float] = (-0.05, 0.05)


def stars_to_sentiment(stars: object) -> np.ndarray:
    """Star ratings -> "neg" (1-2), "neu" (3), "pos" (4-5), as an object array of ``str``.

    Parameters
    ----------
    stars : array-like
        Whole star ratings 1..5.

    Returns
    -------
    np.ndarray
        The labels, one per rating.
    """
    s = _stars(stars, "stars", "stars")
    return np.where(s >= 4, "pos", np.where(s == 3, "neu", "neg")).astype(object)


def _vader():
    """VADER's analyser (the vaderSentiment package ships its lexicon)."""
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

    Parameters
    ----------
    texts : list or pd.Series of str
        The texts to score.
    neg_threshold, pos_threshold : float, default -0.05, 0.05
        Compound scores at or beyond which a text is negative / positive.
    table, column : str, default "texts", "text"
        Names used in error messages.

    Returns
    -------
    pd.DataFrame
        One row per text (the index of ``texts`` when it is a Series).
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


class StarSentimentClassifier(Estimator):
    """Sentiment learned from star ratings: TF-IDF words and word pairs + logistic regression.

    ``fit(texts, stars)`` turns the stars into labels with :func:`stars_to_sentiment` (the
    customer labelled their own text), ``predict(texts)`` returns "neg"/"neu"/"pos" and
    ``predict_proba`` the class probabilities (columns in ``classes_``). Learned attributes:
    ``vectorizer_`` (a fitted ``TfidfVectorizer``), ``model_`` (``LogisticRegression``),
    ``classes_``. Parameters: ``ngram_range`` (1-2 catches "not worth"), ``min_df``,
    ``C`` (inverse regularisation strength), ``class_weight`` ("balanced" so that the rare
    neutral class is not ignored) and ``max_iter``.

    Parameters
    ----------
    ngram_range : tuple of int, default (1, 2)
        Word n-grams of the TF-IDF vectoriser.
    min_df : int, default 1
        Minimum number of texts a term must appear in.
    C : float, default 10.0
        Inverse regularisation strength of the logistic regression.
    class_weight : str or None, default "balanced"
        Class weights of the logistic regression.
    max_iter : int, default 2000
        Iterations of the logistic regression's solver.
    """

    _fit_call = "fit(texts, stars)"

    def __init__(self, ngram_range: tuple[int, int] = (1, 2), min_df: int = 1, C: float = 10.0,
                 class_weight: str | None = "balanced", max_iter: int = 2000) -> None:
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter

    def fit(self, texts: object, stars: object) -> StarSentimentClassifier:
        """Learn sentiment from ``texts`` and their star ratings; returns self."""
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

    def predict(self, texts: object) -> np.ndarray:
        """The predicted label of each text."""
        self._check_fitted()
        X = self.vectorizer_.transform(validate_texts(texts, "texts", "text"))
        return np.asarray(self.model_.predict(X), dtype=object)

    def predict_proba(self, texts: object) -> pd.DataFrame:
        """Probability of each label (columns ``classes_``), one row per text."""
        self._check_fitted()
        X = self.vectorizer_.transform(validate_texts(texts, "texts", "text"))
        return pd.DataFrame(self.model_.predict_proba(X), columns=list(self.classes_))

    def top_terms(self, n: int = 8) -> pd.DataFrame:
        """The ``n`` words/pairs with the largest coefficient for each class (what it learned)."""
        self._check_fitted()
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

    Parameters
    ----------
    df : pd.DataFrame
        Rows to split (e.g. ``reviews``).
    ts_col : str, default "ts"
        The time column.
    test_share : float, default 0.3
        Share of rows, the latest, in the test set (0 < share < 1).
    table : str, default "reviews"
        Name of the table in error messages.

    Returns
    -------
    tuple of pd.DataFrame
        ``(train, test)``.
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

    Parameters
    ----------
    y_true, y_pred : array-like of str
        Reference and predicted labels ("neg", "neu", "pos"), same length.

    Returns
    -------
    dict
        The scores listed above.
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
