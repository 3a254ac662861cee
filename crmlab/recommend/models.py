"""Personalised recommendations (個性化推薦) — unit 3a.

A recommender turns what customers did (views, carts, purchases) into a short ranked list
of products each customer has not bought yet. This module holds the whole pipeline:

* :func:`interaction_log` — the implicit-feedback log: one row per product view, add to
  cart and purchased order line, each with a weight (a purchase says more than a view);
* :func:`time_split` — train on the past, test on the future (never on a random split:
  it leaks the future into training and flatters every model);
* :class:`InteractionMatrix` — the user × item ``scipy.sparse`` CSR matrix with its id maps;
* recommenders with one interface, ``fit(interactions)`` then
  ``recommend(users, k, exclude_seen=True)`` returning a tidy frame
  (``customer_id, rank, product_id, score``):

  - :class:`Popularity` — the baseline everyone must beat: the most-bought items;
  - :class:`ItemKNN` — item-based collaborative filtering (Sarwar et al. 2001;
    Deshpande & Karypis 2004): cosine similarity between item columns, the top
    ``n_neighbors`` per item, scores = user row × similarity matrix (sparse, chunked);
  - :class:`ImplicitALS` — matrix factorisation for implicit feedback (Hu, Koren &
    Volinsky 2008) by alternating least squares, solved exactly (Cholesky) or with a few
    conjugate-gradient steps vectorised over all users (Takács, Pilászy & Tikk 2011);
  - :class:`PureSVD` — truncated SVD of the interaction matrix (Cremonesi et al. 2010);

* ranking metrics (:func:`ranking_metrics`, :func:`evaluate`): precision@k, recall@k,
  NDCG@k, MAP@k, hit rate, catalogue coverage and novelty;
* cold start (冷啟動, :func:`cold_start_recommend`): a new customer has no history, so they
  get the most popular products within the interests they declared at sign-up.

Conventions: users are ``customer_id`` and items ``product_id`` unless ``fit`` is told
other column names; scores are "higher is better" and only comparable within one model.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from crmlab._checks import Reads, datetime_column, frame_with, reads

__all__ = [
    "DEFAULT_WEIGHTS",
    "interaction_log",
    "time_split",
    "InteractionMatrix",
    "Recommender",
    "Popularity",
    "ItemKNN",
    "ImplicitALS",
    "PureSVD",
    "relevant_items",
    "ranking_metrics",
    "evaluate",
    "per_user_metrics",
    "compare_models",
    "cold_start_recommend",
    "recommend_with_cold_start",
]

#: Implicit-feedback weight of each event type: a purchase says more than a cart, a cart
#: more than a view. Summed per (customer, product).
DEFAULT_WEIGHTS: dict[str, float] = {"product_view": 1.0, "add_to_cart": 3.0, "purchase": 5.0}

METRIC_COLUMNS = ("precision", "recall", "ndcg", "ap", "hit")


# --------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------

#: The fix for a log without the columns a model reads.
_LOG_FIX = "Pass a frame with these columns (e.g. from crmlab.recommend.interaction_log)."


def _check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k <= 0:
        raise ValueError(f"k must be a positive integer (list length), got {k!r}; use e.g. k=10.")
    return int(k)


def _ids(values: Any, table: str, column: str) -> np.ndarray:
    """Id column as int64; NA ids are an error (never dropped silently)."""
    s = pd.Series(values)
    if s.isna().any():
        raise ValueError(
            f"{table}.{column} has {int(s.isna().sum())} missing id(s); drop or fill those "
            "rows before building interactions."
        )
    try:
        return s.to_numpy(dtype=np.int64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{table}.{column} must hold integer ids, got dtype {s.dtype}.") from exc


# --------------------------------------------------------------------------------------
# the implicit-feedback log and the time split
# --------------------------------------------------------------------------------------

@reads(events=Reads("events", optional=True),
       orders=Reads("orders", optional=True),
       order_items=Reads("order_items", optional=True))
def interaction_log(
    events: pd.DataFrame | None = None,
    orders: pd.DataFrame | None = None,
    order_items: pd.DataFrame | None = None,
    *,
    weights: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Implicit feedback, one row per signal: ``customer_id, product_id, ts, event_type, weight``.

    Views and carts come from ``events`` (``product_view``/``add_to_cart`` rows with a
    product); purchases come from ``order_items`` joined to ``orders`` for the customer and
    time (the click-stream's ``purchase`` event carries no product, and store orders have
    no click-stream at all). ``weights`` maps event type -> weight (default
    :data:`DEFAULT_WEIGHTS`); types with weight 0 or missing from ``weights`` are left out.
    Sorted by time. Either source may be omitted (e.g. purchases only).
    """
    weights = dict(DEFAULT_WEIGHTS if weights is None else weights)
    for name, w in weights.items():
        if not np.isfinite(w) or w < 0:
            raise ValueError(f"weights[{name!r}] must be a finite number >= 0, got {w!r}.")
    parts: list[pd.DataFrame] = []
    if events is not None:
        frame_with(events, "events", ["customer_id", "ts", "event_type", "product_id"], _LOG_FIX)
        browse = [t for t in weights if t != "purchase" and weights[t] > 0]
        ev = events.loc[events["event_type"].isin(browse) & events["product_id"].notna(),
                        ["customer_id", "product_id", "ts", "event_type"]]
        parts.append(pd.DataFrame({
            "customer_id": _ids(ev["customer_id"], "events", "customer_id"),
            "product_id": _ids(ev["product_id"], "events", "product_id"),
            "ts": ev["ts"].to_numpy(),
            "event_type": ev["event_type"].astype(str).to_numpy(),
        }))
    if weights.get("purchase", 0) > 0 and (orders is not None or order_items is not None):
        if orders is None or order_items is None:
            raise ValueError("purchases need both orders and order_items (the line's customer "
                             "and time are on the order); pass both, or set weights['purchase']=0.")
        frame_with(orders, "orders", ["order_id", "customer_id", "order_ts"], _LOG_FIX)
        frame_with(order_items, "order_items", ["order_id", "product_id"], _LOG_FIX)
        lines = order_items[["order_id", "product_id"]].merge(
            orders[["order_id", "customer_id", "order_ts"]], on="order_id", how="left",
            validate="many_to_one")
        orphan = lines["customer_id"].isna()
        if orphan.any():
            raise ValueError(
                f"order_items has {int(orphan.sum())} line(s) whose order_id is not in orders; "
                "pass the matching orders table.")
        parts.append(pd.DataFrame({
            "customer_id": _ids(lines["customer_id"], "orders", "customer_id"),
            "product_id": _ids(lines["product_id"], "order_items", "product_id"),
            "ts": lines["order_ts"].to_numpy(),
            "event_type": "purchase",
        }))
    if not parts:
        raise ValueError("interaction_log needs events and/or orders + order_items; got neither.")
    log = pd.concat(parts, ignore_index=True)
    log["event_type"] = pd.Categorical(log["event_type"], categories=list(weights))
    log["weight"] = log["event_type"].map(weights).astype(float)
    log = log.sort_values(["ts", "customer_id", "product_id"], kind="stable").reset_index(drop=True)
    return log


def time_split(
    log: pd.DataFrame, cutoff: str | pd.Timestamp | float, *, ts_col: str = "ts"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a log in time: ``train`` = rows before ``cutoff``, ``test`` = rows at or after.

    ``cutoff`` is a date (``"2025-07-01"``) or a float in (0, 1): the time quantile, e.g.
    0.8 trains on the first 80 % of the signals. Both parts must be non-empty.
    """
    frame_with(log, "log", [ts_col], _LOG_FIX)
    ts = datetime_column(log, "log", ts_col, func="time_split")
    if isinstance(cutoff, float) and not isinstance(cutoff, bool):
        if not 0 < cutoff < 1:
            raise ValueError(f"cutoff as a share of time must be in (0, 1), got {cutoff}.")
        cut = ts.quantile(cutoff)
    else:
        try:
            cut = pd.Timestamp(cutoff)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"cutoff={cutoff!r} is not a date; pass e.g. '2025-07-01'.") from exc
    before = (ts < cut).to_numpy()
    if before.all() or not before.any():
        raise ValueError(
            f"cutoff {cut} leaves one side empty (log.{ts_col} runs {ts.min()} .. {ts.max()}); "
            "pick a date inside that range.")
    return log.loc[before].reset_index(drop=True), log.loc[~before].reset_index(drop=True)


# --------------------------------------------------------------------------------------
# the interaction matrix
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class InteractionMatrix:
    """User × item CSR matrix of summed weights plus the id maps.

    ``matrix[u, i]`` is the total weight of user ``user_ids[u]`` on item ``item_ids[i]``;
    ``user_ids``/``item_ids`` are sorted, so row/column positions follow the ids.
    """

    matrix: sparse.csr_matrix
    user_ids: np.ndarray
    item_ids: np.ndarray
    user_col: str = "customer_id"
    item_col: str = "product_id"

    @classmethod
    def from_frame(
        cls,
        interactions: pd.DataFrame,
        *,
        user_col: str = "customer_id",
        item_col: str = "product_id",
        weight_col: str | None = "weight",
        items: Iterable[int] | None = None,
    ) -> InteractionMatrix:
        """Aggregate a (user, item[, weight]) frame: duplicates are summed.

        Without ``weight_col`` in the frame every row counts 1. ``items`` fixes the catalogue
        (columns), e.g. every product, so items nobody touched can still be scored.
        """
        frame_with(interactions, "interactions", [user_col, item_col], _LOG_FIX)
        if len(interactions) == 0:
            raise ValueError("interactions is empty: a recommender needs at least one "
                             "(user, item) signal; check the date range of the log.")
        users = _ids(interactions[user_col], "interactions", user_col)
        item_vals = _ids(interactions[item_col], "interactions", item_col)
        if weight_col is not None and weight_col in interactions.columns:
            w = pd.to_numeric(interactions[weight_col], errors="coerce").to_numpy(dtype=float)
            bad = ~np.isfinite(w) | (w < 0)
            if bad.any():
                raise ValueError(f"interactions.{weight_col} has {int(bad.sum())} missing, "
                                 "negative or infinite weight(s); weights must be >= 0.")
        else:
            w = np.ones(len(users))
        user_ids, rows = np.unique(users, return_inverse=True)
        if items is None:
            item_ids, cols = np.unique(item_vals, return_inverse=True)
        else:
            item_ids = np.unique(np.asarray(list(items), dtype=np.int64))
            cols = np.searchsorted(item_ids, item_vals)
            cols = np.minimum(cols, len(item_ids) - 1)
            unknown = item_ids[cols] != item_vals
            if unknown.any():
                raise ValueError(
                    f"interactions.{item_col} has {int(unknown.sum())} row(s) with items not in "
                    f"`items` (e.g. {item_vals[unknown][:3].tolist()}); add them to the catalogue.")
        m = sparse.csr_matrix((w, (rows, cols)), shape=(len(user_ids), len(item_ids)))
        m.sum_duplicates()
        m.eliminate_zeros()
        if m.nnz == 0:
            raise ValueError(f"interactions.{weight_col} sums to 0 for every (user, item); "
                             "give the signals a positive weight.")
        return cls(m, user_ids, item_ids, user_col, item_col)

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape

    def user_index(self, users: Any) -> np.ndarray:
        """Row positions of ``users``; ``ValueError`` naming unknown ids."""
        u = np.atleast_1d(np.asarray(users))
        if u.size == 0:
            raise ValueError("users is empty; pass at least one customer id.")
        try:
            u = u.astype(np.int64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"users must be integer {self.user_col} values.") from exc
        pos = np.searchsorted(self.user_ids, u)
        pos = np.minimum(pos, len(self.user_ids) - 1)
        unknown = self.user_ids[pos] != u
        if unknown.any():
            bad = np.unique(u[unknown])
            raise ValueError(
                f"{len(bad)} {self.user_col}(s) not in the training interactions (e.g. "
                f"{bad[:5].tolist()}): the model cannot score users it has never seen. Use "
                "crmlab.recommend.recommend_with_cold_start(...) to give new customers "
                "popular products within their interests.")
        return pos

    def to_frame(self) -> pd.DataFrame:
        """Back to a tidy ``user, item, weight`` frame (one row per non-zero cell)."""
        coo = self.matrix.tocoo()
        return pd.DataFrame({self.user_col: self.user_ids[coo.row],
                             self.item_col: self.item_ids[coo.col],
                             "weight": coo.data})


# --------------------------------------------------------------------------------------
# recommenders
# --------------------------------------------------------------------------------------

def _top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the column positions and scores of the ``k`` largest scores.

    Sorted by score (descending); ties broken by the lower column position, so results do
    not depend on how ``argpartition`` happened to order equal values. ``-inf`` entries
    (excluded items) may appear when a row has fewer than ``k`` finite scores.
    """
    n_rows, n_cols = scores.shape
    k = min(k, n_cols)
    if k == n_cols:
        order = np.argsort(-scores, axis=1, kind="stable")
        return order, np.take_along_axis(scores, order, axis=1)
    kth = np.partition(scores, n_cols - k, axis=1)[:, n_cols - k:n_cols - k + 1]  # k-th largest
    greater = scores > kth
    equal = scores == kth
    take = greater | equal
    tied = take.sum(axis=1) > k  # more items equal to the k-th score than places left
    if tied.any():
        eq, gt = equal[tied], greater[tied]
        need = k - gt.sum(axis=1, keepdims=True)
        take[tied] = gt | (eq & (np.cumsum(eq, axis=1) <= need))  # lowest columns first
    cols = np.nonzero(take)[1].reshape(n_rows, k)  # ascending column within each row
    vals = np.take_along_axis(scores, cols, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    return np.take_along_axis(cols, order, axis=1), np.take_along_axis(vals, order, axis=1)


class Recommender:
    """Base class: ``fit(interactions)`` then ``recommend(users, k, exclude_seen=True)``.

    Subclasses implement ``_fit(X)`` on the CSR matrix and ``_scores(rows)`` returning a
    dense (len(rows), n_items) array of scores. Learned attributes end with ``_``:
    ``matrix_`` (:class:`InteractionMatrix`), ``item_popularity_`` (users per item).
    """

    #: Rows of users scored at once; bounds memory at about chunk × n_items floats.
    score_block_cells: int = 4_000_000

    def fit(
        self,
        interactions: pd.DataFrame,
        *,
        user_col: str = "customer_id",
        item_col: str = "product_id",
        weight_col: str | None = "weight",
        items: Iterable[int] | None = None,
    ) -> Recommender:
        """Learn from a (user, item[, weight]) frame; duplicate pairs are summed."""
        im = InteractionMatrix.from_frame(interactions, user_col=user_col, item_col=item_col,
                                          weight_col=weight_col, items=items)
        self.matrix_ = im
        self.item_popularity_ = pd.Series(np.diff(im.matrix.tocsc().indptr), index=im.item_ids,
                                          name="n_users").rename_axis(item_col)
        self._fit(im.matrix)
        return self

    def _fit(self, X: sparse.csr_matrix) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _scores(self, rows: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_fitted(self) -> InteractionMatrix:
        if not hasattr(self, "matrix_"):
            raise ValueError(f"{type(self).__name__} is not fitted yet; call fit(interactions) "
                             "first.")
        return self.matrix_

    def score(self, users: Any) -> pd.DataFrame:
        """Scores of every catalogue item for ``users`` (rows) — for inspection and plots."""
        im = self._check_fitted()
        rows = im.user_index(users)
        return pd.DataFrame(self._scores(rows), index=pd.Index(im.user_ids[rows], name=im.user_col),
                            columns=pd.Index(im.item_ids, name=im.item_col))

    def recommend(self, users: Any = None, k: int = 10, exclude_seen: bool = True) -> pd.DataFrame:
        """Top-``k`` items per user: tidy ``user, rank, item, score`` (rank 1 = best).

        ``users`` defaults to every training user. With ``exclude_seen`` an item the user
        already interacted with in training is never recommended; a user with fewer than
        ``k`` unseen items gets a shorter list.
        """
        im = self._check_fitted()
        k = _check_k(k)
        rows = np.arange(im.shape[0]) if users is None else im.user_index(users)
        n_items = im.shape[1]
        block = max(1, self.score_block_cells // max(n_items, 1))
        X = im.matrix
        out_u, out_i, out_s, out_r = [], [], [], []
        for start in range(0, len(rows), block):
            r = rows[start:start + block]
            s = np.asarray(self._scores(r))
            if s.dtype not in (np.float32, np.float64):
                s = s.astype(np.float64)
            if exclude_seen:
                sub = X[r]
                s[np.repeat(np.arange(len(r)), np.diff(sub.indptr)), sub.indices] = -np.inf
            cols, vals = _top_k(s, k)
            keep = np.isfinite(vals)
            kk = cols.shape[1]
            out_u.append(np.repeat(im.user_ids[r], kk)[keep.ravel()])
            out_i.append(im.item_ids[cols][keep])
            out_s.append(vals[keep])
            out_r.append(np.tile(np.arange(1, kk + 1), len(r))[keep.ravel()])
        return pd.DataFrame({
            im.user_col: np.concatenate(out_u),
            "rank": np.concatenate(out_r).astype(np.int64),
            im.item_col: np.concatenate(out_i),
            "score": np.concatenate(out_s).astype(np.float64),
        })

    def __repr__(self) -> str:
        params = getattr(self, "_params", {})
        inner = ", ".join(f"{k}={getattr(self, k)!r}" for k in params)
        return f"{type(self).__name__}({inner})"


class Popularity(Recommender):
    """Most-popular baseline: score = number of distinct training users of the item.

    ``by="weight"`` ranks by total interaction weight instead. The same list for everyone
    (minus what each user has seen) — the yardstick a personalised model has to beat.
    """

    _params = ("by",)

    def __init__(self, by: str = "users"):
        self.by = by

    def _fit(self, X: sparse.csr_matrix) -> None:
        if self.by not in ("users", "weight"):
            raise ValueError(f"Popularity(by={self.by!r}): use by='users' or by='weight'.")
        if self.by == "users":
            self.item_scores_ = np.diff(X.tocsc().indptr).astype(float)
        else:
            self.item_scores_ = np.asarray(X.sum(axis=0)).ravel()

    def _scores(self, rows: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.item_scores_, (len(rows), len(self.item_scores_))).copy()

    def recommend(self, users: Any = None, k: int = 10, exclude_seen: bool = True) -> pd.DataFrame:
        """Same lists as :meth:`Recommender.recommend`, without scoring every item per user.

        Everyone shares one ranking, so each user's list is the start of it minus what they
        have seen: only the first ``k + (most items any user has seen)`` ranked items can
        appear, and a per-user mask over those is enough.
        """
        im = self._check_fitted()
        k = _check_k(k)
        rows = np.arange(im.shape[0]) if users is None else im.user_index(users)
        n_items = im.shape[1]
        order = np.argsort(-self.item_scores_, kind="stable")  # ties: lower column first
        X = im.matrix
        seen_counts = np.diff(X.indptr)[rows] if exclude_seen else np.zeros(len(rows), np.int64)
        m = int(min(n_items, k + (seen_counts.max() if len(rows) else 0)))
        cand = order[:m]
        rank_of = np.full(n_items, -1, dtype=np.int64)
        rank_of[cand] = np.arange(m)
        block = max(1, self.score_block_cells // max(m, 1))
        out_u, out_i, out_r = [], [], []
        for start in range(0, len(rows), block):
            r = rows[start:start + block]
            avail = np.ones((len(r), m), dtype=bool)
            if exclude_seen:
                sub = X[r]
                who = np.repeat(np.arange(len(r)), np.diff(sub.indptr))
                pos = rank_of[sub.indices]
                hit = pos >= 0
                avail[who[hit], pos[hit]] = False
            rank = np.cumsum(avail, axis=1)
            rr, cc = np.nonzero(avail & (rank <= k))
            out_u.append(im.user_ids[r][rr])
            out_i.append(cand[cc])
            out_r.append(rank[rr, cc])
        items = np.concatenate(out_i)
        return pd.DataFrame({
            im.user_col: np.concatenate(out_u),
            "rank": np.concatenate(out_r).astype(np.int64),
            im.item_col: im.item_ids[items],
            "score": self.item_scores_[items].astype(np.float64),
        })


class ItemKNN(Recommender):
    """Item-based k-nearest-neighbours with cosine similarity.

    ``sim(i, j) = x_i · x_j / (‖x_i‖ ‖x_j‖ + shrink)`` over the item columns of the
    user × item matrix (``binary=True`` uses 0/1 instead of the weights). Each item keeps
    its ``n_neighbors`` most similar items; a user's score for item ``i`` is
    ``Σ_j x_uj · sim(j, i)`` over the items ``j`` they touched that are neighbours of ``i``
    — "customers who bought j also bought i". Similarities are computed ``chunk_size``
    item columns at a time, so memory stays at about n_items × chunk_size floats.

    Learned: ``similarity_`` (items × items CSR, column ``i`` holds ``i``'s neighbours).
    """

    _params = ("n_neighbors", "shrink", "binary", "chunk_size")

    def __init__(self, n_neighbors: int = 50, shrink: float = 0.0, binary: bool = False,
                 chunk_size: int | None = None):
        self.n_neighbors = n_neighbors
        self.shrink = shrink
        self.binary = binary
        self.chunk_size = chunk_size

    def _fit(self, X: sparse.csr_matrix) -> None:
        if isinstance(self.n_neighbors, bool) or not isinstance(self.n_neighbors, int | np.integer) \
                or self.n_neighbors <= 0:
            raise ValueError(f"ItemKNN(n_neighbors={self.n_neighbors!r}) must be a positive integer.")
        if not np.isfinite(self.shrink) or self.shrink < 0:
            raise ValueError(f"ItemKNN(shrink={self.shrink!r}) must be >= 0.")
        X = X.astype(np.float32)
        if self.binary:
            X.data[:] = 1.0
        self._X_fit = X
        n_items = X.shape[1]
        norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=0)).ravel()).astype(np.float32)
        Xt = X.T.tocsr()  # items × users
        nn = min(int(self.n_neighbors), max(n_items - 1, 1))
        chunk = self.chunk_size or max(1, min(n_items, 4_000_000 // max(n_items, 1)))
        data, rows, cols = [], [], []
        for a in range(0, n_items, chunk):
            b = min(a + chunk, n_items)
            block = (Xt @ Xt[a:b].T).toarray()  # neighbours j × targets i in [a, b)
            denom = norms[:, None] * norms[None, a:b] + np.float32(self.shrink)
            with np.errstate(divide="ignore", invalid="ignore"):
                block = np.where(denom > 0, block / denom, 0.0).astype(np.float32)
            block[np.arange(a, b), np.arange(b - a)] = 0.0  # an item is not its own neighbour
            if nn < n_items:
                top = np.argpartition(-block, nn - 1, axis=0)[:nn]
            else:
                top = np.broadcast_to(np.arange(n_items)[:, None], (n_items, b - a))
            vals = np.take_along_axis(block, top, axis=0)
            keep = vals > 0
            data.append(vals[keep])
            rows.append(top[keep])
            cols.append(np.broadcast_to(np.arange(a, b)[None, :], top.shape)[keep])
        self.similarity_ = sparse.csr_matrix(
            (np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))),
            shape=(n_items, n_items), dtype=np.float32)
        # Scoring: sparse rows × dense similarity is ~3× faster than sparse × sparse and
        # lands dense anyway; keep a dense copy while it is small (≤ 100 MB).
        self._S_dense = self.similarity_.toarray() if n_items <= 5000 else None

    def _scores(self, rows: np.ndarray) -> np.ndarray:
        if self._S_dense is not None:
            return np.asarray(self._X_fit[rows] @ self._S_dense)
        return (self._X_fit[rows] @ self.similarity_).toarray()

    def similar_items(self, item: int, n: int = 10) -> pd.DataFrame:
        """The ``n`` items most similar to ``item``: ``item_col, similarity``."""
        im = self._check_fitted()
        pos = np.searchsorted(im.item_ids, item)
        if pos >= len(im.item_ids) or im.item_ids[pos] != item:
            raise ValueError(f"{im.item_col}={item} is not in the training interactions.")
        col = self.similarity_[:, pos].toarray().ravel()
        order = np.argsort(-col, kind="stable")[:_check_k(n)]
        order = order[col[order] > 0]
        return pd.DataFrame({im.item_col: im.item_ids[order], "similarity": col[order]})

    def explain(self, user: int, item: int, n: int = 3) -> pd.DataFrame:
        """Why ``item`` was recommended to ``user``: the user's items that contributed most.

        Columns ``because_of`` (an item the user touched), ``weight`` (their interaction
        weight), ``similarity`` and ``contribution`` = weight × similarity; the
        contributions sum to the item's score.
        """
        im = self._check_fitted()
        row = int(im.user_index([user])[0])
        pos = np.searchsorted(im.item_ids, item)
        if pos >= len(im.item_ids) or im.item_ids[pos] != item:
            raise ValueError(f"{im.item_col}={item} is not in the training interactions.")
        x = self._X_fit[row]
        sim = self.similarity_[x.indices, pos].toarray().ravel()
        contrib = x.data * sim
        order = np.argsort(-contrib, kind="stable")
        order = order[contrib[order] > 0][:_check_k(n)]
        return pd.DataFrame({"because_of": im.item_ids[x.indices[order]],
                             "weight": x.data[order].astype(float),
                             "similarity": sim[order].astype(float),
                             "contribution": contrib[order].astype(float)})


def _single_threaded_blas() -> Any:
    """Context manager limiting BLAS to one thread (threadpoolctl ships with scikit-learn)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn always brings it
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _row_dots(A: np.ndarray, rows: np.ndarray, B: np.ndarray, cols: np.ndarray,
              chunk: int = 65_536) -> np.ndarray:
    """``out[n] = A[rows[n]] · B[cols[n]]`` in chunks (no nnz × f temporaries)."""
    out = np.empty(len(rows), dtype=np.result_type(A, B))
    for a in range(0, len(rows), chunk):
        b = a + chunk
        out[a:b] = np.einsum("ij,ij->i", A[rows[a:b]], B[cols[a:b]])
    return out


class ImplicitALS(Recommender):
    """Implicit-feedback matrix factorisation by alternating least squares.

    Hu, Koren & Volinsky (2008): preference ``p_ui = 1`` if user ``u`` touched item ``i``
    else 0, confidence ``c_ui = 1 + alpha · r_ui`` (``r`` the interaction weight). Minimise
    ``Σ_ui c_ui (p_ui − x_u·y_i)² + λ (Σ‖x_u‖² + Σ‖y_i‖²)`` by solving for all user
    factors with the item factors fixed, then the other way round. Each user's solve is
    ``x_u = (YᵀY + Yᵀ(C_u − I)Y + λI)⁻¹ Yᵀ C_u p_u``: only the items the user touched
    enter the correction, so a sweep costs O(nnz · f²) exactly (``solver="cholesky"``,
    one small solve per user — a Python loop, for small data and checks) or O(nnz · f)
    per step with ``cg_steps`` warm-started conjugate-gradient steps vectorised over all
    users at once (``solver="cg"``, Takács, Pilászy & Tikk 2011), which is what makes a
    million interactions fast. ``dtype`` float32 halves memory traffic; use float64 to
    compare with the exact solver to many digits.

    Learned: ``user_factors_`` (n_users × factors), ``item_factors_`` (n_items × factors),
    ``loss_`` (the objective after each iteration, if ``track_loss``).
    """

    _params = ("factors", "regularization", "alpha", "iterations", "solver", "cg_steps", "seed",
               "dtype", "track_loss")

    def __init__(self, factors: int = 32, regularization: float = 0.1, alpha: float = 10.0,
                 iterations: int = 15, solver: str = "cg", cg_steps: int = 3,
                 seed: int | np.random.Generator | None = 0, dtype: str = "float32",
                 track_loss: bool = True):
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.solver = solver
        self.cg_steps = cg_steps
        self.seed = seed
        self.dtype = dtype
        self.track_loss = track_loss

    def _check_params(self) -> None:
        for name in ("factors", "iterations", "cg_steps"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v <= 0:
                raise ValueError(f"ImplicitALS({name}={v!r}) must be a positive integer.")
        for name in ("regularization", "alpha"):
            v = getattr(self, name)
            if not np.isfinite(v) or v < 0:
                raise ValueError(f"ImplicitALS({name}={v!r}) must be a number >= 0.")
        if self.solver not in ("cg", "cholesky"):
            raise ValueError(f"ImplicitALS(solver={self.solver!r}): use 'cg' or 'cholesky'.")
        if str(self.dtype) not in ("float32", "float64"):
            raise ValueError(f"ImplicitALS(dtype={self.dtype!r}): use 'float32' or 'float64'.")

    def _fit(self, X: sparse.csr_matrix) -> None:
        self._check_params()
        rng = self.seed if isinstance(self.seed, np.random.Generator) else np.random.default_rng(self.seed)
        dt = np.dtype(str(self.dtype))
        n_users, n_items = X.shape
        f = int(self.factors)
        Cu = X.astype(dt).tocsr()
        Cu.data = (self.alpha * Cu.data).astype(dt)  # c - 1 = alpha * r
        Ci = Cu.T.tocsr()
        U = rng.normal(0, 0.01, (n_users, f)).astype(dt)
        V = rng.normal(0, 0.01, (n_items, f)).astype(dt)
        self.loss_ = []
        # The BLAS calls here are skinny (n × f by f × f): threads only add overhead, and on a
        # shared machine OpenBLAS's spinning threads made the fit 2-3× slower in CPU time.
        with _single_threaded_blas():
            for _ in range(int(self.iterations)):
                U = self._solve(Cu, V, U)
                V = self._solve(Ci, U, V)
                if self.track_loss:
                    self.loss_.append(self._loss(Cu, U, V))
        self.user_factors_, self.item_factors_ = U, V

    def _solve(self, Cm: sparse.csr_matrix, Y: np.ndarray, Xf: np.ndarray) -> np.ndarray:
        """New factors for the rows of ``Cm`` (rows: whose factors; data: c − 1)."""
        f = Y.shape[1]
        YtY = (Y.T.astype(np.float64) @ Y + self.regularization * np.eye(f)).astype(Y.dtype)
        if self.solver == "cholesky":
            out = np.empty_like(Xf)
            for u in range(Cm.shape[0]):
                lo, hi = Cm.indptr[u], Cm.indptr[u + 1]
                idx, cm1 = Cm.indices[lo:hi], Cm.data[lo:hi]
                Yi = Y[idx].astype(np.float64)
                A = YtY + (Yi.T * cm1) @ Yi
                b = (cm1 + 1.0) @ Yi
                out[u] = np.linalg.solve(A, b)
            return out
        rows = np.repeat(np.arange(Cm.shape[0]), np.diff(Cm.indptr))
        cols, cm1 = Cm.indices, Cm.data
        B = sparse.csr_matrix((cm1 + 1, cols, Cm.indptr), shape=Cm.shape) @ Y  # Σ c_ui y_i

        def matvec(P: np.ndarray) -> np.ndarray:
            # (YᵀY + λI) p_u + Σ_i (c_ui − 1) (y_i · p_u) y_i for every row u at once
            w = cm1 * _row_dots(P, rows, Y, cols)
            return P @ YtY + sparse.csr_matrix((w, cols, Cm.indptr), shape=Cm.shape) @ Y

        x = Xf.copy()
        r = B - matvec(x)
        p = r.copy()
        rs = np.einsum("ij,ij->i", r, r)
        for _ in range(int(self.cg_steps)):
            Ap = matvec(p)
            pAp = np.einsum("ij,ij->i", p, Ap)
            a = np.divide(rs, pAp, out=np.zeros_like(rs), where=pAp > 0)
            x += a[:, None] * p
            r -= a[:, None] * Ap
            rs_new = np.einsum("ij,ij->i", r, r)
            beta = np.divide(rs_new, rs, out=np.zeros_like(rs), where=rs > 0)
            p = r + beta[:, None] * p
            rs = rs_new
        return x

    def _loss(self, Cu: sparse.csr_matrix, U: np.ndarray, V: np.ndarray) -> float:
        """The full objective, using Σ_all (x·y)² = sum((UᵀU) ∘ (VᵀV)) for the zero cells."""
        rows = np.repeat(np.arange(Cu.shape[0]), np.diff(Cu.indptr))
        pred = _row_dots(U, rows, V, Cu.indices).astype(np.float64)
        c = Cu.data.astype(np.float64) + 1.0
        U64, V64 = U.astype(np.float64), V.astype(np.float64)
        all_sq = float(np.sum((U64.T @ U64) * (V64.T @ V64)))
        observed = float(np.sum(c * (1.0 - pred) ** 2 - pred ** 2))
        return all_sq + observed + self.regularization * float(np.sum(U64 ** 2) + np.sum(V64 ** 2))

    def _scores(self, rows: np.ndarray) -> np.ndarray:
        return self.user_factors_[rows] @ self.item_factors_.T


class PureSVD(Recommender):
    """Truncated SVD of the interaction matrix (PureSVD, Cremonesi, Koren & Turrin 2010).

    ``X ≈ U Σ Vᵀ`` with ``factors`` components; a user's scores are their row projected on
    the item space, ``x_u V Vᵀ``. Uses :class:`sklearn.decomposition.TruncatedSVD`
    (randomised, seeded). Learned: ``item_factors_`` (V, n_items × factors).
    """

    _params = ("factors", "seed")

    def __init__(self, factors: int = 32, seed: int = 0):
        self.factors = factors
        self.seed = seed

    def _fit(self, X: sparse.csr_matrix) -> None:
        from sklearn.decomposition import TruncatedSVD

        if isinstance(self.factors, bool) or not isinstance(self.factors, int | np.integer) \
                or self.factors <= 0:
            raise ValueError(f"PureSVD(factors={self.factors!r}) must be a positive integer.")
        f = min(int(self.factors), min(X.shape) - 1)
        if f < 1:
            raise ValueError("PureSVD needs at least 2 users and 2 items.")
        svd = TruncatedSVD(n_components=f, random_state=self.seed, algorithm="randomized",
                           n_iter=7)
        svd.fit(X.astype(np.float64))
        self.item_factors_ = svd.components_.T
        self._X_fit = X.astype(np.float64)

    def _scores(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray((self._X_fit[rows] @ self.item_factors_) @ self.item_factors_.T)


# --------------------------------------------------------------------------------------
# ranking metrics
# --------------------------------------------------------------------------------------

def relevant_items(
    test: pd.DataFrame,
    train: pd.DataFrame | InteractionMatrix | None = None,
    *,
    user_col: str = "customer_id",
    item_col: str = "product_id",
    event_type: str | None = "purchase",
) -> pd.DataFrame:
    """The ground truth of an offline test: distinct (user, item) pairs in ``test``.

    ``event_type`` keeps only those signals (default: purchases — what we want to predict;
    ``None`` keeps every row). With ``train`` only users seen in training are kept (a
    model cannot score new users — they are the cold-start case) and items the user
    already touched in training are removed (a list with ``exclude_seen=True`` could never
    hit them, so counting them would punish every model alike).
    """
    frame_with(test, "test", [user_col, item_col], _LOG_FIX)
    rel = test
    if event_type is not None:
        frame_with(test, "test", ["event_type"], _LOG_FIX)
        rel = rel.loc[rel["event_type"] == event_type]
    rel = rel[[user_col, item_col]].drop_duplicates()
    if train is not None:
        seen = train.to_frame() if isinstance(train, InteractionMatrix) else \
            frame_with(train, "train", [user_col, item_col], _LOG_FIX)
        rel = rel.loc[rel[user_col].isin(seen[user_col].unique())]
        pairs = seen[[user_col, item_col]].drop_duplicates().assign(_seen=True)
        rel = rel.merge(pairs, on=[user_col, item_col], how="left")
        rel = rel.loc[rel["_seen"].isna(), [user_col, item_col]]
    return rel.reset_index(drop=True)


def ranking_metrics(
    recommendations: pd.DataFrame,
    relevant: pd.DataFrame,
    k: int = 10,
    *,
    user_col: str = "customer_id",
    item_col: str = "product_id",
    relevance_col: str | None = None,
    gain: str = "linear",
) -> pd.DataFrame:
    """Per-user precision@k, recall@k, NDCG@k, AP@k and hit@k, binary or graded relevance.

    One row per user with at least one relevant item in ``relevant`` (a user with no
    recommendations scores 0). With ``hits`` the relevant items among the first ``k``
    recommendations (by ``rank``) and ``R`` the user's relevant items:

    * precision = hits / k (a short list is not rewarded for being short);
    * recall = hits / |R|;
    * NDCG = DCG / ideal DCG with DCG = Σ_{rank ≤ k} gain(item)/log2(rank+1) and the ideal
      DCG that of the user's relevant items in the best order, top ``k`` (Järvelin &
      Kekäläinen 2002);
    * AP = Σ_hits precision@rank ÷ min(|R|, k) (the usual MAP@k normalisation);
    * hit = 1 if hits > 0.

    **Binary relevance** (``relevance_col=None``, the default): every row of ``relevant``
    is a relevant item with gain 1 (repeated rows count once).

    **Graded relevance** (``relevance_col``: a column of ``relevant`` with grades >= 0, such
    as a rating or the number of purchases): an item is relevant when its grade is > 0,
    which is what precision, recall, AP and hit count; NDCG weighs each item by its grade,
    ``gain="linear"`` (the grade itself, as scikit-learn's ``ndcg_score``) or
    ``"exponential"`` (2^grade - 1, Burges et al. 2005, which stresses the top grades).
    With every grade 1 both give the binary NDCG. Each (user, item) must appear once;
    users whose grades are all 0 have nothing relevant and get no row (their number is in
    ``attrs["n_users_without_relevant"]``).
    """
    k = _check_k(k)
    frame_with(recommendations, "recommendations", [user_col, item_col, "rank"], _LOG_FIX)
    if gain not in ("linear", "exponential"):
        raise ValueError(f"gain={gain!r}: use 'linear' (the grade) or 'exponential' (2^grade - 1).")
    keys = [user_col, item_col]
    if relevance_col is None:
        frame_with(relevant, "relevant", keys, _LOG_FIX)
        rel = relevant[keys].drop_duplicates().assign(_grade=1.0)
    else:
        frame_with(relevant, "relevant", [*keys, relevance_col], _LOG_FIX)
        grade = relevant[relevance_col]
        if not pd.api.types.is_numeric_dtype(grade) or pd.api.types.is_bool_dtype(grade):
            raise ValueError(f"relevant.{relevance_col} must hold numeric grades >= 0 (a rating, a "
                             "purchase count); convert it with pd.to_numeric.")
        g = grade.to_numpy(dtype=float)
        if not np.isfinite(g).all() or (g < 0).any():
            raise ValueError(f"relevant.{relevance_col} has {int((~np.isfinite(g) | (g < 0)).sum())} "
                             "missing, infinite or negative grade(s); grades are >= 0 (0 = not relevant).")
        dup = relevant.duplicated(keys)
        if dup.any():
            raise ValueError(f"relevant: {int(dup.sum())} repeated ({user_col}, {item_col}) pair(s) with "
                             f"grades; aggregate them first, e.g. relevant.groupby([{user_col!r}, "
                             f"{item_col!r}], as_index=False)[{relevance_col!r}].sum().")
        rel = relevant[keys].assign(_grade=g)
    users_all = pd.unique(rel[user_col])
    rel = rel.loc[rel["_grade"] > 0]
    rel = rel.assign(_gain=rel["_grade"] if gain == "linear" else np.exp2(rel["_grade"]) - 1.0)
    n_rel = rel.groupby(user_col).size().rename("n_relevant")
    recs = recommendations.loc[recommendations["rank"] <= k, [user_col, item_col, "rank"]]
    recs = recs.loc[recs[user_col].isin(n_rel.index)]
    hits = recs.merge(rel, on=keys, how="inner").sort_values([user_col, "rank"])
    hits = hits.assign(n_hit=hits.groupby(user_col).cumcount() + 1)
    hits = hits.assign(dgain=hits["_gain"] / np.log2(hits["rank"] + 1.0),
                       prec_at=hits["n_hit"] / hits["rank"])
    agg = hits.groupby(user_col).agg(hits=("rank", "size"), dcg=("dgain", "sum"),
                                     sum_prec=("prec_at", "sum"))
    # ideal DCG: the user's gains in decreasing order, the first k discounted
    best = rel.sort_values([user_col, "_gain"], ascending=[True, False], kind="stable")
    pos = best.groupby(user_col).cumcount().to_numpy()
    best = best.assign(_pos=pos).loc[pos < k]
    ideal = (best["_gain"] / np.log2(best["_pos"] + 2.0)).groupby(best[user_col]).sum().rename("ideal")
    out = pd.DataFrame(index=n_rel.index).join(n_rel).join(agg).join(ideal).fillna(0.0)
    denom = np.minimum(out["n_relevant"].to_numpy(dtype=float), k)
    result = pd.DataFrame({
        user_col: out.index.to_numpy(),
        "n_relevant": out["n_relevant"].to_numpy(dtype=np.int64),
        "hits": out["hits"].to_numpy(dtype=np.int64),
        "precision": out["hits"].to_numpy() / k,
        "recall": out["hits"].to_numpy() / out["n_relevant"].to_numpy(),
        "ndcg": out["dcg"].to_numpy() / out["ideal"].to_numpy(),
        "ap": out["sum_prec"].to_numpy() / denom,
        "hit": (out["hits"].to_numpy() > 0).astype(float),
    })
    result.attrs["n_users_without_relevant"] = int(len(users_all) - len(n_rel))
    return result


def catalog_coverage(recommendations: pd.DataFrame, n_items: int, *,
                     item_col: str = "product_id") -> float:
    """Share of the catalogue that appears in at least one list (0..1)."""
    if n_items <= 0:
        raise ValueError(f"n_items must be positive, got {n_items}.")
    return float(recommendations[item_col].nunique() / n_items)


def novelty(recommendations: pd.DataFrame, item_popularity: pd.Series, n_users: int, *,
            item_col: str = "product_id") -> float:
    """Mean self-information ``−log2(n_i / n_users)`` of the recommended items (bits).

    ``n_i`` = training users who touched item ``i`` (``item_popularity``, floored at 1 so a
    never-seen item is maximally novel rather than infinite). Higher = less obvious lists
    (Zhou et al. 2010; Vargas & Castells 2011).
    """
    if len(recommendations) == 0:
        return float("nan")
    pop = item_popularity.reindex(recommendations[item_col].to_numpy()).fillna(0).to_numpy()
    return float(np.mean(-np.log2(np.maximum(pop, 1) / n_users)))


def _evaluation_lists(
    model: Recommender, test: pd.DataFrame, k: int, exclude_seen: bool, event_type: str | None,
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """The relevant items of the warm test users, their top-k lists, and the cold-user count."""
    im = model._check_fitted()
    uc, ic = im.user_col, im.item_col
    seen = im.to_frame() if exclude_seen else im.to_frame().iloc[0:0]
    rel = relevant_items(test, None, user_col=uc, item_col=ic, event_type=event_type)
    warm = rel[uc].isin(im.user_ids)
    n_cold = int(rel.loc[~warm, uc].nunique())
    rel = rel.loc[warm]
    if exclude_seen:
        rel = relevant_items(rel, seen, user_col=uc, item_col=ic, event_type=None)
    if len(rel) == 0:
        raise ValueError("test has no relevant (user, item) pairs for users the model knows; "
                         "move the cutoff earlier or use a bigger shop.")
    users = np.unique(rel[uc].to_numpy())
    recs = model.recommend(users, k=k, exclude_seen=exclude_seen)
    return rel, recs, n_cold


def per_user_metrics(
    model: Recommender,
    test: pd.DataFrame,
    k: int = 10,
    *,
    exclude_seen: bool = True,
    event_type: str | None = "purchase",
) -> pd.DataFrame:
    """The per-user rows behind :func:`evaluate` (see :func:`ranking_metrics` for the columns).

    Two models evaluated on the same ``test`` give rows for the same users, so their
    difference can be read with a paired standard error rather than eyeballed from the means.
    """
    im = model._check_fitted()
    k = _check_k(k)
    rel, recs, _ = _evaluation_lists(model, test, k, exclude_seen, event_type)
    return ranking_metrics(recs, rel, k, user_col=im.user_col, item_col=im.item_col)


def evaluate(
    model: Recommender,
    test: pd.DataFrame,
    k: int = 10,
    *,
    exclude_seen: bool = True,
    event_type: str | None = "purchase",
) -> dict[str, float]:
    """Offline evaluation of a fitted model on a later ``test`` log (see :func:`time_split`).

    Returns ``precision@k`` … as plain floats (means over warm users with at least one
    relevant item — see :func:`relevant_items`), ``coverage`` and ``novelty`` of the lists
    of those users, and the counts ``n_users`` (evaluated) and ``n_cold_users`` (test users
    the model never saw in training).
    """
    im = model._check_fitted()
    k = _check_k(k)
    uc, ic = im.user_col, im.item_col
    rel, recs, n_cold = _evaluation_lists(model, test, k, exclude_seen, event_type)
    per_user = ranking_metrics(recs, rel, k, user_col=uc, item_col=ic)
    return {
        f"precision@{k}": float(per_user["precision"].mean()),
        f"recall@{k}": float(per_user["recall"].mean()),
        f"ndcg@{k}": float(per_user["ndcg"].mean()),
        f"map@{k}": float(per_user["ap"].mean()),
        f"hit_rate@{k}": float(per_user["hit"].mean()),
        "coverage": catalog_coverage(recs, im.shape[1], item_col=ic),
        "novelty": novelty(recs, model.item_popularity_, im.shape[0], item_col=ic),
        "n_users": len(per_user),
        "n_cold_users": n_cold,
    }


def compare_models(
    models: Mapping[str, Recommender], train: pd.DataFrame, test: pd.DataFrame, k: int = 10,
    **evaluate_kwargs: Any,
) -> pd.DataFrame:
    """Fit each model on ``train`` and :func:`evaluate` it on ``test``: one row per model."""
    rows = {}
    for name, model in models.items():
        model.fit(train)
        rows[name] = evaluate(model, test, k, **evaluate_kwargs)
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")


# --------------------------------------------------------------------------------------
# cold start
# --------------------------------------------------------------------------------------

@reads(customers="", products="")
def cold_start_recommend(
    customers: pd.DataFrame,
    products: pd.DataFrame,
    item_popularity: pd.Series,
    k: int = 10,
    *,
    users: Any = None,
) -> pd.DataFrame:
    """Lists for customers without history: the most popular products in their interests.

    ``customers.interests`` holds the categories a member declared at sign-up, joined by
    ``|``; items of those categories are ranked by ``item_popularity`` (training users per
    product, e.g. ``model.item_popularity_``) and the list is topped up with the overall
    best sellers if the interests hold fewer than ``k`` products. A member with no
    interests gets the overall best sellers. Columns: ``customer_id, rank, product_id,
    score`` (the popularity) and ``reason`` (``"interest:<category>"`` or ``"popular"``).
    """
    k = _check_k(k)
    frame_with(customers, "customers", ["customer_id", "interests"], _LOG_FIX)
    frame_with(products, "products", ["product_id", "category"], _LOG_FIX)
    cust = customers
    if users is not None:
        want = np.atleast_1d(np.asarray(users)).astype(np.int64)
        unknown = np.setdiff1d(want, customers["customer_id"].to_numpy())
        if len(unknown):
            raise ValueError(f"{len(unknown)} customer_id(s) not in customers (e.g. "
                             f"{unknown[:5].tolist()}); pass the customers table that has them.")
        cust = customers.set_index("customer_id").loc[want].reset_index()
    cats = products["category"].astype(str)
    known_cats = set(cats)
    pop = item_popularity.reindex(products["product_id"].to_numpy()).fillna(0).to_numpy(dtype=float)
    catalog = pd.DataFrame({"product_id": products["product_id"].to_numpy(), "category": cats.to_numpy(),
                            "score": pop})
    catalog = catalog.sort_values(["score", "product_id"], ascending=[False, True], kind="stable")
    overall = catalog.head(k)
    interests = cust["interests"].fillna("").astype(str).to_numpy()
    lists = []
    for text in pd.unique(interests):
        wanted = [c for c in text.split("|") if c]
        bad = [c for c in wanted if c not in known_cats]
        if bad:
            who = cust["customer_id"].to_numpy()[interests == text][:3].tolist()
            raise ValueError(f"customers.interests of customer(s) {who} names unknown "
                             f"categor(ies) {bad}; products.category has {sorted(known_cats)}.")
        top = catalog.loc[catalog["category"].isin(wanted)].head(k)
        top = top.assign(reason="interest:" + top["category"])
        fill = overall.loc[~overall["product_id"].isin(top["product_id"])].head(k - len(top))
        lst = pd.concat([top, fill.assign(reason="popular")], ignore_index=True)
        lists.append(lst.assign(rank=np.arange(1, len(lst) + 1), interests=text))
    table = pd.concat(lists, ignore_index=True)
    res = pd.DataFrame({"customer_id": cust["customer_id"].to_numpy(), "interests": interests,
                        "_order": np.arange(len(cust))})
    res = res.merge(table, on="interests", how="left").sort_values(["_order", "rank"], kind="stable")
    return res[["customer_id", "rank", "product_id", "score", "reason"]].astype(
        {"rank": np.int64, "product_id": np.int64, "customer_id": np.int64, "reason": "str"})


@reads(customers="", products="")
def recommend_with_cold_start(
    model: Recommender,
    users: Any,
    customers: pd.DataFrame,
    products: pd.DataFrame,
    k: int = 10,
    *,
    exclude_seen: bool = True,
) -> pd.DataFrame:
    """Model lists for customers the model knows, :func:`cold_start_recommend` for the rest.

    Adds a column ``source`` (``"model"`` or ``"cold_start"``); customers unknown to both
    the model and ``customers`` raise ``ValueError``.
    """
    im = model._check_fitted()
    k = _check_k(k)
    u = np.unique(np.atleast_1d(np.asarray(users)).astype(np.int64))
    if u.size == 0:
        raise ValueError("users is empty; pass at least one customer id.")
    known = np.isin(u, im.user_ids)
    parts = []
    if known.any():
        parts.append(model.recommend(u[known], k=k, exclude_seen=exclude_seen)
                     .assign(source="model"))
    if (~known).any():
        cold = cold_start_recommend(customers, products, model.item_popularity_, k, users=u[~known])
        parts.append(cold.drop(columns="reason").assign(source="cold_start"))
    out = pd.concat(parts, ignore_index=True)
    return out.astype({"source": "str"}).sort_values(["customer_id", "rank"]).reset_index(drop=True)
