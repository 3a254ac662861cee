"""crmlab.nb.available / skipped: what a shop offers a notebook, and the one line it prints.

Known answers are written out: the shops are built here with the tables named, and the
expected line is the exact sentence a reader sees. The sample generator of the Online Retail II
format (crmlab.data.readers.online_retail_sample) and the real-data worlds are tested too.
"""

from __future__ import annotations

import pandas as pd
import pytest

from crmlab.data import Shop, read_online_retail
from crmlab.data.readers import RETAIL_COLUMNS, online_retail_sample
from crmlab.nb import Available, available, skipped


def _shop(tables: dict[str, pd.DataFrame], truth: dict | None = None, source: str = "") -> Shop:
    config = {"start": "2024-01-01", "end": "2024-12-31"}
    if source:
        config["source"] = source
    return Shop(tables=tables, truth=truth or {}, config=config)


ORDERS = pd.DataFrame({"order_id": [1], "customer_id": [1], "order_ts": [pd.Timestamp("2024-01-02")],
                       "amount": [9.5]})
PRODUCTS = pd.DataFrame({"product_id": [1, 2], "name": ["CD", "LP"]})


def test_available_names_present_and_missing_tables_columns_and_truth():
    shop = _shop({"orders": ORDERS, "products": PRODUCTS, "sessions": ORDERS.iloc[:0]}, source="cdnow")
    have = available(shop, "orders", "sessions", "events", "products.name", "products.category",
                     truth_keys=("customers",))
    assert have.tables == ("orders", "products.name")
    assert have.missing_tables == ("sessions", "events", "products.category")  # an empty table is missing
    assert not have.truth and have.missing_truth == ("customers",)
    assert have.source == "real data from CDNOW" and have.money == "US$"
    assert have.has("orders", "products.name") and not have.has("orders", "events") and not have.has("truth")


def test_skipped_says_in_one_line_what_is_missing_and_what_is_skipped():
    shop = _shop({"orders": ORDERS, "products": PRODUCTS}, source="cdnow")
    have = available(shop, "sessions", "products.category", truth_keys=("customers",))
    line = skipped(have, {"sessions": "the funnel section", "products.category": "the category shares",
                          "truth": "section 8 (the planted segments)"})
    assert line == ("This shop has no `sessions` table, no `products.category` column and no planted truth "
                    "(real data from CDNOW), so this notebook skips the funnel section, the category shares "
                    "and section 8 (the planted segments).")
    assert "\n" not in line
    # one part named once even when two missing tables feed it
    two = available(shop, "sessions", "events")
    assert skipped(two, {"sessions": "the funnel section", "events": "the funnel section"}) == (
        "This shop has no `sessions` and `events` tables (real data from CDNOW), so this notebook skips the "
        "funnel section.")
    # a need feeding two parts names both; a part fed by two missing needs is still named once
    three = available(shop, "returns", "sessions")
    assert skipped(three, {"returns": ("the refunds", "the six-part value"), "sessions": "the six-part value"}) == (
        "This shop has no `returns` and `sessions` tables (real data from CDNOW), so this notebook skips the "
        "refunds and the six-part value.")


def test_skipped_with_everything_there_says_nothing_is_skipped():
    shop = _shop({"orders": ORDERS, "products": PRODUCTS}, truth={"customers": pd.DataFrame()})
    have = available(shop, "orders", truth_keys=("customers",))
    assert have.source == "simulated" and have.money == "NT$"
    assert skipped(have, {"orders": "everything", "truth": "section 8"}) == (
        "This shop (simulated) has every table this notebook uses and the planted truth: no section is skipped.")
    # what the notebook found lacking beyond tables (CDNOW's single product) is named the same way
    line = skipped(have, {"orders": "everything"}, also={"second product": "the recommenders"})
    assert line == "This shop has no second product (simulated), so this notebook skips the recommenders."


def test_available_and_skipped_refuse_bad_input():
    with pytest.raises(ValueError, match="pass a shop"):
        available({"orders": ORDERS}, "orders")
    with pytest.raises(ValueError, match="non-empty strings"):
        available(_shop({"orders": ORDERS}), "")
    have = available(_shop({"orders": ORDERS}), "orders")
    with pytest.raises(ValueError, match="were not asked of available"):
        skipped(have, {"sessions": "the funnel"})
    with pytest.raises(ValueError, match="what available"):
        skipped("orders", {"orders": "x"})
    assert isinstance(have, Available)


def test_online_retail_sample_is_deterministic_and_needs_cleaning(tmp_path):
    df = online_retail_sample(3000, seed=1)
    assert list(df.columns) == RETAIL_COLUMNS and 3000 <= len(df) <= 3100
    pd.testing.assert_frame_equal(df, online_retail_sample(3000, seed=1))
    assert not df.equals(online_retail_sample(3000, seed=2))
    assert df["Country"].nunique() >= 5
    assert df["Invoice"].str.startswith("C").any() and (df.loc[df["Invoice"].str.startswith("C"), "Quantity"] < 0).all()
    assert 0.05 < df["Customer ID"].isna().mean() < 0.3
    path = tmp_path / "sample.csv"
    df.to_csv(path, index=False)
    shop = read_online_retail(path)
    report = shop.report.set_index("step")["rows"]
    assert report["rows read"] == len(df)
    assert report["missing customer"] > 0 and report["cancellation (invoice starts with C)"] > 0
    assert report["bad debt adjustment (stock code B)"] == 1 and report["manual adjustment (stock code M)"] == 1
    assert shop.truth == {} and {"customers", "orders", "order_items", "products"} <= set(shop.tables)
    assert shop.orders["customer_id"].nunique() >= 100
    with pytest.raises(ValueError, match="n_lines"):
        online_retail_sample(10)


def test_real_worlds_run_only_their_notebooks_and_mark_the_rest():
    import dataclasses

    from crmlab.course.worlds import REAL_DATA_NOTEBOOKS, WORLDS, Outcome, matrix_markdown, world

    cd = world("cdnow")
    assert cd.real == "cdnow" and cd.runs("04_group_segmentation") and cd.runs("05_clv_and_churn")
    assert cd.runs("02_rfm_and_value") and not cd.runs("13_research_at_scale") and cd.pending == ()
    assert set(REAL_DATA_NOTEBOOKS) == {"02", "04", "05", "06"}
    outcomes = [Outcome("small-42", n, True, 1.0) for n in ("02_rfm_and_value", "04_group_segmentation",
                                                               "13_research_at_scale")]
    outcomes.append(Outcome("cdnow", "04_group_segmentation", True, 2.0))
    text = matrix_markdown(outcomes)
    row = next(line for line in text.splitlines() if line.startswith("| `cdnow`"))
    assert row.endswith("|  | ok 2 s | not run |")  # 02 runs here but has no outcome in this list
    # a notebook that should run but does not yet is marked pending
    waiting = dataclasses.replace(cd, pending=("02",))
    text = matrix_markdown(outcomes, [w if w.name != "cdnow" else waiting for w in WORLDS])
    row = next(line for line in text.splitlines() if line.startswith("| `cdnow`"))
    assert row.endswith("| pending | ok 2 s | not run |")
