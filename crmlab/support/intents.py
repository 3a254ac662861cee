"""Smart service (智能客服): intent recognition, the bot's hand-off threshold, mentions to answer.

:class:`IntentClassifier` predicts a query's intent; :func:`bot_decisions` and
:func:`handoff_tradeoff` turn its probabilities into answer-or-hand-off decisions;
:func:`mentions_needing_reply` picks the social mentions the team should answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmlab._checks import as_frame, reads, require_columns
from crmlab.base import Estimator
from crmlab.support._validate import _texts

__all__ = [
    "IntentClassifier",
    "bot_decisions",
    "handoff_tradeoff",
    "SERVICE_COMPLAINT_WORDS",
    "mentions_needing_reply",
]


class IntentClassifier(Estimator):
    """The intent of a short text (意圖辨識): TF-IDF words + logistic regression.

    A scikit-learn classifier: ``fit(texts, labels)``, ``predict_proba(texts)`` (one column
    per class in ``classes_``), ``predict``, ``score`` (accuracy), ``get_params`` /
    ``set_params`` (so ``sklearn.base.clone`` and grid search work). The TF-IDF vectoriser
    uses sublinear tf. A text with no known word gets the class priors of the intercepts: low
    confidence, so a bot hands it off.

    Parameters
    ----------
    ngram_range : tuple of int, default (1, 1)
        Word n-grams of the TF-IDF vectoriser.
    min_df : int, default 1
        Minimum number of texts a term must appear in.
    C : float, default 10.0
        Inverse regularisation strength of the logistic regression.
    max_iter : int, default 2000
        Iterations of the logistic regression's solver.

    Attributes
    ----------
    pipeline_ : sklearn.pipeline.Pipeline
        The fitted vectoriser and classifier.
    classes_ : np.ndarray
        The intents, in the column order of :meth:`predict_proba`.
    vocabulary_size_ : int
        Number of terms the vectoriser knows.
    """

    _estimator_type = "classifier"
    _fit_call = "fit(texts, labels)"

    def __init__(self, ngram_range: tuple[int, int] = (1, 1), min_df: int = 1, C: float = 10.0,
                 max_iter: int = 2000) -> None:
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.C = C
        self.max_iter = max_iter

    def set_params(self, **params: Any) -> IntentClassifier:
        """Set hyperparameters (as scikit-learn's), naming the valid ones for an unknown name."""
        valid = sorted(self.get_params())
        bad = sorted(set(params) - set(valid))
        if bad:
            raise ValueError(f"IntentClassifier.set_params: unknown {bad}; use {valid}.")
        return super().set_params(**params)

    def fit(self, X: object, y: object) -> IntentClassifier:
        """Learn intents from texts ``X`` and their labels ``y``; returns self."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        texts = _texts(X, "X (texts)", "IntentClassifier.fit")
        labels = pd.Series(list(y) if not isinstance(y, pd.Series) else y)  # type: ignore[call-overload]
        if len(labels) != len(texts):
            raise ValueError(f"IntentClassifier.fit: {len(labels)} labels for {len(texts)} texts.")
        if labels.isna().any():
            raise ValueError("IntentClassifier.fit: labels have missing values; drop those rows.")
        labels = labels.astype("str").to_numpy()
        if len(set(labels)) < 2:
            raise ValueError("IntentClassifier.fit: need texts of at least two intents to learn.")
        self.pipeline_ = make_pipeline(
            TfidfVectorizer(ngram_range=self.ngram_range, min_df=self.min_df, sublinear_tf=True),
            LogisticRegression(C=self.C, max_iter=self.max_iter))
        self.pipeline_.fit(texts.to_numpy(), labels)
        self.classes_ = self.pipeline_.classes_
        self.vocabulary_size_ = len(self.pipeline_[0].vocabulary_)
        return self

    def predict_proba(self, X: object) -> np.ndarray:
        """Probability of each class in ``classes_``, one row per text."""
        self._check_fitted()
        return self.pipeline_.predict_proba(_texts(X, "X (texts)", "IntentClassifier").to_numpy())

    def predict(self, X: object) -> np.ndarray:
        """The most probable intent of each text."""
        self._check_fitted()
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def score(self, X: object, y: object) -> float:
        """Accuracy of :meth:`predict` against the labels ``y``."""
        return float(np.mean(self.predict(X) == pd.Series(list(y)).astype("str").to_numpy()))  # type: ignore[call-overload]


def _check_proba(proba: object, classes: object, func: str) -> tuple[np.ndarray, np.ndarray]:
    """``proba`` as a 2-D array of probability rows with one column per class."""
    p = np.asarray(proba, dtype="float64")
    c = np.asarray(classes, dtype=object)
    if p.ndim != 2 or p.shape[1] != len(c) or len(c) < 2:
        raise ValueError(f"{func}: proba must be a 2-D array with one column per class "
                         f"({len(c)} classes), got shape {p.shape}; pass model.predict_proba(X) "
                         "and model.classes_.")
    if not np.all(np.isfinite(p)) or (p < 0).any() or not np.allclose(p.sum(axis=1), 1, atol=1e-6):
        raise ValueError(f"{func}: every row of proba must be probabilities summing to 1.")
    return p, c


def _check_threshold(threshold: object, func: str) -> float:
    """``threshold`` as a probability in [0, 1]; ValueError otherwise."""
    try:
        t = float(threshold)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        t = float("nan")
    if isinstance(threshold, bool) or not 0 <= t <= 1:
        raise ValueError(f"{func}: threshold={threshold!r} must be a probability in [0, 1], "
                         "e.g. 0.6.")
    return t


def bot_decisions(proba: object, classes: object, threshold: float) -> pd.DataFrame:
    """The FAQ bot's decision per query: ``intent`` (the top class), ``probability`` (its
    probability) and ``answered`` (probability >= ``threshold``; else hand off to an agent).

    Parameters
    ----------
    proba : array-like, shape (n_queries, n_classes)
        Class probabilities, e.g. ``model.predict_proba(texts)``.
    classes : array-like
        The class of each column, e.g. ``model.classes_``.
    threshold : float
        Lowest probability at which the bot answers, in [0, 1].

    Returns
    -------
    pd.DataFrame
        One row per query: ``intent``, ``probability``, ``answered``.
    """
    func = "bot_decisions"
    p, c = _check_proba(proba, classes, func)
    t = _check_threshold(threshold, func)
    top = p.argmax(axis=1)
    prob = p[np.arange(len(p)), top]
    return pd.DataFrame({"intent": pd.array(c[top].astype(str), dtype="str"),
                         "probability": prob, "answered": prob >= t})


def handoff_tradeoff(
    proba: object,
    classes: object,
    true_intent: object,
    *,
    escalated: object = None,
    thresholds: Sequence[float] | None = None,
) -> pd.DataFrame:
    """The bot's threshold trade-off: one row per threshold.

    ``answer_rate`` = answered / queries and ``handoff_rate`` = 1 - answer_rate;
    ``containment_rate`` = queries answered with the right intent / queries (solved without
    an agent, if a right answer solves it); ``wrong_answer_rate`` = answered with a wrong
    intent / answered (NaN when nothing is answered). With ``escalated`` (True for queries
    that ended in a ticket): ``tickets_reached`` = escalated queries answered right (an
    upper bound on the tickets the bot saves) out of ``escalated``.

    Parameters
    ----------
    proba : array-like, shape (n_queries, n_classes)
        Class probabilities, e.g. ``model.predict_proba(texts)``.
    classes : array-like
        The class of each column.
    true_intent : array-like
        The right intent of each query.
    escalated : array-like of bool, optional
        True for queries that ended in a ticket.
    thresholds : sequence of float, optional
        Thresholds to try; default 0, 0.05, ..., 1.

    Returns
    -------
    pd.DataFrame
        One row per threshold with the columns above.
    """
    func = "handoff_tradeoff"
    p, c = _check_proba(proba, classes, func)
    truth = pd.Series(list(true_intent) if not isinstance(true_intent, pd.Series) else true_intent)  # type: ignore[call-overload]
    if len(truth) != len(p) or truth.isna().any():
        raise ValueError(f"{func}: true_intent needs one label per row of proba ({len(p)}), no "
                         f"missing values; got {len(truth)}.")
    ths = np.round(np.linspace(0, 1, 21), 2) if thresholds is None else \
        np.array([_check_threshold(t, func) for t in thresholds])
    top = p.argmax(axis=1)
    prob = p[np.arange(len(p)), top]
    right = c[top].astype(str) == truth.astype("str").to_numpy()
    esc = None
    if escalated is not None:
        esc = np.asarray(escalated, dtype=bool)
        if esc.shape != (len(p),):
            raise ValueError(f"{func}: escalated needs one True/False per query ({len(p)}).")
    return pd.DataFrame([_threshold_row(t, prob, right, esc) for t in ths])


def _threshold_row(t: float, prob: np.ndarray, right: np.ndarray,
                   esc: np.ndarray | None) -> dict[str, float]:
    """The bot's figures when it answers every query whose top probability is >= ``t``."""
    ans = prob >= t
    n_ans = int(ans.sum())
    row = {"threshold": float(t), "answered": n_ans, "answer_rate": n_ans / len(prob),
           "handoff_rate": 1 - n_ans / len(prob), "containment_rate": float((ans & right).mean()),
           "wrong_answer_rate": float((ans & ~right).sum() / n_ans) if n_ans else float("nan")}
    if esc is not None:
        row["tickets_reached"] = int((ans & right & esc).sum())
        row["escalated"] = int(esc.sum())
    return row


#: Words that make a social-media mention a complaint about the service, whatever a
#: general-purpose sentiment lexicon says ("the delivery is so slow" has no negative word
#: for VADER). Matched as whole words, without regard to case.
SERVICE_COMPLAINT_WORDS: tuple[str, ...] = (
    "slow", "late", "never answers", "never answer", "no reply", "not arrived", "missing",
    "refund", "broken", "defective", "faulty",
)


@reads(mentions="")
def mentions_needing_reply(
    mentions: pd.DataFrame,
    *,
    words: Sequence[str] = SERVICE_COMPLAINT_WORDS,
    sentiment: object = None,
) -> pd.DataFrame:
    """Social mentions the support team should answer: negative sentiment OR a complaint word.

    ``sentiment``: one label per mention ("neg", "neu", "pos"); by default VADER's label
    (:func:`crmlab.feedback.vader_sentiment`). Columns (aligned with ``mentions``):
    ``sentiment``, ``word`` (the first complaint word found, "" if none) and ``needs_reply``.

    Parameters
    ----------
    mentions : pd.DataFrame
        The ``social_mentions`` table (``text``).
    words : sequence of str, default SERVICE_COMPLAINT_WORDS
        Complaint words, matched as whole words.
    sentiment : array-like of str, optional
        One label per mention; default VADER's.

    Returns
    -------
    pd.DataFrame
        ``sentiment``, ``word``, ``needs_reply``, aligned with ``mentions``.
    """
    import re

    func = "mentions_needing_reply"
    m = as_frame(mentions, "social_mentions", func=func)
    require_columns(m, "social_mentions", ["text"], func=func)
    text = _texts(m["text"], "social_mentions.text", func)
    if isinstance(words, str) or not all(isinstance(w, str) and w.strip() for w in words):
        raise ValueError(f"{func}: words must be a list of non-empty strings, e.g. "
                         "crmlab.support.SERVICE_COMPLAINT_WORDS.")
    if sentiment is None:
        from crmlab.feedback import vader_sentiment

        label = vader_sentiment(text, table="social_mentions")["label"].astype("str").to_numpy()
    else:
        label = pd.Series(list(sentiment)).astype("str").to_numpy()  # type: ignore[call-overload]
        if len(label) != len(m):
            raise ValueError(f"{func}: {len(label)} sentiment labels for {len(m)} mentions.")
    if words:
        pattern = r"\b(" + "|".join(re.escape(w) for w in words) + r")\b"
        found = text.str.extract(pattern, flags=re.IGNORECASE, expand=False).fillna("")
    else:
        found = pd.Series("", index=text.index)
    found = found.astype("str").str.lower()
    return pd.DataFrame({"sentiment": pd.array(label, dtype="str"), "word": found.to_numpy(),
                         "needs_reply": (label == "neg") | (found != "").to_numpy()},
                        index=m.index)
