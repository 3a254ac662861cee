"""Group segmentation (群體細分): customer features, clustering, profiles — unit 2b.

Targeted marketing needs groups of customers who are alike in *who they are*
(demographics, declared interests), *how they buy* (RFM, channels, discounts) and *what
they buy* (category shares), and who differ from the other groups. The recipe:

1. :func:`customer_features` builds one row per member from the shop's tables (the column
   groups are listed in ``attrs["groups"]`` and by :func:`feature_groups`);
2. :func:`segmentation_pipeline` is a scikit-learn ``Pipeline``: log-transform of skewed
   amounts, standard scaling of numbers, one-hot encoding of labels, then k-means or a
   Gaussian mixture;
3. :func:`choose_k` tabulates the elbow (inertia) and the silhouette for a range of k;
4. :func:`profile_clusters` and :func:`describe_clusters` turn cluster means into a
   profile table and plain business sentences;
5. :func:`segment_ari` and :func:`crosstab_segments` compare the clusters with the shop's
   planted latent segments (vip, deal_seeker, family, casual) — something only a
   synthetic shop allows, and the reason it exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from crmlab._checks import Reads, as_frame, reads
from crmlab.rfm import day_numbers, rfm_table, snapshot_day

__all__ = [
    "LOG_COLUMNS",
    "FEATURE_LABELS",
    "feature_label",
    "customer_features",
    "feature_groups",
    "segmentation_pipeline",
    "choose_k",
    "profile_clusters",
    "describe_clusters",
    "segment_ari",
    "crosstab_segments",
    "majority_mapping",
]

DEMOGRAPHIC_COLUMNS = ("age_band", "gender", "region", "device", "acquisition_channel")

#: Skewed non-negative amounts that are log1p-transformed before scaling.
LOG_COLUMNS = ("recency", "frequency", "monetary", "avg_order_value", "sessions_per_month",
               "events_per_session")

#: Plain-language names of the numeric features (used by :func:`describe_clusters`).
FEATURE_LABELS: dict[str, str] = {
    "recency": "days since last order",
    "frequency": "number of orders",
    "monetary": "total spend",
    "avg_order_value": "average order value",
    "is_buyer": "share who ever bought",
    "discount_rate": "discount share of list price",
    "marketing_opt_in": "marketing opt-in",
    "sessions_per_month": "visits per month",
    "session_conversion": "visit conversion",
    "events_per_session": "clicks per visit",
}


def feature_label(col: str) -> str:
    """Plain-language name of a feature column (``cat_books`` -> "share of spend on books").

    Parameters
    ----------
    col : str
        A column of :func:`customer_features`.

    Returns
    -------
    str
        Its name in words (the column itself when unknown).
    """
    if col in FEATURE_LABELS:
        return FEATURE_LABELS[col]
    for prefix, words in (("cat_", "share of spend on {}"), ("channel_", "share of orders via {}"),
                          ("interest_", "declared interest in {}")):
        if col.startswith(prefix):
            return words.format(col[len(prefix):])
    return col


# --------------------------------------------------------------------------------------
# features
# --------------------------------------------------------------------------------------


def _shares(codes: np.ndarray, labels: pd.Series, weights: np.ndarray, n: int, prefix: str,
            order: Sequence[str]) -> pd.DataFrame:
    """Per customer share of ``weights`` by label (rows with code -1 are ignored)."""
    lab = pd.Categorical(labels.astype("str"), categories=list(order))
    keep = (codes >= 0) & (lab.codes >= 0)
    k = len(order)
    flat = codes[keep] * k + lab.codes[keep]
    sums = np.bincount(flat, weights=weights[keep], minlength=n * k).reshape(n, k)
    tot = sums.sum(axis=1, keepdims=True)
    share = np.divide(sums, tot, out=np.zeros_like(sums), where=tot > 0)
    return pd.DataFrame(share, columns=[f"{prefix}{c}" for c in order])


def _label_order(values: pd.Series) -> list[str]:
    if isinstance(values.dtype, pd.CategoricalDtype):
        return [str(c) for c in values.cat.categories]
    return sorted(values.dropna().astype("str").unique().tolist())


# Long function: most of it is the docstring that defines every feature group;
# the body is 35 lines, one helper per group.
@reads(customers="customer_id signup_ts",
       orders=Reads("orders", ("order_id", "customer_id", "order_ts", "amount"), nonempty=True),
       order_items=Reads("order_items", ("order_id", "product_id", "line_amount"), optional=True,
                          nonempty=True),
       products=Reads("products", ("product_id", "category"), optional=True),
       sessions=Reads("sessions", ("customer_id", "start_ts", "n_events", "converted"), optional=True))
def customer_features(
    customers: pd.DataFrame,
    orders: pd.DataFrame,
    order_items: pd.DataFrame | None = None,
    products: pd.DataFrame | None = None,
    sessions: pd.DataFrame | None = None,
    *,
    snapshot: Any = None,
) -> pd.DataFrame:
    """One row per member (every row of ``customers``) with the features for segmentation.

    Column groups (see :func:`feature_groups`):

    * ``demographics``: ``age_band``, ``gender``, ``region``, ``device``,
      ``acquisition_channel`` (categorical, those present), ``marketing_opt_in`` (0/1) and
      ``interest_<category>`` (0/1, from the ``|``-separated ``interests``);
    * ``rfm``: ``recency`` (days since the last order; for members who never ordered, days
      since signup), ``frequency``, ``monetary``, ``avg_order_value`` (0 without orders),
      ``is_buyer`` (0/1), ``discount_rate`` (discount / list-price total of their orders);
    * ``categories`` (needs ``order_items`` and ``products``): ``cat_<category>``, the
      share of the member's spend in each category (0 without orders);
    * ``channels``: ``channel_<channel>``, share of orders per sales channel;
    * ``engagement`` (needs ``sessions``): ``sessions_per_month`` since signup,
      ``session_conversion`` (share of visits with a purchase), ``events_per_session``.

    ``snapshot`` defaults to the day after the last order or visit; orders or visits after
    it are an error (filter first). Sorted by ``customer_id``; ``attrs["groups"]`` lists
    the columns of each group.

    Parameters
    ----------
    customers : pd.DataFrame
        The members (``customer_id``, ``signup_ts`` and the demographic columns present).
    orders : pd.DataFrame
        Their orders (``order_id``, ``customer_id``, ``order_ts``, ``amount``).
    order_items, products : pd.DataFrame, optional
        Order lines and the catalogue, for the category shares (both needed).
    sessions : pd.DataFrame, optional
        Visits, for the engagement features.
    snapshot : date-like, optional
        The day the features describe.

    Returns
    -------
    pd.DataFrame
        One row per member, sorted by ``customer_id``.
    """
    func = "customer_features"
    cust = customers.sort_values("customer_id").reset_index(drop=True)
    n = len(cust)
    index = pd.Index(cust["customer_id"])
    last_days = [int(day_numbers(orders["order_ts"]).max())]
    if sessions is not None and len(sessions):
        last_days.append(int(day_numbers(sessions["start_ts"]).max()))
    snap = max(last_days) + 1 if snapshot is None else snapshot_day(snapshot, func)
    snap_ts = pd.Timestamp(np.datetime64(snap, "D"))

    ocode = index.get_indexer(orders["customer_id"])
    if (ocode < 0).any():
        raise ValueError(
            f"{func}: orders has {int((ocode < 0).sum())} rows whose customer_id is not in "
            "customers; pass the matching customers table (or drop those orders and say so)."
        )
    out = pd.DataFrame({"customer_id": cust["customer_id"].to_numpy()})
    groups: dict[str, list[str]] = {}
    groups["demographics"] = _add_demographics(out, cust, products)
    signup = day_numbers(cust["signup_ts"])
    groups["rfm"] = _add_rfm(out, orders, index, ocode, signup, snap, snap_ts)
    if order_items is not None and products is not None:
        shares = _category_shares(orders, order_items, products, ocode, n, func)
        out = pd.concat([out, shares], axis=1)
        groups["categories"] = list(shares.columns)
    if "channel" in orders.columns:
        # how they buy: channel shares of orders
        ch = _shares(ocode, orders["channel"].reset_index(drop=True), np.ones(len(orders)), n, "channel_",
                     _label_order(orders["channel"]))
        out = pd.concat([out, ch], axis=1)
        groups["channels"] = list(ch.columns)
    if sessions is not None:
        groups["engagement"] = _add_engagement(out, sessions, index, signup, snap, func)
    out.attrs = {"groups": groups, "snapshot": str(snap_ts.date())}
    return out


def _add_demographics(out: pd.DataFrame, cust: pd.DataFrame, products: pd.DataFrame | None) -> list[str]:
    """Add the demographic columns, the opt-in flag and declared interests to ``out``;
    return their names."""
    demo = [c for c in DEMOGRAPHIC_COLUMNS if c in cust.columns]
    for col in demo:
        out[col] = cust[col].astype("category") if not isinstance(cust[col].dtype, pd.CategoricalDtype) else cust[col]
    names = list(demo)
    if "marketing_opt_in" in cust.columns:
        out["marketing_opt_in"] = cust["marketing_opt_in"].astype("float64").to_numpy()
        names.append("marketing_opt_in")
    if "interests" in cust.columns:
        dummies = cust["interests"].fillna("").astype("str").str.get_dummies(sep="|")
        order = [c for c in _category_order(products) if c in dummies.columns] + sorted(
            c for c in dummies.columns if c not in _category_order(products))
        for c in order:
            out[f"interest_{c}"] = dummies[c].to_numpy(dtype="float64")
        names += [f"interest_{c}" for c in order]
    return names


def _add_rfm(out: pd.DataFrame, orders: pd.DataFrame, index: pd.Index, ocode: np.ndarray,
             signup: np.ndarray, snap: int, snap_ts: pd.Timestamp) -> list[str]:
    """Add RFM (members who never ordered: recency since signup, zeros) and the discount
    rate (price sensitivity) to ``out``; return their names."""
    n = len(index)
    rfm = rfm_table(orders, snap_ts, customer_col="customer_id", date_col="order_ts", amount_col="amount")
    pos = index.get_indexer(rfm["customer_id"])
    recency = np.maximum(snap - signup, 0).astype("float64")
    recency[pos] = rfm["recency"].to_numpy()
    freq = np.zeros(n)
    freq[pos] = rfm["frequency"].to_numpy()
    money = np.zeros(n)
    money[pos] = rfm["monetary"].to_numpy()
    out["recency"] = recency
    out["frequency"] = freq
    out["monetary"] = money
    out["avg_order_value"] = np.divide(money, freq, out=np.zeros(n), where=freq > 0)
    out["is_buyer"] = (freq > 0).astype("float64")
    names = ["recency", "frequency", "monetary", "avg_order_value", "is_buyer"]
    if {"discount", "gross_amount"} <= set(orders.columns):
        disc = np.bincount(ocode, weights=orders["discount"].to_numpy(dtype="float64"), minlength=n)
        gross = np.bincount(ocode, weights=orders["gross_amount"].to_numpy(dtype="float64"), minlength=n)
        out["discount_rate"] = np.divide(disc, gross, out=np.zeros(n), where=gross > 0)
        names.append("discount_rate")
    return names


def _category_shares(orders: pd.DataFrame, order_items: pd.DataFrame, products: pd.DataFrame,
                     ocode: np.ndarray, n: int, func: str) -> pd.DataFrame:
    """What they buy: each member's share of spend per category (``cat_<category>``)."""
    owner = pd.Series(ocode, index=pd.Index(orders["order_id"]))  # order_id is unique (contract)
    icode = owner.reindex(order_items["order_id"].to_numpy()).to_numpy()
    if np.isnan(icode).any():
        raise ValueError(
            f"{func}: order_items has {int(np.isnan(icode).sum())} lines whose order_id is not in "
            "orders; pass matching tables."
        )
    cat = products.set_index("product_id")["category"].reindex(order_items["product_id"].to_numpy())
    if cat.isna().any():
        raise ValueError(
            f"{func}: order_items has {int(cat.isna().sum())} lines whose product_id is not in "
            "products; pass the full catalogue."
        )
    return _shares(icode.astype(np.int64), cat.reset_index(drop=True),
                   order_items["line_amount"].to_numpy(dtype="float64"), n, "cat_", _category_order(products))


def _add_engagement(out: pd.DataFrame, sessions: pd.DataFrame, index: pd.Index, signup: np.ndarray,
                    snap: int, func: str) -> list[str]:
    """Add visits per month since signup, the share of visits with a purchase and events
    per visit to ``out``; return their names."""
    n = len(index)
    scode = index.get_indexer(sessions["customer_id"])
    if (scode < 0).any():
        raise ValueError(
            f"{func}: sessions has {int((scode < 0).sum())} rows whose customer_id is not in "
            "customers; pass the matching customers table."
        )
    n_sess = np.bincount(scode, minlength=n).astype("float64")
    months = np.maximum((snap - signup) / 30.4375, 1.0)
    conv = np.bincount(scode, weights=sessions["converted"].to_numpy(dtype="float64"), minlength=n)
    events = np.bincount(scode, weights=sessions["n_events"].to_numpy(dtype="float64"), minlength=n)
    out["sessions_per_month"] = n_sess / months
    out["session_conversion"] = np.divide(conv, n_sess, out=np.zeros(n), where=n_sess > 0)
    out["events_per_session"] = np.divide(events, n_sess, out=np.zeros(n), where=n_sess > 0)
    return ["sessions_per_month", "session_conversion", "events_per_session"]


def _category_order(products: pd.DataFrame | None) -> list[str]:
    if products is None or "category" not in products.columns:
        from crmlab.data.schema import CATEGORIES

        return list(CATEGORIES)
    return _label_order(products["category"])


def feature_groups(features: pd.DataFrame) -> dict[str, list[str]]:
    """The feature columns by group (``demographics``, ``rfm``, ``categories``, ...).

    Taken from ``attrs["groups"]`` when :func:`customer_features` made the table (and the
    columns are still there), otherwise from the column-name prefixes.

    Parameters
    ----------
    features : pd.DataFrame
        A :func:`customer_features` table (or a selection of its columns).

    Returns
    -------
    dict of str to list of str
        Group name -> its columns present in ``features``.
    """
    groups = features.attrs.get("groups")
    if groups:
        return {g: [c for c in cols if c in features.columns] for g, cols in groups.items()}
    cols = [c for c in features.columns if c != "customer_id"]
    out = {
        "demographics": [c for c in cols if c in DEMOGRAPHIC_COLUMNS or c.startswith("interest_")
                         or c == "marketing_opt_in"],
        "rfm": [c for c in cols if c in ("recency", "frequency", "monetary", "avg_order_value", "is_buyer",
                                         "discount_rate")],
        "categories": [c for c in cols if c.startswith("cat_")],
        "channels": [c for c in cols if c.startswith("channel_")],
        "engagement": [c for c in cols if c in ("sessions_per_month", "session_conversion", "events_per_session")],
    }
    return {g: v for g, v in out.items() if v}


# --------------------------------------------------------------------------------------
# the scikit-learn pipeline
# --------------------------------------------------------------------------------------


def _split_columns(features: pd.DataFrame, columns: Sequence[str] | None) -> tuple[list[str], list[str]]:
    func = "segmentation_pipeline"
    as_frame(features, "features", func=func)
    cols = [c for c in features.columns if c != "customer_id"] if columns is None else list(columns)
    missing = [c for c in cols if c not in features.columns]
    if missing:
        raise ValueError(
            f"{func}: the features table has no column(s) {missing}; build it with "
            "customer_features(...) or pass columns= that exist."
        )
    if not cols:
        raise ValueError(f"{func}: no feature columns chosen; pass columns=[...].")
    numeric, categorical = [], []
    for c in cols:
        dtype = features[c].dtype
        if pd.api.types.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype):
            categorical.append(c)
        elif pd.api.types.is_numeric_dtype(dtype):
            if features[c].isna().any():
                raise ValueError(
                    f"{func}: features.{c} has {int(features[c].isna().sum())} missing values; "
                    f"fill them first, e.g. features['{c}'].fillna(0) (and say why 0 is right)."
                )
            numeric.append(c)
        else:
            raise ValueError(
                f"{func}: features.{c} has dtype {dtype}, which is neither numeric nor a label; "
                "convert it or leave it out of columns=."
            )
    return numeric, categorical


# Long function: most of it is the docstring (the steps and why the mixture is
# spherical, parameters); the body is 30 lines building one Pipeline.
def segmentation_pipeline(
    features: pd.DataFrame,
    model: str = "kmeans",
    n_clusters: int = 4,
    *,
    seed: int = 0,
    columns: Sequence[str] | None = None,
    log_columns: Sequence[str] = LOG_COLUMNS,
    covariance_type: str = "spherical",
) -> Pipeline:
    """An unfitted scikit-learn ``Pipeline`` that clusters rows of ``features``.

    Steps: ``prep`` — a ``ColumnTransformer`` that log1p-transforms the skewed amounts in
    ``log_columns`` and standard-scales every numeric column, and one-hot encodes
    categorical/boolean/string columns (unknown labels at predict time are ignored);
    ``model`` — ``KMeans(n_init=10)`` (``model="kmeans"``) or a ``GaussianMixture``
    (``model="gmm"``, ``n_init=3``), both seeded with ``seed``. The mixture's default
    ``covariance_type="spherical"`` (one variance per cluster: k-means with soft
    assignments and unequal cluster spreads) is deliberate: one-hot labels and shares
    that sum to one make full covariance matrices nearly singular, and on the shop the
    full model recovers the planted segments worse (notebook 04 compares them).

    ``columns`` picks the features (default: every column but ``customer_id``). Use
    ``pipe.fit_predict(features)`` or ``pipe.fit(features).predict(features)``;
    ``pipe[:-1].transform(features)`` gives the prepared matrix (e.g. for PCA plots).

    Parameters
    ----------
    features : pd.DataFrame
        A :func:`customer_features` table (used for the column types only).
    model : {"kmeans", "gmm"}, default "kmeans"
        The clustering model.
    n_clusters : int, default 4
        Number of clusters (mixture components).
    seed : int, default 0
        Seed of the model.
    columns : sequence of str, optional
        Feature columns to use (default: every column but ``customer_id``).
    log_columns : sequence of str, default LOG_COLUMNS
        Skewed amounts to log1p before scaling.
    covariance_type : str, default "spherical"
        The mixture's covariance type.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Unfitted, with steps ``prep`` and ``model``.
    """
    func = "segmentation_pipeline"
    if isinstance(n_clusters, bool) or not isinstance(n_clusters, int | np.integer) or n_clusters < 1:
        raise ValueError(f"{func}: n_clusters={n_clusters!r} must be a positive integer, e.g. 4.")
    if model not in ("kmeans", "gmm"):
        raise ValueError(f"{func}: model={model!r}; use 'kmeans' or 'gmm' (Gaussian mixture).")
    numeric, categorical = _split_columns(features, columns)
    logged = [c for c in numeric if c in set(log_columns)]
    if (features[logged] < 0).to_numpy().any():
        bad = [c for c in logged if (features[c] < 0).any()]
        raise ValueError(f"{func}: features {bad} have negative values and cannot be log-transformed; "
                         "remove them from log_columns=.")
    plain = [c for c in numeric if c not in set(logged)]
    transformers: list[tuple[str, Any, list[str]]] = []
    if logged:
        transformers.append(("log_scale", Pipeline([
            ("log1p", FunctionTransformer(np.log1p, feature_names_out="one-to-one")),
            ("scale", StandardScaler()),
        ]), logged))
    if plain:
        transformers.append(("scale", StandardScaler(), plain))
    if categorical:
        transformers.append(("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical))
    prep = ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=False)
    if model == "kmeans":
        est: Any = KMeans(n_clusters=int(n_clusters), n_init=10, random_state=seed)
    else:
        if covariance_type not in ("spherical", "diag", "tied", "full"):
            raise ValueError(f"{func}: covariance_type={covariance_type!r}; use 'spherical', 'diag', 'tied' or 'full'.")
        est = GaussianMixture(n_components=int(n_clusters), covariance_type=covariance_type, n_init=3,
                              reg_covar=1e-4, random_state=seed)
    return Pipeline([("prep", prep), ("model", est)])


def choose_k(
    features: pd.DataFrame,
    ks: Sequence[int] = range(2, 9),
    *,
    model: str = "kmeans",
    seed: int = 0,
    columns: Sequence[str] | None = None,
    sample_size: int | None = 5000,
) -> pd.DataFrame:
    """Elbow and silhouette for each k: one row per k.

    Columns: ``k``, ``inertia`` (within-cluster sum of squares of k-means, for the elbow;
    for ``model="gmm"`` the ``bic`` instead, lower is better) and ``silhouette`` (mean
    silhouette of the clustering on the prepared features, on at most ``sample_size``
    customers drawn with ``seed``; higher is better). The features are prepared once.

    Parameters
    ----------
    features : pd.DataFrame
        A :func:`customer_features` table.
    ks : sequence of int, default range(2, 9)
        Numbers of clusters to try.
    model : {"kmeans", "gmm"}, default "kmeans"
        The clustering model.
    seed : int, default 0
        Seed of the models and of the silhouette sample.
    columns : sequence of str, optional
        Feature columns to use.
    sample_size : int or None, default 5000
        Customers in the silhouette sample (None: all).

    Returns
    -------
    pd.DataFrame
        One row per k: ``k``, ``inertia`` (or ``bic``), ``silhouette``.
    """
    func = "choose_k"
    ks = [int(k) for k in ks]
    if not ks or min(ks) < 2:
        raise ValueError(f"{func}: ks must be integers >= 2 (the silhouette needs two clusters), e.g. range(2, 9).")
    pipe = segmentation_pipeline(features, model, ks[0], seed=seed, columns=columns)
    x = pipe[:-1].fit_transform(features)
    if max(ks) >= len(x):
        raise ValueError(f"{func}: k up to {max(ks)} needs more than {len(x)} customers; use smaller ks.")
    rows = []
    for k in ks:
        est = segmentation_pipeline(features, model, k, seed=seed, columns=columns)[-1]
        labels = est.fit_predict(x)
        row: dict[str, Any] = {"k": k}
        if model == "kmeans":
            row["inertia"] = float(est.inertia_)
        else:
            row["bic"] = float(est.bic(x))
        if len(np.unique(labels)) > 1:
            row["silhouette"] = float(silhouette_score(x, labels, sample_size=min(sample_size or len(x), len(x)),
                                                      random_state=seed))
        else:
            row["silhouette"] = np.nan
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------
# profiles in business language
# --------------------------------------------------------------------------------------


def _check_labels(features: pd.DataFrame, labels: Any, func: str) -> pd.Series:
    as_frame(features, "features", func=func)
    lab = labels if isinstance(labels, pd.Series) else pd.Series(np.asarray(labels))
    if len(lab) != len(features):
        raise ValueError(f"{func}: got {len(lab)} labels for {len(features)} customers; pass one label per row.")
    if lab.isna().any():
        raise ValueError(f"{func}: labels has {int(lab.isna().sum())} missing values; every customer needs a cluster.")
    return pd.Series(lab.to_numpy(), index=features.index, name="cluster")


def profile_clusters(features: pd.DataFrame, labels: Any) -> pd.DataFrame:
    """Cluster profile: size, share and the mean of every numeric feature, plus the most
    common label of each categorical feature. One row per cluster (index ``cluster``);
    the last row ``all`` is the whole customer base, for comparison.

    Parameters
    ----------
    features : pd.DataFrame
        A :func:`customer_features` table.
    labels : array-like
        Cluster label per row of ``features``.

    Returns
    -------
    pd.DataFrame
        One row per cluster and ``all``: ``customers``, ``share`` and the feature means.
    """
    func = "profile_clusters"
    lab = _check_labels(features, labels, func)
    data = features.drop(columns=["customer_id"], errors="ignore")
    numeric = [c for c in data.columns if pd.api.types.is_numeric_dtype(data[c]) and not pd.api.types.is_bool_dtype(data[c])]
    cats = [c for c in data.columns if c not in numeric]
    g = data.groupby(lab, observed=True)
    prof = g[numeric].mean()
    prof.insert(0, "customers", g.size())
    prof.insert(1, "share", prof["customers"] / len(data))
    overall = data[numeric].mean().to_frame().T
    overall.insert(0, "customers", len(data))
    overall.insert(1, "share", 1.0)
    for c in cats:
        prof[c] = g[c].agg(lambda s: s.astype("str").mode().iloc[0])  # per cluster (k rows), not per customer
        overall[c] = data[c].astype("str").mode().iloc[0]
    overall.index = ["all"]
    prof.index = prof.index.astype(str)
    out = pd.concat([prof, overall])
    out.index.name = "cluster"
    return out


def describe_clusters(features: pd.DataFrame, labels: Any, *, top: int = 3) -> pd.DataFrame:
    """One plain-language line per cluster: what sets it apart from the average customer.

    For each numeric feature the cluster mean is compared with the overall mean in units
    of the overall standard deviation (differences below 0.25 are ignored); the ``top``
    largest positive differences are listed with "↑" and the largest negative one with
    "↓", each with the cluster's value and the average, e.g. "↑ declared interest in kids
    74% (avg 20%)". ``name`` joins the two strongest distinct topics ("kids & grocery").
    Columns: ``cluster``, ``customers``, ``share``, ``name`` and ``description``.

    Parameters
    ----------
    features : pd.DataFrame
        A :func:`customer_features` table.
    labels : array-like
        Cluster label per row of ``features``.
    top : int, default 3
        Number of "↑" differences listed per cluster.

    Returns
    -------
    pd.DataFrame
        ``cluster``, ``customers``, ``share``, ``name``, ``description``.
    """
    func = "describe_clusters"
    lab = _check_labels(features, labels, func)
    data = features.drop(columns=["customer_id"], errors="ignore")
    numeric = [c for c in data.columns if pd.api.types.is_numeric_dtype(data[c]) and not pd.api.types.is_bool_dtype(data[c])]
    mean_all = data[numeric].mean()
    sd_all = data[numeric].std(ddof=0).replace(0, np.nan)
    means = data[numeric].groupby(lab).mean()
    rows = []
    for cl, m in means.iterrows():  # one row per cluster (k of them), not per customer
        z = ((m - mean_all) / sd_all).dropna().sort_values()
        ups = [c for c in z.index[::-1][:top] if z[c] > 0.25]
        downs = [c for c in z.index[:1] if z[c] < -0.25]
        size = int((lab == cl).sum())
        parts = [f"↑ {feature_label(c)} {_fmt(c, m[c])} (avg {_fmt(c, mean_all[c])})" for c in ups]
        parts += [f"↓ {feature_label(c)} {_fmt(c, m[c])} (avg {_fmt(c, mean_all[c])})" for c in downs]
        topics = list(dict.fromkeys(_short(c) for c in ups))
        name = " & ".join(topics[:2]) if topics else "average customers"
        rows.append({"cluster": str(cl), "customers": size, "share": size / len(data), "name": name,
                     "description": "; ".join(parts) if parts else "close to the average on every feature"})
    return pd.DataFrame(rows)


def _fmt(col: str, value: float) -> str:
    if col in ("monetary", "avg_order_value"):
        return f"NT${value:,.0f}"
    if col in ("recency",):
        return f"{value:,.0f} d"
    if col in ("frequency", "sessions_per_month", "events_per_session"):
        return f"{value:.1f}"
    return f"{value:.0%}"


def _short(col: str) -> str:
    for prefix, fmt in (("cat_", "{}"), ("interest_", "{}"), ("channel_", "{} shoppers")):
        if col.startswith(prefix):
            return fmt.format(col[len(prefix):])
    return {"monetary": "big spenders", "frequency": "frequent buyers", "avg_order_value": "large baskets",
            "recency": "lapsed", "discount_rate": "discount hunters", "sessions_per_month": "frequent visitors",
            "session_conversion": "decisive visitors", "is_buyer": "buyers"}.get(col, col)


# --------------------------------------------------------------------------------------
# comparison with the planted segments
# --------------------------------------------------------------------------------------


def _pair(labels: Any, truth: Any, func: str) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(labels)
    b = np.asarray(truth.astype("str") if isinstance(truth, pd.Series) else truth)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(
            f"{func}: labels ({a.shape}) and truth ({b.shape}) must be 1-D and of the same length, "
            "one entry per customer in the same order (align on customer_id first)."
        )
    if pd.isna(a).any() or pd.isna(b).any():
        raise ValueError(f"{func}: labels and truth must not have missing values.")
    return a, b


def segment_ari(labels: Any, truth: Any) -> float:
    """Adjusted Rand index between clusters and true segments (1 = same partition, ~0 = chance).

    Label names do not matter (cluster 2 may be "vip"); only who is grouped with whom.

    Parameters
    ----------
    labels : array-like
        Cluster label per customer.
    truth : array-like
        True segment per customer (same order).

    Returns
    -------
    float
        The adjusted Rand index.
    """
    a, b = _pair(labels, truth, "segment_ari")
    return float(adjusted_rand_score(b, a))


def crosstab_segments(labels: Any, truth: Any, *, normalize: str | bool = "index") -> pd.DataFrame:
    """Clusters (rows) x true segments (columns): counts, or shares per cluster by default.

    Parameters
    ----------
    labels : array-like
        Cluster label per customer.
    truth : array-like
        True segment per customer (same order).
    normalize : str or bool, default "index"
        As :func:`pandas.crosstab`'s (``False``: counts).

    Returns
    -------
    pd.DataFrame
        Clusters x true segments.
    """
    a, b = _pair(labels, truth, "crosstab_segments")
    order = list(truth.cat.categories) if isinstance(truth, pd.Series) and isinstance(truth.dtype, pd.CategoricalDtype) else sorted(set(b))
    tab = pd.crosstab(pd.Series(a, name="cluster"), pd.Series(pd.Categorical(b, categories=order), name="segment"),
                      normalize=normalize, dropna=False)
    tab.index = tab.index.astype(str)
    return tab


def majority_mapping(labels: Any, truth: Any) -> dict[str, str]:
    """Each cluster's most common true segment (``{"0": "vip", ...}``).

    Parameters
    ----------
    labels : array-like
        Cluster label per customer.
    truth : array-like
        True segment per customer (same order).

    Returns
    -------
    dict of str to str
        Cluster (as text) -> its most common true segment.
    """
    tab = crosstab_segments(labels, truth, normalize=False)
    return {str(k): str(v) for k, v in tab.idxmax(axis=1).items()}

