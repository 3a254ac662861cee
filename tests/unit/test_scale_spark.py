"""crmlab.scale on Spark (a local[2] session): every function equals its in-memory helper.

Known answers as in test_scale.py: the in-memory helpers on the same tables (tiny, small).
One Spark session serves the whole file (tests/conftest.py keeps these tests on one xdist
worker). Skipped, with the reason, where pyspark or Java is missing.
"""

from __future__ import annotations

import math
import warnings

import pandas as pd
import pytest

import crmlab.data
from crmlab import basket, clv, journey, rfm, scale

with warnings.catch_warnings():  # pyspark warns that pandas 3 is newer than it was tested with
    warnings.simplefilter("ignore")
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'crmlab[scale]')")

if not scale.java_available():
    pytest.skip("Spark needs a Java runtime (JAVA_HOME or java on PATH; Java 17+), none found",
                allow_module_level=True)


@pytest.fixture(scope="module")
def spark():
    # a short-lived JVM: C1-compiled code only (JIT warm-up dominates queries on small data)
    session = scale.spark_session("local[2]", shuffle_partitions=2, config={
        "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"})
    yield session
    session.stop()


@pytest.fixture(scope="module", params=["tiny", "small"])
def shop(request):
    return crmlab.data.get_shop(request.param)


def same(ours: pd.DataFrame, helper: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(ours.reset_index(drop=True), helper.reset_index(drop=True),
                                  rtol=1e-9)


def test_rfm_and_btyd_equal_helpers(spark, shop):
    orders = shop.tables["orders"]
    ours = scale.rfm_table(orders, engine="spark", con=spark)
    helper = rfm.rfm_table(orders)
    same(ours, helper)
    assert ours.attrs == helper.attrs
    cal = orders["order_ts"].max() - pd.Timedelta(days=120)
    kw = {"calibration_end": cal, "freq": "D", "freq_multiplier": 7}
    same(scale.btyd_summary(orders, engine="spark", con=spark, **kw), clv.summarize(orders, **kw))
    same(scale.btyd_summary(orders, engine="spark", con=spark, triples=True, **kw),
         scale.btyd_triples(clv.summarize(orders, **kw)))


def test_cohort_funnel_basket_kpi_equal_helpers(spark, shop):
    cust, orders = shop.tables["customers"], shop.tables["orders"]
    same(scale.cohort_table(cust, orders, engine="spark", con=spark),
         journey.cohort_table(cust, orders))
    sessions = shop.tables["sessions"]
    same(scale.funnel(sessions, engine="spark", con=spark), journey.funnel(sessions))
    items = shop.tables["order_items"]
    ours = scale.basket_supports(items, 0.01, engine="spark", con=spark)
    helper = basket.frequent_itemsets(basket.baskets(items), 0.01, max_len=2)
    a, b = dict(zip(ours["itemsets"], ours["support"], strict=True)), \
        dict(zip(helper["itemsets"], helper["support"], strict=True))
    assert set(a) == set(b) and all(math.isclose(a[k], b[k]) for k in b)
    same(scale.kpi_by_period(orders, "ME", engine="spark", con=spark),
         scale.kpi_by_period(orders, "ME", engine="pandas"))


def test_sources_parquet_nanoseconds_spark_frame_and_active_session(spark, tmp_path):
    tiny = crmlab.data.get_shop("tiny")
    orders = tiny.tables["orders"]
    path = tmp_path / "orders.parquet"
    orders.to_parquet(path)  # pandas writes nanosecond timestamps, which Spark cannot type
    helper = clv.summarize(orders)
    same(scale.btyd_summary(str(path), engine="spark", con=spark), helper)
    with scale._quiet_spark():
        frame = spark.createDataFrame(orders)
    same(scale.btyd_summary(frame, con=spark), helper)  # engine inferred from the source
    same(scale.rfm_table(frame), rfm.rfm_table(orders))  # the active session is found
    with pytest.raises(ValueError, match="Spark DataFrame runs on engine='spark'"):
        scale.rfm_table(frame, engine="duckdb")
    same(scale.rfm_table(frame, engine="pandas"), rfm.rfm_table(orders))


def test_spark_errors_are_the_engine_checks(spark):
    orders = crmlab.data.get_shop("tiny").tables["orders"]
    bad = orders.assign(amount=orders["amount"].where(orders.index != 3, -1.0))
    with pytest.raises(ValueError, match="orders.amount has 1 negative amounts"):
        scale.rfm_table(bad, engine="spark", con=spark)
    with pytest.raises(ValueError, match=r"\['when'\].*date_col="):
        scale.rfm_table(orders, engine="spark", con=spark, date_col="when")
