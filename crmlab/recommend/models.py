"""Recommenders with one interface (推薦模型): ``fit(interactions)`` then ``recommend(users, k)``.

* :class:`Popularity` -- the baseline everyone must beat: the most-bought items;
* :class:`ItemKNN` -- item-based collaborative filtering (Sarwar et al. 2001; Deshpande &
  Karypis 2004): cosine similarity between item columns, the top ``n_neighbors`` per item,
  scores = user row x similarity matrix (sparse, chunked);
* :class:`ImplicitALS` -- matrix factorisation for implicit feedback (Hu, Koren & Volinsky
  2008) by alternating least squares, solved exactly (Cholesky) or with a few
  conjugate-gradient steps vectorised over all users (Takacs, Pilaszy & Tikk 2011);
* :class:`PureSVD` -- truncated SVD of the interaction matrix (Cremonesi et al. 2010).

Each returns a tidy frame ``customer_id, rank, product_id, score``; scores are "higher is
better" and only comparable within one model.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from crmlab.base import Estimator
from crmlab.recommend.interactions import InteractionMatrix, _check_k


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


class Recommender(Estimator):
    """Base class: ``fit(interactions)`` then ``recommend(users, k, exclude_seen=True)``.

    Subclasses implement ``_fit(X)`` on the CSR matrix and ``_scores(rows)`` returning a
    dense (len(rows), n_items) array of scores. Learned attributes end with ``_``:
    ``matrix_`` (:class:`InteractionMatrix`), ``item_popularity_`` (users per item).

    Parameters
    ----------
    None
        The base class takes no arguments; each model's hyperparameters are its ``__init__``
        arguments (scikit-learn's ``get_params``/``set_params``/``clone`` work on them).
    """

    _fit_call = "fit(interactions)"

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
        """Learn from a (user, item[, weight]) frame; duplicate pairs are summed.

        Parameters
        ----------
        interactions : pd.DataFrame
            One row per signal (e.g. the train part of :func:`interaction_log`).
        user_col, item_col : str, default "customer_id", "product_id"
            The user and item columns.
        weight_col : str or None, default "weight"
            The weight column (every row counts 1 without it).
        items : iterable of int, optional
            The whole catalogue, so items nobody touched are columns too.

        Returns
        -------
        Recommender
            The fitted model (``self``).
        """
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

    def _check_fitted(self, attributes: str | None = "matrix_") -> InteractionMatrix:
        """The training matrix, or ``NotFittedError`` (a ``ValueError``) naming ``fit(interactions)``."""
        super()._check_fitted(attributes)
        return self.matrix_

    def score(self, users: Any) -> pd.DataFrame:
        """Scores of every catalogue item for ``users`` (rows) — for inspection and plots.

        Parameters
        ----------
        users : array-like of int
            Training users.

        Returns
        -------
        pd.DataFrame
            Users x items scores.
        """
        im = self._check_fitted()
        rows = im.user_index(users)
        return pd.DataFrame(self._scores(rows), index=pd.Index(im.user_ids[rows], name=im.user_col),
                            columns=pd.Index(im.item_ids, name=im.item_col))

    def recommend(self, users: Any = None, k: int = 10, exclude_seen: bool = True) -> pd.DataFrame:
        """Top-``k`` items per user: tidy ``user, rank, item, score`` (rank 1 = best).

        ``users`` defaults to every training user. With ``exclude_seen`` an item the user
        already interacted with in training is never recommended; a user with fewer than
        ``k`` unseen items gets a shorter list.

        Parameters
        ----------
        users : array-like of int, optional
            The users to recommend to (default every training user).
        k : int, default 10
            List length.
        exclude_seen : bool, default True
            Leave out items the user touched in training.

        Returns
        -------
        pd.DataFrame
            ``user_col, rank, item_col, score``, ``k`` rows per user at most.
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


class Popularity(Recommender):
    """Most-popular baseline: score = number of distinct training users of the item.

    ``by="weight"`` ranks by total interaction weight instead. The same list for everyone
    (minus what each user has seen) — the yardstick a personalised model has to beat.

    Parameters
    ----------
    by : {"users", "weight"}, default "users"
        Rank items by distinct training users or by total weight.

    Attributes
    ----------
    item_scores_ : np.ndarray
        The popularity of each catalogue item.
    """


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

        Parameters
        ----------
        users, k, exclude_seen :
            As in :meth:`Recommender.recommend`.

        Returns
        -------
        pd.DataFrame
            ``user_col, rank, item_col, score``.
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

    Parameters
    ----------
    n_neighbors : int, default 50
        Neighbours kept per item.
    shrink : float, default 0.0
        Added to the cosine denominator; damps similarities built on few users.
    binary : bool, default False
        Use 0/1 instead of the interaction weights.
    chunk_size : int, optional
        Item columns per similarity block (default: chosen from the catalogue size).
    """


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
        """The ``n`` items most similar to ``item``: ``item_col, similarity``.

        Parameters
        ----------
        item : int
            A training item id.
        n : int, default 10
            Neighbours to list.

        Returns
        -------
        pd.DataFrame
            Most similar first (only positive similarities).
        """
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

        Parameters
        ----------
        user : int
            A training user id.
        item : int
            The recommended item id.
        n : int, default 3
            Contributing items to list.

        Returns
        -------
        pd.DataFrame
            The largest contributions first.
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

    Parameters
    ----------
    factors : int, default 32
        Latent dimensions.
    regularization : float, default 0.1
        ``λ``, the L2 penalty on the factors.
    alpha : float, default 10.0
        Confidence slope: ``c_ui = 1 + alpha · r_ui``.
    iterations : int, default 15
        Alternating sweeps.
    solver : {"cg", "cholesky"}, default "cg"
        Conjugate gradient (fast) or the exact per-user solve.
    cg_steps : int, default 3
        Conjugate-gradient steps per half-sweep.
    seed : int or numpy.random.Generator, default 0
        Seed of the initial factors.
    dtype : {"float32", "float64"}, default "float32"
        Precision of the factors.
    track_loss : bool, default True
        Record the objective after each sweep in ``loss_``.
    """


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

    Parameters
    ----------
    factors : int, default 32
        SVD components.
    seed : int, default 0
        Seed of the randomised SVD.
    """


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
