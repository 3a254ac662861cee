"""crmlab.segments: features worked out by hand, the pipeline, choosing k on data with a
known number of groups, profiles, and recovery of the shop's planted segments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_blobs
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from crmlab import segments as sg
from crmlab.data import get_shop


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    # the data are small; on a shared 2-core machine OpenMP threads only spin-wait
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def small():
    return get_shop("small")


@pytest.fixture(scope="module")
def small_features(small):
    return sg.customer_features(small.customers, small.orders, small.order_items, small.products, small.sessions)


def tables():
    """Three members: #1 buys twice (fashion + books), #2 once (books), #3 never."""
    customers = pd.DataFrame({
        "customer_id": [3, 1, 2],
        "signup_ts": pd.to_datetime(["2024-03-01", "2024-01-01", "2024-01-11"]),
        "age_band": pd.Categorical(["55+", "18-24", "25-34"]),
        "gender": pd.Categorical(["male", "female", "female"]),
        "interests": pd.array(["books|home", "fashion|books", "books|kids"], dtype="str"),
        "marketing_opt_in": [False, True, True],
    })
    orders = pd.DataFrame({
        "order_id": [10, 11, 20],
        "customer_id": [1, 1, 2],
        "order_ts": pd.to_datetime(["2024-01-05 10:00", "2024-03-30 12:00", "2024-02-01 09:00"]),
        "channel": pd.Categorical(["app", "web", "app"], categories=["web", "app", "store"]),
        "gross_amount": [400.0, 200.0, 100.0],
        "discount": [100.0, 0.0, 0.0],
        "amount": [300.0, 200.0, 100.0],
    })
    items = pd.DataFrame({
        "order_id": [10, 10, 11, 20],
        "line_no": [1, 2, 1, 1],
        "product_id": [7, 8, 8, 8],
        "line_amount": [150.0, 150.0, 200.0, 100.0],
    })
    products = pd.DataFrame({"product_id": [7, 8], "category": pd.Categorical(["fashion", "books"])})
    sessions = pd.DataFrame({
        "customer_id": [1, 1, 1, 1, 3],
        "start_ts": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-03-30", "2024-03-31", "2024-03-15"]),
        "n_events": [6, 2, 5, 3, 1],
        "converted": [True, False, True, False, False],
    })
    return customers, orders, items, products, sessions


def test_features_hand_computed():
    f = sg.customer_features(*tables())
    assert f["customer_id"].tolist() == [1, 2, 3]  # sorted by id
    # last activity is the 2024-03-31 visit, so the snapshot is 2024-04-01
    assert f.attrs["snapshot"] == "2024-04-01"
    # recency: #1 last order 03-30 -> 2 days; #2 02-01 -> 29 + 31 = 60; #3 never ordered: days
    # since signup 03-01 -> 31
    assert f["recency"].tolist() == [2, 60, 31]
    assert f["frequency"].tolist() == [2, 1, 0]
    assert f["monetary"].tolist() == [500, 100, 0]
    assert f["avg_order_value"].tolist() == [250, 100, 0]
    assert f["is_buyer"].tolist() == [1, 1, 0]
    # discount 100 of list 600 for #1
    assert f["discount_rate"].tolist() == pytest.approx([1 / 6, 0, 0])
    # spend by category: #1 fashion 150, books 150 + 200 -> 0.3 / 0.7; #2 books only
    assert f["cat_fashion"].tolist() == pytest.approx([0.3, 0.0, 0.0])
    assert f["cat_books"].tolist() == pytest.approx([0.7, 1.0, 0.0])
    # orders per channel: #1 one app, one web
    assert f[["channel_web", "channel_app", "channel_store"]].to_numpy().tolist() == [[0.5, 0.5, 0], [0, 1, 0], [0, 0, 0]]
    # interests: one-hot of the '|' list
    assert f["interest_books"].tolist() == [1, 1, 1] and f["interest_kids"].tolist() == [0, 1, 0]
    # engagement: #1 has 4 visits over 91 days since 2024-01-01 (91 / 30.4375 months), 2 converted
    assert f["sessions_per_month"].iloc[0] == pytest.approx(4 / (91 / 30.4375))
    assert f["session_conversion"].tolist() == [0.5, 0.0, 0.0]
    assert f["events_per_session"].tolist() == [4.0, 0.0, 1.0]
    # #3 has 1 visit in the 31 days since signup
    assert f["sessions_per_month"].iloc[2] == pytest.approx(1 / (31 / 30.4375))
    groups = sg.feature_groups(f)
    assert groups["categories"] == ["cat_books", "cat_fashion"]
    assert set(groups) == {"demographics", "rfm", "categories", "channels", "engagement"}


def test_features_without_optional_tables():
    customers, orders, *_ = tables()
    f = sg.customer_features(customers, orders)
    assert "cat_books" not in f and "sessions_per_month" not in f
    assert set(sg.feature_groups(f)) == {"demographics", "rfm", "channels"}


def test_features_on_the_shop(small, small_features):
    f = small_features
    assert len(f) == len(small.customers) and f["customer_id"].is_unique
    numeric = f.select_dtypes("number")
    assert not numeric.isna().any().any()
    buyers = f["is_buyer"] == 1
    cats = sg.feature_groups(f)["categories"]
    assert np.allclose(f.loc[buyers, cats].sum(axis=1), 1.0)
    assert np.allclose(f.loc[~buyers, cats].sum(axis=1), 0.0)
    assert f["monetary"].sum() == pytest.approx(small.orders["amount"].sum())
    assert f["frequency"].sum() == len(small.orders)


def test_features_bad_input():
    customers, orders, items, products, sessions = tables()
    with pytest.raises(ValueError, match=r"customers: column\(s\) \['signup_ts'\] not found"):
        sg.customer_features(customers.drop(columns="signup_ts"), orders)
    with pytest.raises(ValueError, match=r"orders has 1 rows whose customer_id is not in customers"):
        sg.customer_features(customers[customers.customer_id != 2], orders)
    with pytest.raises(ValueError, match=r"orders: column 'order_ts' has 1 missing timestamps"):
        sg.customer_features(customers, orders.assign(order_ts=orders["order_ts"].where(orders.index != 0)))
    with pytest.raises(ValueError, match=r"orders\.amount must be numeric"):
        sg.customer_features(customers, orders.assign(amount=["1", "2", "3"]))
    with pytest.raises(ValueError, match="products; pass the full catalogue"):
        sg.customer_features(customers, orders, items, products.iloc[:1])
    with pytest.raises(ValueError, match="duplicated ids"):
        sg.customer_features(pd.concat([customers, customers]), orders)
    with pytest.raises(ValueError, match="before the data"):
        sg.customer_features(customers, orders, snapshot="2023-01-01")


# ----------------------------------------------------------------------------- pipeline


def test_pipeline_structure_and_determinism(small_features):
    pipe = sg.segmentation_pipeline(small_features, "kmeans", 4, seed=3)
    prep = pipe.named_steps["prep"]
    assert isinstance(prep, ColumnTransformer) and isinstance(pipe.named_steps["model"], KMeans)
    names = [name for name, _, _ in prep.transformers]
    assert names == ["log_scale", "scale", "onehot"]
    onehot_cols = prep.transformers[2][2]
    assert set(onehot_cols) == {"age_band", "gender", "region", "device", "acquisition_channel"}
    a = pipe.fit_predict(small_features)
    b = sg.segmentation_pipeline(small_features, "kmeans", 4, seed=3).fit(small_features).predict(small_features)
    assert (a == b).all() and len(set(a)) == 4
    x = pipe[:-1].transform(small_features)
    assert np.allclose(x[:, :20].mean(axis=0), 0, atol=1e-9)  # scaled numeric block
    gmm = sg.segmentation_pipeline(small_features, "gmm", 3, seed=0)
    assert isinstance(gmm.named_steps["model"], GaussianMixture)
    assert gmm.named_steps["model"].covariance_type == "spherical"


def test_pipeline_bad_input(small_features):
    with pytest.raises(ValueError, match="model='dbscan'"):
        sg.segmentation_pipeline(small_features, "dbscan")
    with pytest.raises(ValueError, match="n_clusters=0"):
        sg.segmentation_pipeline(small_features, n_clusters=0)
    with pytest.raises(ValueError, match=r"no column\(s\) \['shoe_size'\]"):
        sg.segmentation_pipeline(small_features, columns=["shoe_size"])
    holes = small_features.assign(monetary=small_features["monetary"].where(small_features.index != 5))
    with pytest.raises(ValueError, match=r"features\.monetary has 1 missing values.*fillna"):
        sg.segmentation_pipeline(holes)
    with pytest.raises(ValueError, match="covariance_type='banana'"):
        sg.segmentation_pipeline(small_features, "gmm", covariance_type="banana")


def blobs(k: int = 3, n: int = 600, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    x, y = make_blobs(n_samples=n, centers=k, n_features=4, cluster_std=0.8, random_state=seed)
    return pd.DataFrame(x, columns=["a", "b", "c", "d"]), y


def test_choose_k_finds_the_number_of_blobs():
    # known answer: three well-separated Gaussian blobs -> silhouette peaks at k = 3,
    # and the elbow: inertia falls steeply up to 3 and slowly afterwards
    x, _ = blobs(3)
    table = sg.choose_k(x, range(2, 7), seed=0)
    assert table.loc[table["silhouette"].idxmax(), "k"] == 3
    drops = -table["inertia"].diff().to_numpy()[1:]  # drop from k to k+1
    assert drops[0] > 5 * drops[1]
    g = sg.choose_k(x, range(2, 6), model="gmm", seed=0)
    assert g.loc[g["bic"].idxmin(), "k"] == 3
    with pytest.raises(ValueError, match="ks must be integers >= 2"):
        sg.choose_k(x, [1, 2])


def test_clusters_recover_blobs_exactly():
    x, y = blobs(4, seed=1)
    for model in ("kmeans", "gmm"):
        labels = sg.segmentation_pipeline(x, model, 4, seed=0).fit_predict(x)
        assert sg.segment_ari(labels, y) > 0.99


# ----------------------------------------------------------------------------- ARI


def test_ari_known_values():
    # the scikit-learn documentation example: 0.5714...
    assert sg.segment_ari([0, 0, 1, 2], [0, 0, 1, 1]) == pytest.approx(0.5714285714)
    # names do not matter, only the grouping
    assert sg.segment_ari([2, 2, 0, 0, 1], ["vip", "vip", "casual", "casual", "family"]) == 1.0
    with pytest.raises(ValueError, match="same length"):
        sg.segment_ari([0, 1], [0, 1, 2])


def test_crosstab_and_majority_mapping():
    truth = pd.Series(pd.Categorical(["vip", "vip", "casual", "casual", "family"],
                                     categories=["vip", "deal_seeker", "family", "casual"]))
    labels = np.array([1, 1, 0, 0, 0])
    tab = sg.crosstab_segments(labels, truth)
    assert list(tab.columns) == ["vip", "deal_seeker", "family", "casual"]  # empty truth kept
    assert tab.loc["0"].tolist() == pytest.approx([0, 0, 1 / 3, 2 / 3])
    assert sg.majority_mapping(labels, truth) == {"0": "casual", "1": "vip"}


def test_planted_segments_recovered_on_the_small_shop(small, small_features):
    # planted truth: shop.truth["customers"]["segment"] (vip, deal_seeker, family, casual)
    # drives category taste, declared interests, age, device and channel habits.
    # Measured on the small shop (seed 42): k-means on who they are / what they buy /
    # where they shop 0.86, the spherical Gaussian mixture 0.87, k-means on every feature
    # (RFM and visits included, which mostly measure value, not taste) 0.52.
    f = small_features
    truth = small.truth["customers"].set_index("customer_id").loc[f["customer_id"], "segment"]
    g = sg.feature_groups(f)
    taste = g["demographics"] + g["categories"] + g["channels"]
    km = sg.segmentation_pipeline(f, "kmeans", 4, seed=0, columns=taste).fit_predict(f)
    assert sg.segment_ari(km, truth) > 0.75
    gm = sg.segmentation_pipeline(f, "gmm", 4, seed=0, columns=taste).fit_predict(f)
    assert sg.segment_ari(gm, truth) > 0.75
    everything = sg.segmentation_pipeline(f, "kmeans", 4, seed=0).fit_predict(f)
    assert sg.segment_ari(everything, truth) > 0.4
    # each planted segment is the majority of exactly one cluster
    assert sorted(sg.majority_mapping(km, truth).values()) == ["casual", "deal_seeker", "family", "vip"]


# ----------------------------------------------------------------------------- profiles


def test_profiles_and_descriptions(small, small_features):
    f = small_features
    g = sg.feature_groups(f)
    taste = g["demographics"] + g["categories"] + g["channels"]
    labels = sg.segmentation_pipeline(f, "kmeans", 4, seed=0, columns=taste).fit_predict(f)
    prof = sg.profile_clusters(f, labels)
    assert list(prof.index) == ["0", "1", "2", "3", "all"]
    assert prof.loc[["0", "1", "2", "3"], "customers"].sum() == len(f)
    assert prof.loc["all", "monetary"] == pytest.approx(f["monetary"].mean())
    assert prof.loc["0", "cat_fashion"] == pytest.approx(f.loc[labels == 0, "cat_fashion"].mean())
    assert prof.loc["all", "age_band"] == f["age_band"].astype(str).mode().iloc[0]
    desc = sg.describe_clusters(f, labels)
    assert len(desc) == 4 and desc["description"].str.len().min() > 20
    # the cluster that is mostly deal_seeker is described by its planted taste
    # (fashion 0.36 and beauty 0.30 of the category taste in the simulator)
    truth = small.truth["customers"].set_index("customer_id").loc[f["customer_id"], "segment"]
    mapping = sg.majority_mapping(labels, truth)
    deal = next(c for c, s in mapping.items() if s == "deal_seeker")
    text = desc.set_index("cluster").loc[deal, "description"]
    assert "fashion" in text or "beauty" in text


def test_profile_bad_labels(small_features):
    with pytest.raises(ValueError, match="got 3 labels for 2000 customers"):
        sg.profile_clusters(small_features, [0, 1, 2])
    with pytest.raises(ValueError, match="missing values"):
        sg.describe_clusters(small_features, pd.Series([np.nan] * len(small_features)))
