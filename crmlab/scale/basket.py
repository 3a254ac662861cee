"""Market baskets on an engine: item and pair supports (:func:`crmlab.basket.frequent_itemsets`,
``max_len=2``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from crmlab.scale.checks import _fail_count, _int, _require
from crmlab.scale.engines import _Runner, _session, _to_pandas
from crmlab.scale.sources import _check_source, _resolve_engine


# Long function: most of it is the docstring (what is counted, parameters); the body
# is 25 lines.
def basket_supports(order_items: object, min_support: float = 0.01, *,
                    order_col: str = "order_id", item_col: str = "product_id",
                    engine: str | None = None, con: Any = None) -> pd.DataFrame:
    """Frequent single items and pairs (:func:`crmlab.basket.frequent_itemsets`,
    ``max_len=2``) counted in the engine.

    Baskets are the distinct (order, item) lines; an item is frequent when it is in at least
    ``min_support`` of the baskets (and in ``ceil(min_support * baskets)`` of them, mlxtend's
    count); pairs are counted by a self-join of the frequent items' lines on the order
    (Apriori: a pair of a rare item cannot be frequent). Returns ``support, itemsets,
    length`` sorted by support (descending), size, then items, with ``attrs["n_baskets"]``,
    ready for :func:`crmlab.basket.association_rules`.

    Parameters
    ----------
    order_items : source
        The order lines (a Parquet path or glob, a DuckDB relation, a Spark or pandas frame).
    min_support : float, default 0.01
        Smallest share of orders an item or pair must be in.
    order_col, item_col : str
        Order id and item columns.
    engine : {"duckdb", "spark", "pandas"}, optional
        Where to count (default: Spark for a Spark frame, else DuckDB).
    con : duckdb connection, optional
        The DuckDB connection to run on.

    Returns
    -------
    pd.DataFrame
        :func:`crmlab.basket.frequent_itemsets`' table for items and pairs.
    """
    from crmlab import basket

    func = "scale.basket_supports"
    _check_source(order_items, "order_items")
    min_support = basket.check_min_support(min_support)
    engine = _resolve_engine([order_items], engine, func)
    if engine == "pandas":
        frame = _to_pandas(order_items, "order_items")
        return basket.frequent_itemsets(basket.baskets(frame, order_col=order_col,
                                                       item_col=item_col),
                                        min_support, max_len=2)
    with _session(engine, con, {"oi": (order_items, "order_items")}) as (run, names, schemas):
        _require(schemas["oi"], "order_items", func, {order_col: "order_col",
                                                      item_col: "item_col"})
        d = run.dialect
        o, i = d.q(order_col), d.q(item_col)
        prof = run.run(f"SELECT count(*) AS n, count({o}) AS n_o, count({i}) AS n_i, "
                       f"count(DISTINCT {o}) AS n_baskets FROM {names['oi']}").iloc[0]
        if _int(prof["n"]) == 0:
            raise ValueError(f"{func}: order_items is empty: there are no baskets to analyse; "
                             "check the date filter that produced it.")
        for col, key in ((order_col, "n_o"), (item_col, "n_i")):
            _fail_count(_int(prof["n"]) - _int(prof[key]),
                        f"{func}: order_items.{col} has {{n}} missing value(s); drop or fix those "
                        "lines first.")
        n = _int(prof["n_baskets"])
        min_count = max(math.ceil(min_support * n), 1)
        base = f"SELECT DISTINCT {o} AS basket, {i} AS item FROM {names['oi']}"
        items = run.run(f"SELECT item, count(*) AS n FROM ({base}) AS b GROUP BY item "
                        f"HAVING count(*) >= {min_count}")
        items = items[items["n"] / n >= min_support]
        pairs = _pair_counts(run, base, items["item"].tolist(), min_count)
    return _itemsets_frame(items, pairs, n)


def _pair_counts(run: _Runner, base: str, frequent: list[Any], min_count: int) -> pd.DataFrame:
    if len(frequent) < 2:
        return pd.DataFrame({"a": [], "b": [], "n": []})
    values = ", ".join(_literal(v) for v in frequent)
    return run.run(f"""
        WITH b AS (SELECT * FROM ({base}) AS x WHERE item IN ({values}))
        SELECT x.item AS a, y.item AS b, count(*) AS n
        FROM b AS x JOIN b AS y ON x.basket = y.basket AND x.item < y.item
        GROUP BY x.item, y.item HAVING count(*) >= {min_count}""")


def _literal(value: Any) -> str:
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return repr(float(value))
    return "'" + str(value).replace("'", "''") + "'"


def _py(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _itemsets_frame(items: pd.DataFrame, pairs: pd.DataFrame, n: int) -> pd.DataFrame:
    sets = [frozenset([_py(v)]) for v in items["item"]]
    sets += [frozenset([_py(a), _py(b)]) for a, b in zip(pairs["a"], pairs["b"], strict=True)]
    support = np.r_[items["n"].to_numpy(dtype=float), pairs["n"].to_numpy(dtype=float)] / n
    out = pd.DataFrame({"support": support, "itemsets": sets})
    out["length"] = np.array([len(s) for s in sets], dtype=np.int64)
    out["_key"] = [sorted(map(str, s)) for s in sets]
    out["_key"] = out["_key"].astype(str)
    out = out.sort_values(["support", "length", "_key"], ascending=[False, True, True],
                          kind="stable").drop(columns="_key").reset_index(drop=True)
    out.attrs["n_baskets"] = int(n)
    return out
