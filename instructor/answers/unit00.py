"""Answers of ``exercises/00_warmup_exercises.ipynb`` (notebook 00: the shop's tables).

Each function computes the expected answer from the shop the student works on. They are
written independently of the notebook's model solutions (different pandas routes to the
same number), so a passing solution notebook cross-checks both.
"""

from __future__ import annotations

import pandas as pd

from crmlab.exercises import mistake, question, variant


@question("warmup_n_customers",
          hint="Every row of shop.customers is one member; count the rows.")
def n_customers(shop) -> int:
    return int(shop.customers["customer_id"].nunique())


@question("warmup_orders_per_channel", ignore_row_order=True,
          hint="Group shop.orders by 'channel'; count orders and sum 'amount'. Keep only "
               "channels that have orders, and name the columns channel, n_orders, revenue.")
def orders_per_channel(shop) -> pd.DataFrame:
    orders = shop.orders
    counts = orders["channel"].astype(str).value_counts()
    revenue = orders.assign(channel=orders["channel"].astype(str)).pivot_table(
        index="channel", values="amount", aggfunc="sum"
    )["amount"]
    table = pd.DataFrame({"n_orders": counts, "revenue": revenue.reindex(counts.index)})
    table = table.rename_axis("channel").reset_index()
    return table[table["n_orders"] > 0].reset_index(drop=True)


@question("warmup_aov",
          hint="Average order value = total paid amount / number of orders (use 'amount', "
               "which is already net of discounts).")
def average_order_value(shop) -> float:
    orders = shop.orders
    return float(orders["amount"].sum() / len(orders))


@question("warmup_top_category",
          hint="Revenue lives on order lines (order_items.line_amount); join the products "
               "table to get each line's category, then sum by category.")
def top_category(shop) -> str:
    lines = shop.order_items.merge(shop.products[["product_id", "category"]], on="product_id",
                                   how="left", validate="many_to_one")
    revenue = lines.groupby(lines["category"].astype(str))["line_amount"].sum()
    return str(revenue.idxmax())


@question("warmup_top5_customers", ids=True,
          hint="Sum 'amount' per customer_id, sort from the highest, and take the first five "
               "ids as a list (highest spender first).")
def top5_customers(shop) -> list[int]:
    spend: dict[int, float] = {}
    for cid, amount in zip(shop.orders["customer_id"], shop.orders["amount"], strict=True):
        spend[int(cid)] = spend.get(int(cid), 0.0) + float(amount)
    ranked = sorted(spend.items(), key=lambda kv: (-kv[1], kv[0]))
    return [cid for cid, _ in ranked[:5]]


@question("warmup_top_customer_products",
          hint="Find the customer with the highest total 'amount', then the set of distinct "
               "product_ids on the order lines of that customer's orders.")
def top_customer_products(shop) -> set[int]:
    top = top5_customers(shop)[0]
    their_orders = set(shop.orders.loc[shop.orders["customer_id"] == top, "order_id"])
    items = shop.order_items
    return {int(p) for o, p in zip(items["order_id"], items["product_id"], strict=True)
            if o in their_orders}


@question("warmup_repeat_share",
          hint="Among customers with at least one order, the share with two or more orders "
               "(a number between 0 and 1). Customers who never ordered are not in the base.")
def repeat_share(shop) -> float:
    per_customer = shop.orders.groupby("customer_id").size()
    return float((per_customer >= 2).mean())


# ----------------------------------------------------------------------------- typical
# mistakes (check must reject them) and other right forms (check must accept them);
# tests/exercises/test_mistakes.py runs every one of them on the tiny shop.


@mistake("warmup_n_customers", "counted order rows instead of members")
def _orders_not_members(shop):
    return len(shop.orders)


@mistake("warmup_n_customers", "counted only members who ordered")
def _buyers_only(shop):
    return int(shop.orders["customer_id"].nunique())


@variant("warmup_n_customers", "a float from .shape")
def _n_float(shop):
    return float(shop.customers.shape[0])


@mistake("warmup_orders_per_channel", "observed=False keeps channels without orders")
def _with_empty_channels(shop):
    orders = shop.orders.assign(channel=pd.Categorical(
        shop.orders["channel"].astype(str),
        categories=[*shop.orders["channel"].astype(str).unique(), "fax"]))
    return (orders.groupby("channel", observed=False)
            .agg(n_orders=("order_id", "size"), revenue=("amount", "sum")).reset_index())


@mistake("warmup_orders_per_channel", "revenue from gross_amount (before discounts)")
def _gross_revenue(shop):
    return (shop.orders.groupby("channel", observed=True)
            .agg(n_orders=("order_id", "size"), revenue=("gross_amount", "sum")).reset_index())


@variant("warmup_orders_per_channel", "channel as the index, columns reordered, sorted")
def _channel_index(shop):
    table = (shop.orders.groupby("channel", observed=True)
             .agg(revenue=("amount", "sum"), n_orders=("order_id", "count")))
    return table.sort_values("revenue")


@mistake("warmup_aov", "mean of order-line amounts instead of orders")
def _line_mean(shop):
    return float(shop.order_items["line_amount"].mean())


@mistake("warmup_aov", "gross amount before discounts")
def _gross_aov(shop):
    return float(shop.orders["gross_amount"].mean())


@mistake("warmup_top_category", "category with the most order lines, not revenue")
def _most_lines(shop):
    lines = shop.order_items.merge(shop.products[["product_id", "category"]], on="product_id")
    by_lines = lines["category"].astype(str).value_counts()
    by_revenue = lines.groupby(lines["category"].astype(str))["line_amount"].sum()
    if by_lines.idxmax() == by_revenue.idxmax():  # same winner on this shop: the runner-up
        return str(by_revenue.sort_values().index[-2])
    return str(by_lines.idxmax())


@mistake("warmup_top5_customers", "lowest spenders (ascending sort)")
def _bottom5(shop):
    return shop.orders.groupby("customer_id")["amount"].sum().sort_values().head(5).index.tolist()


@mistake("warmup_top5_customers", "most orders instead of most spend")
def _most_orders(shop):
    by_orders = shop.orders["customer_id"].value_counts().head(5).index.tolist()
    if by_orders == top5_customers(shop):  # identical on this shop: reverse to stay wrong
        return by_orders[::-1]
    return by_orders


@variant("warmup_top5_customers", "a NumPy array of ids")
def _top5_array(shop):
    import numpy as np

    return np.array(top5_customers(shop), dtype="int32")


@mistake("warmup_top_customer_products", "products of the customer with most orders")
def _products_of_most_orders(shop):
    top = top5_customers(shop)
    other = top[1]  # the runner-up's products: a plausible but wrong set
    their_orders = shop.orders.loc[shop.orders["customer_id"] == other, "order_id"]
    return set(shop.order_items.loc[shop.order_items["order_id"].isin(their_orders),
                                    "product_id"])


@variant("warmup_top_customer_products", "a list with duplicates removed, any order")
def _products_list(shop):
    return sorted(top_customer_products(shop), reverse=True)


@mistake("warmup_repeat_share", "base includes members who never ordered")
def _repeat_over_members(shop):
    per_customer = shop.orders.groupby("customer_id").size()
    return float((per_customer >= 2).sum() / len(shop.customers))


@mistake("warmup_repeat_share", "a percentage instead of a share")
def _repeat_percent(shop):
    return 100 * repeat_share(shop)
