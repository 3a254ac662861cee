"""validate() names table, column, rows and fix; shops round-trip through Parquet; the data CLI."""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import pytest

from crmlab.data import cli as data_cli
from crmlab.data import simulate, validate
from crmlab.data.io import read_shop_dir, save_shop
from crmlab.data.schema import TABLE_NAMES, TABLES, schema_markdown


@pytest.fixture(scope="module")
def tiny():
    return simulate("tiny", seed=11)


def _shop_with(tiny, name, frame):
    tables = dict(tiny.tables)
    tables[name] = frame
    return type(tiny)(tables=tables, truth=tiny.truth, config=tiny.config)


def test_tiny_shop_is_valid(tiny):
    validate(tiny)
    for name in TABLE_NAMES:
        validate(tiny.tables[name], name)


def test_missing_column_is_named(tiny):
    broken = tiny.orders.drop(columns=["amount"])
    with pytest.raises(ValueError, match=r"table 'orders': missing column\(s\) \['amount'\]"):
        validate(broken, "orders")


def test_wrong_dtype_names_the_fix(tiny):
    broken = tiny.orders.assign(amount=tiny.orders["amount"].astype(str))
    with pytest.raises(ValueError, match=r"table 'orders', column 'amount'.*pd.to_numeric"):
        validate(broken, "orders")


def test_out_of_range_values_list_offending_rows(tiny):
    broken = tiny.orders.copy()
    broken.loc[[3, 7], "amount"] = -5.0
    with pytest.raises(ValueError, match=r"column 'amount': 2 value\(s\) below the minimum 0.0 \(rows 3, 7\)"):
        validate(broken, "orders")


def test_unknown_category_value(tiny):
    broken = tiny.orders.assign(channel=tiny.orders["channel"].astype(str))
    broken.loc[0, "channel"] = "fax"
    with pytest.raises(ValueError, match=r"column 'channel': unknown value\(s\) \['fax'\]"):
        validate(broken, "orders")


def test_missing_required_value(tiny):
    broken = tiny.customers.copy()
    broken["signup_ts"] = broken["signup_ts"].where(broken.index != 4)
    with pytest.raises(ValueError, match=r"column 'signup_ts': 1 missing value"):
        validate(broken, "customers")


def test_duplicate_primary_key(tiny):
    broken = pd.concat([tiny.products, tiny.products.iloc[[0]]], ignore_index=True)
    with pytest.raises(ValueError, match=r"share a primary key"):
        validate(broken, "products")


def test_foreign_key_violation_names_both_tables(tiny):
    orders = tiny.orders.copy()
    orders.loc[0, "customer_id"] = 999_999
    with pytest.raises(ValueError, match=r"table 'orders', column 'customer_id'.*not found in customers.customer_id"):
        validate(_shop_with(tiny, "orders", orders))


def test_return_dated_before_its_order(tiny):
    r = tiny.returns.copy()
    r.loc[0, "requested_ts"] = pd.Timestamp("2000-01-01")
    with pytest.raises(ValueError, match=r"returns.*dated before"):
        validate(_shop_with(tiny, "returns", r))


def test_resolution_before_creation(tiny):
    t = tiny.tickets.copy()
    first = t.index[t["resolved_ts"].notna()][0]
    t.loc[first, "resolved_ts"] = t.loc[first, "created_ts"] - pd.Timedelta(hours=1)
    with pytest.raises(ValueError, match=r"tickets.*resolved_ts.*earlier than created_ts"):
        validate(_shop_with(tiny, "tickets", t))


def test_amount_must_equal_lines(tiny):
    o = tiny.orders.copy()
    o.loc[2, "amount"] += 10
    with pytest.raises(ValueError, match=r"differs from the sum of their order_items"):
        validate(_shop_with(tiny, "orders", o))


def test_validate_rejects_other_objects():
    with pytest.raises(ValueError, match="expected a Shop or a DataFrame"):
        validate([1, 2, 3])
    with pytest.raises(ValueError, match="pass the table name"):
        validate(pd.DataFrame())
    with pytest.raises(ValueError, match="unknown table"):
        validate(pd.DataFrame(), "invoices")


def test_save_and_read_round_trip(tmp_path, tiny):
    save_shop(tiny, tmp_path / "shop")
    back = read_shop_dir(tmp_path / "shop")
    for name in TABLE_NAMES:
        pd.testing.assert_frame_equal(back.tables[name], tiny.tables[name], obj=name)
    pd.testing.assert_frame_equal(back.truth["customers"], tiny.truth["customers"])
    assert back.truth["bgnbd"]["r"] == tiny.truth["bgnbd"]["r"]
    assert back.end == tiny.end


def test_read_shop_dir_errors(tmp_path):
    with pytest.raises(ValueError, match="not a directory"):
        read_shop_dir(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no <table>.parquet"):
        read_shop_dir(tmp_path / "empty")


def test_schema_markdown_documents_every_column():
    md = schema_markdown()
    for table in TABLES.values():
        assert f"### `{table.name}`" in md
        for col in table.columns:
            assert f"| `{col.name}` |" in md


def test_datasets_readme_is_in_sync_with_schema():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "datasets" / "README.md").read_text()
    assert schema_markdown().strip() in readme, "regenerate with `crmlab data schema` (see datasets/README.md)"


def _run_cli(argv):
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    data_cli.register(sub)
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_generate_and_export(tmp_path, capsys):
    assert _run_cli(["data", "generate", "--size", "tiny", "--seed", "3", "--out", str(tmp_path / "g")]) == 0
    back = read_shop_dir(tmp_path / "g")
    np.testing.assert_allclose(back.orders["amount"], simulate("tiny", seed=3).orders["amount"])
    assert _run_cli(["data", "export", "--format", "csv", "--out", str(tmp_path / "csv"),
                     "--data", str(tmp_path / "g")]) == 0
    assert (tmp_path / "csv" / "orders.csv").exists()
    assert len(pd.read_csv(tmp_path / "csv" / "orders.csv")) == len(back.orders)
    assert _run_cli(["data", "schema"]) == 0
    assert "### `orders`" in capsys.readouterr().out


def test_cli_export_xlsx(tmp_path):
    small = simulate(60, seed=1, end="2024-04-30")
    save_shop(small, tmp_path / "s")
    assert _run_cli(["data", "export", "--format", "xlsx", "--out", str(tmp_path / "x"),
                     "--data", str(tmp_path / "s")]) == 0
    sheets = pd.read_excel(tmp_path / "x" / "shop.xlsx", sheet_name=None)
    assert set(sheets) == set(small.tables)
    assert len(sheets["orders"]) == len(small.orders)
    # issue 33: --out FILE.xlsx writes that file (it used to make a folder named shop.xlsx/)
    assert _run_cli(["data", "export", "--format", "xlsx", "--out", str(tmp_path / "out" / "mine.xlsx"),
                     "--data", str(tmp_path / "s")]) == 0
    assert (tmp_path / "out" / "mine.xlsx").is_file()
    assert len(pd.read_excel(tmp_path / "out" / "mine.xlsx", sheet_name="orders")) == len(small.orders)


def test_get_shop_finds_a_folder_relative_to_the_repository_root(tmp_path, monkeypatch):
    """Issue 33: notebooks run in notebooks/, so DATA = "my_data" must also mean <root>/my_data."""
    import crmlab.data

    monkeypatch.chdir(tmp_path)  # neither notebooks/ nor the root
    shop = crmlab.data.get_shop("datasets/shop/small")
    assert len(shop.orders) == len(crmlab.data.load_shop("small").orders)
    with pytest.raises(ValueError, match="repository root"):
        crmlab.data.get_shop("no_such_folder")
