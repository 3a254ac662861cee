"""Answers of ``exercises/06_recommendations_and_baskets_exercises.ipynb`` (notebook 06:
recommendations and market baskets).

Each function computes the expected answer from the shop the student works on through
:mod:`crmlab.recommend` / :mod:`crmlab.basket`; the notebook's model solutions take the plain
pandas/numpy route, so a passing solution run cross-checks both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab import basket as bk
from crmlab import recommend as rec
from crmlab.exercises import mistake, question, variant

#: Test period of the evaluation exercise: the last 90 days of the data.
TEST_DAYS = 90
#: Bundle / discount exercise: 10 % off.
DISCOUNT = 0.10
#: Minimum support of the pair exercise: 1 % of the orders.
PAIR_MIN_SUPPORT = 0.01


def _purchases(shop) -> pd.DataFrame:
    return rec.interaction_log(orders=shop.orders, order_items=shop.order_items)


def _popularity(shop) -> pd.Series:
    """Distinct buyers per product, most first (ties: lower product_id first)."""
    model = rec.Popularity().fit(_purchases(shop))
    return model.item_popularity_.sort_values(ascending=False, kind="stable")


@question("rec_top5_popular", ids=True,
          hint="Popularity = number of DISTINCT customers who bought the product (join "
               "order_items to orders for the customer). Highest first; ties: lower "
               "product_id first. Answer a list of five product_ids.")
def top5_popular(shop) -> list[int]:
    return [int(p) for p in _popularity(shop).index[:5]]


@question("basket_textbook_lift", rtol=1e-6,
          hint="Lift(A -> B) = confidence(A -> B) / support(B), with confidence = "
               "support(A and B) / support(A) and supports as shares of the 5 baskets.")
def textbook_lift(shop) -> float:
    fi = bk.frequent_itemsets(bk.baskets_from_lists(bk.TEXTBOOK_BASKETS), 0.2)
    rules = bk.association_rules(fi, metric="lift", min_threshold=0.0)
    hit = rules.loc[(rules["antecedents"] == frozenset({"Diapers"}))
                    & (rules["consequents"] == frozenset({"Beer"}))]
    return float(hit["lift"].iloc[0])


def _pair_rules(shop) -> pd.DataFrame:
    return bk.pair_rules(bk.rules_from_order_items(shop.order_items, PAIR_MIN_SUPPORT))


@question("basket_top_pair_by_lift",
          hint="Count each product once per order. Keep pairs of products that are together "
               "in at least 1% of the orders; lift = support(A and B) / (support(A) * "
               "support(B)). Answer the pair with the highest lift as a set of two product_ids.")
def top_pair_by_lift(shop) -> set[int]:
    top = _pair_rules(shop).iloc[0]
    return {int(top["antecedent"]), int(top["consequent"])}


@question("rec_most_similar_item", ids=True,
          hint="Binary customer x product purchase matrix (1 if the customer ever bought it). "
               "Cosine similarity between product COLUMNS; the most popular product (Exercise 1) "
               "is not its own neighbour. Answer one product_id.")
def most_similar_item(shop) -> int:
    knn = rec.ItemKNN(n_neighbors=1, binary=True).fit(_purchases(shop))
    top = int(_popularity(shop).index[0])
    return int(knn.similar_items(top, n=1)["product_id"].iloc[0])


def _split(shop) -> tuple[pd.DataFrame, pd.DataFrame]:
    cutoff = shop.end - pd.Timedelta(days=TEST_DAYS - 1)
    return rec.time_split(_purchases(shop), cutoff)


@question("rec_popularity_recall", rtol=1e-6,
          hint="Train = purchases before the cut-off (shop.end - 89 days), test = on or after. "
               "For each customer who bought in both periods: the 10 most popular training "
               "products (distinct buyers; ties lower id) that they did NOT buy in training; "
               "relevant = test products they had not bought in training (skip customers with "
               "none). recall@10 = hits / relevant; answer the mean over customers.")
def popularity_recall(shop) -> float:
    train, test = _split(shop)
    model = rec.Popularity().fit(train)
    return float(rec.evaluate(model, test, k=10)["recall@10"])


@question("basket_breakeven_uplift", rtol=1e-6,
          hint="Margin rate g from list prices and unit costs over all order lines (quantity "
               "weighted). After the discount each NT$ of list-price sales earns g - d instead "
               "of g: set gross profit before = gross profit after and solve for the growth.")
def breakeven_uplift(shop) -> float:
    lines = shop.order_items.merge(shop.products[["product_id", "unit_cost"]], on="product_id")
    revenue = float((lines["quantity"] * lines["list_price"]).sum())
    margin = float((lines["quantity"] * (lines["list_price"] - lines["unit_cost"])).sum())
    return float(bk.breakeven_uplift(margin / revenue, DISCOUNT))


# ----------------------------------------------------------------------------- typical
# mistakes (check must reject them) and other right forms (check must accept them);
# tests/exercises/test_mistakes.py runs every one of them on the tiny shop.


@mistake("rec_top5_popular", "counted order lines instead of distinct customers")
def _by_lines(shop):
    lines = shop.order_items["product_id"].value_counts()
    lines = lines.sort_index().sort_values(ascending=False, kind="stable")
    wrong = [int(p) for p in lines.index[:5]]
    return wrong if wrong != top5_popular(shop) else wrong[::-1]


@mistake("rec_top5_popular", "least popular first (ascending sort)")
def _least(shop):
    return [int(p) for p in _popularity(shop).index[::-1][:5]]


@variant("rec_top5_popular", "a NumPy array")
def _top5_array(shop):
    return np.array(top5_popular(shop))


@mistake("basket_textbook_lift", "confidence instead of lift")
def _confidence(shop):
    return 3 / 4  # {Diapers} -> {Beer}: 3 of the 4 baskets with Diapers


@mistake("basket_textbook_lift", "lift of the reverse-order supports as counts")
def _counts(shop):
    return (3 / 4) / 3  # divided by the support count of Beer, not its share


@mistake("basket_top_pair_by_lift", "the pair with the highest support instead of lift")
def _by_support(shop):
    pr = _pair_rules(shop).sort_values("support", ascending=False, kind="stable")
    wrong = {int(pr["antecedent"].iloc[0]), int(pr["consequent"].iloc[0])}
    if wrong == top_pair_by_lift(shop):  # the same pair on this shop: take the runner-up
        second = pr.loc[[{int(a), int(c)} != wrong for a, c in
                         zip(pr["antecedent"], pr["consequent"], strict=True)]].iloc[0]
        wrong = {int(second["antecedent"]), int(second["consequent"])}
    return wrong


@variant("basket_top_pair_by_lift", "a list in the other order")
def _pair_list(shop):
    return sorted(top_pair_by_lift(shop), reverse=True)


@mistake("rec_most_similar_item", "the most co-purchased item (raw count, not cosine)")
def _raw_count(shop):
    log = _purchases(shop)
    x = pd.crosstab(log["customer_id"], log["product_id"]).clip(upper=1)
    top = int(_popularity(shop).index[0])
    co = (x.T @ x[top]).drop(index=top).sort_index().sort_values(ascending=False, kind="stable")
    wrong = int(co.index[0])
    if wrong == most_similar_item(shop):
        wrong = int(co.index[1])
    return wrong


@mistake("rec_popularity_recall", "did not remove products the customer already bought")
def _with_seen(shop):
    train, test = _split(shop)
    model = rec.Popularity().fit(train)
    return float(rec.evaluate(model, test, k=10, exclude_seen=False)["recall@10"])


@mistake("rec_popularity_recall", "precision@10 instead of recall@10")
def _precision(shop):
    train, test = _split(shop)
    return float(rec.evaluate(rec.Popularity().fit(train), test, k=10)["precision@10"])


@mistake("basket_breakeven_uplift", "the discount divided by the full margin rate g (what is left after the discount ignored)")
def _d_over_g(shop):
    g_minus_d_ratio = breakeven_uplift(shop)  # d / (g - d)
    g = DISCOUNT / g_minus_d_ratio + DISCOUNT
    return DISCOUNT / g


@mistake("basket_breakeven_uplift", "margin on paid prices (unit_price) instead of list prices")
def _paid_prices(shop):
    lines = shop.order_items.merge(shop.products[["product_id", "unit_cost"]], on="product_id")
    revenue = float((lines["quantity"] * lines["unit_price"]).sum())
    margin = float((lines["quantity"] * (lines["unit_price"] - lines["unit_cost"])).sum())
    return float(bk.breakeven_uplift(margin / revenue, DISCOUNT))


# ----------------------------------------------------------------------------- item-kNN with
# NDCG and cold start (issue 32): the answers come from crmlab.recommend's evaluation helpers.

#: Neighbours kept per product in the item-kNN exercise.
KNN_NEIGHBORS = 20
#: Length of the recommendation lists.
K = 10


def _knn(shop) -> tuple[rec.ItemKNN, pd.DataFrame]:
    train, test = _split(shop)
    return rec.ItemKNN(n_neighbors=KNN_NEIGHBORS, binary=True).fit(train), test


@question("rec_knn_ndcg", rtol=1e-6,
          hint="Only the customers the model knows (bought before the cut-off) with at least one "
               "relevant product count. A hit at rank r earns 1/log2(r + 1); the ideal list puts "
               "min(|R|, 10) hits at the top. Average the per-customer ratio.")
def knn_ndcg(shop) -> float:
    model, test = _knn(shop)
    return float(rec.evaluate(model, test, k=K)[f"ndcg@{K}"])


def _knn_lists(shop) -> tuple[pd.DataFrame, pd.DataFrame]:
    model, test = _knn(shop)
    train, _ = _split(shop)
    rel = rec.relevant_items(test, train)
    recs = model.recommend(rel["customer_id"].unique(), k=K)
    return recs, rel


@mistake("rec_knn_ndcg", "DCG not divided by the ideal DCG")
def _dcg_only(shop):
    recs, rel = _knn_lists(shop)
    hits = recs.merge(rel, on=["customer_id", "product_id"])
    dcg = (1 / np.log2(hits["rank"] + 1.0)).groupby(hits["customer_id"]).sum()
    return float(dcg.reindex(rel["customer_id"].unique(), fill_value=0.0).mean())


@mistake("rec_knn_ndcg", "ideal DCG over every relevant product, not at most 10")
def _ideal_uncapped(shop):
    recs, rel = _knn_lists(shop)
    hits = recs.merge(rel, on=["customer_id", "product_id"])
    dcg = (1 / np.log2(hits["rank"] + 1.0)).groupby(hits["customer_id"]).sum()
    n_rel = rel.groupby("customer_id").size()
    ideal = n_rel.map(lambda n: float(np.sum(1 / np.log2(np.arange(2, n + 2)))))
    return float((dcg.reindex(n_rel.index, fill_value=0.0) / ideal).mean())


@mistake("rec_knn_ndcg", "discount 1/log2(rank) (the first hit divides by zero or counts twice)")
def _log_rank(shop):
    recs, rel = _knn_lists(shop)
    hits = recs.merge(rel, on=["customer_id", "product_id"])
    gain = 1 / np.log2(np.maximum(hits["rank"], 2.0))
    dcg = gain.groupby(hits["customer_id"]).sum()
    n_rel = rel.groupby("customer_id").size()
    ideal = n_rel.map(lambda n: float(np.sum(1 / np.log2(np.maximum(np.arange(1, min(n, K) + 1), 2)))))
    return float((dcg.reindex(n_rel.index, fill_value=0.0) / ideal).mean())


@mistake("rec_knn_ndcg", "the popularity baseline's NDCG instead of item-kNN's")
def _popularity_ndcg(shop):
    train, test = _split(shop)
    return float(rec.evaluate(rec.Popularity().fit(train), test, k=K)[f"ndcg@{K}"])


def _cold(shop) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """New customers of the test period (no purchase before the cut-off), what they bought
    then, and the training popularity (distinct buyers per product)."""
    train, test = _split(shop)
    buys = test.loc[test["event_type"] == "purchase", ["customer_id", "product_id"]].drop_duplicates()
    new = buys.loc[~buys["customer_id"].isin(train["customer_id"])]
    pop = rec.Popularity().fit(train).item_popularity_
    return new, train, pop


def _recall(lists: pd.DataFrame, relevant: pd.DataFrame) -> float:
    return float(rec.ranking_metrics(lists, relevant, K)["recall"].mean())


def _cold_lists(shop, pop: pd.Series, users: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    by_interest = rec.cold_start_recommend(shop.customers, shop.products, pop, K, users=users)
    top = pop.sort_index().sort_values(ascending=False, kind="stable").index[:K]
    popular = pd.DataFrame({"customer_id": np.repeat(users, len(top)),
                            "product_id": np.tile(np.asarray(top), len(users)),
                            "rank": np.tile(np.arange(1, len(top) + 1), len(users))})
    return by_interest, popular


@question("rec_cold_start_recall", rtol=1e-6,
          hint="The new customers are those with a purchase after the cut-off and none before. "
               "Both lists rank products by distinct TRAINING buyers (ties: lower id) — the "
               "test period is the future. The interest list keeps only products of the "
               "customer's declared categories and tops up with overall best sellers it does "
               "not already hold.")
def cold_start_recall(shop) -> dict[str, float]:
    new, _, pop = _cold(shop)
    users = np.sort(new["customer_id"].unique())
    by_interest, popular = _cold_lists(shop, pop, users)
    return {"interests": _recall(by_interest, new), "popular": _recall(popular, new)}


@mistake("rec_cold_start_recall", "popularity counted over the whole data, test period included "
         "(look-ahead)")
def _cold_lookahead(shop):
    new, _, _ = _cold(shop)
    pop = rec.Popularity().fit(_purchases(shop)).item_popularity_
    by_interest, popular = _cold_lists(shop, pop, np.sort(new["customer_id"].unique()))
    return {"interests": _recall(by_interest, new), "popular": _recall(popular, new)}


@mistake("rec_cold_start_recall", "popularity by order lines instead of distinct buyers")
def _cold_by_lines(shop):
    new, train, _ = _cold(shop)
    pop = train.loc[train["event_type"] == "purchase"].groupby("product_id").size().astype(float)
    by_interest, popular = _cold_lists(shop, pop, np.sort(new["customer_id"].unique()))
    return {"interests": _recall(by_interest, new), "popular": _recall(popular, new)}


@mistake("rec_cold_start_recall", "hit rate (any hit) instead of recall")
def _cold_hits(shop):
    new, _, pop = _cold(shop)
    by_interest, popular = _cold_lists(shop, pop, np.sort(new["customer_id"].unique()))
    hit = {name: float(rec.ranking_metrics(lists, new, K)["hit"].mean())
           for name, lists in (("interests", by_interest), ("popular", popular))}
    return hit
