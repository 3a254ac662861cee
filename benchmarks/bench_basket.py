"""Benchmark: market baskets, orders -> rules, against raw mlxtend.

Target (issue 16): on 50,000 baskets × 1,000 items at min support 1 %, our end-to-end
``crmlab.basket.rules_from_order_items`` (order lines -> one-hot sparse baskets -> FP-growth
-> association rules) takes at most 1.2× the time of the peer: raw mlxtend as its user guide
shows it, ``TransactionEncoder(sparse)`` on the transaction lists + ``fpgrowth`` on the
sparse frame (itemsets only, no rules). Results count only when the frequent itemsets are
the same (every itemset, supports to 1e-3 relative).

Also reported, on the same pre-encoded baskets: mlxtend's FP-growth on the sparse frame, on
the dense frame, and Apriori (dense and sparse), so the choice of default is measured.

The input is synthetic and seeded: basket sizes 1 + Poisson(3); items drawn with Zipf-like
popularity (weight 1/rank^0.9) from the catalogue; 20 planted pairs (anchor pulls the next
item into the basket with probability 0.5), so there are 2- and 3-itemsets above 1 %.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

from crmlab import basket  # noqa: E402

SEED = 7


def make_order_items(n_baskets: int, n_items: int, seed: int = SEED) -> pd.DataFrame:
    """Synthetic order lines ``order_id, product_id`` (see the module docstring)."""
    rng = np.random.default_rng(seed)
    size = 1 + rng.poisson(3.0, n_baskets)
    order = np.repeat(np.arange(1, n_baskets + 1), size)
    weight = 1.0 / np.arange(1, n_items + 1) ** 0.9
    items = rng.choice(n_items, size=len(order), p=weight / weight.sum()) + 1
    anchors = np.arange(1, min(400, n_items - 1), 20)
    pulled = np.isin(items, anchors) & (rng.random(len(items)) < 0.5)
    return pd.DataFrame({"order_id": np.r_[order, order[pulled]],
                         "product_id": np.r_[items, items[pulled] + 1]})


def peer_encode(transactions: list[list[int]]) -> pd.DataFrame:
    """mlxtend's documented route: TransactionEncoder -> sparse one-hot frame.

    Column names are strings: mlxtend's sparse input check rejects integer names that do not
    start at 0.
    """
    from mlxtend.preprocessing import TransactionEncoder

    te = TransactionEncoder()
    matrix = te.fit(transactions).transform(transactions, sparse=True)
    return pd.DataFrame.sparse.from_spmatrix(matrix, columns=[str(c) for c in te.columns_])


def peer_fpgrowth(transactions: list[list[int]], min_support: float) -> pd.DataFrame:
    from mlxtend.frequent_patterns import fpgrowth

    return fpgrowth(peer_encode(transactions), min_support=min_support, use_colnames=True)


def _as_int_itemsets(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(itemsets=[frozenset(int(i) for i in s) for s in frame["itemsets"]])


def _run(n_baskets: int, n_items: int, min_support: float, repeat: int) -> str:
    from mlxtend.frequent_patterns import apriori, fpgrowth

    lines = make_order_items(n_baskets, n_items)
    transactions = lines.groupby("order_id")["product_id"].apply(list).tolist()
    n = len(transactions)

    # --- end to end: ours (order lines -> rules) vs raw mlxtend (lists -> itemsets)
    cmp = harness.compare(lambda: basket.rules_from_order_items(lines, min_support),
                          lambda: peer_fpgrowth(transactions, min_support),
                          repeat=repeat, warmup=1)
    ours_sets = basket.frequent_itemsets(basket.baskets(lines), min_support)
    agreement = harness.assert_same_itemsets(ours_sets, _as_int_itemsets(cmp.peer_result),
                                             rtol=1e-3, what="frequent itemsets")
    n_rules = len(cmp.ours_result)
    sizes = ours_sets["length"].value_counts().sort_index()
    size_text = ", ".join(f"{int(c):,} of size {k}" for k, c in sizes.items())

    # the peer when it also has to build its lists from the order lines
    def peer_from_lines():
        tx = lines.groupby("order_id")["product_id"].apply(list).tolist()
        return peer_fpgrowth(tx, min_support)

    cmp_lines = harness.compare(lambda: basket.rules_from_order_items(lines, min_support),
                                peer_from_lines, repeat=repeat, warmup=0)
    rows = [
        {"workload": "ours: order lines -> sparse baskets -> FP-growth -> rules",
         "median": harness.fmt_seconds(cmp.ours_median), "ratio to peer": f"{cmp.ratio:.2f}×",
         "target": f"≤ 1.2×: {harness.verdict(cmp.ratio, 1.2)}"},
        {"workload": "peer: TransactionEncoder(sparse) + mlxtend fpgrowth (lists given)",
         "median": harness.fmt_seconds(cmp.peer_median), "ratio to peer": "1.00×", "target": "—"},
        {"workload": "peer incl. groupby -> lists from the order lines",
         "median": harness.fmt_seconds(cmp_lines.peer_median),
         "ratio to peer": f"ours {cmp_lines.ratio:.2f}× of it", "target": "—"},
    ]

    # --- the miners on the same pre-encoded baskets
    sparse_frame = peer_encode(transactions)
    dense_frame = sparse_frame.sparse.to_dense()
    miners = {
        "mlxtend fpgrowth, sparse frame": lambda: fpgrowth(sparse_frame, min_support=min_support,
                                                           use_colnames=True),
        "mlxtend fpgrowth, dense frame": lambda: fpgrowth(dense_frame, min_support=min_support,
                                                          use_colnames=True),
        "mlxtend apriori, dense frame": lambda: apriori(dense_frame, min_support=min_support,
                                                        use_colnames=True),
        "mlxtend apriori, sparse frame": lambda: apriori(sparse_frame, min_support=min_support,
                                                         use_colnames=True),
        "crmlab frequent_itemsets (prunes infrequent items, then fpgrowth), sparse":
            lambda: basket.frequent_itemsets(sparse_frame, min_support),
    }
    mine_rows, reference = [], None
    for label, fn in miners.items():
        times, result = harness.timeit_result(fn, repeat=repeat, warmup=1)
        result = _as_int_itemsets(result)
        if reference is None:
            reference = result
        else:
            harness.assert_same_itemsets(result, reference, rtol=1e-9, what=label)
        mine_rows.append({"miner (same one-hot input)": label,
                          "median": harness.fmt_seconds(harness.median(times)),
                          "itemsets": f"{len(result):,}"})

    return "\n".join([
        f"## Market baskets: {n:,} baskets × {n_items:,} items, min support {min_support:.0%}",
        "",
        f"Input: {len(lines):,} synthetic order lines (seeded; see `bench_basket.py`). Found "
        f"{len(ours_sets):,} frequent itemsets ({size_text}) and {n_rules:,} rules with lift ≥ 1. "
        f"Medians of {repeat} interleaved runs after one warm-up; the peer's transaction lists "
        "are built before timing (a second row shows it paying for them too).",
        "",
        agreement,
        "",
        harness.markdown_table(rows),
        "",
        "Mining only, on the same one-hot baskets (all five give identical itemsets and supports):",
        "",
        harness.markdown_table(mine_rows),
        "",
        "Why ours is faster end to end: the baskets are built straight from the order lines "
        "as a CSR matrix (no Python lists), and items below the minimum support are dropped "
        "before FP-growth (by the Apriori principle they are in no frequent itemset), so "
        "mlxtend's item counting, which densifies its input, sees only the frequent columns.",
    ])


def main(quick: bool = False) -> str:
    """Full: 50,000 baskets × 1,000 items, 5 repeats. Quick: 20,000 baskets, 3 repeats."""
    return _run(20_000 if quick else 50_000, 1_000, 0.01, repeat=3 if quick else 5)


def smoke() -> str:
    """2,000 baskets × 100 items, one repeat."""
    return _run(2_000, 100, 0.02, repeat=1)


if __name__ == "__main__":
    print(main(quick="--quick" in sys.argv))
