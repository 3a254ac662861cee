"""Customised products and personalised packaging (定制化產品、個性化包裝).

:func:`customization_uptake` reads who takes paid customisation and what it is worth: per
option (and customer group) the eligible order lines, how many were customised, the take-up
rate, the fees and the margin.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from crmlab._checks import reads, require_columns


def _labelled_lines(order_items: pd.DataFrame, products: pd.DataFrame, orders: pd.DataFrame,
                    by: pd.Series | None) -> pd.DataFrame:
    """Order lines with their category and the buyer's ``group`` label (``"all"`` without ``by``)."""
    lines = (order_items[["order_id", "line_no", "product_id"]]
             .merge(products[["product_id", "category"]], on="product_id", how="left")
             .merge(orders[["order_id", "customer_id"]], on="order_id", how="left"))
    if by is None:
        lines["group"] = "all"
    else:
        group = lines["customer_id"].map(by)
        if group.isna().any():  # astype("str") would have made them a silent group "nan"
            ids = lines.loc[group.isna(), "customer_id"].drop_duplicates().head(5).tolist()
            raise ValueError(f"customization_uptake: `by` has no label for customer_id {ids} (orders."
                             "customer_id of order lines); label every buyer, e.g. by.reindex(ids).fillna('unknown').")
        lines["group"] = group.astype("str")
    return lines


def _uptake_rows(eligible: Mapping[str, Sequence[str] | None], lines: pd.DataFrame,
                 cz: pd.DataFrame) -> list[dict[str, Any]]:
    """One row per (option, group): eligible lines, customised lines, take-up, fees, margin."""
    rows = []
    for option, cats in eligible.items():
        ok = lines if cats is None else lines.loc[lines["category"].astype("str").isin(list(cats))]
        mine = cz.loc[cz["option"].astype("str") == option]
        n_elig = ok.groupby("group").size()
        for group, n in n_elig.items():
            g = mine.loc[mine["group"] == group]
            rows.append({"option": option, "group": group, "eligible_lines": int(n),
                         "customized": len(g), "take_up": len(g) / n if n else float("nan"),
                         "fees": float(g["fee"].sum()), "margin": float((g["fee"] - g["cost"]).sum())})
    return rows


@reads(customizations="", order_items="", products="", orders="")
def customization_uptake(
    customizations: pd.DataFrame,
    order_items: pd.DataFrame,
    products: pd.DataFrame,
    orders: pd.DataFrame,
    *,
    eligible: Mapping[str, Sequence[str] | None] | None = None,
    by: pd.Series | None = None,
) -> pd.DataFrame:
    """Who takes paid customisation, and what it is worth.

    Per option (and per group of ``by``, a Series customer id -> label such as a segment):
    ``eligible_lines`` (order lines whose product category offers the option: ``eligible``
    maps option -> categories, None = every category; default the shop's catalogue,
    :data:`crmlab.data.simulate.CUSTOMIZATION_OPTIONS`), ``customized``, ``take_up`` =
    customized / eligible, ``fees`` and ``margin`` (fees - cost), NT$.

    Parameters
    ----------
    customizations : pd.DataFrame
        The shop's ``customizations`` table (order_id, line_no, option, fee, cost).
    order_items : pd.DataFrame
        The shop's ``order_items`` table.
    products : pd.DataFrame
        The shop's ``products`` table (product_id, category).
    orders : pd.DataFrame
        The shop's ``orders`` table (order_id, customer_id).
    eligible : mapping of str to sequence of str or None, optional
        Option -> categories that offer it (None = every category).
    by : pd.Series, optional
        Customer id -> group label.

    Returns
    -------
    pd.DataFrame
        One row per option (and group) with the columns above.
    """
    if eligible is None:
        from crmlab.data.simulate import CUSTOMIZATION_OPTIONS

        eligible = {k: v[2] for k, v in CUSTOMIZATION_OPTIONS.items()}
    require_columns(customizations, "customizations", ["order_id", "line_no", "option", "fee", "cost"])
    require_columns(order_items, "order_items", ["order_id", "line_no", "product_id"])
    require_columns(products, "products", ["product_id", "category"])
    require_columns(orders, "orders", ["order_id", "customer_id"])
    unknown = set(customizations["option"].astype("str")) - set(eligible)
    if unknown:
        raise ValueError(f"customization_uptake: options {sorted(unknown)} are not in `eligible`; "
                         "say which categories offer them.")
    lines = _labelled_lines(order_items, products, orders, by)
    cz = customizations.merge(lines[["order_id", "line_no", "group"]], on=["order_id", "line_no"], how="left")
    if cz["group"].isna().any():
        raise ValueError(f"customizations: {int(cz['group'].isna().sum())} row(s) name an order line "
                         "that order_items does not have; fix the ids first.")
    rows = _uptake_rows(eligible, lines, cz)
    out = pd.DataFrame(rows)
    return out.drop(columns="group") if by is None else out
