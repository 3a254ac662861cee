"""crmlab.scale on DuckDB and pandas: every function equals its in-memory helper.

The known answer is the in-memory helper itself (crmlab.rfm.rfm_table, crmlab.clv.summarize,
crmlab.journey.cohort_table / funnel, crmlab.basket.frequent_itemsets, crmlab.kpi's
indicators) on the same table: the engine's output must have the same columns, dtypes and
values (money within 1e-9 relative: sums in another order). Shops: ``tiny`` (simulated,
seed 42) and ``small`` (the shipped shop). Spark is tested in test_scale_spark.py.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import crmlab.data
from crmlab import basket, clv, journey, kpi, rfm, scale

duckdb = pytest.importorskip("duckdb")

ENGINES = ("duckdb", "pandas")


@pytest.fixture(scope="module", params=["tiny", "small"])
def shop(request):
    return crmlab.data.get_shop(request.param)


@pytest.fixture(scope="module")
def tiny():
    return crmlab.data.get_shop("tiny")


@pytest.fixture(scope="module")
def parquet_dir(tmp_path_factory, tiny):
    """The tiny shop's tables as Parquet files, orders split in two parts (a glob)."""
    root = tmp_path_factory.mktemp("tiny_parquet")
    for name in ("customers", "sessions", "order_items"):
        (root / name).mkdir()
        tiny.tables[name].to_parquet(root / name / "part-0.parquet", index=False)
    (root / "orders").mkdir()
    orders = tiny.tables["orders"]
    half = len(orders) // 2
    orders.iloc[:half].to_parquet(root / "orders" / "part-0.parquet", index=False)
    orders.iloc[half:].to_parquet(root / "orders" / "part-1.parquet", index=False)
    return root


def same(ours: pd.DataFrame, helper: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(ours.reset_index(drop=True), helper.reset_index(drop=True),
                                  rtol=1e-9)


def same_itemsets(ours: pd.DataFrame, helper: pd.DataFrame) -> None:
    a, b = dict(zip(ours["itemsets"], ours["support"], strict=True)), \
        dict(zip(helper["itemsets"], helper["support"], strict=True))
    assert set(a) == set(b), set(a) ^ set(b)
    assert all(math.isclose(a[k], b[k], rel_tol=1e-12) for k in b)
    assert ours.attrs["n_baskets"] == helper.attrs["n_baskets"]
    assert list(ours.columns) == list(helper.columns)
    assert ours["support"].is_monotonic_decreasing


# ----------------------------------------------------------------------------- equality


@pytest.mark.parametrize("engine", ENGINES)
def test_rfm_table_equals_helper(shop, engine):
    orders = shop.tables["orders"]
    ours = scale.rfm_table(orders, engine=engine)
    helper = rfm.rfm_table(orders)
    same(ours, helper)
    assert ours.attrs == helper.attrs


@pytest.mark.parametrize("engine", ENGINES)
def test_rfm_table_snapshot_and_order_col(shop, engine):
    # line-level data: frequency counts distinct orders, money adds up the lines
    lines = shop.tables["order_items"].merge(shop.tables["orders"][["order_id", "customer_id",
                                                                    "order_ts"]], on="order_id")
    kw = dict(amount_col="line_amount", order_col="order_id")
    same(scale.rfm_table(lines, "2026-03-01", engine=engine, **kw),
         rfm.rfm_table(lines, "2026-03-01", **kw))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("kw", [
    {},
    {"calibration_end": "2024-09-30"},
    {"calibration_end": "2024-08-31", "observation_end": "2024-11-15", "freq": "D"},
    {"freq": "h", "freq_multiplier": 24},
    {"freq": "D", "freq_multiplier": 7, "amount_col": None},
    {"freq": "M"},
])
def test_btyd_summary_equals_summarize(shop, engine, kw):
    orders = shop.tables["orders"]
    same(scale.btyd_summary(orders, engine=engine, **kw), clv.summarize(orders, **kw))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("signup_col", ["signup_ts", None])
def test_cohort_table_equals_helper(shop, engine, signup_col):
    cust, orders = shop.tables["customers"], shop.tables["orders"]
    same(scale.cohort_table(cust, orders, signup_col=signup_col, engine=engine),
         journey.cohort_table(cust, orders, signup_col=signup_col))


def test_cohort_table_with_end_and_sessions(tiny):
    cust, sessions = tiny.tables["customers"], tiny.tables["sessions"]
    known = sessions[sessions["customer_id"].notna()]
    kw = dict(ts_col="start_ts", end="2024-10-15")
    same(scale.cohort_table(cust, known, **kw), journey.cohort_table(cust, known, **kw))


@pytest.mark.parametrize("engine", ENGINES)
def test_funnel_equals_helper(shop, engine):
    sessions = shop.tables["sessions"]
    same(scale.funnel(sessions, engine=engine), journey.funnel(sessions))


def test_funnel_by_group_equals_helper(shop):
    # groups come back as strings sorted alphabetically; the helper keeps the categorical
    # order, so the rows are aligned before comparing
    sessions = shop.tables["sessions"]
    ours = scale.funnel(sessions, ["traffic_source", "device"])
    helper = journey.funnel(sessions, ["traffic_source", "device"])
    for col in ("traffic_source", "device"):
        helper[col] = helper[col].astype("str")
    helper = helper.sort_values(["traffic_source", "device", "step_no"], kind="stable")
    same(ours, helper)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("min_support", [0.01, 0.003])
def test_basket_supports_equal_frequent_itemsets(shop, engine, min_support):
    items = shop.tables["order_items"]
    ours = scale.basket_supports(items, min_support, engine=engine)
    helper = basket.frequent_itemsets(basket.baskets(items), min_support, max_len=2)
    same_itemsets(ours, helper)
    assert (ours["length"] == 2).any()
    # the rules from the engine's supports are the helper's rules
    same(basket.association_rules(ours), basket.association_rules(helper))


@pytest.mark.parametrize("freq", ["ME", "QE"])
def test_kpi_by_period_equals_kpi_indicators(shop, freq):
    orders = shop.tables["orders"]
    ours = scale.kpi_by_period(orders, freq)
    helper = scale.kpi_by_period(orders, freq, engine="pandas")
    same(ours, helper)
    # the pandas engine is crmlab.kpi itself: check one period by hand
    row = helper.iloc[len(helper) // 2]
    assert row["revenue"] == kpi.revenue(orders, row["start"], row["end"])
    assert row["active_customers"] == kpi.active_customers(orders, row["start"], row["end"])
    full = kpi.full_periods(_span_shop(orders), freq)
    assert helper["period"].tolist() == full["period"].tolist()


def _span_shop(orders: pd.DataFrame):
    class _Bare:  # a shop with nothing but its order log (kpi._span reads the orders)
        tables = {"orders": orders}
    return _Bare()


def test_kpi_by_period_weeks(tiny):
    orders = tiny.tables["orders"]
    same(scale.kpi_by_period(orders, "W"), scale.kpi_by_period(orders, "W", engine="pandas"))


def test_kpi_by_period_window_with_empty_period(tiny):
    orders = tiny.tables["orders"]
    quiet = orders[(orders["order_ts"] < "2024-05-01") | (orders["order_ts"] >= "2024-06-01")]
    ours = scale.kpi_by_period(quiet, "ME", start="2024-03-01", end="2024-09-01")
    same(ours, scale.kpi_by_period(quiet, "ME", start="2024-03-01", end="2024-09-01",
                                   engine="pandas"))
    may = ours.set_index("period").loc["2024-05"]
    assert may["orders"] == 0 and may["revenue"] == 0 and np.isnan(may["average_order_value"])


# ----------------------------------------------------------------------------- sources


def test_parquet_glob_directory_and_relation_sources(tiny, parquet_dir):
    helper = rfm.rfm_table(tiny.tables["orders"])
    same(scale.rfm_table(str(parquet_dir / "orders" / "*.parquet")), helper)
    same(scale.rfm_table(parquet_dir / "orders"), helper)
    con = duckdb.connect()
    rel = con.read_parquet(str(parquet_dir / "orders" / "*.parquet"))
    same(scale.rfm_table(rel), helper)
    same(scale.rfm_table(rel, engine="pandas"), helper)
    # a relation joined with a Parquet path runs on the relation's own connection
    cust = con.read_parquet(str(parquet_dir / "customers" / "*.parquet"))
    same(scale.cohort_table(cust, str(parquet_dir / "orders" / "*.parquet")),
         journey.cohort_table(tiny.tables["customers"], tiny.tables["orders"]))
    # the pandas engine reads a glob too
    same(scale.btyd_summary(str(parquet_dir / "orders" / "*.parquet"), engine="pandas"),
         clv.summarize(tiny.tables["orders"]))


def test_connection_with_memory_limit(tiny):
    con = scale.duckdb_connection(memory_limit="512MB", threads=1)
    assert con.sql("SELECT current_setting('threads')").fetchall()[0][0] == 1
    same(scale.btyd_summary(tiny.tables["orders"], con=con), clv.summarize(tiny.tables["orders"]))
    # the caller's connection is left open and without our views
    views = con.sql("SELECT count(*) FROM duckdb_views() WHERE view_name LIKE 'crmlab_%'")
    assert views.fetchall()[0][0] == 0


def test_btyd_triples_fit_equals_fit_on_summary(tiny):
    summary = scale.btyd_summary(tiny.tables["orders"], freq="D", freq_multiplier=7)
    triples = scale.btyd_triples(summary)
    assert triples["weight"].sum() == len(summary)
    assert len(triples) < len(summary)
    full = clv.BetaGeoModel().fit(summary)
    weighted = clv.BetaGeoModel().fit(triples, weights="weight")
    pd.testing.assert_series_equal(weighted.params_, full.params_, rtol=1e-6)
    assert weighted.log_likelihood_ == pytest.approx(full.log_likelihood_, rel=1e-9)


# ----------------------------------------------------------------------------- bad input


def test_engine_and_source_errors(tiny):
    orders = tiny.tables["orders"]
    with pytest.raises(ValueError, match="engine='polars'.*duckdb"):
        scale.rfm_table(orders, engine="polars")
    with pytest.raises(ValueError, match="orders: got a builtins.list"):
        scale.rfm_table([1, 2, 3])
    with pytest.raises(ValueError, match="no Parquet file matches"):
        scale.rfm_table("/nonexistent/orders/*.parquet")


@pytest.mark.parametrize("engine", ENGINES)
def test_rfm_errors_name_table_column_and_fix(tiny, engine):
    orders = tiny.tables["orders"]
    with pytest.raises(ValueError, match=r"orders.*\['spend'\].*amount_col="):
        scale.rfm_table(orders, engine=engine, amount_col="spend")
    bad = orders.assign(amount=orders["amount"].where(orders.index != 3, -5.0))
    with pytest.raises(ValueError, match="orders.amount has .*negative"):
        scale.rfm_table(bad, engine=engine)
    bad = orders.assign(amount=orders["amount"].where(orders.index != 3, np.nan))
    with pytest.raises(ValueError, match="orders.amount has 1 missing"):
        scale.rfm_table(bad, engine=engine)
    bad = orders.assign(order_ts=orders["order_ts"].astype("str"))
    with pytest.raises(ValueError, match="order_ts"):
        scale.rfm_table(bad, engine=engine)
    with pytest.raises(ValueError, match="snapshot .* before the data"):
        scale.rfm_table(orders, "2023-01-01", engine=engine)
    with pytest.raises(ValueError, match="orders after the snapshot"):
        scale.rfm_table(orders, "2024-06-01", engine=engine)


def test_duckdb_errors_count_in_the_engine(tiny):
    orders = tiny.tables["orders"]
    bad = orders.assign(customer_id=orders["customer_id"].astype("Int64").where(
        orders.index % 50 != 0))
    n = int(bad["customer_id"].isna().sum())
    with pytest.raises(ValueError, match=f"orders.customer_id has {n} missing customer ids"):
        scale.rfm_table(bad)
    with pytest.raises(ValueError, match=f"column 'customer_id' has {n} missing customer ids"):
        scale.btyd_summary(bad)
    bad = orders.assign(amount=orders["amount"].where(orders.index != 7, np.inf))
    with pytest.raises(ValueError, match="NaN or infinite"):
        scale.rfm_table(bad)
    with pytest.raises(ValueError, match="calibration_end .* must be before observation_end"):
        scale.btyd_summary(orders, calibration_end="2025-06-01")
    with pytest.raises(ValueError, match="every order in 'order_ts' is after observation_end"):
        scale.btyd_summary(orders, observation_end="2023-01-01")
    with pytest.raises(ValueError, match="freq='Q' is not available.*engine='pandas'"):
        scale.btyd_summary(orders, freq="Q")


def test_cohort_funnel_basket_kpi_errors(tiny):
    cust, orders = tiny.tables["customers"], tiny.tables["orders"]
    with pytest.raises(ValueError, match="rows belong to customers not in the customers table"):
        scale.cohort_table(cust[cust["customer_id"] > 10], orders)
    with pytest.raises(ValueError, match="duplicated ids"):
        scale.cohort_table(pd.concat([cust, cust.head(2)]), orders)
    early = orders.assign(order_ts=orders["order_ts"] - pd.Timedelta(days=400))
    with pytest.raises(ValueError, match="fall before the customer's signup month"):
        scale.cohort_table(cust, early)
    sessions = tiny.tables["sessions"].assign(
        funnel_depth=lambda s: s["funnel_depth"].astype("str").replace("begin_checkout", "pay"))
    with pytest.raises(ValueError, match=r"'funnel_depth' has values \['pay'\]"):
        scale.funnel(sessions)
    with pytest.raises(ValueError, match="min_support"):
        scale.basket_supports(tiny.tables["order_items"], 0)
    with pytest.raises(ValueError, match=r"order_items.*\['sku'\].*item_col="):
        scale.basket_supports(tiny.tables["order_items"], item_col="sku")
    with pytest.raises(ValueError, match="freq='D' must be one of"):
        scale.kpi_by_period(orders, "D")


def test_world_tables_needs_a_world(tmp_path):
    with pytest.raises(ValueError, match="no world.json.*--format parquet"):
        scale.world_tables(tmp_path)


def test_parquet_footer_checks_equal_scanning_checks(tiny, tmp_path):
    """Parquet with footer statistics is checked from the footers (no scan); the errors and
    results are the same as for the frame."""
    orders = tiny.tables["orders"]
    path = tmp_path / "orders.parquet"
    orders.to_parquet(path, row_group_size=300)
    same(scale.rfm_table(path), rfm.rfm_table(orders))
    same(scale.btyd_summary(path, calibration_end="2024-09-30"),
         clv.summarize(orders, calibration_end="2024-09-30"))
    same(scale.kpi_by_period(path, "QE"), scale.kpi_by_period(orders, "QE", engine="pandas"))
    bad = orders.assign(amount=orders["amount"].where(orders.index % 100 != 5, -1.0))
    bad.to_parquet(path, row_group_size=300)
    n = int((bad["amount"] < 0).sum())
    with pytest.raises(ValueError, match=f"orders.amount has {n} negative amounts"):
        scale.rfm_table(path)
    bad = orders.assign(order_ts=orders["order_ts"].where(orders.index % 70 != 3))
    bad.to_parquet(path, row_group_size=300)
    n = int(bad["order_ts"].isna().sum())
    with pytest.raises(ValueError, match=f"orders.order_ts has {n} missing dates"):
        scale.rfm_table(path)
    with pytest.raises(ValueError, match=f"column 'order_ts' has {n} missing dates"):
        scale.btyd_summary(path)
    bad = orders.assign(amount=orders["amount"].where(orders.index != 9, np.nan))
    bad.to_parquet(path)
    with pytest.raises(ValueError, match="amount"):
        scale.rfm_table(path)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("kw", [{}, {"calibration_end": "2024-09-30", "freq": "D",
                                     "freq_multiplier": 7}])
def test_btyd_triples_in_the_engine_equal_triples_of_the_summary(tiny, engine, kw):
    orders = tiny.tables["orders"]
    ours = scale.btyd_summary(orders, engine=engine, triples=True, **kw)
    helper = scale.btyd_triples(clv.summarize(orders, **kw))
    same(ours, helper)
    assert ours["weight"].sum() == len(clv.summarize(orders, **kw))
    if kw:
        assert ours["frequency_holdout"].sum() == clv.summarize(orders, **kw)[
            "frequency_holdout"].sum()


# --- the DuckDB result stream (crmlab/scale/engines.py) -------------------------------------


def _reader(sql: str, batch_rows: int):
    import duckdb

    rel = duckdb.connect().sql(sql)
    return (rel.to_arrow_reader(batch_rows) if hasattr(rel, "to_arrow_reader")
            else rel.fetch_arrow_reader(batch_rows))


STREAM_SQL = """
    SELECT i AS id, CASE WHEN i % 7 = 3 AND i > 5000 THEN NULL ELSE i * 2 END AS twice,
           i / 3.0 AS third, 'c' || (i % 5) AS label, DATE '2025-01-01' + CAST(i % 30 AS INTEGER) AS day
    FROM range(10000) t(i) ORDER BY i"""


def test_stream_into_reserved_arrays_equals_the_joined_batches():
    """Known answer: the plain path (batches joined at the end, which tests elsewhere check
    against fetchnumpy); NULLs appear only after the first batches, so the integer column
    is widened to float mid-stream exactly as the join widens it."""
    from crmlab.scale.engines import _arrow_frame

    joined = _arrow_frame(_reader(STREAM_SQL, 1024))
    reserved = _arrow_frame(_reader(STREAM_SQL, 1024), max_rows=25_000)
    pd.testing.assert_frame_equal(reserved, joined)
    assert reserved["twice"].dtype == np.float64 and reserved["twice"].isna().sum() == 715  # i % 7 == 3 for i in 5001..9999
    assert reserved["id"].dtype == np.int64 and len(reserved) == 10_000


def test_stream_into_reserved_arrays_edges():
    from crmlab.scale.engines import _arrow_frame

    empty = _arrow_frame(_reader("SELECT 1 AS a WHERE false", 64), max_rows=10)
    assert list(empty.columns) == ["a"] and len(empty) == 0
    with pytest.raises(RuntimeError, match="max_rows=100"):
        _arrow_frame(_reader("SELECT * FROM range(1000)", 64), max_rows=100)
