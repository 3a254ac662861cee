"""Answers of ``exercises/00_warmup_exercises.ipynb`` (unit 0: the shop's tables).

Each function computes the expected answer from the shop the student works on. They are
written independently of the notebook's model solutions (different pandas routes to the
same number), so a passing solution notebook cross-checks both.
"""

from __future__ import annotations

import pandas as pd

from crmlab.exercises import question


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


@question("warmup_top5_customers",
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
