"""Topics (主題模型): NMF or LDA on short texts, and matching model topics to known labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

from crmlab.base import Estimator
from crmlab.feedback.validation import validate_texts

__all__ = [
    "TopicMatch",
    "TopicModel",
    "match_topics",
]


class TopicModel(Estimator):
    """Topics of short texts: NMF on TF-IDF (default) or LDA on word counts.

    ``fit(texts)`` learns ``n_topics`` topics; ``transform`` gives each text's topic weights
    (rows sum to 1), ``predict`` its main topic (0-based), :meth:`top_words` the words that
    define each topic. Learned attributes: ``vectorizer_``, ``model_``, ``components_``
    (topics x words), ``vocabulary_`` (the words). NMF (non-negative matrix factorisation)
    works well on short texts; LDA (latent Dirichlet allocation) is the probabilistic
    classic and needs raw counts. English stop words ("the", "and") are removed by default;
    ``max_df`` < 1 also drops words that occur in more than that share of texts.
    Deterministic given ``seed``.

    Parameters
    ----------
    n_topics : int, default 7
        Number of topics.
    method : {"nmf", "lda"}, default "nmf"
        The model.
    stop_words : str or None, default "english"
        Stop-word list of the vectoriser.
    min_df : int, default 1
        Minimum number of texts a word must appear in.
    max_df : float, default 1.0
        Drop words in more than this share of texts.
    max_iter : int, default 500
        Iterations (LDA uses at most 100).
    seed : int, default 0
        Random state of the model.
    """

    _fit_call = "fit(texts)"

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
        """Learn ``n_topics`` topics from ``texts``; returns self."""
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

    def transform(self, texts: object) -> np.ndarray:
        """Topic weights per text (rows sum to 1; a text with no known word gets equal weights)."""
        self._check_fitted()
        W = self.model_.transform(self.vectorizer_.transform(validate_texts(texts, "texts", "text")))
        total = W.sum(axis=1, keepdims=True)
        return np.where(total > 0, W / np.where(total > 0, total, 1.0), 1.0 / W.shape[1])

    def predict(self, texts: object) -> np.ndarray:
        """Main topic (0-based) of each text."""
        return np.argmax(self.transform(texts), axis=1)

    def top_words(self, n: int = 8) -> pd.DataFrame:
        """The ``n`` heaviest words of each topic: columns topic, rank, word, weight."""
        self._check_fitted()
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

    Parameters
    ----------
    mapping : dict of int to str
        Model topic -> label.
    accuracy, one_to_one_accuracy : float
        Shares of texts whose mapped topic equals their label.
    table : pd.DataFrame
        Topic x label counts.
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

    Parameters
    ----------
    predicted : array-like of int
        Each text's main topic (e.g. ``TopicModel.predict``).
    labels : array-like
        Each text's known label.

    Returns
    -------
    TopicMatch
        The mapping, the two accuracies and the table.
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
