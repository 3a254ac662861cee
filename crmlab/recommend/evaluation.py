"""Ranking metrics (推薦評估): is the item a customer bought next near the top of the list?

:func:`relevant_items` (what each user did in the test period), :func:`ranking_metrics`
(precision@k, recall@k, NDCG@k, MAP@k, hit rate), :func:`per_user_metrics`,
:func:`evaluate` (one model, with catalogue coverage and novelty) and
:func:`compare_models` (several models side by side).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crmlab._checks import frame_with
from crmlab.recommend.interactions import _LOG_FIX, InteractionMatrix, _check_k
from crmlab.recommend.models import Recommender

METRIC_COLUMNS = ("precision", "recall", "ndcg", "ap", "hit")
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

    Parameters
    ----------
    test : pd.DataFrame
        The test part of an interaction log.
    train : pd.DataFrame or InteractionMatrix, optional
        The training log (or matrix) to drop cold users and seen items.
    user_col, item_col : str, default "customer_id", "product_id"
        The user and item columns.
    event_type : str or None, default "purchase"
        Keep only these signals (``None``: every row).

    Returns
    -------
    pd.DataFrame
        Distinct ``user_col, item_col`` pairs.
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


def _graded(relevant: pd.DataFrame, keys: list[str], relevance_col: str | None) -> pd.DataFrame:
    """The relevant (user, item) pairs with a checked ``_grade`` (1 for binary relevance)."""
    user_col, item_col = keys
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
    return rel


def _ideal_dcg(rel: pd.DataFrame, user_col: str, k: int) -> pd.Series:
    """Each user's ideal DCG@k: their gains in decreasing order, the first ``k`` discounted."""
    best = rel.sort_values([user_col, "_gain"], ascending=[True, False], kind="stable")
    pos = best.groupby(user_col).cumcount().to_numpy()
    best = best.assign(_pos=pos).loc[pos < k]
    ideal = (best["_gain"] / np.log2(best["_pos"] + 2.0)).groupby(best[user_col]).sum().rename("ideal")
    return ideal


def _hit_sums(recommendations: pd.DataFrame, rel: pd.DataFrame, users: pd.Index, keys: list[str],
              k: int) -> pd.DataFrame:
    """Per user: hits in the top ``k``, their discounted gain (DCG) and the sum of precision at each hit."""
    user_col, item_col = keys
    recs = recommendations.loc[recommendations["rank"] <= k, [user_col, item_col, "rank"]]
    recs = recs.loc[recs[user_col].isin(users)]
    hits = recs.merge(rel, on=keys, how="inner").sort_values([user_col, "rank"])
    hits = hits.assign(n_hit=hits.groupby(user_col).cumcount() + 1)
    hits = hits.assign(dgain=hits["_gain"] / np.log2(hits["rank"] + 1.0),
                       prec_at=hits["n_hit"] / hits["rank"])
    agg = hits.groupby(user_col).agg(hits=("rank", "size"), dcg=("dgain", "sum"),
                                     sum_prec=("prec_at", "sum"))
    return agg


def _metric_table(n_rel: pd.Series, agg: pd.DataFrame, ideal: pd.Series, user_col: str,
                  k: int) -> pd.DataFrame:
    """One row per user with relevant items: precision, recall, NDCG, AP and hit from the sums."""
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
    return result


# Long function: two-thirds is the docstring (each metric's formula, binary and graded
# relevance, the numpydoc sections); the code, 25 lines, chains four named helpers.
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

    Parameters
    ----------
    recommendations : pd.DataFrame
        Lists with ``user_col, item_col, rank`` (e.g. :meth:`Recommender.recommend`).
    relevant : pd.DataFrame
        The relevant pairs (e.g. :func:`relevant_items`), with grades for graded relevance.
    k : int, default 10
        Cut-off of the list.
    user_col, item_col : str, default "customer_id", "product_id"
        The user and item columns.
    relevance_col : str, optional
        Column of grades for graded relevance.
    gain : {"linear", "exponential"}, default "linear"
        NDCG gain of a grade.

    Returns
    -------
    pd.DataFrame
        One row per user: ``n_relevant, hits, precision, recall, ndcg, ap, hit``.
    """
    k = _check_k(k)
    frame_with(recommendations, "recommendations", [user_col, item_col, "rank"], _LOG_FIX)
    if gain not in ("linear", "exponential"):
        raise ValueError(f"gain={gain!r}: use 'linear' (the grade) or 'exponential' (2^grade - 1).")
    keys = [user_col, item_col]
    rel = _graded(relevant, keys, relevance_col)
    users_all = pd.unique(rel[user_col])
    rel = rel.loc[rel["_grade"] > 0]
    rel = rel.assign(_gain=rel["_grade"] if gain == "linear" else np.exp2(rel["_grade"]) - 1.0)
    n_rel = rel.groupby(user_col).size().rename("n_relevant")
    agg = _hit_sums(recommendations, rel, n_rel.index, keys, k)
    ideal = _ideal_dcg(rel, user_col, k)
    result = _metric_table(n_rel, agg, ideal, user_col, k)
    result.attrs["n_users_without_relevant"] = int(len(users_all) - len(n_rel))
    return result


def catalog_coverage(recommendations: pd.DataFrame, n_items: int, *,
                     item_col: str = "product_id") -> float:
    """Share of the catalogue that appears in at least one list (0..1).

    Parameters
    ----------
    recommendations : pd.DataFrame
        The lists.
    n_items : int
        Catalogue size.
    item_col : str, default "product_id"
        The item column.

    Returns
    -------
    float
        Distinct recommended items / ``n_items``.
    """
    if n_items <= 0:
        raise ValueError(f"n_items must be positive, got {n_items}.")
    return float(recommendations[item_col].nunique() / n_items)


def novelty(recommendations: pd.DataFrame, item_popularity: pd.Series, n_users: int, *,
            item_col: str = "product_id") -> float:
    """Mean self-information ``−log2(n_i / n_users)`` of the recommended items (bits).

    ``n_i`` = training users who touched item ``i`` (``item_popularity``, floored at 1 so a
    never-seen item is maximally novel rather than infinite). Higher = less obvious lists
    (Zhou et al. 2010; Vargas & Castells 2011).

    Parameters
    ----------
    recommendations : pd.DataFrame
        The lists.
    item_popularity : pd.Series
        Training users per item (e.g. ``model.item_popularity_``).
    n_users : int
        Training users.
    item_col : str, default "product_id"
        The item column.

    Returns
    -------
    float
        Mean novelty in bits.
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

    Parameters
    ----------
    model : Recommender
        A fitted model.
    test : pd.DataFrame
        The later log to evaluate on.
    k : int, default 10
        List length.
    exclude_seen : bool, default True
        Passed to :meth:`Recommender.recommend`.
    event_type : str or None, default "purchase"
        Passed to :func:`relevant_items`.

    Returns
    -------
    pd.DataFrame
        The :func:`ranking_metrics` rows of the warm users.
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

    Parameters
    ----------
    model : Recommender
        A fitted model.
    test : pd.DataFrame
        The later log to evaluate on.
    k : int, default 10
        List length.
    exclude_seen : bool, default True
        Passed to :meth:`Recommender.recommend`.
    event_type : str or None, default "purchase"
        Passed to :func:`relevant_items`.

    Returns
    -------
    dict of str to float
        The mean metrics, coverage, novelty and user counts.
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
    """Fit each model on ``train`` and :func:`evaluate` it on ``test``: one row per model.

    Parameters
    ----------
    models : mapping of str to Recommender
        Named models; each is fitted on ``train`` in place.
    train, test : pd.DataFrame
        The two parts of :func:`time_split`.
    k : int, default 10
        List length.
    **evaluate_kwargs
        Passed to :func:`evaluate`.

    Returns
    -------
    pd.DataFrame
        One row per model, indexed by name.
    """
    rows = {}
    for name, model in models.items():
        model.fit(train)
        rows[name] = evaluate(model, test, k, **evaluate_kwargs)
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")
