"""Selling points (賣點挖掘): Feature -> Advantage -> Benefit, mined from reviews.

:data:`FAB` is the shop's ladder of selling points; :func:`selling_points` measures how
often happy reviewers praise each feature and how well each product page converts, and
:func:`selling_point_conversion` correlates the two across products.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from crmlab._checks import datetime_column, reads, require_columns
from crmlab.stats import level_z as _level_z

__all__ = ["FAB", "keyword_pattern", "selling_point_conversion", "selling_points"]


#: The FAB ladder of the shop's selling points: a feature customers praise (found by its
#: keywords in 4-5 star reviews), the advantage it gives and the benefit the customer buys.
FAB = pd.DataFrame(
    [("durable material", ("durable", "sturdy", "build quality"), "lasts longer", "fewer replacements: better value"),
     ("true to size", ("true to size", "fits perfectly", "fits well"), "fits on the first try", "no return hassle"),
     ("gift-ready packaging", ("packaging", "wrapped", "gift box"), "ready to give", "saves time when buying gifts"),
     ("fast delivery", ("fast", "quickly", "early"), "arrives when needed", "no waiting, no worry"),
     ("good price", ("good value", "great price", "worth every"), "costs less than alternatives", "money left for more")],
    columns=["feature", "keywords", "advantage", "benefit"],
)


@reads(reviews="product_id stars text",
       events="customer_id ts event_type product_id",
       orders="order_id customer_id order_ts",
       order_items="order_id product_id")
def selling_points(
    reviews: pd.DataFrame,
    events: pd.DataFrame,
    orders: pd.DataFrame,
    order_items: pd.DataFrame,
    *,
    fab: pd.DataFrame = FAB,
    min_reviews: int = 3,
) -> pd.DataFrame:
    """Per product: how often its happy reviewers praise each selling point, and how well its
    page converts.

    ``<feature>`` columns = share of the product's 4-5 star reviews mentioning any of the
    feature's keywords (lower case); ``n_praise`` = number of those reviews; ``viewers`` =
    customers who viewed the product; ``conversion`` = share of them who bought it at some time
    after their first view. Products with fewer than ``min_reviews`` praising reviews are left
    out (their shares are noise); ``attrs["left_out"]`` counts them.

    Parameters
    ----------
    reviews, events, orders, order_items : pd.DataFrame
        The shop's tables of those names.
    fab : pd.DataFrame, default FAB
        The selling points: feature and its keywords.
    min_reviews : int, default 3
        The fewest praising reviews a product needs to be kept.

    Returns
    -------
    pd.DataFrame
        One row per kept product: product_id, n_praise, one share per feature, viewers,
        conversion.
    """
    require_columns(fab, "fab", ["feature", "keywords"])  # not a shop table: checked here
    if isinstance(min_reviews, bool) or not isinstance(min_reviews, int | np.integer) or min_reviews < 1:
        raise ValueError(f"selling_points: min_reviews={min_reviews!r} must be a whole number >= 1.")
    happy = reviews.loc[reviews["stars"] >= 4, ["product_id", "text"]]
    text = happy["text"].astype("str").str.lower()
    shares = pd.DataFrame(index=happy.index)
    for feature, keywords in zip(fab["feature"], fab["keywords"], strict=True):
        shares[feature] = text.str.contains(keyword_pattern(keywords), regex=True)
    per_product = shares.groupby(happy["product_id"]).mean()
    per_product.insert(0, "n_praise", happy.groupby("product_id").size())
    kept = per_product.loc[per_product["n_praise"] >= min_reviews]
    ts = datetime_column(events, "events", "ts")
    views = events.loc[events["event_type"].astype("str") == "product_view", ["customer_id", "product_id"]].assign(_ts=ts)
    first = views.sort_values("_ts", kind="stable").drop_duplicates(["customer_id", "product_id"])
    bought = (orders[["order_id", "customer_id", "order_ts"]].merge(order_items[["order_id", "product_id"]], on="order_id")
              .groupby(["customer_id", "product_id"])["order_ts"].max().rename("last_buy").reset_index())
    first = first.merge(bought, on=["customer_id", "product_id"], how="left")
    first["bought"] = first["last_buy"] >= first["_ts"]
    conv = first.groupby("product_id").agg(viewers=("customer_id", "size"), conversion=("bought", "mean"))
    out = kept.join(conv, how="left").fillna({"viewers": 0})
    out.attrs["left_out"] = int(len(per_product) - len(kept))
    return out.reset_index()


def keyword_pattern(keywords: Sequence[str]) -> str:
    """A regular expression matching any of ``keywords`` literally, in lower case (for
    ``Series.str.lower().str.contains(pattern)``).

    Parameters
    ----------
    keywords : sequence of str
        The words or phrases to find.

    Returns
    -------
    str
        The pattern ``k1|k2|...`` with each keyword escaped.
    """
    import re

    return "|".join(re.escape(str(k).lower()) for k in keywords)


def selling_point_conversion(points: pd.DataFrame, fab: pd.DataFrame = FAB, level: float = 0.95) -> pd.DataFrame:
    """Which selling points go with conversion? Spearman's rho across products between the
    share of praise for each feature and the page conversion, with a Fisher-z interval
    (se = 1.06 / sqrt(n - 3), Fieller et al. 1957). Association, not cause: praise and sales
    may both follow from a third thing (price, category, quality).

    Parameters
    ----------
    points : pd.DataFrame
        The table of :func:`selling_points`.
    fab : pd.DataFrame, default FAB
        The selling points (feature, optionally advantage and benefit).
    level : float, default 0.95
        Confidence level of the interval.

    Returns
    -------
    pd.DataFrame
        One row per feature: feature, advantage, benefit, products, mean_share, rho, low, high.
    """
    require_columns(points, "points", ["conversion", *fab["feature"]])
    z = _level_z(level)
    rows = []
    ok = points.dropna(subset=["conversion"])
    for feature, adv, ben in zip(fab["feature"], fab.get("advantage", fab["feature"]),
                                 fab.get("benefit", fab["feature"]), strict=True):
        n = len(ok)
        # a feature nobody (or everybody) praises, or a constant conversion, has no rank
        # correlation: NaN, without scipy's ConstantInputWarning
        varies = ok[feature].nunique() > 1 and ok["conversion"].nunique() > 1
        rho = float(stats.spearmanr(ok[feature], ok["conversion"]).statistic) if n > 3 and varies else float("nan")
        half = z * 1.06 / np.sqrt(n - 3) if n > 3 else float("nan")
        rows.append({"feature": feature, "advantage": adv, "benefit": ben, "products": n,
                     "mean_share": float(ok[feature].mean()), "rho": rho,
                     "low": float(np.tanh(np.arctanh(rho) - half)), "high": float(np.tanh(np.arctanh(rho) + half))})
    return pd.DataFrame(rows)
