"""Real-data readers on small files the tests write in the real formats."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlab.data import read_cdnow, read_online_retail

# CDNOW_master.txt layout: customer id, yyyymmdd, number of CDs, dollar value (space padded).
CDNOW_TEXT = """\
 00001 19970101  1  11.77
 00002 19970112  1  12.00
 00002 19970112  5  77.00
 00003 19970102  2  20.76
 00003 19970330  2  20.76
 00003 19970402  2  19.54
 00004 19970101  2  29.33
 00004 19970118  0   0.00
 00005 19970101  2   0.00
 00006 1997XX01  1  10.00
"""


def test_read_cdnow_builds_orders_and_counts_removed_rows(tmp_path):
    path = tmp_path / "CDNOW_sample.txt"
    path.write_text(CDNOW_TEXT)
    shop = read_cdnow(path)
    report = shop.report.set_index("step")["rows"]
    assert report["rows read"] == 10
    assert report["malformed line"] == 1  # customer 6: bad date
    assert report["non-positive quantity"] == 1  # customer 4, 0 CDs
    assert report["non-positive amount"] == 1  # customer 5, $0.00
    assert report["rows kept"] == 7
    orders = shop.orders
    assert len(orders) == 7 and orders["customer_id"].nunique() == 4
    # customer 2 bought twice on one day: two orders (summarize() merges same-period purchases)
    assert orders.loc[orders["customer_id"] == 2, "amount"].sort_values().tolist() == [12.0, 77.0]
    assert orders["amount"].sum() == pytest.approx(11.77 + 12 + 77 + 20.76 * 2 + 19.54 + 29.33)
    lines = shop.order_items
    assert (lines["quantity"] * lines["unit_price"] - lines["line_amount"]).abs().max() < 0.01
    assert shop.customers["signup_ts"].min() == pd.Timestamp("1997-01-01")


def test_read_cdnow_rejects_wrong_layout(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("1 19970101\n2 19970102\n")
    with pytest.raises(ValueError, match="expected 4"):
        read_cdnow(path)


def test_missing_file_says_where_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="brucehardie.com"):
        read_cdnow(tmp_path / "CDNOW_master.txt")
    with pytest.raises(FileNotFoundError, match="archive.ics.uci.edu"):
        read_online_retail(tmp_path / "online_retail_II.xlsx")


def _retail_frame() -> pd.DataFrame:
    rows = [
        # Invoice, StockCode, Description, Quantity, InvoiceDate, Price, Customer ID, Country
        ("489434", "85048", "15CM CHRISTMAS GLASS BALL 20 LIGHTS", 12, "2009-12-01 07:45:00", 6.95, 13085.0, "United Kingdom"),
        ("489434", "79323P", "PINK CHERRY LIGHTS", 12, "2009-12-01 07:45:00", 6.75, 13085.0, "United Kingdom"),
        ("489434", "79323P", "PINK CHERRY LIGHTS", 12, "2009-12-01 07:45:00", 6.75, 13085.0, "United Kingdom"),  # duplicate
        ("489435", "22350", "CAT BOWL", 12, "2009-12-01 07:46:00", 2.55, 13085.0, "United Kingdom"),
        ("489436", "48173C", "DOOR MAT BLACK FLOCK", 10, "2009-12-01 09:06:00", 5.95, 13078.0, "United Kingdom"),
        ("C489449", "22087", "PAPER BUNTING WHITE LACE", -12, "2009-12-01 10:33:00", 2.95, 16321.0, "Australia"),  # cancel
        ("489450", "21871", "SAVE THE PLANET MUG", 6, "2009-12-01 10:40:00", 1.25, None, "United Kingdom"),  # no customer
        ("489451", "POST", "POSTAGE", -1, "2009-12-01 10:41:00", 18.0, 12682.0, "France"),  # negative qty
        ("489452", "M", "Manual", 1, "2009-12-01 10:42:00", 0.0, 12682.0, "France"),  # zero price
        ("489453", "22087", "PAPER BUNTING WHITE LACE", 4, "2009-12-02 11:00:00", 2.95, 16321.0, "Australia"),
    ]
    return pd.DataFrame(rows, columns=["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate",
                                       "Price", "Customer ID", "Country"])


def _check_retail(shop):
    report = shop.report.set_index("step")["rows"]
    assert report["rows read"] == 10
    assert report["missing customer"] == 1
    assert report["cancellation (invoice starts with C)"] == 1
    assert report["non-positive quantity"] == 1
    assert report["non-positive price"] == 1
    assert report["duplicate line"] == 1
    assert report["rows kept"] == 5
    assert report.drop(["rows read", "rows kept"]).sum() == 10 - 5  # every removed row counted once
    orders = shop.orders.set_index("source_id")
    assert set(orders.index) == {"489434", "489435", "489436", "489453"}
    assert orders.loc["489434", "amount"] == pytest.approx(12 * 6.95 + 12 * 6.75)
    assert shop.customers.set_index("customer_id").loc[16321, "country"] == "Australia"
    assert len(shop.products) == 5  # 85048, 79323P, 22350, 48173C, 22087


def test_read_online_retail_csv(tmp_path):
    path = tmp_path / "online_retail_II.csv"
    _retail_frame().to_csv(path, index=False)
    _check_retail(read_online_retail(path))


def test_read_online_retail_xlsx_with_two_year_sheets(tmp_path):
    path = tmp_path / "online_retail_II.xlsx"
    frame = _retail_frame()
    with pd.ExcelWriter(path) as writer:
        frame.iloc[:5].to_excel(writer, sheet_name="Year 2009-2010", index=False)
        frame.iloc[5:].to_excel(writer, sheet_name="Year 2010-2011", index=False)
    _check_retail(read_online_retail(path))


def test_read_online_retail_missing_columns(tmp_path):
    path = tmp_path / "other.csv"
    _retail_frame().drop(columns=["Price"]).to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['Price'\]"):
        read_online_retail(path)
