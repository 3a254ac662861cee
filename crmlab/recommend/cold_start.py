"""Cold start (冷啟動): a new customer has no history yet.

:func:`cold_start_recommend` gives them the most popular products within the interests they
declared at sign-up; :func:`recommend_with_cold_start` uses a fitted model for customers it
knows and the cold-start list for the rest.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlab._checks import frame_with, reads
from crmlab.recommend.interactions import _LOG_FIX, _check_k
from crmlab.recommend.models import Recommender


def _chosen_customers(customers: pd.DataFrame, users: Any) -> pd.DataFrame:
    """The rows of ``customers`` for ``users`` in that order (all rows for ``None``)."""
    cust = customers
    if users is not None:
        want = np.atleast_1d(np.asarray(users)).astype(np.int64)
        unknown = np.setdiff1d(want, customers["customer_id"].to_numpy())
        if len(unknown):
            raise ValueError(f"{len(unknown)} customer_id(s) not in customers (e.g. "
                             f"{unknown[:5].tolist()}); pass the customers table that has them.")
        cust = customers.set_index("customer_id").loc[want].reset_index()
    return cust


def _interest_list(text: str, catalog: pd.DataFrame, overall: pd.DataFrame, cust: pd.DataFrame,
                   interests: np.ndarray, k: int) -> pd.DataFrame:
    """The list of one declared-interest string: top products of those categories, topped up
    with the overall best sellers (``catalog`` is sorted by popularity)."""
    known_cats = set(catalog["category"])
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
    return lst.assign(rank=np.arange(1, len(lst) + 1), interests=text)


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

    Parameters
    ----------
    customers : pd.DataFrame
        The shop's ``customers`` table (customer_id, interests).
    products : pd.DataFrame
        The shop's ``products`` table (product_id, category).
    item_popularity : pd.Series
        Training users per product.
    k : int, default 10
        List length.
    users : array-like of int, optional
        The customers wanted (default every customer).

    Returns
    -------
    pd.DataFrame
        ``customer_id, rank, product_id, score, reason``.
    """
    k = _check_k(k)
    frame_with(customers, "customers", ["customer_id", "interests"], _LOG_FIX)
    frame_with(products, "products", ["product_id", "category"], _LOG_FIX)
    cust = _chosen_customers(customers, users)
    cats = products["category"].astype(str)
    pop = item_popularity.reindex(products["product_id"].to_numpy()).fillna(0).to_numpy(dtype=float)
    catalog = pd.DataFrame({"product_id": products["product_id"].to_numpy(), "category": cats.to_numpy(),
                            "score": pop})
    catalog = catalog.sort_values(["score", "product_id"], ascending=[False, True], kind="stable")
    overall = catalog.head(k)
    interests = cust["interests"].fillna("").astype(str).to_numpy()
    lists = [_interest_list(text, catalog, overall, cust, interests, k) for text in pd.unique(interests)]
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

    Parameters
    ----------
    model : Recommender
        A fitted model.
    users : array-like of int
        The customers to recommend to.
    customers, products : pd.DataFrame
        The shop's ``customers`` and ``products`` tables.
    k : int, default 10
        List length.
    exclude_seen : bool, default True
        Passed to :meth:`Recommender.recommend`.

    Returns
    -------
    pd.DataFrame
        The lists with a ``source`` column.
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
