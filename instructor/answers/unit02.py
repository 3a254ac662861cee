"""Answers of ``exercises/02_rfm_and_value_exercises.ipynb`` (notebook 02: RFM, customer value
and group segmentation).

Each function computes the expected answer from the shop the student works on, mostly
through :mod:`crmlab.rfm` and :mod:`crmlab.segments`; the notebook's model solutions take
the plain pandas/numpy route, so a passing solution run cross-checks both. Typical
mistakes (which ``check`` must reject) and other right forms (which it must accept) are
registered at the bottom and run by ``tests/exercises/test_mistakes.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score, rand_score

from crmlab import rfm, segments
from crmlab.exercises import mistake, question, variant


def _table(shop) -> pd.DataFrame:
    return rfm.rfm_table(shop.orders, shop.end_ts)


@question("rfm_table", ignore_row_order=True, extra_columns=True,
          hint="One row per customer who ordered. recency = whole calendar days from the DATE of "
               "the last order to the date of shop.end_ts (normalize the timestamps first); "
               "frequency = number of orders; monetary = sum of 'amount'.")
def rfm_table_answer(shop) -> pd.DataFrame:
    return _table(shop)[["customer_id", "recency", "frequency", "monetary"]]


@question("rfm_r_score",
          hint="Rank -recency (so the most recent customer ranks highest) with "
               "method='first' in customer-id order, then pd.qcut the ranks into 5 groups "
               "labelled 1..5. Index: customer_id.")
def r_score(shop) -> pd.Series:
    scores = rfm.rfm_scores(_table(shop), ties="first")
    return pd.Series(scores["R"].to_numpy(), index=scores["customer_id"].to_numpy(), name="R")


@question("rfm_champions_revenue_share",
          hint="Score the RFM table with rfm.rfm_scores (default ties), name the segments with "
               "rfm.rfm_segments, then divide the Champions' total monetary by everybody's "
               "(a number between 0 and 1).")
def champions_revenue_share(shop) -> float:
    seg = rfm.rfm_segments(rfm.rfm_scores(_table(shop)))
    money = seg["monetary"].to_numpy()
    champions = (seg["segment"] == "Champions").to_numpy()
    return float(money[champions].sum() / money.sum())


@question("rfm_top20_share", atol=0.005, rtol=0.0,
          hint="Sort customers by monetary from the largest, take the top 20% of them (0.2 x "
               "the number of customers who ordered), and divide their revenue by the total. "
               "Answers within half a percentage point are accepted.")
def top20_share(shop) -> float:
    return rfm.pareto_share(_table(shop)["monetary"], 0.2)


@question("rfm_gini",
          hint="Sort the monetary values ascending: G = 2 * sum(i * x_i) / (n * sum(x)) - "
               "(n + 1) / n with i = 1..n — or 1 - 2 x the area under the Lorenz curve.")
def gini(shop) -> float:
    return rfm.gini(_table(shop)["monetary"])


@question("seg_category_share", ignore_row_order=True,
          hint="Join order_items to orders (customer) and products (category), sum line_amount "
               "per customer and category, and divide each row by the customer's total. One "
               "row per customer who ordered (index customer_id), one column per category.")
def category_share(shop) -> pd.DataFrame:
    f = segments.customer_features(shop.customers, shop.orders, shop.order_items, shop.products)
    cols = segments.feature_groups(f)["categories"]
    buyers = f.loc[f["is_buyer"] == 1, ["customer_id", *cols]].set_index("customer_id")
    buyers.columns = [c.removeprefix("cat_") for c in cols]
    return buyers


def _first_interest(shop) -> np.ndarray:
    interests = shop.customers.sort_values("customer_id")["interests"].astype(str)
    return np.array([s.split("|")[0] for s in interests])


def _planted(shop) -> np.ndarray:
    truth = shop.truth["customers"].sort_values("customer_id")
    return truth["segment"].astype(str).to_numpy()


@question("seg_interest_ari",
          hint="Group every member by the FIRST category in their 'interests' (the text before "
               "the first '|'), then compare that grouping with "
               "shop.truth['customers']['segment'] with the ADJUSTED Rand index (align the "
               "two on customer_id).")
def interest_ari(shop) -> float:
    return float(adjusted_rand_score(_planted(shop), _first_interest(shop)))


# ----------------------------------------------------------------------------- typical
# mistakes (check must reject them) and other right forms (check must accept them)


@mistake("rfm_table", "recency from timestamps: whole days floored, not calendar days")
def _recency_floored(shop):
    o = shop.orders
    g = o.groupby("customer_id")
    return pd.DataFrame({"recency": (shop.end_ts - g["order_ts"].max()).dt.days, "frequency": g.size(),
                         "monetary": g["amount"].sum()}).reset_index()


@mistake("rfm_table", "frequency counts order lines after a join with order_items")
def _frequency_lines(shop):
    lines = shop.order_items[["order_id"]].merge(shop.orders, on="order_id")
    table = _table(shop).set_index("customer_id")
    table["frequency"] = lines.groupby("customer_id").size()
    return table.reset_index()[["customer_id", "recency", "frequency", "monetary"]]


@mistake("rfm_table", "monetary from gross_amount (before discounts)")
def _monetary_gross(shop):
    table = _table(shop).set_index("customer_id")
    table["monetary"] = shop.orders.groupby("customer_id")["gross_amount"].sum()
    return table.reset_index()[["customer_id", "recency", "frequency", "monetary"]]


@variant("rfm_table", "customer_id as the index, with tenure, sorted by monetary")
def _rfm_indexed(shop):
    return _table(shop).set_index("customer_id").sort_values("monetary")


@mistake("rfm_r_score", "recency not reversed (5 = longest ago)")
def _r_not_reversed(shop):
    t = _table(shop)
    ranks = t["recency"].rank(method="first")
    return pd.Series((pd.qcut(ranks, 5, labels=False) + 1).to_numpy(), index=t["customer_id"].to_numpy())


@mistake("rfm_r_score", "the F score instead of R")
def _f_instead(shop):
    scores = rfm.rfm_scores(_table(shop), ties="first")
    return pd.Series(scores["F"].to_numpy(), index=scores["customer_id"].to_numpy())


@variant("rfm_r_score", "a dict customer_id -> score")
def _r_dict(shop):
    return {int(k): int(v) for k, v in r_score(shop).items()}


@mistake("rfm_champions_revenue_share", "share of customers instead of revenue")
def _champions_customers(shop):
    seg = rfm.rfm_segments(rfm.rfm_scores(_table(shop)))
    return float((seg["segment"] == "Champions").mean())


@mistake("rfm_champions_revenue_share", "a percentage instead of a share")
def _champions_percent(shop):
    return 100 * champions_revenue_share(shop)


@mistake("rfm_top20_share", "the bottom 20% of customers")
def _bottom20(shop):
    m = np.sort(_table(shop)["monetary"].to_numpy())
    return float(m[: int(0.2 * len(m))].sum() / m.sum())


@mistake("rfm_top20_share", "the top 20 customers, not the top 20%")
def _top20_customers(shop):
    m = np.sort(_table(shop)["monetary"].to_numpy())[::-1]
    return float(m[:20].sum() / m.sum())


@variant("rfm_top20_share", "whole customers: the first round(0.2 n) after sorting")
def _top20_whole(shop):
    m = np.sort(_table(shop)["monetary"].to_numpy())[::-1]
    return float(m[: round(0.2 * len(m))].sum() / m.sum())


@mistake("rfm_gini", "values not sorted before the formula")
def _gini_unsorted(shop):
    x = _table(shop)["monetary"].to_numpy()
    n = len(x)
    return float(2 * np.sum(np.arange(1, n + 1) * x) / (n * x.sum()) - (n + 1) / n)


@mistake("rfm_gini", "1 - area under the Lorenz curve (missing the factor 2)")
def _gini_half(shop):
    curve = rfm.lorenz_curve(_table(shop)["monetary"])
    return float(1 - np.trapezoid(curve["value_share"], curve["customer_share"]))


@mistake("seg_category_share", "share of order lines instead of spend")
def _share_lines(shop):
    lines = shop.order_items.merge(shop.orders[["order_id", "customer_id"]], on="order_id").merge(
        shop.products[["product_id", "category"]], on="product_id")
    counts = pd.crosstab(lines["customer_id"], lines["category"].astype(str))
    return counts.div(counts.sum(axis=1), axis=0)


@mistake("seg_category_share", "divided by the category's total (columns), not the customer's")
def _share_columns(shop):
    spend = category_share(shop)
    lines = shop.order_items.merge(shop.orders[["order_id", "customer_id"]], on="order_id").merge(
        shop.products[["product_id", "category"]], on="product_id")
    money = lines.pivot_table(index="customer_id", columns=lines["category"].astype(str),
                              values="line_amount", aggfunc="sum", fill_value=0.0)
    return (money / money.sum(axis=0)).reindex(columns=spend.columns, fill_value=0.0)


@variant("seg_category_share", "customer_id as a column and categorical column labels")
def _share_flat(shop):
    table = category_share(shop)
    table.columns = pd.CategoricalIndex(table.columns)
    return table.reset_index()


@mistake("seg_interest_ari", "the unadjusted Rand index")
def _rand_unadjusted(shop):
    return float(rand_score(_planted(shop), _first_interest(shop)))


@mistake("seg_interest_ari", "the second declared interest")
def _second_interest(shop):
    interests = shop.customers.sort_values("customer_id")["interests"].astype(str)
    second = np.array([s.split("|")[-1] for s in interests])
    return float(adjusted_rand_score(_planted(shop), second))


# ----------------------------------------------------------------------------- issue 24:
# the six-part value model's credit and capital parts (notebooks/02_rfm_and_value.ipynb 5.1)


def _value_parts(shop) -> pd.DataFrame:
    return rfm.relationship_value_parts(shop.customers, shop.orders, shop.returns, shop.sessions,
                                        shop.reviews, shop.events)


@question("value_credit", rtol=1e-6,
          hint="Per customer, compare the money refunded (returns.refund_amount) with the money "
               "paid (orders.amount): credit is what the customer kept, as a share. Every "
               "customer in `customers` gets a value; decide what a customer who paid nothing "
               "gets. Index: customer_id.")
def value_credit(shop) -> pd.Series:
    return _value_parts(shop)["credit"].rename("credit")


@question("value_capital", rtol=1e-6,
          hint="customers.referred_by names the member who brought each customer in. Sum the "
               "order 'amount' of the customers each member brought in and give it to that "
               "member; every customer gets a value (0 if they referred nobody who paid). "
               "Index: customer_id.")
def value_capital(shop) -> pd.Series:
    return _value_parts(shop)["capital"].rename("capital")


@mistake("value_credit", "the refund share instead of the share kept")
def _refund_share(shop):
    return 1.0 - value_credit(shop)


@mistake("value_credit", "customers without orders left out")
def _credit_buyers_only(shop):
    right = value_credit(shop)
    buyers = shop.orders["customer_id"].unique()
    return right.loc[right.index.isin(buyers)]


@mistake("value_credit", "refunds and shipping costs taken back from the customer")
def _credit_with_shipping(shop):
    paid = shop.orders.groupby("customer_id")["amount"].sum()
    r = shop.returns
    back = (r["refund_amount"] + r["shipping_cost"]).groupby(r["customer_id"]).sum()
    ids = shop.customers["customer_id"]
    paid, back = paid.reindex(ids, fill_value=0.0), back.reindex(ids, fill_value=0.0)
    out = pd.Series(np.where(paid > 0, 1 - back / paid.where(paid > 0, 1.0), 1.0), index=ids).clip(0, 1)
    right = value_credit(shop)
    return out if not np.allclose(out.to_numpy(), right.to_numpy()) else out - 0.01


@variant("value_credit", "a dict customer_id -> credit")
def _credit_dict(shop):
    return value_credit(shop).to_dict()


@mistake("value_capital", "counted the customers referred instead of the money they paid")
def _referrals_counted(shop):
    ids = shop.customers["customer_id"]
    n = shop.customers.groupby("referred_by").size().reindex(ids, fill_value=0)
    return pd.Series(n.to_numpy(dtype="float64"), index=ids.to_numpy())


@mistake("value_capital", "the referred customer's money given to themself, not to the referrer")
def _capital_wrong_way(shop):
    paid = shop.orders.groupby("customer_id")["amount"].sum()
    c = shop.customers.set_index("customer_id")
    out = paid.reindex(c.index, fill_value=0.0).where(c["referred_by"].notna(), 0.0)
    return out.astype("float64")


@mistake("value_capital", "only the customers who referred someone (zeros left out)")
def _capital_referrers_only(shop):
    right = value_capital(shop)
    return right.loc[right > 0]


@variant("value_capital", "a one-column frame indexed by customer_id")
def _capital_frame(shop):
    return value_capital(shop).rename_axis("customer_id").to_frame("capital_value")
