"""Self-service (自助服務): FAQ search and deflection.

:class:`FaqSearch` is TF-IDF retrieval over the help centre's articles;
:func:`deflection_rate` counts searches that were not followed by a ticket.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from crmlab._checks import as_frame, as_list, datetime_column, reads, require_columns
from crmlab.base import Estimator

__all__ = [
    "FaqSearch",
    "deflection_rate",
]


class FaqSearch(Estimator):
    """TF-IDF retrieval over the help centre's articles (常見問題搜尋).

    Each article is represented by its title and body; a query is scored against every
    article by cosine similarity of TF-IDF vectors. Queries that share no word with any
    article get no result (rather than an arbitrary first article).

    Parameters
    ----------
    analyzer : {"word", "char_wb"}, default "word"
        What the TF-IDF vectoriser counts.
    ngram_range : tuple of int, default (1, 2)
        The n-grams of the vectoriser.
    stop_words : str, optional
        Stop-word list of the vectoriser (e.g. "english").

    Attributes
    ----------
    vectorizer_ : TfidfVectorizer
        The fitted vectoriser.
    matrix_ : scipy.sparse matrix
        TF-IDF vectors of the articles.
    article_id_, category_ : np.ndarray
        Id and category of each article, in row order.
    """

    _fit_call = "fit(faq_articles)"

    def __init__(self, analyzer: str = "word", ngram_range: tuple[int, int] = (1, 2),
                 stop_words: str | None = None) -> None:
        self.analyzer = analyzer
        self.ngram_range = ngram_range
        self.stop_words = stop_words

    def fit(self, articles: pd.DataFrame) -> FaqSearch:
        """Learn the TF-IDF vectors of ``faq_articles`` (article_id, category, title, body)."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        a = as_frame(articles, "faq_articles")
        require_columns(a, "faq_articles", ["article_id", "category", "title", "body"])
        if a.empty:
            raise ValueError("faq_articles is empty: nothing to search.")
        docs = a["title"].astype("str").fillna("") + " " + a["body"].astype("str").fillna("")
        self.vectorizer_ = TfidfVectorizer(analyzer=self.analyzer, ngram_range=self.ngram_range,
                                           stop_words=self.stop_words, sublinear_tf=True)
        self.matrix_ = self.vectorizer_.fit_transform(docs)
        self.article_id_ = a["article_id"].to_numpy()
        self.category_ = a["category"].astype("str").to_numpy()
        return self

    def scores(self, queries: Iterable[str]) -> np.ndarray:
        """Cosine similarity, one row per query and one column per article."""
        self._check_fitted()
        q = pd.Series(list(queries) if not isinstance(queries, str) else [queries], dtype="str")
        return (self.vectorizer_.transform(q.fillna("")) @ self.matrix_.T).toarray()

    def search(self, queries: Iterable[str], k: int = 3) -> pd.DataFrame:
        """Top-``k`` articles per query: ``query_index, query, rank, article_id, category,
        score`` (only articles with a score > 0)."""
        qs = [queries] if isinstance(queries, str) else list(queries)
        s = self.scores(qs)
        k = max(1, min(int(k), s.shape[1]))
        top = np.argsort(-s, axis=1, kind="stable")[:, :k]
        rows = []
        for i, q in enumerate(qs):
            for r, j in enumerate(top[i]):
                if s[i, j] > 0:
                    rows.append({"query_index": i, "query": q, "rank": r + 1,
                                 "article_id": self.article_id_[j], "category": self.category_[j],
                                 "score": float(s[i, j])})
        out = pd.DataFrame(rows, columns=["query_index", "query", "rank", "article_id", "category",
                                          "score"])
        out["query"] = out["query"].astype("str")
        out["category"] = out["category"].astype("str")
        return out

    def evaluate(self, searches: pd.DataFrame, ks: Sequence[int] = (1, 3),
                 query_col: str = "query", intent_col: str = "intent") -> dict[str, float]:
        """hit@k: share of searches whose intent category is among the top-k articles'
        categories; ``no_result_rate``: share with no matching article at all."""
        d = as_frame(searches, "faq_searches")
        require_columns(d, "faq_searches", [query_col, intent_col])
        if d.empty:
            raise ValueError("faq_searches is empty.")
        # Score each distinct query once (search logs repeat the same few queries a lot).
        uq, inv = np.unique(d[query_col].astype("str").to_numpy(), return_inverse=True)
        s = self.scores(uq)
        order = np.argsort(-s, axis=1, kind="stable")
        ranked_cat = self.category_[order]
        ranked_ok = np.take_along_axis(s, order, axis=1) > 0
        intent = d[intent_col].astype("str").to_numpy()
        out: dict[str, float] = {"searches": len(d)}
        for k in ks:
            k = int(k)
            hit = ((ranked_cat[inv, :k] == intent[:, None]) & ranked_ok[inv, :k]).any(axis=1)
            out[f"hit_at_{k}"] = float(hit.mean())
        out["no_result_rate"] = float((~ranked_ok[inv, 0]).mean())
        return out


@reads(faq_searches="customer_id ts", tickets="customer_id created_ts")
def deflection_rate(
    faq_searches: pd.DataFrame,
    tickets: pd.DataFrame,
    *,
    window: str | pd.Timedelta = "3D",
    by: str | Sequence[str] | None = "intent",
) -> pd.DataFrame:
    """Self-service deflection (自助分流率): searches NOT followed by a ticket.

    A search is *deflected* when the same customer opens no ticket within ``window`` after
    it (found by time, as a help centre that cannot link searches to tickets would).
    Columns: the groups, ``searches``, ``followed_by_ticket``, ``deflection_rate``.

    Parameters
    ----------
    faq_searches : pd.DataFrame
        The ``faq_searches`` table (``customer_id``, ``ts`` and the ``by`` columns).
    tickets : pd.DataFrame
        The ``tickets`` table (``customer_id``, ``created_ts``).
    window : str or pd.Timedelta, default "3D"
        How long after a search a ticket counts as following it.
    by : str or list of str or None, default "intent"
        Grouping column(s) of ``faq_searches``; None for one row.

    Returns
    -------
    pd.DataFrame
        One row per group with the columns above.
    """
    s = as_frame(faq_searches, "faq_searches")
    require_columns(s, "faq_searches", ["customer_id", "ts"])
    t = as_frame(tickets, "tickets")
    require_columns(t, "tickets", ["customer_id", "created_ts"])
    s_ts = datetime_column(s, "faq_searches", "ts")
    t_ts = datetime_column(t, "tickets", "created_ts")
    w = pd.Timedelta(window)
    if w <= pd.Timedelta(0):
        raise ValueError(f"deflection_rate: window={window!r} must be a positive duration.")
    left = pd.DataFrame({"_row": np.arange(len(s)), "customer_id": s["customer_id"].to_numpy(),
                         "ts": s_ts.to_numpy()}).sort_values("ts", kind="stable")
    right = pd.DataFrame({"customer_id": t["customer_id"].to_numpy(), "ts": t_ts.to_numpy(),
                          "_t": t_ts.to_numpy()}).sort_values("ts", kind="stable")
    left["customer_id"] = left["customer_id"].astype("int64")
    right["customer_id"] = right["customer_id"].astype("int64")
    m = pd.merge_asof(left, right, on="ts", by="customer_id", direction="forward", tolerance=w)
    followed = np.zeros(len(s), dtype=bool)
    followed[m["_row"].to_numpy()] = m["_t"].notna().to_numpy()
    d = pd.DataFrame({"followed_by_ticket": followed}, index=s.index)
    keys = as_list(by)
    require_columns(s, "faq_searches", keys)
    for k in keys:
        d[k] = s[k].astype("str") if isinstance(s[k].dtype, pd.CategoricalDtype) else s[k]
    if keys:
        g = d.groupby(keys, observed=True, sort=True)["followed_by_ticket"]
        out = g.agg(searches="size", followed_by_ticket="sum").reset_index()
    else:
        out = pd.DataFrame({"searches": [len(d)], "followed_by_ticket": [int(followed.sum())]})
    out["followed_by_ticket"] = out["followed_by_ticket"].astype(np.int64)
    out["deflection_rate"] = 1 - out["followed_by_ticket"] / out["searches"]
    return out
