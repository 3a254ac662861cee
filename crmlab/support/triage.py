"""Ticket triage (工單分類): predicting a ticket's category from its words, and scoring it.

:class:`TicketTriage` is TF-IDF + logistic regression; :func:`time_split` trains on the past
and tests on the future; :func:`classification_scores` and :func:`confusion_table` judge it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from crmlab._checks import as_frame, datetime_column, require_columns
from crmlab.base import Estimator

__all__ = [
    "time_split",
    "TicketTriage",
    "classification_scores",
    "confusion_table",
]


def time_split(
    df: pd.DataFrame,
    *,
    time_col: str = "created_ts",
    test_share: float = 0.3,
    table: str = "tickets",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split by time: the earliest ``1 - test_share`` of rows train, the latest test.

    A random split would let the model peek at the future (new templates, new products);
    support teams train on last month and are judged on this month.

    Parameters
    ----------
    df : pd.DataFrame
        Rows to split (e.g. ``tickets``).
    time_col : str, default "created_ts"
        The time column to order by.
    test_share : float, default 0.3
        Share of rows, the latest, that form the test set (0 < share < 1).
    table : str, default "tickets"
        Name of the table in error messages.

    Returns
    -------
    tuple of pd.DataFrame
        ``(train, test)``, each a copy in time order.
    """
    d = as_frame(df, table)
    require_columns(d, table, [time_col])
    ts = datetime_column(d, table, time_col)
    if not 0 < test_share < 1:
        raise ValueError(f"time_split: test_share={test_share!r} must be between 0 and 1.")
    order = np.argsort(ts.to_numpy(), kind="stable")
    n_test = int(round(len(d) * test_share))
    if n_test < 1 or n_test >= len(d):
        raise ValueError(f"time_split: {len(d)} rows cannot be split with test_share={test_share}; "
                         "need at least one row on each side.")
    cut = len(d) - n_test
    return d.iloc[order[:cut]].copy(), d.iloc[order[cut:]].copy()


class TicketTriage(Estimator):
    """Predict a ticket's category from its words (工單分類): TF-IDF + logistic regression.

    The TF-IDF vectoriser uses sublinear tf; the logistic regression is multinomial.

    Parameters
    ----------
    text_cols : sequence of str, default ("subject", "text")
        Columns joined with a space into the text the model reads.
    ngram_range : tuple of int, default (1, 2)
        Word n-grams of the TF-IDF vectoriser.
    min_df : int, default 1
        Minimum number of tickets a term must appear in.
    C : float, default 10.0
        Inverse regularisation strength of the logistic regression.
    max_iter : int, default 2000
        Iterations of the logistic regression's solver.

    Attributes
    ----------
    vectorizer_ : TfidfVectorizer
        The fitted vectoriser.
    model_ : LogisticRegression
        The fitted classifier.
    classes_ : np.ndarray
        The categories, in the column order of :meth:`predict_proba`.
    """

    _fit_call = "fit(train_tickets)"

    def __init__(self, text_cols: Sequence[str] = ("subject", "text"), ngram_range: tuple[int, int] = (1, 2),
                 min_df: int = 1, C: float = 10.0, max_iter: int = 2000) -> None:
        self.text_cols = text_cols
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.C = C
        self.max_iter = max_iter

    def _text(self, df: pd.DataFrame) -> pd.Series:
        """The text columns of ``df`` joined with a space."""
        d = as_frame(df, "tickets")
        require_columns(d, "tickets", list(self.text_cols))
        parts = [d[c].astype("str").fillna("") for c in self.text_cols]
        text = parts[0]
        for p in parts[1:]:
            text = text + " " + p
        return text

    def fit(self, tickets: pd.DataFrame, y: Iterable | None = None) -> TicketTriage:
        """Learn categories from ``tickets`` (labels ``y`` or its ``category``); returns self."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        text = self._text(tickets)
        if y is None:
            require_columns(tickets, "tickets", ["category"], fix="Pass y= with the labels instead.")
            y = tickets["category"]
        labels = pd.Series(y).astype("str").to_numpy()
        if len(labels) != len(text):
            raise ValueError(f"TicketTriage.fit: {len(labels)} labels for {len(text)} tickets.")
        if pd.isna(labels).any():
            raise ValueError("TicketTriage.fit: labels have missing values; drop those tickets.")
        if len(set(labels)) < 2:
            raise ValueError("TicketTriage.fit: need tickets of at least two categories to learn.")
        self.vectorizer_ = TfidfVectorizer(ngram_range=self.ngram_range, min_df=self.min_df,
                                           sublinear_tf=True)
        X = self.vectorizer_.fit_transform(text)
        self.model_ = LogisticRegression(C=self.C, max_iter=self.max_iter)
        self.model_.fit(X, labels)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, tickets: pd.DataFrame) -> np.ndarray:
        """The predicted category of each ticket."""
        self._check_fitted()
        return self.model_.predict(self.vectorizer_.transform(self._text(tickets)))

    def predict_proba(self, tickets: pd.DataFrame) -> pd.DataFrame:
        """Probability of each category (columns ``classes_``), one row per ticket."""
        self._check_fitted()
        p = self.model_.predict_proba(self.vectorizer_.transform(self._text(tickets)))
        return pd.DataFrame(p, columns=self.classes_, index=tickets.index)

    def top_terms(self, n: int = 5) -> pd.DataFrame:
        """The ``n`` words with the largest weight for each category (what the model reads)."""
        self._check_fitted()
        terms = np.asarray(self.vectorizer_.get_feature_names_out())
        coef = self.model_.coef_
        if coef.shape[0] == 1:  # binary: one row for the second class
            coef = np.vstack([-coef[0], coef[0]])
        rows = []
        for k, cls in enumerate(self.classes_):
            top = np.argsort(-coef[k], kind="stable")[:n]
            rows += [{"category": cls, "rank": r + 1, "term": terms[j], "weight": float(coef[k, j])}
                     for r, j in enumerate(top)]
        return pd.DataFrame(rows)


def classification_scores(y_true: Iterable, y_pred: Iterable) -> dict[str, float]:
    """Accuracy and macro-F1 (every category counts the same, however rare).

    Parameters
    ----------
    y_true, y_pred : iterable
        True and predicted labels, same length.

    Returns
    -------
    dict
        ``n``, ``accuracy`` and ``macro_f1``.
    """
    from sklearn.metrics import accuracy_score, f1_score

    t = pd.Series(list(y_true), dtype="str")
    p = pd.Series(list(y_pred), dtype="str")
    if len(t) != len(p) or len(t) == 0:
        raise ValueError(f"classification_scores: got {len(t)} true and {len(p)} predicted labels; "
                         "pass two non-empty sequences of the same length.")
    labels = sorted(set(t))
    return {"n": len(t), "accuracy": float(accuracy_score(t, p)),
            "macro_f1": float(f1_score(t, p, labels=labels, average="macro", zero_division=0))}


def confusion_table(y_true: Iterable, y_pred: Iterable, labels: Sequence[str] | None = None) -> pd.DataFrame:
    """Counts with true categories as rows and predicted ones as columns.

    Parameters
    ----------
    y_true, y_pred : iterable
        True and predicted labels, same length.
    labels : sequence of str, optional
        Row and column order; default every label seen, sorted.

    Returns
    -------
    pd.DataFrame
        Counts, index ``true``, columns ``predicted``.
    """
    t = pd.Series(list(y_true), dtype="str", name="true")
    p = pd.Series(list(y_pred), dtype="str", name="predicted")
    if len(t) != len(p):
        raise ValueError("confusion_table: y_true and y_pred must have the same length.")
    labels = list(labels) if labels is not None else sorted(set(t) | set(p))
    tab = pd.crosstab(pd.Categorical(t, categories=labels), pd.Categorical(p, categories=labels),
                      dropna=False)
    tab.index.name, tab.columns.name = "true", "predicted"
    return tab
