"""Real-data readers on small files the tests write in the real formats."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlab.clv import summarize
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
    action = shop.report.set_index("step")["action"]
    assert report["rows read"] == 10
    assert report["malformed line"] == 1  # customer 6: bad date
    assert report["non-positive quantity"] == 1  # customer 4, 0 CDs
    assert report["negative amount"] == 0
    # customer 5 bought 2 CDs for $0.00: a purchase (kept, with a note), not a removal
    zero = [s for s in report.index if s.startswith("zero amount")]
    assert len(zero) == 1 and report[zero[0]] == 1 and action[zero[0]] == "kept (note)"
    same_day = [s for s in report.index if s.startswith("second or later purchase")]
    assert report[same_day[0]] == 1  # customer 2's second order on 1997-01-12
    assert report["rows kept"] == 8
    removed = shop.report.loc[shop.report["action"] == "removed", "rows"].sum()
    assert removed + report["rows kept"] == report["rows read"]  # every line accounted for
    orders = shop.orders
    assert len(orders) == 8 and orders["customer_id"].nunique() == 5
    assert orders.loc[orders["customer_id"] == 5, "amount"].tolist() == [0.0]
    # customer 2 bought twice on one day: two orders (summarize() merges same-period purchases)
    assert orders.loc[orders["customer_id"] == 2, "amount"].sort_values().tolist() == [12.0, 77.0]
    assert orders["amount"].sum() == pytest.approx(11.77 + 12 + 77 + 20.76 * 2 + 19.54 + 29.33)
    lines = shop.order_items
    assert (lines["quantity"] * lines["unit_price"] - lines["line_amount"]).abs().max() < 0.01
    assert shop.customers["signup_ts"].min() == pd.Timestamp("1997-01-01")


def test_read_cdnow_recognises_a_header_line(tmp_path):
    path = tmp_path / "CDNOW_master.txt"
    path.write_text(" customer_id  date number_of_cds  dollar_value\n" + CDNOW_TEXT)
    shop = read_cdnow(path)
    rep = shop.report.set_index("step")
    assert rep.loc["rows read", "rows"] == 10  # data lines; the header is not a malformed line
    assert rep.loc["malformed line", "rows"] == 1
    header = [s for s in rep.index if s.startswith("header line")]
    assert len(header) == 1 and rep.loc[header[0], "action"] == "skipped"


# ---------------------------------------------------------------------------------------
# the real CDNOW files, as shipped in the lifetimes wheel (dev dependency; skipped without)
# ---------------------------------------------------------------------------------------




def test_read_cdnow_master_keeps_every_customer(lifetimes_file):
    # The CDNOW master file (Fader & Hardie's dataset page; FHL 2005, Marketing Science 24(2))
    # has 69,659 purchases by 23,570 customers, the 1997 Q1 cohort. 80 purchases are $0.00,
    # and 68 customers bought only at $0.00: dropping those lines (the old rule "non-positive
    # amount") left 23,502 customers. The lifetimes copy starts with a header line.
    shop = read_cdnow(lifetimes_file("CDNOW_master.txt"))
    rep = shop.report.set_index("step")["rows"]
    assert rep["rows read"] == 69_659 and rep["rows kept"] == 69_659
    assert rep["malformed line"] == 0
    assert shop.customers["customer_id"].nunique() == 23_570
    assert shop.orders["customer_id"].nunique() == 23_570
    assert int((shop.orders["amount"] == 0).sum()) == 80
    assert shop.customers["signup_ts"].max() < pd.Timestamp("1997-04-01")  # the Q1 cohort
    assert str(shop.orders["order_ts"].max().date()) == "1998-06-30"


def test_cdnow_sample_through_the_reader_reproduces_the_published_summary(lifetimes_file):
    # The published calibration summary of the 2,357-customer sample (FHL 2005; the
    # "cdnowSummary" of Fader & Hardie's BG/NBD Excel note and of R BTYD, shipped in lifetimes
    # as cdnow_customers_summary_with_transactions.csv: x, t_x, T in weeks, zbar in $, rounded
    # to 2 decimals), from the raw sample file through read_cdnow and clv.summarize: daily
    # periods in weeks, calibration to 1997-09-30 (39 weeks), holdout to 1998-06-30.
    shop = read_cdnow(lifetimes_file("CDNOW_sample.txt"))
    assert shop.customers["customer_id"].nunique() == 2357  # 8 customers bought only at $0.00
    summ = summarize(shop.orders, "customer_id", "order_ts", "amount", freq="D", freq_multiplier=7,
                     calibration_end="1997-09-30", observation_end="1998-06-30")
    ref = pd.read_csv(lifetimes_file("cdnow_customers_summary_with_transactions.csv"))
    assert len(summ) == len(ref) == 2357
    assert (summ["customer_id"].to_numpy() == ref["ID"].to_numpy()).all()
    assert (summ["frequency_cal"].to_numpy() == ref["x"].to_numpy()).all()
    for ours, theirs in [("recency_cal", "t_x"), ("T_cal", "T"), ("monetary_value_cal", "zbar")]:
        np.testing.assert_allclose(summ[ours], ref[theirs], atol=0.0051)
    # FHL 2005: 1,882 repeat purchases (days) in the 39-week holdout by this cohort
    assert summ["frequency_holdout"].sum() == 1882


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
        ("489452", "M", "Manual", 1, "2009-12-01 10:42:00", 0.0, 12682.0, "France"),  # manual adjustment
        ("489453", "22087", "PAPER BUNTING WHITE LACE", 4, "2009-12-02 11:00:00", 2.95, 16321.0, "Australia"),
        ("A506401", "B", "Adjust bad debt", 1, "2010-04-29 13:36:00", -53594.36, None, "United Kingdom"),
        ("489454", "21871", "SAVE THE PLANET MUG", 6, "2009-12-02 12:00:00", 0.0, 12682.0, "France"),  # zero price
        ("489455", "D", "Discount", -1, "2009-12-02 12:10:00", 9.2, 14527.0, "United Kingdom"),  # discount
        ("489456", "BANK CHARGES", "Bank Charges", 1, "2009-12-02 12:20:00", 15.0, None, "United Kingdom"),
        ("489453", "POST", "POSTAGE", 1, "2009-12-02 11:00:00", 18.0, 16321.0, "Australia"),  # postage, kept
    ]
    return pd.DataFrame(rows, columns=["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate",
                                       "Price", "Customer ID", "Country"])


def _check_retail(shop, keep_postage=True):
    report = shop.report.set_index("step")["rows"]
    action = shop.report.set_index("step")["action"]
    assert report["rows read"] == 15
    # adjustment rows are named, not hidden under "missing customer" or "non-positive price"
    assert report["bad debt adjustment (stock code B)"] == 1
    assert report["manual adjustment (stock code M)"] == 1
    assert report["discount (stock code D)"] == 1
    assert report["bank charges"] == 1
    assert report["missing customer"] == 1
    assert report["cancellation (invoice starts with C)"] == 1
    # a negative postage line: "postage" when postage is dropped, else its quantity
    assert report["non-positive quantity"] == (1 if keep_postage else 0)
    assert report["non-positive price"] == 1
    assert report["duplicate line"] == 1
    kept = 6 if keep_postage else 5
    assert report["rows kept"] == kept
    assert shop.report.loc[shop.report["action"] == "removed", "rows"].sum() == 15 - kept
    orders = shop.orders.set_index("source_id")
    assert set(orders.index) == {"489434", "489435", "489436", "489453"}
    assert orders.loc["489434", "amount"] == pytest.approx(12 * 6.95 + 12 * 6.75)
    if keep_postage:
        note = [s for s in report.index if s.startswith("postage or carriage line")]
        assert report[note[0]] == 1 and action[note[0]] == "kept (note)"
        assert orders.loc["489453", "amount"] == pytest.approx(4 * 2.95 + 18.0)
    else:
        assert report["postage or carriage (keep_postage=False)"] == 2
        assert orders.loc["489453", "amount"] == pytest.approx(4 * 2.95)
    assert shop.customers.set_index("customer_id").loc[16321, "country"] == "Australia"
    # 85048, 79323P, 22350, 48173C, 22087 (+ POST)
    assert len(shop.products) == (6 if keep_postage else 5)


def test_read_online_retail_csv(tmp_path):
    path = tmp_path / "online_retail_II.csv"
    _retail_frame().to_csv(path, index=False)
    _check_retail(read_online_retail(path))


def test_read_online_retail_without_postage(tmp_path):
    path = tmp_path / "online_retail_II.csv"
    _retail_frame().to_csv(path, index=False)
    _check_retail(read_online_retail(path, keep_postage=False), keep_postage=False)


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
