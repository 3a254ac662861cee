"""Market-basket analysis and bundles (購物籃分析, 關聯行銷, 客單價) — unit 3a.

Which products are bought *together*, and is a bundle discount on them worth it?

* :func:`baskets` turns order lines into the one-hot basket matrix (one row per order, one
  boolean column per product), sparse by default — a shop's baskets hold a handful of its
  thousands of products;
* :func:`frequent_itemsets` finds itemsets bought together in at least ``min_support`` of
  the baskets with mlxtend's FP-growth (Han, Pei & Yin 2000; Apriori, Agrawal & Srikant
  1994, on request) and :func:`association_rules` turns them into rules ``A -> B`` with

  - support ``s(A∪B)`` — share of baskets holding both,
  - confidence ``s(A∪B) / s(A)`` — P(B | A), the "attach rate",
  - lift ``confidence / s(B)`` — how much A raises the chance of B (1 = independent),
  - leverage ``s(A∪B) − s(A)s(B)`` — extra share of baskets over independence,
  - conviction ``(1 − s(B)) / (1 − confidence)`` — ∞ for a rule that never fails;

  :func:`rules_from_order_items` does orders -> rules in one call;
* :func:`bundle_candidates` ranks product pairs for a bundle offer and prices the
  discount with the break-even formulas below; :func:`breakeven_uplift` is the general
  "how much more must the order be worth" rule for any discount.

Break-even of a bundle discount (documented in :func:`bundle_candidates`): anchor ``A``
(list price ``p_A``, unit margin ``m_A``), add-on ``B`` (``p_B``, ``m_B``), attach rate
``c = conf(A -> B)`` today, bundle discount ``d`` on ``P = p_A + p_B`` when both are bought.
Margin per anchor order is ``m_A + c·m_B`` today and ``m_A + c'·(m_B − d·P)`` with the
bundle, so it pays off only if the attach rate rises to ``c* = c·m_B / (m_B − d·P)``, i.e.
by ``d·P / (m_B − d·P)`` in relative terms (never, if ``d·P ≥ m_B``).

The textbook example (Tan, Steinbach & Kumar, *Introduction to Data Mining*, Table 6.1 in
the first edition, 5.1 in the second) ships as :data:`TEXTBOOK_BASKETS`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse as sp

from crmlab._checks import reads

__all__ = [
    "TEXTBOOK_BASKETS",
    "baskets",
    "baskets_from_lists",
    "frequent_itemsets",
    "association_rules",
    "rules_from_order_items",
    "label_rules",
    "pair_rules",
    "breakeven_uplift",
    "bundle_candidates",
]

#: The five market-basket transactions of Tan, Steinbach & Kumar, *Introduction to Data
#: Mining* (Table 6.1, 1st ed.; Table 5.1, 2nd ed.), TIDs 1..5.
TEXTBOOK_BASKETS: tuple[tuple[str, ...], ...] = (
    ("Bread", "Milk"),
    ("Bread", "Diapers", "Beer", "Eggs"),
    ("Milk", "Diapers", "Beer", "Cola"),
    ("Bread", "Milk", "Diapers", "Beer"),
    ("Bread", "Milk", "Diapers", "Cola"),
)

RULE_COLUMNS = ("antecedents", "consequents", "antecedent_support", "consequent_support",
                "support", "confidence", "lift", "leverage", "conviction", "n_baskets")


def check_min_support(min_support: Any) -> float:
    """The minimum support as a float in (0, 1], or a ValueError saying what it means.

    Shared by every miner of frequent itemsets (this module and :mod:`crmlab.scale`'s
    out-of-core version), so a bad value reads the same wherever it is passed.

    Parameters
    ----------
    min_support : float
        Smallest share of baskets an itemset must appear in.

    Returns
    -------
    float
        ``min_support`` as a float.
    """
    if isinstance(min_support, bool) or not isinstance(min_support, int | float | np.number) \
            or not 0 < float(min_support) <= 1:
        raise ValueError(
            f"min_support must be a share of baskets in (0, 1], got {min_support!r}; e.g. "
            "min_support=0.01 keeps itemsets in at least 1% of the orders.")
    return float(min_support)


#: The old private name, kept while other modules move to :func:`check_min_support`.
_check_min_support = check_min_support


def _onehot(csr: sp.csr_matrix, index: Any, columns: Any, sparse: bool) -> pd.DataFrame:
    csr = csr.astype(bool)
    if sparse:
        return pd.DataFrame.sparse.from_spmatrix(csr, index=index, columns=columns)
    return pd.DataFrame(csr.toarray(), index=index, columns=columns)


def _check_lines(order_items: pd.DataFrame, order_col: str, item_col: str) -> None:
    """Order lines are a non-empty frame with both id columns complete (else a ValueError)."""
    if not isinstance(order_items, pd.DataFrame):
        raise ValueError(f"order_items must be a pandas DataFrame, got {type(order_items).__name__}.")
    missing = [c for c in (order_col, item_col) if c not in order_items.columns]
    if missing:
        raise ValueError(f"order_items is missing column(s) {missing}; it has "
                         f"{list(order_items.columns)}. Pass the shop's order_items table.")
    if len(order_items) == 0:
        raise ValueError("order_items is empty: there are no baskets to analyse; check the "
                         "date filter that produced it.")
    for col in (order_col, item_col):
        if order_items[col].isna().any():
            raise ValueError(f"order_items.{col} has {int(order_items[col].isna().sum())} missing "
                             "value(s); drop or fix those lines first.")


def _item_columns(vals: np.ndarray, items: Iterable[Any] | None,
                  item_col: str) -> tuple[np.ndarray, np.ndarray]:
    """The item ids (sorted, or the given catalogue) and each line's column position."""
    if items is None:
        item_ids, cols = np.unique(vals, return_inverse=True)
    else:
        item_ids = np.asarray(list(items))
        pos = pd.Index(item_ids).get_indexer(vals)
        if (pos < 0).any():
            bad = pd.unique(vals[pos < 0])[:5].tolist()
            raise ValueError(f"order_items.{item_col} has {int((pos < 0).sum())} line(s) with items "
                             f"not in `items` (e.g. {bad}); add them to the catalogue.")
        cols = pos
    return item_ids, cols


@reads(order_items="")
def baskets(
    order_items: pd.DataFrame,
    *,
    order_col: str = "order_id",
    item_col: str = "product_id",
    items: Iterable[Any] | None = None,
    sparse: bool = True,
) -> pd.DataFrame:
    """One-hot baskets: one row per order (index ``order_col``), one bool column per item.

    An order holding the same product on two lines is one ``True`` (baskets record
    presence, not quantity). Columns are the sorted item ids, or ``items`` if given (a fixed
    catalogue; an order line with an item outside it is an error, never dropped). With
    ``sparse=True`` the columns are ``Sparse[bool]`` (what mlxtend's FP-growth reads
    without densifying the whole matrix).

    Parameters
    ----------
    order_items : pd.DataFrame
        The shop's ``order_items`` table (or any frame with the two columns).
    order_col, item_col : str, default "order_id", "product_id"
        The basket and item columns.
    items : iterable, optional
        A fixed catalogue of item ids (the columns).
    sparse : bool, default True
        Sparse boolean columns.

    Returns
    -------
    pd.DataFrame
        One row per order, one boolean column per item.
    """
    _check_lines(order_items, order_col, item_col)
    order_ids, rows = np.unique(order_items[order_col].to_numpy(), return_inverse=True)
    vals = order_items[item_col].to_numpy()
    item_ids, cols = _item_columns(vals, items, item_col)
    m = sp.csr_matrix((np.ones(len(rows), dtype=bool), (rows, cols)),
                      shape=(len(order_ids), len(item_ids)))
    m.sum_duplicates()
    return _onehot(m, pd.Index(order_ids, name=order_col), pd.Index(item_ids, name=item_col), sparse)


def baskets_from_lists(transactions: Iterable[Iterable[Any]], *, sparse: bool = True) -> pd.DataFrame:
    """One-hot baskets from a list of transactions (lists of item labels), e.g.
    :data:`TEXTBOOK_BASKETS`. Rows are numbered 1.. (the textbook's TIDs).

    Parameters
    ----------
    transactions : iterable of iterables
        Each transaction's item labels.
    sparse : bool, default True
        Sparse boolean columns.

    Returns
    -------
    pd.DataFrame
        One row per transaction, one boolean column per item label (sorted).
    """
    tx = [list(t) for t in transactions]
    if not tx:
        raise ValueError("transactions is empty; pass at least one basket.")
    order = np.repeat(np.arange(1, len(tx) + 1), [len(t) for t in tx])
    lines = pd.DataFrame({"tid": order, "item": [i for t in tx for i in t]})
    if len(lines) == 0:
        raise ValueError("every transaction is empty; pass baskets with at least one item.")
    out = baskets(lines, order_col="tid", item_col="item", sparse=sparse)
    return out.reindex(pd.RangeIndex(1, len(tx) + 1, name="tid"), fill_value=False)


def _column_counts(frame: pd.DataFrame) -> np.ndarray:
    """Number of True values per column of a (sparse or dense) bool frame."""
    if hasattr(frame, "sparse") and all(isinstance(t, pd.SparseDtype) for t in frame.dtypes):
        return np.array([np.count_nonzero(col.array.sp_values) for _, col in frame.items()],
                        dtype=np.int64)
    return frame.to_numpy(dtype=bool).sum(axis=0)


def _check_baskets(basket_frame: pd.DataFrame, max_len: int | None, algorithm: str) -> None:
    """A non-empty one-hot bool frame, a valid ``max_len`` and a known algorithm (else a ValueError)."""
    if not isinstance(basket_frame, pd.DataFrame) or basket_frame.shape[0] == 0:
        raise ValueError("baskets must be a non-empty one-hot DataFrame (see crmlab.basket.baskets).")
    if max_len is not None and (isinstance(max_len, bool) or not isinstance(max_len, int) or max_len < 1):
        raise ValueError(f"max_len must be None or a positive integer, got {max_len!r}.")
    if algorithm not in ("fpgrowth", "apriori"):
        raise ValueError(f"algorithm={algorithm!r}: use 'fpgrowth' or 'apriori'.")
    if not all(pd.api.types.is_bool_dtype(t) for t in basket_frame.dtypes):
        raise ValueError("baskets must have bool columns (True = the item is in the basket); "
                         "build it with crmlab.basket.baskets(order_items).")


def frequent_itemsets(
    basket_frame: pd.DataFrame,
    min_support: float = 0.01,
    *,
    max_len: int | None = None,
    algorithm: str = "fpgrowth",
) -> pd.DataFrame:
    """Itemsets in at least ``min_support`` of the baskets: ``support, itemsets, length``.

    ``itemsets`` are frozensets of the frame's column labels. ``algorithm`` is
    ``"fpgrowth"`` (default; no candidate generation) or ``"apriori"`` — both from mlxtend
    and both return the same itemsets. Sorted by support (descending), then size.

    Parameters
    ----------
    basket_frame : pd.DataFrame
        One-hot baskets from :func:`baskets` or :func:`baskets_from_lists`.
    min_support : float, default 0.01
        Smallest share of baskets, in (0, 1].
    max_len : int, optional
        Largest itemset size.
    algorithm : {"fpgrowth", "apriori"}, default "fpgrowth"
        The mlxtend miner.

    Returns
    -------
    pd.DataFrame
        ``support, itemsets, length``; ``attrs["n_baskets"]`` holds the basket count.
    """
    from mlxtend.frequent_patterns import apriori, fpgrowth

    min_support = check_min_support(min_support)
    _check_baskets(basket_frame, max_len, algorithm)
    funcs = {"fpgrowth": fpgrowth, "apriori": apriori}
    # Apriori principle: an item below min_support is in no frequent itemset, so mine only
    # the frequent columns (same itemsets and supports; the number of baskets is kept).
    # mlxtend densifies its input to count items, so this is most of the speed-up on a
    # wide catalogue.
    n = basket_frame.shape[0]
    counts = _column_counts(basket_frame)
    keep = np.flatnonzero(counts / n >= min_support)
    labels = np.asarray(basket_frame.columns, dtype=object)[keep]
    # mlxtend needs sparse integer column names to start at 0: mine on positions, map back.
    frame = basket_frame.iloc[:, keep].set_axis(pd.RangeIndex(len(keep)), axis=1)
    if len(keep) == 0:
        found = pd.DataFrame({"support": pd.Series(dtype=float), "itemsets": pd.Series(dtype=object)})
    else:
        found = funcs[algorithm](frame, min_support=min_support, use_colnames=False,
                                 max_len=max_len)
    sets = [frozenset(labels[list(s)].tolist()) for s in found["itemsets"]]
    out = pd.DataFrame({"support": found["support"].to_numpy(dtype=float), "itemsets": sets})
    out["length"] = np.array([len(s) for s in sets], dtype=np.int64)
    out.attrs["n_baskets"] = int(basket_frame.shape[0])
    return out.sort_values(["support", "length"], ascending=[False, True], kind="stable") \
        .reset_index(drop=True)


def _rule_table(raw: pd.DataFrame, n: int) -> pd.DataFrame:
    """mlxtend's rules in crmlab's columns and order: by lift, confidence, then the rule's text."""
    out = pd.DataFrame({
        "antecedents": raw["antecedents"].to_numpy(),
        "consequents": raw["consequents"].to_numpy(),
        "antecedent_support": raw["antecedent support"].to_numpy(dtype=float),
        "consequent_support": raw["consequent support"].to_numpy(dtype=float),
        "support": raw["support"].to_numpy(dtype=float),
        "confidence": raw["confidence"].to_numpy(dtype=float),
        "lift": raw["lift"].to_numpy(dtype=float),
        "leverage": raw["leverage"].to_numpy(dtype=float),
        "conviction": raw["conviction"].to_numpy(dtype=float),
        "n_baskets": np.rint(raw["support"].to_numpy(dtype=float) * int(n)).astype(np.int64),
    })
    key = out["antecedents"].map(lambda s: sorted(map(str, s))).astype(str) + "->" + \
        out["consequents"].map(lambda s: sorted(map(str, s))).astype(str)
    out = out.assign(_key=key).sort_values(["lift", "confidence", "_key"],
                                           ascending=[False, False, True], kind="stable")
    return out.drop(columns="_key").reset_index(drop=True)


def association_rules(
    itemsets: pd.DataFrame,
    n_baskets: int | None = None,
    *,
    metric: str = "lift",
    min_threshold: float = 1.0,
) -> pd.DataFrame:
    """Rules ``antecedents -> consequents`` from frequent itemsets, sorted by lift.

    Columns: ``antecedents, consequents`` (frozensets), ``antecedent_support,
    consequent_support, support, confidence, lift, leverage, conviction`` and
    ``n_baskets`` (baskets holding the whole rule). ``n_baskets`` (the number of baskets
    the itemsets were mined from) is read from ``itemsets.attrs`` when
    :func:`frequent_itemsets` made them; mlxtend 0.25 needs it as ``num_itemsets``.
    Keeps rules with ``metric >= min_threshold`` (default: lift ≥ 1, i.e. positive
    association).

    Parameters
    ----------
    itemsets : pd.DataFrame
        Frequent itemsets from :func:`frequent_itemsets`.
    n_baskets : int, optional
        Baskets the itemsets were mined from (default ``itemsets.attrs["n_baskets"]``).
    metric : str, default "lift"
        The measure ``min_threshold`` applies to.
    min_threshold : float, default 1.0
        Smallest value of ``metric`` kept.

    Returns
    -------
    pd.DataFrame
        One row per rule with the columns above.
    """
    from mlxtend.frequent_patterns import association_rules as mx_rules

    if not isinstance(itemsets, pd.DataFrame) or not {"support", "itemsets"} <= set(itemsets.columns):
        raise ValueError("itemsets must be the output of crmlab.basket.frequent_itemsets "
                         "(columns support, itemsets).")
    n = n_baskets if n_baskets is not None else itemsets.attrs.get("n_baskets")
    if n is None or isinstance(n, bool) or not isinstance(n, int | np.integer) or n <= 0:
        raise ValueError("n_baskets (the number of baskets mined) is needed for the rule "
                         "counts; pass n_baskets=len(baskets).")
    metrics = ("support", "confidence", "lift", "leverage", "conviction")
    if metric not in metrics:
        raise ValueError(f"metric={metric!r}: use one of {list(metrics)}.")
    empty = pd.DataFrame({c: pd.Series(dtype=object if c in RULE_COLUMNS[:2] else float)
                          for c in RULE_COLUMNS}).astype({"n_baskets": np.int64})
    if (itemsets["itemsets"].map(len) > 1).sum() == 0:
        return empty
    raw = mx_rules(itemsets[["support", "itemsets"]], num_itemsets=int(n), metric=metric,
                   min_threshold=min_threshold,
                   return_metrics=["antecedent support", "consequent support", "support",
                                   "confidence", "lift", "leverage", "conviction"])
    if len(raw) == 0:
        return empty
    return _rule_table(raw, int(n))


@reads(order_items="")
def rules_from_order_items(
    order_items: pd.DataFrame,
    min_support: float = 0.01,
    *,
    max_len: int | None = None,
    metric: str = "lift",
    min_threshold: float = 1.0,
    algorithm: str = "fpgrowth",
    sparse: bool = True,
) -> pd.DataFrame:
    """Orders -> rules in one call: :func:`baskets`, :func:`frequent_itemsets`,
    :func:`association_rules` (see those for the parameters and columns).

    Parameters
    ----------
    order_items : pd.DataFrame
        The shop's ``order_items`` table.
    min_support, max_len, algorithm :
        As in :func:`frequent_itemsets`.
    metric, min_threshold :
        As in :func:`association_rules`.
    sparse : bool, default True
        As in :func:`baskets`.

    Returns
    -------
    pd.DataFrame
        The rules, as :func:`association_rules` returns them.
    """
    min_support = check_min_support(min_support)
    b = baskets(order_items, sparse=sparse)
    fi = frequent_itemsets(b, min_support, max_len=max_len, algorithm=algorithm)
    return association_rules(fi, len(b), metric=metric, min_threshold=min_threshold)


def label_rules(rules: pd.DataFrame, names: Mapping[Any, str] | pd.Series,
                sep: str = " + ") -> pd.DataFrame:
    """Add readable ``antecedent_names`` / ``consequent_names`` (str) from an id -> name map.

    Parameters
    ----------
    rules : pd.DataFrame
        Rules from :func:`association_rules`.
    names : mapping or pd.Series
        Item id -> readable name.
    sep : str, default " + "
        Joins the names of a multi-item side.

    Returns
    -------
    pd.DataFrame
        A copy of ``rules`` with the two name columns.
    """
    lookup = names.to_dict() if isinstance(names, pd.Series) else dict(names)
    missing = {i for s in rules["antecedents"] for i in s} | {i for s in rules["consequents"] for i in s}
    missing -= set(lookup)
    if missing:
        raise ValueError(f"names has no label for item(s) {sorted(missing, key=str)[:5]}; pass e.g. "
                         "products.set_index('product_id')['name'].")

    def fmt(s: frozenset) -> str:
        return sep.join(sorted(lookup[i] for i in s))

    return rules.assign(antecedent_names=rules["antecedents"].map(fmt).astype("str"),
                        consequent_names=rules["consequents"].map(fmt).astype("str"))


def pair_rules(rules: pd.DataFrame) -> pd.DataFrame:
    """Only the one-item -> one-item rules, with scalar ``antecedent``/``consequent`` columns.

    Parameters
    ----------
    rules : pd.DataFrame
        Rules from :func:`association_rules`.

    Returns
    -------
    pd.DataFrame
        The one-to-one rules with ``antecedent`` and ``consequent`` columns added.
    """
    one = rules.loc[(rules["antecedents"].map(len) == 1) & (rules["consequents"].map(len) == 1)]
    return one.assign(antecedent=one["antecedents"].map(lambda s: next(iter(s))),
                      consequent=one["consequents"].map(lambda s: next(iter(s)))) \
        .reset_index(drop=True)


def breakeven_uplift(margin_rate: float | np.ndarray, discount: float | np.ndarray) -> Any:
    """Order-value uplift a discount needs to keep gross profit unchanged: ``d / (g − d)``.

    With gross margin rate ``g`` (margin / list-price revenue) and a price cut ``d`` (share
    of list price), profit per NT$ of list-price sales falls from ``g`` to ``g − d``, so
    sales at list prices must grow by the factor ``g / (g − d)``. Example: 40 % margin,
    10 % off -> +33.3 %. ``inf`` when ``d ≥ g`` (the discount eats the whole margin).

    Parameters
    ----------
    margin_rate : float or np.ndarray
        Gross margin rate ``g`` (0..1).
    discount : float or np.ndarray
        Price cut ``d`` as a share of the list price.

    Returns
    -------
    float or np.ndarray
        The needed relative uplift of list-price sales (``inf`` when ``d >= g``).
    """
    g = np.asarray(margin_rate, dtype=float)
    d = np.asarray(discount, dtype=float)
    if np.any((g <= 0) | (g > 1)) or np.any((d < 0) | (d >= 1)):
        raise ValueError("margin_rate must be in (0, 1] and discount in [0, 1); e.g. "
                         "breakeven_uplift(0.4, 0.1).")
    with np.errstate(divide="ignore"):
        out = np.where(d < g, d / np.where(d < g, g - d, 1.0), np.inf)
    return float(out) if out.ndim == 0 else out


def _bundle_table(pr: pd.DataFrame, p: pd.DataFrame, discount: float) -> pd.DataFrame:
    """Prices, margins and the break-even attach rate of each anchored pair (``p``: products by id)."""
    pa = p.loc[pr["antecedent"].to_numpy(), "list_price"].to_numpy(dtype=float)
    pb = p.loc[pr["consequent"].to_numpy(), "list_price"].to_numpy(dtype=float)
    ma = pa - p.loc[pr["antecedent"].to_numpy(), "unit_cost"].to_numpy(dtype=float)
    mb = pb - p.loc[pr["consequent"].to_numpy(), "unit_cost"].to_numpy(dtype=float)
    c = pr["confidence"].to_numpy(dtype=float)
    price = pa + pb
    cost = discount * price
    ok = mb > cost
    with np.errstate(divide="ignore", invalid="ignore"):
        c_star = np.where(ok, c * mb / np.where(ok, mb - cost, 1.0), np.inf)
        attach_up = np.where(ok, cost / np.where(ok, mb - cost, 1.0), np.inf)
        aov = np.where(ok, (pa + c_star * (pb - cost)) / (pa + c * pb) - 1.0, np.nan)
    out = pd.DataFrame({
        "anchor": pr["antecedent"].to_numpy(),
        "add_on": pr["consequent"].to_numpy(),
        "anchor_name": p.loc[pr["antecedent"].to_numpy(), "name"].astype("str").to_numpy(),
        "add_on_name": p.loc[pr["consequent"].to_numpy(), "name"].astype("str").to_numpy(),
        "support": pr["support"].to_numpy(dtype=float),
        "lift": pr["lift"].to_numpy(dtype=float),
        "attach_rate": c,
        "bundle_price": price,
        "bundle_margin": ma + mb,
        "discount_cost": cost,
        "breakeven_attach": c_star,
        "attach_uplift_needed": attach_up,
        "aov_uplift_needed": aov,
        "feasible": c_star <= 1.0,
    })
    return out


def _anchored(pr: pd.DataFrame) -> pd.DataFrame:
    """One rule per pair, from the anchor: the antecedent with the larger support (ties: lower id)."""
    return pr.loc[(pr["antecedent_support"] > pr["consequent_support"]) |
                  ((pr["antecedent_support"] == pr["consequent_support"]) &
                   (pr["antecedent"].map(str) < pr["consequent"].map(str)))]


def _check_products(products: pd.DataFrame) -> None:
    """The products table has the ids, names, prices and costs a bundle is priced from."""
    need = ["product_id", "name", "list_price", "unit_cost"]
    missing = [c for c in need if c not in products.columns]
    if missing:
        raise ValueError(f"products is missing column(s) {missing}; pass the shop's products table.")


def _products_of(pr: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """Products indexed by id; a ValueError if a rule names a product the table lacks."""
    p = products.set_index("product_id")
    unknown = set(pr["antecedent"]) | set(pr["consequent"])
    unknown -= set(p.index)
    if unknown:
        raise ValueError(f"rules name product(s) {sorted(unknown)[:5]} that are not in products.")
    return p


@reads(products="")
def bundle_candidates(
    rules: pd.DataFrame,
    products: pd.DataFrame,
    *,
    discount: float = 0.1,
    top: int = 10,
    min_lift: float = 1.0,
) -> pd.DataFrame:
    """Product pairs worth a bundle offer, with the economics of a ``discount`` on them.

    One row per unordered pair from the one-to-one rules with lift ≥ ``min_lift``; the
    *anchor* is the more popular product of the pair (the one customers come for), the
    *add_on* the other, ``attach_rate`` = confidence(anchor -> add_on) today. Prices and
    unit margins come from ``products.list_price`` / ``unit_cost``. Columns:

    ``anchor, add_on, anchor_name, add_on_name, support, lift, attach_rate,
    bundle_price`` (P = p_A + p_B), ``bundle_margin`` (m_A + m_B),
    ``discount_cost`` (d·P per bundle sold), ``breakeven_attach`` (c* = c·m_B / (m_B − d·P)),
    ``attach_uplift_needed`` (c*/c − 1 = d·P / (m_B − d·P)),
    ``aov_uplift_needed`` (change of the anchor orders' A+B revenue at break-even,
    (p_A + c*(p_B − d·P)) / (p_A + c·p_B) − 1) and ``feasible`` (c* ≤ 1: the bundle can
    pay off at all). Sorted by lift; the first ``top`` rows.

    Parameters
    ----------
    rules : pd.DataFrame
        Rules from :func:`association_rules`.
    products : pd.DataFrame
        The shop's ``products`` table (product_id, name, list_price, unit_cost).
    discount : float, default 0.1
        Bundle discount as a share of the bundle price, in [0, 1).
    top : int, default 10
        Rows to return.
    min_lift : float, default 1.0
        Smallest lift of a pair.

    Returns
    -------
    pd.DataFrame
        One row per candidate pair with the columns above.
    """
    if not 0 <= discount < 1:
        raise ValueError(f"discount must be a share of the bundle price in [0, 1), got {discount!r}.")
    if isinstance(top, bool) or not isinstance(top, int) or top <= 0:
        raise ValueError(f"top must be a positive integer, got {top!r}.")
    _check_products(products)
    pr = pair_rules(rules)
    pr = pr.loc[pr["lift"] >= min_lift]
    cols = ["anchor", "add_on", "anchor_name", "add_on_name", "support", "lift", "attach_rate",
            "bundle_price", "bundle_margin", "discount_cost", "breakeven_attach",
            "attach_uplift_needed", "aov_uplift_needed", "feasible"]
    if len(pr) == 0:
        return pd.DataFrame(columns=cols)
    pr = _anchored(pr)
    p = _products_of(pr, products)
    out = _bundle_table(pr, p, discount)
    out = out.astype({"anchor_name": "str", "add_on_name": "str"})
    return out.sort_values("lift", ascending=False, kind="stable").head(top).reset_index(drop=True)

