"""Personalised recommendations (個性化推薦) — unit 3a.

A recommender turns what customers did (views, carts, purchases) into a short ranked list
of products each customer has not bought yet. This package holds the whole pipeline:

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

Where things live (each a module of this package, all names importable from
``crmlab.recommend``): :mod:`~crmlab.recommend.interactions` (the log, the time split, the
matrix), :mod:`~crmlab.recommend.models` (the recommenders),
:mod:`~crmlab.recommend.evaluation` (ranking metrics) and :mod:`~crmlab.recommend.cold_start`.
"""

from __future__ import annotations

# Every name of the single module this package replaced is importable from here; the few
# outside __all__ (constants, helpers the tests read) use the re-export form ``x as x``.
from crmlab.recommend.cold_start import (
    cold_start_recommend,
    recommend_with_cold_start,
)
from crmlab.recommend.evaluation import METRIC_COLUMNS as METRIC_COLUMNS
from crmlab.recommend.evaluation import catalog_coverage as catalog_coverage
from crmlab.recommend.evaluation import (
    compare_models,
    evaluate,
    per_user_metrics,
    ranking_metrics,
    relevant_items,
)
from crmlab.recommend.evaluation import novelty as novelty
from crmlab.recommend.interactions import (
    DEFAULT_WEIGHTS,
    InteractionMatrix,
    interaction_log,
    time_split,
)
from crmlab.recommend.models import (
    ImplicitALS,
    ItemKNN,
    Popularity,
    PureSVD,
    Recommender,
)

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
